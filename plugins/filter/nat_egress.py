# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Filters of the role alicloud.eip.nat_egress (internal): the plan of a run, computed before any change.

The role reads the NAT gateway (nat_gateway_info), every EIP of the account (eip_info) and the private IP of
each ECS instance named in an SNAT entry; ``nat_egress_plan`` turns that and the role's variables into what to
allocate, associate, write into the SNAT table, disassociate and release, plus every reason to refuse the run.
Python rather than Jinja because the checks need loops over entries and sets of addresses that Jinja makes
unreadable, and so that unit tests can cover them.
"""

from __future__ import annotations

import ipaddress
import re

from ansible_collections.alicloud.eip.plugins.module_utils._api.vpc_network import NAT_GATEWAY_EIP_LIMIT
from ansible_collections.alicloud.eip.plugins.module_utils._limits import (
    LimitError,
    check_eip_name,
    check_tags,
    role_eip_settings_errors,
)

TAG_KEY = "nat-egress-gateway"
# A DNAT entry keeps an EIP busy too; the API answers HasBeenUsedByForwardEntry without Force.
DNAT_STATUSES = ("UsedByForwardTable", "UsedByForwardSnatTable")


def _entry_label(index, entry):
    """How messages name an item of nat_egress_snat_entries."""
    name = entry.get("name")
    return f"nat_egress_snat_entries[{index}]" + (f" ({name})" if name else "")


def _eip_label(eip):
    """EIP as messages show it: address (ID)."""
    return f"{eip.get('ip_address')} ({eip.get('allocation_id')})"


def _source_key(entry):
    """The key of an SNAT entry in its table: the vSwitch, or else the CIDR block."""
    return entry.get("source_vswitch_id") or entry.get("source_cidr") or ""


def _allocated_names(prefix, count):
    """Names of the EIPs the role allocates: <prefix>-1 .. <prefix>-count."""
    return [f"{prefix}-{index}" for index in range(1, count + 1)]


def _resolve_given(given, by_id, by_ip, errors):
    """Items of nat_egress_eips as EIP records, split into (present, absent)."""
    present, absent = [], []
    for index, item in enumerate(given or []):
        allocation_id = item.get("allocation_id")
        address = item.get("ip_address")
        if bool(allocation_id) == bool(address):
            errors.append(f"nat_egress_eips[{index}]: give exactly one of allocation_id and ip_address")
            continue
        eip = by_id.get(allocation_id) if allocation_id else by_ip.get(address)
        wanted = item.get("state", "present")
        if eip is None:
            if wanted == "present":
                errors.append(
                    f"nat_egress_eips[{index}]: this account holds no EIP {allocation_id or address} in the region; "
                    "allocate it, recover a released one with alicloud.eip.eip_recover, or remove the item"
                )
            continue
        (present if wanted == "present" else absent).append(eip)
    return present, absent


def _resolve_source(index, entry, instance_ips, errors):
    """(source_vswitch_id, source_cidr) of an item of nat_egress_snat_entries."""
    label = _entry_label(index, entry)
    given = [key for key in ("source_vswitch_id", "source_cidr", "instance_id") if entry.get(key)]
    if len(given) != 1:
        errors.append(f"{label}: give exactly one of source_vswitch_id, source_cidr and instance_id (got {given})")
        return None, None
    if entry.get("source_vswitch_id"):
        return entry["source_vswitch_id"], None
    if entry.get("source_cidr"):
        try:
            return None, str(ipaddress.IPv4Network(entry["source_cidr"], strict=False))
        except ValueError:
            errors.append(f"{label}: source_cidr {entry['source_cidr']!r} is not an IPv4 CIDR block")
            return None, None
    address = instance_ips.get(entry["instance_id"])
    if not address:
        errors.append(
            f"{label}: ECS instance {entry['instance_id']} was not found (no primary ENI in this region); "
            "check instance_id, or give source_cidr"
        )
        return None, None
    return None, f"{address}/32"


def instance_addresses(interfaces):
    """Instance ID -> primary private IP, from the primary ENIs eni_info listed (or a ready mapping)."""
    if isinstance(interfaces, dict):
        return dict(interfaces)
    addresses = {}
    for interface in interfaces or []:
        if interface.get("type", "Primary") == "Primary" and interface.get("instance_id"):
            if interface.get("primary_ip_address"):
                addresses.setdefault(interface["instance_id"], interface["primary_ip_address"])
    return addresses


def _check_source_vswitch(label, vswitch_id, gateway, vswitches, errors):
    """Refuse a new entry whose source vSwitch is unknown, of another VPC, or holds a HaVip (CreateSnatEntry would)."""
    vswitch = vswitches.get(vswitch_id)
    if vswitch is None:
        errors.append(
            f"{label}: there is no vSwitch {vswitch_id} in this region (InvalidVSwitchId.NotFound); give a vSwitch of "
            f"the NAT gateway's VPC {gateway.get('vpc_id')}, or source_cidr"
        )
    elif gateway.get("vpc_id") and vswitch.get("vpc_id") != gateway.get("vpc_id"):
        errors.append(
            f"{label}: vSwitch {vswitch_id} is in VPC {vswitch.get('vpc_id')}, not in the NAT gateway's VPC "
            f"{gateway.get('vpc_id')} (InvalidVSwitchId.NotFound); give a vSwitch of VPC {gateway.get('vpc_id')}"
        )
    elif vswitch.get("havip_ids"):
        errors.append(
            f"{label}: vSwitch {vswitch_id} holds HaVip {', '.join(vswitch['havip_ids'])}, and the API refuses an SNAT "
            "entry whose source vSwitch holds a HaVip (Forbidden.SourceVSwitchId.IncludeHaVip); give the hosts' "
            "addresses as source_cidr or instance_id instead, or delete the HaVip"
        )


def _allocation_errors(settings, gateway_id, names):
    """What alicloud.eip.eip_address would refuse in the EIPs to allocate, by role variable (``_limits``, the
    module's own checks), so that a bad setting stops the run before the first EIP is allocated.  Reads the
    optional ``settings`` keys eip_bandwidth, eip_internet_charge_type, eip_tags and wait_timeout."""
    errors = role_eip_settings_errors(settings, "nat_egress_", whose="the new EIPs", eip_keys="eip_")
    longest = max(names, key=len)
    try:
        check_eip_name(longest)
    except LimitError as error:
        errors.append(
            f"nat_egress_eip_name_prefix: the EIP name {longest[:60]!r}{'...' if len(longest) > 60 else ''} made of it "
            f"(<prefix>-<n>) is refused by alicloud.eip.eip_address ({error}); give a shorter prefix"
        )
    if settings.get("eip_tags") is not None:
        given = dict(settings.get("eip_tags") or {})
        try:
            check_tags({**given, TAG_KEY: gateway_id}, option="nat_egress_eip_tags")
        except LimitError as error:
            note = f" ({len(given)} given, and the role adds {TAG_KEY})" if "tags given" in str(error) else ""
            errors.append(f"{error}{note}")
    return errors


def nat_egress_plan(gateway, eips, settings, instance_results=None, vswitches=None):
    """The plan of one run of the role, with ``errors`` listing every reason to stop before any change.

    ``gateway`` is one item of nat_gateway_info's ``nat_gateways`` (with ``snat_entries``), ``eips`` every EIP of
    the account (eip_info), ``settings`` the role's variables without their prefix, ``instance_results`` maps ECS
    instance IDs to their primary private IP (or is the list of primary ENIs of the role's eni_info task).
    ``vswitches`` (network_info's ``vswitches`` with ``havip_ids``) are the source vSwitches of the entries; when
    given, a new entry whose vSwitch is unknown, of another VPC or holds a HaVip is refused.
    """
    errors = []
    instance_ips = instance_addresses(instance_results)
    gateway_id = gateway["id"]
    by_id = {eip["allocation_id"]: eip for eip in eips}
    by_ip = {eip["ip_address"]: eip for eip in eips}
    on_gateway = {eip["allocation_id"]: eip for eip in gateway.get("eips", [])}

    given_present, given_absent = _resolve_given(settings.get("eips"), by_id, by_ip, errors)

    prefix = settings.get("eip_name_prefix") or f"nat-egress-{gateway_id}"
    count = int(settings.get("eip_count") or 0)
    if count < 0:
        errors.append(f"nat_egress_eip_count must be 0 or more, got {count}")
        count = 0
    names = _allocated_names(prefix, count)
    pattern = re.compile(re.escape(prefix) + r"-(\d+)$")
    ours = [
        eip
        for eip in eips
        if (eip.get("tags") or {}).get(TAG_KEY) == gateway_id and pattern.match(eip.get("name") or "")
    ]
    kept = [eip for eip in ours if eip["name"] in names]
    surplus = [eip for eip in ours if eip["name"] not in names]
    to_allocate = sorted(set(names) - {eip["name"] for eip in kept}, key=lambda name: int(pattern.match(name)[1]))

    if to_allocate:
        errors.extend(_allocation_errors(settings, gateway_id, to_allocate))

    desired = {eip["allocation_id"]: eip for eip in given_present + kept}
    for eip in given_present:
        holder = eip.get("instance_id")
        if holder and holder != gateway_id:
            errors.append(
                f"nat_egress_eips: EIP {_eip_label(eip)} is associated with {holder}; disassociate it first "
                "(this role never moves an EIP off another resource)"
            )

    removing = {eip["allocation_id"]: eip for eip in given_absent + surplus if eip["allocation_id"] in on_gateway}
    if settings.get("purge_eips"):
        removing.update({key: eip for key, eip in on_gateway.items() if key not in desired})
    for key in desired:
        removing.pop(key, None)

    associate = [key for key in desired if key not in on_gateway]
    new_count = len(associate) + len(to_allocate)
    final_count = len(set(on_gateway) | set(desired)) + len(to_allocate) - len(removing)
    limit = gateway.get("eip_limit") or NAT_GATEWAY_EIP_LIMIT
    if final_count > limit:
        errors.append(
            f"NAT gateway {gateway_id} would hold {final_count} EIPs, more than its limit of {limit} (it holds "
            f"{len(on_gateway)}; nat_egress_eips names {len(given_present)}, nat_egress_eip_count asks for {count}). "
            "Lower nat_egress_eip_count or shorten nat_egress_eips, drop EIPs with state: absent or "
            "nat_egress_purge_eips: true, or raise the gateway's EIP quota with Alibaba Cloud"
        )
    free = gateway.get("vswitch_free_ips")
    if gateway.get("consumes_vswitch_ip") and free is not None and new_count > free:
        errors.append(
            f"NAT gateway {gateway_id} takes a private IP of its vSwitch {gateway.get('vswitch_id')} for every EIP "
            f"(gateways created since 2022-09-19); {new_count} more EIPs need {new_count} free addresses and the "
            f"vSwitch has {free}. Free addresses in {gateway.get('vswitch_id')} (release unused ENIs, secondary "
            "private IPs or HaVips) or lower nat_egress_eip_count / shorten nat_egress_eips"
        )

    references = {}
    for eip in desired.values():
        for key in (eip["allocation_id"], eip["ip_address"], eip.get("name")):
            if key:
                references[key] = eip["allocation_id"]
    for name in to_allocate:
        references[name] = name  # resolved to an address after the allocation

    entries = []
    managed = set()
    for index, entry in enumerate(settings.get("snat_entries") or []):
        vswitch_id, cidr = _resolve_source(index, entry, instance_ips, errors)
        state = entry.get("state", "present")
        if vswitch_id is None and cidr is None:
            continue
        key = vswitch_id or cidr
        if key in managed:
            errors.append(f"{_entry_label(index, entry)}: a second entry for the source {key}")
            continue
        managed.add(key)
        existing = any(
            found.get("source_vswitch_id") == vswitch_id and found.get("status") != "Deleting"
            for found in gateway.get("snat_entries", [])
        )
        if vswitch_id and state == "present" and vswitches is not None and not existing:
            before = len(errors)
            _check_source_vswitch(
                _entry_label(index, entry), vswitch_id, gateway, {item["id"]: item for item in vswitches}, errors
            )
            if len(errors) > before:
                continue
        refs = entry.get("eips")
        if refs is None:
            refs = list(desired) + to_allocate
        unknown = [ref for ref in refs if ref not in references]
        if unknown and state == "present":
            errors.append(
                f"{_entry_label(index, entry)}: {', '.join(unknown)} is not among the EIPs this role puts on the "
                f"gateway (nat_egress_eips, or the names {prefix}-1..{count} of nat_egress_eip_count)"
            )
            continue
        if state == "present" and not refs:
            errors.append(f"{_entry_label(index, entry)}: no EIP to translate to; name some in eips")
            continue
        entries.append(
            {
                "name": entry.get("name"),
                "source_vswitch_id": vswitch_id,
                "source_cidr": cidr,
                "refs": sorted({references[ref] for ref in refs}) if state == "present" else [],
                "state": state,
            }
        )

    if settings.get("purge_snat_entries"):
        # Entries of the table that no item names are deleted (before any disassociation), so they block nothing.
        for found in gateway.get("snat_entries", []):
            key = _source_key(found)
            if key and key not in managed:
                managed.add(key)
                entries.append(
                    {
                        "name": found.get("name"),
                        "source_vswitch_id": found.get("source_vswitch_id") or None,
                        "source_cidr": None if found.get("source_vswitch_id") else found.get("source_cidr"),
                        "refs": [],
                        "state": "absent",
                    }
                )

    blocked = []
    for eip in removing.values():
        users = [
            found
            for found in gateway.get("snat_entries", [])
            if _source_key(found) not in managed and eip["ip_address"] in (found.get("snat_ips") or [])
        ]
        uses = [f"SNAT entry {found['id']} (source {_source_key(found)})" for found in users]
        status = on_gateway.get(eip["allocation_id"], {}).get("using_status", "")
        if status in DNAT_STATUSES:
            uses.append("DNAT entries")
        if uses:
            blocked.append(f"{_eip_label(eip)} is used by {', '.join(uses)}")
    if blocked and not settings.get("allow_force"):
        errors.append(
            f"EIPs to take off NAT gateway {gateway_id} are still in use by entries this role does not manage: "
            f"{'; '.join(blocked)}. Set nat_egress_allow_force: true to disassociate them anyway (the API's Force: "
            "those entries lose the address), or remove the address from those entries first"
        )

    return {
        "errors": errors,
        "gateway_id": gateway_id,
        "tag_key": TAG_KEY,
        "allocate": names,
        "to_allocate": to_allocate,
        "desired": sorted(desired.values(), key=lambda eip: ipaddress.IPv4Address(eip["ip_address"])),
        "associate": associate,
        "snat_entries": entries,
        "disassociate": sorted(removing.values(), key=lambda eip: eip["allocation_id"]),
        "force": bool(blocked) and bool(settings.get("allow_force")),
        "release": sorted(eip["allocation_id"] for eip in surplus if settings.get("release", True)),
        "final_count": final_count,
        "on_gateway": sorted(on_gateway),
    }


def nat_egress_resolve(plan, allocated):
    """The EIPs of the gateway after allocation, and each SNAT entry's ``snat_ips`` as addresses.

    ``allocated`` is the list of ``eip`` results of the allocation loop (dicts with name, allocation_id,
    ip_address; an EIP only predicted in check mode has no address and is left out).
    """
    by_name = {eip.get("name"): eip for eip in allocated if eip.get("allocation_id")}
    eips = {eip["allocation_id"]: eip for eip in plan["desired"]}
    for name in plan["allocate"]:
        eip = by_name.get(name)
        if eip and eip.get("ip_address"):
            eips[eip["allocation_id"]] = eip
    address_of = {key: eip["ip_address"] for key, eip in eips.items()}
    address_of.update({name: eip["ip_address"] for name, eip in by_name.items() if eip.get("ip_address")})
    entries = []
    for entry in plan["snat_entries"]:
        addresses = sorted({address_of[ref] for ref in entry["refs"] if ref in address_of}, key=ipaddress.IPv4Address)
        if entry["state"] == "present" and not addresses:
            continue  # check mode: only EIPs not allocated yet
        entries.append(dict(entry, snat_ips=addresses))
    ordered = sorted(eips.values(), key=lambda eip: ipaddress.IPv4Address(eip["ip_address"]))
    gateway = {"instance_id": plan["gateway_id"], "instance_type": "Nat"}
    return {
        "eips": ordered,
        "associations": [
            dict(gateway, allocation_id=eip["allocation_id"])
            for eip in ordered
            if eip["allocation_id"] not in plan["on_gateway"]
        ],
        "snat_entries": entries,
        "disassociations": [dict(gateway, allocation_id=eip["allocation_id"]) for eip in plan["disassociate"]],
        "ips": [eip["ip_address"] for eip in ordered],
    }


def nat_egress_source_vswitches(snat_entries):
    """The source vSwitches of the items of nat_egress_snat_entries that are to be present, each once."""
    found = []
    for entry in snat_entries or []:
        vswitch_id = entry.get("source_vswitch_id")
        if vswitch_id and entry.get("state", "present") == "present" and vswitch_id not in found:
            found.append(vswitch_id)
    return found


class FilterModule:
    """Filters of the nat_egress role."""

    def filters(self):
        """Filter name -> function."""
        return {
            "nat_egress_plan": nat_egress_plan,
            "nat_egress_resolve": nat_egress_resolve,
            "nat_egress_source_vswitches": nat_egress_source_vswitches,
        }
