# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note: this module util is PRIVATE to the collection. It can change at any time; do not use it from
# other collections or standalone plugins/modules.

"""One small wrapper per Alibaba Cloud API call, returning plain snake_case dicts.

Each ``*_page`` / single-call function is decorated with :func:`api_call` (retries, error translation,
ClientToken, flow limit); the public describe functions page through every result and split ID lists
into the batch sizes the API accepts.  The ``normalize_*`` functions turn the API's CamelCase records
into the dicts the modules return and the decision logic reads.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from ansible_collections.alicloud.eip.plugins.module_utils._retries import api_call

# Documented batch limits: DescribeEipAddresses takes up to 50 comma-separated IDs or addresses,
# DescribeInstances up to 100 IDs, DescribeNetworkInterfaces up to 100, DescribeLoadBalancers up to 10
# comma-separated IDs (UNCONFIRMED: the SLB docs say "multiple IDs"; 10 is the conservative reading).
# [fid:slb-describe-max-ids]
EIP_BATCH = 50
EIP_PAGE_SIZE = 100
ECS_BATCH = 100
ENI_BATCH = 100
# DescribeNetworkInterfaces: MaxResults 10-500 (alibaba-api.md §8.1).
ENI_PAGE_SIZE = 500
SLB_BATCH = 10
HAVIP_PAGE_SIZE = 50
NAT_PAGE_SIZE = 50
IPV4_GATEWAY_PAGE_SIZE = 100


def chunks(items: Sequence[Any], size: int) -> Iterator[list[Any]]:
    """``items`` in consecutive lists of at most ``size``."""
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _number(value: Any) -> int | None:
    """Bandwidth and friends: the model says str, the docs' samples show numbers (UNCONFIRMED); return int."""
    # [fid:eip-bandwidth-string]
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _inner_list(container: Any, key: str) -> list[Any]:
    """``{"Tag": [...]}`` -> ``[...]``; tolerates a missing or empty container."""
    if isinstance(container, dict):
        value = container.get(key)
        return list(value) if isinstance(value, list) else []
    return list(container) if isinstance(container, list) else []


def tags_to_dict(container: Any, key_name: str = "Key", value_name: str = "Value") -> dict[str, str]:
    """``{"Tag": [{"Key": k, "Value": v}]}`` -> ``{k: v}``."""
    return {
        _text(tag.get(key_name)): _text(tag.get(value_name))
        for tag in _inner_list(container, "Tag")
        if isinstance(tag, dict) and tag.get(key_name) is not None
    }


# ---- records -------------------------------------------------------------------------------------

EIP_TEXT_FIELDS = (
    ("AllocationId", "allocation_id"),
    ("IpAddress", "ip_address"),
    ("Status", "status"),
    ("RegionId", "region_id"),
    ("InstanceId", "instance_id"),
    ("InstanceType", "instance_type"),
    ("InstanceRegionId", "instance_region_id"),
    ("Mode", "mode"),
    ("PrivateIpAddress", "private_ip_address"),
    ("VpcId", "vpc_id"),
    ("InternetChargeType", "internet_charge_type"),
    ("ChargeType", "charge_type"),
    ("ISP", "isp"),
    ("Netmode", "netmode"),
    ("Name", "name"),
    ("Description", "description"),
    ("AllocationTime", "allocation_time"),
    ("ExpiredTime", "expired_time"),
    ("BusinessStatus", "business_status"),
    ("ResourceGroupId", "resource_group_id"),
    ("BandwidthPackageId", "bandwidth_package_id"),
)


def normalize_eip(record: dict[str, Any]) -> dict[str, Any]:
    """One DescribeEipAddresses record as the modules return it (every key always present)."""
    eip: dict[str, Any] = {snake: _text(record.get(camel)) for camel, snake in EIP_TEXT_FIELDS}
    eip["bandwidth"] = _number(record.get("Bandwidth"))
    eip["deletion_protection"] = bool(record.get("DeletionProtection"))
    eip["operation_locks"] = [
        _text(lock.get("LockReason"))
        for lock in _inner_list(record.get("OperationLocks"), "LockReason")
        if isinstance(lock, dict)
    ]
    eip["tags"] = tags_to_dict(record.get("Tags"))
    return eip


