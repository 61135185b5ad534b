"""make bench: roles/multi_eip for a fleet of 1, 10 and 50 hosts, in fleet mode and per host (issue 14 goal 5).

    python tests/perf/bench_fleet.py [--counts 1,10,50] [--per-host-counts 1,10] [--eips 2] [--forks 50]
                                     [--json report.json]

Against one emulator (no latency; the same fresh world of as many instances as the most hosts before each first
run), an inventory of namespace-free hosts
(``ansible_connection=local``, ``multi_eip_configure_host: false``), each with its own ECS instance in the world,
runs the role for ``--eips`` EIPs per host (mode ``nat_secondary_ips``), first run then re-run, for every host count:
in fleet mode (``multi_eip_fleet: true``: the cloud part once per play) and per host (each host's cloud tasks
delegated to the controller).  It reports per run the wall time of the ansible-playbook command, the number of
alicloud.eip module processes (counted by the callback plugin tests/perf/callback_plugins/cloud_module_count.py:
one per host result and per loop item that was not skipped; a run_once task counts once) and the API calls the
emulator counted.

Targets (fleet mode): the process count of each run is the same for every host count (first runs among
themselves, re-runs among themselves), the first run with the most hosts takes at most 3x the wall time of the
one with the fewest (same for the re-runs), every re-run reports changed=0 and makes no mutating API call.
Per-host mode is measured for comparison only.  Exits non-zero when a target is missed or fleet mode is missing.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from emulator_control import Control

REPO = Path(__file__).resolve().parents[2]
PERF = Path(__file__).resolve().parent
ACCESS_KEY_ID, ACCESS_KEY_SECRET, REGION = "LTAI-bench", "bench-secret-value", "cn-hangzhou"
TARGET_WALL_RATIO = 3.0
# Actions that change something (a re-run must make none of them).
READ_PREFIXES = ("Describe", "List", "Get", "Query")

PLAYBOOK = """---
- name: multi_eip for a fleet (bench)
  hosts: fleet
  gather_facts: false
  module_defaults:
    group/alicloud.eip.all:
      access_key_id: "{{ bench_access_key_id }}"
      access_key_secret: "{{ bench_access_key_secret }}"
      region: "{{ bench_region }}"
      endpoint_url: "http://{{ bench_endpoint }}"
  roles:
    - role: alicloud.eip.multi_eip
      vars:
        multi_eip_mode: nat_secondary_ips
        multi_eip_count: "{{ bench_eips }}"
        multi_eip_vswitch_id: vsw-fleet
        multi_eip_security_group_ids: [sg-fleet]
        multi_eip_configure_host: false
"""


def instance_id(number: int) -> str:
    return f"i-fleet{number:03d}"


def world(hosts: int, eips: int) -> dict:
    """One VPC, one /22 vSwitch, one security group, ``hosts`` instances and an EIP pool for all of them."""
    return {
        "access_keys": [{"id": ACCESS_KEY_ID, "secret": ACCESS_KEY_SECRET}],
        # The emulator's default quota (20 EIPs a region) would refuse the 100 EIPs of 50 hosts.
        "eip_quota": hosts * eips + 10,
        "regions": {
            REGION: {
                "zones": [f"{REGION}-h"],
                "eip_pool": {"cidr": "47.96.64.0/22", "count": hosts * eips + 10},
                "vpcs": [
                    {
                        "id": "vpc-fleet",
                        "cidr": "10.82.0.0/16",
                        "vswitches": [{"id": "vsw-fleet", "zone": f"{REGION}-h", "cidr": "10.82.0.0/22"}],
                    }
                ],
                "security_groups": [{"id": "sg-fleet", "vpc": "vpc-fleet"}],
                "instances": [
                    {
                        "id": instance_id(number),
                        "vswitch": "vsw-fleet",
                        "private_ip": f"10.82.{1 + number // 200}.{10 + number % 200}",
                        "security_groups": ["sg-fleet"],
                    }
                    for number in range(1, hosts + 1)
                ],
            }
        },
    }


def inventory(hosts: int, fleet: bool) -> dict:
    """``hosts`` namespace-free hosts, each with its instance; the role's fleet switch for all of them."""
    group_vars = {
        "bench_access_key_id": ACCESS_KEY_ID,
        "bench_access_key_secret": ACCESS_KEY_SECRET,
        "bench_region": REGION,
        "ansible_connection": "local",
        "ansible_python_interpreter": str(REPO / ".venv/bin/python"),
    }
    if fleet:
        group_vars["multi_eip_fleet"] = True
    return {
        "fleet": {
            "hosts": {
                f"fleet{number:03d}": {"multi_eip_instance_id": instance_id(number)} for number in range(1, hosts + 1)
            },
            "vars": group_vars,
        }
    }


RECAP = re.compile(
    r"^(?P<host>\S+)\s*:\s*ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unreachable>\d+)"
    r"\s+failed=(?P<failed>\d+)"
)


