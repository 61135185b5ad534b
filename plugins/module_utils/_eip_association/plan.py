# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note: this module util is PRIVATE to the collection. It can change at any time; do not use it from
# other collections or standalone plugins/modules.

"""Step 3 of the association engine (pure): the plan that converges the desired associations.

Per association: nothing, associate, move (disassociate from the current holder, then associate) or replace
(disassociate the EIP the target holds, then associate), each association with the undo of its disassociations.
The documented failures are predicted by the target kinds' checks (``targets.py``), which return verdicts; this
planner turns them into steps or into one :class:`PlanError`, the same in check mode and in a real run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.alicloud.eip.plugins.module_utils._eip_association import lb_zones
from ansible_collections.alicloud.eip.plugins.module_utils._eip_association.kinds import (
    ECS,
    Context,
    PredictedFailure,
    eip_label,
    names,
)
from ansible_collections.alicloud.eip.plugins.module_utils._eip_association.request import Desired
from ansible_collections.alicloud.eip.plugins.module_utils._eip_association.snapshot import (
    NO_HOLDER_VIEW,
    Holder,
    Snapshot,
    holder_of,
    locked,
    matches_absent,
    satisfies,
)
from ansible_collections.alicloud.eip.plugins.module_utils._eip_association.targets import TARGETS, ZONAL
from ansible_collections.alicloud.eip.plugins.module_utils._util import DifferenceTracker


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
    # The load balancer's call that makes this zone's change (lb_zones), instead of the EIP API.
    call: str = ""

    @property
    def action(self) -> str:
        if self.call:
            return self.call
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
            "zone_id": self.holder.zone_id,
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
    # ALB/NLB: one call per load balancer (lb_zones), made after the EIP API's steps; zonal_steps report them.
    zonal: list[lb_zones.ZonalChange] = field(default_factory=list)
    zonal_steps: list[Step] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.disassociations or self.associations or self.zonal)

    @property
    def steps(self) -> list[Step]:
        return self.disassociations + self.associations + self.zonal_steps


def _view(eip: Mapping[str, Any]) -> dict[str, str]:
    holder = holder_of(eip)
    view = holder.view() if holder else dict(NO_HOLDER_VIEW)
    view["ip_address"] = eip.get("ip_address", "")
    return view


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
        self.context = Context(snapshot, self.leaving, self.incoming)

    # -- bookkeeping
    def fail(self, desired: Desired, code: str, message: str, action: str = "AssociateEipAddress") -> None:
        self.failures.append(PredictedFailure(code, desired.prefix + message, action))

    def refuse(self, desired: Desired, refusal: PredictedFailure) -> None:
        self.fail(desired, refusal.code, refusal.message, refusal.action)

    def holder_lets_go(self, eip: Mapping[str, Any], holder: Holder, desired: Desired) -> bool:
        """Predict the UnassociateEipAddress failures of this holder (False: a failure was recorded)."""
        resource = self.snapshot.resources.get(holder.key)
        kind = TARGETS.get(holder.instance_type)
        if resource is None or kind is None:
            return True  # not described (or gone): the API decides
        refusal = kind.check_release(eip, holder, resource, self.force)
        if refusal is not None:
            self.refuse(desired, refusal)
        return refusal is None

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

    def replace(
        self, desired: Desired, eip: Mapping[str, Any], occupants: list[dict[str, Any]], where: str, rule: str
    ) -> list[Step]:
        """Occupants of an exclusive slot: disassociated with allow_reassociation, else the API's Duplicated."""
        occupants = list({other["allocation_id"]: other for other in occupants}.values())
        if not occupants:
            return []
        newcomer = eip["allocation_id"] or eip["ip_address"]  # a pending EIP recovered by address has no ID yet
        if not self.allow_reassociation:
            self.fail(
                desired,
                "InvalidAssociation.Duplicated",
                f"{where} already holds EIP {names(occupants)}; {rule}. Set allow_reassociation: true to replace it "
                f"with {newcomer} (the old EIP is disassociated first), or disassociate it",
            )
            return []
        steps = [self.disassociate(other, desired, f"replaced by {newcomer} on {where}") for other in occupants]
        return [step for step in steps if step is not None]

    # -- state=present
    def missing_eip(self, item: Desired) -> None:
        option = item.option("allocation_id" if item.allocation_id else "ip_address")
        self.fail(
            item,
            "InvalidAllocationId.NotFound",
            f"EIP {item.eip_ref} does not exist in region {self.snapshot.region}; check {option} and the region",
        )

    # -- ALB and NLB zones (lb_zones decides; this turns its changes into steps and diff entries)
    def add_zonal(self, change: lb_zones.ZonalChange, reason_leaving: str) -> None:
        self.plan.zonal.append(change)
        for zone_id, stub in change.leaving:
            eip = self.snapshot.eips.get(stub["allocation_id"]) or {**stub, "ip_address": ""}
            holder = Holder(change.load_balancer_id, change.instance_type, zone_id=zone_id)
            step = Step("disassociate", eip["allocation_id"], eip["ip_address"], holder, change.where, reason_leaving)
            step.call = change.action
            self.plan.zonal_steps.append(step)
            self.plan.diff.add(eip["allocation_id"], _view(eip), {**NO_HOLDER_VIEW, "ip_address": eip["ip_address"]})
        for zone_id, eip in change.arriving:
            holder = Holder(change.load_balancer_id, change.instance_type, zone_id=zone_id)
            step = Step("associate", eip["allocation_id"], eip["ip_address"], holder, change.where, "requested")
            step.call = change.action
            self.plan.zonal_steps.append(step)
            self.plan.diff.add(eip["allocation_id"], _view(eip), {**holder.view(), "ip_address": eip["ip_address"]})

    def balancer(self, item: Desired, key: tuple[str, str]) -> dict[str, Any] | None:
        balancer = self.snapshot.resources.get(key)
        if balancer is None:
            self.fail(
                item,
                "ResourceNotFound.LoadBalancer",
                f"{item.option('instance_id')}={key[1]}: there is no {TARGETS[key[0]].label} with this ID in region "
                f"{self.snapshot.region}; check the ID and the region",
                lb_zones.ADDRESS_TYPE_ACTION,
            )
        return balancer

    def plan_zonal_present(self, items: Sequence[Desired]) -> None:
        groups: dict[tuple[str, str], list[Desired]] = {}
        for item in items:
            eip = self.snapshot.find_eip(item)
            if eip is None:
                self.missing_eip(item)
                continue
            self.plan.results.append(eip["allocation_id"])
            groups.setdefault(item.target, []).append(item)  # type: ignore[arg-type]
        for key, group in groups.items():
            balancer = self.balancer(group[0], key)
            if balancer is None:
                continue
            kind = TARGETS[key[0]]
            change, failures = lb_zones.plan_present(
                key[0], kind.label, ZONAL[key[0]], balancer, group, self.snapshot.find_eip
            )
            self.failures.extend(failures)
            if change is not None:
                self.add_zonal(change, f"replaced on {kind.label} {key[1]}")
            arriving = {eip["allocation_id"] for _zone, eip in change.arriving} if change else set()
            for item in group:
                eip = self.snapshot.find_eip(item)
                if eip is not None and eip["allocation_id"] not in arriving:
                    self.plan.diff.add(eip["allocation_id"], _view(eip), _view(eip))

    def plan_zonal_absent(self, groups: Mapping[tuple[str, str], tuple[list[Desired], list[str]]]) -> None:
        for key, (group, named) in groups.items():
            balancer = self.balancer(group[0], key)
            if balancer is None:
                continue
            for zone in balancer["zones"]:
                held = zone["allocation_id"]
                if held and (not named or held in named) and held not in self.plan.results:
                    self.plan.results.append(held)
            kind = TARGETS[key[0]]
            change, failures = lb_zones.plan_absent(
                key[0], kind.label, ZONAL[key[0]], balancer, group, named, self.force
            )
            self.failures.extend(failures)
            if change is not None:
                self.add_zonal(change, f"{kind.label} {key[1]} becomes internal (Intranet)")

    def plan_present(self, items: Sequence[Desired]) -> None:
        moving: list[tuple[Desired, dict[str, Any], Step | None]] = []
        claimed: dict[str, Desired] = {}
        zonal = [item for item in items if item.target and item.target[0] in ZONAL]
        self.plan_zonal_present(zonal)
        for item in items:
            if item in zonal:
                continue
            eip = self.snapshot.find_eip(item)
            if eip is None:
                self.missing_eip(item)
                continue
            other = claimed.setdefault(eip["allocation_id"], item)
            if other is not item:
                self.fail(
                    item,
                    "InvalidParameter",
                    f"{other.where} and {item.where} both name {eip_label(eip)}; list it once",
                )
                continue
            self.plan.results.append(eip["allocation_id"])
            if satisfies(eip, item):
                self.plan.diff.add(eip["allocation_id"], _view(eip), _view(eip))
                continue
            if locked(eip):
                locks = eip.get("operation_locks") or []
                self.fail(
                    item,
                    "Forbidden.FinancialLocked" if "financial" in locks else "InvalidEIPStatus.BizDisabled",
                    f"{eip_label(eip)} is locked ({', '.join(locks) or eip.get('business_status')}) and cannot be "
                    "associated; settle the lock (overdue payment, security) first",
                )
                continue
            move = None
            holder = holder_of(eip)
            if holder is not None and holder.instance_type in ZONAL:
                owner = eip["owner"]
                self.fail(
                    item,
                    "IncorrectEipStatus",
                    f"{eip_label(eip)} is held by {lb_zones.owner_text(owner)} and cannot be moved to "
                    f"{TARGETS[item.instance_type or ECS].label} {item.instance_id}; {lb_zones.how_to_free(owner)}",
                )
                continue
            if holder is not None:
                target = f"{TARGETS[item.instance_type or ECS].label} {item.instance_id}"
                if not self.allow_reassociation:
                    self.fail(
                        item,
                        "IncorrectEipStatus",
                        f"{eip_label(eip)} is associated with {holder.describe()}; set allow_reassociation: true to "
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
        kind = TARGETS[key[0]]
        resource = self.snapshot.resources.get(key) if kind.describe else {"id": key[1]}
        if resource is None:
            self.fail(
                item,
                "InvalidInstanId.NotFound",
                f"{item.option('instance_id')}={item.instance_id}: there is no {kind.label} with this ID in "
                f"region {self.snapshot.region}; check the ID (and {item.option('instance_type')}, and the region)",
            )
            return
        verdict = kind.check_associate(item, eip, resource, self.context)
        for refusal in verdict.refusals:
            self.refuse(item, refusal)
        if verdict.refusals:
            return
        before = len(self.failures)
        replaced = self.replace(item, eip, verdict.occupants, verdict.slot, verdict.rule)
        if verdict.limit is not None and verdict.limit.count - len(replaced) > verdict.limit.maximum:
            total = verdict.limit.count - len(replaced)
            self.fail(item, verdict.limit.code, verdict.limit.message(total))
        if len(self.failures) > before:
            return
        holder = Holder(key[1], key[0], verdict.private_ip, verdict.mode, item.vpc_id or "")
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

    # -- state=absent
    def plan_absent(self, items: Sequence[Desired]) -> None:
        zonal: dict[tuple[str, str], tuple[list[Desired], list[str]]] = {}
        for item in items:
            if not item.eip_ref and item.target and item.target[0] in ZONAL:
                group, named = zonal.setdefault(item.target, ([], []))
                group.append(item)
                named.append("")  # "" stands for every EIP of the load balancer
                continue
            eip = self.snapshot.find_eip(item) if item.eip_ref else None
            holder = holder_of(eip)
            if holder is not None and holder.instance_type in ZONAL and matches_absent(eip, item):  # type: ignore
                group, named = zonal.setdefault(holder.key, ([], []))
                group.append(item)
                named.append(eip["allocation_id"])  # type: ignore[index]
                continue
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
        self.plan_zonal_absent({key: (group, [] if "" in named else named) for key, (group, named) in zonal.items()})


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
