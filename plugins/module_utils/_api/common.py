# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note: this module util is PRIVATE to the collection. It can change at any time; do not use it from
# other collections or standalone plugins/modules.

"""What every product file of the API layer shares: batches, the two paging styles, reading an answer's body.

The product files (``vpc_eip``, ``vpc_network``, ``ecs``, ``slb``) hold one small wrapper per Alibaba Cloud
API call, each ``*_page`` / single call decorated with :func:`api_call` (retries, error translation,
ClientToken, flow limit); their public describe functions page through every result with :func:`pages` or
:func:`token_pages` and split ID lists into the batch sizes the API accepts with :func:`chunks` or
:func:`read_batches`.  Their
``normalize_*`` functions turn the API's CamelCase records into plain snake_case dicts with :func:`text`,
:func:`number` and :func:`inner_list`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any


def chunks(items: Sequence[Any], size: int) -> Iterator[list[Any]]:
    """``items`` in consecutive lists of at most ``size``."""
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def text(value: Any) -> str:
    """A field as text; a missing field is ``""``."""
    return "" if value is None else str(value)


def number(value: Any) -> int | None:
    """Bandwidth and friends: the model says str, the docs' samples show numbers (UNCONFIRMED); return int."""
    # [fid:eip-bandwidth-string]
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def inner_list(container: Any, key: str) -> list[Any]:
    """``{"Tag": [...]}`` -> ``[...]``; tolerates a missing or empty container."""
    if isinstance(container, dict):
        value = container.get(key)
        return list(value) if isinstance(value, list) else []
    return list(container) if isinstance(container, list) else []


def tags_to_dict(container: Any, key_name: str = "Key", value_name: str = "Value") -> dict[str, str]:
    """``{"Tag": [{"Key": k, "Value": v}]}`` -> ``{k: v}``."""
    return {
        text(tag.get(key_name)): text(tag.get(value_name))
        for tag in inner_list(container, "Tag")
        if isinstance(tag, dict) and tag.get(key_name) is not None
    }


def body(response: Any) -> dict[str, Any]:
    """The body of an SDK response as a dict (``{}`` when there is none)."""
    content = getattr(response, "body", None)
    if content is None:
        return {}
    return content.to_map() or {}


def pages(fetch_page: Callable[[int], dict[str, Any]], records_of: Callable[[dict[str, Any]], list[Any]]) -> list[Any]:
    """Every record of a PageNumber/PageSize listing: pages until TotalCount is reached or a page is empty."""
    records: list[Any] = []
    page_number = 1
    while True:
        answer = fetch_page(page_number)
        page = records_of(answer)
        records.extend(page)
        total = answer.get("TotalCount")
        if not page or total is None or len(records) >= int(total):
            return records
        page_number += 1


def token_pages(
    fetch: Callable[[str | None], dict[str, Any]], records_of: Callable[[dict[str, Any]], list[Any]]
) -> list[Any]:
    """Every record of a MaxResults/NextToken listing."""
    records: list[Any] = []
    token = None
    while True:
        answer = fetch(token)
        records.extend(records_of(answer))
        token = answer.get("NextToken")
        if not token:
            return records


def read_batches(
    ids: Iterable[str], size: int, read_batch: Callable[[list[str]], list[Any]], id_field: str
) -> list[dict[str, Any]]:
    """Every record ``read_batch(batch)`` answers for ``ids``, ``size`` IDs per batch (duplicates asked once).

    An answer may carry records of other IDs (a filter the API applies loosely, a listing by a parent ID): only the
    records whose ``id_field`` is one of the batch's are kept.  An API that filters by one ID takes ``size`` 1.
    """
    records: list[dict[str, Any]] = []
    for batch in chunks(list(dict.fromkeys(ids)), size):
        records.extend(
            record for record in read_batch(batch) if isinstance(record, dict) and record.get(id_field) in batch
        )
    return records


def request_id(response: Any) -> str:
    """The ``RequestId`` of an SDK response: what a mutating call without another answer returns."""
    return text(body(response).get("RequestId"))
