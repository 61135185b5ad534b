"""snat_entry and nat_gateway_info end to end, on an in-memory NAT gateway behind the vpc_network functions."""

from __future__ import annotations

import json

import pytest
from ansible.module_utils import basic
from ansible.module_utils.common.text.converters import to_bytes
from ansible_collections.alicloud.eip.plugins.module_utils import _snat
from ansible_collections.alicloud.eip.plugins.module_utils._retries import AlicloudApiError
from ansible_collections.alicloud.eip.plugins.module_utils._polling import WaitPolicy
from ansible_collections.alicloud.eip.plugins.modules import nat_gateway_info, snat_entry

CREDENTIALS = {"access_key_id": "ak", "access_key_secret": "secret-value", "region": "cn-hangzhou"}
MUTATING = ("create", "modify", "delete")


class FakeNat:
    """One gateway with three EIPs and a SNAT table; entries go Pending -> Available one fake second later."""

    def __init__(self):
        self.now = 0.0
        self.calls = []
        self.entries = {}
        self.sequence = 0
        self.refuse = None  # an AlicloudApiError the next mutating call raises
        self.havips = {}  # vSwitch ID -> HaVip IDs in it
        self.vswitches = {"vsw-app": "vpc-1", "vsw-ngw": "vpc-1", "vsw-other": "vpc-2"}  # vSwitch ID -> its VPC
        self.gateway = {
            "id": "ngw-1",
            "vpc_id": "vpc-1",
            "vswitch_id": "vsw-ngw",
            "snat_table_ids": ["stb-1"],
            "eips": [
                {"allocation_id": f"eip-{n}", "ip_address": f"47.0.0.{n}", "using_status": "Idle"} for n in (1, 2, 3)
            ],
            "eip_count": 3,
            "eip_limit": 20,
            "consumes_vswitch_ip": True,
            "vswitch_free_ips": None,
        }

    # time, for the waiter
    def sleep(self, seconds):
        self.now += seconds

    def clock(self):
        return self.now

    def _record(self, entry_id):
        entry = dict(self.entries[entry_id])
        due = entry.pop("due")
        if entry["status"] == "Pending" and self.now >= due:
            self.entries[entry_id]["status"] = entry["status"] = "Available"
        return entry

    # vpc_network stand-ins
    def describe_nat_gateways(self, connection, nat_gateway_ids=None, vpc_id=None, name=None):
        self.calls.append(("describe_gateways", list(nat_gateway_ids or []), vpc_id, name))
        if nat_gateway_ids is not None and self.gateway["id"] not in nat_gateway_ids:
            return []
        return [dict(self.gateway)]

    def describe_snat_entries(self, connection, snat_table_id):
        self.calls.append(("describe_entries", snat_table_id))
        return [self._record(entry_id) for entry_id in sorted(self.entries)]

    def describe_vswitch_free_ips(self, connection, vpc_ids):
        self.calls.append(("describe_vswitches", list(vpc_ids)))
        return {"vsw-ngw": 7}

    def describe_vswitches(self, connection, vswitch_ids):
        self.calls.append(("describe_vswitch", list(vswitch_ids)))
        return [{"id": item, "vpc_id": self.vswitches[item]} for item in vswitch_ids if item in self.vswitches]

    def havips_by_vswitch(self, connection, vswitch_ids):
        self.calls.append(("describe_havips", list(vswitch_ids)))
        return {vswitch_id: list(self.havips.get(vswitch_id, [])) for vswitch_id in vswitch_ids}

    def _mutate(self, name, kwargs):
        self.calls.append((name, kwargs))
        if self.refuse is not None:
            raise self.refuse

    def create_snat_entry(self, connection, **kwargs):
        self._mutate("create", kwargs)
        self.sequence += 1
        entry_id = f"snat-{self.sequence}"
        self.add(
            entry_id,
            kwargs.get("source_vswitch_id") or "",
            kwargs.get("source_cidr") or "10.9.9.0/24",
            kwargs["snat_ips"],
            kwargs.get("name") or "",
            "Pending",
        )
        return entry_id

    def modify_snat_entry(self, connection, **kwargs):
        self._mutate("modify", kwargs)
        entry = self.entries[kwargs["snat_entry_id"]]
        if kwargs.get("snat_ips"):
            entry["snat_ips"] = list(kwargs["snat_ips"])
        if kwargs.get("name"):
            entry["name"] = kwargs["name"]
        entry.update(status="Pending", due=self.now + 1)
        return "request"

    def delete_snat_entry(self, connection, **kwargs):
        self._mutate("delete", kwargs)
        del self.entries[kwargs["snat_entry_id"]]
        return "request"

    def add(self, entry_id, vswitch, cidr, ips, name="", status="Available"):
        self.entries[entry_id] = {
            "id": entry_id,
            "snat_table_id": "stb-1",
            "nat_gateway_id": "ngw-1",
            "source_vswitch_id": vswitch,
            "source_cidr": cidr,
            "network_interface_id": "",
            "snat_ips": list(ips),
            "name": name,
            "eip_affinity": False,
            "status": status,
            "due": self.now + 1,
        }

    def mutations(self):
        return [call for call in self.calls if call[0] in MUTATING]


