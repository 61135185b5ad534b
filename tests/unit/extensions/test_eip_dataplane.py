# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The pure parts of the lab's EIP data plane (extensions/molecule/eip_shared/dataplane.py): plan, nft, table."""

from __future__ import annotations

import importlib.util
import os

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
PATH = os.path.join(HERE, "..", "..", "..", "extensions", "molecule", "eip_shared", "dataplane.py")
SPEC = importlib.util.spec_from_file_location("eip_dataplane", PATH)
dataplane = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(dataplane)

TOPOLOGY = {
    "prefix": "tt",
    "bridges": [{"name": "tt-vsw2", "addresses": ["10.9.2.253/24"], "vswitch": "vsw-b"}],
    "hosts": {"h1": {"instance": "i-h1", "nics": []}},
}


def eni(eni_id: str, status: str = "InUse", instance: str = "i-h1", kind: str = "Secondary", index: int = 1) -> dict:
    return {
        "NetworkInterfaceId": eni_id,
        "Type": kind,
        "Status": status,
        "InstanceId": instance,
        "DeviceIndex": index,
        "VSwitchId": "vsw-b",
        "MacAddress": f"00:16:3E:00:00:0{index}",
        "PrivateIpSets": [{"PrivateIpAddress": f"10.9.2.{10 + index}", "Primary": True}],
    }


def eip(
    address: str, target: str, mode: str, private_ip: str = "", kind: str = "NetworkInterface", status: str = "InUse"
):
    return {
        "IpAddress": address,
        "Status": status,
        "InstanceType": kind,
        "InstanceId": target,
        "Mode": mode,
        "PrivateIpAddress": private_ip,
    }


def state(enis: list[dict], eips: list[dict]) -> dict:
    return {
        "enis": {item["NetworkInterfaceId"]: item for item in enis},
        "eips": {f"eip-{index}": item for index, item in enumerate(eips)},
        "instances": {"i-h1": {"PrimaryNetworkInterfaceId": "eni-p"}},
    }


def test_plan_hot_plugs_attached_secondary_enis_only():
    enis = [
        eni("eni-a", index=1),
        eni("eni-b", status="Available", index=2),
        eni("eni-c", instance="i-other", index=3),
        eni("eni-p", kind="Primary", index=0),
    ]
    planned = dataplane.plan(state(enis, []), TOPOLOGY)
    assert planned["nics"] == [
        {
            "eni_id": "eni-a",
            "namespace": "tt-h1",
            "device": "eth1",
            "mac": "00:16:3e:00:00:01",
            "bridge": "tt-vsw2",
            "link": dataplane.nic_name("eni-a"),
        }
    ]
    assert len(dataplane.nic_name("eni-a")) <= 15 and dataplane.nic_name("eni-a") != dataplane.nic_name("eni-b")


def test_plan_nat_and_cut_through():
    enis = [eni("eni-a", index=1), eni("eni-b", index=2), eni("eni-d", status="Available", index=4)]
    eips = [
        eip("203.0.113.10", "eni-a", "NAT", "10.9.2.11"),
        eip("203.0.113.20", "eni-b", "BINDED", "10.9.2.12"),
        eip("203.0.113.30", "eni-b", "MULTI_BINDED"),
        eip("203.0.113.40", "i-h1", "NAT", "10.9.1.5", kind="EcsInstance"),
        eip("203.0.113.50", "eni-a", "NAT", "10.9.2.11", status="Associating"),
        eip("203.0.113.60", "eni-d", "BINDED", "10.9.2.14"),
        eip("203.0.113.70", "ngw-1", "NAT", kind="Nat"),
    ]
    planned = dataplane.plan(state(enis, eips), TOPOLOGY)
    assert planned["nat"] == [
        {"eip": "203.0.113.10", "private_ip": "10.9.2.11", "resource": "eni-a"},
        {"eip": "203.0.113.40", "private_ip": "10.9.1.5", "resource": "i-h1"},
    ]
    # Cut-through EIPs are routed to the ENI's bridge with the emulator's gateway rule (/24, .1).
    assert planned["routed"] == [
        {"eip": "203.0.113.20", "gateway": "203.0.113.1", "mask": "255.255.255.0", "link": "tt-vsw2",
         "resource": "eni-b", "mode": "BINDED"},
        {"eip": "203.0.113.30", "gateway": "203.0.113.1", "mask": "255.255.255.0", "link": "tt-vsw2",
         "resource": "eni-b", "mode": "MULTI_BINDED"},
    ]  # fmt: skip
    rows = {row["eip"]: row for row in planned["rows"]}
    # Only InUse EIPs on instances and ENIs are rows; a NAT gateway's EIP is snat_dataplane.py's.
    assert sorted(rows) == ["203.0.113.10", "203.0.113.20", "203.0.113.30", "203.0.113.40", "203.0.113.60"]
    assert rows["203.0.113.60"]["detail"] == "ENI not attached to a lab host"
    assert rows["203.0.113.10"]["namespace"] == "tt-h1" and rows["203.0.113.10"]["mac"] == "00:16:3e:00:00:01"


def test_render_nft_maps_each_eip_both_ways():
    text = dataplane.render_nft([{"eip": "203.0.113.10", "private_ip": "10.9.2.11", "resource": "eni-a"}])
    assert text.startswith("table ip alicloud_eip {}\ndelete table ip alicloud_eip\n")
    assert "    ip daddr 203.0.113.10 dnat to 10.9.2.11\n" in text
    assert '    ip saddr 10.9.2.11 oifname "inet0" snat to 203.0.113.10\n' in text


@pytest.mark.parametrize("verified, shown", [(True, "yes"), (False, "no")])
def test_format_rows(verified, shown):
    row = {
        "eip": "203.0.113.10",
        "resource": "eni-a",
        "private_ip": "",
        "mode": "NAT",
        "device": "",
        "verified": verified,
    }
    lines = dataplane.format_rows([row]).splitlines()
    assert lines[0].split() == ["EIP", "resource", "private", "IP", "mode", "NIC", "traffic", "verified"]
    assert lines[1].split() == ["203.0.113.10", "eni-a", "-", "NAT", "-", shown]


def test_bridge_mac_is_fixed_unicast_and_locally_administered():
    mac = dataplane.bridge_mac("tt-vsw2")
    assert mac == dataplane.bridge_mac("tt-vsw2") != dataplane.bridge_mac("tt-vsw1")
    first = int(mac.split(":")[0], 16)
    assert len(mac.split(":")) == 6 and first & 0x02 and not first & 0x01
