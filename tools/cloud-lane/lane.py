# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The real-cloud lane (`make cloud-test`, tools/cloud-lane.sh): the lane's targets against a real account.

The lane's targets are integration targets of tests/integration/targets listed under ``cloud`` in
tests/cloud-lane/targets.yml: without ``emulator_control_url`` their setup_backend role picks the cloud path
(tasks/agnostic.yml), which creates what it needs with the run's prefix and tags and asserts on the answers.

Order of a run (docs/cloud-lane.md):

1. **Gate.** Without ``ALICLOUD_EIP_CLOUD_LANE=1`` it prints ``skipped: no account`` and runs nothing (exit 0, and
   the words say skipped). With it, every missing piece - credentials (an AccessKey pair, with or without an STS
   token; the OIDC trio; the ECS RAM role), the region, the fixtures a selected target needs - is named and the run
   fails (exit 2): a lane that was asked to run never passes by skipping.
2. **Cost guard.** The targets declare what they create (tests/cloud-lane/targets.yml); the lane adds it up and
   refuses a run above ``ALICLOUD_EIP_CLOUD_LANE_MAX_RESOURCES`` (default 8, at most 15: below the default quota
   of 20 EIPs per region) before any call (exit 3). Expensive targets run only with
   ``ALICLOUD_EIP_CLOUD_LANE_EXPENSIVE=1``. EIPs are pay-by-traffic at 1 Mbit/s. The targets' playbook runs under
   a time limit (``ALICLOUD_EIP_CLOUD_LANE_TIMEOUT``, seconds, default 1800).
3. **One ansible-playbook run**: a first call to the account (refused credentials fail here, with the module's
   message), the janitor for leaks of earlier killed runs (CI tag, older than ``ALICLOUD_EIP_CLOUD_LANE_STALE_AFTER``,
   default 60m), then each target in a block of its own: a failed target is recorded and the next one runs.
