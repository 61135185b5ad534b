# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note: this module util is PRIVATE to the collection. It can change at any time; do not use it from
# other collections or standalone plugins/modules.

"""API wrappers for NAT gateways, SNAT entries, vSwitches and the HaVips of a vSwitch, returning plain snake_case dicts.

Same layering as ``_api``: each ``*_page`` / single-call function is decorated with :func:`api_call`
(retries, error translation, ClientToken), the public describe functions read every page, and the
``normalize_*`` functions turn the API's CamelCase records into the dicts the modules return.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from ansible_collections.alicloud.eip.plugins.module_utils._api import (
    _body,
    _inner_list,
    _pages,
    _text,
    ha_vips_filtered_page,
)
from ansible_collections.alicloud.eip.plugins.module_utils._retries import api_call

# DescribeNatGateways, DescribeSnatTableEntries and DescribeVSwitches all take PageSize up to 50.
NAT_PAGE_SIZE = 50
SNAT_PAGE_SIZE = 50
VSWITCH_PAGE_SIZE = 50
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


def parse_creation_time(text: str) -> datetime.datetime | None:
    """``2021-05-01T00:00:00Z`` (the API's UTC form) -> aware datetime; ``None`` when empty or unreadable."""
    if not text:
        return None
    try:
        # Python < 3.11 does not read a trailing "Z".
        moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))  # noqa: FURB162
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
    return [item.strip() for item in _text(value).split(",") if item.strip()]


def normalize_nat_gateway_detail(record: dict[str, Any]) -> dict[str, Any]:
    """One DescribeNatGateways record as nat_gateway_info returns it (``vswitch_free_ips`` filled in later)."""
    private = record.get("NatGatewayPrivateInfo") or {}
    eips = [
        {
            "allocation_id": _text(entry.get("AllocationId")),
            "ip_address": _text(entry.get("IpAddress")),
            "using_status": _text(entry.get("UsingStatus")),
            "private_ip_address": _text(entry.get("PrivateIpAddress")),
            "snat_entry_enabled": bool(entry.get("SnatEntryEnabled")),
        }
        for entry in _inner_list(record.get("IpLists"), "IpList")
        if isinstance(entry, dict)
    ]
    created = _text(record.get("CreationTime"))
    return {
        "id": _text(record.get("NatGatewayId")),
        "name": _text(record.get("Name")),
        "description": _text(record.get("Description")),
        "vpc_id": _text(record.get("VpcId")),
        "vswitch_id": _text(private.get("VswitchId")),
        "zone_id": _text(private.get("IzNo")),
        "status": _text(record.get("Status")),
        "business_status": _text(record.get("BusinessStatus")),
        "spec": _text(record.get("Spec")),
        "nat_type": _text(record.get("NatType")),
        "network_type": _text(record.get("NetworkType")),
        "eip_bind_mode": _text(record.get("EipBindMode")),
        "created": created,
        "snat_table_ids": [_text(item) for item in _inner_list(record.get("SnatTableIds"), "SnatTableId")],
        "forward_table_ids": [_text(item) for item in _inner_list(record.get("ForwardTableIds"), "ForwardTableId")],
        "eips": eips,
        "eip_count": len(eips),
        "eip_limit": NAT_GATEWAY_EIP_LIMIT,
        "consumes_vswitch_ip": consumes_vswitch_ip(created),
        "vswitch_free_ips": None,
    }


def normalize_snat_entry(record: dict[str, Any]) -> dict[str, Any]:
    """One DescribeSnatTableEntries record as snat_entry returns it."""
    return {
        "id": _text(record.get("SnatEntryId")),
        "snat_table_id": _text(record.get("SnatTableId")),
        "nat_gateway_id": _text(record.get("NatGatewayId")),
        "source_vswitch_id": _text(record.get("SourceVSwitchId")),
        "source_cidr": _text(record.get("SourceCIDR")),
        "network_interface_id": _text(record.get("NetworkInterfaceId")),
        "snat_ips": split_snat_ips(record.get("SnatIp")),
        "name": _text(record.get("SnatEntryName")),
        "eip_affinity": _text(record.get("EipAffinity")) == "1",
        "status": _text(record.get("Status")),
    }


# ---- NAT gateways ----------------------------------------------------------------------------------


@api_call("DescribeNatGateways")
def describe_nat_gateways_page(connection, page_number: int, **filters: Any) -> dict[str, Any]:
    """One page of DescribeNatGateways (filters are request-model field names: nat_gateway_id, vpc_id, name)."""
    from alibabacloud_vpc20160428 import models

    request = models.DescribeNatGatewaysRequest(
        region_id=connection.region, page_number=page_number, page_size=NAT_PAGE_SIZE, **filters
    )
    return _body(connection.vpc.describe_nat_gateways_with_options(request, connection.runtime()))


def describe_nat_gateway_details(
    connection,
    nat_gateway_ids: Iterable[str] | None = None,
    vpc_id: str | None = None,
    name: str | None = None,
) -> list[dict[str, Any]]:
    """Every NAT gateway matching the filters, normalized; the API filters by one ID, so one listing per ID."""
    filters = {key: value for key, value in (("vpc_id", vpc_id), ("name", name)) if value}
    if nat_gateway_ids is None:
        batches: list[dict[str, Any]] = [{}]
    else:
        batches = [{"nat_gateway_id": gateway_id} for gateway_id in dict.fromkeys(nat_gateway_ids)]
    gateways = []
    for batch in batches:
        records = _pages(
            lambda number, batch=batch: describe_nat_gateways_page(connection, number, **batch, **filters),
            lambda body: _inner_list(body.get("NatGateways"), "NatGateway"),
        )
        wanted = batch.get("nat_gateway_id")
        gateways.extend(
            normalize_nat_gateway_detail(record)
            for record in records
            if wanted is None or record.get("NatGatewayId") == wanted
        )
    return gateways


