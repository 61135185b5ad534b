# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note: this module util is PRIVATE to the collection. It can change at any time; do not use it from
# other collections or standalone plugins/modules.

"""The ENI target kind: three association modes (NAT, BINDED, MULTI_BINDED), so the largest entry of the table.

Each function here returns a verdict (see ``kinds.py``); the table in ``targets.py`` points at them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ansible_collections.alicloud.eip.plugins.module_utils._eip_association.kinds import (
    CUT_THROUGH,
    CUT_THROUGH_REGIONS,
    ECS,
    ENI,
    MODE_LABELS,
    MULTI_BINDED_EIP_LIMIT,
    MULTI_EIP_CUT_THROUGH,
    MULTI_EIP_CUT_THROUGH_FAMILIES,
    MULTI_EIP_CUT_THROUGH_REGIONS,
    NAT_MODE,
    Context,
    PredictedFailure,
    Verdict,
    capacity,
    eip_label,
    names,
    refused,
    release_needs_status,
    state_of,
)


def describe_details(holder) -> list[str]:
    """The private IP and the mode an ENI holds an EIP in, for messages."""
    details = [holder.private_ip_address] if holder.private_ip_address else []
    details.append(MODE_LABELS.get(holder.mode or NAT_MODE, holder.mode))
    return details


def slot(desired) -> tuple[str, ...] | None:
    """What only one EIP can occupy, as far as the input alone tells (defaults are checked in planning)."""
    if desired.effective_mode == CUT_THROUGH:
        return (ENI, desired.instance_id or "", CUT_THROUGH)
    if desired.effective_mode == NAT_MODE and desired.private_ip_address:
        return (ENI, desired.instance_id or "", desired.private_ip_address)
    return None


def in_place(holder, desired) -> bool:
    """An EIP on the ENI is in place at the requested private IP and in the requested mode (when given)."""
    if desired.private_ip_address and holder.private_ip_address != desired.private_ip_address:
        return False
    return not (desired.mode and holder.mode != desired.mode)


def neighbours(eni: Mapping[str, Any]) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(resources, holders of EIPs) the checks also read: the instance an ENI is attached to, and for a primary ENI
    the instance's own EIP (the instance's one public address)."""
    if not eni.get("instance_id"):
        return [], []
    instance = (ECS, eni["instance_id"])
    return [instance], ([instance] if eni.get("type") == "Primary" else [])


def held_in_record(eni: Mapping[str, Any]) -> list[str]:
    """The EIPs DescribeNetworkInterfaces shows on the ENI: its AssociatedPublicIp and each private address's."""
    return list(eni.get("eip_allocation_ids") or [])


def held_lookup(desired) -> bool:
    """A cut-through or multi-EIP cut-through request reads the ENI's EIPs from DescribeEipAddresses as well: whether
    the ENI's record shows those bindings is UNCONFIRMED [fid:eni-associated-public-ip], and their one-EIP, quota
    and replacement rules depend on every one of them.  A NAT-mode request trusts the record."""
    return desired.effective_mode not in (None, NAT_MODE)


def gateway_vpc(desired, eni: Mapping[str, Any] | None) -> str:
    """Cut-through (BINDED) is refused in a VPC with an IPv4 gateway; the specification sets no such rule for
    multi-EIP cut-through (MULTI_BINDED), so it costs no lookup."""
    if desired.effective_mode == CUT_THROUGH:
        return (eni or {}).get("vpc_id") or ""
    return ""


_release_needs_status = release_needs_status(
    ("Available", "InUse"),
    "InvalidStatus.EniStatusNotSupport",
    "wait until the ENI is Available or InUse and run again",
)


def check_release(eip, holder, eni: Mapping[str, Any], force: bool) -> PredictedFailure | None:
    refusal = _release_needs_status(eip, holder, eni, force)
    if refusal is None and holder.mode == CUT_THROUGH and eni.get("instance_id"):
        return PredictedFailure(
            "Eni.Attached",
            f"{eip_label(eip)} is on {holder.describe()}, which is attached to {eni['instance_id']}; a cut-through EIP "
            "comes off a detached ENI only. Detach the ENI first (DetachNetworkInterface)",
            "UnassociateEipAddress",
        )
    return refusal


