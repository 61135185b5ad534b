# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note: this module util is PRIVATE to the collection. It can change at any time; do not use it from
# other collections or standalone plugins/modules.

"""Host-side configuration of Alibaba Cloud ENIs: policy routing, addresses, sysctls and config files.

Everything here is a pure function of its inputs so that it can be unit-tested without a host:

- ``interfaces_from_metadata`` / ``merge_interfaces`` turn metadata and explicit input into ENI specs;
- ``resolve_enis`` matches them to host links by MAC and validates them (``HostNetworkError`` names the
  problem before anything is changed);
- ``desired_state`` computes addresses, routes per table, rules and sysctls;
- ``observed_state`` parses ``ip -j`` output; ``plan_changes`` diffs the two into ``ip`` argument lists, each
  with its undo;
- ``render_files`` writes the same state for systemd-networkd, NetworkManager keyfiles, netplan or RHEL ifcfg;
- ``detect_backend`` picks the stack the host really runs.

The model follows amazon-ec2-net-utils (host-networking.md §0, §1): one routing table per secondary ENI
holding its subnet route and a default route via its gateway, one rule per address living on that ENI,
no table and no rule for the primary ENI, table id = rule priority.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import re
import uuid
from typing import Any, NamedTuple

MODES = ("nat", "cut_through", "multi_eip")
BACKENDS = ("networkd", "nm", "netplan", "ifcfg", "none")

# Alibaba reserves 100.64.0.0/10 (metadata 100.100.100.200, DNS 100.100.2.136/138); since 2026-04-23 a
# cut-through EIP may not reach it, so it must leave through the primary ENI (host-networking.md §2.5).
INTERNAL_RANGE = "100.64.0.0/10"
# The "to 100.64.0.0/10 lookup main" rule must win over every from-address rule, whose priorities start at
# TABLE_BASE.
INTERNAL_RULE_PRIORITY = 999
MAIN_TABLE = 254

# Table numbers: TABLE_BASE + TABLE_SLOT * (hash of the MAC mod TABLE_SLOTS).  Alibaba metadata has no device
# index (host-networking.md §2.1) and ifindex changes across hot-plug (terway), so the MAC is the only stable
# key.  Each ENI owns a slot of TABLE_SLOT consecutive tables: the first for its private (or cut-through)
# addresses, the next ones for multi-EIP gateway groups (at most 10 EIPs per ENI).  The largest number,
# 1000 + 16 * 1899 + 15 = 31399, stays below the main rule's priority 32766.  Rule priority = table number.
TABLE_BASE = 1000
TABLE_SLOT = 16
TABLE_SLOTS = 1900
MAX_EXPLICIT_TABLE = 32000

FILE_PREFIX = "alicloud-eni-"
_MAC = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")
_RESERVED_TABLES = {0, 253, 254, 255}


class HostNetworkError(ValueError):
    """Input that cannot be applied; the message names the ENI and the problem."""


class Route(NamedTuple):
    """One IPv4 route in a numbered table; ``dst`` is ``default`` or a CIDR."""

    table: int
    dst: str
    dev: str
    gateway: str | None = None
    scope: str | None = None
    src: str | None = None


class Rule(NamedTuple):
    """One IPv4 policy rule; ``src``/``dst`` are CIDRs or None for "all"."""

    priority: int
    table: int
    src: str | None = None
    dst: str | None = None


class EipGroup(NamedTuple):
    """Multi-EIP addresses sharing one gateway: they get their own table."""

    table: int
    gateway: str
    network: str
    addresses: tuple[str, ...]


class Eni(NamedTuple):
    """A validated ENI matched to its host link."""

    mac: str
    device: str
    mode: str
    primary: bool
    addresses: tuple[str, ...]
    network: str
    gateway: str
    table: int | None
    eip_groups: tuple[EipGroup, ...]
    eni_id: str | None = None


# ---- input -----------------------------------------------------------------------------------------------


def normalize_mac(mac: Any) -> str:
    """Lower-case ``aa:bb:cc:dd:ee:ff``; dashes accepted; anything else raises ``HostNetworkError``."""
    text = str(mac or "").strip().lower().replace("-", ":")
    if not _MAC.match(text):
        raise HostNetworkError(
            f"'{mac}' is not a MAC address (expected six hexadecimal pairs such as 00:16:3e:12:34:56)"
        )
    return text


def table_for_mac(mac: str) -> int:
    """The stable default table (and rule priority) of an ENI: a hash of its MAC mapped onto a slot."""
    digest = int(hashlib.sha256(normalize_mac(mac).encode()).hexdigest(), 16)
    return TABLE_BASE + TABLE_SLOT * (digest % TABLE_SLOTS)


def _json_list(text: Any) -> list[str]:
    """Metadata lists are JSON-array text (``["10.0.0.1"]``); tolerate newline lists and trailing ``/``."""
    if isinstance(text, list):
        items = text
    else:
        raw = str(text or "").strip()
        try:
            items = json.loads(raw) if raw.startswith("[") else raw.split()
        except ValueError as error:
            raise HostNetworkError(f"metadata list {raw!r} is not JSON: {error}") from error
    return [str(item).strip().rstrip("/") for item in items if str(item).strip()]


def interfaces_from_metadata(metadata: dict) -> tuple[str, list[dict]]:
    """(primary MAC, one NAT-mode interface spec per MAC) from the metadata the role collected.

    ``metadata`` is ``{"mac": <primary MAC>, "macs": {<mac>: {<item>: <text>, ...}}}`` with the per-MAC
    items of ``/latest/meta-data/network/interfaces/macs/<mac>/`` (alibaba-api.md §9.1).  A missing item is an
    error, never an empty value (host-networking.md pitfall 9).
    """
    if not isinstance(metadata, dict) or not metadata.get("mac") or not isinstance(metadata.get("macs"), dict):
        raise HostNetworkError(f"metadata must give the primary 'mac' and a 'macs' mapping; got {metadata!r}")
    primary = normalize_mac(metadata["mac"])
    interfaces = []
    spelled: dict[str, str] = {}
    for key, items in sorted(metadata["macs"].items()):
        mac = normalize_mac(key.rstrip("/"))
        if mac in spelled:
            raise HostNetworkError(
                f"metadata.macs lists MAC {mac} twice (as '{spelled[mac]}' and '{key}'): give each MAC once, as the "
                "role collects it from the metadata service"
            )
        spelled[mac] = key
        missing = [key for key in ("gateway", "private-ipv4s", "vswitch-cidr-block") if not (items or {}).get(key)]
        if missing:
            raise HostNetworkError(f"metadata of MAC {mac} lacks {', '.join(missing)}")
        addresses = _json_list(items["private-ipv4s"])
        if not addresses:
            raise HostNetworkError(f"metadata of MAC {mac} lists no private IPv4 address")
        first = str(items.get("primary-ip-address") or "").strip()
        if first and first in addresses:
            addresses.remove(first)
            addresses.insert(0, first)
        interfaces.append(
            {
                "mac": mac,
                "mode": "nat",
                "addresses": addresses,
                "cidr": str(items["vswitch-cidr-block"]).strip(),
                "gateway": str(items["gateway"]).strip(),
                "eni_id": str(items.get("network-interface-id") or "").strip() or None,
            }
        )
    if primary not in {item["mac"] for item in interfaces}:
        raise HostNetworkError(f"metadata names primary MAC {primary} but lists no interface with that MAC")
    return primary, interfaces


def _resolved(key: str, value: Any) -> Any:
    """What one value of an interface spec resolves to, so that two spellings of one thing compare equal.

    A value that does not parse is compared as given; ``resolve_enis`` names it later.
    """
    try:
        if key == "addresses":
            return tuple(str(ipaddress.IPv4Address(str(item).strip())) for item in value)
        if key == "cidr":
            return str(ipaddress.IPv4Network(str(value).strip(), strict=False))
        if key == "gateway":
            return str(ipaddress.IPv4Address(str(value).strip()))
        if key == "eips":
            return tuple(_eip_network(eip, "eips") for eip in value)
        if key == "table":
            return int(value)
    except (HostNetworkError, TypeError, ValueError):
        pass
    return value


def _shown(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(str(item) for item in value) + "]"
    return str(value)


def _combine_entries(items: list[dict], option: str) -> dict[str, dict]:
    """Entries of ``option`` by the MAC they resolve to; entries of one MAC are combined when they agree.

    Two entries of one MAC (however spelled: case, dashes or colons) may repeat each other or complement each other
    (one gives the mode, the other the addresses); a key both give with values that resolve differently is refused,
    naming both positions, the MAC and the fix.
    """
    combined: dict[str, dict] = {}
    seen: dict[str, list[tuple[int, dict]]] = {}
    for index, item in enumerate(items):
        try:
            mac = normalize_mac(item.get("mac"))
        except HostNetworkError as error:
            raise HostNetworkError(f"{option}[{index}].mac: {error}") from error
        given = {key: value for key, value in item.items() if key != "mac" and value is not None}
        for earlier, before in seen.get(mac, []):
            clashes = [
                f"{key} {_shown(before[key])} against {_shown(value)}"
                for key, value in given.items()
                if key in before and _resolved(key, before[key]) != _resolved(key, value)
            ]
            if clashes:
                raise HostNetworkError(
                    f"ENI {mac} is listed twice in {option}, as {option}[{earlier}] and {option}[{index}], and the "
                    f"two entries disagree ({'; '.join(clashes)}); give each MAC (in any spelling) once in {option}, "
                    "with the values it should have"
                )
        seen.setdefault(mac, []).append((index, given))
        combined[mac] = {**combined.get(mac, {}), **given, "mac": mac}
    return combined


def merge_interfaces(discovered: list[dict], explicit: list[dict]) -> list[dict]:
    """Per MAC, explicit keys win over discovered ones; explicit MACs that metadata lacks are added.

    Entries of ``explicit`` for one MAC are combined when they agree and refused when they disagree (see
    ``_combine_entries``).
    """
    merged: dict[str, dict] = {}
    for item in discovered:
        merged[normalize_mac(item["mac"])] = dict(item)
    for mac, item in _combine_entries(explicit, "interfaces").items():
        merged[mac] = {**merged.get(mac, {}), **item}
    return [merged[mac] for mac in sorted(merged)]


def _address(value: Any, what: str) -> ipaddress.IPv4Address:
    try:
        return ipaddress.IPv4Address(str(value).strip())
    except ValueError as error:
        raise HostNetworkError(f"{what}: '{value}' is not an IPv4 address") from error


def _network(value: Any, what: str) -> ipaddress.IPv4Network:
    try:
        return ipaddress.IPv4Network(str(value).strip(), strict=False)
    except ValueError as error:
        raise HostNetworkError(f"{what}: '{value}' is not an IPv4 CIDR block") from error


def _eip_network(eip: dict, what: str) -> tuple[str, str, ipaddress.IPv4Network]:
    """(EIP, gateway, network) of one ``eip_gateway_info`` entry (``Ip``/``IpGw``/``IpMask`` or snake case)."""
    address = eip.get("ip") or eip.get("Ip")
    gateway = eip.get("gateway") or eip.get("ip_gw") or eip.get("IpGw")
    mask = eip.get("mask") or eip.get("ip_mask") or eip.get("IpMask")
    if not address or not gateway or not mask:
        raise HostNetworkError(
            f"{what}: each EIP needs ip, gateway and mask (as eip_gateway_info returns them); got {eip!r}"
        )
    ip = _address(address, what)
    gw = _address(gateway, f"{what} EIP {ip} gateway")
    network = _network(f"{ip}/{mask}", f"{what} EIP {ip} mask")
    if gw not in network:
        raise HostNetworkError(f"{what}: EIP gateway {gw} is outside {network} (EIP {ip} with mask {mask})")
    if gw == ip:
        raise HostNetworkError(f"{what}: EIP {ip} is its own gateway")
    return str(ip), str(gw), network


def links_by_mac(links: list[dict]) -> dict[str, list[str]]:
    """MAC -> interface names, from ``ip -j link show``."""
    found: dict[str, list[str]] = {}
    for link in links:
        address = str(link.get("address") or "").lower()
        if link.get("link_type") == "ether" and _MAC.match(address):
            found.setdefault(address, []).append(link["ifname"])
    return found


def resolve_enis(interfaces: list[dict], primary_mac: str, links: list[dict]) -> list[Eni]:
    """Validate the interface specs and match them to host links by MAC.

    Raises ``HostNetworkError`` naming the first problem: unknown MAC, address outside the vSwitch CIDR,
    gateway outside it, cut-through or multi-EIP on the primary ENI, duplicate MAC, address or table.
    """
    primary_mac = normalize_mac(primary_mac)
    by_mac = links_by_mac(links)
    known = ", ".join(f"{mac} ({'/'.join(names)})" for mac, names in sorted(by_mac.items())) or "none"
    if primary_mac not in by_mac:
        raise HostNetworkError(f"primary ENI MAC {primary_mac} matches no interface on this host (interfaces: {known})")
    enis: list[Eni] = []
    seen_macs: set[str] = set()
    for index, spec in enumerate(interfaces):
        mac = normalize_mac(spec.get("mac"))
        what = f"ENI {mac}"
        if mac in seen_macs:
            raise HostNetworkError(f"{what} is listed twice")
        seen_macs.add(mac)
        names = by_mac.get(mac, [])
        if not names:
            raise HostNetworkError(f"{what} matches no interface on this host (interfaces: {known})")
        if len(names) > 1:
            raise HostNetworkError(
                f"{what} matches several interfaces ({', '.join(names)}); cannot tell which to configure"
            )
        mode = spec.get("mode") or "nat"
        if mode not in MODES:
            raise HostNetworkError(f"{what}: mode '{mode}' is not one of {', '.join(MODES)}")
        primary = mac == primary_mac
        if primary and mode != "nat":
            raise HostNetworkError(
                f"{what} is the primary ENI: {mode} mode is only possible on a secondary ENI (the EIP would replace the "
                "address Ansible and the instance depend on)"
            )
        if not spec.get("cidr") or not spec.get("gateway"):
            raise HostNetworkError(f"{what}: 'cidr' (vSwitch CIDR block) and 'gateway' are required")
        network = _network(spec["cidr"], f"{what} cidr")
        gateway = _address(spec["gateway"], f"{what} gateway")
        if gateway not in network:
            raise HostNetworkError(f"{what}: gateway {gateway} is outside its CIDR block {network}")
        addresses = [str(_address(value, f"{what} address")) for value in spec.get("addresses") or []]
        if not addresses:
            raise HostNetworkError(f"{what}: no addresses given or discovered")
        for address in addresses:
            if ipaddress.IPv4Address(address) not in network:
                label = "EIP" if mode == "cut_through" else "address"
                raise HostNetworkError(f"{what}: {label} {address} is outside the vSwitch CIDR block {network}")
            if address == str(gateway):
                raise HostNetworkError(f"{what}: address {address} is the gateway itself")
        if len(set(addresses)) != len(addresses):
            raise HostNetworkError(f"{what}: an address is listed twice ({', '.join(addresses)})")
        if mode == "cut_through" and len(addresses) != 1:
            raise HostNetworkError(
                f"{what}: cut-through mode carries exactly one EIP, which replaces the ENI's private IP; got {', '.join(addresses)}"
            )
        eips = spec.get("eips") or []
        if eips and mode != "multi_eip":
            raise HostNetworkError(f"{what}: 'eips' is only for multi_eip mode (mode is {mode})")
        if mode == "multi_eip" and not eips:
            raise HostNetworkError(f"{what}: multi_eip mode needs 'eips' (ip, gateway, mask from eip_gateway_info)")
        if len(eips) > TABLE_SLOT - 1:
            raise HostNetworkError(
                f"{what}: at most {TABLE_SLOT - 1} EIPs per ENI (Alibaba allows 10); got {len(eips)}"
            )
        table = None
        if not primary:
            table = spec.get("table")
            if table is None:
                table = table_for_mac(mac)
            table = int(table)
            if table < TABLE_BASE or table > MAX_EXPLICIT_TABLE or table in _RESERVED_TABLES:
                raise HostNetworkError(f"{what}: table {table} must be between {TABLE_BASE} and {MAX_EXPLICIT_TABLE}")
        groups = _eip_groups(eips, table, what, addresses) if eips else ()
        enis.append(
            Eni(
                mac=mac,
                device=names[0],
                mode=mode,
                primary=primary,
                addresses=tuple(addresses),
                network=str(network),
                gateway=str(gateway),
                table=table,
                eip_groups=groups,
                eni_id=spec.get("eni_id"),
            )
        )
    _check_unique(enis)
    return enis


def _eip_groups(eips: list[dict], table: int, what: str, private: list[str]) -> tuple[EipGroup, ...]:
    """Group EIPs by gateway; group i (ordered by gateway address) gets table ``table + 1 + i``."""
    by_gateway: dict[str, tuple[ipaddress.IPv4Network, list[str]]] = {}
    for eip in eips:
        address, gateway, network = _eip_network(eip, what)
        if address in private:
            raise HostNetworkError(f"{what}: EIP {address} is also listed as a private address")
        if gateway in by_gateway and by_gateway[gateway][0] != network:
            raise HostNetworkError(
                f"{what}: EIPs behind gateway {gateway} disagree on the mask ({by_gateway[gateway][0]} and {network})"
            )
        by_gateway.setdefault(gateway, (network, []))[1].append(address)
    groups = []
    for index, gateway in enumerate(sorted(by_gateway, key=ipaddress.IPv4Address)):
        network, addresses = by_gateway[gateway]
        groups.append(EipGroup(table + 1 + index, gateway, str(network), tuple(addresses)))
    return tuple(groups)


def _check_unique(enis: list[Eni]) -> None:
    owner: dict[str, str] = {}
    for eni in enis:
        for address in list(eni.addresses) + [a for group in eni.eip_groups for a in group.addresses]:
            if address in owner:
                raise HostNetworkError(f"address {address} is given for both ENI {owner[address]} and ENI {eni.mac}")
            owner[address] = eni.mac
    tables: dict[int, str] = {}
    for eni in enis:
        for table in eni_tables(eni):
            if table in tables:
                raise HostNetworkError(
                    f"ENI {eni.mac} and ENI {tables[table]} would both use table {table}; set 'table' explicitly for one "
                    f"of them (tables of one ENI span {TABLE_SLOT} numbers)"
                )
            tables[table] = eni.mac


def eni_tables(eni: Eni) -> list[int]:
    """Tables an ENI uses: none for the primary, its own plus one per multi-EIP gateway group otherwise."""
    if eni.primary or eni.table is None:
        return []
    return [eni.table] + [group.table for group in eni.eip_groups]


# ---- desired runtime state -------------------------------------------------------------------------------


def _shared_subnet_devices(enis: list[Eni]) -> set[str]:
    """Devices on a subnet that another configured ENI shares (ARP flux, host-networking.md §5.2)."""
    count: dict[str, list[str]] = {}
    for eni in enis:
        count.setdefault(eni.network, []).append(eni.device)
    return {device for devices in count.values() if len(devices) > 1 for device in devices}


def desired_state(enis: list[Eni], rp_filter: int = 2, arp_tuning: bool = True, primary_sysctls: bool = False) -> dict:
    """Addresses per device, routes, rules and sysctls that the ENIs need.

    ``primary_sysctls`` allows ARP settings on the primary ENI (an opt-in: it is the interface the instance and
    usually Ansible depend on).  Returns ``{"addresses": {dev: [cidr, ...]}, "routes": [Route], "rules": [Rule],
    "sysctls": {"net/ipv4/conf/<dev>/<key>": value}, "links": [dev], "tables": [int], "purge": [dev]}``;
    ``purge`` lists the devices whose other IPv4 addresses are removed (secondary ENIs only).
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
    combined = _combine_entries(absent, "absent_interfaces")
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


