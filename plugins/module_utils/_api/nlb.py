# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note: this module util is PRIVATE to the collection. It can change at any time; do not use it from
# other collections or standalone plugins/modules.

"""NLB (2022-04-30) calls: Network Load Balancers, as holders of one EIP per zone.

One wrapper per API call (see ``common`` for the conventions); the record shape and the job wait that ALB and NLB
share are in ``zonal_lb``.  NLB's SDK sends the parameters in the form body, names the zone address's ENI
(``EniId``) and its EIP address ``PublicIPv4Address``, spells its not-found code ``ResourceNotFound.loadBalancer``
(lower-case l) and follows a job with ``GetJobStatus`` (docs/load-balancers.md, the SDK models).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ansible_collections.alicloud.eip.plugins.module_utils._api import zonal_lb
from ansible_collections.alicloud.eip.plugins.module_utils._api.common import body, text, token_pages
from ansible_collections.alicloud.eip.plugins.module_utils._polling import WaitPolicy
from ansible_collections.alicloud.eip.plugins.module_utils._retries import AlicloudApiError, api_call

PRODUCT = "nlb"
NOT_FOUND = "ResourceNotFound.loadBalancer"


@api_call("GetLoadBalancerAttribute")
def get_nlb_attribute(connection, load_balancer_id: str) -> dict[str, Any]:
    """GetLoadBalancerAttribute of one NLB, as the API answers it."""
    from alibabacloud_nlb20220430 import models

    request = models.GetLoadBalancerAttributeRequest(load_balancer_id=load_balancer_id, region_id=connection.region)
    return body(connection.nlb.get_load_balancer_attribute_with_options(request, connection.runtime()))


def describe_nlbs(connection, load_balancer_ids: Iterable[str]) -> list[dict[str, Any]]:
    """The NLBs with these IDs that exist in the connection's region, normalized (one call per NLB)."""
    records = []
    for load_balancer_id in dict.fromkeys(load_balancer_ids):
        try:
            answer = get_nlb_attribute(connection, load_balancer_id)
        except AlicloudApiError as error:
            # Both spellings: the documented lower-case one, and ALB's in case NLB aligns it one day.
            if error.code.lower() == NOT_FOUND.lower():
                continue
            raise
        records.append(zonal_lb.normalize(PRODUCT, answer, "PublicIPv4Address", eni_field="EniId"))
    return records


@api_call("ListLoadBalancers")
def list_nlbs_page(connection, next_token: str | None) -> dict[str, Any]:
    """One page of ListLoadBalancers in the connection's region."""
    from alibabacloud_nlb20220430 import models

    request = models.ListLoadBalancersRequest(region_id=connection.region, max_results=100, next_token=next_token)
    return body(connection.nlb.list_load_balancers_with_options(request, connection.runtime()))


def list_nlb_ids(connection) -> list[str]:
    """The IDs of every NLB of the region."""
    records = token_pages(lambda token: list_nlbs_page(connection, token), lambda answer: answer.get("LoadBalancers"))
    return [text(record.get("LoadBalancerId")) for record in records or [] if isinstance(record, dict)]


@api_call("UpdateLoadBalancerAddressTypeConfig", mutating=True, retry_codes=zonal_lb.RETRY_CODES)
def update_nlb_address_type(
    connection,
    load_balancer_id: str,
    address_type: str,
    zones: Sequence[Mapping[str, str]],
    client_token: str | None = None,
) -> str:
    """UpdateLoadBalancerAddressTypeConfig with every zone's mapping (AllocationId for Internet); returns the JobId."""
    from alibabacloud_nlb20220430 import models

    request = models.UpdateLoadBalancerAddressTypeConfigRequest(
        load_balancer_id=load_balancer_id,
        address_type=address_type,
        region_id=connection.region,
        client_token=client_token,
        zone_mappings=[
            models.UpdateLoadBalancerAddressTypeConfigRequestZoneMappings(
                zone_id=zone["zone_id"], v_switch_id=zone["vswitch_id"], allocation_id=zone.get("allocation_id") or None
            )
            for zone in zones
        ]
        or None,
    )
    answer = body(connection.nlb.update_load_balancer_address_type_config_with_options(request, connection.runtime()))
    return text(answer.get("JobId"))


@api_call("UpdateLoadBalancerZones", mutating=True, retry_codes=zonal_lb.RETRY_CODES)
def update_nlb_zones(
    connection, load_balancer_id: str, zones: Sequence[Mapping[str, str]], client_token: str | None = None
) -> str:
    """UpdateLoadBalancerZones with the FULL zone list (a zone left out is removed); returns the JobId."""
    from alibabacloud_nlb20220430 import models

    request = models.UpdateLoadBalancerZonesRequest(
        load_balancer_id=load_balancer_id,
        region_id=connection.region,
        client_token=client_token,
        zone_mappings=[
            models.UpdateLoadBalancerZonesRequestZoneMappings(
                zone_id=zone["zone_id"], v_switch_id=zone["vswitch_id"], allocation_id=zone.get("allocation_id") or None
            )
            for zone in zones
        ],
    )
    answer = body(connection.nlb.update_load_balancer_zones_with_options(request, connection.runtime()))
    return text(answer.get("JobId"))


@api_call("GetJobStatus")
def get_nlb_job_status(connection, job_id: str) -> dict[str, str]:
    """GetJobStatus: ``{id, status, error_code, error_message}`` (the answer has no error fields)."""
    from alibabacloud_nlb20220430 import models

    request = models.GetJobStatusRequest(job_id=job_id)
    answer = body(connection.nlb.get_job_status_with_options(request, connection.runtime()))
    return zonal_lb.normalize_job({**answer, "Id": job_id})


def wait_for_nlb_job(
    connection, job_id: str, load_balancer_id: str, action: str, timeout: float, policy: WaitPolicy | None = None
) -> dict[str, Any]:
    """Wait until the job has Succeeded and the NLB is Active; returns the NLB. A Failed job raises an error."""
    return zonal_lb.wait_for_job(
        lambda ids: [get_nlb_job_status(connection, job) for job in ids],
        lambda ids: describe_nlbs(connection, ids),
        action,
        job_id,
        load_balancer_id,
        timeout,
        policy,
    )
