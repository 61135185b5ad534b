"""SNAT entry decisions (plugins/module_utils/_snat.py): validation, plan, waiting, apply; no network, fake clock."""

from __future__ import annotations

import pytest
from ansible_collections.alicloud.eip.plugins.module_utils._snat import (
    ApplyFunctions,
    DesiredEntry,
    InputError,
    PlanError,
    apply_plan,
    choose_table,
    find_entry,
    plan_entry,
    settle_entries,
    validate_request,
    wait_for_entries,
)
from ansible_collections.alicloud.eip.plugins.module_utils._polling import WaitError, WaitPolicy

GATEWAY = {
    "id": "ngw-1",
    "snat_table_ids": ["stb-1", "stb-2"],
    "eips": [
        {"allocation_id": "eip-1", "ip_address": "47.0.0.1", "using_status": "Idle"},
        {"allocation_id": "eip-2", "ip_address": "47.0.0.2", "using_status": "UsedBySnatTable"},
        {"allocation_id": "eip-3", "ip_address": "47.0.0.3", "using_status": "Idle"},
    ],
}


def entry(entry_id="snat-1", vswitch="", cidr="", ips=("47.0.0.2",), name="", status="Available", eni=""):
    return {
        "id": entry_id,
        "snat_table_id": "stb-1",
        "nat_gateway_id": "ngw-1",
        "source_vswitch_id": vswitch,
        "source_cidr": cidr,
        "network_interface_id": eni,
        "snat_ips": list(ips),
        "name": name,
        "eip_affinity": False,
        "status": status,
    }


def desired(**overrides):
    params = {"nat_gateway_id": "ngw-1", "state": "present", "snat_ips": ["47.0.0.1"]}
    params.update(overrides)
    return validate_request(params)


# ---- validate_request -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params,field,value",
    [
        ({"source_vswitch_id": "vsw-1"}, "source_vswitch_id", "vsw-1"),
        ({"source_cidr": "10.1.0.0/24"}, "source_cidr", "10.1.0.0/24"),
        ({"source_cidr": " 10.1.0.5 "}, "source_cidr", "10.1.0.5/32"),
        ({"source_cidr": "10.1.0.5/32"}, "source_cidr", "10.1.0.5/32"),
        (
            {"source_vswitch_id": "vsw-1", "snat_ips": ["47.0.0.2", "47.0.0.1", "47.0.0.2"]},
            "snat_ips",
            ("47.0.0.2", "47.0.0.1"),
        ),
        ({"source_vswitch_id": "vsw-1", "snat_table_id": "stb-2"}, "snat_table_id", "stb-2"),
        ({"source_vswitch_id": "vsw-1", "snat_table_id": ""}, "snat_table_id", None),
        ({"source_vswitch_id": "vsw-1", "name": "web-out"}, "name", "web-out"),
        ({"source_vswitch_id": "vsw-1", "state": "absent", "snat_ips": None}, "snat_ips", ()),
    ],
)
def test_validate_request_normalizes(params, field, value):
    assert getattr(desired(**params), field) == value


@pytest.mark.parametrize(
    "params,message",
    [
        ({"nat_gateway_id": "", "source_vswitch_id": "vsw-1"}, "nat_gateway_id is required"),
        (
            {"source_vswitch_id": "vsw-1", "source_cidr": "10.0.0.0/8"},
            "exactly one of source_vswitch_id and source_cidr",
        ),
        ({}, "give one of source_vswitch_id and source_cidr"),
        ({"source_cidr": "10.1.0.5/24"}, "did you mean 10.1.0.0/24 (the block) or 10.1.0.5/32 (one instance)?"),
        ({"source_cidr": "10.1.0.0/33"}, "source_cidr: '10.1.0.0/33' is not an IPv4 CIDR block"),
        ({"source_cidr": "web"}, "source_cidr: 'web' is not an IPv4 CIDR block"),
        ({"source_vswitch_id": "vsw-1", "snat_ips": ["47.0.0"]}, "snat_ips: '47.0.0' is not an IPv4 address"),
        ({"source_vswitch_id": "vsw-1", "snat_ips": []}, "snat_ips is required with state=present"),
        ({"source_vswitch_id": "vsw-1", "name": "x"}, "name: 'x' is not a valid SNAT entry name"),
        ({"source_vswitch_id": "vsw-1", "name": "1abc"}, "name: '1abc' is not a valid SNAT entry name"),
        ({"source_vswitch_id": "vsw-1", "name": "a" * 129}, "is not a valid SNAT entry name"),
    ],
)
def test_validate_request_refuses(params, message):
    with pytest.raises(InputError) as excinfo:
        desired(**params)
    assert message in str(excinfo.value)


