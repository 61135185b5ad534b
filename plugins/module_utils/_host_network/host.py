# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note: this module util is PRIVATE to the collection. It can change at any time; do not use it from
# other collections or standalone plugins/modules.

"""The host executor: the one place that reads and changes the host.

``Host`` runs argument lists through an injected command runner (``AnsibleModule.run_command`` in the module, a
fake in the unit tests) and reads ``/proc`` and the configuration files under an injectable root.  Around it:
apply a plan in order and roll it back (undo steps in reverse, then the routes the kernel removed as a
consequence), the gateway check, file writes and the backend reload.  Failures raise ``ApplyFailed``, whose
``details`` the module adds to its failure.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import stat
from collections.abc import Callable

from ansible_collections.alicloud.eip.plugins.module_utils._host_network.backends import (
    BACKEND_CLASSES,
    NETWORK_DAEMONS,
    HostFacts,
    detect_from,
    is_managed_file,
    render_files,
)
from ansible_collections.alicloud.eip.plugins.module_utils._host_network.model import (
    MAIN_TABLE,
    Eni,
    HostNetworkError,
)
from ansible_collections.alicloud.eip.plugins.module_utils._host_network.safety import (
    routes_to_restore,
)
from ansible_collections.alicloud.eip.plugins.module_utils._host_network.state import (
    observed_state,
)

IFCFG_DIR = "/etc/sysconfig/network-scripts"


class ApplyFailed(HostNetworkError):
    """A runtime change or the gateway check failed after changes were applied; they were rolled back.

    ``details`` (``rollback_errors``, ``restored_routes``, and for the gateway check ``gateways`` and
    ``commands``) go into the module's failure next to the message.
    """

    def __init__(self, message: str, **details):
        super().__init__(message)
        self.details = details


class Host:
    """Reads and changes the host through ``ip``, ``/proc`` and files; every command is an argument list.

    ``run_command(argv)`` returns ``(rc, stdout, stderr)``; ``atomic_move(source, destination)`` replaces a file;
    ``root`` is where ``/`` is (a temporary directory in tests); ``which`` finds a command such as ``ping``.
    """

    def __init__(
        self,
        run_command: Callable[[list[str]], tuple[int, str, str]],
        atomic_move: Callable[[str, str], None] = os.replace,
        root: str = "/",
        which: Callable[[str], str | None] = shutil.which,
    ):
        self.run_command = run_command
        self.atomic_move = atomic_move
        self.root = root
        self.which = which

    def path(self, absolute: str) -> str:
        """Where the host path ``absolute`` is on this machine."""
        return os.path.join(self.root, absolute.lstrip("/"))

    def run(self, argv: list[str], check: bool = True) -> tuple[int, str, str]:
        rc, out, err = self.run_command(argv)
        if check and rc != 0:
            raise HostNetworkError(f"'{' '.join(argv)}' failed (rc={rc}): {err.strip() or out.strip()}")
        return rc, out, err

    def ip_json(self, *args: str) -> list:
        out = self.run(["ip", "-j", *args])[1]
        return json.loads(out or "[]")

    def observe(self) -> tuple[list, dict]:
        """(``ip -j link show``, the observed state) of the host."""
        links = self.ip_json("link", "show")
        observed = observed_state(
            self.ip_json("-4", "addr", "show"),
            self.ip_json("-4", "route", "show", "table", "all"),
            self.ip_json("-4", "rule", "show"),
            links,
        )
        return links, observed

    def read_sysctls(self, keys) -> dict:
        values = {}
        for key in keys:
            try:
                with open(self.path(f"/proc/sys/{key}"), encoding="ascii") as handle:
                    values[key] = handle.read().strip()
            except OSError:
                values[key] = None
        return values

    def write_sysctl(self, key: str, value: str) -> None:
        with open(self.path(f"/proc/sys/{key}"), "w", encoding="ascii") as handle:
            handle.write(value)

    def daemons_here(self) -> set[str]:
        """Network daemons running in this process's network namespace."""
        try:
            mine = os.readlink(self.path("/proc/self/ns/net"))
        except OSError:
            return set()
        found = set()
        for comm in glob.glob(self.path("/proc/[0-9]*/comm")):
            proc = os.path.dirname(comm)
            try:
                with open(comm, encoding="utf-8") as handle:
                    name = handle.read().strip()
                if name in NETWORK_DAEMONS and os.readlink(os.path.join(proc, "ns/net")) == mine:
                    found.add(name)
            except OSError:
                continue
        return found

    def read_text(self, absolute: str) -> str | None:
        try:
            with open(self.path(absolute), encoding="utf-8") as handle:
                return handle.read()
        except FileNotFoundError:
            return None

    def facts(self) -> HostFacts:
        """What backend detection looks at."""
        netplan_texts = [
            self.read_text("/etc/netplan/" + os.path.basename(path)) or ""
            for path in sorted(glob.glob(self.path("/etc/netplan/*.yaml")))
        ]
        return HostFacts(
            frozenset(self.daemons_here()),
            tuple(netplan_texts),
            self.which("netplan") is not None,
            os.path.isdir(self.path(IFCFG_DIR)),
        )


