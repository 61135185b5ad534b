"""make bench: every figure of the benchmarks in one table, each with the command that produced it.

    python tests/perf/bench_table.py STARTUP.json EMULATOR.json ASSOCIATIONS.json [RERUN.json] [--fleet FLEET.json]
                                     [--markdown]

Reads the ``--json`` reports of bench_startup.py, bench_emulator.py and bench_associations.py (tools/bench.sh runs
them) and prints one row per figure: what, the measured value, the target, PASS/FAIL, and the command.  A report
that is missing or unreadable (its benchmark failed before writing it) is one FAIL row; the other reports' rows are
still printed.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

COMMANDS = {
    "startup": "python tests/perf/bench_startup.py --runs 7",
    "emulator": "python tests/perf/bench_emulator.py --eips 20",
    "associations": "python tests/perf/bench_associations.py --associations 50 --latency 1.0",
    "rerun": "python tests/perf/bench_multi_eip_rerun.py --runs 2",
    "fleet": "python tests/perf/bench_fleet.py",
}


def fleet_rows(fleet: dict, command: str = COMMANDS["fleet"]) -> list[tuple[str, str, str, bool | None, str]]:
    """The figures of bench_fleet.py: multi_eip for 1/10/50 hosts in fleet mode (targets) and per host (comparison)."""
    if fleet.get("error"):
        return [("multi_eip fleet benchmark", "failed (see its output)", "measured", False, command)]
    table = []
    for mode, name in (("fleet", "fleet mode"), ("per_host", "per host")):
        runs = fleet.get(mode) or {}
        if not runs:
            continue
        counts = sorted(runs, key=int)
        hosts = " / ".join(counts)
        for what, label in (("first", "first run"), ("rerun", "re-run")):
            walls = " / ".join(f"{runs[count][what]['seconds']:.1f}" for count in counts)
            processes = [runs[count][what]["processes"] for count in counts]
            table.append((f"multi_eip {name}, {label} wall, {hosts} hosts", f"{walls} s", "", None, command))
            flat = len(set(processes)) == 1 if mode == "fleet" else None
            table.append(
                (
                    f"multi_eip {name}, {label} module processes, {hosts} hosts",
                    " / ".join(str(value) for value in processes),
                    "equal" if mode == "fleet" else "",
                    flat,
                    command,
                )
            )
    if not fleet.get("fleet"):
        why = "not implemented" if not fleet.get("fleet_available") else "not measured"
        return table + [("multi_eip fleet mode", why, "measured", False, command)]
    verdict = fleet["verdict"]
    counts = sorted(fleet["fleet"], key=int)
    most_over_fewest = f"{counts[-1]} / {counts[0]} hosts"
    for what, label in (("first_ratio", "first run"), ("rerun_ratio", "re-run")):
        table.append(
            (
                f"multi_eip fleet mode, {label} wall {most_over_fewest}",
                f"{verdict[what]:.2f}",
                "<= 3",
                verdict[what] <= 3,
                command,
            )
        )
    reruns = [fleet["fleet"][count]["rerun"] for count in counts]
    changed = sum(run["changed"] for run in reruns)
    mutating = sum(run["mutating_calls"] for run in reruns)
    table.append(
        (
            "multi_eip fleet mode re-runs: changed / mutating calls",
            f"{changed} / {mutating}",
            "0 / 0",
            changed == 0 and mutating == 0,
            command,
        )
    )
    return table


def rerun_rows(rerun: dict) -> list[tuple[str, str, str, bool | None, str]]:
    """The multi_eip re-run figures of bench_multi_eip_rerun.py (10 EIPs against 1)."""
    return [
        (
            "multi_eip re-run wall, 1 / 10 EIPs (min)",
            f"{rerun['min']['1']:.1f} / {rerun['min']['10']:.1f} s",
            "",
            None,
            COMMANDS["rerun"],
        ),
        (
            "multi_eip re-run 10 EIPs / 1 EIP (no change)",
            f"{rerun['ratio']:.2f}",
            "<= 1.3",
            rerun["passed"],
            COMMANDS["rerun"],
        ),
    ]


def first_run_row(phases: dict | None, checks: dict) -> tuple[str, str, str, bool | None, str]:
    """Issue 14 goal 2: before the first association, ceil(N/50) DescribeEipAddresses and the targets once (none per
    target); the waiter's describes come after."""
    passed = next((value for name, value in checks.items() if name.startswith("list first run:")), None)
    return (
        "list first run: EIP / target describes before the first association, then the waiter's",
        (
            f"{phases['eip_describes']} / {phases['target_describes']}, then {phases['waiter_describes']}"
            if phases
            else "-"
        ),
        "<= ceil(N/50) / 2",
        passed,
        COMMANDS["associations"],
    )


def startup_rows(startup: dict) -> list[tuple[str, str, str, bool | None, str]]:
    """The start-up figures of bench_startup.py (eip_info paired with ping, the SDK import floor)."""
    figures = startup["figures"]
    return [
        (
            "ping module process CPU (min / median)",
            f"{figures['ping']['min']:.2f} / {figures['ping']['median']:.2f} s",
            "",
            None,
            COMMANDS["startup"],
        ),
        (
            "eip_info module process CPU (min / median)",
            f"{figures['eip_info']['min']:.2f} / {figures['eip_info']['median']:.2f} s",
            "",
            None,
            COMMANDS["startup"],
        ),
        ("eip_info / ping CPU (medians)", f"{startup['ratio']:.2f}", "<= 2", startup["passed"], COMMANDS["startup"]),
        (
            "SDK import floor, (ping + SDK import) / ping",
            f"{startup['sdk_floor_ratio']:.2f}",
            "",
            None,
            COMMANDS["startup"],
        ),
    ]