def normalize_instance(record: dict[str, Any]) -> dict[str, Any]:
    """An ECS instance, reduced to what EIP association depends on."""
    eip = record.get("EipAddress") or {}
    public_ips = _inner_list(record.get("PublicIpAddress"), "IpAddress")
    vpc = record.get("VpcAttributes") or {}
    primary_eni = next(
        (
            eni
            for eni in _inner_list(record.get("NetworkInterfaces"), "NetworkInterface")
            if eni.get("Type") == "Primary"
        ),
        {},
    )
    return {
        "id": _text(record.get("InstanceId")),
        "status": _text(record.get("Status")),
        "network_type": _text(record.get("InstanceNetworkType")),
        "instance_type": _text(record.get("InstanceType")),
        "vpc_id": _text(vpc.get("VpcId")),
        "zone_id": _text(record.get("ZoneId")),
        "public_ip_addresses": [_text(ip) for ip in public_ips if ip],
        "eip_allocation_id": _text(eip.get("AllocationId")),
        "eip_address": _text(eip.get("IpAddress")),
        "primary_eni_id": _text(primary_eni.get("NetworkInterfaceId")),
        "primary_ip": _text(primary_eni.get("PrimaryIpAddress")),
    }


def normalize_eni(record: dict[str, Any]) -> dict[str, Any]:
    """An ENI with its private addresses (primary first) and attachment."""
    attachment = record.get("Attachment") or {}
    private_ips = []
    for entry in _inner_list(record.get("PrivateIpSets"), "PrivateIpSet"):
        public = entry.get("AssociatedPublicIp") or {}
        private_ips.append(
            {
                "ip": _text(entry.get("PrivateIpAddress")),
                "primary": bool(entry.get("Primary")),
                "eip_allocation_id": _text(public.get("AllocationId")),
                "eip_address": _text(public.get("PublicIpAddress")),
            }
        )
    private_ips.sort(key=lambda entry: not entry["primary"])
    primary = _text(record.get("PrivateIpAddress")) or next(
        (entry["ip"] for entry in private_ips if entry["primary"]), ""
    )
    return {
        "id": _text(record.get("NetworkInterfaceId")),
        "type": _text(record.get("Type")),
        "status": _text(record.get("Status")),
        "instance_id": _text(record.get("InstanceId") or attachment.get("InstanceId")),
        "vpc_id": _text(record.get("VpcId")),
        "primary_ip": primary,
        "private_ips": private_ips,
    }


def normalize_nat_gateway(record: dict[str, Any]) -> dict[str, Any]:
    """A NAT gateway with its EIPs and what uses each (SNAT, DNAT)."""
    return {
        "id": _text(record.get("NatGatewayId")),
        "status": _text(record.get("Status")),
        "business_status": _text(record.get("BusinessStatus")),
        "network_type": _text(record.get("NetworkType")),
        "eip_bind_mode": _text(record.get("EipBindMode")),
        "vpc_id": _text(record.get("VpcId")),
        "ip_list": [
            {
                "allocation_id": _text(entry.get("AllocationId")),
                "ip_address": _text(entry.get("IpAddress")),
                "using_status": _text(entry.get("UsingStatus")),
            }
            for entry in _inner_list(record.get("IpLists"), "IpList")
            if isinstance(entry, dict)
        ],
    }


def normalize_havip(record: dict[str, Any]) -> dict[str, Any]:
    """A HaVip with the EIPs on it (the API spells the inner list ``associatedEipAddresse``)."""
    return {
        "id": _text(record.get("HaVipId")),
        "status": _text(record.get("Status")),
        "ip_address": _text(record.get("IpAddress")),
        "vpc_id": _text(record.get("VpcId")),
        "eip_addresses": [
            _text(ip) for ip in _inner_list(record.get("AssociatedEipAddresses"), "associatedEipAddresse")
        ],
    }


