# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Filter of the playbook alicloud.eip.cleanup (the janitor): what to delete, in which order, and what to leave.

The playbook lists the account's EIPs (eip_info), ENIs (eni_info) and NAT gateways with their SNAT entries
(nat_gateway_info); ``cleanup_plan`` picks the resources in scope (every tag of ``cleanup_tags``, and/or the tag
``cleanup_tag_key`` whose value starts with ``cleanup_tag_prefix``; at least ``cleanup_older_than`` old) and orders
their removal the way the API's dependencies require: SNAT entries that use the EIPs -> EIP associations (ECS, ENI,
NAT gateway, CLB, HaVip, IP address) -> ENIs (detached, then deleted) -> EIPs (released).  Anything that would
make the janitor touch a resource outside the scope (an SNAT entry that also uses an untagged EIP, an ENI that holds
an untagged EIP, an EIP used by DNAT entries) is left alone, with the reason, together with everything that depends
on it.  Python rather than Jinja so that unit tests cover every rule.
"""

from __future__ import annotations

import datetime
import re
import time

_DURATION = re.compile(r"^\s*(\d+)\s*([smhd]?)\s*$")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(value):
    """Seconds of ``value``: an integer (seconds) or a text such as ``90s``, ``20m``, ``2h``, ``1d``; None if invalid."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    match = _DURATION.match(str(value))
    if not match:
        return None
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def parse_time(value):
    """Epoch seconds of an API time (``2026-11-20T08:00:00Z``, with or without seconds) or of a Unix-time text."""
    text = str(value or "").strip()
    if not text:
        return None
    if re.match(r"^\d+(\.\d+)?$", text):
        return float(text)
    for layout in ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%MZ", "%Y-%m-%dT%H:%M:%S.%fZ"):
        try:
            moment = datetime.datetime.strptime(text, layout)
        except ValueError:
            continue
        return moment.replace(tzinfo=datetime.UTC).timestamp()
    return None


def _scope_errors(settings):
    """Reasons to refuse the run before anything is listed as deletable, each naming the variable and the fix."""
    errors = []
    tags = settings.get("tags")
    prefix = settings.get("tag_prefix") or ""
    if tags is not None and not isinstance(tags, dict):
        errors.append(f"cleanup_tags must be a mapping of tag key to value (got {type(tags).__name__}).")
    elif isinstance(tags, dict):
        for key, value in tags.items():
            if isinstance(value, (dict, list)) or value is None:
                errors.append(f"cleanup_tags[{key!r}] must be a text value (got {value!r}).")
    if not isinstance(prefix, str):
        errors.append(f"cleanup_tag_prefix must be a text (got {type(prefix).__name__}).")
    elif prefix and not str(settings.get("tag_key") or "").strip():
        errors.append("cleanup_tag_key is empty: name the tag whose value must start with cleanup_tag_prefix.")
    if not (isinstance(tags, dict) and tags) and not (isinstance(prefix, str) and prefix.strip()):
        errors.append(
            "no scope given: set cleanup_tags (tags every resource to delete carries, e.g. "
            "{'ansible-test': 'ci-1234'}) and/or cleanup_tag_prefix (the start of the value of the tag "
            "cleanup_tag_key); the janitor never acts on untagged resources or on the whole account."
        )
    if parse_duration(settings.get("older_than", 0)) is None:
        errors.append(
            f"cleanup_older_than={settings.get('older_than')!r} is not a duration: give seconds or a number with "
            "s, m, h or d (e.g. 20m)."
        )
    max_resources = settings.get("max_resources", 50)
    if isinstance(max_resources, bool) or not str(max_resources).isdigit() or int(max_resources) < 1:
        errors.append(f"cleanup_max_resources={max_resources!r} must be a positive integer.")
    return errors


