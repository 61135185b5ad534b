# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""`make test` on a minimal Debian 12 has every program it runs: tools/setup.sh installs each one's package.

REQUIRED_PROGRAMS is the audit (issue 9 item 16): every external program the suites, the labs, `make demo`,
`make bench` and `make soak` run, with its Debian package and who runs it.  The tests check that

- each program's package is in setup's apt list (or Essential, hence on every Debian system);
- on this machine (when it is Debian), the program really comes from the package named here (`dpkg -S`);
- every program the code invokes in the forms it uses (``run("prog", ...)``, ``in_ns(ns, "prog", ...)``,
  ``subprocess.*(["prog", ...])``, ``argv: [prog, ...]`` ...) is listed here, so a new program cannot slip in;
- every apt-get call in setup waits for a held dpkg lock instead of failing on it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))
SETUP = os.path.join(ROOT, "tools", "setup.sh")

# Packages with "Essential: yes" on Debian 12: on every installation, even a minimal one.
ESSENTIAL = {
    "base-files", "base-passwd", "bash", "bsdutils", "coreutils", "dash", "debianutils", "diffutils", "dpkg",
    "findutils", "grep", "gzip", "hostname", "init-system-helpers", "libc-bin", "login", "ncurses-base",
    "ncurses-bin", "perl-base", "sed", "sysvinit-utils", "tar", "util-linux",
}  # fmt: skip

# program: (Debian package that ships it, who runs it[, the package setup installs that pulls it in])
REQUIRED_PROGRAMS = {
    "ip": ("iproute2", "eni_routing (run_command), multi_eip host tasks, lab.py, dataplane.py, the scenarios"),
    "ss": ("iproute2", "lab checks by hand and the item-17 reproduction (listening sockets in a namespace)"),
    "ping": ("iputils-ping", "scenario verify (ping_from.yml, verify_paths.yml), dataplane.py verify, rebuild.sh"),
    "nft": ("nftables", "eip_shared/dataplane.py, snat_dataplane.py: the lab router's NAT"),
    "sysctl": ("procps", "lab.py (router forwarding, rp_filter), rebuild.sh"),
    "pgrep": ("procps", "tests/unit/extensions/test_lab_services.py (no forwarder left behind)"),
    "mount": ("mount", "lab.py (per-host /etc and sysfs), rebuild.sh (read-only /sys for networkd)"),
    "umount": ("mount", "lab.py down"),
    "unshare": ("util-linux", "lab.py (persistent mount namespaces), tools/soak (PID namespace)"),
    "nsenter": ("util-linux", "connection plugin nsenter_netns, lab.py"),
    "setsid": ("util-linux", "tools/emulator.sh (the emulator in a session of its own), test_lab_services.py"),
    "flock": ("util-linux", "tools/molecule.sh (one run per scenario at a time)"),
    "rsync": ("rsync", "tools/collection-tree.sh (the ansible_collections view)"),
    "shellcheck": ("shellcheck", "ansible-test sanity, test shellcheck (skipped with a warning when missing)"),
    "ssh-keygen": ("openssh-client", "ansible-test integration (creates an SSH key before the first target)"),
    "netplan": ("netplan.io", "eni_routing reload on the netplan backend, rebuild.sh netplan"),
    "nmcli": ("network-manager", "eni_shared/files/nm_roundtrip.py (keyfile round trip), eni_routing nm reload"),
    "networkctl": ("systemd", "eni_routing reload on the networkd backend (when networkd runs)"),
    "systemd-networkd": ("systemd", "rebuild.sh: the real networkd applies the written files in a lab host"),
    # /usr/bin/python3 is python3-minimal's; setup installs python3-venv (venv needs it), which depends on python3.
    "python3": ("python3-minimal", "tools/setup.sh builds .venv from it (python3.11 preferred)", "python3-venv"),
    "make": ("make", "tools/test.sh runs each suite through the Makefile"),
    "dot": ("graphviz", "make diagrams (tools/diagrams.sh), tests/unit/docs/test_diagrams.py (the SVGs are current)"),
    "chromium": ("chromium", "make docs: tools/docs/browser_check.py renders pages of the built site headless"),
    "keepalived": ("keepalived", "roles/havip_failover on the lab hosts, molecule scenario havip_failover"),
    "timeout": ("coreutils", "rebuild.sh (networkd for a few seconds)"),
    "sha256sum": ("coreutils", "tools/setup.sh, tools/collection-tree.sh"),
    "cp": ("coreutils", "lab.py (per-host copy of /etc)"),
    "rm": ("coreutils", "tools/soak/soak.py (its work directory)"),
    "sleep": ("coreutils", "test_lab_services.py (a bystander process)"),
    "sh": ("dash", "connection plugin nsenter_netns, lab.py, scenario tasks"),
    "bash": ("bash", "tools/*.sh"),
}
# The venv's own interpreter and templated paths are not system programs.
NOT_PROGRAMS = {"python", "sys.executable"}


def installed_by(entry: tuple) -> str:
    """The package setup installs for a program: the third element when given, else the one that ships it."""
    return entry[2] if len(entry) > 2 else entry[0]


