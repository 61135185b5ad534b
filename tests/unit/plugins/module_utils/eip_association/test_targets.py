"""The targets table (_eip_association/targets.py, target_eni.py): one entry per kind, checks that return verdicts."""

from __future__ import annotations

import ast
import pathlib

import pytest
from ansible_collections.alicloud.eip.plugins.module_utils._api import vpc_network
from ansible_collections.alicloud.eip.plugins.module_utils._api.namespace import API
from ansible_collections.alicloud.eip.plugins.module_utils._eip_association import targets
from ansible_collections.alicloud.eip.plugins.module_utils._eip_association.kinds import Context, PredictedFailure
from ansible_collections.alicloud.eip.plugins.module_utils._eip_association.request import infer_instance_type
from ansible_collections.alicloud.eip.plugins.module_utils._eip_association.snapshot import holder_of
from ansible_collections.alicloud.eip.plugins.modules import eip_association as module
from ansible_collections.alicloud.eip.tests.unit.plugins.module_utils.eip_association.fakes import (
    ECS1,
    ENI1,
    clb,
    eip,
    eni,
    havip,
    instance,
    nat,
    want,
    world,
)

NAT1 = ("Nat", "ngw-1")
ALL_KINDS = ("EcsInstance", "NetworkInterface", "Nat", "SlbInstance", "HaVip", "IpAddress", "Alb", "Nlb")


def context(snapshot, leaving=(), incoming=None):
    return Context(snapshot, {allocation_id: object() for allocation_id in leaving}, incoming or {})


def test_every_kind_has_one_entry():
    assert targets.INSTANCE_TYPES == ALL_KINDS
    assert all(targets.TARGETS[name].instance_type == name for name in ALL_KINDS)
    # The module's choices are the table's kinds.
    assert module.item_spec()["instance_type"]["choices"] == list(ALL_KINDS)


@pytest.mark.parametrize(
    ("instance_type", "label", "prefix"),
    [
        ("EcsInstance", "ECS instance", "i-"),
        ("NetworkInterface", "ENI", "eni-"),
        ("Nat", "NAT gateway", "ngw-"),
        ("SlbInstance", "CLB instance", "lb-"),
        ("HaVip", "HaVip", "havip-"),
        ("IpAddress", "IP address", ""),
        ("Alb", "ALB instance", "alb-"),
        ("Nlb", "NLB instance", "nlb-"),
    ],
)
def test_label_and_prefix_come_from_the_entry(instance_type, label, prefix):
    kind = targets.TARGETS[instance_type]
    assert (kind.label, kind.prefix) == (label, prefix)
    assert targets.TYPE_LABELS[instance_type] == label
    if prefix:
        assert infer_instance_type(prefix + "bp1x") == instance_type


def test_each_described_kind_names_an_api_function():
    described = {name: kind.describe for name, kind in targets.TARGETS.items() if kind.describe}
    assert set(described) == set(ALL_KINDS) - {"IpAddress"}
    for function in described.values():
        assert callable(getattr(API, function))


def test_the_targets_never_import_the_planner():
    """Checks return verdicts; plan.py imports the targets, never the other way round."""
    package = pathlib.Path(targets.__file__).parent
    for name in ("kinds.py", "targets.py", "target_eni.py"):
        tree = ast.parse((package / name).read_text())
        imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        imported |= {
            f"{node.module}.{alias.name}"
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom)
            for alias in node.names
        }
        assert not any(
            module_name.endswith(("._eip_association.plan", "._eip_association.snapshot", "._api"))
            for module_name in imported
        ), name


def check(desired, snapshot, leaving=(), incoming=None):
    item = desired[0]
    kind = targets.TARGETS[item.instance_type]
    resource = snapshot.resources.get(item.target) if kind.describe else {"id": item.instance_id}
    found = snapshot.find_eip(item)
    return kind.check_associate(item, found, resource, context(snapshot, leaving, incoming))


def test_ecs_verdict_names_the_instances_eips_as_occupants():
    snapshot = world([eip("eip-1"), eip("eip-old", on=ECS1)], [(ECS1, instance("i-1"))])
    verdict = check(want(allocation_id="eip-1", instance_id="i-1"), snapshot)
    assert verdict.refusals == []
    assert [other["allocation_id"] for other in verdict.occupants] == ["eip-old"]
    assert (verdict.slot, verdict.rule) == ("ECS instance i-1", "an ECS instance holds one EIP")
    # An EIP the plan takes off already is no occupant.
    assert check(want(allocation_id="eip-1", instance_id="i-1"), snapshot, leaving=["eip-old"]).occupants == []


def test_ecs_verdict_collects_every_refusal():
    bad = {**instance("i-1", status="Starting", public_ips=["1.2.3.4"]), "network_type": "classic"}
    verdict = check(want(allocation_id="eip-1", instance_id="i-1"), world([eip("eip-1")], [(ECS1, bad)]))
    assert [refusal.code for refusal in verdict.refusals] == [
        "OperationDenied",
        "IncorrectInstanceStatus",
        "EIP_CAN_NOT_ASSOCIATE_WITH_PUBLIC_IP",
    ]
    assert verdict.occupants == []


def test_eni_nat_mode_verdict_sends_the_primary_ip_by_default():
    snapshot = world([eip("eip-1")], [(ENI1, eni("eni-1", ips=("10.0.0.5", "10.0.0.6")))])
    verdict = check(want(allocation_id="eip-1", instance_id="eni-1"), snapshot)
    assert (verdict.private_ip, verdict.mode, verdict.slot) == ("10.0.0.5", "NAT", "ENI eni-1 at 10.0.0.5")
    assert verdict.limit is None


