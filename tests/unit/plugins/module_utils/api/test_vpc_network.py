"""NAT gateway, SNAT, vSwitch, HaVip and IPv4 gateway wrappers (plugins/module_utils/_api/vpc_network.py): requests,
pages, records, retries."""

from __future__ import annotations

import pytest
from ansible_collections.alicloud.eip.plugins.module_utils._api import vpc_network
from ansible_collections.alicloud.eip.plugins.module_utils._retries import AlicloudApiError
from ansible_collections.alicloud.eip.tests.unit.plugins.module_utils.api.recording import connection


def gateway_record(gateway_id, vpc="vpc-1", vswitch="vsw-ngw", created="2023-05-01T00:00:00Z", ips=()):
    return {
        "NatGatewayId": gateway_id,
        "Name": "egress",
        "VpcId": vpc,
        "Status": "Available",
        "NatType": "Enhanced",
        "NetworkType": "internet",
        "Spec": "",
        "CreationTime": created,
        "SnatTableIds": {"SnatTableId": [f"stb-{gateway_id[4:]}"]},
        "ForwardTableIds": {"ForwardTableId": [f"ftb-{gateway_id[4:]}"]},
        "IpLists": {
            "IpList": [
                {"AllocationId": f"eip-{n}", "IpAddress": ip, "UsingStatus": "Idle", "SnatEntryEnabled": False}
                for n, ip in enumerate(ips)
            ]
        },
        "NatGatewayPrivateInfo": {"VswitchId": vswitch, "IzNo": "cn-hangzhou-h"},
    }


@pytest.mark.parametrize(
    "created,expected",
    [
        ("2022-09-18T23:59:59Z", False),
        ("2021-05-01T00:00:00Z", False),
        ("2022-09-19T00:00:00Z", True),
        ("2023-05-01T08:00:00+08:00", True),
        ("2022-09-19T07:59:59+08:00", False),
        ("", True),  # unknown: assume the stricter rule
        ("yesterday", True),
    ],
)
def test_consumes_vswitch_ip(created, expected):
    assert vpc_network.consumes_vswitch_ip(created) is expected


@pytest.mark.parametrize(
    "value,expected",
    [("47.0.0.1", ["47.0.0.1"]), ("47.0.0.1, 47.0.0.2,", ["47.0.0.1", "47.0.0.2"]), ("", []), (None, [])],
)
def test_split_snat_ips(value, expected):
    assert vpc_network.split_snat_ips(value) == expected


def test_normalize_nat_gateway():
    gateway = vpc_network.normalize_nat_gateway(gateway_record("ngw-1", ips=["47.0.0.1", "47.0.0.2"]))
    assert (gateway["id"], gateway["vpc_id"], gateway["vswitch_id"], gateway["zone_id"]) == (
        "ngw-1",
        "vpc-1",
        "vsw-ngw",
        "cn-hangzhou-h",
    )
    assert gateway["snat_table_ids"] == ["stb-1"] and gateway["forward_table_ids"] == ["ftb-1"]
    assert [eip["ip_address"] for eip in gateway["eips"]] == ["47.0.0.1", "47.0.0.2"]
    assert gateway["eips"][0] == {
        "allocation_id": "eip-0",
        "ip_address": "47.0.0.1",
        "using_status": "Idle",
        "private_ip_address": "",
        "snat_entry_enabled": False,
    }
    assert (gateway["eip_count"], gateway["eip_limit"], gateway["consumes_vswitch_ip"]) == (2, 20, True)
    assert gateway["vswitch_free_ips"] is None


def test_normalize_nat_gateway_tolerates_missing_containers():
    gateway = vpc_network.normalize_nat_gateway({"NatGatewayId": "ngw-x"})
    assert (gateway["eips"], gateway["snat_table_ids"], gateway["vswitch_id"], gateway["eip_count"]) == ([], [], "", 0)


