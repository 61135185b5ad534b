"""ECS instance metadata service, its unix-socket front and the namespace forwarder (alibaba-api.md §9.1)."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading

import pytest
from alibabacloud_ecs20140526 import models as ecs_models

from tests.emulator.imds_forward import ForwardServer, parse_listen
from tests.emulator.server import UnixEmulatorServer
from tests.emulator.tests.conftest import REGION
from tests.emulator.tests.network_support import bind_eip, metadata, raw_request, unix_request, world_with

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
TOKEN_TTL = "X-aliyun-ecs-metadata-token-ttl-seconds"
TOKEN = "X-aliyun-ecs-metadata-token"


def item(server, instance_id: str, path: str, headers: dict | None = None) -> str:
    status, _headers, body = metadata(server, instance_id, "meta-data/" + path, headers=headers)
    assert status == 200, (path, status, body)
    return body


def state(control) -> dict:
    return control.state()


def primary_eni(control, instance_id: str) -> dict:
    world = state(control)
    return world["enis"][world["instances"][instance_id]["PrimaryNetworkInterfaceId"]]


# ---- items --------------------------------------------------------------------------------------------


def test_instance_items(server, control):
    eni = primary_eni(control, "i-running")
    expected = {
        "instance-id": "i-running",
        "region-id": REGION,
        "zone-id": "cn-hangzhou-h",
        "vpc-id": "vpc-main",
        "vswitch-id": "vsw-a",
        "vswitch-cidr-block": "10.1.0.0/24",
        "vpc-cidr-block": "10.0.0.0/8",
        "private-ipv4": eni["PrivateIpSets"][0]["PrivateIpAddress"],
        "mac": eni["MacAddress"],
        "network-type": "vpc",
        "hostname": "i-running",
    }
    for path, value in expected.items():
        assert item(server, "i-running", path) == value


def test_index_lists_the_items_the_instance_has(server, control):
    index = item(server, "i-running", "").splitlines()
    assert "instance-id" in index and "network/" in index and "private-ipv4" in index
    # No public address: eipv4 is neither listed nor served.
    assert "eipv4" not in index
    assert metadata(server, "i-running", "meta-data/eipv4")[0] == 404
    assert item(server, "i-running", "network/") == "interfaces/"
    assert item(server, "i-running", "network/interfaces/") == "macs/"
    assert metadata(server, "i-running", "")[2] == "meta-data/"


def test_eipv4_is_the_public_address_of_the_primary_nic(server, control):
    assert item(server, "i-fixedip", "eipv4") == "121.40.1.1"
    bind_eip(server, "eip-a", "EcsInstance", "i-running")
    assert item(server, "i-running", "eipv4") == "47.96.1.10"
    assert "eipv4" in item(server, "i-running", "").splitlines()
    # An EIP on a secondary ENI is not the instance's eipv4.
    bind_eip(server, "eip-b", "NetworkInterface", "eni-attached", PrivateIpAddress="10.1.0.70")
    assert item(server, "i-running", "eipv4") == "47.96.1.10"
    eni = primary_eni(control, "i-g7")
    bind_eip(
        server,
        "eip-b",
        "NetworkInterface",
        eni["NetworkInterfaceId"],
        PrivateIpAddress=eni["PrivateIpSets"][0]["PrivateIpAddress"],
    )
    assert item(server, "i-g7", "eipv4") == "47.96.1.11"


def test_per_mac_items(server, control):
    world = state(control)
    primary = primary_eni(control, "i-running")
    secondary = world["enis"]["eni-attached"]
    macs = item(server, "i-running", "network/interfaces/macs/").splitlines()
    assert macs == ["{}/".format(primary["MacAddress"]), "{}/".format(secondary["MacAddress"])]
    base = "network/interfaces/macs/{}/".format(secondary["MacAddress"])
    listing = item(server, "i-running", base).splitlines()
    assert "private-ipv4s" in listing and "network-interface-id" in listing
    assert item(server, "i-running", base + "network-interface-id") == "eni-attached"
    assert item(server, "i-running", base + "primary-ip-address") == "10.1.0.70"
    assert json.loads(item(server, "i-running", base + "private-ipv4s")) == ["10.1.0.70"]
    assert item(server, "i-running", base + "netmask") == "255.255.255.0"
    assert item(server, "i-running", base + "gateway") == "10.1.0.253"
    assert item(server, "i-running", base + "vswitch-cidr-block") == "10.1.0.0/24"
    assert item(server, "i-running", base + "vpc-cidr-block") == "10.0.0.0/8"
    assert item(server, "i-running", base + "vswitch-id") == "vsw-a"
    assert item(server, "i-running", base + "vpc-id") == "vpc-main"


def test_changes_through_the_api_show_at_once(server, control, ecs):
    free_mac = state(control)["enis"]["eni-free"]["MacAddress"]
    control.delays(eni_attach=10)
    ecs.attach_network_interface(
        ecs_models.AttachNetworkInterfaceRequest(
            region_id=REGION, network_interface_id="eni-free", instance_id="i-running"
        )
    )
    # Attaching is not attached yet.
    assert f"{free_mac}/" not in item(server, "i-running", "network/interfaces/macs/").splitlines()
    control.advance(11)
    assert f"{free_mac}/" in item(server, "i-running", "network/interfaces/macs/").splitlines()
    ecs.assign_private_ip_addresses(
        ecs_models.AssignPrivateIpAddressesRequest(
            region_id=REGION, network_interface_id="eni-free", private_ip_address=["10.1.0.51"]
        )
    )
    path = f"network/interfaces/macs/{free_mac}/private-ipv4s"
    assert json.loads(item(server, "i-running", path)) == ["10.1.0.50", "10.1.0.51"]


@pytest.mark.parametrize(
    "instance_id,path",
    [
        ("i-running", "meta-data/no-such-item"),
        ("i-running", "meta-data/network/interfaces/macs/00:16:3e:00:00:00/vpc-id"),
        ("i-running", "user-data-nothing"),
        ("i-nothere", "meta-data/instance-id"),
    ],
)
def test_unknown_paths_are_404(server, control, instance_id, path):
    assert metadata(server, instance_id, path)[0] == 404


def test_detached_eni_disappears(server, control, ecs):
    mac = state(control)["enis"]["eni-attached"]["MacAddress"]
    ecs.detach_network_interface(
        ecs_models.DetachNetworkInterfaceRequest(
            region_id=REGION, network_interface_id="eni-attached", instance_id="i-running"
        )
    )
    assert f"{mac}/" not in item(server, "i-running", "network/interfaces/macs/").splitlines()
    assert metadata(server, "i-running", f"meta-data/network/interfaces/macs/{mac}/vpc-id")[0] == 404


# ---- hardened mode -------------------------------------------------------------------------------------


@pytest.fixture
def hardened(control):
    control.load(world_with(instances=[{"id": "i-hard", "vswitch": "vsw-b", "metadata_token_required": True}]))


def token_for(server, instance_id: str, ttl: str = "60", extra: dict | None = None):
    return metadata(server, instance_id, "api/token", method="PUT", headers={TOKEN_TTL: ttl, **(extra or {})})


def test_hardened_instance_needs_a_token(server, control, hardened):
    assert metadata(server, "i-hard", "meta-data/instance-id")[0] == 401
    status, headers, token = token_for(server, "i-hard", "60")
    assert status == 200 and len(token) >= 32
    assert headers[TOKEN_TTL] == "60"
    assert item(server, "i-hard", "instance-id", headers={TOKEN: token}) == "i-hard"
    control.advance(61)
    assert metadata(server, "i-hard", "meta-data/instance-id", headers={TOKEN: token})[0] == 401


def test_normal_instance_accepts_tokens_but_not_bad_ones(server, control, hardened):
    assert item(server, "i-running", "instance-id") == "i-running"
    token = token_for(server, "i-running")[2]
    assert item(server, "i-running", "instance-id", headers={TOKEN: token}) == "i-running"
    assert metadata(server, "i-running", "meta-data/instance-id", headers={TOKEN: "forged"})[0] == 401
    # A token is bound to the instance that asked for it.
    assert metadata(server, "i-hard", "meta-data/instance-id", headers={TOKEN: token})[0] == 401


@pytest.mark.parametrize("ttl", ["0", "21601", "-5", "ten", ""])
def test_token_ttl_must_be_1_to_21600(server, control, ttl):
    assert token_for(server, "i-running", ttl)[0] == 400


def test_token_ttl_bounds_are_accepted(server, control):
    assert token_for(server, "i-running", "1")[0] == 200
    assert token_for(server, "i-running", "21600")[0] == 200


def test_token_request_with_x_forwarded_for_is_refused(server, control):
    assert token_for(server, "i-running", "60", {"X-Forwarded-For": "203.0.113.9"})[0] == 403


def test_wrong_methods(server, control):
    assert metadata(server, "i-running", "api/token", method="GET")[0] == 405
    assert metadata(server, "i-running", "meta-data/instance-id", method="POST")[0] == 405


def test_expired_tokens_are_forgotten(server, control):
    token_for(server, "i-running", "5")
    control.advance(10)
    token_for(server, "i-running", "5")
    assert len(state(control)["metadata_tokens"]) == 1


# ---- unix socket and forwarder -------------------------------------------------------------------------


@pytest.fixture
def unix_socket(server):
    """The live emulator also served on a unix socket (short path: AF_UNIX paths are limited to 107 bytes)."""
    directory = tempfile.mkdtemp(prefix="emb-")
    path = os.path.join(directory, "emulator.sock")
    unix = UnixEmulatorServer(server.emulator, path)
    unix.start_background()
    yield path
    unix.shutdown()
    unix.server_close()
    shutil.rmtree(directory, ignore_errors=True)


def test_unix_socket_serves_metadata_and_control(control, unix_socket):
    assert unix_request(unix_socket, "GET", "/_metadata/i-running/latest/meta-data/instance-id") == (200, "i-running")
    status, body = unix_request(unix_socket, "GET", "/_emulator/health")
    assert status == 200 and json.loads(body)["ok"] is True


def test_unix_server_replaces_a_stale_socket_file(server):
    directory = tempfile.mkdtemp(prefix="emb-")
    path = os.path.join(directory, "stale.sock")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("left over")
    unix = UnixEmulatorServer(server.emulator, path)
    unix.start_background()
    try:
        assert unix_request(path, "GET", "/_emulator/health")[0] == 200
    finally:
        unix.shutdown()
        unix.server_close()
    assert not os.path.exists(path)
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def forwarder(unix_socket):
    """The forwarder in-process on a loopback port, relaying for i-hard."""
    instance = ForwardServer(("127.0.0.1", 0), unix_socket, "i-hard")
    threading.Thread(target=instance.serve_forever, daemon=True).start()
    yield f"127.0.0.1:{instance.server_address[1]}"
    instance.shutdown()
    instance.server_close()


def test_forwarder_relays_method_headers_and_status(control, hardened, forwarder):
    assert raw_request(forwarder, "GET", "/latest/meta-data/instance-id")[0] == 401
    status, headers, token = raw_request(forwarder, "PUT", "/latest/api/token", {TOKEN_TTL: "30"})
    assert status == 200 and headers[TOKEN_TTL] == "30"
    assert raw_request(forwarder, "GET", "/latest/meta-data/instance-id", {TOKEN: token})[2] == "i-hard"
    assert (
        raw_request(forwarder, "PUT", "/latest/api/token", {TOKEN_TTL: "30", "X-Forwarded-For": "10.0.0.1"})[0] == 403
    )
    assert raw_request(forwarder, "GET", "/_emulator/state")[0] == 404


def test_forwarder_reports_an_unreachable_emulator(control):
    server = ForwardServer(("127.0.0.1", 0), "/nonexistent/emb-none.sock", "i-running")
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        status, _headers, body = raw_request(f"127.0.0.1:{server.server_address[1]}", "GET", "/latest/meta-data/")
        assert status == 502 and "emulator unreachable" in body
    finally:
        server.shutdown()
        server.server_close()


def test_parse_listen():
    assert parse_listen("100.100.100.200:80") == ("100.100.100.200", 80)
    with pytest.raises(argparse.ArgumentTypeError):
        parse_listen("100.100.100.200")


def _run(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)


CLIENT = """
import json, sys, urllib.request
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
base = "http://100.100.100.200/latest/"
token = opener.open(urllib.request.Request(base + "api/token", method="PUT",
                    headers={"X-aliyun-ecs-metadata-token-ttl-seconds": "60"}), timeout=10).read().decode()