@pytest.fixture
def cloud(monkeypatch):
    fake = FakeNat()
    for name in (
        "describe_nat_gateways",
        "describe_snat_entries",
        "create_snat_entry",
        "modify_snat_entry",
        "delete_snat_entry",
        "havips_by_vswitch",
        "describe_vswitches",
    ):
        monkeypatch.setattr(snat_entry, name, getattr(fake, name))
    for name in ("describe_nat_gateways", "describe_snat_entries", "describe_vswitch_free_ips"):
        monkeypatch.setattr(nat_gateway_info, name, getattr(fake, name))
    # The waiter's clock and sleep are the fake's: no real sleeping.
    monkeypatch.setattr(_snat, "WaitPolicy", lambda: WaitPolicy(sleep=fake.sleep, clock=fake.clock))
    return fake


def run(monkeypatch, capsys, module, args, check_mode=False, diff=False):
    """Run a module's main() with ``args``; returns its JSON result."""
    arguments = {**CREDENTIALS, **args, "_ansible_check_mode": check_mode, "_ansible_diff": diff}
    monkeypatch.setattr(basic, "_ANSIBLE_ARGS", to_bytes(json.dumps({"ANSIBLE_MODULE_ARGS": arguments})))
    monkeypatch.setattr(basic, "_ANSIBLE_PROFILE", "legacy", raising=False)
    with pytest.raises(SystemExit):
        module.main()
    return json.loads(capsys.readouterr().out)


VSWITCH = {"nat_gateway_id": "ngw-1", "source_vswitch_id": "vsw-app"}


def test_create_ladder(monkeypatch, capsys, cloud):
    args = {**VSWITCH, "snat_ips": ["47.0.0.2", "47.0.0.1"], "name": "app"}
    check = run(monkeypatch, capsys, snat_entry, args, check_mode=True, diff=True)
    assert check["changed"] and cloud.mutations() == []
    assert check["snat_entry"]["id"] == "" and check["snat_entry"]["snat_ips"] == ["47.0.0.2", "47.0.0.1"]
    assert check["diff"] == {
        "before": {"snat_entry": {}},
        "after": {
            "snat_entry": {
                "source_vswitch_id": "vsw-app",
                "source_cidr": "",
                "snat_ips": ["47.0.0.1", "47.0.0.2"],
                "name": "app",
            }
        },
    }
    real = run(monkeypatch, capsys, snat_entry, args, diff=True)
    assert real["changed"] and real["diff"] == check["diff"]
    assert cloud.mutations() == [
        (
            "create",
            {
                "snat_table_id": "stb-1",
                "snat_ips": ["47.0.0.2", "47.0.0.1"],
                "source_vswitch_id": "vsw-app",
                "source_cidr": None,
                "name": "app",
            },
        )
    ]
    assert (real["snat_entry"]["id"], real["snat_entry"]["status"]) == ("snat-1", "Available")
    cloud.calls.clear()
    again = run(monkeypatch, capsys, snat_entry, {**args, "snat_ips": ["47.0.0.1", "47.0.0.2"]})
    assert not again["changed"] and cloud.mutations() == []
    assert again["snat_entry"] == real["snat_entry"]


@pytest.mark.parametrize("check_mode", [True, False])
def test_a_source_vswitch_holding_a_havip_is_refused_before_the_create_call(monkeypatch, capsys, cloud, check_mode):
    cloud.havips = {"vsw-app": ["havip-1"]}
    result = run(monkeypatch, capsys, snat_entry, {**VSWITCH, "snat_ips": ["47.0.0.1"]}, check_mode=check_mode)
    assert result["failed"] and not result["changed"] and cloud.mutations() == []
    assert "vSwitch vsw-app holds HaVip havip-1" in result["msg"]
    assert "(Forbidden.SourceVSwitchId.IncludeHaVip)" in result["msg"]
    assert result["error"]["code"] == "Forbidden.SourceVSwitchId.IncludeHaVip" and result["error"]["predicted"]
    assert ("describe_havips", ["vsw-app"]) in cloud.calls


