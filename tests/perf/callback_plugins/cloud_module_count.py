# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""make bench (tests/perf/bench_fleet.py): count the module processes of alicloud.eip tasks in one playbook run.

Enabled only by the benchmark (ANSIBLE_CALLBACK_PLUGINS=tests/perf/callback_plugins,
ANSIBLE_CALLBACKS_ENABLED=cloud_module_count); writes ``{"processes": N, "by_task": {...}, "task_seconds": [...]}``
to the file named by ``BENCH_MODULE_COUNT_FILE`` when the playbook ends (``task_seconds``: each task's wall time,
from its start to the next task's start, to show where a run's time goes).

One module process runs per host result that was not skipped, and per loop item that was not skipped. A task with
``run_once`` runs on one host and its result reaches the callbacks once, so it counts once. Skipped tasks and
skipped items start no process and count nothing.
"""

from __future__ import annotations

DOCUMENTATION = r"""
name: cloud_module_count
type: aggregate
short_description: Count the module processes of alicloud.eip tasks (benchmark only)
description:
  - Writes the number of alicloud.eip module processes a playbook started to the file named by
    E(BENCH_MODULE_COUNT_FILE).
requirements:
  - enabled in ANSIBLE_CALLBACKS_ENABLED
"""

import json
import os
import time
from collections import Counter

from ansible.plugins.callback import CallbackBase

PREFIX = "alicloud.eip."


def processes_of(result: dict) -> int:
    """How many module processes one host's task result stands for (a loop's items, or the task itself)."""
    if result.get("skipped") and "results" not in result:
        return 0
    items = result.get("results")
    if isinstance(items, list):
        return sum(1 for item in items if isinstance(item, dict) and not item.get("skipped"))
    return 1


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "cloud_module_count"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.by_task: Counter = Counter()
        self.task_seconds: list[list] = []
        self._started: tuple[str, float] | None = None

    def _close_task(self) -> None:
        if self._started:
            name, started = self._started
            self.task_seconds.append([name, round(time.monotonic() - started, 3)])
            self._started = None

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._close_task()
        self._started = (task.get_name(), time.monotonic())

    def v2_playbook_on_handler_task_start(self, task):
        self.v2_playbook_on_task_start(task, False)

    def _count(self, result) -> None:
        task = result._task
        action = getattr(task, "resolved_action", None) or task.action
        if not action or not action.startswith(PREFIX):
            return
        count = processes_of(result._result)
        if count:
            self.by_task[f"{action}: {task.get_name()}"] += count

    def v2_runner_on_ok(self, result):
        self._count(result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._count(result)

    def v2_runner_on_unreachable(self, result):
        self._count(result)

    def v2_playbook_on_stats(self, stats):
        self._close_task()
        target = os.environ.get("BENCH_MODULE_COUNT_FILE")
        if target:
            with open(target, "w", encoding="utf-8") as handle:
                json.dump(
                    {
                        "processes": sum(self.by_task.values()),
                        "by_task": dict(self.by_task),
                        "task_seconds": self.task_seconds,
                    },
                    handle,
                    indent=2,
                )