def choose_backend(requested: str, host: Host) -> tuple[str, str]:
    """(backend, reason): the one given, or the one ``detect_backend`` finds on the host."""
    if requested != "auto":
        return requested, "given"
    return detect_from(host.facts())


def plan_files(host: Host, backend: str, enis: list[Eni], desired: dict, marker: str) -> list[dict]:
    """Files to write (content or mode differs) or remove (ours, no longer wanted), with their current content."""
    wanted = {"/" + path: value for path, value in render_files(backend, enis, desired, marker).items()}
    plans = []
    for path, (content, mode) in sorted(wanted.items()):
        current = host.read_text(path)
        same = current == content and stat.S_IMODE(os.stat(host.path(path)).st_mode) == mode
        plans.append(
            {
                "path": path,
                "content": content,
                "mode": mode,
                "before": current,
                "state": "unchanged" if same else "written",
            }
        )
    if backend in BACKEND_CLASSES:
        chosen = BACKEND_CLASSES[backend]
        for pattern in chosen.patterns:
            for found in sorted(glob.glob(os.path.join(host.path("/" + chosen.directory), pattern))):
                path = "/" + os.path.relpath(found, host.root)
                current = host.read_text(path)
                if path not in wanted and current is not None and is_managed_file(current, marker):
                    plans.append({"path": path, "content": None, "mode": None, "before": current, "state": "removed"})
    return plans


def route_snapshot(host: Host, desired: dict) -> dict:
    """Every IPv4 route (all tables) before applying, and what a rollback restores from it: the main table, the
    module's tables and every route on a device whose addresses or link the plan changes."""
    return {
        "routes": host.ip_json("-4", "route", "show", "table", "all"),
        "tables": set(desired["tables"]) | {MAIN_TABLE},
        "devices": set(desired["addresses"]) | set(desired["links"]),
    }


def rollback_text(applied: list[dict], restored: list[str]) -> str:
    text = f"rolled back {len(applied)} runtime change(s)"
    if restored:
        text += (
            f" and restored {len(restored)} route(s) as they were before, which the kernel had removed with an address "
            f"or an undo step could not rebuild exactly ({'; '.join(restored)})"
        )
    return text


def apply_changes(host: Host, changes: list[dict], snapshot: dict) -> list[dict]:
    """Apply in order; on a failure undo what was applied, restore the routes the kernel removed, and raise."""
    applied: list[dict] = []
    for change in changes:
        try:
            apply_one(host, change)
        except (HostNetworkError, OSError) as error:
            undo_errors, restored = roll_back(host, applied, snapshot)
            raise ApplyFailed(
                f"applying '{change['description']}' failed: {error}; {rollback_text(applied, restored)}",
                rollback_errors=undo_errors,
                restored_routes=restored,
            ) from None
        applied.append(change)
    return applied


def apply_one(host: Host, change: dict) -> None:
    if change["kind"] == "sysctl":
        host.write_sysctl(change["key"], change["value"])
    else:
        host.run(change["argv"])


