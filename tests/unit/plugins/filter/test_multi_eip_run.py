# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The run state of multi_eip's cloud part: who the lists are for, each host's part of every answer, the next lists
built from the hosts that have not failed, and each host's plan at the end."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.alicloud.eip.plugins.filter.multi_eip import (
    multi_eip_resources,
)
from ansible_collections.alicloud.eip.plugins.filter.multi_eip_run import (
    FilterModule,
    multi_eip_run_start,
    multi_eip_run_step,
)

MEMBER = "__multi_eip_member"
VPC = "vpc-1"


def settings(instance, mode="nat_enis", count=1, **overrides):
    base = {
        "instance_id": instance,
        "mode": mode,
        "count": count,
        "vswitch_id": "vsw-1",
        "security_group_ids": ["sg-1"],
        "eni_security_group_ids": [],
        "cut_through_networks": {},
        "name": f"multi-eip-{instance}",
        "tags": {},
        "base_tags": {
            "alicloud-eip-role": "multi_eip",
            "alicloud-eip-instance": instance,
        },
        "bandwidth": 5,
        "internet_charge_type": "PayByTraffic",
    }
    return {**base, **overrides}


def member(host, instance, fleet=True, wait_timeout=300, input_errors=(), **overrides):
    given = settings(instance, **overrides)
    return {
        MEMBER: {
            "host": host,
            "fleet": fleet,
            "wait_timeout": wait_timeout,
            "input_errors": list(input_errors),
            "settings": given,
            "resources": {} if input_errors else multi_eip_resources(given),
            "lookups": {
                "instance_ids": [] if input_errors else [instance],
                "vswitch_ids": [] if input_errors else ["vsw-1"],
                "security_group_ids": [] if input_errors else ["sg-1"],
            },
        }
    }


def network(*instances):
    return {
        "instances": [
            {
                "id": instance,
                "status": "Running",
                "network_type": "vpc",
                "vpc_id": VPC,
                "zone_id": "zone-a",
            }
            for instance in instances
        ],
        "vswitches": [
            {
                "id": "vsw-1",
                "vpc_id": VPC,
                "zone_id": "zone-a",
                "available_ip_count": 100,
            }
        ],
        "security_groups": [{"id": "sg-1", "vpc_id": VPC}],
    }


# web1 and web3 run the role (web3 with a longer wait); web2 ran it in an earlier invocation only (its member fact
# was reset: {}), web4 never (no member fact), web5's member fact names another host (copied, not its own).
HOSTVARS = {
    "web1": member("web1", "i-1"),
    "web2": {MEMBER: {}},
    "web3": member("web3", "i-3", wait_timeout=600),
    "web4": {},
    "web5": member("web1", "i-5"),
}
BATCH = ["web1", "web2", "web3", "web4", "web5"]


def test_fleet_mode_is_for_the_members_of_the_batch_in_batch_order():
    state = multi_eip_run_start(HOSTVARS, "web3", BATCH, True)
    assert list(state["hosts"]) == ["web1", "web3"]
    assert state["live"] is True
    assert state["wait_timeout"] == 600
    assert state["lookups"] == {
        "instance_ids": ["i-1", "i-3"],
        "vswitch_ids": ["vsw-1"],
        "security_group_ids": ["sg-1"],
    }
    assert all(record["errors"] == [] and record["changed"] is False for record in state["hosts"].values())


def test_per_host_mode_is_for_this_host_only_and_needs_its_member_fact():
    hostvars = {**HOSTVARS, "web1": member("web1", "i-1", fleet=False)}
    state = multi_eip_run_start(hostvars, "web1", BATCH, False)
    assert list(state["hosts"]) == ["web1"] and state["lookups"]["instance_ids"] == ["i-1"]
    with pytest.raises(AnsibleFilterError, match="host web4 has no __multi_eip_member"):
        multi_eip_run_start(hostvars, "web4", BATCH, False)


def test_a_member_not_in_fleet_mode_fails_every_host_before_any_lookup():
    hostvars = {**HOSTVARS, "web3": member("web3", "i-3", fleet=False)}
    state = multi_eip_run_start(hostvars, "web1", BATCH, True)
    assert state["live"] is False
    for record in state["hosts"].values():
        assert record["errors"] == [
            (
                "multi_eip: multi_eip_fleet must be the same on every host of the play batch that runs the role (set "
                "it for the play); it is not true on web3. Nothing was changed."
            )
        ]


def test_a_host_with_bad_input_fails_with_its_message_and_is_not_looked_up():
    hostvars = {
        **HOSTVARS,
        "web3": member("web3", "i-3", input_errors=["multi_eip: multi_eip_instance_id is required"]),
    }
    state = multi_eip_run_start(hostvars, "web1", BATCH, True)
    assert state["hosts"]["web3"]["errors"] == ["multi_eip: multi_eip_instance_id is required"]
    assert state["lookups"]["instance_ids"] == ["i-1"]
    state = multi_eip_run_step(state, "preflight", [{"interfaces": []}, {"eips": []}, network("i-1")])
    assert state["lists"]["detach"]["layout"] == {"web1": [0, 0]}


