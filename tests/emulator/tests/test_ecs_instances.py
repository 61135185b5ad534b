"""ECS DescribeInstances through the real SDK (alibaba-api.md §8.7)."""

from __future__ import annotations

import json

import pytest
from alibabacloud_ecs20140526 import models as ecs_models
from alibabacloud_ecs20140526.client import Client as EcsClient

from tests.emulator.tests.conftest import REGION, api_error, make_config
from tests.emulator.tests.network_support import bind_eip, world_with


def describe(ecs, **kwargs):
    return ecs.describe_instances(ecs_models.DescribeInstancesRequest(region_id=REGION, **kwargs)).body


def ids(body) -> list[str]:
    return [instance.instance_id for instance in body.instances.instance]


def test_instance_ids_json_text_selects_instances(ecs, signature, server):
    client = EcsClient(make_config(server.endpoint, signature))
    body = describe(client, instance_ids=json.dumps(["i-stopped", "i-running", "i-unknown"]))
    assert ids(body) == ["i-running", "i-stopped"]
    assert body.total_count == 2


def test_unknown_instance_id_gives_empty_list(ecs):
    assert ids(describe(ecs, instance_ids='["i-nothere"]')) == []


@pytest.mark.parametrize("text", ["i-running", '{"a": 1}', "[1, 2]"])
def test_instance_ids_must_be_a_json_array_of_strings(ecs, text):
    with pytest.raises(Exception) as excinfo:
        describe(ecs, instance_ids=text)
    assert api_error(excinfo) == ("InvalidParameter", 400)


def test_more_than_100_instance_ids_is_refused(ecs):
    with pytest.raises(Exception) as excinfo:
        describe(ecs, instance_ids=json.dumps([f"i-{n}" for n in range(101)]))
    assert api_error(excinfo) == ("InvalidParameter", 400)


def test_filters_by_vpc_vswitch_and_status(ecs):
    assert ids(describe(ecs, vpc_id="vpc-gw")) == ["i-gwvpc"]
    assert ids(describe(ecs, v_switch_id="vsw-gw")) == ["i-gwvpc"]
    assert ids(describe(ecs, status="Stopped")) == ["i-stopped"]
    assert ids(describe(ecs, status="Starting")) == ["i-starting"]


def test_unknown_status_value_is_refused(ecs):
    with pytest.raises(Exception) as excinfo:
        describe(ecs, status="Sleeping")
    assert api_error(excinfo) == ("InvalidStatus.NotFound", 404)


def test_unknown_region_is_refused(ecs):
    with pytest.raises(Exception) as excinfo:
        ecs.describe_instances(ecs_models.DescribeInstancesRequest(region_id="mars-north-1"))
    assert api_error(excinfo) == ("InvalidRegionId.NotFound", 404)


def test_tag_filter_matches_key_and_value(ecs, control):
    control.load(
        world_with(
            instances=[
                {"id": "i-web", "vswitch": "vsw-b", "tags": {"role": "web", "env": "prod"}},
                {"id": "i-db", "vswitch": "vsw-b", "tags": {"role": "db", "env": "prod"}},
            ]
        )
    )
    tag = ecs_models.DescribeInstancesRequestTag
    assert ids(describe(ecs, tag=[tag(key="env", value="prod")])) == ["i-db", "i-web"]
    assert ids(describe(ecs, tag=[tag(key="env", value="prod"), tag(key="role", value="web")])) == ["i-web"]
    assert ids(describe(ecs, tag=[tag(key="role")])) == ["i-db", "i-web"]
    web = describe(ecs, instance_ids='["i-web"]').instances.instance[0]
    assert {(t.tag_key, t.tag_value) for t in web.tags.tag} == {("role", "web"), ("env", "prod")}


def test_max_results_and_next_token_walk_every_instance(ecs):
    seen, token, pages = [], None, 0
    while True:
        body = describe(ecs, max_results=4, next_token=token)
        seen += ids(body)
        pages += 1
        token = body.next_token
        if not token:
            break
    assert seen == sorted(seen) and len(seen) == 6 and len(set(seen)) == 6
    assert pages == 2


