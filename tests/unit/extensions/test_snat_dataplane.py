# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The lab's SNAT data plane: which nftables rules the emulator's state implies (no system access)."""

from __future__ import annotations

import importlib.util
import os

import pytest

PATH = os.path.join(
    os.path.dirname(__file__), "..", "..", "..", "extensions", "molecule", "eip_shared", "snat_dataplane.py"
)
SPEC = importlib.util.spec_from_file_location("snat_dataplane", PATH)
snat_dataplane = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(snat_dataplane)


def state(entries, eips=None):
    """A minimal emulator state with gateway ngw-1 in vpc-1 and the given SNAT entries and EIPs."""
    default_eips = {
        "eip-a": {
            "AllocationId": "eip-a",
            "IpAddress": "198.51.100.70",
            "InstanceId": "ngw-1",
            "InstanceType": "Nat",
            "Status": "InUse",
        },
        "eip-b": {
            "AllocationId": "eip-b",
            "IpAddress": "198.51.100.9",
            "InstanceId": "ngw-1",
            "InstanceType": "Nat",
            "Status": "InUse",
        },
        "eip-c": {
            "AllocationId": "eip-c",
            "IpAddress": "198.51.100.71",
            "InstanceId": "",
            "InstanceType": "",
            "Status": "Available",
        },
    }
    return {
        "vpcs": {"vpc-1": {"CidrBlock": "10.71.0.0/16"}},
        "vswitches": {"vsw-app": {"CidrBlock": "10.71.1.0/24"}},
        "nat_gateways": {"ngw-1": {"NatGatewayId": "ngw-1", "VpcId": "vpc-1", "NetworkType": "internet"}},
        "eips": default_eips if eips is None else eips,
        "snat_entries": {item["SnatEntryId"]: item for item in entries},
    }


def snat(entry_id, ips, vswitch="", cidr="", status="Available"):
    """A SNAT entry as the emulator stores it."""
    return {
        "SnatEntryId": entry_id,
        "NatGatewayId": "ngw-1",
        "SnatIp": ips,
        "SourceVSwitchId": vswitch,
        "SourceCIDR": cidr,
        "Status": status,
    }


def test_instance_entry_comes_before_the_vswitch_entry_and_sources_resolve():
    rules = snat_dataplane.snat_rules(
        state(
            [
                snat("snat-vsw", "198.51.100.70,198.51.100.9", vswitch="vsw-app"),
                snat("snat-h1", "198.51.100.70", cidr="10.71.1.11/32"),
            ]
        )
    )
    assert [(rule["snat_entry_id"], rule["source"]) for rule in rules] == [
        ("snat-h1", "10.71.1.11/32"),
        ("snat-vsw", "10.71.1.0/24"),
    ]
    assert rules[1]["eips"] == ["198.51.100.9", "198.51.100.70"]
    assert rules[1]["allocation_ids"] == ["eip-b", "eip-a"]
    assert rules[0]["vpc_cidr"] == "10.71.0.0/16"


@pytest.mark.parametrize(
    "entry",
    [
        snat("snat-pending", "198.51.100.70", cidr="10.71.1.0/24", status="Pending"),
        snat("snat-deleting", "198.51.100.70", cidr="10.71.1.0/24", status="Deleting"),
        snat("snat-unbound", "198.51.100.71", cidr="10.71.1.0/24"),  # EIP not on the gateway: no traffic
    ],
)
def test_entries_that_carry_no_traffic_give_no_rule(entry):
    assert snat_dataplane.snat_rules(state([entry])) == []


def test_only_the_entry_addresses_still_on_the_gateway_remain():
    rules = snat_dataplane.snat_rules(state([snat("snat-1", "198.51.100.70,198.51.100.71", cidr="10.71.1.0/24")]))
    assert rules[0]["eips"] == ["198.51.100.70"]


def test_render_replaces_the_table_atomically_with_hash_maps_for_several_eips():
    rules = snat_dataplane.snat_rules(
        state(
            [
                snat("snat-vsw", "198.51.100.70,198.51.100.9", vswitch="vsw-app"),
                snat("snat-h1", "198.51.100.70", cidr="10.71.1.11/32"),
            ]
        )
    )
    text = snat_dataplane.render(rules)
    lines = text.splitlines()
    assert lines[:3] == ["table ip alicloud_snat {}", "delete table ip alicloud_snat", "table ip alicloud_snat {"]
    assert "type nat hook postrouting priority 110; policy accept;" in text
    assert 'ip saddr 10.71.1.11/32 ip daddr != 10.71.0.0/16 snat to 198.51.100.70 comment "snat-h1 ngw-1"' in text
    assert "snat to jhash ip saddr mod 2 seed 0x0 map { 0 : 198.51.100.9, 1 : 198.51.100.70 }" in text
    assert text.index("10.71.1.11/32") < text.index("10.71.1.0/24")


def test_matching_rule_and_rows_without_probes():
    current = state(
        [snat("snat-vsw", "198.51.100.70", vswitch="vsw-app"), snat("snat-h1", "198.51.100.9", cidr="10.71.1.11/32")]
    )
    rules = snat_dataplane.snat_rules(current)
    assert snat_dataplane.matching_rule(rules, "10.71.1.11")["snat_entry_id"] == "snat-h1"
    assert snat_dataplane.matching_rule(rules, "10.71.1.12")["snat_entry_id"] == "snat-vsw"
    assert snat_dataplane.matching_rule(rules, "10.99.0.1") is None
    rows = snat_dataplane.egress_rows(current)
    assert [(row["eip"], row["source"], row["traffic_verified"]) for row in rows] == [
        ("198.51.100.9", "10.71.1.11/32", None),
        ("198.51.100.70", "10.71.1.0/24", None),
    ]
    assert "no probe host uses it" in snat_dataplane.format_rows(rows)


@pytest.mark.parametrize(
    "seen, ping_ok, expected",
    [
        ({"198.51.100.70": 3}, True, {"198.51.100.9": None, "198.51.100.70": True}),
        ({"10.71.1.12": 3}, True, {"198.51.100.9": False, "198.51.100.70": False}),  # left without SNAT
        ({}, False, {"198.51.100.9": False, "198.51.100.70": False}),
    ],
)
def test_rows_mark_what_the_client_saw(monkeypatch, seen, ping_ok, expected):
    calls = []

    def fake_probe(host_ns, client_ns, source=None, count=3):
        calls.append((host_ns, client_ns, source))
        return {"host": host_ns, "source": source, "ping_ok": ping_ok, "seen": seen}

    monkeypatch.setattr(snat_dataplane, "probe", fake_probe)
    current = state([snat("snat-vsw", "198.51.100.70,198.51.100.9", vswitch="vsw-app")])
    rows = snat_dataplane.egress_rows(current, "ne-inet", {"ne-h2": "10.71.1.12", "ne-far": "10.99.0.1"})
    assert calls == [("ne-h2", "ne-inet", "10.71.1.12")]  # a host outside every source is not probed
    assert {row["eip"]: row["traffic_verified"] for row in rows} == expected
    text = snat_dataplane.format_rows(rows)
    assert ("NO: ne-h2 (10.71.1.12)" in text) == (False in expected.values())
