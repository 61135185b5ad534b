# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Filters of the role alicloud.eip.multi_eip (internal): the pre-flight check and the plan of a run.

The role's tasks only call modules and these filters; every decision between the calls is made here, in Python,
so that unit tests cover each mode:

- ``multi_eip_mode``: the one table of the role's modes - for each, the API mode of its associations
  (``NAT``/``BINDED``/``MULTI_BINDED``), the host mode of roles/eni_host (``nat``/``cut_through``/``multi_eip``)
  and how many ENIs it uses;
- ``multi_eip_preflight`` (with ``multi_eip_security_groups``): every reason to refuse the run before any change.
  The role reads the instance, the vSwitch and the security groups with alicloud.eip.network_info, and the ENIs it
  made before with eni_info; each reason names the role variable, what the cloud would answer (the API's error
  code) and the fix.  The EIP and ENI settings (bandwidth, names, tags, wait timeout) are checked with the same
  functions the modules use (``module_utils/_limits``), so that a value the modules would refuse stops the run
  here, before the first ENI is created, and the message names the role variable;
- ``multi_eip_scale_down``: which of the role's ENIs and EIPs lie above the count (detach, release, delete) and
  what the host must forget;
- ``multi_eip_resources``: the ENIs and EIPs of slots 0..count-1 as the modules take them (name, description,
  security groups, attachment, tags);
- ``multi_eip_plan``: once the modules answered, whether every ID is known (the one count check: check mode of a
  first run cannot know IDs of what does not exist yet), the rows of the one eip_association list task, the ENIs
  to detach and attach in cut-through mode, and the interfaces for roles/eni_host.
"""

from __future__ import annotations

import ipaddress
from typing import NamedTuple

from ansible.errors import AnsibleFilterError
from ansible_collections.alicloud.eip.plugins.module_utils._limits import (
    LimitError,
    check_eip_name,
    check_eni_name,
    check_tags,
    role_eip_settings_errors,
)

# AttachNetworkInterface needs the instance Running or Stopped (alibaba-api.md §8.5).
ATTACHABLE_STATES = ("Running", "Stopped")
SLOT_TAG = "alicloud-eip-slot"


class Mode(NamedTuple):
    """One mode of the role, in each vocabulary, and the shape of its ENIs."""

    api: str  # Mode of AssociateEipAddress (eip_association)
    host: str  # mode of an interface of eni_routing (roles/eni_host)
    eni_per_eip: bool  # one ENI per EIP; else one ENI carries every EIP
    secondary_ips: bool  # the ENI gets one secondary private IP per EIP
    attach_first: bool  # the ENIs are attached before the association (cut-through: after it)
    eni_description: str  # {slot} and {instance} filled in; kept verbatim, since a re-run compares it


# The role's modes (multi_eip_mode, the user's vocabulary) -> the API's and the host's.  The only translation table.
MODES = {
    "nat_enis": Mode(
        api="NAT",
        host="nat",
        eni_per_eip=True,
        secondary_ips=False,
        attach_first=True,
        eni_description="NAT-mode ENI {slot} of {instance} (alicloud.eip.multi_eip)",
    ),
    "nat_secondary_ips": Mode(
        api="NAT",
        host="nat",
        eni_per_eip=False,
        secondary_ips=True,
        attach_first=True,
        eni_description="NAT-mode ENI of {instance} with one private IP per EIP (alicloud.eip.multi_eip)",
    ),
    "cut_through": Mode(
        api="BINDED",
        host="cut_through",
        eni_per_eip=True,
        secondary_ips=False,
        attach_first=False,
        eni_description="Cut-through ENI {slot} of {instance} (alicloud.eip.multi_eip)",
    ),
    "multi_eip_cut_through": Mode(
        api="MULTI_BINDED",
        host="multi_eip",
        eni_per_eip=False,
        secondary_ips=False,
        attach_first=True,
        eni_description="Multi-EIP cut-through ENI of {instance} (alicloud.eip.multi_eip)",
    ),
}


def mode_of(name):
    """The Mode of a multi_eip_mode value; an unknown one is refused naming the variable and the choices."""
    try:
        return MODES[name]
    except (KeyError, TypeError):
        raise AnsibleFilterError(f"multi_eip_mode: {name!r} is not one of {', '.join(MODES)}") from None


def count_of(settings):
    """multi_eip_count as a whole number of 0 or more; anything else is refused naming the variable."""
    value = settings.get("count")
    try:
        count = int(value or 0)
    except (TypeError, ValueError):
        raise AnsibleFilterError(f"multi_eip_count: {value!r} is not a whole number") from None
    if count < 0:
        raise AnsibleFilterError(f"multi_eip_count: {count} given; it must be 0 or more")
    return count


def _slot_groups(settings, slot):
    """(variable name, security group IDs) an ENI of ``slot`` is created with."""
    per_eni = settings.get("eni_security_group_ids") or []
    own = per_eni[slot] if slot < len(per_eni) else None
    if own:
        return f"multi_eip_eni_security_group_ids[{slot}]", list(own)
    return "multi_eip_security_group_ids", list(settings.get("security_group_ids") or [])


def eni_count(mode, count):
    """How many ENIs the mode uses for ``count`` EIPs."""
    count = int(count)
    return count if mode_of(mode).eni_per_eip else min(count, 1)


def _slot_of(interface):
    """The role's slot tag of an ENI, as an int (None when missing or unreadable)."""
    try:
        return int((interface.get("tags") or {}).get(SLOT_TAG))
    except (TypeError, ValueError):
        return None


