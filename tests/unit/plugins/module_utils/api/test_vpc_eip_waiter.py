"""The EIP waiter (plugins/module_utils/_api/vpc_eip.py, on the loop of _polling.py), on a fake clock."""

from __future__ import annotations

import pytest
from ansible_collections.alicloud.eip.plugins.module_utils._api.vpc_eip import STABLE, Expectation, wait_for_eips
from ansible_collections.alicloud.eip.plugins.module_utils._polling import WaitError, WaitPolicy


class Cloud:
    """EIPs whose status follows a timeline on a fake clock; counts describe calls."""

    def __init__(self, timelines):
        self.now = 0.0
        self.sleeps = []
        self.timelines = timelines  # allocation_id -> [(from_time, status, instance_id)]
        self.describes = []

    def sleep(self, seconds):
        self.sleeps.append(round(seconds, 4))
        self.now += seconds

    def clock(self):
        return self.now

    def describe(self, connection, allocation_ids):
        self.describes.append(list(allocation_ids))
        found = []
        for allocation_id in allocation_ids:
            timeline = self.timelines.get(allocation_id)
            if timeline is None:
                continue
            status, instance_id = next((s, i) for start, s, i in reversed(timeline) if self.now >= start)
            if status is None:
                continue
            found.append(
                {"allocation_id": allocation_id, "status": status, "instance_id": instance_id, "private_ip_address": ""}
            )
        return found

    def policy(self):
        return WaitPolicy(sleep=self.sleep, clock=self.clock)


def test_one_batched_describe_per_round_and_growing_intervals():
    cloud = Cloud(
        {
            "eip-1": [(0, "Associating", "i-1"), (1.0, "InUse", "i-1")],
            "eip-2": [(0, "Associating", "i-2"), (0.4, "InUse", "i-2")],
        }
    )
    latest = wait_for_eips(
        None,
        {"eip-1": Expectation("InUse", "i-1"), "eip-2": Expectation("InUse", "i-2")},
        60,
        cloud.policy(),
        cloud.describe,
    )
    assert latest["eip-1"]["status"] == "InUse"
    assert cloud.sleeps == [0.2, 0.3, 0.45, 0.675]
    # Every round asks for everything still pending, in one call.
    assert cloud.describes == [["eip-1", "eip-2"], ["eip-1", "eip-2"], ["eip-1"], ["eip-1"]]


def test_interval_is_capped():
    cloud = Cloud({"eip-1": [(0, "Associating", "i-1"), (40, "InUse", "i-1")]})
    wait_for_eips(None, {"eip-1": Expectation("InUse", "i-1")}, 60, cloud.policy(), cloud.describe)
    assert max(cloud.sleeps) == 5.0


def test_timeout_names_what_is_missing_and_what_was_seen():
    cloud = Cloud({"eip-1": [(0, "Associating", "i-1")]})
    with pytest.raises(WaitError) as excinfo:
        wait_for_eips(None, {"eip-1": Expectation("InUse", "i-1")}, 3, cloud.policy(), cloud.describe)
    assert "timed out after 3s" in str(excinfo.value)
    assert "eip-1 to be InUse on i-1 (last seen: Associating on i-1)" in str(excinfo.value)
    assert excinfo.value.pending == {"eip-1": "InUse on i-1"}
    assert cloud.now == pytest.approx(3.0)  # never sleeps past the deadline


def test_an_association_that_falls_back_to_available_fails_fast():
    cloud = Cloud({"eip-1": [(0, "Associating", "i-1"), (0.3, "Available", "")]})
    with pytest.raises(WaitError, match="did not take"):
        wait_for_eips(None, {"eip-1": Expectation("InUse", "i-1")}, 60, cloud.policy(), cloud.describe)
    assert cloud.now < 1


def test_wrong_holder_is_not_success():
    cloud = Cloud({"eip-1": [(0, "InUse", "i-other"), (0.5, "InUse", "i-1")]})
    wait_for_eips(None, {"eip-1": Expectation("InUse", "i-1")}, 60, cloud.policy(), cloud.describe)
    assert cloud.now >= 0.5


def test_stable_accepts_any_settled_status_and_poll_first_asks_at_once():
    cloud = Cloud({"eip-1": [(0, "Unassociating", "i-1"), (0.3, "Available", "")], "eip-2": [(0, "InUse", "i-2")]})
    latest = wait_for_eips(
        None, {"eip-1": STABLE, "eip-2": STABLE}, 60, cloud.policy(), cloud.describe, poll_first=True
    )
    assert latest["eip-1"]["status"] == "Available" and latest["eip-2"]["status"] == "InUse"
    assert cloud.sleeps[0:1] == [0.2] and cloud.describes[0] == ["eip-1", "eip-2"]


def test_released_expectation_and_vanished_eip():
    cloud = Cloud({"eip-1": [(0, "Releasing", ""), (0.2, None, "")]})
    assert wait_for_eips(None, {"eip-1": Expectation("Released")}, 60, cloud.policy(), cloud.describe) == {
        "eip-1": None
    }


@pytest.mark.parametrize(
    ("expectation", "eip", "met"),
    [
        (
            Expectation("InUse", "eni-1", "10.0.0.5"),
            {"status": "InUse", "instance_id": "eni-1", "private_ip_address": "10.0.0.5"},
            True,
        ),
        (
            Expectation("InUse", "eni-1", "10.0.0.5"),
            {"status": "InUse", "instance_id": "eni-1", "private_ip_address": "10.0.0.6"},
            False,
        ),
        (
            Expectation("InUse", "eni-1", "10.0.0.5"),
            {"status": "InUse", "instance_id": "eni-1", "private_ip_address": ""},
            True,
        ),
        (Expectation("Available"), {"status": "Available", "instance_id": "", "private_ip_address": ""}, True),
        (Expectation("Available"), None, False),
    ],
)
def test_expectation(expectation, eip, met):
    assert expectation.met(eip) is met
