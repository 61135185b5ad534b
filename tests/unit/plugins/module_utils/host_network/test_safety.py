# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The host's way out, foreign tables and rules, and the routes a rollback restores (``_host_network/safety.py``)."""

from __future__ import annotations

import pytest
from ansible_collections.alicloud.eip.plugins.module_utils._host_network.inventory import (
    resolve_enis,
)
from ansible_collections.alicloud.eip.plugins.module_utils._host_network.model import (
    HostNetworkError,
    Route,
    Rule,
    table_for_mac,
)
from ansible_collections.alicloud.eip.plugins.module_utils._host_network.safety import (
    connection_problems,
    egress_problems,
    foreign_rule_users,
    foreign_table_users,
    main_default_device,
    main_egress,
    routes_to_restore,
    shadowing_problems,
)
from ansible_collections.alicloud.eip.plugins.module_utils._host_network.state import (
    add_absent_interfaces,
    desired_state,
    observed_state,
)
from ansible_collections.alicloud.eip.tests.unit.plugins.module_utils.host_network.fakes import DHCP_DEFAULT
from ansible_collections.alicloud.eip.tests.unit.plugins.module_utils.host_network.fakes import PRIMARY_PREFIX as PREFIX
from ansible_collections.alicloud.eip.tests.unit.plugins.module_utils.host_network.cases import (
    CASES,
    LINKS,
    PRIMARY,
    PRIMARY_SPEC,
    SECOND,
    empty_observed,
    enis_for,
    observed_nat,
)


def test_foreign_table_users():
    table = table_for_mac(SECOND)
    enis = enis_for("nat")
    observed = {**empty_observed(), "routes": [Route(table, "198.51.100.0/24", "eth0", gateway="10.0.1.1")]}
    problems = foreign_table_users(desired_state(enis), observed, enis)
    assert problems == [
        f"table {table} (for eth1) already holds a route that is not ours: 198.51.100.0/24 dev eth0; set 'table' for that ENI to an unused number"
    ]
    assert foreign_table_users(desired_state(enis), empty_observed(), enis) == []


@pytest.mark.parametrize(
    "address, touched", [("10.0.2.21", True), ("10.0.2.99", True), ("10.0.1.10", False), (None, False)]
)
def test_connection_problems(address, touched):
    observed = {**empty_observed(), "addresses": {"eth1": ["10.0.2.99/32"]}}
    problems = connection_problems(enis_for("nat"), observed, address)
    assert bool(problems) is touched
    if touched:
        assert f"Ansible connects through {address} on eth1" in problems[0]


def test_main_default_device():
    assert main_default_device(empty_observed()) == "eth0"
    assert main_default_device({"routes": []}) is None


# ---- the host's way out (issue 9, items 11-14) ----------------------------------------------------------------


def observed_with_defaults(*defaults: dict, addresses: dict | None = None) -> dict:
    """The observed state ``observed_state`` returns, with the main table's default routes given as ``ip -j``."""
    route_json = [{"dst": "10.0.1.0/24", "dev": "eth0", "protocol": "kernel", "scope": "link", "prefsrc": "10.0.1.10"}]
    addr_json = []
    for device, cidrs in (addresses or {"eth0": ["10.0.1.10/24"]}).items():
        infos = []
        for cidr in cidrs:
            local, prefix = cidr.split("/")
            infos.append({"family": "inet", "local": local, "prefixlen": int(prefix)})
        addr_json.append({"ifname": device, "addr_info": infos})
    return observed_state(addr_json, route_json + list(defaults), [], LINKS)