def addresses_needed(settings, existing):
    """Private addresses of the vSwitch the run takes: the new ENIs' primaries and the missing secondary IPs.

    ``existing`` are the role's ENIs for the instance (eni_info by the role's tags).  The role finds an ENI again by
    name within the vSwitch, so an ENI of another vSwitch does not count: a new one is created.
    """
    mode = settings.get("mode")
    count = int(settings.get("count") or 0)
    vswitch_id = settings.get("vswitch_id")
    by_slot = {
        _slot_of(interface): interface for interface in existing or [] if interface.get("vswitch_id") == vswitch_id
    }
    needed = 0
    for slot in range(eni_count(mode, count)):
        interface = by_slot.get(slot)
        secondary = len(interface.get("secondary_private_ip_addresses") or []) if interface else 0
        needed += 0 if interface else 1
        if mode_of(mode).secondary_ips:
            needed += max(0, count - secondary)
    return needed


def _derived_name(errors, check, name, what):
    """Refuse a name the role derives from multi_eip_name_prefix that the module would refuse."""
    try:
        check(name)
    except LimitError as error:
        errors.append(
            f"multi_eip_name_prefix: the {what} name {name[:60]!r}{'...' if len(name) > 60 else ''} that the role "
            f"makes of it (<prefix>-<instance>-...) is refused by the module ({error}); give another prefix"
        )


def settings_errors(settings):
    """Every EIP and ENI setting the modules would refuse, by role variable (the checks of eip_address and eni).

    Reads the optional ``settings`` keys ``name`` (the role's name stem, ``<prefix>-<instance>``), ``tags`` (the
    user's tags), ``base_tags`` (the role's own tags), ``bandwidth``, ``internet_charge_type`` and ``wait_timeout``;
    a missing key is not checked.  The descriptions are the role's own text around the instance ID, which the
    pre-flight requires to exist, so they are not checked here.
    """
    count = int(settings.get("count") or 0)
    if count <= 0:
        return []
    mode = settings.get("mode")
    errors = role_eip_settings_errors(settings, "multi_eip_", whose="the role's EIPs")
    name = settings.get("name")
    if name is not None:
        _derived_name(errors, check_eip_name, f"{name}-eip-{count - 1}", "EIP")
        _derived_name(errors, check_eni_name, f"{name}-eni-{eni_count(mode, count) - 1}", "ENI")
    if settings.get("tags") is not None or settings.get("base_tags") is not None:
        # What the modules get: the user's tags, then the role's tags and the slot (the highest: the longest value).
        # The EIP rules (VPC) include the ENI rules (ECS), so one check covers both.
        given = dict(settings.get("tags") or {})
        tags = {**given, **(settings.get("base_tags") or {}), SLOT_TAG: str(count - 1)}
        try:
            check_tags(tags, option="multi_eip_tags")
        except LimitError as error:
            added = len(tags) - len(given)
            note = f" ({len(given)} given, and the role adds {added} of its own)" if "tags given" in str(error) else ""
            errors.append(f"{error}{note}")
    return errors


