# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The havip module's decisions (plugins/module_utils/_havip.py): steps in order, predictions, refusals."""

from __future__ import annotations

import pytest
from ansible_collections.alicloud.eip.plugins.module_utils._havip import choose_havip, plan_havip, validate_request
from ansible_collections.alicloud.eip.plugins.module_utils._util import InputError

VSWITCH = {"id": "vsw-a", "vpc_id": "vpc-1", "cidr_block": "192.168.0.0/24"}


def target(vswitch="vsw-a", status="Running"):
    return {"status": status, "vswitch_id": vswitch, "instance_id": "i", "primary_ip": ""}


TARGETS = {"i-1": target(), "i-2": target(), "i-3": target()}


def request(**params):
    base = {"state": "present", "name": "web", "vswitch_id": "vsw-a", "ip_address": "192.168.0.100", "tags": {"a": "b"}}
    base.update(params)
    return validate_request(base)


def havip(instances=(), master="", eips=(), kind="EcsInstance"):
    return {
        "id": "havip-1",
        "name": "web",
        "description": "",
        "status": "InUse" if instances else "Available",
        "ip_address": "192.168.0.100",
        "vpc_id": "vpc-1",
        "vswitch_id": "vsw-a",
        "master_instance_id": master,
        "associated_instance_type": kind if instances else "",
        "associated_instances": list(instances),
        "eip_addresses": list(eips),
        "create_time": "",
        "tags": {"a": "b"},
    }


def test_create_then_associate_both_hosts():
    plan = plan_havip(request(instance_ids=["i-1", "i-2"]), None, TARGETS, VSWITCH)
    assert [step[0] for step in plan.steps] == ["create", "associate", "associate"]
    assert plan.steps[0][1] == {
        "vswitch_id": "vsw-a",
        "name": "web",
        "description": "",
        "ip_address": "192.168.0.100",
        "tags": {"a": "b"},
    }
    assert [step[1]["instance_id"] for step in plan.steps[1:]] == ["i-1", "i-2"]
    assert (plan.after["master_instance_id"], plan.after["status"], plan.after["vpc_id"]) == ("i-1", "InUse", "vpc-1")
    assert plan.diff.as_diff()["before"] == {"havip": {}}


def test_nothing_to_do_when_both_are_there_in_any_order():
    plan = plan_havip(request(instance_ids=["i-2", "i-1"]), havip(["i-1", "i-2"], "i-1"), TARGETS, None)
    assert plan.steps == [] and not plan.changed


def test_without_instance_ids_the_associations_are_left_alone():
    assert plan_havip(request(), havip(["i-1", "i-2"], "i-2"), {}, None).steps == []


def test_the_backup_leaves_without_consent():
    plan = plan_havip(request(instance_ids=["i-1"]), havip(["i-1", "i-2"], "i-1"), TARGETS, None)
    assert plan.steps == [("unassociate", {"instance_id": "i-2", "instance_type": "EcsInstance", "force": False})]
    assert plan.after["associated_instances"] == ["i-1"]


def test_the_master_leaves_only_with_consent_and_then_with_force():
    with pytest.raises(InputError, match="instance_ids: i-1 is the HaVip's master now"):
        plan_havip(request(instance_ids=["i-2"]), havip(["i-1", "i-2"], "i-1"), TARGETS, None)
    plan = plan_havip(
        request(instance_ids=["i-2", "i-3"], force_unassociate_master=True), havip(["i-1", "i-2"], "i-1"), TARGETS, None
    )
    assert plan.steps == [
        ("unassociate", {"instance_id": "i-1", "instance_type": "EcsInstance", "force": True}),
        ("associate", {"instance_id": "i-3", "instance_type": "EcsInstance"}),
    ]
    assert plan.after["master_instance_id"] == "i-2"


def test_absent_removes_the_backup_first_then_the_master_then_deletes():
    # state=absent is the consent: the master leaves last, alone, which UnassociateHaVip takes without Force.
    plan = plan_havip(request(state="absent"), havip(["i-1", "i-2"], "i-1"), {}, None)
    assert [(step, args.get("instance_id"), args.get("force")) for step, args in plan.steps] == [
        ("unassociate", "i-2", False),
        ("unassociate", "i-1", False),
        ("delete", None, None),
    ]
    assert plan_havip(request(state="absent"), None, {}, None).steps == []


def test_absent_with_an_eip_is_refused():
    with pytest.raises(InputError, match="disassociate it first"):
        plan_havip(request(state="absent", force_unassociate_master=True), havip(eips=["47.96.1.1"]), {}, None)


@pytest.mark.parametrize(
    ("params", "current", "targets", "message"),
    [
        ({"instance_ids": ["i-1", "i-2", "i-3"]}, None, TARGETS, "at most 2 instances"),
        ({"instance_ids": ["i-1", "i-9"]}, None, TARGETS, "ECS instance i-9 does not exist"),
        ({"instance_ids": ["i-1"]}, None, {"i-1": target(status="Starting")}, "is Starting"),
        ({"instance_ids": ["i-1"]}, None, {"i-1": target(vswitch="vsw-b")}, "is in vSwitch vsw-b, the HaVip in vsw-a"),
        ({"ip_address": "10.0.0.1"}, None, {}, "10.0.0.1 is outside vSwitch vsw-a"),
        ({"ip_address": "fe80::1"}, None, {}, "a HaVip is IPv4 only"),
        ({"vswitch_id": ""}, None, {}, "vswitch_id is required to create"),
        ({"vswitch_id": "vsw-b"}, havip(), {}, "a HaVip cannot move"),
        ({"ip_address": "192.168.0.101"}, havip(), {}, "the address of a HaVip cannot change"),
        (
            {"instance_ids": ["i-1", "i-3"], "instance_type": "NetworkInterface"},
            havip(["i-1"], "i-1"),
            {"i-3": dict(target(), instance_id="i-host")},
            "a HaVip holds one type at a time",
        ),
        (
            {"instance_ids": ["eni-1"], "instance_type": "NetworkInterface"},
            None,
            {"eni-1": dict(target(), instance_id="")},
            "attached to no ECS instance",
        ),
    ],
)
def test_refusals(params, current, targets, message):
    with pytest.raises(InputError, match=message):
        plan_havip(request(**params), current, targets, VSWITCH)


def test_choose_by_name_tags_and_vswitch():
    other = dict(havip(), id="havip-2", tags={"a": "c"})
    assert choose_havip(request(), [havip(), other])["id"] == "havip-1"
    with pytest.raises(InputError, match="2 HaVips are named 'web'"):
        choose_havip(request(tags={}), [havip(), other])
    with pytest.raises(InputError, match="havip_id: HaVip havip-9 does not exist"):
        choose_havip(request(havip_id="havip-9"), [havip()])
    assert choose_havip(request(havip_id="havip-9", state="absent"), [havip()]) is None
