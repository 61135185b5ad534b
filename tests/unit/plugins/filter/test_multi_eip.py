# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The filters of the multi_eip role: the pre-flight check (every dependency looked up, refused with the variable
and the fix), the one mode table, and the plan of every mode (scale-down, resources, associations, host)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from ansible.errors import AnsibleFilterError
from ansible_collections.alicloud.eip.plugins.filter.multi_eip import (
    MODES,
    FilterModule,
    addresses_needed,
    cut_through_network,
    multi_eip_mode,
    multi_eip_plan,
    multi_eip_preflight,
    multi_eip_resources,
    multi_eip_scale_down,
    multi_eip_security_groups,
)
from ansible_collections.alicloud.eip.plugins.modules import (
    eip_association,
    eni_routing,
)

INSTANCE = {"id": "i-1", "status": "Running", "network_type": "vpc", "vpc_id": "vpc-1", "zone_id": "zone-a"}
VSWITCH = {"id": "vsw-1", "vpc_id": "vpc-1", "zone_id": "zone-a", "available_ip_count": 100}
GROUPS = [{"id": "sg-1", "vpc_id": "vpc-1"}, {"id": "sg-2", "vpc_id": "vpc-1"}, {"id": "sg-other", "vpc_id": "vpc-2"}]


def lookups(instance="default", vswitch="default", groups=None):
    """A network_info result (the module's constants unless given; None for a missing resource)."""
    instance = INSTANCE if instance == "default" else instance
    vswitch = VSWITCH if vswitch == "default" else vswitch
    groups = GROUPS if groups is None else groups
    return {
        "instances": [instance] if instance else [],
        "vswitches": [vswitch] if vswitch else [],
        "security_groups": list(groups),
    }


def settings(**overrides):
    base = {
        "instance_id": "i-1",
        "mode": "nat_secondary_ips",
        "count": 2,
        "vswitch_id": "vsw-1",
        "security_group_ids": ["sg-1"],
        "eni_security_group_ids": [],
    }
    return {**base, **overrides}


def eni(slot, vswitch="vsw-1", secondary=()):
    """One of the role's ENIs, as eni_info returns it."""
    return {
        "id": f"eni-{slot}",
        "vswitch_id": vswitch,
        "secondary_private_ip_addresses": list(secondary),
        "tags": {"alicloud-eip-slot": str(slot)},
    }


@pytest.mark.parametrize("mode", ["nat_enis", "nat_secondary_ips", "cut_through", "multi_eip_cut_through"])
def test_a_sound_request_passes_in_every_mode(mode):
    assert multi_eip_preflight(lookups(), settings(mode=mode)) == []


@pytest.mark.parametrize(
    "look,overrides,expected",
    [
        (
            lookups(instance=None),
            {},
            (
                "multi_eip_instance_id: there is no ECS instance i-1 in this region (InvalidInstanceId.NotFound); check the "
                "ID and the region of the play's module_defaults"
            ),
        ),
        (
            lookups(instance={**INSTANCE, "status": "Starting"}),
            {},
            (
                "multi_eip_instance_id: instance i-1 is Starting, and ENIs attach only to a Running or Stopped instance "
                "(InvalidOperation.InvalidEcsState); run again once it is Running or Stopped"
            ),
        ),
        (
            lookups(instance={**INSTANCE, "network_type": "classic"}),
            {},
            (
                "multi_eip_instance_id: instance i-1 is not in a VPC (network type classic); ENIs and their EIPs need a VPC "
                "instance"
            ),
        ),
        (
            lookups(vswitch=None),
            {},
            (
                "multi_eip_vswitch_id: there is no vSwitch vsw-1 in this region (InvalidVSwitchId.NotFound); give a vSwitch "
                "of the instance's VPC in its zone (VPC vpc-1, zone zone-a)"
            ),
        ),
        (
            lookups(vswitch={**VSWITCH, "vpc_id": "vpc-2"}),
            {},
            (
                "multi_eip_vswitch_id: vSwitch vsw-1 is in VPC vpc-2, instance i-1 in VPC vpc-1 "
                "(InvalidOperation.VpcMismatch); give a vSwitch of the instance's VPC in its zone (VPC vpc-1, zone zone-a)"
            ),
        ),
        (
            lookups(vswitch={**VSWITCH, "zone_id": "zone-b"}),
            {},
            (
                "multi_eip_vswitch_id: vSwitch vsw-1 is in zone zone-b, instance i-1 in zone zone-a, and an ENI attaches "
                "only to an instance of its zone (InvalidOperation.AvailabilityZoneMismatch); give a vSwitch of the "
                "instance's VPC in its zone (VPC vpc-1, zone zone-a)"
            ),
        ),
        (
            lookups(),
            {"security_group_ids": ["sg-1", "sg-gone"]},
            (
                "multi_eip_security_group_ids: there is no security group sg-gone in this region "
                "(InvalidSecurityGroupId.NotFound); give security groups of the instance's VPC vpc-1"
            ),
        ),
        (
            lookups(),
            {"security_group_ids": ["sg-other"]},
            (
                "multi_eip_security_group_ids: security group sg-other is in VPC vpc-2, not in the instance's VPC vpc-1 "
                "(InvalidOperation.VpcMismatch); give security groups of VPC vpc-1"
            ),
        ),
        (
            lookups(),
            {"mode": "nat_enis", "eni_security_group_ids": [[], ["sg-gone"]]},
            (
                "multi_eip_eni_security_group_ids[1]: there is no security group sg-gone in this region "
                "(InvalidSecurityGroupId.NotFound); give security groups of the instance's VPC vpc-1"
            ),
        ),
        (
            lookups(vswitch={**VSWITCH, "available_ip_count": 2}),
            {},
            (
                "multi_eip_vswitch_id: the run needs 3 free private addresses in vSwitch vsw-1 (one per new ENI, plus one "
                "secondary IP per EIP) and it has 2 (InvalidVSwitchId.IpNotEnough); free addresses there, give another "
                "vSwitch of the zone, or lower multi_eip_count"
            ),
        ),
    ],
)
def test_each_bad_dependency_is_refused_naming_the_variable(look, overrides, expected):
    assert multi_eip_preflight(look, settings(**overrides)) == [expected]


