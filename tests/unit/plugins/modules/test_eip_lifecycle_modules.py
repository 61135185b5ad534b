"""eip_address, eip_recover and eip_gateway_info end to end, on an in-memory cloud behind the API functions."""

from __future__ import annotations

import json

import pytest
from ansible.module_utils import basic
from ansible.module_utils.common.text.converters import to_bytes
from ansible_collections.alicloud.eip.plugins.module_utils._api import vpc_eip
from ansible_collections.alicloud.eip.plugins.module_utils._api.namespace import API
from ansible_collections.alicloud.eip.plugins.module_utils._retries import AlicloudApiError
from ansible_collections.alicloud.eip.plugins.modules import eip_address, eip_gateway_info, eip_recover
from ansible_collections.alicloud.eip.tests.unit.plugins.module_utils.eip_association.fakes import (
    ECS1,
    instance,
    nat,
)
from ansible_collections.alicloud.eip.tests.unit.plugins.module_utils.test_eip_lifecycle import (
    LifecycleCloud,
    record,
)

CREDENTIALS = {"access_key_id": "ak", "access_key_secret": "secret-value", "region": "cn-hangzhou"}
API_FUNCTIONS = (
    "describe_eip_addresses",
    "describe_instances",
    "describe_network_interfaces",
    "describe_nat_gateways",
    "describe_ha_vips",
    "describe_load_balancers",
    "associate_eip_address",
    "unassociate_eip_address",
    "allocate_eip_address",
    "release_eip_address",
    "modify_eip_address_attribute",
    "tag_resources",
    "untag_resources",
)


@pytest.fixture
def cloud(monkeypatch):
    """An account with a tagged EIP, an EIP on an instance, and a released address it may recover."""
    fake = LifecycleCloud(
        [
            record("eip-web", ip="47.0.0.1", name="web", tags={"team": "web", "old": "x"}),
            record("eip-held", ip="47.0.0.2", on=ECS1, name="held"),
        ],
        [(ECS1, instance("i-1")), (("EcsInstance", "i-2"), instance("i-2"))],
        released={"47.0.0.9": "eip-gone"},
    )
    for name in API_FUNCTIONS:
        monkeypatch.setattr(API, name, getattr(fake, name))
    # The waiter pauses before polling an asynchronous call; here the pause is recorded, not slept.
    fake.pauses = []
    policy = vpc_eip.WaitPolicy
    monkeypatch.setattr(vpc_eip, "WaitPolicy", lambda **options: policy(sleep=fake.pauses.append, **options))
    return fake


def run(monkeypatch, capsys, module, args, check_mode=False, diff=False):
    """Run a module's main() with ``args``; returns its JSON result."""
    arguments = {**CREDENTIALS, **args, "_ansible_check_mode": check_mode, "_ansible_diff": diff}
    monkeypatch.setattr(basic, "_ANSIBLE_ARGS", to_bytes(json.dumps({"ANSIBLE_MODULE_ARGS": arguments})))
    monkeypatch.setattr(basic, "_ANSIBLE_PROFILE", "legacy", raising=False)
    with pytest.raises(SystemExit):
        module.main()
    return json.loads(capsys.readouterr().out)


# ---- eip_address ---------------------------------------------------------------------------------------------


def test_allocate_once_keyed_by_name_and_tags(monkeypatch, capsys, cloud):
    args = {"name": "api", "tags": {"team": "api"}, "bandwidth": 10}
    check = run(monkeypatch, capsys, eip_address, args, check_mode=True, diff=True)
    assert cloud.mutating() == []
    first = run(monkeypatch, capsys, eip_address, args)
    second = run(monkeypatch, capsys, eip_address, args)
    assert (check["changed"], first["changed"], second["changed"]) == (True, True, False)
    assert check["eip"]["allocation_id"] == "" and check["diff"]["before"] == {}
    assert cloud.mutating() == ["AllocateEipAddress"]
    assert second["eip"]["allocation_id"] == first["eip"]["allocation_id"]
    assert (first["eip"]["bandwidth"], first["eip"]["tags"]) == (10, {"team": "api"})