@pytest.mark.parametrize(
    "defaults, addresses, expected",
    [
        pytest.param([], None, {}, id="no-default-route"),
        pytest.param(
            [{"dst": "default", "gateway": "10.0.1.253", "dev": "eth0"}],
            None,
            {"eth0": "main table: default via 10.0.1.253 dev eth0"},
            id="plain",
        ),
        pytest.param(
            [
                {"dst": "default", "gateway": "10.0.1.253", "dev": "eth0", "metric": 100, "prefsrc": "10.0.1.10"},
                {"dst": "default", "gateway": "10.0.2.253", "dev": "eth1", "metric": 1001},
            ],
            None,
            {"eth0": "main table: default via 10.0.1.253 dev eth0 src 10.0.1.10 metric 100"},
            id="lowest-metric-only",
        ),
        pytest.param(
            [
                {"dst": "default", "gateway": "10.0.2.253", "dev": "eth1", "metric": 50},
                {"dst": "default", "gateway": "10.0.1.253", "dev": "eth0", "metric": 100},
            ],
            None,
            {"eth1": "main table: default via 10.0.2.253 dev eth1 metric 50"},
            id="the-kernel-uses-eth1",
        ),
        pytest.param(
            [{"dst": "default", "gateway": "10.0.2.253", "dev": "eth1", "prefsrc": "10.0.1.10"}],
            {"eth0": ["10.0.1.10/24"], "eth1": ["10.0.2.20/24"]},
            {
                "eth1": "main table: default via 10.0.2.253 dev eth1 src 10.0.1.10",
                "eth0": "it holds 10.0.1.10, the source of main table: default via 10.0.2.253 dev eth1 src 10.0.1.10",
            },
            id="source-address-elsewhere",
        ),
        pytest.param(
            [
                {
                    "dst": "default",
                    "metric": 10,
                    "nexthops": [
                        {"gateway": "10.0.1.253", "dev": "eth0", "weight": 1},
                        {"gateway": "10.0.2.253", "dev": "eth1", "weight": 1},
                    ],
                }
            ],
            None,
            {
                "eth0": "main table: default via 10.0.1.253 dev eth0 metric 10",
                "eth1": "main table: default via 10.0.2.253 dev eth1 metric 10",
            },
            id="multipath",
        ),
    ],
)
def test_main_egress(defaults, addresses, expected):
    assert main_egress(observed_with_defaults(*defaults, addresses=addresses)) == expected


def test_main_egress_from_a_hand_made_observed_state():
    assert main_egress(empty_observed()) == {"eth0": "main table: default via 10.0.1.253 dev eth0"}


EGRESS_ETH0 = {"dst": "default", "gateway": "10.0.1.253", "dev": "eth0", "protocol": "dhcp", "prefsrc": "10.0.1.10"}


@pytest.mark.parametrize(
    "absent, primary_mac, message",
    [
        ([{"mac": PRIMARY}], PRIMARY, f"absent_interfaces lists {PRIMARY}, the primary ENI's MAC"),
        ([{"mac": "00-16-3E-00-00-01"}], PRIMARY, "the primary ENI's MAC"),
        # primary_mac names another ENI: eth0 is refused for what it carries.
        (
            [{"mac": PRIMARY}],
            SECOND,
            f"absent_interfaces lists {PRIMARY}, which is eth0: it carries the route this host uses to leave",
        ),
    ],
)
def test_absent_interfaces_never_takes_the_way_out(absent, primary_mac, message):
    enis = resolve_enis([CASES["nat"][1]], PRIMARY, LINKS) if primary_mac == PRIMARY else []
    desired = desired_state(enis)
    egress = main_egress(observed_with_defaults(EGRESS_ETH0))
    with pytest.raises(HostNetworkError, match=message):
        add_absent_interfaces(desired, absent, enis, LINKS, primary_mac, egress)


def test_absent_interfaces_still_take_a_secondary_off():
    egress = main_egress(observed_with_defaults(EGRESS_ETH0))
    enis = resolve_enis([PRIMARY_SPEC], PRIMARY, LINKS)
    desired = desired_state(enis)
    assert add_absent_interfaces(desired, [{"mac": SECOND}], enis, LINKS, PRIMARY, egress) == ["eth1"]
    table = table_for_mac(SECOND)
    assert desired["table_owners"][table] == (f"absent ENI {SECOND}", "absent_interfaces[].table")


