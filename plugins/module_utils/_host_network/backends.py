# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note: this module util is PRIVATE to the collection. It can change at any time; do not use it from
# other collections or standalone plugins/modules.

"""Persistent configuration: one class per network stack (systemd-networkd, NetworkManager keyfiles, netplan, RHEL
ifcfg), each holding in one place its directory, the patterns of the files it may have written, their mode, how to
render them, how to tell that the host runs it, and how to reload it.

Adding a stack is one class here plus its entry in ``BACKEND_CLASSES``; the module's ``backend`` choices, the
detection order, the daemons looked for and the reload commands all follow from that table."""

from __future__ import annotations

import re
import uuid
from typing import NamedTuple

from ansible_collections.alicloud.eip.plugins.module_utils._host_network.model import (
    FILE_PREFIX,
    INTERNAL_RANGE,
    INTERNAL_RULE_PRIORITY,
    MAIN_TABLE,
    Eni,
    HostNetworkError,
    Route,
    Rule,
    eni_tables,
    route_argv,
    rule_argv,
)


def _marker_lines(marker: str) -> list[str]:
    return [f"# {line}".rstrip() for line in (marker or "").splitlines() or [""]]


def _file_id(eni: Eni) -> str:
    return FILE_PREFIX + eni.mac.replace(":", "")


def _eni_routes_rules(eni: Eni, state: dict) -> tuple[list[Route], list[Rule]]:
    tables = set(eni_tables(eni))
    routes = [route for route in state["routes"] if route.table in tables]
    rules = [rule for rule in state["rules"] if rule.table in tables]
    return routes, rules


def _internal_rule_owner(enis: list[Eni]) -> str | None:
    """The one cut-through ENI whose file carries the 100.64.0.0/10 rule (the lowest MAC), or None."""
    owners = sorted(eni.mac for eni in enis if eni.mode == "cut_through")
    return owners[0] if owners else None


def _eni_file_rules(eni: Eni, enis: list[Eni], state: dict) -> list[Rule]:
    rules = _eni_routes_rules(eni, state)[1]
    if eni.mac == _internal_rule_owner(enis):
        rules = [Rule(INTERNAL_RULE_PRIORITY, MAIN_TABLE, dst=INTERNAL_RANGE)] + rules
    return rules


def _route_fields(route: Route, gateway: str, scope: str, src: str, table: str) -> list[str]:
    """The set fields of a route after its destination, in file order, each spelled by its template."""
    items = ((gateway, route.gateway), (scope, route.scope), (src, route.src), (table, str(route.table)))
    return [template.format(value) for template, value in items if value]


def _rule_fields(rule: Rule, src: str, dst: str) -> list[str]:
    """The set selectors of a rule (source, destination), each spelled by its template."""
    return [template.format(value) for template, value in ((src, rule.src), (dst, rule.dst)) if value]


def render_sysctl(sysctls: dict[str, str], marker: str) -> str:
    """``/etc/sysctl.d`` file with the per-interface settings (slash form, safe for names with dots)."""
    lines = _marker_lines(marker) + [f"{key} = {value}" for key, value in sorted(sysctls.items())]
    return "\n".join(lines) + "\n"


def is_managed_file(content: str, marker: str) -> bool:
    """Whether a file starts with our marker, i.e. this module wrote it and may replace or remove it."""
    head = _marker_lines(marker)
    return content.splitlines()[: len(head)] == head


def netplan_renderers(netplan_texts: list[str]) -> set[str]:
    """Renderers named in netplan files (``renderer: NetworkManager`` / ``networkd``), without a YAML parser."""
    found = set()
    for text in netplan_texts:
        for match in re.finditer(r"^\s*renderer:\s*[\"']?([A-Za-z]+)", text, re.MULTILINE):
            found.add(match.group(1))
    return found


class HostFacts(NamedTuple):
    """What detection looks at: the network daemons running in this network namespace (``NetworkManager``,
    ``systemd-networkd``), the contents of ``/etc/netplan/*.yaml``, whether the ``netplan`` command exists and
    whether ``/etc/sysconfig/network-scripts`` does."""

    daemons: frozenset
    netplan_texts: tuple
    has_netplan: bool
    has_ifcfg_dir: bool

    @property
    def netplan_renderers(self) -> set[str]:
        return netplan_renderers(list(self.netplan_texts))


