"""ECS DescribeSecurityGroups through the real SDK: what a role reads before it creates an ENI."""

from __future__ import annotations

import json

import pytest
from alibabacloud_ecs20140526 import models as ecs_models

from tests.emulator.tests.conftest import REGION, api_error
from tests.emulator.tests.network_support import world_with

GROUPS = [{"id": f"sg-{n:03d}", "vpc": "vpc-main"} for n in range(12)] + [{"id": "sg-gw", "vpc": "vpc-gw"}]


@pytest.fixture
def groups_world(control):
    control.load(world_with(security_groups=GROUPS))


def describe(ecs, **kwargs):
    return ecs.describe_security_groups(ecs_models.DescribeSecurityGroupsRequest(region_id=REGION, **kwargs)).body


def ids(body) -> list[str]:
    return [group.security_group_id for group in body.security_groups.security_group]


def test_ids_json_text_selects_groups_and_skips_unknown_ones(ecs, groups_world):
    body = describe(ecs, security_group_ids=json.dumps(["sg-gw", "sg-001", "sg-nothere"]))
    assert ids(body) == ["sg-001", "sg-gw"]
    assert [group.vpc_id for group in body.security_groups.security_group] == ["vpc-main", "vpc-gw"]


def test_vpc_filter_and_next_token_pages(ecs, groups_world):
    first = describe(ecs, vpc_id="vpc-main", max_results=10)
    second = describe(ecs, vpc_id="vpc-main", max_results=10, next_token=first.next_token)
    assert ids(first) + ids(second) == [group["id"] for group in GROUPS[:12]]
    assert second.next_token in ("", None)


def test_more_than_100_ids_is_refused(ecs, groups_world):
    with pytest.raises(Exception) as excinfo:
        describe(ecs, security_group_ids=json.dumps([f"sg-{n}" for n in range(101)]))
    assert api_error(excinfo) == ("InvalidParameter", 400)


def test_unknown_region_is_refused(ecs, groups_world):
    with pytest.raises(Exception) as excinfo:
        ecs.describe_security_groups(
            ecs_models.DescribeSecurityGroupsRequest(region_id="xx-nowhere-1", security_group_ids='["sg-001"]')
        )
    assert api_error(excinfo) == ("InvalidRegionId.NotFound", 404)
