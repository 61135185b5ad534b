# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note: this module util is PRIVATE to the collection. It can change at any time; do not use it from
# other collections or standalone plugins/modules.

"""VPC (2016-04-28) network calls: NAT gateways, SNAT entries, vSwitches, HaVips and IPv4 gateways.

One wrapper per API call (see ``common`` for the conventions).  There is one DescribeNatGateways reader,
:func:`describe_nat_gateways`, and one record shape for a NAT gateway, used by the association engine,
``nat_gateway_info`` and ``snat_entry`` alike; :data:`NAT_GATEWAY_EIP_LIMIT` is the one place of the gateway's
EIP limit.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from ansible_collections.alicloud.eip.plugins.module_utils._api.common import (
    body,
    inner_list,
    pages,
    read_batches,
    request_id,
    text,
    token_pages,
)
from ansible_collections.alicloud.eip.plugins.module_utils._openapi import light_models
from ansible_collections.alicloud.eip.plugins.module_utils._retries import api_call

# DescribeNatGateways, DescribeSnatTableEntries, DescribeVSwitches and DescribeHaVips all take PageSize up to 50.
NAT_PAGE_SIZE = 50
SNAT_PAGE_SIZE = 50
VSWITCH_PAGE_SIZE = 50
HAVIP_PAGE_SIZE = 50
IPV4_GATEWAY_PAGE_SIZE = 100
# DescribeHaVips: values of one Filter key are OR-ed; the docs give no limit on their number (UNCONFIRMED), so
# [fid:havip-filter-values]
# the vSwitch IDs are sent 20 at a time.
HAVIP_FILTER_BATCH = 20

# An Internet NAT gateway holds at most 20 EIPs (alibaba-api.md §5, "NAT gateway: at most 20 EIPs").
NAT_GATEWAY_EIP_LIMIT = 20
# "Since September 19, 2022, associating an EIP with a newly created public NAT gateway consumes a private
# IP address of the gateway's vSwitch" (alibaba-api.md; the emulator's rules.NAT_PRIVATE_IP_SINCE).
# timezone.utc rather than datetime.UTC: modules may run on Pythons older than 3.11.
UTC = datetime.timezone.utc  # noqa: UP017
NAT_PRIVATE_IP_SINCE = datetime.datetime(2022, 9, 19, tzinfo=UTC)

# A SNAT table with another entry in Pending refuses ModifySnatEntry and DeleteSnatEntry for a moment;
# Terraform's alicloud_snat_entry retries IncorrectStatus.NATGW and (for delete) IncorretSnatEntryStatus (sic).
SNAT_RETRY_CODES = ("IncorrectStatus.NATGW", "IncorretSnatEntryStatus")


def parse_creation_time(value: str) -> datetime.datetime | None:
    """``2021-05-01T00:00:00Z`` (the API's UTC form) -> aware datetime; ``None`` when empty or unreadable."""
    if not value:
        return None
    try:
        # Python < 3.11 does not read a trailing "Z".
        moment = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))  # noqa: FURB162
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def consumes_vswitch_ip(creation_time: str) -> bool:
    """Whether each EIP bound to a gateway created at ``creation_time`` takes a private IP of its vSwitch.

    An unreadable creation time counts as new: assuming the stricter rule only costs a free-IP check.
    """
    moment = parse_creation_time(creation_time)
    return moment is None or moment >= NAT_PRIVATE_IP_SINCE


def split_snat_ips(value: Any) -> list[str]:
    """``SnatIp`` travels as one comma-separated string; a list of the addresses, in API order."""
    return [item.strip() for item in text(value).split(",") if item.strip()]


