"""The pure half of the alicloud.eip.ecs inventory plugin (_inventory): filters, host names, EIPs, groups.

The plugin itself runs through ansible-inventory against the emulator in tests/user/test_inventory.py."""

from __future__ import annotations

import pytest

from ansible_collections.alicloud.eip.plugins.module_utils import _inventory
from ansible_collections.alicloud.eip.plugins.module_utils._inventory import (
    InventoryOptionError,
    check_hostnames,
    default_groups,
    hostnames,
    include_filter_sets,
    request_filters,
)


def test_filters_become_request_fields_with_tags_and_lists():
    assert request_filters(
        {
            "vpc_id": "vpc-1",
            "vswitch_id": "vsw-1",
            "tag:env": "prod",
            "tag:empty": None,
            "instance_ids": "i-1",
            "eip_addresses": ["47.1.1.1", "47.1.1.2"],
        },
        "filters",
    ) == {
        "vpc_id": "vpc-1",
        "v_switch_id": "vsw-1",
        "instance_ids": ["i-1"],
        "eip_addresses": ["47.1.1.1", "47.1.1.2"],
        "tags": {"env": "prod", "empty": ""},
    }


@pytest.mark.parametrize(
    "filters, message",
    [
        ({"vpc": "x"}, "filters: unknown filter 'vpc'; the filters are"),
        ({"tag:": "x"}, "filters: 'tag:' names no tag key"),
        ({"status": ["Running", "Stopped"]}, "filters: status takes one value, not list"),
        ({"instance_ids": [f"i-{n}" for n in range(101)]}, "instance_ids takes at most 100 values"),
        ({f"tag:k{n}": "v" for n in range(21)}, "at most 20 tag: filters"),
    ],
)
def test_bad_filters_are_refused_naming_the_option(filters, message):
    with pytest.raises(InventoryOptionError, match=message.replace("(", r"\(")):
        request_filters(filters, "filters")


def test_include_sets_start_with_filters_and_default_to_everything():
    assert include_filter_sets({}, []) == [{}]
    assert include_filter_sets({"status": "Running"}, [{"zone_id": "z"}]) == [{"status": "Running"}, {"zone_id": "z"}]
    with pytest.raises(InventoryOptionError, match=r"include_filters\[1\]: unknown filter 'nope'"):
        include_filter_sets({}, [{"zone_id": "z"}, {"nope": 1}])


VARIABLES = {
    "instance_id": "i-1",
    "instance_name": "web",
    "hostname": "web01",
    "private_ip_address": "10.0.0.5",
    "public_ip_address": "",
    "eip_address": "47.1.1.1",
    "instance_tags": {"Name": "web", "env": "prod"},
}


@pytest.mark.parametrize(
    "preferences, duplicated, expected",
    [
        (["public_ip_address", "eip_address", "instance_id"], False, ["47.1.1.1"]),
        (["public_ip_address", "eip_address", "instance_id"], True, ["47.1.1.1", "i-1"]),
        (["tag:missing", "tag:Name"], False, ["web"]),
        (["tag:env=dev", "tag:env=prod"], False, ["env_prod"]),
        (["tag:missing,env"], False, ["prod"]),
        ([{"name": "instance_id", "prefix": "tag:Name", "separator": "-"}], False, ["web-i-1"]),
        ([{"name": "instance_id", "prefix": "tag:missing"}, "hostname"], False, ["web01"]),
        ([{"name": "instance_id", "prefix": "instance_name"}], False, ["web_i-1"]),
        (["public_ip_address"], False, []),
        (["eip_address", "eip_address"], True, ["47.1.1.1"]),
    ],
)
def test_hostnames_precedence(preferences, duplicated, expected):
    check_hostnames(preferences)
    assert hostnames(VARIABLES, preferences, duplicated) == expected


@pytest.mark.parametrize(
    "preferences, message",
    [
        (["dns-name"], r"hostnames\[0\]: 'dns-name' is not a host name source"),
        ([{"prefix": "instance_id"}], r"hostnames\[0\]: a dict entry needs a name key"),
        ([{"name": "instance_id", "sep": "-"}], r"hostnames\[0\]: unknown keys sep"),
        (["instance_id", {"name": "instance_id", "prefix": "bogus"}], r"hostnames\[1\]: 'bogus'"),
    ],
)
def test_bad_hostnames_are_refused(preferences, message):
    with pytest.raises(InventoryOptionError, match=message):
        check_hostnames(preferences)


def _eip(allocation_id, address, instance_type, holder, mode="NAT", private=""):
    return {
        "AllocationId": allocation_id,
        "IpAddress": address,
        "InstanceType": instance_type,
        "InstanceId": holder,
        "Mode": mode,
        "PrivateIpAddress": private,
    }


