"""UnassociateEipAddress rules (alibaba-api.md §3.3) and the asynchronous EIP state machine (§3.1)."""

from __future__ import annotations

import pytest
from alibabacloud_vpc20160428.client import Client as VpcClient

from tests.emulator.tests.conftest import make_config
from tests.emulator.tests.eip_support import (
    add_snat_entry,
    allocate,
    associate,
    describe,
    edit,
    eip_world,
    error_of,
    find,
    forward_mode,
    modify,
    release,
    unassociate,
)

NAT_GW = {"instance_type": "Nat"}


def status(vpc, allocation_id: str) -> str:
    return find(vpc, allocation_id).status


# ---- rules ---------------------------------------------------------------------------------------------------
def test_unassociate_returns_the_eip_to_available(vpc, control):
    associate(vpc, "eip-a", "i-running")
    assert unassociate(vpc, "eip-a", instance_id="i-running").request_id
    eip = find(vpc, "eip-a")
    assert (eip.status, eip.instance_id, eip.instance_type, eip.mode, eip.private_ip_address) == (
        "Available",
        "",
        "",
        "",
        "",
    )


@pytest.mark.parametrize(
    "kwargs",
    [
        pytest.param({"instance_id": "i-stopped"}, id="other-instance"),
        pytest.param({"instance_id": "i-running", "instance_type": "NetworkInterface"}, id="other-type"),
        pytest.param({"instance_id": "i-running", "private_ip_address": "10.9.9.9"}, id="other-private-ip"),
    ],
)
def test_unassociate_must_name_the_holder(vpc, control, kwargs):
    associate(vpc, "eip-a", "i-running")
    assert error_of(unassociate, vpc, "eip-a", **kwargs) == ("InvalidBindInstance.NotFound", 404)
    assert status(vpc, "eip-a") == "InUse"


def test_unassociate_without_instance_id_takes_the_eip_off_its_holder(vpc, control):
    associate(vpc, "eip-a", "eni-multi", instance_type="NetworkInterface", private_ip_address="10.1.0.61")
    unassociate(vpc, "eip-a")
    assert status(vpc, "eip-a") == "Available"


@pytest.mark.parametrize(
    "allocation_id, expected",
    [
        pytest.param("eip-a", ("IncorrectEipStatus", 400), id="available-eip"),
        pytest.param("eip-nothere", ("InvalidAllocationId.NotFound", 404), id="unknown-eip"),
    ],
)
def test_unassociate_needs_a_bound_eip(vpc, control, allocation_id, expected):
    assert error_of(unassociate, vpc, allocation_id, instance_id="i-running") == expected


def test_unassociate_refuses_a_bad_instance_type(vpc, control):
    associate(vpc, "eip-a", "i-running")
    assert error_of(unassociate, vpc, "eip-a", instance_type="Vm") == ("InvalidInstanceType.ValueNotSupported", 400)


def test_eip_used_by_snat_entry_needs_force(vpc, control, server):
    associate(vpc, "eip-a", "ngw-new", **NAT_GW)
    associate(vpc, "eip-b", "ngw-new", **NAT_GW)
    add_snat_entry(server, "snat-1", "ngw-new", "47.96.1.10,47.96.1.11")
    add_snat_entry(server, "snat-2", "ngw-new", "47.96.1.10")
    code = error_of(unassociate, vpc, "eip-a", instance_id="ngw-new", force=False, **NAT_GW)
    assert code == ("InvalidIpStatus.HasBeenUsedBySnatTable", 400)
    unassociate(vpc, "eip-a", instance_id="ngw-new", force=True, **NAT_GW)
    state = control.state()
    assert state["eips"]["eip-a"]["Status"] == "Available"
    # Forcing takes the address out of the entries; an entry left without addresses goes.
    assert state["snat_entries"]["snat-1"]["SnatIp"] == "47.96.1.11"
    assert "snat-2" not in state["snat_entries"]
    assert list(state["nat_gateways"]["ngw-new"]["EipPrivateIps"]) == ["eip-b"]


def test_snat_entry_of_another_gateway_does_not_block(vpc, control, server):
    associate(vpc, "eip-a", "ngw-new", **NAT_GW)
    add_snat_entry(server, "snat-1", "ngw-old", "47.96.1.10")
    unassociate(vpc, "eip-a", instance_id="ngw-new", **NAT_GW)
    assert status(vpc, "eip-a") == "Available"


def test_snat_entry_in_transition_blocks_even_with_force(vpc, control, server):
    associate(vpc, "eip-a", "ngw-new", **NAT_GW)
    add_snat_entry(server, "snat-1", "ngw-new", "47.96.1.10", status="Pending")
    code = error_of(unassociate, vpc, "eip-a", instance_id="ngw-new", force=True, **NAT_GW)
    assert code == ("InvalidStatus.SnatOrDnat", 400)