@pytest.mark.parametrize(
    "primary_mac, specs, refused",
    [
        (PRIMARY, CASES["nat"], []),
        # The wrong primary: eth0 would become a secondary ENI (purged, source rules into a table).
        (SECOND, [{**PRIMARY_SPEC, "addresses": ["10.0.1.10"]}, {**CASES["nat"][1]}], ["eth0"]),
    ],
)
def test_egress_problems(primary_mac, specs, refused):
    enis = resolve_enis(specs, primary_mac, LINKS)
    problems = egress_problems(enis, observed_with_defaults(EGRESS_ETH0), primary_mac)
    assert [problem.split("(")[1].split(")")[0] for problem in problems] == refused
    for problem in problems:
        assert "carries the route this host uses to leave (main table: default via 10.0.1.253 dev eth0" in problem
        assert f"the primary ENI is {primary_mac}: check primary_mac" in problem


@pytest.mark.parametrize(
    "cidr, address, gateway, problem",
    [
        ("10.0.2.0/24", "10.0.2.20", "10.0.2.253", None),
        ("10.0.1.0/24", "10.0.1.20", "10.0.1.253", None),  # the same vSwitch as the primary (shared_subnet)
        ("10.1.0.0/16", "10.1.2.20", "10.1.0.1", None),  # wider than the primary's, but another range
        ("10.0.0.0/8", "10.0.2.20", "10.0.2.253", "cidr 10.0.0.0/8 contains 10.0.1.0/24"),
        ("10.0.0.0/16", "10.0.2.20", "10.0.2.253", "cidr 10.0.0.0/16 contains 10.0.1.0/24"),
        ("0.0.0.0/0", "10.0.2.20", "10.0.2.253", "cidr 0.0.0.0/0 contains 10.0.1.0/24"),
        ("10.0.1.128/25", "10.0.1.200", "10.0.1.129", "cidr 10.0.1.128/25 lies inside 10.0.1.0/24"),
    ],
)
@pytest.mark.parametrize("primary_listed", [True, False])
def test_shadowing_problems(cidr, address, gateway, problem, primary_listed):
    specs = ([PRIMARY_SPEC] if primary_listed else []) + [
        {"mac": SECOND, "addresses": [address], "cidr": cidr, "gateway": gateway}
    ]
    enis = resolve_enis(specs, PRIMARY, LINKS)
    # Without the primary in the input, the connected route of the default route's device protects its subnet.
    problems = shadowing_problems(enis, observed_with_defaults(EGRESS_ETH0))
    if problem is None:
        assert problems == []
    else:
        assert len(problems) == 1 and problem in problems[0]
        assert problems[0].startswith(f"ENI {SECOND} (eth1): ") and "interfaces[].cidr" in problems[0]


@pytest.mark.parametrize(
    "rules, other, found",
    [
        pytest.param(lambda t: [Rule(t, t, src="10.0.2.20/32"), Rule(t, t, src="10.0.2.99/32")], [], [], id="ours"),
        pytest.param(
            lambda t: [Rule(500, t, src="10.0.0.0/16")], [], ["500: from 10.0.0.0/16 lookup {t}"], id="subnet"
        ),
        pytest.param(
            lambda t: [Rule(700, t, src="10.0.2.20/32")], [], ["700: from 10.0.2.20/32 lookup {t}"], id="priority"
        ),
        pytest.param(
            lambda t: [Rule(t, t, src="10.0.2.20/32", dst="10.9.0.0/16")],
            [],
            ["{t}: from 10.0.2.20/32 to 10.9.0.0/16 lookup {t}"],
            id="destination",
        ),
        pytest.param(lambda t: [Rule(t + 1, t + 1, src="203.0.113.34/32")], [], [], id="ours-another-table"),
        pytest.param(lambda t: [Rule(600, 4242)], [], [], id="not-our-table"),
        pytest.param(
            lambda t: [],
            [{"table": "T", "text": "600: from all fwmark 0x10 lookup T"}],
            ["600: from all fwmark 0x10 lookup {t}"],
            id="selector-rule",
        ),
    ],
)
def test_foreign_rule_users(rules, other, found):
    table = table_for_mac(SECOND)
    enis = enis_for("nat")
    desired = desired_state(enis)
    observed = {
        **empty_observed(),
        "rules": rules(table),
        "other_rules": [{"table": table, "text": item["text"].replace("T", str(table))} for item in other],
    }
    problems = foreign_rule_users(desired, observed)
    assert [problem.split("'")[1] for problem in problems] == [text.format(t=table) for text in found]
    for problem in problems:
        assert f"looks up table {table}, which ENI {SECOND} (eth1) would use" in problem
        assert f"set interfaces[].table of ENI {SECOND} (eth1) to a number nothing else uses" in problem