def setup_packages() -> list[str]:
    """The apt_packages=(...) list of tools/setup.sh (may span lines)."""
    with open(SETUP, encoding="utf-8") as handle:
        text = handle.read()
    match = re.search(r"^apt_packages=\(([^)]*)\)", text, re.MULTILINE)
    assert match, "tools/setup.sh has no apt_packages=(...) list"
    return match.group(1).split()


def test_every_required_program_is_installed_by_setup():
    packages = set(setup_packages())
    missing = {
        program: installed_by(entry)
        for program, entry in REQUIRED_PROGRAMS.items()
        if installed_by(entry) not in packages and entry[0] not in ESSENTIAL
    }
    assert not missing, f"programs whose package tools/setup.sh does not install: {missing}"


def test_setup_lists_no_package_nothing_needs():
    # ca-certificates: pip reaches PyPI over HTTPS; python3: the interpreter package beside python3-venv.
    needed = {installed_by(entry) for entry in REQUIRED_PROGRAMS.values()} | {"ca-certificates", "python3"}
    assert set(setup_packages()) - needed == set()


@pytest.mark.skipif(
    shutil.which("dpkg") is None, reason="not a Debian system: the package mapping is checked on Debian"
)
def test_each_program_comes_from_the_package_named_for_it():
    wrong = {}
    for program, (package, *_rest) in REQUIRED_PROGRAMS.items():
        # The system's directories only: a developer's PATH may put pyenv shims or a venv first.
        path = shutil.which(program, path="/usr/sbin:/usr/bin:/sbin:/bin:/lib/systemd")
        if path is None:
            wrong[program] = f"not installed here (expected from {package})"
            continue
        # usrmerge: dpkg may know /usr/bin/x as /bin/x (and /usr/sbin/x as /sbin/x); the link or its target.
        candidates = {name for link in (path, os.path.realpath(path)) for name in (link, re.sub(r"^/usr/", "/", link))}
        owners = set()
        for candidate in candidates:
            result = subprocess.run(["dpkg", "-S", candidate], capture_output=True, text=True, check=False)
            for line in result.stdout.splitlines():
                owner, _separator, _file = line.partition(": ")
                owners.update(name.strip().split(":")[0] for name in owner.replace("diversion by ", "").split(","))
        if package not in owners:
            wrong[program] = f"{path} belongs to {sorted(owners) or 'no package'}, not {package}"
    assert not wrong, wrong


# Invocation forms used in this repository, each capturing the program.
INVOCATIONS = [
    re.compile(r"""\b(?:run|in_ns)\(\s*(?:[a-z_]+,\s*)?"([A-Za-z0-9_.-]+)\""""),
    re.compile(r"""(?:subprocess\.\w+|Popen|run_command|commands\.append|self\.run)\(\s*\[\s*"([A-Za-z0-9_.-]+)\""""),
    re.compile(r"""argv(?:\s*=|:)\s*\[\s*"?([A-Za-z0-9_.-]+)"?\s*,"""),
    re.compile(r"""^\s*argv:\s*\n\s*-\s*"?([A-Za-z0-9_.-]+)"?\s*$""", re.MULTILINE),
]
SCANNED = ["plugins", "roles", "playbooks", "extensions", "tools", os.path.join("tests", "integration"),
           os.path.join("tests", "perf"), os.path.join("tests", "unit", "extensions")]  # fmt: skip


def invoked_programs() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for top in SCANNED:
        for directory, _dirs, files in os.walk(os.path.join(ROOT, top)):
            for name in files:
                if not name.endswith((".py", ".yml", ".yaml")):
                    continue
                path = os.path.join(directory, name)
                with open(path, encoding="utf-8") as handle:
                    text = handle.read()
                for pattern in INVOCATIONS:
                    for program in pattern.findall(text):
                        found.setdefault(program, set()).add(os.path.relpath(path, ROOT))
    return found


def test_the_scan_finds_the_known_invocations():
    """The scanner is not blind: it finds programs invoked in each of the forms above."""
    found = invoked_programs()
    for program in ("ip", "nft", "sysctl", "ping", "mount", "cp", "sh"):
        assert program in found, f"the scan no longer finds {program}: INVOCATIONS is out of date"


def test_every_invoked_program_is_in_the_audit():
    found = invoked_programs()
    unknown = {
        program: sorted(paths)
        for program, paths in found.items()
        if program not in REQUIRED_PROGRAMS and program not in NOT_PROGRAMS and not program.startswith("{")
    }
    assert not unknown, (
        f"programs invoked but not in REQUIRED_PROGRAMS (add each with its Debian package, and the package to "
        f"tools/setup.sh): {unknown}"
    )


def test_every_apt_get_call_waits_for_a_held_lock():
    with open(SETUP, encoding="utf-8") as handle:
        lines = [line.strip() for line in handle if not line.strip().startswith("#")]
    calls = [line for line in lines if re.search(r"(^|[;&|(]\s*|if !?\s*)apt-get\s", line)]
    assert calls, "no apt-get call found in tools/setup.sh"
    assert all("DPkg::Lock::Timeout=" in line for line in calls), calls