def test_update_by_id_changes_only_what_differs(monkeypatch, capsys, cloud):
    args = {"allocation_id": "eip-web", "bandwidth": 20, "tags": {"team": "web"}}
    check = run(monkeypatch, capsys, eip_address, args, check_mode=True, diff=True)
    real = run(monkeypatch, capsys, eip_address, args, diff=True)
    again = run(monkeypatch, capsys, eip_address, args)
    assert check["actions"] == real["actions"] == ["ModifyEipAddressAttribute", "UnTagResources"]
    assert check["diff"]["after"] == real["diff"]["after"]
    assert real["diff"]["before"]["tags"] == {"team": "web", "old": "x"}
    assert again["changed"] is False
    assert cloud.eips["eip-web"]["bandwidth"] == 20 and cloud.eips["eip-web"]["tags"] == {"team": "web"}
    assert cloud.mutating() == ["ModifyEipAddressAttribute", "UnTagResources"]


def test_an_address_not_held_points_to_eip_recover(monkeypatch, capsys, cloud):
    result = run(monkeypatch, capsys, eip_address, {"ip_address": "47.0.0.9"})
    assert result["failed"] and "alicloud.eip.eip_recover" in result["msg"]
    assert cloud.mutating() == []


def test_release_of_an_associated_eip_needs_consent(monkeypatch, capsys, cloud):
    refused = run(monkeypatch, capsys, eip_address, {"allocation_id": "eip-held", "state": "absent"})
    assert refused["failed"] and "release_associated=true" in refused["msg"]
    assert cloud.mutating() == []
    done = run(
        monkeypatch,
        capsys,
        eip_address,
        {"allocation_id": "eip-held", "state": "absent", "release_associated": True},
        diff=True,
    )
    assert done["changed"] and done["actions"] == ["UnassociateEipAddress", "ReleaseEipAddress"]
    assert done["diff"]["after"] == {}
    assert cloud.mutating() == ["UnassociateEipAddress", "ReleaseEipAddress"]
    assert "eip-held" not in cloud.eips
    gone = run(monkeypatch, capsys, eip_address, {"allocation_id": "eip-held", "state": "absent"})
    assert gone["changed"] is False and gone["eip"] == {}


def test_release_from_a_nat_gateway_whose_snat_uses_it_needs_force(monkeypatch, capsys, cloud):
    gateway = ("Nat", "ngw-1")
    cloud.eips["eip-snat"] = record("eip-snat", ip="47.0.0.5", on=gateway)
    cloud.resources[gateway] = nat("ngw-1", uses={"eip-snat": "UsedBySnatTable"})
    args = {"allocation_id": "eip-snat", "state": "absent", "release_associated": True}
    refused = run(monkeypatch, capsys, eip_address, args, check_mode=True)
    assert refused["error"]["code"] == "InvalidIpStatus.HasBeenUsedBySnatTable"
    assert "set force: true" in refused["msg"]
    forced = run(monkeypatch, capsys, eip_address, {**args, "force": True})
    assert forced["changed"] and cloud.mutating() == ["UnassociateEipAddress", "ReleaseEipAddress"]
    assert cloud.pauses  # the disassociation was waited for (on the recorded clock) before the release


def test_allocation_quota_is_explained(monkeypatch, capsys, cloud):
    cloud.fail["allocate"] = AlicloudApiError("QuotaExceeded.Eip", "quota", "R-1", 400, action="AllocateEipAddress")
    result = run(monkeypatch, capsys, eip_address, {"name": "more"})
    assert result["error"]["code"] == "QuotaExceeded.Eip"
    assert "quota is used up" in result["msg"]


# ---- eip_recover -----------------------------------------------------------------------------------------------


def test_recover_with_attributes_and_association(monkeypatch, capsys, cloud):
    args = {"ip_address": "47.0.0.9", "name": "back", "tags": {"team": "web"}, "association": {"instance_id": "i-2"}}
    check = run(monkeypatch, capsys, eip_recover, args, check_mode=True, diff=True)
    assert cloud.mutating() == []
    real = run(monkeypatch, capsys, eip_recover, args)
    again = run(monkeypatch, capsys, eip_recover, args)
    assert check["recovered"] and check["actions"] == ["AllocateEipAddress", "AssociateEipAddress"]
    assert check["diff"]["after"]["name"] == "back"
    assert real["recovered"] and real["actions"] == check["actions"]
    assert (real["eip"]["status"], real["eip"]["instance_id"]) == ("InUse", "i-2")
    assert not again["recovered"] and again["changed"] is False
    assert cloud.mutating() == ["AllocateEipAddress", "AssociateEipAddress"]
    assert ("AllocateEipAddress", "47.0.0.9", None) in cloud.calls
    recovered = cloud.eips[real["eip"]["allocation_id"]]
    assert (recovered["name"], recovered["tags"], recovered["instance_id"]) == ("back", {"team": "web"}, "i-2")


