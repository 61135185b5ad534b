# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The plan of the havip_failover role: peers, priorities, the HaVip to use or create, and every refusal."""

from __future__ import annotations

import pytest
from ansible_collections.alicloud.eip.plugins.filter.havip_failover import VRID_TAG, FilterModule, havip_failover_plan

HOSTS = [{"host": "ecs1", "instance_id": "i-1"}, {"host": "ecs2", "instance_id": "i-2"}]
VSWITCHES = [{"id": "vsw-a", "cidr_block": "192.168.0.0/24"}]


def eni(ip, vswitch="vsw-a"):
    return {"primary_ip_address": ip, "vswitch_id": vswitch, "vpc_id": "vpc-1"}


ENIS = {"ecs1": eni("192.168.0.11"), "ecs2": eni("192.168.0.12")}


def havip(havip_id="havip-1", name="web", ip="192.168.0.100", instances=(), tags=None, vswitch="vsw-a"):
    return {
        "id": havip_id,
        "name": name,
        "ip_address": ip,
        "vswitch_id": vswitch,
        "vpc_id": "vpc-1",
        "associated_instances": list(instances),
        "tags": tags or {},
    }


def settings(**overrides):
    base = {"name": "web", "ip_address": "192.168.0.100", "virtual_router_id": 51, "advert_int": 1, "global_defs": []}
    base.update(overrides)
    return base


def plan(hosts=None, enis=None, havips=(), vswitches=None, **overrides):
    return havip_failover_plan(
        HOSTS if hosts is None else hosts,
        ENIS if enis is None else enis,
        list(havips),
        VSWITCHES if vswitches is None else vswitches,
        settings(**overrides),
    )


def test_peers_priorities_and_vips_of_a_new_havip():
    result = plan()
    assert result["errors"] == [] and result["warnings"] == []
    assert result["create"] is True and result["havip_id"] == ""
    assert result["instance_ids"] == ["i-1", "i-2"]
    assert result["tags"] == {VRID_TAG: "51"}
    assert result["hosts"] == {
        "ecs1": {
            "instance_id": "i-1",
            "priority": 150,
            "unicast_src_ip": "192.168.0.11",
            "unicast_peers": ["192.168.0.12"],
            "interface": "eth0",
            "vips": ["192.168.0.100/24 dev eth0"],
            "preferred_master": True,
        },
        "ecs2": {
            "instance_id": "i-2",
            "priority": 100,
            "unicast_src_ip": "192.168.0.12",
            "unicast_peers": ["192.168.0.11"],
            "interface": "eth0",
            "vips": ["192.168.0.100/24 dev eth0"],
            "preferred_master": False,
        },
    }


def test_given_priorities_and_interfaces_win():
    hosts = [
        {"host": "ecs1", "instance_id": "i-1", "priority": 90, "interface": "ens5"},
        {"host": "ecs2", "instance_id": "i-2", "priority": "200"},
    ]
    result = plan(hosts=hosts, interface="eth1")
    assert result["errors"] == []
    assert (result["hosts"]["ecs1"]["priority"], result["hosts"]["ecs2"]["priority"]) == (90, 200)
    assert result["hosts"]["ecs1"]["vips"] == ["192.168.0.100/24 dev ens5"]
    assert result["hosts"]["ecs2"]["interface"] == "eth1"
    assert result["hosts"]["ecs2"]["preferred_master"] is True


def test_an_existing_havip_by_name_gives_its_address_and_id():
    result = plan(havips=[havip(instances=["i-1"]), havip("havip-other", name="db", ip="192.168.0.101")], ip_address="")
    assert result["errors"] == []
    assert (result["create"], result["havip_id"], result["ip_address"]) == (False, "havip-1", "192.168.0.100")


def test_an_existing_havip_by_id():
    result = plan(havips=[havip()], havip_id="havip-1", name="")
    assert result["errors"] == [] and result["havip_id"] == "havip-1"


