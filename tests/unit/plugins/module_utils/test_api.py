"""API wrappers: requests built, pages read, batches split, records normalized (plugins/module_utils/_api.py)."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from ansible_collections.alicloud.eip.plugins.module_utils import _api
from ansible_collections.alicloud.eip.plugins.module_utils._retries import CallContext, RetryPolicy


class Body:
    def __init__(self, data):
        self.data = data

    def to_map(self):
        return self.data


class RecordingClient:
    """Answers ``*_with_options`` calls from a function of the request, and records every request."""

    def __init__(self, answer):
        self.answer = answer
        self.requests = []

    def __getattr__(self, name):
        def call(request, runtime):
            self.requests.append((name, request))
            return SimpleNamespace(body=Body(self.answer(name, request)))

        return call


def connection(answer):
    client = RecordingClient(answer)
    return SimpleNamespace(
        region="cn-hangzhou",
        vpc=client,
        ecs=client,
        slb=client,
        runtime=lambda: None,
        calls=CallContext(retry_policy=RetryPolicy(sleep=lambda s: None)),
        client=client,
    )


def eip_record(number, **fields):
    return {"AllocationId": f"eip-{number:03d}", "IpAddress": f"47.0.0.{number}", "Status": "Available", **fields}


def test_normalize_eip_keeps_every_key_and_types():
    eip = _api.normalize_eip(
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
    assert _api.normalize_eip(eip_record(1, Bandwidth=value))["bandwidth"] == expected


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
    eips = _api.describe_eip_addresses(conn, allocation_ids=wanted + wanted[:3])
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
    assert len(_api.describe_eip_addresses(conn)) == 250
    assert [request.page_number for _name, request in conn.client.requests] == [1, 2, 3]


def test_describe_eip_addresses_filters_and_tags():
    conn = connection(lambda name, request: {"TotalCount": 0, "EipAddresses": {"EipAddress": []}})
    _api.describe_eip_addresses(
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
    assert _api.describe_eip_addresses(conn, allocation_ids=[]) == []


def test_both_ids_and_addresses_filter_addresses_locally():
    def answer(name, request):
        return {"TotalCount": 2, "EipAddresses": {"EipAddress": [eip_record(1), eip_record(2)]}}

    conn = connection(answer)
    eips = _api.describe_eip_addresses(conn, allocation_ids=["eip-001", "eip-002"], ip_addresses=["47.0.0.2"])
    assert [eip["allocation_id"] for eip in eips] == ["eip-002"]


def test_associate_sends_every_field_and_a_client_token():
    conn = connection(lambda name, request: {"RequestId": "R-1"})
    assert (
        _api.associate_eip_address(
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
    _api.unassociate_eip_address(conn, "eip-1", "ngw-1", "Nat", force=True)
    _api.unassociate_eip_address(conn, "eip-1", "i-1", "EcsInstance")
    assert [request.force for _name, request in conn.client.requests] == [True, None]


def test_describe_instances_sends_json_ids_and_follows_next_token():
    pages = {
        None: {"NextToken": "t2", "Instances": {"Instance": [{"InstanceId": "i-1", "Status": "Running"}]}},
        "t2": {"NextToken": "", "Instances": {"Instance": [{"InstanceId": "i-2", "Status": "Stopped"}]}},
    }
    conn = connection(lambda name, request: pages[request.next_token])
    instances = _api.describe_instances(conn, ["i-1", "i-2"])
    assert [instance["id"] for instance in instances] == ["i-1", "i-2"]
    assert json.loads(conn.client.requests[0][1].instance_ids) == ["i-1", "i-2"]


def test_describe_instances_reads_what_an_eni_attach_depends_on():
    def answer(name, request):
        instance = {
            "InstanceId": "i-1",
            "Status": "Stopped",
            "ZoneId": "cn-hangzhou-h",
            "VpcAttributes": {"VpcId": "vpc-1"},
        }
        return {"Instances": {"Instance": [instance, {**instance, "InstanceId": "i-other"}]}, "NextToken": ""}

    conn = connection(answer)
    found = _api.describe_instances(conn, ["i-1", "i-1"])
    assert [(item["id"], item["status"], item["vpc_id"], item["zone_id"]) for item in found] == [
        ("i-1", "Stopped", "vpc-1", "cn-hangzhou-h")
    ]
    assert conn.client.requests[0][1].instance_ids == '["i-1"]'


def test_describe_network_interfaces_asks_by_id_and_keeps_only_the_asked():
    def answer(name, request):
        records = [{"NetworkInterfaceId": eni_id, "Type": "Secondary"} for eni_id in request.network_interface_id]
        return {"NetworkInterfaceSets": {"NetworkInterfaceSet": records + [{"NetworkInterfaceId": "eni-x"}]}}

    conn = connection(answer)
    found = _api.describe_network_interfaces(conn, ["eni-1", "eni-2", "eni-1"])
    assert [eni["id"] for eni in found] == ["eni-1", "eni-2"]
    assert found[0]["type"] == "Secondary" and "private_ips" in found[0]
    assert [request.network_interface_id for _name, request in conn.client.requests] == [["eni-1", "eni-2"]]


def test_normalize_instance():
    instance = _api.normalize_instance(
        {
            "InstanceId": "i-1",
            "Status": "Running",
            "InstanceNetworkType": "vpc",
            "InstanceType": "ecs.g5.large",
            "PublicIpAddress": {"IpAddress": ["121.40.1.1"]},
            "EipAddress": {"AllocationId": "", "IpAddress": ""},
            "VpcAttributes": {"VpcId": "vpc-1"},
            "NetworkInterfaces": {
                "NetworkInterface": [
                    {"NetworkInterfaceId": "eni-2", "Type": "Secondary", "PrimaryIpAddress": "10.0.0.9"},
                    {"NetworkInterfaceId": "eni-1", "Type": "Primary", "PrimaryIpAddress": "10.0.0.2"},
                ]
            },
        }
    )
    assert instance == {
        "id": "i-1",
        "status": "Running",
        "network_type": "vpc",
        "instance_type": "ecs.g5.large",
        "vpc_id": "vpc-1",
        "zone_id": "",
        "public_ip_addresses": ["121.40.1.1"],
        "eip_allocation_id": "",
        "eip_address": "",
        "primary_eni_id": "eni-1",
        "primary_ip": "10.0.0.2",
    }


def test_normalize_eni_puts_the_primary_address_first():
    eni = _api.normalize_eni(
        {
            "NetworkInterfaceId": "eni-1",
            "Type": "Secondary",
            "Status": "InUse",
            "InstanceId": "i-1",
            "PrivateIpAddress": "10.0.0.5",
            "PrivateIpSets": {
                "PrivateIpSet": [
                    {
                        "PrivateIpAddress": "10.0.0.6",
                        "Primary": False,
                        "AssociatedPublicIp": {"AllocationId": "eip-1", "PublicIpAddress": "47.0.0.1"},
                    },
                    {"PrivateIpAddress": "10.0.0.5", "Primary": True},
                ]
            },
        }
    )
    assert eni["primary_ip"] == "10.0.0.5"
    assert [entry["ip"] for entry in eni["private_ips"]] == ["10.0.0.5", "10.0.0.6"]
    assert eni["private_ips"][1]["eip_allocation_id"] == "eip-1"


def test_nat_gateway_and_havip_and_clb():
    gateway = _api.normalize_nat_gateway(
        {
            "NatGatewayId": "ngw-1",
            "Status": "Available",
            "IpLists": {"IpList": [{"AllocationId": "eip-1", "UsingStatus": "UsedBySnatTable"}]},
        }
    )
    assert gateway["ip_list"] == [{"allocation_id": "eip-1", "ip_address": "", "using_status": "UsedBySnatTable"}]
    havip = _api.normalize_havip(
        {"HaVipId": "havip-1", "Status": "InUse", "AssociatedEipAddresses": {"associatedEipAddresse": ["47.0.0.1"]}}
    )
    assert havip["eip_addresses"] == ["47.0.0.1"]
    balancer = _api.normalize_load_balancer(
        {"LoadBalancerId": "lb-1", "AddressType": "intranet", "LoadBalancerStatus": "active"}
    )
    assert (balancer["address_type"], balancer["status"]) == ("intranet", "active")


def test_describe_ha_vips_filters_by_id_list():
    conn = connection(
        lambda name, request: {"TotalCount": 1, "HaVips": {"HaVip": [{"HaVipId": "havip-1", "Status": "Available"}]}}
    )
    assert [h["id"] for h in _api.describe_ha_vips(conn, ["havip-1", "havip-2"])] == ["havip-1"]
    request = conn.client.requests[0][1]
    assert (request.filter[0].key, request.filter[0].value) == ("HaVipId", ["havip-1", "havip-2"])


def test_describe_load_balancers_batches_ten():
    conn = connection(lambda name, request: {"TotalCount": 0, "LoadBalancers": {"LoadBalancer": []}})
    _api.describe_load_balancers(conn, [f"lb-{n}" for n in range(25)])
    assert [len(request.load_balancer_id.split(",")) for _name, request in conn.client.requests] == [10, 10, 5]


def test_list_ipv4_gateways_asks_once_per_vpc_and_follows_next_token():
    pages = {
        ("vpc-1", None): {"NextToken": "t2", "Ipv4GatewayModels": []},
        ("vpc-1", "t2"): {
            "NextToken": "",
            "Ipv4GatewayModels": [
                {"Ipv4GatewayId": "ipv4gw-1", "VpcId": "vpc-1", "Status": "Created", "Enabled": True},
                # A record of another VPC (the filter is the API's) is not taken for vpc-1's.
                {"Ipv4GatewayId": "ipv4gw-9", "VpcId": "vpc-9", "Status": "Created", "Enabled": True},
            ],
        },
        ("vpc-2", None): {"NextToken": "", "Ipv4GatewayModels": []},
    }
    conn = connection(lambda name, request: pages[(request.vpc_id, request.next_token)])
    gateways = _api.list_ipv4_gateways(conn, ["vpc-1", "vpc-2", "vpc-1"])
    assert gateways == [{"id": "ipv4gw-1", "vpc_id": "vpc-1", "name": "", "status": "Created", "enabled": True}]
    assert [(name, request.vpc_id, request.region_id) for name, request in conn.client.requests] == [
        ("list_ipv_4gateways_with_options", "vpc-1", "cn-hangzhou"),
        ("list_ipv_4gateways_with_options", "vpc-1", "cn-hangzhou"),
        ("list_ipv_4gateways_with_options", "vpc-2", "cn-hangzhou"),
    ]


def test_normalize_ipv4_gateway_of_a_deactivated_gateway():
    record = _api.normalize_ipv4_gateway({"Ipv4GatewayId": "ipv4gw-1", "VpcId": "vpc-1", "Status": "Created"})
    assert record["enabled"] is False and record["status"] == "Created"
