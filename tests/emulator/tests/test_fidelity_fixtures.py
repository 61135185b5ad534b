"""The emulator against real answers: every fixture of tests/fidelity/fixtures (recorded by the real-cloud lane with
tests/fidelity/probe.py) is replayed against the emulator and must match (docs/fidelity.md, "Recording real answers").

The machinery itself is proven here on answers recorded from the emulator: the probes run through the real SDK, the
redactor leaves no ID, address, time or request ID, and the comparison notices a changed code, a missing field, a
changed type and a changed value.
"""

from __future__ import annotations

import glob
import json
import os

import pytest

from tests.emulator.tests.conftest import ACCESS_KEY_ID, ACCESS_KEY_SECRET, REGION
from tests.fidelity import probe

# ALICLOUD_EIP_FIDELITY_FIXTURES: fixtures a lane run just recorded (ALICLOUD_EIP_CLOUD_LANE_FIXTURES), to compare the
# emulator with them before they are reviewed and committed (docs/cloud-lane.md; tests/cloud-lane proves the failure).
FIXTURES = os.environ.get("ALICLOUD_EIP_FIDELITY_FIXTURES") or os.path.join(os.path.dirname(probe.__file__), "fixtures")
PROBES = {item["name"]: item for item in probe.PROBES}


@pytest.fixture
def emulated(server, control):
    """The probes' fixtures recorded from the emulator (base world: EIPs exist, no CLB by that ID)."""
    environ = {
        "ALIBABA_CLOUD_ACCESS_KEY_ID": ACCESS_KEY_ID,
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": ACCESS_KEY_SECRET,
        "ALIBABA_CLOUD_REGION_ID": REGION,
    }
    sdk_clients, region = probe.clients(server.endpoint, environ)
    return {fixture["probe"]: fixture for fixture in probe.record(sdk_clients, region)}


def test_every_probe_names_a_ledger_entry():
    ledger_path = os.path.join(os.path.dirname(probe.__file__), "..", "..", "docs", "fidelity.md")
    with open(ledger_path, encoding="utf-8") as handle:
        ledger = handle.read()
    for item in probe.PROBES:
        assert f"### `{item['fid']}`" in ledger, item["fid"]


def test_committed_real_fixtures_match_the_emulator(emulated):
    real = sorted(glob.glob(os.path.join(FIXTURES, "*.json")))
    differences = {}
    for path in real:
        with open(path, encoding="utf-8") as handle:
            fixture = json.load(handle)
        assert fixture["probe"] in emulated, f"{path}: no probe {fixture['probe']} in tests/fidelity/probe.py"
        found = probe.compare(fixture, emulated[fixture["probe"]])
        if found:
            differences[f"{fixture['probe']} [fid:{fixture['fid']}]"] = found
    assert differences == {}, (
        "the emulator differs from the real API (fix it, then settle the ledger entry): " + json.dumps(differences)
    )


def test_the_emulator_answers_every_probe_as_recorded(emulated):
    assert set(emulated) == set(PROBES)
    unknown_eip = emulated["describe-unknown-allocation-id"]
    assert unknown_eip["outcome"] == "answer" and unknown_eip["values"] == {"TotalCount": 0}
    assert emulated["describe-unknown-load-balancer"]["values"] == {"TotalCount": 0}
    one = emulated["describe-one-eip"]["shape"]["EipAddresses"]["EipAddress"][0]
    assert one["Bandwidth"] == "str" and one["AllocationId"] == "str"
    for fixture in emulated.values():
        assert probe.compare(fixture, json.loads(json.dumps(fixture))) == []


