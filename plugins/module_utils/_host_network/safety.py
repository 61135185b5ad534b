# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note: this module util is PRIVATE to the collection. It can change at any time; do not use it from
# other collections or standalone plugins/modules.

"""The host never loses its way out: refusals before any change (egress, shadowing, foreign tables and rules,
the connection Ansible uses) and, after a rollback, the routes to put back exactly as they were."""

from __future__ import annotations

import ipaddress

from ansible_collections.alicloud.eip.plugins.module_utils._host_network.model import (
    MAIN_TABLE,
    Eni,
    Rule,
    eni_tables,
    rule_text,
    table_number,
)


def foreign_table_users(desired: dict, observed: dict, enis: list[Eni]) -> list[str]:
    """Problems with tables that something else already uses (a route in the table on another device)."""
    device_of_table = {table: eni.device for eni in enis for table in eni_tables(eni)}
    problems = []
    for route in observed["routes"]:
        owner = device_of_table.get(route.table)
        if owner is not None and route.dev != owner:
            problems.append(
                f"table {route.table} (for {owner}) already holds a route that is not ours: {route.dst} dev {route.dev}; "
                f"set 'table' for that ENI to an unused number"
            )
    return problems


def _is_own_rule(rule: Rule) -> bool:
    """Whether a rule has the one shape this module writes into its tables: ``from <address>/32 lookup T priority T``."""
    return rule.priority == rule.table and rule.dst is None and bool(rule.src) and rule.src.endswith("/32")


def foreign_rule_users(desired: dict, observed: dict) -> list[str]:
    """Problems with rules that look up one of the module's tables but are not of the shape the module writes.

    The module owns every rule ``from <address>/32 lookup T priority T`` in its tables (stale ones are deleted);
    any other rule that looks one up (another priority, a destination, a subnet, fwmark, iif...) belongs to
    something else that uses the table, and is refused instead of deleted.
    """
    tables = set(desired["tables"])
    owners = desired.get("table_owners", {})
    found = [
        (rule.table, rule_text(rule)) for rule in observed["rules"] if rule.table in tables and not _is_own_rule(rule)
    ]
    found += [(item["table"], item["text"]) for item in observed.get("other_rules", []) if item["table"] in tables]
    problems = []
    for table, text in found:
        who, option = owners.get(table, ("this module", "interfaces[].table"))
        problems.append(
            f"the rule '{text}' is not one this module writes, but looks up table {table}, which {who} would use: "
            f"something else uses that table; set {option} of {who} to a number nothing else uses, or remove that rule"
        )
    return problems


def _route_identity(route: dict) -> tuple | None:
    """What tells one ``ip -j route`` entry from another (None for a route that is not an IPv4 unicast route)."""
    if route.get("type", "unicast") != "unicast":
        return None
    table = table_number(route.get("table"))
    if table is None or table == 255:
        return None
    dst = route.get("dst", "default")
    dst = (
        "default" if dst in ("default", "0.0.0.0/0") else str(ipaddress.IPv4Network(dst if "/" in dst else f"{dst}/32"))
    )
    hops = tuple(
        (hop.get("gateway"), hop.get("dev"), hop.get("weight", 1), "onlink" in hop.get("flags", []))
        for hop in route.get("nexthops") or []
    )
    scope = route.get("scope") if route.get("scope") not in ("global", "universe") else None
    return (
        table,
        dst,
        route.get("tos"),
        int(route.get("metric") or 0),
        route.get("dev"),
        route.get("gateway"),
        route.get("protocol"),
        scope,
        route.get("prefsrc"),
        "onlink" in route.get("flags", []),
        hops,
    )


