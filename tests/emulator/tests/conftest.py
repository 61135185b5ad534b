"""Fixtures: a live emulator on loopback and real SDK clients (V3 and V2 signatures) pointed at it."""

from __future__ import annotations

import json
import os
import urllib.request

import pytest

for _name in list(os.environ):
    if _name.lower() in ("http_proxy", "https_proxy", "all_proxy"):
        del os.environ[_name]
# Tests never leave the machine: should any test reach the credential chain, it must not ask the ECS metadata
# address 100.100.100.200 (the credentials library reads this once, on import, hence before the SDK imports).
os.environ["ALIBABA_CLOUD_ECS_METADATA_DISABLED"] = "true"

from alibabacloud_ecs20140526.client import Client as EcsClient  # noqa: E402
from alibabacloud_slb20140515.client import Client as SlbClient  # noqa: E402
from alibabacloud_tea_openapi.models import Config  # noqa: E402
from alibabacloud_vpc20160428.client import Client as VpcClient  # noqa: E402

from tests.emulator.server import Emulator, EmulatorServer  # noqa: E402

ACCESS_KEY_ID = "LTAI-emulator-test"
ACCESS_KEY_SECRET = "emulator-test-secret"
REGION = "cn-hangzhou"

# A small world most tests start from; tests that need more load their own with ``control.load(world)``.
BASE_WORLD = {
    "access_keys": [
        {"id": ACCESS_KEY_ID, "secret": ACCESS_KEY_SECRET},
        {"id": "STS.emulator", "secret": "sts-secret", "security_tokens": ["sts-token-1"]},
    ],
    "regions": {
        REGION: {
            "zones": ["cn-hangzhou-h", "cn-hangzhou-i"],
            "eip_pool": {"cidr": "47.96.0.0/26", "count": 40},
            "vpcs": [
                {
                    "id": "vpc-main",
                    "cidr": "10.0.0.0/8",
                    "vswitches": [
                        {"id": "vsw-a", "zone": "cn-hangzhou-h", "cidr": "10.1.0.0/24"},
                        {"id": "vsw-b", "zone": "cn-hangzhou-h", "cidr": "10.2.0.0/24"},
                    ],
                },
                {
                    "id": "vpc-gw",
                    "cidr": "172.16.0.0/12",
                    "ipv4_gateway": True,
                    "vswitches": [{"id": "vsw-gw", "zone": "cn-hangzhou-i", "cidr": "172.16.1.0/24"}],
                },
            ],
            "instances": [
                {"id": "i-running", "vswitch": "vsw-a", "status": "Running", "instance_type": "ecs.g5.large"},
                {"id": "i-stopped", "vswitch": "vsw-a", "status": "Stopped"},
                {"id": "i-starting", "vswitch": "vsw-a", "status": "Starting"},
                {"id": "i-fixedip", "vswitch": "vsw-a", "public_ip": "121.40.1.1"},
                {"id": "i-g7", "vswitch": "vsw-a", "instance_type": "ecs.g7.large"},
                {"id": "i-gwvpc", "vswitch": "vsw-gw", "primary_eni": "eni-gwvpc-primary"},
            ],
            "enis": [
                {"id": "eni-free", "vswitch": "vsw-a", "private_ips": ["10.1.0.50"]},
                {"id": "eni-multi", "vswitch": "vsw-a", "private_ips": ["10.1.0.60", "10.1.0.61", "10.1.0.62"]},
                {"id": "eni-attached", "vswitch": "vsw-a", "instance": "i-running", "private_ips": ["10.1.0.70"]},
                {"id": "eni-gwvpc", "vswitch": "vsw-gw", "private_ips": ["172.16.1.50"]},
            ],
            "nat_gateways": [
                {"id": "ngw-new", "vswitch": "vsw-b", "created": "2023-05-01T00:00:00Z"},
                {"id": "ngw-old", "vswitch": "vsw-b", "created": "2021-05-01T00:00:00Z"},
            ],
            "load_balancers": [{"id": "lb-intranet", "vswitch": "vsw-a"}],
            "havips": [{"id": "havip-1", "vswitch": "vsw-a", "ip": "10.1.0.200"}],
            "eips": [
                {"id": "eip-a", "ip": "47.96.1.10", "name": "alpha"},
                {"id": "eip-b", "ip": "47.96.1.11", "name": "beta", "tags": {"team": "net"}},
            ],
            "released_eips": [
                {"id": "eip-recent", "ip": "47.96.1.20", "released": "-2d"},
                {"id": "eip-old", "ip": "47.96.1.21", "released": "-8d"},
            ],
        },
        "cn-beijing": {"eip_pool": {"cidr": "39.96.0.0/28", "count": 5}},
        "ap-northeast-1": {"eip_pool": {"cidr": "13.230.0.0/28", "count": 5}},
    },
}


class Control:
    """Thin client of the emulator's control API (``/_emulator/...``)."""

    def __init__(self, endpoint: str):
        self.base = "http://%s/_emulator/" % endpoint

    def call(self, method: str, path: str, payload: dict | None = None):
        data = json.dumps(payload).encode() if payload is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method)
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(request, timeout=10) as response:
            return json.loads(response.read() or b"{}")

    def load(self, world: dict) -> None:
        self.call("POST", "world", world)

    def state(self) -> dict:
        return self.call("GET", "state")

    def advance(self, seconds: float) -> dict:
        return self.call("POST", "clock", {"advance": seconds})

    def delays(self, **delays: float) -> dict:
        return self.call("POST", "delays", delays)

    def calls(self) -> dict:
        return self.call("GET", "calls")

    def faults(self, spec: dict) -> dict:
        return self.call("POST", "faults", spec)


@pytest.fixture(scope="session")
def server():
    emulator = Emulator(world_spec=BASE_WORLD)
    instance = EmulatorServer(emulator)
    instance.start_background()
    yield instance
    instance.shutdown()
    instance.server_close()


@pytest.fixture
def control(server) -> Control:
    """The control API, with the base world freshly loaded for each test."""
    control = Control(server.endpoint)
    control.load(BASE_WORLD)
    return control


def make_config(endpoint: str, signature: str = "v3", **overrides) -> Config:
    config = Config(
        access_key_id=overrides.pop("access_key_id", ACCESS_KEY_ID),
        access_key_secret=overrides.pop("access_key_secret", ACCESS_KEY_SECRET),
        endpoint=endpoint,
        protocol="http",
        region_id=REGION,
        read_timeout=10000,
        connect_timeout=5000,
        **overrides,
    )
    if signature == "v2":
        config.signature_algorithm = "v2"
    return config


@pytest.fixture(params=["v3", "v2"])
def signature(request) -> str:
    """Run a test once per signature version."""
    return request.param


@pytest.fixture
def vpc(server, control) -> VpcClient:
    return VpcClient(make_config(server.endpoint))


@pytest.fixture
def vpc_v2(server, control) -> VpcClient:
    return VpcClient(make_config(server.endpoint, "v2"))


@pytest.fixture
def ecs(server, control) -> EcsClient:
    return EcsClient(make_config(server.endpoint))


@pytest.fixture
def slb(server, control) -> SlbClient:
    return SlbClient(make_config(server.endpoint))


def api_error(excinfo) -> tuple[str, int]:
    """(code, HTTP status) of an SDK exception."""
    error = excinfo.value
    return error.code, error.status_code