def multi_eip_preflight(lookups, settings, existing=None):
    """Every reason to refuse the run before its first mutating call (an empty list: go ahead).

    ``lookups`` is the result of alicloud.eip.network_info (``instances``, ``vswitches``, ``security_groups``),
    ``settings`` the role's variables without their prefix (instance_id, mode, count, vswitch_id,
    security_group_ids, eni_security_group_ids), ``existing`` the role's ENIs for the instance (eni_info).
    A count of 0 only removes what the role made, so it depends on nothing and is never refused here.
    """
    count = int(settings.get("count") or 0)
    if count <= 0:
        return []
    errors = []
    mode = settings.get("mode")
    instance_id = settings.get("instance_id")
    vswitch_id = settings.get("vswitch_id")
    instances = {item["id"]: item for item in lookups.get("instances") or []}
    vswitches = {item["id"]: item for item in lookups.get("vswitches") or []}
    groups = {item["id"]: item for item in lookups.get("security_groups") or []}

    instance = instances.get(instance_id)
    if instance is None:
        errors.append(
            f"multi_eip_instance_id: there is no ECS instance {instance_id} in this region (InvalidInstanceId.NotFound); "
            "check the ID and the region of the play's module_defaults"
        )
    elif instance.get("network_type") and instance["network_type"] != "vpc":
        errors.append(
            f"multi_eip_instance_id: instance {instance_id} is not in a VPC (network type {instance['network_type']}); "
            "ENIs and their EIPs need a VPC instance"
        )
    elif instance.get("status") not in ATTACHABLE_STATES:
        errors.append(
            f"multi_eip_instance_id: instance {instance_id} is {instance.get('status') or 'in an unknown state'}, and "
            "ENIs attach only to a Running or Stopped instance (InvalidOperation.InvalidEcsState); run again once it "
            "is Running or Stopped"
        )
    where = ""
    if instance is not None:
        where = f" (VPC {instance.get('vpc_id')}, zone {instance.get('zone_id')})"

    vswitch = vswitches.get(vswitch_id)
    if vswitch is None:
        errors.append(
            f"multi_eip_vswitch_id: there is no vSwitch {vswitch_id} in this region (InvalidVSwitchId.NotFound); give a "
            f"vSwitch of the instance's VPC in its zone{where}"
        )
    elif instance is not None:
        if vswitch.get("vpc_id") != instance.get("vpc_id"):
            errors.append(
                f"multi_eip_vswitch_id: vSwitch {vswitch_id} is in VPC {vswitch.get('vpc_id')}, instance {instance_id} "
                f"in VPC {instance.get('vpc_id')} (InvalidOperation.VpcMismatch); give a vSwitch of the instance's VPC "
                f"in its zone{where}"
            )
        elif vswitch.get("zone_id") != instance.get("zone_id"):
            errors.append(
                f"multi_eip_vswitch_id: vSwitch {vswitch_id} is in zone {vswitch.get('zone_id')}, instance {instance_id} "
                f"in zone {instance.get('zone_id')}, and an ENI attaches only to an instance of its zone "
                f"(InvalidOperation.AvailabilityZoneMismatch); give a vSwitch of the instance's VPC in its zone{where}"
            )
    if vswitch is not None:
        free = vswitch.get("available_ip_count")
        needed = addresses_needed(settings, existing)
        if free is not None and needed > int(free):
            errors.append(
                f"multi_eip_vswitch_id: the run needs {needed} free private addresses in vSwitch {vswitch_id} (one per "
                f"new ENI{', plus one secondary IP per EIP' if mode_of(mode).secondary_ips else ''}) and it has {free} "
                "(InvalidVSwitchId.IpNotEnough); free addresses there, give another vSwitch of the zone, or lower "
                "multi_eip_count"
            )

    vpc_id = (instance or {}).get("vpc_id") or (vswitch or {}).get("vpc_id")
    reported = set()
    for slot in range(eni_count(mode, count)):
        variable, wanted = _slot_groups(settings, slot)
        for group_id in wanted:
            if (variable, group_id) in reported:
                continue
            reported.add((variable, group_id))
            group = groups.get(group_id)
            if group is None:
                errors.append(
                    f"{variable}: there is no security group {group_id} in this region "
                    "(InvalidSecurityGroupId.NotFound); give security groups of the instance's VPC"
                    f"{f' {vpc_id}' if vpc_id else ''}"
                )
            elif vpc_id and group.get("vpc_id") != vpc_id:
                errors.append(
                    f"{variable}: security group {group_id} is in VPC {group.get('vpc_id')}, not in the instance's VPC "
                    f"{vpc_id} (InvalidOperation.VpcMismatch); give security groups of VPC {vpc_id}"
                )
    return errors + settings_errors(settings)


