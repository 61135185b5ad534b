"""Decision logic of the eni module (plugins/module_utils/_eni.py): validation, key, plans, refusals."""

from __future__ import annotations

import pytest
from ansible_collections.alicloud.eip.plugins.module_utils._eni import (
    InputError,
    check_attach_target,
    may_unassign,
    merge_eips,
    normalize_params,
    plan_absent,
    plan_present,
    plan_tags,
    select_interface,
)

DEFAULTS = {
    "state": "present",
    "network_interface_id": None,
    "name": None,
    "vswitch_id": None,
    "security_group_ids": None,
    "description": None,
    "primary_ip_address": None,
    "secondary_private_ip_addresses": None,
    "secondary_private_ip_address_count": None,
    "purge_secondary_private_ip_addresses": False,
    "instance_id": None,
    "attached": None,
    "force_detach": False,
    "tags": None,
    "purge_tags": True,
}


def params(**options):
    return normalize_params({**DEFAULTS, **options})


def eni(**fields):
    """A normalized interface: eni-1, detached, primary 10.0.0.5, secondaries 10.0.0.6 and 10.0.0.7."""
    base = {
        "id": "eni-1",
        "name": "web",
        "description": "",
        "mac_address": "00:16:3e:00:00:01",
        "primary_ip_address": "10.0.0.5",
        "private_ip_addresses": ["10.0.0.5", "10.0.0.6", "10.0.0.7"],
        "secondary_private_ip_addresses": ["10.0.0.6", "10.0.0.7"],
        "vswitch_id": "vsw-1",
        "vpc_id": "vpc-1",
        "zone_id": "z-1",
        "instance_id": "",
        "device_index": None,
        "status": "Available",
        "type": "Secondary",
        "security_group_ids": ["sg-1"],
        "associated_public_ips": [],
        "creation_time": "",
        "tags": {"team": "web"},
    }
    base.update(fields)
    return base


EIP_ON_7 = [{"private_ip_address": "10.0.0.7", "ip_address": "47.0.0.7", "allocation_id": "eip-7"}]


# ---- normalize_params ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"primary_ip_address": "10.0.0.300"}, "primary_ip_address: '10.0.0.300' is not an IPv4 address"),
        ({"secondary_private_ip_addresses": ["10.0.0.6", "bad"]}, "secondary_private_ip_addresses: 'bad' is not"),
        ({"secondary_private_ip_addresses": ["10.0.0.6", "10.0.0.6"]}, "10.0.0.6 given more than once"),
        (
            {"primary_ip_address": "10.0.0.5", "secondary_private_ip_addresses": ["10.0.0.5"]},
            "10.0.0.5 is the primary_ip_address",
        ),
        (
            {"secondary_private_ip_address_count": -1},
            "secondary_private_ip_address_count: -1 given; it must be 0 to 49",
        ),
        ({"purge_secondary_private_ip_addresses": True}, "needs secondary_private_ip_addresses"),
        ({"attached": True}, "attached=true needs instance_id"),
    ],
)
def test_normalize_params_refuses(options, message):
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        params(**options)


def test_normalize_params_defaults_attached_with_instance_and_stringifies_tags():
    result = params(instance_id="i-1", tags={"count": 3, "empty": None}, security_group_ids=["sg-1", "sg-1", "sg-2"])
    assert result["attached"] is True
    assert result["tags"] == {"count": "3", "empty": ""}
    assert result["security_group_ids"] == ["sg-1", "sg-2"]
    assert params(instance_id="i-1", attached=False)["attached"] is False


# ---- select_interface -----------------------------------------------------------------------------------


def test_select_by_id_name_and_vswitch():
    candidates = [eni(id="eni-1", name="web", vswitch_id="vsw-1"), eni(id="eni-2", name="web", vswitch_id="vsw-2")]
    assert select_interface(candidates, {"network_interface_id": "eni-2"})["id"] == "eni-2"
    assert select_interface(candidates, {"name": "web", "vswitch_id": "vsw-1"})["id"] == "eni-1"
    assert select_interface(candidates, {"name": "other"}) is None
    with pytest.raises(InputError, match=r"matches several ENIs \(eni-1, eni-2\)"):
        select_interface(candidates, {"name": "web"})


# ---- plan_present ---------------------------------------------------------------------------------------


