# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The plan of the nat_egress role: pre-checks, scale-up, scale-down order inputs, force and release rules."""

from __future__ import annotations

import pytest
from ansible_collections.alicloud.eip.plugins.filter.nat_egress import (
    FilterModule,
    instance_addresses,
    nat_egress_plan,
    nat_egress_resolve,
    nat_egress_source_vswitches,
)
from ansible_collections.alicloud.eip.plugins.module_utils._api.vpc_network import NAT_GATEWAY_EIP_LIMIT

GW = "ngw-1"


def eip(number, name="", tags=None, instance_id=""):
    """An EIP as eip_info returns it."""
    return {
        "allocation_id": f"eip-{number}",
        "ip_address": f"198.51.100.{number}",
        "name": name,
        "tags": tags or {},
        "instance_id": instance_id,
    }


def ours(number, index, on_gateway=True):
    """An EIP the role allocated for GW (name nat-egress-ngw-1-<index>, the role's tag)."""
    return eip(number, f"nat-egress-{GW}-{index}", {"nat-egress-gateway": GW}, GW if on_gateway else "")


def gateway(eips=(), entries=(), free=100, consumes=True, using=None):
    """A nat_gateway_info item holding ``eips``."""
    return {
        "id": GW,
        "vpc_id": "vpc-1",
        "vswitch_id": "vsw-nat",
        "eips": [
            {
                "allocation_id": e["allocation_id"],
                "ip_address": e["ip_address"],
                "using_status": (using or {}).get(e["allocation_id"], "Idle"),
            }
            for e in eips
        ],
        "eip_limit": 20,
        "consumes_vswitch_ip": consumes,
        "vswitch_free_ips": free,
        "snat_entries": list(entries),
    }


def entry(source, ips, entry_id="snat-x"):
    """An SNAT entry as nat_gateway_info returns it (a CIDR or a vSwitch source)."""
    key = "source_vswitch_id" if source.startswith("vsw-") else "source_cidr"
    return {"id": entry_id, key: source, "snat_ips": ips}


def test_first_run_allocates_and_associates_everything():
    given = eip(70, "fixed")
    plan = nat_egress_plan(
        gateway(),
        [given],
        {
            "eips": [{"allocation_id": "eip-70"}],
            "eip_count": 2,
            "snat_entries": [{"source_vswitch_id": "vsw-app"}, {"instance_id": "i-1", "eips": ["198.51.100.70"]}],
        },
        [{"id": "eni-1", "instance_id": "i-1", "type": "Primary", "primary_ip_address": "10.0.1.11"}],
    )
    assert plan["errors"] == []
    assert plan["allocate"] == [f"nat-egress-{GW}-1", f"nat-egress-{GW}-2"]
    assert plan["to_allocate"] == plan["allocate"]
    assert plan["associate"] == ["eip-70"]
    assert plan["disassociate"] == [] and plan["release"] == [] and plan["force"] is False
    vswitch_entry, instance_entry = plan["snat_entries"]
    assert vswitch_entry["refs"] == sorted(["eip-70", f"nat-egress-{GW}-1", f"nat-egress-{GW}-2"])
    assert instance_entry["source_cidr"] == "10.0.1.11/32" and instance_entry["refs"] == ["eip-70"]
    assert plan["final_count"] == 3


def test_instance_addresses_come_from_the_primary_enis_of_one_listing():
    """The role's one eni_info task lists the primary ENIs of every instance: each instance's primary address."""
    listed = [
        {"id": "eni-1", "instance_id": "i-1", "type": "Primary", "primary_ip_address": "10.0.1.11"},
        {"id": "eni-1b", "instance_id": "i-1", "type": "Secondary", "primary_ip_address": "10.0.1.99"},
        {"id": "eni-2", "instance_id": "i-2", "type": "Primary", "primary_ip_address": "10.0.1.12"},
        {"id": "eni-free", "instance_id": "", "type": "Secondary", "primary_ip_address": "10.0.1.50"},
    ]
    assert instance_addresses(listed) == {"i-1": "10.0.1.11", "i-2": "10.0.1.12"}
    assert instance_addresses({"i-3": "10.0.1.13"}) == {"i-3": "10.0.1.13"}
    assert instance_addresses(None) == {}


