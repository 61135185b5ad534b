# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note: this module util is PRIVATE to the collection. It can change at any time; do not use it from
# other collections or standalone plugins/modules.

"""Step 1 of the association engine: the requested associations, validated into :class:`Desired` records.

Bad input (malformed IDs or addresses, a mode on a non-ENI target, conflicting options, two list items fighting
over one EIP or one slot) is refused here, before any call, with a message that names the option and the fix.
What each target kind accepts (its ID prefix, a private IP, a mode, a VPC) comes from the targets table.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ansible_collections.alicloud.eip.plugins.module_utils._eip_association.kinds import CUT_THROUGH, NAT_MODE
from ansible_collections.alicloud.eip.plugins.module_utils._eip_association.targets import (
    ID_PREFIXES,
    INSTANCE_TYPES,
    TARGETS,
    TYPE_LABELS,
    ZONAL,
)
from ansible_collections.alicloud.eip.plugins.module_utils._util import InputError

ITEM_OPTIONS = (
    "allocation_id",
    "ip_address",
    "instance_id",
    "instance_type",
    "private_ip_address",
    "mode",
    "vpc_id",
    "zone_id",
)

_ALLOCATION_ID = re.compile(r"^eip-[0-9A-Za-z][0-9A-Za-z_-]*$")


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
    zone_id: str | None = None

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

    def naming(self, eip: Mapping[str, Any]) -> Desired:
        """This association for the EIP record ``eip``: by its allocation ID, or its address while it has none."""
        if eip.get("allocation_id"):
            return replace(self, allocation_id=eip["allocation_id"], ip_address=None)
        return replace(self, allocation_id=None, ip_address=eip["ip_address"])

    @property
    def effective_mode(self) -> str | None:
        """The mode an ENI association uses (the API's default is NAT); ``None`` for other targets."""
        kind = TARGETS.get(self.instance_type or "")
        return (self.mode or NAT_MODE) if kind is not None and kind.has_mode else None


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
        return next(name for name, kind in TARGETS.items() if kind.needs_vpc)
    for prefix, instance_type in ID_PREFIXES:
        if instance_id.startswith(prefix):
            return instance_type
    return None


def _probe(raw: Mapping[str, Any], where: str) -> Desired:
    """The options as given (blank strings are none), not validated yet."""
    values = {name: (raw.get(name) or None) for name in ITEM_OPTIONS}
    for name in ("allocation_id", "ip_address", "instance_id", "private_ip_address", "vpc_id", "zone_id"):
        if isinstance(values[name], str):
            values[name] = values[name].strip() or None
    return Desired(where, **values)


def validate_item(raw: Mapping[str, Any], where: str, state: str) -> tuple[Desired, list[str]]:
    """One association's options -> :class:`Desired` and warnings; raises :class:`InputError`."""
    probe = _probe(raw, where)
    option = probe.option
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
    elif not probe.eip_ref and not probe.instance_id:
        raise InputError(
            f"{probe.prefix}name the EIP ({option('allocation_id')} or {option('ip_address')}) or the resource to "
            f"take EIPs off ({option('instance_id')})"
        )
    return _validate_target(probe, state)


def validate_target(raw: Mapping[str, Any], where: str = "") -> tuple[Desired, list[str]]:
    """The target of an association (state=present) whose EIP is named later, with :meth:`Desired.naming`.

    Another engine (``_eip_lifecycle``) validates its ``association`` option with it, once, before any call.
    """
    return _validate_target(_probe(raw, where), "present")


def _validate_target(probe: Desired, state: str) -> tuple[Desired, list[str]]:
    """The target half of :func:`validate_item`: the resource, its type, private IP, mode and VPC."""
    option = probe.option
    warnings: list[str] = []
    if state == "present" and not probe.instance_id:
        raise InputError(f"{option('instance_id')} is required with state=present: the resource to put the EIP on")
    instance_type = probe.instance_type
    if probe.instance_id:
        inferred = infer_instance_type(probe.instance_id)
        if instance_type is None:
            if inferred is None:
                raise InputError(
                    f"cannot tell what {option('instance_id')}={probe.instance_id!r} is from its prefix (i-, eni-, "
                    f"ngw-, lb-, havip-, alb-, nlb- or an IP address); set {option('instance_type')} to one of "
                    f"{', '.join(INSTANCE_TYPES)}"
                )
            instance_type = inferred
        elif inferred is not None and inferred != instance_type and (ZONAL.get(inferred) or ZONAL.get(instance_type)):
            # An alb- ID is never an NLB (nor any other kind): the two APIs differ, so this is a mistake, not a hint.
            raise InputError(
                f"{option('instance_type')}={instance_type} does not match {option('instance_id')}="
                f"{probe.instance_id}, which is {_article(inferred)} {TYPE_LABELS[inferred]} ID; fix one of them "
                f"(or leave {option('instance_type')} out)"
            )
        elif inferred is not None and inferred != instance_type:
            warnings.append(
                f"{option('instance_type')}={instance_type} overrides the type the ID {probe.instance_id} "
                f"suggests ({inferred})"
            )
    elif instance_type:
        raise InputError(f"{option('instance_type')} needs {option('instance_id')}")

    kind = TARGETS.get(instance_type or "")
    target_label = f"{_article(instance_type)} {TYPE_LABELS.get(instance_type or '', 'resource')}"
    if probe.mode and not (kind is not None and kind.has_mode):
        raise InputError(
            f"{option('mode')} applies only to ENI targets (instance_type NetworkInterface), but "
            f"{probe.instance_id or 'the target'} is {target_label}; remove {option('mode')}"
        )
    private_ip = probe.private_ip_address
    if private_ip:
        if not _is_ipv4(private_ip):
            raise InputError(f"{option('private_ip_address')}={private_ip!r} is not an IPv4 address")
        if not (kind is not None and kind.takes_private_ip):
            raise InputError(
                f"{option('private_ip_address')} applies only to ENI targets: an EIP on {target_label} maps to its "
                "primary private IP. To use another private IP, associate the EIP with the ENI that holds it "
                "(instance_id: eni-...) in NAT mode"
            )
    vpc_id = probe.vpc_id
    if kind is not None and kind.needs_vpc:
        if not vpc_id and state == "present":
            raise InputError(
                f"{option('vpc_id')} is required when the target is an IP address "
                f"({option('instance_id')}={probe.instance_id}): the VPC, with an IPv4 gateway, the address belongs to"
            )
        # UNCONFIRMED: Terraform sends the address as PrivateIpAddress too; do the same unless told otherwise.
        # [fid:eip-ipaddress-private-ip]
        private_ip = private_ip or probe.instance_id
    elif vpc_id:
        raise InputError(
            f"{option('vpc_id')} applies only when the target is an IP address (instance_type IpAddress); remove it"
        )
    zone_id = probe.zone_id
    if kind is not None and kind.zonal is not None:
        if not zone_id and state == "present":
            raise InputError(
                f"{option('zone_id')} is required for {target_label} ({probe.instance_id}): it takes one EIP per zone; "
                "name the zone this EIP is for"
            )
    elif zone_id:
        raise InputError(
            f"{option('zone_id')} applies only to ALB and NLB instances (alb-..., nlb-...); remove it for "
            f"{target_label}"
        )
    desired = Desired(
        probe.where,
        allocation_id=probe.allocation_id,
        ip_address=probe.ip_address,
        instance_id=probe.instance_id,
        instance_type=instance_type,
        private_ip_address=private_ip,
        mode=probe.mode,
        vpc_id=vpc_id,
        zone_id=zone_id,
    )
    return desired, warnings


def _article(instance_type: str | None) -> str:
    label = TYPE_LABELS.get(instance_type or "", "resource")
    return "an" if label[0] in "AEIOU" else "a"


def _slot(desired: Desired) -> tuple[str, ...] | None:
    """What only one EIP can occupy, as far as the input alone tells (defaults are checked in planning)."""
    kind = TARGETS.get(desired.instance_type or "")
    return kind.slot(desired) if kind is not None else None


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
        if item.effective_mode is not None and item.instance_id:
            previous = eni_modes.get(item.instance_id)
            if previous is not None and previous.effective_mode != item.effective_mode:
                raise InputError(
                    f"{previous.where} ({previous.effective_mode}) and {item.where} ({item.effective_mode}) put EIPs "
                    f"on {item.instance_id} in different modes; an ENI takes EIPs in one mode only"
                )
            eni_modes.setdefault(item.instance_id, item)
