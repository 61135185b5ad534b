# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note: this module util is PRIVATE to the collection. It can change at any time; do not use it from
# other collections or standalone plugins/modules.

"""What the ALB and NLB product files share: the load balancer record, the job record and the one job wait.

Not a product file (it makes no call): ``alb`` and ``nlb`` import it.  A load balancer record is::

    {"id", "product" (alb|nlb), "region_id", "status", "address_type" (Internet|Intranet), "vpc_id",
     "locks": [lock types], "zones": [{"zone_id", "vswitch_id", "allocation_id", "address", "eni_id"}]}

with at most one address per zone (the API returns "at most 1 element" in ``LoadBalancerAddresses``,
kubernetes/cloud-provider-alibaba-cloud#457).  Both job styles end in one wait (:func:`wait_for_job`): the job
until ``Succeeded`` (compared case-insensitively: the NLB doc spells ``processing``), then the load balancer until
``Active``; a ``Failed`` job raises its ``ErrorCode`` and ``ErrorMessage`` as an :class:`AlicloudApiError`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ansible_collections.alicloud.eip.plugins.module_utils._api.common import inner_list, text
from ansible_collections.alicloud.eip.plugins.module_utils._polling import Watch, WaitError, WaitPolicy, wait_until
from ansible_collections.alicloud.eip.plugins.module_utils._retries import AlicloudApiError

# Retried on every ALB/NLB update (the retry lists of Terraform's alicloud provider): the load balancer is
# Configuring or Provisioning, a concurrent change holds the lock, or the same ClientToken is still at work.
RETRY_CODES = ("IncorrectStatus.LoadBalancer", "SystemBusy", "IdempotenceProcessing", "Conflict.Lock")


def _zone(mapping: Mapping[str, Any], address_field: str, eni_field: str | None) -> dict[str, str]:
    addresses = [entry for entry in inner_list(mapping.get("LoadBalancerAddresses"), "") if isinstance(entry, dict)]
    first = addresses[0] if addresses else {}
    return {
        "zone_id": text(mapping.get("ZoneId")),
        "vswitch_id": text(mapping.get("VSwitchId")),
        "allocation_id": text(first.get("AllocationId")),
        "address": text(first.get(address_field)),
        "eni_id": text(first.get(eni_field)) if eni_field else "",
    }


def normalize(product: str, record: Mapping[str, Any], address_field: str, eni_field: str | None) -> dict[str, Any]:
    """A GetLoadBalancerAttribute answer of either product as one record (see the module docstring)."""
    locks = inner_list(record.get("LoadBalancerOperationLocks") or record.get("OperationLocks"), "")
    return {
        "id": text(record.get("LoadBalancerId")),
        "product": product,
        "region_id": text(record.get("RegionId")),
        "status": text(record.get("LoadBalancerStatus")),
        "address_type": text(record.get("AddressType")),
        "vpc_id": text(record.get("VpcId")),
        "locks": [text(lock.get("LockType")) for lock in locks if isinstance(lock, dict)],
        "zones": [
            _zone(mapping, address_field, eni_field)
            for mapping in inner_list(record.get("ZoneMappings"), "")
            if isinstance(mapping, dict)
        ],
    }


def normalize_job(record: Mapping[str, Any]) -> dict[str, str]:
    """A ListAsynJobs entry (or a GetJobStatus answer with its ID): ``{id, status, error_code, error_message}``."""
    return {
        "id": text(record.get("Id")),
        "status": text(record.get("Status")),
        "error_code": text(record.get("ErrorCode")),
        "error_message": text(record.get("ErrorMessage")),
    }


def _job_done(_expected: Any, job: dict[str, Any] | None) -> bool:
    return job is not None and job["status"].lower() == "succeeded"


def _job_failed(_expected: Any, job: dict[str, Any] | None, _seen: bool) -> bool:
    return job is not None and job["status"].lower() == "failed"


JOB_WATCH = Watch(
    key="id", is_done=_job_done, has_failed=_job_failed, wanted_text=lambda _: "Succeeded", subject="job "
)
BALANCER_WATCH = Watch(
    key="id",
    is_done=lambda _expected, balancer: balancer is not None and balancer["status"] == "Active",
    has_failed=lambda _expected, balancer, _seen: balancer is not None and balancer["status"] == "CreateFailed",
    wanted_text=lambda _: "Active",
    subject="load balancer ",
)


def wait_for_job(
    list_jobs: Callable[[list[str]], list[dict[str, Any]]],
    describe: Callable[[list[str]], list[dict[str, Any]]],
    action: str,
    job_id: str,
    load_balancer_id: str,
    timeout: float,
    policy: WaitPolicy | None = None,
) -> dict[str, Any]:
    """The job until Succeeded, then the load balancer until Active; returns the load balancer record.

    A job the API reports Failed raises :class:`AlicloudApiError` with the job's code and message (``action`` names
    the call that started it); a timeout raises ``_polling.WaitError``.
    """
    if job_id:
        try:
            wait_until(list_jobs, {job_id: None}, JOB_WATCH, timeout, policy)
        except WaitError as error:
            job = error.latest.get(job_id)
            if job is None or job["status"].lower() != "failed":
                raise
            raise AlicloudApiError(
                job["error_code"] or "JobFailed",
                f"job {job_id} of {load_balancer_id} failed: {job['error_message'] or 'no message'}",
                action=action,
            ) from None
    latest = wait_until(describe, {load_balancer_id: None}, BALANCER_WATCH, timeout, policy, poll_first=True)
    return latest[load_balancer_id] or {}
