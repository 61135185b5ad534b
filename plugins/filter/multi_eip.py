# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Filter of the role alicloud.eip.multi_eip (internal): the pre-flight check, before any change.

The role reads the instance, the vSwitch and the security groups with alicloud.eip.network_info, and the ENIs it
made before with eni_info; ``multi_eip_preflight`` turns that and the role's variables into every reason to
refuse the run, each naming the role variable, what the cloud would answer (the API's error code) and the fix.
Python rather than Jinja so that unit tests cover every case.  The EIP and ENI settings (bandwidth, names, tags,
wait timeout) are checked with the same functions the modules use (``module_utils/_limits``), so that a value the
modules would refuse stops the run here, before the first ENI is created, and the message names the role variable.
"""

from __future__ import annotations

from ansible_collections.alicloud.eip.plugins.module_utils._limits import (
    LimitError,
    check_bandwidth,
    check_eip_name,
    check_eni_name,
    check_tags,
)

# AttachNetworkInterface needs the instance Running or Stopped (alibaba-api.md §8.5).
ATTACHABLE_STATES = ("Running", "Stopped")
# Modes with one ENI per EIP; the others put every EIP on one ENI.
ENI_PER_EIP_MODES = ("nat_enis", "cut_through")


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
    return count if mode in ENI_PER_EIP_MODES else min(count, 1)


def _slot_of(interface):
    """The role's slot tag of an ENI, as an int (None when missing or unreadable)."""
    try:
        return int((interface.get("tags") or {}).get("alicloud-eip-slot"))
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
        if mode == "nat_secondary_ips":
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
    errors = []
    mode = settings.get("mode")
    bandwidth = settings.get("bandwidth")
    if bandwidth is not None:
        try:
            bandwidth = int(bandwidth)
        except (TypeError, ValueError):
            errors.append(f"multi_eip_bandwidth: {bandwidth!r} is not a whole number of Mbit/s; give one, e.g. 5")
        else:
            try:
                check_bandwidth(
                    bandwidth,
                    settings.get("internet_charge_type"),
                    option="multi_eip_bandwidth",
                    whose="the role's EIPs",
                )
            except LimitError as error:
                errors.append(str(error).replace("internet_charge_type=", "multi_eip_internet_charge_type="))
    timeout = settings.get("wait_timeout")
    if timeout is not None and int(timeout) <= 0:
        errors.append(f"multi_eip_wait_timeout: {timeout} given; it must be a positive number of seconds")
    name = settings.get("name")
    if name is not None:
        _derived_name(errors, check_eip_name, f"{name}-eip-{count - 1}", "EIP")
        _derived_name(errors, check_eni_name, f"{name}-eni-{eni_count(mode, count) - 1}", "ENI")
    if settings.get("tags") is not None or settings.get("base_tags") is not None:
        # What the modules get: the user's tags, then the role's tags and the slot (the highest: the longest value).
        # The EIP rules (VPC) include the ENI rules (ECS), so one check covers both.
        given = dict(settings.get("tags") or {})
        tags = {**given, **(settings.get("base_tags") or {}), "alicloud-eip-slot": str(count - 1)}
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
                f"new ENI{', plus one secondary IP per EIP' if mode == 'nat_secondary_ips' else ''}) and it has {free} "
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


class FilterModule:
    """Filters of the multi_eip role."""

    def filters(self):
        """Filter name -> function."""
        return {"multi_eip_preflight": multi_eip_preflight, "multi_eip_security_groups": multi_eip_security_groups}