def test_second_run_plans_no_change():
    held = [ours(81, 1), ours(82, 2)]
    plan = nat_egress_plan(gateway(held), held, {"eip_count": 2})
    assert plan["errors"] == []
    assert (plan["to_allocate"], plan["associate"], plan["disassociate"], plan["release"]) == ([], [], [], [])


def test_scale_down_takes_off_and_releases_only_the_surplus_the_role_allocated():
    held = [ours(81, 1), ours(82, 2), ours(83, 3), eip(70, "fixed", instance_id=GW)]
    plan = nat_egress_plan(
        gateway(held, entries=[entry("vsw-app", ["198.51.100.81", "198.51.100.82", "198.51.100.83"])]),
        held,
        {
            "eips": [{"allocation_id": "eip-70"}],
            "eip_count": 1,
            "snat_entries": [{"source_vswitch_id": "vsw-app", "eips": [f"nat-egress-{GW}-1"]}],
        },
    )
    assert plan["errors"] == []
    assert [e["allocation_id"] for e in plan["disassociate"]] == ["eip-82", "eip-83"]
    assert plan["release"] == ["eip-82", "eip-83"]
    # The role rewrites the only entry that used them, so no force is needed.
    assert plan["force"] is False
    assert plan["snat_entries"][0]["refs"] == ["eip-81"]


def test_release_false_keeps_the_surplus():
    held = [ours(81, 1), ours(82, 2)]
    plan = nat_egress_plan(gateway(held), held, {"eip_count": 1, "release": False})
    assert [e["allocation_id"] for e in plan["disassociate"]] == ["eip-82"]
    assert plan["release"] == []


def test_given_absent_is_taken_off_but_never_released():
    fixed = eip(70, "fixed", instance_id=GW)
    plan = nat_egress_plan(gateway([fixed]), [fixed], {"eips": [{"allocation_id": "eip-70", "state": "absent"}]})
    assert [e["allocation_id"] for e in plan["disassociate"]] == ["eip-70"]
    assert plan["release"] == []


def test_eips_of_another_gateway_or_without_the_tag_are_not_ours():
    other = eip(90, f"nat-egress-{GW}-2", {"nat-egress-gateway": "ngw-other"})
    untagged = eip(91, f"nat-egress-{GW}-3")
    plan = nat_egress_plan(gateway(), [other, untagged], {"eip_count": 1})
    assert plan["release"] == [] and plan["disassociate"] == []
    assert plan["to_allocate"] == [f"nat-egress-{GW}-1"]


def test_purge_takes_every_other_eip_off():
    stranger = eip(60, "stranger", instance_id=GW)
    plan = nat_egress_plan(gateway([stranger]), [stranger], {"purge_eips": True})
    assert [e["allocation_id"] for e in plan["disassociate"]] == ["eip-60"]
    assert plan["release"] == []


@pytest.mark.parametrize(
    "held, count, free, consumes, expected",
    [
        (19, 2, 100, True, ["would hold 21 EIPs, more than its limit of 20", "nat_egress_eip_count"]),
        (0, 3, 2, True, ["vsw-nat", "3 more EIPs need 3 free addresses and the vSwitch has 2", "nat_egress_eip_count"]),
        (0, 3, 2, False, []),
        (18, 2, 2, True, []),
    ],
)
def test_pre_checks(held, count, free, consumes, expected):
    on_gateway = [eip(100 + number, f"other-{number}", instance_id=GW) for number in range(held)]
    plan = nat_egress_plan(gateway(on_gateway, free=free, consumes=consumes), on_gateway, {"eip_count": count})
    message = " | ".join(plan["errors"])
    assert all(part in message for part in expected), message
    assert bool(plan["errors"]) == bool(expected)


def test_a_gateway_record_without_its_limit_gets_the_collections_one():
    """The limit the role checks without nat_gateway_info's eip_limit is the one NAT_GATEWAY_EIP_LIMIT."""
    held = NAT_GATEWAY_EIP_LIMIT - 1
    on_gateway = [eip(100 + number, f"other-{number}", instance_id=GW) for number in range(held)]
    record = {key: value for key, value in gateway(on_gateway).items() if key != "eip_limit"}
    over = nat_egress_plan(record, on_gateway, {"eip_count": 2})
    assert f"would hold {held + 2} EIPs, more than its limit of {NAT_GATEWAY_EIP_LIMIT}" in " | ".join(over["errors"])
    assert nat_egress_plan(record, on_gateway, {"eip_count": 1})["errors"] == []