def test_page_number_and_page_size(ecs):
    second = describe(ecs, page_number=2, page_size=4)
    assert (second.page_number, second.page_size, second.total_count) == (2, 4, 6)
    assert len(second.instances.instance) == 2


@pytest.mark.parametrize("field,value", [("max_results", 101), ("max_results", 0), ("page_size", 101)])
def test_page_sizes_out_of_range_are_refused(ecs, field, value):
    with pytest.raises(Exception) as excinfo:
        describe(ecs, **{field: value})
    assert api_error(excinfo) == ("InvalidParameter", 400)


def test_garbage_next_token_is_refused(ecs):
    with pytest.raises(Exception) as excinfo:
        describe(ecs, next_token="not-a-token")
    assert api_error(excinfo) == ("InvalidParameter", 400)


def test_network_view_of_an_instance(ecs):
    instance = describe(ecs, instance_ids='["i-running"]').instances.instance[0]
    assert instance.vpc_attributes.vpc_id == "vpc-main"
    assert instance.vpc_attributes.v_switch_id == "vsw-a"
    primary_ip = instance.vpc_attributes.private_ip_address.ip_address[0]
    interfaces = instance.network_interfaces.network_interface
    assert [(i.network_interface_id, i.type) for i in interfaces] == [
        ("eni-running", "Primary"),
        ("eni-attached", "Secondary"),
    ]
    assert interfaces[0].primary_ip_address == primary_ip
    assert interfaces[1].private_ip_sets.private_ip_set[0].private_ip_address == "10.1.0.70"
    assert instance.instance_type_family == "ecs.g5"
    assert instance.eip_address.ip_address == ""
    assert instance.public_ip_address.ip_address == []


def test_fixed_public_ip_is_reported_and_filterable(ecs):
    instance = describe(ecs, instance_ids='["i-fixedip"]').instances.instance[0]
    assert instance.public_ip_address.ip_address == ["121.40.1.1"]
    assert ids(describe(ecs, public_ip_addresses='["121.40.1.1"]')) == ["i-fixedip"]


def test_private_ip_filter_matches_the_primary_address(ecs):
    primary_ip = (
        describe(ecs, instance_ids='["i-g7"]').instances.instance[0].vpc_attributes.private_ip_address.ip_address[0]
    )
    assert ids(describe(ecs, private_ip_addresses=json.dumps([primary_ip]))) == ["i-g7"]


def test_bound_eip_appears_with_sdk_types(ecs, server):
    bind_eip(server, "eip-a", "EcsInstance", "i-running")
    instance = describe(ecs, instance_ids='["i-running"]').instances.instance[0]
    eip = instance.eip_address
    assert (eip.allocation_id, eip.ip_address, eip.internet_charge_type) == ("eip-a", "47.96.1.10", "PayByTraffic")
    assert eip.bandwidth == 5 and isinstance(eip.bandwidth, int)
    assert eip.is_support_unassociate is True
    assert ids(describe(ecs, eip_addresses='["47.96.1.10"]')) == ["i-running"]


def test_eip_still_associating_is_not_shown(ecs, server):
    bind_eip(server, "eip-a", "EcsInstance", "i-running", Status="Associating")
    assert describe(ecs, instance_ids='["i-running"]').instances.instance[0].eip_address.ip_address == ""


def test_eip_bound_to_an_eni_is_not_the_instance_eip(ecs, server):
    bind_eip(server, "eip-a", "NetworkInterface", "eni-attached", PrivateIpAddress="10.1.0.70")
    assert describe(ecs, instance_ids='["i-running"]').instances.instance[0].eip_address.ip_address == ""


def test_metadata_options_follow_the_world(ecs, control):
    control.load(world_with(instances=[{"id": "i-hard", "vswitch": "vsw-b", "metadata_token_required": True}]))
    hard = describe(ecs, instance_ids='["i-hard", "i-running"]').instances.instance
    assert {i.instance_id: i.metadata_options.http_tokens for i in hard} == {
        "i-hard": "required",
        "i-running": "optional",
    }
