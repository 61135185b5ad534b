# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The real-cloud lane (tools/cloud-lane.sh) against an emulator that plays the account (issue 15 item 6).

The lane is run as a user runs it, with credentials in its environment and the opt-in on; only
ALICLOUD_EIP_CLOUD_LANE_ENDPOINT points it at the emulator instead of Alibaba's endpoints. The emulator's world
(world.yml) holds the fixtures the lane is given, resources of the account the lane must never touch (untagged, or
tagged by someone else), the tagged leaks of an earlier killed run (three hours old: an EIP on an ENI, an EIP on the
NAT gateway used by an SNAT entry) and the tagged EIP of another lane run still going (a minute old).

The tests share one emulator process, but none depends on another having run: each loads world.yml afresh (the
``emulator`` fixture), and the full run is a module fixture that the test of its recorded answers reuses (or runs, when
that test runs alone). What they prove:
- the gate in its three states (off: skipped and no call; on without complete credentials, region or fixtures:
  failed, naming them; on with refused credentials: failed at the first call, nothing created);
- the cost guard (the cap and its ceiling, expensive targets only on request) refuses before any call;
- the time limit ends the playbook and everything it started;
- a run stopped with SIGTERM in the middle of a target: what it created carries the run prefix, the CI tag and the
  creation time; the janitor of earlier runs has removed the killed run's leaks in dependency order and left the
  run still going alone; the janitor at the end still runs and removes what this run created, nothing else;
- a full run (one target expensive): the janitor of earlier runs removes the killed run's leaks and the other run's
  EIP once it is stale, the targets pass and create exactly what they declare, nothing tagged is left, and the account's own resources are as
  they were.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import tempfile
import time
import urllib.request

import pytest
import yaml

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
LANE = os.path.join(REPO, "tools", "cloud-lane.sh")
WORLD = os.path.join(REPO, "tests", "cloud-lane", "world.yml")
TARGETS = os.path.join(REPO, "tests", "cloud-lane", "targets.yml")