# ---- choose_table / find_entry ---------------------------------------------------------------------


def test_choose_table_defaults_to_the_first_and_checks_the_given_one():
    assert choose_table(desired(source_vswitch_id="vsw-1"), GATEWAY) == "stb-1"
    assert choose_table(desired(source_vswitch_id="vsw-1", snat_table_id="stb-2"), GATEWAY) == "stb-2"
    with pytest.raises(PlanError) as foreign:
        choose_table(desired(source_vswitch_id="vsw-1", snat_table_id="stb-9"), GATEWAY)
    assert str(foreign.value) == "SNAT table stb-9 does not belong to NAT gateway ngw-1 (its SNAT tables: stb-1, stb-2)"
    with pytest.raises(PlanError) as missing:
        choose_table(desired(source_vswitch_id="vsw-1"), None, "cn-hangzhou")
    assert str(missing.value).startswith("NAT gateway ngw-1 not found in region cn-hangzhou")
    with pytest.raises(PlanError, match="has no SNAT table"):
        choose_table(desired(source_vswitch_id="vsw-1"), {**GATEWAY, "snat_table_ids": []})


VSWITCH_ENTRY = entry("snat-vsw", vswitch="vsw-1", cidr="10.1.0.0/24")
CIDR_ENTRY = entry("snat-cidr", cidr="10.1.0.5/32")
ENI_ENTRY = entry("snat-eni", cidr="10.1.0.6/32", eni="eni-1")
GONE_ENTRY = entry("snat-old", cidr="10.9.0.0/16", status="Deleting")


@pytest.mark.parametrize(
    "params,expected",
    [
        ({"source_vswitch_id": "vsw-1"}, "snat-vsw"),
        ({"source_vswitch_id": "vsw-2"}, None),
        ({"source_cidr": "10.1.0.5/32"}, "snat-cidr"),
        ({"source_cidr": "10.1.0.0/25"}, None),  # overlapping is another entry, not this one
        ({"source_cidr": "10.1.0.6/32"}, None),  # an ENI entry's CIDR is not a CIDR entry
        ({"source_cidr": "10.9.0.0/16"}, None),  # being deleted
        ({"source_cidr": "10.1.0.0/24", "state": "absent"}, None),  # a vSwitch's block: nothing to delete by CIDR
    ],
)
def test_find_entry(params, expected):
    found = find_entry(desired(**params), [VSWITCH_ENTRY, CIDR_ENTRY, ENI_ENTRY, GONE_ENTRY])
    assert (found or {}).get("id") == expected


def test_a_vswitch_block_as_cidr_is_a_conflict():
    with pytest.raises(PlanError) as excinfo:
        find_entry(desired(source_cidr="10.1.0.0/24"), [VSWITCH_ENTRY])
    assert excinfo.value.code == "OperationUnsupported.CidrConflict"
    assert "CIDR 10.1.0.0/24 is the source of SNAT entry snat-vsw, the entry of vSwitch vsw-1" in str(excinfo.value)