def test_normalize_snat_entry():
    record = {
        "SnatEntryId": "snat-1",
        "SnatTableId": "stb-1",
        "NatGatewayId": "ngw-1",
        "SourceVSwitchId": "vsw-1",
        "SourceCIDR": "10.1.0.0/24",
        "SnatIp": "47.0.0.2,47.0.0.1",
        "SnatEntryName": "web",
        "EipAffinity": 1,
        "Status": "Pending",
    }
    assert vpc_network.normalize_snat_entry(record) == {
        "id": "snat-1",
        "snat_table_id": "stb-1",
        "nat_gateway_id": "ngw-1",
        "source_vswitch_id": "vsw-1",
        "source_cidr": "10.1.0.0/24",
        "network_interface_id": "",
        "snat_ips": ["47.0.0.2", "47.0.0.1"],
        "name": "web",
        "eip_affinity": True,
        "status": "Pending",
    }


def test_gateways_by_id_one_listing_each_with_the_other_filters():
    def answer(name, request):
        if request.nat_gateway_id == "ngw-gone":
            return {"NatGateways": {"NatGateway": []}, "TotalCount": 0}
        return {"NatGateways": {"NatGateway": [gateway_record(request.nat_gateway_id)]}, "TotalCount": 1}

    conn = connection(answer)
    gateways = vpc_network.describe_nat_gateways(conn, ["ngw-1", "ngw-gone", "ngw-1", "ngw-2"], vpc_id="vpc-1")
    assert [g["id"] for g in gateways] == ["ngw-1", "ngw-2"]
    requests = [request for _name, request in conn.client.requests]
    assert [r.nat_gateway_id for r in requests] == ["ngw-1", "ngw-gone", "ngw-2"]
    assert {(r.vpc_id, r.name, r.page_size, r.region_id) for r in requests} == {("vpc-1", None, 50, "cn-hangzhou")}


def test_gateways_without_ids_read_every_page():
    records = [gateway_record(f"ngw-{n:02d}") for n in range(52)]

    def answer(name, request):
        start = (request.page_number - 1) * request.page_size
        return {"NatGateways": {"NatGateway": records[start : start + request.page_size]}, "TotalCount": len(records)}

    conn = connection(answer)
    gateways = vpc_network.describe_nat_gateways(conn, name="bulk")
    assert len(gateways) == 52 and gateways[-1]["id"] == "ngw-51"
    assert [(r.page_number, r.name, r.nat_gateway_id) for _n, r in conn.client.requests] == [
        (1, "bulk", None),
        (2, "bulk", None),
    ]


def test_vswitch_free_ips_one_listing_per_vpc():
    def answer(name, request):
        vswitches = {
            "vpc-1": [
                {"VSwitchId": "vsw-a", "AvailableIpAddressCount": 250},
                {"VSwitchId": "vsw-b", "AvailableIpAddressCount": 0},
            ],
            "vpc-2": [{"VSwitchId": "vsw-c", "AvailableIpAddressCount": "12"}, {"VSwitchId": "vsw-d"}],
        }[request.vpc_id]
        return {"VSwitches": {"VSwitch": vswitches}, "TotalCount": len(vswitches)}

    conn = connection(answer)
    assert vpc_network.describe_vswitch_free_ips(conn, ["vpc-1", "vpc-2", "vpc-1", ""]) == {
        "vsw-a": 250,
        "vsw-b": 0,
        "vsw-c": 12,
    }
    assert [(name, r.vpc_id) for name, r in conn.client.requests] == [
        ("describe_vswitches_with_options", "vpc-1"),
        ("describe_vswitches_with_options", "vpc-2"),
    ]


def test_snat_entries_of_a_table_every_page():
    records = [{"SnatEntryId": f"snat-{n}", "SnatIp": "47.0.0.1", "Status": "Available"} for n in range(60)]

    def answer(name, request):
        start = (request.page_number - 1) * request.page_size
        return {"SnatTableEntries": {"SnatTableEntry": records[start : start + request.page_size]}, "TotalCount": 60}

    conn = connection(answer)
    entries = vpc_network.describe_snat_entries(conn, "stb-1")
    assert len(entries) == 60 and entries[0]["snat_ips"] == ["47.0.0.1"]
    assert [(r.snat_table_id, r.page_number, r.page_size) for _n, r in conn.client.requests] == [
        ("stb-1", 1, 50),
        ("stb-1", 2, 50),
    ]


