"""multi_eip's EIP reuse filters: a slot whose one EIP is already as requested skips eip_address; any other goes."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.alicloud.eip.plugins.filter.multi_eip_reuse import (
    multi_eip_eips_by_slot,
    multi_eip_eips_to_converge,
)

TAGS = {"alicloud-eip-role": "multi_eip", "alicloud-eip-slot": "0"}
SLOTS = [
    {"name": "web-i-1-eip-0", "description": "nat EIP 0", "tags": TAGS},
    {"name": "web-i-1-eip-1", "description": "nat EIP 1", "tags": {**TAGS, "alicloud-eip-slot": "1"}},
]


def eip(slot, **changes):
    record = {
        "allocation_id": f"eip-{slot}",
        "name": SLOTS[slot]["name"],
        "description": SLOTS[slot]["description"],
        "tags": dict(SLOTS[slot]["tags"]),
        "bandwidth": 5,
        "internet_charge_type": "PayByTraffic",
        "status": "InUse",
    }
    record.update(changes)
    return record


def to_converge(found, bandwidth=5, charge="PayByTraffic"):
    return [entry["slot"] for entry in multi_eip_eips_to_converge(SLOTS, found, bandwidth, charge)]


def test_slots_in_place_skip_eip_address_and_keep_their_records():
    found = [eip(0), eip(1, tags={**SLOTS[1]["tags"], "aliyun:system": "x"})]  # a system tag is not purged
    assert to_converge(found) == []
    assert multi_eip_eips_by_slot(SLOTS, found, []) == found


@pytest.mark.parametrize(
    "changes",
    [
        {"description": "edited"},
        {"bandwidth": 10},
        {"tags": {**TAGS, "extra": "1"}},  # eip_address purges tags it was not given
        {"internet_charge_type": "PayByBandwidth"},  # eip_address warns
        {"status": "Associating"},  # eip_address waits for it
    ],
)
def test_a_slot_whose_eip_differs_goes_through_eip_address(changes):
    assert to_converge([eip(0, **changes), eip(1)]) == [0]


def test_missing_or_ambiguous_slots_go_through_eip_address():
    assert to_converge([eip(1)]) == [0]
    assert to_converge([eip(0), eip(0, allocation_id="eip-0b"), eip(1)]) == [0]
    assert to_converge([eip(0, tags={"alicloud-eip-role": "multi_eip"}), eip(1)]) == [0]  # not the slot's tags
    assert to_converge([eip(0), eip(1)], bandwidth="five") == [0, 1]  # eip_address names the bad option


def test_by_slot_takes_eip_address_answers_for_converged_slots():
    allocated = {"allocation_id": "eip-new", "name": SLOTS[0]["name"]}
    results = [{"item": {**SLOTS[0], "slot": 0}, "eip": allocated}]
    assert multi_eip_eips_by_slot(SLOTS, [eip(1)], results) == [allocated, eip(1)]
    with pytest.raises(AnsibleFilterError, match="slot 0 .* neither found nor converged"):
        multi_eip_eips_by_slot(SLOTS, [eip(1)], [])