def multi_eip_security_groups(settings):
    """The security group IDs the run's ENIs are created with (what to look up)."""
    count = int(settings.get("count") or 0)
    found = []
    for slot in range(eni_count(settings.get("mode"), count)):
        for group_id in _slot_groups(settings, slot)[1]:
            if group_id not in found:
                found.append(group_id)
    return found


def multi_eip_mode(settings):
    """The mode of the run in each vocabulary: ``name`` (the role's), ``api``, ``host``, and ``enis`` (ENIs used)."""
    mode = mode_of(settings.get("mode"))
    return {
        "name": settings.get("mode"),
        "api": mode.api,
        "host": mode.host,
        "enis": eni_count(settings.get("mode"), int(settings.get("count") or 0)),
    }


def _slot_tag(record):
    """The role's slot tag of an ENI or EIP record, as written (None when the record has none)."""
    return (record.get("tags") or {}).get(SLOT_TAG)


def _above(records, kept):
    """The records with a slot tag that is not one of the first ``kept`` slots (the role's surplus)."""
    slots = [str(slot) for slot in range(kept)]
    return [
        record for record in records or [] if SLOT_TAG in (record.get("tags") or {}) and _slot_tag(record) not in slots
    ]


def multi_eip_scale_down(settings, enis, eips):
    """What a run removes before anything else: the role's ENIs and EIPs of the slots above the count.

    ``enis`` and ``eips`` are what eni_info and eip_info find by the role's tags.  ``detach``: the surplus ENIs that
    are attached and hold a cut-through (``BINDED``) EIP, which comes off a detached ENI only; ``release`` and
    ``release_after_detach``: the EIPs of slots >= count, the latter those cut-through EIPs whose ENI is in
    ``detach``; ``delete``: the ENIs of slots >= the mode's ENI count; ``absent``: those ENIs as roles/eni_host's
    absent interfaces (by MAC), so that their rules and routes are removed from the host; ``released_ids``: the
    allocation IDs of every EIP released (alicloud.eip.eni's ``released_allocation_ids``).

    Check mode must predict what the real run does, and there the steps before a module changed nothing: the role
    passes ``released_ids`` to the ENI tasks, and predicts ``release_after_detach`` itself (eip_address would find
    the ENI still attached and refuse the release the real run makes once the ENI is detached).
    """
    count = count_of(settings)
    surplus = _above(enis, eni_count(settings.get("mode"), count))
    binded = [eip.get("instance_id") for eip in eips or [] if eip.get("mode") == MODES["cut_through"].api]
    detach = [eni for eni in surplus if eni.get("instance_id") and eni.get("id") in binded]
    detached = {eni.get("id") for eni in detach}
    release = _above(eips, count)
    after_detach = [
        eip for eip in release if eip.get("mode") == MODES["cut_through"].api and eip.get("instance_id") in detached
    ]
    return {
        "detach": detach,
        "release": [eip for eip in release if eip not in after_detach],
        "release_after_detach": after_detach,
        "released_ids": [eip["allocation_id"] for eip in release if eip.get("allocation_id")],
        "delete": surplus,
        "absent": [{"mac": eni["mac_address"]} for eni in surplus if "mac_address" in eni],
    }


