"""The eni module's executor and diff (plugins/modules/eni.py), with the API wrappers replaced by recorders."""

from __future__ import annotations

import json

import pytest
from ansible.module_utils import basic
from ansible.module_utils.common.text.converters import to_bytes
from ansible_collections.alicloud.eip.plugins.module_utils._eni import Plan, Step
from ansible_collections.alicloud.eip.plugins.module_utils._retries import AlicloudApiError
from ansible_collections.alicloud.eip.plugins.modules import eni as eni_module
from ansible_collections.alicloud.eip.tests.unit.plugins.module_utils.test_eni import eni as eni_record


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


# ---- documented limits (issue 9 item 5): refused before any mutating call, check mode and real run alike ---------

CREDENTIALS = {"access_key_id": "ak", "access_key_secret": "secret-value", "region": "cn-hangzhou"}
NEW = {"name": "web-eni", "vswitch_id": "vsw-1", "security_group_ids": ["sg-1"]}
OTHER = eni_record(id="eni-other", name="other", private_ip_addresses=["10.0.0.20", "10.0.0.21"])
EXISTING = eni_record(name="web-eni", private_ip_addresses=["10.0.0.5"], secondary_private_ip_addresses=[])


VSWITCHES = {"vsw-1": ("vpc-1", "10.0.0.0/16"), "vsw-other": ("vpc-2", "10.9.0.0/24")}
GROUPS = {"sg-1": {"id": "sg-1", "vpc_id": "vpc-1"}, "sg-2": {"id": "sg-2", "vpc_id": "vpc-2"}}


def vswitch(vswitch_id):
    vpc_id, cidr = VSWITCHES[vswitch_id]
    return {"id": vswitch_id, "vpc_id": vpc_id, "cidr_block": cidr, "zone_id": "z-1"}


def run_main(monkeypatch, capsys, args, check_mode, existing=None):
    """eni's main() on a cloud that answers every read with ``existing`` (or nothing); returns (result, recorder).

    The recorder stands in for every mutating wrapper, so a refusal before any change leaves it empty.
    """
    recorder = Recorder()
    recorder.install(monkeypatch)

    def describe_interfaces(connection, **filters):
        recorder.calls.append(("describe_interfaces", (), filters))
        if filters.get("vswitch_id") and not filters.get("name"):  # the listing of the vSwitch's addresses
            return ([dict(existing)] if existing else []) + [OTHER]
        return [dict(existing)] if existing else []

    monkeypatch.setattr(eni_module, "describe_interfaces", describe_interfaces)
    monkeypatch.setattr(eni_module, "describe_eip_addresses", lambda connection, **filters: [])
    monkeypatch.setattr(eni_module, "describe_instances", lambda connection, ids: [])

    def describe_vswitches(connection, ids):
        recorder.calls.append(("describe_vswitches", (list(ids),), {}))
        return [vswitch(vswitch_id) for vswitch_id in ids if vswitch_id in VSWITCHES]

    def describe_security_groups(connection, ids):
        recorder.calls.append(("describe_security_groups", (list(ids),), {}))
        return [GROUPS[group_id] for group_id in ids if group_id in GROUPS]

    monkeypatch.setattr(eni_module, "describe_vswitches", describe_vswitches)
    monkeypatch.setattr(eni_module, "describe_security_groups", describe_security_groups)
    arguments = {**CREDENTIALS, **args, "_ansible_check_mode": check_mode}
    monkeypatch.setattr(basic, "_ANSIBLE_ARGS", to_bytes(json.dumps({"ANSIBLE_MODULE_ARGS": arguments})))
    monkeypatch.setattr(basic, "_ANSIBLE_PROFILE", "legacy", raising=False)
    with pytest.raises(SystemExit):
        eni_module.main()
    return json.loads(capsys.readouterr().out), recorder


