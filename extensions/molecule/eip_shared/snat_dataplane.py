# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""SNAT data plane of the lab: the emulator's NAT gateway SNAT entries as nftables rules in the router namespace.

    python snat_dataplane.py apply --control URL --router NS
    python snat_dataplane.py client-up --router NS --client NS     an "internet" client that counts arrivals
    python snat_dataplane.py client-down --client NS
    python snat_dataplane.py probe --host NS --client NS           ping the client; print who it saw
    python snat_dataplane.py rows --control URL --router NS --client NS --probe NS=IP [--probe ...] [--table]

URL is the emulator's control API (``http://127.0.0.1:PORT/_emulator``; ``/state`` is read from it).

What is mirrored (docs/emulator.md): every SNAT entry in status ``Available`` of an Internet NAT gateway turns
into one rule ``ip saddr <source> ip daddr != <VPC CIDR> snat to <EIPs>``.  The source is the entry's
``SourceCIDR`` (an ECS instance is a /32), or the CIDR of its ``SourceVSwitchId``.  Only the entry's addresses
that are EIPs currently ``InUse`` on that gateway take part: an EIP taken off the gateway stops carrying
traffic at once, as in the cloud.  Several EIPs in one entry are spread by a hash of the source address, so a
given instance keeps one egress address (the cloud's ``EipAffinity`` behaviour; which EIP the cloud picks is
UNCONFIRMED, the tests only require one of the entry's EIPs).  More specific sources come first, so an
[fid:snat-multi-eip-choice]
instance entry (/32) wins over its vSwitch's entry, as Alibaba Cloud documents for ECS-granularity entries.

The rules live in their own table ``ip alicloud_snat``, replaced atomically on every ``apply``, in a
postrouting chain at priority ``srcnat + 10``: the 1:1 EIP NAT of ``dataplane.py`` (priority ``srcnat``) is
consulted first, so an instance with its own EIP keeps using it (a connection takes the first NAT mapping).

The client namespace is an "internet" host (203.0.113.10/24 behind the router's 203.0.113.1) with a dynamic
nftables set that counts echo requests per source address: that is how a test sees which EIP a packet left by.
Nothing is created in, or attached to, the root network namespace.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import subprocess
import sys
from typing import Any

# The shell helpers and the state reader of the EIP data plane next to this file (also when loaded by path).
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dataplane import in_ns, read_state, run  # pylint: disable=wrong-import-position

TABLE = "alicloud_snat"
# srcnat is 100; the 1:1 EIP chain of dataplane.py sits there and must win for instances that hold an EIP.
CHAIN_PRIORITY = 110
CLIENT_IP = "203.0.113.10"
CLIENT_ROUTER_IP = "203.0.113.1"
CLIENT_PREFIX = 24
SEEN_TABLE = "seen"
SEEN_SET = "sources"


def snat_rules(state: dict[str, Any]) -> list[dict[str, Any]]:
    """The SNAT rules the state implies, most specific source first (pure: no system access)."""
    rules = []
    for entry in state.get("snat_entries", {}).values():
        if entry.get("Status") != "Available":
            continue
        gateway = state.get("nat_gateways", {}).get(entry.get("NatGatewayId", ""))
        if not gateway or gateway.get("NetworkType", "internet") != "internet":
            continue
        bound = {
            eip["IpAddress"]: eip["AllocationId"]
            for eip in state.get("eips", {}).values()
            if eip.get("InstanceId") == gateway["NatGatewayId"]
            and eip.get("InstanceType") == "Nat"
            and eip.get("Status") == "InUse"
        }
        addresses = [address.strip() for address in entry.get("SnatIp", "").split(",") if address.strip()]
        live = sorted((address for address in addresses if address in bound), key=ipaddress.IPv4Address)
        if not live:
            continue
        source = entry.get("SourceCIDR") or ""
        if entry.get("SourceVSwitchId"):
            source = state["vswitches"][entry["SourceVSwitchId"]]["CidrBlock"]
        if not source:
            continue
        vpc = state.get("vpcs", {}).get(gateway.get("VpcId", ""), {})
        rules.append(
            {
                "snat_entry_id": entry["SnatEntryId"],
                "nat_gateway_id": gateway["NatGatewayId"],
                "source": str(ipaddress.IPv4Network(source, strict=False)),
                "vpc_cidr": vpc.get("CidrBlock", "10.0.0.0/8"),
                "eips": live,
                "allocation_ids": [bound[address] for address in live],
            }
        )
    rules.sort(key=lambda rule: (-ipaddress.IPv4Network(rule["source"]).prefixlen, rule["snat_entry_id"]))
    return rules


def render(rules: list[dict[str, Any]]) -> str:
    """One nft transaction that replaces the table with exactly these rules."""
    lines = [
        f"table ip {TABLE} {{}}",
        f"delete table ip {TABLE}",
        f"table ip {TABLE} {{",
        "  chain postrouting {",
        f"    type nat hook postrouting priority {CHAIN_PRIORITY}; policy accept;",
    ]
    for rule in rules:
        if len(rule["eips"]) == 1:
            target = rule["eips"][0]
        else:
            mapping = ", ".join(f"{index} : {address}" for index, address in enumerate(rule["eips"]))
            # A fixed seed: nft picks a random one otherwise, and an instance would change EIP on every apply.
            target = f"jhash ip saddr mod {len(rule['eips'])} seed 0x0 map {{ {mapping} }}"
        comment = f"{rule['snat_entry_id']} {rule['nat_gateway_id']}"
        lines.append(
            f"    ip saddr {rule['source']} ip daddr != {rule['vpc_cidr']} snat to {target} comment \"{comment}\""
        )
    lines += ["  }", "}", ""]
    return "\n".join(lines)


def program(router_ns: str, state: dict[str, Any]) -> list[dict[str, Any]]:
    """Replace the router namespace's SNAT table with the rules of ``state``; returns those rules."""
    rules = snat_rules(state)
    result = in_ns(router_ns, "nft", "-f", "-", stdin=render(rules), check=False)
    if result.returncode != 0:
        raise RuntimeError(f"nft in {router_ns} refused the SNAT rules: {result.stderr.strip()}")
    return rules


def client_up(router_ns: str, client_ns: str) -> None:
    """An "internet" client namespace behind the router that counts echo requests per source address."""
    client_down(client_ns)
    run("ip", "netns", "add", client_ns)
    peer = f"snc-{client_ns}"[:15]
    run("ip", "-n", router_ns, "link", "del", peer, check=False)
    run("ip", "link", "add", "eth0", "netns", client_ns, "type", "veth", "peer", "name", peer, "netns", router_ns)
    run("ip", "-n", router_ns, "addr", "add", f"{CLIENT_ROUTER_IP}/{CLIENT_PREFIX}", "dev", peer)
    run("ip", "-n", router_ns, "link", "set", peer, "up")
    in_ns(router_ns, "sysctl", "-q", "-w", f"net.ipv4.conf.{peer}.rp_filter=1")
    run("ip", "-n", client_ns, "link", "set", "lo", "up")
    run("ip", "-n", client_ns, "link", "set", "eth0", "up")
    run("ip", "-n", client_ns, "addr", "add", f"{CLIENT_IP}/{CLIENT_PREFIX}", "dev", "eth0")
    run("ip", "-n", client_ns, "route", "add", "default", "via", CLIENT_ROUTER_IP)
    counting = (
        f"table ip {SEEN_TABLE} {{\n"
        f"  set {SEEN_SET} {{ type ipv4_addr; flags dynamic; counter; }}\n"
        "  chain input {\n"
        "    type filter hook input priority 0; policy accept;\n"
        f"    icmp type echo-request add @{SEEN_SET} {{ ip saddr }}\n"
        "  }\n"
        "}\n"
    )
    in_ns(client_ns, "nft", "-f", "-", stdin=counting)


def client_down(client_ns: str) -> None:
    """Remove the client namespace (its veth goes with it); idempotent."""
    run("ip", "netns", "del", client_ns, check=False)


def seen(client_ns: str) -> dict[str, int]:
    """Echo requests the client received, per source address."""
    listing = json.loads(in_ns(client_ns, "nft", "-j", "list", "set", "ip", SEEN_TABLE, SEEN_SET).stdout)
    counts: dict[str, int] = {}
    for item in listing["nftables"]:
        for element in item.get("set", {}).get("elem", []):
            value = element.get("elem", {})
            counts[value.get("val")] = value.get("counter", {}).get("packets", 0)
    return counts


def probe(host_ns: str, client_ns: str, source: str | None = None, count: int = 3) -> dict[str, Any]:
    """Ping the client from a host namespace with fresh counters; who the client saw the packets come from."""
    in_ns(client_ns, "nft", "flush", "set", "ip", SEEN_TABLE, SEEN_SET)
    argv = ["ping", "-n", "-q", "-c", str(count), "-i", "0.2", "-W", "2"]
    if source:
        argv += ["-I", source]
    result = in_ns(host_ns, *argv, CLIENT_IP, check=False)
    return {"host": host_ns, "source": source, "ping_ok": result.returncode == 0, "seen": seen(client_ns)}


def matching_rule(rules: list[dict[str, Any]], address: str) -> dict[str, Any] | None:
    """The rule that translates ``address`` (rules are sorted most specific first)."""
    for rule in rules:
        if ipaddress.IPv4Address(address) in ipaddress.IPv4Network(rule["source"]):
            return rule
    return None


def egress_rows(
    state: dict[str, Any], client_ns: str | None = None, probes: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """One row per (SNAT entry, EIP): EIP, NAT gateway, source, and whether real traffic left by that EIP.

    ``probes`` maps host namespaces to their private address; each probe pings the client once.  A probe succeeds
    when the ping answers and the client saw it arrive from one of its entry's EIPs only.  ``traffic_verified`` is
    True for an EIP a successful probe arrived from, False for the EIPs of an entry whose probe failed, and None
    for EIPs no probe host used (no probe host in that source, or the hash sent them to another EIP of the entry).
    Call ``program`` first so that the router matches ``state``.
    """
    rules = snat_rules(state)
    verified: dict[tuple[str, str], list[str]] = {}
    failed: dict[str, list[str]] = {}
    for host_ns, address in (probes or {}).items():
        rule = matching_rule(rules, address)
        if rule is None or client_ns is None:
            continue
        result = probe(host_ns, client_ns, address)
        label = f"{host_ns} ({address})"
        arrived = set(result["seen"])
        if result["ping_ok"] and arrived and arrived <= set(rule["eips"]):
            for seen_address in arrived:
                verified.setdefault((rule["snat_entry_id"], seen_address), []).append(label)
        else:
            seen_text = ", ".join(sorted(arrived)) or "nothing"
            failed.setdefault(rule["snat_entry_id"], []).append(f"{label}: client saw {seen_text}")
    rows = []
    for rule in rules:
        for address, allocation_id in zip(rule["eips"], rule["allocation_ids"]):
            hosts = verified.get((rule["snat_entry_id"], address), [])
            if hosts:
                outcome: bool | None = True
            elif rule["snat_entry_id"] in failed:
                outcome = False
            else:
                outcome = None
            rows.append(
                {
                    "eip": address,
                    "allocation_id": allocation_id,
                    "nat_gateway_id": rule["nat_gateway_id"],
                    "snat_entry_id": rule["snat_entry_id"],
                    "source": rule["source"],
                    "traffic_verified": outcome,
                    "verified_from": hosts,
                    "failures": failed.get(rule["snat_entry_id"], []) if outcome is False else [],
                }
            )
    return rows


def format_rows(rows: list[dict[str, Any]]) -> str:
    """A plain-text table of ``egress_rows`` for people (make demo)."""
    header = ("EIP", "NAT gateway", "SNAT entry", "source", "traffic verified")
    body = [
        (
            row["eip"],
            row["nat_gateway_id"],
            row["snat_entry_id"],
            row["source"],
            {
                True: "yes, from " + ", ".join(row["verified_from"]),
                False: "NO: " + "; ".join(row["failures"]),
                None: "no probe host uses it",
            }[row["traffic_verified"]],
        )
        for row in rows
    ]
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *body)]
    return "\n".join("  ".join(str(cell).ljust(width) for cell, width in zip(line, widths)) for line in [header, *body])


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Command line of the CLI."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    apply_cmd = commands.add_parser("apply", help="program the router from the emulator's state")
    apply_cmd.add_argument("--control", required=True)
    apply_cmd.add_argument("--router", required=True)
    up_cmd = commands.add_parser("client-up", help="create the counting internet client")
    up_cmd.add_argument("--router", required=True)
    up_cmd.add_argument("--client", required=True)
    down_cmd = commands.add_parser("client-down", help="remove the client namespace")
    down_cmd.add_argument("--client", required=True)
    probe_cmd = commands.add_parser("probe", help="ping the client from a host namespace")
    probe_cmd.add_argument("--host", required=True)
    probe_cmd.add_argument("--client", required=True)
    probe_cmd.add_argument("--source")
    rows_cmd = commands.add_parser("rows", help="apply, then one row per EIP with a traffic check")
    rows_cmd.add_argument("--control", required=True)
    rows_cmd.add_argument("--router", required=True)
    rows_cmd.add_argument("--client", required=True)
    rows_cmd.add_argument("--probe", action="append", default=[], metavar="NS=IP")
    rows_cmd.add_argument("--table", action="store_true", help="print a table instead of JSON")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    """Entry point of the CLI; prints one JSON document (or a table with rows --table)."""
    args = parse_args(argv)
    try:
        if args.command == "apply":
            output: Any = {"rules": program(args.router, read_state(args.control))}
        elif args.command == "client-up":
            client_up(args.router, args.client)
            output = {"client": args.client, "address": CLIENT_IP}
        elif args.command == "client-down":
            client_down(args.client)
            output = {"client": args.client, "removed": True}
        elif args.command == "probe":
            output = probe(args.host, args.client, args.source)
        else:
            state = read_state(args.control)
            program(args.router, state)
            probes = dict(item.split("=", 1) for item in args.probe)
            rows = egress_rows(state, args.client, probes)
            if args.table:
                print(format_rows(rows))
                return 0 if all(row["traffic_verified"] is not False for row in rows) else 1
            output = {"rows": rows}
    except (subprocess.CalledProcessError, RuntimeError, OSError) as error:
        detail = getattr(error, "stderr", "") or ""
        print(f"snat_dataplane: {error} {detail}".strip(), file=sys.stderr)
        return 1
    print(json.dumps(output, indent=None if os.environ.get("SNAT_DATAPLANE_COMPACT") else 2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
