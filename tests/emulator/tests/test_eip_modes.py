"""ModifyEipForwardMode and DescribeEipGatewayInfo (alibaba-api.md §3.9, §3.10)."""

from __future__ import annotations

import pytest

from tests.emulator.tests.eip_support import (
    SHANGHAI,
    associate,
    eip_world,
    error_of,
    find,
    forward_mode,
    gateway_info,
    numbered_eips,
)

MODE_WORLD = eip_world(
    region=SHANGHAI,
    zones=["cn-shanghai-a"],
    vpcs=[{"id": "vpc-sh", "cidr": "192.168.0.0/16", "vswitches": [{"id": "vsw-sh", "cidr": "192.168.1.0/24"}]}],
    instances=[{"id": "i-g5", "vswitch": "vsw-sh", "instance_type": "ecs.c5.large"}],
    enis=[
        {"id": "eni-on-g5", "vswitch": "vsw-sh", "instance": "i-g5", "private_ips": ["192.168.1.50", "192.168.1.51"]},
        {"id": "eni-single", "vswitch": "vsw-sh", "private_ips": ["192.168.1.80"]},
    ],
    eips=numbered_eips("eip-sh", 3, "47.100.1.1")
    + [{"id": "eip-gw", "ip": "47.100.2.7", "gateway": "47.100.2.200"}, {"id": "eip-x", "ip": "47.100.3.9"}],
)
ENI = {"instance_type": "NetworkInterface", "region": SHANGHAI}


def test_gateway_info_lists_multi_binded_eips_of_the_eni(vpc, control):
    control.load(MODE_WORLD)
    associate(vpc, "eip-sh-00", "eni-on-g5", mode="MULTI_BINDED", **ENI)
    associate(vpc, "eip-gw", "eni-on-g5", mode="MULTI_BINDED", **ENI)
    associate(vpc, "eip-x", "eni-on-g5", mode="MULTI_BINDED", **ENI)
    associate(vpc, "eip-sh-01", "i-g5", region=SHANGHAI)  # NAT mode on the instance: not listed
    body = gateway_info(vpc, "eni-on-g5", SHANGHAI)
    assert (body.code, body.message) == ("200", "successful")
    infos = [(info.ip, info.ip_gw, info.ip_mask) for info in body.eip_infos.eip_info]
    # Derived: the EIP's /24 with gateway .1 (.254 for an EIP on .1); or what the world says.
    assert infos == [
        ("47.100.1.1", "47.100.1.254", "255.255.255.0"),
        ("47.100.2.7", "47.100.2.200", "255.255.255.0"),
        ("47.100.3.9", "47.100.3.1", "255.255.255.0"),
    ]
    assert gateway_info(vpc, "eni-single", SHANGHAI).eip_infos.eip_info == []


def test_gateway_info_of_unknown_eni(vpc, control):
    control.load(MODE_WORLD)
    assert error_of(gateway_info, vpc, "eni-nothere", SHANGHAI) == ("Forbbiden", 403)
    assert error_of(gateway_info, vpc, "eni-on-g5", "cn-hangzhou") == ("Forbbiden", 403)


def test_forward_mode_changes_nat_to_multi_binded_and_back(vpc, control):
    control.load(MODE_WORLD)
    associate(vpc, "eip-sh-00", "eni-on-g5", private_ip_address="192.168.1.51", **ENI)
    forward_mode(vpc, "eip-sh-00", "MULTI_BINDED", SHANGHAI)
    eip = find(vpc, "eip-sh-00", SHANGHAI)
    assert (eip.mode, eip.status, eip.private_ip_address) == ("MULTI_BINDED", "InUse", "192.168.1.51")
    forward_mode(vpc, "eip-sh-00", "NAT", SHANGHAI)
    assert find(vpc, "eip-sh-00", SHANGHAI).mode == "NAT"


def test_forward_mode_to_nat_takes_the_primary_ip_when_none_is_bound(vpc, control):
    control.load(MODE_WORLD)
    associate(vpc, "eip-sh-00", "eni-on-g5", mode="MULTI_BINDED", **ENI)
    assert find(vpc, "eip-sh-00", SHANGHAI).private_ip_address == ""
    forward_mode(vpc, "eip-sh-00", "NAT", SHANGHAI)
    eip = find(vpc, "eip-sh-00", SHANGHAI)
    assert (eip.mode, eip.private_ip_address) == ("NAT", "192.168.1.50")


def test_forward_mode_to_cut_through_on_a_detached_single_ip_eni(vpc, control):
    control.load(MODE_WORLD)
    associate(vpc, "eip-sh-00", "eni-single", private_ip_address="192.168.1.80", **ENI)
    forward_mode(vpc, "eip-sh-00", "BINDED", SHANGHAI)
    assert find(vpc, "eip-sh-00", SHANGHAI).mode == "BINDED"


def test_forward_mode_same_mode_is_accepted(vpc, control):
    associate(vpc, "eip-a", "i-running")
    forward_mode(vpc, "eip-a", "NAT")
    assert find(vpc, "eip-a").mode == "NAT"


@pytest.mark.parametrize(
    "setup, allocation_id, mode, expected",
    [
        pytest.param(
            ("eip-sh-00", "eni-on-g5", {"private_ip_address": "192.168.1.50", **ENI}),
            "eip-sh-00",
            "BINDED",
            ("Eni.Attached", 400),
            id="cut-through-on-attached-eni",
        ),
        pytest.param(
            ("eip-sh-00", "i-g5", {"region": SHANGHAI}),
            "eip-sh-00",
            "MULTI_BINDED",
            ("Invalid.DirectEip.BindType", 400),
            id="instance-binding",
        ),
        pytest.param(None, "eip-sh-00", "NAT", ("IncorrectEipStatus", 400), id="available-eip"),
        pytest.param(None, "eip-sh-00", "DIRECT", ("IllegalParam.Mode", 400), id="bad-mode"),
        pytest.param(None, "eip-nothere", "NAT", ("InvalidAllocationId.NotFound", 404), id="unknown-eip"),
    ],
)
def test_forward_mode_is_refused(vpc, control, setup, allocation_id, mode, expected):
    control.load(MODE_WORLD)
    if setup:
        associate(vpc, setup[0], setup[1], **setup[2])
    assert error_of(forward_mode, vpc, allocation_id, mode, SHANGHAI) == expected


def test_forward_mode_refuses_mixing_modes_on_one_eni(vpc, control):
    control.load(MODE_WORLD)
    associate(vpc, "eip-sh-00", "eni-on-g5", private_ip_address="192.168.1.50", **ENI)
    associate(vpc, "eip-sh-01", "eni-on-g5", private_ip_address="192.168.1.51", **ENI)
    code = error_of(forward_mode, vpc, "eip-sh-00", "MULTI_BINDED", SHANGHAI)
    assert code == ("OperationFailed.EipBindModeConflict", 400)
    assert find(vpc, "eip-sh-00", SHANGHAI).mode == "NAT"
