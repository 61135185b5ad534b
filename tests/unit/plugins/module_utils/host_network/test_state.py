# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Desired and observed runtime state and the plan between them (``_host_network/state.py``)."""

from __future__ import annotations

import pytest
from ansible_collections.alicloud.eip.plugins.module_utils._host_network.backends import (
    render_files,
)
from ansible_collections.alicloud.eip.plugins.module_utils._host_network.inventory import (
    resolve_enis,
)
from ansible_collections.alicloud.eip.plugins.module_utils._host_network.model import (
    HostNetworkError,
    Route,
    Rule,
    table_for_mac,
)
from ansible_collections.alicloud.eip.plugins.module_utils._host_network.state import (
    add_absent_interfaces,
    desired_state,
    plan_changes,
    projected_state,
    runtime_view,
)
from ansible_collections.alicloud.eip.tests.unit.plugins.module_utils.host_network.cases import (
    CASES,
    LINKS,
    PRIMARY,
    PRIMARY_SPEC,
    SECOND,
    THIRD,
    empty_observed,
    enis_for,
    observed_nat,
)

# ---- desired state ------------------------------------------------------------------------------------------


def test_desired_state_nat():
    table = table_for_mac(SECOND)
    state = desired_state(enis_for("nat"))
    assert state["addresses"] == {"eth0": ["10.0.1.11/32"], "eth1": ["10.0.2.20/24", "10.0.2.21/32", "10.0.2.22/32"]}
    assert state["routes"] == [
        Route(table, "10.0.2.0/24", "eth1", scope="link", src="10.0.2.20"),
        Route(table, "default", "eth1", gateway="10.0.2.253"),
    ]
    # One rule per address on the secondary ENI, none for the primary ENI.
    assert state["rules"] == [Rule(table, table, src=f"10.0.2.{last}/32") for last in (20, 21, 22)]
    assert state["sysctls"] == {"net/ipv4/conf/eth1/rp_filter": "2"}
    assert state["links"] == ["eth1"] and state["purge"] == ["eth1"] and state["tables"] == [table]


@pytest.mark.parametrize("primary_sysctls, primary_tuned", [(False, False), (True, True)])
def test_desired_state_arp_settings_for_a_shared_subnet(primary_sysctls, primary_tuned):
    state = desired_state(enis_for("shared_subnet"), primary_sysctls=primary_sysctls)
    for device in ("eth1", "ens7"):
        assert state["sysctls"][f"net/ipv4/conf/{device}/arp_ignore"] == "1"
        assert state["sysctls"][f"net/ipv4/conf/{device}/arp_announce"] == "2"
    assert ("net/ipv4/conf/eth0/arp_ignore" in state["sysctls"]) is primary_tuned
    assert "net/ipv4/conf/eth0/rp_filter" not in state["sysctls"]


def test_desired_state_no_arp_settings_on_separate_subnets():
    assert not any("arp_" in key for key in desired_state(enis_for("nat"))["sysctls"])


def test_desired_state_cut_through_keeps_the_internal_range_on_main():
    table = table_for_mac(SECOND)
    state = desired_state(enis_for("cut_through"))
    assert state["rules"] == [Rule(table, table, src="203.0.113.10/32"), Rule(999, 254, dst="100.64.0.0/10")]
    assert state["addresses"]["eth1"] == ["203.0.113.10/28"]


def test_desired_state_multi_eip():
    table = table_for_mac(SECOND)
    state = desired_state(enis_for("multi_eip"))
    assert state["addresses"]["eth1"] == ["10.0.2.20/24", "203.0.113.34/32", "203.0.113.35/32", "203.0.113.50/32"]
    assert Route(table + 1, "default", "eth1", gateway="203.0.113.33") in state["routes"]
    assert Route(table + 2, "203.0.113.48/29", "eth1", scope="link", src="203.0.113.50") in state["routes"]
    assert Rule(table + 1, table + 1, src="203.0.113.35/32") in state["rules"]
    assert state["tables"] == [table, table + 1, table + 2]


