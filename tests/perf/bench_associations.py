"""make bench: 50 NAT-mode associations on secondary private IPs at 1 s association latency.

Runs against a fresh emulator (tools/emulator.sh) with ``eip_associate`` = 1.0 s:

1. the list form: one ``eip_association`` task with 50 ``associations``;
2. the same task again (the re-run);
3. a fresh world, then the same 50 associations as a loop of 50 single tasks;
4. that loop again.

For each run it prints the wall time of the task (measured inside the play, so without
ansible-playbook's own start-up), the whole ansible-playbook command's wall time, and the API calls the
emulator counted, by action.  It exits non-zero when a target is missed: the list task in at most 3 s,
its first run with at most ceil(N/50) DescribeEipAddresses before its first association (none per target ENI:
what an ENI holds comes from its DescribeNetworkInterfaces record) and its targets described once, its re-run with no
mutating call and at most ceil(N/50) describes, and every EIP InUse after the first runs.

    python tests/perf/bench_associations.py [--associations 50] [--latency 1.0] [--list-only] [--json report.json]

``--list-only`` skips the loop (3 and 4) and its checks: the list's figures for a large N without 2N playbook tasks.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from emulator_control import Control

REPO = Path(__file__).resolve().parents[2]
PERF = Path(__file__).resolve().parent
ACCESS_KEY_ID = "LTAI-bench"
ACCESS_KEY_SECRET = "bench-secret-value"
REGION = "cn-hangzhou"
MUTATING = ("AssociateEipAddress", "UnassociateEipAddress")

TARGET_LIST_SECONDS = 3.0
TARGET_WAITER_LATE = 0.25


def world(associations: int, per_eni: int) -> tuple[dict, list[dict]]:
    """The bench world (ENIs with ``per_eni`` secondary IPs, attached to instances) and the associations."""
    enis_needed = -(-associations // per_eni)
    instances, enis, eips, wanted = [], [], [], []
    for number in range(enis_needed):
        instances.append(
            {
                "id": f"i-bench{number:02d}",
                "vswitch": "vsw-bench",
                "private_ip": f"10.1.{number}.10",
                "primary_eni": f"eni-bench{number:02d}-primary",
            }
        )
        secondaries = [f"10.1.{number}.{20 + index}" for index in range(per_eni)]
        enis.append(
            {
                "id": f"eni-bench{number:02d}",
                "vswitch": "vsw-bench",
                "instance": f"i-bench{number:02d}",
                "private_ips": [f"10.1.{number}.19", *secondaries],
            }
        )
        for address in secondaries:
            if len(wanted) == associations:
                break
            index = len(wanted)
            eips.append({"id": f"eip-bench{index:03d}", "ip": f"47.97.{index // 200}.{index % 200 + 1}"})
            wanted.append(
                {
                    "allocation_id": f"eip-bench{index:03d}",
                    "instance_id": f"eni-bench{number:02d}",
                    "private_ip_address": address,
                }
            )
    spec = {
        "access_keys": [{"id": ACCESS_KEY_ID, "secret": ACCESS_KEY_SECRET}],
        "regions": {
            REGION: {
                "zones": [f"{REGION}-h"],
                "vpcs": [
                    {"id": "vpc-bench", "cidr": "10.0.0.0/8", "vswitches": [{"id": "vsw-bench", "cidr": "10.1.0.0/16"}]}
                ],
                "instances": instances,
                "enis": enis,
                "eips": eips,
            }
        },
    }
    return spec, wanted


def run_playbook(playbook: str, extra: dict, environment: dict) -> dict:
    """Run a bench playbook; returns its report plus the command's own wall time."""
    with tempfile.TemporaryDirectory() as scratch:
        variables = Path(scratch, "vars.json")
        report = Path(scratch, "report.json")
        variables.write_text(json.dumps({**extra, "bench_report": str(report)}))
        started = time.monotonic()
        completed = subprocess.run(
            [str(REPO / ".venv/bin/ansible-playbook"), "-i", "localhost,", str(PERF / playbook), "-e", f"@{variables}"],
            env=environment,
            capture_output=True,
            text=True,
            check=False,
        )
        wall = time.monotonic() - started
        if completed.returncode != 0:
            sys.stderr.write(completed.stdout[-4000:] + completed.stderr[-2000:])
            raise SystemExit(f"bench: {playbook} failed (exit {completed.returncode})")
        result = json.loads(report.read_text())
    result["playbook_seconds"] = wall
    return result


def measure(control: Control, playbook: str, extra: dict, environment: dict) -> dict:
    control.call("DELETE", "calls")
    result = run_playbook(playbook, extra, environment)
    result["calls"] = control.call("GET", "calls")
    # The flow limit as the API sees it: the most calls of each action that arrived in any 60 s window.
    report = control.call("GET", "arrivals?window=60")
    result["arrivals"] = report["actions"]
    # How late the waiter saw the last association: its last describe after the last EIP came due (emulator clock).
    due = report["last_due"].get("eip.associated")
    last_describe = report["actions"].get("DescribeEipAddresses", {}).get("last_at")
    result["waiter_late"] = last_describe - due if due is not None and last_describe is not None else None
    result["phases"] = phases(control.call("GET", "sequence")["actions"])
    return result


def phases(sequence: list[str]) -> dict:
    """The describes of a run before its first mutating call (the snapshot: EIPs, targets) and after (the waiter)."""
    first = next((index for index, action in enumerate(sequence) if action in MUTATING), len(sequence))
    before, after = sequence[:first], sequence[first:]
    return {
        "eip_describes": before.count("DescribeEipAddresses"),
        "target_describes": sum(1 for action in before if action.startswith("Describe"))
        - before.count("DescribeEipAddresses"),
        "waiter_describes": after.count("DescribeEipAddresses"),
    }


