"""make soak: converges killed with SIGKILL at a random moment, then run again (issue 9, acceptance).

Each cycle loads tools/soak/world.yml into a fresh emulator account, starts tools/soak/converge.yml (the roles
alicloud.eip.multi_eip: two ENIs created and attached, two EIPs allocated and associated; alicloud.eip.nat_egress:
EIPs on a NAT gateway and SNAT entries), SIGKILLs the whole process tree at a random moment, checks that no
process of the run survives, runs the converge again to completion and checks that exactly the requested
resources exist: none twice, none orphaned.

The whole tree: ansible-playbook runs as PID 1 of its own PID namespace (``unshare --pid --fork --mount-proc``);
SIGKILL to it makes the kernel kill every process of the namespace, including the task workers that called
setsid() (they leave the process group, never the namespace). Afterwards /proc is searched for any process
still in that namespace.

Kill moments are drawn uniformly over the duration of a whole converge: first an unkilled one (cycle 0, which also
proves the world converges), then the latest run that converged from scratch (a re-run after a kill before any
create, or a run that ended before its kill), so that the range follows the machine's load. A ``latency`` fault
on about half of the create and associate calls (0.2-1.0 s) makes a kill land now and then while such a call is in
the emulator (it is carried out after the client died, as a cloud would). The randomness is seeded: the seed is
printed, and SOAK_SEED=<seed> replays the same kill fractions and faults (the machine's load still moves what a
given moment hits).

    SOAK_CYCLES=20 SOAK_SEED=1234 python tools/soak/soak.py

Per cycle it prints the kill moment, what existed after the kill, the processes left, the re-run's result; then a
summary. It exits non-zero when a process survived a kill, a re-run failed, or a duplicate or an orphan was found.
Logs and, on a failure, the emulator's state are kept under .cache/soak/<seed>/.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
SOAK = Path(__file__).resolve().parent
ACCESS_KEY_ID = "LTAI-soak"
ACCESS_KEY_SECRET = "soak-secret-value-not-real"
REGION = "cn-hangzhou"
# The calls a kill may catch in the emulator (held there by a latency fault, carried out after the client died).
SLOWED = (
    "AllocateEipAddress",
    "CreateNetworkInterface",
    "AttachNetworkInterface",
    "AssignPrivateIpAddresses",
    "AssociateEipAddress",
    "CreateSnatEntry",
    "TagResources",
)
MAX_LATENCY = 1.0

# What converge.yml asks for.
MULTI_EIP = {"i-soak-a": ("nat_enis", 2)}
NAT_GATEWAY = "ngw-soak"
NAT_EIPS = 2
SNAT_SOURCES = {"soak-app": ("vsw-soak-app", ""), "soak-c": ("", "10.30.1.12/32")}


class Emulator:
    """The emulator's control API."""

    def __init__(self, endpoint: str):
        self.endpoint = endpoint
        self.opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def call(self, method: str, path: str, payload=None):
        data = json.dumps(payload).encode() if payload is not None else None
        request = urllib.request.Request(f"http://{self.endpoint}/_emulator/{path}", data=data, method=method)
        with self.opener.open(request, timeout=60) as response:
            return json.loads(response.read() or b"{}")

    def state(self) -> dict:
        return self.call("GET", "state")


# ---- what exists ----------------------------------------------------------------------------------------------


def secondary_enis(state: dict) -> list[dict]:
    return [eni for eni in state["enis"].values() if eni.get("Type") != "Primary"]


def inventory(state: dict) -> str:
    """One line: EIPs, secondary ENIs and SNAT entries by status."""

    def by_status(records) -> str:
        counts = Counter(record["Status"] for record in records)
        return ", ".join(f"{count} {status}" for status, count in sorted(counts.items()))

    eips = list(state["eips"].values())
    enis = secondary_enis(state)
    entries = list(state["snat_entries"].values())
    return (
        f"{len(eips)} EIP ({by_status(eips) or '-'}), {len(enis)} ENI ({by_status(enis) or '-'}), "
        f"{len(entries)} SNAT ({by_status(entries) or '-'})"
    )


def resource_count(state: dict) -> int:
    return len(state["eips"]) + len(secondary_enis(state)) + len(state["snat_entries"])