def test_observed_state_parses_ip_json():
    table = table_for_mac(SECOND)
    observed = observed_nat()
    assert observed["addresses"] == {"eth0": ["10.0.1.10/24"], "eth1": ["10.0.2.20/24", "10.0.2.99/32"]}
    assert Route(table, "default", "eth1", gateway="10.0.2.1") in observed["routes"]
    assert Route(254, "10.0.1.0/24", "eth0", scope="link", src="10.0.1.10") in observed["routes"]
    assert not any(route.table == 255 for route in observed["routes"])
    # The fwmark rule is someone else's and is never parsed as ours.
    assert observed["rules"] == [
        Rule(0, 255),
        Rule(999, 254, dst="100.64.0.0/10"),
        Rule(table, table, src="10.0.2.20/32"),
        Rule(table, table, src="10.0.2.99/32"),
        Rule(32766, 254),
    ]
    assert observed["up"] == {"lo": True, "eth0": True, "eth1": False, "ens7": False}


def test_plan_changes_from_the_observed_state():
    table = table_for_mac(SECOND)
    desired = desired_state(enis_for("nat"))
    changes = plan_changes(desired, observed_nat(), {"net/ipv4/conf/eth1/rp_filter": "1\n"})
    argvs = [" ".join(change["argv"]) for change in changes if change["kind"] == "command"]
    assert argvs == [
        "ip link set dev eth1 up",
        "ip -4 addr add 10.0.1.11/32 dev eth0",
        "ip -4 addr add 10.0.2.21/32 dev eth1",
        "ip -4 addr add 10.0.2.22/32 dev eth1",
        f"ip -4 route replace 10.0.2.0/24 dev eth1 scope link src 10.0.2.20 table {table} proto static",
        f"ip -4 route replace default via 10.0.2.253 dev eth1 table {table} proto static",
        f"ip -4 rule add from 10.0.2.21/32 lookup {table} priority {table}",
        f"ip -4 rule add from 10.0.2.22/32 lookup {table} priority {table}",
        # Stale: the unassigned 10.0.2.99 and the 100.64.0.0/10 rule of a former cut-through setup.
        "ip -4 rule del to 100.64.0.0/10 lookup main priority 999",
        f"ip -4 rule del from 10.0.2.99/32 lookup {table} priority {table}",
        "ip -4 addr del 10.0.2.99/32 dev eth1",
    ]
    # Every change can be undone: a replaced route goes back to what it was.
    replaced = next(change for change in changes if "default" in change["argv"] and "replace" in change["argv"])
    assert replaced["undo"] == [
        [
            "ip",
            "-4",
            "route",
            "replace",
            "default",
            "via",
            "10.0.2.1",
            "dev",
            "eth1",
            "table",
            str(table),
            "proto",
            "static",
        ]
    ]
    assert changes[-1] == {
        "kind": "sysctl",
        "description": "net.ipv4.conf.eth1.rp_filter = 2",
        "key": "net/ipv4/conf/eth1/rp_filter",
        "value": "2",
        "old": "1",
    }


@pytest.mark.parametrize("case", sorted(CASES))
def test_plan_changes_is_idempotent(case):
    enis = enis_for(case)
    desired = desired_state(enis)
    observed = empty_observed()
    sysctls = {key: "0" for key in desired["sysctls"]}
    assert plan_changes(desired, observed, sysctls)
    after = projected_state(desired, observed)
    assert plan_changes(desired, {**after, "up": {eni.device: True for eni in enis}}, dict(desired["sysctls"])) == []


WANTED_ETH1 = ["10.0.2.20/24", "10.0.2.21/32", "10.0.2.22/32"]


def observed_with_eth1(*extra: str) -> dict:
    """eth1 (the nat case's secondary ENI) holds its desired addresses plus ``extra``."""
    return {
        **empty_observed(),
        "addresses": {"eth0": ["10.0.1.10/24", "10.0.1.11/32"], "eth1": WANTED_ETH1 + list(extra)},
        "up": {"eth0": True, "eth1": True},
    }


def address_commands(changes: list[dict]) -> list[str]:
    return [" ".join(change["argv"]) for change in changes if change.get("argv", [""])[2:3] == ["addr"]]


