# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note: this module util is PRIVATE to the collection. It can change at any time; do not use it from
# other collections or standalone plugins/modules.

"""Decision logic of ``alicloud.eip.eip_association``: validate, observe, plan, act.

1. :func:`validate_request` turns the module's options into :class:`Desired` associations and rejects
   bad input (malformed IDs or addresses, a mode on a non-ENI target, conflicting options, two list
   items fighting over one EIP or one slot) before any call is made.
2. :func:`gather_snapshot` describes what the plan depends on, batched: the EIPs (one call per 50),
   and only for associations that are not already in place, their targets and the EIPs those hold.
3. :func:`plan_changes` (pure) decides per association: nothing, associate, move (disassociate from the
   current holder, then associate) or replace (disassociate the EIP the target holds, then associate),
   and predicts the documented failures (instance already holds an EIP, wrong instance state, fixed
   public IP, NAT gateway full, HaVip taken, cut-through on an attached ENI, mixed modes, ...).  The
   same prediction runs in check mode and in the real run, so both fail with the same message, and a
   real run fails before its first mutating call.
4. :func:`execute_plan` disassociates (all at once, then one batched wait until they are Available),
   associates (concurrently, under the API's flow limit) and waits with one batched describe per
   polling round.  If an association fails after its EIP or the target's old EIP was disassociated,
   the old association is put back, so a failure never silently leaves both EIPs detached.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.alicloud.eip.plugins.module_utils._api.namespace import API
from ansible_collections.alicloud.eip.plugins.module_utils._api.vpc_eip import (
    STABLE,
    TRANSIENT_STATUSES,
    Expectation,
    wait_for_eips,
)
from ansible_collections.alicloud.eip.plugins.module_utils._api.vpc_network import NAT_GATEWAY_EIP_LIMIT
from ansible_collections.alicloud.eip.plugins.module_utils._polling import WaitError, WaitPolicy
from ansible_collections.alicloud.eip.plugins.module_utils._retries import AlicloudApiError
from ansible_collections.alicloud.eip.plugins.module_utils._util import DifferenceTracker, run_concurrently
from ansible_collections.alicloud.eip.plugins.module_utils._util import InputError  # noqa: F401 (re-exported)

ECS = "EcsInstance"
ENI = "NetworkInterface"
NAT_GATEWAY = "Nat"
CLB = "SlbInstance"
HAVIP = "HaVip"
IP_ADDRESS = "IpAddress"
INSTANCE_TYPES = (ECS, ENI, NAT_GATEWAY, CLB, HAVIP, IP_ADDRESS)

# ID prefix -> InstanceType.  NAT gateway IDs start with ngw- (footmark's nat- rule never matched).
ID_PREFIXES = (("i-", ECS), ("eni-", ENI), ("ngw-", NAT_GATEWAY), ("lb-", CLB), ("havip-", HAVIP))

NAT_MODE = "NAT"
CUT_THROUGH = "BINDED"
MULTI_EIP_CUT_THROUGH = "MULTI_BINDED"
MODES = (NAT_MODE, CUT_THROUGH, MULTI_EIP_CUT_THROUGH)

TYPE_LABELS = {
    ECS: "ECS instance",
    ENI: "ENI",
    NAT_GATEWAY: "NAT gateway",
    CLB: "CLB instance",
    HAVIP: "HaVip",
    IP_ADDRESS: "IP address",
}
MODE_LABELS = {
    NAT_MODE: "NAT mode",
    CUT_THROUGH: "cut-through mode (BINDED)",
    MULTI_EIP_CUT_THROUGH: "multi-EIP cut-through mode (MULTI_BINDED)",
}

# Documented limits (shared/reference/alibaba-api.md §5, spec-associate-eip.txt).
MULTI_BINDED_EIP_LIMIT = 10
# Regions of the cut-through modes, as the specification lists them by name (region IDs are our mapping;
# the lists change over time: UNCONFIRMED beyond the specification's date).
CUT_THROUGH_REGIONS = frozenset(
    [
        "cn-hangzhou",
        "cn-shanghai",
        "cn-qingdao",
        "cn-beijing",
        "cn-zhangjiakou",
        "cn-huhehaote",
        "cn-shenzhen",
        "cn-guangzhou",
        "cn-chengdu",
        "ap-southeast-1",
        "ap-southeast-5",
        "eu-central-1",
        "eu-west-1",
        "us-east-1",
        "me-central-1",
    ]
)
MULTI_EIP_CUT_THROUGH_REGIONS = frozenset(
    [
        "cn-shenzhen",
        "cn-shanghai",
        "cn-beijing",
        "cn-zhangjiakou",
        "cn-chengdu",
        "ap-southeast-1",
        "eu-central-1",
        "us-east-1",
        "eu-west-1",
    ]
)
# Instance families that support multi-EIP cut-through (specification).
MULTI_EIP_CUT_THROUGH_FAMILIES = frozenset(
    "ecs." + name
    for name in [
        "d1ne",
        "ebmc4",
        "ebmg5",
        "ebmhfg5",
        "f1",
        "gn5i",
        "gn6v",
        "i2",
        "r1",
        "re4",
        "re4e",
        "sccg5",
        "sccgn6",
        "scch5",
        "g5",
        "c5",
        "r5",
        "t5",
        "sn2ne",
        "se1ne",
        "sn1ne",
    ]
)
# Concurrent API calls of the list form; the flow limiter (_retries.FLOW_LIMITS) bounds the rate.
MAX_CONCURRENCY = 16

ITEM_OPTIONS = ("allocation_id", "ip_address", "instance_id", "instance_type", "private_ip_address", "mode", "vpc_id")

_ALLOCATION_ID = re.compile(r"^eip-[0-9A-Za-z][0-9A-Za-z_-]*$")


@dataclass(frozen=True)
class PredictedFailure:
    """A documented API failure foreseen from the described state (``code`` is the API's code for it)."""

    code: str
    message: str
    action: str = "AssociateEipAddress"


class PlanError(Exception):
    """One or more associations cannot be made; raised identically in check mode and in a real run."""

    def __init__(self, failures: Sequence[PredictedFailure]):
        self.failures = list(failures)
        if len(self.failures) == 1:
            message = self.failures[0].message
        else:
            details = "; ".join(failure.message for failure in self.failures)
            message = f"{len(self.failures)} of the requested changes cannot be made: {details}"
        super().__init__(message)

    def as_dict(self) -> dict[str, Any]:
        """The first failure as the ``error`` result (same keys as an API error)."""
        first = self.failures[0]
        return {
            "code": first.code,
            "message": str(self),
            "request_id": None,
            "status_code": None,
            "action": first.action,
            "predicted": True,
        }


# ---- 1. input ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Desired:
    """One requested association (state=present) or disassociation (state=absent), validated."""

    where: str
    allocation_id: str | None = None
    ip_address: str | None = None
    instance_id: str | None = None
    instance_type: str | None = None
    private_ip_address: str | None = None
    mode: str | None = None
    vpc_id: str | None = None

    def option(self, name: str) -> str:
        """The option as the user wrote it: ``instance_id`` or ``associations[2].instance_id``."""
        return f"{self.where}.{name}" if self.where else name

    @property
    def prefix(self) -> str:
        return f"{self.where}: " if self.where else ""

    @property
    def eip_ref(self) -> str:
        return self.allocation_id or self.ip_address or ""

    @property
    def target(self) -> tuple[str, str] | None:
        if not self.instance_id or not self.instance_type:
            return None
        return self.instance_type, self.instance_id

    @property
    def effective_mode(self) -> str | None:
        """The mode an ENI association uses (the API's default is NAT); ``None`` for other targets."""
        return (self.mode or NAT_MODE) if self.instance_type == ENI else None


def _is_ipv4(value: str) -> bool:
    try:
        ipaddress.IPv4Address(value)
    except ValueError:
        return False
    return True


def is_allocation_id(value: str) -> bool:
    """Whether ``value`` looks like an EIP allocation ID (``eip-`` and letters, digits, ``-`` or ``_``)."""
    return bool(_ALLOCATION_ID.match(value))


def infer_instance_type(instance_id: str) -> str | None:
    """The InstanceType an ID's prefix means (an IPv4 address means IpAddress); ``None`` if unknown."""
    if _is_ipv4(instance_id):
        return IP_ADDRESS
    for prefix, instance_type in ID_PREFIXES:
        if instance_id.startswith(prefix):
            return instance_type
    return None


def validate_item(raw: Mapping[str, Any], where: str, state: str) -> tuple[Desired, list[str]]:
    """One association's options -> :class:`Desired` and warnings; raises :class:`InputError`."""
    values = {name: (raw.get(name) or None) for name in ITEM_OPTIONS}
    for name in ("allocation_id", "ip_address", "instance_id", "private_ip_address", "vpc_id"):
        if isinstance(values[name], str):
            values[name] = values[name].strip() or None
    probe = Desired(where, **values)
    option = probe.option
    warnings: list[str] = []

    if probe.allocation_id and probe.ip_address:
        raise InputError(
            f"{option('allocation_id')} and {option('ip_address')} both name the EIP; give only one of them"
        )
    if probe.allocation_id and not is_allocation_id(probe.allocation_id):
        raise InputError(
            f"{option('allocation_id')}={probe.allocation_id!r} is not an EIP allocation ID; they look like "
            f"eip-bp1xxxxxxxx (to name the EIP by address, use {option('ip_address')})"
        )
    if probe.ip_address and not _is_ipv4(probe.ip_address):
        raise InputError(f"{option('ip_address')}={probe.ip_address!r} is not an IPv4 address")
    if state == "present":
        if not probe.eip_ref:
            raise InputError(f"{probe.prefix}name the EIP with {option('allocation_id')} or {option('ip_address')}")
        if not probe.instance_id:
            raise InputError(f"{option('instance_id')} is required with state=present: the resource to put the EIP on")
    elif not probe.eip_ref and not probe.instance_id:
        raise InputError(
            f"{probe.prefix}name the EIP ({option('allocation_id')} or {option('ip_address')}) or the resource to "
            f"take EIPs off ({option('instance_id')})"
        )

    instance_type = probe.instance_type
    if probe.instance_id:
        inferred = infer_instance_type(probe.instance_id)
        if instance_type is None:
            if inferred is None:
                raise InputError(
                    f"cannot tell what {option('instance_id')}={probe.instance_id!r} is from its prefix (i-, eni-, "
                    f"ngw-, lb-, havip- or an IP address); set {option('instance_type')} to one of "
                    f"{', '.join(INSTANCE_TYPES)}"
                )
            instance_type = inferred
        elif inferred is not None and inferred != instance_type:
            warnings.append(
                f"{option('instance_type')}={instance_type} overrides the type the ID {probe.instance_id} "
                f"suggests ({inferred})"
            )
    elif instance_type:
        raise InputError(f"{option('instance_type')} needs {option('instance_id')}")

    target_label = f"{_article(instance_type)} {TYPE_LABELS.get(instance_type or '', 'resource')}"
    if probe.mode and instance_type != ENI:
        raise InputError(
            f"{option('mode')} applies only to ENI targets (instance_type NetworkInterface), but "
            f"{probe.instance_id or 'the target'} is {target_label}; remove {option('mode')}"
        )
    private_ip = probe.private_ip_address
    if private_ip:
        if not _is_ipv4(private_ip):
            raise InputError(f"{option('private_ip_address')}={private_ip!r} is not an IPv4 address")
        if instance_type not in (ENI, IP_ADDRESS):
            raise InputError(
                f"{option('private_ip_address')} applies only to ENI targets: an EIP on {target_label} maps to its "
                "primary private IP. To use another private IP, associate the EIP with the ENI that holds it "
                "(instance_id: eni-...) in NAT mode"
            )
    vpc_id = probe.vpc_id
    if instance_type == IP_ADDRESS:
        if not vpc_id and state == "present":
            raise InputError(
                f"{option('vpc_id')} is required when the target is an IP address "
                f"({option('instance_id')}={probe.instance_id}): the VPC, with an IPv4 gateway, the address belongs to"
            )
        # UNCONFIRMED: Terraform sends the address as PrivateIpAddress too; do the same unless told otherwise.
        private_ip = private_ip or probe.instance_id
    elif vpc_id:
        raise InputError(
            f"{option('vpc_id')} applies only when the target is an IP address (instance_type IpAddress); remove it"
        )
    desired = Desired(
        where,
        allocation_id=probe.allocation_id,
        ip_address=probe.ip_address,
        instance_id=probe.instance_id,
        instance_type=instance_type,
        private_ip_address=private_ip,
        mode=probe.mode,
        vpc_id=vpc_id,
    )
    return desired, warnings


def _article(instance_type: str | None) -> str:
    label = TYPE_LABELS.get(instance_type or "", "resource")
    return "an" if label[0] in "AEIOU" else "a"


def _slot(desired: Desired) -> tuple[str, ...] | None:
    """What only one EIP can occupy, as far as the input alone tells (defaults are checked in planning)."""
    if desired.instance_type in (ECS, HAVIP, CLB):
        return desired.target  # type: ignore[return-value]
    if desired.instance_type == ENI:
        if desired.effective_mode == CUT_THROUGH:
            return (ENI, desired.instance_id or "", CUT_THROUGH)
        if desired.effective_mode == NAT_MODE and desired.private_ip_address:
            return (ENI, desired.instance_id or "", desired.private_ip_address)
    return None


def validate_request(params: Mapping[str, Any]) -> tuple[list[Desired], list[str]]:
    """All requested associations from the module options; raises :class:`InputError`.

    The single form (top-level options) gives one :class:`Desired` with ``where=""``; the list form
    gives one per ``associations`` item with ``where="associations[N]"``.
    """
    state = params.get("state") or "present"
    items = params.get("associations")
    if items is None:
        desired, warnings = validate_item(params, "", state)
        return [desired], warnings
    if not items:
        raise InputError("associations is empty; list at least one association, or leave the task out")
    results: list[Desired] = []
    warnings = []
    for index, raw in enumerate(items):
        desired, item_warnings = validate_item(raw or {}, f"associations[{index}]", state)
        results.append(desired)
        warnings.extend(item_warnings)
    if state == "present":
        _check_list_conflicts(results)
    return results, warnings


def _check_list_conflicts(items: Sequence[Desired]) -> None:
    """Two items cannot want one EIP, one exclusive slot, or two modes on one ENI."""
    seen_eips: dict[str, Desired] = {}
    seen_slots: dict[tuple[str, ...], Desired] = {}
    eni_modes: dict[str, Desired] = {}
    for item in items:
        previous = seen_eips.get(item.eip_ref)
        if previous is not None:
            raise InputError(
                f"{previous.where} and {item.where} both name EIP {item.eip_ref}; an EIP has one holder, list it once"
            )
        seen_eips[item.eip_ref] = item
        slot = _slot(item)
        if slot is not None:
            previous = seen_slots.get(slot)
            if previous is not None:
                at = f" at {slot[2]}" if len(slot) == 3 and slot[2] != CUT_THROUGH else ""
                raise InputError(
                    f"{previous.where} and {item.where} both put an EIP on {item.instance_id}{at}; it takes one EIP"
                )
            seen_slots[slot] = item
        if item.instance_type == ENI and item.instance_id:
            previous = eni_modes.get(item.instance_id)
            if previous is not None and previous.effective_mode != item.effective_mode:
                raise InputError(
                    f"{previous.where} ({previous.effective_mode}) and {item.where} ({item.effective_mode}) put EIPs "
                    f"on {item.instance_id} in different modes; an ENI takes EIPs in one mode only"
                )
            eni_modes.setdefault(item.instance_id, item)


# ---- 2. what the cloud looks like ------------------------------------------------------------------


@dataclass(frozen=True)
class Holder:
    """Who holds an EIP: the resource and, on an ENI, the private IP and mode."""

    instance_id: str
    instance_type: str
    private_ip_address: str = ""
    mode: str = ""
    vpc_id: str = ""

    @property
    def key(self) -> tuple[str, str]:
        return self.instance_type, self.instance_id

    def describe(self) -> str:
        text = f"{TYPE_LABELS.get(self.instance_type, self.instance_type)} {self.instance_id}"
        if self.instance_type == ENI:
            details = [self.private_ip_address] if self.private_ip_address else []
            details.append(MODE_LABELS.get(self.mode or NAT_MODE, self.mode))
            text += f" ({', '.join(details)})"
        return text

    def view(self) -> dict[str, str]:
        return {
            "instance_id": self.instance_id,
            "instance_type": self.instance_type,
            "private_ip_address": self.private_ip_address,
            "mode": self.mode,
        }


NO_HOLDER_VIEW = {"instance_id": "", "instance_type": "", "private_ip_address": "", "mode": ""}


def holder_of(eip: Mapping[str, Any] | None) -> Holder | None:
    """The current holder of an EIP record, or ``None`` when it is not associated."""
    if not eip or not eip.get("instance_id"):
        return None
    instance_type = eip.get("instance_type") or ECS
    return Holder(
        instance_id=eip["instance_id"],
        instance_type=instance_type,
        private_ip_address=(eip.get("private_ip_address") or "") if instance_type in (ENI, IP_ADDRESS) else "",
        mode=(eip.get("mode") or NAT_MODE) if instance_type == ENI else "",
        vpc_id=(eip.get("vpc_id") or "") if instance_type == IP_ADDRESS else "",
    )


@dataclass
class Snapshot:
    """What was described: EIPs by allocation ID, resources by (type, id), the EIPs each resource holds.

    ``resources`` maps to ``None`` for a resource that was looked up and does not exist.
    """

    region: str
    eips: dict[str, dict[str, Any]] = field(default_factory=dict)
    resources: dict[tuple[str, str], dict[str, Any] | None] = field(default_factory=dict)
    held: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    # VPC ID -> its IPv4 gateway (None: it has none); only VPCs whose gateway decides a rule are looked up.
    ipv4_gateways: dict[str, dict[str, Any] | None] = field(default_factory=dict)

    def find_eip(self, desired: Desired) -> dict[str, Any] | None:
        if desired.allocation_id:
            return self.eips.get(desired.allocation_id)
        for eip in self.eips.values():
            if eip["ip_address"] == desired.ip_address:
                return eip
        return None

    def add_eips(self, eips: Iterable[dict[str, Any]]) -> None:
        for eip in eips:
            self.eips[eip["allocation_id"]] = eip

    def held_eips(self, key: tuple[str, str] | None) -> list[dict[str, Any]]:
        return [self.eips[allocation_id] for allocation_id in self.held.get(key, []) if allocation_id in self.eips]


def satisfies(eip: Mapping[str, Any], desired: Desired) -> bool:
    """Whether the EIP already sits where ``desired`` wants it (same target, private IP and mode)."""
    if eip.get("status") != "InUse":
        return False
    holder = holder_of(eip)
    if holder is None or holder.key != desired.target:
        return False
    if desired.instance_type == ENI:
        if desired.private_ip_address and holder.private_ip_address != desired.private_ip_address:
            return False
        if desired.mode and holder.mode != desired.mode:
            return False
    if desired.instance_type == IP_ADDRESS and desired.vpc_id and holder.vpc_id:
        return holder.vpc_id == desired.vpc_id
    return True


def matches_absent(eip: Mapping[str, Any], desired: Desired) -> bool:
    """Whether ``desired`` (state=absent) asks to take this EIP off its holder."""
    holder = holder_of(eip)
    if holder is None:
        return False
    if desired.instance_id and holder.key != desired.target:
        return False
    if desired.private_ip_address and holder.private_ip_address:
        return holder.private_ip_address == desired.private_ip_address
    return True


def _locked(eip: Mapping[str, Any]) -> bool:
    return bool(eip.get("operation_locks")) or eip.get("business_status", "Normal") not in ("", "Normal")


def _describe_resources(connection, api, snapshot: Snapshot, keys: Iterable[tuple[str, str]]) -> None:
    """Describe resources not yet known, batched per type (IP address targets have nothing to describe)."""
    describers = {
        ECS: api.describe_instances,
        ENI: api.describe_network_interfaces,
        NAT_GATEWAY: api.describe_nat_gateways,
        CLB: api.describe_load_balancers,
        HAVIP: api.describe_ha_vips,
    }
    by_type: dict[str, list[str]] = {}
    for instance_type, instance_id in dict.fromkeys(keys):
        if instance_type in describers and (instance_type, instance_id) not in snapshot.resources and instance_id:
            by_type.setdefault(instance_type, []).append(instance_id)
    for instance_type, ids in by_type.items():
        records = {record["id"]: record for record in describers[instance_type](connection, ids)}
        snapshot.resources.update({(instance_type, instance_id): records.get(instance_id) for instance_id in ids})


def _gateway_vpc(item: Desired, snapshot: Snapshot) -> str:
    """The VPC whose IPv4 gateway decides whether ``item`` can be made ("" when no rule depends on one).

    Cut-through (BINDED) is refused in a VPC with an IPv4 gateway; an IpAddress target needs one.  The
    specification sets no such rule for multi-EIP cut-through (MULTI_BINDED), so it costs no lookup.
    """
    if item.instance_type == IP_ADDRESS:
        return item.vpc_id or ""
    if item.effective_mode == CUT_THROUGH:
        eni = snapshot.resources.get(item.target)  # type: ignore[arg-type]
        return (eni or {}).get("vpc_id") or ""
    return ""


def _list_ipv4_gateways(connection, api, snapshot: Snapshot, vpc_ids: Iterable[str]) -> None:
    """ListIpv4Gateways once per VPC not yet known."""
    wanted = [vpc_id for vpc_id in dict.fromkeys(vpc_ids) if vpc_id and vpc_id not in snapshot.ipv4_gateways]
    if not wanted:
        return
    try:
        records = api.list_ipv4_gateways(connection, wanted)
    except AlicloudApiError as error:
        # A RAM policy written before this lookup existed may not allow it: leave the rules to the API then
        # (as before) rather than fail an association the caller is allowed to make.
        if error.code.startswith(("Forbidden", "NoPermission")):
            return
        raise
    gateways = {gateway["vpc_id"]: gateway for gateway in records}
    snapshot.ipv4_gateways.update({vpc_id: gateways.get(vpc_id) for vpc_id in wanted})


def _describe_held(connection, api, snapshot: Snapshot, keys: Iterable[tuple[str, str]]) -> None:
    """The EIPs each resource holds: DescribeEipAddresses by associated instance (type and ID), concurrently."""
    wanted = [key for key in dict.fromkeys(keys) if key not in snapshot.held and key[1]]

    def held_by(key: tuple[str, str]) -> list[dict[str, Any]]:
        return api.describe_eip_addresses(connection, associated_instance_type=key[0], associated_instance_id=key[1])

    for key, eips, error in run_concurrently(held_by, wanted, MAX_CONCURRENCY):
        if error is not None:
            raise error
        snapshot.add_eips(eips or [])
        snapshot.held[key] = [eip["allocation_id"] for eip in eips or []]


def gather_snapshot(
    connection,
    desired: Sequence[Desired],
    state: str,
    wait_timeout: float,
    api=API,
    wait_policy: WaitPolicy | None = None,
) -> Snapshot:
    """Describe what the plan needs, batched, and nothing more when every association is already in place.

    A re-run where every EIP already sits on its target costs one DescribeEipAddresses per 50 EIPs.
    Otherwise: the targets and the EIPs they hold; the current holders of EIPs that move; the instance an
    ENI target is attached to; and the EIPs that stand for an instance's one public address (its own
    and a NAT-mode EIP on its primary ENI's primary IP).  EIPs caught in a transient state (Associating,
    Unassociating) are waited for first.
    """
    snapshot = Snapshot(region=getattr(connection, "region", ""))
    allocation_ids = [item.allocation_id for item in desired if item.allocation_id]
    ip_addresses = [item.ip_address for item in desired if item.ip_address]
    if allocation_ids:
        snapshot.add_eips(api.describe_eip_addresses(connection, allocation_ids=allocation_ids))
    if ip_addresses:
        snapshot.add_eips(api.describe_eip_addresses(connection, ip_addresses=ip_addresses))
    if state == "absent":
        _describe_held(connection, api, snapshot, [item.target for item in desired if not item.eip_ref and item.target])

    transient = {key: STABLE for key, eip in snapshot.eips.items() if eip["status"] in TRANSIENT_STATUSES}
    if transient:
        settled = wait_for_eips(
            connection, transient, wait_timeout, policy=wait_policy, describe=api.describe_eip_addresses
        )
        for allocation_id, eip in settled.items():
            if eip is None:
                snapshot.eips.pop(allocation_id, None)
            else:
                snapshot.eips[allocation_id] = eip

    targets: list[tuple[str, str]] = []
    holders: list[tuple[str, str]] = []
    moving: list[Desired] = []
    for item in desired:
        eip = snapshot.find_eip(item) if item.eip_ref else None
        if state == "present":
            if eip is None or satisfies(eip, item) or _locked(eip):
                continue
            targets.append(item.target)  # type: ignore[arg-type]
            moving.append(item)
            if holder_of(eip) is not None:
                holders.append(holder_of(eip).key)  # type: ignore[union-attr]
        else:
            candidates = [eip] if eip is not None else ([] if item.eip_ref else snapshot.held_eips(item.target))
            holders.extend(holder_of(c).key for c in candidates if matches_absent(c, item))  # type: ignore[union-attr]
    if not targets and not holders:
        return snapshot

    # Round 1: the targets, what they hold, and the current holders of EIPs that move.
    _describe_held(connection, api, snapshot, [key for key in targets if key[0] != IP_ADDRESS])
    _describe_resources(connection, api, snapshot, targets + holders)
    # Round 2: the instance behind an ENI target, and the EIPs standing for an instance's public address.
    more_resources: list[tuple[str, str]] = []
    more_held: list[tuple[str, str]] = []
    for key in targets:
        resource = snapshot.resources.get(key)
        if resource is None:
            continue
        if key[0] == ECS and resource.get("primary_eni_id"):
            more_held.append((ENI, resource["primary_eni_id"]))
            more_resources.append((ENI, resource["primary_eni_id"]))
        if key[0] == ENI and resource.get("instance_id"):
            more_resources.append((ECS, resource["instance_id"]))
            if resource.get("type") == "Primary":
                more_held.append((ECS, resource["instance_id"]))
    _describe_held(connection, api, snapshot, more_held)
    _describe_resources(connection, api, snapshot, more_resources)
    # The IPv4 gateways that decide cut-through and IpAddress associations (one call per VPC, none on a re-run).
    _list_ipv4_gateways(connection, api, snapshot, [_gateway_vpc(item, snapshot) for item in moving])
    # Round 3: holders of the EIPs found there that a replacement would disassociate.
    occupants = [holder_of(eip).key for key in targets + more_held for eip in snapshot.held_eips(key)]  # type: ignore
    _describe_resources(connection, api, snapshot, occupants)
    return snapshot


# ---- 3. the plan (pure) -----------------------------------------------------------------------------


@dataclass
class Step:
    """One mutating call: associate an EIP with ``holder``, or disassociate it from ``holder``."""

    kind: str
    allocation_id: str
    ip_address: str
    holder: Holder
    where: str = ""
    reason: str = ""
    force: bool = False
    # For an association: the disassociations it depends on, and how to undo them if it fails.
    depends_on: list[str] = field(default_factory=list)
    undo: list[Step] = field(default_factory=list)

    @property
    def action(self) -> str:
        return "AssociateEipAddress" if self.kind == "associate" else "UnassociateEipAddress"

    def as_dict(self) -> dict[str, Any]:
        return {
            "action": self.kind,
            "allocation_id": self.allocation_id,
            "ip_address": self.ip_address,
            "instance_id": self.holder.instance_id,
            "instance_type": self.holder.instance_type,
            "private_ip_address": self.holder.private_ip_address,
            "mode": self.holder.mode,
            "reason": self.reason,
        }

    def describe(self) -> str:
        preposition = "with" if self.kind == "associate" else "from"
        return f"{self.kind} {self.allocation_id} ({self.ip_address}) {preposition} {self.holder.describe()}"


@dataclass
class Plan:
    """The mutating calls to make, in two phases, and what to return."""

    disassociations: list[Step] = field(default_factory=list)
    associations: list[Step] = field(default_factory=list)
    results: list[str] = field(default_factory=list)
    diff: DifferenceTracker = field(default_factory=DifferenceTracker)

    @property
    def changed(self) -> bool:
        return bool(self.disassociations or self.associations)

    @property
    def steps(self) -> list[Step]:
        return self.disassociations + self.associations


def _view(eip: Mapping[str, Any]) -> dict[str, str]:
    holder = holder_of(eip)
    view = holder.view() if holder else dict(NO_HOLDER_VIEW)
    view["ip_address"] = eip.get("ip_address", "")
    return view


def _eip_label(eip: Mapping[str, Any]) -> str:
    return f"EIP {eip['allocation_id']} ({eip['ip_address']})"


def _names(eips: Iterable[Mapping[str, Any]]) -> str:
    return ", ".join(f"{eip['allocation_id']} ({eip['ip_address']})" for eip in eips)


def _state_of(resource: Mapping[str, Any]) -> str:
    return resource.get("status") or "in an unknown state"


UNASSOCIATE_NAT_CODES = {
    "UsedBySnatTable": ("InvalidIpStatus.HasBeenUsedBySnatTable", "SNAT entries"),
    "UsedByForwardSnatTable": ("InvalidIpStatus.HasBeenUsedBySnatTable", "SNAT and DNAT entries"),
    "UsedByForwardTable": ("InvalidIpStatus.HasBeenUsedByForwardEntry", "DNAT entries"),
}


class _Planner:
    """Builds a :class:`Plan`; one instance per planning run keeps the bookkeeping in one place."""

    def __init__(self, snapshot: Snapshot, allow_reassociation: bool, force: bool):
        self.snapshot = snapshot
        self.allow_reassociation = allow_reassociation
        self.force = force
        self.plan = Plan()
        self.failures: list[PredictedFailure] = []
        self.leaving: dict[str, Step] = {}  # allocation_id -> its disassociation
        self.incoming: dict[tuple[str, str], list[Desired]] = {}

    # -- bookkeeping
    def fail(self, desired: Desired, code: str, message: str, action: str = "AssociateEipAddress") -> None:
        self.failures.append(PredictedFailure(code, desired.prefix + message, action))

    def resource(self, key: tuple[str, str]) -> dict[str, Any] | None:
        return self.snapshot.resources.get(key)

    def staying(self, key: tuple[str, str] | None, exclude: str) -> list[dict[str, Any]]:
        """EIPs on ``key`` that stay there: not ``exclude``, not leaving in this plan, not Unassociating."""
        return [
            eip
            for eip in self.snapshot.held_eips(key)
            if eip["allocation_id"] != exclude
            and eip["allocation_id"] not in self.leaving
            and eip["status"] != "Unassociating"
        ]

    def disassociate(self, eip: dict[str, Any], desired: Desired, reason: str) -> Step | None:
        """Plan the disassociation of ``eip`` from its holder once, after checking the holder allows it."""
        allocation_id = eip["allocation_id"]
        if allocation_id in self.leaving:
            return self.leaving[allocation_id]
        holder = holder_of(eip)
        if holder is None or not self.holder_lets_go(eip, holder, desired):
            return None
        step = Step("disassociate", allocation_id, eip["ip_address"], holder, desired.where, reason, self.force)
        self.leaving[allocation_id] = step
        self.plan.disassociations.append(step)
        self.plan.diff.add(allocation_id, _view(eip), {**NO_HOLDER_VIEW, "ip_address": eip["ip_address"]})
        return step

    def holder_lets_go(self, eip: Mapping[str, Any], holder: Holder, desired: Desired) -> bool:
        """Predict the UnassociateEipAddress failures of this holder (False: a failure was recorded)."""
        resource = self.resource(holder.key)
        if resource is None:
            return True  # not described (or gone): the API decides
        label, what = _eip_label(eip), holder.describe()
        action = "UnassociateEipAddress"
        before = len(self.failures)
        if holder.instance_type == ECS and resource["status"] not in ("Running", "Stopped"):
            self.fail(
                desired,
                "IncorrectInstanceStatus",
                f"{label} is on {what}, which is {_state_of(resource)}; an EIP comes off a Running or Stopped "
                "instance only. Wait until it is Running or Stopped and run again",
                action,
            )
        elif holder.instance_type == ENI and resource["status"] not in ("Available", "InUse"):
            self.fail(
                desired,
                "InvalidStatus.EniStatusNotSupport",
                f"{label} is on {what}, which is {_state_of(resource)}; wait until the ENI is Available or InUse "
                "and run again",
                action,
            )
        elif holder.instance_type == ENI and holder.mode == CUT_THROUGH and resource.get("instance_id"):
            self.fail(
                desired,
                "Eni.Attached",
                f"{label} is on {what}, which is attached to {resource['instance_id']}; a cut-through EIP comes off "
                "a detached ENI only. Detach the ENI first (DetachNetworkInterface)",
                action,
            )
        elif holder.instance_type == HAVIP and resource["status"] not in ("Available", "InUse"):
            self.fail(
                desired,
                "IncorrectHaVipStatus",
                f"{label} is on {what}, which is {_state_of(resource)}; wait until the HaVip is Available or InUse",
                action,
            )
        elif holder.instance_type == NAT_GATEWAY and not self.force:
            use = next(
                (ip["using_status"] for ip in resource["eips"] if ip["allocation_id"] == eip["allocation_id"]), ""
            )
            if use in UNASSOCIATE_NAT_CODES:
                code, entries = UNASSOCIATE_NAT_CODES[use]
                self.fail(
                    desired,
                    code,
                    f"{label} is used by {entries} of {what}; set force: true to disassociate it anyway (the "
                    "entries lose the address), or delete the entries first",
                    action,
                )
        return len(self.failures) == before

    def replace(
        self, desired: Desired, eip: Mapping[str, Any], occupants: list[dict[str, Any]], where: str, rule: str
    ) -> list[Step]:
        """Occupants of an exclusive slot: disassociated with allow_reassociation, else the API's Duplicated."""
        occupants = list({other["allocation_id"]: other for other in occupants}.values())
        if not occupants:
            return []
        if not self.allow_reassociation:
            self.fail(
                desired,
                "InvalidAssociation.Duplicated",
                f"{where} already holds EIP {_names(occupants)}; {rule}. Set allow_reassociation: true to replace it "
                f"with {eip['allocation_id'] or eip['ip_address']} (the old EIP is disassociated first), or disassociate it",
            )
            return []
        steps = [
            self.disassociate(other, desired, f"replaced by {eip['allocation_id'] or eip['ip_address']} on {where}")
            for other in occupants
        ]
        return [step for step in steps if step is not None]

    # -- state=present
    def plan_present(self, items: Sequence[Desired]) -> None:
        moving: list[tuple[Desired, dict[str, Any], Step | None]] = []
        claimed: dict[str, Desired] = {}
        for item in items:
            eip = self.snapshot.find_eip(item)
            if eip is None:
                option = item.option("allocation_id" if item.allocation_id else "ip_address")
                self.fail(
                    item,
                    "InvalidAllocationId.NotFound",
                    f"EIP {item.eip_ref} does not exist in region {self.snapshot.region}; check {option} and the "
                    "region",
                )
                continue
            other = claimed.setdefault(eip["allocation_id"], item)
            if other is not item:
                self.fail(
                    item,
                    "InvalidParameter",
                    f"{other.where} and {item.where} both name {_eip_label(eip)}; list it once",
                )
                continue
            self.plan.results.append(eip["allocation_id"])
            if satisfies(eip, item):
                self.plan.diff.add(eip["allocation_id"], _view(eip), _view(eip))
                continue
            if _locked(eip):
                locks = eip.get("operation_locks") or []
                self.fail(
                    item,
                    "Forbidden.FinancialLocked" if "financial" in locks else "InvalidEIPStatus.BizDisabled",
                    f"{_eip_label(eip)} is locked ({', '.join(locks) or eip.get('business_status')}) and cannot be "
                    "associated; settle the lock (overdue payment, security) first",
                )
                continue
            move = None
            holder = holder_of(eip)
            if holder is not None:
                target = f"{TYPE_LABELS[item.instance_type or ECS]} {item.instance_id}"
                if not self.allow_reassociation:
                    self.fail(
                        item,
                        "IncorrectEipStatus",
                        f"{_eip_label(eip)} is associated with {holder.describe()}; set allow_reassociation: true to "
                        f"move it to {target} (it is disassociated first, then associated)",
                    )
                    continue
                move = self.disassociate(eip, item, f"moves to {target}")
                if move is None:
                    continue
            moving.append((item, eip, move))
            self.incoming.setdefault(item.target, []).append(item)  # type: ignore[arg-type]
        # Targets are checked once every EIP that leaves is known, so that a swap within the list works.
        for item, eip, move in moving:
            self.plan_association(item, eip, move)

    def plan_association(self, item: Desired, eip: dict[str, Any], move: Step | None) -> None:
        key: tuple[str, str] = item.target  # type: ignore[assignment]
        resource = self.resource(key) if key[0] != IP_ADDRESS else {"id": key[1]}
        if resource is None:
            self.fail(
                item,
                "InvalidInstanId.NotFound",
                f"{item.option('instance_id')}={item.instance_id}: there is no {TYPE_LABELS[key[0]]} with this ID in "
                f"region {self.snapshot.region}; check the ID (and {item.option('instance_type')}, and the region)",
            )
            return
        before = len(self.failures)
        checks = {
            ECS: self.check_ecs,
            ENI: self.check_eni,
            NAT_GATEWAY: self.check_nat_gateway,
            CLB: self.check_clb,
            HAVIP: self.check_havip,
            IP_ADDRESS: self.check_ip_address,
        }
        replaced, private_ip, mode = checks[key[0]](item, eip, resource)
        if len(self.failures) > before:
            return
        holder = Holder(key[1], key[0], private_ip, mode, item.vpc_id or "")
        depends = ([move] if move else []) + replaced
        reason = "requested"
        if move is not None:
            reason = f"moved from {move.holder.describe()}"
        if replaced:
            reason = f"replaces {', '.join(step.allocation_id for step in replaced)}"
        undo = [
            Step("associate", step.allocation_id, step.ip_address, step.holder, item.where, "restore")
            for step in depends
        ]
        step = Step(
            "associate",
            eip["allocation_id"],
            eip["ip_address"],
            holder,
            item.where,
            reason,
            depends_on=[dependency.allocation_id for dependency in depends],
            undo=undo,
        )
        self.plan.associations.append(step)
        self.plan.diff.add(eip["allocation_id"], _view(eip), {**holder.view(), "ip_address": eip["ip_address"]})

    # -- per target type: each returns (replaced occupants, private IP to send, mode to send)
    def check_ecs(self, item: Desired, eip: dict[str, Any], instance: dict[str, Any]):
        name = f"ECS instance {item.instance_id}"
        before = len(self.failures)
        if instance["network_type"] and instance["network_type"] != "vpc":
            self.fail(
                item,
                "OperationDenied",
                f"{name} is not in a VPC ({instance['network_type']}); only VPC instances take EIPs",
            )
        if instance["status"] not in ("Running", "Stopped"):
            self.fail(
                item,
                "IncorrectInstanceStatus",
                f"{name} is {_state_of(instance)}; an EIP can be associated only with a Running or Stopped instance. "
                "Wait until it is Running or Stopped and run again",
            )
        if instance["public_ip_addresses"]:
            self.fail(
                item,
                "EIP_CAN_NOT_ASSOCIATE_WITH_PUBLIC_IP",
                f"{name} has a fixed public IP ({', '.join(instance['public_ip_addresses'])}) and cannot take an EIP; "
                "convert it to an EIP (ConvertNatPublicIpToEip) or release it first",
            )
        if len(self.failures) > before:
            return [], "", ""
        # The instance's one public address: an EIP on it, or a NAT-mode EIP on its primary ENI's primary IP.
        occupants = self.staying(item.target, eip["allocation_id"])
        if instance.get("primary_eni_id"):
            occupants += [
                other
                for other in self.staying((ENI, instance["primary_eni_id"]), eip["allocation_id"])
                if other["private_ip_address"] in ("", instance["primary_ip"])
            ]
        return self.replace(item, eip, occupants, name, "an ECS instance holds one EIP"), "", ""

    def check_eni(self, item: Desired, eip: dict[str, Any], eni: dict[str, Any]):
        mode = item.effective_mode or NAT_MODE
        name = f"ENI {item.instance_id}"
        nothing: tuple[list[Step], str, str] = ([], "", "")
        if eni["status"] not in ("Available", "InUse"):
            self.fail(
                item,
                "InvalidStatus.EniStatusNotSupport",
                f"{name} is {_state_of(eni)}; wait until it is Available or InUse and run again",
            )
            return nothing
        instance = self.resource((ECS, eni["instance_id"])) if eni["instance_id"] else None
        if instance is not None and instance["status"] not in ("Running", "Stopped"):
            self.fail(
                item,
                "InvalidStatus.EcsStatusNotSupport",
                f"{name} is attached to ECS instance {instance['id']}, which is {_state_of(instance)}; wait until it "
                "is Running or Stopped and run again",
            )
            return nothing
        staying = self.staying(item.target, eip["allocation_id"])
        addresses = [entry["ip"] for entry in eni["private_ips"]]
        if mode != NAT_MODE:
            if eni["type"] != "Secondary":
                self.fail(
                    item,
                    "Invalid.DirectEip.BindType",
                    f"{name} is a primary ENI; {MODE_LABELS[mode]} needs a secondary ENI. Use NAT mode on this ENI, "
                    "or a secondary ENI",
                )
                return nothing
            regions = CUT_THROUGH_REGIONS if mode == CUT_THROUGH else MULTI_EIP_CUT_THROUGH_REGIONS
            if self.snapshot.region not in regions:
                self.fail(
                    item,
                    "UnsupportedRegion",
                    f"{MODE_LABELS[mode]} is not offered in region {self.snapshot.region} (regions: "
                    f"{', '.join(sorted(regions))}); use NAT mode",
                )
                return nothing
        if not self.modes_agree(item, name, mode, staying):
            return nothing
        if mode == NAT_MODE:
            private_ip = item.private_ip_address or eni["primary_ip"]
            if private_ip not in addresses:
                self.fail(
                    item,
                    "InvalidParameter",
                    f"{item.option('private_ip_address')}={private_ip} is not an address of {name} (its addresses: "
                    f"{', '.join(addresses) or 'none'}); assign it to the ENI first (AssignPrivateIpAddresses) or "
                    "pick one of those",
                )
                return nothing
            for other in self.incoming.get(item.target, []):  # type: ignore[arg-type]
                if other is not item and (other.private_ip_address or eni["primary_ip"]) == private_ip:
                    self.fail(
                        item,
                        "InvalidParameter",
                        f"{other.where} also puts an EIP on {name} at {private_ip}; one EIP per private IP",
                    )
                    return nothing
            occupants = [other for other in staying if (other["private_ip_address"] or eni["primary_ip"]) == private_ip]
            if eni["type"] == "Primary" and private_ip == eni["primary_ip"] and instance is not None:
                # The primary IP of a primary ENI is the instance's own address: same rules as the instance.
                if instance["public_ip_addresses"]:
                    self.fail(
                        item,
                        "EIP_CAN_NOT_ASSOCIATE_WITH_PUBLIC_IP",
                        f"{private_ip} is the primary address of ECS instance {instance['id']}, which has a fixed "
                        f"public IP ({', '.join(instance['public_ip_addresses'])}); convert it to an EIP "
                        "(ConvertNatPublicIpToEip) or release it first, or use a secondary private IP",
                    )
                    return nothing
                occupants += self.staying((ECS, instance["id"]), eip["allocation_id"])
            where = f"{name} at {private_ip}"
            return (
                self.replace(item, eip, occupants, where, "in NAT mode each private IP takes one EIP"),
                private_ip,
                NAT_MODE,
            )
        if eni["instance_id"] and mode == CUT_THROUGH:
            self.fail(
                item,
                "Eni.Attached",
                f"{name} is attached to {eni['instance_id']}; cut-through mode needs a detached ENI: detach it "
                "(DetachNetworkInterface), associate the EIP, then attach the ENI again",
            )
            return nothing
        if mode == CUT_THROUGH:
            if len(addresses) > 1:
                self.fail(
                    item,
                    "Eni.HasSubIp",
                    f"{name} has secondary private IPs ({', '.join(addresses[1:])}); in cut-through mode the EIP "
                    "replaces the ENI's only address. Unassign them first (UnassignPrivateIpAddresses), or use NAT "
                    "mode",
                )
                return nothing
            if item.private_ip_address and item.private_ip_address != eni["primary_ip"]:
                self.fail(
                    item,
                    "InvalidParameter",
                    f"in cut-through mode the EIP takes the primary private IP of {name} ({eni['primary_ip']}); drop "
                    f"{item.option('private_ip_address')} or set it to {eni['primary_ip']}",
                )
                return nothing
            gateway = self.snapshot.ipv4_gateways.get(eni["vpc_id"])
            if gateway is not None:
                self.fail(
                    item,
                    "OperationDenied.Ipv4GatewayExist",
                    f"{name} is in VPC {eni['vpc_id']}, which has IPv4 gateway {gateway['id']}; cut-through mode is "
                    "not allowed in a VPC with an IPv4 gateway. Use NAT mode, or an ENI in a VPC without one",
                )
                return nothing
            replaced = self.replace(item, eip, staying, name, "in cut-through mode an ENI takes one EIP")
            return replaced, eni["primary_ip"], CUT_THROUGH
        # Multi-EIP cut-through.
        if (
            instance is not None
            and ".".join(instance["instance_type"].split(".")[:2]) not in MULTI_EIP_CUT_THROUGH_FAMILIES
        ):
            self.fail(
                item,
                "OperationUnsupported.EipBindModel",
                f"{name} is attached to ECS instance {instance['id']} of type {instance['instance_type']}, whose "
                "family "
                "does not support multi-EIP cut-through mode; use NAT mode, or an instance of a supported family",
            )
            return nothing
        if item.private_ip_address and item.private_ip_address not in addresses:
            self.fail(
                item,
                "InvalidParameter",
                f"{item.option('private_ip_address')}={item.private_ip_address} is not an address of {name} (its "
                f"addresses: {', '.join(addresses)})",
            )
            return nothing
        replaced = []
        if item.private_ip_address:
            occupants = [other for other in staying if other["private_ip_address"] == item.private_ip_address]
            replaced = self.replace(
                item, eip, occupants, f"{name} at {item.private_ip_address}", "each private IP takes one EIP"
            )
        total = len(staying) - len(replaced) + len(self.incoming.get(item.target, []))  # type: ignore[arg-type]
        if total > MULTI_BINDED_EIP_LIMIT:
            self.fail(
                item,
                "QuotaExceed.MultiBindedEip",
                f"{name} would hold {total} EIPs in multi-EIP cut-through mode; the limit is {MULTI_BINDED_EIP_LIMIT} "
                "per ENI. Disassociate some first",
            )
            return nothing
        return replaced, item.private_ip_address or "", MULTI_EIP_CUT_THROUGH

    def modes_agree(self, item: Desired, name: str, mode: str, staying: list[dict[str, Any]]) -> bool:
        """An ENI takes EIPs in one mode only (NAT with MULTI_BINDED: EipBindModeConflict; else Mode.Conflict)."""
        modes = {other["allocation_id"]: holder_of(other).mode for other in staying}  # type: ignore[union-attr]
        others = sorted(set(modes.values()) - {mode})
        if not others:
            return True
        code = (
            "OperationFailed.EipBindModeConflict"
            if {mode, *others} == {NAT_MODE, MULTI_EIP_CUT_THROUGH}
            else "Mode.Conflict"
        )
        self.fail(
            item,
            code,
            f"{name} holds EIPs in {' and '.join(MODE_LABELS.get(m, m) for m in others)} "
            f"({_names(other for other in staying if modes[other['allocation_id']] != mode)}); an ENI takes EIPs in "
            f"one mode only. Disassociate them first, or ask for mode: {others[0]}",
        )
        return False

    def check_nat_gateway(self, item: Desired, eip: dict[str, Any], gateway: dict[str, Any]):
        name = f"NAT gateway {item.instance_id}"
        if gateway["network_type"] and gateway["network_type"] != "internet":
            self.fail(
                item,
                "Forbidden.EipCanNotBindGatgw",
                f"{name} is a VPC (intranet) NAT gateway; only Internet NAT gateways take EIPs",
            )
        elif gateway["business_status"] == "FinancialLocked":
            self.fail(
                item,
                "NATGATEWAY_FINANCIALLOCKED",
                f"{name} is locked for overdue payment; renew it before associating EIPs",
            )
        elif gateway["status"] != "Available":
            self.fail(
                item,
                "IncorrectStatus.NatGateway",
                f"{name} is {_state_of(gateway)}; wait until it is Available and run again",
            )
        else:
            staying = self.staying(item.target, eip["allocation_id"])
            total = len(staying) + len(self.incoming.get(item.target, []))  # type: ignore[arg-type]
            if total > NAT_GATEWAY_EIP_LIMIT:
                self.fail(
                    item,
                    "QuotaExceeded.NumberOfEip",
                    f"{name} would hold {total} EIPs; a NAT gateway takes at most {NAT_GATEWAY_EIP_LIMIT} (it holds "
                    f"{len(staying)} now). Disassociate some, or ask Alibaba Cloud for a higher quota",
                )
        return [], "", ""

    def check_clb(self, item: Desired, eip: dict[str, Any], balancer: dict[str, Any]):
        name = f"CLB instance {item.instance_id}"
        if balancer["address_type"] != "intranet":
            # UNCONFIRMED code: an Internet-facing CLB already has a public address and takes no EIP.
            self.fail(
                item,
                "InvalidParameter.InstanceTypeNotSupport",
                f"{name} is Internet-facing (address {balancer['address']}); only an intranet CLB instance takes an "
                "EIP",
            )
            return [], "", ""
        occupants = self.staying(item.target, eip["allocation_id"])
        return self.replace(item, eip, occupants, name, "a CLB instance holds one EIP"), "", ""

    def check_havip(self, item: Desired, eip: dict[str, Any], havip: dict[str, Any]):
        name = f"HaVip {item.instance_id}"
        if havip["status"] not in ("Available", "InUse"):
            self.fail(
                item,
                "IncorrectHaVipStatus",
                f"{name} is {_state_of(havip)}; an EIP can be associated only with an Available or InUse HaVip",
            )
            return [], "", ""
        occupants = self.staying(item.target, eip["allocation_id"])
        return self.replace(item, eip, occupants, name, "a HaVip holds one EIP"), "", ""

    def check_ip_address(self, item: Desired, eip: dict[str, Any], target: dict[str, Any]):
        # The address itself is not described: the CIDR and one-EIP-per-address checks stay the API's.
        vpc_id = item.vpc_id or ""
        if vpc_id in self.snapshot.ipv4_gateways:
            gateway = self.snapshot.ipv4_gateways[vpc_id]
            if gateway is None:
                # A VPC that does not exist lists no gateway either; the API would then say InvalidVpcId.NotFound.
                self.fail(
                    item,
                    "OperationFailed.Ipv4GatewayNotOpenedInVpc",
                    f"VPC {vpc_id} has no IPv4 gateway (or does not exist); an EIP on IP address {item.instance_id} "
                    f"needs one. Create and activate an IPv4 gateway in {vpc_id} first, or check "
                    f"{item.option('vpc_id')}",
                )
                return [], "", ""
            if not gateway["enabled"]:
                # UNCONFIRMED code: the API lists ...NotActivatedInVpc beside ...NotOpenedInVpc without messages.
                self.fail(
                    item,
                    "OperationFailed.Ipv4GatewayNotActivatedInVpc",
                    f"IPv4 gateway {gateway['id']} of VPC {vpc_id} is not activated ({gateway['status']}); an EIP on "
                    f"IP address {item.instance_id} needs an active one. Activate it (EnableVpcIpv4Gateway) first",
                )
                return [], "", ""
        return [], item.private_ip_address or item.instance_id or "", ""

    # -- state=absent
    def plan_absent(self, items: Sequence[Desired]) -> None:
        for item in items:
            if item.eip_ref:
                eip = self.snapshot.find_eip(item)
                candidates = [eip] if eip is not None else []
            else:
                candidates = self.snapshot.held_eips(item.target)
            for eip in candidates:
                if eip["allocation_id"] not in self.plan.results:
                    self.plan.results.append(eip["allocation_id"])
                if matches_absent(eip, item):
                    self.disassociate(eip, item, "requested")
                else:
                    self.plan.diff.add(eip["allocation_id"], _view(eip), _view(eip))


def plan_changes(
    desired: Sequence[Desired], snapshot: Snapshot, state: str, allow_reassociation: bool, force: bool
) -> Plan:
    """The plan that converges ``desired``; raises :class:`PlanError` with every predicted failure."""
    planner = _Planner(snapshot, allow_reassociation, force)
    if state == "present":
        planner.plan_present(desired)
    else:
        planner.plan_absent(desired)
    if planner.failures:
        raise PlanError(planner.failures)
    return planner.plan


# ---- 4. acting ------------------------------------------------------------------------------------


@dataclass
class Outcome:
    """What executing a plan did: final EIP records, failures, and the rollbacks attempted."""

    records: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    rollbacks: list[str] = field(default_factory=list)
    errors: list[AlicloudApiError] = field(default_factory=list)
    calls: list[Step] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return bool(self.failures)


def _call_step(connection, api, step: Step) -> str:
    if step.kind == "associate":
        return api.associate_eip_address(
            connection,
            step.allocation_id,
            step.holder.instance_id,
            step.holder.instance_type,
            private_ip_address=step.holder.private_ip_address or None,
            mode=step.holder.mode if step.holder.instance_type == ENI else None,
            vpc_id=step.holder.vpc_id or None,
        )
    return api.unassociate_eip_address(
        connection,
        step.allocation_id,
        step.holder.instance_id,
        step.holder.instance_type,
        private_ip_address=step.holder.private_ip_address if step.holder.instance_type == ENI else None,
        force=True if step.force and step.holder.instance_type == NAT_GATEWAY else None,
    )


def _failure_text(step: Step, error: AlicloudApiError) -> str:
    prefix = f"{step.where}: " if step.where else ""
    return f"{prefix}{step.action} ({step.describe()}) failed: {error.describe()}"


def _contains(steps: Iterable[Step], step: Step) -> bool:
    """Identity membership: two steps may compare equal yet be different calls."""
    return any(candidate is step for candidate in steps)


def _expect(step: Step) -> Expectation:
    if step.kind == "associate":
        return Expectation("InUse", step.holder.instance_id, step.holder.private_ip_address or None)
    return Expectation("Available")


def execute_plan(
    connection,
    plan: Plan,
    wait: bool,
    wait_timeout: float,
    api=API,
    wait_policy: WaitPolicy | None = None,
    max_workers: int = MAX_CONCURRENCY,
) -> Outcome:
    """Make the plan's calls: disassociations, one batched wait, associations, one batched wait.

    A failure does not stop unrelated steps; an association whose disassociation failed is skipped, and
    when an association fails after its prerequisites ran, the old associations are put back.
    """
    outcome = Outcome()

    def run(steps: list[Step]) -> list[Step]:
        done = []
        for step, _request_id, error in run_concurrently(
            lambda step: _call_step(connection, api, step), steps, max_workers
        ):
            outcome.calls.append(step)
            if error is None:
                done.append(step)
                continue
            if not isinstance(error, AlicloudApiError):
                raise error
            outcome.errors.append(error)
            outcome.failures.append(_failure_text(step, error))
        return done

    def settle(steps: list[Step]) -> list[Step]:
        """Wait for the steps' EIPs; returns the steps whose EIP did not get there."""
        if not steps:
            return []
        expectations = {step.allocation_id: _expect(step) for step in steps}
        try:
            outcome.records.update(
                wait_for_eips(
                    connection, expectations, wait_timeout, policy=wait_policy, describe=api.describe_eip_addresses
                )
            )
            return []
        except WaitError as error:
            outcome.records.update(error.latest)
            outcome.failures.append(str(error))
            return [step for step in steps if step.allocation_id in error.pending]

    # Phase 1: disassociate, then wait until the EIPs are Available (an association needs that).
    released = run(plan.disassociations)
    if plan.associations or wait:
        stuck = settle(released)
        released = [step for step in released if not _contains(stuck, step)]
    released_ids = {step.allocation_id for step in released}

    # Phase 2: associate what can be; an association whose prerequisite failed is skipped.
    ready, blocked = [], []
    for step in plan.associations:
        (blocked if any(dependency not in released_ids for dependency in step.depends_on) else ready).append(step)
    for step in blocked:
        prefix = f"{step.where}: " if step.where else ""
        outcome.failures.append(f"{prefix}skipped {step.describe()}: a disassociation it depends on failed")
    associated = run(ready)
    stuck = settle(associated) if wait else []

    # Roll back what was disassociated for an association that did not happen: its call failed or was
    # skipped, or its EIP went back to Available.  One still Associating at the timeout may yet succeed,
    # so it is left alone (the wait failure reports it).
    def did_not_happen(step: Step) -> bool:
        if not _contains(associated, step):
            return True
        return _contains(stuck, step) and (outcome.records.get(step.allocation_id) or {}).get("status") == "Available"

    undo = [
        restore
        for step in plan.associations
        if did_not_happen(step)
        for restore in step.undo
        if restore.allocation_id in released_ids
    ]
    if undo:
        restored = run(undo)
        restore_stuck = settle(restored)
        for step in undo:
            done = _contains(restored, step) and not _contains(restore_stuck, step)
            verdict = "restored" if done else "could not restore"
            outcome.rollbacks.append(f"{verdict} {step.allocation_id} ({step.ip_address}) on {step.holder.describe()}")
    return outcome
