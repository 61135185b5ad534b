# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note: this module util is PRIVATE to the collection. It can change at any time; do not use it from
# other collections or standalone plugins/modules.

"""What an EIP can be associated with: one :class:`TargetKind` entry per InstanceType, in :data:`TARGETS`.

An entry says everything the engine knows about a kind: its label and ID prefix, the API function that
describes it, how its holder is described and compared, which slot only one EIP can hold, the resources
its checks also read, and its association and release checks.  The checks return verdicts
(``kinds.Verdict``, ``kinds.PredictedFailure``); the planner acts on them.  Adding a kind is one entry
here (plus its API wrappers, its emulator actions and its tests).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ansible_collections.alicloud.eip.plugins.module_utils._api.vpc_network import NAT_GATEWAY_EIP_LIMIT
from ansible_collections.alicloud.eip.plugins.module_utils._eip_association import lb_zones, target_eni
from ansible_collections.alicloud.eip.plugins.module_utils._eip_association.kinds import (
    ALB,
    CLB,
    ECS,
    ENI,
    HAVIP,
    IP_ADDRESS,
    NAT_GATEWAY,
    NLB,
    Context,
    Key,
    PredictedFailure,
    Verdict,
    capacity,
    eip_label,
    refused,
    release_needs_status,
    state_of,
)

UNASSOCIATE = "UnassociateEipAddress"


def _exclusive(rule: str) -> Callable[..., Verdict]:
    """The check of a kind that takes one EIP and has no other rule."""

    def check(item, eip, resource, context: Context) -> Verdict:
        name = f"{TARGETS[item.instance_type].label} {item.instance_id}"
        return Verdict(occupants=context.staying(item.target, eip["allocation_id"]), slot=name, rule=rule)

    return check


def _no_release_rule(eip, holder, resource, force) -> PredictedFailure | None:
    return None


def _always_in_place(holder, desired) -> bool:
    return True


def _no_neighbours(resource) -> tuple[list[Key], list[Key]]:
    return [], []


def _no_gateway(desired, resource) -> str:
    return ""


def _whole_target(desired) -> tuple[str, ...] | None:
    return desired.target


def _no_slot(desired) -> tuple[str, ...] | None:
    return None


def _record_tells(desired) -> bool:
    return False


@dataclass(frozen=True)
class TargetKind:
    """Everything the engine knows about one InstanceType of AssociateEipAddress.

    ``describe``: the name of the API function (in the engine's ``api`` namespace) that describes targets of this
    kind by ID, ``None`` when there is nothing to describe (then no EIPs are looked up on it either).
    ``check_associate(item, eip, resource, context) -> Verdict`` and ``check_release(eip, holder, resource, force) ->
    PredictedFailure | None`` predict the API's refusals.  The flags say which association fields the kind uses.
    ``held_in_record(resource) -> [allocation ID]``: the EIPs the described record shows on the resource, so that a
    first run needs no DescribeEipAddresses per resource (``None``: the record does not show them; they are looked
    up by associated instance); ``held_lookup(desired)``: the lookup is made anyway for a request the record may not
    answer.
    """

    instance_type: str
    label: str
    check_associate: Callable[..., Verdict]
    prefix: str = ""
    describe: str | None = None
    check_release: Callable[..., PredictedFailure | None] = _no_release_rule
    slot: Callable[[Any], tuple[str, ...] | None] = _whole_target
    in_place: Callable[[Any, Any], bool] = _always_in_place
    neighbours: Callable[[Mapping[str, Any]], tuple[list[Key], list[Key]]] = _no_neighbours
    gateway_vpc: Callable[[Any, Mapping[str, Any] | None], str] = _no_gateway
    held_in_record: Callable[[Mapping[str, Any]], list[str]] | None = None
    held_lookup: Callable[[Any], bool] = _record_tells
    holder_details: Callable[[Any], list[str]] | None = None
    # The holder keeps a private IP (an ENI's address; the IP address itself); only an ENI has a mode.
    takes_private_ip: bool = False
    has_mode: bool = False
    # The target is an address in a VPC: vpc_id is required, and the address is sent as the private IP.
    needs_vpc: bool = False
    # UnassociateEipAddress: sends the private IP (ENI), or Force (NAT gateway: entries lose the address).
    release_names_private_ip: bool = False
    release_takes_force: bool = False
    # A load balancer that takes one EIP per zone through its own API (lb_zones.py plans and makes those calls;
    # check_associate and check_release are then never asked).
    zonal: lb_zones.ZonalApi | None = None


# ---- ECS instance -------------------------------------------------------------------------------------


def _check_ecs(item, eip, instance, context: Context) -> Verdict:
    name = f"ECS instance {item.instance_id}"
    verdict = Verdict()
    if instance["network_type"] and instance["network_type"] != "vpc":
        verdict.refuse(
            "OperationDenied", f"{name} is not in a VPC ({instance['network_type']}); only VPC instances take EIPs"
        )
    if instance["status"] not in ("Running", "Stopped"):
        verdict.refuse(
            "IncorrectInstanceStatus",
            f"{name} is {state_of(instance)}; an EIP can be associated only with a Running or Stopped instance. "
            "Wait until it is Running or Stopped and run again",
        )
    if instance["public_ip_addresses"]:
        verdict.refuse(
            "EIP_CAN_NOT_ASSOCIATE_WITH_PUBLIC_IP",
            f"{name} has a fixed public IP ({', '.join(instance['public_ip_addresses'])}) and cannot take an EIP; "
            "convert it to an EIP (ConvertNatPublicIpToEip) or release it first",
        )
    if verdict.refusals:
        return verdict
    # The instance's one public address: an EIP on it, or a NAT-mode EIP on its primary ENI's primary IP.
    occupants = context.staying(item.target, eip["allocation_id"])
    if instance.get("primary_eni_id"):
        occupants += [
            other
            for other in context.staying((ENI, instance["primary_eni_id"]), eip["allocation_id"])
            if other["private_ip_address"] in ("", instance["primary_ip"])
        ]
    return Verdict(occupants=occupants, slot=name, rule="an ECS instance holds one EIP")


_release_ecs = release_needs_status(
    ("Running", "Stopped"),
    "IncorrectInstanceStatus",
    "an EIP comes off a Running or Stopped instance only. Wait until it is Running or Stopped and run again",
)


def _ecs_held(instance) -> list[str]:
    """DescribeInstances shows the EIP bound to the instance itself (EipAddress.AllocationId)."""
    return [instance["eip_allocation_id"]] if instance.get("eip_allocation_id") else []


def _ecs_neighbours(instance) -> tuple[list[Key], list[Key]]:
    """The primary ENI: a NAT-mode EIP on its primary IP stands for the instance's one public address."""
    if not instance.get("primary_eni_id"):
        return [], []
    primary = (ENI, instance["primary_eni_id"])
    return [primary], [primary]


# ---- NAT gateway --------------------------------------------------------------------------------------

UNASSOCIATE_NAT_CODES = {
    "UsedBySnatTable": ("InvalidIpStatus.HasBeenUsedBySnatTable", "SNAT entries"),
    "UsedByForwardSnatTable": ("InvalidIpStatus.HasBeenUsedBySnatTable", "SNAT and DNAT entries"),
    "UsedByForwardTable": ("InvalidIpStatus.HasBeenUsedByForwardEntry", "DNAT entries"),
}


def _check_nat_gateway(item, eip, gateway, context: Context) -> Verdict:
    name = f"NAT gateway {item.instance_id}"
    if gateway["network_type"] and gateway["network_type"] != "internet":
        return refused(
            "Forbidden.EipCanNotBindGatgw",
            f"{name} is a VPC (intranet) NAT gateway; only Internet NAT gateways take EIPs",
        )
    if gateway["business_status"] == "FinancialLocked":
        return refused(
            "NATGATEWAY_FINANCIALLOCKED", f"{name} is locked for overdue payment; renew it before associating EIPs"
        )
    if gateway["status"] != "Available":
        return refused(
            "IncorrectStatus.NatGateway", f"{name} is {state_of(gateway)}; wait until it is Available and run again"
        )
    staying = context.staying(item.target, eip["allocation_id"])
    limit = capacity(
        item,
        staying,
        context,
        NAT_GATEWAY_EIP_LIMIT,
        "QuotaExceeded.NumberOfEip",
        lambda total: (
            f"{name} would hold {total} EIPs; a NAT gateway takes at most {NAT_GATEWAY_EIP_LIMIT} (it holds "
            f"{len(staying)} now). Disassociate some, or ask Alibaba Cloud for a higher quota"
        ),
    )
    return Verdict(limit=limit)


def _release_nat_gateway(eip, holder, gateway, force) -> PredictedFailure | None:
    if force:
        return None
    use = next((ip["using_status"] for ip in gateway["eips"] if ip["allocation_id"] == eip["allocation_id"]), "")
    if use not in UNASSOCIATE_NAT_CODES:
        return None
    code, entries = UNASSOCIATE_NAT_CODES[use]
    return PredictedFailure(
        code,
        f"{eip_label(eip)} is used by {entries} of {holder.describe()}; set force: true to disassociate it anyway (the "
        "entries lose the address), or delete the entries first",
        UNASSOCIATE,
    )


# ---- CLB instance, HaVip, IP address ------------------------------------------------------------------


def _check_clb(item, eip, balancer, context: Context) -> Verdict:
    if balancer["address_type"] != "intranet":
        # UNCONFIRMED code: an Internet-facing CLB already has a public address and takes no EIP.
        # [fid:eip-clb-internet-code]
        return refused(
            "InvalidParameter.InstanceTypeNotSupport",
            f"CLB instance {item.instance_id} is Internet-facing (address {balancer['address']}); only an intranet "
            "CLB instance takes an EIP",
        )
    return _exclusive("a CLB instance holds one EIP")(item, eip, balancer, context)


def _check_havip(item, eip, havip, context: Context) -> Verdict:
    if havip["status"] not in ("Available", "InUse"):
        return refused(
            "IncorrectHaVipStatus",
            f"HaVip {item.instance_id} is {state_of(havip)}; an EIP can be associated only with an Available or InUse "
            "HaVip",
        )
    return _exclusive("a HaVip holds one EIP")(item, eip, havip, context)


_release_havip = release_needs_status(
    ("Available", "InUse"), "IncorrectHaVipStatus", "wait until the HaVip is Available or InUse"
)


def _check_ip_address(item, eip, target, context: Context) -> Verdict:
    # The address itself is not described: the CIDR and one-EIP-per-address checks stay the API's.
    vpc_id = item.vpc_id or ""
    if vpc_id in context.ipv4_gateways:
        gateway = context.ipv4_gateways[vpc_id]
        if gateway is None:
            # A VPC that does not exist lists no gateway either; the API would then say InvalidVpcId.NotFound.
            return refused(
                "OperationFailed.Ipv4GatewayNotOpenedInVpc",
                f"VPC {vpc_id} has no IPv4 gateway (or does not exist); an EIP on IP address {item.instance_id} "
                f"needs one. Create and activate an IPv4 gateway in {vpc_id} first, or check {item.option('vpc_id')}",
            )
        if not gateway["enabled"]:
            # UNCONFIRMED code: the API lists ...NotActivatedInVpc beside ...NotOpenedInVpc without messages.
            # [fid:ipv4gw-not-activated-code]
            return refused(
                "OperationFailed.Ipv4GatewayNotActivatedInVpc",
                f"IPv4 gateway {gateway['id']} of VPC {vpc_id} is not activated ({gateway['status']}); an EIP on "
                f"IP address {item.instance_id} needs an active one. Activate it (EnableVpcIpv4Gateway) first",
            )
    return Verdict(private_ip=item.private_ip_address or item.instance_id or "")


def _ip_address_in_place(holder, desired) -> bool:
    return not (desired.vpc_id and holder.vpc_id) or holder.vpc_id == desired.vpc_id


def _ip_address_gateway(desired, resource) -> str:
    """An IpAddress target needs an IPv4 gateway in its VPC."""
    return desired.vpc_id or ""


# ---- ALB and NLB: one EIP per zone, through the load balancer's API (lb_zones.py) -----------------------


def _through_load_balancer(item, eip, balancer, context: Context) -> Verdict:
    """Never asked: lb_zones plans zonal kinds.  Here so that a mistake refuses instead of calling the EIP API."""
    return refused("InvalidInstanceType.ValueNotSupported", f"{item.instance_id} takes EIPs through its own API")


def _zone_slot(desired) -> tuple[str, ...] | None:
    """One EIP per zone."""
    return (*desired.target, desired.zone_id or "") if desired.target else None


ALB_API = lb_zones.ZonalApi("alb", "describe_albs", "list_alb_ids", "update_alb_address_type", "wait_for_alb_job")
# NLB swaps a zone's EIP with UpdateLoadBalancerZones (the full list); ALB cannot (it answers ZoneMappingsNotChanged).
NLB_API = lb_zones.ZonalApi(
    "nlb",
    "describe_nlbs",
    "list_nlb_ids",
    "update_nlb_address_type",
    "wait_for_nlb_job",
    swap_action=lb_zones.ZONES_ACTION,
    update_zones="update_nlb_zones",
)


# ---- the table ----------------------------------------------------------------------------------------

TARGETS: dict[str, TargetKind] = {
    kind.instance_type: kind
    for kind in (
        TargetKind(
            ECS,
            "ECS instance",
            _check_ecs,
            prefix="i-",
            describe="describe_instances",
            check_release=_release_ecs,
            neighbours=_ecs_neighbours,
            held_in_record=_ecs_held,
        ),
        TargetKind(
            ENI,
            "ENI",
            target_eni.check_associate,
            prefix="eni-",
            describe="describe_network_interfaces",
            check_release=target_eni.check_release,
            slot=target_eni.slot,
            in_place=target_eni.in_place,
            neighbours=target_eni.neighbours,
            gateway_vpc=target_eni.gateway_vpc,
            held_in_record=target_eni.held_in_record,
            held_lookup=target_eni.held_lookup,
            holder_details=target_eni.describe_details,
            takes_private_ip=True,
            has_mode=True,
            release_names_private_ip=True,
        ),
        # NAT gateway IDs start with ngw- (footmark's nat- rule never matched).
        TargetKind(
            NAT_GATEWAY,
            "NAT gateway",
            _check_nat_gateway,
            prefix="ngw-",
            describe="describe_nat_gateways",
            check_release=_release_nat_gateway,
            slot=_no_slot,
            release_takes_force=True,
        ),
        TargetKind(CLB, "CLB instance", _check_clb, prefix="lb-", describe="describe_load_balancers"),
        TargetKind(
            HAVIP, "HaVip", _check_havip, prefix="havip-", describe="describe_ha_vips", check_release=_release_havip
        ),
        # An IPv4 address in a VPC with an IPv4 gateway: recognised by its form, not by a prefix.
        TargetKind(
            IP_ADDRESS,
            "IP address",
            _check_ip_address,
            slot=_no_slot,
            in_place=_ip_address_in_place,
            gateway_vpc=_ip_address_gateway,
            takes_private_ip=True,
            needs_vpc=True,
        ),
        TargetKind(
            ALB, "ALB instance", _through_load_balancer, "alb-", ALB_API.describe, slot=_zone_slot, zonal=ALB_API
        ),
        TargetKind(
            NLB, "NLB instance", _through_load_balancer, "nlb-", NLB_API.describe, slot=_zone_slot, zonal=NLB_API
        ),
    )
}

INSTANCE_TYPES = tuple(TARGETS)
TYPE_LABELS = {name: kind.label for name, kind in TARGETS.items()}
# ID prefix -> InstanceType.
ID_PREFIXES = tuple((kind.prefix, name) for name, kind in TARGETS.items() if kind.prefix)
# The zonal kinds: InstanceType -> its load-balancer API, and owner type (alb, nlb) -> InstanceType.
ZONAL = {name: kind.zonal for name, kind in TARGETS.items() if kind.zonal is not None}
OWNER_TYPES = {zonal.product: name for name, zonal in ZONAL.items()}
