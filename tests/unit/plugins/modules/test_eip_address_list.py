"""eip_address's list form (option ``addresses``) end to end, on the in-memory cloud of the single form's tests."""

from __future__ import annotations

import pytest
from ansible_collections.alicloud.eip.plugins.module_utils._api.namespace import API
from ansible_collections.alicloud.eip.plugins.module_utils._retries import AlicloudApiError
from ansible_collections.alicloud.eip.plugins.modules import eip_address
# cloud is the fixture of the single form's tests (an account with eip-web, eip-held on i-1, a released address).
from ansible_collections.alicloud.eip.tests.unit.plugins.modules.test_eip_lifecycle_modules import (  # noqa: F401  pylint: disable=unused-import
    cloud,
    run,
)

FLEET = {"fleet": "web"}


def describes(cloud):
    return [call for call in cloud.calls if call[0] == "DescribeEipAddresses"]


def test_a_fleet_is_allocated_once_and_a_rerun_changes_nothing(monkeypatch, capsys, cloud):
    items = [{"name": f"web-{n}", "tags": {**FLEET, "slot": str(n)}, "bandwidth": 10} for n in range(3)]
    items.append({"allocation_id": "eip-web", "bandwidth": 20})
    args = {"addresses": items}
    check = run(monkeypatch, capsys, eip_address, args, check_mode=True, diff=True)
    assert cloud.mutating() == []
    first = run(monkeypatch, capsys, eip_address, args, diff=True)
    assert cloud.mutating() == ["AllocateEipAddress"] * 3 + ["ModifyEipAddressAttribute"]
    cloud.calls.clear()
    again = run(monkeypatch, capsys, eip_address, args)
    check_again = run(monkeypatch, capsys, eip_address, args, check_mode=True)
    assert (check["changed"], first["changed"], again["changed"], check_again["changed"]) == (True, True, False, False)
    assert cloud.mutating() == []
    # The three name items share the tag fleet=web: one describe finds them all, one more the ID (each run).
    assert (
        describes(cloud)
        == [
            ("DescribeEipAddresses", ("eip-web",)),
            ("DescribeEipAddresses", ("tags", (("fleet", "web"),))),
        ]
        * 2
    )
    assert [entry["actions"] for entry in check["addresses"]] == [entry["actions"] for entry in first["addresses"]]
    assert [entry["changed"] for entry in again["addresses"]] == [False] * 4
    assert all(entry["failed"] is False and "msg" not in entry for entry in first["addresses"])
    new_ids = [entry["eip"]["allocation_id"] for entry in first["addresses"][:3]]
    assert [entry["eip"]["allocation_id"] for entry in again["addresses"][:3]] == new_ids
    assert [entry["eip"]["name"] for entry in first["addresses"]] == ["web-0", "web-1", "web-2", "web"]
    # Diff: lists in request order; check mode's before is the real run's before.
    assert check["diff"]["before"] == first["diff"]["before"] == [{}, {}, {}, first["diff"]["before"][3]]
    assert first["diff"]["before"][3]["bandwidth"] == 5 and first["diff"]["after"][3]["bandwidth"] == 20
    assert [after["allocation_id"] for after in first["diff"]["after"][:3]] == new_ids
    assert [after["allocation_id"] for after in check["diff"]["after"][:3]] == ["", "", ""]


def test_the_allocations_are_waited_for_together(monkeypatch, capsys, cloud):
    items = [{"name": f"db-{n}", "tags": {"tier": "db"}} for n in range(2)]
    items[1] = {"name": "db-1"}  # no tag in common: the names are looked up one by one
    result = run(monkeypatch, capsys, eip_address, {"addresses": items})
    assert result["changed"] and cloud.mutating() == ["AllocateEipAddress"] * 2
    after_allocations = cloud.calls[[call[0] for call in cloud.calls].index("AllocateEipAddress") :]
    waits = [call for call in after_allocations if call[0] == "DescribeEipAddresses"]
    assert len(waits) == 1 and sorted(waits[0][1]) == ["eip-new0", "eip-new1"]  # one round, both IDs
    assert [entry["eip"]["status"] for entry in result["addresses"]] == ["Available", "Available"]


def test_one_failed_item_fails_the_task_and_reports_every_item(monkeypatch, capsys, cloud):
    items = [
        {"allocation_id": "eip-web", "description": "web tier"},
        {"ip_address": "47.0.0.9"},  # released: not held
        {"allocation_id": "eip-held", "state": "absent"},  # associated, no consent
    ]
    result = run(monkeypatch, capsys, eip_address, {"addresses": items})
    assert result["failed"] is True and result["changed"] is True
    assert result["msg"].startswith("2 of 3 EIPs failed: this account holds no EIP with ip_address 47.0.0.9")
    first, second, third = result["addresses"]
    assert (first["changed"], first["failed"], first["actions"]) == (True, False, ["ModifyEipAddressAttribute"])
    assert second["failed"] and "alicloud.eip.eip_recover" in second["msg"]
    assert third["failed"] and "release_associated=true" in third["msg"]
    assert third["error"]["code"] == "IncorrectEipStatus" and third["error"]["predicted"] is True
    assert cloud.mutating() == ["ModifyEipAddressAttribute"]
    assert cloud.eips["eip-web"]["description"] == "web tier"


