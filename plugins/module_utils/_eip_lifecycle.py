# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note: this module util is PRIVATE to the collection. It can change at any time; do not use it from
# other collections or standalone plugins/modules.

"""The EIP lifecycle shared by eip_address and eip_recover: find an EIP by its key, plan attribute and tag
changes, decide whether a release may happen, explain allocation and recovery errors, and hand
associations to the one door of the association engine (``_eip_association.engine.converge``), typed.

The decision functions are pure (records in, plans out) so that unit tests can drive them table-wise;
the functions that call the cloud take the API namespace (``_api.namespace.API``)
as a parameter for the same reason.
"""

from __future__ import annotations

import copy
import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.alicloud.eip.plugins.module_utils._api.namespace import API
from ansible_collections.alicloud.eip.plugins.module_utils._api.vpc_eip import (
    EIP_TEXT_FIELDS,
    STABLE,
    TRANSIENT_STATUSES,
    Expectation,
    wait_for_eips,
)
from ansible_collections.alicloud.eip.plugins.module_utils._eip_association import lb_zones
from ansible_collections.alicloud.eip.plugins.module_utils._eip_association.engine import Options, Result, converge
from ansible_collections.alicloud.eip.plugins.module_utils._eip_association.plan import PlanError
from ansible_collections.alicloud.eip.plugins.module_utils._eip_association.targets import ZONAL
from ansible_collections.alicloud.eip.plugins.module_utils._eip_association.request import (
    Desired,
    is_allocation_id,
    validate_target,
)
from ansible_collections.alicloud.eip.plugins.module_utils._limits import (
    ALLOCATION_INTERNET_CHARGE_TYPE,
    RECOVERY_INTERNET_CHARGE_TYPE,
    SYSTEM_TAG_PREFIXES,
    LimitError,
    check_bandwidth,
    check_eip_description,
    check_eip_name,
    check_isp,
    check_tags,
)
from ansible_collections.alicloud.eip.plugins.module_utils._polling import WaitPolicy
from ansible_collections.alicloud.eip.plugins.module_utils._retries import AlicloudApiError
from ansible_collections.alicloud.eip.plugins.module_utils._util import InputError

# Tag keys the cloud reserves for itself (SYSTEM_TAG_PREFIXES, from _limits) cannot be set or removed by the user
# (Forbidden.TagKeys), so purge_tags leaves them alone, as amazon.aws leaves "aws:" tags alone.

# The fields eip_address and eip_recover manage, as the diff shows them.
DIFF_FIELDS = ("allocation_id", "ip_address", "status", "name", "description", "bandwidth", "tags", "instance_id")

# Fixed when the EIP is allocated: ModifyEipAddressAttribute cannot change them.
ALLOCATION_ONLY_FIELDS = ("internet_charge_type", "isp")

# What the allocation and recovery codes mean, and what the user can do (alibaba-api.md §3.5, §3.6, §4).
ALLOCATION_ERROR_HINTS = {
    "QuotaExceeded.Eip": "the region's EIP quota is used up; release an unused EIP or ask for a higher quota",
    "FrequentPurchase.EIP": "too many EIPs were requested in a short time; wait a minute and run the task again",
    "OperationFailed.AllocateUnfamiliarIp": (
        "the address was not released by this account within the last 7 days (or never belonged to it); "
        "after 7 days only a support ticket can bring it back"
    ),
    "OperationDenied.IpBelongToOtherUser": "the address now belongs to another account and cannot be recovered",
    "Ip.Allocated": (
        "the address is allocated already, and not as an EIP of this account in this region: another account "
        "(or another region of this account) holds it"
    ),
    "Ip.Keeped": "the address is reserved for the moment (the cloud keeps it for up to an hour); try again later",
    "OperationFailed.IpIsLocked": "the address is locked (for example for security reasons); open a ticket",
    "ResourceNotFound.Ip": "the cloud does not know this address",
    "OperationFailed.InstanceNotExist": "the cloud does not know this allocation ID",
    "IllegalParam.IpAddress": "the address is not valid",
    "ReserveIpFail": "the cloud could not reserve the address; try again later",
    # UNCONFIRMED: the documented limit of 20 recoveries a month has no documented error code; the emulator
    # [fid:eip-recover-monthly-limit-code]
    # answers OperationFailed.ResourceNotEnough for it.
    "OperationFailed.ResourceNotEnough": (
        "no address could be reserved; if this account recovered 20 EIPs this month, that is the monthly limit "
        "(a ticket raises it)"
    ),
}


