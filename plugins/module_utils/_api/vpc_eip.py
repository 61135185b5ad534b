# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note: this module util is PRIVATE to the collection. It can change at any time; do not use it from
# other collections or standalone plugins/modules.

"""VPC (2016-04-28) EIP calls: describe, associate and unassociate, the EIP lifecycle, and the EIP waiter.

One wrapper per API call (see ``common`` for the conventions).  AssociateEipAddress and UnassociateEipAddress are
asynchronous (Associating -> InUse, Unassociating -> Available): :func:`wait_for_eips` polls every pending EIP at
once (50 allocation IDs per call, the API's limit) through the collection's one waiting loop,
:func:`wait_until`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ansible_collections.alicloud.eip.plugins.module_utils._api.common import (
    body,
    chunks,
    inner_list,
    number,
    pages,
    request_id,
    tags_to_dict,
    text,
)
from ansible_collections.alicloud.eip.plugins.module_utils._openapi import light_models
from ansible_collections.alicloud.eip.plugins.module_utils._polling import WaitPolicy, Watch, wait_until
from ansible_collections.alicloud.eip.plugins.module_utils._retries import api_call

# Documented batch limits: DescribeEipAddresses takes up to 50 comma-separated IDs or addresses.
EIP_BATCH = 50
EIP_PAGE_SIZE = 100
# TagResources / UnTagResources take at most 20 tags and 50 resources per request (documented limits).
TAG_BATCH = 20
# The asynchronous statuses of an EIP.
TRANSIENT_STATUSES = ("Associating", "Unassociating", "Releasing")

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
    eip: dict[str, Any] = {snake: text(record.get(camel)) for camel, snake in EIP_TEXT_FIELDS}
    eip["bandwidth"] = number(record.get("Bandwidth"))
    eip["deletion_protection"] = bool(record.get("DeletionProtection"))
    eip["operation_locks"] = [
        text(lock.get("LockReason"))
        for lock in inner_list(record.get("OperationLocks"), "LockReason")
        if isinstance(lock, dict)
    ]
    eip["tags"] = tags_to_dict(record.get("Tags"))
    # An EIP on a service-managed ENI (an ALB or NLB zone, UNCONFIRMED [fid:lb-eip-service-managed]); ``owner``
    # names the load balancer once the association engine or eip_info has looked it up (_eip_association/lb_zones).
    eip["service_managed"] = bool(number(record.get("ServiceManaged")))
    eip["owner"] = None
    return eip


# ---- describe, associate, unassociate ----------------------------------------------------------------


@api_call("DescribeEipAddresses")
def describe_eip_addresses_page(connection, page_number: int, **filters: Any) -> dict[str, Any]:
    """One page of DescribeEipAddresses (filters are request-model field names)."""
    models = light_models("vpc")

    tags = filters.pop("tags", None)
    request = models.DescribeEipAddressesRequest(
        region_id=connection.region, page_number=page_number, page_size=EIP_PAGE_SIZE, **filters
    )
    if tags:
        request.tag = [models.DescribeEipAddressesRequestTag(key=key, value=value) for key, value in tags.items()]
    return body(connection.vpc.describe_eip_addresses_with_options(request, connection.runtime()))


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
        records = pages(
            lambda page, batch=batch: describe_eip_addresses_page(connection, page, **batch, **dict(filters)),
            lambda answer: inner_list(answer.get("EipAddresses"), "EipAddress"),
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
    models = light_models("vpc")

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
    return request_id(connection.vpc.associate_eip_address_with_options(request, connection.runtime()))


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
    models = light_models("vpc")

    request = models.UnassociateEipAddressRequest(
        region_id=connection.region,
        allocation_id=allocation_id,
        instance_id=instance_id,
        instance_type=instance_type,
        private_ip_address=private_ip_address or None,
        force=force,
        client_token=client_token,
    )
    return request_id(connection.vpc.unassociate_eip_address_with_options(request, connection.runtime()))


# ---- lifecycle (allocate, modify, tag, release, gateway info) -------------------------------------------


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
    models = light_models("vpc")

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
    answer = body(connection.vpc.allocate_eip_address_with_options(request, connection.runtime()))
    return {"allocation_id": text(answer.get("AllocationId")), "ip_address": text(answer.get("EipAddress"))}


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
    models = light_models("vpc")

    del client_token
    request = models.ReleaseEipAddressRequest(region_id=connection.region, allocation_id=allocation_id)
    return request_id(connection.vpc.release_eip_address_with_options(request, connection.runtime()))


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
    models = light_models("vpc")

    del client_token
    request = models.ModifyEipAddressAttributeRequest(
        region_id=connection.region,
        allocation_id=allocation_id,
        bandwidth=str(bandwidth) if bandwidth is not None else None,
        name=name,
        description=description,
    )
    return request_id(connection.vpc.modify_eip_address_attribute_with_options(request, connection.runtime()))


@api_call("TagResources", mutating=True, verify=eip_tags_hold)
def tag_resources_batch(
    connection,
    resource_ids: list[str],
    tags: dict[str, str],
    resource_type: str = "EIP",
    client_token: str | None = None,
) -> str:
    """One TagResources call (at most 20 tags); returns the request ID."""
    models = light_models("vpc")

    del client_token
    request = models.TagResourcesRequest(
        region_id=connection.region,
        resource_id=list(resource_ids),
        resource_type=resource_type,
        tag=[models.TagResourcesRequestTag(key=key, value=value) for key, value in tags.items()],
    )
    return request_id(connection.vpc.tag_resources_with_options(request, connection.runtime()))


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
    models = light_models("vpc")

    del client_token
    request = models.UnTagResourcesRequest(
        region_id=connection.region, resource_id=list(resource_ids), resource_type=resource_type, tag_key=list(keys)
    )
    return request_id(connection.vpc.un_tag_resources_with_options(request, connection.runtime()))


def untag_resources(connection, resource_ids: list[str], keys: Iterable[str], resource_type: str = "EIP") -> None:
    """Remove the tag ``keys`` from the resources, 20 keys per call."""
    for batch in chunks(list(keys), TAG_BATCH):
        untag_resources_batch(connection, resource_ids, batch, resource_type=resource_type)


@api_call("DescribeEipGatewayInfo")
def describe_eip_gateway_info(connection, network_interface_id: str) -> list[dict[str, str]]:
    """The MULTI_BINDED EIPs of a secondary ENI with gateway and mask: ``[{"ip", "gateway", "mask"}]``."""
    models = light_models("vpc")

    request = models.DescribeEipGatewayInfoRequest(region_id=connection.region, instance_id=network_interface_id)
    answer = body(connection.vpc.describe_eip_gateway_info_with_options(request, connection.runtime()))
    return [
        {
            # The 2021 doc's sample spells "IP", but the SDK model reads only "Ip" (alibaba-api.md §3.9).
            "ip": text(entry.get("Ip")),
            "gateway": text(entry.get("IpGw")),
            "mask": text(entry.get("IpMask")),
        }
        for entry in inner_list(answer.get("EipInfos"), "EipInfo")
        if isinstance(entry, dict)
    ]


# ---- waiting ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Expectation:
    """What an EIP should look like: a status and, for InUse, the holder (and private IP on an ENI)."""

    status: str
    instance_id: str | None = None
    private_ip_address: str | None = None

    def met(self, eip: dict[str, Any] | None) -> bool:
        if eip is None:
            return self.status == "Released"
        if eip["status"] != self.status:
            return False
        if self.instance_id is not None and eip["instance_id"] != self.instance_id:
            return False
        return not self.private_ip_address or eip["private_ip_address"] in ("", self.private_ip_address)

    def failed(self, eip: dict[str, Any] | None, seen_transient: bool) -> bool:
        """An association that went Associating -> Available again did not take; no use waiting on."""
        return seen_transient and self.status == "InUse" and eip is not None and eip["status"] == "Available"

    def describe(self) -> str:
        label = self.status
        if self.instance_id:
            label += f" on {self.instance_id}"
            if self.private_ip_address:
                label += f" ({self.private_ip_address})"
        return label


STABLE = None  # sentinel expectation: any non-transient status


def _is_transient(eip: dict[str, Any] | None) -> bool:
    return eip is not None and eip["status"] in TRANSIENT_STATUSES


def _is_done(expectation: Expectation | None, eip: dict[str, Any] | None) -> bool:
    if expectation is None:
        return not _is_transient(eip)
    return expectation.met(eip)


def _label(eip: dict[str, Any] | None) -> str:
    if eip is None:
        return "not found"
    holder = f" on {eip['instance_id']}" if eip.get("instance_id") else ""
    return f"{eip['status']}{holder}"


EIP_WATCH = Watch(
    key="allocation_id",
    is_done=_is_done,
    wanted_text=lambda expectation: expectation.describe() if expectation else "stable",
    seen_text=_label,
    is_transient=_is_transient,
    has_failed=lambda expectation, eip, seen: expectation is not None and expectation.failed(eip, seen),
    failure=lambda ids, _expected: (
        f"the association of {', '.join(ids)} did not take: the EIP went back to Available"
    ),
)


# An association usually settles within a few seconds: poll every 0.2 s for the first 3 s, so that the waiter sees
# the last EIP InUse at most one short interval late (growing x1.5 from the start let a poll land 0.6 s after an
# association done at 1 s), then back off as usual.
EIP_STEADY_SECONDS = 3.0


def wait_for_eips(
    connection,
    expectations: Mapping[str, Expectation | None],
    timeout: float,
    policy: WaitPolicy | None = None,
    describe: Callable[..., list[dict[str, Any]]] = describe_eip_addresses,
    poll_first: bool = False,
) -> dict[str, dict[str, Any] | None]:
    """Poll until every EIP meets its expectation; returns the last record of each (``None``: gone).

    An expectation of ``None`` (``STABLE``) means "any status that is not transient".  With
    ``poll_first`` the first describe happens at once (to see the current state); otherwise the
    waiter first sleeps ``first_interval`` (the caller has just issued the asynchronous call).
    Raises :class:`WaitError` on timeout, or when an association visibly fails.
    """
    return wait_until(
        lambda allocation_ids: describe(connection, allocation_ids=allocation_ids),
        expectations,
        EIP_WATCH,
        timeout,
        policy or WaitPolicy(steady=EIP_STEADY_SECONDS),
        poll_first,
    )