def _in_scope(tags, settings):
    """Whether a resource with ``tags`` is in the janitor's scope (every cleanup tag, and the prefix when given)."""
    tags = tags or {}
    for key, value in (settings.get("tags") or {}).items():
        if str(tags.get(key, "")) != str(value) or key not in tags:
            return False
    prefix = settings.get("tag_prefix") or ""
    if prefix:
        value = tags.get(settings.get("tag_key") or "")
        if value is None or not str(value).startswith(prefix):
            return False
    return True


def _age_reason(created_field, tags, settings, now):
    """Why a resource in scope is too young (or of unknown age) to delete; None when it is old enough.

    The age counts from the NEWEST of the cloud's creation time and the creation tag: a resource counts as old only
    when every time known about it is old, so a wrong or missing tag never makes a fresh resource deletable.
    """
    older_than = parse_duration(settings.get("older_than", 0)) or 0
    if older_than == 0:
        return None
    created_tag = settings.get("created_tag") or "created"
    known = [moment for moment in (parse_time(created_field), parse_time((tags or {}).get(created_tag))) if moment]
    if not known:
        return f"age unknown (no creation time, no {created_tag!r} tag) with cleanup_older_than={older_than}s"
    age = now - max(known)
    if age < older_than:
        return f"created {int(age)}s ago, younger than cleanup_older_than={older_than}s"
    return None


def _snat_key(entry):
    """The options of alicloud.eip.snat_entry that find ``entry`` (by source vSwitch, else by CIDR)."""
    key = {"nat_gateway_id": entry.get("nat_gateway_id"), "snat_table_id": entry.get("snat_table_id")}
    if entry.get("source_vswitch_id"):
        key["source_vswitch_id"] = entry["source_vswitch_id"]
    else:
        key["source_cidr"] = entry.get("source_cidr")
    return key


