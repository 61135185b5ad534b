# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note: this module util is PRIVATE to the collection. It can change at any time; do not use it from
# other collections or standalone plugins/modules.

"""Decision logic of the ``eni`` module: validate the options, pick the ENI, plan the calls.

Everything here is pure (no API calls): the module observes the ENI (and the instance it should be
attached to), asks :func:`plan_present` or :func:`plan_absent` for an ordered list of :class:`Step`
objects plus the predicted ``interface`` after them, and then runs the steps (or, in check mode,
only reports them).  The order of the steps is the safe one for scaling down: addresses are
unassigned before new ones are assigned (the per-ENI address limit), attributes and tags are set
while the ENI is wherever it is, a detach precedes an attach or a delete.
"""

from __future__ import annotations

import copy
import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.alicloud.eip.plugins.module_utils._limits import (
    MAX_CREATE_LISTED_IPS,
    MAX_SECONDARY_IPS,
    LimitError,
    check_count,
    check_eni_description,
    check_eni_name,
    check_tags,
)
from ansible_collections.alicloud.eip.plugins.module_utils._util import InputError


# ECS instance states in which AttachNetworkInterface / DetachNetworkInterface are accepted (alibaba-api.md §8.5).
ATTACHABLE_INSTANCE_STATES = ("Running", "Stopped")


@dataclass(frozen=True)
class Step:
    """One API call to make: ``action`` is create, modify, unassign, assign, tag, untag, detach, attach, delete."""

    action: str
    args: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class Plan:
    """The ordered calls and the interface as it should look after them."""

    steps: list[Step]
    after: dict[str, Any]
    created_id: str = ""  # set by the module once a create step has run

    @property
    def changed(self) -> bool:
        return bool(self.steps)

    def actions(self) -> list[str]:
        """The step names in order (for tests and messages)."""
        return [step.action for step in self.steps]


# ---- input ---------------------------------------------------------------------------------------------


def _ipv4(option: str, value: str) -> str:
    try:
        return str(ipaddress.IPv4Address(str(value)))
    except ValueError:
        raise InputError(f"{option}: {value!r} is not an IPv4 address") from None


def normalize_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """Validated, normalized copy of the module options; raises :class:`InputError`.

    ``attached`` defaults to true when ``instance_id`` is given (amazon.aws ec2_eni does the same).
    """
    result = dict(params)
    _check_limits(result)
    if result.get("primary_ip_address"):
        result["primary_ip_address"] = _ipv4("primary_ip_address", result["primary_ip_address"])
    addresses = result.get("secondary_private_ip_addresses")
    if addresses is not None:
        normalized = [_ipv4("secondary_private_ip_addresses", address) for address in addresses]
        repeated = sorted({address for address in normalized if normalized.count(address) > 1})
        if repeated:
            raise InputError(f"secondary_private_ip_addresses: {', '.join(repeated)} given more than once")
        if result.get("primary_ip_address") in normalized:
            raise InputError(
                f"secondary_private_ip_addresses: {result['primary_ip_address']} is the primary_ip_address"
            )
        result["secondary_private_ip_addresses"] = normalized
    if result.get("purge_secondary_private_ip_addresses") and addresses is None:
        raise InputError("purge_secondary_private_ip_addresses needs secondary_private_ip_addresses (the list to keep)")
    if result.get("attached") is None and result.get("instance_id"):
        result["attached"] = True
    if result.get("attached") and not result.get("instance_id"):
        raise InputError("attached=true needs instance_id (the instance to attach the ENI to)")
    if result.get("tags") is not None:
        result["tags"] = {str(key): "" if value is None else str(value) for key, value in result["tags"].items()}
    if result.get("security_group_ids") is not None:
        result["security_group_ids"] = list(dict.fromkeys(result["security_group_ids"]))
    return result