def test_eip_used_by_dnat_entry_needs_force(vpc, control):
    control.load(eip_world(nat_gateways=[{"id": "ngw-dnat", "vswitch": "vsw-b", "dnat_ips": ["47.96.1.10"]}]))
    associate(vpc, "eip-a", "ngw-dnat", **NAT_GW)
    code = error_of(unassociate, vpc, "eip-a", instance_id="ngw-dnat", **NAT_GW)
    assert code == ("InvalidIpStatus.HasBeenUsedByForwardEntry", 400)
    unassociate(vpc, "eip-a", instance_id="ngw-dnat", force=True, **NAT_GW)
    assert control.state()["nat_gateways"]["ngw-dnat"]["DnatIps"] == []


def test_cut_through_eip_comes_off_a_detached_eni_only(vpc, control, server):
    associate(vpc, "eip-a", "eni-free", instance_type="NetworkInterface", mode="BINDED")
    # The ENI is attached afterwards, as the spec describes ("associate first, then attach").
    edit(server, "enis", "eni-free", InstanceId="i-running", Status="InUse")
    assert error_of(unassociate, vpc, "eip-a", instance_id="eni-free", instance_type="NetworkInterface") == (
        "Eni.Attached",
        400,
    )
    edit(server, "enis", "eni-free", InstanceId="", Status="Available")
    unassociate(vpc, "eip-a", instance_id="eni-free", instance_type="NetworkInterface")
    assert status(vpc, "eip-a") == "Available"


@pytest.mark.parametrize(
    "target, kwargs, collection, fields, expected",
    [
        pytest.param(
            "i-running",
            {},
            "instances",
            {"Status": "Stopping"},
            ("IncorrectInstanceStatus", 400),
            id="instance-stopping",
        ),
        pytest.param(
            "eni-multi",
            {"instance_type": "NetworkInterface", "private_ip_address": "10.1.0.60"},
            "enis",
            {"Status": "Detaching"},
            ("InvalidStatus.EniStatusNotSupport", 400),
            id="eni-detaching",
        ),
        pytest.param(
            "havip-1",
            {"instance_type": "HaVip"},
            "havips",
            {"Status": "Deleting"},
            ("IncorrectHaVipStatus", 400),
            id="havip-deleting",
        ),
    ],
)
def test_holder_in_transition_keeps_its_eip(vpc, control, server, target, kwargs, collection, fields, expected):
    associate(vpc, "eip-a", target, **kwargs)
    edit(server, collection, target, **fields)
    assert error_of(unassociate, vpc, "eip-a", instance_id=target, **kwargs) == expected
    assert status(vpc, "eip-a") == "InUse"


@pytest.mark.parametrize(
    "lock, expected",
    [("financial", ("Forbidden.FinancialLocked", 400)), ("security", ("InvalidEIPStatus.BizDisabled", 400))],
)
def test_locked_eip_stays_bound(vpc, control, server, lock, expected):
    associate(vpc, "eip-a", "i-running")
    edit(server, "eips", "eip-a", OperationLocks=[lock], BusinessStatus="OperationLock")
    assert error_of(unassociate, vpc, "eip-a", instance_id="i-running") == expected


# ---- asynchronous transitions --------------------------------------------------------------------------------
def test_association_is_asynchronous(vpc, control):
    control.delays(eip_associate=120)
    associate(vpc, "eip-a", "i-running")
    eip = find(vpc, "eip-a")
    assert (eip.status, eip.instance_id) == ("Associating", "i-running")
    assert describe(vpc, status="Associating").total_count == 1
    # Wide margins: the emulated clock is real time plus the offset, and a loaded machine can stall for seconds.
    control.advance(60)
    assert status(vpc, "eip-a") == "Associating"
    control.advance(61)
    assert status(vpc, "eip-a") == "InUse"


@pytest.mark.parametrize(
    "operation",
    [
        pytest.param(lambda vpc: associate(vpc, "eip-a", "i-stopped"), id="associate"),
        pytest.param(lambda vpc: unassociate(vpc, "eip-a", instance_id="i-running"), id="unassociate"),
        pytest.param(lambda vpc: release(vpc, "eip-a"), id="release"),
        pytest.param(lambda vpc: modify(vpc, "eip-a", bandwidth="10"), id="modify-attribute"),
        pytest.param(lambda vpc: forward_mode(vpc, "eip-a", "NAT"), id="modify-forward-mode"),
    ],
)
def test_eip_accepts_no_operation_while_associating(vpc, control, operation):
    control.delays(eip_associate=30)
    associate(vpc, "eip-a", "i-running")
    assert error_of(operation, vpc) == ("IncorrectEipStatus", 400)
    control.advance(30)
    assert status(vpc, "eip-a") == "InUse"


