"""vSwitch address accounting: which private addresses of a vSwitch are in use, and by what."""

from __future__ import annotations

import ipaddress


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


def usable_hosts(cidr: str) -> list[str]:
    """Addresses a vSwitch hands out: VPC reserves the first and the last three of each CIDR block."""
    network = ipaddress.IPv4Network(cidr)
    hosts = [str(address) for address in network.hosts()]
    return hosts[:-2] if len(hosts) > 4 else hosts


def free_ips(state: dict, vswitch_id: str) -> list[str]:
    """Free addresses of the vSwitch, lowest first."""
    taken = used_ips(state, vswitch_id)
    return [address for address in usable_hosts(state["vswitches"][vswitch_id]["CidrBlock"]) if address not in taken]


def in_vswitch(state: dict, vswitch_id: str, address: str) -> bool:
    try:
        return ipaddress.IPv4Address(address) in ipaddress.IPv4Network(state["vswitches"][vswitch_id]["CidrBlock"])
    except ValueError:
        return False
