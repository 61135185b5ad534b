# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The janitor's plan (playbook alicloud.eip.cleanup): scope, age, dependency order, what stays and why."""

from __future__ import annotations

import pytest
from ansible_collections.alicloud.eip.plugins.filter.cleanup import (
    FilterModule,
    cleanup_plan,
    parse_duration,
    parse_time,
)

NOW = 1_800_000_000.0  # 2027-01-15T08:00:00Z
RUN = {"ansible-test": "ci-42"}
SCOPE = {"tags": RUN, "now": NOW}


def iso(seconds_ago):
    """The API's time text of ``seconds_ago`` before NOW."""
    import datetime

    moment = datetime.datetime.fromtimestamp(NOW - seconds_ago, tz=datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def eip(number, tags=None, instance_id="", instance_type="", age=7200):
    """An EIP as eip_info returns it."""
    return {
        "allocation_id": f"eip-{number}",
        "ip_address": f"198.51.100.{number}",
        "tags": dict(RUN) if tags is None else tags,
        "instance_id": instance_id,
        "instance_type": instance_type,
        "allocation_time": iso(age),
    }


def eni(name, tags=None, instance_id="", eips=(), kind="Secondary", status="Available", age=7200):
    """An ENI as eni_info returns it."""
    return {
        "id": f"eni-{name}",
        "tags": dict(RUN) if tags is None else tags,
        "instance_id": instance_id,
        "type": kind,
        "status": "InUse" if instance_id else status,
        "creation_time": iso(age),
        "associated_public_ips": [{"allocation_id": allocation_id} for allocation_id in eips],
    }


def gateway(entries=(), bound=()):
    """A NAT gateway as nat_gateway_info returns it with snat_entries=true."""
    return {"id": "ngw-1", "eips": list(bound), "snat_entries": list(entries)}


def snat(entry_id, *numbers, vswitch="vsw-1", cidr="10.1.0.0/24"):
    """An SNAT entry of ngw-1 using the EIPs ``numbers``."""
    return {
        "id": entry_id,
        "nat_gateway_id": "ngw-1",
        "snat_table_id": "stb-1",
        "source_vswitch_id": vswitch,
        "source_cidr": cidr,
        "snat_ips": [f"198.51.100.{number}" for number in numbers],
    }


def skipped(plan):
    """resource -> reason of everything the plan leaves alone."""
    return {item["resource"]: item["reason"] for item in plan["skipped"]}


@pytest.mark.parametrize(
    ("value", "seconds"),
    [(0, 0), (90, 90), ("90", 90), ("90s", 90), ("20m", 1200), ("2h", 7200), ("1d", 86400), (" 3 m ", 180)],
)
def test_durations(value, seconds):
    assert parse_duration(value) == seconds


@pytest.mark.parametrize("value", [-1, "1w", "m", "", "1.5h", True, None])
def test_bad_durations(value):
    assert parse_duration(value) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2027-01-15T08:00:00Z", NOW),
        ("2027-01-15T08:00Z", NOW),
        ("1800000000", NOW),
        ("", None),
        ("yesterday", None),
    ],
)
def test_times(text, expected):
    assert parse_time(text) == expected


@pytest.mark.parametrize(
    ("settings", "fragment"),
    [
        ({}, "no scope given"),
        ({"tags": {}}, "no scope given"),
        ({"tag_prefix": "   "}, "no scope given"),
        ({"tags": ["ansible-test"]}, "cleanup_tags must be a mapping"),
        ({"tags": {"ansible-test": None}}, "cleanup_tags['ansible-test'] must be a text value"),
        ({"tag_prefix": "ci-", "tag_key": ""}, "cleanup_tag_key is empty"),
        ({"tags": RUN, "older_than": "soon"}, "cleanup_older_than='soon' is not a duration"),
        ({"tags": RUN, "max_resources": 0}, "cleanup_max_resources=0 must be a positive integer"),
    ],
)
def test_refused_before_anything_is_planned(settings, fragment):
    plan = cleanup_plan([eip(1)], [eni("a")], [], settings | {"now": NOW})
    assert any(fragment in error for error in plan["errors"]), plan["errors"]
    assert plan["eips"] == plan["enis"] == plan["actions"] == []