# ---- observed runtime state ------------------------------------------------------------------------------


def _table_number(value: Any) -> int | None:
    names = {"main": 254, "local": 255, "default": 253, "unspec": 0}
    if value is None:
        return MAIN_TABLE
    text = str(value)
    if text in names:
        return names[text]
    return int(text) if text.isdigit() else None


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
        table = _table_number(route.get("table"))
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
        table = _table_number(rule.get("table"))
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


# ---- plan ------------------------------------------------------------------------------------------------


def route_argv(verb: str, route: Route) -> list[str]:
    """``ip -4 route <verb> ...`` for a route (routes we add carry ``proto static``)."""
    argv = ["ip", "-4", "route", verb, route.dst]
    if route.gateway:
        argv += ["via", route.gateway]
    argv += ["dev", route.dev]
    if route.scope:
        argv += ["scope", route.scope]
    if route.src:
        argv += ["src", route.src]
    argv += ["table", str(route.table)]
    if verb in ("add", "replace"):
        argv += ["proto", "static"]
    return argv


def rule_argv(verb: str, rule: Rule) -> list[str]:
    argv = ["ip", "-4", "rule", verb]
    if rule.src:
        argv += ["from", rule.src]
    if rule.dst:
        argv += ["to", rule.dst]
    table = "main" if rule.table == MAIN_TABLE else str(rule.table)
    return argv + ["lookup", table, "priority", str(rule.priority)]