def roll_back(host: Host, applied: list[dict], snapshot: dict) -> tuple[list[str], list[str]]:
    """Undo applied changes in reverse order, then re-add every route of ``snapshot`` the kernel removed as a
    consequence (a route whose source address was removed is deleted with it, and no undo step brings it back).
    Returns (the steps that failed, the routes restored)."""
    errors: list[str] = []
    restored: list[str] = []
    for change in reversed(applied):
        try:
            if change["kind"] == "sysctl":
                host.write_sysctl(change["key"], change["old"])
            else:
                for argv in change["undo"]:
                    host.run(argv)
        except (HostNetworkError, OSError) as error:
            errors.append(str(error))
    try:
        after = host.ip_json("-4", "route", "show", "table", "all")
    except HostNetworkError as error:
        return errors + [f"could not read the routes to restore them: {error}"], restored
    for argv in routes_to_restore(snapshot["routes"], after, snapshot["tables"], snapshot["devices"]):
        try:
            host.run(argv)
            restored.append(" ".join(argv[4:]))
        except HostNetworkError as error:
            errors.append(str(error))
    return errors, restored


def gateway_targets(enis: list[Eni]) -> list[dict]:
    targets = []
    for eni in enis:
        if eni.primary:
            continue
        targets.append({"device": eni.device, "source": eni.addresses[0], "gateway": eni.gateway})
        targets += [
            {"device": eni.device, "source": group.addresses[0], "gateway": group.gateway} for group in eni.eip_groups
        ]
    return targets


def check_gateways(host: Host, enis: list[Eni], attempts: int) -> list[dict]:
    """Ping each gateway from the ENI's address (so the new rules route it); an ARP reply also counts."""
    results = []
    ping = host.which("ping")
    for target in gateway_targets(enis):
        answered, how = False, None
        for _attempt in range(max(1, attempts)):
            if ping:
                argv = [ping, "-n", "-q", "-c", "1", "-W", "1", "-I", target["source"], target["gateway"]]
                if host.run(argv, check=False)[0] == 0:
                    answered, how = True, "ping"
                    break
            neighbours = host.ip_json("neigh", "show", "to", target["gateway"], "dev", target["device"])
            if any(
                entry.get("lladdr") and not {"FAILED", "INCOMPLETE"} & set(entry.get("state", []))
                for entry in neighbours
            ):
                answered, how = True, "arp"
                break
        results.append({**target, "answered": answered, "how": how})
    return results


def apply_and_check(
    host: Host, changes: list[dict], enis: list[Eni], desired: dict, gateway_attempts: int | None, commands: list[str]
) -> list[dict]:
    """Apply the runtime changes, then the gateway check (``gateway_attempts`` pings per gateway; None skips it);
    a gateway that does not answer rolls every change back.  Returns the gateway results."""
    snapshot = route_snapshot(host, desired)
    applied = apply_changes(host, changes, snapshot)
    if gateway_attempts is None:
        return []
    gateways = check_gateways(host, enis, gateway_attempts)
    silent = [item for item in gateways if not item["answered"]]
    if silent:
        undo_errors, restored = roll_back(host, applied, snapshot)
        names = ", ".join(f"{item['gateway']} (from {item['source']} on {item['device']})" for item in silent)
        raise ApplyFailed(
            f"gateway check failed: {names} did not answer; {rollback_text(applied, restored)}, wrote no file",
            gateways=gateways,
            rollback_errors=undo_errors,
            restored_routes=restored,
            commands=commands,
        )
    return gateways


def write_files(host: Host, plans: list[dict]) -> None:
    for plan in plans:
        path = host.path(plan["path"])
        if plan["state"] == "removed":
            os.remove(path)
        elif plan["state"] == "written":
            directory = os.path.dirname(path)
            os.makedirs(directory, exist_ok=True)
            temporary = os.path.join(directory, f".{os.path.basename(path)}.tmp")
            with open(temporary, "w", encoding="utf-8") as handle:
                handle.write(plan["content"])
            host.atomic_move(temporary, path)
            # atomic_move gives a new file the umask's mode; keyfiles and netplan files must be private.
            os.chmod(path, plan["mode"])


def reload_backend(host: Host, backend: str, plans: list[dict]) -> list[str]:
    """Reload only the backend whose files changed, and only when its daemon runs here."""
    changed = [plan for plan in plans if plan["state"] != "unchanged" and not plan["path"].startswith("/etc/sysctl.d/")]
    if not changed or backend not in BACKEND_CLASSES:
        return []
    commands = BACKEND_CLASSES[backend].reload_commands(host.daemons_here())
    for argv in commands:
        host.run(argv)
    return [" ".join(argv) for argv in commands]
