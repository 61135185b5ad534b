"""eni_routing's executor (observe, apply, gateway check, rollback) against a real kernel network stack.

Each case builds its own throwaway pair of network namespaces (a host with eth0 = primary ENI carrying the
default route and eth1 = a secondary ENI, each a veth into a router namespace) and runs the real module file
inside the host namespace (``ip netns exec``), with ``backend: none`` so that it writes no file.  Nothing is
attached to the machine's own namespace.  Addresses follow ../shared/reference/test-infra.md (10.10.x, 10.20.x,
198.51.100.0/24).

What the cases prove (issue 9, items 11-14): the host's way out is never removed nor shadowed whatever the input
says; a refusal leaves the kernel state exactly as it was; a rollback restores the routes the kernel removed as a
consequence of removing an address.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
COLLECTION = os.path.abspath(os.path.join(HERE, "..", "..", "..", ".."))
MODULE = os.path.join(COLLECTION, "plugins", "modules", "eni_routing.py")
# The directory that holds ansible_collections/alicloud/eip, for the module's imports.
COLLECTIONS_ROOT = os.path.abspath(os.path.join(COLLECTION, "..", "..", ".."))

PRIMARY_MAC = "00:16:3e:0a:00:01"
SECOND_MAC = "00:16:3e:0a:00:02"
TABLE = 3000

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("ip") is None,
    reason="needs root and iproute2 to create network namespaces",
)

_names = itertools.count()


def ip(*args: str, check: bool = True) -> str:
    done = subprocess.run(["ip", *args], capture_output=True, text=True, check=False)
    if check and done.returncode != 0:
        raise AssertionError(f"ip {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


class Lab:
    """host namespace: eth0 10.10.1.10/24 with ``default via 10.10.1.1 proto dhcp src 10.10.1.10 metric 100``
    (the route a DHCP client such as systemd-networkd installs; the kernel deletes it with its source address),
    eth1 up without address; router namespace: r0 10.10.1.1/24, r1 (the secondary's gateway) without address
    unless ``gateway_answers``."""

    def __init__(self, gateway_answers: bool):
        self.host = f"eirt{os.getpid()}-{next(_names)}"
        self.router = self.host + "r"
        ip("netns", "add", self.host)
        ip("netns", "add", self.router)
        for index, mac in enumerate((PRIMARY_MAC, SECOND_MAC)):
            ip(
                "link",
                "add",
                f"eth{index}",
                "address",
                mac,
                "netns",
                self.host,
                "type",
                "veth",
                "peer",
                "name",
                f"r{index}",
                "netns",
                self.router,
            )
            ip("-n", self.host, "link", "set", f"eth{index}", "up")
            ip("-n", self.router, "link", "set", f"r{index}", "up")
        ip("-n", self.router, "addr", "add", "10.10.1.1/24", "dev", "r0")
        if gateway_answers:
            ip("-n", self.router, "addr", "add", "10.20.1.1/24", "dev", "r1")
        ip("-n", self.host, "addr", "add", "10.10.1.10/24", "dev", "eth0")
        self.host_ip(
            "route",
            "add",
            "default",
            "via",
            "10.10.1.1",
            "dev",
            "eth0",
            "proto",
            "dhcp",
            "src",
            "10.10.1.10",
            "metric",
            "100",
        )

    def host_ip(self, *args: str) -> str:
        return ip("-n", self.host, *args)

    def close(self) -> None:
        ip("netns", "del", self.host, check=False)
        ip("netns", "del", self.router, check=False)

    def state(self) -> dict:
        """Everything the module may touch: addresses, routes of every table, rules, link flags, sysctls."""

        def dump(*args):
            return json.loads(self.host_ip("-j", *args) or "[]")

        sysctls = {}
        for device in ("eth0", "eth1"):
            for key in ("rp_filter", "arp_ignore", "arp_announce"):
                sysctls[f"{device}/{key}"] = subprocess.run(
                    ["ip", "netns", "exec", self.host, "cat", f"/proc/sys/net/ipv4/conf/{device}/{key}"],
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout.strip()
        return {
            "addresses": {
                link["ifname"]: [(a["local"], a["prefixlen"]) for a in link.get("addr_info", [])]
                for link in dump("-4", "addr", "show")
            },
            "routes": sorted(
                json.dumps(route, sort_keys=True) for route in dump("-4", "route", "show", "table", "all")
            ),
            "rules": sorted(json.dumps(rule, sort_keys=True) for rule in dump("-4", "rule", "show")),
            "links": {link["ifname"]: link["flags"] for link in dump("link", "show")},
            "sysctls": sysctls,
        }

    def route_get(self, destination: str, source: str | None = None) -> str:
        return self.host_ip("-4", "route", "get", destination, *(["from", source] if source else []))

    def run_module(self, tmp_path, args: dict, check_mode: bool = False) -> tuple[int, dict]:
        arguments = {"backend": "none", "reload": False, "gateway_check_attempts": 1, **args}
        if check_mode:
            arguments["_ansible_check_mode"] = True
        path = tmp_path / f"args-{next(_names)}.json"
        path.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": arguments}))
        env = {**os.environ, "PYTHONPATH": COLLECTIONS_ROOT, "LC_ALL": "C"}
        done = subprocess.run(
            ["ip", "netns", "exec", self.host, sys.executable, MODULE, str(path)],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )
        lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
        assert lines, f"no module result (rc={done.returncode}): {done.stdout}\n{done.stderr}"
        result = json.loads(lines[-1])
        assert "Traceback" not in done.stderr and "exception" not in result, done.stderr or result.get("exception")
        return done.returncode, result


@pytest.fixture
def lab():
    made = Lab(gateway_answers=True)
    yield made
    made.close()


@pytest.fixture
def silent_lab():
    made = Lab(gateway_answers=False)
    yield made
    made.close()


def secondary(**overrides) -> dict:
    return {
        "mac": SECOND_MAC,
        "addresses": ["10.20.1.20", "10.20.1.21"],
        "cidr": "10.20.1.0/24",
        "gateway": "10.20.1.1",
        "table": TABLE,
        **overrides,
    }


PRIMARY = {"mac": PRIMARY_MAC, "addresses": ["10.10.1.10"], "cidr": "10.10.1.0/24", "gateway": "10.10.1.1"}


def assert_refused(lab, tmp_path, args: dict, *phrases: str) -> dict:
    """The module fails before any change: kernel state identical, the way out still through eth0."""
    before = lab.state()
    rc, result = lab.run_module(tmp_path, args)
    assert rc != 0 and result.get("failed"), result
    for phrase in phrases:
        assert phrase in result["msg"], result["msg"]
    assert lab.state() == before
    assert "via 10.10.1.1 dev eth0" in lab.route_get("198.51.100.1")
    return result


# ---- control: a correct configuration is applied, own stale state cleaned, main table untouched -----------------


def test_correct_configuration_applies_and_leaves_the_main_table_alone(lab, tmp_path):
    # A stale rule of this module's shape (an address no longer assigned) is ours and goes.
    lab.host_ip("rule", "add", "from", "10.20.1.99/32", "lookup", str(TABLE), "priority", str(TABLE))
    # Two runtime-owned addresses on the managed secondary ENI: a VIP that keepalived holds (in keep_addresses, so it
    # stays) and one just like it that nothing keeps (purged: what would happen to the VIP without the option).
    lab.host_ip("addr", "add", "10.20.1.100/32", "dev", "eth1")
    lab.host_ip("addr", "add", "10.20.1.101/32", "dev", "eth1")
    main_before = lab.host_ip("-4", "route", "show", "table", "main")
    args = {"primary_mac": PRIMARY_MAC, "interfaces": [PRIMARY, secondary()], "keep_addresses": ["10.20.1.100"]}
    rc, result = lab.run_module(tmp_path, args)
    assert rc == 0 and result["changed"], result
    assert [gateway["answered"] for gateway in result["gateways"]] == [True]
    assert f"ip -4 rule del from 10.20.1.99/32 lookup {TABLE} priority {TABLE}" in result["commands"]
    assert "10.20.1.99" not in lab.host_ip("-4", "rule", "show")
    assert "ip -4 addr del 10.20.1.101/32 dev eth1" in result["commands"]
    assert not any("10.20.1.100" in command for command in result["commands"]), result["commands"]
    eth1 = lab.host_ip("-4", "addr", "show", "dev", "eth1")
    assert "inet 10.20.1.100/32" in eth1 and "10.20.1.101" not in eth1
    assert f"dev eth1 table {TABLE}" in lab.route_get("198.51.100.1", "10.20.1.21")
    # The only main-table change is the kernel's prefix route for the new address; the default route is intact.
    main_after = lab.host_ip("-4", "route", "show", "table", "main")
    assert set(main_before.splitlines()) <= set(main_after.splitlines())
    assert "via 10.10.1.1 dev eth0" in lab.route_get("198.51.100.1")
    rc, again = lab.run_module(tmp_path, args)
    assert rc == 0 and not again["changed"] and again["commands"] == [], again
    assert "inet 10.20.1.100/32" in lab.host_ip("-4", "addr", "show", "dev", "eth1")


# ---- item 11: absent_interfaces never takes the host's way out -------------------------------------------------------


@pytest.mark.parametrize(
    "args, phrase",
    [
        pytest.param(
            {
                "primary_mac": PRIMARY_MAC,
                "interfaces": [PRIMARY, secondary()],
                "absent_interfaces": [{"mac": PRIMARY_MAC}],
            },
            "absent_interfaces lists 00:16:3e:0a:00:01, the primary ENI's MAC",
            id="primary-mac",
        ),
        pytest.param(
            # Spelled differently, same MAC: decided on what it resolves to.
            {
                "primary_mac": PRIMARY_MAC,
                "interfaces": [secondary()],
                "absent_interfaces": [{"mac": "00-16-3E-0A-00-01"}],
            },
            "the primary ENI's MAC",
            id="primary-mac-other-spelling",
        ),
        pytest.param(
            # A wrong primary_mac: eth0 is not "the primary" any more, but it carries the default route.
            {
                "primary_mac": SECOND_MAC,
                "interfaces": [secondary(table=None)],
                "absent_interfaces": [{"mac": PRIMARY_MAC}],
            },
            "which is eth0: it carries the route this host uses to leave (main table: default via 10.10.1.1 dev eth0",
            id="device-of-the-default-route",
        ),
    ],
)
def test_absent_interfaces_refuses_the_device_of_the_default_route(lab, tmp_path, args, phrase):
    assert_refused(lab, tmp_path, args, phrase, "absent_interfaces")


# ---- item 12: a wrong primary_mac is refused; a rollback restores what the kernel removed ---------------------------


def test_wrong_primary_mac_never_purges_the_default_route_device(lab, tmp_path):
    eth0_as_secondary = {**PRIMARY, "addresses": ["10.10.1.11"]}
    eth1_as_primary = secondary(addresses=["10.20.1.20"], table=None)
    args = {"primary_mac": SECOND_MAC, "interfaces": [eth0_as_secondary, eth1_as_primary]}
    assert_refused(
        lab,
        tmp_path,
        args,
        "ENI 00:16:3e:0a:00:01 (eth0) carries the route this host uses to leave",
        "check primary_mac",
    )
    # allow_primary_changes does not lift it.
    assert_refused(lab, tmp_path, {**args, "allow_primary_changes": True}, "carries the route this host uses to leave")


def test_gateway_check_failure_restores_the_routes_the_kernel_removed(silent_lab, tmp_path):
    lab = silent_lab
    # eth1 holds a stale address with routes that depend on it (a DHCP lease's backup default route and a static
    # route, both with that source address); the plan removes the address, so the kernel deletes them.
    lab.host_ip("addr", "add", "10.20.3.5/24", "dev", "eth1")
    lab.host_ip(
        "route",
        "add",
        "default",
        "via",
        "10.20.3.1",
        "dev",
        "eth1",
        "proto",
        "dhcp",
        "src",
        "10.20.3.5",
        "metric",
        "1001",
    )
    lab.host_ip("route", "add", "198.51.100.0/24", "via", "10.20.3.1", "dev", "eth1", "src", "10.20.3.5")
    lab.host_ip("route", "add", "10.20.9.0/24", "via", "10.20.3.1", "dev", "eth1", "table", str(TABLE))
    before = lab.state()
    rc, result = lab.run_module(tmp_path, {"primary_mac": PRIMARY_MAC, "interfaces": [PRIMARY, secondary()]})
    assert rc != 0 and result["msg"].startswith("gateway check failed: 10.20.1.1 (from 10.20.1.20 on eth1)"), result
    assert "ip -4 addr del 10.20.3.5/24 dev eth1" in result["commands"]
    # The two routes whose source address went, and the stale route of table 3000 (removed as not ours, re-added
    # by its undo step as "proto static") back in its original form.
    assert "restored 3 route(s) as they were before" in result["msg"], result["msg"]
    for route in (
        "default via 10.20.3.1 dev eth1 proto dhcp src 10.20.3.5 metric 1001 table 254",
        "198.51.100.0/24 via 10.20.3.1 dev eth1 src 10.20.3.5 table 254",
        f"10.20.9.0/24 via 10.20.3.1 dev eth1 table {TABLE}",
    ):
        assert route in result["msg"]
    assert result["rollback_errors"] == []
    assert lab.state() == before
    assert "via 10.10.1.1 dev eth0" in lab.route_get("10.30.1.5")


# ---- item 13: a foreign rule that looks up the module's table is refused, not deleted --------------------------------


@pytest.mark.parametrize(
    "rule, text",
    [
        pytest.param(
            ["from", "10.20.0.0/16", "lookup", str(TABLE), "priority", "500"],
            f"500: from 10.20.0.0/16 lookup {TABLE}",
            id="subnet-rule",
        ),
        pytest.param(
            ["from", "10.20.1.20", "lookup", str(TABLE), "priority", "700"],
            f"700: from 10.20.1.20/32 lookup {TABLE}",
            id="other-priority",
        ),
        pytest.param(
            ["fwmark", "0x10", "lookup", str(TABLE), "priority", "600"],
            f"600: from all fwmark 0x10 lookup {TABLE}",
            id="fwmark-rule",
        ),
    ],
)
def test_foreign_rule_on_the_modules_table_is_refused(lab, tmp_path, rule, text):
    lab.host_ip("rule", "add", *rule)
    result = assert_refused(
        lab,
        tmp_path,
        {"primary_mac": PRIMARY_MAC, "interfaces": [PRIMARY, secondary()]},
        f"the rule '{text}'",
        f"table {TABLE}",
        "interfaces[].table",
        "ENI 00:16:3e:0a:00:02 (eth1)",
    )
    assert "not one this module writes" in result["msg"]


def test_foreign_rule_on_an_absent_enis_table_is_refused(lab, tmp_path):
    lab.host_ip("rule", "add", "iif", "eth1", "lookup", "4000", "priority", "650")
    assert_refused(
        lab,
        tmp_path,
        {
            "primary_mac": PRIMARY_MAC,
            "interfaces": [PRIMARY],
            "absent_interfaces": [{"mac": "00:16:3e:0a:00:09", "table": 4000}],
        },
        "looks up table 4000",
        "absent_interfaces[].table",
        "absent ENI 00:16:3e:0a:00:09",
    )


# ---- item 14: a cidr that contains (or lies inside) the primary's subnet is refused ----------------------------------


@pytest.mark.parametrize(
    "cidr, address, gateway, relation",
    [
        pytest.param("10.0.0.0/8", "10.20.1.20", "10.20.1.1", "contains 10.10.1.0/24", id="contains"),
        pytest.param("10.10.0.0/16", "10.10.7.20", "10.10.7.1", "contains 10.10.1.0/24", id="contains-16"),
        pytest.param("10.10.1.128/25", "10.10.1.200", "10.10.1.129", "lies inside 10.10.1.0/24", id="inside"),
    ],
)
def test_cidr_overlapping_the_primary_subnet_is_refused(lab, tmp_path, cidr, address, gateway, relation):
    interfaces = [PRIMARY, secondary(addresses=[address], cidr=cidr, gateway=gateway)]
    assert_refused(
        lab,
        tmp_path,
        {"primary_mac": PRIMARY_MAC, "interfaces": interfaces},
        f"cidr {cidr} {relation}",
        "interfaces[].cidr",
    )
    # The rest of the VPC still leaves through the main default route.
    assert "via 10.10.1.1 dev eth0" in lab.route_get("10.30.1.5")
    # Without the primary in the input, the connected route of the default route's device protects it too.
    assert_refused(lab, tmp_path, {"primary_mac": PRIMARY_MAC, "interfaces": interfaces[1:]}, f"cidr {cidr} {relation}")


def test_cidr_equal_to_the_primary_subnet_is_a_shared_vswitch_and_accepted(lab, tmp_path):
    interfaces = [PRIMARY, secondary(addresses=["10.10.1.20"], cidr="10.10.1.0/24", gateway="10.10.1.1")]
    before = lab.state()
    rc, result = lab.run_module(tmp_path, {"primary_mac": PRIMARY_MAC, "interfaces": interfaces}, check_mode=True)
    assert rc == 0 and result["changed"] and "ip -4 addr add 10.10.1.20/24 dev eth1" in result["commands"], result
    assert lab.state() == before


# ---- check mode of a scale-down: the ENI to delete is still attached ------------------------------------------------


def test_check_mode_predicts_the_scale_down_of_an_eni_still_attached_as_the_real_run_does_it(lab, tmp_path):
    """roles/multi_eip in check mode predicts deleting an ENI but leaves it attached: the metadata still reports it
    and its NIC is still here. eni_routing's check mode predicts the real run after the deletion (its rules go; the
    kernel takes its addresses and routes with the NIC) instead of refusing it; the real run still refuses it."""
    items = {
        PRIMARY_MAC: {"gateway": "10.10.1.1", "private-ipv4s": '["10.10.1.10"]', "vswitch-cidr-block": "10.10.1.0/24"},
        SECOND_MAC: {"gateway": "10.20.1.1", "private-ipv4s": '["10.20.1.20"]', "vswitch-cidr-block": "10.20.1.0/24"},
    }
    attached = {"metadata": {"mac": PRIMARY_MAC, "macs": items}}
    rc, result = lab.run_module(tmp_path, attached)
    assert rc == 0 and result["changed"], result
    assert "from 10.20.1.20" in lab.host_ip("-4", "rule", "show")
    scale_down = {**attached, "absent_interfaces": [{"mac": SECOND_MAC}]}
    before = lab.state()
    rc, checked = lab.run_module(tmp_path, {**scale_down, "_ansible_diff": True}, check_mode=True)
    assert rc == 0 and checked["changed"], checked
    assert lab.state() == before
    assert [command for command in checked["commands"] if "10.20.1.20" in command] == [
        command for command in checked["commands"] if command.startswith("ip -4 rule del from 10.20.1.20/32")
    ] != []
    assert_refused(lab, tmp_path, scale_down, "the metadata still reports it attached")
    # The cloud deletes the ENI: its NIC goes (the veth pair), the metadata no longer reports it.
    lab.host_ip("link", "del", "eth1")
    gone = {"metadata": {"mac": PRIMARY_MAC, "macs": {PRIMARY_MAC: items[PRIMARY_MAC]}}}
    rc, applied = lab.run_module(tmp_path, {**gone, "absent_interfaces": [{"mac": SECOND_MAC}], "_ansible_diff": True})
    assert rc == 0 and applied["changed"], applied
    for key in ("commands", "interfaces", "diff"):
        assert checked[key] == applied[key], key
    assert "10.20.1.20" not in lab.host_ip("-4", "rule", "show")
    assert "via 10.10.1.1 dev eth0" in lab.route_get("198.51.100.1")
