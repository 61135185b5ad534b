"""ECS ModifyNetworkInterfaceAttribute and TagResources / UntagResources (ResourceType eni, instance), real SDK."""

from __future__ import annotations

import pytest
from alibabacloud_ecs20140526 import models as m

from tests.emulator.tests.conftest import REGION, api_error
from tests.emulator.tests.network_support import SECURITY_GROUPS, world_with


def view(ecs, eni_id: str):
    body = ecs.describe_network_interfaces(
        m.DescribeNetworkInterfacesRequest(region_id=REGION, network_interface_id=[eni_id])
    ).body
    return body.network_interface_sets.network_interface_set[0]


def tags_of(item) -> dict:
    return {tag.tag_key: tag.tag_value for tag in (item.tags.tag if item.tags else [])}


def failure(call) -> tuple[str, int]:
    with pytest.raises(Exception) as excinfo:
        call()
    return api_error(excinfo)


@pytest.fixture
def groups(control):
    """BASE_WORLD with a security group per VPC, and a second one in vpc-main."""
    control.load(world_with(security_groups=SECURITY_GROUPS + [{"id": "sg-main-2", "vpc": "vpc-main"}]))
    return control


def test_modify_sets_name_description_and_groups(ecs, groups):
    ecs.modify_network_interface_attribute(
        m.ModifyNetworkInterfaceAttributeRequest(
            region_id=REGION,
            network_interface_id="eni-free",
            network_interface_name="renamed",
            description="new text",
            security_group_id=["sg-main", "sg-main-2"],
        )
    )
    eni = view(ecs, "eni-free")
    assert eni.network_interface_name == "renamed"
    assert eni.description == "new text"
    assert eni.security_group_ids.security_group_id == ["sg-main", "sg-main-2"]


def test_modify_leaves_unsent_fields_alone(ecs, groups):
    ecs.modify_network_interface_attribute(
        m.ModifyNetworkInterfaceAttributeRequest(region_id=REGION, network_interface_id="eni-free", description="d")
    )
    ecs.modify_network_interface_attribute(
        m.ModifyNetworkInterfaceAttributeRequest(
            region_id=REGION, network_interface_id="eni-free", network_interface_name="nn"
        )
    )
    eni = view(ecs, "eni-free")
    assert (eni.network_interface_name, eni.description) == ("nn", "d")


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"network_interface_id": "eni-missing"}, ("InvalidEniId.NotFound", 404)),
        (
            {"network_interface_id": "eni-free", "security_group_id": ["sg-nope"]},
            ("InvalidSecurityGroupId.NotFound", 404),
        ),
        ({"network_interface_id": "eni-free", "security_group_id": ["sg-gw"]}, ("InvalidOperation.VpcMismatch", 403)),
        ({"network_interface_id": "eni-free", "network_interface_name": "x"}, ("InvalidParameter", 400)),
    ],
)
def test_modify_refusals(ecs, groups, fields, expected):
    request = m.ModifyNetworkInterfaceAttributeRequest(region_id=REGION, **fields)
    assert failure(lambda: ecs.modify_network_interface_attribute(request)) == expected


def test_tag_and_untag_an_eni(ecs, groups):
    ecs.tag_resources(
        m.TagResourcesRequest(
            region_id=REGION,
            resource_type="eni",
            resource_id=["eni-free", "eni-multi"],
            tag=[m.TagResourcesRequestTag(key="team", value="web"), m.TagResourcesRequestTag(key="env", value="a")],
        )
    )
    ecs.tag_resources(
        m.TagResourcesRequest(
            region_id=REGION,
            resource_type="eni",
            resource_id=["eni-free"],
            tag=[m.TagResourcesRequestTag(key="env", value="b")],
        )
    )
    assert tags_of(view(ecs, "eni-free")) == {"team": "web", "env": "b"}
    assert tags_of(view(ecs, "eni-multi")) == {"team": "web", "env": "a"}
    ecs.untag_resources(
        m.UntagResourcesRequest(region_id=REGION, resource_type="eni", resource_id=["eni-free"], tag_key=["team"])
    )
    assert tags_of(view(ecs, "eni-free")) == {"env": "b"}
    ecs.untag_resources(
        m.UntagResourcesRequest(region_id=REGION, resource_type="eni", resource_id=["eni-multi"], all=True)
    )
    assert tags_of(view(ecs, "eni-multi")) == {}
    tagged = ecs.describe_network_interfaces(
        m.DescribeNetworkInterfacesRequest(
            region_id=REGION, tag=[m.DescribeNetworkInterfacesRequestTag(key="env", value="b")]
        )
    ).body.network_interface_sets.network_interface_set
    assert [item.network_interface_id for item in tagged] == ["eni-free"]


def test_tag_an_instance(ecs, groups):
    ecs.tag_resources(
        m.TagResourcesRequest(
            region_id=REGION,
            resource_type="instance",
            resource_id=["i-running"],
            tag=[m.TagResourcesRequestTag(key="role", value="db")],
        )
    )
    body = ecs.describe_instances(m.DescribeInstancesRequest(region_id=REGION, instance_ids='["i-running"]')).body
    assert tags_of(body.instances.instance[0]) == {"role": "db"}


@pytest.mark.parametrize(
    ("request_fields", "expected"),
    [
        ({"resource_type": "eni", "resource_id": ["eni-missing"]}, ("InvalidResourceId.NotFound", 404)),
        ({"resource_type": "bucket", "resource_id": ["eni-free"]}, ("InvalidResourceType.NotFound", 404)),
    ],
)
def test_tag_refusals(ecs, groups, request_fields, expected):
    request = m.TagResourcesRequest(
        region_id=REGION, tag=[m.TagResourcesRequestTag(key="k", value="v")], **request_fields
    )
    assert failure(lambda: ecs.tag_resources(request)) == expected


def test_tag_quota_of_twenty(ecs, groups):
    tags = [m.TagResourcesRequestTag(key=f"k{number}", value="v") for number in range(20)]
    ecs.tag_resources(m.TagResourcesRequest(region_id=REGION, resource_type="eni", resource_id=["eni-free"], tag=tags))
    extra = m.TagResourcesRequest(
        region_id=REGION,
        resource_type="eni",
        resource_id=["eni-free"],
        tag=[m.TagResourcesRequestTag(key="k20", value="v")],
    )
    assert failure(lambda: ecs.tag_resources(extra)) == ("InvalidTagCount", 400)
    assert len(tags_of(view(ecs, "eni-free"))) == 20


def test_untag_needs_keys_or_all(ecs, groups):
    request = m.UntagResourcesRequest(region_id=REGION, resource_type="eni", resource_id=["eni-free"])
    assert failure(lambda: ecs.untag_resources(request)) == ("MissingParameter", 400)