def normalize_load_balancer(record: dict[str, Any]) -> dict[str, Any]:
    """A Classic Load Balancer."""
    return {
        "id": _text(record.get("LoadBalancerId")),
        "status": _text(record.get("LoadBalancerStatus")),
        "address_type": _text(record.get("AddressType")),
        "network_type": _text(record.get("NetworkType")),
        "address": _text(record.get("Address")),
        "vpc_id": _text(record.get("VpcId")),
    }


def _body(response: Any) -> dict[str, Any]:
    body = getattr(response, "body", None)
    if body is None:
        return {}
    return body.to_map() or {}


def _pages(fetch_page: Callable[[int], dict[str, Any]], records_of: Callable[[dict[str, Any]], list[Any]]) -> list[Any]:
    """Every record of a PageNumber/PageSize listing: pages until TotalCount is reached or a page is empty."""
    records: list[Any] = []
    page_number = 1
    while True:
        body = fetch_page(page_number)
        page = records_of(body)
        records.extend(page)
        total = body.get("TotalCount")
        if not page or total is None or len(records) >= int(total):
            return records
        page_number += 1


# ---- VPC: EIPs -------------------------------------------------------------------------------------


@api_call("DescribeEipAddresses")
def describe_eip_addresses_page(connection, page_number: int, **filters: Any) -> dict[str, Any]:
    """One page of DescribeEipAddresses (filters are request-model field names)."""
    from alibabacloud_vpc20160428 import models

    tags = filters.pop("tags", None)
    request = models.DescribeEipAddressesRequest(
        region_id=connection.region, page_number=page_number, page_size=EIP_PAGE_SIZE, **filters
    )
    if tags:
        request.tag = [models.DescribeEipAddressesRequestTag(key=key, value=value) for key, value in tags.items()]
    return _body(connection.vpc.describe_eip_addresses_with_options(request, connection.runtime()))


def describe_eip_addresses(
    connection,
    allocation_ids: Sequence[str] | None = None,
    ip_addresses: Sequence[str] | None = None,
    status: str | None = None,
    associated_instance_id: str | None = None,
    associated_instance_type: str | None = None,
    name: str | None = None,
    tags: dict[str, str] | None = None,
) -> list[dict[str, Any]]:
    """Every EIP matching the filters, normalized, in API order.

    ``allocation_ids`` is split into batches of 50 (the API's limit), one listing per batch;
    ``ip_addresses`` likewise when no ``allocation_ids`` are given (with both, the addresses are matched
    here, since the two lists cannot be batched together).  An unknown ID simply does not appear.
    """
    filters: dict[str, Any] = {
        "status": status,
        "associated_instance_id": associated_instance_id,
        "associated_instance_type": associated_instance_type,
        "eip_name": name,
        "tags": dict(tags) if tags else None,
    }
    filters = {key: value for key, value in filters.items() if value}
    batches: list[dict[str, Any]] = []
    if allocation_ids:
        batches = [
            {"allocation_id": ",".join(batch)} for batch in chunks(list(dict.fromkeys(allocation_ids)), EIP_BATCH)
        ]
    elif ip_addresses:
        batches = [{"eip_address": ",".join(batch)} for batch in chunks(list(dict.fromkeys(ip_addresses)), EIP_BATCH)]
    elif allocation_ids is not None or ip_addresses is not None:
        return []  # asked for an empty list of IDs: nothing, rather than every EIP of the region
    else:
        batches = [{}]
    eips: list[dict[str, Any]] = []
    for batch in batches:
        records = _pages(
            lambda number, batch=batch: describe_eip_addresses_page(connection, number, **batch, **dict(filters)),
            lambda body: _inner_list(body.get("EipAddresses"), "EipAddress"),
        )
        eips.extend(normalize_eip(record) for record in records)
    if allocation_ids and ip_addresses:
        wanted = set(ip_addresses)
        eips = [eip for eip in eips if eip["ip_address"] in wanted]
    return eips