def started(**hosts):
    hostvars = {host: member(host, instance, **options) for host, (instance, options) in hosts.items()}
    return multi_eip_run_start(hostvars, next(iter(hosts)), list(hosts), True)


def eip_outcome(allocation_id, changed=True):
    return {
        "changed": changed,
        "failed": False,
        "eip": {"allocation_id": allocation_id, "status": "Available"},
    }


def eni_outcome(eni_id, instance, changed=True):
    interface = {
        "id": eni_id,
        "instance_id": instance,
        "primary_ip_address": f"10.0.0.{eni_id[-1]}",
        "mac_address": f"00:16:3e:00:00:0{eni_id[-1]}",
    }
    return {"changed": changed, "failed": False, "interface": interface}


def test_a_first_run_of_two_hosts_one_of_whose_eni_fails():
    state = started(a=("i-1", {}), b=("i-2", {}))
    state = multi_eip_run_step(state, "preflight", [{"interfaces": []}, {"eips": []}, network("i-1", "i-2")])
    assert state["stage"] == "scale_down"
    assert all(not entry["entries"] for entry in state["lists"].values())
    for step in ("scale_down.detach", "scale_down.release"):
        state = multi_eip_run_step(state, step, {"skipped": True})
    state = multi_eip_run_step(state, "scale_down.delete", {"skipped": True})
    # The EIP and the ENI of each host, in host order, each host's place noted.
    assert [entry["name"] for entry in state["lists"]["eips"]["entries"]] == [
        "multi-eip-i-1-eip-0",
        "multi-eip-i-2-eip-0",
    ]
    assert state["lists"]["enis"]["layout"] == {"a": [0, 1], "b": [1, 1]}
    state = multi_eip_run_step(
        state,
        "create.eips",
        {"addresses": [eip_outcome("eip-1"), eip_outcome("eip-2")]},
    )
    failed_eni = {
        "changed": False,
        "failed": True,
        "msg": "interfaces[1]: CreateNetworkInterface failed: quota",
        "error": {"code": "QuotaExceeded.Eni", "request_id": "req-9"},
    }
    state = multi_eip_run_step(state, "create.enis", {"interfaces": [eni_outcome("eni-1", "i-1"), failed_eni]})
    # b failed: its message with the code and request id; it has no item in the association list.
    assert state["hosts"]["b"]["errors"] == [
        "multi_eip: interfaces[1]: CreateNetworkInterface failed: quota (code QuotaExceeded.Eni, request id req-9)"
    ]
    assert state["lists"]["associations"]["entries"] == [
        {
            "allocation_id": "eip-1",
            "instance_id": "eni-1",
            "private_ip_address": "10.0.0.1",
            "mode": "NAT",
        }
    ]
    assert state["lists"]["associations"]["layout"] == {"a": [0, 1]}
    answer = {
        "changed": True,
        "eips": [{"allocation_id": "eip-1", "instance_id": "eni-1", "mode": "NAT"}],
        "actions": [{"allocation_id": "eip-1"}],
    }
    state = multi_eip_run_step(state, "associate.associations", answer)
    a = state["hosts"]["a"]
    assert a["errors"] == [] and a["changed"] is True
    assert a["plan"]["known"] is True
    assert a["plan"]["interfaces"] == [{"mac": "00:16:3e:00:00:01", "mode": "nat", "eni_id": "eni-1"}]


def test_a_rerun_changes_nothing_and_sends_nothing():
    found_eni = {
        **eni_outcome("eni-1", "i-1")["interface"],
        "tags": {"alicloud-eip-instance": "i-1", "alicloud-eip-slot": "0"},
        "name": "multi-eip-i-1-eni-0",
    }
    found_eip = {
        "allocation_id": "eip-1",
        "name": "multi-eip-i-1-eip-0",
        "description": "nat_enis EIP 0 of i-1 (alicloud.eip.multi_eip)",
        "bandwidth": 5,
        "internet_charge_type": "PayByTraffic",
        "instance_id": "eni-1",
        "mode": "NAT",
        "tags": {
            "alicloud-eip-instance": "i-1",
            "alicloud-eip-role": "multi_eip",
            "alicloud-eip-slot": "0",
        },
    }
    state = started(a=("i-1", {}))
    state = multi_eip_run_step(
        state,
        "preflight",
        [{"interfaces": [found_eni]}, {"eips": [found_eip]}, network("i-1")],
    )
    for step in ("scale_down.detach", "scale_down.release", "scale_down.delete"):
        state = multi_eip_run_step(state, step, {"skipped": True})
    assert state["lists"]["eips"]["entries"] == []
    state = multi_eip_run_step(state, "create.eips", {"skipped": True})
    state = multi_eip_run_step(
        state,
        "create.enis",
        {"interfaces": [eni_outcome("eni-1", "i-1", changed=False)]},
    )
    assert state["hosts"]["a"]["eips"] == [found_eip]
    state = multi_eip_run_step(
        state,
        "associate.associations",
        {"changed": False, "eips": [found_eip], "actions": []},
    )
    assert state["hosts"]["a"]["errors"] == [] and state["hosts"]["a"]["changed"] is False