def test_create_needs_vswitch_and_groups():
    with pytest.raises(InputError, match="needs vswitch_id"):
        plan_present(None, params(name="new", security_group_ids=["sg-1"]))
    with pytest.raises(InputError, match="needs security_group_ids"):
        plan_present(None, params(name="new", vswitch_id="vsw-1"))


def test_create_then_attach_predicts_the_interface():
    plan = plan_present(
        None,
        params(
            name="new",
            vswitch_id="vsw-1",
            security_group_ids=["sg-1"],
            primary_ip_address="10.0.0.9",
            secondary_private_ip_addresses=["10.0.0.10"],
            tags={"a": "1"},
            instance_id="i-1",
        ),
    )
    assert plan.actions() == ["create", "attach"]
    create = plan.steps[0].args
    assert create["vswitch_id"] == "vsw-1"
    assert create["private_ip_addresses"] == ["10.0.0.10"]
    assert create["tags"] == {"a": "1"}
    assert plan.steps[1].args == {"instance_id": "i-1"}
    assert plan.after["private_ip_addresses"] == ["10.0.0.9", "10.0.0.10"]
    assert plan.after["instance_id"] == "i-1"
    assert plan.after["status"] == "InUse"


def test_create_by_count_passes_the_count():
    plan = plan_present(
        None, params(name="n1", vswitch_id="vsw-1", security_group_ids=["sg-1"], secondary_private_ip_address_count=2)
    )
    assert plan.steps[0].args["secondary_private_ip_address_count"] == 2
    assert plan.steps[0].args["private_ip_addresses"] == []


@pytest.mark.parametrize(
    ("options", "current", "actions", "args", "secondary_after"),
    [
        # Same as it is: nothing to do (idempotence).
        ({"name": "web"}, {}, [], [], ["10.0.0.6", "10.0.0.7"]),
        ({"secondary_private_ip_addresses": ["10.0.0.7"]}, {}, [], [], ["10.0.0.6", "10.0.0.7"]),
        ({"secondary_private_ip_address_count": 2}, {}, [], [], ["10.0.0.6", "10.0.0.7"]),
        # List: add missing, keep others unless purged; unassign comes before assign.
        (
            {"secondary_private_ip_addresses": ["10.0.0.7", "10.0.0.8"]},
            {},
            ["assign"],
            [{"private_ip_addresses": ["10.0.0.8"]}],
            ["10.0.0.6", "10.0.0.7", "10.0.0.8"],
        ),
        (
            {"secondary_private_ip_addresses": ["10.0.0.8"], "purge_secondary_private_ip_addresses": True},
            {},
            ["unassign", "assign"],
            [{"private_ip_addresses": ["10.0.0.6", "10.0.0.7"]}, {"private_ip_addresses": ["10.0.0.8"]}],
            ["10.0.0.8"],
        ),
        # Count: grow by the difference, shrink newest first.
        ({"secondary_private_ip_address_count": 5}, {}, ["assign"], [{"count": 3}], ["10.0.0.6", "10.0.0.7"]),
        (
            {"secondary_private_ip_address_count": 1},
            {},
            ["unassign"],
            [{"private_ip_addresses": ["10.0.0.7"]}],
            ["10.0.0.6"],
        ),
        # Shrinking by count skips the address an EIP sits on.
        (
            {"secondary_private_ip_address_count": 1},
            {"associated_public_ips": EIP_ON_7},
            ["unassign"],
            [{"private_ip_addresses": ["10.0.0.6"]}],
            ["10.0.0.7"],
        ),
        (
            {"secondary_private_ip_address_count": 0},
            {},
            ["unassign"],
            [{"private_ip_addresses": ["10.0.0.7", "10.0.0.6"]}],
            [],
        ),
    ],
)
def test_secondary_address_plans(options, current, actions, args, secondary_after):
    plan = plan_present(eni(**current), params(network_interface_id="eni-1", **options))
    assert plan.actions() == actions
    assert [dict(step.args) for step in plan.steps] == args
    assert plan.after["secondary_private_ip_addresses"] == secondary_after
    assert plan.after["private_ip_addresses"] == ["10.0.0.5"] + secondary_after


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"secondary_private_ip_addresses": ["10.0.0.6"], "purge_secondary_private_ip_addresses": True},
            r"cannot unassign 10\.0\.0\.7 \(eip-7\) from eni-1: an EIP is associated with it",
        ),
        ({"secondary_private_ip_address_count": 0}, r"only 1 have no EIP \(10\.0\.0\.7 \(eip-7\) do\)"),
        ({"secondary_private_ip_addresses": ["10.0.0.5"]}, r"10\.0\.0\.5 is the primary address of eni-1"),
        ({"vswitch_id": "vsw-2"}, "an ENI cannot change vSwitch"),
        ({"primary_ip_address": "10.0.0.9"}, "the primary address is fixed at creation"),
        ({"security_group_ids": []}, "security_group_ids cannot be empty"),
    ],
)
def test_present_refusals(options, message):
    with pytest.raises(InputError, match=message):
        plan_present(eni(associated_public_ips=EIP_ON_7), params(network_interface_id="eni-1", **options))