def only_error(result):
    assert len(result["errors"]) == 1, result["errors"]
    return result["errors"][0]


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        (
            {"hosts": HOSTS + [{"host": "ecs3", "instance_id": "i-3"}], "enis": {**ENIS, "ecs3": eni("192.168.0.13")}},
            "havip_failover_hosts: a HaVip is shared by exactly two hosts",
        ),
        ({"hosts": HOSTS[:1]}, "the play has 1 (ecs1)"),
        (
            {"enis": {"ecs1": eni("192.168.0.11"), "ecs2": eni("192.168.1.12", "vsw-b")}},
            "the hosts are in different vSwitches (ecs1 in vsw-a, ecs2 in vsw-b)",
        ),
        ({"ip_address": "192.168.1.100"}, "192.168.1.100 is outside vSwitch vsw-a (192.168.0.0/24)"),
        ({"ip_address": "192.168.0.11"}, "is a host's own primary address"),
        ({"ip_address": "fe80::1"}, "is not an IPv4 address"),
        ({"ip_address": ""}, "havip_failover_ip_address: give the HaVip's address"),
        (
            {"havips": [havip("havip-db", name="db", ip="192.168.0.99", tags={VRID_TAG: "51"})]},
            "havip_failover_virtual_router_id: 51 is already the VRRP router ID of havip-db in VPC vpc-1",
        ),
        ({"virtual_router_id": 0}, "havip_failover_virtual_router_id: 0 is not a VRRP router ID"),
        ({"virtual_router_id": "x"}, "is not a VRRP router ID"),
        ({"global_defs": ["router_id ecs", "vrrp_strict"]}, "vrrp_strict forbids unicast peers"),
        (
            {"hosts": [dict(HOSTS[0], status="Starting"), HOSTS[1]]},
            "ecs1: ECS instance i-1 is Starting; AssociateHaVip takes only Running or Stopped",
        ),
        ({"hosts": [dict(HOSTS[0], priority=100), dict(HOSTS[1], priority=100)]}, "both hosts have 100"),
        ({"hosts": [dict(HOSTS[0], priority=255), HOSTS[1]]}, "ecs1: havip_failover_priority 255 is not from 1 to 254"),
        ({"havips": [havip(ip="192.168.0.50")]}, "HaVip havip-1 has 192.168.0.50, not 192.168.0.100"),
        ({"havips": [havip(instances=["i-1", "i-9"])]}, "associated with i-9, which is not one of the play's hosts"),
        ({"havip_id": "havip-none"}, "there is no HaVip havip-none"),
        ({"name": "", "havip_id": ""}, "havip_failover_name or havip_failover_havip_id is required"),
        ({"havips": [havip(), havip("havip-2")]}, "2 HaVips are named 'web' in vsw-a"),
        ({"hosts": [HOSTS[0], {"host": "ecs2", "instance_id": ""}]}, "ecs2: havip_failover_instance_id is not set"),
        ({"enis": {"ecs1": eni("192.168.0.11")}}, "ecs2: ECS instance i-2 has no primary ENI"),
        ({"advert_int": 0}, "havip_failover_advert_int: 0 is not a positive number"),
    ],
)
def test_refusals(kwargs, expected):
    assert expected in only_error(plan(**kwargs))


def test_the_same_router_id_on_the_havip_itself_is_no_clash():
    result = plan(havips=[havip(tags={VRID_TAG: "51"})])
    assert result["errors"] == []


def test_a_long_auth_pass_warns_but_does_not_refuse():
    result = plan(authentication_password="s3cr3t-longer")
    assert result["errors"] == []
    assert result["warnings"] == [
        "havip_failover_authentication_password: keepalived uses only the first 8 characters of a PASS password "
        "(it has 13); both hosts still agree, but the rest adds nothing"
    ]
    assert plan(authentication_password="12345678")["warnings"] == []


def test_the_filter_is_registered():
    assert FilterModule().filters() == {"havip_failover_plan": havip_failover_plan}
