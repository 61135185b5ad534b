# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""EIP data plane of the namespace lab: makes the emulator's ENIs and EIPs carry real traffic.

The emulator is the control plane (it only records that an EIP is bound); this module plays the part of the
cloud's network.  It reads the emulator's state (``GET <endpoint>/_emulator/state``) and programs the lab that
``extensions/molecule/eni_shared/lab.py`` built (router namespace ``<prefix>-r``, hosts ``<prefix>-<host>``):

- **ENI hot-plug**: a secondary ENI that is ``InUse`` on an instance of the topology gets a NIC in that host's
  namespace (a veth named ``eth<DeviceIndex>`` with the ENI's MAC, down and unconfigured, as a freshly attached
  NIC is) whose other end joins the router bridge of the ENI's vSwitch (topology ``bridges[].vswitch``).  A
  detached or deleted ENI loses its NIC, so the addresses and routes on it vanish as on a real instance.
- **NAT mode** (an EIP on an ECS instance, or on an ENI's private IP in mode ``NAT``): 1:1 DNAT EIP -> private IP
  in the router, and SNAT private IP -> EIP for what the host sends to the internet (nftables table
  ``ip alicloud_eip``, replaced atomically).
- **Cut-through** (``BINDED``) and **multi-EIP cut-through** (``MULTI_BINDED``): the EIP is routed (``/32``) to
  the link of its ENI, and the EIP's gateway answers on that link (``<gateway>/32`` on the router's bridge).  The
  gateway and mask are the emulator's ``DescribeEipGatewayInfo`` answer; cut-through uses the same rule (the EIP's
  /24, gateway .1), which the role ``multi_eip`` also assumes (UNCONFIRMED: what DHCP gives a BINDED ENI).
  [fid:cut-through-dhcp-network]
- **vSwitch gateways** keep their MAC: each topology bridge gets a fixed MAC (a bridge would otherwise take the
  lowest MAC of its ports, which changes when an ENI is plugged or unplugged).
- **Internet client**: namespace ``<router>-inet`` (198.51.100.130/25 behind the router's 198.51.100.129 on
  ``inet0``) from which ``verify`` pings every EIP.  A reply only comes back if the host answered through the
  right ENI: the router runs strict ``rp_filter``, so a reply leaving through another NIC is dropped.