class LifecycleError(Exception):
    """A change that cannot be made: predicted (``code`` is the API's code, no request) or answered by the API."""

    def __init__(self, message: str, code: str | None = None, action: str | None = None, api_error=None):
        super().__init__(message)
        self.code = code
        self.action = action
        self.api_error: AlicloudApiError | None = api_error

    def as_dict(self) -> dict[str, Any] | None:
        """The ``error`` result: the API's answer, or the predicted code with ``predicted: true``."""
        if self.api_error is not None:
            return self.api_error.as_dict()
        if self.code is None:
            return None
        return {
            "code": self.code,
            "message": str(self),
            "request_id": None,
            "status_code": None,
            "action": self.action,
            "predicted": True,
        }


# ---- input ---------------------------------------------------------------------------------------------


def validate_key_options(params: Mapping[str, Any]) -> None:
    """Check allocation_id, ip_address, wait_timeout and the documented limits of name, description, bandwidth and
    tags (``_limits``); raises InputError.  The bandwidth is checked against the ceiling of the given
    internet_charge_type here, and against the billing of the EIP by :func:`check_bandwidth_for`."""
    allocation_id = params.get("allocation_id")
    if allocation_id and not is_allocation_id(allocation_id):
        raise InputError(f"allocation_id: {allocation_id!r} is not an EIP allocation ID (they look like eip-bp1xxxx)")
    address = params.get("ip_address")
    if address:
        try:
            ipaddress.IPv4Address(address)
        except ValueError:
            raise InputError(f"ip_address: {address!r} is not an IPv4 address") from None
    if params.get("wait_timeout") is not None and params["wait_timeout"] <= 0:
        raise InputError(f"wait_timeout must be a positive number of seconds, got {params['wait_timeout']}")
    try:
        check_eip_name(params.get("name"))
        check_eip_description(params.get("description"))
        check_isp(params.get("isp"))
        check_tags(params.get("tags"))
        bandwidth = params.get("bandwidth")
        if params.get("internet_charge_type"):
            check_bandwidth(bandwidth, params["internet_charge_type"])
        else:  # the billing of the EIP decides the ceiling (check_bandwidth_for); the floor holds for every billing
            check_bandwidth(bandwidth, None, "PrePaid")
    except LimitError as error:
        raise InputError(str(error)) from None


def check_bandwidth_for(eip: Mapping[str, Any] | None, params: Mapping[str, Any], recovering: bool = False) -> None:
    """Refuse a bandwidth outside what the billing allows, before any call; raises InputError.

    ``eip`` is the EIP to modify, or ``None`` for the EIP to allocate (``recovering``: to recover), whose billing is
    the given internet_charge_type or the API's default for the call (PayByBandwidth; PayByTraffic when recovered).
    An EIP that already has the bandwidth gets no call, so it is not checked.
    """
    bandwidth = params.get("bandwidth")
    if bandwidth is None:
        return
    try:
        if eip is None:
            default = RECOVERY_INTERNET_CHARGE_TYPE if recovering else ALLOCATION_INTERNET_CHARGE_TYPE
            internet_charge_type = params.get("internet_charge_type") or default
            whose = "the recovered EIP" if recovering else "the new EIP"
            check_bandwidth(bandwidth, internet_charge_type, "PostPaid", whose=whose)
        elif eip.get("bandwidth") != bandwidth:
            internet_charge_type = eip.get("internet_charge_type") or ALLOCATION_INTERNET_CHARGE_TYPE
            charge_type = eip.get("charge_type") or "PostPaid"
            check_bandwidth(bandwidth, internet_charge_type, charge_type, whose=eip["allocation_id"], existing=True)
    except LimitError as error:
        raise InputError(str(error)) from None


def normalize_tags(tags: Mapping[str, Any] | None) -> dict[str, str] | None:
    """Tag values as the cloud stores them (strings); ``None`` stays ``None`` (leave tags alone)."""
    if tags is None:
        return None
    return {str(key): "" if value is None else str(value) for key, value in tags.items()}


# ---- finding the EIP ----------------------------------------------------------------------------------------


def key_label(params: Mapping[str, Any]) -> str:
    """How the EIP is identified, for messages."""
    if params.get("allocation_id"):
        return f"allocation_id {params['allocation_id']}"
    if params.get("ip_address"):
        return f"ip_address {params['ip_address']}"
    tags = params.get("tags") or {}
    suffix = f" and tags {dict(sorted(tags.items()))}" if tags else ""
    return f"name {params.get('name')!r}{suffix}"