# ---- plan_entry ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params,entries,action,snat_ips,name",
    [
        # create
        (
            {"source_vswitch_id": "vsw-1", "snat_ips": ["47.0.0.1", "47.0.0.2"]},
            [],
            "create",
            ["47.0.0.1", "47.0.0.2"],
            None,
        ),
        ({"source_cidr": "10.1.0.5/32", "name": "one"}, [VSWITCH_ENTRY], "create", ["47.0.0.1"], "one"),
        ({"source_cidr": "10.9.0.0/16"}, [GONE_ENTRY], "create", ["47.0.0.1"], None),
        # nothing to do: same set in another order, name not given or equal
        ({"source_vswitch_id": "vsw-1", "snat_ips": ["47.0.0.2"]}, [VSWITCH_ENTRY], "none", None, None),
        (
            {"source_vswitch_id": "vsw-1", "snat_ips": ["47.0.0.2", "47.0.0.1"]},
            [entry("snat-vsw", vswitch="vsw-1", ips=("47.0.0.1", "47.0.0.2"), name="n")],
            "none",
            None,
            None,
        ),
        (
            {"source_vswitch_id": "vsw-1", "snat_ips": ["47.0.0.2"], "name": "app"},
            [entry("snat-vsw", vswitch="vsw-1", name="app")],
            "none",
            None,
            None,
        ),
        # modify: the set, the name, or both; only what differs is sent
        ({"source_vswitch_id": "vsw-1", "snat_ips": ["47.0.0.3"]}, [VSWITCH_ENTRY], "modify", ["47.0.0.3"], None),
        (
            {"source_vswitch_id": "vsw-1", "snat_ips": ["47.0.0.2"], "name": "new"},
            [VSWITCH_ENTRY],
            "modify",
            None,
            "new",
        ),
        (
            {"source_cidr": "10.1.0.5/32", "snat_ips": ["47.0.0.2", "47.0.0.3"], "name": "n2"},
            [CIDR_ENTRY],
            "modify",
            ["47.0.0.2", "47.0.0.3"],
            "n2",
        ),
        # delete
        ({"source_vswitch_id": "vsw-1", "state": "absent"}, [VSWITCH_ENTRY], "delete", None, None),
        ({"source_cidr": "10.1.0.5/32", "state": "absent"}, [VSWITCH_ENTRY, CIDR_ENTRY], "delete", None, None),
        ({"source_vswitch_id": "vsw-2", "state": "absent"}, [VSWITCH_ENTRY], "none", None, None),
        ({"source_cidr": "10.9.0.0/16", "state": "absent"}, [GONE_ENTRY], "none", None, None),
    ],
)
def test_plan_entry(params, entries, action, snat_ips, name):
    plan = plan_entry(desired(**params), GATEWAY, "stb-1", entries)
    assert (plan.action, plan.snat_ips, plan.name) == (action, snat_ips, name)
    assert plan.changed is (action != "none")
    assert plan.diff.empty is (action == "none")


def test_plan_create_predicts_the_entry_and_the_diff():
    plan = plan_entry(
        desired(source_cidr="10.1.0.5/32", snat_ips=["47.0.0.3", "47.0.0.1"], name="one"), GATEWAY, "stb-2", []
    )
    assert plan.after["id"] == "" and plan.after["status"] == ""
    assert (plan.after["snat_table_id"], plan.after["nat_gateway_id"], plan.after["source_cidr"]) == (
        "stb-2",
        "ngw-1",
        "10.1.0.5/32",
    )
    assert plan.diff.as_diff() == {
        "before": {"snat_entry": {}},
        "after": {
            "snat_entry": {
                "source_vswitch_id": "",
                "source_cidr": "10.1.0.5/32",
                "snat_ips": ["47.0.0.1", "47.0.0.3"],
                "name": "one",
            }
        },
    }


def test_plan_modify_keeps_the_entry_id_and_untouched_fields():
    plan = plan_entry(desired(source_vswitch_id="vsw-1", snat_ips=["47.0.0.3"]), GATEWAY, "stb-1", [VSWITCH_ENTRY])
    assert plan.entry["id"] == plan.after["id"] == "snat-vsw"
    assert plan.after["snat_ips"] == ["47.0.0.3"] and plan.after["source_cidr"] == "10.1.0.0/24"
    assert plan.diff.get_before()["snat_entry"]["snat_ips"] == ["47.0.0.2"]
    assert VSWITCH_ENTRY["snat_ips"] == ["47.0.0.2"]  # the observed record is not mutated


