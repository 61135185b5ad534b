"""DifferenceTracker and the bounded thread pool (plugins/module_utils/_util.py)."""

from __future__ import annotations

import threading

from ansible_collections.alicloud.eip.plugins.module_utils._util import DifferenceTracker, run_concurrently


def test_difference_tracker_keeps_the_first_before():
    tracker = DifferenceTracker()
    tracker.add("eip-1", {"instance_id": "i-1"}, {"instance_id": ""})
    tracker.add("eip-1", {"instance_id": "ignored"}, {"instance_id": "i-2"})
    tracker.add("eip-2", {"instance_id": "i-3"}, {"instance_id": "i-3"})
    assert tracker.as_diff() == {
        "before": {"eip-1": {"instance_id": "i-1"}, "eip-2": {"instance_id": "i-3"}},
        "after": {"eip-1": {"instance_id": "i-2"}, "eip-2": {"instance_id": "i-3"}},
    }
    assert tracker.has_difference_for("eip-1") and not tracker.has_difference_for("eip-2")
    assert not tracker.empty


def test_difference_tracker_copies_its_inputs():
    tracker = DifferenceTracker()
    before = {"instance_id": "i-1"}
    tracker.add("eip-1", before, before)
    before["instance_id"] = "changed"
    assert tracker.get_before() == {"eip-1": {"instance_id": "i-1"}}
    assert tracker.empty


def test_run_concurrently_keeps_order_and_collects_errors():
    def work(number):
        if number == 3:
            raise ValueError("three")
        return number * 10

    results = run_concurrently(work, range(6), max_workers=4)
    assert [item for item, _result, _error in results] == list(range(6))
    assert [result for _item, result, _error in results] == [0, 10, 20, None, 40, 50]
    assert isinstance(results[3][2], ValueError)


def test_run_concurrently_uses_threads_up_to_the_bound():
    barrier = threading.Barrier(3, timeout=5)
    seen = set()

    def work(number):
        barrier.wait()
        seen.add(threading.get_ident())
        return number

    assert [r for _i, r, _e in run_concurrently(work, range(3), max_workers=3)] == [0, 1, 2]
    assert len(seen) == 3