def normalize_nat_gateway(record: dict[str, Any]) -> dict[str, Any]:
    """One DescribeNatGateways record, as nat_gateway_info returns it (``vswitch_free_ips`` filled in later) and as
    the association engine and snat_entry read it (what uses each EIP: ``eips[].using_status``)."""
    private = record.get("NatGatewayPrivateInfo") or {}
    eips = [
        {
            "allocation_id": text(entry.get("AllocationId")),
            "ip_address": text(entry.get("IpAddress")),
            "using_status": text(entry.get("UsingStatus")),
            "private_ip_address": text(entry.get("PrivateIpAddress")),
            "snat_entry_enabled": bool(entry.get("SnatEntryEnabled")),
        }
        for entry in inner_list(record.get("IpLists"), "IpList")
        if isinstance(entry, dict)
    ]
    created = text(record.get("CreationTime"))
    return {
        "id": text(record.get("NatGatewayId")),
        "name": text(record.get("Name")),
        "description": text(record.get("Description")),
        "vpc_id": text(record.get("VpcId")),
        "vswitch_id": text(private.get("VswitchId")),
        "zone_id": text(private.get("IzNo")),
        "status": text(record.get("Status")),
        "business_status": text(record.get("BusinessStatus")),
        "spec": text(record.get("Spec")),
        "nat_type": text(record.get("NatType")),
        "network_type": text(record.get("NetworkType")),
        "eip_bind_mode": text(record.get("EipBindMode")),
        "created": created,
        "snat_table_ids": [text(item) for item in inner_list(record.get("SnatTableIds"), "SnatTableId")],
        "forward_table_ids": [text(item) for item in inner_list(record.get("ForwardTableIds"), "ForwardTableId")],
        "eips": eips,
        "eip_count": len(eips),
        "eip_limit": NAT_GATEWAY_EIP_LIMIT,
        "consumes_vswitch_ip": consumes_vswitch_ip(created),
        "vswitch_free_ips": None,
    }


def normalize_snat_entry(record: dict[str, Any]) -> dict[str, Any]:
    """One DescribeSnatTableEntries record as snat_entry returns it."""
    return {
        "id": text(record.get("SnatEntryId")),
        "snat_table_id": text(record.get("SnatTableId")),
        "nat_gateway_id": text(record.get("NatGatewayId")),
        "source_vswitch_id": text(record.get("SourceVSwitchId")),
        "source_cidr": text(record.get("SourceCIDR")),
        "network_interface_id": text(record.get("NetworkInterfaceId")),
        "snat_ips": split_snat_ips(record.get("SnatIp")),
        "name": text(record.get("SnatEntryName")),
        "eip_affinity": text(record.get("EipAffinity")) == "1",
        "status": text(record.get("Status")),
    }


# ---- NAT gateways ----------------------------------------------------------------------------------


@api_call("DescribeNatGateways")
def describe_nat_gateways_page(connection, page_number: int, **filters: Any) -> dict[str, Any]:
    """One page of DescribeNatGateways (filters are request-model field names: nat_gateway_id, vpc_id, name)."""
    models = light_models("vpc")

    request = models.DescribeNatGatewaysRequest(
        region_id=connection.region, page_number=page_number, page_size=NAT_PAGE_SIZE, **filters
    )
    return body(connection.vpc.describe_nat_gateways_with_options(request, connection.runtime()))


def describe_nat_gateways(
    connection,
    nat_gateway_ids: Iterable[str] | None = None,
    vpc_id: str | None = None,
    name: str | None = None,
) -> list[dict[str, Any]]:
    """Every NAT gateway matching the filters, normalized; the API filters by one ID, so one listing per ID."""
    filters = {key: value for key, value in (("vpc_id", vpc_id), ("name", name)) if value}

    def listing(batch: list[str] | None) -> list[Any]:
        by_id = {"nat_gateway_id": batch[0]} if batch else {}
        return pages(
            lambda page: describe_nat_gateways_page(connection, page, **by_id, **filters),
            lambda answer: inner_list(answer.get("NatGateways"), "NatGateway"),
        )

    if nat_gateway_ids is None:
        records = listing(None)
    else:
        records = read_batches(nat_gateway_ids, 1, listing, "NatGatewayId")
    return [normalize_nat_gateway(record) for record in records]