def test_disassociation_is_asynchronous(vpc, control):
    associate(vpc, "eip-a", "i-running")
    control.delays(eip_unassociate=20)
    unassociate(vpc, "eip-a", instance_id="i-running")
    eip = find(vpc, "eip-a")
    # The holder stays recorded until the task completes.
    assert (eip.status, eip.instance_id) == ("Unassociating", "i-running")
    assert error_of(unassociate, vpc, "eip-a", instance_id="i-running") == ("IncorrectEipStatus", 400)
    assert error_of(associate, vpc, "eip-a", "i-stopped") == ("IncorrectEipStatus", 400)
    control.advance(20)
    assert (status(vpc, "eip-a"), find(vpc, "eip-a").instance_id) == ("Available", "")


def test_instance_being_released_by_another_eip_answers_task_conflict(vpc, control):
    associate(vpc, "eip-a", "i-running")
    control.delays(eip_unassociate=20)
    unassociate(vpc, "eip-a", instance_id="i-running")
    # Retryable while the first EIP is still coming off; accepted once it has.
    assert error_of(associate, vpc, "eip-b", "i-running") == ("TaskConflict", 400)
    control.advance(20)
    associate(vpc, "eip-b", "i-running")
    assert status(vpc, "eip-b") == "InUse"


def test_release_is_asynchronous(vpc, control):
    control.delays(eip_release=15)
    release(vpc, "eip-a")
    assert status(vpc, "eip-a") == "Releasing"
    assert error_of(associate, vpc, "eip-a", "i-running") == ("IncorrectEipStatus", 400)
    assert error_of(release, vpc, "eip-a") == ("IncorrectEipStatus", 400)
    control.advance(15)
    assert find(vpc, "eip-a") is None
    released = control.state()["released_eips"]
    assert [entry["IpAddress"] for entry in released if entry["AllocationId"] == "eip-a"] == ["47.96.1.10"]


# ---- idempotence and signatures ------------------------------------------------------------------------------
def test_client_token_replays_the_first_result(vpc, control):
    first = allocate(vpc, client_token="tok-alloc-1")
    again = allocate(vpc, client_token="tok-alloc-1")
    assert (again.allocation_id, again.eip_address) == (first.allocation_id, first.eip_address)
    assert describe(vpc).total_count == 3  # eip-a, eip-b and one new EIP, not two
    associate(vpc, "eip-a", "i-running", client_token="tok-assoc-1")
    # Without the token this second call would fail: the EIP is InUse now.
    assert associate(vpc, "eip-a", "i-running", client_token="tok-assoc-1").request_id
    assert error_of(associate, vpc, "eip-a", "i-running") == ("IncorrectEipStatus", 400)


def test_client_token_with_other_parameters_is_refused(vpc, control):
    associate(vpc, "eip-a", "i-running", client_token="tok-assoc-2")
    code = error_of(associate, vpc, "eip-a", "i-stopped", client_token="tok-assoc-2")
    assert code == ("IdempotentParameterMismatch", 400)
    assert find(vpc, "eip-a").instance_id == "i-running"


def test_main_actions_over_v2_signature(server, control, vpc_v2):
    created = allocate(vpc_v2, bandwidth="7", name="v2")
    associate(vpc_v2, created.allocation_id, "i-running")
    listed = find(vpc_v2, created.allocation_id)
    assert (listed.status, listed.instance_id, listed.bandwidth, listed.name) == ("InUse", "i-running", "7", "v2")
    unassociate(vpc_v2, created.allocation_id, instance_id="i-running", force=False)
    modify(vpc_v2, created.allocation_id, bandwidth="8")
    assert find(vpc_v2, created.allocation_id).bandwidth == "8"
    release(vpc_v2, created.allocation_id)
    assert find(vpc_v2, created.allocation_id) is None
    assert error_of(associate, vpc_v2, "eip-nothere", "i-running") == ("InvalidAllocationId.NotFound", 404)


@pytest.mark.parametrize("version", ["v3", "v2"])
def test_association_lifecycle_with_both_signatures(server, control, version):
    client = VpcClient(make_config(server.endpoint, version))
    associate(client, "eip-b", "eni-multi", instance_type="NetworkInterface", private_ip_address="10.1.0.60")
    assert find(client, "eip-b").private_ip_address == "10.1.0.60"
    unassociate(client, "eip-b", instance_id="eni-multi", instance_type="NetworkInterface")
    assert find(client, "eip-b").status == "Available"