def select_eip(candidates: Sequence[Mapping[str, Any]], params: Mapping[str, Any]) -> dict[str, Any] | None:
    """The one EIP the key names among the described candidates; raises LifecycleError on a conflict.

    The key is allocation_id, else ip_address, else name plus every given tag.  With allocation_id, an
    ip_address that differs from the EIP's is an error (the two name different EIPs).
    """
    allocation_id = params.get("allocation_id")
    address = params.get("ip_address")
    if allocation_id:
        matches = [eip for eip in candidates if eip["allocation_id"] == allocation_id]
        if matches and address and matches[0]["ip_address"] != address:
            raise LifecycleError(
                f"allocation_id {allocation_id} has the address {matches[0]['ip_address']}, not {address}; "
                "give one of the two, or both of the same EIP"
            )
    elif address:
        matches = [eip for eip in candidates if eip["ip_address"] == address]
    else:
        name = params.get("name")
        tags = normalize_tags(params.get("tags")) or {}
        matches = [
            eip
            for eip in candidates
            if eip["name"] == name and all(eip["tags"].get(key) == value for key, value in tags.items())
        ]
    if len(matches) > 1:
        ids = ", ".join(sorted(eip["allocation_id"] for eip in matches))
        raise LifecycleError(
            f"{len(matches)} EIPs match {key_label(params)}: {ids}; name one with allocation_id, or add tags "
            "that tell them apart"
        )
    return dict(matches[0]) if matches else None


def find_eip(connection, params: Mapping[str, Any], api=API) -> dict[str, Any] | None:
    """Describe the EIP the key names (one DescribeEipAddresses) and select it; ``None`` when there is none."""
    if params.get("allocation_id"):
        candidates = api.describe_eip_addresses(connection, allocation_ids=[params["allocation_id"]])
    elif params.get("ip_address"):
        candidates = api.describe_eip_addresses(connection, ip_addresses=[params["ip_address"]])
    else:
        candidates = api.describe_eip_addresses(
            connection, name=params["name"], tags=normalize_tags(params.get("tags")) or None
        )
    return select_eip(candidates, params)


def settle(
    connection, eip: dict[str, Any] | None, timeout: float, api=API, policy: WaitPolicy | None = None
) -> dict[str, Any] | None:
    """Wait until an EIP found in a transient state is stable (``None`` when it was being released)."""
    if eip is None or eip["status"] not in TRANSIENT_STATUSES:
        return eip
    settled = wait_for_eips(
        connection,
        {eip["allocation_id"]: STABLE},
        timeout,
        policy=policy,
        describe=api.describe_eip_addresses,
        poll_first=True,
    )
    return settled.get(eip["allocation_id"])


# ---- attributes and tags ------------------------------------------------------------------------------------


@dataclass
class AttributeChanges:
    """What ModifyEipAddressAttribute, TagResources and UnTagResources must do to an existing EIP."""

    modify: dict[str, Any] = field(default_factory=dict)
    add_tags: dict[str, str] = field(default_factory=dict)
    remove_tags: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.modify or self.add_tags or self.remove_tags)


def plan_tags(current: Mapping[str, str], wanted: Mapping[str, Any] | None, purge: bool) -> tuple[dict, list]:
    """(tags to add or overwrite, keys to remove) with amazon.aws semantics.

    ``wanted=None`` leaves the tags alone whatever ``purge`` says; with ``purge`` every other key goes,
    except the cloud's own (acs:, aliyun), which cannot be removed.
    """
    if wanted is None:
        return {}, []
    wanted = normalize_tags(wanted) or {}
    add = {key: value for key, value in wanted.items() if current.get(key) != value}
    remove = []
    if purge:
        remove = sorted(key for key in current if key not in wanted and not key.startswith(SYSTEM_TAG_PREFIXES))
    return add, remove


def plan_attributes(eip: Mapping[str, Any], params: Mapping[str, Any], name_is_key: bool = False) -> AttributeChanges:
    """The changes that bring an existing EIP to the requested name, description, bandwidth and tags.

    Only given options count: bandwidth is never reset to a default.  A name that served as the key is
    already equal.  internet_charge_type and isp cannot be modified, so a difference is a warning.
    """
    changes = AttributeChanges()
    for option in ("name", "description"):
        value = params.get(option)
        if value is not None and not (option == "name" and name_is_key) and eip.get(option, "") != value:
            changes.modify[option] = value
    bandwidth = params.get("bandwidth")
    if bandwidth is not None and eip.get("bandwidth") != bandwidth:
        changes.modify["bandwidth"] = bandwidth
    for option in ALLOCATION_ONLY_FIELDS:
        value = params.get(option)
        if value and eip.get(option) and eip[option] != value:
            changes.warnings.append(
                f"{option}={value} applies only when an EIP is allocated; {eip['allocation_id']} keeps {eip[option]}"
            )
    changes.add_tags, changes.remove_tags = plan_tags(
        eip.get("tags") or {}, params.get("tags"), bool(params.get("purge_tags", True))
    )
    return changes