def _tags(settings, slot):
    """Tags of the ENI or EIP of ``slot``: the user's, then the role's own (they win) and the slot."""
    return {**(settings.get("tags") or {}), **(settings.get("base_tags") or {}), SLOT_TAG: str(slot)}


def multi_eip_resources(settings):
    """The ENIs and EIPs of slots 0..count-1 as alicloud.eip.eni and alicloud.eip.eip_address take them.

    Their names and tags are the role's key: a re-run finds each again and changes nothing.  An ENI entry has
    ``instance_id`` and ``attached`` only when the mode attaches it before the association (a cut-through ENI is
    created detached and attached after it), and ``secondary_private_ip_address_count`` only in
    ``nat_secondary_ips``.
    """
    count = count_of(settings)
    name = settings.get("mode")
    mode = mode_of(name)
    stem = settings.get("name")
    instance_id = settings.get("instance_id")
    enis = []
    for slot in range(eni_count(name, count)):
        eni = {
            "name": f"{stem}-eni-{slot}",
            "description": mode.eni_description.format(slot=slot, instance=instance_id),
            "security_group_ids": _slot_groups(settings, slot)[1],
            "tags": _tags(settings, slot),
        }
        if mode.attach_first:
            eni.update(instance_id=instance_id, attached=True)
        if mode.secondary_ips:
            eni["secondary_private_ip_address_count"] = count
        enis.append(eni)
    eips = [
        {
            "name": f"{stem}-eip-{slot}",
            "description": f"{name} EIP {slot} of {instance_id} (alicloud.eip.multi_eip)",
            "tags": _tags(settings, slot),
        }
        for slot in range(count)
    ]
    return {"enis": enis, "eips": eips}


def _all_known(settings, eips, enis):
    """The one count check: every EIP and ENI of the run has an ID (and, in nat_secondary_ips, every secondary IP).

    Check mode of a first run predicts resources without IDs; the association and the host cannot be planned then.
    """
    count = count_of(settings)
    name = settings.get("mode")
    ids = [eip.get("allocation_id") for eip in eips if eip.get("allocation_id")]
    eni_ids = [eni.get("id") for eni in enis if eni.get("id")]
    known = len(ids) == count and len(eni_ids) == eni_count(name, count)
    if known and mode_of(name).secondary_ips and enis:
        known = len(enis[0].get("secondary_private_ip_addresses") or []) == count
    return known


def _secondary_ip_rows(eips, eni, api_mode):
    """nat_secondary_ips: an EIP on one of the ENI's secondary IPs keeps it; the others take the free ones in order.

    The free addresses are sorted as text (as the role did in Jinja), so a re-run pairs them the same way.
    """
    addresses = eni.get("secondary_private_ip_addresses") or []

    def holds(eip):
        return eip.get("instance_id") == eni.get("id") and eip.get("private_ip_address") in addresses

    held = [eip.get("private_ip_address") for eip in eips if holds(eip)]
    free = iter(sorted(address for address in addresses if address not in held))
    rows = []
    for eip in eips:
        address = eip.get("private_ip_address") if holds(eip) else next(free, None)
        if address is not None:
            rows.append(
                {
                    "allocation_id": eip["allocation_id"],
                    "instance_id": eni["id"],
                    "private_ip_address": address,
                    "mode": api_mode,
                }
            )
    return rows


def cut_through_network(address, networks=None):
    """(cidr, gateway) the host gives a cut-through (BINDED) EIP on its ENI.

    DescribeEipGatewayInfo answers only for MULTI_BINDED EIPs (alibaba-api.md §3.9), and what DHCP announces for a
    BINDED ENI is UNCONFIRMED [fid:cut-through-dhcp-network]: without an entry in multi_eip_cut_through_networks
    (``{cidr, gateway}`` by EIP address, each key optional) the role assumes the EIP's /24 with gateway .1 (.254 for
    an EIP on .1, which cannot be its own gateway).
    """
    given = (networks or {}).get(address) or {}
    network = ipaddress.IPv4Network(f"{address}/24", strict=False)
    gateway = network.network_address + (254 if str(network.network_address + 1) == address else 1)
    return given.get("cidr", str(network)), given.get("gateway", str(gateway))


