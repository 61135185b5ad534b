"""EIP wrappers (plugins/module_utils/_api/vpc_eip.py): requests built, pages read, batches split, records normalized."""

from __future__ import annotations

import pytest
from ansible_collections.alicloud.eip.plugins.module_utils._api import vpc_eip
from ansible_collections.alicloud.eip.tests.unit.plugins.module_utils.api.recording import connection


def eip_record(number, **fields):
    return {"AllocationId": f"eip-{number:03d}", "IpAddress": f"47.0.0.{number}", "Status": "Available", **fields}


def test_normalize_eip_keeps_every_key_and_types():
    eip = vpc_eip.normalize_eip(
        eip_record(
            1,
            Bandwidth="5",
            InstanceId="eni-1",
            InstanceType="NetworkInterface",
            Mode="NAT",
            PrivateIpAddress="10.0.0.5",
            DeletionProtection=True,
            OperationLocks={"LockReason": [{"LockReason": "financial"}]},
            Tags={"Tag": [{"Key": "env", "Value": "prod"}]},
        )
    )
    assert eip["allocation_id"] == "eip-001"
    assert eip["bandwidth"] == 5
    assert eip["deletion_protection"] is True
    assert eip["operation_locks"] == ["financial"]
    assert eip["tags"] == {"env": "prod"}
    assert (eip["instance_id"], eip["instance_type"], eip["mode"], eip["private_ip_address"]) == (
        "eni-1",
        "NetworkInterface",
        "NAT",
        "10.0.0.5",
    )
    assert eip["name"] == "" and eip["vpc_id"] == ""


@pytest.mark.parametrize(("value", "expected"), [("5", 5), (5, 5), ("", None), (None, None), ("x", None)])
def test_bandwidth_as_string_or_number(value, expected):
    assert vpc_eip.normalize_eip(eip_record(1, Bandwidth=value))["bandwidth"] == expected


def test_describe_eip_addresses_batches_50_ids_per_call_and_reads_every_page():
    wanted = [f"eip-{number:03d}" for number in range(120)]

    def answer(name, request):
        ids = request.allocation_id.split(",")
        assert len(ids) <= 50
        start = (request.page_number - 1) * request.page_size
        page = ids[start : start + request.page_size]
        return {
            "TotalCount": len(ids),
            "EipAddresses": {"EipAddress": [{"AllocationId": i, "Status": "InUse"} for i in page]},
        }

    conn = connection(answer)
    eips = vpc_eip.describe_eip_addresses(conn, allocation_ids=wanted + wanted[:3])
    assert [eip["allocation_id"] for eip in eips] == wanted
    assert [len(request.allocation_id.split(",")) for _name, request in conn.client.requests] == [50, 50, 20]
    assert all(
        request.page_size == 100 and request.region_id == "cn-hangzhou" for _name, request in conn.client.requests
    )


def test_describe_eip_addresses_pages_through_a_listing():
    records = [eip_record(number) for number in range(250)]

    def answer(name, request):
        start = (request.page_number - 1) * request.page_size
        return {"TotalCount": 250, "EipAddresses": {"EipAddress": records[start : start + request.page_size]}}

    conn = connection(answer)
    assert len(vpc_eip.describe_eip_addresses(conn)) == 250
    assert [request.page_number for _name, request in conn.client.requests] == [1, 2, 3]


def test_describe_eip_addresses_filters_and_tags():
    conn = connection(lambda name, request: {"TotalCount": 0, "EipAddresses": {"EipAddress": []}})
    vpc_eip.describe_eip_addresses(
        conn,
        associated_instance_id="eni-1",
        associated_instance_type="NetworkInterface",
        status="InUse",
        name="web",
        tags={"k": "v"},
    )
    request = conn.client.requests[0][1]
    assert (request.associated_instance_id, request.associated_instance_type, request.status, request.eip_name) == (
        "eni-1",
        "NetworkInterface",
        "InUse",
        "web",
    )
    assert [(tag.key, tag.value) for tag in request.tag] == [("k", "v")]


def test_empty_id_list_asks_nothing():
    conn = connection(lambda name, request: pytest.fail("no call expected"))
    assert vpc_eip.describe_eip_addresses(conn, allocation_ids=[]) == []


def test_both_ids_and_addresses_filter_addresses_locally():
    def answer(name, request):
        return {"TotalCount": 2, "EipAddresses": {"EipAddress": [eip_record(1), eip_record(2)]}}

    conn = connection(answer)
    eips = vpc_eip.describe_eip_addresses(conn, allocation_ids=["eip-001", "eip-002"], ip_addresses=["47.0.0.2"])
    assert [eip["allocation_id"] for eip in eips] == ["eip-002"]


def test_associate_sends_every_field_and_a_client_token():
    conn = connection(lambda name, request: {"RequestId": "R-1"})
    assert (
        vpc_eip.associate_eip_address(
            conn, "eip-1", "eni-1", "NetworkInterface", private_ip_address="10.0.0.5", mode="NAT"
        )
        == "R-1"
    )
    name, request = conn.client.requests[0]
    assert name == "associate_eip_address_with_options"
    assert (
        request.allocation_id,
        request.instance_id,
        request.instance_type,
        request.private_ip_address,
        request.mode,
    ) == (
        "eip-1",
        "eni-1",
        "NetworkInterface",
        "10.0.0.5",
        "NAT",
    )
    assert request.vpc_id is None and request.client_token


def test_unassociate_sends_force_only_when_asked():
    conn = connection(lambda name, request: {"RequestId": "R-2"})
    vpc_eip.unassociate_eip_address(conn, "eip-1", "ngw-1", "Nat", force=True)
    vpc_eip.unassociate_eip_address(conn, "eip-1", "i-1", "EcsInstance")
    assert [request.force for _name, request in conn.client.requests] == [True, None]