def apply_changes(eip: Mapping[str, Any], changes: AttributeChanges) -> dict[str, Any]:
    """The EIP record as it will be after ``changes`` (for check mode and the diff)."""
    after = dict(eip)
    after.update(changes.modify)
    tags = {key: value for key, value in (eip.get("tags") or {}).items() if key not in changes.remove_tags}
    tags.update(changes.add_tags)
    after["tags"] = tags
    return after


def make_changes(connection, allocation_id: str, changes: AttributeChanges, api=API) -> None:
    """Issue the modify, untag and tag calls the plan needs (each only when needed)."""
    if changes.modify:
        api.modify_eip_address_attribute(connection, allocation_id, **changes.modify)
    if changes.remove_tags:
        api.untag_resources(connection, [allocation_id], changes.remove_tags)
    if changes.add_tags:
        api.tag_resources(connection, [allocation_id], changes.add_tags)


def diff_view(eip: Mapping[str, Any] | None) -> dict[str, Any]:
    """The managed fields of an EIP for ``diff`` (empty for no EIP)."""
    if not eip:
        return {}
    # A copy: the record may be updated in place later, and the diff's "before" must not follow it.
    return copy.deepcopy({name: eip.get(name) for name in DIFF_FIELDS})


def new_eip_view(params: Mapping[str, Any], region: str, allocation_id: str = "", ip_address: str = "") -> dict:
    """What a new EIP will look like, before the cloud has given it an ID (check mode), in eip_info's shape."""
    text_fields = [snake for _camel, snake in EIP_TEXT_FIELDS]
    eip: dict[str, Any] = {name: "" for name in text_fields}
    eip.update(
        allocation_id=allocation_id,
        ip_address=ip_address,
        status="Available",
        region_id=region,
        name=params.get("name") or "",
        description=params.get("description") or "",
        internet_charge_type=params.get("internet_charge_type") or "",
        isp=params.get("isp") or "",
        bandwidth=params.get("bandwidth"),
        deletion_protection=False,
        operation_locks=[],
        tags=normalize_tags(params.get("tags")) or {},
    )
    eip.update(service_managed=False, owner=None)
    return eip


# ---- allocation and recovery ------------------------------------------------------------------------------


def explain_allocation_error(error: AlicloudApiError, what: str) -> LifecycleError:
    """An allocation or recovery failure with what it means for the user."""
    hint = ALLOCATION_ERROR_HINTS.get(error.code)
    message = f"{what} failed: {error.describe()}"
    if hint:
        message += f" ({hint})"
    return LifecycleError(message, code=error.code, action=error.action, api_error=error)


def wait_for_status(connection, allocation_id: str, status: str, timeout: float, api=API, policy=None):
    """Poll one EIP until it has ``status`` (``Released``: until it is gone); returns the last record."""
    records = wait_for_eips(
        connection,
        {allocation_id: Expectation(status)},
        timeout,
        policy=policy,
        describe=api.describe_eip_addresses,
        poll_first=True,
    )
    return records.get(allocation_id)


# ---- release ------------------------------------------------------------------------------------------


def with_owner(connection, eip: Mapping[str, Any], api=API) -> dict[str, Any]:
    """The EIP record with ``owner`` filled in when it sits on a service-managed ENI (an ALB or NLB zone)."""
    record = dict(eip)
    if record.get("service_managed") and not record.get("owner"):
        lb_zones.gather(connection, api, {record["allocation_id"]: record}, {}, [], ZONAL)
    return record