def check(state: dict) -> tuple[list[str], list[str]]:
    """(duplicates, orphans) in ``state`` against what converge.yml asks for; both empty when exactly that exists."""
    duplicates: list[str] = []
    orphans: list[str] = []
    eips = list(state["eips"].values())
    enis = secondary_enis(state)
    claimed: set[str] = set()  # EIPs and ENIs accounted for

    def twice(kind: str, records: list[dict], key: str) -> None:
        for name, count in Counter(record[key] for record in records).items():
            if count > 1:
                duplicates.append(f"{count} {kind}s named {name!r}")

    twice("EIP", eips, "Name")
    twice("ENI", enis, "NetworkInterfaceName")

    for instance_id, (mode, count) in MULTI_EIP.items():
        prefix = f"multi-eip-{instance_id}"
        eni_count = count if mode == "nat_enis" else 1
        for slot in range(eni_count):
            found = [eni for eni in enis if eni["NetworkInterfaceName"] == f"{prefix}-eni-{slot}"]
            if not found:
                orphans.append(f"ENI {prefix}-eni-{slot} missing")
                continue
            eni = found[0]
            claimed.add(eni["NetworkInterfaceId"])
            if eni["Status"] != "InUse" or eni["InstanceId"] != instance_id:
                orphans.append(f"ENI {eni['NetworkInterfaceId']} ({eni['NetworkInterfaceName']}) is {eni['Status']}")
            if eni.get("Tags", {}).get("alicloud-eip-slot") != str(slot):
                orphans.append(f"ENI {eni['NetworkInterfaceId']} lacks the role's slot tag")
            if mode == "nat_secondary_ips" and len(eni["PrivateIpSets"]) != count + 1:
                orphans.append(
                    f"ENI {eni['NetworkInterfaceId']} has {len(eni['PrivateIpSets']) - 1} secondary IPs, not {count}"
                )
        used_ips: set[str] = set()
        for slot in range(count):
            found = [eip for eip in eips if eip["Name"] == f"{prefix}-eip-{slot}"]
            if not found:
                orphans.append(f"EIP {prefix}-eip-{slot} missing")
                continue
            eip = found[0]
            claimed.add(eip["AllocationId"])
            eni_name = f"{prefix}-eni-{slot if mode == 'nat_enis' else 0}"
            holder = state["enis"].get(eip.get("InstanceId") or "")
            if eip["Status"] != "InUse" or holder is None or holder.get("NetworkInterfaceName") != eni_name:
                orphans.append(
                    f"EIP {eip['AllocationId']} ({eip['Name']}) is {eip['Status']} on {eip.get('InstanceId') or '-'}, "
                    f"not on {eni_name}"
                )
                continue
            primary = [ip["PrivateIpAddress"] for ip in holder["PrivateIpSets"] if ip["Primary"]]
            address = eip.get("PrivateIpAddress")
            if (mode == "nat_enis") != (address in primary) or address in used_ips:
                orphans.append(
                    f"EIP {eip['AllocationId']} ({eip['Name']}) is on {address} of {holder['NetworkInterfaceId']}"
                )
            used_ips.add(address)

    nat_addresses = set()
    for number in range(1, NAT_EIPS + 1):
        found = [eip for eip in eips if eip["Name"] == f"nat-egress-{NAT_GATEWAY}-{number}"]
        if not found:
            orphans.append(f"EIP nat-egress-{NAT_GATEWAY}-{number} missing")
            continue
        eip = found[0]
        claimed.add(eip["AllocationId"])
        nat_addresses.add(eip["IpAddress"])
        if eip["Status"] != "InUse" or eip.get("InstanceId") != NAT_GATEWAY:
            orphans.append(
                f"EIP {eip['AllocationId']} ({eip['Name']}) is {eip['Status']} on {eip.get('InstanceId') or '-'}"
            )

    for eip in eips:
        if eip["AllocationId"] not in claimed and eip["Name"] not in {
            other["Name"] for other in eips if other["AllocationId"] in claimed
        }:
            orphans.append(
                f"EIP {eip['AllocationId']} ({eip['Name'] or 'no name'}) was not asked for ({eip['Status']})"
            )
    for eni in enis:
        if eni["NetworkInterfaceId"] not in claimed and eni["NetworkInterfaceName"] not in {
            other["NetworkInterfaceName"] for other in enis if other["NetworkInterfaceId"] in claimed
        }:
            orphans.append(
                f"ENI {eni['NetworkInterfaceId']} ({eni['NetworkInterfaceName'] or 'no name'}) was not asked for"
            )

    entries = list(state["snat_entries"].values())
    twice("SNAT entrie", entries, "SnatEntryName")
    for name, (vswitch, cidr) in SNAT_SOURCES.items():
        found = [entry for entry in entries if entry["SnatEntryName"] == name]
        if not found:
            orphans.append(f"SNAT entry {name} missing")
            continue
        entry = found[0]
        if (vswitch and entry["SourceVSwitchId"] != vswitch) or (cidr and entry["SourceCIDR"] != cidr):
            orphans.append(f"SNAT entry {name} has the wrong source")
        if set(entry["SnatIp"].split(",")) != nat_addresses or entry["Status"] != "Available":
            orphans.append(
                f"SNAT entry {name} is {entry['Status']} with {entry['SnatIp']}, not {sorted(nat_addresses)}"
            )
    for entry in entries:
        if entry["SnatEntryName"] not in SNAT_SOURCES:
            orphans.append(f"SNAT entry {entry['SnatEntryId']} ({entry['SnatEntryName']}) was not asked for")
    return duplicates, orphans


