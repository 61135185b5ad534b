# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Lost answers on every mutating action, end to end (issue 9 item 7).

Each case runs a module's ``main()`` in this process (the real SDK, the real wrappers and engines) against the
emulator, with the ``drop_after`` fault on one mutating action: the emulator makes the change and then closes
the connection without the answer.  The module must report success, the state must be the one asked for, and
nothing may exist twice.  Actions with a ClientToken are answered from the first call on the retry; the others
meet a state error on the retry ("is InUse", "not found") and the wrapper's verify function re-reads the state.

Also: every mutating wrapper either sends a ClientToken or has a verify function.
"""

from __future__ import annotations

import importlib
import inspect
import json

import pytest
from ansible.module_utils import basic
from ansible.module_utils.common.text.converters import to_bytes
from ansible_collections.alicloud.eip.plugins.module_utils import _client, _retries
from ansible_collections.alicloud.eip.plugins.module_utils._api import ecs_eni, vpc_eip
from ansible_collections.alicloud.eip.plugins.module_utils._api.namespace import PRODUCT_MODULES

ACCESS_KEY_ID = "LTAI-lost-answers"
ACCESS_KEY_SECRET = "lost-answers-secret"
REGION = "cn-hangzhou"

WORLD = {
    "access_keys": [{"id": ACCESS_KEY_ID, "secret": ACCESS_KEY_SECRET}],
    "regions": {
        REGION: {
            "zones": ["cn-hangzhou-h", "cn-hangzhou-i"],
            "eip_pool": {"cidr": "47.96.0.0/26", "count": 40},
            "vpcs": [
                {
                    "id": "vpc-lost",
                    "cidr": "10.0.0.0/8",
                    "vswitches": [
                        {"id": "vsw-app", "cidr": "10.1.0.0/24"},
                        {"id": "vsw-ngw", "cidr": "10.2.0.0/24"},
                        {"id": "vsw-web", "cidr": "10.3.0.0/24"},
                        {"id": "vsw-old", "cidr": "10.4.0.0/24"},
                        {"id": "vsw-lb-i", "zone": "cn-hangzhou-i", "cidr": "10.5.0.0/24"},
                        # HaVips and their hosts: a vSwitch of their own (an SNAT entry refuses a vSwitch with a HaVip).
                        {"id": "vsw-ha", "cidr": "10.6.0.0/24"},
                    ],
                }
            ],
            "security_groups": [{"id": "sg-app", "vpc": "vpc-lost"}],
            "instances": [
                {"id": "i-app", "vswitch": "vsw-app"},
                {"id": "i-bound", "vswitch": "vsw-app"},
                {"id": "i-ha-1", "vswitch": "vsw-ha"},
                {"id": "i-ha-2", "vswitch": "vsw-ha"},
            ],
            "enis": [
                {"id": "eni-free", "vswitch": "vsw-app", "security_groups": ["sg-app"]},
                {"id": "eni-delete", "vswitch": "vsw-app", "security_groups": ["sg-app"]},
                {"id": "eni-attached", "vswitch": "vsw-app", "instance": "i-bound", "security_groups": ["sg-app"]},
                {"id": "eni-assign", "vswitch": "vsw-app", "private_ips": ["10.1.0.50"], "security_groups": ["sg-app"]},
                {
                    "id": "eni-unassign",
                    "vswitch": "vsw-app",
                    "private_ips": ["10.1.0.60", "10.1.0.61", "10.1.0.62"],
                    "security_groups": ["sg-app"],
                },
                {"id": "eni-rename", "vswitch": "vsw-app", "name": "old-name", "security_groups": ["sg-app"]},
                {"id": "eni-tag", "vswitch": "vsw-app", "tags": {"team": "net"}, "security_groups": ["sg-app"]},
                {"id": "eni-untag", "vswitch": "vsw-app", "tags": {"team": "net"}, "security_groups": ["sg-app"]},
            ],
            "nat_gateways": [{"id": "ngw-lost", "vswitch": "vsw-ngw", "created": "2023-05-01T00:00:00Z"}],
            "eips": [
                {"id": "eip-release", "ip": "47.96.1.1"},
                {"id": "eip-modify", "ip": "47.96.1.2", "name": "old-name"},
                {"id": "eip-tag", "ip": "47.96.1.3", "tags": {"team": "net"}},
                {"id": "eip-untag", "ip": "47.96.1.4", "tags": {"team": "net"}},
                {"id": "eip-associate", "ip": "47.96.1.5"},
                {"id": "eip-bound", "ip": "47.96.1.6", "associated_with": {"instance": "i-bound"}},
                {"id": "eip-snat-1", "ip": "47.96.5.1", "associated_with": {"instance": "ngw-lost"}},
                {"id": "eip-snat-2", "ip": "47.96.5.2", "associated_with": {"instance": "ngw-lost"}},
                {"id": "eip-alb-1", "ip": "47.96.6.1"},
                {"id": "eip-alb-2", "ip": "47.96.6.2"},
                {"id": "eip-nlb-1", "ip": "47.96.6.3"},
                {"id": "eip-nlb-2", "ip": "47.96.6.4"},
                {"id": "eip-nlb-3", "ip": "47.96.6.5"},
            ],
            "albs": [{"id": "alb-lost", "zones": [{"vswitch": "vsw-app"}, {"vswitch": "vsw-lb-i"}]}],
            "nlbs": [
                {
                    "id": "nlb-lost",
                    "address_type": "Internet",
                    "zones": [{"vswitch": "vsw-app", "eip": "eip-nlb-1"}, {"vswitch": "vsw-lb-i", "eip": "eip-nlb-2"}],
                }
            ],
            "havips": [
                {"id": "havip-associate", "vswitch": "vsw-ha"},
                {"id": "havip-unassociate", "vswitch": "vsw-ha", "status": "InUse", "instances": ["i-ha-1", "i-ha-2"]},
                {"id": "havip-delete", "vswitch": "vsw-ha", "name": "lost-delete"},
            ],
            "snat_entries": [
                {"id": "snat-modify", "nat_gateway": "ngw-lost", "snat_ip": "47.96.5.1", "source_vswitch": "vsw-web"},
                {"id": "snat-delete", "nat_gateway": "ngw-lost", "snat_ip": "47.96.5.1", "source_vswitch": "vsw-old"},
            ],
        }
    },
}


def eips(state):
    return state["eips"]


def enis(state):
    return state["enis"]


def snat_entries(state):
    return list(state["snat_entries"].values())


def secondary_ips(eni):
    return sorted(entry["PrivateIpAddress"] for entry in eni["PrivateIpSets"] if not entry["Primary"])


# (mutating action, module, module arguments, check of the final emulator state)
CASES = [
    (
        "AllocateEipAddress",
        "eip_address",
        {"name": "lost-new", "tags": {"owner": "lost"}},
        lambda state: [eip["Name"] for eip in eips(state).values()].count("lost-new") == 1,
    ),
    (
        "ReleaseEipAddress",
        "eip_address",
        {"allocation_id": "eip-release", "state": "absent"},
        lambda state: "eip-release" not in eips(state),
    ),
    (
        "ModifyEipAddressAttribute",
        "eip_address",
        {"allocation_id": "eip-modify", "name": "new-name"},
        lambda state: eips(state)["eip-modify"]["Name"] == "new-name",
    ),
    (
        "TagResources",
        "eip_address",
        {"allocation_id": "eip-tag", "tags": {"team": "net", "env": "prod"}, "purge_tags": False},
        lambda state: eips(state)["eip-tag"]["Tags"] == {"team": "net", "env": "prod"},
    ),
    (
        "UnTagResources",
        "eip_address",
        {"allocation_id": "eip-untag", "tags": {}, "purge_tags": True},
        lambda state: eips(state)["eip-untag"]["Tags"] == {},
    ),
    (
        "AssociateEipAddress",
        "eip_association",
        {"allocation_id": "eip-associate", "instance_id": "i-app"},
        lambda state: (eips(state)["eip-associate"]["Status"], eips(state)["eip-associate"]["InstanceId"])
        == ("InUse", "i-app"),
    ),
    (
        "UnassociateEipAddress",
        "eip_association",
        {"allocation_id": "eip-bound", "instance_id": "i-bound", "state": "absent"},
        lambda state: (eips(state)["eip-bound"]["Status"], eips(state)["eip-bound"]["InstanceId"]) == ("Available", ""),
    ),
    (
        "CreateNetworkInterface",
        "eni",
        {"name": "lost-eni", "vswitch_id": "vsw-app", "security_group_ids": ["sg-app"]},
        lambda state: [eni.get("NetworkInterfaceName") for eni in enis(state).values()].count("lost-eni") == 1,
    ),
    (
        "DeleteNetworkInterface",
        "eni",
        {"eni_id": "eni-delete", "state": "absent"},
        lambda state: "eni-delete" not in enis(state),
    ),
    (
        "AttachNetworkInterface",
        "eni",
        {"eni_id": "eni-free", "instance_id": "i-app"},
        lambda state: (enis(state)["eni-free"]["Status"], enis(state)["eni-free"]["InstanceId"]) == ("InUse", "i-app"),
    ),
    (
        "DetachNetworkInterface",
        "eni",
        {"eni_id": "eni-attached", "instance_id": "i-bound", "attached": False},
        lambda state: (enis(state)["eni-attached"]["Status"], enis(state)["eni-attached"]["InstanceId"])
        == ("Available", ""),
    ),
    (
        "AssignPrivateIpAddresses",
        "eni",
        {"eni_id": "eni-assign", "secondary_private_ip_addresses": ["10.1.0.80", "10.1.0.81"]},
        lambda state: secondary_ips(enis(state)["eni-assign"]) == ["10.1.0.80", "10.1.0.81"],
    ),
    (
        "UnassignPrivateIpAddresses",
        "eni",
        {
            "eni_id": "eni-unassign",
            "secondary_private_ip_addresses": ["10.1.0.61"],
            "purge_secondary_private_ip_addresses": True,
        },
        lambda state: secondary_ips(enis(state)["eni-unassign"]) == ["10.1.0.61"],
    ),
    (
        "ModifyNetworkInterfaceAttribute",
        "eni",
        {"eni_id": "eni-rename", "name": "new-name"},
        lambda state: enis(state)["eni-rename"]["NetworkInterfaceName"] == "new-name",
    ),
    (
        "TagResources",
        "eni",
        {"eni_id": "eni-tag", "tags": {"team": "net", "env": "prod"}, "purge_tags": False},
        lambda state: enis(state)["eni-tag"]["Tags"] == {"team": "net", "env": "prod"},
    ),
    (
        "UntagResources",
        "eni",
        {"eni_id": "eni-untag", "tags": {}, "purge_tags": True},
        lambda state: enis(state)["eni-untag"]["Tags"] == {},
    ),
    (
        "CreateSnatEntry",
        "snat_entry",
        {"nat_gateway_id": "ngw-lost", "source_vswitch_id": "vsw-app", "snat_ips": ["47.96.5.2"], "name": "lost"},
        lambda state: [entry["SourceVSwitchId"] for entry in snat_entries(state)].count("vsw-app") == 1,
    ),
    (
        "ModifySnatEntry",
        "snat_entry",
        {"nat_gateway_id": "ngw-lost", "source_vswitch_id": "vsw-web", "snat_ips": ["47.96.5.2"]},
        lambda state: state["snat_entries"]["snat-modify"]["SnatIp"] == "47.96.5.2",
    ),
    (
        "DeleteSnatEntry",
        "snat_entry",
        {"nat_gateway_id": "ngw-lost", "source_vswitch_id": "vsw-old", "state": "absent"},
        lambda state: "snat-delete" not in state["snat_entries"],
    ),
    (
        "CreateHaVip",
        "havip",
        {"name": "lost-vip", "vswitch_id": "vsw-ha", "tags": {"owner": "lost"}},
        lambda state: [havip["Name"] for havip in state["havips"].values()].count("lost-vip") == 1,
    ),
    (
        "AssociateHaVip",
        "havip",
        {"havip_id": "havip-associate", "instance_ids": ["i-ha-1"]},
        lambda state: state["havips"]["havip-associate"]["AssociatedInstances"] == ["i-ha-1"],
    ),
    (
        "UnassociateHaVip",
        "havip",
        {"havip_id": "havip-unassociate", "instance_ids": ["i-ha-1"]},
        lambda state: state["havips"]["havip-unassociate"]["AssociatedInstances"] == ["i-ha-1"],
    ),
    (
        "DeleteHaVip",
        "havip",
        {"havip_id": "havip-delete", "state": "absent"},
        lambda state: "havip-delete" not in state["havips"],
    ),
    (
        "UpdateLoadBalancerAddressTypeConfig",
        "eip_association",
        {
            "associations": [
                {"allocation_id": "eip-alb-1", "instance_id": "alb-lost", "zone_id": "cn-hangzhou-h"},
                {"allocation_id": "eip-alb-2", "instance_id": "alb-lost", "zone_id": "cn-hangzhou-i"},
            ]
        },
        lambda state: [m["AllocationId"] for m in state["zonal_load_balancers"]["alb-lost"]["ZoneMappings"]]
        == ["eip-alb-1", "eip-alb-2"]
        and state["zonal_load_balancers"]["alb-lost"]["AddressType"] == "Internet",
    ),
    (
        "UpdateLoadBalancerZones",
        "eip_association",
        {"allocation_id": "eip-nlb-3", "instance_id": "nlb-lost", "zone_id": "cn-hangzhou-i"},
        lambda state: [m["AllocationId"] for m in state["zonal_load_balancers"]["nlb-lost"]["ZoneMappings"]]
        == ["eip-nlb-1", "eip-nlb-3"]
        and eips(state)["eip-nlb-2"]["Status"] == "Available",
    ),
]


@pytest.fixture(scope="module")
def emulator():
    from ansible_collections.alicloud.eip.tests.emulator.server import Emulator, EmulatorServer

    server = EmulatorServer(Emulator(world_spec=WORLD))
    server.start_background()
    yield server.emulator, server.endpoint
    server.shutdown()
    server.server_close()


def run_module(monkeypatch, capsys, name, args, endpoint):
    """``plugins/modules/<name>.py`` main() in this process; returns its JSON result."""
    module = importlib.import_module(f"ansible_collections.alicloud.eip.plugins.modules.{name}")
    arguments = {
        "access_key_id": ACCESS_KEY_ID,
        "access_key_secret": ACCESS_KEY_SECRET,
        "region": REGION,
        "endpoint_url": f"http://{endpoint}",
        **args,
    }
    monkeypatch.setattr(basic, "_ANSIBLE_ARGS", to_bytes(json.dumps({"ANSIBLE_MODULE_ARGS": arguments})))
    monkeypatch.setattr(basic, "_ANSIBLE_PROFILE", "legacy", raising=False)
    capsys.readouterr()
    with pytest.raises(SystemExit):
        module.main()
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize(("action", "module", "args", "holds"), CASES, ids=[f"{case[1]}-{case[0]}" for case in CASES])
def test_lost_answer_on_every_mutating_action(monkeypatch, capsys, emulator, action, module, args, holds):
    emulator_instance, endpoint = emulator
    emulator_instance.load_world(WORLD)
    sleeps: list[float] = []
    monkeypatch.setattr(
        _client, "CallContext", lambda: _retries.CallContext(retry_policy=_retries.RetryPolicy(sleep=sleeps.append))
    )
    from ansible_collections.alicloud.eip.tests.emulator.faults import FaultPlan

    emulator_instance.faults = FaultPlan.from_dict({"rules": [{"kind": "drop_after", "action": action, "times": 1}]})
    emulator_instance.store.data["counters"] = {}
    result = run_module(monkeypatch, capsys, module, args, endpoint)
    assert emulator_instance.faults.rules[0].fired == 1, f"the fault never hit {action}"
    assert not result.get("failed"), result.get("msg")
    assert result["changed"] is True
    state = emulator_instance.store.dump()
    assert holds(state), json.dumps({key: state[key] for key in ("eips", "enis", "snat_entries")}, indent=1)[:3000]
    # The call was sent again after the lost answer: a retry, not a second change.
    assert emulator_instance.store.data["counters"][action] == 2
    assert sleeps, "the lost answer was retried after a backoff"

    # The second run makes no mutating call at all: the first one left the state it asked for.
    emulator_instance.faults = FaultPlan()
    emulator_instance.store.data["counters"] = {}
    again = run_module(monkeypatch, capsys, module, args, endpoint)
    assert not again.get("failed") and again["changed"] is False, again
    assert set(emulator_instance.store.data["counters"]).isdisjoint(MUTATING_ACTIONS)


def mutating_wrappers():
    """Every API wrapper decorated as mutating in the product files."""
    found = {}
    for module in PRODUCT_MODULES:
        for name, function in vars(module).items():
            if callable(function) and getattr(function, "mutating", False) and function.__module__ == module.__name__:
                found[f"{module.__name__.rsplit('.', 1)[1]}.{name}"] = function
    return found


MUTATING_ACTIONS = {function.action for function in mutating_wrappers().values()}


def request_model(function):
    """The SDK request model class of a wrapper's action (VPC or ECS, from the SDK models the wrapper uses)."""
    source = inspect.getsource(function)
    ecs = "alibabacloud_ecs20140526" in source or 'light_models("ecs")' in source
    package = "alibabacloud_ecs20140526" if ecs else "alibabacloud_vpc20160428"
    package = next((name for name in ("alibabacloud_alb20200616", "alibabacloud_nlb20220430") if name in source), package)
    models = importlib.import_module(f"{package}.models")
    return getattr(models, f"{function.action}Request")


