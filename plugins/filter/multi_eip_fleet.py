# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Filters of the role alicloud.eip.multi_eip (internal): one list per cloud task, for one host or for the fleet.

Every cloud task of the role sends one list: in fleet mode (``multi_eip_fleet``) the items of every host of the
play batch that runs the role, once (``run_once``); otherwise this host's items.  The run's state
(``plugins/filter/multi_eip_run.py``) builds the lists, noting where each host's items sit in each (``layout``), and
reads each host's part of the answers with these filters:

- ``multi_eip_fleet_part``: this host's part of a list task's result - its items' outcomes, whether they changed,
  and every failure as a message (the item's own, or the module's when the module failed as a whole and returned no
  outcome per item).  A list task never fails the play (a failed ``run_once`` task fails every host); a host with a
  failure has no item in any later list, and the role's check after the cloud part fails exactly those hosts;
- ``multi_eip_fleet_associations``: the same for eip_association, which returns the EIPs it dealt with rather than
  an outcome per row: a row is done when its EIP ended on the row's resource;
- ``multi_eip_fleet_failures``: the module-level failures of read-only tasks (their listing is missing);
- ``multi_eip_instance_records``: the role's ENIs or EIPs of one instance (by its ``alicloud-eip-instance`` tag), out
  of one listing by the role's tag for the whole fleet;
- ``multi_eip_requests``: this host's items of each list task, as the modules take them.
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

INSTANCE_TAG = "alicloud-eip-instance"


def _error_text(entry):
    """An outcome's or a module's failure as one line: the message, then the API's code and request ID if not in it."""
    message = str(entry.get("msg") or "failed without a message")
    error = entry.get("error") if isinstance(entry.get("error"), dict) else {}
    extra = [
        f"{label} {error[key]}"
        for key, label in (("code", "code"), ("request_id", "request id"))
        if error.get(key) and str(error[key]) not in message
    ]
    return f"{message} ({', '.join(extra)})" if extra else message


def _slices(batches, me):
    """(total items, [(offset, count)] of ``me``) over the batches sent one after the other in one list."""
    if isinstance(batches, dict):
        batches = [batches]
    total = 0
    mine = []
    for batch in batches or []:
        offset, count = (batch.get("layout") or {}).get(me, [0, 0])
        if count:
            mine.append((total + offset, count))
        total += len(batch.get("entries") or [])
    return total, mine


def multi_eip_fleet_part(result, key, batches, me, items=None):
    """This host's part of a list task's ``result``: ``{"outcomes", "changed", "errors"}``.

    ``key`` is the result's list (``addresses``, ``interfaces``); ``batches`` the entry (or entries, sent one after
    the other) of the run's ``lists`` the task's list was made of.  Each outcome gets ``item``: the host's
    entry of ``items`` when given (same order as its part), else the outcome itself has no item.  A module that
    failed as a whole (no outcome per item) fails every host that had items in the list, with its message.
    """
    total, mine = _slices(batches, me)
    count = sum(length for _offset, length in mine)
    part = {"outcomes": [], "changed": False, "errors": []}
    if not count:
        return part
    result = result or {}
    if result.get("skipped"):
        part["errors"].append(f"the task was skipped although it had {count} item(s) of this host")
        return part
    outcomes = result.get(key)
    if not isinstance(outcomes, list) or len(outcomes) != total:
        part["errors"].append(_error_text(result))
        return part
    mine_outcomes = [outcome for offset, length in mine for outcome in outcomes[offset : offset + length]]
    if items is not None:
        items = list(items)
        if len(items) != len(mine_outcomes):
            raise AnsibleFilterError(
                f"multi_eip_fleet_part: {len(items)} items given for the {len(mine_outcomes)} outcomes of host {me}"
            )
        mine_outcomes = [{**outcome, "item": item} for outcome, item in zip(mine_outcomes, items)]
    part["outcomes"] = mine_outcomes
    part["changed"] = any(outcome.get("changed") for outcome in mine_outcomes)
    part["errors"] = [_error_text(outcome) for outcome in mine_outcomes if outcome.get("failed")]
    return part


def _row_done(row, eip):
    """Whether an EIP record shows the association ``row`` asked for."""
    if not eip or eip.get("instance_id") != row.get("instance_id"):
        return False
    if row.get("private_ip_address") and eip.get("private_ip_address") not in (None, row["private_ip_address"]):
        return False
    return not row.get("mode") or not eip.get("mode") or eip.get("mode") == row["mode"]


