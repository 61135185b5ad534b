# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""HaVip data plane and failover checks of the havip_failover lab (next-capabilities.md §2.5).

The molecule kit builds the router, the two hosts on one vSwitch bridge and the EIP data plane (which leaves HaVip
EIPs alone); this file adds what a HaVip needs, standing in for the platform:

- **EIP -> HaVip**: every EIP the emulator has on a HaVip is 1:1 NAT to the HaVip's address in the router (nftables
  table ``ip alicloud_havip``, replaced atomically when the set changes);
- **the HaVip follows ARP**: the router learns the master's MAC from keepalived's gratuitous ARP (``arp_accept``);
  the watcher maps that MAC to a lab host and moves the emulator's ``MasterInstanceId`` to its instance through
  ``POST /_emulator/havip_master``, as the VPC updates its HaVip mapping (no API call);
- **a service that says who answers**: ``python3 -m http.server`` on port 8000 in each host, serving ``whoami``
  with the host's name.

Commands (from the repository root, as root)::

    python havip_lab.py start  --control URL --topology T --run-dir D   (HTTP servers + watcher, backgrounded)
    python havip_lab.py watch  --control URL --topology T               (the watcher, in the foreground)
    python havip_lab.py record-pids --run-dir D --pid-dir P             (keepalived PIDs after the first converge)
    python havip_lab.py reload-check --control URL --topology T --run-dir D --pid-dir P --eip IP --havip IP
                                        --host H --priority N   (after the role changed H's priority)
    python havip_lab.py verify --control URL --topology T --run-dir D --pid-dir P --eip IP --havip IP
    python havip_lab.py stop   --run-dir D --pid-dir P                  (watcher, HTTP servers, keepalived)

``verify`` prints one JSON report (failover times included) and exits 1 when a check fails.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "eip_shared"))

import dataplane  # noqa: E402  (the EIP data plane next door: run, in_ns, ip_json, read_state, ensure_client)

NFT_TABLE = "alicloud_havip"
PORT = 8000
# keepalived's default: a backup takes over after 3 missed adverts plus a skew; the goal at advert_int 1.
FAILOVER_GOAL = 5.0


def load_topology(path: str) -> dict:
    import yaml

    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def host_ns(topology: dict, host: str) -> str:
    return f"{topology['prefix']}-{host}"


def router_ns(topology: dict) -> str:
    return f"{topology['prefix']}-r"


def mount_ns(topology: dict, host: str) -> str:
    return f"/run/{topology['prefix']}-lab/mnt/{host}"


