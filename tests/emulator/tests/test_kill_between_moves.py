"""A run of ``alicloud.eip.eip_association`` SIGKILLed between the disassociation and the association of a move
or a replace, then run again (issue 9 item 10).

The rollback of a failed move lives inside the module process: a process killed after UnassociateEipAddress and
before AssociateEipAddress leaves the old holder without its EIP and the EIP (or the new one) unassociated. The
next run must complete the move from what it observes. This test puts the kill exactly there: a ``latency``
fault holds every AssociateEipAddress answer (the emulator counts the call, then sleeps before it runs the
handler, so the association has not happened), the module is SIGKILLed once the emulator has counted the
associations and the disassociations have completed, and the module is run again without faults.

It runs the module file itself as a subprocess (not ansible-playbook: a module is one process, so one SIGKILL
ends every process of the run) with its own emulator subprocess, which is stopped at the end together with the
request threads still sleeping in the fault. Cases are batched into one ``associations`` list, so the whole test
costs two module runs plus an idempotence run.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
MODULE = os.path.join(REPO, "plugins", "modules", "eip_association.py")
ACCESS_KEY_ID = "LTAI-kill-test"
ACCESS_KEY_SECRET = "kill-test-secret-value"
REGION = "cn-hangzhou"
HOLD_SECONDS = 600  # longer than the test: the held associations never run while the emulator lives

WORLD = {
    "access_keys": [{"id": ACCESS_KEY_ID, "secret": ACCESS_KEY_SECRET}],
    # Asynchronous steps take real time, so the module's waiter polls as it does against the cloud.
    "delays": {"eip_associate": 0.3, "eip_unassociate": 0.3},
    "regions": {
        REGION: {
            "zones": [f"{REGION}-h"],
            "vpcs": [
                {"id": "vpc-kill", "cidr": "10.0.0.0/8", "vswitches": [{"id": "vsw-kill", "cidr": "10.1.0.0/24"}]}
            ],
            "instances": [
                {"id": "i-from", "vswitch": "vsw-kill", "private_ip": "10.1.0.10"},
                {"id": "i-to", "vswitch": "vsw-kill", "private_ip": "10.1.0.11"},
                {"id": "i-holder", "vswitch": "vsw-kill", "private_ip": "10.1.0.12"},
                {"id": "i-host", "vswitch": "vsw-kill", "private_ip": "10.1.0.13", "max_enis": 3},
            ],
            "enis": [
                {
                    "id": "eni-kill",
                    "vswitch": "vsw-kill",
                    "instance": "i-host",
                    "private_ips": ["10.1.0.50", "10.1.0.51"],
                },
            ],
            "eips": [
                # move: ECS instance i-from -> ECS instance i-to
                {"id": "eip-moving", "ip": "47.96.5.1", "associated_with": {"instance": "i-from"}},
                # replace: i-holder holds eip-old and gets eip-new instead
                {"id": "eip-old", "ip": "47.96.5.2", "associated_with": {"instance": "i-holder"}},
                {"id": "eip-new", "ip": "47.96.5.3"},
                # move within an ENI in NAT mode: private IP .50 -> .51
                {
                    "id": "eip-eni",
                    "ip": "47.96.5.4",
                    "associated_with": {"instance": "eni-kill", "private_ip": "10.1.0.50", "mode": "NAT"},
                },
                # not named by the task: must stay as it is
                {"id": "eip-bystander", "ip": "47.96.5.5"},
            ],
        }
    },
}

ASSOCIATIONS = [
    {"allocation_id": "eip-moving", "instance_id": "i-to"},
    {"allocation_id": "eip-new", "instance_id": "i-holder"},
    {"allocation_id": "eip-eni", "instance_id": "eni-kill", "private_ip_address": "10.1.0.51"},
]

# What a run that was never killed leaves: (status, holder, private IP) per EIP.
CONVERGED = {
    "eip-moving": ("InUse", "i-to", None),
    "eip-new": ("InUse", "i-holder", None),
    "eip-old": ("Available", "", None),  # replaced: disassociated, still allocated, as a replace leaves it
    "eip-eni": ("InUse", "eni-kill", "10.1.0.51"),
    "eip-bystander": ("Available", "", None),
}
# Where the kill lands: every disassociation done, no association done.
BETWEEN = {
    "eip-moving": ("Available", "", None),
    "eip-new": ("Available", "", None),
    "eip-old": ("Available", "", None),
    "eip-eni": ("Available", "", None),
    "eip-bystander": ("Available", "", None),
}


class Emulator:
    """An emulator subprocess on a free loopback port and its control API."""

    def __init__(self, directory: str):
        environment = {key: value for key, value in os.environ.items() if "proxy" not in key.lower()}
        ready = os.path.join(directory, "endpoint")
        self.process = subprocess.Popen(  # pylint: disable=consider-using-with
            [sys.executable, "-m", "tests.emulator", "--port", "0", "--ready-file", ready],
            cwd=REPO,
            env={**environment, "PYTHONPATH": REPO},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while not (os.path.exists(ready) and os.path.getsize(ready)):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the emulator did not start")
            time.sleep(0.05)
        with open(ready, encoding="utf-8") as handle:
            self.endpoint = handle.read().strip()
        self.opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def control(self, method: str, path: str, payload=None):
        data = json.dumps(payload).encode() if payload is not None else None
        request = urllib.request.Request(f"http://{self.endpoint}/_emulator/{path}", data=data, method=method)
        with self.opener.open(request, timeout=30) as response:
            return json.loads(response.read() or b"{}")

    def eips(self) -> dict:
        """(status, holder, private IP of an ENI holder) per EIP, from the emulator's state."""
        return {
            allocation_id: (
                eip["Status"],
                eip.get("InstanceId") or "",
                eip.get("PrivateIpAddress") if eip.get("InstanceType") == "NetworkInterface" else None,
            )
            for allocation_id, eip in self.control("GET", "state")["eips"].items()
        }

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def emulator():
    with tempfile.TemporaryDirectory() as directory:
        running = Emulator(directory)
        try:
            running.control("POST", "world", WORLD)
            yield running
        finally:
            running.stop()


