"""ENI changes and the ENI waiter (plugins/module_utils/_api/ecs_eni.py): requests, answers, waiting."""

from __future__ import annotations

import pytest
from ansible_collections.alicloud.eip.plugins.module_utils._api import ecs_eni
from ansible_collections.alicloud.eip.plugins.module_utils._polling import WaitError, WaitPolicy
from ansible_collections.alicloud.eip.tests.unit.plugins.module_utils.api.recording import connection


def test_create_request_and_returned_id():
    conn = connection(lambda name, request: {"NetworkInterfaceId": "eni-new"})
    eni_id = ecs_eni.create_network_interface(
        conn,
        vswitch_id="vsw-1",
        security_group_ids=["sg-1"],
        name="web",
        private_ip_addresses=["10.0.0.6"],
        tags={"team": "web"},
    )
    name, request = conn.client.requests[0]
    assert eni_id == "eni-new"
    assert name == "create_network_interface_with_options"
    assert request.v_switch_id == "vsw-1"
    assert request.security_group_ids == ["sg-1"]
    assert request.private_ip_address == ["10.0.0.6"]
    assert request.secondary_private_ip_address_count is None
    assert [(tag.key, tag.value) for tag in request.tag] == [("team", "web")]
    assert request.client_token  # a mutating call carries a ClientToken


def test_assign_by_count_returns_the_addresses():
    def answer(name, request):
        return {"AssignedPrivateIpAddressesSet": {"PrivateIpSet": {"PrivateIpAddress": ["10.0.0.8", "10.0.0.9"]}}}

    conn = connection(answer)
    assert ecs_eni.assign_private_ip_addresses(conn, "eni-1", count=2) == ["10.0.0.8", "10.0.0.9"]
    request = conn.client.requests[0][1]
    assert request.secondary_private_ip_address_count == 2
    assert request.private_ip_address is None


def test_tag_requests_use_resource_type_eni():
    conn = connection(lambda name, request: {"RequestId": "r"})
    ecs_eni.tag_interfaces(conn, ["eni-1"], {"a": "1"})
    ecs_eni.untag_interfaces(conn, ["eni-1"], ["b"])
    (tag_name, tag_request), (untag_name, untag_request) = conn.client.requests
    assert (tag_name, tag_request.resource_type, tag_request.resource_id) == (
        "tag_resources_with_options",
        "eni",
        ["eni-1"],
    )
    assert untag_name == "untag_resources_with_options"
    assert untag_request.tag_key == ["b"]


def test_modify_sends_only_what_changes():
    conn = connection(lambda name, request: {"RequestId": "r"})
    ecs_eni.modify_network_interface_attribute(conn, "eni-1", security_group_ids=["sg-2"])
    request = conn.client.requests[0][1]
    assert request.security_group_id == ["sg-2"]
    assert request.network_interface_name is None
    assert request.description is None


# ---- waiter -----------------------------------------------------------------------------------------------


class Cloud:
    """ENIs whose status follows a timeline on a fake clock (None: gone); counts describe calls."""

    def __init__(self, timelines):
        self.now = 0.0
        self.sleeps = []
        self.timelines = timelines
        self.describes = []

    def sleep(self, seconds):
        self.sleeps.append(round(seconds, 4))
        self.now += seconds

    def describe(self, connection, eni_ids):
        self.describes.append(list(eni_ids))
        found = []
        for eni_id in eni_ids:
            status = next(status for start, status in reversed(self.timelines[eni_id]) if self.now >= start)
            if status is not None:
                found.append({"id": eni_id, "status": status})
        return found

    def policy(self):
        return WaitPolicy(sleep=self.sleep, clock=lambda: self.now)


def test_waits_with_one_batched_describe_and_growing_intervals():
    cloud = Cloud({"eni-1": [(0, "Attaching"), (0.6, "InUse")], "eni-2": [(0, "Detaching"), (0.3, "Available")]})
    latest = ecs_eni.wait_for_interfaces(
        None, {"eni-1": "InUse", "eni-2": "Available"}, 30, policy=cloud.policy(), describe=cloud.describe
    )
    assert latest["eni-1"]["status"] == "InUse"
    assert cloud.describes[0] == ["eni-1", "eni-2"]
    assert cloud.describes[-1] == ["eni-1"]
    assert cloud.sleeps == [0.2, 0.3, 0.45]


def test_waits_until_gone_and_for_any_stable_status():
    cloud = Cloud({"eni-1": [(0, "Deleting"), (0.4, None)], "eni-2": [(0, "Attaching"), (0.2, "Available")]})
    latest = ecs_eni.wait_for_interfaces(
        None, {"eni-1": ecs_eni.GONE, "eni-2": None}, 30, policy=cloud.policy(), describe=cloud.describe
    )
    assert latest["eni-1"] is None
    assert latest["eni-2"]["status"] == "Available"


def test_an_attach_that_falls_back_to_available_fails_at_once():
    cloud = Cloud({"eni-1": [(0, "Attaching"), (0.3, "Available")]})
    with pytest.raises(WaitError, match="attachment of eni-1 did not take"):
        ecs_eni.wait_for_interfaces(None, {"eni-1": "InUse"}, 30, policy=cloud.policy(), describe=cloud.describe)
    assert cloud.now < 1


def test_times_out_naming_the_last_status():
    cloud = Cloud({"eni-1": [(0, "Detaching")]})
    with pytest.raises(WaitError, match=r"eni-1 to be Available \(last seen: Detaching\)"):
        ecs_eni.wait_for_interfaces(None, {"eni-1": "Available"}, 2, policy=cloud.policy(), describe=cloud.describe)
    assert cloud.now == pytest.approx(2)
