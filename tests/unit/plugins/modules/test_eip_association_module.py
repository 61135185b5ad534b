"""The eip_association and eip_info modules end to end, on an in-memory cloud behind the API functions."""

from __future__ import annotations

import json

import pytest
from ansible.module_utils import basic
from ansible.module_utils.common.text.converters import to_bytes
from ansible_collections.alicloud.eip.plugins.module_utils._api.namespace import API
from ansible_collections.alicloud.eip.plugins.modules import eip_association, eip_info
from ansible_collections.alicloud.eip.tests.unit.plugins.module_utils.eip_association.fakes import (
    ECS1,
    FakeApi,
    eip,
    instance,
)

CREDENTIALS = {"access_key_id": "ak", "access_key_secret": "secret-value", "region": "cn-hangzhou"}


@pytest.fixture
def cloud(monkeypatch):
    """An in-memory cloud: an instance with an EIP, a free EIP, a second instance."""
    fake = FakeApi(
        [eip("eip-1", ip="47.0.0.1"), eip("eip-old", ip="47.0.0.2", on=ECS1)],
        [(ECS1, instance("i-1")), (("EcsInstance", "i-2"), instance("i-2"))],
    )
    for name in (
        "describe_eip_addresses",
        "describe_instances",
        "describe_network_interfaces",
        "describe_nat_gateways",
        "describe_ha_vips",
        "describe_load_balancers",
        "associate_eip_address",
        "unassociate_eip_address",
    ):
        monkeypatch.setattr(API, name, getattr(fake, name))
    monkeypatch.setattr(eip_info, "describe_eip_addresses", fake.describe_eip_addresses)
    return fake


def run(monkeypatch, capsys, module, args, check_mode=False, diff=False):
    """Run a module's main() with ``args``; returns its JSON result."""
    arguments = {**CREDENTIALS, **args, "_ansible_check_mode": check_mode, "_ansible_diff": diff}
    monkeypatch.setattr(basic, "_ANSIBLE_ARGS", to_bytes(json.dumps({"ANSIBLE_MODULE_ARGS": arguments})))
    monkeypatch.setattr(basic, "_ANSIBLE_PROFILE", "legacy", raising=False)
    with pytest.raises(SystemExit):
        module.main()
    return json.loads(capsys.readouterr().out)


def mutating(fake):
    return [call for call in fake.calls if call[0] in ("AssociateEipAddress", "UnassociateEipAddress")]


def test_check_mode_predicts_and_changes_nothing(monkeypatch, capsys, cloud):
    result = run(
        monkeypatch,
        capsys,
        eip_association,
        {"allocation_id": "eip-1", "instance_id": "i-2"},
        check_mode=True,
        diff=True,
    )
    assert result["changed"] is True
    assert result["actions"] == [
        {
            "action": "associate",
            "allocation_id": "eip-1",
            "ip_address": "47.0.0.1",
            "instance_id": "i-2",
            "instance_type": "EcsInstance",
            "private_ip_address": "",
            "mode": "",
            "zone_id": "",
            "reason": "requested",
        }
    ]
    assert (
        result["diff"]["before"]["eip-1"]["instance_id"] == ""
        and result["diff"]["after"]["eip-1"]["instance_id"] == "i-2"
    )
    assert result["eip"]["status"] == "Available"
    assert mutating(cloud) == []


def test_real_run_then_rerun(monkeypatch, capsys, cloud):
    result = run(monkeypatch, capsys, eip_association, {"allocation_id": "eip-1", "instance_id": "i-2"})
    assert result["changed"] is True and "diff" not in result
    assert result["eip"]["instance_id"] == "i-2" and result["eip"]["status"] == "InUse"
    assert result["eips"] == [result["eip"]]
    cloud.calls.clear()
    again = run(monkeypatch, capsys, eip_association, {"allocation_id": "eip-1", "instance_id": "i-2"})
    assert again["changed"] is False and again["actions"] == []
    assert [call[0] for call in cloud.calls] == ["DescribeEipAddresses"]


def test_predicted_failure_carries_the_code(monkeypatch, capsys, cloud):
    result = run(monkeypatch, capsys, eip_association, {"allocation_id": "eip-1", "instance_id": "i-1"})
    assert result["failed"] is True and result["changed"] is False
    assert result["error"]["code"] == "InvalidAssociation.Duplicated" and result["error"]["predicted"] is True
    assert result["msg"].startswith("ECS instance i-1 already holds EIP eip-old (47.0.0.2)")
    assert mutating(cloud) == []


def test_bad_input_fails_before_any_call(monkeypatch, capsys, cloud):
    result = run(
        monkeypatch, capsys, eip_association, {"allocation_id": "eip-1", "instance_id": "i-2", "mode": "BINDED"}
    )
    assert result["failed"] is True
    assert "mode applies only to ENI targets" in result["msg"]
    assert cloud.calls == []


def test_wait_timeout_must_be_positive(monkeypatch, capsys, cloud):
    result = run(
        monkeypatch, capsys, eip_association, {"allocation_id": "eip-1", "instance_id": "i-2", "wait_timeout": 0}
    )
    assert result["msg"] == "wait_timeout must be a positive number of seconds, got 0"


def test_secrets_stay_out_of_the_result(monkeypatch, capsys, cloud):
    result = run(monkeypatch, capsys, eip_association, {"allocation_id": "eip-1", "instance_id": "i-2"})
    assert "secret-value" not in json.dumps(result)


def test_eip_info_lists_and_never_changes(monkeypatch, capsys, cloud):
    result = run(monkeypatch, capsys, eip_info, {"allocation_ids": ["eip-1", "eip-old"]}, check_mode=True)
    assert result["changed"] is False
    assert sorted(e["allocation_id"] for e in result["eips"]) == ["eip-1", "eip-old"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"associated_instance_id": "eni-1"}, ("eni-1", "NetworkInterface")),
        ({"associated_instance_id": "ngw-1"}, ("ngw-1", "Nat")),
        ({"associated_instance_id": "i-1", "associated_instance_type": "HaVip"}, ("i-1", "HaVip")),
        ({"associated_instance_type": "Nat"}, (None, "Nat")),
    ],
)
def test_eip_info_infers_the_associated_type(params, expected):
    filters = eip_info.build_filters(params)
    assert (filters["associated_instance_id"], filters["associated_instance_type"]) == expected


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"ip_addresses": ["1.2.3"]}, "ip_addresses: '1.2.3' is not an IPv4 address"),
        ({"allocation_ids": ["i-1"]}, "allocation_ids: 'i-1' is not an EIP allocation ID"),
        ({"associated_instance_id": "vm-1"}, "set associated_instance_type"),
    ],
)
def test_eip_info_bad_input(params, fragment):
    with pytest.raises(eip_association.InputError, match=fragment):
        eip_info.build_filters(params)