def test_a_lookup_that_failed_fails_every_host_before_any_change():
    state = started(a=("i-1", {}), b=("i-2", {}))
    failed = {
        "msg": "could not list the EIPs",
        "error": {"code": "Forbidden.RAM", "request_id": "req-3"},
    }
    state = multi_eip_run_step(state, "preflight", [{"interfaces": []}, failed, network("i-1", "i-2")])
    for record in state["hosts"].values():
        assert record["errors"] == [
            "multi_eip: nothing was changed. could not list the EIPs (code Forbidden.RAM, request id req-3)"
        ]
    assert state["lists"]["release"]["layout"] == {}


def test_a_refused_preflight_fails_that_host_only():
    state = started(a=("i-1", {}), b=("i-2", {}))
    state = multi_eip_run_step(state, "preflight", [{"interfaces": []}, {"eips": []}, network("i-1")])
    assert state["hosts"]["a"]["errors"] == []
    assert state["hosts"]["b"]["errors"][0].startswith("multi_eip: nothing was changed. multi_eip_instance_id: ")
    assert "InvalidInstanceId.NotFound" in state["hosts"]["b"]["errors"][0]


def test_check_mode_predicts_the_cut_through_eips_released_once_their_eni_is_detached():
    slot1 = {
        "alicloud-eip-instance": "i-1",
        "alicloud-eip-role": "multi_eip",
        "alicloud-eip-slot": "1",
    }
    enis = [
        {
            "id": "eni-7",
            "instance_id": "i-1",
            "mac_address": "00:16:3e:00:00:07",
            "tags": slot1,
        }
    ]
    eips = [
        {
            "allocation_id": "eip-7",
            "ip_address": "47.0.0.7",
            "instance_id": "eni-7",
            "mode": "BINDED",
            "tags": slot1,
        }
    ]
    state = started(a=("i-1", {"mode": "cut_through", "count": 1}))
    state = multi_eip_run_step(state, "preflight", [{"interfaces": enis}, {"eips": eips}, network("i-1")])
    assert state["lists"]["release_after_detach"]["entries"] == [
        {"state": "absent", "allocation_id": "eip-7", "release_associated": True}
    ]
    state = multi_eip_run_step(state, "scale_down.detach", {"interfaces": [{"changed": True, "failed": False}]})
    checked = multi_eip_run_step(state, "scale_down.release", {"skipped": True}, check=True)
    assert checked["hosts"]["a"]["changed"] is True and checked["hosts"]["a"]["errors"] == []
    assert [(eip["host"], eip["allocation_id"]) for eip in checked["predicted"]] == [("a", "eip-7")]
    # The real run sent it: the host's part is the outcome, nothing is predicted.
    real = multi_eip_run_step(state, "scale_down.release", {"addresses": [{"changed": True, "failed": False}]})
    assert real["predicted"] == [] and real["hosts"]["a"]["errors"] == []


def test_a_filter_refusal_fails_that_host_only():
    state = started(a=("i-1", {}), b=("i-2", {}))
    state = multi_eip_run_step(state, "preflight", [{"interfaces": []}, {"eips": []}, network("i-1", "i-2")])
    for step in ("scale_down.detach", "scale_down.release", "scale_down.delete"):
        state = multi_eip_run_step(state, step, {"skipped": True})
    # b's second slot was neither found nor sent to eip_address: multi_eip_eips_by_slot refuses b only.
    b = state["hosts"]["b"]
    extra = {
        "name": "multi-eip-i-2-eip-1",
        "tags": {"alicloud-eip-instance": "i-2", "alicloud-eip-slot": "1"},
    }
    state["hosts"]["b"] = {
        **b,
        "resources": {**b["resources"], "eips": b["resources"]["eips"] + [extra]},
    }
    state = multi_eip_run_step(
        state,
        "create.eips",
        {"addresses": [eip_outcome("eip-1"), eip_outcome("eip-2")]},
    )
    state = multi_eip_run_step(
        state,
        "create.enis",
        {"interfaces": [eni_outcome("eni-1", "i-1"), eni_outcome("eni-2", "i-2")]},
    )
    assert state["hosts"]["a"]["errors"] == []
    assert state["hosts"]["b"]["errors"] == [
        "multi_eip: multi_eip_eips_by_slot: slot 1 (multi-eip-i-2-eip-1) was neither found nor converged"
    ]
    assert state["lists"]["associations"]["layout"] == {"a": [0, 1]}


def test_the_state_does_not_change_its_input():
    state = started(a=("i-1", {}))
    before = repr(state)
    multi_eip_run_step(state, "preflight", [{}, {}, {}])
    assert repr(state) == before


def test_an_unknown_step_or_state_is_refused():
    state = started(a=("i-1", {}))
    with pytest.raises(AnsibleFilterError, match="unknown step 'later'"):
        multi_eip_run_step(state, "later")
    with pytest.raises(AnsibleFilterError, match="the state of multi_eip_run_start"):
        multi_eip_run_step({}, "preflight")


def test_the_filters_are_registered():
    assert set(FilterModule().filters()) == {
        "multi_eip_run_start",
        "multi_eip_run_step",
    }
