# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The molecule labs' services (extensions/molecule/eni_shared/lab.py, tools/emulator.sh): ready before use, up for
the whole scenario, and stopped only when they are this lab's own (issue 9 item 17).

The failure these tests keep away: ``lab.py up`` runs as an Ansible task; when a play ends while that task's worker
is still exiting (a loaded machine), ansible-core terminates the worker, whose SIGTERM handler kills its whole
process group (``WorkerProcess._term``: ``os.killpg``).  The metadata forwarders, started in that group, died with
it, and the scenario met "connection refused" on 100.100.100.200.  Here a shell in a session of its own runs
``lab.py up`` and then kills its own process group, as the worker does.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import pytest
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
LAB = os.path.join(ROOT, "extensions", "molecule", "eni_shared", "lab.py")
EMULATOR_SH = os.path.join(ROOT, "tools", "emulator.sh")

needs_namespaces = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("ip") is None or shutil.which("unshare") is None,
    reason="building a namespace lab needs root, iproute2 and util-linux (make test runs as root)",
)


def run(*argv: str, env: dict | None = None, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run(list(argv), capture_output=True, text=True, env=env, timeout=timeout, check=False)


@pytest.fixture
def work():
    directory = tempfile.mkdtemp(prefix="lab-services-")
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def emulator(work):
    """An emulator with an empty world and its metadata unix socket (instances unknown: answers 404)."""
    state = os.path.join(work, "state.json")
    ready = os.path.join(work, "endpoint")
    socket_path = os.path.join(work, "metadata.sock")
    argv = [sys.executable, "-m", "tests.emulator", "--port", "0", "--state", state, "--ready-file", ready]
    argv += ["--metadata-socket", socket_path]
    with open(os.path.join(work, "emulator.log"), "w", encoding="utf-8") as log:
        process = subprocess.Popen(  # pylint: disable=consider-using-with
            argv, cwd=ROOT, env={**os.environ, "PYTHONPATH": ROOT}, stdout=log, stderr=log, stdin=subprocess.DEVNULL
        )
    deadline = time.monotonic() + 60
    while not (os.path.exists(ready) and os.path.exists(socket_path)) and time.monotonic() < deadline:
        assert process.poll() is None, "the emulator exited at start"
        time.sleep(0.1)
    assert os.path.exists(socket_path), "the emulator did not create its metadata socket within 60 s"
    yield socket_path
    process.terminate()
    process.wait(timeout=30)


@pytest.fixture
def topology(work):
    """A router and one host with an instance (hence a metadata forwarder); names unique to this test process."""
    prefix = f"lt{os.getpid() % 100000}"
    path = os.path.join(work, "topology.yml")
    content = {
        "prefix": prefix,
        "hosts": {
            "h1": {
                "instance": f"i-{prefix}-h1",
                "nics": [
                    {
                        "name": "eth0",
                        "mac": "00:16:3e:79:01:10",
                        "address": "10.79.1.10/24",
                        "gateway": "10.79.1.1",
                        "router_addresses": ["10.79.1.1/24"],
                    }
                ],
            }
        },
    }
    with open(path, "w", encoding="utf-8") as handle:
        yaml.safe_dump(content, handle)
    yield path, prefix
    run(sys.executable, LAB, "down", path)


def alive(pid: int) -> bool:
    """Running, neither gone nor a zombie."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as handle:
            return handle.read().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False


@needs_namespaces
def test_forwarder_is_ready_at_return_and_outlives_the_process_group_that_started_it(emulator, topology):
    path, prefix = topology
    environment = {**os.environ, "EH_METADATA_SOCKET": emulator}
    # The shell is its own session and process-group leader, like an Ansible task worker; `kill -TERM 0` after
    # `lab.py up` is the worker's os.killpg(own pid, SIGTERM).
    script = f'"{sys.executable}" "{LAB}" up "{path}" || exit 3; trap "" TERM; kill -TERM 0; exit 0'
    started = run("setsid", "--wait", "sh", "-c", script, env=environment)
    assert started.returncode == 0, f"lab.py up failed: {started.stdout} {started.stderr}"

    pid_file = f"/run/{prefix}-lab/h1/forwarder.pid"
    with open(pid_file, encoding="utf-8") as handle:
        pid = int(handle.read())
    assert os.getsid(pid) == pid, "the forwarder does not run in a session of its own"

    checked = run(sys.executable, LAB, "check", path)
    assert checked.returncode == 0, f"forwarder gone after the starter's process group was killed: {checked.stderr}"
    (row,) = json.loads(checked.stdout)["forwarders"]
    # The empty world does not know the instance: the emulator's own 404, relayed through the forwarder.
    assert row["running"] and row["status"] == 404, row

    # Down stops it (it is this lab's forwarder) and check then reports nothing left to answer.
    assert run(sys.executable, LAB, "down", path).returncode == 0
    for _attempt in range(100):
        if not alive(pid):
            break
        time.sleep(0.05)
    else:
        pytest.fail(f"lab.py down left the forwarder {pid} running")


@needs_namespaces
def test_up_fails_clearly_and_in_bounded_time_when_the_forwarder_cannot_reach_the_emulator(work, topology):
    path, prefix = topology
    environment = {
        **os.environ,
        "EH_METADATA_SOCKET": os.path.join(work, "no-emulator-here.sock"),
        "EH_LAB_READY_TIMEOUT": "3",
    }
    started = time.monotonic()
    result = run(sys.executable, LAB, "up", path, env=environment)
    elapsed = time.monotonic() - started
    assert result.returncode != 0
    assert (
        "metadata forwarder of h1" in result.stderr
        and "did not answer on 100.100.100.200:80 within 3s" in result.stderr
    )
    assert "502" in result.stderr, result.stderr
    # Bounded: the timeout plus the lab's own building time, never the retries of a scenario.
    assert elapsed < 120
    # The forwarder that never became ready was stopped, and no pid file claims it.
    assert not os.path.exists(f"/run/{prefix}-lab/h1/forwarder.pid")
    leftovers = run("pgrep", "-f", f"imds_forward .*--instance i-{prefix}-h1")
    assert [pid for pid in leftovers.stdout.split() if alive(int(pid))] == []


def test_stale_pid_files_never_stop_another_process(work):
    """lab.py down, emulator.sh stop and dataplane.py stop signal only their own process, not a reused number."""
    bystander = subprocess.Popen(["sleep", "60"])  # pylint: disable=consider-using-with
    try:
        prefix = f"ls{os.getpid() % 100000}"
        lab_dir = f"/run/{prefix}-lab/h1"
        path = os.path.join(work, "topology.yml")
        with open(path, "w", encoding="utf-8") as handle:
            yaml.safe_dump({"prefix": prefix, "hosts": {"h1": {"instance": "i-x", "nics": []}}}, handle)
        if os.geteuid() == 0:
            os.makedirs(lab_dir)
            with open(os.path.join(lab_dir, "forwarder.pid"), "w", encoding="utf-8") as handle:
                handle.write(str(bystander.pid))
            run(sys.executable, LAB, "down", path)
            assert bystander.poll() is None, "lab.py down killed a process that is not its forwarder"

        emulator_dir = os.path.join(work, "emu")
        os.makedirs(emulator_dir)
        with open(os.path.join(emulator_dir, "pid"), "w", encoding="utf-8") as handle:
            handle.write(str(bystander.pid))
        assert run("bash", EMULATOR_SH, "stop", emulator_dir).returncode == 0
        assert bystander.poll() is None, "emulator.sh stop killed a process that is not its emulator"

        pid_file = os.path.join(work, "dataplane.pid")
        with open(pid_file, "w", encoding="utf-8") as handle:
            handle.write(str(bystander.pid))
        dataplane = os.path.join(ROOT, "extensions", "molecule", "eip_shared", "dataplane.py")
        assert run(sys.executable, dataplane, "stop", "--pid-file", pid_file).returncode == 0
        assert bystander.poll() is None, "dataplane.py stop killed a process that is not its watcher"
    finally:
        bystander.kill()
        bystander.wait()


def test_every_lab_has_names_of_its_own():
    """Namespaces and /run directories are named after the topology's prefix: no two labs may share one."""
    paths = [os.path.join(ROOT, "tools", "demo", "topology.yml")]
    scenarios = os.path.join(ROOT, "extensions", "molecule")
    paths += [
        os.path.join(scenarios, name, "lab", "topology.yml")
        for name in sorted(os.listdir(scenarios))
        if os.path.exists(os.path.join(scenarios, name, "lab", "topology.yml"))
    ]
    # A scenario with several labs (extensions/molecule/eni_host): labs/<group>/topology.yml.
    paths += sorted(glob.glob(os.path.join(scenarios, "*", "labs", "*", "topology.yml")))
    prefixes = {}
    for path in paths:
        with open(path, encoding="utf-8") as handle:
            prefixes.setdefault(yaml.safe_load(handle)["prefix"], []).append(os.path.relpath(path, ROOT))
    assert len(paths) > 2
    assert {prefix: users for prefix, users in prefixes.items() if len(users) > 1} == {}
