# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The host executor (``_host_network/host.py``) and the one door (``converge.py``) on a fake command runner.

The fake kernel (``fakes.FakeKernel``) records every argument list and answers ``ip -j`` from its state, which the
``ip`` commands change; ``/proc/sys`` and the configuration files live under a temporary root.  The real kernel
runs the same executor in ``tests/unit/plugins/modules/test_eni_routing_netns.py``.
"""

from __future__ import annotations

import json
import os
import stat

import pytest
from ansible_collections.alicloud.eip.plugins.module_utils._host_network.backends import (
    render_files,
)
from ansible_collections.alicloud.eip.plugins.module_utils._host_network.converge import (
    converge,
)
from ansible_collections.alicloud.eip.plugins.module_utils._host_network.host import (
    ApplyFailed,
    choose_backend,
    plan_files,
    reload_backend,
    write_files,
)
from ansible_collections.alicloud.eip.plugins.module_utils._host_network.inventory import (
    resolve_enis,
)
from ansible_collections.alicloud.eip.plugins.module_utils._host_network.model import (
    HostNetworkError,
)
from ansible_collections.alicloud.eip.plugins.module_utils._host_network.state import (
    desired_state,
)
from ansible_collections.alicloud.eip.plugins.modules.eni_routing import argument_spec
from ansible_collections.alicloud.eip.tests.unit.plugins.module_utils.host_network.cases import (
    LINKS,
    PRIMARY,
    SECOND,
)
from ansible_collections.alicloud.eip.tests.unit.plugins.module_utils.host_network.fakes import (
    FakeKernel,
    fake_host,
)

MARKER = "Ansible managed: alicloud.eip.eni_routing"
NETWORKD_FILE = "/etc/systemd/network/05-alicloud-eni-00163e000002.network"
SYSCTL_FILE = "/etc/sysctl.d/90-alicloud-eni.conf"
SECONDARY = {
    "mac": SECOND,
    "addresses": ["10.0.2.20", "10.0.2.21"],
    "cidr": "10.0.2.0/24",
    "gateway": "10.0.2.253",
    "table": 3000,
}
PLAN = [
    "ip link set dev eth1 up",
    "ip -4 addr add 10.0.2.20/24 dev eth1",
    "ip -4 addr add 10.0.2.21/32 dev eth1",
    "ip -4 route replace 10.0.2.0/24 dev eth1 scope link src 10.0.2.20 table 3000 proto static",
    "ip -4 route replace default via 10.0.2.253 dev eth1 table 3000 proto static",
    "ip -4 rule add from 10.0.2.20/32 lookup 3000 priority 3000",
    "ip -4 rule add from 10.0.2.21/32 lookup 3000 priority 3000",
    "net.ipv4.conf.eth1.rp_filter = 2",
]
PING = "/usr/bin/ping -n -q -c 1 -W 1 -I 10.0.2.20 10.0.2.253"


def params(**overrides) -> dict:
    """The module's options with their defaults, as AnsibleModule hands them over."""
    defaults = {name: spec.get("default") for name, spec in argument_spec().items()}
    given = {"primary_mac": PRIMARY, "interfaces": [SECONDARY], "backend": "networkd", "gateway_check_attempts": 1}
    return {**defaults, **given, **overrides}


def kernel_state(kernel: FakeKernel) -> dict:
    """Everything the executor may change in the fake kernel, order-free."""
    return {
        "addresses": {device: sorted(items) for device, items in kernel.addresses.items()},
        "routes": sorted(json.dumps(route, sort_keys=True) for route in kernel.routes),
        "rules": sorted(json.dumps(rule, sort_keys=True) for rule in kernel.rules),
        "links": {link["ifname"]: list(link["flags"]) for link in kernel.links},
    }


def read(host, path: str) -> str:
    with open(host.path(path), encoding="utf-8") as handle:
        return handle.read()


# ---- the real run: apply in order, gateway check, files, reload; then nothing to do ---------------------------------