@pytest.mark.parametrize(
    "allow_force, entries, using, refused",
    [
        (False, [entry("10.9.0.0/24", ["198.51.100.70"])], None, True),
        (True, [entry("10.9.0.0/24", ["198.51.100.70"])], None, False),
        (False, [], {"eip-70": "UsedByForwardTable"}, True),
        (False, [entry("vsw-app", ["198.51.100.70"])], None, False),  # the role manages vsw-app and rewrites it
    ],
)
def test_force_only_with_consent(allow_force, entries, using, refused):
    fixed = eip(70, "fixed", instance_id=GW)
    keep = ours(81, 1)
    plan = nat_egress_plan(
        gateway([fixed, keep], entries=entries, using=using),
        [fixed, keep],
        {
            "eips": [{"allocation_id": "eip-70", "state": "absent"}],
            "eip_count": 1,
            "allow_force": allow_force,
            "snat_entries": [{"source_vswitch_id": "vsw-app", "eips": [f"nat-egress-{GW}-1"]}],
        },
    )
    message = " | ".join(plan["errors"])
    assert ("nat_egress_allow_force" in message) == refused, message
    assert plan["force"] == (allow_force and bool(entries or using))


@pytest.mark.parametrize(
    "settings, expected",
    [
        ({"eips": [{"allocation_id": "eip-404"}]}, "no EIP eip-404"),
        (
            {"eips": [{"allocation_id": "eip-70", "ip_address": "198.51.100.70"}]},
            "exactly one of allocation_id and ip_address",
        ),
        ({"eips": [{"ip_address": "198.51.100.71"}]}, "is associated with i-web"),
        (
            {"snat_entries": [{"source_cidr": "10.0.0.0/8", "source_vswitch_id": "vsw-a"}]},
            "exactly one of source_vswitch_id",
        ),
        ({"snat_entries": [{"source_cidr": "10.0.0.300/24"}]}, "is not an IPv4 CIDR block"),
        ({"snat_entries": [{"instance_id": "i-gone"}], "eip_count": 1}, "ECS instance i-gone was not found"),
        (
            {"snat_entries": [{"source_cidr": "10.0.0.0/8", "eips": ["198.51.100.99"]}], "eip_count": 1},
            "198.51.100.99 is not among",
        ),
        (
            {"snat_entries": [{"source_cidr": "10.0.0.0/8"}, {"source_cidr": "10.0.0.0/8"}], "eip_count": 1},
            "a second entry",
        ),
        ({"snat_entries": [{"source_cidr": "10.0.0.0/8"}]}, "no EIP to translate to"),
        ({"eip_count": -1}, "must be 0 or more"),
    ],
)
def test_bad_input_is_refused(settings, expected):
    account = [eip(70, "fixed"), eip(71, "web", instance_id="i-web")]
    plan = nat_egress_plan(gateway(), account, settings, {})
    assert any(expected in error for error in plan["errors"]), plan["errors"]


def test_resolve_maps_names_to_addresses_and_skips_unallocated_in_check_mode():
    fixed = eip(70, "fixed", instance_id=GW)
    plan = nat_egress_plan(
        gateway([fixed]),
        [fixed],
        {
            "eips": [{"allocation_id": "eip-70"}],
            "eip_count": 2,
            "snat_entries": [
                {"source_vswitch_id": "vsw-app", "eips": [f"nat-egress-{GW}-1", f"nat-egress-{GW}-2"]},
                {"source_cidr": "10.0.2.0/24", "state": "absent"},
            ],
        },
    )
    allocated = [
        {"name": f"nat-egress-{GW}-1", "allocation_id": "eip-85", "ip_address": "198.51.100.85"},
        {"name": f"nat-egress-{GW}-2", "allocation_id": "eip-9", "ip_address": "198.51.100.9"},
    ]
    final = nat_egress_resolve(plan, allocated)
    assert final["ips"] == ["198.51.100.9", "198.51.100.70", "198.51.100.85"]
    assert final["associations"] == [
        {"instance_id": GW, "instance_type": "Nat", "allocation_id": "eip-9"},
        {"instance_id": GW, "instance_type": "Nat", "allocation_id": "eip-85"},
    ]
    assert final["snat_entries"][0]["snat_ips"] == ["198.51.100.9", "198.51.100.85"]
    assert final["snat_entries"][1] == dict(plan["snat_entries"][1], snat_ips=[])
    # Check mode: the allocations are only predicted (no ID, no address); their entry is left out.
    predicted = nat_egress_resolve(plan, [{"name": f"nat-egress-{GW}-1"}, {"name": f"nat-egress-{GW}-2"}])
    assert predicted["ips"] == ["198.51.100.70"] and predicted["associations"] == []
    assert [item["state"] for item in predicted["snat_entries"]] == ["absent"]


