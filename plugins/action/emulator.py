# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Action of alicloud.eip.emulator: start or stop the collection's offline emulator on the controller.

It runs on the controller (never on a managed host): the emulator is a local process on loopback, and its code is
the collection's own ``tests/emulator`` package, found next to this file in the installed collection.
"""

from __future__ import annotations

import hashlib
import importlib.util
import ipaddress
import json
import os
import signal
import subprocess
import sys

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase
from ansible_collections.alicloud.eip.plugins.module_utils._polling import WaitPolicy, polling_rounds

COLLECTION_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
EMULATOR_PACKAGE = "tests.emulator"
# The files the action keeps in ``directory``; ``state: stopped`` removes exactly these.
RECORD = "emulator.json"
ENDPOINT = "endpoint"
STATE = "state.json"
LOG = "emulator.log"
SOCKET = "metadata.sock"
# A local process and a file, not the cloud: short rounds, the collection's one polling loop.
LOCAL_POLL = WaitPolicy(first_interval=0.05, max_interval=0.5)
ARGUMENT_SPEC = {
    "state": {"type": "str", "default": "started", "choices": ["started", "stopped"]},
    "directory": {"type": "path", "required": True},
    "world": {"type": "path"},
    "host": {"type": "str", "default": "127.0.0.1"},
    "port": {"type": "int", "default": 0},
    "metadata_socket": {"type": "bool", "default": False},
    "timeout": {"type": "int", "default": 60},
}


def world_schema():
    """The world-file checker of the emulator shipped in this collection (loaded by path: it is not a plugin)."""
    path = os.path.join(COLLECTION_ROOT, "tests", "emulator", "world_schema.py")
    if not os.path.isfile(path):
        raise AnsibleActionFail(
            f"the emulator is not part of this installation of alicloud.eip ({path} is missing): install the "
            "collection from its release tarball, which ships tests/emulator"
        )
    spec = importlib.util.spec_from_file_location("_alicloud_eip_world_schema", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def is_ours(pid: int, directory: str) -> bool:
    """Whether ``pid`` is the emulator started for ``directory`` (a pid file may outlive its process)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            argv = handle.read().split(b"\0")
    except OSError:
        return False
    return EMULATOR_PACKAGE.encode() in argv and os.path.join(directory, STATE).encode() in argv


def read_record(directory: str) -> dict | None:
    """The record of the emulator running for ``directory``, or None when none runs."""
    try:
        with open(os.path.join(directory, RECORD), encoding="utf-8") as handle:
            record = json.load(handle)
    except (OSError, ValueError):
        return None
    return record if isinstance(record.get("pid"), int) and is_ours(record["pid"], directory) else None


def stop(directory: str) -> bool:
    """Stop the emulator of ``directory`` and remove its files (the directory too, when left empty)."""
    record = read_record(directory)
    if record:
        pid = record["pid"]
        try:
            os.kill(pid, signal.SIGTERM)
            for _round in polling_rounds(10, LOCAL_POLL, poll_first=True):
                if not is_ours(pid, directory):
                    break
            if is_ours(pid, directory):
                os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass  # it ended on its own meanwhile
    for name in (RECORD, ENDPOINT, STATE, LOG, SOCKET):
        try:
            os.unlink(os.path.join(directory, name))
        except FileNotFoundError:
            pass
    try:
        os.rmdir(directory)
    except OSError:
        pass  # absent, or holds files that are not the emulator's
    return record is not None


def log_tail(directory: str) -> str:
    try:
        with open(os.path.join(directory, LOG), encoding="utf-8", errors="replace") as handle:
            return handle.read()[-1500:].strip() or "(empty)"
    except OSError:
        return "(no log)"


