"""Step 2 of the association engine (_eip_association/snapshot.py): what gets described, and how often."""

from __future__ import annotations

import pytest
from ansible_collections.alicloud.eip.plugins.module_utils._eip_association.plan import (
    PlanError,
)
from ansible_collections.alicloud.eip.plugins.module_utils._eip_association.snapshot import (
    gather_snapshot,
)
from ansible_collections.alicloud.eip.plugins.module_utils._retries import (
    AlicloudApiError,
)
from ansible_collections.alicloud.eip.tests.unit.plugins.module_utils.eip_association.fakes import (
    CONNECTION,
    CUT_THROUGH,
    ECS1,
    ENI1,
    IP_TARGET,
    MULTI,
    NO_WAIT,
    FakeApi,
    eip,
    eni,
    failure,
    gateway,
    instance,
    plan,
    steps,
    want,
    want_list,
)

# ---- observing: what gets described ----------------------------------------------------------------


def test_a_rerun_costs_one_describe_per_50_eips():
    records = [eip(f"eip-{n:02d}", on=ENI1, private_ip=f"10.0.0.{n + 10}") for n in range(60)]
    api = FakeApi(records, [(ENI1, eni("eni-1", ips=tuple(f"10.0.0.{n + 10}" for n in range(60))))])
    desired = want_list(
        *(
            {"allocation_id": f"eip-{n:02d}", "instance_id": "eni-1", "private_ip_address": f"10.0.0.{n + 10}"}
            for n in range(60)
        )
    )
    snapshot = gather_snapshot(CONNECTION, desired, "present", 60, api=api, wait_policy=NO_WAIT)
    assert api.actions() == ["DescribeEipAddresses"]  # the fake takes the whole list; vpc_eip splits it into 50s
    assert not plan(desired, snapshot).changed


def test_a_first_run_describes_targets_once_per_type():
    api = FakeApi(
        [eip("eip-1"), eip("eip-2")],
        [(ENI1, eni("eni-1", ips=("10.0.0.5", "10.0.0.6"), attached="i-1")), (ECS1, instance("i-1"))],
    )
    desired = want_list(
        {"allocation_id": "eip-1", "instance_id": "eni-1", "private_ip_address": "10.0.0.5"},
        {"allocation_id": "eip-2", "instance_id": "eni-1", "private_ip_address": "10.0.0.6"},
    )
    gather_snapshot(CONNECTION, desired, "present", 60, api=api, wait_policy=NO_WAIT)
    # What the ENI holds comes from its own record: no DescribeEipAddresses per target.
    assert api.calls == [
        ("DescribeEipAddresses", ("eip-1", "eip-2")),
        ("DescribeNetworkInterfaces", ("eni-1",)),
        ("DescribeInstances", ("i-1",)),
    ]


def test_what_a_target_holds_comes_from_its_record_in_one_batched_describe():
    """The ENI's record shows eip-old at 10.0.0.5 and the instance's record its own eip-own: the two are described in
    one call (by allocation ID), and each counts only for the resource that holds it."""
    primary = eni("eni-p", ips=("10.0.0.2",), kind="Primary", attached="i-1")
    api = FakeApi(
        [eip("eip-1"), eip("eip-old", on=ENI1, private_ip="10.0.0.5"), eip("eip-own", on=ECS1)],
        [
            (ENI1, eni("eni-1", ips=("10.0.0.5", "10.0.0.6"), attached="i-1")),
            (ECS1, instance("i-1", primary_eni="eni-p")),
            (("NetworkInterface", "eni-p"), primary),
        ],
    )
    desired = want_list({"allocation_id": "eip-1", "instance_id": "i-1"})
    snapshot = gather_snapshot(CONNECTION, desired, "present", 60, api=api, wait_policy=NO_WAIT)
    assert api.calls == [
        ("DescribeEipAddresses", ("eip-1",)),
        ("DescribeInstances", ("i-1",)),
        ("DescribeNetworkInterfaces", ("eni-p",)),
        ("DescribeEipAddresses", ("eip-own",)),
    ]
    # The primary ENI's record shows the instance's EIP at its primary address; the instance holds it, not the ENI.
    assert snapshot.held[ECS1] == ["eip-own"] and snapshot.held[("NetworkInterface", "eni-p")] == []
    assert failure(desired, snapshot).failures[0].code == "InvalidAssociation.Duplicated"


@pytest.mark.parametrize("mode", ["BINDED", "MULTI_BINDED"])
def test_a_cut_through_request_looks_up_the_enis_eips_by_associated_instance(mode):
    """UNCONFIRMED [fid:eni-associated-public-ip] whether the record shows cut-through bindings: the rules of those
    modes read every EIP on the ENI from DescribeEipAddresses."""
    api = FakeApi([eip("eip-1"), eip("eip-2", on=ENI1, private_ip="10.0.0.5", mode=mode)], [(ENI1, eni("eni-1"))])
    desired = want(allocation_id="eip-1", instance_id="eni-1", mode=mode, private_ip_address="10.0.0.5")
    snapshot = gather_snapshot(CONNECTION, desired, "present", 60, api=api, wait_policy=NO_WAIT)
    assert ("DescribeEipAddresses", ("eni-1",)) in api.calls
    assert snapshot.held[ENI1] == ["eip-2"]


