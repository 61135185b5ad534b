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


def test_arrivals_name_the_last_arrival_and_when_the_associations_came_due(vpc, control):
    control.call("DELETE", "calls")
    control.delays(eip_associate=30.0)
    vpc.associate_eip_address(
        m.AssociateEipAddressRequest(region_id=REGION, allocation_id="eip-a", instance_id="i-running")
    )
    vpc.describe_eip_addresses(m.DescribeEipAddressesRequest(region_id=REGION, allocation_id="eip-a"))
    report = control.call("GET", "arrivals?window=60")
    now = control.call("GET", "clock")["now"]
    due = report["last_due"]["eip.associated"]
    assert 29.0 < due - now <= 30.0  # the association comes due 30 s after its call
    assert now - 5 < report["actions"]["DescribeEipAddresses"]["last_at"] <= now
    assert report["actions"]["DescribeEipAddresses"]["last_at"] >= report["actions"]["AssociateEipAddress"]["last_at"]
    control.call("DELETE", "calls")
    assert control.call("GET", "arrivals?window=60")["last_due"] == {}