def start(args: dict, wanted: dict) -> dict:
    """Start the emulator in a session of its own and return its record once it listens."""
    directory = args["directory"]
    os.makedirs(directory, exist_ok=True)
    argv = [sys.executable, "-m", EMULATOR_PACKAGE, "--host", args["host"], "--port", str(args["port"])]
    argv += ["--state", os.path.join(directory, STATE), "--ready-file", os.path.join(directory, ENDPOINT)]
    argv += ["--world", args["world"]]
    if args["metadata_socket"]:
        argv += ["--metadata-socket", os.path.join(directory, SOCKET)]
    # The SDK and the emulator speak to loopback only: a proxy from the environment must not carry those requests.
    environment = {key: value for key, value in os.environ.items() if key.lower() not in ("http_proxy", "https_proxy")}
    environment["PYTHONPATH"] = COLLECTION_ROOT
    with open(os.path.join(directory, LOG), "w", encoding="utf-8") as log:
        # A session of its own: ansible-core kills the process group of a task worker that is still exiting when
        # a play ends, and the emulator must outlive the task that started it.
        process = subprocess.Popen(  # pylint: disable=consider-using-with
            argv,
            cwd=COLLECTION_ROOT,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    endpoint_file = os.path.join(directory, ENDPOINT)
    for _round in polling_rounds(args["timeout"], LOCAL_POLL, poll_first=True):
        if process.poll() is not None:
            break
        if os.path.exists(endpoint_file) and os.path.getsize(endpoint_file):
            with open(endpoint_file, encoding="utf-8") as handle:
                endpoint = handle.read().strip()
            record = {**wanted, "pid": process.pid, "endpoint": endpoint}
            with open(os.path.join(directory, RECORD), "w", encoding="utf-8") as handle:
                json.dump(record, handle)
            return record
    status = process.poll()
    if status is None:
        process.kill()
        process.wait()
    tail = log_tail(directory)
    stop(directory)
    raise AnsibleActionFail(
        f"the emulator did not listen within {args['timeout']}s (exit status {status}); raise timeout on a busy "
        f"machine, or free port {args['port']}. Its log: {tail}"
    )


class ActionModule(ActionBase):
    """Start or stop the offline emulator (see the module documentation of alicloud.eip.emulator)."""

    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        _validation, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        args["directory"] = os.path.abspath(args["directory"])
        before = read_record(args["directory"])
        if args["state"] == "stopped":
            result["changed"] = before is not None
            if not self._task.check_mode:
                try:
                    stop(args["directory"])
                except OSError as error:
                    raise AnsibleActionFail(f"cannot stop the emulator of {args['directory']}: {error}") from None
            result["diff"] = {"before": {"state": "started" if before else "stopped"}, "after": {"state": "stopped"}}
            result.update(state="stopped", directory=args["directory"], endpoint="", endpoint_url="", pid=0)
            return result

        wanted = self.wanted(args)
        same = before is not None and all(before.get(key) == value for key, value in wanted.items())
        result["changed"] = not same
        result["diff"] = {
            "before": {"state": "started", "world": before["world"]} if before else {"state": "stopped"},
            "after": {"state": "started", "world": wanted["world"]},
        }
        record = before if same else None
        if not same and not self._task.check_mode:
            try:
                stop(args["directory"])
                record = start(args, wanted)
            except OSError as error:
                raise AnsibleActionFail(
                    f"cannot run the emulator in directory {args['directory']}: {error}; give a directory this user "
                    "can write"
                ) from None
        endpoint = record["endpoint"] if record else ""
        result.update(
            state="started",
            directory=args["directory"],
            world=wanted["world"],
            endpoint=endpoint,
            endpoint_url=f"http://{endpoint}" if endpoint else "",
            pid=record["pid"] if record else 0,
            metadata_socket=os.path.join(args["directory"], SOCKET) if args["metadata_socket"] else "",
        )
        return result

    @staticmethod
    def wanted(args: dict) -> dict:
        """What the started emulator must match; a bad option or world fails here, before anything starts."""
        try:
            address = ipaddress.ip_address(args["host"])
        except ValueError:
            address = None
        if address is None or not address.is_loopback:
            raise AnsibleActionFail(
                f"host {args['host']!r} is not a loopback address: the emulator has no authentication and listens "
                "on loopback only; use host: 127.0.0.1"
            )
        if not 0 <= args["port"] <= 65535:
            raise AnsibleActionFail(f"port {args['port']} is not a TCP port: use 0 (any free port) or 1-65535")
        if args["timeout"] < 1:
            raise AnsibleActionFail(f"timeout {args['timeout']} must be at least 1 (seconds)")
        if not args["world"]:
            raise AnsibleActionFail(
                'state=started needs world: the path of a world file (docs/emulator.md, "The world file")'
            )
        args["world"] = os.path.abspath(args["world"])
        schema = world_schema()
        try:
            schema.load_and_check(args["world"])
        except schema.WorldFormatError as error:
            raise AnsibleActionFail(f"world {error}") from None
        with open(args["world"], "rb") as handle:
            digest = hashlib.sha256(handle.read()).hexdigest()
        return {
            "world": args["world"],
            "world_sha256": digest,
            "host": args["host"],
            "port": args["port"],
            "metadata_socket": args["metadata_socket"],
        }