def describe_calls(calls: dict) -> str:
    return ", ".join(f"{action} {count}" for action, count in sorted(calls.items())) or "none"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--associations", type=int, default=50)
    parser.add_argument("--per-eni", type=int, default=10, help="secondary private IPs per ENI (default 10)")
    parser.add_argument("--latency", type=float, default=1.0, help="seconds an association takes (default 1.0)")
    parser.add_argument("--list-only", action="store_true", help="skip the loop of single tasks and its checks")
    parser.add_argument("--json", help="also write the figures to this file")
    arguments = parser.parse_args()

    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
        os.environ.pop(name, None)
    view = subprocess.run(
        [str(REPO / "tools/collection-tree.sh")], capture_output=True, text=True, check=True
    ).stdout.strip()
    environment = {
        **os.environ,
        "ANSIBLE_COLLECTIONS_PATH": view.rsplit("/ansible_collections/", 1)[0],
        "ANSIBLE_LOCALHOST_WARNING": "false",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false",
        "ANSIBLE_PYTHON_INTERPRETER": str(REPO / ".venv/bin/python"),
        "ANSIBLE_NOCOLOR": "1",
    }
    run_dir = REPO / ".cache" / "bench-emulator"
    endpoint = subprocess.run(
        [str(REPO / "tools/emulator.sh"), "start", str(run_dir)], capture_output=True, text=True, check=True
    ).stdout.strip()
    try:
        control = Control(endpoint, timeout=30)
        spec, wanted = world(arguments.associations, arguments.per_eni)
        extra = {
            "bench_access_key_id": ACCESS_KEY_ID,
            "bench_access_key_secret": ACCESS_KEY_SECRET,
            "bench_region": REGION,
            "bench_endpoint_url": f"http://{endpoint}",
            "bench_associations": wanted,
        }

        def fresh_world() -> None:
            control.call("POST", "world", spec)
            control.call("POST", "delays", {"eip_associate": arguments.latency})

        fresh_world()
        runs = {"list": measure(control, "bench_list.yml", extra, environment)}
        runs["list re-run"] = measure(control, "bench_list.yml", extra, environment)
        if not arguments.list_only:
            fresh_world()
            runs["loop"] = measure(control, "bench_loop.yml", extra, environment)
            runs["loop re-run"] = measure(control, "bench_loop.yml", extra, environment)
    finally:
        subprocess.run([str(REPO / "tools/emulator.sh"), "stop", str(run_dir)], check=False)

    print(
        f"bench: {arguments.associations} NAT-mode associations on secondary private IPs, association latency {arguments.latency} s"
    )
    print(f"{'run':<12} {'task s':>7} {'playbook s':>10} {'changed':>8} {'InUse':>6}  API calls by action")
    for name, run in runs.items():
        print(
            f"{name:<12} {run['seconds']:>7.2f} {run['playbook_seconds']:>10.2f} {run['changed']!s:>8} {run['in_use']:>6}  "
            f"{describe_calls(run['calls'])}"
        )

    rerun = runs["list re-run"]["calls"]
    first = runs["list"]["phases"]
    eip_batches = math.ceil(arguments.associations / 50)  # also the re-run's target: one describe per 50 EIPs
    # The targets: the ENIs (100 a call) and the instances they are attached to (100 a call).
    target_calls = 2 * math.ceil(math.ceil(arguments.associations / arguments.per_eni) / 100)
    print(
        f"list first run: {first['eip_describes']} DescribeEipAddresses and {first['target_describes']} target "
        f"describes before the first association, {first['waiter_describes']} DescribeEipAddresses after (the waiter)"
    )
    checks = {
        f"list task <= {TARGET_LIST_SECONDS:g} s": runs["list"]["seconds"] <= TARGET_LIST_SECONDS,
        f"list first run: <= {eip_batches} DescribeEipAddresses and <= {target_calls} target describes before the "
        "first association (waiter rounds after)": first["eip_describes"] <= eip_batches
        and first["target_describes"] <= target_calls,
        "list task converged every EIP": runs["list"]["in_use"] == arguments.associations and runs["list"]["changed"],
        "list re-run: no mutating call": not any(rerun.get(action) for action in MUTATING)
        and not runs["list re-run"]["changed"],
        f"list re-run: <= {eip_batches} describes": sum(
            count for action, count in rerun.items() if action.startswith("Describe")
        )
        <= eip_batches,
        # (raise --associations above 120 to make the flow limiter work; the list's time target then no longer holds)
        "no 60 s window held more than 120 AssociateEipAddress calls on the wire": all(
            run["arrivals"].get("AssociateEipAddress", {}).get("max_in_window", 0) <= 120 for run in runs.values()
        ),
    }
    if not arguments.list_only:
        checks["loop converged every EIP"] = runs["loop"]["in_use"] == arguments.associations
        checks["loop re-run: no mutating call"] = not any(
            runs["loop re-run"]["calls"].get(action) for action in MUTATING
        )
    late = runs["list"]["waiter_late"]
    print(f"list: the waiter's last describe came {late:.3f} s after the last association was done")
    checks[f"list: the waiter's last poll <= {TARGET_WAITER_LATE:g} s after the last EIP was InUse"] = (
        late is not None and 0 <= late <= TARGET_WAITER_LATE
    )
    for name, passed in checks.items():
        print(f"{'PASS' if passed else 'FAIL'}  {name}")
    if arguments.json:
        Path(arguments.json).write_text(json.dumps({"runs": runs, "checks": checks}, indent=2))
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
