# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The host part of a scale-down in check mode (roles/multi_eip -> roles/eni_host -> eni_routing).

The cloud part of a check-mode scale-down predicts deleting a surplus ENI but leaves it attached: the metadata still
reports it and its NIC is still on the host when eni_routing is handed it in ``absent_interfaces``.  In check mode
eni_routing predicts what the real run does once the ENI is gone (its rules removed; the kernel took its addresses
and routes with the NIC), instead of refusing it as "still attached"; the real run keeps refusing an ENI the
metadata still reports, and the host's way out stays guarded in both.
"""

from __future__ import annotations

import copy

import pytest
from ansible_collections.alicloud.eip.plugins.module_utils._host_network.converge import (
    converge,
)
from ansible_collections.alicloud.eip.plugins.module_utils._host_network.model import (
    HostNetworkError,
)
from ansible_collections.alicloud.eip.plugins.modules.eni_routing import argument_spec
from ansible_collections.alicloud.eip.tests.unit.plugins.module_utils.host_network.cases import (
    PRIMARY,
    SECOND,
    THIRD,
)
from ansible_collections.alicloud.eip.tests.unit.plugins.module_utils.host_network.fakes import (
    fake_host,
)

METADATA = {
    "mac": PRIMARY,
    "macs": {
        PRIMARY: {"gateway": "10.0.1.253", "private-ipv4s": '["10.0.1.10"]', "vswitch-cidr-block": "10.0.1.0/24"},
        SECOND: {"gateway": "10.0.2.253", "private-ipv4s": '["10.0.2.20"]', "vswitch-cidr-block": "10.0.2.0/24"},
        THIRD: {"gateway": "10.0.3.253", "private-ipv4s": '["10.0.3.30"]', "vswitch-cidr-block": "10.0.3.0/24"},
    },
}


def params(**overrides) -> dict:
    defaults = {name: spec.get("default") for name, spec in argument_spec().items()}
    given = {"metadata": METADATA, "backend": "networkd", "gateway_check": False, "reload": False}
    return {**defaults, **given, **overrides}


def without_third(metadata: dict) -> dict:
    gone = copy.deepcopy(metadata)
    del gone["macs"][THIRD]
    return gone


@pytest.fixture
def host(tmp_path):
    """A host with three ENIs (eth0 primary, eth1 and eth2 secondary), all configured by a real run."""
    host = fake_host(tmp_path, sysctls={"net/ipv4/conf/eth2/rp_filter": "1"})
    kernel = host.run_command
    kernel.links.append({"ifname": "eth2", "flags": [], "link_type": "ether", "address": THIRD})
    kernel.addresses["eth2"] = []
    converge(params(), host, False, False, [].append)
    assert any(rule.get("src") == "10.0.3.30" for rule in kernel.rules)
    kernel.calls.clear()
    return host


def detach_third(kernel) -> None:
    """What the cloud's deletion of the ENI does to the host: its NIC goes, with its addresses and routes."""
    kernel.links = [link for link in kernel.links if link["address"] != THIRD]
    del kernel.addresses["eth2"]
    kernel.routes = [route for route in kernel.routes if route.get("dev") != "eth2"]


def test_check_mode_predicts_the_scale_down_the_real_run_does_after_the_eni_is_gone(host):
    kernel = host.run_command
    scale_down = params(absent_interfaces=[{"mac": THIRD}])
    # Check mode: the ENI is still attached (metadata) and its NIC still on the host.
    checked = converge(scale_down, host, True, True, [].append)
    assert kernel.mutating() == []
    assert checked["changed"]
    assert [item["mac"] for item in checked["interfaces"]] == [PRIMARY, SECOND]
    assert any("10.0.3.30" in command and command.startswith("ip -4 rule del") for command in checked["commands"])

    # The real run, after the cloud part deleted the ENI: the metadata no longer reports it, its NIC is gone.
    detach_third(kernel)
    real_params = {**scale_down, "metadata": without_third(METADATA)}
    applied = converge(real_params, host, False, True, [].append)
    assert applied["changed"]
    for key in ("changed", "commands", "files", "interfaces", "diff"):
        assert checked[key] == applied[key], key
    assert not [rule for rule in kernel.rules if rule.get("src") == "10.0.3.30"]
    again = converge(real_params, host, False, False, [].append)
    assert not again["changed"] and again["commands"] == []


def test_the_real_run_still_refuses_an_eni_the_metadata_still_reports(host):
    with pytest.raises(HostNetworkError, match=r"absent_interfaces\[0\], and the metadata still reports it attached"):
        converge(params(absent_interfaces=[{"mac": THIRD}]), host, False, False, [].append)
    assert host.run_command.mutating() == []


def test_check_mode_still_refuses_an_eni_listed_in_interfaces_and_as_absent(host):
    explicit = [{"mac": THIRD, "addresses": ["10.0.3.30"], "cidr": "10.0.3.0/24", "gateway": "10.0.3.253"}]
    with pytest.raises(HostNetworkError, match=r"absent_interfaces\[0\] and interfaces\[0\]"):
        converge(params(interfaces=explicit, absent_interfaces=[{"mac": THIRD}]), host, True, False, [].append)


def test_check_mode_never_predicts_the_way_out_away(host):
    kernel = host.run_command
    # The main default route moved onto eth2: check mode does not predict that ENI detached (the host would lose its
    # way out), so it is refused as in the real run; once detached in the metadata, the way-out guard refuses it.
    for route in kernel.routes:
        if route.get("dst") == "default" and "table" not in route:
            route.update(dev="eth2", gateway="10.0.3.253", prefsrc="10.0.3.30")
    with pytest.raises(HostNetworkError, match="the metadata still reports it attached"):
        converge(params(absent_interfaces=[{"mac": THIRD}]), host, True, False, [].append)
    with pytest.raises(HostNetworkError, match="it carries the route this host uses to leave"):
        converge(
            params(absent_interfaces=[{"mac": THIRD}], metadata=without_third(METADATA)), host, True, False, [].append
        )
    assert kernel.mutating() == []
    with pytest.raises(HostNetworkError, match="the primary ENI's MAC"):
        converge(params(absent_interfaces=[{"mac": PRIMARY}]), host, True, False, [].append)