# ---- vSwitches -------------------------------------------------------------------------------------


@api_call("DescribeVSwitches")
def describe_vswitches_page(connection, page_number: int, **filters: Any) -> dict[str, Any]:
    """One page of DescribeVSwitches (filters: vpc_id, v_switch_id)."""
    models = light_models("vpc")

    request = models.DescribeVSwitchesRequest(
        region_id=connection.region, page_number=page_number, page_size=VSWITCH_PAGE_SIZE, **filters
    )
    return body(connection.vpc.describe_vswitches_with_options(request, connection.runtime()))


def describe_vswitch_free_ips(connection, vpc_ids: Iterable[str]) -> dict[str, int]:
    """``vSwitch ID -> AvailableIpAddressCount`` of every vSwitch of these VPCs (one listing per VPC)."""
    free: dict[str, int] = {}
    for vpc_id in dict.fromkeys(vpc_id for vpc_id in vpc_ids if vpc_id):
        records = pages(
            lambda page, vpc_id=vpc_id: describe_vswitches_page(connection, page, vpc_id=vpc_id),
            lambda answer: inner_list(answer.get("VSwitches"), "VSwitch"),
        )
        for record in records:
            try:
                free[text(record.get("VSwitchId"))] = int(record.get("AvailableIpAddressCount"))
            except (TypeError, ValueError):
                continue
    return free


def normalize_vswitch(record: dict[str, Any]) -> dict[str, Any]:
    """One DescribeVSwitches record: where the vSwitch is and how many free addresses it has."""
    try:
        free: int | None = int(record.get("AvailableIpAddressCount"))
    except (TypeError, ValueError):
        free = None
    return {
        "id": text(record.get("VSwitchId")),
        "vpc_id": text(record.get("VpcId")),
        "zone_id": text(record.get("ZoneId")),
        "cidr_block": text(record.get("CidrBlock")),
        "status": text(record.get("Status")),
        "name": text(record.get("VSwitchName")),
        "available_ip_count": free,
    }


def describe_vswitches(connection, vswitch_ids: Iterable[str]) -> list[dict[str, Any]]:
    """The vSwitches with these IDs that exist, normalized (the API filters by one ID, so one listing per ID)."""

    def listing(batch: list[str]) -> list[Any]:
        return pages(
            lambda page: describe_vswitches_page(connection, page, v_switch_id=batch[0]),
            lambda answer: inner_list(answer.get("VSwitches"), "VSwitch"),
        )

    wanted = [vswitch_id for vswitch_id in vswitch_ids if vswitch_id]
    return [normalize_vswitch(record) for record in read_batches(wanted, 1, listing, "VSwitchId")]


# ---- HaVips ----------------------------------------------------------------------------------------


def normalize_havip(record: dict[str, Any]) -> dict[str, Any]:
    """A HaVip with the EIPs on it (the API spells the inner list ``associatedEipAddresse``)."""
    return {
        "id": text(record.get("HaVipId")),
        "status": text(record.get("Status")),
        "ip_address": text(record.get("IpAddress")),
        "vpc_id": text(record.get("VpcId")),
        "eip_addresses": [text(ip) for ip in inner_list(record.get("AssociatedEipAddresses"), "associatedEipAddresse")],
    }


def ha_vips_filtered_page(connection, page_number: int, key: str, values: list[str]) -> dict[str, Any]:
    """One page of DescribeHaVips filtered by ``key`` (``Filter.1.Key``; the values, ``Filter.1.Value.N``, are OR-ed).

    Undecorated: each caller wraps it in its own ``api_call("DescribeHaVips")``."""
    models = light_models("vpc")

    request = models.DescribeHaVipsRequest(
        region_id=connection.region,
        filter=[models.DescribeHaVipsRequestFilter(key=key, value=list(values))],
        page_number=page_number,
        page_size=HAVIP_PAGE_SIZE,
    )
    return body(connection.vpc.describe_ha_vips_with_options(request, connection.runtime()))


