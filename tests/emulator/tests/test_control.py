"""Control API (/_emulator/...), the command line, state-file restarts and the demo world."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile

import pytest
import yaml
from alibabacloud_ecs20140526 import models as ecs_models
from alibabacloud_ecs20140526.client import Client as EcsClient
from alibabacloud_tea_openapi.exceptions import ClientException
from alibabacloud_vpc20160428 import models as vpc_models
from alibabacloud_vpc20160428.client import Client as VpcClient

from tests.emulator.registry import ACTIONS
from tests.emulator.tests.conftest import BASE_WORLD, REGION, make_config
from tests.emulator.tests.network_support import control_raw, raw_request, unix_request
from tests.emulator.world import build_state

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
DEMO_WORLD = os.path.join(REPO, "tests", "emulator", "worlds", "demo.yml")


def create_havip(vpc) -> str:
    return vpc.create_ha_vip(vpc_models.CreateHaVipRequest(region_id=REGION, v_switch_id="vsw-b")).body.ha_vip_id


# ---- control API ----------------------------------------------------------------------------------------


def test_health(server, control):
    status, body = control_raw(server, "GET", "health")
    assert status == 200 and body == {"ok": True, "actions": len(ACTIONS)}


def test_world_and_state(server, control):
    control.load({"access_keys": BASE_WORLD["access_keys"], "regions": {"cn-shanghai": {}}})
    state = control.state()
    assert state["regions"] == ["cn-shanghai"] and state["instances"] == {}
    control.load(BASE_WORLD)
    assert "i-running" in control.state()["instances"]


def test_inconsistent_world_is_refused_with_its_reason(server, control):
    bad = {"regions": {REGION: {"instances": [{"id": "i-x", "vswitch": "vsw-nowhere"}]}}}
    status, body = control_raw(server, "POST", "world", bad)
    assert status == 400 and "vsw-nowhere" in body["error"]
    # The previous world is still loaded.
    assert "i-running" in control.state()["instances"]


def test_reset_restores_the_loaded_world(server, control, vpc):
    havip_id = create_havip(vpc)
    assert havip_id in control.state()["havips"]
    assert control_raw(server, "POST", "reset") == (200, {"ok": True})
    assert havip_id not in control.state()["havips"]
    assert "havip-1" in control.state()["havips"]


def test_clock(server, control):
    status, before = control_raw(server, "GET", "clock")
    assert status == 200 and before["offset"] == 0
    after = control.advance(3600)
    assert after["offset"] == 3600 and after["now"] >= before["now"] + 3600
    assert after["iso"].endswith("Z")


def test_delays(server, control, vpc):
    assert control_raw(server, "GET", "delays")[1]["havip_create"] == 0
    assert control.delays(havip_create=30)["havip_create"] == 30
    havip_id = create_havip(vpc)
    assert control.state()["havips"][havip_id]["Status"] == "Creating"
    # The pending transition is applied when the clock passes its due time.
    control.advance(31)
    assert control.state()["havips"][havip_id]["Status"] == "Available"
    status, body = control_raw(server, "POST", "delays", {"teleport": 1})
    assert status == 400 and "teleport" in body["error"]


def test_calls_count_per_action(server, control, vpc, ecs):
    control_raw(server, "DELETE", "calls")
    for _call in range(3):
        vpc.describe_vpcs(vpc_models.DescribeVpcsRequest(region_id=REGION))
    ecs.describe_instances(ecs_models.DescribeInstancesRequest(region_id=REGION))
    assert control.calls() == {"DescribeVpcs": 3, "DescribeInstances": 1}
    assert control_raw(server, "POST", "calls") == (200, {})
    assert control.calls() == {}


def test_calls_do_not_count_unauthenticated_requests(server, control):
    control_raw(server, "DELETE", "calls")
    with pytest.raises(ClientException):
        VpcClient(make_config(server.endpoint, access_key_secret="wrong")).describe_vpcs(
            vpc_models.DescribeVpcsRequest(region_id=REGION)
        )
    assert control.calls() == {}


@pytest.mark.parametrize("method,path", [("GET", "nothing"), ("DELETE", "world"), ("PUT", "clock")])
def test_unknown_control_paths(server, control, method, path):
    status, body = control_raw(server, method, path)
    assert status == 404 and path in body["error"]


def test_malformed_control_payload(server, control):
    status, _headers, text = raw_request(server.endpoint, "POST", "/_emulator/clock", body=b"{not json")
    assert status == 400 and "error" in json.loads(text)


# ---- demo world ----------------------------------------------------------------------------------------


def load_demo() -> dict:
    with open(DEMO_WORLD, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def test_demo_world_builds_what_the_docs_promise():
    state = build_state(load_demo())
    assert state["regions"] == [REGION]
    assert len(state["vswitches"]) == 2 and len(state["instances"]) == 2
    assert state["instances"]["i-demo-gw"]["InstanceType"].startswith("ecs.g5.")
    assert {eni["Type"] for eni in state["enis"].values()} == {"Primary", "Secondary"}
    held = {eip["AllocationId"]: (eip["InstanceType"], eip["Status"]) for eip in state["eips"].values()}
    assert held["eip-demo-web"] == ("EcsInstance", "InUse")
    assert held["eip-demo-nat"] == ("Nat", "InUse")
    assert held["eip-demo-eni"] == ("NetworkInterface", "InUse")
    assert held["eip-demo-free"][1] == "Available"
    assert [entry["IpAddress"] for entry in state["released_eips"]] == ["47.98.10.20"]
    assert state["snat_entries"]["snat-demo-app"]["SnatIp"] == "47.98.10.11"


# ---- command line --------------------------------------------------------------------------------------


class Cli:
    """``python -m tests.emulator`` as a subprocess; stops it by its own PID."""

    def __init__(self, *arguments: str):
        environment = {key: value for key, value in os.environ.items() if "proxy" not in key.lower()}
        environment["PYTHONPATH"] = REPO
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.emulator", *arguments],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO,
            env=environment,
        )
        # The first stdout line is printed once the server is bound: no sleeping needed.
        line = self.process.stdout.readline()
        if not line:
            self.process.wait(timeout=20)
            raise AssertionError(f"emulator did not start: {self.process.stderr.read()}")
        self.announcement = json.loads(line)
        self.endpoint = self.announcement["endpoint"]

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=20)
        self.process.stdout.close()
        self.process.stderr.close()
        return code


@pytest.fixture
def workdir():
    directory = tempfile.mkdtemp(prefix="emb-cli-")
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


def test_cli_prints_the_endpoint_of_a_free_port(workdir):
    ready = os.path.join(workdir, "endpoint")
    cli = Cli("--port", "0", "--world", DEMO_WORLD, "--ready-file", ready)
    try:
        host, port = cli.endpoint.rsplit(":", 1)
        assert host == "127.0.0.1" and int(port) > 0
        with open(ready, encoding="utf-8") as handle:
            assert handle.read().strip() == cli.endpoint
        config = make_config(
            cli.endpoint, access_key_id="LTAI-demo-access-key", access_key_secret="demo-secret-not-a-real-key"
        )
        instances = EcsClient(config).describe_instances(ecs_models.DescribeInstancesRequest(region_id=REGION)).body
        by_id = {i.instance_id: i for i in instances.instances.instance}
        assert by_id["i-demo-web"].eip_address.ip_address == "47.98.10.10"
        assert by_id["i-demo-web"].eip_address.bandwidth == 10
    finally:
        assert cli.stop() == 0


def test_cli_help_lists_every_option():
    result = subprocess.run(
        [sys.executable, "-m", "tests.emulator", "--help"],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={"PYTHONPATH": REPO, "PATH": os.environ.get("PATH", "")},
        timeout=60,
        check=True,
    )
    for option in ("--host", "--port", "--world", "--state", "--ready-file", "--metadata-socket", "--verbose"):
        assert option in result.stdout


def test_restart_keeps_the_state_file(workdir):
    state_file = os.path.join(workdir, "state.json")
    first = Cli("--port", "0", "--world", DEMO_WORLD, "--state", state_file)
    config = {"access_key_id": "LTAI-demo-access-key", "access_key_secret": "demo-secret-not-a-real-key"}
    try:
        vpc = VpcClient(make_config(first.endpoint, **config))
        havip_id = vpc.create_ha_vip(
            vpc_models.CreateHaVipRequest(region_id=REGION, v_switch_id="vsw-demo-edge")
        ).body.ha_vip_id
        control_clock = raw_request(first.endpoint, "POST", "/_emulator/clock", body=b'{"advance": 120}')
        assert control_clock[0] == 200
    finally:
        assert first.stop() == 0
    with open(state_file, encoding="utf-8") as handle:
        assert havip_id in json.load(handle)["havips"]
    # The world file is ignored when the state file already holds an account.
    second = Cli("--port", "0", "--world", DEMO_WORLD, "--state", state_file)
    try:
        vpc = VpcClient(make_config(second.endpoint, **config))
        request = vpc_models.DescribeHaVipsRequest(
            region_id=REGION, filter=[vpc_models.DescribeHaVipsRequestFilter(key="HaVipId", value=[havip_id])]
        )
        view = vpc.describe_ha_vips(request).body.ha_vips.ha_vip[0]
        # havip_create is 1 s in the demo world and the clock was advanced 120 s before the restart.
        assert (view.ha_vip_id, view.status) == (havip_id, "Available")
        assert json.loads(raw_request(second.endpoint, "GET", "/_emulator/clock")[2])["offset"] == 120
        # Reset goes back to the world file, not to the resumed state.
        assert raw_request(second.endpoint, "POST", "/_emulator/reset")[0] == 200
        assert vpc.describe_ha_vips(request).body.total_count == 0
        assert json.loads(raw_request(second.endpoint, "GET", "/_emulator/clock")[2])["offset"] == 0
    finally:
        assert second.stop() == 0


def test_cli_metadata_socket(workdir):
    socket_path = os.path.join(workdir, "m.sock")
    cli = Cli("--port", "0", "--world", DEMO_WORLD, "--metadata-socket", socket_path)
    try:
        assert cli.announcement["metadata_socket"] == socket_path
        assert unix_request(socket_path, "GET", "/_metadata/i-demo-web/latest/meta-data/eipv4") == (200, "47.98.10.10")
        # i-demo-gw requires tokens.
        assert unix_request(socket_path, "GET", "/_metadata/i-demo-gw/latest/meta-data/instance-id")[0] == 401
    finally:
        assert cli.stop() == 0
    assert not os.path.exists(socket_path)


# Stands in for a loaded machine that lets the caller stop the emulator right after the announcement, before the
# main thread runs on: SIGTERM arrives while the announcement is being printed.
_TERM_AT_ANNOUNCEMENT = """
import builtins, os, signal, sys
import tests.emulator.__main__ as cli
real_print = builtins.print
def announce_then_term(*args, **kwargs):
    real_print(*args, **kwargs)
    os.kill(os.getpid(), signal.SIGTERM)
