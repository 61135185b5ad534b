"""The one waiting loop (plugins/module_utils/_polling.py): rounds, the Watch of a kind, failures, timeouts."""

from __future__ import annotations

import pytest
from ansible_collections.alicloud.eip.plugins.module_utils._polling import (
    WaitError,
    WaitPolicy,
    Watch,
    polling_rounds,
    wait_until,
)


class Clock:
    """A fake clock whose sleep advances it; records every sleep."""

    def __init__(self):
        self.now = 0.0
        self.sleeps = []

    def sleep(self, seconds):
        self.sleeps.append(round(seconds, 4))
        self.now += seconds

    def policy(self, **overrides):
        return WaitPolicy(sleep=self.sleep, clock=lambda: self.now, **overrides)


class Things:
    """Records whose status follows a timeline on the clock (``None``: not found); records every describe."""

    def __init__(self, clock, timelines):
        self.clock = clock
        self.timelines = timelines
        self.asked = []

    def describe(self, ids):
        self.asked.append(list(ids))
        found = [{"ref": "stray", "status": "Ready"}]  # a record nobody asked for is ignored
        for thing_id in self.timelines:
            status = next(status for start, status in reversed(self.timelines[thing_id]) if self.clock.now >= start)
            if status is not None:
                found.append({"ref": thing_id, "status": status})
        return found


WATCH = Watch(
    key="ref",
    is_done=lambda wanted, record: record is not None and record["status"] == wanted,
    is_transient=lambda record: record is not None and record["status"] == "Busy",
    has_failed=lambda wanted, record, seen: seen and record is not None and record["status"] == "Broken",
    failure=lambda ids, wanted: f"{', '.join(ids)} broke on the way to {', '.join(wanted[i] for i in ids)}",
    subject="thing ",
)


def test_rounds_start_after_the_first_interval_grow_and_stop_at_the_deadline():
    clock = Clock()
    rounds = list(polling_rounds(3, clock.policy()))
    assert clock.sleeps == [0.2, 0.3, 0.45, 0.675, 1.0125, 0.3625]  # the last sleep ends at the deadline
    assert len(rounds) == 6 and clock.now == pytest.approx(3)


def test_poll_first_gives_a_round_before_any_sleep_and_the_interval_is_capped():
    clock = Clock()
    iterator = polling_rounds(60, clock.policy(max_interval=1.0), poll_first=True)
    next(iterator)
    assert clock.sleeps == []
    for _round in range(8):
        next(iterator)
    assert max(clock.sleeps) == 1.0


def test_one_describe_per_round_of_the_pending_ids_sorted_and_the_last_record_of_each():
    clock = Clock()
    things = Things(clock, {"b": [(0, "Busy"), (0.4, "Ready")], "a": [(0, "Busy"), (0.9, "Ready")]})
    latest = wait_until(things.describe, {"b": "Ready", "a": "Ready"}, WATCH, 30, clock.policy())
    assert things.asked == [["a", "b"], ["a", "b"], ["a"]]  # at 0.2, 0.5 (b is Ready), 0.95 (a is Ready)
    assert latest == {"a": {"ref": "a", "status": "Ready"}, "b": {"ref": "b", "status": "Ready"}}
    assert "stray" not in latest


def test_nothing_to_wait_for_makes_no_call_and_no_sleep():
    clock = Clock()
    things = Things(clock, {})
    assert wait_until(things.describe, {}, WATCH, 30, clock.policy()) == {}
    assert (things.asked, clock.sleeps) == ([], [])


def test_a_failure_raises_at_once_naming_only_the_failed_ones():
    clock = Clock()
    things = Things(
        clock,
        {"a": [(0, "Busy"), (0.4, "Broken")], "b": [(0, "Busy")], "c": [(0, "Busy"), (0.4, "Broken")]},
    )
    with pytest.raises(WaitError) as excinfo:
        wait_until(things.describe, {"a": "Ready", "b": "Ready", "c": "Done"}, WATCH, 30, clock.policy())
    assert str(excinfo.value) == "a, c broke on the way to Ready, Done"
    assert excinfo.value.pending == {"a": "Ready", "c": "Done"}
    assert set(excinfo.value.latest) == {"a", "b", "c"}
    assert len(things.asked) == 2  # Busy at 0.2, Broken at 0.5: no third round


def test_a_failure_needs_the_transient_status_seen_first():
    clock = Clock()
    things = Things(clock, {"a": [(0, "Broken"), (1.0, "Ready")]})  # never seen Busy: not a failure, keep waiting
    wait_until(things.describe, {"a": "Ready"}, WATCH, 30, clock.policy())
    assert clock.now >= 1.0


def test_a_timeout_names_each_pending_id_what_it_should_be_and_what_it_was_last_seen_as():
    clock = Clock()
    things = Things(clock, {"a": [(0, "Busy")], "b": [(0, None)], "c": [(0, "Busy"), (0.3, "Ready")]})
    with pytest.raises(WaitError) as excinfo:
        wait_until(things.describe, {"b": "Ready", "a": "Ready", "c": "Ready"}, WATCH, 2, clock.policy())
    assert str(excinfo.value) == (
        "timed out after 2s waiting for thing a to be Ready (last seen: Busy); b to be Ready (last seen: not found)"
    )
    assert excinfo.value.pending == {"a": "Ready", "b": "Ready"}
    assert excinfo.value.latest["c"] == {"ref": "c", "status": "Ready"}
    assert clock.now == pytest.approx(2)


def test_a_watch_states_only_what_its_kind_needs():
    clock = Clock()
    things = Things(clock, {"a": [(0, "Broken")]})
    minimal = Watch(key="ref", is_done=lambda wanted, record: record is None)  # never fails, "not found" is done
    with pytest.raises(WaitError, match=r"waiting for a to be gone \(last seen: Broken\)"):
        wait_until(things.describe, {"a": "gone"}, minimal, 1, clock.policy())


def test_a_steady_policy_keeps_the_first_interval_then_grows():
    clock = Clock()
    assert len(list(polling_rounds(2.0, clock.policy(steady=0.6)))) == 6
    # 0.2 until 0.6 s have passed, then x1.5 (0.3 at 0.6 s, 0.45 at 0.9 s, ...), never past the deadline
    assert clock.sleeps == [0.2, 0.2, 0.2, 0.3, 0.45, 0.65]