@api_call("DescribeHaVips")
def describe_ha_vips_page(connection, page_number: int, havip_ids: list[str]) -> dict[str, Any]:
    """One page of DescribeHaVips filtered by HaVipId (``Filter.1.Value.N``)."""
    return ha_vips_filtered_page(connection, page_number, "HaVipId", havip_ids)


def describe_ha_vips(connection, havip_ids: Iterable[str]) -> list[dict[str, Any]]:
    """The HaVips with these IDs that exist, normalized."""
    ids = list(dict.fromkeys(havip_ids))
    if not ids:
        return []
    records = pages(
        lambda page: describe_ha_vips_page(connection, page, ids),
        lambda answer: inner_list(answer.get("HaVips"), "HaVip"),
    )
    return [normalize_havip(record) for record in records if record.get("HaVipId") in ids]


@api_call("DescribeHaVips")
def describe_ha_vips_by_vswitch_page(connection, page_number: int, vswitch_ids: list[str]) -> dict[str, Any]:
    """One page of DescribeHaVips filtered by ``VSwitchId`` (``Filter.1.Value.N``, values OR-ed)."""
    return ha_vips_filtered_page(connection, page_number, "VSwitchId", vswitch_ids)


def havips_by_vswitch(connection, vswitch_ids: Iterable[str]) -> dict[str, list[str]]:
    """``vSwitch ID -> IDs of the HaVips in it`` for each given vSwitch (an empty list when it holds none).

    CreateSnatEntry refuses a source vSwitch that holds a HaVip (``Forbidden.SourceVSwitchId.IncludeHaVip``,
    alibaba-api.md §7.2); one DescribeHaVips listing answers for 20 vSwitches.
    """
    wanted = list(dict.fromkeys(vswitch_id for vswitch_id in vswitch_ids if vswitch_id))
    found: dict[str, list[str]] = {vswitch_id: [] for vswitch_id in wanted}
    for start in range(0, len(wanted), HAVIP_FILTER_BATCH):
        batch = wanted[start : start + HAVIP_FILTER_BATCH]
        records = pages(
            lambda page, batch=batch: describe_ha_vips_by_vswitch_page(connection, page, batch),
            lambda answer: inner_list(answer.get("HaVips"), "HaVip"),
        )
        for record in records:
            vswitch_id = text(record.get("VSwitchId"))
            if vswitch_id in found and text(record.get("HaVipId")) not in found[vswitch_id]:
                found[vswitch_id].append(text(record.get("HaVipId")))
    return found


# ---- IPv4 gateways --------------------------------------------------------------------------------


def normalize_ipv4_gateway(record: dict[str, Any]) -> dict[str, Any]:
    """An IPv4 gateway of a VPC (ListIpv4Gateways item)."""
    return {
        "id": text(record.get("Ipv4GatewayId")),
        "vpc_id": text(record.get("VpcId")),
        "name": text(record.get("Ipv4GatewayName")),
        "status": text(record.get("Status")),
        "enabled": bool(record.get("Enabled")),
    }


@api_call("ListIpv4Gateways")
def list_ipv4_gateways_page(connection, vpc_id: str, next_token: str | None) -> dict[str, Any]:
    """One page of ListIpv4Gateways for one VPC (the API filters by a single VpcId).

    The brief named it DescribeIpv4Gateways; the VPC API (SDK 7.2.2) only has ListIpv4Gateways.
    """
    models = light_models("vpc")

    request = models.ListIpv4GatewaysRequest(
        region_id=connection.region, vpc_id=vpc_id, max_results=IPV4_GATEWAY_PAGE_SIZE, next_token=next_token
    )
    return body(connection.vpc.list_ipv_4gateways_with_options(request, connection.runtime()))


