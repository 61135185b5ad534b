"""The alicloud.eip.ecs inventory plugin through `ansible-inventory --list`, against one emulator (issue 13 item 1).

One world: cn-shanghai holds hosts with an EIP in every mode (on the instance; NAT on secondary private IPs of an
ENI; cut-through BINDED; MULTI_BINDED), one without any and one excluded by tag; cn-hangzhou holds 230 instances,
so DescribeInstances needs three pages of 100.  Each ansible-inventory run is one case family; the emulator's call
counters prove the calls are batched (no call per host) and that a cache hit makes none.
"""

from __future__ import annotations

import json
import subprocess
from typing import NamedTuple

import pytest
import yaml

from .conftest import VENV_BIN, base_env

ACCESS_KEY_ID = "LTAI-inventory-test"
ACCESS_KEY_SECRET = "inventory-test-secret-value"
BULK = 230

WORLD = {
    "access_keys": [{"id": ACCESS_KEY_ID, "secret": ACCESS_KEY_SECRET}],
    "regions": {
        "cn-shanghai": {
            "zones": ["cn-shanghai-b", "cn-shanghai-e"],
            "eip_pool": {"cidr": "47.100.10.0/26", "count": 20},
            "vpcs": [
                {
                    "id": "vpc-sh",
                    "cidr": "10.2.0.0/16",
                    "vswitches": [
                        {"id": "vsw-sh-b", "zone": "cn-shanghai-b", "cidr": "10.2.1.0/24"},
                        {"id": "vsw-sh-e", "zone": "cn-shanghai-e", "cidr": "10.2.2.0/24"},
                    ],
                }
            ],
            "instances": [
                {
                    "id": "i-own",
                    "name": "own",
                    "vswitch": "vsw-sh-b",
                    "private_ip": "10.2.1.10",
                    "tags": {"Name": "own", "env": "prod"},
                },
                {
                    "id": "i-nat",
                    "name": "nat",
                    "vswitch": "vsw-sh-b",
                    "private_ip": "10.2.1.20",
                    "tags": {"Name": "nat", "env": "prod", "role": "web"},
                },
                {
                    "id": "i-cut",
                    "name": "cut",
                    "vswitch": "vsw-sh-e",
                    "private_ip": "10.2.2.30",
                    "tags": {"env": "dev"},
                },
                {
                    "id": "i-multi",
                    "name": "multi",
                    "vswitch": "vsw-sh-e",
                    "private_ip": "10.2.2.40",
                    "instance_type": "ecs.g5.large",
                },
                {"id": "i-bare", "name": "bare", "vswitch": "vsw-sh-b", "private_ip": "10.2.1.50", "status": "Stopped"},
                {
                    "id": "i-maint",
                    "name": "maint",
                    "vswitch": "vsw-sh-b",
                    "private_ip": "10.2.1.60",
                    "tags": {"maintenance": "true"},
                },
            ],
            "enis": [
                {
                    "id": "eni-nat2",
                    "vswitch": "vsw-sh-b",
                    "instance": "i-nat",
                    "mac": "00:16:3e:00:00:21",
                    "private_ips": ["10.2.1.21", "10.2.1.22", "10.2.1.23"],
                },
                {"id": "eni-cut2", "vswitch": "vsw-sh-e", "instance": "i-cut", "private_ips": ["10.2.2.31"]},
                {
                    "id": "eni-multi2",
                    "vswitch": "vsw-sh-e",
                    "instance": "i-multi",
                    "private_ips": ["10.2.2.41", "10.2.2.42"],
                },
            ],
            "eips": [
                {"id": "eip-own", "ip": "47.100.10.1", "associated_with": {"instance": "i-own"}},
                # NAT on the ENI: the second secondary address first in the world, listed in address order.
                {
                    "id": "eip-nat-b",
                    "ip": "47.100.10.3",
                    "associated_with": {"instance": "eni-nat2", "private_ip": "10.2.1.23"},
                },
                {
                    "id": "eip-nat-a",
                    "ip": "47.100.10.2",
                    "associated_with": {"instance": "eni-nat2", "private_ip": "10.2.1.22"},
                },
                {"id": "eip-cut", "ip": "47.100.10.4", "associated_with": {"instance": "eni-cut2", "mode": "BINDED"}},
                {
                    "id": "eip-m1",
                    "ip": "47.100.10.5",
                    "associated_with": {"instance": "eni-multi2", "mode": "MULTI_BINDED", "private_ip": "10.2.2.41"},
                },
                {
                    "id": "eip-m2",
                    "ip": "47.100.10.6",
                    "associated_with": {"instance": "eni-multi2", "mode": "MULTI_BINDED", "private_ip": "10.2.2.42"},
                },
                {"id": "eip-maint", "ip": "47.100.10.7", "associated_with": {"instance": "i-maint"}},
                {"id": "eip-free", "ip": "47.100.10.8"},
            ],
        },
        "cn-hangzhou": {
            "zones": ["cn-hangzhou-h"],
            "eip_pool": {"cidr": "47.98.10.0/26", "count": 5},
            "vpcs": [
                {
                    "id": "vpc-hz",
                    "cidr": "10.3.0.0/16",
                    "vswitches": [{"id": "vsw-hz", "zone": "cn-hangzhou-h", "cidr": "10.3.0.0/22"}],
                }
            ],
            "instances": [
                {
                    "id": f"i-bulk{number:03d}",
                    "name": f"bulk{number:03d}",
                    "vswitch": "vsw-hz",
                    "private_ip": f"10.3.{1 + number // 200}.{10 + number % 200}",
                    "tags": {"tier": "bulk"},
                }
                for number in range(BULK)
            ],
            "eips": [{"id": "eip-hz", "ip": "47.98.10.1", "associated_with": {"instance": "i-bulk007"}}],
        },
    },
}