def emulator_rows(emulator: dict) -> list[tuple[str, str, str, bool | None, str]]:
    """The emulator's CPU per NAT association on a /24 and a /16 vSwitch (bench_emulator.py)."""
    return [
        (
            "emulator CPU per NAT association, /24",
            f"{emulator['runs'][0]['cpu_per_call_ms']:.1f} ms",
            "",
            None,
            COMMANDS["emulator"],
        ),
        (
            "emulator CPU per NAT association, /16",
            f"{emulator['runs'][1]['cpu_per_call_ms']:.1f} ms",
            "",
            None,
            COMMANDS["emulator"],
        ),
        ("emulator CPU /16 over /24", f"{emulator['ratio']:.2f}", "<= 1.5", emulator["passed"], COMMANDS["emulator"]),
    ]


def association_rows(associations: dict) -> list[tuple[str, str, str, bool | None, str]]:
    """The figures of bench_associations.py: the list task, its describes, the waiter, the flow limit, the loop."""
    runs = associations["runs"]
    checks = associations["checks"]
    describes = {
        name: sum(count for action, count in run["calls"].items() if action.startswith("Describe"))
        for name, run in runs.items()
    }
    mutating = {
        name: sum(run["calls"].get(action, 0) for action in ("AssociateEipAddress", "UnassociateEipAddress"))
        for name, run in runs.items()
    }
    late = runs["list"].get("waiter_late")
    window = max(run["arrivals"].get("AssociateEipAddress", {}).get("max_in_window", 0) for run in runs.values())
    table = [
        (
            "list task, 50 associations (in-play wall)",
            f"{runs['list']['seconds']:.2f} s",
            "<= 3 s",
            checks.get("list task <= 3 s"),
            COMMANDS["associations"],
        ),
        ("list task: describes (first run)", str(describes["list"]), "", None, COMMANDS["associations"]),
        first_run_row(runs["list"].get("phases"), checks),
        (
            "list re-run: describes / mutating calls",
            f"{describes['list re-run']} / {mutating['list re-run']}",
            "<= ceil(N/50) / 0",
            next((value for name, value in checks.items() if name.startswith("list re-run: <=")), None)
            and checks.get("list re-run: no mutating call"),
            COMMANDS["associations"],
        ),
        (
            "waiter: last poll after the last EIP was InUse",
            "-" if late is None else f"{late:.3f} s",
            "<= 0.25 s",
            None if late is None else 0 <= late <= 0.25,
            COMMANDS["associations"],
        ),
        (
            "most AssociateEipAddress arrivals in a 60 s window",
            str(window),
            "<= 120",
            window <= 120,
            COMMANDS["associations"],
        ),
        (
            "loop of 50 single tasks (in-play wall)",
            f"{runs['loop']['seconds']:.2f} s",
            "",
            None,
            COMMANDS["associations"],
        ),
        ("loop re-run (in-play wall)", f"{runs['loop re-run']['seconds']:.2f} s", "", None, COMMANDS["associations"]),
    ]
    return table


def report_rows(name: str, path: str, make_rows) -> list[tuple[str, str, str, bool | None, str]]:
    """The rows of one benchmark's report, or one FAIL row when it wrote none (or not all of it): the others' stay."""
    try:
        return make_rows(json.loads(Path(path).read_text()))
    except (OSError, ValueError, KeyError, IndexError, TypeError) as error:
        problem = f"{type(error).__name__}: {error}"[:80]
        return [(f"{name} benchmark: no usable report ({problem})", "-", "measured", False, COMMANDS[name])]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("startup")
    parser.add_argument("emulator")
    parser.add_argument("associations")
    parser.add_argument("rerun", nargs="?", help="the report of bench_multi_eip_rerun.py (optional)")
    parser.add_argument("--fleet", help="the report of bench_fleet.py (optional)")
    parser.add_argument("--markdown", action="store_true", help="a Markdown table (for docs/performance.md)")
    arguments = parser.parse_args()
    table = []
    for name, report, make_rows in (
        ("startup", arguments.startup, startup_rows),
        ("emulator", arguments.emulator, emulator_rows),
        ("associations", arguments.associations, association_rows),
        ("rerun", arguments.rerun, rerun_rows),
        ("fleet", arguments.fleet, fleet_rows),
    ):
        if report is not None:
            table += report_rows(name, report, make_rows)
    verdict = {True: "PASS", False: "FAIL", None: ""}
    if arguments.markdown:
        print("| figure | value | target | result | command |")
        print("|---|---|---|---|---|")
        for figure, value, target, passed, command in table:
            print(f"| {figure} | {value} | {target} | {verdict[passed]} | `{command}` |")
    else:
        for figure, value, target, passed, command in table:
            print(f"{figure:<52} {value:>16} {target:>10} {verdict[passed]:>5}  {command}")
    return 0 if all(passed is not False for *_rest, passed, _command in table) else 1


if __name__ == "__main__":
    sys.exit(main())
