# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note: this module util is PRIVATE to the collection. It can change at any time; do not use it from
# other collections or standalone plugins/modules.

"""Small helpers shared by the modules: a before/after tracker for ``diff`` and a bounded thread pool."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class InputError(ValueError):
    """Bad input, found before any call; the message names the option and the fix.

    The one input error of the collection: every engine raises it and every module turns it into
    ``fail_json(msg=...)`` with nothing changed.
    """


class DifferenceTracker:
    """Collects ``name -> (before, after)`` pairs and renders them as Ansible's ``diff`` result.

    Modelled on community.docker's ``DifferenceTracker``: a module records what it manages as it
    decides, and the same record answers "is there a change?" and "what does the diff show?".
    """

    def __init__(self) -> None:
        self._entries: dict[str, tuple[Any, Any]] = {}

    def add(self, name: str, before: Any, after: Any) -> None:
        """Record ``name``; a later ``add`` of the same name keeps the first ``before``."""
        if name in self._entries:
            before = self._entries[name][0]
        self._entries[name] = (copy.deepcopy(before), copy.deepcopy(after))

    def has_difference_for(self, name: str) -> bool:
        return name in self._entries and self._entries[name][0] != self._entries[name][1]

    @property
    def empty(self) -> bool:
        """Whether nothing differs."""
        return not any(self.has_difference_for(name) for name in self._entries)

    def get_before(self) -> dict[str, Any]:
        return {name: before for name, (before, _after) in self._entries.items()}

    def get_after(self) -> dict[str, Any]:
        return {name: after for name, (_before, after) in self._entries.items()}

    def as_diff(self) -> dict[str, Any]:
        """``{"before": ..., "after": ...}`` for ``exit_json(diff=...)``."""
        return {"before": self.get_before(), "after": self.get_after()}


def run_concurrently(
    function: Callable[[T], R], items: Iterable[T], max_workers: int
) -> list[tuple[T, R | None, BaseException | None]]:
    """Apply ``function`` to every item on at most ``max_workers`` threads.

    Returns ``(item, result, exception)`` in the order of ``items``; an exception in one item does not
    stop the others (the caller decides what a partial failure means).
    """
    items = list(items)
    if not items:
        return []

    def guarded(item: T) -> tuple[T, R | None, BaseException | None]:
        try:
            return item, function(item), None
        # Every failure is handed back to the caller, which decides what a partial failure means.
        except Exception as error:  # noqa: BLE001  pylint: disable=broad-except
            return item, None, error

    if len(items) == 1 or max_workers <= 1:
        return [guarded(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(max_workers, len(items))) as pool:
        return list(pool.map(guarded, items))
