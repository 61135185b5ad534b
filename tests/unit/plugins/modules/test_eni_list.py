"""eni's list form (option ``interfaces``) end to end, on a small stateful cloud behind the module's API names."""

from __future__ import annotations

import json
import threading

import pytest
from ansible.module_utils import basic
from ansible.module_utils.common.text.converters import to_bytes
from ansible_collections.alicloud.eip.plugins.module_utils._retries import AlicloudApiError
from ansible_collections.alicloud.eip.plugins.modules import eni as eni_module
from ansible_collections.alicloud.eip.tests.unit.plugins.module_utils.test_eni import eni as eni_record

CREDENTIALS = {"access_key_id": "ak", "access_key_secret": "secret-value", "region": "cn-hangzhou"}
VSWITCH = {"id": "vsw-1", "vpc_id": "vpc-1", "cidr_block": "10.0.0.0/16", "zone_id": "z-1"}
GROUP = {"id": "sg-1", "vpc_id": "vpc-1"}
INSTANCES = {"i-1": {"id": "i-1", "status": "Running", "vpc_id": "vpc-1", "zone_id": "z-1", "eni_ids": []}}


class EniCloud:
    """ENIs by ID; creates, changes and deletes take effect at once; every call is recorded."""

    def __init__(self, *interfaces):
        self.interfaces = {interface["id"]: dict(interface) for interface in interfaces}
        self.calls = []
        self.fail = {}
        self.lock = threading.Lock()
        self.created = 0

    def install(self, monkeypatch):
        for name in (
            "describe_interfaces",
            "describe_vswitches",
            "describe_security_groups",
            "describe_instances",
            "describe_eip_addresses",
            "create_network_interface",
            "modify_network_interface_attribute",
            "tag_interfaces",
            "untag_interfaces",
            "attach_network_interface",
            "delete_network_interface",
            "wait_for_interfaces",
        ):
            monkeypatch.setattr(eni_module, name, getattr(self, name))

    def record(self, name, *args):
        with self.lock:
            self.calls.append((name, *args))
        if name in self.fail:
            raise self.fail[name]

    def mutating(self):
        return sorted(call[0] for call in self.calls if not call[0].startswith(("describe", "wait")))

    def describe_interfaces(self, connection, eni_ids=None, name=None, vswitch_id=None, **_filters):
        self.record("describe_interfaces", tuple(eni_ids or ()), name)
        return [
            dict(interface)
            for interface in self.interfaces.values()
            if (eni_ids is None or interface["id"] in eni_ids)
            and name in (None, interface["name"])
            and vswitch_id in (None, interface["vswitch_id"])
        ]

    def describe_vswitches(self, connection, ids):
        self.record("describe_vswitches")
        return [VSWITCH for vswitch_id in ids if vswitch_id == "vsw-1"]

    def describe_security_groups(self, connection, ids):
        self.record("describe_security_groups")
        return [GROUP for group_id in ids if group_id == "sg-1"]

    def describe_instances(self, connection, ids):
        self.record("describe_instances")
        return [INSTANCES[instance_id] for instance_id in ids if instance_id in INSTANCES]

    def describe_eip_addresses(self, connection, **_filters):
        self.record("describe_eip_addresses")
        return []

    def create_network_interface(self, connection, **fields):
        self.record("create_network_interface", fields.get("name"))
        with self.lock:
            self.created += 1
            eni_id = f"eni-new{self.created}"
        self.interfaces[eni_id] = eni_record(
            id=eni_id,
            name=fields.get("name") or "",
            description=fields.get("description") or "",
            tags=dict(fields.get("tags") or {}),
            private_ip_addresses=[f"10.0.9.{self.created}"],
            primary_ip_address=f"10.0.9.{self.created}",
            secondary_private_ip_addresses=[],
        )
        return eni_id

    def modify_network_interface_attribute(self, connection, eni_id, **fields):
        self.record("modify_network_interface_attribute", eni_id)
        self.interfaces[eni_id].update(fields)

    def tag_interfaces(self, connection, eni_ids, tags):
        self.record("tag_interfaces", tuple(eni_ids))
        for eni_id in eni_ids:
            self.interfaces[eni_id]["tags"].update(tags)

    def untag_interfaces(self, connection, eni_ids, keys):
        self.record("untag_interfaces", tuple(eni_ids))
        for eni_id in eni_ids:
            for key in keys:
                self.interfaces[eni_id]["tags"].pop(key, None)

    def attach_network_interface(self, connection, eni_id, instance_id):
        self.record("attach_network_interface", eni_id)
        self.interfaces[eni_id].update(instance_id=instance_id, status="InUse")

    def delete_network_interface(self, connection, eni_id):
        self.record("delete_network_interface", eni_id)
        del self.interfaces[eni_id]

    def wait_for_interfaces(self, connection, expectations, timeout, poll_first=False):
        self.record("wait_for_interfaces", tuple(expectations))
        return {eni_id: self.interfaces.get(eni_id) for eni_id in expectations}


