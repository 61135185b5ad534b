"""TagResources / UnTagResources / ListTagResources with ResourceType=EIP (VPC tag API)."""

from __future__ import annotations

import pytest
from alibabacloud_vpc20160428 import models as vpc_models

from tests.emulator.tests.conftest import REGION
from tests.emulator.tests.eip_support import eip_world, error_of, find, numbered_eips


def tag(vpc, resource_ids, tags, resource_type="EIP", region=REGION):
    request = vpc_models.TagResourcesRequest(
        region_id=region,
        resource_type=resource_type,
        resource_id=resource_ids,
        tag=[vpc_models.TagResourcesRequestTag(key=key, value=value) for key, value in tags],
    )
    return vpc.tag_resources(request)


def untag(vpc, resource_ids, keys=None, all_tags=None, resource_type="EIP"):
    request = vpc_models.UnTagResourcesRequest(
        region_id=REGION, resource_type=resource_type, resource_id=resource_ids, tag_key=keys, all=all_tags
    )
    return vpc.un_tag_resources(request)


def listing(vpc, resource_ids=None, tags=(), **kwargs):
    request = vpc_models.ListTagResourcesRequest(
        region_id=REGION,
        resource_type=kwargs.pop("resource_type", "EIP"),
        resource_id=resource_ids,
        tag=[vpc_models.ListTagResourcesRequestTag(key=key, value=value) for key, value in tags],
        **kwargs,
    )
    return vpc.list_tag_resources(request).body


def rows(body) -> list[tuple[str, str, str]]:
    return [(row.resource_id, row.tag_key, row.tag_value) for row in body.tag_resources.tag_resource]


def tags_of(vpc, allocation_id) -> dict:
    return {entry.key: entry.value for entry in find(vpc, allocation_id).tags.tag}


def test_tags_are_added_overwritten_and_listed(vpc, control):
    tag(vpc, ["eip-a", "eip-b"], [("env", "prod"), ("team", "edge")])
    assert tags_of(vpc, "eip-a") == {"env": "prod", "team": "edge"}
    assert tags_of(vpc, "eip-b") == {"env": "prod", "team": "edge"}  # team=net overwritten
    body = listing(vpc, ["eip-a"])
    assert rows(body) == [("eip-a", "env", "prod"), ("eip-a", "team", "edge")]
    assert body.tag_resources.tag_resource[0].resource_type == "EIP"
    assert body.next_token == ""


def test_resource_type_is_case_insensitive(vpc, control):
    tag(vpc, ["eip-a"], [("k", "v")], resource_type="eip")
    assert tags_of(vpc, "eip-a") == {"k": "v"}


def test_untag_by_key_and_all(vpc, control):
    tag(vpc, ["eip-a"], [("a", "1"), ("b", "2"), ("c", "3")])
    untag(vpc, ["eip-a"], keys=["a", "missing"])
    assert tags_of(vpc, "eip-a") == {"b": "2", "c": "3"}
    untag(vpc, ["eip-a"], all_tags=True)
    assert tags_of(vpc, "eip-a") == {}


def test_list_by_tag_finds_resources_and_lists_their_tags(vpc, control):
    tag(vpc, ["eip-a"], [("team", "net"), ("env", "prod")])
    assert rows(listing(vpc, tags=[("env", "prod")])) == [("eip-a", "env", "prod"), ("eip-a", "team", "net")]
    # A key alone matches every value; eip-b has team=net from the world.
    found = {resource for resource, _key, _value in rows(listing(vpc, tags=[("team", None)]))}
    assert found == {"eip-a", "eip-b"}
    assert rows(listing(vpc, ["eip-b"], tags=[("env", "prod")])) == []


def test_list_pages_with_next_token(vpc, control):
    control.load(eip_world(eips=numbered_eips("eip-t", 3, tags={"a": "1", "b": "2"})))
    first = listing(vpc, tags=[("a", "1")], max_results=4)
    assert len(rows(first)) == 4 and first.next_token
    second = listing(vpc, tags=[("a", "1")], max_results=4, next_token=first.next_token)
    assert len(rows(second)) == 2 and second.next_token == ""
    assert len(set(rows(first) + rows(second))) == 6


@pytest.mark.parametrize(
    "call, expected",
    [
        pytest.param(
            lambda vpc: tag(vpc, ["eip-nothere"], [("k", "v")]), ("InvalidInstanceIds.NotFound", 400), id="unknown-eip"
        ),
        pytest.param(
            lambda vpc: tag(vpc, ["eip-a"], [("k", "v")], resource_type="VPC"),
            ("InvalidInstanceType.NotFound", 400),
            id="other-type",
        ),
        pytest.param(lambda vpc: tag(vpc, ["eip-a"], []), ("MissingParameter", 400), id="no-tags"),
        pytest.param(lambda vpc: tag(vpc, [], [("k", "v")]), ("MissingParameter", 400), id="no-resource"),
        pytest.param(lambda vpc: tag(vpc, ["eip-a"], [("aliyun-x", "v")]), ("Forbidden.TagKeys", 400), id="system-key"),
        pytest.param(
            lambda vpc: tag(vpc, [f"eip-{n}" for n in range(51)], [("k", "v")]),
            ("SizeLimitExceeded.ResourceId", 400),
            id="51-resources",
        ),
        pytest.param(
            lambda vpc: untag(vpc, ["eip-a"], keys=[f"k{n}" for n in range(21)]),
            ("SizeLimitExceeded.TagNum", 400),
            id="21-keys",
        ),
        pytest.param(listing, ("BothEmpty.TagsAndResources", 403), id="list-without-filter"),
        pytest.param(lambda vpc: listing(vpc, tags=[(None, "v")]), ("InvalidTagKey", 400), id="list-by-value-only"),
        pytest.param(lambda vpc: listing(vpc, ["eip-a"], max_results=51), ("InvalidParameter", 400), id="max-results"),
        pytest.param(
            lambda vpc: listing(vpc, ["eip-a"], next_token="garbage!"), ("InvalidParameter", 400), id="next-token"
        ),
    ],
)
def test_tag_api_errors(vpc, control, call, expected):
    assert error_of(call, vpc) == expected


def test_twenty_tags_per_eip_at_most(vpc, control):
    tag(vpc, ["eip-a"], [(f"k{n}", "v") for n in range(20)])
    assert error_of(tag, vpc, ["eip-a", "eip-b"], [("one-more", "v")]) == ("QuotaExceeded.TagNum", 400)
    # All or nothing: eip-b did not get the tag either.
    assert "one-more" not in tags_of(vpc, "eip-b")
