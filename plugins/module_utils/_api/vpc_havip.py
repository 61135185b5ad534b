# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note: this module util is PRIVATE to the collection. It can change at any time; do not use it from
# other collections or standalone plugins/modules.

"""VPC (2016-04-28) HaVip lifecycle calls for the ``havip`` and ``havip_info`` modules (alibaba-api.md §6).

The association engine's HaVip reader (``vpc_network.describe_ha_vips``, the HaVip as an EIP target) stays where
it is; this file reads the whole record (name, tags, master, associated instances) and makes the four changes:
CreateHaVip, AssociateHaVip, UnassociateHaVip, DeleteHaVip.  Each carries a ClientToken (the SDK models have one),
so a retry after a lost answer is answered from the first call.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ansible_collections.alicloud.eip.plugins.module_utils._api.common import (
    body,
    inner_list,
    pages,
    request_id,
    tags_to_dict,
    text,
)
from ansible_collections.alicloud.eip.plugins.module_utils._api.vpc_network import HAVIP_PAGE_SIZE
from ansible_collections.alicloud.eip.plugins.module_utils._openapi import light_models
from ansible_collections.alicloud.eip.plugins.module_utils._polling import WaitPolicy, Watch, wait_until
from ansible_collections.alicloud.eip.plugins.module_utils._retries import api_call

# AssociateHaVip / UnassociateHaVip: Associating/Unassociating then InUse (or Available when none is left);
# CreateHaVip: Creating then Available (alibaba-api.md §6.1, §6.3).
TRANSIENT_STATUSES = ("Creating", "Associating", "Unassociating", "Deleting")
# AssociateHaVip takes at most two ECS instances per HaVip (alibaba-api.md §6.3).
MAX_ASSOCIATED = 2
# "Filter.N.Key: up to 5 keys" (alibaba-api.md §6.2).
FILTER_KEYS = ("VpcId", "VSwitchId", "Status", "HaVipId", "HaVipAddress")


def normalize_havip_record(record: dict[str, Any]) -> dict[str, Any]:
    """One DescribeHaVips record as ``havip`` and ``havip_info`` return it (every key always present)."""
    return {
        "id": text(record.get("HaVipId")),
        "name": text(record.get("Name")),
        "description": text(record.get("Description")),
        "status": text(record.get("Status")),
        "ip_address": text(record.get("IpAddress")),
        "vpc_id": text(record.get("VpcId")),
        "vswitch_id": text(record.get("VSwitchId")),
        "master_instance_id": text(record.get("MasterInstanceId")),
        "associated_instance_type": text(record.get("AssociatedInstanceType")),
        # The SDK model reads these lower-case inner keys (sic, alibaba-api.md §6.2).
        "associated_instances": [text(item) for item in inner_list(record.get("AssociatedInstances"), "associatedInstance")],
        "eip_addresses": [text(ip) for ip in inner_list(record.get("AssociatedEipAddresses"), "associatedEipAddresse")],
        "create_time": text(record.get("CreateTime")),
        "tags": tags_to_dict(record.get("Tags")),
    }


@api_call("DescribeHaVips")
def describe_ha_vips_filter_page(
    connection, page_number: int, filters: Mapping[str, list[str]], tags: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """One page of DescribeHaVips; ``filters`` maps Filter keys to OR-ed values, keys are AND-ed."""
    models = light_models("vpc")

    request = models.DescribeHaVipsRequest(
        region_id=connection.region,
        filter=[
            models.DescribeHaVipsRequestFilter(key=key, value=list(values)) for key, values in filters.items() if values
        ]
        or None,
        # The tag parameter of DescribeHaVips is named Tags, not Tag (alibaba-api.md §6.2).
        tags=[models.DescribeHaVipsRequestTags(key=key, value=value) for key, value in (tags or {}).items()] or None,
        page_number=page_number,
        page_size=HAVIP_PAGE_SIZE,
    )
    return body(connection.vpc.describe_ha_vips_with_options(request, connection.runtime()))


def list_ha_vips(
    connection, filters: Mapping[str, Iterable[str]] | None = None, tags: Mapping[str, str] | None = None
) -> list[dict[str, Any]]:
    """Every HaVip matching the filters (every page), normalized, sorted by ID."""
    wanted = {key: list(dict.fromkeys(values)) for key, values in (filters or {}).items() if values}
    unknown = set(wanted) - set(FILTER_KEYS)
    if unknown:
        raise ValueError(f"unknown DescribeHaVips filter keys: {', '.join(sorted(unknown))}")
    records = pages(
        lambda page: describe_ha_vips_filter_page(connection, page, wanted, tags),
        lambda answer: inner_list(answer.get("HaVips"), "HaVip"),
    )
    found = [normalize_havip_record(record) for record in records if isinstance(record, dict)]
    # The API applies filters; the tags are checked here too, so a looser server cannot widen the answer.
    found = [item for item in found if all(item["tags"].get(key) == value for key, value in (tags or {}).items())]
    return sorted(found, key=lambda item: item["id"])


def one_ha_vip(connection, havip_id: str) -> dict[str, Any] | None:
    """The HaVip with this ID, normalized; ``None`` when it does not exist."""
    found = [item for item in list_ha_vips(connection, {"HaVipId": [havip_id]}) if item["id"] == havip_id]
    return found[0] if found else None


@api_call("CreateHaVip", mutating=True)
def create_ha_vip(
    connection,
    vswitch_id: str,
    name: str | None = None,
    description: str | None = None,
    ip_address: str | None = None,
    tags: Mapping[str, str] | None = None,
    client_token: str | None = None,
) -> dict[str, str]:
    """CreateHaVip (asynchronous: Creating, then Available); returns ``{"id", "ip_address"}``.

    The key of the HaVip (name, tags) travels in the call itself.
    """
    models = light_models("vpc")

    request = models.CreateHaVipRequest(
        region_id=connection.region,
        v_switch_id=vswitch_id,
        name=name or None,
        description=description or None,
        ip_address=ip_address or None,
        tag=[models.CreateHaVipRequestTag(key=key, value=value) for key, value in (tags or {}).items()] or None,
        client_token=client_token,
    )
    answer = body(connection.vpc.create_ha_vip_with_options(request, connection.runtime()))
    return {"id": text(answer.get("HaVipId")), "ip_address": text(answer.get("IpAddress"))}


@api_call("AssociateHaVip", mutating=True)
def associate_ha_vip(
    connection, havip_id: str, instance_id: str, instance_type: str, client_token: str | None = None
) -> str:
    """AssociateHaVip (Associating, then InUse); returns the request ID."""
    models = light_models("vpc")

    request = models.AssociateHaVipRequest(
        region_id=connection.region,
        ha_vip_id=havip_id,
        instance_id=instance_id,
        instance_type=instance_type,
        client_token=client_token,
    )
    return request_id(connection.vpc.associate_ha_vip_with_options(request, connection.runtime()))


@api_call("UnassociateHaVip", mutating=True)
def unassociate_ha_vip(
    connection, havip_id: str, instance_id: str, instance_type: str, force: bool, client_token: str | None = None
) -> str:
    """UnassociateHaVip; ``force=False`` makes the API refuse the master (Forbidden.UnassociateMaster)."""
    models = light_models("vpc")

    request = models.UnassociateHaVipRequest(
        region_id=connection.region,
        ha_vip_id=havip_id,
        instance_id=instance_id,
        instance_type=instance_type,
        # The API takes the strings True / False (alibaba-api.md §6.3).
        force="True" if force else "False",
        client_token=client_token,
    )
    return request_id(connection.vpc.unassociate_ha_vip_with_options(request, connection.runtime()))


@api_call("DeleteHaVip", mutating=True)
def delete_ha_vip(connection, havip_id: str, client_token: str | None = None) -> str:
    """DeleteHaVip (the HaVip must be Available: no instance, no EIP, no route); returns the request ID."""
    models = light_models("vpc")

    request = models.DeleteHaVipRequest(region_id=connection.region, ha_vip_id=havip_id, client_token=client_token)
    return request_id(connection.vpc.delete_ha_vip_with_options(request, connection.runtime()))


def _settled(expected: str, record: dict[str, Any] | None) -> bool:
    if expected == "absent":
        return record is None
    return record is not None and record["status"] not in TRANSIENT_STATUSES


def wait_for_havip(connection, havip_id: str, timeout: float, gone: bool = False, policy: WaitPolicy | None = None):
    """Poll until the HaVip is out of its transient status (or gone); returns its last record."""
    watch = Watch(key="id", is_done=_settled, subject="HaVip ")
    latest = wait_until(
        lambda ids: [item for item in list_ha_vips(connection, {"HaVipId": ids}) if item["id"] in ids],
        {havip_id: "absent" if gone else "settled"},
        watch,
        timeout,
        policy,
    )
    return latest.get(havip_id)
