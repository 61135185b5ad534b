"""Fault injection as the real SDK sees it (faults.py; alibaba-api.md §1.5)."""

from __future__ import annotations

import time

import pytest
from alibabacloud_tea_openapi.exceptions import ClientException, ServerException, ThrottlingException
from alibabacloud_vpc20160428 import models as m
from alibabacloud_vpc20160428.client import Client as VpcClient
from darabonba.exceptions import UnretryableException

from tests.emulator.server import Arrivals, max_in_window
from tests.emulator.tests.conftest import BASE_WORLD, REGION, make_config
from tests.emulator.tests.network_support import control_raw


def describe(vpc):
    return vpc.describe_vpcs(m.DescribeVpcsRequest(region_id=REGION)).body


def test_throttle_with_retry_after_raises_throttling_exception(vpc, control):
    control.faults(
        {"seed": 1, "rules": [{"kind": "throttle", "action": "DescribeVpcs", "retry_after_ms": 250, "times": 1}]}
    )
    with pytest.raises(ThrottlingException) as excinfo:
        describe(vpc)
    assert excinfo.value.retry_after == 250
    assert (excinfo.value.code, excinfo.value.status_code) == ("Throttling.User", 400)
    # times=1: the next call goes through.
    assert describe(vpc).total_count == 2


def test_throttle_without_header_is_a_client_exception(vpc, control):
    control.faults({"rules": [{"kind": "throttle_plain"}]})
    with pytest.raises(ClientException) as excinfo:
        describe(vpc)
    assert not isinstance(excinfo.value, ThrottlingException)
    assert (excinfo.value.code, excinfo.value.retry_after) == ("Throttling.User", None)


@pytest.mark.parametrize(
    "kind,exception,code,status",
    [
        ("task_conflict", ClientException, "TaskConflict", 400),
        ("operation_conflict", ClientException, "OperationConflict", 409),
        ("unavailable", ServerException, "ServiceUnavailable", 503),
        ("internal", ServerException, "InternalError", 500),
    ],
)
def test_error_kinds(vpc, control, kind, exception, code, status):
    control.faults({"rules": [{"kind": kind, "action": "DescribeVpcs"}]})
    with pytest.raises(exception) as excinfo:
        describe(vpc)
    assert (excinfo.value.code, excinfo.value.status_code) == (code, status)


def test_rule_for_another_action_does_not_fire(vpc, control):
    control.faults({"rules": [{"kind": "unavailable", "action": "DescribeVSwitches"}]})
    assert describe(vpc).total_count == 2


def test_drop_gives_unretryable_exception(vpc, control):
    control.faults({"rules": [{"kind": "drop", "action": "DescribeVpcs", "times": 1}]})
    with pytest.raises(UnretryableException) as excinfo:
        describe(vpc)
    assert getattr(excinfo.value, "code", None) is None
    assert describe(vpc).total_count == 2


def test_latency_delays_the_answer(vpc, control):
    control.faults({"rules": [{"kind": "latency", "seconds": 0.3, "action": "DescribeVpcs"}]})
    started = time.monotonic()
    assert describe(vpc).total_count == 2
    assert time.monotonic() - started >= 0.3


def test_latency_beyond_the_read_timeout(server, control):
    control.faults({"rules": [{"kind": "latency", "seconds": 0.6, "action": "DescribeVpcs", "times": 1}]})
    config = make_config(server.endpoint)
    config.read_timeout = 200
    client = VpcClient(config)
    with pytest.raises(UnretryableException):
        describe(client)


def outcomes(vpc, calls: int) -> list[str]:
    results = []
    for _call in range(calls):
        try:
            describe(vpc)
            results.append("ok")
        except ClientException as error:
            results.append(error.code)
    return results


def test_same_seed_same_sequence(vpc, control):
    plan = {"seed": 42, "rules": [{"kind": "task_conflict", "action": "DescribeVpcs", "probability": 0.5}]}
    control.faults(plan)
    first = outcomes(vpc, 20)
    control.faults(plan)
    assert outcomes(vpc, 20) == first
    assert "ok" in first and "TaskConflict" in first
    control.faults({**plan, "seed": 7})
    assert outcomes(vpc, 20) != first


def test_fault_plan_reports_fired_counts(vpc, control, server):
    control.faults({"rules": [{"kind": "task_conflict", "times": 2}]})
    assert outcomes(vpc, 3) == ["TaskConflict", "TaskConflict", "ok"]
    status, plan = control_raw(server, "GET", "faults")
    assert status == 200 and plan["rules"][0]["fired"] == 2
    assert control_raw(server, "DELETE", "faults") == (200, {})
    assert control_raw(server, "GET", "faults")[1]["rules"] == []


def test_unknown_fault_kind_is_refused(server, control):
    status, body = control_raw(server, "POST", "faults", {"rules": [{"kind": "meteor"}]})
    assert status == 400 and "meteor" in body["error"]