def test_every_problem_is_listed_at_once():
    errors = multi_eip_preflight(lookups(instance=None, vswitch=None, groups=[]), settings())
    assert [error.split(":")[0] for error in errors] == [
        "multi_eip_instance_id",
        "multi_eip_vswitch_id",
        "multi_eip_security_group_ids",
    ]


def test_a_slot_beyond_the_enis_of_the_mode_is_not_checked():
    # nat_secondary_ips has one ENI: the groups of slot 1 are never used.
    assert multi_eip_preflight(lookups(), settings(eni_security_group_ids=[[], ["sg-gone"]])) == []


def test_count_zero_depends_on_nothing():
    assert multi_eip_preflight(lookups(instance=None, vswitch=None, groups=[]), settings(count=0)) == []


def test_a_stopped_instance_is_fine():
    assert multi_eip_preflight(lookups(instance={**INSTANCE, "status": "Stopped"}), settings()) == []


def test_an_unknown_free_count_is_not_a_refusal():
    assert multi_eip_preflight(lookups(vswitch={**VSWITCH, "available_ip_count": None}), settings(count=40)) == []


@pytest.mark.parametrize(
    "overrides,existing,needed",
    [
        ({"mode": "nat_enis", "count": 3}, [], 3),
        ({"mode": "nat_enis", "count": 3}, [eni(0), eni(1)], 1),
        ({"mode": "cut_through", "count": 2}, [eni(0), eni(1), eni(2)], 0),
        ({"mode": "nat_secondary_ips", "count": 4}, [], 5),
        ({"mode": "nat_secondary_ips", "count": 4}, [eni(0, secondary=["10.0.0.5", "10.0.0.6"])], 2),
        ({"mode": "nat_secondary_ips", "count": 1}, [eni(0, secondary=["10.0.0.5", "10.0.0.6"])], 0),
        # an ENI of another vSwitch is not found again by the role: a new one is made
        ({"mode": "nat_secondary_ips", "count": 2}, [eni(0, vswitch="vsw-9", secondary=["10.0.0.5"])], 3),
        ({"mode": "multi_eip_cut_through", "count": 10}, [], 1),
        ({"mode": "multi_eip_cut_through", "count": 10}, [eni(0)], 0),
    ],
)
def test_addresses_needed(overrides, existing, needed):
    assert addresses_needed(settings(**overrides), existing) == needed


def test_a_rerun_with_its_enis_in_place_needs_no_free_address():
    full = lookups(vswitch={**VSWITCH, "available_ip_count": 0})
    assert multi_eip_preflight(full, settings(count=2), [eni(0, secondary=["10.0.0.5", "10.0.0.6"])]) == []
    assert multi_eip_preflight(full, settings(count=3), [eni(0, secondary=["10.0.0.5", "10.0.0.6"])]) != []


