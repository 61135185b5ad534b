"""vSwitch address accounting: which private addresses of a vSwitch are in use, and by what.

Every question is answered in time proportional to the addresses in use, never to the size of the vSwitch: a NAT
gateway association on a /16 costs what it costs on a /24 (issue 14: listing the 65,000 hosts of a /16 on every
association made concurrent calls pass the SDK's read timeout).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator


def used_ips(state: dict, vswitch_id: str) -> set[str]:
    """Every private address of ``vswitch_id`` that an ENI, HaVip, CLB, NAT gateway or the world holds."""
    vswitch = state["vswitches"][vswitch_id]
    used: set[str] = set(vswitch.get("ReservedIps", [])) | {vswitch.get("Gateway", "")}
    for eni in state["enis"].values():
        if eni["VSwitchId"] == vswitch_id:
            used.update(entry["PrivateIpAddress"] for entry in eni["PrivateIpSets"])
    for havip in state["havips"].values():
        if havip["VSwitchId"] == vswitch_id:
            used.add(havip["IpAddress"])
    for balancer in state["load_balancers"].values():
        if balancer["VSwitchId"] == vswitch_id:
            used.add(balancer["Address"])
    for gateway in state["nat_gateways"].values():
        if gateway["VSwitchId"] == vswitch_id:
            used.update(gateway.get("EipPrivateIps", {}).values())
    return used


def _host_range(cidr: str) -> tuple[int, int]:
    """``(first, last)`` usable host addresses of ``cidr`` as integers: VPC reserves the first and the last three of
    each CIDR block (``last < first`` when there is none)."""
    network = ipaddress.IPv4Network(cidr)
    first, last = int(network.network_address), int(network.broadcast_address)
    if network.prefixlen >= 31:
        return first, last
    hosts = last - first - 1  # what network.hosts() yields: all but the network and broadcast addresses
    return first + 1, last - 1 - (2 if hosts > 4 else 0)


def is_usable(cidr: str, address: str) -> bool:
    """Whether ``address`` is one the vSwitch of ``cidr`` hands out (inside it, not reserved)."""
    try:
        value = int(ipaddress.IPv4Address(address))
    except ValueError:
        return False
    first, last = _host_range(cidr)
    return first <= value <= last


def usable_count(cidr: str) -> int:
    first, last = _host_range(cidr)
    return max(0, last - first + 1)


def usable_hosts(cidr: str) -> list[str]:
    """Addresses a vSwitch hands out, lowest first (the whole list: for small vSwitches and tests)."""
    first, last = _host_range(cidr)
    return [str(ipaddress.IPv4Address(value)) for value in range(first, last + 1)]


def _free(state: dict, vswitch_id: str) -> Iterator[str]:
    taken = used_ips(state, vswitch_id)
    first, last = _host_range(state["vswitches"][vswitch_id]["CidrBlock"])
    for value in range(first, last + 1):
        address = str(ipaddress.IPv4Address(value))
        if address not in taken:
            yield address


def free_ips(state: dict, vswitch_id: str, limit: int | None = None) -> list[str]:
    """Free addresses of the vSwitch, lowest first; at most ``limit`` (then the cost is that of the addresses in
    use plus ``limit``, whatever the vSwitch's size)."""
    found: list[str] = []
    for address in _free(state, vswitch_id):
        if limit is not None and len(found) >= limit:
            break
        found.append(address)
    return found


def first_free_ip(state: dict, vswitch_id: str) -> str | None:
    """The lowest free address of the vSwitch, or None when it is full."""
    return next(_free(state, vswitch_id), None)


def free_count(state: dict, vswitch_id: str) -> int:
    """How many addresses of the vSwitch are free (counted, not listed)."""
    cidr = state["vswitches"][vswitch_id]["CidrBlock"]
    return usable_count(cidr) - sum(1 for address in used_ips(state, vswitch_id) if is_usable(cidr, address))


def in_vswitch(state: dict, vswitch_id: str, address: str) -> bool:
    try:
        return ipaddress.IPv4Address(address) in ipaddress.IPv4Network(state["vswitches"][vswitch_id]["CidrBlock"])
    except ValueError:
        return False