def test_the_fixtures_keep_no_identifier(emulated):
    text = json.dumps(emulated)
    for pattern in (probe._ID, probe._IPV4, probe._UUID, probe._TIME):  # pylint: disable=protected-access
        assert not pattern.search(text), pattern.pattern
    assert ACCESS_KEY_ID not in text and ACCESS_KEY_SECRET not in text


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("eip-bp1a2b3c4d5e6f7g8h9 on eni-bp1xxxxxxxx", "<eip-id> on <eni-id>"),
        ("47.96.10.20 and 10.1.0.5", "<ipv4> and <ipv4>"),
        ("at 2026-12-02T08:00:00Z", "at <time>"),
        ("RequestId 0C4A3E8E-7F6B-4B0F-9A7A-2F4D0A8B1C3D", "RequestId <request-id>"),
        ("acs:ram::1234567890123456:role/x", "acs:ram::<number>:role/x"),
        ({"AccessKeyId": "LTAI", "SecurityToken": "t", "Name": "i-abcdef123"}, {"Name": "<i-id>"}),
        ([1, True, None], [1, True, None]),
    ],
)
def test_redact(value, expected):
    assert probe.redact(value) == expected


def test_compare_notices_every_kind_of_difference(emulated):
    real = json.loads(json.dumps(emulated["describe-one-eip"]))
    real["shape"]["EipAddresses"]["EipAddress"][0]["Bandwidth"] = "number"
    real["shape"]["EipAddresses"]["EipAddress"][0]["NewField"] = "str"
    del real["shape"]["RequestId"]
    found = probe.compare(real, emulated["describe-one-eip"])
    assert found == [
        "body.EipAddresses.EipAddress[].Bandwidth: number in the real answer, str in the emulator's",
        "body.EipAddresses.EipAddress[].NewField: missing from the emulator's answer",
        "body.RequestId: not in the real answer",
    ]
    error = {"outcome": "error", "code": "InvalidLoadBalancerId.NotFound", "status": 404}
    assert probe.compare(error, emulated["describe-unknown-load-balancer"]) == [
        "outcome: error InvalidLoadBalancerId.NotFound in the real answer, answer  in the emulator's"
    ]
    assert probe.compare(error, error | {"code": "Other", "status": 400}) == [
        "code: 'InvalidLoadBalancerId.NotFound' in the real answer, 'Other' in the emulator's",
        "status: 404 in the real answer, 400 in the emulator's",
    ]
    changed = json.loads(json.dumps(emulated["describe-unknown-allocation-id"]))
    changed["values"]["TotalCount"] = 1
    assert probe.compare(changed, emulated["describe-unknown-allocation-id"]) == [
        "TotalCount: 1 in the real answer, 0 in the emulator's"
    ]


def test_the_command_writes_one_file_per_probe(server, control, tmp_path, monkeypatch):
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", ACCESS_KEY_ID)
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", ACCESS_KEY_SECRET)
    monkeypatch.setenv("ALIBABA_CLOUD_REGION_ID", REGION)
    assert probe.main(["--out", str(tmp_path), "--endpoint", server.endpoint]) == 0
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(f"{name}.json" for name in PROBES)
    monkeypatch.delenv("ALIBABA_CLOUD_REGION_ID")
    with pytest.raises(SystemExit, match="ALIBABA_CLOUD_REGION_ID"):
        probe.main(["--out", str(tmp_path)])


def test_an_error_answer_is_recorded_with_its_code_and_status(server, control):
    environ = {
        "ALIBABA_CLOUD_ACCESS_KEY_ID": ACCESS_KEY_ID,
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": ACCESS_KEY_SECRET,
        "ALIBABA_CLOUD_REGION_ID": REGION,
    }
    sdk_clients, region = probe.clients(server.endpoint, environ)
    refused = dict(probe.PROBES[0], name="describe-by-bad-charge-type", fields={"charge_type": "NoSuchCharge"})
    (fixture,) = probe.record(sdk_clients, region, [refused])
    assert fixture["outcome"] == "error"
    assert (fixture["code"], fixture["status"]) == ("InvalidChargeType.ValueNotSupported", 400)
    assert fixture["message"] and not probe._UUID.search(fixture["message"])  # pylint: disable=protected-access