get = lambda path: opener.open(urllib.request.Request(base + path, headers={"X-aliyun-ecs-metadata-token": token}),
                               timeout=10).read().decode()
print(json.dumps({"instance": get("meta-data/instance-id"), "macs": get("meta-data/network/interfaces/macs/")}))
"""


def test_forwarder_inside_a_network_namespace(control, hardened, unix_socket):
    if os.geteuid() != 0:
        pytest.skip("creating a network namespace needs root (ip netns add); not root here")
    if shutil.which("ip") is None:
        pytest.skip("iproute2 'ip' is not installed; cannot create a network namespace")
    namespace = f"emb-t{os.getpid()}"
    created = _run("ip", "netns", "add", namespace)
    if created.returncode != 0:
        pytest.skip(f"ip netns add failed here: {created.stderr.strip()}")
    process = None
    try:
        assert _run("ip", "-n", namespace, "link", "set", "lo", "up").returncode == 0
        assert _run("ip", "-n", namespace, "addr", "add", "100.100.100.200/32", "dev", "lo").returncode == 0
        environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": REPO}
        process = subprocess.Popen(
            ["ip", "netns", "exec", namespace, sys.executable, "-m", "tests.emulator.imds_forward"]
            + ["--listen", "100.100.100.200:80", "--socket", unix_socket, "--instance", "i-hard"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=environment,
            cwd=REPO,
        )
        # The forwarder prints its readiness line once bound: no sleeping.
        assert json.loads(process.stdout.readline()) == {"listen": "100.100.100.200:80"}
        result = subprocess.run(
            ["ip", "netns", "exec", namespace, sys.executable, "-c", CLIENT],
            capture_output=True,
            text=True,
            timeout=30,
            env=environment,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        answer = json.loads(result.stdout)
        assert answer["instance"] == "i-hard"
        assert answer["macs"] == "{}/".format(state(control)["enis"]["eni-hard"]["MacAddress"])
        # The namespace is isolated: the metadata address does not exist in the root namespace.
        assert "100.100.100.200" not in _run("ip", "-4", "addr", "show").stdout
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=10)
            process.stdout.close()
            process.stderr.close()
        _run("ip", "netns", "del", namespace)
    assert namespace not in _run("ip", "netns", "list").stdout
