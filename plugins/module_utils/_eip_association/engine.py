# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note: this module util is PRIVATE to the collection. It can change at any time; do not use it from
# other collections or standalone plugins/modules.

"""The one door of the association engine: :func:`converge` (validate, observe, plan, act).

eip_association, and eip_address and eip_recover (through ``_eip_lifecycle``), all come in here:

1. ``request.validate_request`` (module options) or ``request.Desired`` (typed, from another engine) says what is
   wanted; bad input was refused there, before any call.
2. ``snapshot.gather_snapshot`` describes what the plan depends on, batched; ``seeded`` records stand for EIPs
   that do not exist yet (check mode of a recovery).
3. ``plan.plan_changes`` (pure) decides and predicts the documented failures with the target kinds' checks
   (``targets.TARGETS``); the same prediction runs in check mode and in the real run, so both fail with the
   same message, and a real run fails before its first mutating call.
4. ``execute.execute_plan`` makes the calls, waits, and puts back what a failed association took away.

The API functions come from one namespace, ``api`` (``_api.namespace.API`` unless a test injects a fake); this is
the only file of the package that imports it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.alicloud.eip.plugins.module_utils._api.namespace import API
from ansible_collections.alicloud.eip.plugins.module_utils._eip_association.execute import Outcome, execute_plan
from ansible_collections.alicloud.eip.plugins.module_utils._eip_association.plan import Plan, plan_changes
from ansible_collections.alicloud.eip.plugins.module_utils._eip_association.request import Desired
from ansible_collections.alicloud.eip.plugins.module_utils._eip_association.snapshot import Snapshot, gather_snapshot
from ansible_collections.alicloud.eip.plugins.module_utils._polling import WaitPolicy
from ansible_collections.alicloud.eip.plugins.module_utils._retries import AlicloudApiError


@dataclass(frozen=True)
class Options:
    """How to converge: the module options that are not about one association."""

    state: str = "present"
    allow_reassociation: bool = False
    force: bool = False
    wait: bool = True
    wait_timeout: float = 300


@dataclass
class Result:
    """What :func:`converge` planned and did; ``records`` are the EIPs as last seen, by allocation ID."""

    plan: Plan
    snapshot: Snapshot
    records: dict[str, dict[str, Any]]
    outcome: Outcome | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.plan.changed

    @property
    def eips(self) -> list[dict[str, Any]]:
        """The EIPs the request named (or took off a resource), in request order."""
        return [self.records[allocation_id] for allocation_id in self.plan.results if allocation_id in self.records]

    @property
    def eip(self) -> dict[str, Any] | None:
        """The EIP of a request that names one."""
        eips = self.eips
        return dict(eips[0]) if len(eips) == 1 else None

    @property
    def failed(self) -> bool:
        return self.outcome is not None and self.outcome.failed

    @property
    def rollbacks(self) -> list[str]:
        return list(self.outcome.rollbacks) if self.outcome is not None else []

    @property
    def first_error(self) -> AlicloudApiError | None:
        """The first API error of the calls made (the ``error`` result of a failed run)."""
        return self.outcome.errors[0] if self.outcome is not None and self.outcome.errors else None

    def failure_message(self) -> str:
        """The failures of the calls and the rollbacks they caused, in one message."""
        outcome = self.outcome or Outcome()
        message = "; ".join(outcome.failures)
        if outcome.rollbacks:
            message += ". Rollback: " + "; ".join(outcome.rollbacks)
        return message


def converge(
    connection,
    desired: Sequence[Desired],
    options: Options,
    check_mode: bool,
    api=None,
    wait_policy: WaitPolicy | None = None,
    seeded: Iterable[Mapping[str, Any]] = (),
) -> Result:
    """Bring the EIPs to ``desired`` (``options.state``): observe, plan and, unless ``check_mode``, act.

    Raises ``plan.PlanError`` with every predicted failure before any mutating call (the same in check mode), and
    lets ``_polling.WaitError`` and ``AlicloudApiError`` of the describes through.  The calls' own failures are in the
    result (``failed``, ``failure_message()``), after the rollbacks they caused.  Without ``options.wait`` the EIPs
    are read back once, so the result shows them Associating or Unassociating.
    """
    api = API if api is None else api
    snapshot = gather_snapshot(
        connection, desired, options.state, options.wait_timeout, api=api, wait_policy=wait_policy, seeded=seeded
    )
    plan = plan_changes(desired, snapshot, options.state, options.allow_reassociation, options.force)
    result = Result(plan=plan, snapshot=snapshot, records=dict(snapshot.eips))
    if not plan.changed or check_mode:
        return result
    result.outcome = execute_plan(
        connection, plan, options.wait, options.wait_timeout, api=api, wait_policy=wait_policy
    )
    result.records.update({key: eip for key, eip in result.outcome.records.items() if eip is not None})
    called = list(dict.fromkeys(step.allocation_id for step in result.outcome.calls))
    if not options.wait and called:
        try:
            result.records.update(
                {eip["allocation_id"]: eip for eip in api.describe_eip_addresses(connection, allocation_ids=called)}
            )
        except AlicloudApiError as error:
            result.warnings.append(f"the associations were requested, but reading them back failed: {error.describe()}")
    return result
