"""Step 3 of the association engine (_eip_association/plan.py): plans and predicted failures, table-driven."""

from __future__ import annotations

import pytest
from ansible_collections.alicloud.eip.plugins.module_utils._eip_association.request import (
    infer_instance_type,
    validate_request,
)
from ansible_collections.alicloud.eip.plugins.module_utils._eip_association.snapshot import (
    satisfies,
)
from ansible_collections.alicloud.eip.tests.unit.plugins.module_utils.eip_association.fakes import (
    CUT_THROUGH,
    ECS1,
    ENI1,
    IP_TARGET,
    MULTI,
    clb,
    eip,
    eni,
    failure,
    gateway,
    havip,
    instance,
    nat,
    plan,
    steps,
    want,
    want_list,
    with_gateways,
    world,
)

# ---- 3. plans: the happy paths ----------------------------------------------------------------------


def test_already_in_place_makes_no_call():
    snapshot = world([eip("eip-1", on=ECS1)], [(ECS1, instance("i-1"))])
    result = plan(want(allocation_id="eip-1", instance_id="i-1"), snapshot)
    assert not result.changed and result.results == ["eip-1"]
    assert plan(want(allocation_id="eip-1", instance_id="i-1"), snapshot, allow=True).steps == []


@pytest.mark.parametrize(
    ("request_options", "current", "in_place"),
    [
        ({"private_ip_address": "10.0.0.6"}, {"private_ip": "10.0.0.6", "mode": "NAT"}, True),
        ({}, {"private_ip": "10.0.0.6", "mode": "NAT"}, True),  # no opinion on the private IP
        ({"mode": "NAT"}, {"private_ip": "10.0.0.6", "mode": "NAT"}, True),
        ({"private_ip_address": "10.0.0.5"}, {"private_ip": "10.0.0.6", "mode": "NAT"}, False),
        ({"mode": "MULTI_BINDED"}, {"private_ip": "10.0.0.6", "mode": "NAT"}, False),
    ],
)
def test_in_place_on_an_eni_means_same_private_ip_and_mode(request_options, current, in_place):
    record = eip("eip-1", on=ENI1, private_ip=current["private_ip"], mode=current["mode"])
    assert satisfies(record, want(allocation_id="eip-1", instance_id="eni-1", **request_options)[0]) is in_place


def test_associate_a_free_eip_with_an_instance():
    snapshot = world([eip("eip-1")], [(ECS1, instance("i-1"))])
    result = plan(want(allocation_id="eip-1", instance_id="i-1"), snapshot)
    assert steps(result) == [("associate", "eip-1", "i-1", "", "")]
    assert result.diff.get_after()["eip-1"]["instance_id"] == "i-1"
    assert result.diff.get_before()["eip-1"]["instance_id"] == ""


def test_eip_found_by_address():
    snapshot = world([eip("eip-1", ip="47.1.1.1")], [(ECS1, instance("i-1"))])
    assert steps(plan(want(ip_address="47.1.1.1", instance_id="i-1"), snapshot)) == [
        ("associate", "eip-1", "i-1", "", "")
    ]


def test_nat_mode_defaults_to_the_primary_private_ip():
    snapshot = world([eip("eip-1")], [(ENI1, eni("eni-1", ips=("10.0.0.5", "10.0.0.6")))])
    assert steps(plan(want(allocation_id="eip-1", instance_id="eni-1"), snapshot)) == [
        ("associate", "eip-1", "eni-1", "10.0.0.5", "NAT")
    ]


def test_nat_mode_on_a_secondary_private_ip():
    snapshot = world([eip("eip-1")], [(ENI1, eni("eni-1", ips=("10.0.0.5", "10.0.0.6"), attached="i-9"))])
    result = plan(want(allocation_id="eip-1", instance_id="eni-1", private_ip_address="10.0.0.6"), snapshot)
    assert steps(result) == [("associate", "eip-1", "eni-1", "10.0.0.6", "NAT")]


def test_cut_through_on_a_detached_secondary_eni_takes_the_primary_ip():
    snapshot = world([eip("eip-1")], [(ENI1, eni("eni-1"))])
    assert steps(plan(want(allocation_id="eip-1", instance_id="eni-1", mode="BINDED"), snapshot)) == [
        ("associate", "eip-1", "eni-1", "10.0.0.5", "BINDED")
    ]