def test_security_groups_to_look_up():
    assert multi_eip_security_groups(
        settings(mode="nat_enis", count=3, eni_security_group_ids=[[], ["sg-2", "sg-1"]])
    ) == [
        "sg-1",
        "sg-2",
    ]
    assert multi_eip_security_groups(settings(count=0)) == []


def test_filters_are_registered():
    assert FilterModule().filters() == {
        "multi_eip_mode": multi_eip_mode,
        "multi_eip_preflight": multi_eip_preflight,
        "multi_eip_security_groups": multi_eip_security_groups,
        "multi_eip_scale_down": multi_eip_scale_down,
        "multi_eip_resources": multi_eip_resources,
        "multi_eip_plan": multi_eip_plan,
    }


def eip_settings(**overrides):
    """A sound request with the settings of the EIPs and ENIs the later tasks create."""
    base = {
        "mode": "nat_enis",
        "name": "multi-eip-i-1",
        "tags": {"team": "net"},
        "base_tags": {"alicloud-eip-role": "multi_eip", "alicloud-eip-instance": "i-1"},
        "bandwidth": 5,
        "internet_charge_type": "PayByTraffic",
        "wait_timeout": 300,
    }
    return settings(**{**base, **overrides})


def test_sound_eip_and_eni_settings_pass():
    assert multi_eip_preflight(lookups(), eip_settings()) == []


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"bandwidth": 0}, ["multi_eip_bandwidth: 0 Mbit/s given; the bandwidth must be at least 1 Mbit/s"]),
        (
            {"bandwidth": 300},
            [
                "multi_eip_bandwidth: 300 Mbit/s given; the pay-as-you-go PayByTraffic billing of the role's EIPs allows "
                "1 to 200 Mbit/s; give at most that (or allocate the EIP with "
                "multi_eip_internet_charge_type=PayByBandwidth, up to 500 Mbit/s)"
            ],
        ),
        ({"wait_timeout": 0}, ["multi_eip_wait_timeout: 0 given; it must be a positive number of seconds"]),
        (
            {"tags": {"acs:owner": "me"}},
            ["multi_eip_tags: the key 'acs:owner' is reserved by Alibaba Cloud (acs: and aliyun prefixes); rename it"],
        ),
        (
            {"tags": {"owner": "aliyun-team"}},
            [
                "multi_eip_tags.owner: the value 'aliyun-team' starts with aliyun or acs:, which the API reserves; "
                "reword it"
            ],
        ),
        (
            {"tags": {f"t{index}": "x" for index in range(18)}},
            [
                "multi_eip_tags: 21 tags given; a resource takes at most 20; drop some (18 given, and the role adds 3 "
                "of its own)"
            ],
        ),
    ],
)
def test_each_eip_or_eni_setting_the_modules_refuse_is_refused_naming_the_role_variable(overrides, expected):
    assert multi_eip_preflight(lookups(), eip_settings(**overrides)) == expected


def test_a_name_prefix_too_long_for_the_derived_names_is_refused():
    errors = multi_eip_preflight(lookups(), eip_settings(name="p" * 120 + "-i-1"))
    assert len(errors) == 2
    assert errors[0].startswith("multi_eip_name_prefix: the EIP name 'ppp")
    assert "(name: 130 characters given; it must be 1 to 128 characters; shorten it); give another prefix" in errors[0]
    assert errors[1].startswith("multi_eip_name_prefix: the ENI name 'ppp")


def test_the_eni_name_counts_only_the_enis_of_the_mode():
    # A stem of 122 characters: "-eip-9" and "-eni-0" make 128 (nat_secondary_ips has one ENI), "-eip-10" and
    # "-eni-10" (nat_enis, eleven ENIs) make 129, one too many for each module.
    assert multi_eip_preflight(lookups(), eip_settings(mode="nat_secondary_ips", count=10, name="p" * 122)) == []
    errors = multi_eip_preflight(lookups(), eip_settings(mode="nat_enis", count=11, name="p" * 122))
    assert [error.split(" name ")[0] for error in errors] == [
        "multi_eip_name_prefix: the EIP",
        "multi_eip_name_prefix: the ENI",
    ]


def test_eip_settings_do_not_matter_at_count_zero():
    assert multi_eip_preflight(lookups(), eip_settings(count=0, bandwidth=0, wait_timeout=0)) == []


# ---- the one mode table -------------------------------------------------------------------------------------
ROLE_SPEC = Path(__file__).parents[4] / "roles" / "multi_eip" / "meta" / "argument_specs.yml"


