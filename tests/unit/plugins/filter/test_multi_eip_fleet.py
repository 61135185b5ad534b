"""multi_eip's fleet filters: each host's part of a list task sent for one host or the play batch, and its items."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.alicloud.eip.plugins.filter.multi_eip_fleet import (
    multi_eip_fleet_associations,
    multi_eip_fleet_failures,
    multi_eip_fleet_part,
    multi_eip_instance_records,
    multi_eip_requests,
)


def batch_of(layout, total):
    return {"entries": [{} for _index in range(total)], "layout": layout}


OUTCOMES = [
    {"changed": True, "failed": False, "interface": {"id": "eni-a0"}},
    {"changed": False, "failed": False, "interface": {"id": "eni-a1"}},
    {
        "changed": False,
        "failed": True,
        "msg": "interfaces[2].vswitch_id: no vSwitch",
        "error": {"code": "InvalidVSwitchId.NotFound", "request_id": "req-1"},
    },
]
LAYOUT = {"web1": [0, 2], "web3": [2, 1]}


def test_each_host_gets_its_own_outcomes_and_only_its_failures():
    result = {"changed": True, "failed": False, "interfaces": OUTCOMES, "msg": "1 of 3 interfaces failed"}
    web1 = multi_eip_fleet_part(result, "interfaces", batch_of(LAYOUT, 3), "web1")
    assert [outcome["interface"]["id"] for outcome in web1["outcomes"]] == ["eni-a0", "eni-a1"]
    assert web1["changed"] is True and web1["errors"] == []
    web3 = multi_eip_fleet_part(result, "interfaces", batch_of(LAYOUT, 3), "web3")
    assert web3["changed"] is False
    assert web3["errors"] == ["interfaces[2].vswitch_id: no vSwitch (code InvalidVSwitchId.NotFound, request id req-1)"]


def test_a_module_failure_without_outcomes_fails_every_host_with_items_and_no_other():
    result = {"failed": False, "msg": "interfaces[1].name: too long", "changed": False}
    for host in ("web1", "web3"):
        assert multi_eip_fleet_part(result, "interfaces", batch_of(LAYOUT, 3), host)["errors"] == [
            "interfaces[1].name: too long"
        ]
    assert multi_eip_fleet_part(result, "interfaces", batch_of(LAYOUT, 3), "web9") == {
        "outcomes": [],
        "changed": False,
        "errors": [],
    }
    # Outcomes that do not cover the list sent are not taken for this host's.
    short = {"interfaces": OUTCOMES[:2]}
    assert multi_eip_fleet_part(short, "interfaces", batch_of(LAYOUT, 3), "web1")["errors"] == [
        "failed without a message"
    ]


def test_a_skipped_task_is_fine_for_a_host_without_items_and_an_error_for_one_with_items():
    skipped = {"skipped": True, "changed": False}
    assert multi_eip_fleet_part(skipped, "interfaces", batch_of({"web1": [0, 0]}, 0), "web1")["errors"] == []
    assert "skipped" in multi_eip_fleet_part(skipped, "interfaces", batch_of(LAYOUT, 3), "web3")["errors"][0]


def test_parts_of_batches_sent_one_after_the_other_and_the_items_attached():
    first = batch_of({"web1": [0, 1], "web3": [1, 1]}, 2)
    second = batch_of({"web1": [0, 0], "web3": [0, 1]}, 1)
    result = {"addresses": [{"changed": True, "n": 0}, {"changed": True, "n": 1}, {"changed": False, "n": 2}]}
    web3 = multi_eip_fleet_part(result, "addresses", [first, second], "web3", [{"slot": 4}, {"slot": 5}])
    assert [(outcome["n"], outcome["item"]["slot"]) for outcome in web3["outcomes"]] == [(1, 4), (2, 5)]
    with pytest.raises(AnsibleFilterError, match="1 items given for the 2 outcomes"):
        multi_eip_fleet_part(result, "addresses", [first, second], "web3", [{"slot": 4}])


ROWS = [
    {"allocation_id": "eip-1", "instance_id": "eni-a", "private_ip_address": "10.0.0.5", "mode": "NAT"},
    {"allocation_id": "eip-2", "instance_id": "eni-b", "mode": "BINDED"},
]
ROW_LAYOUT = {"entries": ROWS, "layout": {"web1": [0, 1], "web3": [1, 1]}}


def test_association_rows_of_a_failed_call_fail_only_where_the_eip_did_not_end_on_the_resource():
    result = {
        "failed": False,
        "msg": "eip-2: AssociateEipAddress failed: TaskConflict",
        "error": {"code": "TaskConflict", "request_id": "req-9"},
        "eips": [
            {"allocation_id": "eip-1", "instance_id": "eni-a", "private_ip_address": "10.0.0.5", "mode": "NAT"},
            {"allocation_id": "eip-2", "instance_id": "", "mode": ""},
        ],
        "actions": [
            {"action": "associate", "allocation_id": "eip-1"},
            {"action": "associate", "allocation_id": "eip-2"},
        ],
    }
    web1 = multi_eip_fleet_associations(result, ROW_LAYOUT, "web1")
    assert web1["errors"] == [] and web1["changed"] is True
    web3 = multi_eip_fleet_associations(result, ROW_LAYOUT, "web3")
    assert web3["errors"] == [
        # The code is in the message already: only the request ID is added.
        "eip-2 -> eni-b: eip-2: AssociateEipAddress failed: TaskConflict (request id req-9)"
    ]


def test_association_refused_before_any_call_fails_every_host_with_rows():
    result = {"failed": False, "msg": "associations[1]: the ENI is attached", "changed": False}
    assert multi_eip_fleet_associations(result, ROW_LAYOUT, "web1")["errors"] == [
        "associations[1]: the ENI is attached"
    ]
    assert multi_eip_fleet_associations(result, ROW_LAYOUT, "web3")["errors"] == [
        "associations[1]: the ENI is attached"
    ]
    unchanged = {
        "changed": False,
        "eips": [
            {"allocation_id": "eip-1", "instance_id": "eni-a"},
            {"allocation_id": "eip-2", "instance_id": "eni-b"},
        ],
        "actions": [],
    }
    assert multi_eip_fleet_associations(unchanged, ROW_LAYOUT, "web3") == {
        "outcomes": [{"item": ROWS[1], "eip": unchanged["eips"][1], "changed": False}],
        "changed": False,
        "errors": [],
    }


def test_failures_of_read_only_tasks_are_those_without_their_listing():
    assert multi_eip_fleet_failures(
        [
            {"interfaces": []},
            {"msg": "could not list the EIPs", "error": {"code": "Forbidden.RAM", "request_id": "req-3"}},
            {"skipped": True},
        ],
        ["interfaces", "eips", "instances"],
    ) == ["could not list the EIPs (code Forbidden.RAM, request id req-3)"]


def test_records_of_one_instance_by_the_roles_instance_tag():
    records = [
        {"id": "eni-1", "tags": {"alicloud-eip-instance": "i-1"}},
        {"id": "eni-2", "tags": {"alicloud-eip-instance": "i-2"}},
        {"id": "eni-3", "tags": {}},
    ]
    assert [record["id"] for record in multi_eip_instance_records(records, "i-2")] == ["eni-2"]
    assert multi_eip_instance_records(records, "") == []


SETTINGS = {"instance_id": "i-1", "vswitch_id": "vsw-1", "bandwidth": 5, "internet_charge_type": "PayByTraffic"}


def test_requests_of_the_scale_down():
    scale_down = {
        "detach": [{"id": "eni-3"}],
        "release": [{"allocation_id": "eip-4"}],
        "release_after_detach": [{"allocation_id": "eip-3"}],
        "released_ids": ["eip-4", "eip-3"],
        "delete": [{"id": "eni-3"}],
    }
    assert multi_eip_requests(SETTINGS, "scale_down", scale_down=scale_down) == {
        "detach": [{"network_interface_id": "eni-3", "attached": False}],
        "release": [{"state": "absent", "allocation_id": "eip-4", "release_associated": True}],
        "release_after_detach": [{"state": "absent", "allocation_id": "eip-3", "release_associated": True}],
        "delete": [
            {
                "state": "absent",
                "network_interface_id": "eni-3",
                "force_detach": True,
                "released_allocation_ids": ["eip-4", "eip-3"],
            }
        ],
    }


def test_requests_of_the_creation_keep_only_the_options_the_mode_gives():
    eips = [{"name": "m-i-1-eip-0", "description": "d", "tags": {"k": "v"}, "slot": 0}]
    enis = [
        {"name": "m-i-1-eni-0", "description": "e", "security_group_ids": ["sg-1"], "tags": {"k": "v"}},
        {
            "name": "m-i-1-eni-1",
            "description": "e",
            "security_group_ids": ["sg-1"],
            "tags": {},
            "instance_id": "i-1",
            "attached": True,
            "secondary_private_ip_address_count": 2,
        },
    ]
    requests = multi_eip_requests(SETTINGS, "create", eips=eips, enis=enis, released_ids=["eip-9"])
    assert requests["eips"] == [
        {
            "name": "m-i-1-eip-0",
            "description": "d",
            "bandwidth": 5,
            "internet_charge_type": "PayByTraffic",
            "tags": {"k": "v"},
        }
    ]
    assert requests["enis"][0] == {
        "vswitch_id": "vsw-1",
        "released_allocation_ids": ["eip-9"],
        "name": "m-i-1-eni-0",
        "security_group_ids": ["sg-1"],
        "description": "e",
        "tags": {"k": "v"},
    }
    assert requests["enis"][1]["instance_id"] == "i-1" and requests["enis"][1]["attached"] is True
    assert requests["enis"][1]["secondary_private_ip_address_count"] == 2


@pytest.mark.parametrize(
    ("plan", "expected"),
    [
        (
            {"known": False, "detach": ["eni-1"], "associations": [{"allocation_id": "eip-1"}], "attach": ["eni-1"]},
            {"detach": [], "associations": [], "attach": [], "gateways": []},
        ),
        (
            {
                "known": True,
                "host_mode": "cut_through",
                "eni_ids": ["eni-1"],
                "detach": ["eni-1"],
                "associations": [{"allocation_id": "eip-1"}],
                "attach": ["eni-1"],
            },
            {
                "detach": [{"network_interface_id": "eni-1", "attached": False}],
                "associations": [{"allocation_id": "eip-1"}],
                "attach": [{"network_interface_id": "eni-1", "instance_id": "i-1", "attached": True}],
                "gateways": [],
            },
        ),
        (
            {
                "known": True,
                "host_mode": "multi_eip",
                "eni_ids": ["eni-7"],
                "detach": [],
                "associations": [{"allocation_id": "eip-1"}],
                "attach": [],
            },
            {"detach": [], "associations": [{"allocation_id": "eip-1"}], "attach": [], "gateways": ["eni-7"]},
        ),
        (
            {"known": True, "host_mode": "multi_eip", "eni_ids": [], "associations": []},
            {"detach": [], "associations": [], "attach": [], "gateways": []},
        ),
    ],
)
def test_requests_of_the_association_steps(plan, expected):
    assert multi_eip_requests(SETTINGS, "associate", plan=plan) == expected


def test_an_unknown_stage_is_refused():
    with pytest.raises(AnsibleFilterError, match="unknown stage 'later'"):
        multi_eip_requests(SETTINGS, "later")