def test_multi_eip_cut_through_on_an_attached_eni_of_a_supported_family():
    snapshot = world(
        [eip("eip-1"), eip("eip-2", on=ENI1, mode="MULTI_BINDED")],
        [(ENI1, eni("eni-1", attached="i-1")), (ECS1, instance("i-1", family="ecs.g5.large"))],
        region="cn-shanghai",
    )
    assert steps(plan(want(allocation_id="eip-1", instance_id="eni-1", mode="MULTI_BINDED"), snapshot)) == [
        ("associate", "eip-1", "eni-1", "", "MULTI_BINDED")
    ]


@pytest.mark.parametrize(
    ("instance_id", "resource"),
    [
        ("ngw-1", nat("ngw-1")),
        ("havip-1", havip("havip-1", status="InUse")),
        ("lb-1", clb("lb-1")),
    ],
)
def test_other_target_types(instance_id, resource):
    key = (infer_instance_type(instance_id), instance_id)
    snapshot = world([eip("eip-1")], [(key, resource)])
    assert steps(plan(want(allocation_id="eip-1", instance_id=instance_id), snapshot)) == [
        ("associate", "eip-1", instance_id, "", "")
    ]


def test_ip_address_target():
    snapshot = world([eip("eip-1")])
    result = plan(want(allocation_id="eip-1", instance_id="172.16.1.9", vpc_id="vpc-gw"), snapshot)
    assert steps(result) == [("associate", "eip-1", "172.16.1.9", "172.16.1.9", "")]
    assert result.associations[0].holder.vpc_id == "vpc-gw"


# ---- 3. plans: move and replace -----------------------------------------------------------------------


def test_eip_held_elsewhere_needs_allow_reassociation():
    snapshot = world(
        [eip("eip-1", on=("EcsInstance", "i-2"))], [(ECS1, instance("i-1")), (("EcsInstance", "i-2"), instance("i-2"))]
    )
    error = failure(want(allocation_id="eip-1", instance_id="i-1"), snapshot)
    assert error.failures[0].code == "IncorrectEipStatus"
    assert str(error) == (
        f"EIP eip-1 ({snapshot.eips['eip-1']['ip_address']}) is associated with ECS instance i-2; set "
        "allow_reassociation: true to move it to ECS instance i-1 (it is disassociated first, then associated)"
    )
    result = plan(want(allocation_id="eip-1", instance_id="i-1"), snapshot, allow=True)
    assert steps(result) == [("disassociate", "eip-1", "i-2", "", ""), ("associate", "eip-1", "i-1", "", "")]
    move = result.associations[0]
    assert move.depends_on == ["eip-1"] and move.undo[0].holder.instance_id == "i-2"
    assert (
        result.diff.get_before()["eip-1"]["instance_id"] == "i-2"
        and result.diff.get_after()["eip-1"]["instance_id"] == "i-1"
    )


def test_replace_the_eip_an_instance_already_has():
    snapshot = world([eip("eip-new"), eip("eip-old", on=ECS1)], [(ECS1, instance("i-1"))])
    error = failure(want(allocation_id="eip-new", instance_id="i-1"), snapshot)
    assert error.failures[0].code == "InvalidAssociation.Duplicated"
    assert "ECS instance i-1 already holds EIP eip-old" in str(
        error
    ) and "allow_reassociation: true to replace it" in str(error)
    result = plan(want(allocation_id="eip-new", instance_id="i-1"), snapshot, allow=True)
    assert steps(result) == [("disassociate", "eip-old", "i-1", "", ""), ("associate", "eip-new", "i-1", "", "")]
    assert result.associations[0].reason == "replaces eip-old"
    assert [(u.allocation_id, u.holder.instance_id) for u in result.associations[0].undo] == [("eip-old", "i-1")]


def test_nat_mode_eip_on_the_primary_eni_counts_as_the_instances_eip():
    primary = ("NetworkInterface", "eni-p")
    snapshot = world(
        [eip("eip-new"), eip("eip-old", on=primary, private_ip="10.0.0.2")],
        [
            (ECS1, instance("i-1", primary_eni="eni-p", primary_ip="10.0.0.2")),
            (primary, eni("eni-p", ips=("10.0.0.2",), kind="Primary", attached="i-1")),
        ],
    )
    assert (
        failure(want(allocation_id="eip-new", instance_id="i-1"), snapshot).failures[0].code
        == "InvalidAssociation.Duplicated"
    )


