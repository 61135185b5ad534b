"""vSwitch address accounting answers by arithmetic, the same as listing every host would."""

from __future__ import annotations

import ipaddress

import pytest

from tests.emulator import accounting


def listed_hosts(cidr: str) -> list[str]:
    """The rule written the slow way: every host, without the last two of a block of more than four."""
    hosts = [str(address) for address in ipaddress.IPv4Network(cidr).hosts()]
    return hosts[:-2] if len(hosts) > 4 else hosts


@pytest.mark.parametrize(
    "cidr", ["10.0.0.0/32", "10.0.0.0/31", "10.0.0.0/30", "10.0.0.0/29", "10.0.0.0/24", "10.1.0.0/20"]
)
def test_usable_hosts_count_and_membership_match_the_listed_rule(cidr):
    hosts = listed_hosts(cidr)
    assert accounting.usable_hosts(cidr) == hosts
    assert accounting.usable_count(cidr) == len(hosts)
    network = ipaddress.IPv4Network(cidr)
    for address in (network.network_address, network.broadcast_address, network.network_address + 1, *hosts[-1:]):
        assert accounting.is_usable(cidr, str(address)) == (str(address) in hosts)
    assert not accounting.is_usable(cidr, "not an address")


def state_with(cidr: str, used: list[str]) -> dict:
    return {
        "vswitches": {"vsw-1": {"CidrBlock": cidr, "Gateway": "10.1.0.1"}},
        "enis": {"eni-1": {"VSwitchId": "vsw-1", "PrivateIpSets": [{"PrivateIpAddress": ip} for ip in used]}},
        "havips": {},
        "load_balancers": {},
        "nat_gateways": {"ngw-1": {"VSwitchId": "vsw-1", "EipPrivateIps": {"eip-1": "10.1.0.3"}}},
    }


def test_free_addresses_skip_everything_in_use_lowest_first():
    state = state_with("10.1.0.0/16", ["10.1.0.2", "10.1.0.4"])
    assert accounting.first_free_ip(state, "vsw-1") == "10.1.0.5"
    assert accounting.free_ips(state, "vsw-1", 3) == ["10.1.0.5", "10.1.0.6", "10.1.0.7"]
    # 65,534 hosts, two reserved at the end, the gateway, two ENI addresses and the NAT gateway's one in use
    assert accounting.free_count(state, "vsw-1") == 65532 - 4


def test_a_full_vswitch_has_no_free_address():
    state = state_with("10.1.0.0/29", ["10.1.0.2", "10.1.0.4"])  # hosts .1-.4 (gateway .1, NAT .3)
    assert accounting.first_free_ip(state, "vsw-1") is None
    assert accounting.free_ips(state, "vsw-1") == [] and accounting.free_count(state, "vsw-1") == 0
