# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The pre-flight check of the multi_eip role: every dependency looked up, refused with the variable and the fix."""

from __future__ import annotations

import pytest
from ansible_collections.alicloud.eip.plugins.filter.multi_eip import (
    FilterModule,
    addresses_needed,
    multi_eip_preflight,
    multi_eip_security_groups,
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
    assert set(FilterModule().filters()) == {"multi_eip_preflight", "multi_eip_security_groups"}


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
    assert [error.split(" name ")[0] for error in errors] == ["multi_eip_name_prefix: the EIP", "multi_eip_name_prefix: the ENI"]


def test_eip_settings_do_not_matter_at_count_zero():
    assert multi_eip_preflight(lookups(), eip_settings(count=0, bandwidth=0, wait_timeout=0)) == []