def test_swap_two_eips_between_private_ips():
    snapshot = world(
        [eip("eip-a", on=ENI1, private_ip="10.0.0.5"), eip("eip-b", on=ENI1, private_ip="10.0.0.6")],
        [(ENI1, eni("eni-1", ips=("10.0.0.5", "10.0.0.6")))],
    )
    desired = want_list(
        {"allocation_id": "eip-a", "instance_id": "eni-1", "private_ip_address": "10.0.0.6"},
        {"allocation_id": "eip-b", "instance_id": "eni-1", "private_ip_address": "10.0.0.5"},
    )
    result = plan(desired, snapshot, allow=True)
    assert steps(result) == [
        ("disassociate", "eip-a", "eni-1", "10.0.0.5", "NAT"),
        ("disassociate", "eip-b", "eni-1", "10.0.0.6", "NAT"),
        ("associate", "eip-a", "eni-1", "10.0.0.6", "NAT"),
        ("associate", "eip-b", "eni-1", "10.0.0.5", "NAT"),
    ]


def test_moving_off_a_nat_gateway_whose_snat_uses_it_needs_force():
    gateway = ("Nat", "ngw-1")
    snapshot = world(
        [eip("eip-1", on=gateway)],
        [(gateway, nat("ngw-1", uses={"eip-1": "UsedBySnatTable"})), (("Nat", "ngw-2"), nat("ngw-2"))],
    )
    error = failure(want(allocation_id="eip-1", instance_id="ngw-2"), snapshot, allow=True)
    assert (error.failures[0].code, error.failures[0].action) == (
        "InvalidIpStatus.HasBeenUsedBySnatTable",
        "UnassociateEipAddress",
    )
    assert "set force: true" in str(error)
    result = plan(want(allocation_id="eip-1", instance_id="ngw-2"), snapshot, allow=True, force=True)
    assert result.disassociations[0].force is True


# ---- 3. plans: predicted failures, one per documented rule ---------------------------------------------


def many(count, key, prefix="eip-x", **fields):
    return [eip(f"{prefix}{n}", on=key, **fields) for n in range(count)]