@pytest.mark.parametrize(
    ("mode", "api", "host", "enis"),
    [
        ("nat_enis", "NAT", "nat", 3),
        ("nat_secondary_ips", "NAT", "nat", 1),
        ("cut_through", "BINDED", "cut_through", 3),
        ("multi_eip_cut_through", "MULTI_BINDED", "multi_eip", 1),
    ],
)
def test_each_role_mode_maps_to_one_api_mode_and_one_host_mode(mode, api, host, enis):
    assert multi_eip_mode({"mode": mode, "count": 3}) == {"name": mode, "api": api, "host": host, "enis": enis}
    assert multi_eip_mode({"mode": mode, "count": 0})["enis"] == 0


def test_the_mode_table_speaks_the_vocabularies_of_the_role_the_api_and_the_host():
    role_modes = yaml.safe_load(ROLE_SPEC.read_text())["argument_specs"]["main"]["options"]["multi_eip_mode"]
    assert list(MODES) == role_modes["choices"]
    api_modes = eip_association.item_spec()["mode"]["choices"]
    host_modes = eni_routing.argument_spec()["interfaces"]["options"]["mode"]["choices"]
    assert sorted({mode.api for mode in MODES.values()}) == sorted(api_modes)
    assert sorted({mode.host for mode in MODES.values()}) == sorted(host_modes)


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"mode": "nat", "count": 1}, "multi_eip_mode: 'nat' is not one of nat_enis, nat_secondary_ips, cut_through, "),
        ({"mode": None, "count": 1}, "multi_eip_mode: None is not one of nat_enis"),
    ],
)
def test_an_unknown_mode_is_refused_naming_the_variable(bad, message):
    for planner in (multi_eip_mode, multi_eip_resources):
        with pytest.raises(AnsibleFilterError, match=f"^{re.escape(message)}"):
            planner(bad)
    with pytest.raises(AnsibleFilterError, match=f"^{re.escape(message)}"):
        multi_eip_plan(bad, [], [])


@pytest.mark.parametrize(
    ("count", "message"),
    [(-1, "multi_eip_count: -1 given; it must be 0 or more"), ("two", "multi_eip_count: 'two' is not a whole number")],
)
def test_a_bad_count_is_refused_naming_the_variable(count, message):
    given = {"mode": "nat_enis", "count": count}
    for call in (
        lambda: multi_eip_resources(given),
        lambda: multi_eip_plan(given, [], []),
        lambda: multi_eip_scale_down(given, [], []),
    ):
        with pytest.raises(AnsibleFilterError, match=f"^{re.escape(message)}$"):
            call()


# ---- resources: the ENIs and EIPs as the modules take them ----------------------------------------------------
ROLE_TAGS = {"alicloud-eip-role": "multi_eip", "alicloud-eip-instance": "i-1"}


def plan_settings(mode, count=2, **overrides):
    """The role's settings as vars/main.yml hands them to the filters."""
    base = {
        "instance_id": "i-1",
        "mode": mode,
        "count": count,
        "vswitch_id": "vsw-1",
        "security_group_ids": ["sg-1"],
        "eni_security_group_ids": [[], ["sg-2"]],
        "cut_through_networks": {},
        "name": "multi-eip-i-1",
        "tags": {"team": "net", "alicloud-eip-role": "not-mine"},
        "base_tags": ROLE_TAGS,
    }
    return {**base, **overrides}


def tags(slot):
    return {"team": "net", **ROLE_TAGS, "alicloud-eip-slot": str(slot)}


ATTACHED = {"instance_id": "i-1", "attached": True}


@pytest.mark.parametrize(
    ("mode", "enis"),
    [
        (
            "nat_enis",
            [
                {
                    "name": "multi-eip-i-1-eni-0",
                    "description": "NAT-mode ENI 0 of i-1 (alicloud.eip.multi_eip)",
                    "security_group_ids": ["sg-1"],
                    "tags": tags(0),
                    **ATTACHED,
                },
                {
                    "name": "multi-eip-i-1-eni-1",
                    "description": "NAT-mode ENI 1 of i-1 (alicloud.eip.multi_eip)",
                    "security_group_ids": ["sg-2"],
                    "tags": tags(1),
                    **ATTACHED,
                },
            ],
        ),
        (
            "nat_secondary_ips",
            [
                {
                    "name": "multi-eip-i-1-eni-0",
                    "description": "NAT-mode ENI of i-1 with one private IP per EIP (alicloud.eip.multi_eip)",
                    "security_group_ids": ["sg-1"],
                    "tags": tags(0),
                    **ATTACHED,
                    "secondary_private_ip_address_count": 2,
                }
            ],
        ),
        (
            # Created detached: the EIP goes on first.
            "cut_through",
            [
                {
                    "name": "multi-eip-i-1-eni-0",
                    "description": "Cut-through ENI 0 of i-1 (alicloud.eip.multi_eip)",
                    "security_group_ids": ["sg-1"],
                    "tags": tags(0),
                },
                {
                    "name": "multi-eip-i-1-eni-1",
                    "description": "Cut-through ENI 1 of i-1 (alicloud.eip.multi_eip)",
                    "security_group_ids": ["sg-2"],
                    "tags": tags(1),
                },
            ],
        ),
        (
            "multi_eip_cut_through",
            [
                {
                    "name": "multi-eip-i-1-eni-0",
                    "description": "Multi-EIP cut-through ENI of i-1 (alicloud.eip.multi_eip)",
                    "security_group_ids": ["sg-1"],
                    "tags": tags(0),
                    **ATTACHED,
                }
            ],
        ),
    ],
)
def test_the_resources_of_each_mode(mode, enis):
    resources = multi_eip_resources(plan_settings(mode))
    assert resources["enis"] == enis
    assert resources["eips"] == [
        {
            "name": f"multi-eip-i-1-eip-{slot}",
            "description": f"{mode} EIP {slot} of i-1 (alicloud.eip.multi_eip)",
            "tags": tags(slot),
        }
        for slot in range(2)
    ]


