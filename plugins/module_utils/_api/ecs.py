# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note: this module util is PRIVATE to the collection. It can change at any time; do not use it from
# other collections or standalone plugins/modules.

"""ECS (2014-05-26) calls: instances, security groups and elastic network interfaces (ENIs).

One wrapper per API call (see ``common`` for the conventions).  ENIs are read in one place,
:func:`network_interface_records`; the association engine normalizes a record with :func:`normalize_eni` (its
private addresses and their EIPs), the ``eni`` modules with :func:`normalize_interface` (every field they return).
The ENI changes and their waiter are in ``ecs_eni``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ansible_collections.alicloud.eip.plugins.module_utils._api.common import (
    body,
    inner_list,
    read_batches,
    text,
    token_pages,
)
from ansible_collections.alicloud.eip.plugins.module_utils._openapi import light_models
from ansible_collections.alicloud.eip.plugins.module_utils._retries import api_call

# Documented batch limits: DescribeInstances takes up to 100 IDs, DescribeNetworkInterfaces up to 100.
ECS_BATCH = 100
ENI_BATCH = 100
# DescribeNetworkInterfaces: MaxResults 10-500 (alibaba-api.md §8.1).
ENI_PAGE_SIZE = 500
# DescribeSecurityGroups: SecurityGroupIds is a JSON array of up to 100 IDs; MaxResults up to 100.
SECURITY_GROUP_BATCH = 100

# ---- instances ---------------------------------------------------------------------------------------------


def normalize_instance(record: dict[str, Any]) -> dict[str, Any]:
    """An ECS instance, reduced to what EIP association depends on."""
    eip = record.get("EipAddress") or {}
    public_ips = inner_list(record.get("PublicIpAddress"), "IpAddress")
    vpc = record.get("VpcAttributes") or {}
    primary_eni = next(
        (
            eni
            for eni in inner_list(record.get("NetworkInterfaces"), "NetworkInterface")
            if eni.get("Type") == "Primary"
        ),
        {},
    )
    return {
        "id": text(record.get("InstanceId")),
        "status": text(record.get("Status")),
        "network_type": text(record.get("InstanceNetworkType")),
        "instance_type": text(record.get("InstanceType")),
        "vpc_id": text(vpc.get("VpcId")),
        "zone_id": text(record.get("ZoneId")),
        "public_ip_addresses": [text(ip) for ip in public_ips if ip],
        "eip_allocation_id": text(eip.get("AllocationId")),
        "eip_address": text(eip.get("IpAddress")),
        "primary_eni_id": text(primary_eni.get("NetworkInterfaceId")),
        "primary_ip": text(primary_eni.get("PrimaryIpAddress")),
    }


@api_call("DescribeInstances")
def describe_instances_page(connection, next_token: str | None, **filters: Any) -> dict[str, Any]:
    """One page (100 instances) of DescribeInstances by request-model filters (``tags`` a dict; list filters such as
    ``instance_ids`` travel as JSON-array text, alibaba-api.md §1.2)."""
    models = light_models("ecs")

    tags = filters.pop("tags", None)
    for name in ("instance_ids", "private_ip_addresses", "public_ip_addresses", "eip_addresses"):
        if filters.get(name) is not None:
            filters[name] = json.dumps(list(filters[name]))
    request = models.DescribeInstancesRequest(
        region_id=connection.region, max_results=100, next_token=next_token, **filters
    )
    if tags:
        request.tag = [models.DescribeInstancesRequestTag(key=key, value=value) for key, value in tags.items()]
    return body(connection.ecs.describe_instances_with_options(request, connection.runtime()))


def instance_records(connection, **filters: Any) -> list[dict[str, Any]]:
    """Every raw DescribeInstances record of the region matching the filters, reading every page."""
    return token_pages(
        lambda token: describe_instances_page(connection, token, **dict(filters)),
        lambda answer: inner_list(answer.get("Instances"), "Instance"),
    )


def describe_instances(connection, instance_ids: Iterable[str]) -> list[dict[str, Any]]:
    """The ECS instances with these IDs that exist, normalized (100 IDs per call)."""

    def listing(batch: list[str]) -> list[Any]:
        return instance_records(connection, instance_ids=batch)

    return [normalize_instance(record) for record in read_batches(instance_ids, ECS_BATCH, listing, "InstanceId")]


# ---- security groups ---------------------------------------------------------------------------------------


def normalize_security_group(record: dict[str, Any]) -> dict[str, Any]:
    """One DescribeSecurityGroups record: the group and the VPC it belongs to."""
    return {
        "id": text(record.get("SecurityGroupId")),
        "name": text(record.get("SecurityGroupName")),
        "vpc_id": text(record.get("VpcId")),
        "type": text(record.get("SecurityGroupType")),
    }


@api_call("DescribeSecurityGroups")
def describe_security_groups_page(connection, security_group_ids: list[str], next_token: str | None) -> dict[str, Any]:
    """One page of DescribeSecurityGroups; ``SecurityGroupIds`` travels as JSON-array text, like InstanceIds."""
    models = light_models("ecs")

    request = models.DescribeSecurityGroupsRequest(
        region_id=connection.region,
        security_group_ids=json.dumps(security_group_ids),
        max_results=SECURITY_GROUP_BATCH,
        next_token=next_token,
    )
    return body(connection.ecs.describe_security_groups_with_options(request, connection.runtime()))


def describe_security_groups(connection, security_group_ids: Iterable[str]) -> list[dict[str, Any]]:
    """The security groups with these IDs that exist in the region, normalized (100 IDs per listing)."""

    def listing(batch: list[str]) -> list[Any]:
        return token_pages(
            lambda token: describe_security_groups_page(connection, batch, token),
            lambda answer: inner_list(answer.get("SecurityGroups"), "SecurityGroup"),
        )

    wanted = [group_id for group_id in security_group_ids if group_id]
    return [
        normalize_security_group(record)
        for record in read_batches(wanted, SECURITY_GROUP_BATCH, listing, "SecurityGroupId")
    ]


# ---- ENIs: reading ----------------------------------------------------------------------------------------


def normalize_eni(record: dict[str, Any]) -> dict[str, Any]:
    """An ENI with its private addresses (primary first) and attachment."""
    attachment = record.get("Attachment") or {}
    private_ips = []
    for entry in inner_list(record.get("PrivateIpSets"), "PrivateIpSet"):
        public = entry.get("AssociatedPublicIp") or {}
        private_ips.append(
            {
                "ip": text(entry.get("PrivateIpAddress")),
                "primary": bool(entry.get("Primary")),
                "eip_allocation_id": text(public.get("AllocationId")),
                "eip_address": text(public.get("PublicIpAddress")),
            }
        )
    private_ips.sort(key=lambda entry: not entry["primary"])
    primary = text(record.get("PrivateIpAddress")) or next(
        (entry["ip"] for entry in private_ips if entry["primary"]), ""
    )
    # The EIPs the record shows on the ENI: the top-level AssociatedPublicIp and each address's (whether cut-through
    # bindings appear here is UNCONFIRMED [fid:eni-associated-public-ip]; the engine looks those up itself).
    top = record.get("AssociatedPublicIp") or {}
    shown = [text(top.get("AllocationId"))] + [entry["eip_allocation_id"] for entry in private_ips]
    return {
        "id": text(record.get("NetworkInterfaceId")),
        "type": text(record.get("Type")),
        "status": text(record.get("Status")),
        "instance_id": text(record.get("InstanceId") or attachment.get("InstanceId")),
        "vpc_id": text(record.get("VpcId")),
        "primary_ip": primary,
        "private_ips": private_ips,
        "eip_allocation_ids": list(dict.fromkeys(allocation_id for allocation_id in shown if allocation_id)),
    }


def ecs_tags_to_dict(container: Any) -> dict[str, str]:
    """ECS tag list ``{"Tag": [{"TagKey", "TagValue"}]}`` -> ``{key: value}`` (Key/Value tolerated too)."""
    tags: dict[str, str] = {}
    for tag in inner_list(container, "Tag"):
        if not isinstance(tag, dict):
            continue
        key = tag.get("TagKey", tag.get("Key"))
        if key is not None:
            tags[text(key)] = text(tag.get("TagValue", tag.get("Value")))
    return tags


def normalize_interface(record: dict[str, Any]) -> dict[str, Any]:
    """One DescribeNetworkInterfaces record as the ``eni`` modules return it (every key always present)."""
    attachment = record.get("Attachment") or {}
    primary = text(record.get("PrivateIpAddress"))
    entries = [entry for entry in inner_list(record.get("PrivateIpSets"), "PrivateIpSet") if isinstance(entry, dict)]
    if not primary:
        primary = next((text(entry.get("PrivateIpAddress")) for entry in entries if entry.get("Primary")), "")
    secondary = [
        text(entry.get("PrivateIpAddress"))
        for entry in entries
        if not entry.get("Primary") and text(entry.get("PrivateIpAddress")) != primary
    ]
    public_ips = []
    for entry in entries:
        public = entry.get("AssociatedPublicIp") or {}
        if public.get("PublicIpAddress") or public.get("AllocationId"):
            public_ips.append(
                {
                    "private_ip_address": text(entry.get("PrivateIpAddress")),
                    "ip_address": text(public.get("PublicIpAddress")),
                    "allocation_id": text(public.get("AllocationId")),
                }
            )
    device_index = attachment.get("DeviceIndex")
    return {
        "id": text(record.get("NetworkInterfaceId")),
        "name": text(record.get("NetworkInterfaceName")),
        "description": text(record.get("Description")),
        "mac_address": text(record.get("MacAddress")),
        "primary_ip_address": primary,
        "private_ip_addresses": ([primary] if primary else []) + secondary,
        "secondary_private_ip_addresses": secondary,
        "vswitch_id": text(record.get("VSwitchId")),
        "vpc_id": text(record.get("VpcId")),
        "zone_id": text(record.get("ZoneId")),
        "instance_id": text(record.get("InstanceId") or attachment.get("InstanceId")),
        "device_index": int(device_index) if device_index not in (None, "") else None,
        "status": text(record.get("Status")),
        "type": text(record.get("Type")),
        "security_group_ids": [text(group) for group in inner_list(record.get("SecurityGroupIds"), "SecurityGroupId")],
        "associated_public_ips": public_ips,
        "creation_time": text(record.get("CreationTime")),
        "tags": ecs_tags_to_dict(record.get("Tags")),
    }


@api_call("DescribeNetworkInterfaces")
def describe_network_interfaces_page(
    connection, eni_ids: list[str] | None, next_token: str | None, **filters: Any
) -> dict[str, Any]:
    """One page of DescribeNetworkInterfaces by ``NetworkInterfaceId.N`` and/or filters (request-model field names;
    ``tags`` a dict)."""
    models = light_models("ecs")

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
    return body(connection.ecs.describe_network_interfaces_with_options(request, connection.runtime()))


def network_interface_records(connection, eni_ids: Iterable[str] | None = None, **filters: Any) -> list[dict[str, Any]]:
    """Every raw DescribeNetworkInterfaces record matching the filters (and, when given, one of ``eni_ids``).

    IDs go 100 per call (the API's limit), every page is read.  ``eni_ids=None`` lists by the filters alone; an
    empty ``eni_ids`` asks for nothing.  The ``eni`` modules and the association engine both read ENIs here and
    differ only in how they normalize a record.
    """

    def listing(batch: list[str] | None) -> list[Any]:
        return token_pages(
            lambda token: describe_network_interfaces_page(connection, batch, token, **dict(filters)),
            lambda answer: inner_list(answer.get("NetworkInterfaceSets"), "NetworkInterfaceSet"),
        )

    if eni_ids is None:
        return listing(None)
    return read_batches(eni_ids, ENI_BATCH, listing, "NetworkInterfaceId")


def describe_network_interfaces(connection, eni_ids: Iterable[str]) -> list[dict[str, Any]]:
    """The ENIs with these IDs that exist, normalized for the association engine (100 IDs per call)."""
    return [normalize_eni(record) for record in network_interface_records(connection, eni_ids)]


def describe_interfaces(
    connection,
    eni_ids: Sequence[str] | None = None,
    instance_id: str | None = None,
    vswitch_id: str | None = None,
    vpc_id: str | None = None,
    name: str | None = None,
    eni_type: str | None = None,
    status: str | None = None,
    primary_ip_address: str | None = None,
    tags: Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    """Every ENI matching all the filters, normalized, reading every page.

    ``eni_ids`` is split into batches of 100 (the API's limit); an unknown ID simply does not appear.
    An empty (not ``None``) ``eni_ids`` asks for nothing and gets nothing.
    """
    filters: dict[str, Any] = {
        "instance_id": instance_id,
        "v_switch_id": vswitch_id,
        "vpc_id": vpc_id,
        "network_interface_name": name,
        "type": eni_type,
        "status": status,
        "primary_ip_address": primary_ip_address,
        "tags": dict(tags) if tags else None,
    }
    filters = {key: value for key, value in filters.items() if value}
    return [normalize_interface(record) for record in network_interface_records(connection, eni_ids, **filters)]