PREDICTIONS = [
    # (name, request, eips, resources, region, code, message fragment)
    (
        "unknown EIP",
        {"allocation_id": "eip-404", "instance_id": "i-1"},
        [],
        [(ECS1, instance("i-1"))],
        None,
        "InvalidAllocationId.NotFound",
        "EIP eip-404 does not exist in region cn-hangzhou",
    ),
    (
        "unknown target",
        {"allocation_id": "eip-1", "instance_id": "i-404"},
        [eip("eip-1")],
        [(("EcsInstance", "i-404"), None)],
        None,
        "InvalidInstanId.NotFound",
        "instance_id=i-404: there is no ECS instance with this ID",
    ),
    (
        "locked EIP",
        {"allocation_id": "eip-1", "instance_id": "i-1"},
        [eip("eip-1", operation_locks=["financial"])],
        [(ECS1, instance("i-1"))],
        None,
        "Forbidden.FinancialLocked",
        "is locked (financial)",
    ),
    (
        "instance starting",
        {"allocation_id": "eip-1", "instance_id": "i-1"},
        [eip("eip-1")],
        [(ECS1, instance("i-1", status="Starting"))],
        None,
        "IncorrectInstanceStatus",
        "ECS instance i-1 is Starting; an EIP can be associated only with a Running or Stopped instance",
    ),
    (
        "fixed public IP",
        {"allocation_id": "eip-1", "instance_id": "i-1"},
        [eip("eip-1")],
        [(ECS1, instance("i-1", public_ips=["121.40.1.1"]))],
        None,
        "EIP_CAN_NOT_ASSOCIATE_WITH_PUBLIC_IP",
        "has a fixed public IP (121.40.1.1)",
    ),
    (
        "NAT gateway full",
        {"allocation_id": "eip-1", "instance_id": "ngw-1"},
        [eip("eip-1")] + many(20, ("Nat", "ngw-1")),
        [(("Nat", "ngw-1"), nat("ngw-1"))],
        None,
        "QuotaExceeded.NumberOfEip",
        "NAT gateway ngw-1 would hold 21 EIPs; a NAT gateway takes at most 20",
    ),
    (
        "NAT gateway locked",
        {"allocation_id": "eip-1", "instance_id": "ngw-1"},
        [eip("eip-1")],
        [(("Nat", "ngw-1"), nat("ngw-1", business="FinancialLocked"))],
        None,
        "NATGATEWAY_FINANCIALLOCKED",
        "locked for overdue payment",
    ),
    (
        "NAT gateway busy",
        {"allocation_id": "eip-1", "instance_id": "ngw-1"},
        [eip("eip-1")],
        [(("Nat", "ngw-1"), nat("ngw-1", status="Modifying"))],
        None,
        "IncorrectStatus.NatGateway",
        "NAT gateway ngw-1 is Modifying",
    ),
    (
        "VPC NAT gateway",
        {"allocation_id": "eip-1", "instance_id": "ngw-1"},
        [eip("eip-1")],
        [(("Nat", "ngw-1"), nat("ngw-1", network="intranet"))],
        None,
        "Forbidden.EipCanNotBindGatgw",
        "only Internet NAT gateways take EIPs",
    ),
    (
        "HaVip taken",
        {"allocation_id": "eip-1", "instance_id": "havip-1"},
        [eip("eip-1"), eip("eip-2", on=("HaVip", "havip-1"))],
        [(("HaVip", "havip-1"), havip("havip-1"))],
        None,
        "InvalidAssociation.Duplicated",
        "HaVip havip-1 already holds EIP eip-2",
    ),
    (
        "HaVip creating",
        {"allocation_id": "eip-1", "instance_id": "havip-1"},
        [eip("eip-1")],
        [(("HaVip", "havip-1"), havip("havip-1", status="Creating"))],
        None,
        "IncorrectHaVipStatus",
        "HaVip havip-1 is Creating",
    ),
    (
        "CLB taken",
        {"allocation_id": "eip-1", "instance_id": "lb-1"},
        [eip("eip-1"), eip("eip-2", on=("SlbInstance", "lb-1"))],
        [(("SlbInstance", "lb-1"), clb("lb-1"))],
        None,
        "InvalidAssociation.Duplicated",
        "CLB instance lb-1 already holds EIP eip-2",
    ),
    (
        "Internet CLB",
        {"allocation_id": "eip-1", "instance_id": "lb-1"},
        [eip("eip-1")],
        [(("SlbInstance", "lb-1"), clb("lb-1", address_type="internet"))],
        None,
        "InvalidParameter.InstanceTypeNotSupport",
        "only an intranet CLB instance takes an EIP",
    ),
    (
        "cut-through on an attached ENI",
        {"allocation_id": "eip-1", "instance_id": "eni-1", "mode": "BINDED"},
        [eip("eip-1")],
        [(ENI1, eni("eni-1", attached="i-1")), (ECS1, instance("i-1"))],
        None,
        "Eni.Attached",
        "ENI eni-1 is attached to i-1; cut-through mode needs a detached ENI",
    ),
    (
        "cut-through with secondary IPs",
        {"allocation_id": "eip-1", "instance_id": "eni-1", "mode": "BINDED"},
        [eip("eip-1")],
        [(ENI1, eni("eni-1", ips=("10.0.0.5", "10.0.0.6")))],
        None,
        "Eni.HasSubIp",
        "has secondary private IPs (10.0.0.6)",
    ),
    (
        "cut-through on a primary ENI",
        {"allocation_id": "eip-1", "instance_id": "eni-1", "mode": "BINDED"},
        [eip("eip-1")],
        [(ENI1, eni("eni-1", kind="Primary"))],
        None,
        "Invalid.DirectEip.BindType",
        "is a primary ENI; cut-through mode (BINDED) needs a secondary ENI",
    ),
    (
        "cut-through on another IP",
        {"allocation_id": "eip-1", "instance_id": "eni-1", "mode": "BINDED", "private_ip_address": "10.0.0.9"},
        [eip("eip-1")],
        [(ENI1, eni("eni-1"))],
        None,
        "InvalidParameter",
        "takes the primary private IP of ENI eni-1 (10.0.0.5)",
    ),
    (
        "cut-through twice",
        {"allocation_id": "eip-1", "instance_id": "eni-1", "mode": "BINDED"},
        [eip("eip-1"), eip("eip-2", on=ENI1, mode="BINDED", private_ip="10.0.0.5")],
        [(ENI1, eni("eni-1"))],
        None,
        "InvalidAssociation.Duplicated",
        "in cut-through mode an ENI takes one EIP",
    ),
    (
        "cut-through region",
        {"allocation_id": "eip-1", "instance_id": "eni-1", "mode": "BINDED"},
        [eip("eip-1")],
        [(ENI1, eni("eni-1"))],
        "cn-wulanchabu",
        "UnsupportedRegion",
        "is not offered in region cn-wulanchabu",
    ),
    (
        "multi-EIP region",
        {"allocation_id": "eip-1", "instance_id": "eni-1", "mode": "MULTI_BINDED"},
        [eip("eip-1")],
        [(ENI1, eni("eni-1"))],
        "cn-hangzhou",
        "UnsupportedRegion",
        "multi-EIP cut-through mode (MULTI_BINDED) is not offered in region cn-hangzhou",
    ),
    (
        "multi-EIP family",
        {"allocation_id": "eip-1", "instance_id": "eni-1", "mode": "MULTI_BINDED"},
        [eip("eip-1")],
        [(ENI1, eni("eni-1", attached="i-1")), (ECS1, instance("i-1", family="ecs.g7.large"))],
        "cn-shanghai",
        "OperationUnsupported.EipBindModel",
        "of type ecs.g7.large",
    ),
    (
        "multi-EIP quota",
        {"allocation_id": "eip-1", "instance_id": "eni-1", "mode": "MULTI_BINDED"},
        [eip("eip-1")] + many(10, ENI1, mode="MULTI_BINDED"),
        [(ENI1, eni("eni-1"))],
        "cn-shanghai",
        "QuotaExceed.MultiBindedEip",
        "would hold 11 EIPs in multi-EIP cut-through mode; the limit is 10",
    ),
    (
        "NAT next to multi-EIP",
        {"allocation_id": "eip-1", "instance_id": "eni-1"},
        [eip("eip-1"), eip("eip-2", on=ENI1, mode="MULTI_BINDED")],
        [(ENI1, eni("eni-1"))],
        None,
        "OperationFailed.EipBindModeConflict",
        "ENI eni-1 holds EIPs in multi-EIP cut-through mode (MULTI_BINDED) (eip-2",
    ),
    (
        "NAT next to cut-through",
        {"allocation_id": "eip-1", "instance_id": "eni-1"},
        [eip("eip-1"), eip("eip-2", on=ENI1, mode="BINDED", private_ip="10.0.0.5")],
        [(ENI1, eni("eni-1"))],
        None,
        "Mode.Conflict",
        "an ENI takes EIPs in one mode only",
    ),
    (
        "NAT on a foreign IP",
        {"allocation_id": "eip-1", "instance_id": "eni-1", "private_ip_address": "10.9.9.9"},
        [eip("eip-1")],
        [(ENI1, eni("eni-1"))],
        None,
        "InvalidParameter",
        "private_ip_address=10.9.9.9 is not an address of ENI eni-1 (its addresses: 10.0.0.5)",
    ),
    (
        "NAT on a taken IP",
        {"allocation_id": "eip-1", "instance_id": "eni-1"},
        [eip("eip-1"), eip("eip-2", on=ENI1, private_ip="10.0.0.5")],
        [(ENI1, eni("eni-1"))],
        None,
        "InvalidAssociation.Duplicated",
        "ENI eni-1 at 10.0.0.5 already holds EIP eip-2",
    ),
    (
        "ENI attaching",
        {"allocation_id": "eip-1", "instance_id": "eni-1"},
        [eip("eip-1")],
        [(ENI1, eni("eni-1", status="Attaching"))],
        None,
        "InvalidStatus.EniStatusNotSupport",
        "ENI eni-1 is Attaching",
    ),
    (
        "ENI on a starting instance",
        {"allocation_id": "eip-1", "instance_id": "eni-1"},
        [eip("eip-1")],
        [(ENI1, eni("eni-1", attached="i-1")), (ECS1, instance("i-1", status="Starting"))],
        None,
        "InvalidStatus.EcsStatusNotSupport",
        "attached to ECS instance i-1, which is Starting",
    ),
    (
        "primary IP of an instance with a fixed public IP",
        {"allocation_id": "eip-1", "instance_id": "eni-1"},
        [eip("eip-1")],
        [(ENI1, eni("eni-1", kind="Primary", attached="i-1")), (ECS1, instance("i-1", public_ips=["121.40.1.1"]))],
        None,
        "EIP_CAN_NOT_ASSOCIATE_WITH_PUBLIC_IP",
        "is the primary address of ECS instance i-1",
    ),
]