class Backend:
    """One network stack that persists the ENIs' configuration.

    ``directory`` is relative to ``/``; ``patterns`` are globs (in ``directory``) of every file this module may have
    written, so that stale ones (carrying the marker) are removed; ``daemon`` is the daemon whose running in this
    network namespace makes a reload useful; ``rank`` orders detection (lowest first).
    """

    name = ""
    directory = ""
    patterns: tuple[str, ...] = ()
    file_mode = 0o644
    daemon: str | None = None
    rank = 0

    def files(self, secondary: list[Eni], enis: list[Eni], state: dict, marker: str) -> dict[str, str]:
        """File name (in ``directory``) -> content, for the secondary ENIs (never the primary's profile)."""
        return {name: self.render_eni(eni, enis, state, marker) for name, eni in self.names(secondary)}

    def names(self, secondary: list[Eni]) -> list[tuple[str, Eni]]:
        raise NotImplementedError

    def render_eni(self, eni: Eni, enis: list[Eni], state: dict, marker: str) -> str:
        raise NotImplementedError

    def detect(self, facts: HostFacts) -> str | None:
        """Why the host runs this stack, or None."""
        raise NotImplementedError

    def reload_commands(self, daemons: set[str]) -> list[list[str]]:
        """What makes the running stack read changed files; nothing when its daemon does not run here."""
        return []


class Networkd(Backend):
    """systemd-networkd ``.network`` files; they sort before ``10-netplan-*`` because networkd uses only the first
    matching ``.network`` file (host-networking.md pitfall 4)."""

    name = "networkd"
    directory = "etc/systemd/network"
    patterns = (f"05-{FILE_PREFIX}*.network",)
    daemon = "systemd-networkd"
    rank = 3

    def names(self, secondary: list[Eni]) -> list[tuple[str, Eni]]:
        return [(f"05-{_file_id(eni)}.network", eni) for eni in secondary]

    def render_eni(self, eni: Eni, enis: list[Eni], state: dict, marker: str) -> str:
        """A systemd-networkd ``.network`` file for one secondary ENI (static addresses, own table, rules)."""
        lines = _marker_lines(marker) + [
            "[Match]",
            f"MACAddress={eni.mac}",
            "",
            "[Link]",
            "RequiredForOnline=no",
            "",
            "[Network]",
            "DHCP=no",
            "LinkLocalAddressing=no",
            "IPv6AcceptRA=no",
        ]
        for cidr in state["addresses"][eni.device]:
            lines += ["", "[Address]", f"Address={cidr}"]
        routes = _eni_routes_rules(eni, state)[0]
        for route in routes:
            lines += ["", "[Route]"] + ([f"Destination={route.dst}"] if route.dst != "default" else [])
            lines += _route_fields(route, "Gateway={}", "Scope={}", "PreferredSource={}", "Table={}")
        for rule in _eni_file_rules(eni, enis, state):
            lines += ["", "[RoutingPolicyRule]"] + _rule_fields(rule, "From={}", "To={}")
            lines += [f"Table={'main' if rule.table == MAIN_TABLE else rule.table}", f"Priority={rule.priority}"]
        return "\n".join(lines) + "\n"

    def detect(self, facts: HostFacts) -> str | None:
        return "systemd-networkd is running" if self.daemon in facts.daemons else None

    def reload_commands(self, daemons: set[str]) -> list[list[str]]:
        return [["networkctl", "reload"]] if self.daemon in daemons else []


class NetworkManager(Backend):
    """NetworkManager keyfiles (private: mode 0600); the running profile is left alone at reload, the keyfile wins
    at the next activation by its autoconnect priority."""

    name = "nm"
    directory = "etc/NetworkManager/system-connections"
    patterns = (f"{FILE_PREFIX}*.nmconnection",)
    file_mode = 0o600
    daemon = "NetworkManager"
    rank = 2

    def names(self, secondary: list[Eni]) -> list[tuple[str, Eni]]:
        return [(f"{_file_id(eni)}.nmconnection", eni) for eni in secondary]

    def render_eni(self, eni: Eni, enis: list[Eni], state: dict, marker: str) -> str:
        """A NetworkManager keyfile for one secondary ENI; every routing rule carries its priority (NM needs it)."""
        name = _file_id(eni)
        lines = _marker_lines(marker) + [
            "[connection]",
            f"id={name}",
            f"uuid={uuid.uuid5(uuid.NAMESPACE_URL, 'alicloud.eip:' + eni.mac)}",
            "type=ethernet",
            "autoconnect-priority=50",
            "",
            "[ethernet]",
            f"mac-address={eni.mac.upper()}",
            "",
            "[ipv4]",
            "method=manual",
        ]
        for index, cidr in enumerate(state["addresses"][eni.device], start=1):
            lines.append(f"address{index}={cidr}")
        lines.append("never-default=true")
        routes = _eni_routes_rules(eni, state)[0]
        for index, route in enumerate(routes, start=1):
            dst = "0.0.0.0/0" if route.dst == "default" else route.dst
            lines.append(f"route{index}={dst},{route.gateway}" if route.gateway else f"route{index}={dst}")
            options = [f"table={route.table}"]
            if route.src:
                options.append(f"src={route.src}")
            lines.append(f"route{index}_options={','.join(options)}")
        for index, rule in enumerate(_eni_file_rules(eni, enis, state), start=1):
            # NetworkManager writes host prefixes without "/32"; so does this, so that a round trip is exact.
            words = [f"priority {rule.priority}"]
            if rule.src:
                words.append(f"from {rule.src.removesuffix('/32')}")
            if rule.dst:
                words.append(f"to {rule.dst.removesuffix('/32')}")
            words.append(f"table {rule.table}")
            lines.append(f"routing-rule{index}={' '.join(words)}")
        lines += ["", "[ipv6]", "method=disabled", ""]
        return "\n".join(lines)

    def detect(self, facts: HostFacts) -> str | None:
        if self.daemon in facts.daemons:
            return "NetworkManager is running"
        if facts.netplan_texts and "NetworkManager" in facts.netplan_renderers:
            return "netplan renders to NetworkManager, which drops routing-policy (netplan 0.106); using keyfiles"
        return None

    def reload_commands(self, daemons: set[str]) -> list[list[str]]:
        return [["nmcli", "connection", "reload"]] if self.daemon in daemons else []


