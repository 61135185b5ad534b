# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The table `make demo` ends with, and the check that a re-run made no mutating call.

    python report.py table --control http://HOST:PORT [--router NS --topology T --client NS --probe NS=IP ...]
    python report.py reset-calls --control http://HOST:PORT
    python report.py mutating-calls --control http://HOST:PORT

``table`` prints one row per EIP of the account: EIP, the resource holding it, the private IP (or SNAT source)
behind it, and whether real traffic proved it.  With ``--router`` (the lab runs, as root) every EIP on an ENI or
instance is pinged from the lab's internet client and must answer through its own NIC
(extensions/molecule/eip_shared/dataplane.py), and every NAT-gateway EIP in a SNAT entry is checked by a ping
from the probe hosts, seen by the internet client as coming from that EIP (snat_dataplane.py).  Without
``--router`` (API only) the traffic column says so.  Exit status 1 when a row that was tested failed.

``mutating-calls`` prints the mutating API calls counted by the emulator since ``reset-calls`` as JSON and exits
1 when there is any: the second run of the demo must make none.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import urllib.request

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path[:0] = [REPO, os.path.join(REPO, "extensions", "molecule", "eip_shared")]

import dataplane  # pylint: disable=wrong-import-position
import snat_dataplane  # pylint: disable=wrong-import-position

from tests.emulator import registry  # pylint: disable=wrong-import-position


def control_api(endpoint: str, path: str, method: str = "GET") -> dict:
    """A call to the emulator's control API on loopback (never through a proxy)."""
    base = endpoint if "://" in endpoint else f"http://{endpoint}"
    request = urllib.request.Request(f"{base.rstrip('/')}/_emulator/{path}", method=method)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=10) as response:
        return json.loads(response.read() or b"{}")


def mutating_actions() -> set[str]:
    """Names of the emulated actions that change state (the emulator's own registry says which)."""
    importlib.import_module("tests.emulator.actions")  # registers every action
    return {entry.name for entry in registry.ACTIONS.values() if entry.mutating}


def api_rows(state: dict) -> list[dict]:
    """One row per EIP from the control plane alone."""
    rows = []
    for eip in sorted(
        state["eips"].values(), key=lambda item: tuple(int(part) for part in item["IpAddress"].split("."))
    ):
        holder = eip.get("InstanceId") or "-"
        rows.append(
            {
                "eip": eip["IpAddress"],
                "resource": holder if holder == "-" else f"{holder} ({eip.get('InstanceType')})",
                "private_ip": eip.get("PrivateIpAddress") or "-",
                "traffic": "not tested (API only)",
                "ok": None,
            }
        )
    return rows


def lab_rows(state: dict, args: argparse.Namespace) -> list[dict]:
    """One row per EIP, each proven with traffic through the lab's data plane."""
    topology = dataplane.load_topology(args.topology)
    dataplane.program(args.router, state, topology)
    snat_dataplane.program(args.router, state)
    rows = []
    for row in dataplane.verify(args.router, state, topology):
        if row["resource"].startswith("ngw-"):
            continue
        rows.append(
            {
                "eip": row["eip"],
                "resource": f"{row['resource']} ({row['mode']})",
                "private_ip": row["private_ip"],
                "traffic": ("yes: " if row["verified"] else "NO: ") + row["detail"],
                "ok": bool(row["verified"]),
            }
        )
    probes = dict(probe.split("=", 1) for probe in args.probe)
    for row in snat_dataplane.egress_rows(state, args.client, probes):
        outcome = row["traffic_verified"]
        rows.append(
            {
                "eip": row["eip"],
                "resource": f"{row['nat_gateway_id']} (SNAT {row['snat_entry_id']})",
                "private_ip": row["source"],
                "traffic": {
                    True: "yes: egress of " + ", ".join(row["verified_from"]),
                    False: "NO: " + "; ".join(row["failures"]),
                    None: "standby (the entry's other EIP carries the probe)",
                }[outcome],
                "ok": outcome,
            }
        )
    return sorted(rows, key=lambda item: tuple(int(part) for part in item["eip"].split(".")))


def render(rows: list[dict]) -> str:
    """Rows as a plain-text table."""
    header = ("EIP", "resource", "private IP / source", "traffic verified")
    body = [(row["eip"], row["resource"], row["private_ip"], row["traffic"]) for row in rows]
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *body)]
    return "\n".join(
        "  ".join(str(cell).ljust(width) for cell, width in zip(line, widths)).rstrip() for line in [header, *body]
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["table", "reset-calls", "mutating-calls"])
    parser.add_argument("--control", required=True, help="the emulator's endpoint, http://HOST:PORT")
    parser.add_argument("--router", help="the lab's router namespace (omit for API only)")
    parser.add_argument("--topology", help="the lab's topology file")
    parser.add_argument("--client", help="the SNAT internet client namespace")
    parser.add_argument(
        "--probe", action="append", default=[], help="HOST_NAMESPACE=PRIVATE_IP, a host that probes egress"
    )
    args = parser.parse_args(argv)
    if args.command == "reset-calls":
        control_api(args.control, "calls", "DELETE")
        return 0
    if args.command == "mutating-calls":
        mutating = {
            name: count for name, count in control_api(args.control, "calls").items() if name in mutating_actions()
        }
        print(json.dumps(mutating, sort_keys=True))
        return 1 if mutating else 0
    state = control_api(args.control, "state")
    rows = lab_rows(state, args) if args.router else api_rows(state)
    print(render(rows))
    return 1 if any(row["ok"] is False for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