@pytest.mark.parametrize(
    ("request_options", "eips", "resources", "region", "code", "fragment"),
    [case[1:] for case in PREDICTIONS],
    ids=[case[0] for case in PREDICTIONS],
)
def test_documented_failures_are_predicted(request_options, eips, resources, region, code, fragment):
    snapshot = world(eips, resources, region=region or "cn-hangzhou")
    error = failure(want(**request_options), snapshot)
    assert error.failures[0].code == code
    assert fragment in str(error)
    assert error.as_dict()["predicted"] is True


def test_every_failure_of_a_list_is_reported_with_its_item():
    snapshot = world(
        [eip("eip-1"), eip("eip-2")],
        [(ECS1, instance("i-1", status="Starting")), (("HaVip", "havip-1"), havip("havip-1", status="Deleting"))],
    )
    error = failure(
        want_list(
            {"allocation_id": "eip-1", "instance_id": "i-1"}, {"allocation_id": "eip-2", "instance_id": "havip-1"}
        ),
        snapshot,
    )
    assert [f.code for f in error.failures] == ["IncorrectInstanceStatus", "IncorrectHaVipStatus"]
    assert str(error).startswith(
        "2 of the requested changes cannot be made: associations[0]: ECS instance i-1 is Starting"
    )
    assert "; associations[1]: HaVip havip-1 is Deleting" in str(error)


