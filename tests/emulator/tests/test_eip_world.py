"""EIPs that a world file declares already associated (``associated_with``), checked by the API's own rules."""

from __future__ import annotations

import pytest

from tests.emulator.tests.eip_support import eip_world, error_of, find, load_error, unassociate


def world_with_binding(target: dict, **extra) -> dict:
    return eip_world(eips=[{"id": "eip-w", "ip": "47.96.1.30", "associated_with": target}], **extra)


@pytest.mark.parametrize(
    "target, recorded",
    [
        pytest.param({"instance": "i-running"}, ("EcsInstance", "i-running", "NAT"), id="instance"),
        pytest.param(
            {"instance": "eni-multi", "private_ip": "10.1.0.61", "mode": "NAT"},
            ("NetworkInterface", "eni-multi", "NAT"),
            id="eni-nat",
        ),
        pytest.param({"instance": "ngw-old"}, ("Nat", "ngw-old", "NAT"), id="nat-gateway"),
        pytest.param({"instance": "lb-intranet"}, ("SlbInstance", "lb-intranet", "NAT"), id="clb"),
        pytest.param({"instance": "havip-1"}, ("HaVip", "havip-1", "NAT"), id="havip"),
        pytest.param({"instance": "172.16.1.40", "vpc": "vpc-gw"}, ("IpAddress", "172.16.1.40", "NAT"), id="address"),
        pytest.param(
            {"instance": "eni-free", "type": "NetworkInterface", "mode": "BINDED"},
            ("NetworkInterface", "eni-free", "BINDED"),
            id="explicit-type",
        ),
    ],
)
def test_world_binding_is_visible_through_the_api(vpc, control, target, recorded):
    control.load(world_with_binding(target))
    eip = find(vpc, "eip-w")
    assert (eip.status, eip.instance_type, eip.instance_id, eip.mode) == ("InUse", *recorded)


def test_world_binding_to_a_new_nat_gateway_consumes_an_address(vpc, control):
    control.load(world_with_binding({"instance": "ngw-new"}))
    consumed = control.state()["nat_gateways"]["ngw-new"]["EipPrivateIps"]
    assert list(consumed) == ["eip-w"] and consumed["eip-w"].startswith("10.2.0.")
    unassociate(vpc, "eip-w", instance_id="ngw-new", instance_type="Nat")
    assert control.state()["nat_gateways"]["ngw-new"]["EipPrivateIps"] == {}


def test_world_may_show_a_cut_through_eni_already_attached(vpc, control):
    # Spec: associate with the detached ENI first, then attach; the world states the end result.
    control.load(world_with_binding({"instance": "eni-attached", "mode": "BINDED"}))
    assert find(vpc, "eip-w").mode == "BINDED"
    code = error_of(unassociate, vpc, "eip-w", instance_id="eni-attached", instance_type="NetworkInterface")
    assert code == ("Eni.Attached", 400)


@pytest.mark.parametrize(
    "target, fragment",
    [
        pytest.param({"instance": "i-fixedip"}, "EIP_CAN_NOT_ASSOCIATE_WITH_PUBLIC_IP", id="fixed-public-ip"),
        pytest.param({"instance": "i-nothere"}, "InvalidInstanId.NotFound", id="unknown-instance"),
        pytest.param({"instance": "eni-multi"}, "MissingParameter", id="eni-without-private-ip"),
        pytest.param({"instance": "eni-running", "mode": "BINDED"}, "Invalid.DirectEip.BindType", id="primary-eni"),
        pytest.param({"instance": "10.1.0.9", "vpc": "vpc-main"}, "Ipv4GatewayNotOpenedInVpc", id="address"),
        pytest.param({"instance": "nat-1"}, "cannot tell the type", id="unknown-prefix"),
    ],
)
def test_impossible_world_binding_is_refused(control, target, fragment):
    status, message = load_error(control, world_with_binding(target))
    assert status == 400
    assert "WorldError" in message and "eip-w" in message and fragment in message


def test_two_world_eips_on_one_instance_are_refused(control):
    world = eip_world(
        eips=[
            {"id": "eip-w1", "ip": "47.96.1.31", "associated_with": {"instance": "i-running"}},
            {"id": "eip-w2", "ip": "47.96.1.32", "associated_with": {"instance": "i-running"}},
        ]
    )
    status, message = load_error(control, world)
    assert status == 400 and "eip-w2" in message and "InvalidAssociation.Duplicated" in message