def test_filters_are_registered():
    assert FilterModule().filters() == {
        "nat_egress_plan": nat_egress_plan,
        "nat_egress_resolve": nat_egress_resolve,
        "nat_egress_source_vswitches": nat_egress_source_vswitches,
    }


def vsw(vswitch_id, vpc="vpc-1", havips=()):
    """A network_info vSwitch (havips: true)."""
    return {"id": vswitch_id, "vpc_id": vpc, "havip_ids": list(havips)}


@pytest.mark.parametrize(
    "vswitches,expected",
    [
        (
            [vsw("vsw-app", havips=["havip-1"])],
            (
                "nat_egress_snat_entries[0] (app): vSwitch vsw-app holds HaVip havip-1, and the API refuses an SNAT entry "
                "whose source vSwitch holds a HaVip (Forbidden.SourceVSwitchId.IncludeHaVip); give the hosts' addresses as "
                "source_cidr or instance_id instead, or delete the HaVip"
            ),
        ),
        (
            [],
            (
                "nat_egress_snat_entries[0] (app): there is no vSwitch vsw-app in this region (InvalidVSwitchId.NotFound); "
                "give a vSwitch of the NAT gateway's VPC vpc-1, or source_cidr"
            ),
        ),
        (
            [vsw("vsw-app", vpc="vpc-2")],
            (
                "nat_egress_snat_entries[0] (app): vSwitch vsw-app is in VPC vpc-2, not in the NAT gateway's VPC vpc-1 "
                "(InvalidVSwitchId.NotFound); give a vSwitch of VPC vpc-1"
            ),
        ),
    ],
)
def test_a_new_vswitch_entry_the_api_would_refuse_stops_the_run_before_any_allocation(vswitches, expected):
    settings = {"eip_count": 2, "snat_entries": [{"source_vswitch_id": "vsw-app", "name": "app"}]}
    plan = nat_egress_plan(gateway(), [], settings, None, vswitches)
    assert plan["errors"] == [expected]
    assert plan["snat_entries"] == []


def test_source_vswitch_checks_apply_only_to_entries_still_to_be_created():
    held = [ours(81, 1)]
    existing = entry("vsw-app", ["198.51.100.81"], "snat-app")
    settings = {
        "eip_count": 1,
        "snat_entries": [{"source_vswitch_id": "vsw-app"}, {"source_vswitch_id": "vsw-db", "state": "absent"}],
    }
    plan = nat_egress_plan(gateway(held, [existing]), held, settings, None, [vsw("vsw-app", havips=["havip-1"])])
    assert plan["errors"] == []
    assert [(item["source_vswitch_id"], item["state"]) for item in plan["snat_entries"]] == [
        ("vsw-app", "present"),
        ("vsw-db", "absent"),
    ]


def test_without_the_lookup_the_plan_leaves_source_vswitches_to_the_api():
    plan = nat_egress_plan(gateway(), [], {"eip_count": 1, "snat_entries": [{"source_vswitch_id": "vsw-app"}]})
    assert plan["errors"] == [] and plan["snat_entries"][0]["source_vswitch_id"] == "vsw-app"


def test_clean_source_vswitch_passes():
    settings = {"eip_count": 1, "snat_entries": [{"source_vswitch_id": "vsw-app"}]}
    assert nat_egress_plan(gateway(), [], settings, None, [vsw("vsw-app")])["errors"] == []


def test_source_vswitches_to_look_up():
    entries = [
        {"source_vswitch_id": "vsw-a"},
        {"source_vswitch_id": "vsw-b", "state": "absent"},
        {"source_cidr": "10.0.0.0/24"},
        {"source_vswitch_id": "vsw-c", "state": "present"},
        {"source_vswitch_id": "vsw-a"},
    ]
    assert nat_egress_source_vswitches(entries) == ["vsw-a", "vsw-c"]
    assert nat_egress_source_vswitches(None) == []


