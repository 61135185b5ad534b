# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Filters of the role alicloud.eip.multi_eip (internal): the run of the role's cloud part as one state.

The role's cloud part is a chain of list tasks (lookups, scale-down, EIPs, ENIs, associations ...).  Between two of
them each host's next items depend on its answers so far.  These filters keep that as one state, a dict with an
entry per host, so that in fleet mode (``multi_eip_fleet``) every step between two list tasks is one task for the
whole play batch (``run_once``), not one task per host:

- ``multi_eip_run_start``: the hosts the lists are for (in fleet mode the hosts of the play batch whose
  ``__multi_eip_member`` fact names them, i.e. that ran the role's member task in this invocation; otherwise only
  this host), each with its member fact (its settings, mode, resources and the errors of its input) and what the
  pre-flight looks up for it;
- ``multi_eip_run_step``: takes the answer of one list task (``step``), notes each host's part of it - its outcomes,
  whether they changed, and its failures as messages - and builds the items of the next list task from the hosts
  that have not failed.  A host that failed a step has no item in any later list, so nothing more changes for it;
  the role's last per-host task fails exactly the hosts with errors, with their messages.

The state: ``{"hosts": {host: {...}} (in batch order), "live", "wait_timeout", "lookups", "stage", "lists": {name:
{"entries", "layout"}}, "predicted": [...]}``.  ``lists`` are the items of the current stage's list tasks, ``layout``
where each host's items sit in a list (``multi_eip_fleet_part`` reads a host's outcomes with it).
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.alicloud.eip.plugins.filter.multi_eip import (
    multi_eip_plan,
    multi_eip_preflight,
    multi_eip_scale_down,
)
from ansible_collections.alicloud.eip.plugins.filter.multi_eip_fleet import (
    multi_eip_fleet_associations,
    multi_eip_fleet_failures,
    multi_eip_fleet_part,
    multi_eip_instance_records,
    multi_eip_requests,
)
from ansible_collections.alicloud.eip.plugins.filter.multi_eip_reuse import (
    multi_eip_eips_by_slot,
    multi_eip_eips_to_converge,
)

MEMBER_FACT = "__multi_eip_member"
# The list tasks of each stage, in the order the role sends them.
STAGE_LISTS = {
    "scale_down": ("detach", "release", "release_after_detach", "delete"),
    "create": ("eips", "enis"),
    "associate": ("detach", "associations", "attach", "gateways"),
}
# The list tasks that answer with one outcome per item: step -> the result's list of outcomes.  A step sent the list
# its name ends with (``scale_down.release`` also ``release_after_detach`` outside check mode); the associations
# answer with their EIPs instead (``multi_eip_fleet_associations``).
STEPS = {
    "scale_down.detach": "interfaces",
    "scale_down.release": "addresses",
    "scale_down.delete": "interfaces",
    "create.eips": "addresses",
    "create.enis": "interfaces",
    "associate.detach": "interfaces",
    "associate.associations": None,
    "associate.attach": "interfaces",
}
# The outcomes a later stage reads: step -> where the host's record keeps them.
KEPT = {"create.eips": "eip_outcomes", "create.enis": "eni_outcomes"}


def _members(batch, hostvars):
    """The hosts of ``batch`` that run the role in this invocation (their member fact names them)."""
    hosts = []
    for host in batch or []:
        try:
            member = hostvars[host].get(MEMBER_FACT)
        except (KeyError, TypeError, AttributeError):
            member = None
        if isinstance(member, dict) and member.get("host") == host:
            hosts.append((host, member))
    return hosts


def _live(state):
    """The hosts that have not failed, in the order of the lists (the batch's)."""
    return [host for host, record in state["hosts"].items() if not record["errors"]]


def _build_lists(state, stage):
    """The items of ``stage``'s list tasks, of the hosts that have not failed (each host's ``work``)."""
    lists = {name: {"entries": [], "layout": {}} for name in STAGE_LISTS[stage]}
    for host in _live(state):
        work = state["hosts"][host].get("work") or {}
        for name, entry in lists.items():
            items = list(work.get(name) or [])
            entry["layout"][host] = [len(entry["entries"]), len(items)]
            entry["entries"].extend(items)
    state["stage"] = stage
    state["lists"] = lists
    state["live"] = bool(_live(state))


def _fail(record, errors, prefix="multi_eip: "):
    if errors:
        record["errors"].append(prefix + " | ".join(str(error) for error in errors))