def test_attributes_and_tags():
    plan = plan_present(
        eni(tags={"team": "web", "old": "x"}),
        params(
            network_interface_id="eni-1",
            name="renamed",
            description="db",
            security_group_ids=["sg-2", "sg-1"],
            tags={"team": "api", "new": "y"},
        ),
    )
    assert plan.actions() == ["modify", "untag", "tag"]
    assert dict(plan.steps[0].args) == {"name": "renamed", "description": "db", "security_group_ids": ["sg-2", "sg-1"]}
    assert dict(plan.steps[1].args) == {"keys": ["old"]}
    assert dict(plan.steps[2].args) == {"tags": {"team": "api", "new": "y"}}
    assert plan.after["tags"] == {"team": "api", "new": "y"}
    assert plan.after["name"] == "renamed"


def test_security_group_order_does_not_matter():
    plan = plan_present(
        eni(security_group_ids=["sg-1", "sg-2"]),
        params(network_interface_id="eni-1", security_group_ids=["sg-2", "sg-1"]),
    )
    assert plan.actions() == []


@pytest.mark.parametrize(
    ("current", "wanted", "purge", "expected"),
    [
        ({"a": "1"}, None, True, ({}, [])),
        ({"a": "1", "b": "2"}, {"a": "1"}, True, ({}, ["b"])),
        ({"a": "1", "b": "2"}, {"a": "1"}, False, ({}, [])),
        ({"a": "1"}, {"a": "2", "c": "3"}, True, ({"a": "2", "c": "3"}, [])),
        ({}, {}, True, ({}, [])),
    ],
)
def test_plan_tags(current, wanted, purge, expected):
    assert plan_tags(current, wanted, purge) == expected


@pytest.mark.parametrize(
    ("holder", "options", "actions", "after_instance"),
    [
        ("", {"instance_id": "i-1"}, ["attach"], "i-1"),
        ("i-1", {"instance_id": "i-1"}, [], "i-1"),
        ("i-1", {"attached": False}, ["detach"], ""),
        ("i-1", {"instance_id": "i-1", "attached": False}, ["detach"], ""),
        # attached=false for another instance: it is not attached there, nothing to do.
        ("i-1", {"instance_id": "i-2", "attached": False}, [], "i-1"),
        ("", {"attached": False}, [], ""),
        ("i-1", {"instance_id": "i-2", "force_detach": True}, ["detach", "attach"], "i-2"),
    ],
)
def test_attachment_plans(holder, options, actions, after_instance):
    status = "InUse" if holder else "Available"
    plan = plan_present(eni(instance_id=holder, status=status), params(network_interface_id="eni-1", **options))
    assert plan.actions() == actions
    assert plan.after["instance_id"] == after_instance
    if actions and actions[0] == "detach":
        assert plan.steps[0].args == {"instance_id": holder}


def test_moving_needs_force_detach():
    with pytest.raises(InputError, match="attached to i-1, not i-2; set force_detach=true"):
        plan_present(eni(instance_id="i-1", status="InUse"), params(network_interface_id="eni-1", instance_id="i-2"))


def test_primary_eni_is_never_detached():
    primary = eni(type="Primary", instance_id="i-1", status="InUse")
    with pytest.raises(InputError, match="primary ENI of i-1: it cannot be detached"):
        plan_present(primary, params(network_interface_id="eni-1", attached=False))
    assert plan_present(primary, params(network_interface_id="eni-1", instance_id="i-1")).actions() == []


