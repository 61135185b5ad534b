"""make bench: the CPU of one module process, ``alicloud.eip.eip_info`` (one call) paired with ``ansible.builtin.ping``.

Module start-up is paid by every task (issue 14, goal 1: eip_info at most 2x ping).  One playbook run against a
fresh emulator (one EIP) keeps its module payloads (``ANSIBLE_KEEP_REMOTE_FILES``): the AnsiballZ files Ansible
really runs.  Each is then run ``--runs`` times, alternating (ping, eip_info, ping, ...), so load changes hit both
alike; the CPU of each process (user + system, ``os.wait4``) gives min and median per module and the ratio of the
medians.  ``--importtime FILE`` also writes ``python -X importtime`` of one eip_info process.

The SDK's share is measured in the same loop: two plain processes, one importing ``ansible.module_utils.basic`` and
one importing it and ``alibabacloud_tea_openapi.client`` (the one SDK module every cloud call needs; it imports the
credential providers, APScheduler, aiohttp and requests).  Their difference is what importing the SDK costs a
process, so ``(ping + sdk) / ping`` is the ratio a module would have if the collection's own code and the API call
cost nothing; ``eip_info - ping - sdk`` is the collection's modules, the client and the call.

    python tests/perf/bench_startup.py [--runs 7] [--json report.json] [--importtime imports.txt]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PYTHON = REPO / ".venv/bin/python"
ACCESS_KEY_ID, ACCESS_KEY_SECRET, REGION = "LTAI-bench", "bench-secret-value", "cn-hangzhou"
TARGET_RATIO = 2.0
# Two plain processes whose CPU difference is the SDK's import (see the module docstring).
SDK_PAIR = {
    "basic": "import ansible.module_utils.basic",
    "basic+sdk": "import ansible.module_utils.basic, alibabacloud_tea_openapi.client",
}

WORLD = {
    "access_keys": [{"id": ACCESS_KEY_ID, "secret": ACCESS_KEY_SECRET}],
    "regions": {REGION: {"zones": [f"{REGION}-h"], "eips": [{"id": "eip-bench000", "ip": "47.97.0.1"}]}},
}

PLAY = """- name: Bench, module start-up
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Ping
      ansible.builtin.ping:
    - name: One EIP
      alicloud.eip.eip_info:
        access_key_id: {key}
        access_key_secret: {secret}
        region: {region}
        endpoint_url: http://{endpoint}
        allocation_ids: [eip-bench000]
"""


def payloads(scratch: Path, endpoint: str, environment: dict) -> dict[str, Path]:
    """``{"ping": AnsiballZ_ping.py, "eip_info": AnsiballZ_eip_info.py}`` as one playbook run left them."""
    play = scratch / "play.yml"
    play.write_text(PLAY.format(key=ACCESS_KEY_ID, secret=ACCESS_KEY_SECRET, region=REGION, endpoint=endpoint))
    remote = scratch / "remote"
    completed = subprocess.run(
        [str(REPO / ".venv/bin/ansible-playbook"), "-i", "localhost,", str(play)],
        env={**environment, "ANSIBLE_KEEP_REMOTE_FILES": "1", "ANSIBLE_REMOTE_TMP": str(remote)},
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        sys.stderr.write(completed.stdout[-3000:] + completed.stderr[-2000:])
        raise SystemExit("bench: the start-up playbook failed")
    found = {path.name.removeprefix("AnsiballZ_").removesuffix(".py"): path for path in remote.rglob("AnsiballZ_*.py")}
    return {"ping": found["ping"], "eip_info": found["eip_info"]}


def run_cpu(command: list[str], environment: dict) -> float:
    """User + system CPU seconds of one process running ``command`` (read with ``os.wait4``); it must succeed."""
    with tempfile.TemporaryFile() as output:
        process = subprocess.Popen(command, env=environment, stdout=output, stderr=subprocess.STDOUT)
        _pid, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        output.seek(0)
        text = output.read()
    if process.returncode != 0 or b'"failed": true' in text:
        raise SystemExit(f"bench: {command[-1]} failed: {text[-2000:]!r}")
    return usage.ru_utime + usage.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--importtime", help="write python -X importtime of one eip_info process here")
    arguments = parser.parse_args()
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
        os.environ.pop(name, None)
    view = subprocess.run([str(REPO / "tools/collection-tree.sh")], capture_output=True, text=True, check=True)
    environment = {
        **os.environ,
        "ANSIBLE_COLLECTIONS_PATH": view.stdout.strip().rsplit("/ansible_collections/", 1)[0],
        "ANSIBLE_LOCALHOST_WARNING": "false",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false",
        "ANSIBLE_PYTHON_INTERPRETER": str(PYTHON),
        "ALIBABA_CLOUD_ECS_METADATA_DISABLED": "true",
    }
    with tempfile.TemporaryDirectory() as scratch_name:
        scratch = Path(scratch_name)
        world = scratch / "world.json"
        world.write_text(json.dumps(WORLD))
        run_dir = scratch / "emulator"
        endpoint = subprocess.run(
            [str(REPO / "tools/emulator.sh"), "start", str(run_dir), str(world)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        try:
            files = payloads(scratch, endpoint, environment)
            cpu: dict[str, list[float]] = {name: [] for name in [*files, *SDK_PAIR]}
            for _run in range(arguments.runs):
                for name, path in files.items():
                    cpu[name].append(run_cpu([str(PYTHON), str(path)], environment))
                for name, code in SDK_PAIR.items():
                    cpu[name].append(run_cpu([str(PYTHON), "-c", code], environment))
            if arguments.importtime:
                with open(arguments.importtime, "wb") as handle:
                    subprocess.run(
                        [str(PYTHON), "-X", "importtime", str(files["eip_info"])],
                        env=environment,
                        stdout=subprocess.DEVNULL,
                        stderr=handle,
                        check=True,
                    )
        finally:
            subprocess.run([str(REPO / "tools/emulator.sh"), "stop", str(run_dir)], check=False)
    cpu["sdk"] = [with_sdk - without for with_sdk, without in zip(cpu.pop("basic+sdk"), cpu.pop("basic"))]
    figures = {
        name: {"min": min(values), "median": statistics.median(values), "runs": values} for name, values in cpu.items()
    }
    ratio = figures["eip_info"]["median"] / figures["ping"]["median"]
    ratio_min = figures["eip_info"]["min"] / figures["ping"]["min"]
    floor = (figures["ping"]["median"] + figures["sdk"]["median"]) / figures["ping"]["median"]
    rest = figures["eip_info"]["median"] - figures["ping"]["median"] - figures["sdk"]["median"]
    print(f"bench: CPU of one module process, {arguments.runs} paired runs")
    for name, figure in figures.items():
        print(f"{name:<9} min {figure['min']:.3f} s  median {figure['median']:.3f} s")
    print(
        f"SDK import floor (ping + sdk) / ping = {floor:.2f}; eip_info - ping - sdk = {rest:.3f} s "
        "(the collection's modules, the client, the call)"
    )
    passed = ratio <= TARGET_RATIO
    print(
        f"{'PASS' if passed else 'FAIL'}  eip_info / ping = {ratio:.2f} (medians; mins {ratio_min:.2f}; "
        f"target <= {TARGET_RATIO:g})"
    )
    if arguments.json:
        Path(arguments.json).write_text(
            json.dumps(
                {
                    "figures": figures,
                    "ratio": ratio,
                    "ratio_min": ratio_min,
                    "sdk_floor_ratio": floor,
                    "rest": rest,
                    "passed": passed,
                },
                indent=2,
            )
        )
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