def _change(description: str, argv: list[str], undo: list[list[str]]) -> dict:
    return {"kind": "command", "description": description, "argv": argv, "undo": undo}


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


def plan_changes(desired: dict, observed: dict, sysctl_values: dict[str, str | None]) -> list[dict]:
    """Ordered changes (``ip`` argument lists with their undo) that turn ``observed`` into ``desired``.

    Ownership: every route in a table the ENIs use and every rule that looks one up is ours (stale ones are
    deleted), plus the ``to 100.64.0.0/10 lookup main priority 999`` rule.  Addresses: secondary ENIs get exactly
    the desired set; on the primary only missing ones are added.  Order: links up, addresses, routes, rules,
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
                if cidr not in wanted and (device, cidr) not in stale_addresses:
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
    present_rules = [rule for rule in observed["rules"] if rule.table in tables or _is_internal_rule(rule)]
    for rule in sorted(wanted_rules - set(present_rules), key=_rule_key):
        changes.append(_change(f"rule {rule_text(rule)}", rule_argv("add", rule), [rule_argv("del", rule)]))
    for rule in sorted(set(present_rules) - wanted_rules, key=_rule_key):
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


def _route_identity(route: dict) -> tuple | None:
    """What tells one ``ip -j route`` entry from another (None for a route that is not an IPv4 unicast route)."""
    if route.get("type", "unicast") != "unicast":
        return None
    table = _table_number(route.get("table"))
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


def _rule_key(rule: Rule) -> tuple:
    return (rule.priority, rule.table, rule.src or "", rule.dst or "")


def _route_key(route: Route) -> tuple:
    return (
        route.table,
        route.dst == "default",
        route.dst,
        route.dev,
        route.gateway or "",
        route.scope or "",
        route.src or "",
    )


def _is_internal_rule(rule: Rule) -> bool:
    return (
        rule.priority == INTERNAL_RULE_PRIORITY
        and rule.dst == INTERNAL_RANGE
        and rule.table == MAIN_TABLE
        and rule.src is None
    )


def rule_text(rule: Rule) -> str:
    table = "main" if rule.table == MAIN_TABLE else str(rule.table)
    return f"{rule.priority}: from {rule.src or 'all'}{' to ' + rule.dst if rule.dst else ''} lookup {table}"


def route_text(route: Route) -> str:
    return " ".join(route_argv("show", route)[4:])


def runtime_view(state: dict, devices: list[str], tables: list[int], sysctl_values: dict | None = None) -> list[str]:
    """The part of the runtime state this module manages, as sorted text lines (for ``diff``)."""
    lines = []
    for device in sorted(devices):
        for cidr in sorted(state["addresses"].get(device, [])):
            lines.append(f"address {cidr} dev {device}")
    for route in sorted((route for route in state["routes"] if route.table in tables), key=_route_key):
        lines.append(f"route {route_text(route)}")
    for rule in sorted(
        (rule for rule in state["rules"] if rule.table in tables or _is_internal_rule(rule)), key=_rule_key
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
            addresses[device] = list(wanted)
        else:
            present_ips = {item.split("/")[0] for item in addresses.get(device, [])}
            addresses[device] = addresses.get(device, []) + [
                cidr for cidr in wanted if cidr.split("/")[0] not in present_ips
            ]
    tables = set(desired["tables"])
    routes = [route for route in observed["routes"] if route.table not in tables] + list(desired["routes"])
    rules = [rule for rule in observed["rules"] if rule.table not in tables and not _is_internal_rule(rule)] + list(
        desired["rules"]
    )
    return {"addresses": addresses, "routes": routes, "rules": rules, "up": observed["up"]}


# ---- safety ----------------------------------------------------------------------------------------------


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


# ---- persistent configuration ----------------------------------------------------------------------------


def _marker_lines(marker: str) -> list[str]:
    return [f"# {line}".rstrip() for line in (marker or "").splitlines() or [""]]


def _file_id(eni: Eni) -> str:
    return FILE_PREFIX + eni.mac.replace(":", "")


def _eni_routes_rules(eni: Eni, state: dict) -> tuple[list[Route], list[Rule]]:
    tables = set(eni_tables(eni))
    routes = [route for route in state["routes"] if route.table in tables]
    rules = [rule for rule in state["rules"] if rule.table in tables]
    return routes, rules


def _internal_rule_owner(enis: list[Eni]) -> str | None:
    """The one cut-through ENI whose file carries the 100.64.0.0/10 rule (the lowest MAC), or None."""
    owners = sorted(eni.mac for eni in enis if eni.mode == "cut_through")
    return owners[0] if owners else None


def _eni_file_rules(eni: Eni, enis: list[Eni], state: dict) -> list[Rule]:
    rules = _eni_routes_rules(eni, state)[1]
    if eni.mac == _internal_rule_owner(enis):
        rules = [Rule(INTERNAL_RULE_PRIORITY, MAIN_TABLE, dst=INTERNAL_RANGE)] + rules
    return rules


def render_networkd(eni: Eni, enis: list[Eni], state: dict, marker: str) -> str:
    """A systemd-networkd ``.network`` file for one secondary ENI (static addresses, own table, rules)."""
    lines = _marker_lines(marker) + [
        "[Match]",
        f"MACAddress={eni.mac}",
        "",
        "[Link]",
        "RequiredForOnline=no",
        "",
        "[Network]",
        "DHCP=no",
        "LinkLocalAddressing=no",
        "IPv6AcceptRA=no",
    ]
    for cidr in state["addresses"][eni.device]:
        lines += ["", "[Address]", f"Address={cidr}"]
    routes = _eni_routes_rules(eni, state)[0]
    for route in routes:
        lines += ["", "[Route]"]
        if route.dst != "default":
            lines.append(f"Destination={route.dst}")
        if route.gateway:
            lines.append(f"Gateway={route.gateway}")
        if route.scope:
            lines.append(f"Scope={route.scope}")
        if route.src:
            lines.append(f"PreferredSource={route.src}")
        lines.append(f"Table={route.table}")
    for rule in _eni_file_rules(eni, enis, state):
        lines += ["", "[RoutingPolicyRule]"]
        if rule.src:
            lines.append(f"From={rule.src}")
        if rule.dst:
            lines.append(f"To={rule.dst}")
        lines += [f"Table={'main' if rule.table == MAIN_TABLE else rule.table}", f"Priority={rule.priority}"]
    return "\n".join(lines) + "\n"


def render_nm_keyfile(eni: Eni, enis: list[Eni], state: dict, marker: str) -> str:
    """A NetworkManager keyfile for one secondary ENI; every routing rule carries its priority (NM needs it)."""
    name = _file_id(eni)
    lines = _marker_lines(marker) + [
        "[connection]",
        f"id={name}",
        f"uuid={uuid.uuid5(uuid.NAMESPACE_URL, 'alicloud.eip:' + eni.mac)}",
        "type=ethernet",
        "autoconnect-priority=50",
        "",
        "[ethernet]",
        f"mac-address={eni.mac.upper()}",
        "",
        "[ipv4]",
        "method=manual",
    ]
    for index, cidr in enumerate(state["addresses"][eni.device], start=1):
        lines.append(f"address{index}={cidr}")
    lines.append("never-default=true")
    routes = _eni_routes_rules(eni, state)[0]
    for index, route in enumerate(routes, start=1):
        dst = "0.0.0.0/0" if route.dst == "default" else route.dst
        lines.append(f"route{index}={dst},{route.gateway}" if route.gateway else f"route{index}={dst}")
        options = [f"table={route.table}"]
        if route.src:
            options.append(f"src={route.src}")
        lines.append(f"route{index}_options={','.join(options)}")
    for index, rule in enumerate(_eni_file_rules(eni, enis, state), start=1):
        # NetworkManager writes host prefixes without "/32"; so does this, so that a round trip is exact.
        words = [f"priority {rule.priority}"]
        if rule.src:
            words.append(f"from {rule.src.removesuffix('/32')}")
        if rule.dst:
            words.append(f"to {rule.dst.removesuffix('/32')}")
        words.append(f"table {rule.table}")
        lines.append(f"routing-rule{index}={' '.join(words)}")
    lines += ["", "[ipv6]", "method=disabled", ""]
    return "\n".join(lines)


def render_netplan(enis: list[Eni], state: dict, marker: str) -> str:
    """One netplan file for every secondary ENI, each pinned to the networkd renderer.

    netplan 0.106 silently drops ``routing-policy`` under the NetworkManager renderer (test-infra.md §4), so
    the renderer is set per device; a host whose netplan renders to NetworkManager gets keyfiles instead
    (``detect_backend``).
    """
    lines = _marker_lines(marker) + ["network:", "  version: 2", "  ethernets:"]
    for eni in sorted((eni for eni in enis if not eni.primary), key=lambda item: item.mac):
        routes = _eni_routes_rules(eni, state)[0]
        lines += [
            f"    {_file_id(eni)}:",
            "      renderer: networkd",
            f'      match: {{macaddress: "{eni.mac}"}}',
            "      dhcp4: false",
            "      dhcp6: false",
            "      link-local: []",
            "      addresses:",
        ]
        lines += [f'        - "{cidr}"' for cidr in state["addresses"][eni.device]]
        lines.append("      routes:")
        for route in routes:
            fields = [f'to: "{"default" if route.dst == "default" else route.dst}"']
            if route.gateway:
                fields.append(f'via: "{route.gateway}"')
            if route.scope:
                fields.append(f"scope: {route.scope}")
            if route.src:
                fields.append(f'from: "{route.src}"')
            fields.append(f"table: {route.table}")
            lines.append(f"        - {{{', '.join(fields)}}}")
        lines.append("      routing-policy:")
        for rule in _eni_file_rules(eni, enis, state):
            fields = []
            if rule.src:
                fields.append(f'from: "{rule.src}"')
            if rule.dst:
                fields.append(f'to: "{rule.dst}"')
            fields += [f"table: {rule.table}", f"priority: {rule.priority}"]
            lines.append(f"        - {{{', '.join(fields)}}}")
    return "\n".join(lines) + "\n"


def render_ifcfg(eni: Eni, enis: list[Eni], state: dict, marker: str) -> dict[str, str]:
    """``ifcfg-<dev>``, ``route-<dev>`` and ``rule-<dev>`` (network-scripts) for one secondary ENI."""
    head = _marker_lines(marker)
    ifcfg = head + [
        f"DEVICE={eni.device}",
        f"HWADDR={eni.mac}",
        "TYPE=Ethernet",
        "ONBOOT=yes",
        "BOOTPROTO=none",
        "DEFROUTE=no",
        "PEERDNS=no",
        "IPV6INIT=no",
    ]
    for index, cidr in enumerate(state["addresses"][eni.device]):
        address, prefix = cidr.split("/")
        ifcfg += [f"IPADDR{index}={address}", f"PREFIX{index}={prefix}"]
    routes = _eni_routes_rules(eni, state)[0]
    route_lines = head + [" ".join(route_argv("show", route)[4:]) for route in routes]
    rule_lines = head + [" ".join(rule_argv("show", rule)[4:]) for rule in _eni_file_rules(eni, enis, state)]
    return {
        f"ifcfg-{eni.device}": "\n".join(ifcfg) + "\n",
        f"route-{eni.device}": "\n".join(route_lines) + "\n",
        f"rule-{eni.device}": "\n".join(rule_lines) + "\n",
    }


def render_sysctl(sysctls: dict[str, str], marker: str) -> str:
    """``/etc/sysctl.d`` file with the per-interface settings (slash form, safe for names with dots)."""
    lines = _marker_lines(marker) + [f"{key} = {value}" for key, value in sorted(sysctls.items())]
    return "\n".join(lines) + "\n"


BACKEND_DIRS = {
    "networkd": "etc/systemd/network",
    "nm": "etc/NetworkManager/system-connections",
    "netplan": "etc/netplan",
    "ifcfg": "etc/sysconfig/network-scripts",
}
SYSCTL_FILE = "etc/sysctl.d/90-alicloud-eni.conf"
# Glob patterns of files this module may have written per backend (stale ones carry the marker line).
BACKEND_PATTERNS = {
    "networkd": [f"05-{FILE_PREFIX}*.network"],
    "nm": [f"{FILE_PREFIX}*.nmconnection"],
    "netplan": ["90-alicloud-eni.yaml"],
    "ifcfg": ["ifcfg-*", "route-*", "rule-*"],
}


def render_files(backend: str, enis: list[Eni], state: dict, marker: str) -> dict[str, tuple[str, int]]:
    """Relative path -> (content, mode) of every file the backend needs; empty for ``none``.

    Files are per secondary ENI (the primary ENI's profile belongs to the image and is never written), plus the
    sysctl file.  networkd files sort before ``10-netplan-*`` because networkd uses only the first matching
    ``.network`` file (host-networking.md pitfall 4).
    """
    if backend == "none":
        return {}
    if backend not in BACKEND_DIRS:
        raise HostNetworkError(f"unknown backend '{backend}' (one of {', '.join(BACKENDS)})")
    secondary = sorted((eni for eni in enis if not eni.primary), key=lambda item: item.mac)
    files: dict[str, tuple[str, int]] = {}
    directory = BACKEND_DIRS[backend]
    if backend == "networkd":
        for eni in secondary:
            files[f"{directory}/05-{_file_id(eni)}.network"] = (render_networkd(eni, enis, state, marker), 0o644)
    elif backend == "nm":
        for eni in secondary:
            files[f"{directory}/{_file_id(eni)}.nmconnection"] = (render_nm_keyfile(eni, enis, state, marker), 0o600)
    elif backend == "netplan":
        if secondary:
            files[f"{directory}/90-alicloud-eni.yaml"] = (render_netplan(enis, state, marker), 0o600)
    else:
        for eni in secondary:
            for name, content in render_ifcfg(eni, enis, state, marker).items():
                files[f"{directory}/{name}"] = (content, 0o644)
    if state["sysctls"]:
        files[SYSCTL_FILE] = (render_sysctl(state["sysctls"], marker), 0o644)
    return files


def is_managed_file(content: str, marker: str) -> bool:
    """Whether a file starts with our marker, i.e. this module wrote it and may replace or remove it."""
    head = _marker_lines(marker)
    return content.splitlines()[: len(head)] == head


# ---- backend detection -----------------------------------------------------------------------------------


def netplan_renderers(netplan_texts: list[str]) -> set[str]:
    """Renderers named in netplan files (``renderer: NetworkManager`` / ``networkd``), without a YAML parser."""
    found = set()
    for text in netplan_texts:
        for match in re.finditer(r"^\s*renderer:\s*[\"']?([A-Za-z]+)", text, re.MULTILINE):
            found.add(match.group(1))
    return found


def detect_backend(
    daemons: set[str], netplan_texts: list[str], has_netplan: bool, has_ifcfg_dir: bool
) -> tuple[str, str]:
    """(backend, reason) for the stack the host runs.

    ``daemons`` are the network daemons running in this network namespace (``NetworkManager``,
    ``systemd-networkd``); ``netplan_texts`` the contents of ``/etc/netplan/*.yaml``.  Order: netplan files
    rendered by networkd -> netplan (cloud-init's Ubuntu/Debian images); NetworkManager running or netplan
    rendering to it -> keyfiles (netplan would drop the rules); systemd-networkd running -> networkd; an
    ``/etc/sysconfig/network-scripts`` directory -> ifcfg.  Raises when nothing matches: guessing would write
    files no daemon reads.
    """
    renderers = netplan_renderers(netplan_texts)
    if netplan_texts and has_netplan and "NetworkManager" not in renderers and "NetworkManager" not in daemons:
        return "netplan", "netplan files render to systemd-networkd"
    if "NetworkManager" in daemons:
        return "nm", "NetworkManager is running"
    if netplan_texts and "NetworkManager" in renderers:
        return "nm", "netplan renders to NetworkManager, which drops routing-policy (netplan 0.106); using keyfiles"
    if "systemd-networkd" in daemons:
        return "networkd", "systemd-networkd is running"
    if has_ifcfg_dir:
        return "ifcfg", "/etc/sysconfig/network-scripts exists"
    raise HostNetworkError(
        "could not tell which network stack this host runs (no netplan files, no NetworkManager or systemd-networkd "
        "in this network namespace, no /etc/sysconfig/network-scripts); set the backend explicitly "
        f"({', '.join(BACKENDS)})"
    )
