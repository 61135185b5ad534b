# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Filters of the role alicloud.eip.multi_eip (internal): which slots' EIPs are already in place.

The role allocates or reuses one EIP per slot with alicloud.eip.eip_address, found again by name and tags.  Run for
every slot on every run, that made a re-run cost one module process per EIP (issue 14).  The pre-flight already
lists the role's EIPs (eip_info by the role's tags), so:

- ``multi_eip_eips_to_converge``: the slots for which eip_address would do something - no EIP, more than one
  (eip_address names the conflict), one in a transient state (eip_address waits for it), or one whose description,
  bandwidth, tags or charge type differ (eip_address changes them, or warns about the charge type).  A slot whose one
  EIP already has every requested attribute is left out: eip_address would find it and report no change;
- ``multi_eip_eips_by_slot``: the EIP record of each slot, from eip_address's answer for the converged slots and
  from the pre-flight's listing for the others.
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.alicloud.eip.plugins.module_utils._limits import SYSTEM_TAG_PREFIXES

# The EIP statuses eip_address waits out before it looks at the EIP (VPC's transient statuses).
TRANSIENT_STATUSES = ("Associating", "Unassociating", "Releasing")


def _candidates(slot, found):
    """The EIPs eip_address would select for ``slot``: its name and every one of its tags."""
    tags = {str(key): str(value) for key, value in (slot.get("tags") or {}).items()}
    return [
        eip
        for eip in found or []
        if eip.get("name") == slot["name"]
        and all((eip.get("tags") or {}).get(key) == value for key, value in tags.items())
    ]


def _in_place(slot, eip, bandwidth, internet_charge_type):
    """Whether eip_address with the role's options would find nothing to change or report on ``eip``."""
    wanted_tags = {str(key): str(value) for key, value in (slot.get("tags") or {}).items()}
    own_tags = {
        key: value for key, value in (eip.get("tags") or {}).items() if not str(key).startswith(SYSTEM_TAG_PREFIXES)
    }
    try:
        wanted_bandwidth = int(bandwidth)
    except (TypeError, ValueError):
        return False  # eip_address refuses it with the option's name: let it
    return (
        eip.get("status") not in TRANSIENT_STATUSES
        and eip.get("description", "") == slot.get("description", "")
        and eip.get("bandwidth") == wanted_bandwidth
        and own_tags == wanted_tags
        and (
            not internet_charge_type
            or not eip.get("internet_charge_type")
            or eip.get("internet_charge_type") == internet_charge_type
        )
    )


def multi_eip_eips_to_converge(slots, found, bandwidth, internet_charge_type):
    """The entries of ``slots`` (multi_eip_resources' ``eips``) that need alicloud.eip.eip_address, each with ``slot``."""
    if not isinstance(slots, list):
        raise AnsibleFilterError("multi_eip_eips_to_converge: the input must be the list of the slots' EIPs")
    converge = []
    for index, slot in enumerate(slots):
        candidates = _candidates(slot, found)
        if len(candidates) != 1 or not _in_place(slot, candidates[0], bandwidth, internet_charge_type):
            converge.append({**slot, "slot": index})
    return converge


def multi_eip_eips_by_slot(slots, found, converged):
    """The EIP record of each slot: eip_address's ``eip`` for a converged slot, else the one EIP found for it.

    ``converged`` are the loop results of eip_address over ``multi_eip_eips_to_converge`` (each has ``item.slot``
    and ``eip``).
    """
    answers = {result["item"]["slot"]: result.get("eip") or {} for result in converged or [] if "item" in result}
    records = []
    for index, slot in enumerate(slots or []):
        if index in answers:
            records.append(answers[index])
            continue
        candidates = _candidates(slot, found)
        if len(candidates) != 1:
            raise AnsibleFilterError(
                f"multi_eip_eips_by_slot: slot {index} ({slot['name']}) was neither found nor converged"
            )
        records.append(candidates[0])
    return records


class FilterModule:
    """The multi_eip role's EIP reuse filters."""

    def filters(self):
        """Filter name -> function."""
        return {
            "multi_eip_eips_to_converge": multi_eip_eips_to_converge,
            "multi_eip_eips_by_slot": multi_eip_eips_by_slot,
        }