def test_count_zero_has_no_resources():
    assert multi_eip_resources(plan_settings("nat_enis", count=0)) == {"enis": [], "eips": []}


# ---- the plan of each mode, once the modules answered ---------------------------------------------------------
def eip(slot, **fields):
    """An EIP record of slot ``slot`` as eip_address returns it (Available unless fields say otherwise)."""
    return {
        "allocation_id": f"eip-{slot}",
        "ip_address": f"203.0.113.{10 + slot}",
        "instance_id": "",
        "private_ip_address": "",
        "mode": "",
        **fields,
    }


def nic(slot, **fields):
    """An ENI record of slot ``slot`` as eni returns it (detached unless fields say otherwise)."""
    return {
        "id": f"eni-{slot}",
        "mac_address": f"00:16:3e:00:00:0{slot}",
        "primary_ip_address": f"10.0.0.{10 + slot}",
        "instance_id": "",
        "secondary_private_ip_addresses": [],
        **fields,
    }


GATEWAYS = [
    {"ip": "203.0.113.10", "gateway": "203.0.113.1", "mask": "255.255.255.0", "allocation_id": "eip-0"},
    {"ip": "203.0.113.11", "gateway": "203.0.113.1", "mask": "255.255.255.0", "allocation_id": "eip-1"},
]


