# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every association mode of the specification (*Associate an EIP with a cloud resource*) has its picture in
docs/diagrams/, and docs/association-modes.md shows each one (issue 16). test_diagrams.py keeps the SVGs current."""

from __future__ import annotations

import os
import re

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))
DIAGRAMS = os.path.join(ROOT, "docs", "diagrams")
GUIDE = os.path.join(ROOT, "docs", "association-modes.md")

# Mode of the specification -> (picture, words its source must contain: the API's names for it and the host side).
MODES = {
    "ECS instance": ("mode-ecs-instance", ["EcsInstance", "eth0"]),
    "ENI, NAT mode on primary and secondary IPs": ("mode-eni-nat", ["NAT", "PrivateIpAddress", "secondary", "lookup"]),
    "ENI, cut-through": ("mode-cut-through", ["BINDED", "100.64.0.0/10 lookup main", "999"]),
    "ENI, multi-EIP cut-through": ("mode-multi-eip-cut-through", ["MULTI_BINDED", "DescribeEipGatewayInfo", "IpMask"]),
    "NAT gateway with SNAT entries": ("mode-nat-gateway", ["InstanceType Nat", "SNAT"]),
    "CLB": ("mode-clb", ["SlbInstance"]),
    "HaVip": ("mode-havip", ["InstanceType HaVip", "keepalived", "eni_host_keep_addresses"]),
    "ALB and NLB zones": ("mode-alb-nlb-zones", ["UpdateLoadBalancerAddressTypeConfig", "UpdateLoadBalancerZones"]),
}


def read(path: str) -> str:
    with open(path, encoding="utf-8") as handle:
        return handle.read()


@pytest.mark.parametrize("mode", sorted(MODES))
def test_the_mode_has_a_picture_of_both_sides(mode):
    name, words = MODES[mode]
    source = read(os.path.join(DIAGRAMS, f"{name}.dot"))
    assert "cloud side" in source and "host side" in source, f"{name}.dot draws only one side"
    missing = [word for word in words if word not in source]
    assert not missing, f"{name}.dot does not show {missing}"


def test_the_guide_shows_every_mode_picture_and_nothing_missing():
    shown = set(re.findall(r"!\[[^\]]*\]\(diagrams/(mode-[\w-]+)\.svg\)", read(GUIDE)))
    drawn = {name[:-4] for name in os.listdir(DIAGRAMS) if name.startswith("mode-") and name.endswith(".dot")}
    assert {picture[0] for picture in MODES.values()} <= drawn
    assert shown == drawn
