# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A fake host for the executor tests: a command runner that records every argument list and answers ``ip -j``
queries from a small in-memory kernel, and a throwaway root with ``/proc/sys`` files and network daemons."""

from __future__ import annotations

import ipaddress
import json
import os

from ansible_collections.alicloud.eip.plugins.module_utils._host_network.host import (
    Host,
)
from ansible_collections.alicloud.eip.tests.unit.plugins.module_utils.host_network.cases import (
    PRIMARY,
    SECOND,
)

# eth0: the primary ENI, 10.0.1.10/24 with a DHCP default route whose source is that address; eth1: a secondary
# ENI, down and without address.
DHCP_DEFAULT = {
    "dst": "default",
    "gateway": "10.0.1.253",
    "dev": "eth0",
    "protocol": "dhcp",
    "prefsrc": "10.0.1.10",
    "metric": 100,
    "flags": [],
}
PRIMARY_PREFIX = {
    "dst": "10.0.1.0/24",
    "dev": "eth0",
    "protocol": "kernel",
    "scope": "link",
    "prefsrc": "10.0.1.10",
    "flags": [],
}


class FakeKernel:
    """Addresses, routes and rules as ``ip -j`` prints them; ``ip addr/route/rule`` commands change them.

    Only what the executor sends is understood; anything else is recorded and answered with success.  Removing an
    address drops every route whose source it is, as the kernel does.  ``fail`` holds command lines (joined by
    spaces) that fail; ``ping`` is the exit status of ``ping``; ``neighbours`` answers ``ip -j neigh show``.
    """

    def __init__(self):
        self.links = [
            {"ifname": "lo", "flags": ["LOOPBACK", "UP"], "link_type": "loopback", "address": "00:00:00:00:00:00"},
            {"ifname": "eth0", "flags": ["UP"], "link_type": "ether", "address": PRIMARY},
            {"ifname": "eth1", "flags": [], "link_type": "ether", "address": SECOND},
        ]
        self.addresses = {"eth0": [("10.0.1.10", 24)], "eth1": []}
        self.routes = [dict(DHCP_DEFAULT), dict(PRIMARY_PREFIX)]
        self.rules = [
            {"priority": 0, "src": "all", "table": "local"},
            {"priority": 32766, "src": "all", "table": "main"},
        ]
        self.calls: list[list[str]] = []
        self.fail: set[str] = set()
        self.ping = 0
        self.neighbours: list[dict] = []

    def __call__(self, argv: list[str]) -> tuple[int, str, str]:
        self.calls.append(list(argv))
        if " ".join(argv) in self.fail:
            return 2, "", "RTNETLINK answers: Operation not permitted"
        if os.path.basename(argv[0]) == "ping":
            return self.ping, "", ""
        if argv[:2] == ["ip", "-j"]:
            return 0, json.dumps(self.query(argv[2:])), ""
        if argv[0] == "ip":
            self.change([word for word in argv[1:] if word != "-4"])
        return 0, "", ""

    def mutating(self) -> list[str]:
        """The commands that are not ``ip -j`` queries, as text."""
        return [" ".join(argv) for argv in self.calls if argv[:2] != ["ip", "-j"]]

    def query(self, args: list[str]) -> list[dict]:
        if args[0] == "link":
            return self.links
        if args[0] == "neigh":
            return self.neighbours
        if args[1] == "addr":
            return [
                {
                    "ifname": device,
                    "addr_info": [
                        {"family": "inet", "local": local, "prefixlen": length, "scope": "global"}
                        for local, length in addresses
                    ],
                }
                for device, addresses in self.addresses.items()
            ]
        if args[1] == "route":
            return [dict(route) for route in self.routes]
        return [dict(rule) for rule in self.rules]

    def change(self, words: list[str]) -> None:
        what, verb, rest = words[0], words[1], words[2:]
        if what == "link":
            link = next(item for item in self.links if item["ifname"] == rest[1])
            link["flags"] = ["UP"] if rest[2] == "up" else []
        elif what == "addr":
            local, length = rest[0].split("/")
            device = rest[rest.index("dev") + 1]
            if verb == "add":
                self.addresses[device].append((local, int(length)))
            else:
                self.addresses[device].remove((local, int(length)))
                self.routes = [route for route in self.routes if route.get("prefsrc") != local]
        elif what == "route":
            self.change_route(verb, rest)
        elif what == "rule":
            self.change_rule(verb, rest)

    def change_route(self, verb: str, rest: list[str]) -> None:
        options = dict(zip(rest[1::2], rest[2::2]))
        table = options.get("table", "254")
        route = {"dst": rest[0], "dev": options["dev"], "flags": []}
        if table != "254":
            route["table"] = table
        for word, key in (("via", "gateway"), ("scope", "scope"), ("src", "prefsrc"), ("proto", "protocol")):
            if word in options:
                route[key] = options[word]
        if "metric" in options:
            route["metric"] = int(options["metric"])

        def same(item):
            return item["dst"] == route["dst"] and item.get("table", "254") == table

        self.routes = [item for item in self.routes if not same(item)]
        if verb in ("add", "replace"):
            self.routes.append(route)

    def change_rule(self, verb: str, rest: list[str]) -> None:
        options = dict(zip(rest[0::2], rest[1::2]))
        rule = {"priority": int(options["priority"]), "src": "all", "table": options["lookup"]}
        for word in ("from", "to"):
            if word in options:
                network = ipaddress.IPv4Network(options[word])
                key = "src" if word == "from" else "dst"
                rule[key] = str(network.network_address)
                if network.prefixlen != 32:
                    rule[f"{key}len"] = network.prefixlen
        if verb == "add":
            self.rules.append(rule)
        else:
            self.rules.remove(rule)


def fake_root(root, sysctls: dict[str, str] | None = None, daemons: tuple[str, ...] = ()) -> str:
    """A root with ``/proc/sys`` values and processes (``comm`` and network namespace) of ``daemons``."""
    values = {"net/ipv4/conf/eth1/rp_filter": "1", **(sysctls or {})}
    for key, value in values.items():
        path = os.path.join(root, "proc/sys", key)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="ascii") as handle:
            handle.write(value + "\n")
    os.makedirs(os.path.join(root, "proc/self/ns"), exist_ok=True)
    os.symlink("net:[4026531840]", os.path.join(root, "proc/self/ns/net"))
    for pid, name in enumerate(daemons, start=100):
        os.makedirs(os.path.join(root, f"proc/{pid}/ns"))
        with open(os.path.join(root, f"proc/{pid}/comm"), "w", encoding="utf-8") as handle:
            handle.write(name + "\n")
        os.symlink("net:[4026531840]", os.path.join(root, f"proc/{pid}/ns/net"))
    # A daemon in another network namespace does not count.
    os.makedirs(os.path.join(root, "proc/99/ns"))
    with open(os.path.join(root, "proc/99/comm"), "w", encoding="utf-8") as handle:
        handle.write("NetworkManager\n")
    os.symlink("net:[4026532000]", os.path.join(root, "proc/99/ns/net"))
    return str(root)


def fake_host(root, kernel: FakeKernel | None = None, commands: tuple[str, ...] = ("ping",), **root_options) -> Host:
    """A ``Host`` on ``kernel`` (a new one by default) and a fake root under ``root``; ``commands`` are the
    programs ``which`` finds."""
    return Host(
        kernel or FakeKernel(),
        root=fake_root(root, **root_options),
        which=lambda name: f"/usr/bin/{name}" if name in commands else None,
    )