@api_call("AssociateEipAddress", mutating=True)
def associate_eip_address(
    connection,
    allocation_id: str,
    instance_id: str,
    instance_type: str,
    private_ip_address: str | None = None,
    mode: str | None = None,
    vpc_id: str | None = None,
    client_token: str | None = None,
) -> str:
    """AssociateEipAddress; returns the request ID.  Asynchronous: the EIP goes Associating -> InUse."""
    from alibabacloud_vpc20160428 import models

    request = models.AssociateEipAddressRequest(
        region_id=connection.region,
        allocation_id=allocation_id,
        instance_id=instance_id,
        instance_type=instance_type,
        private_ip_address=private_ip_address or None,
        mode=mode or None,
        vpc_id=vpc_id or None,
        client_token=client_token,
    )
    return _text(
        _body(connection.vpc.associate_eip_address_with_options(request, connection.runtime())).get("RequestId")
    )


# SNAT/DNAT entries in a transient state refuse a disassociation for a moment (Terraform retries it too).
@api_call("UnassociateEipAddress", mutating=True, retry_codes=("InvalidStatus.SnatOrDnat",))
def unassociate_eip_address(
    connection,
    allocation_id: str,
    instance_id: str,
    instance_type: str,
    private_ip_address: str | None = None,
    force: bool | None = None,
    client_token: str | None = None,
) -> str:
    """UnassociateEipAddress; returns the request ID.  Asynchronous: the EIP goes Unassociating -> Available."""
    from alibabacloud_vpc20160428 import models

    request = models.UnassociateEipAddressRequest(
        region_id=connection.region,
        allocation_id=allocation_id,
        instance_id=instance_id,
        instance_type=instance_type,
        private_ip_address=private_ip_address or None,
        force=force,
        client_token=client_token,
    )
    return _text(
        _body(connection.vpc.unassociate_eip_address_with_options(request, connection.runtime())).get("RequestId")
    )


# ---- VPC: NAT gateways and HaVips -------------------------------------------------------------------


@api_call("DescribeNatGateways")
def describe_nat_gateways_page(connection, page_number: int, nat_gateway_id: str) -> dict[str, Any]:
    """One page of DescribeNatGateways for one gateway (the API filters by a single ID)."""
    from alibabacloud_vpc20160428 import models

    request = models.DescribeNatGatewaysRequest(
        region_id=connection.region, nat_gateway_id=nat_gateway_id, page_number=page_number, page_size=NAT_PAGE_SIZE
    )
    return _body(connection.vpc.describe_nat_gateways_with_options(request, connection.runtime()))


def describe_nat_gateways(connection, nat_gateway_ids: Iterable[str]) -> list[dict[str, Any]]:
    """The NAT gateways with these IDs that exist, normalized (one call per gateway)."""
    gateways = []
    for gateway_id in dict.fromkeys(nat_gateway_ids):
        records = _pages(
            lambda number, gateway_id=gateway_id: describe_nat_gateways_page(connection, number, gateway_id),
            lambda body: _inner_list(body.get("NatGateways"), "NatGateway"),
        )
        gateways.extend(normalize_nat_gateway(record) for record in records if record.get("NatGatewayId") == gateway_id)
    return gateways


def ha_vips_filtered_page(connection, page_number: int, key: str, values: list[str]) -> dict[str, Any]:
    """One page of DescribeHaVips filtered by ``key`` (``Filter.1.Key``; the values, ``Filter.1.Value.N``, are OR-ed).

    Undecorated: each caller wraps it in its own ``api_call("DescribeHaVips")``."""
    from alibabacloud_vpc20160428 import models

    request = models.DescribeHaVipsRequest(
        region_id=connection.region,
        filter=[models.DescribeHaVipsRequestFilter(key=key, value=list(values))],
        page_number=page_number,
        page_size=HAVIP_PAGE_SIZE,
    )
    return _body(connection.vpc.describe_ha_vips_with_options(request, connection.runtime()))


@api_call("DescribeHaVips")
def describe_ha_vips_page(connection, page_number: int, havip_ids: list[str]) -> dict[str, Any]:
    """One page of DescribeHaVips filtered by HaVipId (``Filter.1.Value.N``)."""
    return ha_vips_filtered_page(connection, page_number, "HaVipId", havip_ids)


