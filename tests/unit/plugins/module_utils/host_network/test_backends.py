# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Renderers (golden files under ``../host_network_golden/<case>/``) and backend detection (``_host_network/backends.py``).

Set ``ALICLOUD_EIP_UPDATE_GOLDEN=1`` to rewrite the golden files after an intended change, then review the diff.
"""

from __future__ import annotations

import fnmatch
import os

import pytest
import yaml
from ansible_collections.alicloud.eip.plugins.module_utils._host_network.backends import (
    BACKEND_CLASSES,
    BACKENDS,
    NETWORK_DAEMONS,
    SYSCTL_FILE,
    HostFacts,
    detect_backend,
    is_managed_file,
    render_files,
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
    CASES,
    GOLDEN,
    LINKS,
    MARKER,
    PRIMARY,
    THIRD,
    enis_for,
)

# ---- renderers (golden files) ---------------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["networkd", "nm", "netplan", "ifcfg"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_render_files_golden(case, backend):
    enis = enis_for(case)
    files = render_files(backend, enis, desired_state(enis), MARKER)
    directory = os.path.join(GOLDEN, case, backend)
    if os.environ.get("ALICLOUD_EIP_UPDATE_GOLDEN"):
        for relative, (content, _mode) in files.items():
            os.makedirs(os.path.dirname(os.path.join(directory, relative)), exist_ok=True)
            with open(os.path.join(directory, relative), "w", encoding="utf-8") as handle:
                handle.write(content)
    expected = {}
    for root, _dirs, names in os.walk(directory):
        for name in names:
            with open(os.path.join(root, name), encoding="utf-8") as handle:
                expected[os.path.relpath(os.path.join(root, name), directory)] = handle.read()
    assert expected, f"no golden files in {directory}"
    assert {path: content for path, (content, _mode) in files.items()} == expected
    for path, (content, mode) in files.items():
        assert content.startswith(f"# {MARKER}\n")
        assert mode == (0o600 if backend in ("nm", "netplan") and not path.startswith("etc/sysctl.d") else 0o644)


def test_render_files_never_writes_the_primary():
    enis = enis_for("nat")
    for backend in ("networkd", "nm", "ifcfg"):
        paths = render_files(backend, enis, desired_state(enis), MARKER)
        assert not any("000001" in path or "eth0" in path for path in paths)
    assert render_files("none", enis, desired_state(enis), MARKER) == {}


def test_render_files_puts_the_internal_rule_in_one_file_only():
    specs = CASES["cut_through"] + [
        {
            "mac": THIRD,
            "mode": "cut_through",
            "addresses": ["203.0.113.20"],
            "cidr": "203.0.113.16/28",
            "gateway": "203.0.113.17",
        }
    ]
    enis = resolve_enis(specs, PRIMARY, LINKS)
    files = render_files("networkd", enis, desired_state(enis), MARKER)
    assert sum(content.count("To=100.64.0.0/10") for content, _mode in files.values()) == 1


def test_render_files_unknown_backend():
    with pytest.raises(HostNetworkError, match="unknown backend 'wicked'"):
        render_files("wicked", enis_for("nat"), desired_state(enis_for("nat")), MARKER)


@pytest.mark.parametrize(
    "content, managed",
    [(f"# {MARKER}\n[Match]\n", True), ("[Match]\n", False), (f"#{MARKER}\n", False), ("", False)],
)
def test_is_managed_file(content, managed):
    assert is_managed_file(content, MARKER) is managed


# ---- detection ----------------------------------------------------------------------------------------------

NETPLAN_NETWORKD = "network:\n  version: 2\n  renderer: networkd\n"
NETPLAN_NM = "network:\n  version: 2\n  renderer: NetworkManager\n"


@pytest.mark.parametrize(
    "daemons, netplan_texts, has_netplan, has_ifcfg, backend",
    [
        (set(), [NETPLAN_NETWORKD], True, False, "netplan"),
        ({"systemd-networkd"}, [NETPLAN_NETWORKD], True, False, "netplan"),
        (set(), ["network: {version: 2}\n"], True, False, "netplan"),
        (set(), [NETPLAN_NM], True, False, "nm"),
        ({"NetworkManager"}, [NETPLAN_NETWORKD], True, False, "nm"),
        ({"NetworkManager"}, [], False, True, "nm"),
        ({"systemd-networkd"}, [], False, True, "networkd"),
        ({"systemd-networkd"}, [NETPLAN_NETWORKD], False, False, "networkd"),
        (set(), [], False, True, "ifcfg"),
    ],
)
def test_detect_backend(daemons, netplan_texts, has_netplan, has_ifcfg, backend):
    assert detect_backend(daemons, netplan_texts, has_netplan, has_ifcfg)[0] == backend


def test_detect_backend_refuses_to_guess():
    with pytest.raises(HostNetworkError, match="could not tell which network stack"):
        detect_backend(set(), [], False, False)


# ---- one class per backend: the table the rest reads ------------------------------------------------------------


@pytest.mark.parametrize("backend", sorted(BACKEND_CLASSES))
@pytest.mark.parametrize("case", sorted(CASES))
def test_every_file_a_backend_writes_matches_its_patterns(case, backend):
    """Stale files are found by the patterns; a file they miss would never be removed."""
    chosen = BACKEND_CLASSES[backend]
    enis = enis_for(case)
    files = render_files(backend, enis, desired_state(enis), MARKER)
    written = [path for path in files if path != SYSCTL_FILE]
    assert written
    for path in written:
        directory, name = os.path.split(path)
        assert directory == chosen.directory
        assert any(fnmatch.fnmatch(name, pattern) for pattern in chosen.patterns), (path, chosen.patterns)
        assert files[path][1] == chosen.file_mode


def test_the_backend_table_feeds_the_module_choices_and_the_daemons():

    assert argument_spec()["backend"]["choices"] == ["auto", "networkd", "nm", "netplan", "ifcfg", "none"]
    assert BACKENDS == ("networkd", "nm", "netplan", "ifcfg", "none")
    assert NETWORK_DAEMONS == ("NetworkManager", "systemd-networkd")
    assert sorted(backend.rank for backend in BACKEND_CLASSES.values()) == [1, 2, 3, 4]
    # The role eni_host validates its inputs before calling the module: the same choices, the same keep default.
    collection = os.path.abspath(os.path.join(os.path.dirname(__file__), *[".."] * 5))
    with open(os.path.join(collection, "roles/eni_host/meta/argument_specs.yml"), encoding="utf-8") as handle:
        role = yaml.safe_load(handle)["argument_specs"]["main"]["options"]
    assert role["eni_host_backend"]["choices"] == argument_spec()["backend"]["choices"]
    assert role["eni_host_keep_addresses"]["default"] == argument_spec()["keep_addresses"]["default"] == []


@pytest.mark.parametrize(
    "backend, facts, reason",
    [
        ("networkd", HostFacts(frozenset({"systemd-networkd"}), (), False, False), "systemd-networkd is running"),
        ("networkd", HostFacts(frozenset({"NetworkManager"}), (), False, True), None),
        ("nm", HostFacts(frozenset({"NetworkManager"}), (), False, False), "NetworkManager is running"),
        ("nm", HostFacts(frozenset(), (NETPLAN_NM,), True, False), "netplan renders to NetworkManager"),
        ("nm", HostFacts(frozenset({"systemd-networkd"}), (NETPLAN_NETWORKD,), True, False), None),
        (
            "netplan",
            HostFacts(frozenset(), (NETPLAN_NETWORKD,), True, False),
            "netplan files render to systemd-networkd",
        ),
        ("netplan", HostFacts(frozenset(), (NETPLAN_NETWORKD,), False, False), None),
        ("netplan", HostFacts(frozenset({"NetworkManager"}), (NETPLAN_NETWORKD,), True, False), None),
        ("ifcfg", HostFacts(frozenset(), (), False, True), "/etc/sysconfig/network-scripts exists"),
        ("ifcfg", HostFacts(frozenset({"systemd-networkd"}), (), False, False), None),
    ],
)
def test_detect_per_backend(backend, facts, reason):
    found = BACKEND_CLASSES[backend].detect(facts)
    if reason is None:
        assert found is None
    else:
        assert found is not None and found.startswith(reason), found
