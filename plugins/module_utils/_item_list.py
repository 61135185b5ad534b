# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note: this module util is PRIVATE to the collection. It can change at any time; do not use it from
# other collections or standalone plugins/modules.

"""The list form of the per-resource modules (eip_address ``addresses``, eni ``interfaces``).

A list form converges many independent items in one module process: each item takes the options of the single
form, is validated before any call (a bad item fails the whole task, naming ``<list>[<index>].<option>``), and
converges on a bounded thread pool (the API wrappers keep their retries and flow limits).  Each item ends in an
:class:`ItemOutcome`; the module returns them in request order and fails, after every item has run, when any item
failed ("<k> of <n> <noun> failed: <first message>").
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.alicloud.eip.plugins.module_utils._util import (
    InputError,
    run_concurrently,
)

# Items converging at once.  The API's flow limits hold whatever this is (the limiters of ``_retries``); more
# threads than this only wait on the same limiters and on the SDK's connection pool.
MAX_WORKERS = 8


class ItemFailure(Exception):
    """One item's failure: its message, the API's answer (``error``), and what is known of it (``values``)."""

    def __init__(
        self,
        msg: str,
        error: dict[str, Any] | None = None,
        changed: bool = False,
        **values: Any,
    ):
        super().__init__(msg)
        self.msg = msg
        self.error = error
        self.changed = changed
        self.values = values


@dataclass
class ItemOutcome:
    """How one item ended: ``values`` are its result keys (``eip``, ``interface``, ``actions``); ``diff`` its
    before/after; ``warnings`` already name the item."""

    changed: bool = False
    failed: bool = False
    msg: str | None = None
    error: dict[str, Any] | None = None
    values: dict[str, Any] = field(default_factory=dict)
    diff: dict[str, Any] | None = None
    warnings: list[str] = field(default_factory=list)

    @classmethod
    def from_failure(cls, failure: ItemFailure) -> ItemOutcome:
        return cls(
            changed=failure.changed,
            failed=True,
            msg=failure.msg,
            error=failure.error,
            values=failure.values,
        )

    def as_result(self) -> dict[str, Any]:
        """The item's entry in the module's list: ``changed``, ``failed``, ``msg`` and ``error`` when failed."""
        result: dict[str, Any] = {"changed": self.changed, "failed": self.failed}
        if self.failed:
            result["msg"] = self.msg
        if self.error is not None:
            result["error"] = self.error
        result.update(self.values)
        return result


def list_option(item_spec: Mapping[str, Any], **constraints: Any) -> dict[str, Any]:
    """The argspec of a list option whose items take ``item_spec`` (a copy; the single form's spec is untouched).

    ``constraints`` (``mutually_exclusive``, ``required_one_of``) apply within each item.
    """
    return {
        "type": "list",
        "elements": "dict",
        "options": copy.deepcopy(dict(item_spec)),
        **constraints,
    }


def exclusive_with(list_name: str, item_options: Sequence[str]) -> list[list[str]]:
    """``mutually_exclusive`` entries: the list option against every top-level option an item takes."""
    return [[list_name, option] for option in item_options]


def where(list_name: str, index: int) -> str:
    return f"{list_name}[{index}]"


def label_message(list_name: str, index: int, message: str, item_options: Sequence[str]) -> str:
    """A single-form message for item ``index``: ``name: ...`` becomes ``addresses[2].name: ...``."""
    label = where(list_name, index)
    for option in sorted(item_options, key=len, reverse=True):
        if message.startswith(option) and message[len(option) : len(option) + 1] in (
            ":",
            ".",
            "=",
            " ",
        ):
            return f"{label}.{message}"
    return f"{label}: {message}"


def item_params(
    item: Mapping[str, Any],
    shared: Mapping[str, Any],
    defaults: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The parameters one item converges with: its own options, then the module-level ones (``shared``)."""
    params = dict(defaults or {})
    params.update(item)
    params.update(shared)
    return params


def validate_items(
    list_name: str,
    items: Sequence[Mapping[str, Any]],
    validate: Callable[[Mapping[str, Any]], Any],
    item_options: Sequence[str],
) -> list[Any]:
    """``validate(item)`` for every item, before any call; the first InputError names the item and its option."""
    results = []
    for index, item in enumerate(items):
        try:
            results.append(validate(item))
        except InputError as error:
            raise InputError(label_message(list_name, index, str(error), item_options)) from None
    return results


def refuse_duplicates(list_name: str, keys: Sequence[Hashable | None], what: Callable[[Any], str]) -> None:
    """Two items with the same key would converge one resource twice, concurrently: refused before any call.

    ``keys[i]`` is item i's key (``None``: no key to compare); ``what(key)`` names it in the message.
    """
    first: dict[Hashable, int] = {}
    for index, key in enumerate(keys):
        if key is None:
            continue
        if key in first:
            raise InputError(
                f"{where(list_name, index)} names the same {what(key)} as {where(list_name, first[key])}; "
                "give each one once"
            )
        first[key] = index


def converge_items(
    converge: Callable[[int], ItemOutcome],
    count: int,
    unexpected: Callable[[int, BaseException], ItemOutcome] | None = None,
    max_workers: int = MAX_WORKERS,
) -> list[ItemOutcome]:
    """``converge(index)`` for every item on at most ``max_workers`` threads; outcomes in request order.

    An :class:`ItemFailure` becomes the item's failed outcome; any other exception goes to ``unexpected``
    (default: a failed outcome with the exception's text), so one item never stops the others.
    """

    def one(index: int) -> ItemOutcome:
        try:
            return converge(index)
        except ItemFailure as failure:
            return ItemOutcome.from_failure(failure)

    outcomes = []
    for index, outcome, error in run_concurrently(one, range(count), max_workers):
        if error is not None:
            outcome = unexpected(index, error) if unexpected else ItemOutcome(failed=True, msg=f"{error}")
        outcomes.append(outcome)
    return outcomes


def failure_message(outcomes: Sequence[ItemOutcome], noun: str) -> str | None:
    """``"<k> of <n> <noun> failed: <first failed item's message>"``, or ``None`` when none failed."""
    failed = [outcome for outcome in outcomes if outcome.failed]
    if not failed:
        return None
    return f"{len(failed)} of {len(outcomes)} {noun} failed: {failed[0].msg}"


def list_result(key: str, outcomes: Sequence[ItemOutcome], diff: bool) -> dict[str, Any]:
    """The module's result: ``changed`` (any item), ``<key>`` (every item, in order), ``diff`` (lists)."""
    result: dict[str, Any] = {
        "changed": any(outcome.changed for outcome in outcomes),
        key: [outcome.as_result() for outcome in outcomes],
    }
    if diff:
        result["diff"] = {
            "before": [(outcome.diff or {}).get("before", {}) for outcome in outcomes],
            "after": [(outcome.diff or {}).get("after", {}) for outcome in outcomes],
        }
    return result


def exit_list(module, key: str, outcomes: Sequence[ItemOutcome], noun: str) -> None:
    """Warn every item's warnings, then exit with :func:`list_result`, or fail with it when any item failed."""
    for outcome in outcomes:
        for warning in outcome.warnings:
            module.warn(warning)
    result = list_result(key, outcomes, bool(module._diff))  # pylint: disable=protected-access
    message = failure_message(outcomes, noun)
    if message is not None:
        first = next(outcome for outcome in outcomes if outcome.failed)
        if first.error is not None:
            result["error"] = first.error
        module.fail_json(msg=message, **result)
    module.exit_json(**result)
