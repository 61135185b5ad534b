"""ECS reads (plugins/module_utils/_api/ecs.py): instances, security groups and ENIs; requests, batches, pages,
normalization."""

from __future__ import annotations

import json

from ansible_collections.alicloud.eip.plugins.module_utils._api import ecs
from ansible_collections.alicloud.eip.tests.unit.plugins.module_utils.api.recording import connection


def test_security_groups_by_json_id_list_in_batches_of_100_with_pages():
    existing = {f"sg-{n}": "vpc-1" for n in range(0, 150, 2)}

    def answer(name, request):
        ids = json.loads(request.security_group_ids)
        records = [{"SecurityGroupId": group, "VpcId": existing[group]} for group in ids if group in existing]
        start = int(request.next_token or 0)
        page = records[start : start + 30]
        following = start + 30
        return {
            "SecurityGroups": {"SecurityGroup": page},
            "NextToken": str(following) if following < len(records) else "",
        }

    conn = connection(answer)
    wanted = [f"sg-{n}" for n in range(150)]
    found = ecs.describe_security_groups(conn, wanted + ["sg-0", ""])
    assert sorted(group["id"] for group in found) == sorted(existing)
    assert found[0] == {"id": "sg-0", "name": "", "vpc_id": "vpc-1", "type": ""}
    requests = [request for _name, request in conn.client.requests]
    assert [len(json.loads(r.security_group_ids)) for r in requests] == [100, 100, 50]
    assert [r.next_token for r in requests] == [None, "30", None]
    assert {r.max_results for r in requests} == {100}


def test_security_groups_of_nothing_makes_no_call():
    conn = connection(lambda name, request: {})
    assert ecs.describe_security_groups(conn, []) == []
    assert conn.client.requests == []


def test_describe_instances_sends_json_ids_and_follows_next_token():
    pages = {
        None: {"NextToken": "t2", "Instances": {"Instance": [{"InstanceId": "i-1", "Status": "Running"}]}},
        "t2": {"NextToken": "", "Instances": {"Instance": [{"InstanceId": "i-2", "Status": "Stopped"}]}},
    }
    conn = connection(lambda name, request: pages[request.next_token])
    instances = ecs.describe_instances(conn, ["i-1", "i-2"])
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
    found = ecs.describe_instances(conn, ["i-1", "i-1"])
    assert [(item["id"], item["status"], item["vpc_id"], item["zone_id"]) for item in found] == [
        ("i-1", "Stopped", "vpc-1", "cn-hangzhou-h")
    ]
    assert conn.client.requests[0][1].instance_ids == '["i-1"]'


def test_describe_network_interfaces_asks_by_id_and_keeps_only_the_asked():
    def answer(name, request):
        records = [{"NetworkInterfaceId": eni_id, "Type": "Secondary"} for eni_id in request.network_interface_id]
        return {"NetworkInterfaceSets": {"NetworkInterfaceSet": records + [{"NetworkInterfaceId": "eni-x"}]}}

    conn = connection(answer)
    found = ecs.describe_network_interfaces(conn, ["eni-1", "eni-2", "eni-1"])
    assert [eni["id"] for eni in found] == ["eni-1", "eni-2"]
    assert found[0]["type"] == "Secondary" and "private_ips" in found[0]
    assert [request.network_interface_id for _name, request in conn.client.requests] == [["eni-1", "eni-2"]]