def mode_conflict(name: str, mode: str, staying: list[dict[str, Any]]) -> Verdict | None:
    """An ENI takes EIPs in one mode only (NAT with MULTI_BINDED: EipBindModeConflict; else Mode.Conflict)."""
    modes = {other["allocation_id"]: other.get("mode") or NAT_MODE for other in staying}
    others = sorted(set(modes.values()) - {mode})
    if not others:
        return None
    code = (
        "OperationFailed.EipBindModeConflict"
        if {mode, *others} == {NAT_MODE, MULTI_EIP_CUT_THROUGH}
        else "Mode.Conflict"
    )
    return refused(
        code,
        f"{name} holds EIPs in {' and '.join(MODE_LABELS.get(m, m) for m in others)} "
        f"({names(other for other in staying if modes[other['allocation_id']] != mode)}); an ENI takes EIPs in "
        f"one mode only. Disassociate them first, or ask for mode: {others[0]}",
    )


def check_associate(item, eip: Mapping[str, Any], eni: Mapping[str, Any], context: Context) -> Verdict:
    mode = item.effective_mode or NAT_MODE
    name = f"ENI {item.instance_id}"
    if eni["status"] not in ("Available", "InUse"):
        return refused(
            "InvalidStatus.EniStatusNotSupport",
            f"{name} is {state_of(eni)}; wait until it is Available or InUse and run again",
        )
    instance = context.resource((ECS, eni["instance_id"])) if eni["instance_id"] else None
    if instance is not None and instance["status"] not in ("Running", "Stopped"):
        return refused(
            "InvalidStatus.EcsStatusNotSupport",
            f"{name} is attached to ECS instance {instance['id']}, which is {state_of(instance)}; wait until it "
            "is Running or Stopped and run again",
        )
    staying = context.staying(item.target, eip["allocation_id"])
    if mode != NAT_MODE:
        if eni["type"] != "Secondary":
            return refused(
                "Invalid.DirectEip.BindType",
                f"{name} is a primary ENI; {MODE_LABELS[mode]} needs a secondary ENI. Use NAT mode on this ENI, "
                "or a secondary ENI",
            )
        regions = CUT_THROUGH_REGIONS if mode == CUT_THROUGH else MULTI_EIP_CUT_THROUGH_REGIONS
        if context.region not in regions:
            return refused(
                "UnsupportedRegion",
                f"{MODE_LABELS[mode]} is not offered in region {context.region} (regions: "
                f"{', '.join(sorted(regions))}); use NAT mode",
            )
    conflict = mode_conflict(name, mode, staying)
    if conflict is not None:
        return conflict
    if mode == NAT_MODE:
        return _check_nat_mode(item, eip, eni, instance, staying, context)
    if mode == CUT_THROUGH:
        return _check_cut_through(item, eni, staying, context)
    return _check_multi_eip(item, eni, instance, staying, context)


def _check_nat_mode(item, eip, eni, instance, staying, context: Context) -> Verdict:
    name = f"ENI {item.instance_id}"
    addresses = [entry["ip"] for entry in eni["private_ips"]]
    private_ip = item.private_ip_address or eni["primary_ip"]
    if private_ip not in addresses:
        return refused(
            "InvalidParameter",
            f"{item.option('private_ip_address')}={private_ip} is not an address of {name} (its addresses: "
            f"{', '.join(addresses) or 'none'}); assign it to the ENI first (AssignPrivateIpAddresses) or "
            "pick one of those",
        )
    for other in context.arriving(item.target):
        if other is not item and (other.private_ip_address or eni["primary_ip"]) == private_ip:
            return refused(
                "InvalidParameter",
                f"{other.where} also puts an EIP on {name} at {private_ip}; one EIP per private IP",
            )
    occupants = [other for other in staying if (other["private_ip_address"] or eni["primary_ip"]) == private_ip]
    if eni["type"] == "Primary" and private_ip == eni["primary_ip"] and instance is not None:
        # The primary IP of a primary ENI is the instance's own address: same rules as the instance.
        if instance["public_ip_addresses"]:
            return refused(
                "EIP_CAN_NOT_ASSOCIATE_WITH_PUBLIC_IP",
                f"{private_ip} is the primary address of ECS instance {instance['id']}, which has a fixed "
                f"public IP ({', '.join(instance['public_ip_addresses'])}); convert it to an EIP "
                "(ConvertNatPublicIpToEip) or release it first, or use a secondary private IP",
            )
        occupants += context.staying((ECS, instance["id"]), eip["allocation_id"])
    return Verdict(
        occupants=occupants,
        slot=f"{name} at {private_ip}",
        rule="in NAT mode each private IP takes one EIP",
        private_ip=private_ip,
        mode=NAT_MODE,
    )