def run(monkeypatch, capsys, args, check_mode=False, diff=False):
    arguments = {**CREDENTIALS, **args, "_ansible_check_mode": check_mode, "_ansible_diff": diff}
    monkeypatch.setattr(basic, "_ANSIBLE_ARGS", to_bytes(json.dumps({"ANSIBLE_MODULE_ARGS": arguments})))
    monkeypatch.setattr(basic, "_ANSIBLE_PROFILE", "legacy", raising=False)
    with pytest.raises(SystemExit):
        eni_module.main()
    return json.loads(capsys.readouterr().out)


@pytest.fixture
def cloud(monkeypatch):
    fake = EniCloud(
        eni_record(id="eni-1", name="web-1", tags={"team": "web"}, secondary_private_ip_addresses=[]),
        eni_record(id="eni-2", name="web-2", tags={"team": "web"}, secondary_private_ip_addresses=[]),
    )
    fake.install(monkeypatch)
    return fake


NEW = {"vswitch_id": "vsw-1", "security_group_ids": ["sg-1"], "tags": {"team": "db"}}


def test_a_fleet_converges_in_one_task_and_a_rerun_changes_nothing(monkeypatch, capsys, cloud):
    items = [
        {"name": "db-1", **NEW},
        {"name": "db-2", **NEW, "instance_id": "i-1"},
        {"network_interface_id": "eni-1", "description": "web one"},
        {"eni_id": "eni-2", "tags": {"team": "web"}},  # the alias works in an item too
    ]
    check = run(monkeypatch, capsys, {"interfaces": items}, check_mode=True, diff=True)
    assert cloud.mutating() == []
    real = run(monkeypatch, capsys, {"interfaces": items}, diff=True)
    assert cloud.mutating() == [
        "attach_network_interface",
        "create_network_interface",
        "create_network_interface",
        "modify_network_interface_attribute",
    ]
    cloud.calls.clear()
    again = run(monkeypatch, capsys, {"interfaces": items})
    check_again = run(monkeypatch, capsys, {"interfaces": items}, check_mode=True)
    assert (check["changed"], real["changed"], again["changed"], check_again["changed"]) == (True, True, False, False)
    assert cloud.mutating() == []
    # Per run one describe of the two IDs and one listing of vsw-1 for the two names, not one per item.
    assert sorted(call[1:] for call in cloud.calls if call[0] == "describe_interfaces") == [
        ((), None),
        ((), None),
        (("eni-1", "eni-2"), None),
        (("eni-1", "eni-2"), None),
    ]
    assert [entry["actions"] for entry in check["interfaces"]] == [entry["actions"] for entry in real["interfaces"]]
    assert [entry["actions"] for entry in real["interfaces"]] == [["create"], ["create", "attach"], ["modify"], []]
    assert [entry["changed"] for entry in real["interfaces"]] == [True, True, True, False]
    assert [entry["interface"]["name"] for entry in again["interfaces"]] == ["db-1", "db-2", "web-1", "web-2"]
    assert again["interfaces"][1]["interface"]["instance_id"] == "i-1"
    assert check["diff"]["before"] == real["diff"]["before"]
    assert real["diff"]["before"][:2] == [{}, {}] and real["diff"]["after"][2]["description"] == "web one"
    assert len(real["diff"]["after"]) == 4


def test_one_failed_item_fails_the_task_and_reports_every_item(monkeypatch, capsys, cloud):
    cloud.fail["create_network_interface"] = AlicloudApiError(
        "InvalidVSwitchId.IpNotEnough", "no address", "R-7", 400, action="CreateNetworkInterface"
    )
    items = [
        {"network_interface_id": "eni-1", "description": "web one"},
        {"name": "db-1", **NEW},
        {"network_interface_id": "eni-404", "description": "gone"},
    ]
    result = run(monkeypatch, capsys, {"interfaces": items})
    assert result["failed"] and result["changed"] is True
    assert result["msg"].startswith("2 of 3 ENIs failed: ENI (new): a call failed (CreateNetworkInterface): ")
    first, second, third = result["interfaces"]
    assert (first["changed"], first["failed"], first["interface"]["description"]) == (True, False, "web one")
    assert second["failed"] and second["error"]["request_id"] == "R-7" and second["actions"] == ["create"]
    assert third["failed"] and "no such ENI in this region" in third["msg"] and "error" not in third
    assert result["error"]["code"] == "InvalidVSwitchId.IpNotEnough"
    check = run(monkeypatch, capsys, {"interfaces": items}, check_mode=True)
    # Check mode cannot foresee the API's IpNotEnough; it predicts the missing ENI as the real run found it.
    assert [entry["failed"] for entry in check["interfaces"]] == [False, False, True]
    assert check["interfaces"][2]["msg"] == third["msg"]