def describe_ha_vips(connection, havip_ids: Iterable[str]) -> list[dict[str, Any]]:
    """The HaVips with these IDs that exist, normalized."""
    ids = list(dict.fromkeys(havip_ids))
    if not ids:
        return []
    records = _pages(
        lambda number: describe_ha_vips_page(connection, number, ids),
        lambda body: _inner_list(body.get("HaVips"), "HaVip"),
    )
    return [normalize_havip(record) for record in records if record.get("HaVipId") in ids]


def normalize_ipv4_gateway(record: dict[str, Any]) -> dict[str, Any]:
    """An IPv4 gateway of a VPC (ListIpv4Gateways item)."""
    return {
        "id": _text(record.get("Ipv4GatewayId")),
        "vpc_id": _text(record.get("VpcId")),
        "name": _text(record.get("Ipv4GatewayName")),
        "status": _text(record.get("Status")),
        "enabled": bool(record.get("Enabled")),
    }


@api_call("ListIpv4Gateways")
def list_ipv4_gateways_page(connection, vpc_id: str, next_token: str | None) -> dict[str, Any]:
    """One page of ListIpv4Gateways for one VPC (the API filters by a single VpcId).

    The brief named it DescribeIpv4Gateways; the VPC API (SDK 7.2.2) only has ListIpv4Gateways.
    """
    from alibabacloud_vpc20160428 import models

    request = models.ListIpv4GatewaysRequest(
        region_id=connection.region, vpc_id=vpc_id, max_results=IPV4_GATEWAY_PAGE_SIZE, next_token=next_token
    )
    return _body(connection.vpc.list_ipv_4gateways_with_options(request, connection.runtime()))


def list_ipv4_gateways(connection, vpc_ids: Iterable[str]) -> list[dict[str, Any]]:
    """The IPv4 gateways of these VPCs, normalized (one call per VPC; a VPC has at most one gateway)."""
    gateways = []
    for vpc_id in dict.fromkeys(vpc_ids):
        records = _token_pages(
            lambda token, vpc_id=vpc_id: list_ipv4_gateways_page(connection, vpc_id, token),
            lambda body: [record for record in body.get("Ipv4GatewayModels") or [] if isinstance(record, dict)],
        )
        gateways.extend(normalize_ipv4_gateway(record) for record in records if record.get("VpcId") == vpc_id)
    return gateways


# ---- ECS: instances and ENIs ------------------------------------------------------------------------


@api_call("DescribeInstances")
def describe_instances_page(connection, instance_ids: list[str], next_token: str | None) -> dict[str, Any]:
    """One page of DescribeInstances; ``InstanceIds`` travels as JSON-array text (alibaba-api.md §1.2)."""
    from alibabacloud_ecs20140526 import models

    request = models.DescribeInstancesRequest(
        region_id=connection.region, instance_ids=json.dumps(instance_ids), max_results=100, next_token=next_token
    )
    return _body(connection.ecs.describe_instances_with_options(request, connection.runtime()))


def _token_pages(
    fetch: Callable[[str | None], dict[str, Any]], records_of: Callable[[dict[str, Any]], list[Any]]
) -> list[Any]:
    """Every record of a MaxResults/NextToken listing."""
    records: list[Any] = []
    token = None
    while True:
        body = fetch(token)
        records.extend(records_of(body))
        token = body.get("NextToken")
        if not token:
            return records


def describe_instances(connection, instance_ids: Iterable[str]) -> list[dict[str, Any]]:
    """The ECS instances with these IDs that exist, normalized (100 IDs per call)."""
    instances = []
    for batch in chunks(list(dict.fromkeys(instance_ids)), ECS_BATCH):
        records = _token_pages(
            lambda token, batch=batch: describe_instances_page(connection, batch, token),
            lambda body: _inner_list(body.get("Instances"), "Instance"),
        )
        instances.extend(normalize_instance(record) for record in records if record.get("InstanceId") in batch)
    return instances


