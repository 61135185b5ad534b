"""Fixtures of the bad-input suite: a live emulator on loopback and a way to run a module's main() in-process.

The suite runs every module of the collection in this one process (an SDK import costs ~2.8 s per module
process; here it is paid once). Before anything imports the SDK:
- the proxy variables are removed (the SDK reads them itself and would send loopback calls to a proxy);
- ``ALIBABA_CLOUD_ECS_METADATA_DISABLED=true`` keeps the credentials library's default chain away from the ECS
  metadata address 100.100.100.200 (the library reads the variable once, at import);
- the checkout is made importable as ``ansible_collections.alicloud.eip`` through a symlink in a temporary
  directory, so that the suite always runs the working tree as it is.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import urllib.request
from pathlib import Path

import pytest
import yaml

for _name in list(os.environ):
    if _name.lower() in ("http_proxy", "https_proxy", "all_proxy"):
        del os.environ[_name]
os.environ["ALIBABA_CLOUD_ECS_METADATA_DISABLED"] = "true"
# Credentials come only from the options each case passes; none from the environment of the caller.
for _name in list(os.environ):
    if _name.startswith(("ALIBABA_CLOUD_ACCESS_KEY", "ALIBABA_CLOUD_SECURITY_TOKEN", "ALICLOUD_")):
        del os.environ[_name]

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
_COLLECTIONS_ROOT = tempfile.mkdtemp(prefix="alicloud-eip-badinput-")
os.makedirs(os.path.join(_COLLECTIONS_ROOT, "ansible_collections", "alicloud"))
os.symlink(REPO, os.path.join(_COLLECTIONS_ROOT, "ansible_collections", "alicloud", "eip"))
sys.path.insert(0, _COLLECTIONS_ROOT)

from ansible.module_utils import basic  # noqa: E402
from ansible.module_utils.common.text.converters import to_bytes  # noqa: E402

from tests.emulator.registry import ACTIONS  # noqa: E402
from tests.emulator.server import Emulator, EmulatorServer  # noqa: E402

WORLD = yaml.safe_load((HERE / "world.yml").read_text(encoding="utf-8"))
ACCESS_KEY = WORLD["access_keys"][0]
REGION = "cn-hangzhou"
# What the emulator itself calls mutating (registry.action(..., mutating=True)); the counters are per action name.
MUTATING_ACTIONS = frozenset(action.name for action in ACTIONS.values() if action.mutating)
# State that changes with every call, mutating or not: the call counters and the nonces of signed requests.
VOLATILE_STATE = ("counters", "nonces")


class Control:
    """Client of the emulator's control API (``/_emulator/...``); never through a proxy."""

    def __init__(self, endpoint: str):
        self.endpoint = endpoint
        self.base = f"http://{endpoint}/_emulator/"
        self.opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def call(self, method: str, path: str, payload: dict | None = None):
        data = json.dumps(payload).encode() if payload is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method)
        with self.opener.open(request, timeout=10) as response:
            return json.loads(response.read() or b"{}")

    def load(self, world: dict) -> None:
        self.call("POST", "world", world)

    def calls(self) -> dict:
        return self.call("GET", "calls")

    def state(self) -> dict:
        """The account as the emulator holds it, without what every call changes."""
        dump = self.call("GET", "state")
        for key in VOLATILE_STATE:
            dump.pop(key, None)
        return dump


@pytest.fixture(scope="session")
def emulator():
    """A live emulator on loopback, started once for the session."""
    server = EmulatorServer(Emulator(world_spec=WORLD))
    server.start_background()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def control(emulator) -> Control:
    """The control API, with the world freshly loaded (and the call counters empty) for each case."""
    control = Control(emulator.endpoint)
    control.load(WORLD)
    assert control.calls() == {}, "the world was loaded, the call counters must be empty"
    return control


def mutating_calls(counters: dict) -> dict:
    """The mutating actions among the emulator's call counters, with their counts."""
    return {action: count for action, count in counters.items() if action in MUTATING_ACTIONS}


def run_module(module, args: dict, check_mode: bool, capsys) -> dict:
    """Run ``module.main()`` in-process with ``args`` (as Ansible would pass them); returns its JSON result."""
    arguments = {**args, "_ansible_check_mode": check_mode, "_ansible_diff": True}
    saved = basic._ANSIBLE_ARGS, basic._ANSIBLE_PROFILE
    basic._ANSIBLE_ARGS = to_bytes(json.dumps({"ANSIBLE_MODULE_ARGS": arguments}))
    basic._ANSIBLE_PROFILE = "legacy"
    capsys.readouterr()
    try:
        module.main()
    except SystemExit:
        pass
    else:
        raise AssertionError(f"{module.__name__}.main() returned without exit_json/fail_json")
    finally:
        basic._ANSIBLE_ARGS, basic._ANSIBLE_PROFILE = saved
    out = capsys.readouterr().out
    try:
        return json.loads(out)
    except ValueError:
        raise AssertionError(f"{module.__name__} printed no JSON result: {out[-2000:]!r}") from None