def test_only_the_tagged_ones_in_dependency_order():
    eips = [
        eip(1, instance_id="ngw-1", instance_type="Nat"),
        eip(2, instance_id="eni-a", instance_type="NetworkInterface"),
        eip(3, instance_id="havip-1", instance_type="HaVip"),
        eip(4),
        eip(5, tags={}),  # untagged look-alike
        eip(6, tags={"ansible-test": "ci-43"}),  # another run
        eip(7, tags={"ansible-test": "ci-42", "keep": "x"}),  # extra tags do not matter
    ]
    enis = [eni("a", instance_id="i-1", eips=["eip-2"]), eni("b"), eni("c", tags={})]
    plan = cleanup_plan(eips, enis, [gateway([snat("snat-1", 1)])], SCOPE)
    assert plan["errors"] == []
    assert [entry["id"] for entry in plan["snat_entries"]] == ["snat-1"]
    assert plan["snat_entries"][0] | {"snat_ips": None} == {
        "id": "snat-1",
        "nat_gateway_id": "ngw-1",
        "snat_table_id": "stb-1",
        "source_vswitch_id": "vsw-1",
        "snat_ips": None,
    }
    assert plan["eip_associations"] == [
        {"allocation_id": "eip-1", "instance_id": "ngw-1", "instance_type": "Nat"},
        {"allocation_id": "eip-2", "instance_id": "eni-a", "instance_type": "NetworkInterface"},
        {"allocation_id": "eip-3", "instance_id": "havip-1", "instance_type": "HaVip"},
    ]
    assert plan["enis"] == [{"id": "eni-a", "instance_id": "i-1"}, {"id": "eni-b", "instance_id": ""}]
    assert [item["allocation_id"] for item in plan["eips"]] == ["eip-1", "eip-2", "eip-3", "eip-4", "eip-7"]
    assert plan["count"] == 1 + 2 + 5
    kinds = [action.split(" ")[0] for action in plan["actions"]]
    assert kinds == ["delete"] + ["disassociate"] * 3 + ["detach", "delete"] + ["release"] * 5
    assert plan["skipped"] == []


def test_a_prefix_scope_on_the_tag_key():
    eips = [
        eip(1, tags={"ansible-test": "ci-42"}),
        eip(2, tags={"ansible-test": "ci-43"}),
        eip(3, tags={"ansible-test": "prod-ci-1"}),
        eip(4, tags={"other": "ci-1"}),
    ]
    plan = cleanup_plan(eips, [], [], {"tag_key": "ansible-test", "tag_prefix": "ci-", "now": NOW})
    assert [item["allocation_id"] for item in plan["eips"]] == ["eip-1", "eip-2"]
    both = cleanup_plan(
        eips, [], [], {"tags": {"ansible-test": "ci-43"}, "tag_prefix": "ci-", "tag_key": "ansible-test", "now": NOW}
    )
    assert [item["allocation_id"] for item in both["eips"]] == ["eip-2"]


def test_age_counts_from_the_newest_known_time():
    eips = [
        eip(1, age=3600),
        eip(2, age=60),
        eip(3, tags=RUN | {"created": str(int(NOW - 60))}, age=3600),  # old by the cloud, new by its tag: stays
        eip(4, tags=RUN | {"created": str(int(NOW - 3600))}, age=60),  # new by the cloud: stays
    ]
    enis = [eni("old", age=3600), eni("new", age=30)]
    plan = cleanup_plan(eips, enis, [], SCOPE | {"older_than": "20m"})
    assert [item["allocation_id"] for item in plan["eips"]] == ["eip-1"]
    assert [item["id"] for item in plan["enis"]] == ["eni-old"]
    reasons = skipped(plan)
    assert set(reasons) == {"eip-2", "eip-3", "eip-4", "eni-new"}
    assert "younger than cleanup_older_than=1200s" in reasons["eip-3"]


def test_unknown_age_stays_with_an_age_limit_and_goes_without():
    unknown = eip(1) | {"allocation_time": ""}
    with_limit = cleanup_plan([unknown], [], [], SCOPE | {"older_than": 60})
    assert with_limit["eips"] == [] and "age unknown" in skipped(with_limit)["eip-1"]
    without = cleanup_plan([unknown], [], [], SCOPE)
    assert [item["allocation_id"] for item in without["eips"]] == ["eip-1"]


