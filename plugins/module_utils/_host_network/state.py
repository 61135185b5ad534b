# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note: this module util is PRIVATE to the collection. It can change at any time; do not use it from
# other collections or standalone plugins/modules.

"""Runtime state: what the ENIs need (``desired_state``), what the host has (``observed_state``, parsed from
``ip -j``), and the ordered ``ip`` changes between the two, each with its undo (``plan_changes``)."""

from __future__ import annotations

import ipaddress
from typing import Any

from ansible_collections.alicloud.eip.plugins.module_utils._host_network.inventory import (
    combine_entries,
    links_by_mac,
)
from ansible_collections.alicloud.eip.plugins.module_utils._host_network.model import (
    INTERNAL_RANGE,
    INTERNAL_RULE_PRIORITY,
    MAIN_TABLE,
    TABLE_SLOT,
    Eni,
    HostNetworkError,
    Route,
    Rule,
    eni_tables,
    is_internal_rule,
    normalize_mac,
    route_argv,
    route_key,
    route_text,
    rule_argv,
    rule_key,
    rule_text,
    table_for_mac,
    table_number,
)


def _shared_subnet_devices(enis: list[Eni]) -> set[str]:
    """Devices on a subnet that another configured ENI shares (ARP flux, host-networking.md §5.2)."""
    count: dict[str, list[str]] = {}
    for eni in enis:
        count.setdefault(eni.network, []).append(eni.device)
    return {device for devices in count.values() if len(devices) > 1 for device in devices}


def desired_state(
    enis: list[Eni],
    rp_filter: int = 2,
    arp_tuning: bool = True,
    primary_sysctls: bool = False,
    keep: tuple[str, ...] = (),
) -> dict:
    """Addresses per device, routes, rules and sysctls that the ENIs need.

    ``primary_sysctls`` allows ARP settings on the primary ENI (an opt-in: it is the interface the instance and
    usually Ansible depend on).  Returns ``{"addresses": {dev: [cidr, ...]}, "routes": [Route], "rules": [Rule],
    "sysctls": {"net/ipv4/conf/<dev>/<key>": value}, "links": [dev], "tables": [int], "purge": [dev],
    "keep": [cidr]}``; ``purge`` lists the devices whose other IPv4 addresses are removed (secondary ENIs only),
    except those inside a ``keep`` block (``keep_addresses``: runtime-owned, such as a keepalived VIP).
    """
    addresses: dict[str, list[str]] = {}
    routes: list[Route] = []
    rules: list[Rule] = []
    sysctls: dict[str, str] = {}
    links: list[str] = []
    purge: list[str] = []
    shared = _shared_subnet_devices(enis) if arp_tuning else set()
    for eni in sorted(enis, key=lambda item: item.mac):
        prefix = ipaddress.IPv4Network(eni.network).prefixlen
        if eni.primary:
            # The primary keeps what DHCP gave it; only secondary private IPs are added, as /32 so that they
            # bring no second prefix route and are never picked as the default source.
            addresses[eni.device] = [f"{address}/32" for address in eni.addresses[1:]]
        else:
            links.append(eni.device)
            purge.append(eni.device)
            first = eni.addresses[0]
            addresses[eni.device] = [f"{first}/{prefix}"] + [f"{address}/32" for address in eni.addresses[1:]]
            routes.append(Route(eni.table, eni.network, eni.device, scope="link", src=first))
            routes.append(Route(eni.table, "default", eni.device, gateway=eni.gateway))
            rules.extend(Rule(eni.table, eni.table, src=f"{address}/32") for address in eni.addresses)
            for group in eni.eip_groups:
                addresses[eni.device].extend(f"{address}/32" for address in group.addresses)
                routes.append(Route(group.table, group.network, eni.device, scope="link", src=group.addresses[0]))
                routes.append(Route(group.table, "default", eni.device, gateway=group.gateway))
                rules.extend(Rule(group.table, group.table, src=f"{address}/32") for address in group.addresses)
            sysctls[f"net/ipv4/conf/{eni.device}/rp_filter"] = str(rp_filter)
        if eni.device in shared and (not eni.primary or primary_sysctls):
            sysctls[f"net/ipv4/conf/{eni.device}/arp_ignore"] = "1"
            sysctls[f"net/ipv4/conf/{eni.device}/arp_announce"] = "2"
    if any(eni.mode == "cut_through" for eni in enis):
        rules.append(Rule(INTERNAL_RULE_PRIORITY, MAIN_TABLE, dst=INTERNAL_RANGE))
    tables = sorted({table for eni in enis for table in eni_tables(eni)})
    owners = {
        table: (f"ENI {eni.mac} ({eni.device})", "interfaces[].table") for eni in enis for table in eni_tables(eni)
    }
    return {
        "addresses": addresses,
        "routes": routes,
        "rules": rules,
        "sysctls": sysctls,
        "links": links,
        "tables": tables,
        "purge": purge,
        "table_owners": owners,
        "keep": list(keep),
    }