def list_ipv4_gateways(connection, vpc_ids: Iterable[str]) -> list[dict[str, Any]]:
    """The IPv4 gateways of these VPCs, normalized (one call per VPC; a VPC has at most one gateway)."""

    def listing(batch: list[str]) -> list[Any]:
        return token_pages(
            lambda token: list_ipv4_gateways_page(connection, batch[0], token),
            lambda answer: answer.get("Ipv4GatewayModels") or [],
        )

    return [normalize_ipv4_gateway(record) for record in read_batches(vpc_ids, 1, listing, "VpcId")]


# ---- SNAT entries ----------------------------------------------------------------------------------


@api_call("DescribeSnatTableEntries")
def describe_snat_table_entries_page(connection, page_number: int, snat_table_id: str) -> dict[str, Any]:
    """One page of the entries of one SNAT table."""
    models = light_models("vpc")

    request = models.DescribeSnatTableEntriesRequest(
        region_id=connection.region, snat_table_id=snat_table_id, page_number=page_number, page_size=SNAT_PAGE_SIZE
    )
    return body(connection.vpc.describe_snat_table_entries_with_options(request, connection.runtime()))


def describe_snat_entries(connection, snat_table_id: str) -> list[dict[str, Any]]:
    """Every entry of a SNAT table, normalized (a table holds a few dozen at most, so one or two calls)."""
    records = pages(
        lambda page: describe_snat_table_entries_page(connection, page, snat_table_id),
        lambda answer: inner_list(answer.get("SnatTableEntries"), "SnatTableEntry"),
    )
    return [normalize_snat_entry(record) for record in records if isinstance(record, dict)]


@api_call("CreateSnatEntry", mutating=True, retry_codes=("IncorrectStatus.NATGW",))
def create_snat_entry(
    connection,
    snat_table_id: str,
    snat_ips: list[str],
    source_vswitch_id: str | None = None,
    source_cidr: str | None = None,
    name: str | None = None,
    client_token: str | None = None,
) -> str:
    """CreateSnatEntry; returns the new entry's ID.  Asynchronous: the entry goes Pending -> Available."""
    models = light_models("vpc")

    request = models.CreateSnatEntryRequest(
        region_id=connection.region,
        snat_table_id=snat_table_id,
        snat_ip=",".join(snat_ips),
        source_vswitch_id=source_vswitch_id or None,
        source_cidr=source_cidr or None,
        snat_entry_name=name or None,
        client_token=client_token,
    )
    return text(body(connection.vpc.create_snat_entry_with_options(request, connection.runtime())).get("SnatEntryId"))


@api_call("ModifySnatEntry", mutating=True, retry_codes=SNAT_RETRY_CODES)
def modify_snat_entry(
    connection,
    snat_table_id: str,
    snat_entry_id: str,
    snat_ips: list[str] | None = None,
    name: str | None = None,
    client_token: str | None = None,
) -> str:
    """ModifySnatEntry (SNAT IPs and/or name); returns the request ID.  Asynchronous: Pending -> Available."""
    models = light_models("vpc")

    request = models.ModifySnatEntryRequest(
        region_id=connection.region,
        snat_table_id=snat_table_id,
        snat_entry_id=snat_entry_id,
        snat_ip=",".join(snat_ips) if snat_ips else None,
        snat_entry_name=name or None,
        client_token=client_token,
    )
    return request_id(connection.vpc.modify_snat_entry_with_options(request, connection.runtime()))


@api_call("DeleteSnatEntry", mutating=True, retry_codes=SNAT_RETRY_CODES)
def delete_snat_entry(connection, snat_table_id: str, snat_entry_id: str, client_token: str | None = None) -> str:
    """DeleteSnatEntry; returns the request ID.  Asynchronous: Deleting -> gone."""
    models = light_models("vpc")

    request = models.DeleteSnatEntryRequest(
        region_id=connection.region,
        snat_table_id=snat_table_id,
        snat_entry_id=snat_entry_id,
        client_token=client_token,
    )
    return request_id(connection.vpc.delete_snat_entry_with_options(request, connection.runtime()))