@pytest.mark.parametrize(
    "snat_ips,missing",
    [(["47.0.0.9"], "47.0.0.9"), (["47.0.0.1", "47.0.0.8", "47.0.0.9"], "47.0.0.8, 47.0.0.9")],
)
def test_plan_refuses_snat_ips_that_are_not_on_the_gateway(snat_ips, missing):
    with pytest.raises(PlanError) as excinfo:
        plan_entry(desired(source_vswitch_id="vsw-1", snat_ips=snat_ips), GATEWAY, "stb-1", [VSWITCH_ENTRY])
    assert str(excinfo.value) == (
        f"SNAT IP {missing} is not an EIP associated with NAT gateway ngw-1 (its EIPs: 47.0.0.1, 47.0.0.2, 47.0.0.3); "
        "associate it first with alicloud.eip.eip_association"
    )
    assert excinfo.value.as_dict()["code"] == "InvalidSnatIp.NotFound"


def test_assumed_addresses_count_as_bound():
    want = desired(source_vswitch_id="vsw-1", snat_ips=["47.0.0.1", "47.0.0.9"])
    plan = plan_entry(want, GATEWAY, "stb-1", [], assumed_bound=("47.0.0.9",))
    assert (plan.action, plan.snat_ips) == ("create", ["47.0.0.1", "47.0.0.9"])
    with pytest.raises(PlanError, match="SNAT IP 47.0.0.9 is not"):
        plan_entry(want, GATEWAY, "stb-1", [], assumed_bound=("47.0.0.8",))


def test_a_new_entry_for_a_vswitch_holding_a_havip_is_refused_with_the_api_code():
    with pytest.raises(PlanError) as excinfo:
        plan_entry(
            desired(source_vswitch_id="vsw-1", snat_ips=["47.0.0.1"]), GATEWAY, "stb-1", [], source_havips=("havip-1",)
        )
    assert str(excinfo.value).startswith(
        "source_vswitch_id: vSwitch vsw-1 holds HaVip havip-1, and the API refuses an SNAT entry whose source vSwitch "
        "holds a HaVip (Forbidden.SourceVSwitchId.IncludeHaVip); give the hosts' addresses as source_cidr"
    )
    assert excinfo.value.as_dict() == {
        "code": "Forbidden.SourceVSwitchId.IncludeHaVip",
        "message": str(excinfo.value),
        "request_id": None,
        "predicted": True,
    }


@pytest.mark.parametrize(
    "params,entries,action",
    [
        # the entry exists already (the HaVip came later): modifying it is not CreateSnatEntry
        ({"source_vswitch_id": "vsw-1", "snat_ips": ["47.0.0.3"]}, [VSWITCH_ENTRY], "modify"),
        ({"source_vswitch_id": "vsw-1", "state": "absent"}, [VSWITCH_ENTRY], "delete"),
        # a CIDR source is not a vSwitch source
        ({"source_cidr": "10.1.0.5/32"}, [], "create"),
    ],
)
def test_havips_only_block_creating_a_vswitch_entry(params, entries, action):
    plan = plan_entry(desired(**params), GATEWAY, "stb-1", entries, source_havips=("havip-1",))
    assert plan.action == action


GATEWAY_IN_VPC = {**GATEWAY, "vpc_id": "vpc-1"}


@pytest.mark.parametrize(
    "found,message",
    [
        ([], "source_vswitch_id: there is no vSwitch vsw-1 in this region (InvalidVSwitchId.NotFound)"),
        (
            [{"id": "vsw-1", "vpc_id": "vpc-2"}],
            "source_vswitch_id: vSwitch vsw-1 is in VPC vpc-2, and NAT gateway ngw-1 serves only VPC vpc-1",
        ),
    ],
)
def test_a_new_entry_for_an_unknown_vswitch_or_one_of_another_vpc_is_refused_with_the_api_code(found, message):
    with pytest.raises(PlanError) as excinfo:
        plan_entry(
            desired(source_vswitch_id="vsw-1", snat_ips=["47.0.0.1"]), GATEWAY_IN_VPC, "stb-1", [], source_vswitches=found
        )
    assert str(excinfo.value).startswith(message)
    assert excinfo.value.as_dict()["code"] == "InvalidVSwitchId.NotFound"
    assert excinfo.value.as_dict()["predicted"] is True