def add_absent_interfaces(
    desired: dict,
    absent: list[dict],
    enis: list[Eni],
    links: list[dict],
    primary_mac: str | None = None,
    egress: dict[str, str] | None = None,
    explicit: list[dict] | None = None,
) -> list[str]:
    """Extend ``desired`` so that the plan removes what ENIs that are gone (detached, deleted) left behind.

    The kernel drops an ENI's addresses and routes with its NIC, not the rules ``from <address> lookup <table>``:
    each absent ENI's whole table slot (its table, or the one derived from its MAC, plus the multi-EIP group
    tables after it) becomes "ours", so ``plan_changes`` deletes every rule and route left in it.  A NIC with that
    MAC that is still present gets its IPv4 addresses removed.  Tables a configured ENI uses are never touched.
    The primary ENI's MAC and a NIC that carries the route the host uses to leave (``egress``, from
    ``main_egress``) are refused: removing their addresses makes the kernel drop the main default route.
    Entries of one MAC (however spelled) are combined when they agree and refused when they disagree; a MAC that
    is also an ENI to configure is refused, naming its entry of ``explicit`` (the ``interfaces`` option) if it has
    one, else the metadata that still reports it.  Returns the devices found still present.
    """
    configured_macs = {eni.mac for eni in enis}
    in_use = {table for eni in enis for table in eni_tables(eni)}
    devices = links_by_mac(links)
    tables = set(desired["tables"])
    owners = desired.setdefault("table_owners", {})
    present = []
    # One pass per MAC however often (and however spelled) it is listed; entries that disagree are refused.
    combined = combine_entries(absent, "absent_interfaces")
    positions: dict[str, int] = {}
    for index, item in enumerate(absent):
        positions.setdefault(normalize_mac(item.get("mac")), index)
    for mac, item in combined.items():
        index = positions[mac]
        if primary_mac and mac == normalize_mac(primary_mac):
            raise HostNetworkError(
                f"absent_interfaces lists {mac}, the primary ENI's MAC: the primary ENI is never unconfigured (its "
                "addresses carry the route this host uses to leave); remove it from absent_interfaces"
            )
        if mac in configured_macs:
            given = [i for i, entry in enumerate(explicit or []) if normalize_mac(entry.get("mac")) == mac]
            if given:
                raise HostNetworkError(
                    f"ENI {mac} is listed as absent and as an interface to configure (absent_interfaces[{index}] and "
                    f"interfaces[{given[0]}]); an ENI is either configured or absent: remove it from one of the two lists"
                )
            raise HostNetworkError(
                f"ENI {mac} is listed as absent and as an interface to configure (absent_interfaces[{index}], and the "
                "metadata still reports it attached): remove it from absent_interfaces, or detach it first"
            )
        for device in devices.get(mac, []):
            if egress and device in egress:
                raise HostNetworkError(
                    f"absent_interfaces lists {mac}, which is {device}: it carries the route this host uses to leave "
                    f"({egress[device]}), and removing its addresses would cut the host off; remove it from "
                    "absent_interfaces (or move the main default route off it first)"
                )
        first = item.get("table") or table_for_mac(mac)
        for table in range(first, first + TABLE_SLOT):
            if table not in in_use:
                tables.add(table)
                owners.setdefault(table, (f"absent ENI {mac}", "absent_interfaces[].table"))
        for device in devices.get(mac, []):
            desired["addresses"][device] = []
            desired["purge"].append(device)
            present.append(device)
    desired["tables"] = sorted(tables)
    return present


def _prefixed(address: str | None, length: Any) -> str | None:
    if not address or address == "all":
        return None
    if "/" in address:
        return str(ipaddress.IPv4Network(address, strict=False))
    if address == "default":
        return None
    return str(ipaddress.IPv4Network(f"{address}/{length if length is not None else 32}", strict=False))