def _check_cut_through(item, eni, staying, context: Context) -> Verdict:
    name = f"ENI {item.instance_id}"
    addresses = [entry["ip"] for entry in eni["private_ips"]]
    if eni["instance_id"]:
        return refused(
            "Eni.Attached",
            f"{name} is attached to {eni['instance_id']}; cut-through mode needs a detached ENI: detach it "
            "(DetachNetworkInterface), associate the EIP, then attach the ENI again",
        )
    if len(addresses) > 1:
        return refused(
            "Eni.HasSubIp",
            f"{name} has secondary private IPs ({', '.join(addresses[1:])}); in cut-through mode the EIP "
            "replaces the ENI's only address. Unassign them first (UnassignPrivateIpAddresses), or use NAT "
            "mode",
        )
    if item.private_ip_address and item.private_ip_address != eni["primary_ip"]:
        return refused(
            "InvalidParameter",
            f"in cut-through mode the EIP takes the primary private IP of {name} ({eni['primary_ip']}); drop "
            f"{item.option('private_ip_address')} or set it to {eni['primary_ip']}",
        )
    gateway = context.ipv4_gateways.get(eni["vpc_id"])
    if gateway is not None:
        return refused(
            "OperationDenied.Ipv4GatewayExist",
            f"{name} is in VPC {eni['vpc_id']}, which has IPv4 gateway {gateway['id']}; cut-through mode is "
            "not allowed in a VPC with an IPv4 gateway. Use NAT mode, or an ENI in a VPC without one",
        )
    return Verdict(
        occupants=staying,
        slot=name,
        rule="in cut-through mode an ENI takes one EIP",
        private_ip=eni["primary_ip"],
        mode=CUT_THROUGH,
    )


def _check_multi_eip(item, eni, instance, staying, context: Context) -> Verdict:
    name = f"ENI {item.instance_id}"
    addresses = [entry["ip"] for entry in eni["private_ips"]]
    if (
        instance is not None
        and ".".join(instance["instance_type"].split(".")[:2]) not in MULTI_EIP_CUT_THROUGH_FAMILIES
    ):
        return refused(
            "OperationUnsupported.EipBindModel",
            f"{name} is attached to ECS instance {instance['id']} of type {instance['instance_type']}, whose "
            "family "
            "does not support multi-EIP cut-through mode; use NAT mode, or an instance of a supported family",
        )
    if item.private_ip_address and item.private_ip_address not in addresses:
        return refused(
            "InvalidParameter",
            f"{item.option('private_ip_address')}={item.private_ip_address} is not an address of {name} (its "
            f"addresses: {', '.join(addresses)})",
        )
    occupants = []
    if item.private_ip_address:
        occupants = [other for other in staying if other["private_ip_address"] == item.private_ip_address]
    limit = capacity(
        item,
        staying,
        context,
        MULTI_BINDED_EIP_LIMIT,
        "QuotaExceed.MultiBindedEip",
        lambda total: (
            f"{name} would hold {total} EIPs in multi-EIP cut-through mode; the limit is {MULTI_BINDED_EIP_LIMIT} "
            "per ENI. Disassociate some first"
        ),
    )
    return Verdict(
        occupants=occupants,
        slot=f"{name} at {item.private_ip_address}",
        rule="each private IP takes one EIP",
        private_ip=item.private_ip_address or "",
        mode=MULTI_EIP_CUT_THROUGH,
        limit=limit,
    )
