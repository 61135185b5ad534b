# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note: this module util is PRIVATE to the collection. It can change at any time; do not use it from
# other collections or standalone plugins/modules.

"""Step 2 of the association engine: what the cloud looks like, described in batches.

:func:`gather_snapshot` describes the EIPs (one call per 50) and, only for associations that are not already in
place, their targets and the EIPs those hold (read from the targets' own records where these show them, see
:func:`_read_held`).  Records the caller already knows (an EIP a recovery would bring back, in check mode) are
passed in as ``seeded`` and are not described.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.alicloud.eip.plugins.module_utils._api.vpc_eip import STABLE, TRANSIENT_STATUSES, wait_for_eips
from ansible_collections.alicloud.eip.plugins.module_utils._eip_association.kinds import (
    ECS,
    MAX_CONCURRENCY,
    NAT_MODE,
)
from ansible_collections.alicloud.eip.plugins.module_utils._eip_association import lb_zones
from ansible_collections.alicloud.eip.plugins.module_utils._eip_association.request import Desired
from ansible_collections.alicloud.eip.plugins.module_utils._eip_association.targets import (
    OWNER_TYPES,
    TARGETS,
    TYPE_LABELS,
    ZONAL,
)
from ansible_collections.alicloud.eip.plugins.module_utils._polling import WaitPolicy
from ansible_collections.alicloud.eip.plugins.module_utils._retries import AlicloudApiError
from ansible_collections.alicloud.eip.plugins.module_utils._util import run_concurrently


@dataclass(frozen=True)
class Holder:
    """Who holds an EIP: the resource and, on an ENI, the private IP and mode."""

    instance_id: str
    instance_type: str
    private_ip_address: str = ""
    mode: str = ""
    vpc_id: str = ""
    zone_id: str = ""  # the zone of an ALB or NLB

    @property
    def key(self) -> tuple[str, str]:
        return self.instance_type, self.instance_id

    def describe(self) -> str:
        text = f"{TYPE_LABELS.get(self.instance_type, self.instance_type)} {self.instance_id}"
        kind = TARGETS.get(self.instance_type)
        if kind is not None and kind.holder_details is not None:
            text += f" ({', '.join(kind.holder_details(self))})"
        if self.zone_id:
            text += f" (zone {self.zone_id})"
        return text

    def view(self) -> dict[str, str]:
        view = {
            "instance_id": self.instance_id,
            "instance_type": self.instance_type,
            "private_ip_address": self.private_ip_address,
            "mode": self.mode,
        }
        if self.zone_id:
            view["zone_id"] = self.zone_id
        return view


NO_HOLDER_VIEW = {"instance_id": "", "instance_type": "", "private_ip_address": "", "mode": ""}


def holder_of(eip: Mapping[str, Any] | None) -> Holder | None:
    """The current holder of an EIP record, or ``None`` when it is not associated.

    An EIP an ALB or NLB zone holds sits on a service-managed ENI; its holder is the load balancer (``owner``).
    """
    if not eip or not eip.get("instance_id"):
        return None
    owner = eip.get("owner")
    if owner and owner.get("type") in OWNER_TYPES:
        return Holder(owner["id"], OWNER_TYPES[owner["type"]], zone_id=owner.get("zone_id") or "")
    instance_type = eip.get("instance_type") or ECS
    kind = TARGETS.get(instance_type)
    return Holder(
        instance_id=eip["instance_id"],
        instance_type=instance_type,
        private_ip_address=(eip.get("private_ip_address") or "") if kind is not None and kind.takes_private_ip else "",
        mode=(eip.get("mode") or NAT_MODE) if kind is not None and kind.has_mode else "",
        vpc_id=(eip.get("vpc_id") or "") if kind is not None and kind.needs_vpc else "",
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
    kind = TARGETS.get(desired.instance_type or "")
    return kind is None or kind.in_place(holder, desired)


def matches_absent(eip: Mapping[str, Any], desired: Desired) -> bool:
    """Whether ``desired`` (state=absent) asks to take this EIP off its holder."""
    holder = holder_of(eip)
    if holder is None:
        return False
    if desired.instance_id and holder.key != desired.target:
        return False
    if desired.zone_id and holder.zone_id != desired.zone_id:
        return False
    if desired.private_ip_address and holder.private_ip_address:
        return holder.private_ip_address == desired.private_ip_address
    return True


def locked(eip: Mapping[str, Any]) -> bool:
    return bool(eip.get("operation_locks")) or eip.get("business_status", "Normal") not in ("", "Normal")


def _zonal_holder(eip: Mapping[str, Any]) -> bool:
    """Whether an ALB or NLB zone holds the EIP (lb_zones plans what happens to it)."""
    holder = holder_of(eip)
    return holder is not None and holder.instance_type in ZONAL


def _describe_resources(connection, api, snapshot: Snapshot, keys: Iterable[tuple[str, str]]) -> None:
    """Describe resources not yet known, batched per type (IP address targets have nothing to describe)."""
    by_type: dict[str, list[str]] = {}
    for instance_type, instance_id in dict.fromkeys(keys):
        kind = TARGETS.get(instance_type)
        if (
            kind is not None
            and kind.describe
            and (instance_type, instance_id) not in snapshot.resources
            and instance_id
        ):
            by_type.setdefault(instance_type, []).append(instance_id)
    for instance_type, ids in by_type.items():
        describe = getattr(api, TARGETS[instance_type].describe)  # type: ignore[arg-type]
        records = {record["id"]: record for record in describe(connection, ids)}
        snapshot.resources.update({(instance_type, instance_id): records.get(instance_id) for instance_id in ids})


def _describable(instance_type: str) -> bool:
    """Whether targets of this type are described (an IP address target is not: the API checks it)."""
    kind = TARGETS.get(instance_type)
    return kind is None or kind.describe is not None


def _needs_lookup(item: Desired) -> bool:
    """Whether what ``item``'s target holds is looked up per resource although its record names its EIPs."""
    kind = TARGETS.get(item.instance_type or "")
    return kind is not None and kind.held_lookup(item)