class Netplan(Backend):
    """One netplan file for every secondary ENI (private: mode 0600), rendered by systemd-networkd."""

    name = "netplan"
    directory = "etc/netplan"
    patterns = ("90-alicloud-eni.yaml",)
    file_mode = 0o600
    daemon = "systemd-networkd"
    rank = 1

    def files(self, secondary: list[Eni], enis: list[Eni], state: dict, marker: str) -> dict[str, str]:
        return {self.patterns[0]: self.render_all(enis, state, marker)} if secondary else {}

    def render_all(self, enis: list[Eni], state: dict, marker: str) -> str:
        """One netplan file for every secondary ENI, each pinned to the networkd renderer.

        netplan 0.106 silently drops ``routing-policy`` under the NetworkManager renderer (test-infra.md §4), so
        the renderer is set per device; a host whose netplan renders to NetworkManager gets keyfiles instead
        (``detect_backend``).
        """
        lines = _marker_lines(marker) + ["network:", "  version: 2", "  ethernets:"]
        for eni in sorted((eni for eni in enis if not eni.primary), key=lambda item: item.mac):
            routes = _eni_routes_rules(eni, state)[0]
            lines += [
                f"    {_file_id(eni)}:",
                "      renderer: networkd",
                f'      match: {{macaddress: "{eni.mac}"}}',
                "      dhcp4: false",
                "      dhcp6: false",
                "      link-local: []",
                "      addresses:",
            ]
            lines += [f'        - "{cidr}"' for cidr in state["addresses"][eni.device]]
            lines.append("      routes:")
            for route in routes:
                fields = [f'to: "{route.dst}"']
                fields += _route_fields(route, 'via: "{}"', "scope: {}", 'from: "{}"', "table: {}")
                lines.append(f"        - {{{', '.join(fields)}}}")
            lines.append("      routing-policy:")
            for rule in _eni_file_rules(eni, enis, state):
                fields = _rule_fields(rule, 'from: "{}"', 'to: "{}"')
                fields += [f"table: {rule.table}", f"priority: {rule.priority}"]
                lines.append(f"        - {{{', '.join(fields)}}}")
        return "\n".join(lines) + "\n"

    def detect(self, facts: HostFacts) -> str | None:
        # Under the NetworkManager renderer netplan drops routing-policy, so NetworkManager (rank 2) gets keyfiles.
        if (
            facts.netplan_texts
            and facts.has_netplan
            and "NetworkManager" not in facts.netplan_renderers
            and "NetworkManager" not in facts.daemons
        ):
            return "netplan files render to systemd-networkd"
        return None

    def reload_commands(self, daemons: set[str]) -> list[list[str]]:
        return [["netplan", "generate"]] + Networkd.reload_commands(self, daemons)


