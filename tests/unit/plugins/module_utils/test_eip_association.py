"""Decision logic of eip_association (plugins/module_utils/_eip_association.py): table-driven, no sleeps."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from ansible_collections.alicloud.eip.plugins.module_utils import _eip_association as logic
from ansible_collections.alicloud.eip.plugins.module_utils._eip_association import (
    Desired,
    InputError,
    PlanError,
    Snapshot,
    execute_plan,
    gather_snapshot,
    plan_changes,
    validate_request,
)
from ansible_collections.alicloud.eip.plugins.module_utils._retries import AlicloudApiError
from ansible_collections.alicloud.eip.plugins.module_utils._polling import WaitPolicy

# ---- helpers -------------------------------------------------------------------------------------


def eip(allocation_id, ip=None, status=None, on=None, private_ip="", mode="", **extra):
    """A normalized EIP record; ``on=(type, id)`` associates it."""
    instance_type, instance_id = on or ("", "")
    record = {
        "allocation_id": allocation_id,
        "ip_address": ip or f"47.0.0.{sum(map(ord, allocation_id)) % 250}",
        "status": status or ("InUse" if on else "Available"),
        "instance_id": instance_id,
        "instance_type": instance_type,
        "private_ip_address": private_ip,
        "mode": mode or ("NAT" if on else ""),
        "vpc_id": "",
        "business_status": "Normal",
        "operation_locks": [],
    }
    record.update(extra)
    return record


def instance(
    instance_id, status="Running", public_ips=(), primary_eni="", primary_ip="10.0.0.2", family="ecs.g5.large"
):
    return {
        "id": instance_id,
        "status": status,
        "network_type": "vpc",
        "instance_type": family,
        "vpc_id": "vpc-1",
        "public_ip_addresses": list(public_ips),
        "eip_allocation_id": "",
        "eip_address": "",
        "primary_eni_id": primary_eni,
        "primary_ip": primary_ip if primary_eni else "",
    }


def eni(eni_id, ips=("10.0.0.5",), kind="Secondary", status="Available", attached=""):
    return {
        "id": eni_id,
        "type": kind,
        "status": status if not attached or status != "Available" else "InUse",
        "instance_id": attached,
        "vpc_id": "vpc-1",
        "primary_ip": ips[0],
        "private_ips": [
            {"ip": ip, "primary": index == 0, "eip_allocation_id": "", "eip_address": ""}
            for index, ip in enumerate(ips)
        ],
    }


def nat(gateway_id, status="Available", business="Normal", network="internet", uses=None):
    return {
        "id": gateway_id,
        "status": status,
        "business_status": business,
        "network_type": network,
        "eip_bind_mode": "MULTI_BINDED",
        "vpc_id": "vpc-1",
        "eips": [{"allocation_id": a, "ip_address": "", "using_status": u} for a, u in (uses or {}).items()],
    }


def havip(havip_id, status="Available"):
    return {"id": havip_id, "status": status, "ip_address": "10.0.0.200", "vpc_id": "vpc-1", "eip_addresses": []}


def clb(lb_id, address_type="intranet"):
    return {
        "id": lb_id,
        "status": "active",
        "address_type": address_type,
        "network_type": "vpc",
        "address": "10.0.0.9",
        "vpc_id": "vpc-1",
    }


def world(eips=(), resources=(), region="cn-hangzhou"):
    """A Snapshot whose ``held`` lists are derived from the EIP records, as the describes would give them."""
    snapshot = Snapshot(region=region)
    snapshot.add_eips(eips)
    for key, record in resources:
        snapshot.resources[key] = record
        snapshot.held[key] = [e["allocation_id"] for e in eips if (e["instance_type"], e["instance_id"]) == key]
    return snapshot


def want(**options):
    params = {"state": "present", **options}
    desired, _warnings = validate_request(params)
    return desired


def want_list(*items, state="present"):
    desired, _warnings = validate_request({"state": state, "associations": list(items)})
    return desired


def plan(desired, snapshot, state="present", allow=False, force=False):
    return plan_changes(desired, snapshot, state, allow, force)


def steps(result):
    return [
        (step.kind, step.allocation_id, step.holder.instance_id, step.holder.private_ip_address, step.holder.mode)
        for step in result.steps
    ]


def failure(desired, snapshot, state="present", allow=False, force=False):
    with pytest.raises(PlanError) as excinfo:
        plan(desired, snapshot, state, allow, force)
    return excinfo.value


ECS1 = ("EcsInstance", "i-1")
ENI1 = ("NetworkInterface", "eni-1")


# ---- 1. input --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("instance_id", "expected"),
    [
        ("i-bp1abc", "EcsInstance"),
        ("eni-bp1abc", "NetworkInterface"),
        ("ngw-bp1abc", "Nat"),
        ("lb-bp1abc", "SlbInstance"),
        ("havip-bp1abc", "HaVip"),
        ("172.16.1.9", "IpAddress"),
        ("nat-bp1abc", None),
        ("vm-1", None),
    ],
)
def test_instance_type_from_prefix(instance_id, expected):
    assert logic.infer_instance_type(instance_id) == expected


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"instance_id": "i-1"}, "name the EIP with allocation_id or ip_address"),
        ({"allocation_id": "eip-1"}, "instance_id is required with state=present"),
        (
            {"allocation_id": "eip-1", "ip_address": "47.0.0.1", "instance_id": "i-1"},
            "allocation_id and ip_address both name the EIP",
        ),
        ({"allocation_id": "i-123", "instance_id": "i-1"}, "allocation_id='i-123' is not an EIP allocation ID"),
        ({"ip_address": "47.0.0.300", "instance_id": "i-1"}, "ip_address='47.0.0.300' is not an IPv4 address"),
        ({"allocation_id": "eip-1", "instance_id": "vm-1"}, "cannot tell what instance_id='vm-1' is from its prefix"),
        ({"allocation_id": "eip-1", "instance_id": "i-1", "mode": "BINDED"}, "mode applies only to ENI targets"),
        ({"allocation_id": "eip-1", "instance_id": "ngw-1", "mode": "NAT"}, "but ngw-1 is a NAT gateway; remove mode"),
        (
            {"allocation_id": "eip-1", "instance_id": "i-1", "private_ip_address": "10.0.0.5"},
            "private_ip_address applies only to ENI targets",
        ),
        (
            {"allocation_id": "eip-1", "instance_id": "eni-1", "private_ip_address": "10.0.0"},
            "private_ip_address='10.0.0' is not an IPv4 address",
        ),
        (
            {"allocation_id": "eip-1", "instance_id": "172.16.1.9"},
            "vpc_id is required when the target is an IP address",
        ),
        (
            {"allocation_id": "eip-1", "instance_id": "i-1", "vpc_id": "vpc-1"},
            "vpc_id applies only when the target is an IP address",
        ),
        ({"allocation_id": "eip-1", "instance_type": "HaVip"}, "instance_id is required"),
    ],
)
def test_bad_input_names_the_option_and_the_fix(params, fragment):
    with pytest.raises(InputError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        validate_request({"state": "present", **params})


def test_absent_needs_an_eip_or_a_resource():
    with pytest.raises(InputError, match="name the EIP .* or the resource to take EIPs off"):
        validate_request({"state": "absent"})
    desired, _warnings = validate_request({"state": "absent", "instance_id": "eni-1"})
    assert desired[0].target == ENI1 and not desired[0].eip_ref


def test_explicit_type_overrides_the_prefix_with_a_warning():
    desired, warnings = validate_request(
        {"state": "present", "allocation_id": "eip-1", "instance_id": "i-1", "instance_type": "HaVip"}
    )
    assert desired[0].instance_type == "HaVip"
    assert warnings == ["instance_type=HaVip overrides the type the ID i-1 suggests (EcsInstance)"]


def test_ip_address_target_sends_the_address_as_private_ip():
    desired = want(allocation_id="eip-1", instance_id="172.16.1.9", vpc_id="vpc-gw")
    assert (desired[0].instance_type, desired[0].private_ip_address, desired[0].vpc_id) == (
        "IpAddress",
        "172.16.1.9",
        "vpc-gw",
    )


@pytest.mark.parametrize(
    ("items", "fragment"),
    [
        (
            [{"allocation_id": "eip-1", "instance_id": "i-1"}, {"allocation_id": "eip-1", "instance_id": "i-2"}],
            "associations[0] and associations[1] both name EIP eip-1",
        ),
        (
            [{"allocation_id": "eip-1", "instance_id": "i-1"}, {"allocation_id": "eip-2", "instance_id": "i-1"}],
            "both put an EIP on i-1; it takes one EIP",
        ),
        (
            [
                {"allocation_id": "eip-1", "instance_id": "eni-1", "private_ip_address": "10.0.0.5"},
                {"allocation_id": "eip-2", "instance_id": "eni-1", "private_ip_address": "10.0.0.5"},
            ],
            "both put an EIP on eni-1 at 10.0.0.5",
        ),
        (
            [
                {"allocation_id": "eip-1", "instance_id": "eni-1", "private_ip_address": "10.0.0.5"},
                {"allocation_id": "eip-2", "instance_id": "eni-1", "mode": "MULTI_BINDED"},
            ],
            "associations[0] (NAT) and associations[1] (MULTI_BINDED) put EIPs on eni-1 in different modes",
        ),
        (
            [{"allocation_id": "eip-1", "instance_id": "i-1"}, {"instance_id": "i-2"}],
            "associations[1]: name the EIP with associations[1].allocation_id",
        ),
        (
            [{"allocation_id": "eip-1", "instance_id": "i-1", "mode": "NAT"}],
            "associations[0].mode applies only to ENI targets",
        ),
    ],
)
def test_list_items_are_checked_against_each_other(items, fragment):
    with pytest.raises(InputError) as excinfo:
        want_list(*items)
    assert fragment in str(excinfo.value)


def test_empty_list_is_refused():
    with pytest.raises(InputError, match="associations is empty"):
        validate_request({"state": "present", "associations": []})


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
    assert logic.satisfies(record, want(allocation_id="eip-1", instance_id="eni-1", **request_options)[0]) is in_place


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
    key = (logic.infer_instance_type(instance_id), instance_id)
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


# ---- 2. observing: what gets described ----------------------------------------------------------------


class FakeApi:
    """An in-memory cloud behind the API functions; records every call.  Changes take effect at once."""

    def __init__(self, eips=(), resources=(), fail=None, gateways=()):
        self.eips = {record["allocation_id"]: dict(record) for record in eips}
        self.resources = dict(resources)
        self.calls: list[tuple] = []
        self.fail = fail or {}
        self.gateways = list(gateways)  # normalized IPv4 gateways, as list_ipv4_gateways returns them

    def _held(self, instance_type, instance_id):
        return [
            dict(e)
            for e in self.eips.values()
            if (e["instance_type"], e["instance_id"]) == (instance_type, instance_id)
        ]

    def describe_eip_addresses(
        self,
        connection,
        allocation_ids=None,
        ip_addresses=None,
        associated_instance_type=None,
        associated_instance_id=None,
        **filters,
    ):
        assert not any(filters.values()), f"the fake does not filter by {filters}"
        self.calls.append(("DescribeEipAddresses", tuple(allocation_ids or ip_addresses or (associated_instance_id,))))
        if associated_instance_id:
            return self._held(associated_instance_type, associated_instance_id)
        wanted = set(allocation_ids or ip_addresses)
        return [dict(e) for e in self.eips.values() if e["allocation_id"] in wanted or e["ip_address"] in wanted]

    def _describe(self, kind, action):
        def describe(connection, ids):
            self.calls.append((action, tuple(ids)))
            return [self.resources[(kind, i)] for i in ids if (kind, i) in self.resources]

        return describe

    def __getattr__(self, name):
        kinds = {
            "describe_instances": ("EcsInstance", "DescribeInstances"),
            "describe_network_interfaces": ("NetworkInterface", "DescribeNetworkInterfaces"),
            "describe_nat_gateways": ("Nat", "DescribeNatGateways"),
            "describe_ha_vips": ("HaVip", "DescribeHaVips"),
            "describe_load_balancers": ("SlbInstance", "DescribeLoadBalancers"),
        }
        if name in kinds:
            return self._describe(*kinds[name])
        raise AttributeError(name)

    def list_ipv4_gateways(self, connection, vpc_ids):
        self.calls.append(("ListIpv4Gateways", tuple(vpc_ids)))
        return [dict(gateway) for gateway in self.gateways if gateway["vpc_id"] in vpc_ids]

    def associate_eip_address(
        self, connection, allocation_id, instance_id, instance_type, private_ip_address=None, mode=None, vpc_id=None
    ):
        self.calls.append(("AssociateEipAddress", allocation_id, instance_id))
        if ("associate", allocation_id) in self.fail:
            raise self.fail[("associate", allocation_id)]
        self.eips[allocation_id].update(
            status="InUse",
            instance_id=instance_id,
            instance_type=instance_type,
            private_ip_address=private_ip_address or "",
            mode=mode or "NAT",
        )
        return "R"

    def unassociate_eip_address(
        self, connection, allocation_id, instance_id, instance_type, private_ip_address=None, force=None
    ):
        self.calls.append(("UnassociateEipAddress", allocation_id, instance_id))
        if ("unassociate", allocation_id) in self.fail:
            raise self.fail[("unassociate", allocation_id)]
        self.eips[allocation_id].update(
            status="Available", instance_id="", instance_type="", private_ip_address="", mode=""
        )
        return "R"

    def actions(self):
        return [call[0] for call in self.calls]


CONNECTION = SimpleNamespace(region="cn-hangzhou")
NO_WAIT = WaitPolicy(sleep=lambda seconds: None, clock=lambda: 0.0)


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
    assert api.calls == [
        ("DescribeEipAddresses", ("eip-1", "eip-2")),
        ("DescribeEipAddresses", ("eni-1",)),
        ("DescribeNetworkInterfaces", ("eni-1",)),
        ("DescribeInstances", ("i-1",)),
    ]


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


def run(api, desired, state="present", allow=False, force=False):
    snapshot = gather_snapshot(CONNECTION, desired, state, 60, api=api, wait_policy=NO_WAIT)
    result = plan(desired, snapshot, state, allow, force)
    return result, execute_plan(CONNECTION, result, wait=True, wait_timeout=60, api=api, wait_policy=NO_WAIT)


def test_replace_disassociates_waits_then_associates():
    api = FakeApi([eip("eip-new"), eip("eip-old", on=ECS1)], [(ECS1, instance("i-1"))])
    result, outcome = run(api, want(allocation_id="eip-new", instance_id="i-1"), allow=True)
    mutating = [call for call in api.calls if call[0] in ("AssociateEipAddress", "UnassociateEipAddress")]
    assert mutating == [("UnassociateEipAddress", "eip-old", "i-1"), ("AssociateEipAddress", "eip-new", "i-1")]
    assert not outcome.failed
    assert outcome.records["eip-new"]["instance_id"] == "i-1" and api.eips["eip-old"]["status"] == "Available"
    # Second run: in place, no mutating call, one describe.
    api.calls.clear()
    result, outcome = run(api, want(allocation_id="eip-new", instance_id="i-1"), allow=True)
    assert not result.changed and api.actions() == ["DescribeEipAddresses"]


def test_failed_association_puts_the_old_eip_back():
    rejected = AlicloudApiError(
        "InvalidAssociation.Duplicated", "Specified instance already is associated.", request_id="R9", status_code=400
    )
    api = FakeApi(
        [eip("eip-new"), eip("eip-old", on=ECS1)], [(ECS1, instance("i-1"))], fail={("associate", "eip-new"): rejected}
    )
    _result, outcome = run(api, want(allocation_id="eip-new", instance_id="i-1"), allow=True)
    assert outcome.failed
    assert outcome.failures[0].startswith("AssociateEipAddress (associate eip-new")
    assert (
        "InvalidAssociation.Duplicated: Specified instance already is associated. (HTTP 400, request id R9)"
        in outcome.failures[0]
    )
    assert outcome.rollbacks == [f"restored eip-old ({api.eips['eip-old']['ip_address']}) on ECS instance i-1"]
    assert api.eips["eip-old"]["instance_id"] == "i-1"


def test_failed_disassociation_skips_its_association_but_not_the_others():
    refused = AlicloudApiError("IncorrectEipStatus", "Current elastic IP status does not support this operation.")
    api = FakeApi(
        [eip("eip-1", on=("EcsInstance", "i-9")), eip("eip-2")],
        [(ECS1, instance("i-1")), (("EcsInstance", "i-9"), instance("i-9")), (("EcsInstance", "i-2"), instance("i-2"))],
        fail={("unassociate", "eip-1"): refused},
    )
    desired = want_list(
        {"allocation_id": "eip-1", "instance_id": "i-1"}, {"allocation_id": "eip-2", "instance_id": "i-2"}
    )
    _result, outcome = run(api, desired, allow=True)
    assert api.eips["eip-2"]["instance_id"] == "i-2"
    assert api.eips["eip-1"]["instance_id"] == "i-9"
    assert any("skipped associate eip-1" in failure for failure in outcome.failures)
    assert outcome.rollbacks == []


def test_absent_then_rerun_is_a_no_op():
    api = FakeApi([eip("eip-1", on=ECS1)], [(ECS1, instance("i-1"))])
    desired, _warnings = validate_request({"state": "absent", "allocation_id": "eip-1"})
    result, outcome = run(api, desired, state="absent")
    assert result.changed and not outcome.failed and api.eips["eip-1"]["status"] == "Available"
    api.calls.clear()
    result, _outcome = run(api, desired, state="absent")
    assert not result.changed and api.actions() == ["DescribeEipAddresses"]


def test_desired_where_prefixes_messages():
    assert Desired("associations[3]", allocation_id="eip-1").option("mode") == "associations[3].mode"
    assert Desired("", allocation_id="eip-1").option("mode") == "mode"


# ---- IPv4 gateway rules: cut-through is refused where a VPC has one, an IpAddress target needs one ---------


def gateway(vpc_id, enabled=True):
    """A normalized IPv4 gateway (as list_ipv4_gateways returns it)."""
    return {"id": f"ipv4gw-{vpc_id[4:]}", "vpc_id": vpc_id, "name": "", "status": "Created", "enabled": enabled}


def with_gateways(snapshot, **vpcs):
    """The snapshot with the looked-up VPCs: ``vpc_1=gateway(...)`` or ``vpc_1=None`` (looked up, has none)."""
    snapshot.ipv4_gateways.update({name.replace("_", "-"): record for name, record in vpcs.items()})
    return snapshot


IP_TARGET = {"allocation_id": "eip-1", "instance_id": "10.0.0.9", "vpc_id": "vpc-1"}
CUT_THROUGH = {"allocation_id": "eip-1", "instance_id": "eni-1", "mode": "BINDED"}
MULTI = {"allocation_id": "eip-1", "instance_id": "eni-1", "mode": "MULTI_BINDED"}

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