def recap(stdout: str) -> dict[str, dict[str, int]]:
    """The PLAY RECAP counters by host (``ok``, ``changed``, ``unreachable``, ``failed``)."""
    counters = {}
    for line in stdout.splitlines():
        match = RECAP.match(line)
        if match:
            counters[match["host"]] = {key: int(value) for key, value in match.groupdict().items() if key != "host"}
    return counters


def mutating(calls: dict[str, int]) -> dict[str, int]:
    """The API calls of an emulator call count that change something (every action that does not read)."""
    return {action: count for action, count in calls.items() if count and not action.startswith(READ_PREFIXES)}


class Bench:
    """One emulator, the collection view and a scratch directory for the runs."""

    def __init__(self, scratch: Path, endpoint: str, forks: int, eips: int, instances: int):
        self.scratch = scratch
        self.world = world(instances, eips)
        self.endpoint = endpoint
        self.forks = forks
        self.eips = eips
        self.control = Control(endpoint)
        view = subprocess.run(
            [str(REPO / "tools/collection-tree.sh")], check=True, capture_output=True, text=True
        ).stdout.strip()
        self.environment = {
            **os.environ,
            "ANSIBLE_COLLECTIONS_PATH": view.rsplit("/ansible_collections/", 1)[0],
            "ALIBABA_CLOUD_ECS_METADATA_DISABLED": "true",
            "ANSIBLE_CALLBACK_PLUGINS": str(PERF / "callback_plugins"),
            "ANSIBLE_CALLBACKS_ENABLED": "cloud_module_count",
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_HOST_KEY_CHECKING": "false",
            "ANSIBLE_FORKS": str(forks),
        }
        for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
            self.environment.pop(name, None)
        (scratch / "play.yml").write_text(PLAYBOOK)

    def run(self, hosts: int, fleet: bool, label: str) -> dict:
        """One ansible-playbook run of the role for ``hosts`` hosts: wall, processes, API calls, recap."""
        inventory_file = self.scratch / f"inventory-{hosts}.json"
        inventory_file.write_text(json.dumps(inventory(hosts, fleet)))
        count_file = self.scratch / "count.json"
        count_file.unlink(missing_ok=True)
        self.control.call("DELETE", "calls")
        command = [
            str(REPO / ".venv/bin/ansible-playbook"),
            "-i",
            str(inventory_file),
            "-f",
            str(self.forks),
            "-e",
            f"bench_endpoint={self.endpoint}",
            "-e",
            f"bench_eips={self.eips}",
            str(self.scratch / "play.yml"),
        ]
        started = time.monotonic()
        done = subprocess.run(
            command,
            env={**self.environment, "BENCH_MODULE_COUNT_FILE": str(count_file)},
            capture_output=True,
            text=True,
            check=False,
        )
        wall = time.monotonic() - started
        if done.returncode != 0:
            # The recap of many hosts would hide the reason: the first failures and the end of stderr.
            failures = [row for row in done.stdout.splitlines() if row.startswith(("fatal:", "failed:"))]
            raise RuntimeError(
                f"bench_fleet: the role failed ({'fleet' if fleet else 'per host'}, {hosts} hosts, {label}):\n"
                + "\n".join(row[:1500] for row in failures[:3])
                + f"\n{done.stdout[-1500:] if not failures else ''}{done.stderr[-2000:]}"
            )
        counted = json.loads(count_file.read_text())
        calls = self.control.call("GET", "calls")
        counters = recap(done.stdout)
        if len(counters) != hosts:
            raise RuntimeError(
                f"bench_fleet: {len(counters)} hosts in the recap, expected {hosts}:\n{done.stdout[-2000:]}"
            )
        return {
            "seconds": wall,
            "processes": counted["processes"],
            "by_task": counted["by_task"],
            "slowest_tasks": sorted(counted["task_seconds"], key=lambda task: -task[1])[:8],
            "calls": calls,
            "mutating_calls": sum(mutating(calls).values()),
            "changed": sum(host["changed"] for host in counters.values()),
        }

    def first_and_rerun(self, hosts: int, fleet: bool) -> dict:
        self.control.call("POST", "world", self.world)
        first = self.run(hosts, fleet, "first run")
        rerun = self.run(hosts, fleet, "re-run")
        return {"first": first, "rerun": rerun}


def fleet_mode_available() -> bool:
    """Whether roles/multi_eip documents ``multi_eip_fleet`` (stream B's fleet mode)."""
    return "multi_eip_fleet:" in (REPO / "roles/multi_eip/meta/argument_specs.yml").read_text()