4. **Real answers recorded** (after the targets, when the account answered): the read-only probes of
   tests/fidelity/probe.py, written redacted (no key, ID, address, time or request ID: the recorder refuses to write
   otherwise, and the lane looks again) into ``ALICLOUD_EIP_CLOUD_LANE_FIXTURES`` (default: the run's directory).
   Committed under tests/fidelity/fixtures, the emulator tests compare the emulator's answers with them.
5. **The janitor, always** (a failed target, the time limit, SIGTERM or SIGINT included): this run's tag, any age,
   then a check that nothing tagged with this run is left.

Every resource a target creates carries the lane's tags: ``ansible-test`` (the run prefix), ``alicloud.eip/ci``
(``true``) and ``created`` (Unix time of the run's start); names start with the run prefix.

Exit status: 0 passed, or skipped (the last line says which); 1 a target failed, the janitor left something, the
time limit or an interruption; 2 the gate refused (named); 3 the cost cap refused.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import time

import yaml

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
LANE_DIR = os.path.join(REPO, "tests", "cloud-lane")
TARGETS_FILE = os.path.join(LANE_DIR, "targets.yml")
# The lane runs the integration targets themselves, on their cloud path (setup_backend: no emulator_control_url).
TARGETS_DIR = os.path.join(REPO, "tests", "integration", "targets")

OPT_IN = "ALICLOUD_EIP_CLOUD_LANE"
EXPENSIVE = "ALICLOUD_EIP_CLOUD_LANE_EXPENSIVE"
MAX_RESOURCES = "ALICLOUD_EIP_CLOUD_LANE_MAX_RESOURCES"
TIMEOUT = "ALICLOUD_EIP_CLOUD_LANE_TIMEOUT"
STALE_AFTER = "ALICLOUD_EIP_CLOUD_LANE_STALE_AFTER"
PREFIX = "ALICLOUD_EIP_TEST_PREFIX"
# The lane's own test points the lane at an emulator playing the account; never set against the real cloud.
ENDPOINT = "ALICLOUD_EIP_CLOUD_LANE_ENDPOINT"
REGION_VARIABLES = ("ALIBABA_CLOUD_REGION_ID", "ALICLOUD_REGION")

DEFAULT_MAX_RESOURCES = 8
# The default quota is 20 EIPs per region (alibaba-api.md); the cap stays well below it, leaving room for the
# account's own EIPs and for a leak of an earlier run that the janitor has not removed yet.
CEILING = 15
DEFAULT_TIMEOUT = 1800
DEFAULT_STALE_AFTER = "60m"
JANITOR_TIMEOUT = 900
# The fidelity probes (tests/fidelity/probe.py): read-only calls, recorded as redacted fixtures after the targets.
FIXTURES_OUT = "ALICLOUD_EIP_CLOUD_LANE_FIXTURES"
PROBE_TIMEOUT = 300

TAG_RUN = "ansible-test"
TAG_CI = "alicloud.eip/ci"
TAG_CREATED = "created"
BANDWIDTH = 1
CHARGE_TYPE = "PayByTraffic"

# The credential sources the collection's chain reads (plugins/module_utils/_credentials.py, docs/credentials.md):
# (name, variables that must all be set, optional variables).
CREDENTIAL_SOURCES = (
    (
        "AccessKey",
        ("ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET"),
        ("ALIBABA_CLOUD_SECURITY_TOKEN",),
    ),
    ("AccessKey (legacy names)", ("ALICLOUD_ACCESS_KEY", "ALICLOUD_SECRET_KEY"), ("ALICLOUD_SECURITY_TOKEN",)),
    (
        "OIDC RAM role",
        ("ALIBABA_CLOUD_ROLE_ARN", "ALIBABA_CLOUD_OIDC_PROVIDER_ARN", "ALIBABA_CLOUD_OIDC_TOKEN_FILE"),
        (),
    ),
    ("ECS RAM role", ("ALIBABA_CLOUD_ECS_METADATA",), ()),
)

EXIT_FAILED, EXIT_GATE, EXIT_CAP = 1, 2, 3


class Interrupted(Exception):
    """SIGTERM, SIGINT or SIGHUP arrived while the lane ran."""


def say(message: str) -> None:
    print(f"cloud-lane: {message}", flush=True)


def finish(status: str, message: str, code: int) -> int:
    """The last line of every run: ``cloud-test: passed|skipped|FAILED: ...``."""
    print(f"cloud-test: {status}: {message}", flush=True)
    return code


def load_targets() -> dict:
    with open(TARGETS_FILE, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def credential_source(environ) -> tuple[str | None, list[str]]:
    """The first complete credential source (its name, with "+ STS token" when one is set), else what is missing."""
    for name, required, optional in CREDENTIAL_SOURCES:
        if all(environ.get(variable) for variable in required):
            if name == "OIDC RAM role" and not os.path.isfile(environ["ALIBABA_CLOUD_OIDC_TOKEN_FILE"]):
                return None, [
                    "ALIBABA_CLOUD_OIDC_TOKEN_FILE names no readable file (the OIDC token the RAM role is assumed with)"
                ]
            if name == "ECS RAM role" and str(environ.get("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "")).lower() == "true":
                continue
            token = [variable for variable in optional if environ.get(variable)]
            return (f"{name} + STS token" if token else name), []
    partial = []
    for name, required, optional in CREDENTIAL_SOURCES:
        given = [variable for variable in required + optional if environ.get(variable)]
        if name == "ECS RAM role" and given:
            partial.append(
                "ECS RAM role unusable: ALIBABA_CLOUD_ECS_METADATA is set but ALIBABA_CLOUD_ECS_METADATA_DISABLED=true "
                "switches the metadata service off"
            )
        elif given:
            missing = [variable for variable in required if not environ.get(variable)]
            partial.append(f"{name} incomplete: {', '.join(missing)} not set (set: {', '.join(given)})")
    if partial:
        return None, partial
    return None, [
        (
            "no credentials: set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET (plus "
            "ALIBABA_CLOUD_SECURITY_TOKEN for an STS token), or ALIBABA_CLOUD_ROLE_ARN, ALIBABA_CLOUD_OIDC_PROVIDER_ARN "
            "and ALIBABA_CLOUD_OIDC_TOKEN_FILE (OIDC), or ALIBABA_CLOUD_ECS_METADATA (the ECS RAM role of this machine)"
        )
    ]


def positive_int(environ, name: str, default: int) -> tuple[int | None, str | None]:
    text = environ.get(name, "")
    if text == "":
        return default, None
    if not text.isdigit() or int(text) < 1:
        return None, f"{name}={text!r} must be a positive integer"
    return int(text), None


def run_prefix(environ) -> tuple[str | None, str | None]:
    """This run's prefix: ALICLOUD_EIP_TEST_PREFIX, else ``aeip-`` + GITHUB_RUN_ID (if any) + 6 random hex digits."""
    given = environ.get(PREFIX, "")
    if given:
        if not re.match(r"^[a-z][a-z0-9-]{2,39}$", given):
            return None, (
                f"{PREFIX}={given!r} must be 3 to 40 characters: a lowercase letter, then lowercase letters, digits "
                "and hyphens (it starts every name the lane gives and is the value of the ansible-test tag)"
            )
        return given, None
    run_id = re.sub(r"[^0-9a-z-]", "", environ.get("GITHUB_RUN_ID", "").lower())[:20]
    return "-".join(part for part in ("aeip", run_id, secrets.token_hex(3)) if part), None


def select_targets(config: dict, names: list[str], environ) -> tuple[list[str], list[str], list[str]]:
    """(targets to run, notes on targets left out, problems that refuse the run)."""
    cloud = config.get("cloud") or {}
    emulator_only = config.get("emulator_only") or {}
    problems, notes = [], []
    for name in names:
        if name in emulator_only:
            problems.append(f"target {name} is emulator-only ({' '.join(emulator_only[name].split())})")
        elif name not in cloud:
            problems.append(f"target {name} is not a lane target (tests/cloud-lane/targets.yml: {', '.join(cloud)})")
    chosen = [name for name in (names or list(cloud)) if name in cloud]
    expensive_ok = environ.get(EXPENSIVE) == "1"
    selected = []
    for name in chosen:
        reason = cloud[name].get("expensive")
        if reason and not expensive_ok:
            message = f"target {name} not run: expensive ({reason}); set {EXPENSIVE}=1 to run it"
            (problems if name in names else notes).append(message)
            continue
        selected.append(name)
    if not selected and not problems:
        problems.append("no target left to run")
    return selected, notes, problems


def fixtures(config: dict, selected: list[str], environ) -> tuple[dict, list[str]]:
    values, problems = {}, []
    for name in selected:
        for variable in config["cloud"][name].get("needs") or []:
            if environ.get(variable):
                values[variable] = environ[variable]
            else:
                problems.append(f"{variable} not set (target {name} uses this fixture of the account)")
    return values, problems


def count_resources(config: dict, selected: list[str]) -> dict:
    total: dict = {}
    for name in selected:
        for kind, number in (config["cloud"][name].get("creates") or {}).items():
            total[kind] = total.get(kind, 0) + int(number)
    return total


def group_alive(pgid: int) -> bool:
    """Whether any process of the group is still there."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def kill_group(process: subprocess.Popen) -> None:
    """End the playbook and every process it started (its own process group), TERM first, then KILL.

    Waiting for ansible-playbook alone is not enough: its forked workers are in the group too and may outlive it
    by a moment (a clean-clone run found one still there), so this waits until the whole group is gone.
    """
    for sig, grace in ((signal.SIGTERM, 5), (signal.SIGKILL, 5)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            process.wait()
            return
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            if process.poll() is not None and not group_alive(process.pid):
                return
            time.sleep(0.05)


def janitor_filter():
    """The janitor's filter file (plain Python), so the lane reads a duration exactly as the janitor will."""
    path = os.path.join(REPO, "plugins", "filter", "cleanup.py")
    spec = importlib.util.spec_from_file_location("alicloud_eip_cleanup_filter", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_playbook(playbook: str, extra_vars: str, env: dict, timeout: float) -> tuple[int | None, str | None]:
    """Run one ansible-playbook in a process group of its own; (exit status, why it was stopped)."""
    venv_bin = os.path.join(REPO, ".venv", "bin")
    command = [
        os.path.join(venv_bin, "ansible-playbook"),
        "-i",
        "localhost,",
        "-c",
        "local",
        "-e",
        f"ansible_python_interpreter={os.path.join(venv_bin, 'python')}",
        "-e",
        f"@{extra_vars}",
        playbook,
    ]
    process = subprocess.Popen(command, env=env, process_group=0)  # pylint: disable=consider-using-with
    try:
        return process.wait(timeout=max(timeout, 1)), None
    except subprocess.TimeoutExpired:
        kill_group(process)
        return None, f"time limit of {int(timeout)}s reached ({TIMEOUT})"
    except Interrupted as interruption:
        kill_group(process)
        return None, str(interruption)


def module_defaults(region: str, endpoint: str) -> dict:
    defaults = {"region": region}
    if endpoint:
        defaults["endpoint_url"] = endpoint
    return {"group/alicloud.eip.all": defaults}


def main_playbook(run_dir: str, selected: list[str], region: str, endpoint: str) -> list:
    """The first call, the janitor for stale leaks, then every target in a block that records its result."""
    defaults = module_defaults(region, endpoint)
    plays: list = [
        {
            "name": "Cloud lane: the account answers",
            "hosts": "localhost",
            "gather_facts": False,
            "module_defaults": defaults,
            "tasks": [
                {
                    "name": "First call to the account",
                    "block": [
                        {
                            "name": "List the EIPs of this run (none yet)",
                            "alicloud.eip.eip_info": {"tags": {TAG_RUN: "{{ cloud_lane_prefix }}"}},
                        },
                        {
                            "name": "Record that the account answered",
                            "ansible.builtin.copy": {
                                "content": "ok\n",
                                "dest": f"{run_dir}/preflight.ok",
                                "mode": "0600",
                            },
                        },
                    ],
                    "rescue": [
                        {
                            "name": "Record why the account did not answer",
                            "ansible.builtin.copy": {
                                "content": "{{ ansible_failed_result.msg | default('no message') }}\n",
                                "dest": f"{run_dir}/preflight.failed",
                                "mode": "0600",
                            },
                        },
                        {
                            "name": "Stop: nothing else can work",
                            "ansible.builtin.fail": {"msg": "the first call to the account failed (above)"},
                        },
                    ],
                }
            ],
        },
        {
            "name": "Cloud lane: the janitor for leaks of earlier runs",
            "ansible.builtin.import_playbook": "alicloud.eip.cleanup",
        },
    ]
    for name in selected:
        plays.append(
            {
                "name": f"Cloud lane target {name}",
                "hosts": "localhost",
                "gather_facts": False,
                "module_defaults": defaults,
                "tasks": [
                    {
                        "name": f"Target {name}",
                        "block": [
                            {"name": f"Run {name}", "ansible.builtin.include_role": {"name": name}},
                            {
                                "name": f"Record that {name} passed",
                                "ansible.builtin.copy": {
                                    "content": '{"status": "passed"}\n',
                                    "dest": f"{run_dir}/result-{name}.json",
                                    "mode": "0600",
                                },
                            },
                        ],
                        "rescue": [
                            {
                                "name": f"Record that {name} failed",
                                "ansible.builtin.copy": {
                                    "content": "{{ {'status': 'FAILED', 'task': ansible_failed_task.name | default(''),"
                                    " 'msg': ansible_failed_result.msg | default('')} | to_json }}\n",
                                    "dest": f"{run_dir}/result-{name}.json",
                                    "mode": "0600",
                                },
                            }
                        ],
                    }
                ],
            }
        )
    return plays


def janitor_playbook(run_dir: str, region: str, endpoint: str) -> list:
    """The janitor for this run, then the check that nothing tagged with this run is left."""
    return [
        {"name": "Cloud lane: the janitor for this run", "ansible.builtin.import_playbook": "alicloud.eip.cleanup"},
        {
            "name": "Cloud lane: nothing of this run is left",
            "hosts": "localhost",
            "gather_facts": False,
            "module_defaults": module_defaults(region, endpoint),
            "tasks": [
                {
                    "name": "EIPs tagged with this run",
                    "alicloud.eip.eip_info": {"tags": {TAG_RUN: "{{ cloud_lane_prefix }}"}},
                    "register": "cloud_lane_left_eips",
                },
                {
                    "name": "ENIs tagged with this run",
                    "alicloud.eip.eni_info": {"tags": {TAG_RUN: "{{ cloud_lane_prefix }}"}},
                    "register": "cloud_lane_left_enis",
                },
                {
                    "name": "Record what is left",
                    "ansible.builtin.copy": {
                        "content": "{{ {'eips': cloud_lane_left_eips.eips | map(attribute='allocation_id'),"
                        " 'enis': cloud_lane_left_enis.interfaces | map(attribute='id')}"
                        " | to_json }}\n",
                        "dest": f"{run_dir}/left.json",
                        "mode": "0600",
                    },
                },
            ],
        },
    ]


def write_json(path: str, data) -> str:
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=1)
    os.chmod(path, 0o600)
    return path


def read_json(path: str):
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None


def child_environment(view: str, endpoint: str) -> dict:
    env = dict(os.environ)
    env.update(
        ANSIBLE_COLLECTIONS_PATH=view.split("/ansible_collections/")[0],
        ANSIBLE_ROLES_PATH=TARGETS_DIR,
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_RETRY_FILES_ENABLED="0",
        # No AnsiballZ file with the module's arguments on disk (docs/credentials.md).
        ANSIBLE_PIPELINING="1",
        ANSIBLE_FORCE_COLOR="0",
    )
    if endpoint:
        # The emulator listens on loopback: no proxy. Against the real cloud the user's proxy settings stay.
        for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
            env.pop(name, None)
    return env


def gate(environ, names: list[str]):
    """Everything the lane needs before its first call; (settings, None) or (None, exit status)."""
    opt_in = environ.get(OPT_IN, "")
    if opt_in in ("", "0"):
        return None, finish(
            "skipped",
            f"no account (set {OPT_IN}=1 and credentials in the environment to run the lane against your account: "
            "docs/cloud-lane.md); nothing was run",
            0,
        )
    if opt_in != "1":
        return None, finish("FAILED", f"{OPT_IN}={opt_in!r}: set it to 1 to run the lane, or unset it", EXIT_GATE)
    config = load_targets()
    problems = []
    source, missing = credential_source(environ)
    problems += missing
    region = next((environ[name] for name in REGION_VARIABLES if environ.get(name)), "")
    if not region:
        problems.append(
            "no region: set ALIBABA_CLOUD_REGION_ID (a region on both cut-through lists, e.g. ap-southeast-1 "
            "or cn-hangzhou)"
        )
    selected, notes, target_problems = select_targets(config, names, environ)
    problems += target_problems
    fixture_values, fixture_problems = fixtures(config, selected, environ)
    problems += fixture_problems
    cap, cap_problem = positive_int(environ, MAX_RESOURCES, DEFAULT_MAX_RESOURCES)
    timeout, timeout_problem = positive_int(environ, TIMEOUT, DEFAULT_TIMEOUT)
    prefix, prefix_problem = run_prefix(environ)
    stale_after = environ.get(STALE_AFTER) or DEFAULT_STALE_AFTER
    stale_problem = None
    if janitor_filter().parse_duration(stale_after) is None:  # the janitor's own reading of cleanup_older_than
        stale_problem = f"{STALE_AFTER}={stale_after!r} must be a duration: seconds, or a number with s, m, h or d"
    problems += [problem for problem in (cap_problem, timeout_problem, prefix_problem, stale_problem) if problem]
    for note in notes:
        say(note)
    if problems:
        for problem in problems:
            say(f"missing: {problem}")
        return None, finish(
            "FAILED",
            f"the lane was asked to run ({OPT_IN}=1) but cannot: " + "; ".join(problems),
            EXIT_GATE,
        )
    resources = count_resources(config, selected)
    total = sum(resources.values())
    counted = ", ".join(f"{kind} {number}" for kind, number in sorted(resources.items()))
    if cap > CEILING or total > cap:
        why = (
            f"{MAX_RESOURCES}={cap} is above the ceiling of {CEILING} (the default quota is 20 EIPs per region)"
            if cap > CEILING
            else f"this run would create {total} resources ({counted}), above the cap of {cap} ({MAX_RESOURCES})"
        )
        return None, finish("FAILED", f"refused before any call: {why}", EXIT_CAP)
    say(
        f"credentials: {source}; region {region}{' (endpoint ' + environ[ENDPOINT] + ')' if environ.get(ENDPOINT) else ''}"
    )
    say(f"plan: {len(selected)} targets ({', '.join(selected)}); at most {total} resources ({counted}); cap {cap}")
    say(f"run prefix {prefix}; time limit {timeout}s; janitor for earlier leaks: older than {stale_after}")
    return {
        "config": config,
        "selected": selected,
        "region": region,
        "endpoint": environ.get(ENDPOINT, ""),
        "prefix": prefix,
        "timeout": timeout,
        "stale_after": stale_after,
        "fixtures": fixture_values,
        "fixtures_dir": environ.get(FIXTURES_OUT, ""),
    }, None


def lane_vars(settings: dict, started: int) -> dict:
    fixture = settings["fixtures"]
    return {
        "cloud_lane_prefix": settings["prefix"],
        "cloud_lane_tags": {TAG_RUN: settings["prefix"], TAG_CI: "true", TAG_CREATED: str(started)},
        "cloud_lane_bandwidth": BANDWIDTH,
        "cloud_lane_charge_type": CHARGE_TYPE,
        "cloud_lane_region": settings["region"],
        "cloud_lane_vswitch_id": fixture.get("ALICLOUD_EIP_TEST_VSWITCH_ID", ""),
        "cloud_lane_security_group_id": fixture.get("ALICLOUD_EIP_TEST_SECURITY_GROUP_ID", ""),
        "cloud_lane_nat_gateway_id": fixture.get("ALICLOUD_EIP_TEST_NAT_GATEWAY_ID", ""),
        # The janitor playbook's own settings (playbooks/cleanup.yml).
        "alicloud_region": settings["region"],
        "cleanup_tag_key": TAG_RUN,
        "cleanup_created_tag": TAG_CREATED,
        "cleanup_apply": True,
    }


def fidelity_probe():
    """tests/fidelity/probe.py as a module (its redaction check), loaded like the janitor's filter."""
    spec = importlib.util.spec_from_file_location(
        "alicloud_eip_fidelity_probe", os.path.join(REPO, "tests", "fidelity", "probe.py")
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def record_fixtures(settings: dict, run_dir: str, env: dict) -> dict:
    """Run the fidelity probes against the account: {"dir", "files"} or {"dir", "problem"}.

    The recorder gets the lane's environment (credentials stay there, never arguments) and writes nothing when a
    fixture still holds a key or an identifier; the lane then reads every file again for the same.
    """
    out = settings["fixtures_dir"] or os.path.join(run_dir, "fixtures")
    command = [os.path.join(REPO, ".venv", "bin", "python"), "-m", "tests.fidelity.probe", "--out", out]
    if settings["endpoint"]:
        command += ["--endpoint", settings["endpoint"].split("://", 1)[-1].rstrip("/")]
    child = dict(env, PYTHONPATH=REPO)
    try:
        done = subprocess.run(
            command, env=child, cwd=REPO, capture_output=True, text=True, timeout=PROBE_TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired:
        return {"dir": out, "problem": f"the fixture recorder did not finish within {PROBE_TIMEOUT}s"}
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines()
        return {"dir": out, "problem": f"the fixture recorder failed: {lines[-1] if lines else done.returncode}"}
    probe = fidelity_probe()
    files = sorted(name for name in os.listdir(out) if name.endswith(".json"))
    for name in files:
        with open(os.path.join(out, name), encoding="utf-8") as handle:
            found = probe.leaks(handle.read(), os.environ)
        if found:
            return {"dir": out, "problem": f"fixture {name} is not redacted: it holds {', '.join(found)}"}
    if len(files) != len(probe.PROBES):
        return {"dir": out, "problem": f"{len(files)} fixtures written for {len(probe.PROBES)} probes"}
    return {"dir": out, "files": files}


def on_signal(signum, _frame):
    raise Interrupted(f"interrupted by {signal.Signals(signum).name}")


def run(settings: dict, view: str) -> int:
    started = int(time.time())
    run_dir = tempfile.mkdtemp(prefix="alicloud-eip-cloud-lane-")
    env = child_environment(view, settings["endpoint"])
    base = lane_vars(settings, started)
    if settings["endpoint"]:
        base["alicloud_endpoint_url"] = settings["endpoint"]
    start_vars = dict(
        base,
        cleanup_tags={TAG_CI: "true"},
        cleanup_older_than=settings["stale_after"],
        cleanup_report_file=os.path.join(run_dir, "janitor-start.json"),
    )
    end_vars = dict(
        base,
        cleanup_tags={TAG_CI: "true", TAG_RUN: settings["prefix"]},
        cleanup_older_than=0,
        cleanup_report_file=os.path.join(run_dir, "janitor-end.json"),
    )
    main = write_json(
        os.path.join(run_dir, "main.yml"),
        main_playbook(run_dir, settings["selected"], settings["region"], settings["endpoint"]),
    )
    janitor = write_json(
        os.path.join(run_dir, "janitor.yml"), janitor_playbook(run_dir, settings["region"], settings["endpoint"])
    )
    start_file = write_json(os.path.join(run_dir, "start-vars.json"), start_vars)
    end_file = write_json(os.path.join(run_dir, "end-vars.json"), end_vars)
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, on_signal)
    stopped = None
    try:
        say(f"=== targets (ansible-playbook {main})")
        status, stopped = run_playbook(main, start_file, env, settings["timeout"])
    except Interrupted as interruption:  # between the start of the run and the playbook's start
        status, stopped = None, str(interruption)
    preflight_failed = os.path.exists(os.path.join(run_dir, "preflight.failed"))
    answered = os.path.exists(os.path.join(run_dir, "preflight.ok"))
    if answered and not stopped:
        say("=== real answers (tests/fidelity/probe.py)")
        try:
            write_json(os.path.join(run_dir, "fixtures.json"), record_fixtures(settings, run_dir, env))
        except Interrupted as interruption:
            stopped = str(interruption)
    janitor_status, janitor_stopped, left = None, None, None
    if answered or stopped:
        # The janitor runs whenever a call may have created something: after the first call answered, and after any
        # stop (a stop can land after the first answer and before its record is written).
        say(f"=== janitor for run {settings['prefix']} (ansible-playbook {janitor})")
        try:
            janitor_status, janitor_stopped = run_playbook(janitor, end_file, env, JANITOR_TIMEOUT)
        except Interrupted as interruption:
            janitor_stopped = str(interruption)
        left = read_json(os.path.join(run_dir, "left.json"))
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)
    return report(settings, run_dir, status, stopped, preflight_failed, (janitor_status, janitor_stopped, left))


def report(settings, run_dir, status, stopped, preflight_failed, janitor) -> int:
    janitor_status, janitor_stopped, left = janitor
    recorded = read_json(os.path.join(run_dir, "fixtures.json"))
    failures = []
    say(f"=== results (run prefix {settings['prefix']}, region {settings['region']})")
    if preflight_failed:
        with open(os.path.join(run_dir, "preflight.failed"), encoding="utf-8") as handle:
            why = handle.read().strip()
        say(f"  first call            FAILED: {why}")
        failures.append(f"the account refused the first call (credentials, region or endpoint): {why}")
    earlier = read_json(os.path.join(run_dir, "janitor-start.json"))
    if earlier is not None:
        say(f"  janitor (earlier runs) {janitor_summary(earlier)}")
    passed = 0
    for name in settings["selected"]:
        result = read_json(os.path.join(run_dir, f"result-{name}.json"))
        if result is None:
            line = "not run" if preflight_failed else "did not finish"
            failures.append(f"{name} {line}")
        elif result.get("status") == "passed":
            line = "passed"
            passed += 1
        else:
            line = f"FAILED in {result.get('task')!r}: {result.get('msg')}"
            failures.append(f"{name} failed")
        say(f"  {name:<22}{line}")
    if recorded is not None and "problem" in recorded:
        say(f"  fixtures              FAILED: {recorded['problem']}")
        failures.append(recorded["problem"])
    elif recorded is not None:
        say(
            f"  fixtures              {len(recorded['files'])} real answers recorded, redacted, in {recorded['dir']} "
            "(review them, then commit them under tests/fidelity/fixtures: the emulator tests compare with them)"
        )
    if stopped:
        failures.append(stopped)
    elif status not in (0, None) and not preflight_failed:
        failures.append(f"ansible-playbook exited {status}")
    own = read_json(os.path.join(run_dir, "janitor-end.json"))
    if own is not None:
        say(f"  janitor (this run)    {janitor_summary(own)}")
    if left is not None:
        count = len(left.get("eips", [])) + len(left.get("enis", []))
        say(f"  check                 {'left nothing of this run' if count == 0 else 'LEFT ' + json.dumps(left)}")
        if count:
            failures.append(
                f"the janitor left {count} resources tagged {TAG_RUN}={settings['prefix']}: {json.dumps(left)}"
            )
    elif janitor_status is not None or janitor_stopped:
        say("  janitor               FAILED (above)")
        failures.append(
            f"the janitor did not finish ({janitor_stopped or 'ansible-playbook exited ' + str(janitor_status)})"
        )
    if janitor_status not in (0, None) and left is not None:
        failures.append(f"the janitor exited {janitor_status}")
    if failures:
        return finish("FAILED", "; ".join(failures), EXIT_FAILED)
    return finish(
        "passed",
        f"{passed} targets against the account in region {settings['region']}; the janitor left nothing of this run",
        0,
    )


def janitor_summary(plan: dict) -> str:
    """One line of a janitor report (playbooks/cleanup.yml's cleanup_report_file)."""
    removed = ", ".join(
        f"{len(plan.get(kind) or [])} {kind.replace('_', ' ')}"
        for kind in ("snat_entries", "eip_associations", "enis", "eips")
    )
    skipped = len(plan.get("skipped") or [])
    return f"to remove {removed}; left alone {skipped} (tagged but out of scope or too young)"


def main(argv: list[str]) -> int:
    names = [arg for arg in argv if not arg.startswith("-")]
    plan_only = "--plan" in argv
    settings, code = gate(os.environ, names)
    if settings is None:
        return code
    if plan_only:
        return finish("skipped", "plan only (--plan); nothing was run", 0)
    view = subprocess.run(
        [os.path.join(REPO, "tools", "collection-tree.sh")], check=True, capture_output=True, text=True
    ).stdout.strip()
    return run(settings, view)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
