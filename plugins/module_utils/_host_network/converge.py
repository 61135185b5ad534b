# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note: this module util is PRIVATE to the collection. It can change at any time; do not use it from
# other collections or standalone plugins/modules.

"""The one door of the host side: ``converge(params, host, check_mode, diff, warn)``.

validate (merge metadata and explicit input, resolve by MAC) -> observe (``Host.observe``) -> plan (desired state,
refusals that keep the host's way out, ``plan_changes``, files) -> act (``host.apply_and_check``, files, reload).
Check mode stops after the plan with the same result, minus the gateway check; an ENI listed as absent that the
metadata still reports is planned as the real run finds it after the cloud detached it (``detached.py``).
"""

from __future__ import annotations

from collections.abc import Callable

from ansible_collections.alicloud.eip.plugins.module_utils._host_network.detached import (
    as_after_detach,
)
from ansible_collections.alicloud.eip.plugins.module_utils._host_network.host import (
    Host,
    apply_and_check,
    choose_backend,
    plan_files,
    reload_backend,
    write_files,
)
from ansible_collections.alicloud.eip.plugins.module_utils._host_network.inventory import (
    interfaces_from_metadata,
    keep_blocks,
    merge_interfaces,
    resolve_enis,
)
from ansible_collections.alicloud.eip.plugins.module_utils._host_network.model import (
    Eni,
    HostNetworkError,
    normalize_mac,
)
from ansible_collections.alicloud.eip.plugins.module_utils._host_network.safety import (
    connection_problems,
    egress_problems,
    foreign_rule_users,
    foreign_table_users,
    main_default_device,
    main_egress,
    shadowing_problems,
)
from ansible_collections.alicloud.eip.plugins.module_utils._host_network.state import (
    add_absent_interfaces,
    desired_state,
    plan_changes,
    projected_state,
    runtime_view,
)
from ansible_collections.alicloud.eip.plugins.module_utils._util import (
    DifferenceTracker,
)


def gather_enis(params: dict, links: list) -> tuple[list[Eni], str]:
    """Merge metadata and explicit input, then validate against the host's links; (ENIs, primary MAC)."""
    discovered, primary_mac = [], params["primary_mac"]
    if params["metadata"] is not None:
        metadata_primary, discovered = interfaces_from_metadata(params["metadata"])
        primary_mac = primary_mac or metadata_primary
    if not primary_mac:
        raise HostNetworkError("primary_mac is required when no metadata is given")
    explicit = [{key: value for key, value in item.items() if value is not None} for item in params["interfaces"]]
    # One entry per MAC (however spelled), or entries that agree; before anything is looked at or changed.
    interfaces = merge_interfaces(discovered, explicit)
    if not interfaces:
        raise HostNetworkError("no ENI to configure: neither metadata nor interfaces list one")
    return resolve_enis(interfaces, primary_mac, links), primary_mac


def check_preconditions(
    params: dict, enis: list, desired: dict, observed: dict, primary_mac: str | None = None
) -> None:
    # The host's way out first: these hold whatever allow_primary_changes says.
    problems = egress_problems(enis, observed, primary_mac) + shadowing_problems(enis, observed)
    problems += foreign_table_users(desired, observed, enis) + foreign_rule_users(desired, observed)
    if not params["allow_primary_changes"]:
        problems += [
            f"{text}; set allow_primary_changes to permit it"
            for text in connection_problems(enis, observed, params["connection_address"])
        ]
    primary = next(eni for eni in enis if eni.primary) if any(eni.primary for eni in enis) else None
    if any(eni.mode == "cut_through" for eni in enis):
        device = main_default_device(observed)
        primary_device = primary.device if primary else None
        if primary_device is None:
            problems.append(
                "cut-through mode needs the primary ENI in the input so that 100.64.0.0/10 can be kept on it"
            )
        elif device != primary_device:
            problems.append(
                f"cut-through mode sends 100.64.0.0/10 to the main table, whose default route leaves through {device or 'nothing'}, "
                f"not the primary ENI {primary_device}; fix the main default route first"
            )
    if problems:
        raise HostNetworkError("; ".join(problems))