def verdict(runs: dict[str, dict]) -> dict:
    """The fleet-mode checks: flat process counts, the wall ratio of most over fewest hosts, clean re-runs."""
    counts = sorted(runs, key=int)
    fewest, most = counts[0], counts[-1]
    first_processes = {runs[count]["first"]["processes"] for count in counts}
    rerun_processes = {runs[count]["rerun"]["processes"] for count in counts}
    first_ratio = runs[most]["first"]["seconds"] / runs[fewest]["first"]["seconds"]
    rerun_ratio = runs[most]["rerun"]["seconds"] / runs[fewest]["rerun"]["seconds"]
    clean = all(
        runs[count]["rerun"]["changed"] == 0 and runs[count]["rerun"]["mutating_calls"] == 0 for count in counts
    )
    checks = {
        "processes flat (first runs)": len(first_processes) == 1,
        "processes flat (re-runs)": len(rerun_processes) == 1,
        f"first run wall {most}/{fewest} <= {TARGET_WALL_RATIO:g}": first_ratio <= TARGET_WALL_RATIO,
        f"re-run wall {most}/{fewest} <= {TARGET_WALL_RATIO:g}": rerun_ratio <= TARGET_WALL_RATIO,
        "re-runs: changed=0, no mutating call": clean,
    }
    return {"first_ratio": first_ratio, "rerun_ratio": rerun_ratio, "checks": checks, "passed": all(checks.values())}


def counts_option(text: str) -> list[int]:
    values = sorted({int(value) for value in text.split(",") if value.strip()})
    if not values or values[0] < 1:
        raise argparse.ArgumentTypeError("give positive host counts, e.g. 1,10,50")
    return values


def line(mode: str, hosts: str, run: dict, what: str) -> str:
    calls = sum(run["calls"].values())
    return (
        f"  {mode:<8} {hosts:>4} hosts {what:<9} {run['seconds']:7.1f} s  {run['processes']:4d} module processes  "
        f"{calls:4d} API calls ({run['mutating_calls']} mutating)  changed={run['changed']}"
    )


def measure(arguments: argparse.Namespace, report: dict, bench: Bench) -> None:
    """Fleet mode for every count (when the role has it), then per-host mode; fills ``report`` as it goes."""
    modes = []
    if report["fleet_available"] and not arguments.no_fleet:
        modes.append(("fleet", True, arguments.counts))
    if not arguments.no_per_host:
        modes.append(("per_host", False, arguments.per_host_counts))
    for key, fleet, counts in modes:
        for hosts in counts:
            report[key][str(hosts)] = runs = bench.first_and_rerun(hosts, fleet=fleet)
            for what in ("first", "rerun"):
                print(line("fleet" if fleet else "per host", str(hosts), runs[what], what), flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--counts", type=counts_option, default=[1, 10, 50], help="fleet-mode host counts")
    parser.add_argument("--per-host-counts", type=counts_option, default=[1, 10], help="per-host-mode host counts")
    parser.add_argument("--no-per-host", action="store_true", help="measure fleet mode only")
    parser.add_argument("--no-fleet", action="store_true", help="measure per-host mode only (while developing)")
    parser.add_argument("--eips", type=int, default=2, help="EIPs per host (default 2)")
    # Fleet mode leaves only light controller-side tasks per host: forks as many as the hosts avoids waves of them.
    parser.add_argument("--forks", type=int, default=50, help="ansible-playbook --forks (default 50)")
    parser.add_argument("--json", help="also write the figures to this file")
    arguments = parser.parse_args()

    available = fleet_mode_available()
    report: dict = {
        "forks": arguments.forks,
        "eips": arguments.eips,
        "fleet_available": available,
        "fleet": {},
        "per_host": {},
    }
    with tempfile.TemporaryDirectory() as scratch_dir:
        scratch = Path(scratch_dir)
        run_dir = scratch / "emulator"
        biggest = max(arguments.counts + arguments.per_host_counts)
        (scratch / "world.json").write_text(json.dumps(world(biggest, arguments.eips)))
        endpoint = subprocess.run(
            [str(REPO / "tools/emulator.sh"), "start", str(run_dir), str(scratch / "world.json")],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        try:
            measure(arguments, report, Bench(scratch, endpoint, arguments.forks, arguments.eips, biggest))
        except RuntimeError as error:
            # The report is still written (bench_table.py shows the failure); the details go to stderr.
            report["error"] = str(error).splitlines()[0]
            print(error, file=sys.stderr)
        finally:
            subprocess.run([str(REPO / "tools/emulator.sh"), "stop", str(run_dir)], check=False)

    if report["fleet"] and "error" not in report:
        report["verdict"] = verdict(report["fleet"])
        for check, passed in report["verdict"]["checks"].items():
            print(f"  {'PASS' if passed else 'FAIL'}  {check}")
        print(
            f"fleet: wall {max(arguments.counts)}/{min(arguments.counts)} hosts = "
            f"{report['verdict']['first_ratio']:.2f} (first run), {report['verdict']['rerun_ratio']:.2f} (re-run), "
            f"forks {arguments.forks}"
        )
    elif "error" in report:
        print(f"fleet: failed ({report['error']})")
    else:
        print("fleet: not measured (roles/multi_eip has no multi_eip_fleet)" if not available else "fleet: skipped")
    if arguments.json:
        Path(arguments.json).write_text(json.dumps(report, indent=2))
    return 0 if report.get("verdict", {}).get("passed") else 1


if __name__ == "__main__":
    sys.exit(main())