def test_converge_applies_in_order_checks_the_gateway_writes_and_reloads(tmp_path):
    host = fake_host(tmp_path, daemons=("systemd-networkd",))
    kernel = host.run_command
    warnings = []
    result = converge(params(), host, False, False, warnings.append)
    assert result["changed"] and result["commands"] == PLAN, result["commands"]
    assert kernel.mutating() == [command for command in PLAN if command.startswith("ip ")] + [PING, "networkctl reload"]
    assert read(host, "/proc/sys/net/ipv4/conf/eth1/rp_filter") == "2"
    assert result["gateways"] == [
        {"device": "eth1", "source": "10.0.2.20", "gateway": "10.0.2.253", "answered": True, "how": "ping"}
    ]
    assert result["files"] == [
        {"path": SYSCTL_FILE, "state": "written"},
        {"path": NETWORKD_FILE, "state": "written"},
    ]
    enis = resolve_enis([SECONDARY], PRIMARY, LINKS)
    for path, (content, mode) in render_files("networkd", enis, desired_state(enis), MARKER).items():
        assert read(host, "/" + path) == content
        assert stat.S_IMODE(os.stat(host.path("/" + path)).st_mode) == mode
    assert result["reloaded"] == ["networkctl reload"] and warnings == []
    assert kernel.addresses["eth1"] == [("10.0.2.20", 24), ("10.0.2.21", 32)]

    # Second run: the fake kernel now holds what was applied; only the gateway check runs.
    kernel.calls.clear()
    again = converge(params(), host, False, False, warnings.append)
    assert not again["changed"] and again["commands"] == [] and again["reloaded"] == []
    assert {item["state"] for item in again["files"]} == {"unchanged"}
    assert kernel.mutating() == [PING]


def test_check_mode_reads_only_and_predicts_the_real_run(tmp_path):
    host = fake_host(tmp_path, daemons=("systemd-networkd",))
    kernel = host.run_command
    before = kernel_state(kernel)
    result = converge(params(), host, True, True, [].append)
    assert result["commands"] == PLAN and result["changed"]
    assert kernel.mutating() == [] and kernel_state(kernel) == before
    assert not os.path.exists(host.path(NETWORKD_FILE))
    assert read(host, "/proc/sys/net/ipv4/conf/eth1/rp_filter") == "1\n"
    assert "address 10.0.2.21/32 dev eth1" in result["diff"]["after"]["runtime"]
    assert "address 10.0.2.21/32 dev eth1" not in result["diff"]["before"]["runtime"]
    assert result["diff"]["before"][NETWORKD_FILE] is None and result["diff"]["after"][NETWORKD_FILE]


# ---- rollback ----------------------------------------------------------------------------------------------------


def test_a_failing_step_rolls_back_what_was_applied_in_reverse(tmp_path):
    host = fake_host(tmp_path)
    kernel = host.run_command
    before = kernel_state(kernel)
    kernel.fail = {PLAN[6]}
    with pytest.raises(ApplyFailed) as raised:
        converge(params(), host, False, False, [].append)
    assert str(raised.value).startswith(
        f"applying 'rule 3000: from 10.0.2.21/32 lookup 3000' failed: '{PLAN[6]}' failed (rc=2): RTNETLINK answers: "
        "Operation not permitted; rolled back 6 runtime change(s)"
    ), str(raised.value)
    assert raised.value.details == {"rollback_errors": [], "restored_routes": []}
    assert kernel.mutating() == PLAN[:7] + [
        "ip -4 rule del from 10.0.2.20/32 lookup 3000 priority 3000",
        "ip -4 route del default via 10.0.2.253 dev eth1 table 3000",
        "ip -4 route del 10.0.2.0/24 dev eth1 scope link src 10.0.2.20 table 3000",
        "ip -4 addr del 10.0.2.21/32 dev eth1",
        "ip -4 addr del 10.0.2.20/24 dev eth1",
        "ip link set dev eth1 down",
    ]
    assert kernel_state(kernel) == before
    assert not os.path.exists(host.path(NETWORKD_FILE))