@pytest.mark.parametrize(
    "args, message",
    [
        ({"interfaces": [{"name": "ok", **NEW}, {"name": "x", **NEW}]}, "interfaces[1].name: 1 characters given"),
        (
            {"interfaces": [{"network_interface_id": "eni-1", "attached": True}]},
            "interfaces[0].attached=true needs instance_id",
        ),
        (
            {"interfaces": [{"network_interface_id": "eni-1"}, {"eni_id": "eni-1", "description": "two"}]},
            "interfaces[1] names the same ENI (eni-1) as interfaces[0]",
        ),
        (
            {"interfaces": [{"name": "db", **NEW}, {"name": "db", **NEW}]},
            "interfaces[1] names the same ENI (name 'db' in vsw-1) as interfaces[0]",
        ),
        ({"interfaces": [{"name": "db-1", **NEW}], "wait_timeout": 0}, "wait_timeout must be a positive number"),
        ({"interfaces": [{"name": "db-1"}], "description": "top"}, "mutually exclusive: interfaces|description"),
        ({"interfaces": [{"description": "no key"}]}, "one of the following is required: network_interface_id, name"),
        (
            {
                "interfaces": [
                    {"name": "db", "secondary_private_ip_addresses": [], "secondary_private_ip_address_count": 1}
                ]
            },
            "mutually exclusive: secondary_private_ip_addresses|secondary_private_ip_address_count",
        ),
    ],
)
def test_bad_input_fails_the_task_before_any_call(monkeypatch, capsys, cloud, args, message):
    result = run(monkeypatch, capsys, args)
    assert result["failed"] and message in result["msg"], result["msg"]
    assert cloud.calls == [] and "interfaces" not in result


def test_items_converge_concurrently(monkeypatch, capsys, cloud):
    barrier = threading.Barrier(2, timeout=5)
    describe = cloud.describe_interfaces

    def describe_together(connection, **filters):
        barrier.wait()  # both items' first lookups must be in flight at the same time
        return describe(connection, **filters)

    monkeypatch.setattr(eni_module, "describe_interfaces", describe_together)
    items = [{"name": "web-1"}, {"name": "web-2"}]  # names without a vSwitch: each item describes its own key
    result = run(monkeypatch, capsys, {"interfaces": items})
    assert result["changed"] is False and [entry["failed"] for entry in result["interfaces"]] == [False, False]


def test_the_single_form_fails_as_before(monkeypatch, capsys, cloud):
    result = run(monkeypatch, capsys, {"network_interface_id": "eni-404"})
    assert result["failed"] and result["changed"] is False and "interfaces" not in result
    assert result["msg"].startswith("network_interface_id='eni-404': no such ENI in this region")
    cloud.fail["create_network_interface"] = AlicloudApiError("X.Y", "no", "R-1", 400, action="CreateNetworkInterface")
    failed = run(monkeypatch, capsys, {"name": "db-9", **NEW})
    assert failed["msg"] == "ENI (new): a call failed (CreateNetworkInterface): X.Y: no (HTTP 400, request id R-1)"
    assert failed["error"]["code"] == "X.Y" and failed["actions"] == ["create"] and failed["changed"] is True


@pytest.mark.parametrize(
    "items, message",
    [
        (
            [{"network_interface_id": "eni-1", "description": "one"}, {"name": "web-1", "description": "two"}],
            "interfaces[1] (ENI (name 'web-1')) and interfaces[0] (ENI (eni-1)) both find eni-1",
        ),
        (
            [{"name": "web-1", "vswitch_id": "vsw-1"}, {"name": "web-1", "description": "two"}],
            "interfaces[1] (ENI (name 'web-1')) and interfaces[0] (ENI (name 'web-1' in vsw-1)) both find eni-1",
        ),
    ],
)
def test_two_keys_that_find_the_same_eni_are_refused_before_any_change(monkeypatch, capsys, cloud, items, message):
    for check_mode in (True, False):
        result = run(monkeypatch, capsys, {"interfaces": items}, check_mode=check_mode)
        assert result["failed"] and result["changed"] is False and message in result["msg"], result["msg"]
        assert "interfaces" not in result
    assert cloud.mutating() == []


def test_keys_that_could_collide_but_do_not_are_described_once(monkeypatch, capsys, cloud):
    items = [{"network_interface_id": "eni-1", "description": "one"}, {"name": "web-2", "description": "two"}]
    result = run(monkeypatch, capsys, {"interfaces": items})
    assert result["changed"] is True and [entry["failed"] for entry in result["interfaces"]] == [False, False]
    # The name was described up front (to compare what the keys find) and not again by its item; the ID once
    # before any change (each modified ENI is read again afterwards, as in the single form).
    describes = [call[1:] for call in cloud.calls if call[0] == "describe_interfaces"]
    assert describes.count(((), "web-2")) == 1 and describes[:2] == [(("eni-1",), None), ((), "web-2")]
    assert sorted(call[1] for call in cloud.calls if call[0] == "modify_network_interface_attribute") == [
        "eni-1",
        "eni-2",
    ]
