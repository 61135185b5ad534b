"""The EIP lifecycle wrappers of plugins/module_utils/_api/vpc_eip.py: requests built, batches split, answers read."""

from __future__ import annotations

import pytest
from ansible_collections.alicloud.eip.plugins.module_utils._api import vpc_eip
from ansible_collections.alicloud.eip.tests.unit.plugins.module_utils.api.recording import connection


def test_allocate_sends_the_recovery_keys_and_tags_and_reads_id_and_address():
    link = connection(lambda name, request: {"AllocationId": "eip-9", "EipAddress": "47.0.0.9", "RequestId": "R"})
    result = vpc_eip.allocate_eip_address(
        link, bandwidth=8, name="web", tags={"team": "web"}, ip_address="47.0.0.9", instance_id="eip-old"
    )
    assert result == {"allocation_id": "eip-9", "ip_address": "47.0.0.9"}
    name, request = link.client.requests[0]
    assert name == "allocate_eip_address_with_options"
    assert (request.bandwidth, request.name, request.ip_address, request.instance_id) == (
        "8",
        "web",
        "47.0.0.9",
        "eip-old",
    )
    assert [(tag.key, tag.value) for tag in request.tag] == [("team", "web")]
    assert request.client_token  # created by api_call, kept across retries
    assert request.description is None and request.internet_charge_type is None


def test_modify_sends_only_the_given_fields():
    link = connection(lambda name, request: {"RequestId": "R-1"})
    assert vpc_eip.modify_eip_address_attribute(link, "eip-1", bandwidth=20) == "R-1"
    request = link.client.requests[0][1]
    assert (request.allocation_id, request.bandwidth, request.name, request.description) == ("eip-1", "20", None, None)


def test_release_names_the_eip():
    link = connection(lambda name, request: {"RequestId": "R-2"})
    assert vpc_eip.release_eip_address(link, "eip-1") == "R-2"
    assert link.client.requests[0][1].allocation_id == "eip-1"


@pytest.mark.parametrize("count, calls", [(1, 1), (20, 1), (21, 2), (45, 3)])
def test_tags_go_20_per_call(count, calls):
    link = connection(lambda name, request: {"RequestId": "R"})
    tags = {f"k{n}": str(n) for n in range(count)}
    vpc_eip.tag_resources(link, ["eip-1"], tags)
    requests = [request for _name, request in link.client.requests]
    assert len(requests) == calls
    assert {tag.key: tag.value for request in requests for tag in request.tag} == tags
    assert all(request.resource_type == "EIP" and request.resource_id == ["eip-1"] for request in requests)


def test_untag_goes_20_keys_per_call():
    link = connection(lambda name, request: {"RequestId": "R"})
    vpc_eip.untag_resources(link, ["eip-1"], [f"k{n}" for n in range(25)])
    assert [len(request.tag_key) for _name, request in link.client.requests] == [20, 5]


def test_gateway_info_is_read_with_the_sdk_spelling():
    answer = {
        "Code": "200",
        "EipInfos": {"EipInfo": [{"Ip": "47.0.0.5", "IpGw": "47.0.0.1", "IpMask": "255.255.255.0"}]},
    }
    link = connection(lambda name, request: answer)
    assert vpc_eip.describe_eip_gateway_info(link, "eni-1") == [
        {"ip": "47.0.0.5", "gateway": "47.0.0.1", "mask": "255.255.255.0"}
    ]
    assert link.client.requests[0][1].instance_id == "eni-1"


def test_gateway_info_without_eips():
    link = connection(lambda name, request: {"Code": "200", "EipInfos": {"EipInfo": []}})
    assert vpc_eip.describe_eip_gateway_info(link, "eni-1") == []