def _interfaces(mode, eips, enis, settings, gateways):
    """The ENIs of the run as roles/eni_host takes them (eni_host_interfaces)."""
    if mode.host == "cut_through":
        rows = []
        for eip, eni in zip(eips, enis):
            address = eip.get("ip_address")
            cidr, gateway = cut_through_network(address, settings.get("cut_through_networks"))
            rows.append(
                {
                    "mac": eni.get("mac_address"),
                    "mode": mode.host,
                    "eni_id": eni["id"],
                    "addresses": [address],
                    "cidr": cidr,
                    "gateway": gateway,
                }
            )
        return rows
    if mode.host == "multi_eip":
        if gateways is None:
            return []
        # The cloud's answer (eip_gateway_info), only the keys eni_routing reads.
        entries = [{"ip": item["ip"], "gateway": item["gateway"], "mask": item["mask"]} for item in gateways]
        return [
            {"mac": eni.get("mac_address"), "mode": mode.host, "eni_id": eni["id"], "eips": entries} for eni in enis
        ]
    # NAT: the addresses, the vSwitch and the gateway come from the metadata service on the host.
    return [{"mac": eni.get("mac_address"), "mode": mode.host, "eni_id": eni["id"]} for eni in enis]


def multi_eip_plan(settings, eips, enis, gateways=None):
    """The rest of the run, once eip_address and eni answered: associations, attachment and the host's interfaces.

    ``eips`` are the EIP records of slots 0..count-1 (eip_address's ``eip``), ``enis`` the ENI records of the mode's
    slots (eni's ``interface``), ``gateways`` the ``eips`` of eip_gateway_info (multi_eip_cut_through only, read
    after the association; until given, that mode has no host interfaces).  When an ID is missing (check mode of a
    first run) ``known`` is false and nothing else is planned: the role stops before the association and the host.
    """
    name = settings.get("mode")
    mode = mode_of(name)
    eips = list(eips or [])
    enis = list(enis or [])
    plan = {
        "known": _all_known(settings, eips, enis),
        "api_mode": mode.api,
        "host_mode": mode.host,
        "eni_ids": [eni.get("id") or "" for eni in enis],
        "associations": [],
        "detach": [],
        "attach": [],
        "interfaces": [],
    }
    if not plan["known"] or not eips:
        return plan
    if mode.secondary_ips:
        plan["associations"] = _secondary_ip_rows(eips, enis[0], mode.api)
    else:
        holders = enis if mode.eni_per_eip else enis * len(eips)
        for eip, eni in zip(eips, holders):
            row = {"allocation_id": eip["allocation_id"], "instance_id": eni["id"]}
            if mode.api == "NAT":
                row["private_ip_address"] = eni.get("primary_ip_address")
            row["mode"] = mode.api
            plan["associations"].append(row)
    if not mode.attach_first:
        # The specification's order: a BINDED EIP goes on a detached ENI, which is attached afterwards.  An attached
        # ENI whose EIP is not on it in this mode yet is detached first.
        plan["detach"] = [
            eni["id"]
            for eip, eni in zip(eips, enis)
            if eni.get("instance_id") and not (eip.get("instance_id") == eni["id"] and eip.get("mode") == mode.api)
        ]
        plan["attach"] = [eni["id"] for eni in enis]
    plan["interfaces"] = _interfaces(mode, eips, enis, settings, gateways)
    return plan


class FilterModule:
    """Filters of the multi_eip role."""

    def filters(self):
        """Filter name -> function."""
        return {
            "multi_eip_mode": multi_eip_mode,
            "multi_eip_preflight": multi_eip_preflight,
            "multi_eip_security_groups": multi_eip_security_groups,
            "multi_eip_scale_down": multi_eip_scale_down,
            "multi_eip_resources": multi_eip_resources,
            "multi_eip_plan": multi_eip_plan,
        }
