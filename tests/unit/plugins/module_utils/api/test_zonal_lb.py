"""ALB and NLB wrappers (plugins/module_utils/_api/alb.py, nlb.py, zonal_lb.py): records, quirks, requests, job wait."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from alibabacloud_tea_openapi.exceptions import ClientException
from ansible_collections.alicloud.eip.plugins.module_utils._api import alb, nlb, zonal_lb
from ansible_collections.alicloud.eip.plugins.module_utils._polling import WaitError, WaitPolicy
from ansible_collections.alicloud.eip.plugins.module_utils._retries import (
    AlicloudApiError,
    CallContext,
    RetryPolicy,
)
from ansible_collections.alicloud.eip.tests.unit.plugins.module_utils.api.recording import RecordingClient

NO_WAIT = WaitPolicy(sleep=lambda seconds: None, clock=iter(range(0, 10_000)).__next__)


def connection(answer):
    client = RecordingClient(answer)
    return SimpleNamespace(
        region="cn-hangzhou",
        alb=client,
        nlb=client,
        runtime=lambda: None,
        calls=CallContext(retry_policy=RetryPolicy(sleep=lambda s: None, max_attempts=3)),
        client=client,
    )


def sdk_error(code, status=400):
    """What the SDK raises for an API error."""
    return ClientException(
        status_code=status,
        code=code,
        message=f"code: {status}, {code} message request id: req-1",
        request_id="req-1",
        data={"Code": code, "Message": f"{code} message", "RequestId": "req-1"},
    )


ALB_ANSWER = {
    "LoadBalancerId": "alb-1",
    "RegionId": "cn-hangzhou",
    "LoadBalancerStatus": "Active",
    "LoadBalancerBussinessStatus": "Normal",
    "AddressType": "Internet",
    "VpcId": "vpc-1",
    "LoadBalancerOperationLocks": [{"LockType": "SecurityLocked"}],
    "ZoneMappings": [
        {
            "ZoneId": "cn-hangzhou-h",
            "VSwitchId": "vsw-h",
            "LoadBalancerAddresses": [{"Address": "47.0.0.1", "AllocationId": "eip-1"}],
        },
        {"ZoneId": "cn-hangzhou-i", "VSwitchId": "vsw-i", "LoadBalancerAddresses": []},
    ],
}
NLB_ANSWER = {
    "LoadBalancerId": "nlb-1",
    "RegionId": "cn-hangzhou",
    "LoadBalancerStatus": "Configuring",
    "LoadBalancerBusinessStatus": "Normal",
    "AddressType": "Internet",
    "OperationLocks": [],
    "ZoneMappings": [
        {
            "ZoneId": "cn-hangzhou-h",
            "VSwitchId": "vsw-h",
            "LoadBalancerAddresses": [{"PublicIPv4Address": "47.0.0.2", "AllocationId": "eip-2", "EniId": "eni-svc"}],
        }
    ],
}


def test_the_two_products_answer_in_one_record_shape():
    conn = connection(lambda name, request: ALB_ANSWER if request.load_balancer_id == "alb-1" else NLB_ANSWER)
    [balancer] = alb.describe_albs(conn, ["alb-1", "alb-1"])  # asked once
    assert balancer["zones"] == [
        {
            "zone_id": "cn-hangzhou-h",
            "vswitch_id": "vsw-h",
            "allocation_id": "eip-1",
            "address": "47.0.0.1",
            "eni_id": "",
        },
        {"zone_id": "cn-hangzhou-i", "vswitch_id": "vsw-i", "allocation_id": "", "address": "", "eni_id": ""},
    ]
    assert (balancer["product"], balancer["address_type"], balancer["locks"]) == ("alb", "Internet", ["SecurityLocked"])
    [network] = nlb.describe_nlbs(conn, ["nlb-1"])
    assert network["zones"][0]["address"] == "47.0.0.2" and network["zones"][0]["eni_id"] == "eni-svc"
    assert (network["product"], network["status"], network["locks"]) == ("nlb", "Configuring", [])
    assert [name for name, _request in conn.client.requests] == ["get_load_balancer_attribute_with_options"] * 2
    # NLB requests name the region; ALB's model has none (the endpoint names it).
    assert conn.client.requests[1][1].region_id == "cn-hangzhou"


@pytest.mark.parametrize(
    ("describe", "code"),
    [(alb.describe_albs, "ResourceNotFound.LoadBalancer"), (nlb.describe_nlbs, "ResourceNotFound.loadBalancer")],
)
def test_a_load_balancer_that_does_not_exist_is_left_out(describe, code):
    def answer(name, request):
        raise sdk_error(code, 404)

    assert describe(connection(answer), ["lb-x"]) == []


def test_another_error_is_not_mistaken_for_absence():
    def answer(name, request):
        raise sdk_error("Forbidden.RAM", 403)

    with pytest.raises(AlicloudApiError) as excinfo:
        alb.describe_albs(connection(answer), ["alb-1"])
    assert excinfo.value.code == "Forbidden.RAM"


def test_an_alb_of_another_region_is_left_out():
    conn = connection(lambda name, request: {**ALB_ANSWER, "RegionId": "cn-beijing"})
    assert alb.describe_albs(conn, ["alb-1"]) == []


ZONES = [
    {"zone_id": "cn-hangzhou-h", "vswitch_id": "vsw-h", "allocation_id": "eip-1"},
    {"zone_id": "cn-hangzhou-i", "vswitch_id": "vsw-i", "allocation_id": ""},
]


def test_updates_send_every_zone_and_a_client_token():
    conn = connection(lambda name, request: {"JobId": "job-1"})
    assert alb.update_alb_address_type(conn, "alb-1", "Internet", ZONES) == "job-1"
    assert nlb.update_nlb_zones(conn, "nlb-1", ZONES) == "job-1"
    assert nlb.update_nlb_address_type(conn, "nlb-1", "Intranet", ZONES) == "job-1"
    for _name, request in conn.client.requests:
        assert [(z.zone_id, z.v_switch_id, z.allocation_id) for z in request.zone_mappings] == [
            ("cn-hangzhou-h", "vsw-h", "eip-1"),
            ("cn-hangzhou-i", "vsw-i", None),
        ]
        assert request.client_token
    assert [name for name, _request in conn.client.requests] == [
        "update_load_balancer_address_type_config_with_options",
        "update_load_balancer_zones_with_options",
        "update_load_balancer_address_type_config_with_options",
    ]


def test_a_configuring_load_balancer_is_retried_with_the_same_client_token():
    answers = iter([sdk_error("IncorrectStatus.LoadBalancer"), {"JobId": "job-2"}])

    def answer(name, request):
        result = next(answers)
        if isinstance(result, Exception):
            raise result
        return result

    conn = connection(answer)
    assert alb.update_alb_address_type(conn, "alb-1", "Internet", ZONES) == "job-2"
    tokens = {request.client_token for _name, request in conn.client.requests}
    assert len(conn.client.requests) == 2 and len(tokens) == 1


def test_the_job_wait_follows_the_job_then_the_load_balancer():
    statuses = iter(["processing", "Succeeded"])  # the NLB doc's lower-case "processing"
    balancer_states = iter(["Configuring", "Active"])

    def answer(name, request):
        if name == "get_job_status_with_options":
            return {"Status": next(statuses)}
        return {**NLB_ANSWER, "LoadBalancerStatus": next(balancer_states)}

    conn = connection(answer)
    record = nlb.wait_for_nlb_job(conn, "job-1", "nlb-1", "UpdateLoadBalancerZones", 60, NO_WAIT)
    assert record["status"] == "Active"
    assert [name for name, _request in conn.client.requests] == [
        "get_job_status_with_options",
        "get_job_status_with_options",
        "get_load_balancer_attribute_with_options",
        "get_load_balancer_attribute_with_options",
    ]


def test_a_failed_alb_job_surfaces_its_code_and_message():
    def answer(name, request):
        assert request.job_ids == ["job-9"]
        return {"Jobs": [{"Id": "job-9", "Status": "Failed", "ErrorCode": "QuotaExceeded.Eip", "ErrorMessage": "no"}]}

    with pytest.raises(AlicloudApiError) as excinfo:
        alb.wait_for_alb_job(connection(answer), "job-9", "alb-1", "UpdateLoadBalancerAddressTypeConfig", 60, NO_WAIT)
    error = excinfo.value
    assert (error.code, error.action) == ("QuotaExceeded.Eip", "UpdateLoadBalancerAddressTypeConfig")
    assert "job job-9 of alb-1 failed: no" in error.message


def test_a_job_that_never_ends_times_out():
    conn = connection(lambda name, request: {"Jobs": [{"Id": "job-1", "Status": "Processing"}]})
    with pytest.raises(WaitError, match="timed out after 5s waiting for job job-1 to be Succeeded"):
        alb.wait_for_alb_job(conn, "job-1", "alb-1", "UpdateLoadBalancerAddressTypeConfig", 5, NO_WAIT)


def test_listing_pages_through_next_token():
    pages = {
        None: {"LoadBalancers": [{"LoadBalancerId": "nlb-1"}], "NextToken": "t2"},
        "t2": {"LoadBalancers": [{"LoadBalancerId": "nlb-2"}], "NextToken": ""},
    }
    conn = connection(lambda name, request: pages[request.next_token])
    assert nlb.list_nlb_ids(conn) == ["nlb-1", "nlb-2"]
    assert zonal_lb.normalize_job({"Id": "j", "Status": "Failed"})["error_code"] == ""