class Run(NamedTuple):
    inventory: dict | None
    calls: dict
    process: subprocess.CompletedProcess


@pytest.fixture(scope="module")
def emulator(start_emulator):
    return start_emulator(WORLD)


@pytest.fixture(scope="module")
def run_inventory(emulator, collections_path, tmp_path_factory):
    directory = tmp_path_factory.mktemp("inventory")

    def run(name: str, config: dict, *args: str, env: dict | None = None, check: bool = True):
        path = directory / f"{name}.alicloud_eip.yml"
        path.write_text(yaml.safe_dump({"plugin": "alicloud.eip.ecs", **config}))
        environment = base_env(
            **{
                "ANSIBLE_COLLECTIONS_PATH": collections_path,
                "ANSIBLE_INVENTORY_UNPARSED_FAILED": "true",
                "ALICLOUD_EIP_ENDPOINT_URL": emulator.endpoint,
                "ALIBABA_CLOUD_ACCESS_KEY_ID": ACCESS_KEY_ID,
                "ALIBABA_CLOUD_ACCESS_KEY_SECRET": ACCESS_KEY_SECRET,
                **(env or {}),
            }
        )
        emulator.reset_calls()
        done = subprocess.run(
            [str(VENV_BIN / "ansible-inventory"), "-i", str(path), "--list", *args],
            capture_output=True,
            text=True,
            env=environment,
            check=False,
            timeout=120,
        )
        if check:
            assert done.returncode == 0, done.stderr
            return Run(plain(json.loads(done.stdout)), emulator.calls(), done)
        return Run(None, emulator.calls(), done)

    return run


