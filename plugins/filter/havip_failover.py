# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Filter of the role alicloud.eip.havip_failover (internal): the plan of a run, computed before any change.

The role reads the two hosts' primary ENIs (eni_info), the HaVips of their VPC (havip_info) and their vSwitch
(network_info); ``havip_failover_plan`` turns that and the role's variables into the HaVip to create or use, the
keepalived settings of each host (priority, unicast source and peer, the virtual address) and every reason to
refuse the run (``errors``) or to warn (``warnings``).  Python rather than Jinja so that unit tests cover it.
"""

from __future__ import annotations

import ipaddress

# The HaVip remembers its VRRP router ID in this tag, so that a second HaVip of the VPC cannot reuse it: two VRRP
# instances with one virtual_router_id on one segment take each other's adverts for their own.
VRID_TAG = "havip-failover/virtual-router-id"
# keepalived truncates a PASS authentication password to 8 characters (keepalived.conf(5)).
AUTH_PASS_MAX = 8
# Priorities handed out in host order when none is given: the first host is the preferred master.
DEFAULT_PRIORITIES = (150, 100)
OPERABLE = ("Running", "Stopped")


def _address(value):
    try:
        return ipaddress.ip_address(str(value))
    except ValueError:
        return None


def _check_settings(settings, errors, warnings):
    vrid = settings.get("virtual_router_id")
    try:
        vrid = int(vrid)
    except (TypeError, ValueError):
        vrid = None
    if vrid is None or not 1 <= vrid <= 255:
        errors.append(
            f"havip_failover_virtual_router_id: {settings.get('virtual_router_id')!r} is not a VRRP router ID; give "
            "an integer from 1 to 255, unique among the HaVips of the VPC"
        )
    for line in settings.get("global_defs") or []:
        if str(line).split() and str(line).split()[0] == "vrrp_strict":
            errors.append(
                "havip_failover_keepalived_global_defs: vrrp_strict forbids unicast peers (keepalived.conf(5)), and a "
                "VPC carries no multicast, so VRRP runs unicast here; remove vrrp_strict"
            )
    password = settings.get("authentication_password") or ""
    if len(str(password)) > AUTH_PASS_MAX:
        warnings.append(
            f"havip_failover_authentication_password: keepalived uses only the first {AUTH_PASS_MAX} characters of "
            f"a PASS password (it has {len(str(password))}); both hosts still agree, but the rest adds nothing"
        )
    try:
        advert = float(settings.get("advert_int", 1))
    except (TypeError, ValueError):
        advert = 0
    if advert <= 0:
        errors.append(f"havip_failover_advert_int: {settings.get('advert_int')!r} is not a positive number of seconds")
    return vrid


def _hosts(hosts, enis, errors):
    """One row per host: its instance, primary ENI, vSwitch and address, the ECS status."""
    rows = []
    for index, host in enumerate(hosts):
        name = host.get("host") or f"host {index + 1}"
        instance_id = host.get("instance_id") or ""
        eni = (enis or {}).get(name) or {}
        row = {
            "host": name,
            "instance_id": instance_id,
            "vswitch_id": eni.get("vswitch_id", ""),
            "vpc_id": eni.get("vpc_id", ""),
            "primary_ip": eni.get("primary_ip_address", ""),
            "status": host.get("status", ""),
            "priority": host.get("priority"),
            "interface": host.get("interface") or "",
        }
        if not instance_id:
            errors.append(f"{name}: havip_failover_instance_id is not set; give the ECS instance ID of the host")
        elif not eni:
            errors.append(f"{name}: ECS instance {instance_id} has no primary ENI in this region (check the ID)")
        rows.append(row)
    return rows


def havip_failover_plan(hosts, enis, havips, vswitches, settings):
    """The plan of one run of the role.

    ``hosts``: ``[{host, instance_id, priority?, interface?, status?}]`` in play order; ``enis``: host -> its primary
    ENI as eni_info returns it; ``havips``: the HaVips of the hosts' VPC as havip_info returns them; ``vswitches``:
    the hosts' vSwitch as network_info returns it (list); ``settings``: the role's variables without the prefix.
    """
    errors, warnings = [], []
    vrid = _check_settings(settings, errors, warnings)
    if len(hosts) != 2:
        errors.append(
            f"havip_failover_hosts: a HaVip is shared by exactly two hosts (AssociateHaVip takes at most two ECS "
            f"instances); the play has {len(hosts)} ({', '.join(h.get('host', '?') for h in hosts)})"
        )
    rows = _hosts(hosts, enis, errors)
    known = [row for row in rows if row["vswitch_id"]]
    vswitch_ids = sorted({row["vswitch_id"] for row in known})
    if len(vswitch_ids) > 1:
        errors.append(
            "havip_failover_hosts: the hosts are in different vSwitches ("
            + ", ".join(f"{row['host']} in {row['vswitch_id']}" for row in known)
            + "); a HaVip and both of its hosts must be in one vSwitch"
        )
    for row in rows:
        if row["status"] and row["status"] not in OPERABLE:
            errors.append(
                f"{row['host']}: ECS instance {row['instance_id']} is {row['status']}; AssociateHaVip takes only "
                "Running or Stopped instances"
            )
    vswitch_id = vswitch_ids[0] if len(vswitch_ids) == 1 else ""
    vpc_id = known[0]["vpc_id"] if known else ""

    # The HaVip: by ID, else by name in the hosts' vSwitch.
    havip = None
    if settings.get("havip_id"):
        havip = next((item for item in havips if item.get("id") == settings["havip_id"]), None)
        if havip is None:
            errors.append(f"havip_failover_havip_id: there is no HaVip {settings['havip_id']} in the hosts' VPC")
    elif settings.get("name"):
        named = [item for item in havips if item.get("name") == settings["name"] and item.get("vswitch_id") == vswitch_id]
        if len(named) > 1:
            errors.append(
                f"havip_failover_name: {len(named)} HaVips are named {settings['name']!r} in {vswitch_id}; give "
                "havip_failover_havip_id"
            )
        havip = named[0] if len(named) == 1 else None
    else:
        errors.append("havip_failover_name or havip_failover_havip_id is required")
    if havip is not None and vswitch_id and havip.get("vswitch_id") != vswitch_id:
        errors.append(
            f"havip_failover_havip_id: HaVip {havip['id']} is in {havip.get('vswitch_id')}, the hosts in {vswitch_id}; "
            "a HaVip and both of its hosts must be in one vSwitch"
        )
    if havip is not None:
        others = [item for item in havip.get("associated_instances", []) if item not in {r["instance_id"] for r in rows}]
        if others:
            errors.append(
                f"HaVip {havip['id']} is associated with {', '.join(others)}, which is not one of the play's hosts; "
                "remove it with alicloud.eip.havip first (the role never takes a HaVip from another host)"
            )

    # Its address: the HaVip's, else the one asked for, which must be in the vSwitch.
    address = (havip or {}).get("ip_address") or settings.get("ip_address") or ""
    if settings.get("ip_address") and havip is not None and havip.get("ip_address") != settings["ip_address"]:
        errors.append(
            f"havip_failover_ip_address: HaVip {havip['id']} has {havip.get('ip_address')}, not "
            f"{settings['ip_address']}; the address of a HaVip cannot change"
        )
    cidr = next((item.get("cidr_block") for item in vswitches or [] if item.get("id") == vswitch_id), "")
    prefix_length = ipaddress.ip_network(cidr, strict=False).prefixlen if cidr else 32
    if address:
        parsed = _address(address)
        if parsed is None or parsed.version != 4:
            errors.append(f"havip_failover_ip_address: {address!r} is not an IPv4 address (a HaVip is IPv4 only)")
        elif cidr and parsed not in ipaddress.ip_network(cidr, strict=False):
            errors.append(
                f"havip_failover_ip_address: {address} is outside vSwitch {vswitch_id} ({cidr}); give a free address "
                "of that block"
            )
        elif address in {row["primary_ip"] for row in rows}:
            errors.append(f"havip_failover_ip_address: {address} is a host's own primary address; give a free one")
    elif not errors:
        errors.append(
            "havip_failover_ip_address: give the HaVip's address (keepalived on both hosts must know it before the "
            "HaVip exists)"
        )

    # One VRRP router ID per HaVip of the VPC (the tag the role puts on the HaVips it creates).
    if vrid is not None:
        clash = [
            item["id"]
            for item in havips
            if item.get("vpc_id", vpc_id) == vpc_id
            and (havip is None or item.get("id") != havip.get("id"))
            and str((item.get("tags") or {}).get(VRID_TAG, "")) == str(vrid)
        ]
        if clash:
            errors.append(
                f"havip_failover_virtual_router_id: {vrid} is already the VRRP router ID of {', '.join(clash)} in "
                f"VPC {vpc_id}; give another (1-255)"
            )

    # keepalived per host: priority (given, else by play order), unicast source, the other host as peer.
    priorities = []
    for index, row in enumerate(rows):
        value = row["priority"]
        if value in (None, ""):
            value = DEFAULT_PRIORITIES[index] if index < len(DEFAULT_PRIORITIES) else 50
        try:
            value = int(value)
        except (TypeError, ValueError):
            value = -1
        if not 1 <= value <= 254:
            errors.append(f"{row['host']}: havip_failover_priority {row['priority']!r} is not from 1 to 254")
        priorities.append(value)
    if len(priorities) == 2 and priorities[0] == priorities[1]:
        errors.append(
            f"havip_failover_priority: both hosts have {priorities[0]}; give them different priorities so the "
            "election has one winner"
        )
    per_host = {}
    for index, row in enumerate(rows):
        peers = [other["primary_ip"] for other in rows if other is not row and other["primary_ip"]]
        per_host[row["host"]] = {
            "instance_id": row["instance_id"],
            "priority": priorities[index],
            "unicast_src_ip": row["primary_ip"],
            "unicast_peers": peers,
            "interface": row["interface"] or settings.get("interface") or "eth0",
        }
    for name, item in per_host.items():
        item["vips"] = [f"{address}/{prefix_length} dev {item['interface']}"] if address else []
        item["preferred_master"] = bool(priorities) and item["priority"] == max(priorities)
        per_host[name] = item

    tags = dict(settings.get("tags") or {})
    if vrid is not None:
        tags[VRID_TAG] = str(vrid)
    return {
        "errors": errors,
        "warnings": warnings,
        "havip_id": (havip or {}).get("id", ""),
        "create": havip is None,
        "vswitch_id": vswitch_id,
        "vpc_id": vpc_id,
        "ip_address": address,
        "prefix_length": prefix_length,
        "instance_ids": [row["instance_id"] for row in rows],
        "tags": tags,
        "virtual_router_id": vrid,
        "hosts": per_host,
    }


class FilterModule:
    """Filters of the havip_failover role."""

    def filters(self):
        """Filter name -> function."""
        return {"havip_failover_plan": havip_failover_plan}
