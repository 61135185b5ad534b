# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Network-namespace lab for the eni_host molecule scenarios (test-infra.md §3a, with per-host /etc).

    python lab.py up TOPOLOGY.yml      build it (idempotent: an existing lab is torn down first)
    python lab.py down TOPOLOGY.yml    remove it (idempotent)
    python lab.py check TOPOLOGY.yml   exit 1 unless every metadata forwarder runs and answers in its namespace

Topology (see the scenarios' ``lab/topology.yml``): a router namespace ``<prefix>-r`` with ip_forward, strict
rp_filter and the "internet" address 198.51.100.1 on its lo; hosts ``<prefix>-<host>`` whose NICs are veth
pairs into the router (MACs as given, so that ENIs can be matched by MAC).  NICs listed under a router
``bridge`` share one L2 segment (several ENIs on one vSwitch).  The first NIC of a host is its primary ENI:
it gets its address and the default route, as DHCP would.  Secondary NICs stay down and unconfigured.

Each host gets its own /etc: a copy of the runner's, bind-mounted over /etc in a persistent mount namespace
``<run>/mnt/<host>`` that also has the host's sysfs and a private /run/systemd.  The ``nsenter_netns``
connection plugin enters both namespaces, so nothing the role writes reaches the runner's /etc.

Hosts with ``instance`` get the metadata forwarder of the emulator (tests/emulator/imds_forward.py) on
100.100.100.200:80 when the environment variable ``EH_METADATA_SOCKET`` names the emulator's unix socket; ``up``
returns only once each forwarder answers a request from inside its namespace (bounded by ``EH_LAB_READY_TIMEOUT``,
60 s), and the forwarders run in a session of their own, so that they outlive the Ansible task that started them.
Nothing is created in, or attached to, the root network namespace.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import yaml

INTERNET = "198.51.100.1"
REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
# The directories the role may write; create.yml checksums them in the runner's /etc.
WATCHED = ["systemd/network", "NetworkManager/system-connections", "netplan", "sysconfig", "sysctl.d"]


def run(*argv: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(list(argv), check=check, capture_output=True, text=True)


def in_ns(namespace: str, *argv: str, check: bool = True) -> subprocess.CompletedProcess:
    return run("ip", "netns", "exec", namespace, *argv, check=check)


def run_dir(topology: dict) -> str:
    return f"/run/{topology['prefix']}-lab"


def sysctl(namespace: str, *settings: str) -> None:
    in_ns(namespace, "sysctl", "-q", "-w", *settings)


def bridge_mac(name: str) -> str:
    """A fixed, locally administered MAC for a router bridge, derived from its name."""
    digest = hashlib.sha256(name.encode()).hexdigest()
    return "02:" + ":".join(digest[index : index + 2] for index in range(0, 10, 2))


def build_router(topology: dict) -> str:
    router = f"{topology['prefix']}-r"
    run("ip", "netns", "add", router)
    run("ip", "-n", router, "link", "set", "lo", "up")
    run("ip", "-n", router, "addr", "add", f"{INTERNET}/32", "dev", "lo")
    sysctl(router, "net.ipv4.ip_forward=1", "net.ipv4.conf.all.rp_filter=1", "net.ipv4.conf.default.rp_filter=1")
    for bridge in topology.get("bridges", []):
        # A fixed MAC from the start: a bridge otherwise takes its lowest port's MAC and changes it when ports come
        # and go, which leaves the hosts' neighbour caches pointing at a gateway MAC that no longer exists.
        run("ip", "-n", router, "link", "add", bridge["name"], "address", bridge_mac(bridge["name"]), "type", "bridge")
        run("ip", "-n", router, "link", "set", bridge["name"], "up")
        for address in bridge["addresses"]:
            run("ip", "-n", router, "addr", "add", address, "dev", bridge["name"])
        sysctl(router, f"net.ipv4.conf.{bridge['name']}.rp_filter=1")
    return router


def build_host(topology: dict, name: str, host: dict, router: str) -> None:
    namespace = f"{topology['prefix']}-{name}"
    run("ip", "netns", "add", namespace)
    run("ip", "-n", namespace, "link", "set", "lo", "up")
    sysctl(namespace, "net.ipv4.conf.all.rp_filter=1", "net.ipv4.conf.default.rp_filter=1")
    for index, nic in enumerate(host["nics"]):
        peer = f"{name}e{index}"
        run(
            "ip",
            "link",
            "add",
            nic["name"],
            "address",
            nic["mac"],
            "netns",
            namespace,
            "type",
            "veth",
            "peer",
            "name",
            peer,
            "netns",
            router,
        )
        if nic.get("bridge"):
            run("ip", "-n", router, "link", "set", peer, "master", nic["bridge"])
        else:
            for address in nic["router_addresses"]:
                run("ip", "-n", router, "addr", "add", address, "dev", peer)
            sysctl(router, f"net.ipv4.conf.{peer}.rp_filter=1")
        run("ip", "-n", router, "link", "set", peer, "up")
        if index == 0:
            run("ip", "-n", namespace, "link", "set", nic["name"], "up")
            run("ip", "-n", namespace, "addr", "add", nic["address"], "dev", nic["name"])
            run("ip", "-n", namespace, "route", "add", "default", "via", nic["gateway"], "dev", nic["name"])


def build_etc(topology: dict, name: str, host: dict) -> None:
    """A private copy of /etc for the host, mounted over /etc in its own persistent mount namespace."""
    base = run_dir(topology)
    etc = os.path.join(base, name, "etc")
    run("cp", "-a", "/etc", etc)
    for relative in WATCHED:
        shutil.rmtree(os.path.join(etc, relative), ignore_errors=True)
        os.makedirs(os.path.join(etc, relative), exist_ok=True)
    for relative, content in (host.get("seed_files") or {}).items():
        path = os.path.join(etc, relative)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(content)
        os.chmod(path, 0o600)
    anchor = os.path.join(base, "mnt", name)
    with open(anchor, "w", encoding="utf-8"):
        pass
    script = f"mount -t sysfs sysfs /sys && mount -t tmpfs tmpfs /run/systemd && mount --bind {etc} /etc"
    run(
        "unshare",
        f"--mount={anchor}",
        "--propagation",
        "private",
        "nsenter",
        f"--net=/run/netns/{topology['prefix']}-{name}",
        "sh",
        "-c",
        script,
    )


# How long a lab service may take to answer once started (a loaded 2-core machine runs the other suites beside it).
READY_TIMEOUT = float(os.environ.get("EH_LAB_READY_TIMEOUT", "60"))
FORWARDER_MODULE = "tests.emulator.imds_forward"
# Run inside a host namespace: one request through the forwarder to the emulator.  Any HTTP status but 502 (the
# forwarder's "emulator unreachable") proves the whole chain: address, listener, unix socket, emulator.
PROBE = """
import http.client, sys
connection = http.client.HTTPConnection("100.100.100.200", 80, timeout=5)
try:
    connection.request("GET", "/latest/meta-data/instance-id")
    response = connection.getresponse()
    print(response.status, response.read(200).decode(errors="replace"))
except OSError as error:
    print(0, error)
"""


def forwarder_answer(namespace: str) -> tuple[int, str]:
    """(HTTP status, text) of one metadata request made inside ``namespace``; status 0 when nothing answered."""
    result = in_ns(namespace, sys.executable, "-c", PROBE, check=False)
    status, _separator, text = (result.stdout.strip() or f"0 {result.stderr.strip()}").partition(" ")
    return int(status) if status.isdigit() else 0, text


def is_forwarder(pid: int, instance: str) -> bool:
    """Whether ``pid`` is this lab's forwarder for ``instance`` (a pid file may outlive its process and the
    number be reused by another run's process: never signal a process by a number alone)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            argv = handle.read().split(b"\0")
    except OSError:
        return False
    return FORWARDER_MODULE.encode() in argv and b"--instance" in argv and instance.encode() in argv


def log_tail(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read()[-800:].strip() or "(empty)"
    except OSError:
        return "(no log)"


def start_forwarder(topology: dict, name: str, host: dict) -> None:
    """Start the metadata forwarder of one host and return once it answers from inside the host's namespace.

    The forwarder runs in a session of its own (``start_new_session``): the lab is built from an Ansible task, and
    at the end of a play ansible-core sends SIGTERM to every task worker that has not exited yet, which then kills
    its whole process group (WorkerProcess._term: ``os.killpg``).  On a loaded machine the worker that ran
    ``lab.py up`` is often still exiting then, and a forwarder in its group died with it (issue 9 item 17).
    """
    socket_path = os.environ.get("EH_METADATA_SOCKET")
    if not host.get("instance") or not socket_path:
        return
    namespace = f"{topology['prefix']}-{name}"
    run("ip", "-n", namespace, "addr", "add", "100.100.100.200/32", "dev", "lo")
    log_path = os.path.join(run_dir(topology), name, "forwarder.log")
    argv = ["ip", "netns", "exec", namespace, sys.executable, "-m", FORWARDER_MODULE, "--listen", "100.100.100.200:80"]
    argv += ["--socket", socket_path, "--instance", host["instance"]]
    with open(log_path, "w", encoding="utf-8") as log:
        # stdout carries one readiness line; stdin is /dev/null so that nothing of the caller's stays open.
        process = subprocess.Popen(  # pylint: disable=consider-using-with
            argv,
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": REPO},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            start_new_session=True,
        )
    line = process.stdout.readline()
    process.stdout.close()
    deadline = time.monotonic() + READY_TIMEOUT
    status, text = 0, line.strip() or "no readiness line"
    while "listen" in line and process.poll() is None and time.monotonic() < deadline:
        status, text = forwarder_answer(namespace)
        if status not in (0, 502):
            break
        time.sleep(0.2)
    if status in (0, 502) or process.poll() is not None:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=10)
        raise SystemExit(
            f"lab: the metadata forwarder of {name} ({namespace}, instance {host['instance']}) did not answer on "
            f"100.100.100.200:80 within {READY_TIMEOUT:.0f}s (exit status {process.poll()}; last answer: {status} "
            f"{text}); forwarder log {log_path}: {log_tail(log_path)}"
        )
    with open(os.path.join(run_dir(topology), name, "forwarder.pid"), "w", encoding="utf-8") as handle:
        handle.write(str(process.pid))


def check(topology: dict) -> list[dict]:
    """Every forwarder of the lab: still running, and answering from inside its namespace."""
    rows = []
    for name, host in topology["hosts"].items():
        if not host.get("instance"):
            continue
        namespace = f"{topology['prefix']}-{name}"
        pid_file = os.path.join(run_dir(topology), name, "forwarder.pid")
        try:
            with open(pid_file, encoding="utf-8") as handle:
                pid = int(handle.read())
        except (OSError, ValueError):
            continue  # built without a metadata socket: no forwarder to check
        running = is_forwarder(pid, host["instance"])
        status, text = forwarder_answer(namespace) if running else (0, "process gone")
        rows.append({"host": name, "pid": pid, "running": running, "status": status, "answer": text})
    return rows


def etc_checksum() -> str:
    """Checksum of the runner's /etc directories the role could write (names, modes and contents)."""
    digest = hashlib.sha256()
    for relative in WATCHED:
        for root, dirs, files in sorted(os.walk(os.path.join("/etc", relative))):
            dirs.sort()
            for file_name in sorted(files):
                path = os.path.join(root, file_name)
                digest.update(path.encode())
                try:
                    with open(path, "rb") as handle:
                        digest.update(handle.read())
                except OSError:
                    digest.update(b"unreadable")
    return digest.hexdigest()


def up(topology: dict) -> None:
    down(topology)
    base = run_dir(topology)
    os.makedirs(os.path.join(base, "mnt"))
    # unshare --mount=FILE needs FILE on a mount with private propagation.
    run("mount", "--bind", os.path.join(base, "mnt"), os.path.join(base, "mnt"))
    run("mount", "--make-private", os.path.join(base, "mnt"))
    with open(os.path.join(base, "etc.sha256"), "w", encoding="utf-8") as handle:
        handle.write(etc_checksum())
    router = build_router(topology)
    for name, host in topology["hosts"].items():
        os.makedirs(os.path.join(base, name))
        build_host(topology, name, host, router)
        build_etc(topology, name, host)
        start_forwarder(topology, name, host)


def down(topology: dict) -> None:
    base = run_dir(topology)
    for name in topology["hosts"]:
        pid_file = os.path.join(base, name, "forwarder.pid")
        if os.path.exists(pid_file):
            with open(pid_file, encoding="utf-8") as handle:
                pid = int(handle.read())
            instance = topology["hosts"][name].get("instance", "")
            try:
                if is_forwarder(pid, instance):
                    os.kill(pid, signal.SIGTERM)
                    for _attempt in range(100):
                        if not is_forwarder(pid, instance):
                            break
                        time.sleep(0.05)
            except ProcessLookupError:
                pass
        run("umount", os.path.join(base, "mnt", name), check=False)
        run("ip", "netns", "del", f"{topology['prefix']}-{name}", check=False)
    run("ip", "netns", "del", f"{topology['prefix']}-r", check=False)
    run("umount", os.path.join(base, "mnt"), check=False)
    shutil.rmtree(base, ignore_errors=True)


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[1] not in ("up", "down", "check", "etc-checksum"):
        print(__doc__, file=sys.stderr)
        return 2
    if argv[1] == "etc-checksum":
        print(etc_checksum())
        return 0
    with open(argv[2], encoding="utf-8") as handle:
        topology = yaml.safe_load(handle)
    if argv[1] == "check":
        rows = check(topology)
        print(json.dumps({"lab": "check", "prefix": topology["prefix"], "forwarders": rows}))
        broken = [row for row in rows if not row["running"] or row["status"] in (0, 502)]
        for row in broken:
            log = os.path.join(run_dir(topology), row["host"], "forwarder.log")
            print(
                f"lab: the metadata forwarder of {row['host']} (pid {row['pid']}) is "
                f"{'running' if row['running'] else 'gone'} and answered {row['status']} {row['answer']}; "
                f"forwarder log: {log_tail(log)}",
                file=sys.stderr,
            )
        return 1 if broken else 0
    try:
        (up if argv[1] == "up" else down)(topology)
    except subprocess.CalledProcessError as error:
        print(f"lab: {' '.join(error.cmd)} failed: {error.stderr.strip()}", file=sys.stderr)
        return 1
    print(json.dumps({"lab": argv[1], "prefix": topology["prefix"], "hosts": sorted(topology["hosts"])}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
