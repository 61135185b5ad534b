# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A picture of the topology `make demo` just built, drawn from the emulator's state, next to the demo's table.

    report.py table ... | picture.py --control http://HOST:PORT --out DIR

Reads the table report.py prints on stdin and passes it through unchanged, then asks the emulator's control
endpoint for its state and writes DIR/eips.txt (the table), DIR/topology.dot (Graphviz source) and
DIR/topology.svg (rendered with `dot`): every EIP of the account with its holder (ENI and private IP, NAT gateway
and its SNAT entries, ECS instance, ...), the ENIs and the hosts they are attached to, and which EIPs carried
verified traffic in the table (green: verified, red: failed, grey: not tested or standby). Prints where the
picture is. Exit status: 0, or 1 when the state cannot be read or dot fails (the table has been printed anyway).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import urllib.request

# Outcome of an EIP's row in the table -> (fill, line colour, word on the picture).
COLOURS = {
    True: ("#d9f2d9", "#2e7d32", "traffic verified"),
    False: ("#f8d7da", "#c62828", "traffic FAILED"),
    None: ("#eeeeee", "#888888", "no traffic verified"),
}


def control_state(endpoint: str) -> dict:
    """The emulator's state from its control API on loopback (never through a proxy)."""
    base = endpoint if "://" in endpoint else f"http://{endpoint}"
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(f"{base.rstrip('/')}/_emulator/state", timeout=10) as response:
        return json.loads(response.read())


def table_outcomes(table: str) -> dict[str, tuple[bool | None, str]]:
    """EIP address -> (True: traffic verified, False: failed, None: neither; the first words of the table's cell)."""
    outcomes: dict[str, tuple[bool | None, str]] = {}
    for line in table.splitlines()[1:]:
        cells = re.split(r"\s{2,}", line.strip())
        if len(cells) < 4 or not re.fullmatch(r"\d+\.\d+\.\d+\.\d+", cells[0]):
            continue
        traffic = cells[-1]
        outcome = True if traffic.startswith("yes") else False if traffic.startswith("NO") else None
        outcomes[cells[0]] = (outcome, traffic.split(" (")[0].split(":")[0])
    return outcomes


def quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def node(name: str, label: str, **attributes: str) -> str:
    extra = "".join(f", {key}={quote(value)}" for key, value in attributes.items())
    return f"  {quote(name)} [label={quote(label)}{extra}];"


def edge(tail: str, head: str, **attributes: str) -> str:
    extra = ", ".join(f"{key}={quote(value)}" for key, value in attributes.items())
    return f"  {quote(tail)} -> {quote(head)}" + (f" [{extra}];" if extra else ";")


