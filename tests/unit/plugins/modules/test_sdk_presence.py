"""A module needs the SDK packages of the products it calls, no other (plugins/module_utils/_client.py).

The packages are really installed here; a missing one is faked where the collection looks (``find_spec``), and the
message is compared with what ``missing_required_lib`` says for it.
"""

from __future__ import annotations

import importlib.util
import json

import pytest
from ansible.module_utils import basic
from ansible.module_utils.basic import missing_required_lib
from ansible.module_utils.common.text.converters import to_bytes
from ansible_collections.alicloud.eip.plugins.module_utils import _client
from ansible_collections.alicloud.eip.plugins.module_utils._products import (
    PRODUCTS_BY_NAME,
)
from ansible_collections.alicloud.eip.plugins.modules import eip_info
from ansible_collections.alicloud.eip.plugins.modules import eni as eni_module

CREDENTIALS = {"access_key_id": "ak", "access_key_secret": "secret-value", "region": "cn-hangzhou"}
REAL_FIND_SPEC = importlib.util.find_spec


def without(monkeypatch, *products: str) -> None:
    """Make the packages of ``products`` (rows of PRODUCTS, or a shared package's import name) look uninstalled."""
    gone = {PRODUCTS_BY_NAME[name].package if name in PRODUCTS_BY_NAME else name for name in products}

    def find_spec(name, *args, **kwargs):
        if name.split(".")[0] in gone:
            return None
        return REAL_FIND_SPEC(name, *args, **kwargs)

    monkeypatch.setattr(_client.importlib.util, "find_spec", find_spec)


def run(monkeypatch, capsys, module, args):
    arguments = {**CREDENTIALS, **args}
    monkeypatch.setattr(basic, "_ANSIBLE_ARGS", to_bytes(json.dumps({"ANSIBLE_MODULE_ARGS": arguments})))
    monkeypatch.setattr(basic, "_ANSIBLE_PROFILE", "legacy", raising=False)
    with pytest.raises(SystemExit):
        module.main()
    return json.loads(capsys.readouterr().out)


def eip(allocation_id: str, service_managed: bool = False) -> dict:
    return {"allocation_id": allocation_id, "ip_address": "47.0.0.1", "service_managed": service_managed, "owner": None}


@pytest.fixture
def vpc_listing(monkeypatch):
    """eip_info's DescribeEipAddresses: builds the real VPC client (as the real wrapper does), answers ``records``."""
    seen = {"records": [eip("eip-plain")], "clients": []}

    def describe(connection, **_filters):
        seen["clients"].append(type(connection.vpc).__name__)
        return [dict(record) for record in seen["records"]]

    monkeypatch.setattr(eip_info, "describe_eip_addresses", describe)
    return seen


def test_a_module_runs_with_the_alb_and_nlb_packages_missing_when_it_calls_only_vpc(monkeypatch, capsys, vpc_listing):
    without(monkeypatch, "alb", "nlb")
    result = run(monkeypatch, capsys, eip_info, {})
    assert not result.get("failed"), result
    assert [item["allocation_id"] for item in result["eips"]] == ["eip-plain"]
    assert vpc_listing["clients"] == ["ProductCaller"]  # the real VPC client was built and reached


def test_a_module_missing_the_vpc_package_fails_naming_it(monkeypatch, capsys, vpc_listing):
    without(monkeypatch, "vpc")
    result = run(monkeypatch, capsys, eip_info, {})
    assert result["failed"] is True
    assert result["msg"] == missing_required_lib("alibabacloud-vpc20160428")
    assert vpc_listing["clients"] == []  # no client was built: it failed where VPC's client was first needed


def test_the_alb_package_is_needed_once_an_eip_sits_on_a_load_balancer_zone(monkeypatch, capsys, vpc_listing):
    # A service-managed EIP: eip_info looks up its owner, listing the ALBs first (then the NLBs).
    vpc_listing["records"] = [eip("eip-zone", service_managed=True)]
    without(monkeypatch, "alb", "nlb")
    result = run(monkeypatch, capsys, eip_info, {})
    assert result["failed"] is True
    assert result["msg"] == missing_required_lib("alibabacloud-alb20200616")
    assert "Traceback" not in json.dumps(result)


def test_a_module_that_declares_its_products_fails_before_any_call(monkeypatch, capsys):
    # eni changes through ECS and reads through VPC: VPC's package missing stops it before its first (ECS) call.
    calls = []
    monkeypatch.setattr(eni_module, "find_interface", lambda *args, **kwargs: calls.append("find_interface"))
    without(monkeypatch, "vpc")
    result = run(monkeypatch, capsys, eni_module, {"name": "web", "vswitch_id": "vsw-1", "security_group_ids": ["sg-1"]})
    assert result["failed"] is True
    assert result["msg"] == missing_required_lib("alibabacloud-vpc20160428")
    assert calls == []


def test_a_shared_package_missing_fails_every_module_at_its_start(monkeypatch, capsys, vpc_listing):
    without(monkeypatch, "alibabacloud_credentials", "alb")
    result = run(monkeypatch, capsys, eip_info, {})
    assert result["msg"] == missing_required_lib("alibabacloud-credentials")
    assert vpc_listing["clients"] == []


def test_missing_sdk_packages_reads_the_product_table(monkeypatch):
    without(monkeypatch, "alb", "nlb")
    assert _client.missing_sdk_packages(()) == []
    assert _client.missing_sdk_packages(("vpc", "ecs")) == []
    assert _client.missing_sdk_packages(("vpc", "alb")) == ["alibabacloud-alb20200616"]
    assert _client.missing_sdk_packages() == ["alibabacloud-alb20200616", "alibabacloud-nlb20220430"]
    with pytest.raises(ValueError, match="unknown SDK products cdn; the products are vpc, ecs, slb, alb, nlb"):
        _client.missing_sdk_packages(("cdn",))


def test_a_connection_outside_a_module_raises_the_same_message(monkeypatch):
    without(monkeypatch, "nlb")
    params = {name: None for name in _client.alicloud_argument_spec()}
    params.update(region="cn-hangzhou", endpoint_url="http://127.0.0.1:9000", access_key_id="ak", access_key_secret="s")
    connection = _client.connection_from_params(params, environ={})
    assert connection.vpc is connection.vpc  # a product whose package is there
    with pytest.raises(_client.MissingSdkError) as raised:
        connection.client("nlb")
    assert raised.value.packages == ["alibabacloud-nlb20220430"]
    assert str(raised.value) == missing_required_lib("alibabacloud-nlb20220430")