def test_recover_by_allocation_id_keeps_it(monkeypatch, capsys, cloud):
    result = run(monkeypatch, capsys, eip_recover, {"allocation_id": "eip-gone"})
    assert result["recovered"] and result["eip"]["allocation_id"] == "eip-gone"
    assert result["eip"]["ip_address"] == "47.0.0.9"
    assert ("AllocateEipAddress", None, "eip-gone") in cloud.calls


def test_an_address_already_held_is_not_recovered_but_its_attributes_are_restored(monkeypatch, capsys, cloud):
    result = run(monkeypatch, capsys, eip_recover, {"ip_address": "47.0.0.1", "bandwidth": 7})
    assert result["recovered"] is False and result["changed"] is True
    assert cloud.mutating() == ["ModifyEipAddressAttribute"]


def test_an_unfamiliar_address_explains_the_7_day_window(monkeypatch, capsys, cloud):
    result = run(monkeypatch, capsys, eip_recover, {"ip_address": "47.0.0.77"})
    assert result["failed"] and result["error"]["code"] == "OperationFailed.AllocateUnfamiliarIp"
    assert "within the last 7 days" in result["msg"] and "support ticket" in result["msg"]


def test_check_mode_of_a_recovery_predicts_the_association_refusal(monkeypatch, capsys, cloud):
    result = run(
        monkeypatch,
        capsys,
        eip_recover,
        {"ip_address": "47.0.0.9", "association": {"instance_id": "i-1"}},
        check_mode=True,
    )
    assert result["failed"] and result["error"]["code"] == "InvalidAssociation.Duplicated"
    assert result["error"]["predicted"] is True
    assert cloud.mutating() == []


@pytest.mark.parametrize(
    "target, code",
    [
        ("i-unknown", "InvalidInstanId.NotFound"),
        ("i-1", "InvalidAssociation.Duplicated"),  # i-1 holds eip-held already
    ],
)
@pytest.mark.parametrize("key", [{"ip_address": "47.0.0.9"}, {"allocation_id": "eip-gone"}])
def test_a_refused_association_target_stops_the_recovery_before_it_happens(
    monkeypatch, capsys, cloud, target, code, key
):
    """Issue 9 item 3: the real run refuses before AllocateEipAddress, with check mode's code and message."""
    args = {**key, "name": "back", "bandwidth": 7, "association": {"instance_id": target}}
    check = run(monkeypatch, capsys, eip_recover, args, check_mode=True)
    real = run(monkeypatch, capsys, eip_recover, args)
    assert check["failed"] and real["failed"]
    assert real["msg"] == check["msg"]
    assert real["error"] == check["error"] and real["error"]["code"] == code and real["error"]["predicted"] is True
    assert (real["changed"], real["actions"]) == (False, [])
    assert cloud.mutating() == []
    assert cloud.released == {"47.0.0.9": "eip-gone"}  # still released, not recovered


def test_a_refused_association_target_stops_the_attribute_changes_of_a_held_eip(monkeypatch, capsys, cloud):
    args = {"ip_address": "47.0.0.1", "bandwidth": 9, "association": {"instance_id": "i-1"}}
    check = run(monkeypatch, capsys, eip_recover, args, check_mode=True)
    real = run(monkeypatch, capsys, eip_recover, args)
    assert real["failed"] and real["msg"] == check["msg"] and real["error"]["code"] == "InvalidAssociation.Duplicated"
    assert cloud.mutating() == []
    assert cloud.eips["eip-web"]["bandwidth"] == 5


# ---- documented limits (issue 9 item 5): refused before any call, check mode and real run alike -----------------