def test_havips_are_read_only_for_a_vswitch_entry_still_to_be_created(monkeypatch, capsys, cloud):
    cloud.havips = {"vsw-app": ["havip-1"]}
    cloud.add("snat-app", "vsw-app", "10.1.0.0/24", ["47.0.0.1"])
    result = run(monkeypatch, capsys, snat_entry, {**VSWITCH, "snat_ips": ["47.0.0.2"]})
    assert result["changed"] and [call[0] for call in cloud.mutations()] == ["modify"]
    cidr = run(
        monkeypatch,
        capsys,
        snat_entry,
        {"nat_gateway_id": "ngw-1", "source_cidr": "10.1.0.5/32", "snat_ips": ["47.0.0.1"]},
    )
    assert cidr["changed"]
    assert not [call for call in cloud.calls if call[0] in ("describe_havips", "describe_vswitch")]


@pytest.mark.parametrize("check_mode", [True, False])
@pytest.mark.parametrize(
    ("vswitch_id", "expected"),
    [
        (
            "vsw-nope",
            "source_vswitch_id: there is no vSwitch vsw-nope in this region (InvalidVSwitchId.NotFound); give a vSwitch "
            "of the NAT gateway's VPC vpc-1, or the hosts' addresses as source_cidr",
        ),
        (
            "vsw-other",
            "source_vswitch_id: vSwitch vsw-other is in VPC vpc-2, and NAT gateway ngw-1 serves only VPC vpc-1, so the "
            "API would refuse the entry (InvalidVSwitchId.NotFound); give a vSwitch of VPC vpc-1",
        ),
    ],
)
def test_an_unknown_source_vswitch_or_one_of_another_vpc_is_refused_before_the_create_call(
    monkeypatch, capsys, cloud, check_mode, vswitch_id, expected
):
    args = {"nat_gateway_id": "ngw-1", "source_vswitch_id": vswitch_id, "snat_ips": ["47.0.0.1"]}
    result = run(monkeypatch, capsys, snat_entry, args, check_mode=check_mode)
    assert result["failed"] and not result["changed"] and cloud.mutations() == []
    assert result["msg"] == expected
    assert result["error"] == {"code": "InvalidVSwitchId.NotFound", "message": expected, "request_id": None,
                               "predicted": True}
    assert ("describe_vswitch", [vswitch_id]) in cloud.calls


def test_a_new_vswitch_entry_reads_the_vswitch_and_its_havips_once_each(monkeypatch, capsys, cloud):
    result = run(monkeypatch, capsys, snat_entry, {**VSWITCH, "snat_ips": ["47.0.0.1"]})
    assert result["changed"]
    reads = [call[0] for call in cloud.calls if call[0] not in MUTATING]
    assert reads.count("describe_vswitch") == 1 and reads.count("describe_havips") == 1


def test_modify_sends_the_new_set_only(monkeypatch, capsys, cloud):
    cloud.add("snat-app", "vsw-app", "10.1.0.0/24", ["47.0.0.1"], name="app")
    result = run(monkeypatch, capsys, snat_entry, {**VSWITCH, "snat_ips": ["47.0.0.3"]})
    assert result["changed"]
    assert cloud.mutations() == [
        ("modify", {"snat_table_id": "stb-1", "snat_entry_id": "snat-app", "snat_ips": ["47.0.0.3"], "name": None})
    ]
    assert (result["snat_entry"]["snat_ips"], result["snat_entry"]["name"], result["snat_entry"]["status"]) == (
        ["47.0.0.3"],
        "app",
        "Available",
    )


def test_a_pending_entry_is_waited_for_before_deciding(monkeypatch, capsys, cloud):
    cloud.add("snat-app", "vsw-app", "10.1.0.0/24", ["47.0.0.1"], status="Pending")
    result = run(monkeypatch, capsys, snat_entry, {**VSWITCH, "snat_ips": ["47.0.0.1"]}, check_mode=True)
    assert not result["changed"] and cloud.now >= 1
    assert result["snat_entry"]["status"] == "Available"


def test_delete_and_absent_again(monkeypatch, capsys, cloud):
    cloud.add("snat-one", "", "10.1.0.5/32", ["47.0.0.1"])
    args = {"nat_gateway_id": "ngw-1", "source_cidr": "10.1.0.5", "state": "absent"}
    result = run(monkeypatch, capsys, snat_entry, args)
    assert result["changed"] and result["snat_entry"] == {}
    assert cloud.mutations() == [("delete", {"snat_table_id": "stb-1", "snat_entry_id": "snat-one"})]
    assert not run(monkeypatch, capsys, snat_entry, args)["changed"]