@api_call("DescribeNetworkInterfaces")
def describe_network_interfaces_page(
    connection, eni_ids: list[str] | None, next_token: str | None, **filters: Any
) -> dict[str, Any]:
    """One page of DescribeNetworkInterfaces by ``NetworkInterfaceId.N`` and/or filters (request-model field names;
    ``tags`` a dict)."""
    from alibabacloud_ecs20140526 import models

    tags = filters.pop("tags", None)
    request = models.DescribeNetworkInterfacesRequest(
        region_id=connection.region,
        network_interface_id=list(eni_ids) if eni_ids else None,
        max_results=ENI_PAGE_SIZE,
        next_token=next_token,
        **filters,
    )
    if tags:
        request.tag = [models.DescribeNetworkInterfacesRequestTag(key=key, value=value) for key, value in tags.items()]
    return _body(connection.ecs.describe_network_interfaces_with_options(request, connection.runtime()))


def network_interface_records(connection, eni_ids: Iterable[str] | None = None, **filters: Any) -> list[dict[str, Any]]:
    """Every raw DescribeNetworkInterfaces record matching the filters (and, when given, one of ``eni_ids``).

    IDs go 100 per call (the API's limit), every page is read.  ``eni_ids=None`` lists by the filters alone; an
    empty ``eni_ids`` asks for nothing.  The ``eni`` modules and the association engine both read ENIs here and
    differ only in how they normalize a record.
    """
    if eni_ids is None:
        batches: list[list[str] | None] = [None]
    else:
        batches = list(chunks(list(dict.fromkeys(eni_ids)), ENI_BATCH))
    records: list[dict[str, Any]] = []
    for batch in batches:
        found = _token_pages(
            lambda token, batch=batch: describe_network_interfaces_page(connection, batch, token, **dict(filters)),
            lambda body: _inner_list(body.get("NetworkInterfaceSets"), "NetworkInterfaceSet"),
        )
        records.extend(record for record in found if batch is None or record.get("NetworkInterfaceId") in batch)
    return records


def describe_network_interfaces(connection, eni_ids: Iterable[str]) -> list[dict[str, Any]]:
    """The ENIs with these IDs that exist, normalized for the association engine (100 IDs per call)."""
    return [normalize_eni(record) for record in network_interface_records(connection, eni_ids)]


# ---- SLB: Classic Load Balancers ----------------------------------------------------------------------


@api_call("DescribeLoadBalancers")
def describe_load_balancers_page(connection, page_number: int, load_balancer_ids: list[str]) -> dict[str, Any]:
    """One page of DescribeLoadBalancers by comma-separated ``LoadBalancerId``."""
    from alibabacloud_slb20140515 import models

    request = models.DescribeLoadBalancersRequest(
        region_id=connection.region,
        load_balancer_id=",".join(load_balancer_ids),
        page_number=page_number,
        page_size=100,
    )
    return _body(connection.slb.describe_load_balancers_with_options(request, connection.runtime()))


def describe_load_balancers(connection, load_balancer_ids: Iterable[str]) -> list[dict[str, Any]]:
    """The CLB instances with these IDs that exist, normalized."""
    balancers = []
    for batch in chunks(list(dict.fromkeys(load_balancer_ids)), SLB_BATCH):
        records = _pages(
            lambda number, batch=batch: describe_load_balancers_page(connection, number, batch),
            lambda body: _inner_list(body.get("LoadBalancers"), "LoadBalancer"),
        )
        balancers.extend(normalize_load_balancer(record) for record in records if record.get("LoadBalancerId") in batch)
    return balancers


# ---- VPC: EIP lifecycle (allocate, modify, tag, release, gateway info) ------------------------------------

# TagResources / UnTagResources take at most 20 tags and 50 resources per request (documented limits).
TAG_BATCH = 20