def test_normalize_instance():
    instance = ecs.normalize_instance(
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
    eni = ecs.normalize_eni(
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
    assert eni["eip_allocation_ids"] == ["eip-1"]


def test_normalize_eni_lists_every_eip_its_record_shows_once():
    """The top-level AssociatedPublicIp (the primary address's, or where a cut-through binding would show) and each
    address's; an entry without an allocation ID (a fixed public IP) is no EIP."""
    eni = ecs.normalize_eni(
        {
            "NetworkInterfaceId": "eni-1",
            "PrivateIpAddress": "10.0.0.5",
            "AssociatedPublicIp": {"AllocationId": "eip-top", "PublicIpAddress": "47.0.0.9"},
            "PrivateIpSets": {
                "PrivateIpSet": [
                    {
                        "PrivateIpAddress": "10.0.0.5",
                        "Primary": True,
                        "AssociatedPublicIp": {"AllocationId": "eip-top", "PublicIpAddress": "47.0.0.9"},
                    },
                    {
                        "PrivateIpAddress": "10.0.0.6",
                        "Primary": False,
                        "AssociatedPublicIp": {"AllocationId": "", "PublicIpAddress": "121.40.1.1"},
                    },
                    {
                        "PrivateIpAddress": "10.0.0.7",
                        "Primary": False,
                        "AssociatedPublicIp": {"AllocationId": "eip-7", "PublicIpAddress": "47.0.0.7"},
                    },
                ]
            },
        }
    )
    assert eni["eip_allocation_ids"] == ["eip-top", "eip-7"]
    assert ecs.normalize_eni({"NetworkInterfaceId": "eni-2"})["eip_allocation_ids"] == []


def record(eni_id, **fields):
    return {
        "NetworkInterfaceId": eni_id,
        "Status": "Available",
        "Type": "Secondary",
        "PrivateIpAddress": "10.0.0.5",
        "PrivateIpSets": {"PrivateIpSet": [{"PrivateIpAddress": "10.0.0.5", "Primary": True}]},
        **fields,
    }


def test_normalize_interface_orders_addresses_and_maps_eips_and_tags():
    interface = ecs.normalize_interface(
        record(
            "eni-1",
            NetworkInterfaceName="web",
            InstanceId="i-1",
            Status="InUse",
            Attachment={"InstanceId": "i-1", "DeviceIndex": 2},
            SecurityGroupIds={"SecurityGroupId": ["sg-1", "sg-2"]},
            PrivateIpSets={
                "PrivateIpSet": [
                    {"PrivateIpAddress": "10.0.0.7", "Primary": False},
                    {
                        "PrivateIpAddress": "10.0.0.6",
                        "Primary": False,
                        "AssociatedPublicIp": {"PublicIpAddress": "47.0.0.6", "AllocationId": "eip-6"},
                    },
                    {"PrivateIpAddress": "10.0.0.5", "Primary": True},
                ]
            },
            Tags={"Tag": [{"TagKey": "team", "TagValue": "web"}]},
        )
    )
    assert interface["primary_ip_address"] == "10.0.0.5"
    assert interface["private_ip_addresses"] == ["10.0.0.5", "10.0.0.7", "10.0.0.6"]
    assert interface["secondary_private_ip_addresses"] == ["10.0.0.7", "10.0.0.6"]
    assert interface["associated_public_ips"] == [
        {"private_ip_address": "10.0.0.6", "ip_address": "47.0.0.6", "allocation_id": "eip-6"}
    ]
    assert interface["tags"] == {"team": "web"}
    assert interface["security_group_ids"] == ["sg-1", "sg-2"]
    assert interface["device_index"] == 2
    assert interface["instance_id"] == "i-1"


def test_normalize_interface_without_optional_parts():
    interface = ecs.normalize_interface({"NetworkInterfaceId": "eni-1", "Status": "Available"})
    assert interface["private_ip_addresses"] == []
    assert interface["device_index"] is None
    assert interface["tags"] == {}
    assert interface["instance_id"] == ""


def test_describe_reads_every_page_with_the_filters():
    pages = {None: ([record("eni-1"), record("eni-2")], "t2"), "t2": ([record("eni-3")], "")}

    def answer(name, request):
        records, token = pages[request.next_token]
        return {"NetworkInterfaceSets": {"NetworkInterfaceSet": records}, "NextToken": token}

    conn = connection(answer)
    found = ecs.describe_interfaces(conn, vpc_id="vpc-1", eni_type="Secondary", tags={"team": "web"})
    assert [interface["id"] for interface in found] == ["eni-1", "eni-2", "eni-3"]
    requests = [request for _name, request in conn.client.requests]
    assert len(requests) == 2
    assert requests[0].vpc_id == "vpc-1"
    assert requests[0].type == "Secondary"
    assert requests[0].max_results == 500
    assert [(tag.key, tag.value) for tag in requests[0].tag] == [("team", "web")]
    assert requests[1].next_token == "t2"


def test_describe_splits_ids_in_batches_of_100_and_empty_list_asks_nothing():
    conn = connection(lambda name, request: {"NetworkInterfaceSets": {"NetworkInterfaceSet": []}, "NextToken": ""})
    ecs.describe_interfaces(conn, eni_ids=[f"eni-{number}" for number in range(150)])
    assert [len(request.network_interface_id) for _name, request in conn.client.requests] == [100, 50]
    assert ecs.describe_interfaces(conn, eni_ids=[]) == []
    assert len(conn.client.requests) == 2