@pytest.mark.parametrize(
    "keep, removed",
    [
        pytest.param((), ["10.0.2.100/32", "10.0.2.99/32"], id="no-keep-purges-both"),
        pytest.param(("10.0.2.100/32",), ["10.0.2.99/32"], id="the-vip-stays"),
        pytest.param(("10.0.2.96/28",), [], id="a-block-keeps-both"),
    ],
)
def test_plan_changes_leaves_kept_addresses_alone(keep, removed):
    desired = desired_state(enis_for("nat"), keep=keep)
    observed = observed_with_eth1("10.0.2.100/32", "10.0.2.99/32")
    changes = plan_changes(desired, observed, dict(desired["sysctls"]))
    assert address_commands(changes) == [f"ip -4 addr del {cidr} dev eth1" for cidr in removed]
    after = projected_state(desired, observed)
    kept = [cidr for cidr in ("10.0.2.100/32", "10.0.2.99/32") if cidr not in removed]
    assert after["addresses"]["eth1"] == WANTED_ETH1 + kept
    # Applied, the plan is empty with the kept address still there.
    assert address_commands(plan_changes(desired, after, dict(desired["sysctls"]))) == []


def test_a_kept_address_that_is_absent_is_not_added_nor_written():
    enis = enis_for("nat")
    desired = desired_state(enis, keep=("10.0.2.100/32",))
    observed = observed_with_eth1()
    assert address_commands(plan_changes(desired, observed, dict(desired["sysctls"]))) == []
    assert "10.0.2.100/32" not in projected_state(desired, observed)["addresses"]["eth1"]
    assert not any(rule.src == "10.0.2.100/32" for rule in desired["rules"])
    for backend in ("networkd", "nm", "netplan", "ifcfg"):
        for content, _mode in render_files(backend, enis, desired, "marker").values():
            assert "10.0.2.100" not in content


def test_a_desired_address_wins_over_keep():
    # 10.0.2.21 is desired as /32; present as /24 it is replaced even though it is in a kept block.
    desired = desired_state(enis_for("nat"), keep=("10.0.2.0/24",))
    observed = {**observed_with_eth1(), "addresses": {"eth1": ["10.0.2.20/24", "10.0.2.21/24", "10.0.2.22/32"]}}
    assert address_commands(plan_changes(desired, observed, dict(desired["sysctls"]))) == [
        "ip -4 addr add 10.0.1.11/32 dev eth0",
        "ip -4 addr add 10.0.2.21/32 dev eth1",
        "ip -4 addr del 10.0.2.21/24 dev eth1",
    ]


def test_keep_protects_the_addresses_of_an_absent_interface_still_present():
    enis = resolve_enis([PRIMARY_SPEC], PRIMARY, LINKS)
    desired = desired_state(enis, keep=("10.0.2.100/32",))
    add_absent_interfaces(desired, [{"mac": SECOND}], enis, LINKS)
    observed = {**empty_observed(), "addresses": {"eth0": ["10.0.1.10/24"], "eth1": ["10.0.2.20/24", "10.0.2.100/32"]}}
    assert address_commands(plan_changes(desired, observed, {})) == [
        "ip -4 addr add 10.0.1.11/32 dev eth0",
        "ip -4 addr del 10.0.2.20/24 dev eth1",
    ]


def test_plan_changes_replaces_a_wrong_prefix_on_a_secondary_eni_but_not_on_the_primary():
    desired = desired_state(enis_for("nat"))
    observed = {
        **empty_observed(),
        "addresses": {"eth0": ["10.0.1.10/24", "10.0.1.11/24"], "eth1": ["10.0.2.21/24"]},
        "up": {"eth0": True, "eth1": True},
    }
    argvs = [
        " ".join(change["argv"])
        for change in plan_changes(desired, observed, dict(desired["sysctls"]))
        if change["kind"] == "command"
    ]
    assert "ip -4 addr add 10.0.2.21/32 dev eth1" in argvs and "ip -4 addr del 10.0.2.21/24 dev eth1" in argvs
    assert not any("dev eth0" in argv for argv in argvs)


def test_plan_changes_missing_sysctl():
    desired = desired_state(enis_for("nat"))
    with pytest.raises(HostNetworkError, match="sysctl net.ipv4.conf.eth1.rp_filter does not exist"):
        plan_changes(desired, empty_observed(), {"net/ipv4/conf/eth1/rp_filter": None})


