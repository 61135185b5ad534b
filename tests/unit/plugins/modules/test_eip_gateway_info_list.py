"""eip_gateway_info with network_interface_ids: many ENIs in one task, the describes of their EIPs batched."""

from __future__ import annotations

import pytest
from ansible_collections.alicloud.eip.plugins.module_utils._retries import AlicloudApiError
from ansible_collections.alicloud.eip.plugins.modules import eip_gateway_info
from ansible_collections.alicloud.eip.tests.unit.plugins.module_utils.test_eip_lifecycle import record
from ansible_collections.alicloud.eip.tests.unit.plugins.modules.test_eip_lifecycle_modules import (  # noqa: F401  pylint: disable=unused-import
    cloud,
    run,
)

GATEWAYS = {
    "eni-a": [
        {"ip": "47.0.1.20", "gateway": "47.0.1.1", "mask": "255.255.255.0"},
        {"ip": "47.0.1.3", "gateway": "47.0.1.1", "mask": "255.255.255.0"},
    ],
    "eni-b": [{"ip": "47.0.2.5", "gateway": "47.0.2.1", "mask": "255.255.255.0"}],
    "eni-c": [],
}


@pytest.fixture
def gateways(cloud):
    def gateway_info(connection, eni_id):
        cloud.calls.append(("DescribeEipGatewayInfo", eni_id))
        if eni_id not in GATEWAYS:
            raise AlicloudApiError("Forbbiden", "no such ENI", "R-4", 403, action="DescribeEipGatewayInfo")
        return [dict(entry) for entry in GATEWAYS[eni_id]]

    cloud.describe_eip_gateway_info = gateway_info
    on_a, on_b = ("NetworkInterface", "eni-a"), ("NetworkInterface", "eni-b")
    cloud.eips["eip-a3"] = record("eip-a3", ip="47.0.1.3", on=on_a, mode="MULTI_BINDED")
    cloud.eips["eip-a20"] = record("eip-a20", ip="47.0.1.20", on=on_a, mode="MULTI_BINDED")
    # 47.0.2.5 has an EIP record, but on another ENI: like the single form, no allocation ID for eni-b's entry.
    cloud.eips["eip-x"] = record("eip-x", ip="47.0.2.5", on=on_a, mode="MULTI_BINDED")
    return cloud


def test_the_entries_of_many_enis_in_order_with_one_describe(gateways):
    entries = eip_gateway_info.fleet_gateway_entries(None, ["eni-b", "eni-c", "eni-a"], api=gateways)
    assert [(e["network_interface_id"], e["ip"], e["allocation_id"]) for e in entries] == [
        ("eni-b", "47.0.2.5", ""),
        ("eni-a", "47.0.1.3", "eip-a3"),
        ("eni-a", "47.0.1.20", "eip-a20"),
    ]
    assert sorted(call[1] for call in gateways.calls if call[0] == "DescribeEipGatewayInfo") == [
        "eni-a",
        "eni-b",
        "eni-c",
    ]
    describes = [sorted(call[1]) for call in gateways.calls if call[0] == "DescribeEipAddresses"]
    assert describes == [["47.0.1.20", "47.0.1.3", "47.0.2.5"]]  # one describe for every address


def test_the_single_form_gives_the_same_entries_per_eni(gateways):
    fleet = eip_gateway_info.fleet_gateway_entries(None, ["eni-a"], api=gateways)
    single = eip_gateway_info.gateway_entries(None, "eni-a", api=gateways)
    assert [{key: value for key, value in e.items() if key != "network_interface_id"} for e in fleet] == single


def test_no_entries_cost_no_describe(gateways):
    assert eip_gateway_info.fleet_gateway_entries(None, ["eni-c"], api=gateways) == []
    assert [call[0] for call in gateways.calls] == ["DescribeEipGatewayInfo"]


def test_an_eni_the_api_refuses_fails_the_read(gateways):
    with pytest.raises(AlicloudApiError, match="Forbbiden"):
        eip_gateway_info.fleet_gateway_entries(None, ["eni-a", "eni-nowhere"], api=gateways)


@pytest.mark.parametrize(
    "args, message",
    [
        ({"network_interface_ids": ["eni-a", "i-1"]}, "network_interface_ids[1]: 'i-1' is not an ENI ID"),
        ({"network_interface_ids": ["eni-a"], "eni_id": "eni-b"}, "mutually exclusive"),
        ({}, "one of the following is required: network_interface_id, network_interface_ids"),
    ],
)
def test_bad_input_is_refused_before_any_call(monkeypatch, capsys, gateways, args, message):
    result = run(monkeypatch, capsys, eip_gateway_info, args)
    assert result["failed"] and message in result["msg"] and gateways.calls == []
