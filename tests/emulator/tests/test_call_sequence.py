"""``GET /_emulator/sequence``: every authenticated call's action in arrival order (the janitor's order check)."""

from __future__ import annotations

from alibabacloud_ecs20140526 import models as ecs_models
from alibabacloud_vpc20160428 import models as m

from tests.emulator.server import Arrivals
from tests.emulator.tests.conftest import REGION


def test_sequence_keeps_the_arrival_order_and_clears_with_the_counters():
    arrivals = Arrivals(clock=lambda: 0.0)
    for action in ["DescribeVpcs", "ReleaseEipAddress", "DescribeVpcs"]:
        arrivals.record(action)
    assert arrivals.sequence == ["DescribeVpcs", "ReleaseEipAddress", "DescribeVpcs"]
    arrivals.clear()
    assert arrivals.sequence == []


def test_sequence_through_the_control_api(vpc, ecs, control):
    control.call("DELETE", "calls")
    vpc.describe_vpcs(m.DescribeVpcsRequest(region_id=REGION))
    ecs.describe_network_interfaces(ecs_models.DescribeNetworkInterfacesRequest(region_id=REGION))
    vpc.describe_eip_addresses(m.DescribeEipAddressesRequest(region_id=REGION))
    assert control.call("GET", "sequence") == {
        "actions": ["DescribeVpcs", "DescribeNetworkInterfaces", "DescribeEipAddresses"]
    }
    control.call("DELETE", "calls")
    assert control.call("GET", "sequence") == {"actions": []}