def test_a_silent_gateway_rolls_back_and_restores_the_routes_the_kernel_removed(tmp_path):
    kernel = FakeKernel()
    # A stale address on eth1 with a main-table route whose source it is: the plan removes the address, the
    # (fake) kernel drops the route with it, and no undo step brings that route back.
    kernel.addresses["eth1"] = [("10.0.2.99", 32)]
    kernel.routes.append(
        {"dst": "198.51.100.0/24", "gateway": "10.0.2.253", "dev": "eth1", "prefsrc": "10.0.2.99", "flags": []}
    )
    kernel.ping = 1
    kernel.neighbours = [{"dst": "10.0.2.253", "dev": "eth1", "state": ["FAILED"]}]
    host = fake_host(tmp_path, kernel)
    before = kernel_state(kernel)
    with pytest.raises(ApplyFailed) as raised:
        converge(params(gateway_check_attempts=2), host, False, False, [].append)
    message = str(raised.value)
    assert message.startswith("gateway check failed: 10.0.2.253 (from 10.0.2.20 on eth1) did not answer; rolled back 9")
    restored = "198.51.100.0/24 via 10.0.2.253 dev eth1 src 10.0.2.99 table 254"
    assert "restored 1 route(s) as they were before" in message and restored in message
    assert message.endswith(", wrote no file")
    details = raised.value.details
    assert details["restored_routes"] == [restored] and details["rollback_errors"] == []
    assert "ip -4 addr del 10.0.2.99/32 dev eth1" in details["commands"]
    assert [item["answered"] for item in details["gateways"]] == [False]
    assert kernel.mutating().count(PING) == 2
    assert kernel.mutating()[-1] == f"ip -4 route replace {restored}"
    assert kernel_state(kernel) == before
    assert not os.path.exists(host.path(NETWORKD_FILE)) and not os.path.exists(host.path(SYSCTL_FILE))
    assert read(host, "/proc/sys/net/ipv4/conf/eth1/rp_filter") == "1"


@pytest.mark.parametrize(
    "state, answered",
    [(["REACHABLE"], True), (["STALE"], True), (["FAILED"], False), (["INCOMPLETE"], False)],
)
def test_without_ping_an_arp_reply_answers_the_gateway_check(tmp_path, state, answered):
    kernel = FakeKernel()
    kernel.neighbours = [{"dst": "10.0.2.253", "dev": "eth1", "lladdr": "ee:ff:ff:ff:ff:ff", "state": state}]
    host = fake_host(tmp_path, kernel, commands=())
    if answered:
        result = converge(params(), host, False, False, [].append)
        assert result["gateways"][0]["how"] == "arp"
    else:
        with pytest.raises(ApplyFailed, match="gateway check failed"):
            converge(params(), host, False, False, [].append)
    assert not any("ping" in command for command in kernel.mutating())


def test_no_gateway_check_when_it_is_off(tmp_path):
    host = fake_host(tmp_path)
    host.run_command.ping = 1
    result = converge(params(gateway_check=False), host, False, False, [].append)
    assert result["gateways"] == [] and PING not in host.run_command.mutating()


# ---- files -------------------------------------------------------------------------------------------------------


def test_files_are_written_with_their_mode_and_stale_managed_ones_removed(tmp_path):
    host = fake_host(tmp_path)
    enis = resolve_enis([SECONDARY], PRIMARY, LINKS)
    desired = desired_state(enis)
    directory = host.path("/etc/NetworkManager/system-connections")
    os.makedirs(directory)
    stale = os.path.join(directory, "alicloud-eni-00163e000009.nmconnection")
    foreign = os.path.join(directory, "alicloud-eni-00163e000008.nmconnection")
    with open(stale, "w", encoding="utf-8") as handle:
        handle.write(f"# {MARKER}\n[connection]\n")
    with open(foreign, "w", encoding="utf-8") as handle:
        handle.write("[connection]\nid=written by someone else\n")
    plans = plan_files(host, "nm", enis, desired, MARKER)
    assert [(plan["path"], plan["state"]) for plan in plans] == [
        ("/etc/NetworkManager/system-connections/alicloud-eni-00163e000002.nmconnection", "written"),
        (SYSCTL_FILE, "written"),
        ("/etc/NetworkManager/system-connections/alicloud-eni-00163e000009.nmconnection", "removed"),
    ]
    write_files(host, plans)
    keyfile = host.path(plans[0]["path"])
    assert stat.S_IMODE(os.stat(keyfile).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(host.path(SYSCTL_FILE)).st_mode) == 0o644
    assert not os.path.exists(stale) and os.path.exists(foreign)
    assert not [name for name in os.listdir(directory) if name.endswith(".tmp")]
    assert {plan["state"] for plan in plan_files(host, "nm", enis, desired, MARKER)} == {"unchanged"}
    # Same content, wrong mode: written again.
    os.chmod(keyfile, 0o644)
    assert plan_files(host, "nm", enis, desired, MARKER)[0]["state"] == "written"