@api_call("AllocateEipAddress", mutating=True)
def allocate_eip_address(
    connection,
    bandwidth: int | None = None,
    internet_charge_type: str | None = None,
    isp: str | None = None,
    name: str | None = None,
    description: str | None = None,
    tags: dict[str, str] | None = None,
    ip_address: str | None = None,
    instance_id: str | None = None,
    client_token: str | None = None,
) -> dict[str, str]:
    """AllocateEipAddress (pay-as-you-go); returns ``{"allocation_id", "ip_address"}``.

    With ``ip_address`` (the released address) or ``instance_id`` (the released EIP's allocation ID) it
    recovers an EIP the account released within 7 days instead of taking a random address.
    """
    from alibabacloud_vpc20160428 import models

    request = models.AllocateEipAddressRequest(
        region_id=connection.region,
        bandwidth=str(bandwidth) if bandwidth is not None else None,
        internet_charge_type=internet_charge_type or None,
        isp=isp or None,
        name=name or None,
        description=description or None,
        ip_address=ip_address or None,
        instance_id=instance_id or None,
        client_token=client_token,
    )
    if tags:
        request.tag = [models.AllocateEipAddressRequestTag(key=key, value=value) for key, value in tags.items()]
    body = _body(connection.vpc.allocate_eip_address_with_options(request, connection.runtime()))
    return {"allocation_id": _text(body.get("AllocationId")), "ip_address": _text(body.get("EipAddress"))}


# ClientToken is not part of these four requests (SDK models); the wrappers accept and drop the one api_call
# hands to every mutating call.  A lost answer is covered by a verify function instead: when the retry of a call
# whose answer was lost meets an error (a second release answers InvalidAllocationId.NotFound or
# IncorrectEipStatus), api_call re-reads the EIP and reports success when the desired state holds.


def _one_eip(connection, allocation_id: str) -> dict[str, Any] | None:
    found = describe_eip_addresses(connection, allocation_ids=[allocation_id])
    return found[0] if found else None


def released(connection, allocation_id: str, client_token: str | None = None) -> bool:
    """Verify of ReleaseEipAddress: the EIP is gone or on its way (Releasing)."""
    del client_token  # the verify gets the wrapper's arguments; the token plays no part in reading
    eip = _one_eip(connection, allocation_id)
    return eip is None or eip["status"] == "Releasing"


def eip_attributes_hold(
    connection,
    allocation_id: str,
    bandwidth: int | None = None,
    name: str | None = None,
    description: str | None = None,
    client_token: str | None = None,
) -> bool:
    """Verify of ModifyEipAddressAttribute: every field that was given has the value that was asked for."""
    del client_token  # the verify gets the wrapper's arguments; the token plays no part in reading
    eip = _one_eip(connection, allocation_id)
    if eip is None:
        return False
    wanted = {"bandwidth": bandwidth, "name": name, "description": description}
    return all(eip[key] == value for key, value in wanted.items() if value is not None)


def eip_tags_hold(
    connection, resource_ids: list[str], tags: dict[str, str], resource_type: str = "EIP", client_token=None
) -> bool:
    """Verify of TagResources: every EIP carries every tag with its value (other resource types: cannot tell)."""
    del client_token  # the verify gets the wrapper's arguments; the token plays no part in reading
    if resource_type != "EIP":
        return False
    eips = describe_eip_addresses(connection, allocation_ids=list(resource_ids))
    return len(eips) == len(set(resource_ids)) and all(
        all(eip["tags"].get(key) == value for key, value in tags.items()) for eip in eips
    )


def eip_tags_gone(
    connection, resource_ids: list[str], keys: list[str], resource_type: str = "EIP", client_token=None
) -> bool:
    """Verify of UnTagResources: no EIP carries any of the keys (other resource types: cannot tell)."""
    del client_token  # the verify gets the wrapper's arguments; the token plays no part in reading
    if resource_type != "EIP":
        return False
    eips = describe_eip_addresses(connection, allocation_ids=list(resource_ids))
    return len(eips) == len(set(resource_ids)) and not any(key in eip["tags"] for eip in eips for key in keys)


@api_call("ReleaseEipAddress", mutating=True, verify=released)
def release_eip_address(connection, allocation_id: str, client_token: str | None = None) -> str:
    """ReleaseEipAddress; returns the request ID.  Asynchronous: Available -> Releasing -> gone."""
    from alibabacloud_vpc20160428 import models

    del client_token
    request = models.ReleaseEipAddressRequest(region_id=connection.region, allocation_id=allocation_id)
    return _text(_body(connection.vpc.release_eip_address_with_options(request, connection.runtime())).get("RequestId"))