def cleanup_plan(eips, enis=None, nat_gateways=None, settings=None):
    """The janitor's plan for the listed resources; see the module docstring and ``cleanup_plan.yml``."""
    settings = dict(settings or {})
    plan = {
        "errors": _scope_errors(settings),
        "snat_entries": [],
        "eip_associations": [],
        "enis": [],
        "eips": [],
        "skipped": [],
        "actions": [],
        "count": 0,
    }
    if plan["errors"]:
        return plan
    now = float(settings["now"]) if settings.get("now") is not None else time.time()

    def skip(resource, reason):
        plan["skipped"].append({"resource": resource, "reason": reason})

    # EIPs in scope and old enough, by allocation ID; those that must stay are removed below with their reason.
    candidates = {}
    for eip in eips or []:
        if not _in_scope(eip.get("tags"), settings):
            continue
        reason = _age_reason(eip.get("allocation_time"), eip.get("tags"), settings, now)
        if reason:
            skip(eip["allocation_id"], reason)
            continue
        candidates[eip["allocation_id"]] = eip
    by_address = {eip.get("ip_address"): allocation_id for allocation_id, eip in candidates.items()}

    def drop(allocation_id, reason):
        if allocation_id in candidates:
            skip(allocation_id, reason)
            del candidates[allocation_id]

    # SNAT entries: deleted when every address they use is a candidate EIP; an entry that also uses another address
    # stays, and so do its candidate EIPs (taking them off the gateway would change that entry).  An EIP used by
    # DNAT entries stays too: the collection manages no DNAT entries.
    entries = []
    for gateway in nat_gateways or []:
        for bound in gateway.get("eips") or []:
            if "UsedByForwardTable" in str(bound.get("using_status") or ""):
                drop(by_address.get(bound.get("ip_address")), f"used by DNAT entries of {gateway.get('id')}")
        for entry in gateway.get("snat_entries") or []:
            if any(address in by_address for address in entry.get("snat_ips") or []):
                entries.append(entry)
    # An entry that stays keeps its candidate EIPs, which may make another entry stay: repeat until nothing moves.
    kept = {}
    moved = True
    while moved:
        moved = False
        for entry in entries:
            if entry.get("id") in kept:
                continue
            addresses = list(entry.get("snat_ips") or [])
            outside = [address for address in addresses if address not in by_address]
            staying = [
                address for address in addresses if address in by_address and by_address[address] not in candidates
            ]
            if outside:
                reason = f"SNAT entry {entry.get('id')} also uses {', '.join(outside)}, outside the scope"
            elif staying:
                reason = f"SNAT entry {entry.get('id')} also uses {', '.join(staying)}, which stays"
            elif not entry.get("source_vswitch_id") and not entry.get("source_cidr"):
                reason = (
                    f"SNAT entry {entry.get('id')} has an ENI as its source, which alicloud.eip.snat_entry cannot name"
                )
            else:
                continue
            kept[entry.get("id")] = reason
            moved = True
            for address in addresses:
                if address in by_address:
                    drop(by_address[address], reason)
    for entry in entries:
        if entry.get("id") in kept:
            skip(entry.get("id"), kept[entry.get("id")])
            continue
        plan["snat_entries"].append(_snat_key(entry) | {"id": entry.get("id"), "snat_ips": entry.get("snat_ips")})
        plan["actions"].append(
            f"delete SNAT entry {entry.get('id')} of {entry.get('nat_gateway_id')} ({', '.join(entry['snat_ips'])})"
        )

    # ENIs: deleted when in scope, old enough, secondary, and every EIP on them is a candidate.
    for eni in enis or []:
        if not _in_scope(eni.get("tags"), settings):
            continue
        reason = _age_reason(eni.get("creation_time"), eni.get("tags"), settings, now)
        if not reason and eni.get("type") == "Primary":
            reason = f"primary ENI of {eni.get('instance_id')}: it goes only with the instance"
        if not reason and eni.get("status") == "Deleting":
            reason = "already being deleted"
        held = [public.get("allocation_id") for public in eni.get("associated_public_ips") or []]
        foreign = [allocation_id or "a fixed public IP" for allocation_id in held if allocation_id not in candidates]
        if not reason and foreign:
            reason = f"holds {', '.join(foreign)}, which stays"
        if reason:
            skip(eni["id"], reason)
            continue
        plan["enis"].append({"id": eni["id"], "instance_id": eni.get("instance_id") or ""})

    for allocation_id, eip in candidates.items():
        if eip.get("instance_id"):
            # The holder is named too: an EIP that has moved elsewhere since the listing is left alone by the module.
            association = {"allocation_id": allocation_id, "instance_id": eip["instance_id"]}
            if eip.get("instance_type"):
                association["instance_type"] = eip["instance_type"]
            plan["eip_associations"].append(association)
            plan["actions"].append(
                f"disassociate EIP {allocation_id} ({eip.get('ip_address')}) from {eip['instance_id']}"
                f" ({eip.get('instance_type')})"
            )
    for eni in plan["enis"]:
        detach = f"detach ENI {eni['id']} from {eni['instance_id']} and delete it" if eni["instance_id"] else ""
        plan["actions"].append(detach or f"delete ENI {eni['id']}")
    for allocation_id, eip in candidates.items():
        plan["eips"].append({"allocation_id": allocation_id, "ip_address": eip.get("ip_address")})
        plan["actions"].append(f"release EIP {allocation_id} ({eip.get('ip_address')})")

    plan["count"] = len(plan["snat_entries"]) + len(plan["enis"]) + len(plan["eips"])
    max_resources = int(settings.get("max_resources", 50))
    if plan["count"] > max_resources:
        plan["errors"].append(
            f"the scope selects {plan['count']} resources to delete, more than cleanup_max_resources={max_resources}:"
            " narrow cleanup_tags / cleanup_tag_prefix / cleanup_older_than, or raise cleanup_max_resources."
        )
    return plan


class FilterModule:
    """Filters of the playbook alicloud.eip.cleanup."""

    def filters(self):
        """Filter name -> function."""
        return {"cleanup_plan": cleanup_plan}
