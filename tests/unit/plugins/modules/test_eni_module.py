"""The eni module's executor and diff (plugins/modules/eni.py), with the API wrappers replaced by recorders."""

from __future__ import annotations

import pytest
from ansible_collections.alicloud.eip.plugins.module_utils._eni import Plan, Step
from ansible_collections.alicloud.eip.plugins.module_utils._retries import AlicloudApiError
from ansible_collections.alicloud.eip.plugins.modules import eni as eni_module


class Recorder:
    """Stands in for every API wrapper the executor calls, in order."""

    def __init__(self, created_id="eni-new"):
        self.calls = []
        self.created_id = created_id

    def install(self, monkeypatch):
        for name in (
            "modify_network_interface_attribute",
            "unassign_private_ip_addresses",
            "untag_interfaces",
            "tag_interfaces",
            "detach_network_interface",
            "attach_network_interface",
            "delete_network_interface",
        ):
            monkeypatch.setattr(eni_module, name, self.recorder(name))
        monkeypatch.setattr(eni_module, "create_network_interface", self.create)
        monkeypatch.setattr(eni_module, "assign_private_ip_addresses", self.recorder("assign"))
        monkeypatch.setattr(eni_module, "wait_for_interfaces", self.wait)

    def recorder(self, name):
        def call(connection, *args, **kwargs):
            self.calls.append((name, args, kwargs))

        return call

    def create(self, connection, **kwargs):
        self.calls.append(("create", (), kwargs))
        return self.created_id

    def wait(self, connection, expectations, timeout):
        self.calls.append(("wait", (dict(expectations),), {"timeout": timeout}))


def names(recorder):
    return [call[0] for call in recorder.calls]


def test_create_then_attach_uses_the_new_id_and_waits(monkeypatch):
    recorder = Recorder()
    recorder.install(monkeypatch)
    plan = Plan([Step("create", {"vswitch_id": "vsw-1"}), Step("attach", {"instance_id": "i-1"})], {})
    assert eni_module.run_plan(None, plan, "", wait=True, timeout=30) == "eni-new"
    assert names(recorder) == ["create", "attach_network_interface", "wait"]
    assert recorder.calls[1][1] == ("eni-new", "i-1")
    assert recorder.calls[2][1] == ({"eni-new": "InUse"},)
    assert plan.created_id == "eni-new"


def test_without_wait_a_detach_is_still_waited_for_before_the_delete(monkeypatch):
    recorder = Recorder()
    recorder.install(monkeypatch)
    plan = Plan([Step("detach", {"instance_id": "i-1"}), Step("delete")], {})
    eni_module.run_plan(None, plan, "eni-1", wait=False, timeout=30)
    assert names(recorder) == ["detach_network_interface", "wait", "delete_network_interface"]
    assert recorder.calls[1][1] == ({"eni-1": "Available"},)


def test_without_wait_a_last_detach_or_attach_returns_at_once(monkeypatch):
    recorder = Recorder()
    recorder.install(monkeypatch)
    eni_module.run_plan(None, Plan([Step("detach", {"instance_id": "i-1"})], {}), "eni-1", wait=False, timeout=30)
    eni_module.run_plan(None, Plan([Step("attach", {"instance_id": "i-1"})], {}), "eni-1", wait=False, timeout=30)
    assert names(recorder) == ["detach_network_interface", "attach_network_interface"]


def test_delete_waits_until_gone(monkeypatch):
    recorder = Recorder()
    recorder.install(monkeypatch)
    eni_module.run_plan(None, Plan([Step("delete")], {}), "eni-1", wait=True, timeout=7)
    assert recorder.calls[-1] == ("wait", ({"eni-1": "Deleted"},), {"timeout": 7})


def test_every_step_kind_reaches_its_wrapper_in_order(monkeypatch):
    recorder = Recorder()
    recorder.install(monkeypatch)
    plan = Plan(
        [
            Step("modify", {"name": "n"}),
            Step("unassign", {"private_ip_addresses": ["10.0.0.7"]}),
            Step("assign", {"count": 2}),
            Step("untag", {"keys": ["old"]}),
            Step("tag", {"tags": {"a": "1"}}),
        ],
        {},
    )
    eni_module.run_plan(None, plan, "eni-1", wait=True, timeout=30)
    assert names(recorder) == [
        "modify_network_interface_attribute",
        "unassign_private_ip_addresses",
        "assign",
        "untag_interfaces",
        "tag_interfaces",
    ]
    assert recorder.calls[0][2] == {"name": "n"}
    assert recorder.calls[2][2] == {"private_ip_addresses": None, "count": 2}
    assert recorder.calls[3][1] == (["eni-1"], ["old"])


def test_a_create_without_an_id_is_an_error(monkeypatch):
    recorder = Recorder(created_id="")
    recorder.install(monkeypatch)
    plan = Plan([Step("create", {}), Step("attach", {"instance_id": "i-1"})], {})
    with pytest.raises(AlicloudApiError, match="answered without an ENI ID"):
        eni_module.run_plan(None, plan, "", wait=True, timeout=30)
    assert names(recorder) == ["create"]


def test_diff_carries_the_secondary_address_count():
    before = {"id": "eni-1", "secondary_private_ip_addresses": ["10.0.0.6"]}
    after = {"id": "eni-1", "secondary_private_ip_addresses": ["10.0.0.6"]}
    diff = eni_module.build_diff(before, after, {"secondary_private_ip_address_count": 3})
    assert diff["before"]["secondary_private_ip_address_count"] == 1
    assert diff["after"]["secondary_private_ip_address_count"] == 3
    assert eni_module.build_diff(before, {}, {})["after"] == {}