def test_check_mode_predicts_the_same_item_failures(monkeypatch, capsys, cloud):
    items = [{"name": "new"}, {"allocation_id": "eip-held", "state": "absent"}]
    check = run(monkeypatch, capsys, eip_address, {"addresses": items}, check_mode=True)
    real = run(monkeypatch, capsys, eip_address, {"addresses": items})
    assert check["msg"] == real["msg"] and check["msg"].startswith("1 of 2 EIPs failed: ")
    assert [entry["failed"] for entry in check["addresses"]] == [entry["failed"] for entry in real["addresses"]]
    assert check["addresses"][1]["error"] == real["addresses"][1]["error"]
    assert cloud.mutating() == ["AllocateEipAddress"]


def test_an_api_error_of_one_item_carries_code_and_request_id(monkeypatch, capsys, cloud):
    cloud.fail["allocate"] = AlicloudApiError("QuotaExceeded.Eip", "quota", "R-9", 400, action="AllocateEipAddress")
    result = run(monkeypatch, capsys, eip_address, {"addresses": [{"name": "more"}, {"allocation_id": "eip-web"}]})
    assert result["failed"] and result["addresses"][0]["error"]["request_id"] == "R-9"
    assert result["error"]["code"] == "QuotaExceeded.Eip" and "quota is used up" in result["msg"]
    assert result["addresses"][1] == {**result["addresses"][1], "changed": False, "failed": False}


def test_releases_with_consent_disassociate_and_release(monkeypatch, capsys, cloud):
    items = [
        {"allocation_id": "eip-held", "state": "absent", "release_associated": True},
        {"allocation_id": "eip-web", "state": "absent"},
    ]
    result = run(monkeypatch, capsys, eip_address, {"addresses": items}, diff=True)
    assert result["changed"] and result["diff"]["after"] == [{}, {}]
    assert [entry["actions"] for entry in result["addresses"]] == [
        ["UnassociateEipAddress", "ReleaseEipAddress"],
        ["ReleaseEipAddress"],
    ]
    assert "eip-held" not in cloud.eips and "eip-web" not in cloud.eips
    again = run(monkeypatch, capsys, eip_address, {"addresses": items})
    assert again["changed"] is False and [entry["eip"] for entry in again["addresses"]] == [{}, {}]


@pytest.mark.parametrize(
    "args, message",
    [
        ({"addresses": [{"name": "ok"}, {"name": "n" * 129}]}, "addresses[1].name: 129 characters given"),
        ({"addresses": [{"name": "ok", "tags": {"a": {"b": 1}}}]}, "addresses[0].tags.a: the value is a dict"),
        ({"addresses": [{"allocation_id": "nope"}]}, "addresses[0].allocation_id: 'nope' is not an EIP allocation ID"),
        (
            {"addresses": [{"name": "a", "tags": {"x": "1"}}, {"name": "a", "tags": {"x": 1}}]},
            "addresses[1] names the same EIP (name 'a', tags {'x': '1'}) as addresses[0]",
        ),
        ({"addresses": [{"allocation_id": "eip-web"}, {"ip_address": "47.0.0.1"}]}, "addresses[1] finds the same EIP"),
        ({"addresses": [{"name": "a"}], "wait_timeout": 0}, "wait_timeout must be a positive number"),
        ({"addresses": [{"name": "a"}], "name": "b"}, "parameters are mutually exclusive: addresses|name"),
        ({"addresses": [{"description": "no key"}]}, "one of the following is required: allocation_id, ip_address"),
    ],
)
def test_bad_input_fails_the_task_before_any_change(monkeypatch, capsys, cloud, args, message):
    result = run(monkeypatch, capsys, eip_address, args)
    assert result["failed"] and message in result["msg"], result["msg"]
    assert cloud.mutating() == []
    assert "addresses" not in result  # nothing was converged


def test_a_warning_names_its_item(monkeypatch, capsys, cloud):
    items = [{"allocation_id": "eip-held"}, {"allocation_id": "eip-web", "internet_charge_type": "PayByBandwidth"}]
    result = run(monkeypatch, capsys, eip_address, {"addresses": items})
    assert result["changed"] is False
    texts = [warning if isinstance(warning, str) else str(warning) for warning in result["warnings"]]
    assert len(texts) == 1 and "addresses[1]: internet_charge_type=PayByBandwidth" in texts[0], texts


def test_an_item_found_in_a_transient_state_is_settled_first(monkeypatch, capsys, cloud):
    cloud.eips["eip-held"]["status"] = "Unassociating"

    def settle_on_describe(connection, **filters):
        answer = original(connection, **filters)
        if cloud.eips.get("eip-held", {}).get("status") == "Unassociating":  # settles right after it was seen
            cloud.eips["eip-held"].update(status="Available", instance_id="", instance_type="")
        return answer

    original = cloud.describe_eip_addresses
    monkeypatch.setattr(API, "describe_eip_addresses", settle_on_describe)
    result = run(monkeypatch, capsys, eip_address, {"addresses": [{"allocation_id": "eip-held", "state": "absent"}]})
    assert result["changed"] and result["addresses"][0]["actions"] == ["ReleaseEipAddress"]
    assert cloud.mutating() == ["ReleaseEipAddress"]  # settled Available: no disassociation, no refusal