ENI_LIMIT_CASES = [
    # (args, existing ENI, the refusal's message)
    ({**NEW, "name": "w"}, None, "name: 1 characters given; it must be 2 to 128 characters; lengthen it"),
    ({**NEW, "name": "w" * 129}, None, "name: 129 characters given; it must be 2 to 128 characters; shorten it"),
    ({**NEW, "description": "x"}, None, "description: 1 characters given; it must be 2 to 256 characters"),
    ({**NEW, "description": "https://x"}, None, "description: 'https://x' starts with http:// or https://"),
    ({**NEW, "tags": {"owner": {"team": "web"}}}, None, "tags.owner: the value is a dict; a tag value is text"),
    ({**NEW, "tags": {"aliyun-x": "1"}}, None, "tags: the key 'aliyun-x' is reserved by Alibaba Cloud"),
    ({**NEW, "tags": {f"k{n}": "v" for n in range(21)}}, None, "tags: 21 tags given; a resource takes at most 20"),
    ({**NEW, "secondary_private_ip_address_count": 50}, None, "secondary_private_ip_address_count: 50 given"),
    (
        {**NEW, "secondary_private_ip_addresses": [f"10.0.1.{n}" for n in range(1, 51)]},
        None,
        "secondary_private_ip_addresses: 50 addresses given; an ENI has at most 49",
    ),
    (
        {**NEW, "secondary_private_ip_addresses": [f"10.0.1.{n}" for n in range(1, 12)]},
        None,
        "secondary_private_ip_addresses: 11 addresses given for a new ENI; CreateNetworkInterface takes at most 10",
    ),
    ({"network_interface_id": "eni-1", "name": "x"}, EXISTING, "name: 1 characters given"),
    ({"network_interface_id": "eni-1", "tags": {"k": ["a"]}}, EXISTING, "tags.k: the value is a list"),
    ({"network_interface_id": "eni-1", "secondary_private_ip_address_count": 60}, EXISTING, "it must be 0 to 49"),
]


@pytest.mark.parametrize("check_mode", [True, False], ids=["check", "real"])
@pytest.mark.parametrize("args, existing, message", ENI_LIMIT_CASES)
def test_a_documented_limit_is_refused_before_any_mutating_call(
    monkeypatch, capsys, args, existing, message, check_mode
):
    result, recorder = run_main(monkeypatch, capsys, args, check_mode, existing)
    assert result.get("failed") and message in result["msg"] and not result.get("changed")
    assert [name for name in names(recorder) if not name.startswith("describe_")] == []


NETWORK_CASES = [
    # (args, existing ENI, the refusal's message) - everything the plan depends on is looked up before any change.
    ({**NEW, "vswitch_id": "vsw-nope"}, None, "vswitch_id='vsw-nope': no such vSwitch in this region"),
    ({**NEW, "security_group_ids": ["sg-nope"]}, None, "security_group_ids: sg-nope not found in this region"),
    ({**NEW, "security_group_ids": ["sg-2"]}, None, "security_group_ids: sg-2 (vpc-2) not of the ENI's VPC vpc-1"),
    ({**NEW, "primary_ip_address": "10.9.0.5"}, None, "primary_ip_address: 10.9.0.5 outside vSwitch vsw-1"),
    (
        {**NEW, "secondary_private_ip_addresses": ["10.0.1.5", "192.168.1.5"]},
        None,
        "secondary_private_ip_addresses: 192.168.1.5 outside vSwitch vsw-1 (10.0.0.0/16)",
    ),
    (
        {"network_interface_id": "eni-1", "secondary_private_ip_addresses": ["192.168.1.5"]},
        EXISTING,
        "secondary_private_ip_addresses: 192.168.1.5 outside vSwitch vsw-1",
    ),
    (
        {"network_interface_id": "eni-1", "secondary_private_ip_addresses": ["10.0.0.21"]},
        EXISTING,
        "secondary_private_ip_addresses: 10.0.0.21 (held by eni-other); give free addresses of vSwitch vsw-1",
    ),
    ({**NEW, "primary_ip_address": "10.0.0.20"}, None, "primary_ip_address: 10.0.0.20 (held by eni-other)"),
    ({"network_interface_id": "eni-1", "security_group_ids": ["sg-2"]}, EXISTING, "sg-2 (vpc-2) not of the ENI's VPC"),
    ({"network_interface_id": "eni-1", "security_group_ids": ["sg-1", "sg-x"]}, EXISTING, "sg-x not found"),
]


@pytest.mark.parametrize("check_mode", [True, False], ids=["check", "real"])
@pytest.mark.parametrize("args, existing, message", NETWORK_CASES)
def test_what_the_plan_depends_on_is_looked_up_before_any_change(
    monkeypatch, capsys, args, existing, message, check_mode
):
    result, recorder = run_main(monkeypatch, capsys, args, check_mode, existing)
    assert result.get("failed") and message in result["msg"] and not result.get("changed")
    assert [name for name in names(recorder) if not name.startswith("describe_")] == []