def test_purge_snat_entries_deletes_unnamed_sources_and_lifts_the_force_need():
    fixed = eip(70, "fixed", instance_id=GW)
    keep = ours(81, 1)
    found = [
        entry("10.9.0.0/24", ["198.51.100.70"], "snat-cidr"),
        entry("vsw-old", ["198.51.100.81"], "snat-vsw"),
        entry("vsw-app", ["198.51.100.81"], "snat-app"),
    ]
    settings = {
        "eips": [{"allocation_id": "eip-70", "state": "absent"}],
        "eip_count": 1,
        "snat_entries": [{"source_vswitch_id": "vsw-app", "eips": [f"nat-egress-{GW}-1"]}],
    }
    without = nat_egress_plan(gateway([fixed, keep], entries=found), [fixed, keep], settings)
    assert any("nat_egress_allow_force" in error for error in without["errors"])
    assert [item["state"] for item in without["snat_entries"]] == ["present"]

    plan = nat_egress_plan(
        gateway([fixed, keep], entries=found), [fixed, keep], dict(settings, purge_snat_entries=True)
    )
    assert plan["errors"] == [] and plan["force"] is False
    assert [(item["source_vswitch_id"], item["source_cidr"], item["state"]) for item in plan["snat_entries"]] == [
        ("vsw-app", None, "present"),
        (None, "10.9.0.0/24", "absent"),
        ("vsw-old", None, "absent"),
    ]


ALLOCATION = {
    "eip_count": 2,
    "eip_bandwidth": 5,
    "eip_internet_charge_type": "PayByTraffic",
    "eip_tags": {"team": "net"},
    "wait_timeout": 300,
}


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({}, []),
        ({"eip_bandwidth": 0}, ["nat_egress_eip_bandwidth: 0 Mbit/s given; the bandwidth must be at least 1 Mbit/s"]),
        (
            {"eip_bandwidth": 201},
            [
                "nat_egress_eip_bandwidth: 201 Mbit/s given; the pay-as-you-go PayByTraffic billing of the new EIPs "
                "allows 1 to 200 Mbit/s; give at most that (or allocate the EIP with "
                "nat_egress_eip_internet_charge_type=PayByBandwidth, up to 500 Mbit/s)"
            ],
        ),
        ({"eip_bandwidth": 500, "eip_internet_charge_type": "PayByBandwidth"}, []),
        ({"wait_timeout": 0}, ["nat_egress_wait_timeout: 0 given; it must be a positive number of seconds"]),
        (
            {"eip_tags": {"aliyun-x": "1"}},
            [
                "nat_egress_eip_tags: the key 'aliyun-x' is reserved by Alibaba Cloud (acs: and aliyun prefixes); rename it"
            ],
        ),
        (
            {"eip_tags": {f"t{index}": "x" for index in range(20)}},
            [
                "nat_egress_eip_tags: 21 tags given; a resource takes at most 20; drop some (20 given, and the role adds "
                "nat-egress-gateway)"
            ],
        ),
    ],
)
def test_a_setting_eip_address_would_refuse_stops_the_run_before_the_first_allocation(overrides, expected):
    plan = nat_egress_plan(gateway(), [], {**ALLOCATION, **overrides})
    assert plan["errors"] == expected


def test_a_prefix_too_long_for_the_last_name_is_refused():
    # 126 + "-1" = 128 passes, 126 + "-10" = 129 does not: the 10th allocation would fail after nine succeeded.
    assert nat_egress_plan(gateway(), [], {**ALLOCATION, "eip_name_prefix": "p" * 126, "eip_count": 9})["errors"] == []
    errors = nat_egress_plan(gateway(), [], {**ALLOCATION, "eip_name_prefix": "p" * 126, "eip_count": 10})["errors"]
    assert len(errors) == 1
    assert errors[0].startswith("nat_egress_eip_name_prefix: the EIP name 'ppp")
    assert "(name: 129 characters given; it must be 1 to 128 characters; shorten it)" in errors[0]


def test_eip_settings_do_not_matter_when_nothing_is_allocated():
    held = [ours(1, 1), ours(2, 2)]
    plan = nat_egress_plan(gateway(held), held, {**ALLOCATION, "eip_bandwidth": 0, "eip_tags": {"acs:x": "1"}})
    assert plan["errors"] == []
    assert plan["to_allocate"] == []