def restore_route_argv(route: dict) -> list[str]:
    """``ip -4 route replace`` that puts back one ``ip -j route`` entry exactly (gateway, protocol, scope, source,
    metric, onlink, next hops, table), whether it is gone or was changed."""
    identity = _route_identity(route)
    table, dst = identity[0], identity[1]
    argv = ["ip", "-4", "route", "replace", dst]
    if route.get("tos"):
        argv += ["tos", str(route["tos"])]
    if not route.get("nexthops"):
        if route.get("gateway"):
            argv += ["via", route["gateway"]]
        argv += ["dev", route["dev"]]
        if "onlink" in route.get("flags", []):
            argv.append("onlink")
    if route.get("protocol"):
        argv += ["proto", str(route["protocol"])]
    if route.get("scope") and route["scope"] not in ("global", "universe"):
        argv += ["scope", str(route["scope"])]
    if route.get("prefsrc"):
        argv += ["src", route["prefsrc"]]
    if route.get("metric"):
        argv += ["metric", str(route["metric"])]
    argv += ["table", str(table)]
    # ip reads next hops up to the end of the line, so they come last.
    for hop in route.get("nexthops") or []:
        argv.append("nexthop")
        if hop.get("gateway"):
            argv += ["via", hop["gateway"]]
        argv += ["dev", hop["dev"], "weight", str(hop.get("weight", 1))]
        if "onlink" in hop.get("flags", []):
            argv.append("onlink")
    return argv


def routes_to_restore(before: list[dict], after: list[dict], tables: set[int], devices: set[str]) -> list[list[str]]:
    """``ip route replace`` argument lists for the routes that ``before`` had and ``after`` lacks (or has in
    another form).

    Taken before applying and compared after a rollback's undo steps: removing an address makes the kernel delete
    every route whose source is that address (the main default route of a DHCP lease, say), and no undo step
    brings those back; an undo step also re-adds a removed route from the parsed state, without its original
    protocol.  Considered: every IPv4 unicast route in the main table or in ``tables``, and every route on one of
    ``devices``.  Routes without a gateway come first, so that a gateway route finds its link route.
    """
    present = {_route_identity(route) for route in after}
    missing = []
    for route in before:
        identity = _route_identity(route)
        if identity is None or identity in present:
            continue
        on_device = route.get("dev") in devices or any(hop.get("dev") in devices for hop in route.get("nexthops") or [])
        if identity[0] in tables or identity[0] == MAIN_TABLE or on_device:
            missing.append(route)
            present.add(identity)
    missing.sort(key=lambda route: bool(route.get("gateway") or route.get("nexthops")))
    return [restore_route_argv(route) for route in missing]


def connection_problems(enis: list[Eni], observed: dict, connection_address: str | None) -> list[str]:
    """Why the plan would touch the interface Ansible connects through (empty when it would not)."""
    if not connection_address:
        return []
    problems = []
    for eni in enis:
        if eni.primary:
            continue
        here = {item.split("/")[0] for item in observed["addresses"].get(eni.device, [])}
        wanted = set(eni.addresses) | {a for group in eni.eip_groups for a in group.addresses}
        if connection_address in here | wanted:
            problems.append(
                f"Ansible connects through {connection_address} on {eni.device} (ENI {eni.mac}); configuring that ENI "
                "adds source rules and may remove addresses on the interface this session depends on"
            )
    return problems


def main_egress(observed: dict) -> dict[str, str]:
    """Devices that carry the route this host uses to leave -> that route, as text.

    The route is the main table's default route with the lowest metric (every next hop of it, and every one of
    equal metric); the devices are those of its next hops and the one holding its source address (``src``).
    Removing an address from such a device makes the kernel drop the default route (a route whose ``src`` is gone
    is deleted), so these devices are never purged nor configured as secondary ENIs.
    """
    defaults = observed.get("main_defaults")
    if defaults is None:
        defaults = [
            {"dev": route.dev, "gateway": route.gateway, "prefsrc": route.src, "metric": 0}
            for route in observed["routes"]
            if route.table == MAIN_TABLE and route.dst == "default"
        ]
    if not defaults:
        return {}
    best = min(item["metric"] for item in defaults)
    egress: dict[str, str] = {}
    sources = {}
    for item in defaults:
        if item["metric"] != best:
            continue
        text = "default" + (f" via {item['gateway']}" if item["gateway"] else "") + f" dev {item['dev']}"
        text += (f" src {item['prefsrc']}" if item["prefsrc"] else "") + (f" metric {best}" if best else "")
        if item["dev"]:
            egress.setdefault(item["dev"], f"main table: {text}")
        if item["prefsrc"]:
            sources[item["prefsrc"]] = text
    for device, cidrs in sorted(observed["addresses"].items()):
        for cidr in cidrs:
            if cidr.split("/")[0] in sources:
                egress.setdefault(
                    device, f"it holds {cidr.split('/')[0]}, the source of main table: {sources[cidr.split('/')[0]]}"
                )
    return egress


