"""make bench: the wall time of a multi_eip re-run with 10 EIPs against 1 (issue 14 goal 4: ratio <= 1.3).

    python tests/perf/bench_multi_eip_rerun.py [--runs 2] [--json report.json]

Against the emulator (no latency), two instances of one world: the role (mode nat_secondary_ips, host part off)
sets up 1 EIP on the first and 10 on the second, then each re-run is timed ``--runs`` times, alternating, and the
minimum wall time of each count is compared.  A re-run must report no change: the benchmark fails otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ACCESS_KEY_ID, ACCESS_KEY_SECRET, REGION = "LTAI-bench", "bench-secret-value", "cn-hangzhou"
TARGET_RATIO = 1.3
COUNTS = (1, 10)

WORLD = {
    "access_keys": [{"id": ACCESS_KEY_ID, "secret": ACCESS_KEY_SECRET}],
    "regions": {
        REGION: {
            "zones": [f"{REGION}-h"],
            "eip_pool": {"cidr": "47.96.60.0/26", "count": 30},
            "vpcs": [
                {
                    "id": "vpc-bench",
                    "cidr": "10.80.0.0/16",
                    "vswitches": [{"id": "vsw-bench", "zone": f"{REGION}-h", "cidr": "10.80.1.0/24"}],
                }
            ],
            "security_groups": [{"id": "sg-bench", "vpc": "vpc-bench"}],
            "instances": [
                {"id": f"i-bench{count}", "vswitch": "vsw-bench", "private_ip": f"10.80.1.{10 + count}",
                 "security_groups": ["sg-bench"]}
                for count in COUNTS
            ],
        }
    },
}

PLAYBOOK = """---
- name: multi_eip (bench)
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/alicloud.eip.all:
      access_key_id: {key}
      access_key_secret: {secret}
      region: {region}
      endpoint_url: "http://{{{{ endpoint }}}}"
  tasks:
    - name: The role
      ansible.builtin.include_role:
        name: alicloud.eip.multi_eip
      vars:
        multi_eip_instance_id: "i-bench{{{{ count }}}}"
        multi_eip_mode: nat_secondary_ips
        multi_eip_count: "{{{{ count }}}}"
        multi_eip_vswitch_id: vsw-bench
        multi_eip_security_group_ids: [sg-bench]
        multi_eip_configure_host: false
""".format(key=ACCESS_KEY_ID, secret=ACCESS_KEY_SECRET, region=REGION)


def play(scratch: Path, endpoint: str, count: int) -> tuple[float, str]:
    """(wall seconds, PLAY RECAP line) of one run of the role for ``count`` EIPs."""
    view = subprocess.run(
        [str(REPO / "tools/collection-tree.sh")], check=True, capture_output=True, text=True
    ).stdout.strip()
    env = {
        **os.environ,
        "ANSIBLE_COLLECTIONS_PATH": view.split("/ansible_collections/")[0],
        "ALIBABA_CLOUD_ECS_METADATA_DISABLED": "true",
    }
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        env.pop(name, None)
    command = [
        str(REPO / ".venv/bin/ansible-playbook"), "-i", "localhost,", "-c", "local",
        "-e", f"ansible_python_interpreter={REPO / '.venv/bin/python'}",
        "-e", f"endpoint={endpoint}", "-e", f"count={count}", str(scratch / "play.yml"),
    ]
    started = time.monotonic()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    seconds = time.monotonic() - started
    if done.returncode != 0:
        raise RuntimeError(f"the role failed for {count} EIPs:\n{done.stdout[-3000:]}{done.stderr[-2000:]}")
    recap = [line for line in done.stdout.splitlines() if line.startswith("localhost")][-1]
    return seconds, recap


def measure(runs: int) -> dict:
    with tempfile.TemporaryDirectory() as scratch_dir:
        scratch = Path(scratch_dir)
        (scratch / "world.json").write_text(json.dumps(WORLD))
        (scratch / "play.yml").write_text(PLAYBOOK)
        run_dir = scratch / "emulator"
        endpoint = subprocess.run(
            [str(REPO / "tools/emulator.sh"), "start", str(run_dir), str(scratch / "world.json")],
            check=True, capture_output=True, text=True,
        ).stdout.strip()
        try:
            for count in COUNTS:
                play(scratch, endpoint, count)  # the first run: creates everything
            seconds: dict[int, list[float]] = {count: [] for count in COUNTS}
            unchanged = True
            for _round in range(runs):
                for count in COUNTS:
                    wall, recap = play(scratch, endpoint, count)
                    seconds[count].append(wall)
                    unchanged = unchanged and " changed=0 " in recap
        finally:
            subprocess.run([str(REPO / "tools/emulator.sh"), "stop", str(run_dir)], check=False)
    best = {count: min(values) for count, values in seconds.items()}
    ratio = best[COUNTS[1]] / best[COUNTS[0]]
    return {
        "seconds": {str(count): values for count, values in seconds.items()},
        "min": {str(count): value for count, value in best.items()},
        "ratio": ratio,
        "unchanged": unchanged,
        "passed": unchanged and ratio <= TARGET_RATIO,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--json", help="also write the figures to this file")
    arguments = parser.parse_args()
    report = measure(arguments.runs)
    print(
        f"multi_eip re-run: 1 EIP {report['min']['1']:.1f} s, 10 EIPs {report['min']['10']:.1f} s (min of "
        f"{arguments.runs}); ratio {report['ratio']:.2f} (target <= {TARGET_RATIO}); re-runs unchanged: "
        f"{report['unchanged']}"
    )
    if arguments.json:
        Path(arguments.json).write_text(json.dumps(report, indent=2))
    return 0 if report["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