def test_a_snat_ip_off_the_gateway_is_refused_before_any_call(monkeypatch, capsys, cloud):
    args = {**VSWITCH, "snat_ips": ["47.0.0.9"]}
    check = run(monkeypatch, capsys, snat_entry, args, check_mode=True)
    real = run(monkeypatch, capsys, snat_entry, args)
    assert check["failed"] and real["failed"] and check["msg"] == real["msg"]
    assert real["msg"].startswith("SNAT IP 47.0.0.9 is not an EIP associated with NAT gateway ngw-1")
    assert real["error"] == {
        "code": "InvalidSnatIp.NotFound",
        "message": real["msg"],
        "request_id": None,
        "predicted": True,
    }
    assert cloud.mutations() == []


def test_check_mode_can_assume_addresses_an_earlier_task_only_predicted(monkeypatch, capsys, cloud):
    args = {**VSWITCH, "snat_ips": ["47.0.0.9"], "check_mode_associated_ips": ["47.0.0.9"]}
    check = run(monkeypatch, capsys, snat_entry, args, check_mode=True)
    assert check["changed"] and not check.get("failed") and check["snat_entry"]["snat_ips"] == ["47.0.0.9"]
    # Outside check mode the gateway's own list decides.
    real = run(monkeypatch, capsys, snat_entry, args)
    assert real["failed"] and real["msg"].startswith("SNAT IP 47.0.0.9 is not an EIP associated with NAT gateway ngw-1")
    assert cloud.mutations() == []


def test_a_refused_create_reports_the_cloud_answer_and_no_change(monkeypatch, capsys, cloud):
    cloud.refuse = AlicloudApiError(
        "Forbidden.SourceVSwitchId.IncludeHaVip",
        "has an HaVip",
        request_id="req-9",
        status_code=400,
        action="CreateSnatEntry",
    )
    result = run(monkeypatch, capsys, snat_entry, {**VSWITCH, "snat_ips": ["47.0.0.1"]})
    assert result["failed"] and result["changed"] is False
    assert result["msg"] == (
        "could not create the SNAT entry of vSwitch vsw-app on ngw-1: Forbidden.SourceVSwitchId.IncludeHaVip: "
        "has an HaVip (HTTP 400, request id req-9)"
    )
    assert result["error"]["request_id"] == "req-9"


@pytest.mark.parametrize(
    "args,message",
    [
        (
            {**VSWITCH, "source_cidr": "10.0.0.0/8", "snat_ips": ["47.0.0.1"]},
            "parameters are mutually exclusive: source_vswitch_id|source_cidr",
        ),
        (
            {"nat_gateway_id": "ngw-1", "snat_ips": ["47.0.0.1"]},
            "one of the following is required: source_vswitch_id, source_cidr",
        ),
        ({**VSWITCH}, "state is present but all of the following are missing: snat_ips"),
        (
            {**VSWITCH, "snat_ips": ["47.0.0.1"], "nat_gateway_id": "ngw-none"},
            "NAT gateway ngw-none not found in region cn-hangzhou",
        ),
        ({**VSWITCH, "snat_ips": ["47.0.0.1"], "wait_timeout": 0}, "wait_timeout must be a positive number of seconds"),
    ],
)
def test_refusals(monkeypatch, capsys, cloud, args, message):
    result = run(monkeypatch, capsys, snat_entry, args)
    assert result["failed"] and message in result["msg"]
    assert cloud.mutations() == []


def test_nat_gateway_info(monkeypatch, capsys, cloud):
    cloud.add("snat-app", "vsw-app", "10.1.0.0/24", ["47.0.0.1"])
    result = run(monkeypatch, capsys, nat_gateway_info, {"vpc_id": "vpc-1", "snat_entries": True}, check_mode=True)
    assert result["changed"] is False
    (gateway,) = result["nat_gateways"]
    assert gateway["vswitch_free_ips"] == 7
    assert [entry["id"] for entry in gateway["snat_entries"]] == ["snat-app"]
    assert ("describe_vswitches", ["vpc-1"]) in cloud.calls
    plain = run(monkeypatch, capsys, nat_gateway_info, {"nat_gateway_ids": ["ngw-1"]})
    assert "snat_entries" not in plain["nat_gateways"][0]
    cloud.calls.clear()
    assert run(monkeypatch, capsys, nat_gateway_info, {"nat_gateway_ids": []})["nat_gateways"] == []
    assert cloud.calls == []