def observed_state(
    addr_json: list[dict], route_json: list[dict], rule_json: list[dict], links_json: list[dict]
) -> dict:
    """Parse ``ip -j -4 addr show``, ``ip -j -4 route show table all``, ``ip -j -4 rule show``, ``ip -j link show``."""
    addresses: dict[str, list[str]] = {}
    for link in addr_json:
        for info in link.get("addr_info", []):
            if info.get("family") == "inet" and info.get("scope", "global") == "global":
                addresses.setdefault(link["ifname"], []).append(f"{info['local']}/{info['prefixlen']}")
    routes: list[Route] = []
    main_defaults: list[dict] = []
    for route in route_json:
        if route.get("type", "unicast") != "unicast":
            continue
        table = table_number(route.get("table"))
        if table is None:
            continue
        if table == MAIN_TABLE and route.get("dst", "default") in ("default", "0.0.0.0/0"):
            for hop in route.get("nexthops") or [route]:
                main_defaults.append(
                    {
                        "dev": hop.get("dev", ""),
                        "gateway": hop.get("gateway"),
                        "prefsrc": route.get("prefsrc"),
                        "metric": int(route.get("metric") or 0),
                    }
                )
        dst = route.get("dst", "default")
        dst = (
            "default"
            if dst in ("default", "0.0.0.0/0")
            else str(ipaddress.IPv4Network(dst if "/" in dst else f"{dst}/32"))
        )
        routes.append(
            Route(
                table,
                dst,
                route.get("dev", ""),
                gateway=route.get("gateway"),
                scope=route.get("scope") if route.get("scope") not in (None, "global", "universe") else None,
                src=route.get("prefsrc"),
            )
        )
    rules: list[Rule] = []
    other_rules: list[dict] = []
    for rule in rule_json:
        table = table_number(rule.get("table"))
        if table is None or rule.get("action", "to_tbl") not in ("to_tbl", None):
            continue
        selectors = set(rule) - {"priority", "src", "srclen", "dst", "dstlen", "table", "action", "protocol", "flags"}
        if selectors:
            # fwmark, iif, oif, uidrange...: never ours, never touched; kept so that a table they look up is
            # recognised as used by something else (foreign_rule_users).
            words = [f"{rule.get('priority', 0)}:", f"from {rule.get('src', 'all')}"]
            words += [f"{key} {rule[key]}" for key in sorted(selectors)]
            other_rules.append({"table": table, "text": " ".join(words + [f"lookup {rule.get('table')}"])})
            continue
        rules.append(
            Rule(
                int(rule.get("priority", 0)),
                table,
                src=_prefixed(rule.get("src"), rule.get("srclen")),
                dst=_prefixed(rule.get("dst"), rule.get("dstlen")),
            )
        )
    up = {link["ifname"]: "UP" in link.get("flags", []) for link in links_json}
    return {
        "addresses": addresses,
        "routes": routes,
        "rules": rules,
        "up": up,
        "main_defaults": main_defaults,
        "other_rules": other_rules,
    }


def _change(description: str, argv: list[str], undo: list[list[str]]) -> dict:
    return {"kind": "command", "description": description, "argv": argv, "undo": undo}


def is_kept(cidr: str, desired: dict) -> bool:
    """Whether an address present on a purged device lies in a ``keep_addresses`` block: never removed."""
    address = ipaddress.IPv4Address(cidr.split("/")[0])
    return any(address in ipaddress.IPv4Network(block) for block in desired.get("keep", ()))