def test_runtime_view_lists_only_managed_state():
    table = table_for_mac(SECOND)
    view = runtime_view(observed_nat(), ["eth1"], [table], {"net/ipv4/conf/eth1/rp_filter": "1"})
    assert view == [
        "address 10.0.2.20/24 dev eth1",
        "address 10.0.2.99/32 dev eth1",
        f"route default via 10.0.2.1 dev eth1 table {table}",
        "rule 999: from all to 100.64.0.0/10 lookup main",
        f"rule {table}: from 10.0.2.20/32 lookup {table}",
        f"rule {table}: from 10.0.2.99/32 lookup {table}",
        "sysctl net.ipv4.conf.eth1.rp_filter = 1",
    ]


# ---- absent interfaces (scale-down) ---------------------------------------------------------------------------


def observed_after_detach(gone_table: int) -> dict:
    """The primary only, plus what a deleted multi-EIP ENI left: rules (the kernel keeps them) and a group route."""
    observed = empty_observed()
    observed["rules"] = [
        Rule(gone_table, gone_table, src="10.0.2.20/32"),
        Rule(gone_table + 1, gone_table + 1, src="203.0.113.34/32"),
        Rule(32766, 254),
    ]
    observed["routes"].append(Route(gone_table + 1, "default", "lo", gateway="203.0.113.33"))
    return observed


def test_absent_interface_rules_and_routes_are_removed_and_nothing_else():
    gone = table_for_mac("00:16:3e:00:00:09")
    enis = resolve_enis([PRIMARY_SPEC], PRIMARY, LINKS)
    desired = desired_state(enis)
    present = add_absent_interfaces(desired, [{"mac": "00:16:3E:00:00:09"}], enis, LINKS)
    assert present == []
    changes = plan_changes(desired, observed_after_detach(gone), {})
    argvs = [" ".join(change["argv"]) for change in changes]
    assert argvs == [
        "ip -4 addr add 10.0.1.11/32 dev eth0",
        f"ip -4 rule del from 10.0.2.20/32 lookup {gone} priority {gone}",
        f"ip -4 rule del from 203.0.113.34/32 lookup {gone + 1} priority {gone + 1}",
        f"ip -4 route del default via 203.0.113.33 dev lo table {gone + 1}",
    ]


def test_absent_interface_without_leftovers_plans_nothing():
    enis = resolve_enis([PRIMARY_SPEC], PRIMARY, LINKS)
    desired = desired_state(enis)
    add_absent_interfaces(desired, [{"mac": "00:16:3e:00:00:09", "table": 3000}], enis, LINKS)
    observed = empty_observed()
    observed["addresses"]["eth0"].append("10.0.1.11/32")
    assert 3000 in desired["tables"] and 3015 in desired["tables"] and 3016 not in desired["tables"]
    assert plan_changes(desired, observed, {}) == []


def test_absent_interface_still_present_loses_its_addresses():
    enis = resolve_enis([PRIMARY_SPEC], PRIMARY, LINKS)
    desired = desired_state(enis)
    assert add_absent_interfaces(desired, [{"mac": SECOND}], enis, LINKS) == ["eth1"]
    observed = empty_observed()
    observed["addresses"]["eth0"].append("10.0.1.11/32")
    observed["addresses"]["eth1"] = ["10.0.2.20/24", "10.0.2.21/32"]
    argvs = [" ".join(change["argv"]) for change in plan_changes(desired, observed, {})]
    assert argvs == ["ip -4 addr del 10.0.2.20/24 dev eth1", "ip -4 addr del 10.0.2.21/32 dev eth1"]


def test_absent_interface_never_takes_a_configured_enis_tables():
    enis = enis_for("nat")
    desired = desired_state(enis)
    with pytest.raises(
        HostNetworkError, match=r"listed as absent and as an interface to configure \(absent_interfaces\[1\],"
    ):
        add_absent_interfaces(desired, [{"mac": THIRD.upper()}, {"mac": SECOND.replace(":", "-")}], enis, LINKS)
    table = table_for_mac(SECOND)
    # An absent ENI whose explicit table overlaps a configured ENI's slot leaves those tables alone.
    desired = desired_state(enis)
    add_absent_interfaces(desired, [{"mac": "00:16:3e:00:00:09", "table": table - 8}], enis, LINKS)
    observed = empty_observed()
    observed["rules"] = [Rule(table, table, src="10.0.2.20/32")]
    changes = plan_changes(desired, observed, {key: "2" for key in desired["sysctls"]})
    assert not any("rule del" in " ".join(change["argv"]) for change in changes if "argv" in change)
