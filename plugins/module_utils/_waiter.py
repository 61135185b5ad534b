# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note: this module util is PRIVATE to the collection. It can change at any time; do not use it from
# other collections or standalone plugins/modules.

"""Wait for EIPs to reach a status, with one batched DescribeEipAddresses per polling round.

AssociateEipAddress and UnassociateEipAddress are asynchronous (Associating -> InUse,
Unassociating -> Available).  The waiter polls every pending EIP at once (50 allocation IDs per call,
the API's limit), starting after a short interval that grows x1.5 up to a cap, bounded by the
caller's ``wait_timeout``.  It never sleeps a fixed guess: it returns as soon as every EIP is there.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ansible_collections.alicloud.eip.plugins.module_utils._api import describe_eip_addresses

TRANSIENT_STATUSES = ("Associating", "Unassociating", "Releasing")


@dataclass(frozen=True)
class Expectation:
    """What an EIP should look like: a status and, for InUse, the holder (and private IP on an ENI)."""

    status: str
    instance_id: str | None = None
    private_ip_address: str | None = None

    def met(self, eip: dict[str, Any] | None) -> bool:
        if eip is None:
            return self.status == "Released"
        if eip["status"] != self.status:
            return False
        if self.instance_id is not None and eip["instance_id"] != self.instance_id:
            return False
        return not self.private_ip_address or eip["private_ip_address"] in ("", self.private_ip_address)

    def failed(self, eip: dict[str, Any] | None, seen_transient: bool) -> bool:
        """An association that went Associating -> Available again did not take; no use waiting on."""
        return seen_transient and self.status == "InUse" and eip is not None and eip["status"] == "Available"

    def describe(self) -> str:
        text = self.status
        if self.instance_id:
            text += f" on {self.instance_id}"
            if self.private_ip_address:
                text += f" ({self.private_ip_address})"
        return text


STABLE = None  # sentinel expectation: any non-transient status


class WaitError(Exception):
    """EIPs that did not get where they should, with what they looked like last."""

    def __init__(self, message: str, pending: Mapping[str, str], latest: Mapping[str, dict[str, Any] | None]):
        super().__init__(message)
        self.pending = dict(pending)
        self.latest = dict(latest)


@dataclass
class WaitPolicy:
    """Polling intervals (seconds); ``sleep`` and ``clock`` are injectable for tests."""

    first_interval: float = 0.2
    factor: float = 1.5
    max_interval: float = 5.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic


def polling_rounds(timeout: float, policy: WaitPolicy, poll_first: bool = False) -> Iterator[None]:
    """Yield once per polling round, until ``timeout`` seconds have passed; every waiter of the collection uses it.

    The first round comes at once with ``poll_first`` (to see the current state), otherwise after
    ``first_interval`` (the caller has just made the asynchronous call).  The interval then grows by ``factor``
    up to ``max_interval`` and a sleep never runs past the deadline.  The caller stops early with ``break``.
    """
    deadline = policy.clock() + timeout
    interval = policy.first_interval
    if poll_first:
        yield
    while True:
        remaining = deadline - policy.clock()
        if remaining <= 0:
            return
        policy.sleep(min(interval, remaining))
        interval = min(interval * policy.factor, policy.max_interval)
        yield


def _label(eip: dict[str, Any] | None) -> str:
    if eip is None:
        return "not found"
    holder = f" on {eip['instance_id']}" if eip.get("instance_id") else ""
    return f"{eip['status']}{holder}"


def wait_for_eips(
    connection,
    expectations: Mapping[str, Expectation | None],
    timeout: float,
    policy: WaitPolicy | None = None,
    describe: Callable[..., list[dict[str, Any]]] = describe_eip_addresses,
    poll_first: bool = False,
) -> dict[str, dict[str, Any] | None]:
    """Poll until every EIP meets its expectation; returns the last record of each (``None``: gone).

    An expectation of ``None`` (``STABLE``) means "any status that is not transient".  With
    ``poll_first`` the first describe happens at once (to see the current state); otherwise the
    waiter first sleeps ``first_interval`` (the caller has just issued the asynchronous call).
    Raises :class:`WaitError` on timeout, or when an association visibly fails.
    """
    pending = dict(expectations)
    latest: dict[str, dict[str, Any] | None] = {}
    seen_transient: set[str] = set()
    for _round in polling_rounds(timeout, policy or WaitPolicy(), poll_first) if pending else ():
        found = {eip["allocation_id"]: eip for eip in describe(connection, allocation_ids=sorted(pending))}
        failed = []
        for allocation_id, expectation in list(pending.items()):
            eip = found.get(allocation_id)
            latest[allocation_id] = eip
            if eip is not None and eip["status"] in TRANSIENT_STATUSES:
                seen_transient.add(allocation_id)
            if expectation is None:
                done = eip is None or eip["status"] not in TRANSIENT_STATUSES
            else:
                done = expectation.met(eip)
                if not done and expectation.failed(eip, allocation_id in seen_transient):
                    failed.append(allocation_id)
            if done:
                del pending[allocation_id]
        if failed:
            raise WaitError(
                f"the association of {', '.join(sorted(failed))} did not take: the EIP went back to Available",
                {allocation_id: pending[allocation_id].describe() for allocation_id in failed},  # type: ignore
                latest,
            )
        if not pending:
            break
    if pending:
        wanted = {
            allocation_id: expectation.describe() if expectation else "stable"
            for allocation_id, expectation in pending.items()
        }
        details = "; ".join(
            f"{allocation_id} to be {wanted[allocation_id]} (last seen: {_label(latest.get(allocation_id))})"
            for allocation_id in sorted(pending)
        )
        raise WaitError(f"timed out after {timeout}s waiting for {details}", wanted, latest)
    return latest