def plan_release(eip: Mapping[str, Any], release_associated: bool) -> bool:
    """Whether the EIP must be disassociated first; raises LifecycleError when it cannot be released.

    Only a pay-as-you-go EIP without deletion protection can be released, only from Available; an
    associated one is disassociated first only with the user's explicit consent.
    """
    label = f"{eip['allocation_id']} ({eip['ip_address']})"
    if eip.get("charge_type") == "PrePaid":
        raise LifecycleError(
            f"{label} is a subscription EIP, which the API cannot release; it is released when it expires",
            code="Forbidden.ChargeTypeIsPrepaid",
            action="ReleaseEipAddress",
        )
    if eip.get("deletion_protection"):
        raise LifecycleError(
            f"{label} has deletion protection on; turn it off first",
            code="InvalidOperation.DeletionProtection",
            action="ReleaseEipAddress",
        )
    if eip.get("operation_locks"):
        raise LifecycleError(
            f"{label} is locked ({', '.join(eip['operation_locks'])}) and cannot be released",
            code="IncorrectEipStatus",
            action="ReleaseEipAddress",
        )
    if eip["status"] == "Available":
        return False
    if eip.get("service_managed"):
        owner = eip.get("owner")
        where = lb_zones.owner_text(owner) if owner else "a cloud service's ENI (an ALB or NLB zone; eip_info names it)"
        advice = lb_zones.how_to_free(owner) if owner else "free it through that service first"
        raise LifecycleError(
            f"{label} is held by {where}; release_associated cannot take it off, {advice}, then release it",
            code="IncorrectEipStatus",
            action="ReleaseEipAddress",
        )
    if eip["status"] == "InUse":
        if not release_associated:
            raise LifecycleError(
                f"{label} is associated with {eip['instance_type']} {eip['instance_id']}; set release_associated=true "
                "to disassociate and release it, or disassociate it first with alicloud.eip.eip_association",
                code="IncorrectEipStatus",
                action="ReleaseEipAddress",
            )
        return True
    raise LifecycleError(
        f"{label} is {eip['status']}; only an Available EIP can be released",
        code="IncorrectEipStatus",
        action="ReleaseEipAddress",
    )


# ---- associations, through the one door of the association engine ---------------------------------------


@dataclass(frozen=True)
class AssociationRequest:
    """The ``association`` option of eip_recover, validated: the target, and how to treat what holds it."""

    target: Desired
    allow_reassociation: bool = False
    force: bool = False


def association_request(association: Mapping[str, Any]) -> AssociationRequest:
    """Validate the ``association`` option once, before any call; raises InputError naming it."""
    try:
        target, _warnings = validate_target(association)
    except InputError as error:
        raise InputError(f"association: {error}") from None
    return AssociationRequest(target, bool(association.get("allow_reassociation")), bool(association.get("force")))


def associate(
    connection,
    eip: Mapping[str, Any],
    request: AssociationRequest,
    check_mode: bool,
    wait: bool,
    wait_timeout: float,
    pending: bool = False,
    api=None,
    wait_policy: WaitPolicy | None = None,
) -> Result:
    """Put ``eip`` on the target of ``request`` through the association engine; raises LifecycleError.

    With ``pending`` (a recovery not made yet) the EIP does not exist: the engine plans with the record as given
    (an Available EIP, named by its allocation ID, or by its address when the ID is not known yet).
    """
    options = Options("present", request.allow_reassociation, request.force, wait, wait_timeout)
    seeded = [eip] if pending else []
    return _converge(connection, request.target.naming(eip), options, check_mode, api, wait_policy, seeded)


def plan_association(
    connection,
    eip: Mapping[str, Any],
    request: AssociationRequest,
    wait_timeout: float,
    pending: bool = False,
    api=None,
    wait_policy: WaitPolicy | None = None,
) -> Result:
    """The engine's plan for putting ``eip`` on the target of ``request``, with no change made.

    eip_recover asks for it before its first mutating call (the recovery, the attribute changes), in check mode and in
    a real run alike: a target the engine refuses (unknown, holding an EIP already, ...) stops the run before the
    address is recovered, with the message check mode gives.  ``pending``: the EIP is the one a recovery would bring
    back (see :func:`associate`).  Raises LifecycleError.
    """
    return associate(
        connection, eip, request, True, True, wait_timeout, pending=pending, api=api, wait_policy=wait_policy
    )


def disassociate(
    connection,
    eip: Mapping[str, Any],
    check_mode: bool,
    wait_timeout: float,
    force: bool = False,
    api=None,
    wait_policy: WaitPolicy | None = None,
) -> Result:
    """Take ``eip`` off its holder through the association engine (always waited for); raises LifecycleError."""
    options = Options("absent", False, force, True, wait_timeout)
    desired = Desired("", allocation_id=eip["allocation_id"])
    return _converge(connection, desired, options, check_mode, api, wait_policy)


def _converge(connection, desired: Desired, options, check_mode, api, wait_policy, seeded=()) -> Result:
    """The engine's door, with its refusals and failures as LifecycleError."""
    try:
        result = converge(connection, [desired], options, check_mode, api=api, wait_policy=wait_policy, seeded=seeded)
    except PlanError as error:
        first = error.failures[0]
        raise LifecycleError(str(error), code=first.code, action=first.action) from None
    if result.failed:
        raise LifecycleError(result.failure_message(), api_error=result.first_error)
    return result
