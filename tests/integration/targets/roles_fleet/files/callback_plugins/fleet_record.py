# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Integration target roles_fleet: what each play of the nested playbook run did, for the target to assert on.

Enabled only by the target (ANSIBLE_CALLBACKS_ENABLED=fleet_record); writes to FLEET_RECORD_FILE, per play in
order: ``name``; ``processes`` - the alicloud.eip module processes it started (one per host result that was not
skipped, or per loop item that was not; a run_once task reaches the callbacks once); ``changed`` - the task results
that reported a change; ``failed`` - host -> message of its failure; ``ok`` - the hosts that ended without one;
``calls`` - the API calls the emulator counted during the play (action -> count, from
FLEET_EMULATOR_CONTROL_URL/calls).
"""

from __future__ import annotations

DOCUMENTATION = r"""
name: fleet_record
type: aggregate
short_description: Record what each play did (integration target roles_fleet only)
description:
  - Writes, per play, the alicloud.eip module processes, the changed results, the failed hosts with their messages
    and the emulator's API calls to the file named by E(FLEET_RECORD_FILE).
requirements:
  - enabled in ANSIBLE_CALLBACKS_ENABLED
"""

import json
import os
import urllib.request

from ansible.plugins.callback import CallbackBase

PREFIX = "alicloud.eip."


def _calls():
    """The emulator's call counters (action -> count), read on loopback without any proxy."""
    url = os.environ["FLEET_EMULATOR_CONTROL_URL"] + "/calls"
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=10) as response:
        return json.loads(response.read().decode("utf-8"))


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "fleet_record"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.plays = []
        self.play = None
        self.calls_before = {}

    def _close_play(self):
        if self.play is None:
            return
        after = _calls()
        self.play["calls"] = {
            action: count - self.calls_before.get(action, 0)
            for action, count in after.items()
            if count != self.calls_before.get(action, 0)
        }
        self.play["ok"] = sorted(set(self.play.pop("seen")) - set(self.play["failed"]))
        self.plays.append(self.play)
        self.play = None

    def v2_playbook_on_play_start(self, play):
        self._close_play()
        self.calls_before = _calls()
        self.play = {"name": play.get_name(), "processes": 0, "changed": 0, "failed": {}, "seen": []}

    def _record(self, result, failed=False, skipped=False):
        if self.play is None:
            return
        data = result._result
        self.play["seen"].append(result._host.get_name())
        action = getattr(result._task, "resolved_action", None) or result._task.action or ""
        # A callback's result has no top-level "skipped" (ansible-core strips it): the event tells.
        if action.startswith(PREFIX) and not skipped:
            items = data.get("results")
            self.play["processes"] += (
                sum(1 for item in items if isinstance(item, dict) and not item.get("skipped"))
                if isinstance(items, list)
                else 1
            )
        if data.get("changed"):
            self.play["changed"] += 1
        if failed:
            self.play["failed"][result._host.get_name()] = str(data.get("msg", ""))

    def v2_runner_on_ok(self, result):
        self._record(result)

    def v2_runner_on_skipped(self, result):
        self._record(result, skipped=True)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result, failed=not ignore_errors)

    def v2_runner_on_unreachable(self, result):
        self._record(result, failed=True)

    def v2_playbook_on_stats(self, stats):
        self._close_play()
        with open(os.environ["FLEET_RECORD_FILE"], "w", encoding="utf-8") as handle:
            json.dump({"plays": self.plays}, handle, indent=2)
