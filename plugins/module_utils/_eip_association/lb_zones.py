# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note: this module util is PRIVATE to the collection. It can change at any time; do not use it from
# other collections or standalone plugins/modules.

"""Zone EIPs of ALB and NLB instances: the part of the association engine that AssociateEipAddress cannot do.

An ALB or NLB takes one EIP per zone, through its own API (docs/load-balancers.md): the EIP API has no ALB/NLB
InstanceType.  The targets table names these kinds like any other (``targets.TARGETS``, with a :class:`ZonalApi`
saying which wrapper does what); this module observes them (:func:`gather`), plans one call per load balancer
(:func:`plan_balancer`, pure) and makes it (:func:`execute_changes`).  The rules:

- Intranet -> Internet: one ``UpdateLoadBalancerAddressTypeConfig`` with every zone's EIP, refused before any call
  unless every zone is given an Available EIP of the region.
- Swapping a zone's EIP: ALB through ``UpdateLoadBalancerAddressTypeConfig`` (``UpdateLoadBalancerZones`` takes no
  AllocationId and answers ``OperationDenied.ZoneMappingsNotChanged``, terraform-provider-alicloud#9309), NLB
  through ``UpdateLoadBalancerZones`` with the FULL zone list (a zone left out is removed).
- Taking every EIP off means Internet -> Intranet: only with ``force`` (consent), because it takes the load
  balancer off the internet.  Taking off some of them is refused: an Internet-facing one needs an EIP per zone.
- An EIP a load balancer holds sits on a service-managed ENI; ``owner`` (``{type, id, zone_id}``) on its record
  says which load balancer and zone, and nothing else may move or release it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.alicloud.eip.plugins.module_utils._eip_association.kinds import (
    PredictedFailure,
    eip_label,
)
from ansible_collections.alicloud.eip.plugins.module_utils._polling import WaitError, WaitPolicy
from ansible_collections.alicloud.eip.plugins.module_utils._retries import AlicloudApiError

ADDRESS_TYPE_ACTION = "UpdateLoadBalancerAddressTypeConfig"
ZONES_ACTION = "UpdateLoadBalancerZones"
INTERNET = "Internet"
INTRANET = "Intranet"
# The module's own refusals (no API call could tell): a zone left without an EIP, and taking the load balancer off
# the internet without consent.  The API's answer to a partial removal is UNCONFIRMED [fid:lb-partial-removal].
ZONES_CODE = "InvalidParameter.ZoneMappings"
CONSENT_CODE = "InvalidParameter.Force"


@dataclass(frozen=True)
class ZonalApi:
    """The wrappers (names in the engine's ``api`` namespace) behind one load-balancer kind."""

    product: str  # alb | nlb: the owner type eip_info reports
    describe: str  # IDs -> load balancer records (``_api.zonal_lb``)
    list_ids: str  # every ID of the region (the owner lookup)
    update_address_type: str  # (connection, id, address_type, zones) -> JobId
    wait: str  # (connection, job_id, id, action, timeout, policy) -> record
    # The call that swaps one zone's EIP of an Internet-facing load balancer (with the full zone list).
    swap_action: str = ADDRESS_TYPE_ACTION
    update_zones: str | None = None  # (connection, id, zones) -> JobId, for swap_action UpdateLoadBalancerZones


@dataclass
class ZonalChange:
    """One call to one load balancer: the full zone list to send, and the EIPs that arrive and leave per zone."""

    instance_type: str
    label: str
    load_balancer_id: str
    api: ZonalApi
    action: str
    address_type: str
    zones: list[dict[str, str]]
    arriving: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (zone_id, EIP record)
    leaving: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    where: str = ""

    def describe(self) -> str:
        return f"{self.action} of {self.label} {self.load_balancer_id}"


def owner_of(balancer: Mapping[str, Any], zone_id: str) -> dict[str, str]:
    """The ``owner`` of an EIP on ``balancer``'s zone."""
    return {"type": balancer["product"], "id": balancer["id"], "zone_id": zone_id}


def annotate(eips: Mapping[str, dict[str, Any]], balancers: Iterable[Mapping[str, Any] | None]) -> None:
    """Write ``owner`` on each EIP record that a zone of one of ``balancers`` holds."""
    for balancer in balancers:
        if not balancer:
            continue
        for zone in balancer["zones"]:
            record = eips.get(zone["allocation_id"]) if zone["allocation_id"] else None
            if record is not None:
                record["owner"] = owner_of(balancer, zone["zone_id"])


def owner_text(owner: Mapping[str, str]) -> str:
    return f"{owner['type'].upper()} {owner['id']} (zone {owner['zone_id']})"


def how_to_free(owner: Mapping[str, str]) -> str:
    """The advice for an EIP a load balancer holds."""
    return (
        f"free it through the load balancer: eip_association with instance_id {owner['id']}, zone_id "
        f"{owner['zone_id']} and another EIP (swap), or instance_id {owner['id']}, state absent and force true "
        "(the load balancer becomes internal)"
    )


# ---- observe ------------------------------------------------------------------------------------------------


def gather(
    connection,
    api,
    eips: dict[str, dict[str, Any]],
    resources: dict[tuple[str, str], Any],
    named: Sequence[tuple[str, str]],
    kinds: Mapping[str, ZonalApi],
) -> None:
    """Describe the load balancers ``named`` ((type, id)), find the owners of service-managed EIPs among ``eips``
    (listing every ALB and NLB of the region only when one is not explained yet), write ``owner`` on the EIP records
    and describe the EIPs the described load balancers hold that are not known yet."""
    by_type: dict[str, list[str]] = {}
    for instance_type, balancer_id in dict.fromkeys(named):
        if (instance_type, balancer_id) not in resources:
            by_type.setdefault(instance_type, []).append(balancer_id)

    def describe(instance_type: str, ids: list[str]) -> None:
        records = {record["id"]: record for record in getattr(api, kinds[instance_type].describe)(connection, ids)}
        resources.update({(instance_type, balancer_id): records.get(balancer_id) for balancer_id in ids})

    for instance_type, ids in by_type.items():
        describe(instance_type, ids)
    balancers = [record for (kind, _id), record in resources.items() if kind in kinds and record]
    held = {zone["allocation_id"] for balancer in balancers for zone in balancer["zones"] if zone["allocation_id"]}
    if any(eip.get("service_managed") and key not in held for key, eip in eips.items()):
        for instance_type, zonal in kinds.items():
            try:
                ids = [i for i in getattr(api, zonal.list_ids)(connection) if (instance_type, i) not in resources]
            except AlicloudApiError as error:
                # A RAM policy without this product's reads: the owner stays unknown (null) rather than failing a
                # listing or an association that does not need it; a load balancer that is named is still read.
                if error.code.startswith(("Forbidden", "NoPermission")):
                    continue
                raise
            if ids:
                describe(instance_type, ids)
        balancers = [record for (kind, _id), record in resources.items() if kind in kinds and record]
    missing = [
        zone["allocation_id"]
        for balancer in balancers
        for zone in balancer["zones"]
        if zone["allocation_id"] and zone["allocation_id"] not in eips
    ]
    if missing:
        eips.update(
            {eip["allocation_id"]: eip for eip in api.describe_eip_addresses(connection, allocation_ids=missing)}
        )
    annotate(eips, balancers)


# ---- plan (pure) --------------------------------------------------------------------------------------------


def _zone_list(balancer: Mapping[str, Any], allocation: Mapping[str, str]) -> list[dict[str, str]]:
    """Every zone of the load balancer, with the EIP ``allocation`` gives it (zone_id -> allocation ID)."""
    return [
        {
            "zone_id": zone["zone_id"],
            "vswitch_id": zone["vswitch_id"],
            "allocation_id": allocation.get(zone["zone_id"], ""),
        }
        for zone in balancer["zones"]
    ]


def plan_present(
    instance_type: str,
    label: str,
    zonal: ZonalApi,
    balancer: Mapping[str, Any],
    items: Sequence[Any],
    find_eip,
) -> tuple[ZonalChange | None, list[PredictedFailure]]:
    """The one call that gives each zone of ``items`` its EIP (``items``: Desired with zone_id), or the refusals."""
    name = f"{label} {balancer['id']}"
    failures: list[PredictedFailure] = []

    def fail(item, code: str, message: str, action: str = ADDRESS_TYPE_ACTION) -> None:
        failures.append(PredictedFailure(code, item.prefix + message, action))

    zones = {zone["zone_id"]: zone for zone in balancer["zones"]}
    current = {zone["zone_id"]: zone["allocation_id"] for zone in balancer["zones"]}
    wanted = dict(current) if balancer["address_type"] == INTERNET else {}
    arriving: list[tuple[str, dict[str, Any]]] = []
    for item in items:
        if item.zone_id not in zones:
            fail(
                item,
                ZONES_CODE,
                f"{item.option('zone_id')}={item.zone_id}: {name} has no such zone; its zones are "
                f"{', '.join(sorted(zones)) or 'none'}",
            )
            continue
        eip = find_eip(item)
        if eip is None:
            continue  # the caller has refused it (not found in the region)
        owner = eip.get("owner") or {}
        if owner.get("id") == balancer["id"] and owner.get("zone_id") == item.zone_id:
            wanted[item.zone_id] = eip["allocation_id"]
            continue
        if owner:
            fail(item, "IncorrectEipStatus", f"{eip_label(eip)} is held by {owner_text(owner)}; {how_to_free(owner)}")
            continue
        if eip["status"] != "Available" or eip.get("operation_locks"):
            fail(
                item,
                "IncorrectEipStatus",
                f"{eip_label(eip)} is {eip['status']}"
                f"{' on ' + eip['instance_id'] if eip.get('instance_id') else ''}; a load balancer zone takes an "
                "Available EIP only. Disassociate it first (or name another EIP)",
            )
            continue
        wanted[item.zone_id] = eip["allocation_id"]
        arriving.append((item.zone_id, eip))
    if failures:
        return None, failures
    if balancer["address_type"] != INTERNET:
        without = sorted(zone for zone in zones if not wanted.get(zone))
        if without:
            fail(
                items[0],
                ZONES_CODE,
                f"{name} is internal (Intranet); making it Internet-facing needs an EIP for "
                f"every zone, and zone(s) {', '.join(without)} have none in this request. Add an item with "
                "zone_id and an Available EIP for each",
            )
            return None, failures
    if not arriving:
        return None, []  # in place: nothing to write, whatever the load balancer's status
    if balancer["status"] != "Active":
        # Writes to a Configuring or Provisioning load balancer answer IncorrectStatus.LoadBalancer.
        fail(
            items[0],
            "IncorrectStatus.LoadBalancer",
            f"{name} is {balancer['status'] or 'in an unknown state'}; wait until it is Active and run again",
        )
        return None, failures
    leaving = [
        (zone_id, {"allocation_id": current[zone_id]})
        for zone_id, _eip in arriving
        if balancer["address_type"] == INTERNET and current.get(zone_id)
    ]
    if balancer["address_type"] == INTERNET:
        action, address_type = zonal.swap_action, INTERNET
    else:
        action, address_type = ADDRESS_TYPE_ACTION, INTERNET
    change = ZonalChange(
        instance_type,
        label,
        balancer["id"],
        zonal,
        action,
        address_type,
        _zone_list(balancer, wanted),
        arriving,
        leaving,
        items[0].where,
    )
    return change, []


def plan_absent(
    instance_type: str,
    label: str,
    zonal: ZonalApi,
    balancer: Mapping[str, Any],
    items: Sequence[Any],
    named: Sequence[str],
    force: bool,
) -> tuple[ZonalChange | None, list[PredictedFailure]]:
    """Take EIPs off: all of them (-> Intranet, with ``force``) or refuse. ``named``: the allocation IDs asked off
    (empty: every EIP of the load balancer)."""
    name = f"{label} {balancer['id']}"
    held = {zone["allocation_id"]: zone["zone_id"] for zone in balancer["zones"] if zone["allocation_id"]}
    if balancer["address_type"] != INTERNET or not held:
        return None, []
    taken = set(named) & set(held) if named else set(held)
    if not taken:
        return None, []
    item = items[0]
    if taken != set(held):
        kept = sorted(held[key] for key in set(held) - taken)
        return None, [
            PredictedFailure(
                ZONES_CODE,
                f"{item.prefix}{name} is Internet-facing and needs an EIP in every zone; taking off only "
                f"{', '.join(sorted(taken))} would leave zone(s) {', '.join(sorted(held[key] for key in taken))} "
                f"without one while {', '.join(kept)} keep theirs. Swap the EIP instead (state present, zone_id and "
                f"another EIP), or take every EIP off (instance_id {balancer['id']}, state absent, force true: it "
                "becomes internal)",
                ADDRESS_TYPE_ACTION,
            )
        ]
    if not force:
        return None, [
            PredictedFailure(
                CONSENT_CODE,
                f"{item.prefix}taking every EIP off {name} turns it internal (Intranet): it leaves the internet. Set "
                "force: true to do that",
                ADDRESS_TYPE_ACTION,
            )
        ]
    if balancer["status"] != "Active":
        return None, [
            PredictedFailure(
                "IncorrectStatus.LoadBalancer",
                f"{item.prefix}{name} is {balancer['status'] or 'in an unknown state'}; wait until it is Active and "
                "run again",
                ADDRESS_TYPE_ACTION,
            )
        ]
    leaving = [(zone_id, {"allocation_id": key}) for key, zone_id in held.items()]
    change = ZonalChange(
        instance_type,
        label,
        balancer["id"],
        zonal,
        ADDRESS_TYPE_ACTION,
        INTRANET,
        _zone_list(balancer, {}),
        [],
        leaving,
        item.where,
    )
    return change, []


# ---- act ----------------------------------------------------------------------------------------------------


@dataclass
class ZonalOutcome:
    """What the zonal calls did: the final EIP records, failures and errors."""

    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    errors: list[AlicloudApiError] = field(default_factory=list)


def execute_changes(
    connection, api, changes: Sequence[ZonalChange], wait: bool, wait_timeout: float, policy: WaitPolicy | None
) -> ZonalOutcome:
    """One call per load balancer, its job waited for (then the load balancer Active), the EIPs read back."""
    outcome = ZonalOutcome()
    balancers = []
    for change in changes:
        prefix = f"{change.where}: " if change.where else ""
        try:
            if change.action == ZONES_ACTION and change.api.update_zones:
                job = getattr(api, change.api.update_zones)(connection, change.load_balancer_id, change.zones)
            else:
                job = getattr(api, change.api.update_address_type)(
                    connection, change.load_balancer_id, change.address_type, change.zones
                )
            if wait:
                balancers.append(
                    getattr(api, change.api.wait)(
                        connection, job, change.load_balancer_id, change.action, wait_timeout, policy
                    )
                )
        except AlicloudApiError as error:
            outcome.errors.append(error)
            outcome.failures.append(f"{prefix}{change.describe()} failed: {error.describe()}")
        except WaitError as error:
            outcome.failures.append(f"{prefix}{change.describe()}: {error}")
    touched = [eip["allocation_id"] for change in changes for _zone, eip in change.arriving + change.leaving]
    if touched:
        try:
            records = {
                eip["allocation_id"]: eip for eip in api.describe_eip_addresses(connection, allocation_ids=touched)
            }
        except AlicloudApiError as error:
            outcome.failures.append(f"the load balancer changes were made, but reading the EIPs back failed: {error}")
            return outcome
        annotate(records, balancers)
        outcome.records.update(records)
    return outcome
