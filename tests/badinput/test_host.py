"""Bad input to eni_routing: refused, naming the option and the fix, with nothing changed on the host.

eni_routing changes the network of the host it runs on, so these cases run only inside the throwaway network
namespace (and private copy of /etc) that tools/badinput.sh builds; anywhere else they fail without running.
Each case of ``host_cases.yml`` runs the module's real ``main()`` in this process, as a real run and in check
mode, and asserts that it failed, that the message names the option and the fix, and that the namespace's
addresses, routes of every table, rules, links, IPv4 sysctls and network configuration files are as before.
"""

from __future__ import annotations

import glob
import hashlib
import importlib
import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml

from .conftest import run_module
from .test_modules import names

CASES = yaml.safe_load((Path(__file__).parent / "host_cases.yml").read_text(encoding="utf-8")) or []
CONFIG_GLOBS = (
    "/etc/systemd/network/*",
    "/etc/NetworkManager/system-connections/*",
    "/etc/netplan/*",
    "/etc/sysconfig/network-scripts/*",
    "/etc/sysctl.d/*",
)
DEFAULTS = {"backend": "none", "gateway_check": False}


def in_throwaway_namespace() -> bool:
    """Whether this process runs in the network namespace tools/badinput.sh made for it, with a private /etc."""
    name = os.environ.get("BADINPUT_NETNS", "")
    try:
        here = os.stat("/proc/self/ns/net").st_ino == os.stat(os.path.join("/run/netns", name)).st_ino
    except OSError:
        return False
    with open("/proc/self/mountinfo", encoding="utf-8") as handle:
        private_etc = any(line.split()[4] == "/etc" for line in handle)
    return name.startswith("badinput-") and here and private_etc


def ip_json(*args: str):
    result = subprocess.run(["ip", "-j", *args], capture_output=True, text=True, check=True)
    return json.loads(result.stdout or "[]")


def host_state() -> dict:
    """Everything eni_routing may change: runtime network state, IPv4 sysctls, and its configuration files."""
    sysctls = {}
    for path in sorted(glob.glob("/proc/sys/net/ipv4/conf/*/*")):
        if os.path.basename(path) in ("rp_filter", "arp_ignore", "arp_announce", "arp_filter"):
            with open(path, encoding="ascii") as handle:
                sysctls[path] = handle.read().strip()
    files = {}
    for pattern in CONFIG_GLOBS:
        for path in sorted(glob.glob(pattern)):
            if os.path.isfile(path):
                with open(path, "rb") as handle:
                    files[path] = hashlib.sha256(handle.read()).hexdigest()
    return {
        "links": [(link["ifname"], link.get("address"), link.get("operstate")) for link in ip_json("link", "show")],
        "addresses": ip_json("-4", "addr", "show"),
        "routes": ip_json("-4", "route", "show", "table", "all"),
        "rules": ip_json("-4", "rule", "show"),
        "sysctls": sysctls,
        "files": files,
    }


def restore_host(state: dict) -> None:
    """Put the namespace back as tools/badinput.sh set it up, after a case that changed it."""
    subprocess.run([os.environ["BADINPUT_HOST_RESET"]], check=True)
    for path, value in state["sysctls"].items():
        with open(path, "w", encoding="ascii") as handle:
            handle.write(value)
    assert host_state() == state, "the namespace could not be restored; the following cases would see another host"


def test_host_cases_run_in_a_throwaway_namespace():
    """The host cases never run on this machine's own network; an empty table fails."""
    assert len(CASES) >= 20, f"host_cases.yml holds {len(CASES)} cases"
    assert in_throwaway_namespace(), "run the bad-input suite through tools/badinput.sh (make badinput)"


@pytest.mark.parametrize("check_mode", [False, True], ids=["run", "check"])
@pytest.mark.parametrize("case", CASES, ids=[f"eni_routing:{case['id']}" for case in CASES])
def test_bad_host_input_is_refused_before_any_change(case, check_mode, capsys):
    assert in_throwaway_namespace(), "refusing to run eni_routing outside the namespace of tools/badinput.sh"
    module = importlib.import_module("ansible_collections.alicloud.eip.plugins.modules.eni_routing")
    before = host_state()

    result = run_module(module, {**DEFAULTS, **case["args"]}, check_mode, capsys)

    message = str(result.get("msg", ""))
    after = host_state()
    assert result.get("failed") is True, f"not refused: {result}"
    assert "Traceback" not in message and "exception" not in result, result
    changed = {key: (before[key], after[key]) for key in before if before[key] != after[key]}
    if changed:
        restore_host(before)
    assert not changed, f"the host changed ({', '.join(changed)}): {changed}; message: {message}"
    assert names(message, case["option"]), f"the message does not name {case['option']}: {message}"
    for text in case.get("also", []):
        assert text in message, f"the message does not name {text}: {message}"
    assert case["fix"] in message, f"the message does not say how to fix it ({case['fix']!r}): {message}"
