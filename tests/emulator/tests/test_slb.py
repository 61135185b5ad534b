"""SLB DescribeLoadBalancers through the real SDK (what the collection needs to validate a CLB target)."""

from __future__ import annotations

import pytest
from alibabacloud_slb20140515 import models as m

from tests.emulator.tests.conftest import REGION, api_error
from tests.emulator.tests.network_support import world_with


def ids(slb, **kwargs) -> list[str]:
    body = slb.describe_load_balancers(m.DescribeLoadBalancersRequest(region_id=REGION, **kwargs)).body
    return [balancer.load_balancer_id for balancer in body.load_balancers.load_balancer]


@pytest.fixture
def balancers(control):
    control.load(
        world_with(
            load_balancers=[
                {"id": "lb-internet", "vswitch": "vsw-b", "address_type": "internet", "address": "10.2.0.9"},
                {"id": "lb-gw", "vswitch": "vsw-gw", "status": "inactive"},
            ]
        )
    )


def test_describe_by_id_list(slb, balancers):
    assert ids(slb, load_balancer_id="lb-intranet,lb-gw,lb-nothere") == ["lb-gw", "lb-intranet"]
    assert ids(slb, load_balancer_id="lb-nothere") == []


def test_describe_fields(slb, balancers):
    body = slb.describe_load_balancers(
        m.DescribeLoadBalancersRequest(region_id=REGION, load_balancer_id="lb-internet")
    ).body
    balancer = body.load_balancers.load_balancer[0]
    assert (balancer.address, balancer.address_type, balancer.vpc_id, balancer.v_switch_id, balancer.network_type) == (
        "10.2.0.9",
        "internet",
        "vpc-main",
        "vsw-b",
        "vpc",
    )
    assert balancer.load_balancer_status == "active"


def test_filters(slb, balancers):
    assert ids(slb, address_type="internet") == ["lb-internet"]
    assert ids(slb, address_type="intranet") == ["lb-gw", "lb-intranet"]
    assert ids(slb, vpc_id="vpc-gw") == ["lb-gw"]
    assert ids(slb, load_balancer_status="inactive") == ["lb-gw"]


def test_paging(slb, balancers):
    body = slb.describe_load_balancers(
        m.DescribeLoadBalancersRequest(region_id=REGION, page_size=2, page_number=2)
    ).body
    assert (body.total_count, body.page_number, body.page_size) == (3, 2, 2)
    assert [b.load_balancer_id for b in body.load_balancers.load_balancer] == ["lb-intranet"]
    assert slb.describe_load_balancers(m.DescribeLoadBalancersRequest(region_id=REGION)).body.page_size == 50


@pytest.mark.parametrize(
    "kwargs,expected",
    [
        ({"address_type": "public"}, ("InvalidParameter", 400)),
        ({"page_size": 101}, ("InvalidParameter", 400)),
        ({"region_id": "mars-north-1"}, ("InvalidRegionId.NotFound", 404)),
    ],
)
def test_rules(slb, kwargs, expected):
    kwargs.setdefault("region_id", REGION)
    with pytest.raises(Exception) as excinfo:
        slb.describe_load_balancers(m.DescribeLoadBalancersRequest(**kwargs))
    assert api_error(excinfo) == expected
