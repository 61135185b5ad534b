# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note: this module util is PRIVATE to the collection. It can change at any time; do not use it from
# other collections or standalone plugins/modules.

"""What the host has: ENI specs from the metadata service and from explicit input, matched to host links by MAC.

``interfaces_from_metadata`` / ``merge_interfaces`` turn metadata and explicit input into ENI specs;
``resolve_enis`` matches them to host links by MAC and validates them (``HostNetworkError`` names the problem
before anything is changed).
"""

from __future__ import annotations

import ipaddress
import json
from typing import Any

from ansible_collections.alicloud.eip.plugins.module_utils._host_network.model import (
    MAC_PATTERN,
    MAX_EXPLICIT_TABLE,
    MODES,
    TABLE_BASE,
    TABLE_SLOT,
    EipGroup,
    Eni,
    HostNetworkError,
    eni_tables,
    normalize_mac,
    table_for_mac,
)

_RESERVED_TABLES = {0, 253, 254, 255}


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


def combine_entries(items: list[dict], option: str) -> dict[str, dict]:
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
    ``combine_entries``).
    """
    merged: dict[str, dict] = {}
    for item in discovered:
        merged[normalize_mac(item["mac"])] = dict(item)
    for mac, item in combine_entries(explicit, "interfaces").items():
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
        if link.get("link_type") == "ether" and MAC_PATTERN.match(address):
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


def keep_blocks(values: list[Any] | None) -> tuple[str, ...]:
    """The ``keep_addresses`` entries as CIDR blocks (an address is its ``/32``); names the first bad entry.

    Addresses in these blocks are runtime-owned (a HaVip that keepalived moves between hosts, say): a secondary
    ENI's purge leaves them alone.  Nothing is added for them and nothing about them is written to files.
    """
    blocks = []
    for index, value in enumerate(values or []):
        try:
            blocks.append(str(ipaddress.IPv4Network(str(value).strip(), strict=False)))
        except ValueError as error:
            raise HostNetworkError(
                f"keep_addresses[{index}]: '{value}' is not an IPv4 address or CIDR block; give an address such as "
                "10.20.1.50 or a block such as 10.20.1.48/29"
            ) from error
    return tuple(blocks)