def test_observed_state_keeps_selector_rules_as_someone_elses():
    observed = observed_nat()
    table = table_for_mac(SECOND)
    assert observed["other_rules"] == [{"table": table, "text": f"100: from all fwmark 0x10 lookup {table}"}]
    expected = (
        f"the rule '100: from all fwmark 0x10 lookup {table}' is not one this module writes, but looks up table {table}, "
        f"which ENI {SECOND} (eth1) would use: something else uses that table; set interfaces[].table of ENI {SECOND} "
        "(eth1) to a number nothing else uses, or remove that rule"
    )
    assert foreign_rule_users(desired_state(enis_for("nat")), observed) == [expected]


LOCAL = {
    "type": "local",
    "dst": "10.0.1.10",
    "dev": "eth0",
    "table": "local",
    "protocol": "kernel",
    "scope": "host",
    "prefsrc": "10.0.1.10",
    "flags": [],
}
OWN = {
    "dst": "default",
    "gateway": "10.0.2.253",
    "dev": "eth1",
    "table": "3000",
    "protocol": "boot",
    "flags": ["onlink"],
}
FOREIGN_TABLE = {"dst": "198.51.100.0/24", "gateway": "10.0.9.1", "dev": "eth9", "table": "77", "flags": []}


@pytest.mark.parametrize(
    "before, after, expected",
    [
        pytest.param([DHCP_DEFAULT, PREFIX, LOCAL], [DHCP_DEFAULT, PREFIX, LOCAL], [], id="nothing-lost"),
        pytest.param(
            [DHCP_DEFAULT, PREFIX, LOCAL],
            [],
            [
                "ip -4 route replace 10.0.1.0/24 dev eth0 proto kernel scope link src 10.0.1.10 table 254",
                "ip -4 route replace default via 10.0.1.253 dev eth0 proto dhcp src 10.0.1.10 metric 100 table 254",
            ],
            id="link-route-first-local-table-left-to-the-kernel",
        ),
        pytest.param(
            [OWN],
            [{**OWN, "protocol": "static", "flags": []}],
            ["ip -4 route replace default via 10.0.2.253 dev eth1 onlink proto boot table 3000"],
            id="rebuilt-differently",
        ),
        pytest.param([FOREIGN_TABLE], [], [], id="another-table-on-another-device"),
        pytest.param(
            [
                {
                    "dst": "default",
                    "metric": 5,
                    "flags": [],
                    "nexthops": [
                        {"gateway": "10.0.1.253", "dev": "eth0", "weight": 1, "flags": []},
                        {"gateway": "10.0.2.253", "dev": "eth1", "weight": 2, "flags": []},
                    ],
                }
            ],
            [],
            [
                (
                    "ip -4 route replace default metric 5 table 254 nexthop via 10.0.1.253 dev eth0 weight 1 nexthop via "
                    "10.0.2.253 dev eth1 weight 2"
                )
            ],
            id="multipath",
        ),
    ],
)
def test_routes_to_restore(before, after, expected):
    argvs = routes_to_restore(before, after, {3000}, {"eth1"})
    assert [" ".join(argv) for argv in argvs] == expected


def test_routes_to_restore_covers_every_table_of_an_affected_device():
    route = {**FOREIGN_TABLE, "dev": "eth1"}
    assert routes_to_restore([route], [], set(), {"eth1"}) == [
        ["ip", "-4", "route", "replace", "198.51.100.0/24", "via", "10.0.9.1", "dev", "eth1", "table", "77"]
    ]