@pytest.mark.parametrize(
    "params,entries,found,action",
    [
        # a vSwitch of the gateway's VPC
        ({"source_vswitch_id": "vsw-1", "snat_ips": ["47.0.0.1"]}, [], [{"id": "vsw-1", "vpc_id": "vpc-1"}], "create"),
        # not looked up (None): nothing to refuse
        ({"source_vswitch_id": "vsw-1", "snat_ips": ["47.0.0.1"]}, [], None, "create"),
        # the entry exists already: modifying or deleting it is not CreateSnatEntry
        ({"source_vswitch_id": "vsw-1", "snat_ips": ["47.0.0.3"]}, [VSWITCH_ENTRY], [], "modify"),
        ({"source_vswitch_id": "vsw-1", "state": "absent"}, [VSWITCH_ENTRY], [], "delete"),
    ],
)
def test_the_source_vswitch_check_only_concerns_creating_a_vswitch_entry(params, entries, found, action):
    plan = plan_entry(desired(**params), GATEWAY_IN_VPC, "stb-1", entries, source_vswitches=found)
    assert plan.action == action


def test_absent_does_not_check_snat_ips():
    plan = plan_entry(desired(source_vswitch_id="vsw-1", state="absent", snat_ips=["47.0.0.9"]), GATEWAY, "stb-1", [])
    assert plan.action == "none"


# ---- waiting ---------------------------------------------------------------------------------------


class Table:
    """A SNAT table whose entries follow timelines on a fake clock; counts describe calls."""

    def __init__(self, timelines):
        self.now = 0.0
        self.sleeps = []
        self.describes = 0
        self.timelines = timelines  # entry id -> [(from_time, status or None for gone)]
        self.calls = []

    def sleep(self, seconds):
        self.sleeps.append(round(seconds, 4))
        self.now += seconds

    def clock(self):
        return self.now

    def describe(self, connection, table_id):
        self.describes += 1
        found = []
        for entry_id, timeline in self.timelines.items():
            status = next(s for start, s in reversed(timeline) if self.now >= start)
            if status is not None:
                found.append(entry(entry_id, vswitch="vsw-" + entry_id, status=status))
        return found

    def policy(self):
        return WaitPolicy(sleep=self.sleep, clock=self.clock)


def test_wait_polls_the_table_once_per_round_for_every_entry():
    table = Table(
        {
            "a": [(0, "Pending"), (1.0, "Available")],
            "b": [(0, "Deleting"), (0.4, None)],
            "c": [(0, "Available")],
        }
    )
    latest = wait_for_entries(None, "stb-1", {"a": "Available", "b": "gone"}, 60, table.policy(), table.describe)
    assert latest["a"]["status"] == "Available" and latest["b"] is None
    # 0.2, 0.3, 0.45, 0.675: one describe per round, growing x1.5
    assert table.sleeps == [0.2, 0.3, 0.45, 0.675]
    assert table.describes == 4


def test_wait_times_out_without_sleeping_past_the_deadline():
    table = Table({"a": [(0, "Pending")]})
    with pytest.raises(WaitError) as excinfo:
        wait_for_entries(None, "stb-1", {"a": "Available"}, 2, table.policy(), table.describe)
    assert "timed out after 2s waiting for SNAT entry a to be Available (last seen: Pending)" in str(excinfo.value)
    assert round(sum(table.sleeps), 4) == 2
    assert max(table.sleeps) <= 5.0


def test_wait_fails_at_once_when_a_created_entry_disappears():
    table = Table({"a": [(0, "Pending"), (0.1, None)]})
    with pytest.raises(WaitError, match="SNAT entry a disappeared"):
        wait_for_entries(None, "stb-1", {"a": "Available"}, 60, table.policy(), table.describe)
    assert table.describes == 1


def test_settle_waits_only_for_a_transient_entry_of_the_same_source():
    table = Table({"x": [(0, "Pending"), (0.5, "Available")], "y": [(0, "Pending")]})
    entries = table.describe(None, "stb-1")
    settled = settle_entries(
        None, "stb-1", entries, desired(source_vswitch_id="vsw-x"), 60, table.policy(), table.describe
    )
    assert {e["id"]: e["status"] for e in settled} == {"x": "Available", "y": "Pending"}
    calls = table.describes
    untouched = settle_entries(
        None, "stb-1", settled, desired(source_vswitch_id="vsw-z"), 60, table.policy(), table.describe
    )
    assert untouched is settled and table.describes == calls