class Ifcfg(Backend):
    """RHEL network-scripts: ``ifcfg-/route-/rule-<device>``; nothing to reload (read at ``ifup``).
    NetworkManager's ifcfg-rh plugin ignores ``rule-*`` files."""

    name = "ifcfg"
    directory = "etc/sysconfig/network-scripts"
    patterns = ("ifcfg-*", "route-*", "rule-*")
    rank = 4

    def files(self, secondary: list[Eni], enis: list[Eni], state: dict, marker: str) -> dict[str, str]:
        files: dict[str, str] = {}
        for eni in secondary:
            files.update(self.render_eni(eni, enis, state, marker))
        return files

    def render_eni(self, eni: Eni, enis: list[Eni], state: dict, marker: str) -> dict[str, str]:
        """``ifcfg-<dev>``, ``route-<dev>`` and ``rule-<dev>`` (network-scripts) for one secondary ENI."""
        head = _marker_lines(marker)
        ifcfg = head + [
            f"DEVICE={eni.device}",
            f"HWADDR={eni.mac}",
            "TYPE=Ethernet",
            "ONBOOT=yes",
            "BOOTPROTO=none",
            "DEFROUTE=no",
            "PEERDNS=no",
            "IPV6INIT=no",
        ]
        for index, cidr in enumerate(state["addresses"][eni.device]):
            address, prefix = cidr.split("/")
            ifcfg += [f"IPADDR{index}={address}", f"PREFIX{index}={prefix}"]
        routes = _eni_routes_rules(eni, state)[0]
        route_lines = head + [" ".join(route_argv("show", route)[4:]) for route in routes]
        rule_lines = head + [" ".join(rule_argv("show", rule)[4:]) for rule in _eni_file_rules(eni, enis, state)]
        return {
            f"ifcfg-{eni.device}": "\n".join(ifcfg) + "\n",
            f"route-{eni.device}": "\n".join(route_lines) + "\n",
            f"rule-{eni.device}": "\n".join(rule_lines) + "\n",
        }

    def detect(self, facts: HostFacts) -> str | None:
        return "/etc/sysconfig/network-scripts exists" if facts.has_ifcfg_dir else None


# The table every other place reads: the module's choices, detection, the daemons looked for, reloads.
BACKEND_CLASSES: dict[str, Backend] = {
    backend.name: backend for backend in (Networkd(), NetworkManager(), Netplan(), Ifcfg())
}
NO_BACKEND = "none"
BACKENDS = (*BACKEND_CLASSES, NO_BACKEND)
NETWORK_DAEMONS = tuple(sorted({backend.daemon for backend in BACKEND_CLASSES.values() if backend.daemon}))
SYSCTL_FILE = "etc/sysctl.d/90-alicloud-eni.conf"


def backend_named(name: str) -> Backend:
    """The backend called ``name``; ``HostNetworkError`` for an unknown one."""
    if name not in BACKEND_CLASSES:
        raise HostNetworkError(f"unknown backend '{name}' (one of {', '.join(BACKENDS)})")
    return BACKEND_CLASSES[name]


def render_files(backend: str, enis: list[Eni], state: dict, marker: str) -> dict[str, tuple[str, int]]:
    """Relative path -> (content, mode) of every file the backend needs; empty for ``none``.

    Files are per secondary ENI (the primary ENI's profile belongs to the image and is never written), plus the
    sysctl file.
    """
    if backend == NO_BACKEND:
        return {}
    chosen = backend_named(backend)
    secondary = sorted((eni for eni in enis if not eni.primary), key=lambda item: item.mac)
    files = {
        f"{chosen.directory}/{name}": (content, chosen.file_mode)
        for name, content in chosen.files(secondary, enis, state, marker).items()
    }
    if state["sysctls"]:
        files[SYSCTL_FILE] = (render_sysctl(state["sysctls"], marker), 0o644)
    return files


def detect_backend(
    daemons: set[str], netplan_texts: list[str], has_netplan: bool, has_ifcfg_dir: bool
) -> tuple[str, str]:
    """(backend, reason) for the stack the host runs: the first backend, by rank, whose ``detect`` answers.

    Order: netplan files rendered by networkd -> netplan (cloud-init's Ubuntu/Debian images); NetworkManager
    running or netplan rendering to it -> keyfiles (netplan would drop the rules); systemd-networkd running ->
    networkd; an ``/etc/sysconfig/network-scripts`` directory -> ifcfg.  Raises when nothing matches: guessing
    would write files no daemon reads.
    """
    return detect_from(HostFacts(frozenset(daemons), tuple(netplan_texts), has_netplan, has_ifcfg_dir))


def detect_from(facts: HostFacts) -> tuple[str, str]:
    """``detect_backend`` on the facts ``Host.facts`` gathered."""
    for backend in sorted(BACKEND_CLASSES.values(), key=lambda item: item.rank):
        reason = backend.detect(facts)
        if reason:
            return backend.name, reason
    raise HostNetworkError(
        "could not tell which network stack this host runs (no netplan files, no NetworkManager or systemd-networkd "
        "in this network namespace, no /etc/sysconfig/network-scripts); set the backend explicitly "
        f"({', '.join(BACKENDS)})"
    )
