# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note: this module util is PRIVATE to the collection. It can change at any time; do not use it from
# other collections or standalone plugins/modules.

"""The ``havip`` module's decisions, without I/O: which HaVip is meant, what must change, and what is refused.

:func:`plan_havip` takes the request, the HaVip found (or ``None``), the instances (or ENIs) to associate as read
from the API, and the vSwitch; it answers the steps (create, associate, unassociate, delete) in order, the
predicted record after them and the diff, or raises :class:`InputError` naming the option and the fix before any
call is made.  Check mode and the real run both come through here, so they predict the same.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.alicloud.eip.plugins.module_utils._util import DifferenceTracker, InputError

MAX_ASSOCIATED = 2
# AssociateHaVip: "ECS instance can be operated by this action only when it's status is Running or Stopped"
# (alibaba-api.md §6.3).
OPERABLE_INSTANCE_STATES = ("Running", "Stopped")
INSTANCE_TYPES = ("EcsInstance", "NetworkInterface")


@dataclass(frozen=True)
class Request:
    """What the user asked for (module options, checked)."""

    state: str
    havip_id: str = ""
    name: str = ""
    vswitch_id: str = ""
    ip_address: str = ""
    description: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    instance_ids: tuple[str, ...] | None = None
    instance_type: str = "EcsInstance"
    force_unassociate_master: bool = False


@dataclass
class Plan:
    steps: list[tuple[str, dict[str, Any]]]
    after: dict[str, Any]
    diff: DifferenceTracker

    @property
    def changed(self) -> bool:
        return bool(self.steps)


def validate_request(params: dict[str, Any]) -> Request:
    """Module options -> :class:`Request`; :class:`InputError` for what no API read can make right."""
    instance_ids = params.get("instance_ids")
    if instance_ids is not None:
        instance_ids = tuple(dict.fromkeys(item.strip() for item in instance_ids if item and item.strip()))
        if len(instance_ids) > MAX_ASSOCIATED:
            raise InputError(
                f"instance_ids: a HaVip is associated with at most {MAX_ASSOCIATED} instances (AssociateHaVip); "
                f"got {len(instance_ids)} ({', '.join(instance_ids)}). Give the two hosts that share the address."
            )
    if params["state"] == "present" and not params.get("havip_id") and not params.get("name"):
        raise InputError("name or havip_id is required: the HaVip is found (and created) by its name")
    if params.get("ip_address"):
        try:
            address = ipaddress.ip_address(params["ip_address"])
        except ValueError:
            raise InputError(f"ip_address: {params['ip_address']!r} is not an IP address") from None
        if address.version != 4:
            raise InputError(f"ip_address: a HaVip is IPv4 only, got {params['ip_address']}")
    return Request(
        state=params["state"],
        havip_id=params.get("havip_id") or "",
        name=params.get("name") or "",
        vswitch_id=params.get("vswitch_id") or "",
        ip_address=params.get("ip_address") or "",
        description=params.get("description") or "",
        tags=dict(params.get("tags") or {}),
        instance_ids=instance_ids,
        instance_type=params.get("instance_type") or "EcsInstance",
        force_unassociate_master=bool(params.get("force_unassociate_master")),
    )


def choose_havip(request: Request, candidates: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The one HaVip the request means among ``candidates`` (already filtered by ID or by vSwitch and tags).

    By ID when given; else by name (and tags).  Two HaVips of one name are refused: the module would not know which
    one to change.
    """
    if request.havip_id:
        found = [item for item in candidates if item["id"] == request.havip_id]
        if not found and request.state == "present":
            raise InputError(f"havip_id: HaVip {request.havip_id} does not exist in this region")
        return found[0] if found else None
    matching = [
        item
        for item in candidates
        if item["name"] == request.name
        and all(item["tags"].get(key) == value for key, value in request.tags.items())
        and (not request.vswitch_id or item["vswitch_id"] == request.vswitch_id)
    ]
    if len(matching) > 1:
        raise InputError(
            f"name: {len(matching)} HaVips are named {request.name!r} ({', '.join(item['id'] for item in matching)}); "
            "give havip_id, or tags that tell them apart"
        )
    return matching[0] if matching else None