# ---- apply_plan ------------------------------------------------------------------------------------


class Recorder:
    """Fake create/modify/delete that record their arguments and make the entry move on the fake table."""

    def __init__(self, table):
        self.table = table
        self.calls = []

    def create(self, connection, **kwargs):
        self.calls.append(("create", kwargs))
        self.table.timelines["new"] = [(self.table.now, "Pending"), (self.table.now + 0.3, "Available")]
        return "new"

    def modify(self, connection, **kwargs):
        self.calls.append(("modify", kwargs))
        self.table.timelines[kwargs["snat_entry_id"]] = [
            (self.table.now, "Pending"),
            (self.table.now + 0.3, "Available"),
        ]
        return "request"

    def delete(self, connection, **kwargs):
        self.calls.append(("delete", kwargs))
        self.table.timelines[kwargs["snat_entry_id"]] = [(self.table.now, "Deleting"), (self.table.now + 0.3, None)]
        return "request"

    def functions(self):
        return ApplyFunctions(create=self.create, modify=self.modify, delete=self.delete, describe=self.table.describe)


@pytest.mark.parametrize("wait,status", [(True, "Available"), (False, "Pending")])
def test_apply_create(wait, status):
    table = Table({})
    recorder = Recorder(table)
    want = desired(source_vswitch_id="vsw-new", snat_ips=["47.0.0.1", "47.0.0.3"], name="web")
    plan = plan_entry(want, GATEWAY, "stb-1", [])
    result = apply_plan(None, plan, want, wait, 60, recorder.functions(), table.policy())
    assert recorder.calls == [
        (
            "create",
            {
                "snat_table_id": "stb-1",
                "snat_ips": ["47.0.0.1", "47.0.0.3"],
                "source_vswitch_id": "vsw-new",
                "source_cidr": None,
                "name": "web",
            },
        )
    ]
    assert (result["id"], result["status"]) == ("new", status)


def test_apply_modify_sends_only_what_differs_and_waits():
    table = Table({"snat-vsw": [(0, "Available")]})
    recorder = Recorder(table)
    want = desired(source_vswitch_id="vsw-1", snat_ips=["47.0.0.3"])
    plan = plan_entry(want, GATEWAY, "stb-1", [VSWITCH_ENTRY])
    result = apply_plan(None, plan, want, True, 60, recorder.functions(), table.policy())
    assert recorder.calls == [
        ("modify", {"snat_table_id": "stb-1", "snat_entry_id": "snat-vsw", "snat_ips": ["47.0.0.3"], "name": None})
    ]
    assert result["status"] == "Available"


def test_apply_delete_waits_until_gone():
    table = Table({"snat-vsw": [(0, "Available")]})
    recorder = Recorder(table)
    want = desired(source_vswitch_id="vsw-1", state="absent")
    plan = plan_entry(want, GATEWAY, "stb-1", [VSWITCH_ENTRY])
    assert apply_plan(None, plan, want, True, 60, recorder.functions(), table.policy()) == {}
    assert recorder.calls == [("delete", {"snat_table_id": "stb-1", "snat_entry_id": "snat-vsw"})]
    assert "snat-vsw" not in {e["id"] for e in table.describe(None, "stb-1")}


def test_apply_nothing_makes_no_call():
    table = Table({"snat-vsw": [(0, "Available")]})
    recorder = Recorder(table)
    want = desired(source_vswitch_id="vsw-1", snat_ips=["47.0.0.2"])
    plan = plan_entry(want, GATEWAY, "stb-1", [VSWITCH_ENTRY])
    assert apply_plan(None, plan, want, True, 60, recorder.functions(), table.policy()) == VSWITCH_ENTRY
    assert recorder.calls == [] and table.describes == 0


def test_desired_entry_labels_its_source():
    assert DesiredEntry("ngw-1", "present", source_vswitch_id="vsw-1").source_label == "vSwitch vsw-1"
    assert DesiredEntry("ngw-1", "present", source_cidr="10.0.0.5/32").source_label == "CIDR 10.0.0.5/32"