# ---- reload and detection per backend ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "backend, daemons, expected",
    [
        ("networkd", ("systemd-networkd",), ["networkctl reload"]),
        ("networkd", (), []),
        ("netplan", ("systemd-networkd",), ["netplan generate", "networkctl reload"]),
        ("netplan", (), ["netplan generate"]),
        ("nm", ("NetworkManager",), ["nmcli connection reload"]),
        # The fake root always has a NetworkManager in another network namespace: it does not count.
        ("nm", ("systemd-networkd",), []),
        ("ifcfg", ("NetworkManager", "systemd-networkd"), []),
        ("none", ("NetworkManager", "systemd-networkd"), []),
    ],
)
def test_reload_per_backend_only_when_its_daemon_runs_here(tmp_path, backend, daemons, expected):
    host = fake_host(tmp_path, daemons=daemons)
    written = [{"path": "/etc/somewhere/file", "state": "written"}]
    assert reload_backend(host, backend, written) == expected
    assert host.run_command.mutating() == expected
    # Nothing reloads when no file of the backend changed (the sysctl file is not the backend's).
    unchanged = [{"path": "/etc/somewhere/file", "state": "unchanged"}, {"path": SYSCTL_FILE, "state": "written"}]
    assert reload_backend(host, backend, unchanged) == []


NETPLAN_NETWORKD = "network:\n  version: 2\n  renderer: networkd\n"
NETPLAN_NM = "network:\n  version: 2\n  renderer: NetworkManager\n"


@pytest.mark.parametrize(
    "netplan, commands, ifcfg_dir, daemons, expected",
    [
        (NETPLAN_NETWORKD, ("netplan",), False, ("systemd-networkd",), ("netplan", "netplan files render")),
        (NETPLAN_NM, ("netplan",), False, (), ("nm", "netplan renders to NetworkManager")),
        (NETPLAN_NETWORKD, ("netplan",), False, ("NetworkManager",), ("nm", "NetworkManager is running")),
        (None, (), False, ("systemd-networkd",), ("networkd", "systemd-networkd is running")),
        # netplan files without the netplan command: networkd reads its own files.
        (NETPLAN_NETWORKD, (), False, ("systemd-networkd",), ("networkd", "systemd-networkd is running")),
        (None, (), True, (), ("ifcfg", "/etc/sysconfig/network-scripts exists")),
    ],
)
def test_detection_reads_the_host(tmp_path, netplan, commands, ifcfg_dir, daemons, expected):
    host = fake_host(tmp_path, commands=commands, daemons=daemons)
    if netplan:
        os.makedirs(host.path("/etc/netplan"))
        with open(host.path("/etc/netplan/50-cloud-init.yaml"), "w", encoding="utf-8") as handle:
            handle.write(netplan)
    if ifcfg_dir:
        os.makedirs(host.path("/etc/sysconfig/network-scripts"))
    backend, reason = choose_backend("auto", host)
    assert backend == expected[0] and reason.startswith(expected[1]), reason
    assert choose_backend("ifcfg", host) == ("ifcfg", "given")


def test_keep_addresses_never_lifts_the_way_out_check(tmp_path):
    """A wrong primary_mac makes eth0 (the default route's device) a secondary ENI: refused, whatever is kept."""
    host = fake_host(tmp_path)
    eth0_as_secondary = {"mac": PRIMARY, "addresses": ["10.0.1.10"], "cidr": "10.0.1.0/24", "gateway": "10.0.1.253"}
    eth1_as_primary = {**SECONDARY, "table": None}
    for keep in ([], ["0.0.0.0/0"], ["10.0.1.10"]):
        args = params(primary_mac=SECOND, interfaces=[eth0_as_secondary, eth1_as_primary], keep_addresses=keep)
        with pytest.raises(HostNetworkError, match=r"\(eth0\) carries the route this host uses to leave"):
            converge(args, host, False, False, [].append)
    assert host.run_command.mutating() == []


def test_keep_addresses_through_the_door(tmp_path):
    kernel = FakeKernel()
    kernel.addresses["eth1"] = [("10.0.2.100", 32)]
    host = fake_host(tmp_path, kernel)
    result = converge(params(keep_addresses=["10.0.2.100"]), host, False, False, [].append)
    assert not any("10.0.2.100" in command for command in result["commands"])
    assert ("10.0.2.100", 32) in kernel.addresses["eth1"]
    assert "10.0.2.100" not in read(host, NETWORKD_FILE)
    with pytest.raises(HostNetworkError, match=r"keep_addresses\[0\]: 'vip' is not an IPv4 address"):
        converge(params(keep_addresses=["vip"]), host, False, False, [].append)