def check_ip_in_vswitch(ip_address: str, vswitch: dict[str, Any] | None, vswitch_id: str) -> None:
    """The HaVip address must be inside the vSwitch's CIDR block (CreateHaVip: InvalidIPAddress.OutOfRange)."""
    if vswitch is None:
        raise InputError(f"vswitch_id: vSwitch {vswitch_id} does not exist in this region")
    if ip_address and vswitch.get("cidr_block"):
        if ipaddress.ip_address(ip_address) not in ipaddress.ip_network(vswitch["cidr_block"], strict=False):
            raise InputError(
                f"ip_address: {ip_address} is outside vSwitch {vswitch_id} ({vswitch['cidr_block']}); "
                "give a free address of that block, or omit ip_address to get one assigned"
            )


def check_targets(request: Request, joining: list[str], targets: dict[str, dict[str, Any]], vswitch_id: str) -> None:
    """Every instance (or ENI) to associate exists, is Running/Stopped and sits in the HaVip's vSwitch."""
    what = "ENI" if request.instance_type == "NetworkInterface" else "ECS instance"
    for instance_id in joining:
        target = targets.get(instance_id)
        if target is None:
            raise InputError(f"instance_ids: {what} {instance_id} does not exist in this region")
        if request.instance_type == "NetworkInterface" and not target.get("instance_id"):
            raise InputError(
                f"instance_ids: ENI {instance_id} is attached to no ECS instance; a HaVip needs an attached ENI"
            )
        if target["status"] not in OPERABLE_INSTANCE_STATES:
            raise InputError(
                f"instance_ids: the ECS instance of {instance_id} is {target['status'] or 'in an unknown state'}; "
                "AssociateHaVip takes only Running or Stopped instances. Wait until it is Running or Stopped."
            )
        if target["vswitch_id"] != vswitch_id:
            raise InputError(
                f"instance_ids: {what} {instance_id} is in vSwitch {target['vswitch_id']}, the HaVip in {vswitch_id}; "
                "both hosts of a HaVip must be in its vSwitch"
            )


def _record_after_create(request: Request, vswitch: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "",
        "name": request.name,
        "description": request.description,
        "status": "Available",
        "ip_address": request.ip_address,
        "vpc_id": vswitch.get("vpc_id", ""),
        "vswitch_id": request.vswitch_id,
        "master_instance_id": "",
        "associated_instance_type": "",
        "associated_instances": [],
        "eip_addresses": [],
        "create_time": "",
        "tags": dict(request.tags),
    }


def _unassociation(request: Request, current: dict[str, Any], instance_id: str, remaining: int) -> dict[str, Any]:
    """The UnassociateHaVip step for ``instance_id``; refused for the master while a backup stays, without consent."""
    is_master = instance_id == current["master_instance_id"]
    if is_master and remaining > 0 and not request.force_unassociate_master:
        raise InputError(
            f"instance_ids: {instance_id} is the HaVip's master now (it holds {current['ip_address']}); removing it "
            "moves the address. Set force_unassociate_master=true to consent, or fail keepalived over first."
        )
    return {
        "instance_id": instance_id,
        "instance_type": current["associated_instance_type"] or request.instance_type,
        # Force only where the API needs it: the master while a backup stays (a lone master leaves without it).
        "force": is_master and remaining > 0,
    }