def test_an_snat_entry_that_also_uses_an_untagged_eip_stays_with_its_tagged_eips():
    eips = [
        eip(1, instance_id="ngw-1", instance_type="Nat"),
        eip(2, tags={}, instance_id="ngw-1", instance_type="Nat"),
        eip(3, instance_id="ngw-1", instance_type="Nat"),
    ]
    # snat-1 mixes ours (1) with an untagged one (2); snat-2 uses 1 and 3 (all ours), but 1 must stay for snat-1.
    plan = cleanup_plan(
        eips, [], [gateway([snat("snat-1", 1, 2), snat("snat-2", 1, 3, vswitch="", cidr="10.9.0.0/24")])], SCOPE
    )
    # eip-3 stays too: taking it off the gateway would change snat-2, which stays because of eip-1.
    assert plan["snat_entries"] == [] and plan["eips"] == [] and plan["eip_associations"] == []
    reasons = skipped(plan)
    assert reasons["snat-1"] == "SNAT entry snat-1 also uses 198.51.100.2, outside the scope"
    assert reasons["eip-1"] == reasons["snat-1"]
    assert reasons["snat-2"] == "SNAT entry snat-2 also uses 198.51.100.1, which stays"
    assert reasons["eip-3"] == reasons["snat-2"]
    assert "eip-2" not in reasons  # untagged: not even mentioned


def test_an_snat_entry_by_cidr_is_named_by_its_cidr():
    plan = cleanup_plan(
        [eip(1, instance_id="ngw-1", instance_type="Nat")],
        [],
        [gateway([snat("snat-9", 1, vswitch="", cidr="10.9.0.0/24")])],
        SCOPE,
    )
    assert plan["snat_entries"] == [
        {
            "id": "snat-9",
            "nat_gateway_id": "ngw-1",
            "snat_table_id": "stb-1",
            "source_cidr": "10.9.0.0/24",
            "snat_ips": ["198.51.100.1"],
        }
    ]


def test_an_snat_entry_with_an_eni_source_stays():
    entry = snat("snat-e", 1, vswitch="", cidr="") | {"network_interface_id": "eni-x"}
    plan = cleanup_plan([eip(1, instance_id="ngw-1", instance_type="Nat")], [], [gateway([entry])], SCOPE)
    assert plan["eips"] == [] and plan["snat_entries"] == []
    assert "has an ENI as its source" in skipped(plan)["snat-e"]


def test_an_eip_used_by_dnat_entries_stays():
    bound = [{"ip_address": "198.51.100.1", "using_status": "UsedByForwardTable"}]
    plan = cleanup_plan([eip(1, instance_id="ngw-1", instance_type="Nat")], [], [gateway(bound=bound)], SCOPE)
    assert plan["eips"] == [] and plan["eip_associations"] == []
    assert skipped(plan)["eip-1"] == "used by DNAT entries of ngw-1"


def test_an_eni_holding_an_eip_that_stays_stays():
    eips = [eip(1, tags={}, instance_id="eni-a", instance_type="NetworkInterface"), eip(2, age=10)]
    enis = [
        eni("a", instance_id="i-1", eips=["eip-1"]),
        eni("b", eips=["eip-2"]),
        eni("p", kind="Primary", instance_id="i-1"),
    ]
    plan = cleanup_plan(eips, enis, [], SCOPE | {"older_than": 60})
    assert plan["enis"] == [] and plan["eip_associations"] == []
    reasons = skipped(plan)
    assert reasons["eni-a"] == "holds eip-1, which stays"
    assert reasons["eni-b"] == "holds eip-2, which stays"
    assert reasons["eni-p"] == "primary ENI of i-1: it goes only with the instance"


def test_an_untagged_eip_on_a_tagged_eni_is_never_disassociated():
    eips = [eip(1, tags={}, instance_id="eni-a", instance_type="NetworkInterface")]
    plan = cleanup_plan(eips, [eni("a", instance_id="i-1", eips=["eip-1"])], [], SCOPE)
    assert plan["actions"] == []


def test_the_resource_cap_refuses_the_plan():
    eips = [eip(number) for number in range(1, 8)]
    plan = cleanup_plan(eips, [], [], SCOPE | {"max_resources": 6})
    assert plan["count"] == 7
    assert plan["errors"] == [
        (
            "the scope selects 7 resources to delete, more than cleanup_max_resources=6: narrow cleanup_tags / "
            "cleanup_tag_prefix / cleanup_older_than, or raise cleanup_max_resources."
        )
    ]
    assert cleanup_plan(eips, [], [], SCOPE | {"max_resources": "7"})["errors"] == []


def test_nothing_in_scope_is_an_empty_plan():
    plan = cleanup_plan([eip(1, tags={})], [eni("a", tags={})], [gateway([snat("s", 1)])], SCOPE)
    assert plan["count"] == 0 and plan["actions"] == [] and plan["skipped"] == [] and plan["errors"] == []


def test_filter_is_registered():
    assert FilterModule().filters() == {"cleanup_plan": cleanup_plan}