def _gateway_vpc(item: Desired, snapshot: Snapshot) -> str:
    """The VPC whose IPv4 gateway decides whether ``item`` can be made ("" when no rule depends on one)."""
    kind = TARGETS.get(item.instance_type or "")
    return kind.gateway_vpc(item, snapshot.resources.get(item.target)) if kind is not None else ""  # type: ignore


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


def _read_held(
    connection, api, snapshot: Snapshot, keys: Iterable[tuple[str, str]], lookups: Iterable[tuple[str, str]] = ()
) -> None:
    """The EIPs each described resource holds, with as few DescribeEipAddresses as the records allow.

    A kind whose record shows its EIPs (``TargetKind.held_in_record``: an ECS instance's EipAddress, an ENI's
    AssociatedPublicIp and its addresses') is read from that record: the EIPs named there that are not known yet
    are described together (one DescribeEipAddresses per 50), and an EIP counts as held only when its own record
    says so (an ENI's primary address also shows the EIP of the instance).  Other kinds, and ``lookups`` (requests
    the record may not answer, ``TargetKind.held_lookup``), are looked up per resource (:func:`_describe_held`).
    """
    wanted = [key for key in dict.fromkeys(keys) if key not in snapshot.held and key[1]]
    exact = set(lookups)
    shown: dict[tuple[str, str], list[str]] = {}
    per_resource: list[tuple[str, str]] = []
    for key in wanted:
        kind = TARGETS.get(key[0])
        if kind is None or kind.held_in_record is None or key in exact or key not in snapshot.resources:
            per_resource.append(key)
            continue
        resource = snapshot.resources[key]
        shown[key] = kind.held_in_record(resource) if resource is not None else []
    unknown = [allocation_id for ids in shown.values() for allocation_id in ids if allocation_id not in snapshot.eips]
    if unknown:
        snapshot.add_eips(api.describe_eip_addresses(connection, allocation_ids=list(dict.fromkeys(unknown))))
    for key, ids in shown.items():
        snapshot.held[key] = [
            allocation_id
            for allocation_id in dict.fromkeys(ids)
            if allocation_id in snapshot.eips and getattr(holder_of(snapshot.eips[allocation_id]), "key", None) == key
        ]
    _describe_held(connection, api, snapshot, per_resource)


