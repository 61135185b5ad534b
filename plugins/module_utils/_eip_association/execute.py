# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note: this module util is PRIVATE to the collection. It can change at any time; do not use it from
# other collections or standalone plugins/modules.

"""Step 4 of the association engine: make the plan's calls.

Disassociations (all at once, then one batched wait until they are Available), associations (concurrently,
under the API's flow limit), and one batched describe per polling round.  If an association fails after its
EIP or the target's old EIP was disassociated, the old association is put back, so a failure never silently
leaves both EIPs detached.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.alicloud.eip.plugins.module_utils._api.vpc_eip import Expectation, wait_for_eips
from ansible_collections.alicloud.eip.plugins.module_utils._eip_association import lb_zones
from ansible_collections.alicloud.eip.plugins.module_utils._eip_association.kinds import MAX_CONCURRENCY
from ansible_collections.alicloud.eip.plugins.module_utils._eip_association.plan import Plan, Step
from ansible_collections.alicloud.eip.plugins.module_utils._eip_association.targets import TARGETS
from ansible_collections.alicloud.eip.plugins.module_utils._polling import WaitError, WaitPolicy
from ansible_collections.alicloud.eip.plugins.module_utils._retries import AlicloudApiError
from ansible_collections.alicloud.eip.plugins.module_utils._util import run_concurrently


@dataclass
class Outcome:
    """What executing a plan did: final EIP records, failures, and the rollbacks attempted."""

    records: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    rollbacks: list[str] = field(default_factory=list)
    errors: list[AlicloudApiError] = field(default_factory=list)
    calls: list[Step] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return bool(self.failures)


def _call_step(connection, api, step: Step) -> str:
    kind = TARGETS.get(step.holder.instance_type)
    if step.kind == "associate":
        return api.associate_eip_address(
            connection,
            step.allocation_id,
            step.holder.instance_id,
            step.holder.instance_type,
            private_ip_address=step.holder.private_ip_address or None,
            mode=step.holder.mode if kind is not None and kind.has_mode else None,
            vpc_id=step.holder.vpc_id or None,
        )
    return api.unassociate_eip_address(
        connection,
        step.allocation_id,
        step.holder.instance_id,
        step.holder.instance_type,
        private_ip_address=(
            step.holder.private_ip_address if kind is not None and kind.release_names_private_ip else None
        ),
        force=True if step.force and kind is not None and kind.release_takes_force else None,
    )


def _failure_text(step: Step, error: AlicloudApiError) -> str:
    prefix = f"{step.where}: " if step.where else ""
    return f"{prefix}{step.action} ({step.describe()}) failed: {error.describe()}"


def _contains(steps: Iterable[Step], step: Step) -> bool:
    """Identity membership: two steps may compare equal yet be different calls."""
    return any(candidate is step for candidate in steps)


def _expect(step: Step) -> Expectation:
    if step.kind == "associate":
        return Expectation("InUse", step.holder.instance_id, step.holder.private_ip_address or None)
    return Expectation("Available")


def execute_plan(
    connection,
    plan: Plan,
    wait: bool,
    wait_timeout: float,
    api,
    wait_policy: WaitPolicy | None = None,
    max_workers: int = MAX_CONCURRENCY,
) -> Outcome:
    """Make the plan's calls: disassociations, one batched wait, associations, one batched wait.

    A failure does not stop unrelated steps; an association whose disassociation failed is skipped, and
    when an association fails after its prerequisites ran, the old associations are put back.
    """
    outcome = Outcome()

    def run(steps: list[Step]) -> list[Step]:
        done = []
        for step, _request_id, error in run_concurrently(
            lambda step: _call_step(connection, api, step), steps, max_workers
        ):
            outcome.calls.append(step)
            if error is None:
                done.append(step)
                continue
            if not isinstance(error, AlicloudApiError):
                raise error
            outcome.errors.append(error)
            outcome.failures.append(_failure_text(step, error))
        return done

    def settle(steps: list[Step]) -> list[Step]:
        """Wait for the steps' EIPs; returns the steps whose EIP did not get there."""
        if not steps:
            return []
        expectations = {step.allocation_id: _expect(step) for step in steps}
        try:
            outcome.records.update(
                wait_for_eips(
                    connection, expectations, wait_timeout, policy=wait_policy, describe=api.describe_eip_addresses
                )
            )
            return []
        except WaitError as error:
            outcome.records.update(error.latest)
            outcome.failures.append(str(error))
            return [step for step in steps if step.allocation_id in error.pending]

    # Phase 1: disassociate, then wait until the EIPs are Available (an association needs that).
    released = run(plan.disassociations)
    if plan.associations or wait:
        stuck = settle(released)
        released = [step for step in released if not _contains(stuck, step)]
    released_ids = {step.allocation_id for step in released}

    # Phase 2: associate what can be; an association whose prerequisite failed is skipped.
    ready, blocked = [], []
    for step in plan.associations:
        (blocked if any(dependency not in released_ids for dependency in step.depends_on) else ready).append(step)
    for step in blocked:
        prefix = f"{step.where}: " if step.where else ""
        outcome.failures.append(f"{prefix}skipped {step.describe()}: a disassociation it depends on failed")
    associated = run(ready)
    stuck = settle(associated) if wait else []

    # Roll back what was disassociated for an association that did not happen: its call failed or was
    # skipped, or its EIP went back to Available.  One still Associating at the timeout may yet succeed,
    # so it is left alone (the wait failure reports it).
    def did_not_happen(step: Step) -> bool:
        if not _contains(associated, step):
            return True
        return _contains(stuck, step) and (outcome.records.get(step.allocation_id) or {}).get("status") == "Available"

    undo = [
        restore
        for step in plan.associations
        if did_not_happen(step)
        for restore in step.undo
        if restore.allocation_id in released_ids
    ]
    if undo:
        restored = run(undo)
        restore_stuck = settle(restored)
        for step in undo:
            done = _contains(restored, step) and not _contains(restore_stuck, step)
            verdict = "restored" if done else "could not restore"
            outcome.rollbacks.append(f"{verdict} {step.allocation_id} ({step.ip_address}) on {step.holder.describe()}")

    # Phase 3: the load balancers' zone EIPs, one call (and one job wait) per load balancer.
    if plan.zonal:
        zonal = lb_zones.execute_changes(connection, api, plan.zonal, wait, wait_timeout, wait_policy)
        outcome.records.update(zonal.records)
        outcome.failures.extend(zonal.failures)
        outcome.errors.extend(zonal.errors)
    return outcome