def _check_limits(params: Mapping[str, Any]) -> None:
    """The documented limits of name, description, tags and secondary addresses (``_limits``), before any call."""
    try:
        check_eni_name(params.get("name"))
        check_eni_description(params.get("description"))
        check_tags(params.get("tags"), vpc_values=False)
        check_count(
            "secondary_private_ip_address_count",
            params.get("secondary_private_ip_address_count"),
            0,
            MAX_SECONDARY_IPS,
            f"an ENI has at most {MAX_SECONDARY_IPS} secondary private addresses (fewer on some instance types)",
        )
        addresses = params.get("secondary_private_ip_addresses")
        if addresses is not None and len(addresses) > MAX_SECONDARY_IPS:
            raise LimitError(
                f"secondary_private_ip_addresses: {len(addresses)} addresses given; an ENI has at most "
                f"{MAX_SECONDARY_IPS} secondary private addresses (fewer on some instance types); list fewer"
            )
    except LimitError as error:
        raise InputError(str(error)) from None


def matching_interfaces(candidates: Sequence[Mapping[str, Any]], params: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Every candidate the key options find: ``network_interface_id``, else ``name`` (and ``vswitch_id`` when given)."""
    eni_id = params.get("network_interface_id")
    if eni_id:
        return [eni for eni in candidates if eni["id"] == eni_id]
    return [
        eni
        for eni in candidates
        if eni["name"] == params.get("name")
        and (not params.get("vswitch_id") or eni["vswitch_id"] == params["vswitch_id"])
    ]


def select_interface(candidates: Sequence[Mapping[str, Any]], params: Mapping[str, Any]) -> dict[str, Any] | None:
    """The one ENI the key options name, ``None`` when there is none; raises when several match.

    The key is ``network_interface_id``, else ``name`` (plus ``vswitch_id`` when given): the candidates
    are what DescribeNetworkInterfaces returned for that key.
    """
    matches = matching_interfaces(candidates, params)
    if len(matches) > 1:
        ids = ", ".join(sorted(eni["id"] for eni in matches))
        raise InputError(
            f"name={params.get('name')!r} matches several ENIs ({ids}); give network_interface_id, or vswitch_id "
            "to narrow the match"
        )
    return copy.deepcopy(dict(matches[0])) if matches else None


# ---- observation checks -------------------------------------------------------------------------------


def check_attach_target(instance: Mapping[str, Any] | None, instance_id: str, vpc_id: str, zone_id: str = "") -> None:
    """Refuse an attach that cannot work before any call is made (also in check mode).

    ``instance`` is ``{id, status, vpc_id, zone_id}`` (``None``: not found); ``vpc_id`` and ``zone_id`` are the
    ENI's (empty when unknown, as for an ENI still to be created).  Same VPC and zone, instance Running or
    Stopped: alibaba-api.md §8.5.
    """
    if instance is None:
        raise InputError(f"instance_id={instance_id!r}: no such ECS instance in this region")
    if instance.get("status") and instance["status"] not in ATTACHABLE_INSTANCE_STATES:
        raise InputError(
            f"instance {instance_id} is {instance['status']}; an ENI can be attached only while it is Running or "
            "Stopped"
        )
    if vpc_id and instance.get("vpc_id") and instance["vpc_id"] != vpc_id:
        raise InputError(
            f"instance {instance_id} is in {instance['vpc_id']}, the ENI in {vpc_id}: they must share a VPC"
        )
    if zone_id and instance.get("zone_id") and instance["zone_id"] != zone_id:
        raise InputError(
            f"instance {instance_id} is in zone {instance['zone_id']}, the ENI in {zone_id}: an ENI can only be "
            "attached to an instance of its own zone"
        )


def network_lookups(plan: Plan, current: Mapping[str, Any] | None) -> tuple[str, list[str]]:
    """(the vSwitch, the security groups) the plan's create, modify and assign steps depend on; empty when none.

    Only a plan that sends a vSwitch, security groups or listed addresses needs them, so an unchanged ENI costs no
    extra read.
    """
    vswitch_id = ""
    groups: list[str] = []
    for step in plan.steps:
        if step.action == "create":
            vswitch_id = step.args["vswitch_id"]
            groups = list(step.args["security_group_ids"])
        elif step.action == "modify" and step.args.get("security_group_ids"):
            groups = list(step.args["security_group_ids"])
        elif step.action == "assign" and step.args.get("private_ip_addresses") and current is not None:
            vswitch_id = current["vswitch_id"]
    return vswitch_id, groups


def check_network(
    plan: Plan,
    current: Mapping[str, Any] | None,
    vswitch: Mapping[str, Any] | None,
    vswitch_id: str,
    groups: Sequence[Mapping[str, Any]],
    group_ids: Sequence[str],
    holders: Mapping[str, str] | None = None,
) -> None:
    """Refuse, before any call, a vSwitch or security group that does not exist, a group of another VPC, and an
    address outside the vSwitch's CIDR (also in check mode).

    ``vswitch`` is ``{id, vpc_id, cidr_block}`` of ``vswitch_id`` (``None``: not found); ``groups`` the found ones
    of ``group_ids`` (``{id, vpc_id}``); ``holders`` maps the addresses other ENIs of the vSwitch hold to their IDs.
    """
    if vswitch_id and vswitch is None:
        raise InputError(f"vswitch_id={vswitch_id!r}: no such vSwitch in this region; check the ID (and the region)")
    missing = [group_id for group_id in group_ids if group_id not in {group["id"] for group in groups}]
    if missing:
        raise InputError(
            f"security_group_ids: {', '.join(missing)} not found in this region; check the IDs (and the region)"
        )
    vpc_id = (vswitch or {}).get("vpc_id") or (current or {}).get("vpc_id") or ""
    foreign = [group for group in groups if vpc_id and group.get("vpc_id") and group["vpc_id"] != vpc_id]
    if foreign:
        names = ", ".join(f"{group['id']} ({group['vpc_id']})" for group in foreign)
        raise InputError(f"security_group_ids: {names} not of the ENI's VPC {vpc_id}; give security groups of {vpc_id}")
    cidr = (vswitch or {}).get("cidr_block")
    if not cidr:
        return
    network = ipaddress.IPv4Network(cidr, strict=False)
    for option, addresses in listed_addresses(plan):
        _free_inside(option, addresses, network, vswitch_id, holders or {})


def listed_addresses(plan: Plan) -> list[tuple[str, list[str]]]:
    """``(option, addresses)`` the plan's create and assign steps name explicitly."""
    listed = []
    for step in plan.steps:
        if step.action == "create" and step.args.get("primary_ip_address"):
            listed.append(("primary_ip_address", [step.args["primary_ip_address"]]))
        if step.action in ("create", "assign") and step.args.get("private_ip_addresses"):
            listed.append(("secondary_private_ip_addresses", list(step.args["private_ip_addresses"])))
    return listed


def _free_inside(
    option: str, addresses: Sequence[str], network: ipaddress.IPv4Network, vswitch_id: str, holders: Mapping[str, str]
) -> None:
    outside = [address for address in addresses if ipaddress.IPv4Address(address) not in network]
    if outside:
        raise InputError(
            f"{option}: {', '.join(outside)} outside vSwitch {vswitch_id} ({network}); give addresses of {network}"
        )
    held = [f"{address} (held by {holders[address]})" for address in addresses if address in holders]
    if held:
        raise InputError(f"{option}: {', '.join(held)}; give free addresses of vSwitch {vswitch_id} ({network})")


def _eips_on(interface: Mapping[str, Any], addresses: Sequence[str]) -> list[str]:
    """``ip (allocation id)`` of every EIP bound to one of ``addresses`` of the interface."""
    return [
        f"{entry['private_ip_address']} ({entry['allocation_id'] or entry['ip_address']})"
        for entry in interface.get("associated_public_ips") or []
        if entry["private_ip_address"] in addresses
    ]


def merge_eips(current: dict[str, Any], eips: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Add the EIPs DescribeEipAddresses shows on the ENI to ``associated_public_ips`` (deduplicated).

    The ENI record's ``AssociatedPublicIp`` may not show every binding (an EIP still ``Associating``; UNCONFIRMED
    [fid:eni-associated-public-ip]
    whether cut-through bindings appear there at all), so the refusals also consult the EIP API.  An EIP without
    a private address (cut-through mode) sits on the primary address.
    """
    known = {entry["allocation_id"] for entry in current.get("associated_public_ips") or [] if entry["allocation_id"]}
    merged = list(current.get("associated_public_ips") or [])
    for eip in eips:
        if eip.get("instance_id") != current["id"] or eip.get("allocation_id") in known:
            continue
        merged.append(
            {
                "private_ip_address": eip.get("private_ip_address") or current["primary_ip_address"],
                "ip_address": eip.get("ip_address", ""),
                "allocation_id": eip.get("allocation_id", ""),
            }
        )
        known.add(eip.get("allocation_id"))
    result = dict(current)
    result["associated_public_ips"] = merged
    return result


def without_eips(current: dict[str, Any], allocation_ids: Sequence[str]) -> dict[str, Any]:
    """The ENI as it is once the EIPs ``allocation_ids`` are gone (check mode of a run that releases them first)."""
    gone = set(allocation_ids)
    kept = [entry for entry in current.get("associated_public_ips") or [] if entry.get("allocation_id") not in gone]
    return {**current, "associated_public_ips": kept}


def may_unassign(params: Mapping[str, Any]) -> bool:
    """Whether the options can lead to unassigning addresses or deleting the ENI (then EIPs must be known)."""
    if params.get("state") == "absent":
        return True
    if params.get("secondary_private_ip_address_count") is not None:
        return True
    return bool(params.get("purge_secondary_private_ip_addresses"))


# ---- planning -------------------------------------------------------------------------------------------


def _predicted_new(params: Mapping[str, Any]) -> dict[str, Any]:
    """What a created ENI will look like, as far as it is known before the call (no ID, no MAC yet)."""
    secondary = list(params.get("secondary_private_ip_addresses") or [])
    primary = params.get("primary_ip_address") or ""
    return {
        "id": "",
        "name": params.get("name") or "",
        "description": params.get("description") or "",
        "mac_address": "",
        "primary_ip_address": primary,
        "private_ip_addresses": ([primary] if primary else []) + secondary,
        "secondary_private_ip_addresses": secondary,
        "vswitch_id": params.get("vswitch_id") or "",
        "vpc_id": "",
        "zone_id": "",
        "instance_id": "",
        "device_index": None,
        "status": "Available",
        "type": "Secondary",
        "security_group_ids": list(params.get("security_group_ids") or []),
        "associated_public_ips": [],
        "creation_time": "",
        "tags": dict(params.get("tags") or {}),
    }


def _plan_create(params: Mapping[str, Any]) -> tuple[list[Step], dict[str, Any]]:
    if not params.get("vswitch_id"):
        raise InputError("creating an ENI needs vswitch_id (and security_group_ids)")
    if not params.get("security_group_ids"):
        raise InputError("creating an ENI needs security_group_ids (at least one group of the vSwitch's VPC)")
    listed = params.get("secondary_private_ip_addresses") or []
    if len(listed) > MAX_CREATE_LISTED_IPS:
        # CreateNetworkInterface takes PrivateIpAddress.N 0-10 (alibaba-api.md §8.4).
        raise InputError(
            f"secondary_private_ip_addresses: {len(listed)} addresses given for a new ENI; CreateNetworkInterface "
            f"takes at most {MAX_CREATE_LISTED_IPS}; list at most {MAX_CREATE_LISTED_IPS} to create it, then add the "
            "others in a second task (or use secondary_private_ip_address_count)"
        )
    args = {
        "vswitch_id": params["vswitch_id"],
        "security_group_ids": list(params["security_group_ids"]),
        "name": params.get("name"),
        "description": params.get("description"),
        "primary_ip_address": params.get("primary_ip_address"),
        "private_ip_addresses": list(params.get("secondary_private_ip_addresses") or []),
        "secondary_private_ip_address_count": params.get("secondary_private_ip_address_count") or None,
        "tags": dict(params.get("tags") or {}),
    }
    return [Step("create", args)], _predicted_new(params)


def _plan_attributes(current: Mapping[str, Any], params: Mapping[str, Any], after: dict[str, Any]) -> list[Step]:
    """ModifyNetworkInterfaceAttribute for a changed name, description or security group set."""
    changes: dict[str, Any] = {}
    for option in ("name", "description"):
        wanted = params.get(option)
        if wanted is not None and wanted != current[option]:
            changes[option] = wanted
            after[option] = wanted
    groups = params.get("security_group_ids")
    if groups is not None:
        if not groups:
            raise InputError("security_group_ids cannot be empty: an ENI belongs to at least one security group")
        if set(groups) != set(current["security_group_ids"]):
            changes["security_group_ids"] = list(groups)
            after["security_group_ids"] = list(groups)
    return [Step("modify", changes)] if changes else []


def _surplus_addresses(current: Mapping[str, Any], surplus: int) -> list[str]:
    """The ``surplus`` secondary addresses to give up when shrinking by count: newest first, EIP-free only."""
    with_eip = {entry["private_ip_address"] for entry in current.get("associated_public_ips") or []}
    free = [address for address in reversed(current["secondary_private_ip_addresses"]) if address not in with_eip]
    if len(free) < surplus:
        raise InputError(
            f"secondary_private_ip_address_count: {surplus} secondary addresses of {current['id']} would have to go, "
            f"but only {len(free)} have no EIP ({', '.join(_eips_on(current, sorted(with_eip)))} do); disassociate "
            "those EIPs first"
        )
    return free[:surplus]


def _plan_addresses(current: Mapping[str, Any], params: Mapping[str, Any], after: dict[str, Any]) -> list[Step]:
    """Unassign, then assign secondary private addresses (the API limits the addresses per ENI)."""
    existing = list(current["secondary_private_ip_addresses"])
    wanted = params.get("secondary_private_ip_addresses")
    count = params.get("secondary_private_ip_address_count")
    to_remove: list[str] = []
    to_add: list[str] = []
    add_count = 0
    if wanted is not None:
        if current["primary_ip_address"] in wanted:
            raise InputError(
                f"secondary_private_ip_addresses: {current['primary_ip_address']} is the primary address of "
                f"{current['id']}"
            )
        to_add = [address for address in wanted if address not in existing]
        if params.get("purge_secondary_private_ip_addresses"):
            to_remove = [address for address in existing if address not in wanted]
    elif count is not None:
        if count > len(existing):
            add_count = count - len(existing)
        elif count < len(existing):
            to_remove = _surplus_addresses(current, len(existing) - count)
    bound = _eips_on(current, to_remove)
    if bound:
        raise InputError(
            f"cannot unassign {', '.join(bound)} from {current['id']}: an EIP is associated with it; disassociate "
            "it first (alicloud.eip.eip_association state=absent)"
        )
    steps = []
    if to_remove:
        steps.append(Step("unassign", {"private_ip_addresses": to_remove}))
    if to_add:
        steps.append(Step("assign", {"private_ip_addresses": to_add}))
    if add_count:
        steps.append(Step("assign", {"count": add_count}))
    secondary = [address for address in existing if address not in to_remove] + to_add
    after["secondary_private_ip_addresses"] = secondary
    after["private_ip_addresses"] = [current["primary_ip_address"]] + secondary
    return steps


def plan_tags(current: Mapping[str, str], wanted: Mapping[str, str] | None, purge: bool) -> tuple[dict, list[str]]:
    """``(tags to set, keys to remove)``; ``wanted`` None leaves the tags alone (amazon.aws semantics)."""
    if wanted is None:
        return {}, []
    to_set = {key: value for key, value in wanted.items() if current.get(key) != value}
    to_remove = sorted(key for key in current if key not in wanted) if purge else []
    return to_set, to_remove


def _plan_attachment(current: Mapping[str, Any], params: Mapping[str, Any], after: dict[str, Any]) -> list[Step]:
    attached = params.get("attached")
    if attached is None:
        return []
    instance_id = params.get("instance_id")
    holder = current["instance_id"]
    if current["type"] == "Primary":
        if not attached or instance_id != holder:
            raise InputError(
                f"{current['id']} is the primary ENI of {holder}: it cannot be detached or moved (manage a secondary ENI)"
            )
        return []
    if attached:
        if holder == instance_id:
            return []
        steps = []
        if holder:
            if not params.get("force_detach"):
                raise InputError(
                    f"{current['id']} is attached to {holder}, not {instance_id}; set force_detach=true to move it"
                )
            steps.append(Step("detach", {"instance_id": holder}))
        steps.append(Step("attach", {"instance_id": instance_id}))
        after.update(instance_id=instance_id, status="InUse")
        return steps
    # attached=false: detach from the named instance, or from any instance when none is named.
    if holder and (not instance_id or holder == instance_id):
        after.update(instance_id="", status="Available", device_index=None)
        return [Step("detach", {"instance_id": holder})]
    return []


def plan_present(current: Mapping[str, Any] | None, params: Mapping[str, Any]) -> Plan:
    """The calls that make the ENI look like ``params`` (already normalized); raises :class:`InputError`."""
    if current is None:
        steps, after = _plan_create(params)
        if params.get("attached"):
            steps.append(Step("attach", {"instance_id": params["instance_id"]}))
            after.update(instance_id=params["instance_id"], status="InUse")
        return Plan(steps, after)
    after = copy.deepcopy(dict(current))
    if params.get("vswitch_id") and params["vswitch_id"] != current["vswitch_id"]:
        raise InputError(
            f"{current['id']} is in {current['vswitch_id']}, not {params['vswitch_id']}: an ENI cannot change vSwitch"
        )
    if params.get("primary_ip_address") and params["primary_ip_address"] != current["primary_ip_address"]:
        raise InputError(
            f"{current['id']} has primary address {current['primary_ip_address']}, not {params['primary_ip_address']}: "
            "the primary address is fixed at creation"
        )
    steps = _plan_attributes(current, params, after)
    steps += _plan_addresses(current, params, after)
    to_set, to_remove = plan_tags(current["tags"], params.get("tags"), bool(params.get("purge_tags", True)))
    if to_remove:
        steps.append(Step("untag", {"keys": to_remove}))
        for key in to_remove:
            after["tags"].pop(key, None)
    if to_set:
        steps.append(Step("tag", {"tags": to_set}))
        after["tags"].update(to_set)
    steps += _plan_attachment(current, params, after)
    return Plan(steps, after)


def plan_absent(current: Mapping[str, Any] | None, force_detach: bool) -> Plan:
    """The calls that delete the ENI: detach first when it is attached and ``force_detach`` allows it."""
    if current is None:
        return Plan([], {})
    if current["type"] == "Primary":
        raise InputError(
            f"{current['id']} is the primary ENI of {current['instance_id']}: it is released with its instance, not "
            "deleted"
        )
    bound = _eips_on(current, current["private_ip_addresses"])
    if bound:
        # UNCONFIRMED whether the real API refuses or silently frees the EIPs; refusing keeps scale-down in the
        # [fid:eni-eip-bound-code]
        # safe order (disassociate, then delete) either way.
        raise InputError(
            f"cannot delete {current['id']}: EIPs are associated with {', '.join(bound)}; disassociate them first "
            "(alicloud.eip.eip_association state=absent)"
        )
    steps = []
    if current["instance_id"]:
        if not force_detach:
            raise InputError(
                f"{current['id']} is attached to {current['instance_id']}; set force_detach=true to detach and delete it"
            )
        steps.append(Step("detach", {"instance_id": current["instance_id"]}))
    steps.append(Step("delete"))
    return Plan(steps, {})