RECORD = {
    "InstanceId": "i-1",
    "RegionId": "cn-shanghai",
    "ZoneId": "cn-shanghai-b",
    "Status": "Running",
    "VpcAttributes": {"VpcId": "vpc-1", "VSwitchId": "vsw-1", "PrivateIpAddress": {"IpAddress": ["10.0.0.5"]}},
    "EipAddress": {"IpAddress": "47.1.1.1", "AllocationId": "eip-own"},
    "Tags": {"Tag": [{"TagKey": "env", "TagValue": "prod"}, {"TagKey": "role", "TagValue": "web-1"}]},
    "NetworkInterfaces": {
        "NetworkInterface": [
            {
                "NetworkInterfaceId": "eni-2",
                "Type": "Secondary",
                "MacAddress": "00:16:3e:00:00:02",
                "PrimaryIpAddress": "10.0.0.20",
                "PrivateIpSets": {
                    "PrivateIpSet": [
                        {"PrivateIpAddress": "10.0.0.20", "Primary": True},
                        {"PrivateIpAddress": "10.0.0.21", "Primary": False},
                        {"PrivateIpAddress": "10.0.0.22", "Primary": False},
                    ]
                },
            },
            {
                "NetworkInterfaceId": "eni-1",
                "Type": "Primary",
                "MacAddress": "00:16:3e:00:00:01",
                "PrimaryIpAddress": "10.0.0.5",
                "PrivateIpSets": {"PrivateIpSet": [{"PrivateIpAddress": "10.0.0.5", "Primary": True}]},
            },
            {
                "NetworkInterfaceId": "eni-3",
                "Type": "Secondary",
                "MacAddress": "00:16:3e:00:00:03",
                "PrimaryIpAddress": "10.0.0.30",
                "PrivateIpSets": {"PrivateIpSet": [{"PrivateIpAddress": "10.0.0.30", "Primary": True}]},
            },
        ]
    },
}
EIPS = [
    _eip("eip-n22", "47.1.1.4", "NetworkInterface", "eni-2", private="10.0.0.22"),
    _eip("eip-n21", "47.1.1.3", "NetworkInterface", "eni-2", private="10.0.0.21"),
    _eip("eip-cut", "47.1.1.5", "NetworkInterface", "eni-3", mode="BINDED"),
    _eip("eip-own", "47.1.1.1", "EcsInstance", "i-1"),
    _eip("eip-other", "47.1.1.9", "EcsInstance", "i-2"),
    _eip("eip-havip", "47.1.1.8", "HaVip", "havip-1"),
]


def test_host_vars_list_every_eip_in_order_and_the_enis():
    variables = _inventory.host_vars(RECORD, "cn-shanghai", _inventory.index_eips(EIPS))
    assert [
        (eip["allocation_id"], eip["network_interface_id"], eip["private_ip_address"], eip["mode"])
        for eip in variables["eips"]
    ] == [
        ("eip-own", "eni-1", "10.0.0.5", "NAT"),
        ("eip-n21", "eni-2", "10.0.0.21", "NAT"),
        ("eip-n22", "eni-2", "10.0.0.22", "NAT"),
        ("eip-cut", "eni-3", "10.0.0.30", "BINDED"),
    ]
    assert [eni["id"] for eni in variables["network_interfaces"]] == ["eni-1", "eni-2", "eni-3"]
    assert variables["network_interfaces"][1]["private_ip_addresses"] == ["10.0.0.20", "10.0.0.21", "10.0.0.22"]
    assert (variables["alicloud_instance_id"], variables["alicloud_region"], variables["vswitch_id"]) == (
        "i-1",
        "cn-shanghai",
        "vsw-1",
    )
    assert variables["instance_tags"] == {"env": "prod", "role": "web-1"}
    assert variables["eip_address"] == variables["public_ip_address"] == "47.1.1.1"
    assert "tags" not in variables  # a reserved play keyword
    assert default_groups(variables) == [
        "region_cn_shanghai",
        "zone_cn_shanghai_b",
        "vpc_vpc_1",
        "status_Running",
        "tag_env_prod",
        "tag_role_web_1",
        "has_eip",
        "eip_mode_BINDED",
        "eip_mode_NAT",
    ]


def test_gather_region_unions_includes_and_lets_exclude_win(monkeypatch):
    listings = {
        (("status", "Running"),): [{"InstanceId": "i-1"}, {"InstanceId": "i-2"}, {"InstanceId": "i-3"}],
        (("zone_id", "z"),): [{"InstanceId": "i-3"}, {"InstanceId": "i-4"}],
        (("tags", (("skip", "yes"),)),): [{"InstanceId": "i-2"}],
    }
    calls = []

    def fake_records(connection, **filters):
        key = tuple(
            sorted(
                (name, tuple(sorted(value.items())) if isinstance(value, dict) else value)
                for name, value in filters.items()
            )
        )
        calls.append(key)
        return listings[key]

    monkeypatch.setattr(_inventory, "instance_records", fake_records)
    monkeypatch.setattr(_inventory, "eip_records", lambda connection: [{"AllocationId": "eip-1"}])
    includes = include_filter_sets({"status": "Running"}, [{"zone_id": "z"}])
    excludes = _inventory.exclude_filter_sets([{"tag:skip": "yes"}])
    result = _inventory.gather_region(None, includes, excludes)
    assert [record["InstanceId"] for record in result["instances"]] == ["i-1", "i-3", "i-4"]
    assert result["eips"] == [{"AllocationId": "eip-1"}]
    assert len(calls) == 3

    monkeypatch.setattr(_inventory, "eip_records", lambda connection: pytest.fail("no host, no EIP sweep"))
    assert _inventory.gather_region(None, [{"zone_id": "z"}], [{"zone_id": "z"}]) == {"instances": [], "eips": []}