def _guarded(record, work, *arguments):
    """``work(record, *arguments)`` for one host; a filter's refusal fails that host only, not the batch."""
    try:
        work(record, *arguments)
    except AnsibleFilterError as error:
        _fail(record, [getattr(error, "message", None) or str(error)])


def _advance(state, stage, work, *arguments):
    """``work(record, *arguments)`` for each host that has not failed, then the lists of ``stage`` from them."""
    for host in _live(state):
        _guarded(state["hosts"][host], work, *arguments)
    _build_lists(state, stage)


def _note_part(record, part):
    record["changed"] = record["changed"] or bool(part["changed"])
    _fail(record, part["errors"])
    return part["outcomes"]


def multi_eip_run_start(hostvars, me, batch, fleet):
    """The state of a run: the hosts the role's lists are for, and what the pre-flight looks up for them.

    ``fleet`` true: every host of ``batch`` (``ansible_play_batch``) whose member fact names it; else only ``me``
    (its member fact must exist: the role sets it first).  A member whose ``multi_eip_fleet`` differs from ``fleet``
    makes every host fail before any change.  A host whose member fact carries input errors fails with them.
    """
    fleet = bool(fleet)
    members = _members(batch, hostvars) if fleet else _members([me], hostvars)
    if not fleet and not members:
        raise AnsibleFilterError(f"multi_eip_run_start: host {me} has no {MEMBER_FACT} (the role sets it first)")
    mismatched = [host for host, member in members if bool(member.get("fleet")) != fleet]
    state = {
        "hosts": {},
        "wait_timeout": 0,
        "lookups": {"instance_ids": [], "vswitch_ids": [], "security_group_ids": []},
        "lists": {},
        "predicted": [],
    }
    for host, member in members:
        record = {
            "settings": member.get("settings") or {},
            "resources": member.get("resources") or {},
            "errors": [],
            "changed": False,
        }
        state["hosts"][host] = record
        state["wait_timeout"] = max(state["wait_timeout"], int(member.get("wait_timeout") or 0))
        if mismatched:
            record["errors"].append(
                "multi_eip: multi_eip_fleet must be the same on every host of the play batch that runs the role (set "
                f"it for the play); it is not true on {', '.join(mismatched)}. Nothing was changed."
            )
            continue
        _fail(record, member.get("input_errors") or [], prefix="")
        if record["errors"]:
            continue
        for name, values in (member.get("lookups") or {}).items():
            known = state["lookups"].setdefault(name, [])
            known.extend(value for value in values or [] if value not in known)
    # Whether any host has not failed (the pre-flight's lookups are skipped otherwise); every step updates it.
    state["live"] = bool(_live(state))
    return state


def _preflight_host(record, lookup_errors, enis_listed, eips_listed, network):
    """One host's pre-flight: its records out of the listings, its refusals, else its scale-down and its items."""
    settings = record["settings"]
    instance_id = settings.get("instance_id")
    record["enis_found"] = multi_eip_instance_records((enis_listed or {}).get("interfaces") or [], instance_id)
    record["eips_found"] = multi_eip_instance_records((eips_listed or {}).get("eips") or [], instance_id)
    errors = list(lookup_errors)
    if not errors:
        lookups = (network or {}) if int(settings.get("count") or 0) > 0 else {}
        errors = multi_eip_preflight(lookups, settings, record["enis_found"])
    if errors:
        _fail(record, errors, prefix="multi_eip: nothing was changed. ")
        return
    record["scale_down"] = multi_eip_scale_down(settings, record["enis_found"], record["eips_found"])
    record["work"] = multi_eip_requests(settings, "scale_down", scale_down=record["scale_down"])


def _preflight(state, results):
    """The lookups' answers (eni_info, eip_info, network_info): each host's records, refusals and scale-down."""
    enis_listed, eips_listed, network = (list(results or []) + [{}, {}, {}])[:3]
    lookup_errors = multi_eip_fleet_failures([enis_listed, eips_listed, network], ["interfaces", "eips", "instances"])
    _advance(state, "scale_down", _preflight_host, lookup_errors, enis_listed, eips_listed, network)


def _create_host(record):
    """One host's EIPs to allocate or update and its ENIs, as eip_address and eni take them."""
    settings = record["settings"]
    record["to_converge"] = multi_eip_eips_to_converge(
        record["resources"].get("eips") or [],
        record["eips_found"],
        settings.get("bandwidth"),
        settings.get("internet_charge_type"),
    )
    record["work"] = multi_eip_requests(
        settings,
        "create",
        eips=record["to_converge"],
        enis=record["resources"].get("enis") or [],
        released_ids=record["scale_down"].get("released_ids"),
    )