@pytest.mark.parametrize(
    ("mode", "eips", "enis", "gateways", "expected"),
    [
        (
            "nat_enis",
            [eip(0), eip(1)],
            [nic(0, instance_id="i-1"), nic(1, instance_id="i-1")],
            None,
            {
                "associations": [
                    {
                        "allocation_id": "eip-0",
                        "instance_id": "eni-0",
                        "private_ip_address": "10.0.0.10",
                        "mode": "NAT",
                    },
                    {
                        "allocation_id": "eip-1",
                        "instance_id": "eni-1",
                        "private_ip_address": "10.0.0.11",
                        "mode": "NAT",
                    },
                ],
                "detach": [],
                "attach": [],
                "interfaces": [
                    {"mac": "00:16:3e:00:00:00", "mode": "nat", "eni_id": "eni-0"},
                    {"mac": "00:16:3e:00:00:01", "mode": "nat", "eni_id": "eni-1"},
                ],
            },
        ),
        (
            # EIP 1 already holds .21 and keeps it; EIP 0 takes the free address.
            "nat_secondary_ips",
            [eip(0), eip(1, instance_id="eni-0", private_ip_address="10.0.0.21", mode="NAT")],
            [nic(0, instance_id="i-1", secondary_private_ip_addresses=["10.0.0.21", "10.0.0.20"])],
            None,
            {
                "associations": [
                    {
                        "allocation_id": "eip-0",
                        "instance_id": "eni-0",
                        "private_ip_address": "10.0.0.20",
                        "mode": "NAT",
                    },
                    {
                        "allocation_id": "eip-1",
                        "instance_id": "eni-0",
                        "private_ip_address": "10.0.0.21",
                        "mode": "NAT",
                    },
                ],
                "detach": [],
                "attach": [],
                "interfaces": [{"mac": "00:16:3e:00:00:00", "mode": "nat", "eni_id": "eni-0"}],
            },
        ),
        (
            # ENI 0 holds its EIP in BINDED mode already and stays attached; ENI 1 is attached without it: detach.
            "cut_through",
            [eip(0, instance_id="eni-0", mode="BINDED"), eip(1)],
            [nic(0, instance_id="i-1"), nic(1, instance_id="i-1")],
            None,
            {
                "associations": [
                    {"allocation_id": "eip-0", "instance_id": "eni-0", "mode": "BINDED"},
                    {"allocation_id": "eip-1", "instance_id": "eni-1", "mode": "BINDED"},
                ],
                "detach": ["eni-1"],
                "attach": ["eni-0", "eni-1"],
                "interfaces": [
                    {
                        "mac": "00:16:3e:00:00:00",
                        "mode": "cut_through",
                        "eni_id": "eni-0",
                        "addresses": ["203.0.113.10"],
                        "cidr": "203.0.113.0/24",
                        "gateway": "203.0.113.1",
                    },
                    {
                        "mac": "00:16:3e:00:00:01",
                        "mode": "cut_through",
                        "eni_id": "eni-1",
                        "addresses": ["203.0.113.11"],
                        "cidr": "203.0.113.0/24",
                        "gateway": "203.0.113.1",
                    },
                ],
            },
        ),
        (
            # Before the cloud's gateways are read, no host interface.
            "multi_eip_cut_through",
            [eip(0), eip(1)],
            [nic(0, instance_id="i-1")],
            None,
            {
                "associations": [
                    {"allocation_id": "eip-0", "instance_id": "eni-0", "mode": "MULTI_BINDED"},
                    {"allocation_id": "eip-1", "instance_id": "eni-0", "mode": "MULTI_BINDED"},
                ],
                "detach": [],
                "attach": [],
                "interfaces": [],
            },
        ),
        (
            # With them: the cloud's gateway and mask of each EIP, only the keys eni_routing reads.
            "multi_eip_cut_through",
            [eip(0), eip(1)],
            [nic(0, instance_id="i-1")],
            GATEWAYS,
            {
                "associations": [
                    {"allocation_id": "eip-0", "instance_id": "eni-0", "mode": "MULTI_BINDED"},
                    {"allocation_id": "eip-1", "instance_id": "eni-0", "mode": "MULTI_BINDED"},
                ],
                "detach": [],
                "attach": [],
                "interfaces": [
                    {
                        "mac": "00:16:3e:00:00:00",
                        "mode": "multi_eip",
                        "eni_id": "eni-0",
                        "eips": [
                            {"ip": "203.0.113.10", "gateway": "203.0.113.1", "mask": "255.255.255.0"},
                            {"ip": "203.0.113.11", "gateway": "203.0.113.1", "mask": "255.255.255.0"},
                        ],
                    }
                ],
            },
        ),
    ],
)
def test_the_plan_of_each_mode(mode, eips, enis, gateways, expected):
    plan = multi_eip_plan(plan_settings(mode), eips, enis, gateways)
    assert plan == {
        "known": True,
        "api_mode": MODES[mode].api,
        "host_mode": MODES[mode].host,
        "eni_ids": [eni["id"] for eni in enis],
        **expected,
    }


NOTHING_PLANNED = {"associations": [], "detach": [], "attach": [], "interfaces": []}


@pytest.mark.parametrize(
    ("mode", "eips", "enis"),
    [
        # check mode of a first run: what would be allocated or created has no ID yet
        ("nat_enis", [eip(0), eip(1, allocation_id="")], [nic(0), nic(1)]),
        ("nat_enis", [eip(0), eip(1)], [nic(0), nic(1, id="")]),
        ("cut_through", [eip(0, allocation_id=""), eip(1)], [nic(0), nic(1)]),
        ("cut_through", [eip(0), eip(1)], [nic(0, id=""), nic(1)]),
        ("multi_eip_cut_through", [eip(0), eip(1)], [nic(0, id="")]),
        ("multi_eip_cut_through", [eip(0, allocation_id=""), eip(1)], [nic(0)]),
        ("nat_secondary_ips", [eip(0), eip(1)], [nic(0, id="", secondary_private_ip_addresses=["10.0.0.20"] * 2)]),
        ("nat_secondary_ips", [eip(0), eip(1, allocation_id="")], [nic(0, secondary_private_ip_addresses=["a", "b"])]),
        # a scale-up in check mode: the ENI's new secondary IP is not known yet
        ("nat_secondary_ips", [eip(0), eip(1)], [nic(0, secondary_private_ip_addresses=["10.0.0.20"])]),
        # fewer records than the count
        ("nat_enis", [eip(0)], [nic(0), nic(1)]),
        ("nat_enis", [eip(0), eip(1)], [nic(0)]),
        ("multi_eip_cut_through", [eip(0), eip(1)], []),
        ("cut_through", [], []),
    ],
)
def test_an_unknown_id_or_a_short_count_plans_nothing(mode, eips, enis):
    plan = multi_eip_plan(plan_settings(mode), eips, enis, GATEWAYS)
    assert plan["known"] is False
    assert {key: plan[key] for key in NOTHING_PLANNED} == NOTHING_PLANNED