def test_nat_gateway_quota_counts_the_whole_list():
    gateway = ("Nat", "ngw-1")
    snapshot = world([eip(f"eip-{n}") for n in range(3)] + many(18, gateway), [(gateway, nat("ngw-1"))])
    error = failure(want_list(*({"allocation_id": f"eip-{n}", "instance_id": "ngw-1"} for n in range(3))), snapshot)
    assert error.failures[0].code == "QuotaExceeded.NumberOfEip"


def test_same_eip_by_id_and_by_address_in_one_list():
    snapshot = world(
        [eip("eip-1", ip="47.1.1.1")], [(ECS1, instance("i-1")), (("EcsInstance", "i-2"), instance("i-2"))]
    )
    error = failure(
        want_list({"allocation_id": "eip-1", "instance_id": "i-1"}, {"ip_address": "47.1.1.1", "instance_id": "i-2"}),
        snapshot,
    )
    assert "associations[0] and associations[1] both name EIP eip-1" in str(error)


# ---- 3. plans: state=absent ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("request_options", "records", "expected"),
    [
        ({"allocation_id": "eip-1"}, [eip("eip-1", on=ECS1)], [("disassociate", "eip-1", "i-1", "", "")]),
        (
            {"allocation_id": "eip-1", "instance_id": "i-1"},
            [eip("eip-1", on=ECS1)],
            [("disassociate", "eip-1", "i-1", "", "")],
        ),
        ({"allocation_id": "eip-1", "instance_id": "i-2"}, [eip("eip-1", on=ECS1)], []),
        ({"allocation_id": "eip-1"}, [eip("eip-1")], []),
        ({"allocation_id": "eip-404"}, [], []),
        (
            {"allocation_id": "eip-1", "instance_id": "eni-1", "private_ip_address": "10.0.0.6"},
            [eip("eip-1", on=ENI1, private_ip="10.0.0.5")],
            [],
        ),
    ],
)
def test_absent(request_options, records, expected):
    snapshot = world(records, [(ECS1, instance("i-1")), (ENI1, eni("eni-1"))])
    desired, _warnings = validate_request({"state": "absent", **request_options})
    assert steps(plan(desired, snapshot, state="absent")) == expected


def test_absent_by_resource_takes_every_eip_off_it():
    snapshot = world(
        [eip("eip-1", on=ENI1, private_ip="10.0.0.5"), eip("eip-2", on=ENI1, private_ip="10.0.0.6")],
        [(ENI1, eni("eni-1", ips=("10.0.0.5", "10.0.0.6")))],
    )
    desired, _warnings = validate_request({"state": "absent", "instance_id": "eni-1"})
    result = plan(desired, snapshot, state="absent")
    assert [step.allocation_id for step in result.disassociations] == ["eip-1", "eip-2"]
    assert result.results == ["eip-1", "eip-2"]