def test_create_snat_entry_request():
    conn = connection(lambda name, request: {"SnatEntryId": "snat-new", "RequestId": "r"})
    entry_id = vpc_network.create_snat_entry(
        conn, snat_table_id="stb-1", snat_ips=["47.0.0.1", "47.0.0.2"], source_cidr="10.0.0.5/32"
    )
    name, request = conn.client.requests[0]
    assert entry_id == "snat-new" and name == "create_snat_entry_with_options"
    assert (request.snat_table_id, request.snat_ip, request.source_cidr, request.source_vswitch_id) == (
        "stb-1",
        "47.0.0.1,47.0.0.2",
        "10.0.0.5/32",
        None,
    )
    assert request.snat_entry_name is None and len(request.client_token) == 36


@pytest.mark.parametrize(
    "kwargs,snat_ip,snat_entry_name",
    [
        ({"snat_ips": ["47.0.0.3", "47.0.0.1"]}, "47.0.0.3,47.0.0.1", None),
        ({"name": "renamed"}, None, "renamed"),
        ({"snat_ips": ["47.0.0.3"], "name": "both"}, "47.0.0.3", "both"),
    ],
)
def test_modify_snat_entry_sends_only_what_is_given(kwargs, snat_ip, snat_entry_name):
    conn = connection(lambda name, request: {"RequestId": "req-1"})
    assert vpc_network.modify_snat_entry(conn, snat_table_id="stb-1", snat_entry_id="snat-1", **kwargs) == "req-1"
    _name, request = conn.client.requests[0]
    assert (request.snat_entry_id, request.snat_ip, request.snat_entry_name) == ("snat-1", snat_ip, snat_entry_name)


class Refusing:
    """Fails the first ``times`` calls with an API error ``code``, then answers."""

    def __init__(self, code, times):
        self.code = code
        self.times = times
        self.calls = 0

    def __call__(self, name, request):
        self.calls += 1
        if self.calls <= self.times:
            raise AlicloudApiError(self.code, "busy", request_id="r", status_code=400)
        return {"RequestId": "ok"}


@pytest.mark.parametrize("function", [vpc_network.modify_snat_entry, vpc_network.delete_snat_entry])
@pytest.mark.parametrize("code", ["IncorretSnatEntryStatus", "IncorrectStatus.NATGW"])
def test_a_busy_table_is_retried_with_one_client_token(function, code):
    refusing = Refusing(code, 2)
    conn = connection(refusing)
    assert function(conn, snat_table_id="stb-1", snat_entry_id="snat-1") == "ok"
    tokens = {request.client_token for _name, request in conn.client.requests}
    assert refusing.calls == 3 and len(tokens) == 1


def test_other_refusals_are_not_retried():
    refusing = Refusing("InvalidSnatIp.NotFound", 5)
    conn = connection(refusing)
    with pytest.raises(AlicloudApiError) as excinfo:
        vpc_network.modify_snat_entry(conn, snat_table_id="stb-1", snat_entry_id="snat-1", snat_ips=["47.0.0.9"])
    assert excinfo.value.code == "InvalidSnatIp.NotFound" and refusing.calls == 1


def test_describe_vswitches_one_listing_per_id_and_only_existing_ones():
    def answer(name, request):
        known = {
            "vsw-a": {"VSwitchId": "vsw-a", "VpcId": "vpc-1", "ZoneId": "cn-hangzhou-h", "AvailableIpAddressCount": 9},
            "vsw-b": {"VSwitchId": "vsw-b", "VpcId": "vpc-2", "ZoneId": "cn-hangzhou-i", "CidrBlock": "10.2.0.0/24"},
        }
        records = [known[request.v_switch_id]] if request.v_switch_id in known else []
        return {"VSwitches": {"VSwitch": records}, "TotalCount": len(records)}

    conn = connection(answer)
    found = vpc_network.describe_vswitches(conn, ["vsw-a", "vsw-gone", "vsw-b", "vsw-a", ""])
    assert [(v["id"], v["vpc_id"], v["zone_id"], v["available_ip_count"]) for v in found] == [
        ("vsw-a", "vpc-1", "cn-hangzhou-h", 9),
        ("vsw-b", "vpc-2", "cn-hangzhou-i", None),
    ]
    assert [r.v_switch_id for _n, r in conn.client.requests] == ["vsw-a", "vsw-gone", "vsw-b"]