def plan_havip(
    request: Request,
    current: dict[str, Any] | None,
    targets: dict[str, dict[str, Any]],
    vswitch: dict[str, Any] | None,
) -> Plan:
    """The steps that take ``current`` to what ``request`` asks, or :class:`InputError` before any of them."""
    diff = DifferenceTracker()
    steps: list[tuple[str, dict[str, Any]]] = []
    if request.state == "absent":
        if current is None:
            return Plan([], {}, diff)
        if current["eip_addresses"]:
            raise InputError(
                f"state=absent: EIP {', '.join(current['eip_addresses'])} is on HaVip {current['id']}; disassociate it "
                "first (alicloud.eip.eip_association state=absent), DeleteHaVip refuses a HaVip with an EIP"
            )
        # The master goes last, so the API never sees a master leave while a backup is still associated.
        leaving = sorted(current["associated_instances"], key=lambda item: item == current["master_instance_id"])
        for index, instance_id in enumerate(leaving):
            steps.append(("unassociate", _unassociation(request, current, instance_id, len(leaving) - index - 1)))
        steps.append(("delete", {"havip_id": current["id"]}))
        diff.add("havip", current, {})
        return Plan(steps, {}, diff)

    if current is None:
        if not request.vswitch_id:
            raise InputError(f"vswitch_id is required to create HaVip {request.name!r} (no HaVip of that name exists)")
        check_ip_in_vswitch(request.ip_address, vswitch, request.vswitch_id)
        after = _record_after_create(request, vswitch or {})
        steps.append(
            (
                "create",
                {
                    "vswitch_id": request.vswitch_id,
                    "name": request.name,
                    "description": request.description,
                    "ip_address": request.ip_address,
                    "tags": dict(request.tags),
                },
            )
        )
        before: dict[str, Any] = {}
    else:
        if request.vswitch_id and request.vswitch_id != current["vswitch_id"]:
            raise InputError(
                f"vswitch_id: HaVip {current['id']} is in {current['vswitch_id']}, not {request.vswitch_id}; "
                "a HaVip cannot move"
            )
        if request.ip_address and request.ip_address != current["ip_address"]:
            raise InputError(
                f"ip_address: HaVip {current['id']} has {current['ip_address']}, not {request.ip_address}; "
                "the address of a HaVip cannot change"
            )
        after = dict(current, associated_instances=list(current["associated_instances"]))
        before = current
    vswitch_id = after["vswitch_id"]

    if request.instance_ids is not None:
        wanted = list(request.instance_ids)
        present = list(after["associated_instances"])
        leaving = [item for item in present if item not in wanted]
        joining = [item for item in wanted if item not in present]
        check_targets(request, joining, targets, vswitch_id)
        staying = len(present) - len(leaving)
        if joining and staying and after["associated_instance_type"] not in ("", request.instance_type):
            raise InputError(
                f"instance_type: HaVip {after['id']} holds {after['associated_instance_type']} resources; a HaVip "
                f"holds one type at a time, so {request.instance_type} cannot join. Remove the others first."
            )
        leaving.sort(key=lambda item: item == after["master_instance_id"])
        for index, instance_id in enumerate(leaving):
            steps.append(("unassociate", _unassociation(request, after, instance_id, len(present) - index - 1)))
        for instance_id in joining:
            steps.append(("associate", {"instance_id": instance_id, "instance_type": request.instance_type}))
        after["associated_instances"] = [item for item in present if item in wanted] + joining
        if after["associated_instances"]:
            after["associated_instance_type"] = request.instance_type if joining else after["associated_instance_type"]
            if after["master_instance_id"] not in after["associated_instances"]:
                # The first instance associated becomes the master until keepalived moves it (emulator rule;
                # UNCONFIRMED on the real platform). [fid:havip-first-master]
                after["master_instance_id"] = after["associated_instances"][0]
            after["status"] = "InUse"
        else:
            after["master_instance_id"] = ""
            after["associated_instance_type"] = ""
            after["status"] = "Available"
    diff.add("havip", _diff_view(before), _diff_view(after))
    return Plan(steps, after, diff)


def _diff_view(record: dict[str, Any]) -> dict[str, Any]:
    """The managed fields of a record: what the diff shows (the master is the platform's, not the module's)."""
    if not record:
        return {}
    return {
        "name": record["name"],
        "vswitch_id": record["vswitch_id"],
        "ip_address": record["ip_address"],
        "tags": dict(sorted(record["tags"].items())),
        "associated_instance_type": record["associated_instance_type"],
        "associated_instances": sorted(record["associated_instances"]),
    }