Command line (from the repository root, as root)::

    python dataplane.py apply  --control http://127.0.0.1:PORT --router me1-r [--topology lab/topology.yml]
    python dataplane.py watch  --control URL --router NS --topology T [--interval 0.25]   (the lab's "cloud")
    python dataplane.py start  --control URL --router NS --topology T --pid-file F         (watch, backgrounded)
    python dataplane.py stop   --pid-file F
    python dataplane.py verify --control URL --router NS [--topology T] [--json] [--count 2]

Importable functions (``snat_dataplane.py`` sits next to this file and reuses them):

- ``read_state(control) -> dict``: the emulator's state;
- ``plan(state, topology) -> dict``: pure; NICs, NAT pairs and routed EIPs the state implies;
- ``program(router_ns, state, topology=None) -> dict``: applies ``plan`` (idempotent), returns it;
- ``ensure_client(router_ns) -> str``: creates the internet client namespace, returns its name;
- ``verify(router_ns, state, topology=None, count=2) -> list[dict]``: pings every EIP from the client and counts
  packets on the ENI's NIC; one row per EIP: ``eip``, ``resource``, ``private_ip``, ``mode``, ``device``,
  ``verified`` (bool), ``detail``;
- ``format_rows(rows) -> str``: the rows as a text table (EIP, resource, private IP, traffic verified yes/no).
"""

from __future__ import annotations

import argparse
import hashlib
import ipaddress
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

import yaml

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

NFT_TABLE = "alicloud_eip"
CLIENT_ADDRESS = "198.51.100.130/25"
CLIENT_GATEWAY = "198.51.100.129"
ROUTER_CLIENT_ADDRESS = "198.51.100.129/25"
ROUTER_CLIENT_LINK = "inet0"
# Router ends of hot-plugged ENI NICs: "dp" + 8 hex digits of the ENI ID (interface names have 15 characters).
NIC_PREFIX = "dp"
# Routing protocol number of the routes this data plane adds (snat_dataplane.py uses its own).
ROUTE_PROTO = "201"


# ---- shell helpers -------------------------------------------------------------------------------------------
def run(*argv: str, check: bool = True, stdin: str | None = None) -> subprocess.CompletedProcess:
    """Run a command (argument list, no shell); failures raise with stderr."""
    return subprocess.run(list(argv), check=check, capture_output=True, text=True, input=stdin)


def in_ns(namespace: str, *argv: str, check: bool = True, stdin: str | None = None) -> subprocess.CompletedProcess:
    """Run a command inside a network namespace."""
    return run("ip", "netns", "exec", namespace, *argv, check=check, stdin=stdin)


def ip_json(namespace: str, *args: str) -> list:
    """``ip -j ARGS`` inside a namespace, parsed."""
    output = run("ip", "-n", namespace, "-j", *args).stdout
    return json.loads(output) if output.strip() else []


def namespaces() -> set[str]:
    """Names of the network namespaces that exist."""
    return {line.split()[0] for line in run("ip", "netns", "list").stdout.splitlines() if line.strip()}


# ---- control plane -------------------------------------------------------------------------------------------
def read_state(control: str) -> dict:
    """The emulator's whole state (``control`` is its endpoint, ``http://host:port`` or ``host:port``)."""
    base = control if "://" in control else f"http://{control}"
    url = base.rstrip("/")
    if not url.endswith("/_emulator"):
        url += "/_emulator"
    # The emulator is on loopback; a proxy from the environment must not be used.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(f"{url}/state", timeout=10) as response:
        return json.loads(response.read())


def load_topology(path: str | None) -> dict:
    """The lab topology (lab.py's YAML), or an empty one."""
    if not path:
        return {"hosts": {}, "bridges": []}
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def eip_gateway(eip: dict) -> tuple[str, str]:
    """(gateway, netmask) of a cut-through EIP: the emulator's DescribeEipGatewayInfo rule."""
    from tests.emulator.public import eip_gateway as emulator_eip_gateway  # pylint: disable=import-outside-toplevel

    return emulator_eip_gateway(eip)


def nic_name(eni_id: str) -> str:
    """Router-side name of an ENI's NIC: stable for the ENI, unique, at most 15 characters."""
    return NIC_PREFIX + hashlib.sha256(eni_id.encode()).hexdigest()[:8]


def primary_ip(eni: dict) -> str:
    """Primary private IP of an ENI as the emulator stores it."""
    return next((item["PrivateIpAddress"] for item in eni.get("PrivateIpSets", []) if item.get("Primary")), "")


# ---- plan (pure) ---------------------------------------------------------------------------------------------
def plan(state: dict, topology: dict) -> dict:
    """What the lab must look like for this state.

    Returns ``{"nics": [{eni_id, namespace, device, mac, bridge, link}], "nat": [{eip, private_ip, resource}],
    "routed": [{eip, gateway, mask, link, resource, mode}], "rows": [...]}``; ``rows`` has one entry per InUse EIP
    with the host namespace and MAC its traffic must use (for ``verify``).
    """
    prefix = topology.get("prefix", "")
    host_of = {
        spec["instance"]: f"{prefix}-{name}" for name, spec in topology.get("hosts", {}).items() if spec.get("instance")
    }
    bridge_of = {bridge["vswitch"]: bridge["name"] for bridge in topology.get("bridges", []) if bridge.get("vswitch")}
    enis = state.get("enis", {})
    nics = []
    for eni_id, eni in sorted(enis.items()):
        if eni.get("Type") != "Secondary" or eni.get("Status") != "InUse":
            continue
        namespace, bridge = host_of.get(eni.get("InstanceId", "")), bridge_of.get(eni.get("VSwitchId", ""))
        if namespace and bridge:
            nics.append(
                {
                    "eni_id": eni_id,
                    "namespace": namespace,
                    "device": f"eth{eni.get('DeviceIndex', 1)}",
                    "mac": eni["MacAddress"].lower(),
                    "bridge": bridge,
                    "link": nic_name(eni_id),
                }
            )
    plugged = {nic["eni_id"] for nic in nics}
    nat, routed, rows = [], [], []
    for eip in sorted(state.get("eips", {}).values(), key=lambda item: item["IpAddress"]):
        if eip.get("Status") != "InUse":
            continue
        kind, mode, target = eip.get("InstanceType"), eip.get("Mode") or "NAT", eip.get("InstanceId", "")
        row = {"eip": eip["IpAddress"], "resource": target, "private_ip": eip.get("PrivateIpAddress", ""), "mode": mode}
        if kind == "EcsInstance":
            instance = state.get("instances", {}).get(target, {})
            eni = enis.get(instance.get("PrimaryNetworkInterfaceId", ""), {})
            row.update(namespace=host_of.get(target), mac=eni.get("MacAddress", "").lower())
            nat.append({"eip": eip["IpAddress"], "private_ip": row["private_ip"], "resource": target})
        elif kind == "NetworkInterface":
            eni = enis.get(target, {})
            row.update(namespace=host_of.get(eni.get("InstanceId", "")), mac=eni.get("MacAddress", "").lower())
            if mode == "NAT":
                nat.append({"eip": eip["IpAddress"], "private_ip": row["private_ip"], "resource": target})
            elif target in plugged:
                gateway, mask = eip_gateway(eip)
                link = bridge_of[eni["VSwitchId"]]
                routed.append(
                    {
                        "eip": eip["IpAddress"],
                        "gateway": gateway,
                        "mask": mask,
                        "link": link,
                        "resource": target,
                        "mode": mode,
                    }
                )
            else:
                row["detail"] = "ENI not attached to a lab host"
        else:
            # NAT gateways, CLBs, HaVips: not this data plane's (snat_dataplane.py handles NAT gateways).
            continue
        rows.append(row)
    return {"nics": nics, "nat": nat, "routed": routed, "rows": rows}


def render_nft(nat: list[dict]) -> str:
    """The nftables table of the NAT-mode EIPs, as one atomic replacement."""
    lines = [
        f"table ip {NFT_TABLE} {{}}",
        f"delete table ip {NFT_TABLE}",
        f"table ip {NFT_TABLE} {{",
        "  chain prerouting {",
        "    type nat hook prerouting priority dstnat; policy accept;",
    ]
    lines += [f"    ip daddr {item['eip']} dnat to {item['private_ip']}" for item in nat if item["private_ip"]]
    lines += [
        "  }",
        "  chain postrouting {",
        "    type nat hook postrouting priority srcnat; policy accept;",
    ]
    lines += [
        f'    ip saddr {item["private_ip"]} oifname "{ROUTER_CLIENT_LINK}" snat to {item["eip"]}'
        for item in nat
        if item["private_ip"]
    ]
    lines += ["  }", "}"]
    return "\n".join(lines) + "\n"


# ---- apply ---------------------------------------------------------------------------------------------------
def ensure_client(router_ns: str) -> str:
    """Create the internet client namespace behind the router (idempotent); returns its name."""
    client = f"{router_ns}-inet"
    if client in namespaces():
        if any(link["ifname"] == ROUTER_CLIENT_LINK for link in ip_json(router_ns, "link", "show")):
            return client
        # Left over from a router that was torn down and rebuilt: its veth went with the old router.
        run("ip", "netns", "del", client)
    run("ip", "netns", "add", client)
    run("ip", "-n", client, "link", "set", "lo", "up")
    run(
        "ip",
        "link",
        "add",
        "eth0",
        "netns",
        client,
        "type",
        "veth",
        "peer",
        "name",
        ROUTER_CLIENT_LINK,
        "netns",
        router_ns,
    )
    run("ip", "-n", client, "addr", "add", CLIENT_ADDRESS, "dev", "eth0")
    run("ip", "-n", client, "link", "set", "eth0", "up")
    run("ip", "-n", client, "route", "add", "default", "via", CLIENT_GATEWAY)
    run("ip", "-n", router_ns, "addr", "add", ROUTER_CLIENT_ADDRESS, "dev", ROUTER_CLIENT_LINK)
    run("ip", "-n", router_ns, "link", "set", ROUTER_CLIENT_LINK, "up")
    in_ns(router_ns, "sysctl", "-q", "-w", f"net.ipv4.conf.{ROUTER_CLIENT_LINK}.rp_filter=1")
    return client


def remove_client(router_ns: str) -> None:
    """Delete the client namespace (its veth goes with it)."""
    run("ip", "netns", "del", f"{router_ns}-inet", check=False)


def sync_nics(router_ns: str, nics: list[dict]) -> None:
    """Hot-plug the NICs of attached ENIs and unplug those of ENIs that are gone."""
    present = {link["ifname"] for link in ip_json(router_ns, "link", "show") if link["ifname"].startswith(NIC_PREFIX)}
    wanted = {nic["link"] for nic in nics}
    for link in sorted(present - wanted):
        # Deleting one end of a veth deletes both: the host loses the NIC, as on a real detach.
        run("ip", "-n", router_ns, "link", "del", link, check=False)
    existing = namespaces()
    for nic in nics:
        if nic["link"] in present or nic["namespace"] not in existing:
            continue
        run(
            "ip", "link", "add", nic["device"], "address", nic["mac"], "netns", nic["namespace"],
            "type", "veth", "peer", "name", nic["link"], "netns", router_ns,
        )  # fmt: skip
        run("ip", "-n", router_ns, "link", "set", nic["link"], "master", nic["bridge"])
        run("ip", "-n", router_ns, "link", "set", nic["link"], "up")


def sync_routed(router_ns: str, routed: list[dict], topology: dict) -> None:
    """Route each cut-through EIP to its ENI's link and put its gateway there; drop what is no longer bound.

    Routes carry protocol ``ROUTE_PROTO`` so that only this data plane's are ever removed; gateways are the /32
    addresses on the topology's bridges that the topology does not declare.
    """
    wanted_routes = {(item["eip"], item["link"]) for item in routed}
    wanted_gateways = {(item["gateway"], item["link"]) for item in routed}
    declared = {
        (str(ipaddress.IPv4Interface(address).ip), bridge["name"])
        for bridge in topology.get("bridges", [])
        for address in bridge.get("addresses", [])
    }
    bridges = {bridge["name"] for bridge in topology.get("bridges", [])}
    for route in ip_json(router_ns, "route", "show", "proto", ROUTE_PROTO):
        key = (route.get("dst", ""), route.get("dev", ""))
        if key not in wanted_routes:
            run("ip", "-n", router_ns, "route", "del", key[0], "dev", key[1], "proto", ROUTE_PROTO, check=False)
    for link in ip_json(router_ns, "addr", "show"):
        if link["ifname"] not in bridges:
            continue
        for info in link.get("addr_info", []):
            key = (info.get("local"), link["ifname"])
            if info.get("family") == "inet" and info.get("prefixlen") == 32 and key not in declared | wanted_gateways:
                run("ip", "-n", router_ns, "addr", "del", f"{key[0]}/32", "dev", key[1], check=False)
    for gateway, link in sorted(wanted_gateways):
        run("ip", "-n", router_ns, "addr", "replace", f"{gateway}/32", "dev", link)
    for eip, link in sorted(wanted_routes):
        run("ip", "-n", router_ns, "route", "replace", f"{eip}/32", "dev", link, "proto", ROUTE_PROTO)


def bridge_mac(name: str) -> str:
    """A fixed, locally administered MAC for a router bridge, derived from its name (the one lab.py creates it with)."""
    digest = hashlib.sha256(name.encode()).hexdigest()
    return "02:" + ":".join(digest[index : index + 2] for index in range(0, 10, 2))


def pin_bridge_macs(router_ns: str, topology: dict) -> None:
    """Give every vSwitch bridge a fixed MAC.

    A Linux bridge otherwise takes the lowest MAC of its ports, so hot-plugging or unplugging an ENI would change
    the gateway's MAC under the hosts' neighbour caches and silently blackhole their traffic (a real vSwitch
    gateway keeps its MAC).
    """
    links = {link["ifname"]: link for link in ip_json(router_ns, "link", "show")}
    for bridge in topology.get("bridges", []):
        mac = bridge_mac(bridge["name"])
        if bridge["name"] in links and links[bridge["name"]].get("address") != mac:
            run("ip", "-n", router_ns, "link", "set", "dev", bridge["name"], "address", mac)


def program(router_ns: str, state: dict, topology: dict | None = None) -> dict:
    """Make the lab match the state (idempotent); returns the plan that was applied."""
    wanted = plan(state, topology or {"hosts": {}, "bridges": []})
    ensure_client(router_ns)
    pin_bridge_macs(router_ns, topology or {})
    sync_nics(router_ns, wanted["nics"])
    sync_routed(router_ns, wanted["routed"], topology or {})
    in_ns(router_ns, "nft", "-f", "-", stdin=render_nft(wanted["nat"]))
    return wanted


# ---- verify --------------------------------------------------------------------------------------------------
def device_of(namespace: str, mac: str) -> str | None:
    """Interface name with this MAC in a namespace."""
    for link in ip_json(namespace, "link", "show"):
        if str(link.get("address", "")).lower() == mac:
            return link["ifname"]
    return None


def tx_packets(namespace: str, device: str) -> int:
    """Transmitted packets of a device (its reply counter)."""
    links = ip_json(namespace, "-s", "link", "show", "dev", device)
    return int(links[0]["stats64"]["tx"]["packets"]) if links else -1


def verify(router_ns: str, state: dict, topology: dict | None = None, count: int = 2) -> list[dict]:
    """Ping every InUse EIP from the internet client; the replies must leave the host through the EIP's ENI."""
    client = ensure_client(router_ns)
    rows = []
    existing = namespaces()
    for row in plan(state, topology or {"hosts": {}, "bridges": []})["rows"]:
        namespace = row.get("namespace")
        device = device_of(namespace, row["mac"]) if namespace in existing and row.get("mac") else None
        before = tx_packets(namespace, device) if device else None
        ping = in_ns(client, "ping", "-n", "-q", "-c", str(count), "-i", "0.2", "-W", "2", row["eip"], check=False)
        answered = ping.returncode == 0
        sent = tx_packets(namespace, device) - before if device else None
        through = sent is not None and sent >= count
        # Without a topology there is no NIC to count on: the reply alone is the proof.
        verified = answered and (through if topology else True)
        detail = row.get("detail") or (
            f"{'replies' if answered else 'no reply'}; {device} sent {sent} packet(s)"
            if device
            else f"{'replies' if answered else 'no reply'}; NIC not in the lab"
        )
        rows.append(
            {
                "eip": row["eip"],
                "resource": row["resource"],
                "private_ip": row["private_ip"],
                "mode": row["mode"],
                "device": f"{namespace}/{device}" if device else "",
                "verified": verified,
                "detail": detail,
            }
        )
    return rows


def format_rows(rows: list[dict]) -> str:
    """A text table: EIP, resource, private IP, mode, NIC, traffic verified."""
    header = ("EIP", "resource", "private IP", "mode", "NIC", "traffic verified")
    table = [header] + [
        (
            row["eip"],
            row["resource"],
            row["private_ip"] or "-",
            row["mode"],
            row["device"] or "-",
            "yes" if row["verified"] else "no",
        )
        for row in rows
    ]
    widths = [max(len(str(line[column])) for line in table) for column in range(len(header))]
    return "\n".join("  ".join(str(cell).ljust(width) for cell, width in zip(line, widths)).rstrip() for line in table)


# ---- watch ---------------------------------------------------------------------------------------------------
def watch(control: str, router_ns: str, topology: dict, interval: float, ready=None) -> None:
    """Keep programming the lab while the state changes (the cloud's side of attach, detach and associate)."""
    applied_key = None
    while True:
        if router_ns not in namespaces():
            return
        try:
            state = read_state(control)
        except OSError:
            time.sleep(interval)
            continue
        key = json.dumps(plan(state, topology), sort_keys=True)
        if key != applied_key:
            try:
                applied = program(router_ns, state, topology)
            except subprocess.CalledProcessError as error:
                # A namespace being torn down or a transient failure: report it and try again next round.
                print(f"dataplane: {' '.join(error.cmd)} failed: {error.stderr.strip()}", file=sys.stderr, flush=True)
                time.sleep(interval)
                continue
            applied_key = key
            summary = {name: len(applied[name]) for name in ("nics", "nat", "routed")}
            print(f"dataplane: {time.strftime('%H:%M:%S')} programmed {summary}", file=sys.stderr, flush=True)
        if ready:
            ready()
            ready = None
        time.sleep(interval)


def start(args: argparse.Namespace) -> int:
    """Run ``watch`` in the background (new session), return once it has programmed the lab once."""
    argv = [sys.executable, os.path.abspath(__file__), "watch", "--control", args.control, "--router", args.router]
    argv += ["--topology", args.topology, "--interval", str(args.interval)]
    with open(args.pid_file + ".log", "w", encoding="utf-8") as log:
        # The watcher outlives this command (stop ends it by pid); the child keeps its own copy of the log file.
        process = subprocess.Popen(  # pylint: disable=consider-using-with
            argv, stdout=subprocess.PIPE, stderr=log, text=True, start_new_session=True
        )
    line = process.stdout.readline()
    if "ready" not in line:
        print(f"dataplane watch did not start: {line!r} (see {args.pid_file}.log)", file=sys.stderr)
        return 1
    with open(args.pid_file, "w", encoding="utf-8") as handle:
        handle.write(str(process.pid))
    print(json.dumps({"dataplane": "started", "pid": process.pid}))
    return 0


def stop(pid_file: str) -> int:
    """Stop the background watcher named by the pid file (idempotent)."""
    try:
        with open(pid_file, encoding="utf-8") as handle:
            pid = int(handle.read())
    except (OSError, ValueError):
        return 0
    try:
        # Only our watcher: the number in a stale pid file may belong to another process (another run's) by now.
        if is_watcher(pid):
            os.kill(pid, signal.SIGTERM)
            for _attempt in range(100):
                if not is_watcher(pid):
                    break
                time.sleep(0.05)
    except ProcessLookupError:
        pass
    os.remove(pid_file)
    return 0


def is_watcher(pid: int) -> bool:
    """Whether ``pid`` runs this file's ``watch``."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            argv = handle.read().split(b"\0")
    except OSError:
        return False
    return os.path.abspath(__file__).encode() in argv and b"watch" in argv


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["apply", "watch", "start", "stop", "verify"])
    parser.add_argument("--control", help="emulator endpoint, http://127.0.0.1:PORT")
    parser.add_argument("--router", help="router namespace of the lab, <prefix>-r")
    parser.add_argument("--topology", help="lab topology (lab.py YAML) naming hosts' instances and bridges' vSwitches")
    parser.add_argument("--interval", type=float, default=0.25)
    parser.add_argument("--pid-file")
    parser.add_argument("--count", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv[1:])
    if args.command == "stop":
        return stop(args.pid_file)
    if not args.control or not args.router:
        parser.error("--control and --router are required")
    topology = load_topology(args.topology)
    try:
        if args.command == "start":
            return start(args)
        if args.command == "watch":
            watch(args.control, args.router, topology, args.interval, ready=lambda: print("ready", flush=True))
            return 0
        state = read_state(args.control)
        if args.command == "apply":
            print(json.dumps(program(args.router, state, topology), indent=2))
            return 0
        rows = verify(args.router, state, topology, args.count)
    except subprocess.CalledProcessError as error:
        print(f"dataplane: {' '.join(error.cmd)} failed: {error.stderr.strip()}", file=sys.stderr)
        return 1
    print(json.dumps(rows, indent=2) if args.json else format_rows(rows))
    return 0 if all(row["verified"] for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