def in_host(topology: dict, host: str, *argv: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run in a lab host: its network namespace and its mount namespace (its own /etc)."""
    return dataplane.run(
        "nsenter", f"--net=/run/netns/{host_ns(topology, host)}", f"--mount={mount_ns(topology, host)}", *argv, check=check
    )


def control_post(control: str, path: str, payload: dict) -> dict:
    request = urllib.request.Request(
        f"{control}/_emulator/{path}", data=json.dumps(payload).encode(), method="POST"
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=5) as response:
        return json.loads(response.read() or b"{}")


# ---- the platform's part ------------------------------------------------------------------------------------
def havip_pairs(state: dict) -> list[dict]:
    """``[{eip, havip_ip, havip_id}]`` for every EIP on a HaVip (pure)."""
    pairs = []
    for eip in sorted(state.get("eips", {}).values(), key=lambda item: item["AllocationId"]):
        if eip.get("InstanceType") != "HaVip" or eip.get("Status") != "InUse":
            continue
        havip = state.get("havips", {}).get(eip.get("InstanceId", ""))
        if havip:
            pairs.append({"eip": eip["IpAddress"], "havip_ip": havip["IpAddress"], "havip_id": havip["HaVipId"]})
    return pairs


def render_nft(pairs: list[dict]) -> str:
    lines = [f"table ip {NFT_TABLE} {{}}", f"delete table ip {NFT_TABLE}", f"table ip {NFT_TABLE} {{"]
    lines += ["  chain prerouting {", "    type nat hook prerouting priority dstnat; policy accept;"]
    lines += [f"    ip daddr {pair['eip']} dnat to {pair['havip_ip']}" for pair in pairs]
    lines += ["  }", "  chain postrouting {", "    type nat hook postrouting priority srcnat; policy accept;"]
    lines += [
        f'    ip saddr {pair["havip_ip"]} oifname "{dataplane.ROUTER_CLIENT_LINK}" snat to {pair["eip"]}' for pair in pairs
    ]
    lines += ["  }", "}"]
    return "\n".join(lines) + "\n"


def instance_of_mac(topology: dict) -> dict[str, str]:
    """MAC (lower case) of each host's primary NIC -> its instance ID."""
    return {
        host["nics"][0]["mac"].lower(): host["instance"]
        for host in topology["hosts"].values()
        if host.get("instance") and host.get("nics")
    }


def learned_master(router: str, havip_ip: str, macs: dict[str, str]) -> str:
    """The instance whose MAC the router's neighbour table holds for the HaVip address ('' when none)."""
    for entry in dataplane.ip_json(router, "neigh", "show", "to", havip_ip):
        instance = macs.get(str(entry.get("lladdr", "")).lower())
        if instance and "FAILED" not in entry.get("state", []):
            return instance
    return ""


def watch(control: str, topology: dict, interval: float = 0.1) -> None:
    router = router_ns(topology)
    # Gratuitous ARP creates and updates neighbour entries (the default only updates existing ones).
    dataplane.in_ns(router, "sysctl", "-q", "-w", "net.ipv4.conf.all.arp_accept=1")
    macs = instance_of_mac(topology)
    programmed = None
    while True:
        try:
            state = dataplane.read_state(control)
        except OSError:
            time.sleep(interval)
            continue
        pairs = havip_pairs(state)
        if pairs != programmed:
            dataplane.in_ns(router, "nft", "-f", "-", stdin=render_nft(pairs))
            programmed = pairs
        for pair in pairs:
            havip = state["havips"][pair["havip_id"]]
            master = learned_master(router, pair["havip_ip"], macs)
            if master and master != havip.get("MasterInstanceId") and master in havip.get("AssociatedInstances", []):
                control_post(control, "havip_master", {"HaVipId": pair["havip_id"], "InstanceId": master})
        time.sleep(interval)


# ---- services -----------------------------------------------------------------------------------------------
def spawn(argv: list[str], pid_file: str) -> None:
    process = subprocess.Popen(  # noqa: S603  (argv built here)
        argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    with open(pid_file, "w", encoding="utf-8") as handle:
        handle.write(f"{process.pid}\n")


def start(control: str, topology_path: str, run_dir: str) -> None:
    topology = load_topology(topology_path)
    os.makedirs(run_dir, exist_ok=True)
    dataplane.ensure_client(router_ns(topology))
    for host in topology["hosts"]:
        www = os.path.join(run_dir, "www", host)
        os.makedirs(www, exist_ok=True)
        with open(os.path.join(www, "whoami"), "w", encoding="utf-8") as handle:
            handle.write(f"{host}\n")
        argv = ["ip", "netns", "exec", host_ns(topology, host), sys.executable, "-m", "http.server", str(PORT)]
        spawn(argv + ["--bind", "0.0.0.0", "--directory", www], os.path.join(run_dir, f"http-{host}.pid"))
    argv = [sys.executable, os.path.abspath(__file__), "watch", "--control", control, "--topology", topology_path]
    spawn(argv, os.path.join(run_dir, "watcher.pid"))


def kill_pid_file(path: str, sig: int = signal.SIGTERM) -> bool:
    try:
        with open(path, encoding="utf-8") as handle:
            pid = int(handle.read().split()[0])
        os.kill(pid, sig)
    except (OSError, ValueError, IndexError):
        return False
    return True


def stop(run_dir: str, pid_dir: str) -> None:
    for path in sorted(glob.glob(os.path.join(run_dir, "*.pid"))):
        kill_pid_file(path)
        os.unlink(path)
    for path in sorted(glob.glob(os.path.join(pid_dir, "keepalived-*.pid"))):
        kill_pid_file(path)


def keepalived_pids(pid_dir: str, host: str) -> dict[str, int]:
    """The parent and VRRP child PIDs of the role's keepalived on ``host`` (from its pid files)."""
    found = {}
    for kind, suffix in (("parent", ".pid"), ("vrrp", "-vrrp.pid")):
        matches = glob.glob(os.path.join(pid_dir, f"keepalived-*-{host}{suffix}"))
        if matches:
            with open(matches[0], encoding="utf-8") as handle:
                found[kind] = int(handle.read().split()[0])
    return found


def record_pids(run_dir: str, pid_dir: str, hosts: list[str], name: str = "pids-after-converge.json") -> None:
    os.makedirs(run_dir, exist_ok=True)
    with open(os.path.join(run_dir, name), "w", encoding="utf-8") as handle:
        json.dump({host: keepalived_pids(pid_dir, host) for host in hosts}, handle)


# ---- checks -------------------------------------------------------------------------------------------------
def holders(topology: dict, address: str) -> list[str]:
    """Hosts with ``address`` on an interface that is up."""
    found = []
    for host in topology["hosts"]:
        for link in dataplane.ip_json(host_ns(topology, host), "addr", "show"):
            if "UP" not in link.get("flags", []):
                continue
            if any(item.get("local") == address for item in link.get("addr_info", [])):
                found.append(host)
    return found


CLIENT_SCRIPT = r"""
import sys, time, urllib.request
url, mode, arg, deadline = sys.argv[1], sys.argv[2], sys.argv[3], time.time() + float(sys.argv[4])
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
def ask():
    try:
        with opener.open(url, timeout=0.3) as response:
            return response.read().decode().strip()
    except Exception:
        return ""
if mode == "count":
    print(" ".join(ask() or "-" for _ in range(int(arg))))
    sys.exit(0)
while time.time() < deadline:
    if ask() == arg:
        print(repr(time.time()))
        sys.exit(0)
    time.sleep(0.05)
sys.exit(1)
"""


def client(topology: dict, eip: str, mode: str, arg: str, timeout: float = 20.0) -> subprocess.Popen:
    ns = f"{router_ns(topology)}-inet"
    url = f"http://{eip}:{PORT}/whoami"
    return subprocess.Popen(  # noqa: S603
        ["ip", "netns", "exec", ns, sys.executable, "-c", CLIENT_SCRIPT, url, mode, arg, str(timeout)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )


def wait_for(predicate, timeout: float, interval: float = 0.1):
    deadline = time.time() + timeout
    value = predicate()
    while not value and time.time() < deadline:
        time.sleep(interval)
        value = predicate()
    return value


class Report:
    def __init__(self) -> None:
        self.checks: list[dict] = []
        self.figures: dict[str, float] = {}

    def check(self, name: str, ok: bool, detail: object = "") -> bool:
        self.checks.append({"check": name, "ok": bool(ok), "detail": detail})
        return bool(ok)

    @property
    def ok(self) -> bool:
        return all(item["ok"] for item in self.checks)


def master_of(control: str, havip_ip: str) -> str:
    state = dataplane.read_state(control)
    for havip in state.get("havips", {}).values():
        if havip["IpAddress"] == havip_ip:
            return havip.get("MasterInstanceId", "")
    return ""


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def running(pid_dir: str, host: str) -> bool:
    """Both keepalived processes of ``host`` (parent and VRRP child) run."""
    pids = keepalived_pids(pid_dir, host)
    return len(pids) == 2 and all(alive(pid) for pid in pids.values())


def start_keepalived(topology: dict, host: str, pid_dir: str, config: str, name: str) -> bool:
    """Start ``host``'s keepalived as the role does (once the old one is gone: it refuses to start beside it)."""
    old = keepalived_pids(pid_dir, host)
    wait_for(lambda: not any(alive(pid) for pid in old.values()), 10.0)
    prefix = os.path.join(pid_dir, f"keepalived-{name}-{host}")
    in_host(topology, host, "keepalived", "--vrrp", "-f", config, "-p", f"{prefix}.pid", "-r", f"{prefix}-vrrp.pid")
    return bool(wait_for(lambda: running(pid_dir, host), 5.0))


def failover(report: Report, args, topology: dict, old: str, new: str, sig: int) -> None:
    """Stop ``old``'s keepalived with ``sig`` and measure until the EIP answers with ``new``'s name."""
    label = "SIGKILL" if sig == signal.SIGKILL else "SIGTERM"
    instance = topology["hosts"][new]["instance"]
    poller = client(topology, args.eip, "until", new)
    time.sleep(0.3)  # the poller is running and asking before the master goes
    pids = keepalived_pids(args.pid_dir, old)
    if not report.check(f"{label}: {old}'s keepalived runs before it is stopped", running(args.pid_dir, old), pids):
        poller.kill()
        poller.wait()
        return
    killed = time.time()
    if sig == signal.SIGKILL:
        # The crash: parent and VRRP child die at once, no priority-0 advert; the interface goes down too, so the
        # address that stays configured cannot answer.
        # The parent is stopped first: killed first, its VRRP child would get SIGTERM (keepalived sets the children's
        # parent-death signal) and leave gracefully with a priority-0 advert, which is the other case.
        os.kill(pids["parent"], signal.SIGSTOP)
        os.kill(pids["vrrp"], signal.SIGKILL)
        os.kill(pids["parent"], signal.SIGKILL)
        dataplane.run("ip", "-n", host_ns(topology, old), "link", "set", "eth0", "down")
    else:
        os.kill(pids["parent"], signal.SIGTERM)
    out = poller.communicate(timeout=30)[0]
    answered = float(out.strip()) if poller.returncode == 0 and out.strip() else None
    seconds = round(answered - killed, 3) if answered else None
    report.figures[f"failover_{label.lower()}_s"] = seconds
    report.check(f"{label}: the EIP answers with {new} after {old} stops", answered is not None, seconds)
    report.check(f"{label}: failover under {FAILOVER_GOAL} s", seconds is not None and seconds < FAILOVER_GOAL, seconds)
    report.check(
        f"{label}: MasterInstanceId follows to {instance}",
        wait_for(lambda: master_of(args.control, args.havip) == instance, 5.0),
        master_of(args.control, args.havip),
    )
    report.check(f"{label}: {new} alone holds the HaVip", holders(topology, args.havip) == [new], holders(topology, args.havip))


def bring_back(topology: dict, host: str, args) -> None:
    """The stopped host comes back (after a crash: rebooted, so without the stale address) with keepalived."""
    ns = host_ns(topology, host)
    nic = topology["hosts"][host]["nics"][0]
    dataplane.run("ip", "-n", ns, "addr", "del", f"{args.havip}/{args.prefix_length}", "dev", "eth0", check=False)
    dataplane.run("ip", "-n", ns, "link", "set", "eth0", "up")
    dataplane.run("ip", "-n", ns, "route", "replace", "default", "via", nic["gateway"], "dev", "eth0")
    return start_keepalived(topology, host, args.pid_dir, args.config, args.instance_name)


DUMP_FILE = "/tmp/keepalived.data"  # keepalived's own SIGUSR1 dump path, not ours to choose


def dump_instance(topology: dict, pid_dir: str, host: str) -> dict[str, str]:
    """``State``/``Priority``/``Advert interval`` of ``host``'s running VRRP instance, from keepalived's SIGUSR1 dump.

    This is what the running process holds, not what the file on disk says: the proof that a reload took effect.
    """
    in_host(topology, host, "rm", "-f", DUMP_FILE, check=False)
    os.kill(keepalived_pids(pid_dir, host)["parent"], signal.SIGUSR1)
    text = wait_for(lambda: in_host(topology, host, "cat", DUMP_FILE, check=False).stdout or "", 5.0) or ""
    found: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.strip().partition(" = ")
        if sep and key in ("State", "Priority", "Advert interval") and key not in found:
            found[key] = value.strip()
    return found


def reload_check(args) -> int:
    """After a run of the role that changed ``args.host``'s priority: reloaded with SIGHUP (same PIDs), the running
    keepalived holds the new priority, and no failover (the master keeps the HaVip and the EIP answers from it)."""
    topology = load_topology(args.topology)
    report = Report()
    first = next(iter(topology["hosts"]))
    with open(os.path.join(args.run_dir, "pids-before-reload.json"), encoding="utf-8") as handle:
        before = json.load(handle)
    now = {host: keepalived_pids(args.pid_dir, host) for host in topology["hosts"]}
    report.check("reload: keepalived's PIDs (parent and VRRP child) are unchanged", before == now and all(now.values()), now)
    config = in_host(topology, args.host, "cat", args.config, check=False).stdout
    report.check(
        f"reload: {args.host}'s keepalived.conf has priority {args.priority}",
        f"priority {args.priority}\n" in config,
        [line.strip() for line in config.splitlines() if line.strip().startswith("priority")],
    )
    running_state = dump_instance(topology, args.pid_dir, args.host)
    report.check(
        f"reload: {args.host}'s running keepalived has priority {args.priority} (SIGUSR1 dump)",
        running_state.get("Priority") == str(args.priority),
        running_state,
    )
    master_state = dump_instance(topology, args.pid_dir, first)
    report.check(f"reload: {first} is still MASTER (SIGUSR1 dump)", master_state.get("State") == "MASTER", master_state)
    report.check(f"reload: {first} alone holds the HaVip", holders(topology, args.havip) == [first], holders(topology, args.havip))
    report.check(
        "reload: MasterInstanceId unchanged",
        master_of(args.control, args.havip) == topology["hosts"][first]["instance"],
        master_of(args.control, args.havip),
    )
    out = client(topology, args.eip, "count", "5").communicate(timeout=30)[0]
    report.check(f"reload: the EIP still answers with {first}", out.split() == [first] * 5, out.strip())
    print(json.dumps({"ok": report.ok, "checks": report.checks}, indent=1))
    return 0 if report.ok else 1


def verify(args) -> int:
    topology = load_topology(args.topology)
    report = Report()
    first, second = list(topology["hosts"])[:2]
    # 1. Exactly one holder, the preferred master; the platform's MasterInstanceId agrees.
    settled = wait_for(lambda: len(holders(topology, args.havip)) == 1, 15.0)
    report.check("exactly one host holds the HaVip", settled, holders(topology, args.havip))
    report.check(f"{first} (priority 150) is master", holders(topology, args.havip) == [first], holders(topology, args.havip))
    report.check(
        "MasterInstanceId is the master's instance",
        wait_for(lambda: master_of(args.control, args.havip) == topology["hosts"][first]["instance"], 5.0),
        master_of(args.control, args.havip),
    )
    # 2. Ten replies in a row from the master through the EIP.
    poller = client(topology, args.eip, "count", "10")
    out = poller.communicate(timeout=30)[0]
    replies = out.split()
    report.check(f"10 replies from {first} through EIP {args.eip}", replies == [first] * 10, " ".join(replies))
    # 3. The second converge restarted nothing: the keepalived PIDs are those of the first converge.
    with open(os.path.join(args.run_dir, "pids-after-converge.json"), encoding="utf-8") as handle:
        recorded = json.load(handle)
    now = {host: keepalived_pids(args.pid_dir, host) for host in topology["hosts"]}
    report.check("keepalived was not restarted by the second converge", recorded == now and all(now.values()), now)
    # 4. Crash of the master: SIGKILL and its interface down.
    failover(report, args, topology, first, second, signal.SIGKILL)
    # 5. The old master comes back: with nopreempt it does not take the address back.
    report.check(f"{first} comes back with keepalived", bring_back(topology, first, args))
    time.sleep(3 * args.advert_int + 2)
    report.check("nopreempt: the returned master stays backup", holders(topology, args.havip) == [second], holders(topology, args.havip))
    poller = client(topology, args.eip, "count", "3")
    out = poller.communicate(timeout=30)[0]
    report.check(f"nopreempt: the EIP still answers with {second}", out.split() == [second] * 3, out.strip())
    # 6. Graceful stop of the new master: SIGTERM (priority-0 advert, address released).
    failover(report, args, topology, second, first, signal.SIGTERM)
    report.check(
        f"{second} comes back with keepalived",
        start_keepalived(topology, second, args.pid_dir, args.config, args.instance_name),
    )
    time.sleep(1)
    report.check("in the end one holder again", holders(topology, args.havip) == [first], holders(topology, args.havip))
    report.check("both keepalived run", all(running(args.pid_dir, host) for host in (first, second)))
    print(json.dumps({"ok": report.ok, "figures": report.figures, "checks": report.checks}, indent=1))
    return 0 if report.ok else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["start", "watch", "stop", "record-pids", "reload-check", "verify"])
    parser.add_argument("--control")
    parser.add_argument("--topology")
    parser.add_argument("--run-dir")
    parser.add_argument("--pid-dir", default="/run")
    parser.add_argument("--eip")
    parser.add_argument("--havip")
    parser.add_argument("--prefix-length", type=int, default=24)
    parser.add_argument("--advert-int", type=float, default=1.0)
    parser.add_argument("--config", default="/etc/keepalived/keepalived.conf")
    parser.add_argument("--instance-name", default="havip")
    parser.add_argument("--name", default="pids-after-converge.json", help="record-pids: the file in --run-dir")
    parser.add_argument("--host", help="reload-check: the host whose priority the role changed")
    parser.add_argument("--priority", type=int, help="reload-check: its new priority")
    args = parser.parse_args(argv)
    if args.command == "start":
        start(args.control, args.topology, args.run_dir)
    elif args.command == "watch":
        watch(args.control, load_topology(args.topology))
    elif args.command == "stop":
        stop(args.run_dir, args.pid_dir)
    elif args.command == "record-pids":
        record_pids(args.run_dir, args.pid_dir, list(load_topology(args.topology)["hosts"]), args.name)
    elif args.command == "reload-check":
        return reload_check(args)
    else:
        return verify(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