def test_loading_a_world_clears_the_faults(vpc, control):
    control.faults({"rules": [{"kind": "unavailable"}]})
    control.load({"access_keys": BASE_WORLD["access_keys"], "regions": {REGION: {}}})
    assert describe(vpc).total_count == 0


# ---- drop_after: the call acts, its answer is lost (issue 9 item 7) -------------------------------------------


def test_drop_after_runs_the_handler_then_drops_the_answer(vpc, control):
    control.faults({"rules": [{"kind": "drop_after", "action": "ModifyEipAddressAttribute", "times": 1}]})
    request = m.ModifyEipAddressAttributeRequest(region_id=REGION, allocation_id="eip-a", name="renamed")
    with pytest.raises(UnretryableException):
        vpc.modify_eip_address_attribute(request)
    eip = control.state()["eips"]["eip-a"]
    assert eip["Name"] == "renamed"  # the change was made although no answer came back
    assert control.calls()["ModifyEipAddressAttribute"] == 1
    vpc.modify_eip_address_attribute(request)  # times=1: the next answer arrives


def test_drop_after_loses_an_error_answer_too(vpc, control):
    control.faults({"rules": [{"kind": "drop_after", "action": "ReleaseEipAddress", "times": 1}]})
    with pytest.raises(UnretryableException):
        vpc.release_eip_address(m.ReleaseEipAddressRequest(region_id=REGION, allocation_id="eip-missing"))


def test_drop_after_then_the_same_client_token_is_replayed_without_acting_twice(vpc, control):
    control.faults({"rules": [{"kind": "drop_after", "action": "AllocateEipAddress", "times": 2}]})
    request = m.AllocateEipAddressRequest(region_id=REGION, client_token="token-lost-twice")
    before = len(control.state()["eips"])
    for _attempt in range(2):  # the first acts, the second is replayed: both answers are lost
        with pytest.raises(UnretryableException):
            vpc.allocate_eip_address(request)
    answer = vpc.allocate_eip_address(request).body
    state = control.state()["eips"]
    assert len(state) == before + 1 and answer.allocation_id in state


def test_plain_drop_does_not_act(vpc, control):
    control.faults({"rules": [{"kind": "drop", "action": "ModifyEipAddressAttribute", "times": 1}]})
    with pytest.raises(UnretryableException):
        vpc.modify_eip_address_attribute(
            m.ModifyEipAddressAttributeRequest(region_id=REGION, allocation_id="eip-a", name="renamed")
        )
    assert control.state()["eips"]["eip-a"]["Name"] == "alpha"


# ---- arrivals per sliding window (issue 9 item 8) ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("times", "window", "expected"),
    [
        ([], 60.0, 0),
        ([0.0], 60.0, 1),
        ([0.0, 59.999, 60.0], 60.0, 2),  # [t, t + 60): 0 and 60 are never in one window
        ([0.0, 10.0, 20.0, 65.0, 70.0, 79.0], 60.0, 4),  # the busiest window starts at 10, not at 0
        ([0.0, 0.0, 0.0], 0.5, 3),
        ([0.0, 1.0, 2.0, 3.0], 1.0, 1),
    ],
)
def test_max_in_window_slides(times, window, expected):
    assert max_in_window(times, window) == expected


def test_arrivals_report_uses_the_injected_clock():
    moments = iter([0.0, 30.0, 59.0, 61.0, 100.0, 5.0])
    arrivals = Arrivals(clock=lambda: next(moments))
    for action in ["AssociateEipAddress"] * 5 + ["DescribeEipAddresses"]:
        arrivals.record(action)
    report = arrivals.report(60.0)
    assert report == {
        "window": 60.0,
        "actions": {
            "AssociateEipAddress": {"count": 5, "max_in_window": 3},
            "DescribeEipAddresses": {"count": 1, "max_in_window": 1},
        },
    }
    arrivals.clear()
    assert arrivals.report(60.0)["actions"] == {}


def test_arrivals_through_the_control_api(vpc, control, server):
    control.call("DELETE", "calls")
    for _call in range(3):
        describe(vpc)
    control.faults({"rules": [{"kind": "drop", "action": "DescribeVpcs", "times": 1}]})
    with pytest.raises(UnretryableException):
        describe(vpc)  # a dropped call still arrived
    report = control.call("GET", "arrivals?window=60")
    assert report["window"] == 60.0
    described = report["actions"]["DescribeVpcs"]
    assert (described["count"], described["max_in_window"]) == (4, 4)
    assert described["last_at"] <= control.call("GET", "clock")["now"]  # the emulated clock at the last arrival
    tiny = control.call("GET", "arrivals?window=0.000001")["actions"]["DescribeVpcs"]
    assert tiny["count"] == 4 and tiny["max_in_window"] == 1
    assert control_raw(server, "GET", "arrivals?window=0")[0] == 400
    control.call("DELETE", "calls")
    assert control.call("GET", "arrivals")["actions"] == {}