def test_count_zero_is_known_and_plans_nothing():
    plan = multi_eip_plan(plan_settings("nat_enis", count=0), [], [])
    assert plan["known"] is True
    assert {key: plan[key] for key in NOTHING_PLANNED} == NOTHING_PLANNED


def test_new_eips_take_the_free_secondary_ips_in_text_order():
    # An EIP on an address of another ENI does not hold one of this ENI's; the free addresses go in text order
    # (the order the role's Jinja used, so a re-run pairs them the same way).
    eni = nic(0, secondary_private_ip_addresses=["10.0.0.9", "10.0.0.10", "10.0.0.11"])
    eips = [
        eip(0, instance_id="eni-9", private_ip_address="10.0.0.9"),
        eip(1),
        eip(2, instance_id="eni-0", private_ip_address="10.0.0.9"),
    ]
    plan = multi_eip_plan(plan_settings("nat_secondary_ips", count=3), eips, [eni])
    assert [(row["allocation_id"], row["private_ip_address"]) for row in plan["associations"]] == [
        ("eip-0", "10.0.0.10"),
        ("eip-1", "10.0.0.11"),
        ("eip-2", "10.0.0.9"),
    ]


def test_a_cut_through_eni_that_holds_its_eip_in_another_mode_is_detached():
    eips = [eip(0, instance_id="eni-0", mode="NAT"), eip(1, instance_id="eni-1", mode="BINDED")]
    enis = [nic(0, instance_id="i-1"), nic(1, instance_id="i-1")]
    assert multi_eip_plan(plan_settings("cut_through"), eips, enis)["detach"] == ["eni-0"]
    # detached ENIs need no detach
    assert multi_eip_plan(plan_settings("cut_through"), eips, [nic(0), nic(1)])["detach"] == []


@pytest.mark.parametrize(
    ("address", "networks", "expected"),
    [
        ("203.0.113.10", {}, ("203.0.113.0/24", "203.0.113.1")),
        # an EIP on .1 cannot be its own gateway
        ("203.0.113.1", {}, ("203.0.113.0/24", "203.0.113.254")),
        (
            "203.0.113.10",
            {"203.0.113.10": {"cidr": "203.0.113.0/25", "gateway": "203.0.113.126"}},
            ("203.0.113.0/25", "203.0.113.126"),
        ),
        # each key may be given alone
        ("203.0.113.10", {"203.0.113.10": {"gateway": "203.0.113.253"}}, ("203.0.113.0/24", "203.0.113.253")),
        ("203.0.113.10", {"203.0.113.10": {"cidr": "203.0.112.0/23"}}, ("203.0.112.0/23", "203.0.113.1")),
        # an entry for another EIP does not apply
        ("203.0.113.10", {"203.0.113.11": {"gateway": "203.0.113.253"}}, ("203.0.113.0/24", "203.0.113.1")),
        ("203.0.113.10", None, ("203.0.113.0/24", "203.0.113.1")),
    ],
)
def test_the_network_of_a_cut_through_eip(address, networks, expected):
    assert cut_through_network(address, networks) == expected


def test_the_cut_through_networks_setting_reaches_the_host_interfaces():
    settings_ = plan_settings("cut_through", cut_through_networks={"203.0.113.11": {"gateway": "203.0.113.253"}})
    plan = multi_eip_plan(settings_, [eip(0), eip(1)], [nic(0), nic(1)])
    assert [(row["cidr"], row["gateway"]) for row in plan["interfaces"]] == [
        ("203.0.113.0/24", "203.0.113.1"),
        ("203.0.113.0/24", "203.0.113.253"),
    ]


# ---- scale-down ----------------------------------------------------------------------------------------------
def tagged(record, slot):
    return {**record, "tags": {**ROLE_TAGS, "alicloud-eip-slot": slot}}