LIMIT_CASES = [
    # (module, args, the refusal's message, calls allowed before it)
    (eip_address, {"name": "n" * 129}, "name: 129 characters given; it must be 1 to 128 characters; shorten it", 0),
    (eip_address, {"name": ""}, "name: 0 characters given; it must be 1 to 128 characters; lengthen it", 0),
    (eip_address, {"name": "web", "description": "x"}, "description: 1 characters given; it must be 2 to 256", 0),
    (eip_address, {"name": "web", "tags": {"owner": {"team": "web"}}}, "tags.owner: the value is a dict", 0),
    (eip_address, {"name": "web", "tags": {"owner": ["a"]}}, "tags.owner: the value is a list", 0),
    (eip_address, {"name": "web", "tags": {"acs:x": "1"}}, "tags: the key 'acs:x' is reserved", 0),
    (eip_address, {"name": "web", "tags": {f"k{n}": "v" for n in range(21)}}, "tags: 21 tags given", 0),
    (eip_address, {"name": "web", "bandwidth": 0}, "bandwidth: 0 Mbit/s given", 0),
    (eip_address, {"name": "web", "isp": "BGP_LOL"}, "isp: 'BGP_LOL' is not a line type of the API", 0),
    (eip_address, {"name": "new", "bandwidth": 501}, "PayByBandwidth billing of the new EIP allows 1 to 500", 1),
    (
        eip_address,
        {"name": "new", "bandwidth": 201, "internet_charge_type": "PayByTraffic"},
        "PayByTraffic billing allows 1 to 200 Mbit/s",
        0,
    ),
    (eip_address, {"allocation_id": "eip-web", "bandwidth": 201}, "PayByTraffic billing of eip-web allows 1 to 200", 1),
    (eip_recover, {"ip_address": "47.0.0.9", "bandwidth": 201}, "PayByTraffic billing of the recovered EIP", 1),
    (eip_recover, {"ip_address": "47.0.0.9", "name": "http://x"}, "name: 'http://x' starts with http://", 0),
    (
        eip_recover,
        {"ip_address": "47.0.0.9", "description": "1 web"},
        "description: '1 web' must start with a letter",
        0,
    ),
    (eip_recover, {"ip_address": "47.0.0.9", "tags": {"owner": {"a": 1}}}, "tags.owner: the value is a dict", 0),
    (eip_recover, {"ip_address": "47.0.0.1", "bandwidth": 300}, "PayByTraffic billing of eip-web allows 1 to 200", 1),
]


@pytest.mark.parametrize("check_mode", [True, False], ids=["check", "real"])
@pytest.mark.parametrize("module, args, message, reads", LIMIT_CASES)
def test_a_documented_limit_is_refused_before_any_call(
    monkeypatch, capsys, cloud, module, args, message, reads, check_mode
):
    result = run(monkeypatch, capsys, module, args, check_mode=check_mode)
    assert result["failed"] and message in result["msg"] and not result.get("changed")
    assert cloud.mutating() == []
    assert len(cloud.calls) == reads  # a static limit before any call; a billing limit after the one describe
    assert cloud.released == {"47.0.0.9": "eip-gone"}


def test_a_null_tag_value_is_allocated_as_it_is_looked_up(monkeypatch, capsys, cloud):
    """A null tag value used to be sent as the text 'None' while the key looks for '': a re-run allocated again."""
    args = {"name": "api", "tags": {"team": "api", "note": None}}
    first = run(monkeypatch, capsys, eip_address, args)
    second = run(monkeypatch, capsys, eip_address, args)
    assert (first["changed"], second["changed"]) == (True, False)
    assert cloud.mutating() == ["AllocateEipAddress"]
    assert first["eip"]["tags"] == {"team": "api", "note": ""}


# ---- eip_gateway_info ----------------------------------------------------------------------------------------


def test_gateway_entries_get_their_allocation_ids_in_address_order(cloud):
    def gateway_info(connection, eni_id):
        cloud.calls.append(("DescribeEipGatewayInfo", eni_id))
        return [
            {"ip": "47.0.0.20", "gateway": "47.0.0.1", "mask": "255.255.255.0"},
            {"ip": "47.0.0.3", "gateway": "47.0.0.1", "mask": "255.255.255.0"},
        ]

    cloud.describe_eip_gateway_info = gateway_info
    cloud.eips["eip-m"] = record("eip-m", ip="47.0.0.3", on=("NetworkInterface", "eni-9"), mode="MULTI_BINDED")
    entries = eip_gateway_info.gateway_entries(None, "eni-9", api=cloud)
    assert entries == [
        {"ip": "47.0.0.3", "gateway": "47.0.0.1", "mask": "255.255.255.0", "allocation_id": "eip-m"},
        {"ip": "47.0.0.20", "gateway": "47.0.0.1", "mask": "255.255.255.0", "allocation_id": ""},
    ]


def test_no_gateway_entries_cost_one_call(cloud):
    cloud.describe_eip_gateway_info = lambda connection, eni_id: []
    assert eip_gateway_info.gateway_entries(None, "eni-9", api=cloud) == []
    assert cloud.calls == []