builtins.print = announce_then_term
sys.exit(cli.main(sys.argv[1:]))
"""


def test_cli_stopped_right_after_its_announcement_exits_cleanly(workdir):
    socket_path = os.path.join(workdir, "m.sock")
    state_file = os.path.join(workdir, "state.json")
    result = subprocess.run(
        [sys.executable, "-c", _TERM_AT_ANNOUNCEMENT, "--port", "0", "--world", DEMO_WORLD]
        + ["--metadata-socket", socket_path, "--state", state_file],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={"PYTHONPATH": REPO, "PATH": os.environ.get("PATH", "")},
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[0])["metadata_socket"] == socket_path
    assert os.path.exists(state_file) and not os.path.exists(socket_path)


def test_cli_refuses_a_bad_world(workdir):
    world = os.path.join(workdir, "bad.yml")
    with open(world, "w", encoding="utf-8") as handle:
        handle.write("regions: {cn-hangzhou: {instances: [{id: i-x, vswitch: vsw-none}]}}\n")
    result = subprocess.run(
        [sys.executable, "-m", "tests.emulator", "--port", "0", "--world", world],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={"PYTHONPATH": REPO, "PATH": os.environ.get("PATH", "")},
        timeout=60,
        check=False,
    )
    assert result.returncode != 0 and "vsw-none" in result.stderr
