# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note: this module util is PRIVATE to the collection. It can change at any time; do not use it from
# other collections or standalone plugins/modules.

"""Persistent configuration: the files of systemd-networkd, NetworkManager keyfiles, netplan or RHEL ifcfg, and
which stack the host runs."""

from __future__ import annotations

import re
import uuid

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

BACKENDS = ("networkd", "nm", "netplan", "ifcfg", "none")


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


def render_networkd(eni: Eni, enis: list[Eni], state: dict, marker: str) -> str:
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
        lines += ["", "[Route]"]
        if route.dst != "default":
            lines.append(f"Destination={route.dst}")
        if route.gateway:
            lines.append(f"Gateway={route.gateway}")
        if route.scope:
            lines.append(f"Scope={route.scope}")
        if route.src:
            lines.append(f"PreferredSource={route.src}")
        lines.append(f"Table={route.table}")
    for rule in _eni_file_rules(eni, enis, state):
        lines += ["", "[RoutingPolicyRule]"]
        if rule.src:
            lines.append(f"From={rule.src}")
        if rule.dst:
            lines.append(f"To={rule.dst}")
        lines += [f"Table={'main' if rule.table == MAIN_TABLE else rule.table}", f"Priority={rule.priority}"]
    return "\n".join(lines) + "\n"


def render_nm_keyfile(eni: Eni, enis: list[Eni], state: dict, marker: str) -> str:
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


def render_netplan(enis: list[Eni], state: dict, marker: str) -> str:
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
            fields = [f'to: "{"default" if route.dst == "default" else route.dst}"']
            if route.gateway:
                fields.append(f'via: "{route.gateway}"')
            if route.scope:
                fields.append(f"scope: {route.scope}")
            if route.src:
                fields.append(f'from: "{route.src}"')
            fields.append(f"table: {route.table}")
            lines.append(f"        - {{{', '.join(fields)}}}")
        lines.append("      routing-policy:")
        for rule in _eni_file_rules(eni, enis, state):
            fields = []
            if rule.src:
                fields.append(f'from: "{rule.src}"')
            if rule.dst:
                fields.append(f'to: "{rule.dst}"')
            fields += [f"table: {rule.table}", f"priority: {rule.priority}"]
            lines.append(f"        - {{{', '.join(fields)}}}")
    return "\n".join(lines) + "\n"


def render_ifcfg(eni: Eni, enis: list[Eni], state: dict, marker: str) -> dict[str, str]:
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


def render_sysctl(sysctls: dict[str, str], marker: str) -> str:
    """``/etc/sysctl.d`` file with the per-interface settings (slash form, safe for names with dots)."""
    lines = _marker_lines(marker) + [f"{key} = {value}" for key, value in sorted(sysctls.items())]
    return "\n".join(lines) + "\n"


BACKEND_DIRS = {
    "networkd": "etc/systemd/network",
    "nm": "etc/NetworkManager/system-connections",
    "netplan": "etc/netplan",
    "ifcfg": "etc/sysconfig/network-scripts",
}
SYSCTL_FILE = "etc/sysctl.d/90-alicloud-eni.conf"
# Glob patterns of files this module may have written per backend (stale ones carry the marker line).
BACKEND_PATTERNS = {
    "networkd": [f"05-{FILE_PREFIX}*.network"],
    "nm": [f"{FILE_PREFIX}*.nmconnection"],
    "netplan": ["90-alicloud-eni.yaml"],
    "ifcfg": ["ifcfg-*", "route-*", "rule-*"],
}


def render_files(backend: str, enis: list[Eni], state: dict, marker: str) -> dict[str, tuple[str, int]]:
    """Relative path -> (content, mode) of every file the backend needs; empty for ``none``.

    Files are per secondary ENI (the primary ENI's profile belongs to the image and is never written), plus the
    sysctl file.  networkd files sort before ``10-netplan-*`` because networkd uses only the first matching
    ``.network`` file (host-networking.md pitfall 4).
    """
    if backend == "none":
        return {}
    if backend not in BACKEND_DIRS:
        raise HostNetworkError(f"unknown backend '{backend}' (one of {', '.join(BACKENDS)})")
    secondary = sorted((eni for eni in enis if not eni.primary), key=lambda item: item.mac)
    files: dict[str, tuple[str, int]] = {}
    directory = BACKEND_DIRS[backend]
    if backend == "networkd":
        for eni in secondary:
            files[f"{directory}/05-{_file_id(eni)}.network"] = (render_networkd(eni, enis, state, marker), 0o644)
    elif backend == "nm":
        for eni in secondary:
            files[f"{directory}/{_file_id(eni)}.nmconnection"] = (render_nm_keyfile(eni, enis, state, marker), 0o600)
    elif backend == "netplan":
        if secondary:
            files[f"{directory}/90-alicloud-eni.yaml"] = (render_netplan(enis, state, marker), 0o600)
    else:
        for eni in secondary:
            for name, content in render_ifcfg(eni, enis, state, marker).items():
                files[f"{directory}/{name}"] = (content, 0o644)
    if state["sysctls"]:
        files[SYSCTL_FILE] = (render_sysctl(state["sysctls"], marker), 0o644)
    return files


def is_managed_file(content: str, marker: str) -> bool:
    """Whether a file starts with our marker, i.e. this module wrote it and may replace or remove it."""
    head = _marker_lines(marker)
    return content.splitlines()[: len(head)] == head


# ---- backend detection -----------------------------------------------------------------------------------


def netplan_renderers(netplan_texts: list[str]) -> set[str]:
    """Renderers named in netplan files (``renderer: NetworkManager`` / ``networkd``), without a YAML parser."""
    found = set()
    for text in netplan_texts:
        for match in re.finditer(r"^\s*renderer:\s*[\"']?([A-Za-z]+)", text, re.MULTILINE):
            found.add(match.group(1))
    return found


def detect_backend(
    daemons: set[str], netplan_texts: list[str], has_netplan: bool, has_ifcfg_dir: bool
) -> tuple[str, str]:
    """(backend, reason) for the stack the host runs.

    ``daemons`` are the network daemons running in this network namespace (``NetworkManager``,
    ``systemd-networkd``); ``netplan_texts`` the contents of ``/etc/netplan/*.yaml``.  Order: netplan files
    rendered by networkd -> netplan (cloud-init's Ubuntu/Debian images); NetworkManager running or netplan
    rendering to it -> keyfiles (netplan would drop the rules); systemd-networkd running -> networkd; an
    ``/etc/sysconfig/network-scripts`` directory -> ifcfg.  Raises when nothing matches: guessing would write
    files no daemon reads.
    """
    renderers = netplan_renderers(netplan_texts)
    if netplan_texts and has_netplan and "NetworkManager" not in renderers and "NetworkManager" not in daemons:
        return "netplan", "netplan files render to systemd-networkd"
    if "NetworkManager" in daemons:
        return "nm", "NetworkManager is running"
    if netplan_texts and "NetworkManager" in renderers:
        return "nm", "netplan renders to NetworkManager, which drops routing-policy (netplan 0.106); using keyfiles"
    if "systemd-networkd" in daemons:
        return "networkd", "systemd-networkd is running"
    if has_ifcfg_dir:
        return "ifcfg", "/etc/sysconfig/network-scripts exists"
    raise HostNetworkError(
        "could not tell which network stack this host runs (no netplan files, no NetworkManager or systemd-networkd "
        "in this network namespace, no /etc/sysconfig/network-scripts); set the backend explicitly "
        f"({', '.join(BACKENDS)})"
    )