def test_multi_eip_verdict_carries_the_limit_for_the_planner():
    key = ENI1
    held = [eip(f"eip-x{n}", on=key, private_ip="10.0.0.5", mode="MULTI_BINDED") for n in range(10)]
    snapshot = world([eip("eip-1"), *held], [(key, eni("eni-1"))], region="cn-shanghai")
    desired = want(allocation_id="eip-1", instance_id="eni-1", mode="MULTI_BINDED", private_ip_address="10.0.0.5")
    verdict = check(desired, snapshot, incoming={key: desired})
    assert verdict.refusals == [] and verdict.mode == "MULTI_BINDED"
    assert len(verdict.occupants) == 10  # each at 10.0.0.5: replaced with allow_reassociation
    assert (verdict.limit.count, verdict.limit.maximum, verdict.limit.code) == (11, 10, "QuotaExceed.MultiBindedEip")
    assert "would hold 11 EIPs" in verdict.limit.message(11)


def test_nat_gateway_verdict_has_no_slot_but_a_limit():
    held = [eip(f"eip-x{n}", on=NAT1) for n in range(20)]
    desired = want(allocation_id="eip-1", instance_id="ngw-1")
    verdict = check(desired, world([eip("eip-1"), *held], [(NAT1, nat("ngw-1"))]), incoming={NAT1: desired})
    assert (
        verdict.occupants == []
        and verdict.limit.count == 21
        and verdict.limit.maximum == vpc_network.NAT_GATEWAY_EIP_LIMIT
    )
    assert "it holds 20 now" in verdict.limit.message(21)


@pytest.mark.parametrize(
    ("instance_id", "resource", "code"),
    [
        ("lb-1", clb("lb-1", address_type="internet"), "InvalidParameter.InstanceTypeNotSupport"),
        ("havip-1", havip("havip-1", status="Creating"), "IncorrectHaVipStatus"),
        ("ngw-1", nat("ngw-1", network="intranet"), "Forbidden.EipCanNotBindGatgw"),
        ("ngw-1", nat("ngw-1", business="FinancialLocked"), "NATGATEWAY_FINANCIALLOCKED"),
    ],
)
def test_refusals_are_verdicts_without_the_items_prefix(instance_id, resource, code):
    desired = want(allocation_id="eip-1", instance_id=instance_id)
    verdict = check(desired, world([eip("eip-1")], [(desired[0].target, resource)]))
    assert [refusal.code for refusal in verdict.refusals] == [code]
    assert verdict.refusals[0].message.startswith(("CLB", "HaVip", "NAT gateway"))


def test_ip_address_verdict_sends_the_address():
    desired = want(allocation_id="eip-1", instance_id="10.0.0.9", vpc_id="vpc-1")
    verdict = check(desired, world([eip("eip-1")]))
    assert (verdict.refusals, verdict.private_ip, verdict.mode) == ([], "10.0.0.9", "")


@pytest.mark.parametrize(
    ("record", "resource", "force", "code"),
    [
        (eip("eip-1", on=ECS1), instance("i-1", status="Starting"), False, "IncorrectInstanceStatus"),
        (eip("eip-1", on=ECS1), instance("i-1"), False, None),
        (eip("eip-1", on=ENI1), eni("eni-1", status="Attaching"), False, "InvalidStatus.EniStatusNotSupport"),
        (eip("eip-1", on=ENI1, mode="BINDED"), eni("eni-1", attached="i-1"), False, "Eni.Attached"),
        (eip("eip-1", on=ENI1), eni("eni-1", attached="i-1"), False, None),
        (eip("eip-1", on=("HaVip", "havip-1")), havip("havip-1", status="Deleting"), False, "IncorrectHaVipStatus"),
        (
            eip("eip-1", on=NAT1),
            nat("ngw-1", uses={"eip-1": "UsedBySnatTable"}),
            False,
            "InvalidIpStatus.HasBeenUsedBySnatTable",
        ),
        (
            eip("eip-1", on=NAT1),
            nat("ngw-1", uses={"eip-1": "UsedByForwardTable"}),
            False,
            "InvalidIpStatus.HasBeenUsedByForwardEntry",
        ),
        (eip("eip-1", on=NAT1), nat("ngw-1", uses={"eip-1": "UsedBySnatTable"}), True, None),
        (eip("eip-1", on=("SlbInstance", "lb-1")), clb("lb-1"), False, None),
    ],
)
def test_release_checks_return_a_verdict(record, resource, force, code):
    holder = holder_of(record)
    refusal = targets.TARGETS[holder.instance_type].check_release(record, holder, resource, force)
    if code is None:
        assert refusal is None
    else:
        assert isinstance(refusal, PredictedFailure)
        assert (refusal.code, refusal.action) == (code, "UnassociateEipAddress")
        assert holder.describe() in refusal.message


@pytest.mark.parametrize(
    ("record", "described"),
    [
        (
            eip("eip-1", on=ENI1, private_ip="10.0.0.5", mode="BINDED"),
            "ENI eni-1 (10.0.0.5, cut-through mode (BINDED))",
        ),
        (eip("eip-1", on=ENI1), "ENI eni-1 (NAT mode)"),
        (eip("eip-1", on=ECS1, private_ip="10.0.0.2"), "ECS instance i-1"),
        (eip("eip-1", on=("IpAddress", "10.0.0.9"), private_ip="10.0.0.9"), "IP address 10.0.0.9"),
    ],
)
def test_holders_are_described_by_their_entry(record, described):
    assert holder_of(record).describe() == described
