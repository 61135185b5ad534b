"""Helpers of the ECS / network / SLB / metadata tests: worlds built from BASE_WORLD, EIP bindings, raw HTTP."""

from __future__ import annotations

import copy
import http.client
import json

from tests.emulator.imds_forward import UnixHTTPConnection
from tests.emulator.tests.conftest import BASE_WORLD, REGION


def world_with(**additions) -> dict:
    """BASE_WORLD plus extra entries appended to the cn-hangzhou region's lists (or set, for scalars)."""
    world = copy.deepcopy(BASE_WORLD)
    region = world["regions"][REGION]
    for key, value in additions.items():
        if isinstance(value, list):
            region.setdefault(key, []).extend(copy.deepcopy(value))
        else:
            region[key] = copy.deepcopy(value)
    return world


# Security groups for the ENI tests: one per VPC of BASE_WORLD.
SECURITY_GROUPS = [{"id": "sg-main", "vpc": "vpc-main"}, {"id": "sg-gw", "vpc": "vpc-gw"}]


def bind_eip(server, allocation_id: str, instance_type: str, instance_id: str, **fields) -> None:
    """Record an EIP binding in the live state exactly as the EIP module's bookkeeping does.

    The EIP actions belong to another module; binding through the store keeps these tests about the
    readers (DescribeInstances, DescribeNatGateways, metadata...) only.  ``fields`` may set
    PrivateIpAddress, Mode, Status (default InUse) and ``nat_private_ip`` (the NAT gateway's per-EIP address).
    """
    store = server.emulator.store
    with store.lock:
        eip = store.data["eips"][allocation_id]
        nat_private_ip = fields.pop("nat_private_ip", None)
        eip.update({"Status": "InUse", "InstanceId": instance_id, "InstanceType": instance_type, "Mode": "NAT"})
        eip.update(fields)
        if nat_private_ip is not None:
            store.data["nat_gateways"][instance_id]["EipPrivateIps"][allocation_id] = nat_private_ip


def raw_request(endpoint: str, method: str, path: str, headers: dict | None = None, body: bytes | None = None):
    """(status, headers, body text) of one plain HTTP request to ``host:port``."""
    host, port = endpoint.rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read().decode()
    finally:
        connection.close()


def unix_request(socket_path: str, method: str, path: str, headers: dict | None = None):
    """(status, body text) of one HTTP request over a unix-domain socket."""
    connection = UnixHTTPConnection(socket_path)
    try:
        connection.request(method, path, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def metadata(server, instance_id: str, item: str, method: str = "GET", headers: dict | None = None):
    """(status, headers, body) of ``/latest/<item>`` of ``instance_id`` through the emulator's HTTP route."""
    return raw_request(server.endpoint, method, f"/_metadata/{instance_id}/latest/{item}", headers)


def control_raw(server, method: str, path: str, payload=None):
    """(status, JSON body) of a control API call, including error answers."""
    body = json.dumps(payload).encode() if payload is not None else None
    status, _headers, text = raw_request(server.endpoint, method, "/_emulator/" + path, body=body)
    return status, json.loads(text) if text else {}
