# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note: this module util is PRIVATE to the collection. It can change at any time; do not use it from
# other collections or standalone plugins/modules.

"""SLB (2014-05-15) calls: Classic Load Balancers, as holders of EIPs.

One wrapper per API call (see ``common`` for the conventions).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ansible_collections.alicloud.eip.plugins.module_utils._api.common import (
    body,
    inner_list,
    pages,
    read_batches,
    text,
)
from ansible_collections.alicloud.eip.plugins.module_utils._openapi import light_models
from ansible_collections.alicloud.eip.plugins.module_utils._retries import api_call

# DescribeLoadBalancers takes up to 10 comma-separated IDs (UNCONFIRMED: the SLB docs say "multiple IDs"; 10 is
# the conservative reading). [fid:slb-describe-max-ids]
SLB_BATCH = 10
SLB_PAGE_SIZE = 100


def normalize_load_balancer(record: dict[str, Any]) -> dict[str, Any]:
    """A Classic Load Balancer."""
    return {
        "id": text(record.get("LoadBalancerId")),
        "status": text(record.get("LoadBalancerStatus")),
        "address_type": text(record.get("AddressType")),
        "network_type": text(record.get("NetworkType")),
        "address": text(record.get("Address")),
        "vpc_id": text(record.get("VpcId")),
    }


@api_call("DescribeLoadBalancers")
def describe_load_balancers_page(connection, page_number: int, load_balancer_ids: list[str]) -> dict[str, Any]:
    """One page of DescribeLoadBalancers by comma-separated ``LoadBalancerId``."""
    models = light_models("slb")

    request = models.DescribeLoadBalancersRequest(
        region_id=connection.region,
        load_balancer_id=",".join(load_balancer_ids),
        page_number=page_number,
        page_size=SLB_PAGE_SIZE,
    )
    return body(connection.slb.describe_load_balancers_with_options(request, connection.runtime()))


def describe_load_balancers(connection, load_balancer_ids: Iterable[str]) -> list[dict[str, Any]]:
    """The CLB instances with these IDs that exist, normalized."""

    def listing(batch: list[str]) -> list[Any]:
        return pages(
            lambda page: describe_load_balancers_page(connection, page, batch),
            lambda answer: inner_list(answer.get("LoadBalancers"), "LoadBalancer"),
        )

    records = read_batches(load_balancer_ids, SLB_BATCH, listing, "LoadBalancerId")
    return [normalize_load_balancer(record) for record in records]