def test_every_mutating_wrapper_sends_a_client_token_or_verifies():
    wrappers = mutating_wrappers()
    assert len(wrappers) >= 19
    for name, function in sorted(wrappers.items()):
        has_token = "client_token" in vars(request_model(function)())
        source = inspect.getsource(function)
        if has_token:
            assert "client_token=client_token" in source, f"{name}: the request has ClientToken but it is not sent"
        else:
            assert function.verify is not None, f"{name}: no ClientToken and no verify function"


def test_every_mutating_action_has_a_lost_answer_case():
    assert {case[0] for case in CASES} == MUTATING_ACTIONS


# Each verify function against the emulator's state as loaded from WORLD: True when the desired state holds.
VERIFY_CASES = [
    (vpc_eip.released, ("eip-release",), {}, False),
    (vpc_eip.released, ("eip-gone",), {}, True),
    (vpc_eip.eip_attributes_hold, ("eip-modify",), {"name": "old-name", "bandwidth": 5}, True),
    (vpc_eip.eip_attributes_hold, ("eip-modify",), {"name": "new-name"}, False),
    (vpc_eip.eip_attributes_hold, ("eip-gone",), {"name": "x"}, False),
    (vpc_eip.eip_tags_hold, (["eip-tag"], {"team": "net"}), {}, True),
    (vpc_eip.eip_tags_hold, (["eip-tag"], {"team": "ops"}), {}, False),
    (vpc_eip.eip_tags_hold, (["eip-tag", "eip-gone"], {"team": "net"}), {}, False),
    (vpc_eip.eip_tags_hold, (["eip-tag"], {"team": "net"}), {"resource_type": "NATGATEWAY"}, False),
    (vpc_eip.eip_tags_gone, (["eip-untag"], ["env"]), {}, True),
    (vpc_eip.eip_tags_gone, (["eip-untag"], ["team"]), {}, False),
    (vpc_eip.eip_tags_gone, (["eip-untag"], ["env"]), {"resource_type": "NATGATEWAY"}, False),
    (ecs_eni.interface_deleted, ("eni-delete",), {}, False),
    (ecs_eni.interface_deleted, ("eni-gone",), {}, True),
    (ecs_eni.interface_attached, ("eni-attached", "i-bound"), {}, True),
    (ecs_eni.interface_attached, ("eni-attached", "i-app"), {}, False),
    (ecs_eni.interface_attached, ("eni-free", "i-app"), {}, False),
    (ecs_eni.interface_detached, ("eni-free", "i-bound"), {}, True),
    (ecs_eni.interface_detached, ("eni-attached", "i-bound"), {}, False),
    (ecs_eni.interface_detached, ("eni-gone", "i-bound"), {}, False),
    (ecs_eni.addresses_unassigned, ("eni-unassign", ["10.1.0.99"]), {}, True),
    (ecs_eni.addresses_unassigned, ("eni-unassign", ["10.1.0.99", "10.1.0.62"]), {}, False),
    (ecs_eni.interface_attributes_hold, ("eni-rename",), {"name": "old-name", "security_group_ids": ["sg-app"]}, True),
    (ecs_eni.interface_attributes_hold, ("eni-rename",), {"description": "other"}, False),
    (ecs_eni.interface_attributes_hold, ("eni-rename",), {"security_group_ids": ["sg-other"]}, False),
    (ecs_eni.interface_tags_hold, (["eni-tag"], {"team": "net"}), {}, True),
    (ecs_eni.interface_tags_hold, (["eni-tag"], {"env": "prod"}), {}, False),
    (ecs_eni.interface_tags_gone, (["eni-untag"], ["env"]), {}, True),
    (ecs_eni.interface_tags_gone, (["eni-untag"], ["team"]), {}, False),
]


@pytest.mark.parametrize(("verify", "args", "kwargs", "expected"), VERIFY_CASES)
def test_verify_functions_read_the_state(emulator, verify, args, kwargs, expected):
    emulator_instance, endpoint = emulator
    emulator_instance.load_world(WORLD)
    connection = _client.connection_from_params(
        {
            "region": REGION,
            "endpoint_url": f"http://{endpoint}",
            "access_key_id": ACCESS_KEY_ID,
            "access_key_secret": ACCESS_KEY_SECRET,
        },
        environ={},
    )
    assert verify(connection, *args, client_token="t", **kwargs) is expected