def dot_source(state: dict, outcomes: dict[str, tuple[bool | None, str]]) -> str:
    """The Graphviz source of the topology: EIPs on the left, their holders, then the hosts."""
    lines = [
        "// Drawn by tools/demo/picture.py from the emulator's state after `make demo` (not a checked-in diagram).",
        "digraph demo_topology {",
        '  graph [rankdir=LR, fontname="Helvetica", fontsize=11, nodesep=0.25, ranksep=0.7, labelloc=t,',
        '         label="make demo: the EIPs of the account, what holds them, and the traffic that proved them"];',
        '  node [shape=box, style="rounded,filled", fillcolor="#ffffff", fontname="Helvetica", fontsize=10];',
        '  edge [fontname="Helvetica", fontsize=9, color="#444444"];',
    ]
    instances = state.get("instances", {})
    enis = state.get("enis", {})
    lines.append(
        '  subgraph cluster_hosts { label="hosts (ECS instances)"; style="rounded,filled"; fillcolor="#eef8ee";'
    )
    for instance in sorted(instances.values(), key=lambda item: item["InstanceId"]):
        label = f"{instance['InstanceId']}\n{instance.get('InstanceName') or ''}\n{instance.get('Status', '')}"
        lines.append("  " + node(instance["InstanceId"], label.strip()))
    lines.append("  }")
    lines.append('  subgraph cluster_vpc { label="VPC: ENIs, NAT gateways and SNAT entries"; style="rounded,filled";')
    lines.append('    fillcolor="#eef4fb";')
    for eni in sorted(enis.values(), key=lambda item: item["NetworkInterfaceId"]):
        addresses = ", ".join(ip["PrivateIpAddress"] for ip in eni.get("PrivateIpSets", []))
        kind = "primary ENI" if eni.get("Type") == "Primary" else "secondary ENI"
        lines.append("  " + node(eni["NetworkInterfaceId"], f"{eni['NetworkInterfaceId']} ({kind})\n{addresses}"))
        if eni.get("InstanceId"):
            lines.append("  " + edge(eni["NetworkInterfaceId"], eni["InstanceId"], label="attached", style="dashed"))
    for gateway in sorted(state.get("nat_gateways", {}).values(), key=lambda item: item["NatGatewayId"]):
        lines.append(
            "  " + node(gateway["NatGatewayId"], f"{gateway['NatGatewayId']}\nNAT gateway {gateway.get('Name', '')}")
        )
    private_to_instance = {
        ip["PrivateIpAddress"]: eni.get("InstanceId")
        for eni in enis.values()
        for ip in eni.get("PrivateIpSets", [])
        if eni.get("InstanceId") and eni.get("Type") == "Primary"
    }
    for entry in sorted(state.get("snat_entries", {}).values(), key=lambda item: item["SnatEntryId"]):
        source = entry.get("SourceCIDR") or entry.get("SourceVSwitchId") or "?"
        label = f"SNAT {entry['SnatEntryId']}\nsource {source}\nSNAT IPs {entry.get('SnatIp', '')}"
        lines.append("  " + node(entry["SnatEntryId"], label, shape="note"))
        gateway = entry.get("NatGatewayId")
        if gateway:
            lines.append("  " + edge(gateway, entry["SnatEntryId"], style="dotted", arrowhead="none"))
        host = private_to_instance.get(source.split("/")[0]) if source.endswith("/32") else None
        if host:
            lines.append("  " + edge(host, entry["SnatEntryId"], label="egress of", style="dotted"))
    lines.append("  }")
    lines.append('  subgraph cluster_eips { label="EIPs"; style="rounded,filled"; fillcolor="#fff8e6";')
    for eip in sorted(state.get("eips", {}).values(), key=lambda item: tuple(map(int, item["IpAddress"].split(".")))):
        outcome, said = outcomes.get(eip["IpAddress"], (None, "not in the table"))
        fill, line_colour, word = COLOURS[outcome]
        word = word if outcome is not None else f"{word} ({said})"
        kind = eip.get("InstanceType") or ""
        mode = eip.get("Mode") if (eip.get("Mode") or "").lower() != kind.lower() else ""
        label = f"EIP {eip['IpAddress']}\n{eip.get('AllocationId', '')}\n{word}"
        lines.append("  " + node(eip["IpAddress"], label, fillcolor=fill, color=line_colour))
        holder = eip.get("InstanceId")
        if holder:
            text = " ".join(part for part in (kind, mode, eip.get("PrivateIpAddress") or "") if part)
            lines.append("  " + edge(eip["IpAddress"], holder, label=text, color=line_colour))
    lines.append("  }")
    for holder in sorted({eip.get("InstanceId") for eip in state.get("eips", {}).values() if eip.get("InstanceId")}):
        if holder not in instances and holder not in enis and holder not in state.get("nat_gateways", {}):
            lines.append(node(holder, holder))
    lines.append("}")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--control", required=True, help="the emulator's endpoint, http://HOST:PORT")
    parser.add_argument("--out", required=True, help="directory for eips.txt, topology.dot and topology.svg")
    args = parser.parse_args(argv)
    table = sys.stdin.read()
    sys.stdout.write(table)
    sys.stdout.flush()
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "eips.txt"), "w", encoding="utf-8") as handle:
        handle.write(table)
    try:
        source = dot_source(control_state(args.control), table_outcomes(table))
    except (OSError, ValueError, KeyError) as error:
        print(f"demo: no picture: the emulator's state could not be read ({error})", file=sys.stderr)
        return 1
    dot_path = os.path.join(args.out, "topology.dot")
    with open(dot_path, "w", encoding="utf-8") as handle:
        handle.write(source)
    svg_path = os.path.join(args.out, "topology.svg")
    rendered = subprocess.run(["dot", "-Tsvg", "-o", svg_path, dot_path], capture_output=True, text=True, check=False)
    if rendered.returncode != 0:
        print(f"demo: no picture: dot failed: {rendered.stderr.strip()}", file=sys.stderr)
        return 1
    print(
        f"demo: picture of this topology: {svg_path} (Graphviz source {dot_path}; the table is in eips.txt beside it)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