@pytest.mark.parametrize(
    ("mode", "count", "enis", "eips", "expected"),
    [
        # nothing above the count
        (
            "nat_enis",
            2,
            [tagged(nic(0), "0"), tagged(nic(1), "1")],
            [tagged(eip(0), "0"), tagged(eip(1), "1")],
            {"detach": [], "release": [], "delete": [], "absent": []},
        ),
        # one ENI per EIP: slot 1 goes, ENI and EIP
        (
            "nat_enis",
            1,
            [tagged(nic(0), "0"), tagged(nic(1, instance_id="i-1"), "1")],
            [tagged(eip(0), "0"), tagged(eip(1), "1")],
            {"detach": [], "release": ["eip-1"], "delete": ["eni-1"], "absent": [{"mac": "00:16:3e:00:00:01"}]},
        ),
        # one ENI for every EIP: it stays while the count is above 0
        (
            "multi_eip_cut_through",
            1,
            [tagged(nic(0, instance_id="i-1"), "0")],
            [tagged(eip(0), "0"), tagged(eip(1), "1"), tagged(eip(2), "2")],
            {"detach": [], "release": ["eip-1", "eip-2"], "delete": [], "absent": []},
        ),
        (
            "nat_secondary_ips",
            0,
            [tagged(nic(0, instance_id="i-1"), "0")],
            [tagged(eip(0), "0")],
            {"detach": [], "release": ["eip-0"], "delete": ["eni-0"], "absent": [{"mac": "00:16:3e:00:00:00"}]},
        ),
        # an attached surplus ENI with a BINDED EIP is detached first (the EIP comes off a detached ENI only);
        # a detached one is not
        (
            "cut_through",
            0,
            [tagged(nic(0, instance_id="i-1"), "0"), tagged(nic(1), "1"), tagged(nic(2, instance_id="i-1"), "2")],
            [
                tagged(eip(0, instance_id="eni-0", mode="BINDED"), "0"),
                tagged(eip(1, instance_id="eni-1", mode="BINDED"), "1"),
                tagged(eip(2, instance_id="eni-2", mode="NAT"), "2"),
            ],
            {
                "detach": ["eni-0"],
                "release": ["eip-1", "eip-2"],
                "release_after_detach": ["eip-0"],
                "delete": ["eni-0", "eni-1", "eni-2"],
                "absent": [{"mac": "00:16:3e:00:00:00"}, {"mac": "00:16:3e:00:00:01"}, {"mac": "00:16:3e:00:00:02"}],
            },
        ),
        # untagged records are not the role's; a slot tag that is not one of the kept slots is surplus
        (
            "nat_enis",
            1,
            [nic(5), tagged(nic(0), "0"), tagged(nic(1), "01")],
            [eip(5), tagged(eip(0), "0"), tagged(eip(1), None)],
            {"detach": [], "release": ["eip-1"], "delete": ["eni-1"], "absent": [{"mac": "00:16:3e:00:00:01"}]},
        ),
    ],
)
def test_the_scale_down(mode, count, enis, eips, expected):
    plan = multi_eip_scale_down(plan_settings(mode, count=count), enis, eips)
    after_detach = [record["allocation_id"] for record in plan["release_after_detach"]]
    assert {
        "detach": [record["id"] for record in plan["detach"]],
        "release": [record["allocation_id"] for record in plan["release"]],
        **({"release_after_detach": after_detach} if after_detach else {}),
        "delete": [record["id"] for record in plan["delete"]],
        "absent": plan["absent"],
    } == expected
    # Every EIP released (by the module or, in check mode, predicted after the detach) is named for the ENI tasks.
    assert sorted(plan["released_ids"]) == sorted(expected["release"] + expected.get("release_after_detach", []))


def test_a_surplus_eni_without_a_mac_is_deleted_but_not_passed_to_the_host():
    eni = {"id": "eni-7", "tags": {**ROLE_TAGS, "alicloud-eip-slot": "7"}}
    plan = multi_eip_scale_down(plan_settings("nat_enis", count=1), [eni], [])
    assert plan["delete"] == [eni]
    assert plan["absent"] == []


@pytest.mark.parametrize("mode", list(MODES))
def test_a_count_given_as_text_is_a_number(mode):
    # `-e multi_eip_count=2` reaches the role as the string "2"; the role's Jinja compared it with an int in the
    # single-ENI modes and failed.  Every filter takes it as the number.
    assert multi_eip_mode({"mode": mode, "count": "2"}) == multi_eip_mode({"mode": mode, "count": 2})
    assert multi_eip_resources(plan_settings(mode, count="2")) == multi_eip_resources(plan_settings(mode, count=2))
    enis = [nic(0), nic(1)] if MODES[mode].eni_per_eip else [nic(0, secondary_private_ip_addresses=["a", "b"])]
    assert multi_eip_plan(plan_settings(mode, count="2"), [eip(0), eip(1)], enis)["known"] is True
    assert multi_eip_scale_down(plan_settings(mode, count="1"), [tagged(nic(1), "1")], [])["delete"] != []