def test_an_unchanged_eni_costs_no_network_lookup(monkeypatch, capsys):
    result, recorder = run_main(
        monkeypatch, capsys, {"network_interface_id": "eni-1", "security_group_ids": ["sg-1"]}, False, EXISTING
    )
    assert result["changed"] is False
    assert names(recorder) == ["describe_interfaces"]


def test_a_create_looks_up_its_vswitch_groups_and_held_addresses_once(monkeypatch, capsys):
    result, recorder = run_main(monkeypatch, capsys, {**NEW, "primary_ip_address": "10.0.3.4"}, True)
    assert result["changed"]
    assert names(recorder) == [
        "describe_interfaces",  # the ENI by name
        "describe_vswitches",
        "describe_security_groups",
        "describe_interfaces",  # the addresses the vSwitch's ENIs hold (a listed address must be free)
    ]
    assert recorder.calls[-1][2] == {"vswitch_id": "vsw-1"}


@pytest.mark.parametrize(
    "args",
    [
        {**NEW, "name": "w" * 128, "description": "d" * 256, "secondary_private_ip_address_count": 49},
        {**NEW, "name": "ab", "secondary_private_ip_addresses": [f"10.0.1.{n}" for n in range(1, 11)]},
        {**NEW, "tags": {f"k{n}": "aliyun-ok-for-ecs" for n in range(20)}},
    ],
)
def test_values_at_the_limits_are_sent(monkeypatch, capsys, args):
    result, recorder = run_main(monkeypatch, capsys, args, check_mode=False)
    assert not result.get("failed") and result["actions"] == ["create"]
    assert [name for name in names(recorder) if not name.startswith("describe_")] == ["create"]


# ---- released_allocation_ids: check mode of a role that releases EIPs before this task (multi_eip scale-down) ---

HELD = eni_record(
    id="eni-1",
    name="web-eni",
    instance_id="i-1",
    status="InUse",
    associated_public_ips=[
        {"private_ip_address": "10.0.0.6", "ip_address": "47.0.0.6", "allocation_id": "eip-6"},
        {"private_ip_address": "10.0.0.7", "ip_address": "47.0.0.7", "allocation_id": "eip-7"},
    ],
)


def mutating(recorder):
    return [name for name in names(recorder) if not name.startswith("describe_")]


DELETE = {"network_interface_id": "eni-1", "state": "absent", "force_detach": True}
FEWER = {"network_interface_id": "eni-1", "secondary_private_ip_address_count": 1}


@pytest.mark.parametrize("args", [DELETE, FEWER], ids=["delete", "fewer-addresses"])
def test_check_mode_plans_as_if_the_released_eips_were_gone(monkeypatch, capsys, args):
    # The role releases eip-7 in the task before; in check mode that task changed nothing, yet the real run will
    # find eip-7 gone.  Without the option check mode refuses what the real run does.
    refused, unused = run_main(monkeypatch, capsys, args, check_mode=True, existing=HELD)
    assert refused.get("failed") is True
    assert "eip-7" in refused["msg"]
    assert mutating(unused) == []
    predicted, recorder = run_main(
        monkeypatch, capsys, {**args, "released_allocation_ids": ["eip-7"]}, check_mode=True, existing=HELD
    )
    if args is FEWER:
        assert predicted.get("failed") is None, predicted
        assert predicted["changed"] is True
        assert predicted["interface"]["secondary_private_ip_addresses"] == ["10.0.0.6"]
    else:
        # eip-6 is not released by the run: the delete is still refused, naming it (the real run refuses it too).
        assert predicted.get("failed") is True
        assert "eip-6" in predicted["msg"] and "eip-7" not in predicted["msg"]
    assert mutating(recorder) == []


def test_check_mode_deletes_an_eni_whose_every_eip_the_run_releases(monkeypatch, capsys):
    args = {**DELETE, "released_allocation_ids": ["eip-6", "eip-7"]}
    result, recorder = run_main(monkeypatch, capsys, args, check_mode=True, existing=HELD)
    assert result.get("failed") is None, result
    assert result["changed"] is True
    assert mutating(recorder) == []


def test_outside_check_mode_released_allocation_ids_changes_nothing(monkeypatch, capsys):
    # The real run reads the EIPs as they are: one still on the ENI is refused, whatever the option says.
    args = {**DELETE, "released_allocation_ids": ["eip-6", "eip-7"]}
    result, recorder = run_main(monkeypatch, capsys, args, check_mode=False, existing=HELD)
    assert result.get("failed") is True
    assert "eip-6" in result["msg"] and "eip-7" in result["msg"]
    assert mutating(recorder) == []