def _associate_host(record):
    """One host's EIPs and ENIs by slot, its plan, and its items of the association steps."""
    settings = record["settings"]
    record["eips"] = multi_eip_eips_by_slot(
        record["resources"].get("eips") or [],
        record["eips_found"],
        record.get("eip_outcomes") or [],
    )
    record["enis"] = [outcome.get("interface") for outcome in record.get("eni_outcomes") or []]
    record["plan"] = multi_eip_plan(settings, record["eips"], record["enis"])
    record["work"] = multi_eip_requests(settings, "associate", plan=record["plan"])


def _replan(record, gateways):
    """One multi-EIP cut-through host's plan with the gateways and masks the cloud answered."""
    record["plan"] = multi_eip_plan(record["settings"], record["eips"], record["enis"], gateways)


def _gateways(state, result):
    """eip_gateway_info's answer: the host plan of each multi-EIP cut-through host with the cloud's gateways."""
    result = result or {}
    errors = multi_eip_fleet_failures([result], ["eips"])
    for host in _live(state):
        record = state["hosts"][host]
        if not (record.get("work") or {}).get("gateways"):
            continue
        if errors:
            _fail(record, errors)
            continue
        eni_id = record["plan"]["eni_ids"][0]
        gateways = [eip for eip in result.get("eips") or [] if eip.get("network_interface_id") == eni_id]
        _guarded(record, _replan, gateways)


def _note_step(record, state, host, step, result, check):
    """One host's part of the answer of ``step``: its outcomes, whether they changed, its failures."""
    name = step.split(".", 1)[1]
    lists = state["lists"]
    if STEPS[step] is None:
        _note_part(record, multi_eip_fleet_associations(result, lists[name], host))
        return
    batches, items = lists[name], None
    if step == "scale_down.release":
        batches = [lists["release"]] + ([] if check else [lists["release_after_detach"]])
    elif step == "create.eips":
        items = record.get("to_converge") or []
    outcomes = _note_part(record, multi_eip_fleet_part(result, STEPS[step], batches, host, items))
    if step in KEPT:
        record[KEPT[step]] = outcomes
    if step == "scale_down.release" and check and not record["errors"]:
        predicted = record["scale_down"].get("release_after_detach") or []
        record["changed"] = record["changed"] or bool(predicted)
        state["predicted"] = state["predicted"] + [{**eip, "host": host} for eip in predicted]


def multi_eip_run_step(state, step, result=None, check=False):
    """The state after the list task ``step`` answered ``result``; see the module docstring.

    ``step``: ``preflight`` (``result``: the answers of eni_info, eip_info and network_info, in that order),
    ``scale_down.detach``, ``scale_down.release`` (``check``: check mode, where the cut-through EIPs of a detached ENI
    were not sent but are predicted), ``scale_down.delete``, ``create.eips``, ``create.enis``, ``associate.detach``,
    ``associate.associations``, ``associate.attach`` and ``associate.gateways``.
    """
    if not isinstance(state, dict) or "hosts" not in state:
        raise AnsibleFilterError("multi_eip_run_step: the input must be the state of multi_eip_run_start")
    state = {
        **state,
        "hosts": {host: dict(record) for host, record in state["hosts"].items()},
    }
    for record in state["hosts"].values():
        record["errors"] = list(record["errors"])
    if step == "preflight":
        _preflight(state, result)
        return state
    if step == "associate.gateways":
        _gateways(state, result)
        return state
    if step not in STEPS:
        raise AnsibleFilterError(f"multi_eip_run_step: unknown step {step!r}")
    for host in _live(state):
        _guarded(state["hosts"][host], _note_step, state, host, step, result, check)
    if step == "scale_down.delete":
        _advance(state, "create", _create_host)  # after the scale-down: the EIPs and ENIs each host needs
    elif step == "create.enis":
        _advance(state, "associate", _associate_host)  # after the ENIs: each host's plan and association steps
    else:
        _build_lists(state, state["stage"])
    return state


class FilterModule:
    """The multi_eip role's run state."""

    def filters(self):
        """Filter name -> function."""
        return {
            "multi_eip_run_start": multi_eip_run_start,
            "multi_eip_run_step": multi_eip_run_step,
        }
