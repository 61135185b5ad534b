"""The list form's shared machinery (plugins/module_utils/_item_list.py)."""

from __future__ import annotations

import threading

import pytest
from ansible_collections.alicloud.eip.plugins.module_utils._item_list import (
    ItemFailure,
    ItemOutcome,
    converge_items,
    exclusive_with,
    failure_message,
    label_message,
    list_option,
    list_result,
    refuse_duplicates,
    validate_items,
)
from ansible_collections.alicloud.eip.plugins.module_utils._util import InputError

OPTIONS = ("name", "tags", "allocation_id")


@pytest.mark.parametrize(
    "message, expected",
    [
        ("name: 129 characters given", "addresses[2].name: 129 characters given"),
        ("tags.owner: the value is a dict", "addresses[2].tags.owner: the value is a dict"),
        ("allocation_id='x' is unknown", "addresses[2].allocation_id='x' is unknown"),
        # "name" is a prefix of "names", not the option: the label stays apart.
        ("names collide", "addresses[2]: names collide"),
        ("wait_timeout must be positive", "addresses[2]: wait_timeout must be positive"),
    ],
)
def test_a_single_form_message_names_the_item_and_option(message, expected):
    assert label_message("addresses", 2, message, OPTIONS) == expected


def test_validate_items_stops_at_the_first_bad_item_with_its_index():
    def validate(item):
        if len(item["name"]) > 3:
            raise InputError(f"name: {len(item['name'])} characters given")
        return item["name"]

    assert validate_items("addresses", [{"name": "a"}, {"name": "b"}], validate, OPTIONS) == ["a", "b"]
    with pytest.raises(InputError, match=r"^addresses\[1\]\.name: 5 characters given$"):
        validate_items("addresses", [{"name": "a"}, {"name": "abcde"}, {"name": "fghij"}], validate, OPTIONS)


def test_duplicate_keys_are_refused_naming_both_items():
    refuse_duplicates("interfaces", ["eni-1", None, "eni-2", None], lambda key: f"ENI {key}")
    with pytest.raises(InputError, match=r"interfaces\[2\] names the same ENI eni-1 as interfaces\[0\]"):
        refuse_duplicates("interfaces", ["eni-1", "eni-2", "eni-1"], lambda key: f"ENI {key}")


def test_converge_items_keeps_order_and_turns_failures_into_outcomes():
    def converge(index):
        if index == 1:
            raise ItemFailure("refused", {"code": "X"}, changed=False, eip={})
        if index == 3:
            raise KeyError("surprise")
        return ItemOutcome(changed=index == 2, values={"n": index})

    outcomes = converge_items(converge, 4)
    assert [outcome.failed for outcome in outcomes] == [False, True, False, True]
    assert outcomes[1].as_result() == {
        "changed": False,
        "failed": True,
        "msg": "refused",
        "error": {"code": "X"},
        "eip": {},
    }
    assert outcomes[2].as_result() == {"changed": True, "failed": False, "n": 2}
    assert outcomes[3].msg == "'surprise'"  # an unexpected exception is the item's message, not a traceback


def test_converge_items_runs_items_at_once_up_to_the_bound():
    barrier = threading.Barrier(4, timeout=5)

    def converge(index):
        barrier.wait()  # passes only when four items run at the same time
        return ItemOutcome(values={"thread": threading.get_ident()})

    outcomes = converge_items(converge, 4, max_workers=4)
    assert len({outcome.values["thread"] for outcome in outcomes}) == 4


def test_the_summary_counts_failures_and_quotes_the_first():
    outcomes = [ItemOutcome(changed=True), ItemOutcome(failed=True, msg="first"), ItemOutcome(failed=True, msg="2nd")]
    assert failure_message(outcomes, "EIPs") == "2 of 3 EIPs failed: first"
    assert failure_message(outcomes[:1], "EIPs") is None


def test_list_result_keeps_request_order_and_diffs_as_lists():
    outcomes = [
        ItemOutcome(changed=False, values={"id": "a"}, diff={"before": {"x": 1}, "after": {"x": 1}}),
        ItemOutcome(failed=True, msg="no"),
        ItemOutcome(changed=True, values={"id": "c"}, diff={"before": {}, "after": {"x": 2}}),
    ]
    result = list_result("things", outcomes, diff=True)
    assert result["changed"] is True
    assert [entry.get("id") for entry in result["things"]] == ["a", None, "c"]
    assert result["diff"] == {"before": [{"x": 1}, {}, {}], "after": [{"x": 1}, {}, {"x": 2}]}
    assert "diff" not in list_result("things", outcomes, diff=False)
    assert list_result("things", outcomes[:1], diff=False)["changed"] is False


def test_list_option_copies_the_item_spec():
    spec = {"name": {"type": "str"}}
    option = list_option(spec, required_one_of=[["name"]])
    option["options"]["name"]["type"] = "int"
    assert spec == {"name": {"type": "str"}}
    assert option["required_one_of"] == [["name"]] and option["elements"] == "dict"
    assert exclusive_with("things", ["a", "b"]) == [["things", "a"], ["things", "b"]]