def plan_changes(desired: dict, observed: dict, sysctl_values: dict[str, str | None]) -> list[dict]:
    """Ordered changes (``ip`` argument lists with their undo) that turn ``observed`` into ``desired``.

    Ownership: every route in a table the ENIs use and every rule that looks one up is ours (stale ones are
    deleted), plus the ``to 100.64.0.0/10 lookup main priority 999`` rule.  Addresses: secondary ENIs get exactly
    the desired set, plus whatever lies in a ``keep`` block (left alone, never added); on the primary only missing
    ones are added.  Order: links up, addresses, routes, rules,
    stale rules, stale routes, stale addresses, sysctls, so each step finds what it depends on.
    """
    changes: list[dict] = []
    tables = set(desired["tables"])
    for device in desired["links"]:
        if not observed["up"].get(device, False):
            changes.append(
                _change(
                    f"bring {device} up",
                    ["ip", "link", "set", "dev", device, "up"],
                    [["ip", "link", "set", "dev", device, "down"]],
                )
            )
    stale_addresses = []
    for device, wanted in desired["addresses"].items():
        present = observed["addresses"].get(device, [])
        present_ips = {item.split("/")[0]: item for item in present}
        for cidr in wanted:
            ip = cidr.split("/")[0]
            if cidr in present:
                continue
            if ip in present_ips and device not in desired["purge"]:
                continue  # primary ENI: the address exists with another prefix; leave it
            if ip in present_ips:
                old = present_ips[ip]
                stale_addresses.append((device, old))
            changes.append(
                _change(
                    f"add {cidr} to {device}",
                    ["ip", "-4", "addr", "add", cidr, "dev", device],
                    [["ip", "-4", "addr", "del", cidr, "dev", device]],
                )
            )
        if device in desired["purge"]:
            for cidr in present:
                if cidr not in wanted and (device, cidr) not in stale_addresses and not is_kept(cidr, desired):
                    stale_addresses.append((device, cidr))
    wanted_routes = {(route.table, route.dst): route for route in desired["routes"]}
    present_routes = {(route.table, route.dst): route for route in observed["routes"] if route.table in tables}
    # Connected routes first: a default route's gateway must resolve inside its table.
    for key, route in sorted(wanted_routes.items(), key=lambda item: (item[0][0], item[0][1] == "default")):
        old = present_routes.get(key)
        if old == route:
            continue
        undo = [route_argv("replace", old)] if old else [route_argv("del", route)]
        changes.append(_change(f"route {route.dst} in table {route.table}", route_argv("replace", route), undo))
    wanted_rules = set(desired["rules"])
    present_rules = [rule for rule in observed["rules"] if rule.table in tables or is_internal_rule(rule)]
    for rule in sorted(wanted_rules - set(present_rules), key=rule_key):
        changes.append(_change(f"rule {rule_text(rule)}", rule_argv("add", rule), [rule_argv("del", rule)]))
    for rule in sorted(set(present_rules) - wanted_rules, key=rule_key):
        changes.append(
            _change(f"remove stale rule {rule_text(rule)}", rule_argv("del", rule), [rule_argv("add", rule)])
        )
    for key, route in sorted(present_routes.items()):
        if key not in wanted_routes:
            changes.append(
                _change(
                    f"remove stale route {route.dst} from table {route.table}",
                    route_argv("del", route),
                    [route_argv("add", route)],
                )
            )
    for device, cidr in stale_addresses:
        changes.append(
            _change(
                f"remove {cidr} from {device}",
                ["ip", "-4", "addr", "del", cidr, "dev", device],
                [["ip", "-4", "addr", "add", cidr, "dev", device]],
            )
        )
    for key, value in sorted(desired["sysctls"].items()):
        current = sysctl_values.get(key)
        if current is None:
            raise HostNetworkError(f"sysctl {key.replace('/', '.')} does not exist on this host")
        if current.strip() != value:
            changes.append(
                {
                    "kind": "sysctl",
                    "description": f"{key.replace('/', '.')} = {value}",
                    "key": key,
                    "value": value,
                    "old": current.strip(),
                }
            )
    return changes


def runtime_view(state: dict, devices: list[str], tables: list[int], sysctl_values: dict | None = None) -> list[str]:
    """The part of the runtime state this module manages, as sorted text lines (for ``diff``)."""
    lines = []
    for device in sorted(devices):
        for cidr in sorted(state["addresses"].get(device, [])):
            lines.append(f"address {cidr} dev {device}")
    for route in sorted((route for route in state["routes"] if route.table in tables), key=route_key):
        lines.append(f"route {route_text(route)}")
    for rule in sorted(
        (rule for rule in state["rules"] if rule.table in tables or is_internal_rule(rule)), key=rule_key
    ):
        lines.append(f"rule {rule_text(rule)}")
    for key, value in sorted((sysctl_values or {}).items()):
        lines.append(f"sysctl {key.replace('/', '.')} = {value}")
    return lines


def projected_state(desired: dict, observed: dict) -> dict:
    """What ``observed`` becomes once the plan is applied (for the ``after`` side of the diff)."""
    addresses = {device: list(values) for device, values in observed["addresses"].items()}
    for device, wanted in desired["addresses"].items():
        if device in desired["purge"]:
            wanted_ips = {cidr.split("/")[0] for cidr in wanted}
            kept = [
                cidr
                for cidr in addresses.get(device, [])
                if cidr not in wanted and cidr.split("/")[0] not in wanted_ips and is_kept(cidr, desired)
            ]
            addresses[device] = list(wanted) + kept
        else:
            present_ips = {item.split("/")[0] for item in addresses.get(device, [])}
            addresses[device] = addresses.get(device, []) + [
                cidr for cidr in wanted if cidr.split("/")[0] not in present_ips
            ]
    tables = set(desired["tables"])
    routes = [route for route in observed["routes"] if route.table not in tables] + list(desired["routes"])
    rules = [rule for rule in observed["rules"] if rule.table not in tables and not is_internal_rule(rule)] + list(
        desired["rules"]
    )
    return {"addresses": addresses, "routes": routes, "rules": rules, "up": observed["up"]}
