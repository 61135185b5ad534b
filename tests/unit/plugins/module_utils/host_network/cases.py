# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared input for the host-network tests: host links, four ENI cases, captured ``ip -j`` output."""

from __future__ import annotations

import os

from ansible_collections.alicloud.eip.plugins.module_utils._host_network.inventory import (
    resolve_enis,
)
from ansible_collections.alicloud.eip.plugins.module_utils._host_network.model import (
    Route,
    table_for_mac,
)
from ansible_collections.alicloud.eip.plugins.module_utils._host_network.state import (
    observed_state,
)

GOLDEN = os.path.join(os.path.dirname(os.path.dirname(__file__)), "host_network_golden")
MARKER = "Ansible managed: test"

PRIMARY = "00:16:3e:00:00:01"
SECOND = "00:16:3e:00:00:02"
THIRD = "00:16:3e:00:00:03"


def link(name: str, mac: str, index: int, up: bool = True) -> dict:
    flags = ["BROADCAST", "MULTICAST"] + (["UP", "LOWER_UP"] if up else [])
    return {"ifindex": index, "ifname": name, "flags": flags, "link_type": "ether", "address": mac}


LINKS = [
    {
        "ifindex": 1,
        "ifname": "lo",
        "flags": ["LOOPBACK", "UP"],
        "link_type": "loopback",
        "address": "00:00:00:00:00:00",
    },
    link("eth0", PRIMARY, 2),
    link("eth1", SECOND, 3, up=False),
    link("ens7", THIRD, 4, up=False),
]

PRIMARY_SPEC = {"mac": PRIMARY, "addresses": ["10.0.1.10", "10.0.1.11"], "cidr": "10.0.1.0/24", "gateway": "10.0.1.253"}

CASES = {
    "nat": [
        PRIMARY_SPEC,
        {
            "mac": SECOND,
            "addresses": ["10.0.2.20", "10.0.2.21", "10.0.2.22"],
            "cidr": "10.0.2.0/24",
            "gateway": "10.0.2.253",
        },
    ],
    "shared_subnet": [
        PRIMARY_SPEC,
        {"mac": SECOND, "addresses": ["10.0.1.20"], "cidr": "10.0.1.0/24", "gateway": "10.0.1.253"},
        {"mac": THIRD, "addresses": ["10.0.1.30", "10.0.1.31"], "cidr": "10.0.1.0/24", "gateway": "10.0.1.253"},
    ],
    "cut_through": [
        PRIMARY_SPEC,
        {
            "mac": SECOND,
            "mode": "cut_through",
            "addresses": ["203.0.113.10"],
            "cidr": "203.0.113.0/28",
            "gateway": "203.0.113.1",
        },
    ],
    "multi_eip": [
        PRIMARY_SPEC,
        {
            "mac": SECOND,
            "mode": "multi_eip",
            "addresses": ["10.0.2.20"],
            "cidr": "10.0.2.0/24",
            "gateway": "10.0.2.253",
            "eips": [
                {"Ip": "203.0.113.50", "IpGw": "203.0.113.49", "IpMask": "255.255.255.248"},
                {"ip": "203.0.113.34", "gateway": "203.0.113.33", "mask": "28"},
                {"ip": "203.0.113.35", "gateway": "203.0.113.33", "mask": "255.255.255.240"},
            ],
        },
    ],
}


def enis_for(case: str) -> list:
    return resolve_enis(CASES[case], PRIMARY, LINKS)


def empty_observed() -> dict:
    return {
        "addresses": {"eth0": ["10.0.1.10/24"]},
        "routes": [Route(254, "default", "eth0", gateway="10.0.1.253")],
        "rules": [],
        "up": {"eth0": True},
    }


# ---- observed state and plan ----------------------------------------------------------------------------

# Captured from `ip -j` on Linux 6.18 / iproute2 6.1 (trimmed).
ADDR_JSON = [
    {"ifname": "lo", "addr_info": [{"family": "inet", "local": "127.0.0.1", "prefixlen": 8, "scope": "host"}]},
    {"ifname": "eth0", "addr_info": [{"family": "inet", "local": "10.0.1.10", "prefixlen": 24, "scope": "global"}]},
    {
        "ifname": "eth1",
        "addr_info": [
            {"family": "inet", "local": "10.0.2.20", "prefixlen": 24, "scope": "global"},
            {"family": "inet", "local": "10.0.2.99", "prefixlen": 32, "scope": "global"},
        ],
    },
]
ROUTE_JSON = [
    {"dst": "default", "gateway": "10.0.1.253", "dev": "eth0", "flags": []},
    {"dst": "10.0.1.0/24", "dev": "eth0", "protocol": "kernel", "scope": "link", "prefsrc": "10.0.1.10", "flags": []},
    {"dst": "default", "gateway": "10.0.2.1", "dev": "eth1", "table": "TABLE", "protocol": "static", "flags": []},
    {
        "type": "local",
        "dst": "10.0.1.10",
        "dev": "eth0",
        "table": "local",
        "protocol": "kernel",
        "scope": "host",
        "prefsrc": "10.0.1.10",
        "flags": [],
    },
]
RULE_JSON = [
    {"priority": 0, "src": "all", "table": "local"},
    {"priority": 999, "src": "all", "dst": "100.64.0.0", "dstlen": 10, "table": "main"},
    {"priority": "TABLE", "src": "10.0.2.20", "table": "TABLE", "protocol": "static"},
    {"priority": "TABLE", "src": "10.0.2.99", "table": "TABLE"},
    {"priority": 100, "src": "all", "fwmark": "0x10", "table": "TABLE"},
    {"priority": 32766, "src": "all", "table": "main"},
]


def observed_nat() -> dict:
    table = str(table_for_mac(SECOND))

    def fill(items):
        return [{key: (table if value == "TABLE" else value) for key, value in item.items()} for item in items]

    return observed_state(ADDR_JSON, fill(ROUTE_JSON), fill(RULE_JSON), LINKS)
