"""VPC ListIpv4Gateways through the real SDK: which world VPC has an IPv4 gateway (alibaba-api.md §5)."""

from __future__ import annotations

import pytest
from alibabacloud_vpc20160428 import models as m

from tests.emulator.tests.conftest import REGION, api_error
from tests.emulator.tests.network_support import world_with


def listing(vpc, **kwargs):
    """The body of one ListIpv4Gateways call in the test region."""
    return vpc.list_ipv_4gateways(m.ListIpv4GatewaysRequest(region_id=REGION, **kwargs)).body


def test_only_the_vpc_with_a_gateway_is_listed(vpc):
    body = listing(vpc)
    # BASE_WORLD: vpc-gw has ipv4_gateway: true without an ID, so the ID is derived from the VPC's suffix.
    assert [(g.ipv_4gateway_id, g.vpc_id) for g in body.ipv_4gateway_models] == [("ipv4gw-gw", "vpc-gw")]
    assert body.total_count == 1 and body.next_token == ""
    gateway = body.ipv_4gateway_models[0]
    assert gateway.status == "Created" and gateway.enabled is True


@pytest.mark.parametrize(
    "filters, expected",
    [
        ({"vpc_id": "vpc-gw"}, ["vpc-gw"]),
        ({"vpc_id": "vpc-main"}, []),
        ({"ipv_4gateway_id": "ipv4gw-gw"}, ["vpc-gw"]),
        ({"ipv_4gateway_id": "ipv4gw-other"}, []),
        ({"ipv_4gateway_name": "named"}, []),
    ],
)
def test_filters(vpc, filters, expected):
    assert [g.vpc_id for g in listing(vpc, **filters).ipv_4gateway_models] == expected


def test_token_paging_and_bad_input(vpc, control):
    # The world may name a gateway's ID; a VPC without ipv4_gateway has none.
    extra = [{"id": "vpc-one", "ipv4_gateway_id": "ipv4gw-explicit"}, {"id": "vpc-two", "ipv4_gateway": True}]
    world = world_with(vpcs=extra + [{"id": "vpc-three"}])
    control.load(world)
    first = listing(vpc, max_results=2)
    assert [g.ipv_4gateway_id for g in first.ipv_4gateway_models] == ["ipv4gw-gw", "ipv4gw-explicit"]
    assert first.next_token and first.total_count == 3
    second = listing(vpc, max_results=2, next_token=first.next_token)
    assert [g.ipv_4gateway_id for g in second.ipv_4gateway_models] == ["ipv4gw-two"] and second.next_token == ""
    with pytest.raises(Exception) as excinfo:
        listing(vpc, max_results=101)
    assert api_error(excinfo) == ("InvalidParameter", 400)
    with pytest.raises(Exception) as excinfo:
        vpc.list_ipv_4gateways(m.ListIpv4GatewaysRequest(region_id="xx-nowhere-1"))
    assert api_error(excinfo)[0] == "InvalidRegionId.NotFound"