def gather_snapshot(
    connection,
    desired: Sequence[Desired],
    state: str,
    wait_timeout: float,
    api,
    wait_policy: WaitPolicy | None = None,
    seeded: Iterable[Mapping[str, Any]] = (),
) -> Snapshot:
    """Describe what the plan needs, batched, and nothing more when every association is already in place.

    A re-run where every EIP already sits on its target costs one DescribeEipAddresses per 50 EIPs.
    Otherwise: the targets and the EIPs they hold (their records name them; the EIPs not known yet cost one
    DescribeEipAddresses per 50); the current holders of EIPs that move; the instance an
    ENI target is attached to; and the EIPs that stand for an instance's one public address (its own
    and a NAT-mode EIP on its primary ENI's primary IP).  EIPs caught in a transient state (Associating,
    Unassociating) are waited for first.  ``seeded`` EIP records (say, the EIP a recovery would bring back) are
    taken as they are: the EIPs they answer for are not described, and no resource lists them as held.
    """
    snapshot = Snapshot(region=getattr(connection, "region", ""))
    snapshot.add_eips(dict(record) for record in seeded)
    known = [item for item in desired if item.eip_ref and snapshot.find_eip(item) is not None]
    allocation_ids = [item.allocation_id for item in desired if item.allocation_id and item not in known]
    ip_addresses = [item.ip_address for item in desired if item.ip_address and item not in known]
    if allocation_ids:
        snapshot.add_eips(api.describe_eip_addresses(connection, allocation_ids=allocation_ids))
    if ip_addresses:
        snapshot.add_eips(api.describe_eip_addresses(connection, ip_addresses=ip_addresses))
    if state == "absent":
        _describe_held(
            connection,
            api,
            snapshot,
            [item.target for item in desired if not item.eip_ref and item.target and item.target[0] not in ZONAL],
        )

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

    # ALB and NLB: the named load balancers, and the owners of EIPs that sit on a service-managed ENI.
    zonal_targets = [item.target for item in desired if item.target and item.target[0] in ZONAL]
    if zonal_targets or any(eip.get("service_managed") for eip in snapshot.eips.values()):
        lb_zones.gather(connection, api, snapshot.eips, snapshot.resources, zonal_targets, ZONAL)  # type: ignore

    targets: list[tuple[str, str]] = []
    holders: list[tuple[str, str]] = []
    moving: list[Desired] = []
    for item in desired:
        if item.target and item.target[0] in ZONAL:
            continue  # planned by lb_zones from what was just described
        eip = snapshot.find_eip(item) if item.eip_ref else None
        if state == "present":
            if eip is None or satisfies(eip, item) or locked(eip) or _zonal_holder(eip):
                continue
            targets.append(item.target)  # type: ignore[arg-type]
            moving.append(item)
            if holder_of(eip) is not None:
                holders.append(holder_of(eip).key)  # type: ignore[union-attr]
        else:
            candidates = [eip] if eip is not None else ([] if item.eip_ref else snapshot.held_eips(item.target))
            candidates = [c for c in candidates if not _zonal_holder(c)]
            holders.extend(holder_of(c).key for c in candidates if matches_absent(c, item))  # type: ignore[union-attr]
    if not targets and not holders:
        return snapshot

    # Round 1: the targets and the current holders of EIPs that move.
    _describe_resources(connection, api, snapshot, targets + holders)
    # Round 2: the instance behind an ENI target, and the resources whose EIPs stand for an instance's public address.
    more_resources: list[tuple[str, str]] = []
    more_held: list[tuple[str, str]] = []
    for key in targets:
        resource = snapshot.resources.get(key)
        if resource is None:
            continue
        resources, held = TARGETS[key[0]].neighbours(resource) if key[0] in TARGETS else ([], [])
        more_resources += resources
        more_held += held
    _describe_resources(connection, api, snapshot, more_resources)
    # What the targets and those resources hold: from their records, plus one DescribeEipAddresses per 50 EIPs
    # found there and not known yet; per resource only where the record may not tell.
    lookups = [item.target for item in moving if _needs_lookup(item)]
    _read_held(connection, api, snapshot, [key for key in targets if _describable(key[0])] + more_held, lookups)
    # The IPv4 gateways that decide cut-through and IpAddress associations (one call per VPC, none on a re-run).
    _list_ipv4_gateways(connection, api, snapshot, [_gateway_vpc(item, snapshot) for item in moving])
    # Round 3: holders of the EIPs found there that a replacement would disassociate.
    occupants = [holder_of(eip).key for key in targets + more_held for eip in snapshot.held_eips(key)]  # type: ignore
    _describe_resources(connection, api, snapshot, occupants)
    return snapshot