# ---- plan_absent ----------------------------------------------------------------------------------------


def test_absent_plans():
    assert plan_absent(None, False).actions() == []
    assert plan_absent(eni(), False).actions() == ["delete"]
    attached = eni(instance_id="i-1", status="InUse")
    plan = plan_absent(attached, True)
    assert plan.actions() == ["detach", "delete"]
    assert plan.steps[0].args == {"instance_id": "i-1"}


@pytest.mark.parametrize(
    ("current", "message"),
    [
        (eni(instance_id="i-1", status="InUse"), "attached to i-1; set force_detach=true to detach and delete it"),
        (eni(associated_public_ips=EIP_ON_7), r"cannot delete eni-1: EIPs are associated with 10\.0\.0\.7 \(eip-7\)"),
        (eni(type="Primary", instance_id="i-1"), "primary ENI of i-1: it is released with its instance"),
    ],
)
def test_absent_refusals(current, message):
    with pytest.raises(InputError, match=message):
        plan_absent(current, False)


# ---- check_attach_target -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("instance", "vpc_id", "message"),
    [
        (None, "vpc-1", "instance_id='i-1': no such ECS instance in this region"),
        ({"status": "Starting", "vpc_id": "vpc-1"}, "vpc-1", "i-1 is Starting; an ENI can be attached only while"),
        ({"status": "Running", "vpc_id": "vpc-2"}, "vpc-1", "i-1 is in vpc-2, the ENI in vpc-1"),
        ({"status": "Running", "vpc_id": "vpc-1", "zone_id": "z-2"}, "vpc-1", "i-1 is in zone z-2, the ENI in z-1"),
    ],
)
def test_attach_target_refusals(instance, vpc_id, message):
    with pytest.raises(InputError, match=message):
        check_attach_target(instance, "i-1", vpc_id, "z-1")


@pytest.mark.parametrize("status", ["Running", "Stopped"])
def test_attach_target_accepted(status):
    check_attach_target({"status": status, "vpc_id": "vpc-1"}, "i-1", "vpc-1")
    check_attach_target({"status": status, "vpc_id": "vpc-1", "zone_id": "z-1"}, "i-1", "vpc-1", "z-1")
    check_attach_target({"status": status, "vpc_id": "vpc-1", "zone_id": "z-2"}, "i-1", "", "")  # new ENI: unknown


# ---- merge_eips / may_unassign --------------------------------------------------------------------------


def test_merge_eips_adds_what_only_the_eip_api_shows():
    current = eni(associated_public_ips=EIP_ON_7)
    eips = [
        {"allocation_id": "eip-7", "ip_address": "47.0.0.7", "private_ip_address": "10.0.0.7", "instance_id": "eni-1"},
        {"allocation_id": "eip-8", "ip_address": "47.0.0.8", "private_ip_address": "10.0.0.6", "instance_id": "eni-1"},
        # Cut-through: no private address recorded -> the primary address.
        {"allocation_id": "eip-9", "ip_address": "47.0.0.9", "private_ip_address": "", "instance_id": "eni-1"},
        {"allocation_id": "eip-x", "ip_address": "47.0.0.10", "private_ip_address": "10.0.0.6", "instance_id": "eni-2"},
    ]
    merged = merge_eips(current, eips)
    assert [entry["allocation_id"] for entry in merged["associated_public_ips"]] == ["eip-7", "eip-8", "eip-9"]
    assert merged["associated_public_ips"][2]["private_ip_address"] == "10.0.0.5"
    assert current["associated_public_ips"] == EIP_ON_7  # the observation itself is left alone
    with pytest.raises(InputError, match=r"EIPs are associated with 10\.0\.0\.6 \(eip-8\), 10\.0\.0\.5 \(eip-9\)"):
        plan_absent(merge_eips(eni(), eips[1:3]), True)


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"state": "absent"}, True),
        ({"secondary_private_ip_address_count": 2}, True),
        ({"secondary_private_ip_addresses": ["10.0.0.6"], "purge_secondary_private_ip_addresses": True}, True),
        ({"secondary_private_ip_addresses": ["10.0.0.6"]}, False),
        ({"tags": {"a": "b"}}, False),
    ],
)
def test_may_unassign(options, expected):
    assert may_unassign({**DEFAULTS, **options}) is expected