def _load_lane():
    """tools/cloud-lane/lane.py as a module (tools/ is no package)."""
    spec = importlib.util.spec_from_file_location("cloud_lane", os.path.join(REPO, "tools", "cloud-lane", "lane.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


lane = _load_lane()

KEY_ID, SECRET = "LTAI-cloud-lane", "cloud-lane-secret-value"
CI = {"alicloud.eip/ci": "true"}
# The account's own resources (world.yml): the lane must leave them exactly as they are.
ACCOUNT_EIPS = ("eip-account", "eip-account-free", "eip-account-team")
ACCOUNT_ENIS = ("eni-account",)
MUTATING_PREFIXES = ("Allocate", "Associate", "Unassociate", "Release", "Create", "Delete", "Modify", "Tag", "UnTag")


class Emulator:
    def __init__(self, endpoint: str):
        self.endpoint = endpoint

    def control(self, path: str, body=None, method: str | None = None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"http://{self.endpoint}/_emulator/{path}",
            data=data,
            method=method or ("POST" if data is not None else "GET"),
            headers={"Content-Type": "application/json"},
        )
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(request, timeout=30) as answer:
            return json.loads(answer.read())

    def state(self) -> dict:
        return self.control("state")

    def calls(self) -> dict:
        return self.control("calls")

    def reset_calls(self) -> None:
        self.control("calls", method="DELETE")

    def tagged(self, tags: dict) -> dict:
        """IDs of the EIPs and ENIs that carry every one of ``tags``."""
        state = self.state()

        def carries(resource):
            have = resource.get("Tags") or {}
            if isinstance(have, list):
                have = {tag["TagKey"]: tag["TagValue"] for tag in have}
            return all(have.get(key) == value for key, value in tags.items())

        return {
            "eips": sorted(key for key, eip in state["eips"].items() if carries(eip)),
            "enis": sorted(key for key, eni in state["enis"].items() if carries(eni)),
        }


def load_world(emu: Emulator) -> None:
    """world.yml afresh: its resources only (whatever an earlier test created or removed is gone), no call counted,
    no fault; the EIP of the run still going is a minute old now."""
    with open(WORLD, encoding="utf-8") as handle:
        world = yaml.safe_load(handle)
    region = world["regions"]["cn-hangzhou"]
    for resource in region["eips"]:
        if (resource.get("tags") or {}).get("ansible-test") == "aeip-young":
            resource["tags"]["created"] = str(int(time.time()) - 60)
    emu.control("world", world)


@pytest.fixture(scope="module")
def emulator_process():
    """One emulator process for the file; a test gets it through ``emulator``, which loads the world afresh."""
    run_dir = tempfile.mkdtemp(prefix="cloud-lane-emulator-")
    endpoint = subprocess.run(
        [os.path.join(REPO, "tools", "emulator.sh"), "start", run_dir], check=True, capture_output=True, text=True
    ).stdout.strip()
    try:
        yield Emulator(endpoint)
    finally:
        subprocess.run([os.path.join(REPO, "tools", "emulator.sh"), "stop", run_dir], check=False)


@pytest.fixture
def emulator(emulator_process):
    """The emulator playing the account of world.yml as it is before any lane run, whatever ran before this test."""
    load_world(emulator_process)
    return emulator_process


def own_resources(emu: Emulator) -> tuple[dict, dict]:
    """The account's own EIPs and ENIs as the emulator holds them now."""
    state = emu.state()
    return {key: state["eips"][key] for key in ACCOUNT_EIPS}, {key: state["enis"][key] for key in ACCOUNT_ENIS}


def lane_env(emulator: Emulator | None = None, **given) -> dict:
    """A clean environment: none of this machine's Alibaba variables, no proxy; the collection view passes."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("ALIBABA_CLOUD_", "ALICLOUD_", "GITHUB_"))
        and key.lower() not in ("http_proxy", "https_proxy", "all_proxy")
    }
    for name in ("ALICLOUD_EIP_VIEW_ROOT", "ALICLOUD_EIP_VIEW_READY"):
        if os.environ.get(name):
            env[name] = os.environ[name]
    env["ALIBABA_CLOUD_ECS_METADATA_DISABLED"] = "true"
    if emulator is not None:
        env["ALICLOUD_EIP_CLOUD_LANE_ENDPOINT"] = f"http://{emulator.endpoint}"
    env.update({key: str(value) for key, value in given.items()})
    return env


def account_env(emulator: Emulator, **given) -> dict:
    """The opt-in, the emulator's keys, the region and every fixture of world.yml."""
    settings = {
        "ALICLOUD_EIP_CLOUD_LANE": "1",
        "ALIBABA_CLOUD_ACCESS_KEY_ID": KEY_ID,
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": SECRET,
        "ALIBABA_CLOUD_REGION_ID": "cn-hangzhou",
        "ALICLOUD_EIP_TEST_VSWITCH_ID": "vsw-lane",
        "ALICLOUD_EIP_TEST_SECURITY_GROUP_ID": "sg-lane",
        "ALICLOUD_EIP_TEST_NAT_GATEWAY_ID": "ngw-lane",
    }
    settings.update(given)
    return lane_env(emulator, **settings)


def stop(process: subprocess.Popen) -> None:
    """Stop a lane that is still running as CI would (SIGTERM: it stops its playbook and runs its janitor)."""
    process.terminate()
    try:
        process.wait(timeout=600)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def run_lane(env: dict, *args: str, timeout: int = 1800) -> subprocess.CompletedProcess:
    """Run the lane to its end; a lane still running after ``timeout`` (a hang, not slowness) is stopped and fails."""
    with subprocess.Popen([LANE, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as process:
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            stop(process)
            raise
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def last_line(result) -> str:
    lines = result.stdout.strip().splitlines()
    return lines[-1] if lines else ""


def mutating(calls: dict) -> dict:
    return {action: count for action, count in calls.items() if action.startswith(MUTATING_PREFIXES)}


def test_every_target_is_classified_and_declares_what_it_creates():
    with open(TARGETS, encoding="utf-8") as handle:
        config = yaml.safe_load(handle)
    targets_dir = os.path.join(REPO, "tests", "integration", "targets")
    integration = sorted(name for name in os.listdir(targets_dir) if not name.startswith("setup_"))
    assert sorted(set(config["cloud"]) | set(config["emulator_only"])) == integration, (
        "every integration target needs a lane classification"
    )
    assert not set(config["cloud"]) & set(config["emulator_only"])
    assert all(len(reason.split()) >= 5 for reason in config["emulator_only"].values())
    for name, entry in config["cloud"].items():
        tasks = os.path.join(targets_dir, name, "tasks")
        # Both paths exist, and main.yml picks one through setup_backend (its aliases name the dependency).
        assert os.path.isfile(os.path.join(tasks, "agnostic.yml")) and os.path.isfile(os.path.join(tasks, "emulator.yml"))
        with open(os.path.join(tasks, "main.yml"), encoding="utf-8") as handle:
            main = handle.read()
        assert "name: setup_backend" in main and "agnostic.yml" in main and "emulator.yml" in main, name
        with open(os.path.join(targets_dir, name, "aliases"), encoding="utf-8") as handle:
            assert "needs/target/setup_backend" in handle.read().split(), name
        assert entry["creates"] and all(isinstance(count, int) and count > 0 for count in entry["creates"].values())
        assert len(entry["emulator_cases"].split()) >= 5, name


def test_without_the_opt_in_it_says_skipped_and_calls_nothing(emulator):
    emulator.reset_calls()
    for env in (
        lane_env(emulator),
        account_env(emulator, ALICLOUD_EIP_CLOUD_LANE=""),
        account_env(emulator, ALICLOUD_EIP_CLOUD_LANE="0"),
    ):
        result = run_lane(env)
        assert result.returncode == 0, result.stdout + result.stderr
        assert last_line(result).startswith("cloud-test: skipped: no account (set ALICLOUD_EIP_CLOUD_LANE=1")
        assert "passed" not in result.stdout
    assert emulator.calls() == {}


@pytest.mark.parametrize(
    "given, named",
    [
        ({}, ["ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ALIBABA_CLOUD_OIDC_TOKEN_FILE"]),
        ({"ALIBABA_CLOUD_ACCESS_KEY_ID": KEY_ID}, ["ALIBABA_CLOUD_ACCESS_KEY_SECRET not set"]),
        (
            {"ALIBABA_CLOUD_SECURITY_TOKEN": "t"},
            ["ALIBABA_CLOUD_ACCESS_KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET not set"],
        ),
        ({"ALICLOUD_SECRET_KEY": SECRET}, ["ALICLOUD_ACCESS_KEY not set"]),
        (
            {"ALIBABA_CLOUD_ROLE_ARN": "acs:ram::1:role/ci"},
            ["ALIBABA_CLOUD_OIDC_PROVIDER_ARN, ALIBABA_CLOUD_OIDC_TOKEN_FILE not set"],
        ),
        (
            {
                "ALIBABA_CLOUD_ROLE_ARN": "acs:ram::1:role/ci",
                "ALIBABA_CLOUD_OIDC_PROVIDER_ARN": "acs:ram::1:oidc-provider/gh",
                "ALIBABA_CLOUD_OIDC_TOKEN_FILE": "/nonexistent/token",
            },
            ["ALIBABA_CLOUD_OIDC_TOKEN_FILE names no readable file"],
        ),
        # The ECS RAM role is no source while the metadata service is switched off.
        ({"ALIBABA_CLOUD_ECS_METADATA": "ci-role"}, ["ALIBABA_CLOUD_ECS_METADATA_DISABLED=true switches the metadata"]),
    ],
)
def test_with_the_opt_in_missing_credentials_fail_naming_them(emulator, given, named):
    emulator.reset_calls()
    env = lane_env(emulator, ALICLOUD_EIP_CLOUD_LANE="1", ALIBABA_CLOUD_REGION_ID="cn-hangzhou", **given)
    result = run_lane(env, "eip_address")
    assert result.returncode == lane.EXIT_GATE, result.stdout + result.stderr
    assert last_line(result).startswith("cloud-test: FAILED: the lane was asked to run (ALICLOUD_EIP_CLOUD_LANE=1)")
    for text in named:
        assert text in last_line(result)
    assert "skipped" not in result.stdout and "passed" not in result.stdout
    assert emulator.calls() == {}


def test_with_the_opt_in_region_fixtures_and_target_names_are_checked(emulator):
    emulator.reset_calls()
    cases = [
        (account_env(emulator, ALIBABA_CLOUD_REGION_ID=""), (), ["no region: set ALIBABA_CLOUD_REGION_ID"]),
        (
            account_env(emulator, ALICLOUD_EIP_TEST_SECURITY_GROUP_ID=""),
            ("eip_association",),
            ["ALICLOUD_EIP_TEST_SECURITY_GROUP_ID not set (target eip_association"],
        ),
        (account_env(emulator), ("eip_gateway_info",), ["target eip_gateway_info is emulator-only (", "MULTI_BINDED"]),
        (account_env(emulator), ("nosuch",), ["target nosuch is not a lane target"]),
        (account_env(emulator, ALICLOUD_EIP_CLOUD_LANE="yes"), (), ["ALICLOUD_EIP_CLOUD_LANE='yes': set it to 1"]),
        (account_env(emulator, ALICLOUD_EIP_TEST_PREFIX="Bad_Prefix"), (), ["ALICLOUD_EIP_TEST_PREFIX='Bad_Prefix'"]),
        # Read as the janitor reads cleanup_older_than: a fraction is no duration.
        (
            account_env(emulator, ALICLOUD_EIP_CLOUD_LANE_STALE_AFTER="1.5h"),
            (),
            ["ALICLOUD_EIP_CLOUD_LANE_STALE_AFTER='1.5h' must be a duration"],
        ),
    ]
    for env, args, named in cases:
        result = run_lane(env, *args)
        assert result.returncode == lane.EXIT_GATE, result.stdout + result.stderr
        for text in named:
            assert text in last_line(result), last_line(result)
    assert emulator.calls() == {}


def test_cost_guard_refuses_before_any_call(emulator):
    emulator.reset_calls()
    # Default selection: the expensive target is left out, and said so; what is left is counted against the cap.
    plan = run_lane(account_env(emulator), "--plan")
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert "target snat_entry not run: expensive" in plan.stdout
    assert (
        "plan: 5 targets (eip_address, eip_association, eip_info, eni, eni_info); at most 6 resources (eip 3, eni 3); "
        "cap 8"
        in plan.stdout
    )
    assert last_line(plan) == "cloud-test: skipped: plan only (--plan); nothing was run"
    expensive = run_lane(account_env(emulator, ALICLOUD_EIP_CLOUD_LANE_EXPENSIVE="1"), "--plan")
    assert (
        "plan: 6 targets (eip_address, eip_association, eip_info, eni, eni_info, snat_entry); at most 8 resources"
        in expensive.stdout
    )
    # Asked for by name without the extra opt-in: refused.
    named = run_lane(account_env(emulator), "snat_entry")
    assert named.returncode == lane.EXIT_GATE
    assert "target snat_entry not run: expensive" in last_line(named)
    assert "ALICLOUD_EIP_CLOUD_LANE_EXPENSIVE=1" in last_line(named)
    # Above the cap, and a cap above the ceiling under the default quota of 20 EIPs per region.
    over = run_lane(account_env(emulator, ALICLOUD_EIP_CLOUD_LANE_MAX_RESOURCES="2"))
    assert over.returncode == lane.EXIT_CAP
    assert last_line(over) == (
        "cloud-test: FAILED: refused before any call: this run would create 6 resources (eip 3, eni 3), above the "
        "cap of 2 (ALICLOUD_EIP_CLOUD_LANE_MAX_RESOURCES)"
    )
    ceiling = run_lane(account_env(emulator, ALICLOUD_EIP_CLOUD_LANE_MAX_RESOURCES="16"))
    assert ceiling.returncode == lane.EXIT_CAP
    assert "ALICLOUD_EIP_CLOUD_LANE_MAX_RESOURCES=16 is above the ceiling of 15" in last_line(ceiling)
    assert "=== targets" not in over.stdout + ceiling.stdout
    assert emulator.calls() == {}


def test_refused_credentials_fail_at_the_first_call_and_create_nothing(emulator):
    emulator.reset_calls()
    result = run_lane(account_env(emulator, ALIBABA_CLOUD_ACCESS_KEY_SECRET="wrong-secret-value"), "eip_address")
    assert result.returncode == lane.EXIT_FAILED, result.stdout + result.stderr
    assert last_line(result).startswith("cloud-test: FAILED: the account refused the first call")
    assert "SignatureDoesNotMatch" in last_line(result) or "InvalidAccessKeyId" in last_line(result)
    assert "eip_address           not run" in result.stdout
    assert "wrong-secret-value" not in result.stdout + result.stderr
    # Nothing was created, and the janitor did not run: no call could have changed the account.
    assert "=== janitor" not in result.stdout
    assert mutating(emulator.calls()) == {}


def test_the_time_limit_ends_the_playbook_and_what_it_started(tmp_path):
    playbook = tmp_path / "slow.yml"
    playbook.write_text(
        "- hosts: localhost\n  gather_facts: false\n  tasks:\n"
        "    - ansible.builtin.wait_for:\n        timeout: 120\n"
    )
    extra = tmp_path / "vars.json"
    extra.write_text("{}")
    env = lane.child_environment(lane.REPO + "/ansible_collections/x", "")
    started = time.monotonic()
    status, stopped = lane.run_playbook(str(playbook), str(extra), env, 3)
    assert status is None
    assert stopped == "time limit of 3s reached (ALICLOUD_EIP_CLOUD_LANE_TIMEOUT)"
    assert time.monotonic() - started < 60
    # Nothing of that playbook run is left: no process names its (unique) playbook file.
    left = []
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                if str(playbook).encode() in handle.read():
                    left.append(entry)
        except OSError:
            continue
    assert left == []


def wait_for(condition, what: str, process: subprocess.Popen, timeout: float = 1200):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        if process.poll() is not None:
            pytest.fail(f"the lane ended (exit {process.returncode}) before {what}: {process.stdout.read()}")
        time.sleep(0.2)
    pytest.fail(f"no {what} within {timeout}s")
    return None


def start_lane_held_at_the_association(emulator, prefix: str, log) -> subprocess.Popen:
    """A lane run of eip_association whose AssociateEipAddress answer is held back, once it has been asked."""
    emulator.control(
        "faults",
        {"seed": 1, "rules": [{"kind": "latency", "action": "AssociateEipAddress", "seconds": 900, "times": 1}]},
    )
    emulator.reset_calls()
    process = subprocess.Popen(  # pylint: disable=consider-using-with
        [LANE, "eip_association"],
        env=account_env(emulator, ALICLOUD_EIP_TEST_PREFIX=prefix),
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_for(lambda: emulator.calls().get("AssociateEipAddress"), "an AssociateEipAddress call", process)
    except BaseException:
        # A lane still running would act on the emulator under the next test.
        stop(process)
        raise
    return process


def test_a_stopped_run_tags_what_it_creates_and_still_runs_the_janitor_for_itself_only(emulator, tmp_path):
    account_before = own_resources(emulator)
    started = int(time.time())
    with open(tmp_path / "lane.log", "w+", encoding="utf-8") as log:
        process = start_lane_held_at_the_association(emulator, "aeip-proof-stopped", log)
        # Held at AssociateEipAddress: the ENI and the EIP the target created carry the lane's tags and names.
        state = emulator.state()
        created = emulator.tagged({"ansible-test": "aeip-proof-stopped"})
        assert len(created["eips"]) == 1 and len(created["enis"]) == 1, created
        for resource in (state["eips"][created["eips"][0]], state["enis"][created["enis"][0]]):
            tags = (
                resource["Tags"]
                if isinstance(resource["Tags"], dict)
                else {tag["TagKey"]: tag["TagValue"] for tag in resource["Tags"]}
            )
            assert tags["alicloud.eip/ci"] == "true"
            assert started - 5 <= int(tags["created"]) <= int(time.time())
        eip = state["eips"][created["eips"][0]]
        assert eip["Name"] == "aeip-proof-stopped-association"
        assert eip["InternetChargeType"] == "PayByTraffic" and str(eip["Bandwidth"]) == "1"
        assert state["enis"][created["enis"][0]]["NetworkInterfaceName"] == "aeip-proof-stopped-eni"
        # The janitor of earlier runs (default: older than 60m) has removed the killed run's three-hour-old leaks,
        # in dependency order (the emulator refuses a release of an EIP still in use): SNAT entry, associations, ENI,
        # EIPs.
        assert not {"eip-old-eni", "eip-old-snat"} & set(state["eips"])
        assert "eni-old-leak" not in state["enis"] and "snat-old-leak" not in state["snat_entries"]
        process.send_signal(signal.SIGTERM)
        status = process.wait(timeout=1800)
        log.seek(0)
        output = log.read()
    emulator.control("faults", method="DELETE")
    assert status == lane.EXIT_FAILED, output
    assert (
        output.strip()
        .splitlines()[-1]
        .startswith("cloud-test: FAILED: eip_association did not finish; interrupted by SIGTERM")
    )
    assert "janitor (earlier runs) to remove 1 snat entries, 2 eip associations, 1 enis, 2 eips; left alone 1" in output
    assert "janitor (this run)    to remove 0 snat entries, 0 eip associations, 1 enis, 1 eips" in output
    assert "check                 left nothing of this run" in output
    assert emulator.tagged({"ansible-test": "aeip-proof-stopped"}) == {"eips": [], "enis": []}
    # The run still going: too young for the janitor of earlier runs, not of this run: untouched.
    assert emulator.tagged({"ansible-test": "aeip-young"}) == {"eips": ["eip-young"], "enis": []}
    eips, enis = account_before
    state = emulator.state()
    assert {key: state["eips"][key] for key in ACCOUNT_EIPS} == eips
    assert {key: state["enis"][key] for key in ACCOUNT_ENIS} == enis


@pytest.fixture(scope="module")
def full_run(emulator_process, tmp_path_factory):
    """A full lane run (every target of the cloud list, the expensive one too) against world.yml loaded afresh, and
    what the emulator held before and after it. Module scope: the test of the run and the test of the answers it
    recorded (``ALICLOUD_EIP_CLOUD_LANE_FIXTURES``) share one run; either, run alone, makes it."""
    emulator = emulator_process
    load_world(emulator)
    recorded = str(tmp_path_factory.mktemp("fixtures") / "recorded")
    state = emulator.state()
    before = {"eips": set(state["eips"]), "enis": set(state["enis"])}
    account_before = own_resources(emulator)
    result = run_lane(
        account_env(
            emulator,
            ALICLOUD_EIP_CLOUD_LANE_EXPENSIVE="1",
            ALICLOUD_EIP_CLOUD_LANE_STALE_AFTER="1s",
            ALICLOUD_EIP_TEST_PREFIX="aeip-proof-full",
            ALICLOUD_EIP_CLOUD_LANE_FIXTURES=recorded,
        )
    )
    return {
        "result": result,
        "recorded": recorded,
        "before": before,
        "account_before": account_before,
        "account_after": own_resources(emulator),
        "after": emulator.state(),
        "calls": emulator.calls(),
        "tagged": emulator.tagged(CI),
    }


@pytest.fixture
def recorded(full_run):
    """Where the full run's lane wrote the real answers it recorded."""
    return full_run["recorded"]


def test_a_full_run_passes_creates_what_it_declares_and_leaves_nothing(full_run):
    """Every target of the cloud list (the expensive one too) on its cloud path: the account holds only its fixtures,
    its own resources and leaks, nothing of the targets' worlds; whatever a target asserts on, it created."""
    with open(TARGETS, encoding="utf-8") as handle:
        declared = yaml.safe_load(handle)["cloud"]
    result = full_run["result"]
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert last_line(result) == (
        f"cloud-test: passed: {len(declared)} targets against the account in region cn-hangzhou; the janitor left "
        "nothing of this run"
    )
    for name in declared:
        assert f"  {name:<22}passed" in output, name
    # The janitor of earlier runs went first: the killed run's three-hour-old leaks in dependency order, and the other
    # run's EIP, now older than ALICLOUD_EIP_CLOUD_LANE_STALE_AFTER.
    assert "janitor (earlier runs) to remove 1 snat entries, 2 eip associations, 1 enis, 3 eips; left alone 0" in output
    # Each target removed what it created itself: the janitor at the end found nothing of this run.
    assert "janitor (this run)    to remove 0 snat entries, 0 eip associations, 0 enis, 0 eips" in output
    assert full_run["tagged"] == {"eips": [], "enis": []}
    state = full_run["after"]
    assert state["snat_entries"] == {}
    calls = full_run["calls"]
    # Exactly what the targets declare (the cost cap counts the declarations).
    for action, kind in (
        ("AllocateEipAddress", "eip"),
        ("CreateNetworkInterface", "eni"),
        ("CreateSnatEntry", "snat_entry"),
    ):
        assert calls.get(action, 0) == sum(entry["creates"].get(kind, 0) for entry in declared.values()), action
    # No resource of a target's world appeared: the only new IDs were created (and removed) by the targets.
    before = full_run["before"]
    assert set(state["eips"]) <= before["eips"] and set(state["enis"]) <= before["enis"]
    assert full_run["account_after"] == full_run["account_before"]
    assert SECRET not in output and KEY_ID not in output
    probes = lane.fidelity_probe().PROBES
    assert f"fixtures              {len(probes)} real answers recorded, redacted, in {full_run['recorded']}" in output


def identifiers(node):
    """Every ``id`` and ``ip`` value of a world (the account's resource IDs and addresses)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("id", "ip") and isinstance(value, str):
                yield value
            else:
                yield from identifiers(value)
    elif isinstance(node, list):
        for item in node:
            yield from identifiers(item)


FIDELITY_TEST = "tests/emulator/tests/test_fidelity_fixtures.py::test_committed_real_fixtures_match_the_emulator"


def compare_with_emulator(fixtures_dir: str) -> subprocess.CompletedProcess:
    """The emulator test that compares committed real answers, pointed at ``fixtures_dir``."""
    env = lane_env(None, ALICLOUD_EIP_FIDELITY_FIXTURES=fixtures_dir, PYTHONPATH=REPO)
    return subprocess.run(
        [os.path.join(REPO, ".venv", "bin", "python"), "-m", "pytest", "-p", "no:cacheprovider", "-vv", FIDELITY_TEST],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_recorded_answers_are_redacted_and_a_difference_fails_the_emulator_comparison(recorded, tmp_path):
    """Item 5 of issue 15: the lane records the probes' answers; the emulator test compares with them."""
    probe = lane.fidelity_probe()
    names = sorted(os.listdir(recorded))
    assert names == sorted(f"{item['name']}.json" for item in probe.PROBES)
    with open(WORLD, encoding="utf-8") as handle:
        world_ids = set(identifiers(yaml.safe_load(handle)))
    assert {"eip-account", "eni-account", "vsw-lane", "ngw-lane", "47.96.30.1"} <= world_ids
    for name in names:
        with open(os.path.join(recorded, name), encoding="utf-8") as handle:
            text = handle.read()
        assert KEY_ID not in text and SECRET not in text, name
        assert probe.leaks(text, {"ALIBABA_CLOUD_ACCESS_KEY_ID": KEY_ID}) == [], name
        assert [value for value in world_ids if value in text] == [], name
        fixture = json.loads(text)
        assert fixture["outcome"] in ("answer", "error") and fixture["fid"], name
    # The emulator agrees with what the lane recorded from it: the comparison passes.
    same = compare_with_emulator(recorded)
    assert same.returncode == 0 and "1 passed" in same.stdout, same.stdout + same.stderr
    # A recorded answer that differs from the emulator's (the real API counting an unknown ID) fails the test.
    differing = tmp_path / "differing"
    differing.mkdir()
    for name in names:
        with open(os.path.join(recorded, name), encoding="utf-8") as handle:
            fixture = json.load(handle)
        if fixture["probe"] == "describe-unknown-allocation-id":
            assert fixture["values"] == {"TotalCount": 0}
            fixture["values"]["TotalCount"] = 1
        (differing / name).write_text(json.dumps(fixture))
    differs = compare_with_emulator(str(differing))
    assert differs.returncode == 1, differs.stdout + differs.stderr
    assert "1 failed" in differs.stdout
    assert "TotalCount: 1 in the real answer, 0 in the emulator's" in differs.stdout
    assert "describe-unknown-allocation-id [fid:eip-describe-unknown-id-empty]" in differs.stdout


def test_the_recorder_refuses_to_write_what_redaction_missed(tmp_path):
    probe = lane.fidelity_probe()
    environ = {"ALIBABA_CLOUD_ACCESS_KEY_ID": KEY_ID, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": SECRET}
    assert probe.leaks(f'{{"m": "{SECRET}"}}', environ) == ["ALIBABA_CLOUD_ACCESS_KEY_SECRET"]
    assert probe.leaks('{"m": "eip-bp1a2b3c4d5e6f on 47.96.30.1"}', environ) == ["resource ID", "IPv4 address"]
    assert probe.leaks('{"m": "<eip-id> on <ipv4>"}', environ) == []


def test_kill_group_waits_for_every_process_of_the_group_not_only_its_leader():
    # The leader ends at SIGTERM; its child ignores SIGTERM, like a worker busy in a module may outlive the leader.
    process = subprocess.Popen(  # pylint: disable=consider-using-with
        ["bash", "-c", "(trap '' TERM; exec sleep 60) & sleep 0.3; wait"], process_group=0
    )
    time.sleep(1)
    assert lane.group_alive(process.pid)
    lane.kill_group(process)
    assert process.returncode is not None
    assert not lane.group_alive(process.pid)