# ---- vSwitches -------------------------------------------------------------------------------------


@api_call("DescribeVSwitches")
def describe_vswitches_page(connection, page_number: int, **filters: Any) -> dict[str, Any]:
    """One page of DescribeVSwitches (filters: vpc_id, v_switch_id)."""
    from alibabacloud_vpc20160428 import models

    request = models.DescribeVSwitchesRequest(
        region_id=connection.region, page_number=page_number, page_size=VSWITCH_PAGE_SIZE, **filters
    )
    return _body(connection.vpc.describe_vswitches_with_options(request, connection.runtime()))


def describe_vswitch_free_ips(connection, vpc_ids: Iterable[str]) -> dict[str, int]:
    """``vSwitch ID -> AvailableIpAddressCount`` of every vSwitch of these VPCs (one listing per VPC)."""
    free: dict[str, int] = {}
    for vpc_id in dict.fromkeys(vpc_id for vpc_id in vpc_ids if vpc_id):
        records = _pages(
            lambda number, vpc_id=vpc_id: describe_vswitches_page(connection, number, vpc_id=vpc_id),
            lambda body: _inner_list(body.get("VSwitches"), "VSwitch"),
        )
        for record in records:
            try:
                free[_text(record.get("VSwitchId"))] = int(record.get("AvailableIpAddressCount"))
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
        "id": _text(record.get("VSwitchId")),
        "vpc_id": _text(record.get("VpcId")),
        "zone_id": _text(record.get("ZoneId")),
        "cidr_block": _text(record.get("CidrBlock")),
        "status": _text(record.get("Status")),
        "name": _text(record.get("VSwitchName")),
        "available_ip_count": free,
    }


def describe_vswitches(connection, vswitch_ids: Iterable[str]) -> list[dict[str, Any]]:
    """The vSwitches with these IDs that exist, normalized (the API filters by one ID, so one listing per ID)."""
    found = []
    for vswitch_id in dict.fromkeys(vswitch_id for vswitch_id in vswitch_ids if vswitch_id):
        records = _pages(
            lambda number, vswitch_id=vswitch_id: describe_vswitches_page(connection, number, v_switch_id=vswitch_id),
            lambda body: _inner_list(body.get("VSwitches"), "VSwitch"),
        )
        found.extend(normalize_vswitch(record) for record in records if record.get("VSwitchId") == vswitch_id)
    return found


# ---- HaVips of a vSwitch ---------------------------------------------------------------------------


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
        records = _pages(
            lambda number, batch=batch: describe_ha_vips_by_vswitch_page(connection, number, batch),
            lambda body: _inner_list(body.get("HaVips"), "HaVip"),
        )
        for record in records:
            vswitch_id = _text(record.get("VSwitchId"))
            if vswitch_id in found and _text(record.get("HaVipId")) not in found[vswitch_id]:
                found[vswitch_id].append(_text(record.get("HaVipId")))
    return found


# ---- SNAT entries ----------------------------------------------------------------------------------


@api_call("DescribeSnatTableEntries")
def describe_snat_table_entries_page(connection, page_number: int, snat_table_id: str) -> dict[str, Any]:
    """One page of the entries of one SNAT table."""
    from alibabacloud_vpc20160428 import models

    request = models.DescribeSnatTableEntriesRequest(
        region_id=connection.region, snat_table_id=snat_table_id, page_number=page_number, page_size=SNAT_PAGE_SIZE
    )
    return _body(connection.vpc.describe_snat_table_entries_with_options(request, connection.runtime()))


def describe_snat_entries(connection, snat_table_id: str) -> list[dict[str, Any]]:
    """Every entry of a SNAT table, normalized (a table holds a few dozen at most, so one or two calls)."""
    records = _pages(
        lambda number: describe_snat_table_entries_page(connection, number, snat_table_id),
        lambda body: _inner_list(body.get("SnatTableEntries"), "SnatTableEntry"),
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
    from alibabacloud_vpc20160428 import models

    request = models.CreateSnatEntryRequest(
        region_id=connection.region,
        snat_table_id=snat_table_id,
        snat_ip=",".join(snat_ips),
        source_vswitch_id=source_vswitch_id or None,
        source_cidr=source_cidr or None,
        snat_entry_name=name or None,
        client_token=client_token,
    )
    return _text(_body(connection.vpc.create_snat_entry_with_options(request, connection.runtime())).get("SnatEntryId"))


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
    from alibabacloud_vpc20160428 import models

    request = models.ModifySnatEntryRequest(
        region_id=connection.region,
        snat_table_id=snat_table_id,
        snat_entry_id=snat_entry_id,
        snat_ip=",".join(snat_ips) if snat_ips else None,
        snat_entry_name=name or None,
        client_token=client_token,
    )
    return _text(_body(connection.vpc.modify_snat_entry_with_options(request, connection.runtime())).get("RequestId"))


@api_call("DeleteSnatEntry", mutating=True, retry_codes=SNAT_RETRY_CODES)
def delete_snat_entry(connection, snat_table_id: str, snat_entry_id: str, client_token: str | None = None) -> str:
    """DeleteSnatEntry; returns the request ID.  Asynchronous: Deleting -> gone."""
    from alibabacloud_vpc20160428 import models

    request = models.DeleteSnatEntryRequest(
        region_id=connection.region,
        snat_table_id=snat_table_id,
        snat_entry_id=snat_entry_id,
        client_token=client_token,
    )
    return _text(_body(connection.vpc.delete_snat_entry_with_options(request, connection.runtime())).get("RequestId"))