def plain(value):
    """The --list output without ansible-core 2.19's ``{"__ansible_unsafe": ...}`` wrapping of plugin strings."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def hostvars(inventory: dict) -> dict:
    return inventory["_meta"]["hostvars"]


def group_hosts(inventory: dict, group: str) -> set[str]:
    return set(inventory.get(group, {}).get("hosts", []))


MAIN = {
    "regions": ["cn-shanghai", "cn-hangzhou"],
    "exclude_filters": [{"tag:maintenance": "true"}],
    "hostnames": ["eip_address", "private_ip_address"],
    "compose": {"ansible_host": "private_ip_address"},
    "keyed_groups": [
        {"key": "eips | length | string", "prefix": "eip_count"},
        {"key": "instance_tags.role | default('none')", "prefix": "role"},
    ],
    "groups": {"multi_eip": "eips | length > 1"},
}


def test_two_regions_every_eip_batched(run_inventory):
    inventory, calls, process = run_inventory("main", MAIN)
    assert "WARNING" not in process.stderr, process.stderr  # no reserved variable name, no invalid group name
    variables = hostvars(inventory)
    # 6 + 230 instances, minus the excluded one; no host name sanitized (dots kept).
    assert len(variables) == 5 + BULK
    assert "47.100.10.1" in variables and "10.2.1.50" in variables and "10.3.1.10" in variables
    # Batched: per region one exclude listing and the include listing's pages (100 per page), one EIP sweep.
    pages_hz = -(-BULK // 100)
    assert calls == {"DescribeInstances": (1 + 1) + (1 + pages_hz), "DescribeEipAddresses": 2}

    own = variables["47.100.10.1"]
    assert own["alicloud_instance_id"] == "i-own" and own["alicloud_region"] == "cn-shanghai"
    assert (own["zone_id"], own["vpc_id"], own["vswitch_id"]) == ("cn-shanghai-b", "vpc-sh", "vsw-sh-b")
    assert own["ansible_host"] == "10.2.1.10"
    assert [(eip["allocation_id"], eip["mode"], eip["instance_type"]) for eip in own["eips"]] == [
        ("eip-own", "NAT", "EcsInstance")
    ]
    assert own["eips"][0]["private_ip_address"] == "10.2.1.10"

    nat = variables["47.100.10.2"]
    assert nat["instance_id"] == "i-nat" and nat["instance_tags"] == {"Name": "nat", "env": "prod", "role": "web"}
    assert [
        (eip["ip_address"], eip["network_interface_id"], eip["private_ip_address"], eip["mode"]) for eip in nat["eips"]
    ] == [
        ("47.100.10.2", "eni-nat2", "10.2.1.22", "NAT"),
        ("47.100.10.3", "eni-nat2", "10.2.1.23", "NAT"),
    ]
    secondary = next(eni for eni in nat["network_interfaces"] if eni["id"] == "eni-nat2")
    assert secondary == {
        "id": "eni-nat2",
        "type": "Secondary",
        "mac_address": "00:16:3e:00:00:21",
        "primary_ip_address": "10.2.1.21",
        "private_ip_addresses": ["10.2.1.21", "10.2.1.22", "10.2.1.23"],
    }
    assert nat["network_interfaces"][0]["type"] == "Primary"

    cut = variables["47.100.10.4"]
    assert [(eip["allocation_id"], eip["mode"], eip["private_ip_address"]) for eip in cut["eips"]] == [
        ("eip-cut", "BINDED", "10.2.2.31")
    ]
    multi = variables["47.100.10.5"]
    assert [(eip["allocation_id"], eip["mode"]) for eip in multi["eips"]] == [
        ("eip-m1", "MULTI_BINDED"),
        ("eip-m2", "MULTI_BINDED"),
    ]
    bare = variables["10.2.1.50"]
    assert bare["eips"] == [] and bare["eip_address"] == "" and bare["status"] == "Stopped"
    assert variables["47.98.10.1"]["instance_id"] == "i-bulk007"

    # Default groups, constructed groups, keyed groups.
    assert group_hosts(inventory, "region_cn_shanghai") == {
        "47.100.10.1",
        "47.100.10.2",
        "47.100.10.4",
        "47.100.10.5",
        "10.2.1.50",
    }
    assert len(group_hosts(inventory, "region_cn_hangzhou")) == BULK
    assert group_hosts(inventory, "zone_cn_shanghai_e") == {"47.100.10.4", "47.100.10.5"}
    assert group_hosts(inventory, "vpc_vpc_sh") == group_hosts(inventory, "region_cn_shanghai")
    assert group_hosts(inventory, "status_Stopped") == {"10.2.1.50"}
    assert group_hosts(inventory, "tag_env_prod") == {"47.100.10.1", "47.100.10.2"}
    assert group_hosts(inventory, "has_eip") == {
        "47.100.10.1",
        "47.100.10.2",
        "47.100.10.4",
        "47.100.10.5",
        "47.98.10.1",
    }
    assert group_hosts(inventory, "eip_mode_NAT") == {"47.100.10.1", "47.100.10.2", "47.98.10.1"}
    assert group_hosts(inventory, "eip_mode_BINDED") == {"47.100.10.4"}
    assert group_hosts(inventory, "eip_mode_MULTI_BINDED") == {"47.100.10.5"}
    assert group_hosts(inventory, "multi_eip") == {"47.100.10.2", "47.100.10.5"}
    assert group_hosts(inventory, "eip_count_2") == {"47.100.10.2", "47.100.10.5"}
    assert group_hosts(inventory, "role_web") == {"47.100.10.2"}
    assert "10.2.1.60" not in variables and "47.100.10.7" not in variables  # excluded by tag


def test_hostnames_precedence_dict_form_duplicates_and_filters(run_inventory):
    config = {
        "regions": ["cn-shanghai"],
        "filters": {"vpc_id": "vpc-sh", "tag:env": "prod"},
        "include_filters": [{"instance_ids": ["i-cut"]}],
        "hostnames": [{"name": "instance_id", "prefix": "tag:Name", "separator": "-"}, "tag:env=dev", "instance_id"],
        "default_groups": False,
    }
    inventory, calls = run_inventory("names", config)[:2]
    assert set(hostvars(inventory)) == {"own-i-own", "nat-i-nat", "env_dev"}
    assert calls == {"DescribeInstances": 2, "DescribeEipAddresses": 1}
    assert "region_cn_shanghai" not in inventory

    inventory = run_inventory(
        "dups", {**config, "hostnames": ["eip_address", "instance_id"], "allow_duplicated_hosts": True}
    ).inventory
    assert set(hostvars(inventory)) == {"47.100.10.1", "i-own", "47.100.10.2", "i-nat", "47.100.10.4", "i-cut"}


def test_cache_hit_makes_no_call_and_rebuilds_groups(run_inventory, tmp_path):
    config = {
        **MAIN,
        "regions": ["cn-shanghai"],  # the 230 hosts of cn-hangzhou would only slow the four runs down
        "cache": True,
        "cache_plugin": "ansible.builtin.jsonfile",
        "cache_connection": str(tmp_path),
        "cache_timeout": 3600,
    }
    first, calls = run_inventory("cached", config)[:2]
    assert calls["DescribeInstances"] > 0
    second, calls = run_inventory("cached", config)[:2]
    assert calls == {}
    assert second == first
    cached = json.loads(next(tmp_path.iterdir()).read_text())
    cached = cached.get("__payload__", cached)  # ansible-core 2.19's jsonfile envelope
    cached = json.loads(cached) if isinstance(cached, str) else cached
    # The raw API records, not groups.
    assert set(cached) == {"cn-shanghai"}
    assert {record["InstanceId"] for record in cached["cn-shanghai"]["instances"]} == {
        "i-own",
        "i-nat",
        "i-cut",
        "i-multi",
        "i-bare",
    }
    assert {eip["AllocationId"] for eip in cached["cn-shanghai"]["eips"]} >= {"eip-own", "eip-cut", "eip-m1"}
    # A constructed group changed in the file is rebuilt from the cached answers, still without a call.
    changed, calls = run_inventory("cached", {**config, "groups": {"bare_hosts": "eips | length == 0"}})[:2]
    assert calls == {} and group_hosts(changed, "bare_hosts") == {"10.2.1.50"}
    calls = run_inventory("cached", config, "--flush-cache").calls
    assert calls["DescribeInstances"] > 0


def test_awx_style_environment_and_refusals(run_inventory):
    # The AWX credential type renders unset optional fields as empty strings: an empty token is no token, and the
    # region comes from the next variable when the first is empty.
    inventory = run_inventory(
        "awx",
        {"filters": {"instance_ids": ["i-own"]}},
        env={"ALIBABA_CLOUD_SECURITY_TOKEN": "", "ALIBABA_CLOUD_REGION_ID": "", "ALICLOUD_REGION": "cn-shanghai"},
    ).inventory
    assert set(hostvars(inventory)) == {"47.100.10.1"}

    refused = run_inventory("badfilter", {"regions": ["cn-shanghai"], "filters": {"vpc": "vpc-sh"}}, check=False)
    assert refused.process.returncode != 0 and "filters: unknown filter 'vpc'" in refused.process.stderr
    assert refused.calls == {}
    done = run_inventory("noregion", {}, check=False).process
    assert done.returncode != 0 and "no region: set regions" in done.stderr
    done = run_inventory(
        "badkey",
        {"regions": ["cn-shanghai"]},
        check=False,
        env={"ALIBABA_CLOUD_ACCESS_KEY_SECRET": "wrong-secret-value"},
    ).process
    assert done.returncode != 0 and "could not read region cn-shanghai" in done.stderr
    assert "wrong-secret-value" not in done.stderr + done.stdout