# ---- one run of the converge ------------------------------------------------------------------------------------


def namespace_of(pid: int) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/ns/pid")
    except OSError:
        return None


def processes_in(namespace: str) -> list[int]:
    """PIDs (in our namespace) of the processes that live in PID namespace ``namespace``."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and namespace_of(int(entry)) == namespace:
            found.append(int(entry))
    return found


class Run:
    """ansible-playbook converge.yml as PID 1 of a PID namespace of its own."""

    def __init__(self, environment: dict, log: Path, extra_vars: Path):
        self.log = log
        self.started = time.monotonic()
        command = [
            "unshare",
            "--pid",
            "--fork",
            "--kill-child",
            "--mount-proc",
            str(REPO / ".venv/bin/ansible-playbook"),
            "-i",
            str(SOAK / "inventory.yml"),
            str(SOAK / "converge.yml"),
            "-e",
            f"@{extra_vars}",
        ]
        with open(log, "wb") as output:
            self.process = subprocess.Popen(  # pylint: disable=consider-using-with
                command, env=environment, stdout=output, stderr=subprocess.STDOUT, start_new_session=True, cwd=SOAK
            )
        self.init_pid = None
        self.namespace = None
        own = namespace_of(os.getpid())
        deadline = time.monotonic() + 30
        while self.namespace is None and time.monotonic() < deadline and self.process.poll() is None:
            children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
            try:
                pids = [int(pid) for pid in children.read_text().split()]
            except OSError:
                pids = []
            for pid in pids:
                namespace = namespace_of(pid)
                if namespace and namespace != own:
                    self.init_pid, self.namespace = pid, namespace
            if self.namespace is None:
                time.sleep(0.01)

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def kill(self) -> list[int]:
        """SIGKILL the namespace's init (the kernel then kills all of it); the PIDs still in it after 10 s."""
        if self.init_pid is not None:
            try:
                os.kill(self.init_pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.process.wait(timeout=60)
        if self.namespace is None:
            return []
        deadline = time.monotonic() + 10
        while (left := processes_in(self.namespace)) and time.monotonic() < deadline:
            time.sleep(0.1)
        return left

    def wait(self) -> int:
        return self.process.wait()

    def last_task(self) -> str:
        """The task the run had started last (where a kill landed)."""
        tasks = re.findall(r"^TASK \[(.*?)\]", self.log.read_text(errors="replace"), re.MULTILINE)
        return tasks[-1] if tasks else "before the first task"

    def recap(self) -> dict[str, int]:
        """changed=N per host from the PLAY RECAP."""
        text = self.log.read_text(errors="replace")
        return {
            host: int(changed) for host, changed in re.findall(r"^(\S+)\s+: ok=\d+\s+changed=(\d+)", text, re.MULTILINE)
        }


# ---- the soak -----------------------------------------------------------------------------------------------


def main() -> int:
    cycles = int(os.environ.get("SOAK_CYCLES", "20"))
    seed = int(os.environ.get("SOAK_SEED") or random.SystemRandom().randrange(1, 10**6))
    rng = random.Random(seed)
    print(f"soak: {cycles} cycles, seed {seed} (replay: SOAK_SEED={seed} make soak)", flush=True)
    if os.geteuid() != 0:
        print("soak: needs root (unshare --pid)", file=sys.stderr)
        return 2

    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
        os.environ.pop(name, None)
    work = REPO / ".cache" / "soak" / str(seed)
    work.mkdir(parents=True, exist_ok=True)
    view = subprocess.run(
        [str(REPO / "tools/collection-tree.sh")], capture_output=True, text=True, check=True
    ).stdout.strip()
    environment = {
        **os.environ,
        "ANSIBLE_COLLECTIONS_PATH": view.rsplit("/ansible_collections/", 1)[0],
        "ANSIBLE_PYTHON_INTERPRETER": str(REPO / ".venv/bin/python"),
        "ANSIBLE_LOCALHOST_WARNING": "false",
        "ANSIBLE_NOCOLOR": "1",
        # A killed run leaves its AnsiballZ files here, not in ~/.ansible; removed with the work directory.
        "ANSIBLE_LOCAL_TEMP": str(work / "tmp"),
        "ANSIBLE_REMOTE_TEMP": str(work / "tmp"),
        # Credentials from the environment: nothing secret on a command line.
        "ALIBABA_CLOUD_ACCESS_KEY_ID": ACCESS_KEY_ID,
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": ACCESS_KEY_SECRET,
        "ALIBABA_CLOUD_REGION_ID": REGION,
    }
    world = yaml.safe_load((SOAK / "world.yml").read_text())
    world["access_keys"] = [{"id": ACCESS_KEY_ID, "secret": ACCESS_KEY_SECRET}]

    emulator_dir = work / "emulator"
    endpoint = subprocess.run(
        [str(REPO / "tools/emulator.sh"), "start", str(emulator_dir)], capture_output=True, text=True, check=True
    ).stdout.strip()
    emulator = Emulator(endpoint)
    extra_vars = work / "vars.json"
    extra_vars.write_text(json.dumps({"soak_endpoint_url": f"http://{endpoint}"}))
    figures = Counter()
    problems: list[str] = []
    started = time.monotonic()

    def fresh_world(cycle: int) -> None:
        emulator.call("POST", "world", world)
        rules = [
            {
                "kind": "latency",
                "action": action,
                "probability": 0.5,
                "seconds": round(rng.uniform(0.2, MAX_LATENCY), 2),
            }
            for action in SLOWED
        ]
        emulator.call("POST", "faults", {"seed": seed * 1000 + cycle, "rules": rules})
        emulator.call("DELETE", "calls")

    def verify(label: str, cycle: int) -> tuple[list[str], list[str]]:
        state = emulator.state()
        duplicates, orphans = check(state)
        if duplicates or orphans:
            dump = work / f"state-{label}-{cycle}.json"
            dump.write_text(json.dumps(state, indent=1, sort_keys=True))
            problems.append(f"cycle {cycle} ({label}): " + "; ".join(duplicates + orphans) + f" (state: {dump})")
        return duplicates, orphans

    try:
        # Cycle 0: an unkilled converge from scratch; its duration bounds the kill moments.
        fresh_world(0)
        calibration = Run(environment, work / "cycle-00-converge.log", extra_vars)
        status = calibration.wait()
        full = calibration.elapsed()
        duplicates, orphans = verify("converge", 0)
        print(
            f"cycle  0: unkilled converge {full:.1f} s, exit {status}: {inventory(emulator.state())}: "
            f"{'as requested' if status == 0 and not duplicates and not orphans else 'NOT as requested'}",
            flush=True,
        )
        if status != 0:
            problems.append(f"cycle 0: the unkilled converge failed (exit {status}, log {calibration.log})")
            return 1

        for cycle in range(1, cycles + 1):
            fresh_world(cycle)
            moment = rng.uniform(0.0, full)
            run = Run(environment, work / f"cycle-{cycle:02d}-killed.log", extra_vars)
            while run.elapsed() < moment and run.process.poll() is None:
                time.sleep(0.02)
            finished_first = run.process.poll() is not None
            ended = run.elapsed()
            at_kill = emulator.state()
            left = run.kill()
            killed_at = run.elapsed()
            task = run.last_task()
            # Calls held in the emulator by a latency fault are carried out after the client died.
            time.sleep(MAX_LATENCY + 0.3)
            after_kill = emulator.state()
            in_flight = resource_count(after_kill) - resource_count(at_kill)
            if left:
                problems.append(f"cycle {cycle}: processes survived the kill: {left}")
                figures["survivors"] += len(left)
                for pid in left:  # ours: started by this run; end them so the next cycle starts clean
                    os.kill(pid, signal.SIGKILL)
            created = resource_count(after_kill)
            converged_before = not any(check(after_kill))
            if finished_first:
                phase = "after the run ended"
                figures["ended before the kill"] += 1
            elif created == 0:
                phase = "before any create"
                figures["kills before any create"] += 1
            elif converged_before:
                phase = "after the converge was complete"
                figures["kills after the converge"] += 1
            else:
                phase = "mid-create"
                figures["kills mid-create"] += 1
            if in_flight > 0:
                figures["kills with a create in flight"] += 1

            rerun = Run(environment, work / f"cycle-{cycle:02d}-rerun.log", extra_vars)
            status = rerun.wait()
            duplicates, orphans = verify("rerun", cycle)
            figures["duplicates"] += len(duplicates)
            figures["orphans"] += len(orphans)
            if status != 0:
                figures["re-runs failed"] += 1
                problems.append(f"cycle {cycle}: the re-run failed (exit {status}, log {rerun.log})")
            verdict = "as requested" if status == 0 and not duplicates and not orphans else "NOT as requested"
            bound = full
            # The range of kill moments follows the machine's load: the latest whole converge from scratch sets it
            # (a re-run after a kill before any create, or a run that ended before its kill).
            if phase == "before any create" and status == 0:
                full = rerun.elapsed()
            elif finished_first:
                full = ended
            print(
                f"cycle {cycle:2d}: kill at {killed_at:5.1f} s of ~{bound:.0f} s in {task!r} ({phase}"
                f"{f', {in_flight} create(s) in flight' if in_flight > 0 else ''}); left {len(left)} processes; "
                f"after the kill: {inventory(after_kill)} | re-run {rerun.elapsed():.1f} s, exit {status}: "
                f"{inventory(emulator.state())}: {verdict}",
                flush=True,
            )

        # The last cycle's state once more: a converged account changes nothing and makes no mutating call.
        emulator.call("DELETE", "faults")
        emulator.call("DELETE", "calls")
        again = Run(environment, work / "idempotence.log", extra_vars)
        status = again.wait()
        mutating = {
            action: count
            for action, count in emulator.call("GET", "calls").items()
            if not action.startswith(("Describe", "List"))
        }
        changed = sum(again.recap().values())
        print(f"idempotence: exit {status}, changed={changed}, mutating calls {mutating or 'none'}", flush=True)
        if status != 0 or changed or mutating:
            problems.append(f"idempotence run: exit {status}, changed={changed}, mutating calls {mutating}")
    finally:
        subprocess.run([str(REPO / "tools/emulator.sh"), "stop", str(emulator_dir)], check=False)

    elapsed = time.monotonic() - started
    print(
        f"summary: seed {seed}, {cycles} cycles in {elapsed / 60:.1f} min (unkilled converge {full:.1f} s); "
        f"kills before any create {figures['kills before any create']}, mid-create {figures['kills mid-create']}, "
        f"after the converge {figures['kills after the converge']}, run ended before the kill "
        f"{figures['ended before the kill']}; kills with a create in flight {figures['kills with a create in flight']}; "
        f"processes surviving a kill {figures['survivors']}; re-runs failed {figures['re-runs failed']}; "
        f"duplicates {figures['duplicates']}; orphans {figures['orphans']}"
    )
    for problem in problems:
        print(f"PROBLEM: {problem}")
    if not problems:
        subprocess.run(["rm", "-rf", str(work / "tmp")], check=False)
    print(f"logs: {work}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
