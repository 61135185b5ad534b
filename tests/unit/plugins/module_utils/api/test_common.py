"""What the product files share (plugins/module_utils/_api/common.py): batches, both paging styles, answers."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from ansible_collections.alicloud.eip.plugins.module_utils._api import common


def test_chunks_keep_order_and_the_last_batch_is_the_rest():
    assert list(common.chunks(list(range(7)), 3)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(common.chunks([], 3)) == []


@pytest.mark.parametrize(("value", "expected"), [(None, ""), ("", ""), ("x", "x"), (5, "5"), (False, "False")])
def test_text(value, expected):
    assert common.text(value) == expected


@pytest.mark.parametrize(
    ("container", "expected"),
    [({"Tag": [1, 2]}, [1, 2]), ({"Tag": None}, []), ({}, []), (None, []), ([3], [3]), ("Tag", [])],
)
def test_inner_list_tolerates_missing_and_empty_containers(container, expected):
    assert common.inner_list(container, "Tag") == expected


def test_tags_to_dict_skips_entries_without_a_key():
    container = {"Tag": [{"Key": "a", "Value": "1"}, {"Value": "orphan"}, "junk", {"Key": "b"}]}
    assert common.tags_to_dict(container) == {"a": "1", "b": ""}
    assert common.tags_to_dict({"Tag": [{"TagKey": "k", "TagValue": "v"}]}, "TagKey", "TagValue") == {"k": "v"}


def test_pages_reads_until_total_count():
    asked = []

    def fetch(page):
        asked.append(page)
        return {"TotalCount": 5, "Items": [f"{page}-{n}" for n in range(2)]}

    assert common.pages(fetch, lambda answer: answer["Items"]) == ["1-0", "1-1", "2-0", "2-1", "3-0", "3-1"]
    assert asked == [1, 2, 3]


@pytest.mark.parametrize(
    ("answers", "expected_pages"),
    [
        ([{"TotalCount": 10, "Items": [1]}, {"TotalCount": 10, "Items": []}], 2),  # an empty page ends it
        ([{"Items": [1, 2]}], 1),  # no TotalCount: one page
    ],
)
def test_pages_stops_on_an_empty_page_or_without_a_total(answers, expected_pages):
    asked = []

    def fetch(page):
        asked.append(page)
        return answers[page - 1]

    common.pages(fetch, lambda answer: answer["Items"])
    assert len(asked) == expected_pages


def test_token_pages_follows_next_token_until_it_is_empty():
    answers = {None: {"NextToken": "t2", "Items": [1]}, "t2": {"NextToken": "t3", "Items": []}, "t3": {"Items": [3]}}
    asked = []

    def fetch(token):
        asked.append(token)
        return answers[token]

    assert common.token_pages(fetch, lambda answer: answer["Items"]) == [1, 3]
    assert asked == [None, "t2", "t3"]


def test_read_batches_asks_each_id_once_in_batches_and_keeps_only_the_batchs_records():
    asked = []

    def read_batch(batch):
        asked.append(list(batch))
        return [{"Id": item} for item in batch] + [{"Id": "stray"}, "junk"]

    records = common.read_batches(["a", "b", "a", "c", "d", "e"], 2, read_batch, "Id")
    assert [record["Id"] for record in records] == ["a", "b", "c", "d", "e"]
    assert asked == [["a", "b"], ["c", "d"], ["e"]]
    assert common.read_batches([], 2, read_batch, "Id") == [] and len(asked) == 3


def test_body_and_request_id_of_an_sdk_response():
    response = SimpleNamespace(body=SimpleNamespace(to_map=lambda: {"RequestId": "R-1", "X": 1}))
    assert common.body(response) == {"RequestId": "R-1", "X": 1}
    assert common.request_id(response) == "R-1"
    assert common.body(SimpleNamespace(body=None)) == {}
    assert common.request_id(SimpleNamespace()) == ""
