# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note: this module util is PRIVATE to the collection. It can change at any time; do not use it from
# other collections or standalone plugins/modules.

"""The one waiting loop of the collection: poll asynchronous resources until each has its expected state.

Asynchronous calls (AssociateEipAddress, AttachNetworkInterface, CreateSnatEntry, ...) return at once and the
resource passes through a transient status.  :func:`wait_until` describes every pending resource with one
batched call per round, on an interval that starts short and grows x1.5 up to a cap, never past the caller's
``wait_timeout``; it never sleeps a fixed guess and returns as soon as everything is there.  What differs between
the EIP, ENI and SNAT waits (the record's ID field, when a record is done, what counts as a failure, how messages
name a status) is one :class:`Watch` per kind, next to that kind's API wrappers.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

Record = dict[str, Any]


class WaitError(Exception):
    """Resources that did not get where they should, with what they looked like last.

    ``pending``: ID -> the expected state, as text; ``latest``: ID -> the last record seen (``None``: not found).
    """

    def __init__(self, message: str, pending: Mapping[str, str], latest: Mapping[str, Record | None]):
        super().__init__(message)
        self.pending = dict(pending)
        self.latest = dict(latest)


@dataclass
class WaitPolicy:
    """Polling intervals (seconds); ``sleep`` and ``clock`` are injectable for tests.

    ``steady``: for that many seconds from the start of the wait the interval stays at ``first_interval``, and
    grows only after (a resource that usually settles within it is seen at most one interval late).
    """

    first_interval: float = 0.2
    factor: float = 1.5
    max_interval: float = 5.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    steady: float = 0.0


def polling_rounds(timeout: float, policy: WaitPolicy, poll_first: bool = False) -> Iterator[None]:
    """Yield once per polling round, until ``timeout`` seconds have passed.

    The first round comes at once with ``poll_first`` (to see the current state), otherwise after
    ``first_interval`` (the caller has just made the asynchronous call).  The interval then grows by ``factor``
    up to ``max_interval`` (once ``steady`` seconds have passed) and a sleep never runs past the deadline.  The
    caller stops early with ``break``.
    """
    start = policy.clock()
    deadline = start + timeout
    interval = policy.first_interval
    if poll_first:
        yield
    while True:
        remaining = deadline - policy.clock()
        if remaining <= 0:
            return
        policy.sleep(min(interval, remaining))
        if policy.clock() - start >= policy.steady:
            interval = min(interval * policy.factor, policy.max_interval)
        yield


def _never(*_args: Any) -> bool:
    return False


def _status_or_not_found(record: Record | None) -> str:
    return record["status"] if record is not None else "not found"


def _did_not_get_there(ids: list[str], _expected: Mapping[str, Any]) -> str:
    return f"{', '.join(ids)} will not get where expected"


@dataclass(frozen=True)
class Watch:
    """How one kind of resource is waited for.

    ``key``: the ID field of a record.  ``is_done(expected, record)``: the record (``None``: not found) is where it
    should be.  ``is_transient(record)``: the record is in a passing status (remembered per ID, for ``has_failed``).
    ``has_failed(expected, record, seen_transient)``: it will not get there, no use waiting on; ``failure(ids,
    expected)`` is then the message.  ``wanted_text(expected)`` and ``seen_text(record)`` name an expectation and
    a record in messages and in :attr:`WaitError.pending`; ``subject`` comes before the details of a timeout.
    """

    key: str
    is_done: Callable[[Any, Record | None], bool]
    wanted_text: Callable[[Any], str] = str
    seen_text: Callable[[Record | None], str] = _status_or_not_found
    is_transient: Callable[[Record | None], bool] = _never
    has_failed: Callable[[Any, Record | None, bool], bool] = _never
    failure: Callable[[list[str], Mapping[str, Any]], str] = _did_not_get_there
    subject: str = ""


def wait_until(
    describe: Callable[[list[str]], Iterable[Record]],
    expectations: Mapping[str, Any],
    watch: Watch,
    timeout: float,
    policy: WaitPolicy | None = None,
    poll_first: bool = False,
) -> dict[str, Record | None]:
    """Poll until every resource meets its expectation; returns the last record of each (``None``: not found).

    ``describe(ids)`` answers the records of the still pending IDs (sorted) in one call per round; records of other
    IDs are ignored.  Raises :class:`WaitError` on timeout (naming each pending ID, what it should be and what it
    was last seen as) or as soon as ``watch.has_failed`` says a resource will not get there.
    """
    pending = dict(expectations)
    latest: dict[str, Record | None] = {}
    seen_transient: set[str] = set()
    for _round in polling_rounds(timeout, policy or WaitPolicy(), poll_first) if pending else ():
        found = {record[watch.key]: record for record in describe(sorted(pending))}
        failed = []
        for item_id, expected in list(pending.items()):
            record = found.get(item_id)
            latest[item_id] = record
            if watch.is_transient(record):
                seen_transient.add(item_id)
            if watch.is_done(expected, record):
                del pending[item_id]
            elif watch.has_failed(expected, record, item_id in seen_transient):
                failed.append(item_id)
        if failed:
            failed.sort()
            raise WaitError(
                watch.failure(failed, pending),
                {item_id: watch.wanted_text(pending[item_id]) for item_id in failed},
                latest,
            )
        if not pending:
            break
    if pending:
        wanted = {item_id: watch.wanted_text(expected) for item_id, expected in pending.items()}
        details = "; ".join(
            f"{item_id} to be {wanted[item_id]} (last seen: {watch.seen_text(latest.get(item_id))})"
            for item_id in sorted(pending)
        )
        raise WaitError(f"timed out after {timeout}s waiting for {watch.subject}{details}", wanted, latest)
    return latest
