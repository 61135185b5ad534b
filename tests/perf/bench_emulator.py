"""make bench: the emulator's CPU per NAT-gateway association, with the gateway in a /24 and in a /16 vSwitch.

A NAT gateway created since 2022-09-19 takes a private address of its vSwitch for each EIP bound to it
(tests/emulator/rules.py), so each association asks the emulator's address accounting for a free address.  The
emulator must not be the bottleneck of any benchmark: its cost per association must not grow with the vSwitch
(issue 14, goal 4: /16 over /24 at most 1.5).  For each size: a fresh emulator process, ``--eips`` associations
and disassociations through the real SDK, and the emulator process's own CPU time (``/proc/<pid>/stat``) over them.

    python tests/perf/bench_emulator.py [--eips 40] [--json report.json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
ACCESS_KEY_ID, ACCESS_KEY_SECRET, REGION = "LTAI-bench", "bench-secret-value", "cn-hangzhou"
TARGET_RATIO = 1.5


def world(prefix: int, eips: int) -> dict:
    cidr = "10.1.0.0/24" if prefix == 24 else "10.1.0.0/16"
    return {
        "access_keys": [{"id": ACCESS_KEY_ID, "secret": ACCESS_KEY_SECRET}],
        "regions": {
            REGION: {
                "zones": [f"{REGION}-h"],
                "vpcs": [{"id": "vpc-bench", "cidr": "10.0.0.0/8", "vswitches": [{"id": "vsw-bench", "cidr": cidr}]}],
                "nat_gateways": [{"id": "ngw-bench", "vswitch": "vsw-bench", "created": "2023-05-01T00:00:00Z"}],
                "eips": [{"id": f"eip-bench{index:03d}", "ip": f"47.97.0.{index + 1}"} for index in range(eips)],
            }
        },
    }


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of a process (``/proc/<pid>/stat`` fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(prefix: int, eips: int) -> dict:
    from alibabacloud_tea_openapi.models import Config
    from alibabacloud_vpc20160428 import models
    from alibabacloud_vpc20160428.client import Client
    from darabonba.runtime import RuntimeOptions

    with tempfile.TemporaryDirectory() as scratch:
        world_file = Path(scratch, "world.json")
        world_file.write_text(json.dumps(world(prefix, eips)))
        run_dir = Path(scratch, "emulator")
        endpoint = subprocess.run(
            [str(REPO / "tools/emulator.sh"), "start", str(run_dir), str(world_file)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        try:
            pid = int(Path(run_dir, "pid").read_text())
            config = Config(
                access_key_id=ACCESS_KEY_ID,
                access_key_secret=ACCESS_KEY_SECRET,
                region_id=REGION,
                endpoint=endpoint,
                protocol="http",
            )
            client, runtime = Client(config), RuntimeOptions()
            ids = [f"eip-bench{index:03d}" for index in range(eips)]
            client.describe_eip_addresses_with_options(  # warm the emulator's own imports and caches
                models.DescribeEipAddressesRequest(region_id=REGION, allocation_id=ids[0]), runtime
            )
            started = process_cpu(pid)
            for allocation_id in ids:
                client.associate_eip_address_with_options(
                    models.AssociateEipAddressRequest(
                        region_id=REGION, allocation_id=allocation_id, instance_id="ngw-bench", instance_type="Nat"
                    ),
                    runtime,
                )
            for allocation_id in ids:
                client.unassociate_eip_address_with_options(
                    models.UnassociateEipAddressRequest(
                        region_id=REGION, allocation_id=allocation_id, instance_id="ngw-bench", instance_type="Nat"
                    ),
                    runtime,
                )
            cpu = process_cpu(pid) - started
        finally:
            subprocess.run([str(REPO / "tools/emulator.sh"), "stop", str(run_dir)], check=False)
    return {"vswitch": f"/{prefix}", "calls": 2 * eips, "cpu_seconds": cpu, "cpu_per_call_ms": 1000 * cpu / (2 * eips)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--eips", type=int, default=40)
    parser.add_argument("--json", help="also write the figures to this file")
    arguments = parser.parse_args()
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
        os.environ.pop(name, None)
    runs = [measure(24, arguments.eips), measure(16, arguments.eips)]
    ratio = runs[1]["cpu_seconds"] / max(runs[0]["cpu_seconds"], 1e-6)
    print(f"bench: emulator CPU per NAT-gateway association/disassociation, {arguments.eips} EIPs")
    for run in runs:
        print(f"vSwitch {run['vswitch']}: {run['calls']} calls, {run['cpu_per_call_ms']:.2f} ms CPU per call")
    passed = ratio <= TARGET_RATIO
    print(f"{'PASS' if passed else 'FAIL'}  emulator CPU /16 over /24 = {ratio:.2f} (target <= {TARGET_RATIO})")
    if arguments.json:
        Path(arguments.json).write_text(json.dumps({"runs": runs, "ratio": ratio, "passed": passed}, indent=2))
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