@api_call("ModifyEipAddressAttribute", mutating=True, verify=eip_attributes_hold)
def modify_eip_address_attribute(
    connection,
    allocation_id: str,
    bandwidth: int | None = None,
    name: str | None = None,
    description: str | None = None,
    client_token: str | None = None,
) -> str:
    """ModifyEipAddressAttribute of the given fields only (``None`` leaves a field alone); returns the request ID."""
    from alibabacloud_vpc20160428 import models

    del client_token
    request = models.ModifyEipAddressAttributeRequest(
        region_id=connection.region,
        allocation_id=allocation_id,
        bandwidth=str(bandwidth) if bandwidth is not None else None,
        name=name,
        description=description,
    )
    return _text(
        _body(connection.vpc.modify_eip_address_attribute_with_options(request, connection.runtime())).get("RequestId")
    )


@api_call("TagResources", mutating=True, verify=eip_tags_hold)
def tag_resources_batch(
    connection,
    resource_ids: list[str],
    tags: dict[str, str],
    resource_type: str = "EIP",
    client_token: str | None = None,
) -> str:
    """One TagResources call (at most 20 tags); returns the request ID."""
    from alibabacloud_vpc20160428 import models

    del client_token
    request = models.TagResourcesRequest(
        region_id=connection.region,
        resource_id=list(resource_ids),
        resource_type=resource_type,
        tag=[models.TagResourcesRequestTag(key=key, value=value) for key, value in tags.items()],
    )
    return _text(_body(connection.vpc.tag_resources_with_options(request, connection.runtime())).get("RequestId"))


def tag_resources(connection, resource_ids: list[str], tags: dict[str, str], resource_type: str = "EIP") -> None:
    """Add or overwrite ``tags`` on the resources, 20 tags per call."""
    items = list(tags.items())
    for batch in chunks(items, TAG_BATCH):
        tag_resources_batch(connection, resource_ids, dict(batch), resource_type=resource_type)


@api_call("UnTagResources", mutating=True, verify=eip_tags_gone)
def untag_resources_batch(
    connection, resource_ids: list[str], keys: list[str], resource_type: str = "EIP", client_token: str | None = None
) -> str:
    """One UnTagResources call (at most 20 keys); returns the request ID."""
    from alibabacloud_vpc20160428 import models

    del client_token
    request = models.UnTagResourcesRequest(
        region_id=connection.region, resource_id=list(resource_ids), resource_type=resource_type, tag_key=list(keys)
    )
    return _text(_body(connection.vpc.un_tag_resources_with_options(request, connection.runtime())).get("RequestId"))


def untag_resources(connection, resource_ids: list[str], keys: Iterable[str], resource_type: str = "EIP") -> None:
    """Remove the tag ``keys`` from the resources, 20 keys per call."""
    for batch in chunks(list(keys), TAG_BATCH):
        untag_resources_batch(connection, resource_ids, batch, resource_type=resource_type)


@api_call("DescribeEipGatewayInfo")
def describe_eip_gateway_info(connection, network_interface_id: str) -> list[dict[str, str]]:
    """The MULTI_BINDED EIPs of a secondary ENI with gateway and mask: ``[{"ip", "gateway", "mask"}]``."""
    from alibabacloud_vpc20160428 import models

    request = models.DescribeEipGatewayInfoRequest(region_id=connection.region, instance_id=network_interface_id)
    body = _body(connection.vpc.describe_eip_gateway_info_with_options(request, connection.runtime()))
    return [
        {
            # The 2021 doc's sample spells "IP", but the SDK model reads only "Ip" (alibaba-api.md §3.9).
            "ip": _text(entry.get("Ip")),
            "gateway": _text(entry.get("IpGw")),
            "mask": _text(entry.get("IpMask")),
        }
        for entry in _inner_list(body.get("EipInfos"), "EipInfo")
        if isinstance(entry, dict)
    ]