def test_havips_by_vswitch_filters_by_vswitch_twenty_at_a_time():
    havips = {"vsw-3": ["havip-x", "havip-y"], "vsw-21": ["havip-z"]}

    def answer(name, request):
        (flt,) = request.filter
        assert flt.key == "VSwitchId"
        records = [
            {"HaVipId": havip, "VSwitchId": vswitch} for vswitch in flt.value for havip in havips.get(vswitch, [])
        ]
        return {"HaVips": {"HaVip": records}, "TotalCount": len(records)}

    conn = connection(answer)
    wanted = [f"vsw-{n}" for n in range(25)]
    found = vpc_network.havips_by_vswitch(conn, wanted + ["vsw-3"])
    assert found["vsw-3"] == ["havip-x", "havip-y"] and found["vsw-21"] == ["havip-z"]
    assert found["vsw-0"] == [] and list(found) == wanted
    assert [len(r.filter[0].value) for _n, r in conn.client.requests] == [20, 5]
    assert {name for name, _r in conn.client.requests} == {"describe_ha_vips_with_options"}


def test_havips_by_vswitch_of_nothing_makes_no_call():
    conn = connection(lambda name, request: pytest.fail("no call expected"))
    assert vpc_network.havips_by_vswitch(conn, ["", None]) == {}


def test_nat_gateway_and_havip():
    gateway = vpc_network.normalize_nat_gateway(
        {
            "NatGatewayId": "ngw-1",
            "Status": "Available",
            "IpLists": {"IpList": [{"AllocationId": "eip-1", "UsingStatus": "UsedBySnatTable"}]},
        }
    )
    # The one NAT record: what uses each EIP, as the association engine reads it.
    assert gateway["eips"] == [
        {
            "allocation_id": "eip-1",
            "ip_address": "",
            "using_status": "UsedBySnatTable",
            "private_ip_address": "",
            "snat_entry_enabled": False,
        }
    ]
    havip = vpc_network.normalize_havip(
        {"HaVipId": "havip-1", "Status": "InUse", "AssociatedEipAddresses": {"associatedEipAddresse": ["47.0.0.1"]}}
    )
    assert havip["eip_addresses"] == ["47.0.0.1"]


def test_describe_ha_vips_filters_by_id_list():
    conn = connection(
        lambda name, request: {"TotalCount": 1, "HaVips": {"HaVip": [{"HaVipId": "havip-1", "Status": "Available"}]}}
    )
    assert [h["id"] for h in vpc_network.describe_ha_vips(conn, ["havip-1", "havip-2"])] == ["havip-1"]
    request = conn.client.requests[0][1]
    assert (request.filter[0].key, request.filter[0].value) == ("HaVipId", ["havip-1", "havip-2"])


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
    gateways = vpc_network.list_ipv4_gateways(conn, ["vpc-1", "vpc-2", "vpc-1"])
    assert gateways == [{"id": "ipv4gw-1", "vpc_id": "vpc-1", "name": "", "status": "Created", "enabled": True}]
    assert [(name, request.vpc_id, request.region_id) for name, request in conn.client.requests] == [
        ("list_ipv_4gateways_with_options", "vpc-1", "cn-hangzhou"),
        ("list_ipv_4gateways_with_options", "vpc-1", "cn-hangzhou"),
        ("list_ipv_4gateways_with_options", "vpc-2", "cn-hangzhou"),
    ]


def test_normalize_ipv4_gateway_of_a_deactivated_gateway():
    record = vpc_network.normalize_ipv4_gateway({"Ipv4GatewayId": "ipv4gw-1", "VpcId": "vpc-1", "Status": "Created"})
    assert record["enabled"] is False and record["status"] == "Created"