def egress_problems(enis: list[Eni], observed: dict, primary_mac: str | None = None) -> list[str]:
    """Why a secondary ENI would be configured on a device that carries the route the host uses to leave.

    A secondary ENI's other addresses are removed, and its addresses get source rules into its own table: on the
    device of the main default route that takes the host's way out away (it happens when ``primary_mac`` or the
    metadata's ``mac`` names the wrong ENI).  Refused whatever ``allow_primary_changes`` says.
    """
    egress = main_egress(observed)
    problems = []
    for eni in enis:
        if eni.primary or eni.device not in egress:
            continue
        problems.append(
            f"ENI {eni.mac} ({eni.device}) carries the route this host uses to leave ({egress[eni.device]}), so it can "
            f"only be configured as the primary ENI, but the primary ENI is {primary_mac or 'another one'}: check "
            "primary_mac (or the metadata's mac); if the default route should not leave through it, fix the main "
            "table first"
        )
    return problems


def shadowing_problems(enis: list[Eni], observed: dict) -> list[str]:
    """Why a secondary ENI's ``cidr`` would shadow the main table's routes for the primary's subnet and beyond.

    The ENI's first address gets the prefix of its ``cidr``, so the kernel adds ``<cidr> dev <eni>`` to the main
    table.  vSwitches of one VPC never overlap: a secondary ENI's vSwitch block is either the primary's subnet (same
    vSwitch, legitimate: the primary's equal route keeps winning) or disjoint from it.  A block that contains the
    primary's subnet (the VPC's block given instead of the vSwitch's, say) would send the rest of that range out of
    the secondary ENI instead of through the main default route; one inside it would take part of the primary's
    subnet away.  Both are refused.  Protected: the primary ENI's subnet and the connected routes of the main table
    on the devices that carry the default route.
    """
    egress = main_egress(observed)
    protected: dict[ipaddress.IPv4Network, str] = {}
    for eni in enis:
        if eni.primary:
            protected[ipaddress.IPv4Network(eni.network)] = f"the subnet of the primary ENI {eni.mac} ({eni.device})"
    for route in observed["routes"]:
        if route.table == MAIN_TABLE and route.dst != "default" and not route.gateway and route.dev in egress:
            network = ipaddress.IPv4Network(route.dst)
            if network.prefixlen < 32:
                protected.setdefault(network, f"the subnet of {route.dev}, which carries the main default route")
    problems = []
    for eni in enis:
        if eni.primary:
            continue
        network = ipaddress.IPv4Network(eni.network)
        for other, what in sorted(protected.items(), key=lambda item: str(item[0])):
            if network == other or not network.overlaps(other):
                continue
            relation = "contains" if network.supernet_of(other) else "lies inside"
            problems.append(
                f"ENI {eni.mac} ({eni.device}): cidr {network} {relation} {other}, {what}; the route {network} dev "
                f"{eni.device} it would add to the main table would send traffic for {other if relation == 'lies inside' else network} "
                f"out of {eni.device} instead of the way the host leaves now. Set interfaces[].cidr (or fix the "
                f"metadata's vswitch-cidr-block) to that ENI's vSwitch CIDR block, which is {other} itself (same vSwitch) "
                "or does not overlap it"
            )
    return problems


def main_default_device(observed: dict) -> str | None:
    """The device of the main table's default route that the kernel uses: the first one listed (the FIB keeps
    routes of one prefix ordered by metric)."""
    for route in observed["routes"]:
        if route.table == MAIN_TABLE and route.dst == "default":
            return route.dev
    return None