@pytest.mark.parametrize(
    ("holder_key", "resource", "record", "code"),
    [
        (
            ("Nat", "ngw-1"),
            nat("ngw-1", uses={"eip-1": "UsedByForwardTable"}),
            {},
            "InvalidIpStatus.HasBeenUsedByForwardEntry",
        ),
        (ECS1, instance("i-1", status="Stopping"), {}, "IncorrectInstanceStatus"),
        (ENI1, eni("eni-1", attached="i-1"), {"mode": "BINDED", "private_ip": "10.0.0.5"}, "Eni.Attached"),
        (ENI1, eni("eni-1", status="Detaching"), {"private_ip": "10.0.0.5"}, "InvalidStatus.EniStatusNotSupport"),
        (("HaVip", "havip-1"), havip("havip-1", status="Deleting"), {}, "IncorrectHaVipStatus"),
    ],
)
def test_absent_predicts_the_disassociation_failures(holder_key, resource, record, code):
    snapshot = world([eip("eip-1", on=holder_key, **record)], [(holder_key, resource)])
    desired, _warnings = validate_request({"state": "absent", "allocation_id": "eip-1"})
    error = failure(desired, snapshot, state="absent")
    assert (error.failures[0].code, error.failures[0].action) == (code, "UnassociateEipAddress")


# ---- IPv4 gateway rules: cut-through is refused where a VPC has one, an IpAddress target needs one ---------

GATEWAY_RULES = [
    # (name, request, gateway of vpc-1 (None: none), region, expected code or the planned step)
    ("cut-through, VPC with a gateway", CUT_THROUGH, gateway("vpc-1"), None, "OperationDenied.Ipv4GatewayExist"),
    (
        "cut-through, VPC with a deactivated gateway",
        CUT_THROUGH,
        gateway("vpc-1", enabled=False),
        None,
        "OperationDenied.Ipv4GatewayExist",
    ),
    ("cut-through, VPC without", CUT_THROUGH, None, None, ("associate", "eip-1", "eni-1", "10.0.0.5", "BINDED")),
    # The specification sets the gateway rule for cut-through only; the emulator accepts MULTI_BINDED there.
    (
        "multi-EIP, VPC with a gateway",
        MULTI,
        gateway("vpc-1"),
        "cn-shanghai",
        ("associate", "eip-1", "eni-1", "", "MULTI_BINDED"),
    ),
    ("IpAddress, VPC without", IP_TARGET, None, None, "OperationFailed.Ipv4GatewayNotOpenedInVpc"),
    (
        "IpAddress, deactivated gateway",
        IP_TARGET,
        gateway("vpc-1", enabled=False),
        None,
        "OperationFailed.Ipv4GatewayNotActivatedInVpc",
    ),
    (
        "IpAddress, active gateway",
        IP_TARGET,
        gateway("vpc-1"),
        None,
        ("associate", "eip-1", "10.0.0.9", "10.0.0.9", ""),
    ),
]


@pytest.mark.parametrize(
    ("request_options", "vpc_gateway", "region", "expected"),
    [case[1:] for case in GATEWAY_RULES],
    ids=[case[0] for case in GATEWAY_RULES],
)
def test_ipv4_gateway_rules(request_options, vpc_gateway, region, expected):
    snapshot = with_gateways(
        world([eip("eip-1")], [(ENI1, eni("eni-1"))], region=region or "cn-hangzhou"), vpc_1=vpc_gateway
    )
    desired = want(**request_options)
    if isinstance(expected, str):
        error = failure(desired, snapshot)
        assert error.failures[0].code == expected
        assert "vpc-1" in str(error) and error.as_dict()["predicted"] is True
    else:
        assert steps(plan(desired, snapshot)) == [expected]


def test_an_unlooked_vpc_predicts_nothing():
    """Without a lookup (no rule needed one) the planner leaves the gateway rules to the API."""
    assert steps(plan(want(**IP_TARGET), world([eip("eip-1")]))) == [("associate", "eip-1", "10.0.0.9", "10.0.0.9", "")]