@pytest.fixture
def collections_root():
    """A directory holding ansible_collections/alicloud/eip -> this checkout, for the module's imports."""
    with tempfile.TemporaryDirectory() as root:
        os.makedirs(os.path.join(root, "ansible_collections", "alicloud"))
        os.symlink(REPO, os.path.join(root, "ansible_collections", "alicloud", "eip"))
        yield root


def start_module(emulator: Emulator, collections_root: str, directory: str) -> subprocess.Popen:
    """Start the module with the move/replace task; its JSON result goes to ``directory``/out."""
    arguments = {
        "ANSIBLE_MODULE_ARGS": {
            "access_key_id": ACCESS_KEY_ID,
            "access_key_secret": ACCESS_KEY_SECRET,
            "region": REGION,
            "endpoint_url": f"http://{emulator.endpoint}",
            "associations": ASSOCIATIONS,
            "allow_reassociation": True,
            "wait_timeout": 60,
        }
    }
    arguments_file = os.path.join(directory, "args.json")
    with open(arguments_file, "w", encoding="utf-8") as handle:
        json.dump(arguments, handle)
    environment = {key: value for key, value in os.environ.items() if "proxy" not in key.lower()}
    environment["PYTHONPATH"] = collections_root
    with open(os.path.join(directory, "out"), "wb") as out:
        return subprocess.Popen(  # pylint: disable=consider-using-with
            [sys.executable, MODULE, arguments_file], cwd=directory, env=environment, stdout=out, stderr=out
        )


def finish(process: subprocess.Popen, directory: str) -> dict:
    """Wait for a module run; its JSON result."""
    process.wait(timeout=240)
    with open(os.path.join(directory, "out"), encoding="utf-8") as handle:
        text = handle.read()
    try:
        return json.loads(text[text.index("{") :])
    except ValueError:
        return pytest.fail(f"the module printed no JSON result: {text[-2000:]}")


def wait_until(condition, what: str, process: subprocess.Popen | None = None, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert process is None or process.poll() is None, f"the module ended before {what}"
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.05)


def mutating_calls(calls: dict) -> dict:
    return {action: count for action, count in calls.items() if not action.startswith("Describe")}


def statuses(eips: dict) -> dict:
    return {allocation_id: status for allocation_id, (status, _holder, _private_ip) in eips.items()}