def multi_eip_fleet_associations(result, batch, me):
    """This host's part of eip_association's ``result`` (its ``associations`` rows): as ``multi_eip_fleet_part``.

    eip_association checks every row before any call and returns the EIPs it dealt with (``eips``, in request
    order), failing as a whole: a refusal before any call (no ``eips``) fails every host with rows; after a failed
    call, a host fails when one of its EIPs did not end on the resource its row names.
    """
    total, mine = _slices(batch, me)
    rows = [row for offset, length in mine for row in (batch.get("entries") or [])[offset : offset + length]]
    part = {"outcomes": [], "changed": False, "errors": []}
    if not rows:
        return part
    result = result or {}
    if result.get("skipped"):
        part["errors"].append(f"the task was skipped although it had {len(rows)} association(s) of this host")
        return part
    eips = result.get("eips")
    failed = bool(result.get("msg")) or bool(result.get("exception"))
    if not isinstance(eips, list) or len(eips) != total:
        part["errors"].append(_error_text(result))
        return part
    by_id = {eip.get("allocation_id"): eip for eip in eips if isinstance(eip, dict)}
    actions = result.get("actions") or []
    for row in rows:
        eip = by_id.get(row.get("allocation_id"))
        changed = any(action.get("allocation_id") == row.get("allocation_id") for action in actions)
        part["outcomes"].append({"item": row, "eip": eip, "changed": changed})
        part["changed"] = part["changed"] or changed
        if failed and not _row_done(row, eip):
            part["errors"].append(f"{row.get('allocation_id')} -> {row.get('instance_id')}: {_error_text(result)}")
    return part


def multi_eip_fleet_failures(results, keys):
    """The messages of the read-only tasks in ``results`` that failed as a whole (their listing ``keys[i]`` missing)."""
    errors = []
    for result, key in zip(results or [], keys or []):
        result = result or {}
        if result.get("skipped"):
            continue
        if key not in result:
            errors.append(_error_text(result))
    return errors


def multi_eip_instance_records(records, instance_id):
    """The records (ENIs or EIPs) the role made for ``instance_id``: its ``alicloud-eip-instance`` tag names it."""
    return [
        record
        for record in records or []
        if str((record.get("tags") or {}).get(INSTANCE_TAG, "")) == str(instance_id) and instance_id
    ]


def _detach(eni_id):
    return {"network_interface_id": eni_id, "attached": False}


def multi_eip_requests(settings, stage, **parts):
    """This host's items of the list tasks of ``stage``, as the modules take them (a dict of lists).

    ``stage`` ``scale_down`` (``scale_down``: the ``multi_eip_scale_down`` answer): ``detach``, ``release``,
    ``release_after_detach`` and ``delete``.  ``create`` (``eips``: ``multi_eip_eips_to_converge``, ``enis``:
    ``multi_eip_resources``' ENIs, ``released_ids``): ``eips`` and ``enis``.  ``associate`` (``plan``:
    ``multi_eip_plan``): ``detach``, ``associations``, ``attach`` (cut-through) and ``gateways`` (the ENI whose EIPs'
    gateways multi_eip_cut_through reads).
    """
    if stage == "scale_down":
        scale_down = parts.get("scale_down") or {}

        def release(eips):
            return [
                {"state": "absent", "allocation_id": eip["allocation_id"], "release_associated": True} for eip in eips
            ]

        return {
            "detach": [_detach(eni["id"]) for eni in scale_down.get("detach") or []],
            "release": release(scale_down.get("release") or []),
            "release_after_detach": release(scale_down.get("release_after_detach") or []),
            "delete": [
                {
                    "state": "absent",
                    "network_interface_id": eni["id"],
                    "force_detach": True,
                    "released_allocation_ids": list(scale_down.get("released_ids") or []),
                }
                for eni in scale_down.get("delete") or []
            ],
        }
    if stage == "create":
        released = list(parts.get("released_ids") or [])
        eips = [
            {
                "name": eip["name"],
                "description": eip["description"],
                "bandwidth": settings.get("bandwidth"),
                "internet_charge_type": settings.get("internet_charge_type"),
                "tags": eip["tags"],
            }
            for eip in parts.get("eips") or []
        ]
        enis = []
        for eni in parts.get("enis") or []:
            item = {"vswitch_id": settings.get("vswitch_id"), "released_allocation_ids": released}
            item.update(
                (key, eni[key])
                for key in (
                    "name",
                    "security_group_ids",
                    "description",
                    "instance_id",
                    "attached",
                    "secondary_private_ip_address_count",
                    "tags",
                )
                if key in eni
            )
            enis.append(item)
        return {"eips": eips, "enis": enis}
    if stage == "associate":
        plan = parts.get("plan") or {}
        known = bool(plan.get("known"))
        return {
            "detach": [_detach(eni_id) for eni_id in plan.get("detach") or []] if known else [],
            "associations": list(plan.get("associations") or []) if known else [],
            "attach": (
                [
                    {"network_interface_id": eni_id, "instance_id": settings.get("instance_id"), "attached": True}
                    for eni_id in plan.get("attach") or []
                ]
                if known
                else []
            ),
            "gateways": (
                [plan["eni_ids"][0]]
                if known and plan.get("host_mode") == "multi_eip" and plan.get("associations") and plan.get("eni_ids")
                else []
            ),
        }
    raise AnsibleFilterError(f"multi_eip_requests: unknown stage {stage!r}")


class FilterModule:
    """The multi_eip role's fleet filters."""

    def filters(self):
        """Filter name -> function."""
        return {
            "multi_eip_fleet_part": multi_eip_fleet_part,
            "multi_eip_fleet_associations": multi_eip_fleet_associations,
            "multi_eip_fleet_failures": multi_eip_fleet_failures,
            "multi_eip_instance_records": multi_eip_instance_records,
            "multi_eip_requests": multi_eip_requests,
        }