def eni_result(eni: Eni) -> dict:
    return {
        "mac": eni.mac,
        "device": eni.device,
        "mode": eni.mode,
        "primary": eni.primary,
        "eni_id": eni.eni_id,
        "addresses": list(eni.addresses),
        "network": eni.network,
        "gateway": eni.gateway,
        "table": eni.table,
        "eip_groups": [group._asdict() | {"addresses": list(group.addresses)} for group in eni.eip_groups],
    }


def converge(params: dict, host: Host, check_mode: bool, diff: bool, warn: Callable[[str], None]) -> dict:
    """Configure the host for the ENIs ``params`` (the module's options) describe; the module's result.

    Raises ``HostNetworkError`` for input refused before any change, ``ApplyFailed`` (with ``details``) when a
    change or the gateway check failed and everything was rolled back.
    """
    links, observed = host.observe()
    if check_mode:
        # A scale-down checked before its cloud part ran: ENIs about to be detached, as the real run will find them.
        params, links, observed = as_after_detach(params, links, observed)
    enis, primary_mac = gather_enis(params, links)
    keep = keep_blocks(params["keep_addresses"])
    desired = desired_state(enis, params["rp_filter"], params["arp_tuning"], params["allow_primary_changes"], keep)
    add_absent_interfaces(
        desired,
        params["absent_interfaces"],
        enis,
        links,
        normalize_mac(primary_mac),
        main_egress(observed),
        params["interfaces"],
    )
    check_preconditions(params, enis, desired, observed, normalize_mac(primary_mac))
    primary = [eni for eni in enis if eni.primary]
    shares_subnet = primary and any(eni.network == primary[0].network for eni in enis if not eni.primary)
    if shares_subnet and params["arp_tuning"] and not params["allow_primary_changes"]:
        warn(
            f"the primary ENI {primary[0].device} shares {primary[0].network} with a secondary ENI; its arp_ignore/arp_announce "
            "were left alone (set allow_primary_changes to tune them too)"
        )
    sysctl_before = host.read_sysctls(desired["sysctls"])
    changes = plan_changes(desired, observed, sysctl_before)
    backend, reason = choose_backend(params["backend"], host)
    file_plans = plan_files(host, backend, enis, desired, params["marker"])

    devices = sorted(desired["addresses"])
    tracker = DifferenceTracker()
    tracker.add(
        "runtime",
        runtime_view(observed, devices, desired["tables"], sysctl_before),
        runtime_view(
            projected_state(desired, observed), devices, desired["tables"], {**sysctl_before, **desired["sysctls"]}
        ),
    )
    for plan in file_plans:
        tracker.add(
            plan["path"], (plan["before"] or "").splitlines() or None, (plan["content"] or "").splitlines() or None
        )
    changed = bool(changes) or any(plan["state"] != "unchanged" for plan in file_plans)
    result = {
        "changed": changed,
        "backend": backend,
        "backend_reason": reason,
        "interfaces": [eni_result(eni) for eni in enis],
        "commands": [
            change["description"] if change["kind"] == "sysctl" else " ".join(change["argv"]) for change in changes
        ],
        "files": [{"path": plan["path"], "state": plan["state"]} for plan in file_plans],
        "reloaded": [],
        "gateways": [],
    }
    if diff:
        result["diff"] = tracker.as_diff()
    if check_mode:
        return result

    attempts = params["gateway_check_attempts"] if params["gateway_check"] else None
    result["gateways"] = apply_and_check(host, changes, enis, desired, attempts, result["commands"])
    write_files(host, file_plans)
    if params["reload"]:
        result["reloaded"] = reload_backend(host, backend, file_plans)
    return result