# Where the kill lands:
# - "associations held": every disassociation completed (the EIPs are Available, the old holders hold nothing),
#   every AssociateEipAddress sent and held by a latency fault, so none has happened;
# - "disassociations pending": every UnassociateEipAddress accepted, the EIPs still Unassociating (a long
#   eip_unassociate delay), the module in its wait; the next run first finds them Unassociating and waits.
KILL_POINTS = ("associations held", "disassociations pending")


@pytest.mark.parametrize("kill_point", KILL_POINTS)
def test_a_kill_between_disassociation_and_association_is_completed_by_the_next_run(
    emulator, collections_root, kill_point
):
    before = emulator.eips()
    assert {allocation_id: before[allocation_id] for allocation_id in CONVERGED} != CONVERGED
    leaving = ("eip-moving", "eip-old", "eip-eni")

    if kill_point == "associations held":
        # Every AssociateEipAddress is held: counted by the emulator, not carried out.
        rule = {"kind": "latency", "action": "AssociateEipAddress", "seconds": HOLD_SECONDS}
        emulator.control("POST", "faults", {"seed": 1, "rules": [rule]})
    else:
        emulator.control("POST", "delays", {"eip_unassociate": HOLD_SECONDS})
    emulator.control("DELETE", "calls")
    with tempfile.TemporaryDirectory() as directory:
        process = start_module(emulator, collections_root, directory)
        if kill_point == "associations held":
            wait_until(
                lambda: emulator.control("GET", "calls").get("AssociateEipAddress", 0) == len(ASSOCIATIONS),
                "it sent the associations",
                process,
            )
        else:
            wait_until(
                lambda: [statuses(emulator.eips())[name] for name in leaving] == ["Unassociating"] * 3,
                "the disassociations were accepted",
                process,
            )
        process.send_signal(signal.SIGKILL)
        assert process.wait(timeout=30) == -signal.SIGKILL

    # The kill landed between the two halves: nothing was associated, and the old holders lost (or are losing)
    # their EIPs.
    calls = mutating_calls(emulator.control("GET", "calls"))
    if kill_point == "associations held":
        assert calls == {"UnassociateEipAddress": 3, "AssociateEipAddress": 3}
        assert emulator.eips() == BETWEEN
    else:
        assert calls == {"UnassociateEipAddress": 3}
        assert statuses(emulator.eips()) == {**statuses(BETWEEN), **{name: "Unassociating" for name in leaving}}

    # The next run, without faults, completes the move and the replace from what it observes: three
    # associations, no disassociation (nothing holds the EIPs any more), and nothing else touched.
    emulator.control("DELETE", "faults")
    emulator.control("DELETE", "calls")
    with tempfile.TemporaryDirectory() as directory:
        process = start_module(emulator, collections_root, directory)
        if kill_point == "disassociations pending":
            # The run has described the EIPs (Unassociating) and polls them: let the disassociations complete.
            wait_until(
                lambda: emulator.control("GET", "calls").get("DescribeEipAddresses", 0) >= 2,
                "the next run waited for the Unassociating EIPs",
                process,
            )
            emulator.control("POST", "clock", {"advance": HOLD_SECONDS})
        result = finish(process, directory)
    assert result.get("failed") is not True, result
    assert result["changed"] is True
    assert sorted((action["action"], action["allocation_id"]) for action in result["actions"]) == [
        ("associate", "eip-eni"),
        ("associate", "eip-moving"),
        ("associate", "eip-new"),
    ]
    assert mutating_calls(emulator.control("GET", "calls")) == {"AssociateEipAddress": 3}
    after = emulator.eips()
    assert after == CONVERGED
    # No duplicate, no orphan: the same EIPs as before (the module allocates and releases nothing), the replaced
    # EIP is free, and each holder holds exactly the EIP it was asked for.
    assert set(after) == set(before)
    holders = [holder for _status, holder, _private_ip in after.values() if holder]
    assert sorted(holders) == ["eni-kill", "i-holder", "i-to"]

    # And the run after that changes nothing and makes no mutating call.
    emulator.control("DELETE", "calls")
    with tempfile.TemporaryDirectory() as directory:
        again = finish(start_module(emulator, collections_root, directory), directory)
    assert again.get("failed") is not True and again["changed"] is False, again
    assert mutating_calls(emulator.control("GET", "calls")) == {}
