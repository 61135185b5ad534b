"""Helpers of the EIP tests: worlds derived from BASE_WORLD, thin SDK wrappers, error capture, state edits."""

from __future__ import annotations

import copy
import json
import urllib.error
import urllib.request

from alibabacloud_tea_openapi import utils_models as openapi_models
from alibabacloud_vpc20160428 import models as vpc_models
from darabonba.runtime import RuntimeOptions

from tests.emulator.tests.conftest import BASE_WORLD, REGION

SHANGHAI = "cn-shanghai"


def eip_world(region: str = REGION, **additions) -> dict:
    """BASE_WORLD plus entries appended to one region's lists (scalars are set; top-level keys via ``top``)."""
    world = copy.deepcopy(BASE_WORLD)
    top = additions.pop("top", {})
    world.update(copy.deepcopy(top))
    target = world["regions"].setdefault(region, {}) or {}
    world["regions"][region] = target
    for key, value in additions.items():
        if isinstance(value, list) and isinstance(target.get(key, []), list):
            target.setdefault(key, []).extend(copy.deepcopy(value))
        else:
            target[key] = copy.deepcopy(value)
    return world


def numbered_eips(prefix: str, count: int, first_ip: str = "47.97.0.1", **fields) -> list[dict]:
    """World EIP entries ``<prefix>-00``... with consecutive addresses."""
    base = [int(part) for part in first_ip.split(".")]
    entries = []
    for number in range(count):
        last = base[3] + number
        address = f"{base[0]}.{base[1]}.{base[2] + last // 256}.{last % 256}"
        entries.append({"id": f"{prefix}-{number:02d}", "ip": address, **fields})
    return entries


def error_of(call, *args, **kwargs) -> tuple[str, int]:
    """(code, HTTP status) of an SDK call that must fail; an unexpected success fails the test."""
    try:
        call(*args, **kwargs)
    except Exception as error:  # the SDK raises several exception classes
        if getattr(error, "code", None) is None:
            raise
        return error.code, error.status_code
    raise AssertionError("the call succeeded, an API error was expected")


# ---- SDK wrappers ------------------------------------------------------------------------------------------
def describe(vpc, region: str = REGION, **kwargs) -> vpc_models.DescribeEipAddressesResponseBody:
    return vpc.describe_eip_addresses(vpc_models.DescribeEipAddressesRequest(region_id=region, **kwargs)).body


def find(vpc, allocation_id: str, region: str = REGION):
    """The DescribeEipAddresses entry of one EIP, or None when the API lists nothing for it."""
    found = describe(vpc, region, allocation_id=allocation_id).eip_addresses.eip_address
    return found[0] if found else None


def associate(vpc, allocation_id: str, instance_id: str, region: str = REGION, **kwargs):
    request = vpc_models.AssociateEipAddressRequest(
        region_id=region, allocation_id=allocation_id, instance_id=instance_id, **kwargs
    )
    return vpc.associate_eip_address(request).body


def unassociate(vpc, allocation_id: str, region: str = REGION, **kwargs):
    request = vpc_models.UnassociateEipAddressRequest(region_id=region, allocation_id=allocation_id, **kwargs)
    return vpc.unassociate_eip_address(request).body


def allocate(vpc, region: str = REGION, **kwargs) -> vpc_models.AllocateEipAddressResponseBody:
    return vpc.allocate_eip_address(vpc_models.AllocateEipAddressRequest(region_id=region, **kwargs)).body


def allocate_pro(vpc, region: str = REGION, **kwargs) -> vpc_models.AllocateEipAddressProResponseBody:
    return vpc.allocate_eip_address_pro(vpc_models.AllocateEipAddressProRequest(region_id=region, **kwargs)).body


def release(vpc, allocation_id: str, region: str = REGION):
    return vpc.release_eip_address(vpc_models.ReleaseEipAddressRequest(region_id=region, allocation_id=allocation_id))


def modify(vpc, allocation_id: str, region: str = REGION, **kwargs):
    request = vpc_models.ModifyEipAddressAttributeRequest(region_id=region, allocation_id=allocation_id, **kwargs)
    return vpc.modify_eip_address_attribute(request)


def forward_mode(vpc, allocation_id: str, mode: str, region: str = REGION):
    request = vpc_models.ModifyEipForwardModeRequest(region_id=region, instance_id=allocation_id, mode=mode)
    return vpc.modify_eip_forward_mode(request)


def gateway_info(vpc, eni_id: str, region: str = REGION) -> vpc_models.DescribeEipGatewayInfoResponseBody:
    request = vpc_models.DescribeEipGatewayInfoRequest(region_id=region, instance_id=eni_id)
    return vpc.describe_eip_gateway_info(request).body


def raw_call(vpc, action: str, query: dict) -> dict:
    """The JSON body exactly as the server sent it, through the SDK's own generic ``call_api`` (V3 path)."""
    params = openapi_models.Params(
        action=action,
        version="2016-04-28",
        protocol="HTTPS",
        pathname="/",
        method="POST",
        auth_type="AK",
        style="RPC",
        req_body_type="formData",
        body_type="json",
    )
    request = openapi_models.OpenApiRequest(query={key: str(value) for key, value in query.items()})
    return vpc.call_api(params, request, RuntimeOptions())["body"]


# ---- emulator internals (test setup and bookkeeping checks only) ------------------------------------------
def edit(server, collection: str, resource_id: str, **fields) -> None:
    """Change fields of one resource inside the emulator (states no world key can express, e.g. Attaching)."""
    store = server.emulator.store
    with store.lock:
        store.data[collection][resource_id].update(fields)


def add_snat_entry(server, entry_id: str, gateway_id: str, addresses: str, status: str = "Available") -> None:
    """Put an SNAT entry in the state with the shape the NAT work package stores (see the EIP brief)."""
    store = server.emulator.store
    with store.lock:
        gateway = store.data["nat_gateways"][gateway_id]
        store.data["snat_entries"][entry_id] = {
            "SnatEntryId": entry_id,
            "SnatTableId": gateway["SnatTableIds"][0],
            "NatGatewayId": gateway_id,
            "SnatIp": addresses,
            "SourceVSwitchId": "vsw-a",
            "SourceCIDR": "10.1.0.0/24",
            "NetworkInterfaceId": "",
            "SnatEntryName": "",
            "Status": status,
            "RegionId": gateway["RegionId"],
        }


def load_error(control, world: dict) -> tuple[int, str]:
    """(HTTP status, error text) of a world the control API refuses."""
    request = urllib.request.Request(control.base + "world", data=json.dumps(world).encode(), method="POST")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        opener.open(request, timeout=10)
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())["error"]
    raise AssertionError("the world was accepted, a refusal was expected")
