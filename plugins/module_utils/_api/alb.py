# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note: this module util is PRIVATE to the collection. It can change at any time; do not use it from
# other collections or standalone plugins/modules.

"""ALB (2020-06-16) calls: Application Load Balancers, as holders of one EIP per zone.

One wrapper per API call (see ``common`` for the conventions); the record shape and the job wait that ALB and NLB
share are in ``zonal_lb``.  ALB has no GetJobStatus: a job is followed with ``ListAsynJobs(JobIds.1)``, then the
load balancer until it is ``Active`` again (docs/load-balancers.md).  The API spells
``LoadBalancerBussinessStatus`` with "ss"; the record does not carry it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ansible_collections.alicloud.eip.plugins.module_utils._api import zonal_lb
from ansible_collections.alicloud.eip.plugins.module_utils._api.common import body, text, token_pages
from ansible_collections.alicloud.eip.plugins.module_utils._polling import WaitPolicy
from ansible_collections.alicloud.eip.plugins.module_utils._retries import AlicloudApiError, api_call

PRODUCT = "alb"
NOT_FOUND = "ResourceNotFound.LoadBalancer"


@api_call("GetLoadBalancerAttribute")
def get_alb_attribute(connection, load_balancer_id: str) -> dict[str, Any]:
    """GetLoadBalancerAttribute of one ALB, as the API answers it."""
    from alibabacloud_alb20200616 import models

    request = models.GetLoadBalancerAttributeRequest(load_balancer_id=load_balancer_id)
    return body(connection.alb.get_load_balancer_attribute_with_options(request, connection.runtime()))


def describe_albs(connection, load_balancer_ids: Iterable[str]) -> list[dict[str, Any]]:
    """The ALBs with these IDs that exist in the connection's region, normalized (one call per ALB)."""
    records = []
    for load_balancer_id in dict.fromkeys(load_balancer_ids):
        try:
            answer = get_alb_attribute(connection, load_balancer_id)
        except AlicloudApiError as error:
            if error.code == NOT_FOUND:
                continue
            raise
        record = zonal_lb.normalize(PRODUCT, answer, "Address", eni_field=None)
        if record["region_id"] in ("", connection.region):
            records.append(record)
    return records


@api_call("ListLoadBalancers")
def list_albs_page(connection, next_token: str | None) -> dict[str, Any]:
    """One page of ListLoadBalancers (every ALB of the region the endpoint serves)."""
    from alibabacloud_alb20200616 import models

    request = models.ListLoadBalancersRequest(max_results=100, next_token=next_token)
    return body(connection.alb.list_load_balancers_with_options(request, connection.runtime()))


def list_alb_ids(connection) -> list[str]:
    """The IDs of every ALB of the region."""
    records = token_pages(lambda token: list_albs_page(connection, token), lambda answer: answer.get("LoadBalancers"))
    return [text(record.get("LoadBalancerId")) for record in records or [] if isinstance(record, dict)]


@api_call("UpdateLoadBalancerAddressTypeConfig", mutating=True, retry_codes=zonal_lb.RETRY_CODES)
def update_alb_address_type(
    connection,
    load_balancer_id: str,
    address_type: str,
    zones: Sequence[Mapping[str, str]],
    client_token: str | None = None,
) -> str:
    """UpdateLoadBalancerAddressTypeConfig with every zone's mapping; returns the JobId.

    This is also how one zone's EIP is swapped on an Internet-facing ALB: UpdateLoadBalancerZones takes no
    AllocationId and answers OperationDenied.ZoneMappingsNotChanged (terraform-provider-alicloud#9309).
    """
    from alibabacloud_alb20200616 import models

    request = models.UpdateLoadBalancerAddressTypeConfigRequest(
        load_balancer_id=load_balancer_id,
        address_type=address_type,
        client_token=client_token,
        zone_mappings=[
            models.UpdateLoadBalancerAddressTypeConfigRequestZoneMappings(
                zone_id=zone["zone_id"], v_switch_id=zone["vswitch_id"], allocation_id=zone.get("allocation_id") or None
            )
            for zone in zones
        ]
        or None,
    )
    answer = body(connection.alb.update_load_balancer_address_type_config_with_options(request, connection.runtime()))
    return text(answer.get("JobId"))


@api_call("ListAsynJobs")
def list_alb_jobs(connection, job_ids: list[str]) -> list[dict[str, Any]]:
    """ListAsynJobs by JobIds: ``{id, status, error_code, error_message}`` per job."""
    from alibabacloud_alb20200616 import models

    request = models.ListAsynJobsRequest(job_ids=list(job_ids), max_results=100)
    answer = body(connection.alb.list_asyn_jobs_with_options(request, connection.runtime()))
    return [zonal_lb.normalize_job(job) for job in answer.get("Jobs") or [] if isinstance(job, dict)]


def wait_for_alb_job(
    connection, job_id: str, load_balancer_id: str, action: str, timeout: float, policy: WaitPolicy | None = None
) -> dict[str, Any]:
    """Wait until the job has Succeeded and the ALB is Active; returns the ALB. A Failed job raises its error."""
    return zonal_lb.wait_for_job(
        lambda ids: list_alb_jobs(connection, ids),
        lambda ids: describe_albs(connection, ids),
        action,
        job_id,
        load_balancer_id,
        timeout,
        policy,
    )