def test_check_mode_and_real_run_fail_alike_before_any_mutating_call():
    api = FakeApi([eip("eip-1"), eip("eip-old", on=ECS1)], [(ECS1, instance("i-1"))])
    desired = want(allocation_id="eip-1", instance_id="i-1")
    messages = []
    for _run in ("check", "real"):
        snapshot = gather_snapshot(CONNECTION, desired, "present", 60, api=api, wait_policy=NO_WAIT)
        with pytest.raises(PlanError) as excinfo:
            plan(desired, snapshot)
        messages.append(str(excinfo.value))
    assert messages[0] == messages[1]
    assert "AssociateEipAddress" not in api.actions() and "UnassociateEipAddress" not in api.actions()


# ---- 4. acting ------------------------------------------------------------------------------------------


# ---- IPv4 gateway lookups -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("items", "lookups"),
    [
        ([CUT_THROUGH], [("ListIpv4Gateways", ("vpc-1",))]),
        # Two IpAddress targets in one VPC and one in another: one call per VPC.
        (
            [
                IP_TARGET,
                {**IP_TARGET, "allocation_id": "eip-2", "instance_id": "10.0.0.10"},
                {**IP_TARGET, "allocation_id": "eip-3", "vpc_id": "vpc-2"},
            ],
            [("ListIpv4Gateways", ("vpc-1", "vpc-2"))],
        ),
        # NAT mode and multi-EIP cut-through depend on no gateway.
        ([{"allocation_id": "eip-1", "instance_id": "eni-1"}], []),
        ([{**MULTI, "private_ip_address": "10.0.0.5"}], []),
    ],
)
def test_gateways_are_looked_up_only_when_a_rule_needs_them(items, lookups):
    api = FakeApi([eip("eip-1"), eip("eip-2"), eip("eip-3")], [(ENI1, eni("eni-1"))])
    gather_snapshot(CONNECTION, want_list(*items), "present", 60, api=api, wait_policy=NO_WAIT)
    assert [call for call in api.calls if call[0] == "ListIpv4Gateways"] == lookups


def test_a_cut_through_eip_in_place_costs_no_gateway_lookup():
    api = FakeApi(
        [eip("eip-1", on=ENI1, private_ip="10.0.0.5", mode="BINDED")],
        [(ENI1, eni("eni-1"))],
        gateways=[gateway("vpc-1")],
    )
    desired = want(**CUT_THROUGH)
    snapshot = gather_snapshot(CONNECTION, desired, "present", 60, api=api, wait_policy=NO_WAIT)
    assert api.actions() == ["DescribeEipAddresses"] and not plan(desired, snapshot).changed


@pytest.mark.parametrize(
    ("request_options", "gateways", "code"),
    [
        (CUT_THROUGH, [gateway("vpc-1")], "OperationDenied.Ipv4GatewayExist"),
        (IP_TARGET, [], "OperationFailed.Ipv4GatewayNotOpenedInVpc"),
    ],
)
def test_gateway_refusals_come_before_any_mutating_call(request_options, gateways, code):
    api = FakeApi([eip("eip-1")], [(ENI1, eni("eni-1"))], gateways=gateways)
    desired = want(**request_options)
    messages = []
    for _run in ("check", "real"):
        snapshot = gather_snapshot(CONNECTION, desired, "present", 60, api=api, wait_policy=NO_WAIT)
        messages.append(failure(desired, snapshot).as_dict())
    assert messages[0] == messages[1] and messages[0]["code"] == code
    assert "AssociateEipAddress" not in api.actions()


@pytest.mark.parametrize(
    ("code", "tolerated"), [("Forbidden.RAM", True), ("NoPermission", True), ("Throttling", False)]
)
def test_a_gateway_lookup_without_permission_leaves_the_rule_to_the_api(code, tolerated):
    api = FakeApi([eip("eip-1")], [(ENI1, eni("eni-1"))])
    denied = AlicloudApiError(code, "denied", action="ListIpv4Gateways")

    def refuse(connection, vpc_ids):
        raise denied

    api.list_ipv4_gateways = refuse
    desired = want(**CUT_THROUGH)
    if not tolerated:
        with pytest.raises(AlicloudApiError):
            gather_snapshot(CONNECTION, desired, "present", 60, api=api, wait_policy=NO_WAIT)
        return
    snapshot = gather_snapshot(CONNECTION, desired, "present", 60, api=api, wait_policy=NO_WAIT)
    assert snapshot.ipv4_gateways == {}
    assert steps(plan(desired, snapshot)) == [("associate", "eip-1", "eni-1", "10.0.0.5", "BINDED")]
