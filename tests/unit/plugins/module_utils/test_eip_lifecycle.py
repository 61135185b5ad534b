"""EIP lifecycle decisions (plugins/module_utils/_eip_lifecycle.py): table-driven, no sleeps, no network."""

from __future__ import annotations

import re
import threading

import pytest
from ansible_collections.alicloud.eip.plugins.module_utils import _eip_lifecycle as lifecycle
from ansible_collections.alicloud.eip.plugins.module_utils._eip_lifecycle import (
    AttributeChanges,
    InputError,
    LifecycleError,
)
from ansible_collections.alicloud.eip.plugins.module_utils._polling import WaitPolicy
from ansible_collections.alicloud.eip.plugins.module_utils._retries import AlicloudApiError
from ansible_collections.alicloud.eip.tests.unit.plugins.module_utils.eip_association.fakes import (
    CONNECTION,
    ECS1,
    FakeApi,
    eip,
    instance,
)

# The engine's waiter pauses before its first poll; on this policy the pause costs no time.
NO_WAIT = WaitPolicy(sleep=lambda seconds: None, clock=lambda: 0.0)


def record(allocation_id, ip=None, on=None, **fields):
    """A normalized EIP record with the lifecycle fields (name, tags, bandwidth, charge type, ...)."""
    base = eip(allocation_id, ip=ip, on=on)
    base.update(
        name="",
        description="",
        bandwidth=5,
        tags={},
        charge_type="PostPaid",
        internet_charge_type="PayByTraffic",
        isp="BGP",
        deletion_protection=False,
        region_id="cn-hangzhou",
    )
    base.update(fields)
    return base


class LifecycleCloud(FakeApi):
    """FakeApi plus allocation, recovery, release, attributes and tags; changes take effect at once."""

    def __init__(self, eips=(), resources=(), released=None, fail=None):
        super().__init__(eips, resources, fail)
        self.released = dict(released or {})  # address -> allocation ID released within 7 days
        self.allocated = 0
        self.lock = threading.Lock()

    def describe_eip_addresses(
        self,
        connection,
        allocation_ids=None,
        ip_addresses=None,
        associated_instance_type=None,
        associated_instance_id=None,
        name=None,
        tags=None,
        **rest,
    ):
        if name is not None or tags:
            # By name (and tags), or by tags alone (the list form of eip_address looks many names up at once).
            key = ("name", name) if name is not None else ("tags", tuple(sorted(tags.items())))
            self.calls.append(("DescribeEipAddresses", key))
            return [
                dict(e)
                for e in self.eips.values()
                if name in (None, e["name"]) and all(e["tags"].get(k) == v for k, v in (tags or {}).items())
            ]
        return super().describe_eip_addresses(
            connection, allocation_ids, ip_addresses, associated_instance_type, associated_instance_id, **rest
        )

    def allocate_eip_address(self, connection, ip_address=None, instance_id=None, **fields):
        with self.lock:  # the list form of eip_address allocates from several threads
            return self._allocate(ip_address, instance_id, **fields)

    def _allocate(self, ip_address, instance_id, **fields):
        self.calls.append(("AllocateEipAddress", ip_address, instance_id))
        if "allocate" in self.fail:
            raise self.fail["allocate"]
        if ip_address or instance_id:
            match = [
                (ip, i) for ip, i in self.released.items() if ip_address in (None, ip) and instance_id in (None, i)
            ]
            if not match:
                raise AlicloudApiError("OperationFailed.AllocateUnfamiliarIp", "unfamiliar", "R-1", 400)
            address, old_id = match[0]
            del self.released[address]
            allocation_id = old_id if instance_id else f"eip-new{self.allocated}"
        else:
            address, allocation_id = f"47.1.0.{self.allocated}", f"eip-new{self.allocated}"
        self.allocated += 1
        self.eips[allocation_id] = record(
            allocation_id,
            ip=address,
            name=fields.get("name") or "",
            description=fields.get("description") or "",
            bandwidth=fields.get("bandwidth") or 5,
            tags=dict(fields.get("tags") or {}),
        )
        return {"allocation_id": allocation_id, "ip_address": address}

    def release_eip_address(self, connection, allocation_id):
        self.calls.append(("ReleaseEipAddress", allocation_id))
        gone = self.eips.pop(allocation_id)
        self.released[gone["ip_address"]] = allocation_id
        return "R"

    def modify_eip_address_attribute(self, connection, allocation_id, **fields):
        self.calls.append(("ModifyEipAddressAttribute", allocation_id, tuple(sorted(fields))))
        self.eips[allocation_id].update(fields)
        return "R"

    def tag_resources(self, connection, resource_ids, tags):
        self.calls.append(("TagResources", tuple(resource_ids), tuple(sorted(tags))))
        for resource_id in resource_ids:
            self.eips[resource_id]["tags"].update(tags)

    def untag_resources(self, connection, resource_ids, keys):
        self.calls.append(("UnTagResources", tuple(resource_ids), tuple(keys)))
        for resource_id in resource_ids:
            for key in keys:
                self.eips[resource_id]["tags"].pop(key, None)

    def mutating(self):
        return [call[0] for call in self.calls if not call[0].startswith("Describe")]


# ---- input ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params, fragment",
    [
        ({"allocation_id": "47.0.0.1"}, "is not an EIP allocation ID"),
        ({"ip_address": "eip-1"}, "is not an IPv4 address"),
        ({"ip_address": "47.0.0"}, "is not an IPv4 address"),
        ({"bandwidth": 0}, "at least 1 Mbit/s"),
        ({"wait_timeout": 0}, "positive number of seconds"),
        ({"tags": {"acs:owner": "x"}}, "reserved by Alibaba Cloud"),
        ({"tags": {"aliyun-x": "x"}}, "reserved by Alibaba Cloud"),
        # The documented limits (issue 9 item 5; each limit's boundaries are in test_limits.py).
        ({"name": ""}, "name: 0 characters given; it must be 1 to 128 characters"),
        ({"name": "n" * 129}, "name: 129 characters given; it must be 1 to 128 characters"),
        ({"name": "http://web"}, "name: 'http://web' starts with http:// or https://"),
        ({"description": "x"}, "description: 1 characters given; it must be 2 to 256 characters"),
        ({"description": "9 lives"}, "description: '9 lives' must start with a letter"),
        ({"tags": {"owner": {"team": "web"}}}, "tags.owner: the value is a dict; a tag value is text"),
        ({"tags": {"owner": ["a"]}}, "tags.owner: the value is a list"),
        ({"tags": {f"k{n}": "v" for n in range(21)}}, "tags: 21 tags given; a resource takes at most 20"),
        ({"bandwidth": 1001}, "bandwidth: 1001 Mbit/s given; the subscription billing allows 1 to 1000"),
        ({"bandwidth": 201, "internet_charge_type": "PayByTraffic"}, "PayByTraffic billing allows 1 to 200 Mbit/s"),
        ({"bandwidth": 501, "internet_charge_type": "PayByBandwidth"}, "PayByBandwidth billing allows 1 to 500"),
    ],
)
def test_bad_input_names_the_option(params, fragment):
    with pytest.raises(InputError, match=fragment):
        lifecycle.validate_key_options(params)


def test_good_input_passes():
    lifecycle.validate_key_options(
        {"allocation_id": "eip-bp1x", "ip_address": "47.0.0.1", "bandwidth": 1, "wait_timeout": 1, "tags": {"a": 1}}
    )
    lifecycle.validate_key_options(
        {"name": "n" * 128, "description": "d" * 256, "bandwidth": 200, "internet_charge_type": "PayByTraffic"}
    )


@pytest.mark.parametrize(
    "eip, params, recovering, fragment",
    [
        # A new EIP: the given metering method, else the API's default for the call.
        (None, {"bandwidth": 500}, False, None),
        (None, {"bandwidth": 501}, False, "PayByBandwidth billing of the new EIP allows 1 to 500"),
        (None, {"bandwidth": 201}, True, "PayByTraffic billing of the recovered EIP allows 1 to 200"),
        (None, {"bandwidth": 500, "internet_charge_type": "PayByBandwidth"}, True, None),
        # An EIP the account holds: its own billing.
        (record("eip-1", internet_charge_type="PayByTraffic"), {"bandwidth": 200}, False, None),
        (record("eip-1", internet_charge_type="PayByTraffic"), {"bandwidth": 201}, False, "of eip-1 allows 1 to 200"),
        (record("eip-1", internet_charge_type="PayByBandwidth"), {"bandwidth": 500}, False, None),
        (
            record("eip-1", charge_type="PrePaid", internet_charge_type="PayByBandwidth"),
            {"bandwidth": 1000},
            False,
            None,
        ),
        (record("eip-1", charge_type="PrePaid"), {"bandwidth": 1001}, False, "subscription billing of eip-1"),
        # Unchanged: no call is made, so nothing to refuse.
        (record("eip-1", bandwidth=300, internet_charge_type="PayByTraffic"), {"bandwidth": 300}, False, None),
        (record("eip-1"), {"bandwidth": None}, False, None),
    ],
)
def test_bandwidth_is_checked_against_the_billing_of_the_eip(eip, params, recovering, fragment):
    if fragment is None:
        lifecycle.check_bandwidth_for(eip, params, recovering=recovering)
    else:
        with pytest.raises(InputError, match=re.escape(fragment)):
            lifecycle.check_bandwidth_for(eip, params, recovering=recovering)


# ---- the key --------------------------------------------------------------------------------------------

TWINS = [
    record("eip-a", ip="47.0.0.1", name="web", tags={"team": "a"}),
    record("eip-b", ip="47.0.0.2", name="web", tags={"team": "b"}),
    record("eip-c", ip="47.0.0.3", name="db"),
]


@pytest.mark.parametrize(
    "params, expected",
    [
        ({"allocation_id": "eip-b"}, "eip-b"),
        ({"allocation_id": "eip-b", "ip_address": "47.0.0.2"}, "eip-b"),
        ({"allocation_id": "eip-b", "name": "db"}, "eip-b"),  # the name is an attribute then, not the key
        ({"ip_address": "47.0.0.3"}, "eip-c"),
        ({"ip_address": "47.0.0.9"}, None),
        ({"name": "db"}, "eip-c"),
        ({"name": "web", "tags": {"team": "a"}}, "eip-a"),
        ({"name": "web", "tags": {"team": "z"}}, None),
        ({"name": "nothing"}, None),
    ],
)
def test_select_by_the_strongest_key(params, expected):
    selected = lifecycle.select_eip(TWINS, params)
    assert (selected or {}).get("allocation_id") == expected


@pytest.mark.parametrize(
    "params, fragment",
    [
        ({"name": "web"}, "2 EIPs match name 'web': eip-a, eip-b"),
        ({"allocation_id": "eip-a", "ip_address": "47.0.0.2"}, "has the address 47.0.0.1, not 47.0.0.2"),
    ],
)
def test_ambiguous_or_contradictory_keys_fail(params, fragment):
    with pytest.raises(LifecycleError, match=fragment):
        lifecycle.select_eip(TWINS, params)


def test_find_by_name_asks_the_api_with_name_and_tags():
    cloud = LifecycleCloud(TWINS)
    found = lifecycle.find_eip(CONNECTION, {"name": "web", "tags": {"team": 1}}, api=cloud)
    assert found is None  # tag values compare as text: "1" is not "a" or "b"
    assert cloud.calls == [("DescribeEipAddresses", ("name", "web"))]


# ---- attributes and tags -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "current, wanted, purge, add, remove",
    [
        ({"a": "1"}, None, True, {}, []),  # tags not given: left alone whatever purge says
        ({"a": "1"}, {}, True, {}, ["a"]),
        ({"a": "1"}, {}, False, {}, []),
        ({"a": "1", "b": "2"}, {"a": "1"}, True, {}, ["b"]),
        ({"a": "1", "b": "2"}, {"a": "2"}, False, {"a": "2"}, []),
        ({"a": "1"}, {"n": 5}, True, {"n": "5"}, ["a"]),
        ({"acs:owner": "x", "aliyun-sys": "y", "a": "1"}, {}, True, {}, ["a"]),  # the cloud's own tags stay
    ],
)
def test_plan_tags_follows_purge_tags(current, wanted, purge, add, remove):
    assert lifecycle.plan_tags(current, wanted, purge) == (add, remove)


@pytest.mark.parametrize(
    "params, name_is_key, modify, warned",
    [
        ({}, False, {}, False),
        ({"bandwidth": 5}, False, {}, False),
        ({"bandwidth": 10}, False, {"bandwidth": 10}, False),
        ({"name": "web"}, False, {}, False),
        ({"name": "web2", "description": "d"}, False, {"name": "web2", "description": "d"}, False),
        ({"name": "other"}, True, {}, False),  # the name was the key: nothing to rename
        ({"internet_charge_type": "PayByBandwidth"}, False, {}, True),
        ({"internet_charge_type": "PayByTraffic", "isp": "BGP"}, False, {}, False),
    ],
)
def test_plan_attributes_changes_only_what_is_given_and_different(params, name_is_key, modify, warned):
    current = record("eip-1", name="web", bandwidth=5)
    changes = lifecycle.plan_attributes(current, params, name_is_key=name_is_key)
    assert changes.modify == modify
    assert bool(changes.warnings) == warned
    assert changes.changed == bool(modify)


def test_apply_changes_predicts_the_record():
    current = record("eip-1", name="web", tags={"a": "1", "b": "2"})
    changes = AttributeChanges(modify={"bandwidth": 9}, add_tags={"c": "3"}, remove_tags=["b"])
    after = lifecycle.apply_changes(current, changes)
    assert (after["bandwidth"], after["name"], after["tags"]) == (9, "web", {"a": "1", "c": "3"})
    assert current["tags"] == {"a": "1", "b": "2"}


def test_make_changes_calls_only_what_is_needed():
    cloud = LifecycleCloud([record("eip-1", tags={"old": "x"})])
    lifecycle.make_changes(CONNECTION, "eip-1", AttributeChanges(remove_tags=["old"]), api=cloud)
    lifecycle.make_changes(CONNECTION, "eip-1", AttributeChanges(), api=cloud)
    assert cloud.mutating() == ["UnTagResources"]
    assert cloud.eips["eip-1"]["tags"] == {}


# ---- release ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields, consent, code, fragment",
    [
        ({"charge_type": "PrePaid"}, True, "Forbidden.ChargeTypeIsPrepaid", "subscription EIP"),
        ({"deletion_protection": True}, True, "InvalidOperation.DeletionProtection", "deletion protection"),
        ({"operation_locks": ["financial"]}, True, "IncorrectEipStatus", "locked (financial)"),
        ({"on": ECS1}, False, "IncorrectEipStatus", "set release_associated=true"),
        ({"status": "Associating"}, True, "IncorrectEipStatus", "only an Available EIP"),
    ],
)
def test_release_refusals_are_predicted(fields, consent, code, fragment):
    on = fields.pop("on", None)
    with pytest.raises(LifecycleError, match=re.escape(fragment)) as excinfo:
        lifecycle.plan_release(record("eip-1", on=on, **fields), consent)
    assert excinfo.value.as_dict()["code"] == code
    assert excinfo.value.as_dict()["predicted"] is True


@pytest.mark.parametrize("on, consent, disassociate", [(None, False, False), (None, True, False), (ECS1, True, True)])
def test_release_plan(on, consent, disassociate):
    assert lifecycle.plan_release(record("eip-1", on=on), consent) is disassociate


def test_disassociate_goes_through_the_association_engine():
    cloud = LifecycleCloud([record("eip-1", on=ECS1)], [(ECS1, instance("i-1"))])
    planned = lifecycle.disassociate(CONNECTION, cloud.eips["eip-1"], True, 30, api=cloud, wait_policy=NO_WAIT)
    assert [step.kind for step in planned.plan.steps] == ["disassociate"]
    assert cloud.mutating() == []  # check mode
    lifecycle.disassociate(CONNECTION, cloud.eips["eip-1"], False, 30, api=cloud, wait_policy=NO_WAIT)
    assert cloud.mutating() == ["UnassociateEipAddress"]
    assert cloud.eips["eip-1"]["status"] == "Available"


# ---- allocation errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "code, fragment",
    [
        ("QuotaExceeded.Eip", "quota is used up"),
        ("FrequentPurchase.EIP", "wait a minute"),
        ("OperationFailed.AllocateUnfamiliarIp", "within the last 7 days"),
        ("OperationDenied.IpBelongToOtherUser", "belongs to another account"),
        ("Ip.Allocated", "another account"),
        ("OperationFailed.ResourceNotEnough", "20 EIPs this month"),
        ("InternalError", "InternalError: boom"),
    ],
)
def test_allocation_errors_are_explained(code, fragment):
    error = AlicloudApiError(code, "boom", "R-9", 400, action="AllocateEipAddress")
    explained = lifecycle.explain_allocation_error(error, "recovering 47.0.0.1")
    assert str(explained).startswith(f"recovering 47.0.0.1 failed: {code}: boom")
    assert fragment in str(explained)
    assert explained.as_dict()["request_id"] == "R-9"


# ---- associations of a recovery ------------------------------------------------------------------------


def test_check_mode_plans_the_association_of_an_eip_not_recovered_yet():
    cloud = LifecycleCloud([], [(ECS1, instance("i-1"))])
    pending = lifecycle.new_eip_view({}, "cn-hangzhou", ip_address="47.0.0.7")
    planned = lifecycle.associate(
        CONNECTION,
        pending,
        lifecycle.association_request({"instance_id": "i-1"}),
        True,
        True,
        30,
        pending=True,
        api=cloud,
        wait_policy=NO_WAIT,
    )
    assert [(step.kind, step.ip_address, step.holder.instance_id) for step in planned.plan.steps] == [
        ("associate", "47.0.0.7", "i-1")
    ]
    assert cloud.mutating() == []


def test_check_mode_predicts_the_targets_refusal_for_a_pending_eip():
    cloud = LifecycleCloud([record("eip-old", on=ECS1)], [(ECS1, instance("i-1"))])
    pending = lifecycle.new_eip_view({}, "cn-hangzhou", allocation_id="eip-back")
    with pytest.raises(LifecycleError) as excinfo:
        lifecycle.associate(
            CONNECTION,
            pending,
            lifecycle.association_request({"instance_id": "i-1"}),
            True,
            True,
            30,
            pending=True,
            api=cloud,
            wait_policy=NO_WAIT,
        )
    assert excinfo.value.code == "InvalidAssociation.Duplicated"
    assert "eip-old" in str(excinfo.value)


@pytest.mark.parametrize(
    "target, code",
    [
        ("i-unknown", "InvalidInstanId.NotFound"),  # the API's own spelling of the code
        ("i-1", "InvalidAssociation.Duplicated"),  # holds eip-old already
    ],
)
@pytest.mark.parametrize("reference", [{"ip_address": "47.0.0.9"}, {"allocation_id": "eip-gone"}])
def test_the_association_of_a_recovery_is_planned_before_anything_changes(target, code, reference):
    """Issue 9 item 3: the plan eip_recover asks for before the recovery, in check mode and in a real run alike,
    refuses the target of a pending EIP without any mutating call, with the code and message of check mode."""
    cloud = LifecycleCloud([record("eip-old", on=ECS1)], [(ECS1, instance("i-1"))], released={"47.0.0.9": "eip-gone"})
    pending = lifecycle.new_eip_view({}, "cn-hangzhou", **reference)
    with pytest.raises(LifecycleError) as planned:
        lifecycle.plan_association(
            CONNECTION,
            pending,
            lifecycle.association_request({"instance_id": target}),
            30,
            pending=True,
            api=cloud,
            wait_policy=NO_WAIT,
        )
    with pytest.raises(LifecycleError) as checked:
        lifecycle.associate(
            CONNECTION,
            pending,
            lifecycle.association_request({"instance_id": target}),
            True,
            True,
            30,
            pending=True,
            api=cloud,
            wait_policy=NO_WAIT,
        )
    assert planned.value.code == checked.value.code == code
    assert str(planned.value) == str(checked.value)
    assert cloud.mutating() == []
    assert cloud.released == {"47.0.0.9": "eip-gone"}


def test_the_refusal_for_an_eip_recovered_by_address_names_the_address():
    """A pending EIP recovered by address has no allocation ID yet: the refusal names its address instead of a blank."""
    cloud = LifecycleCloud([record("eip-old", on=ECS1)], [(ECS1, instance("i-1"))], released={"47.0.0.9": "eip-gone"})
    pending = lifecycle.new_eip_view({}, "cn-hangzhou", ip_address="47.0.0.9")
    with pytest.raises(LifecycleError) as refused:
        lifecycle.plan_association(
            CONNECTION,
            pending,
            lifecycle.association_request({"instance_id": "i-1"}),
            30,
            pending=True,
            api=cloud,
            wait_policy=NO_WAIT,
        )
    assert "replace it with 47.0.0.9 (the old EIP" in str(refused.value)


def test_the_plan_of_a_valid_association_changes_nothing():
    cloud = LifecycleCloud([], [(("EcsInstance", "i-2"), instance("i-2"))])
    pending = lifecycle.new_eip_view({}, "cn-hangzhou", ip_address="47.0.0.9")
    planned = lifecycle.plan_association(
        CONNECTION,
        pending,
        lifecycle.association_request({"instance_id": "i-2"}),
        30,
        pending=True,
        api=cloud,
        wait_policy=NO_WAIT,
    )
    assert [step.kind for step in planned.plan.steps] == ["associate"]
    assert cloud.mutating() == []


def test_a_pending_eip_is_planned_from_its_seeded_record_not_described():
    """The EIP a recovery would bring back is handed to the engine as a seeded record (no wrapper of the API):
    it is not described, and no resource lists it as held."""
    cloud = LifecycleCloud([record("eip-1")], [(ECS1, instance("i-1"))])
    pending = record("eip-back", ip="47.0.0.8")
    planned = lifecycle.plan_association(
        CONNECTION,
        pending,
        lifecycle.association_request({"instance_id": "i-1"}),
        30,
        pending=True,
        api=cloud,
        wait_policy=NO_WAIT,
    )
    assert [(step.kind, step.allocation_id) for step in planned.plan.steps] == [("associate", "eip-back")]
    assert planned.eip["allocation_id"] == "eip-back"
    assert ("DescribeEipAddresses", ("eip-back",)) not in cloud.calls
    assert planned.snapshot.held[ECS1] == []
    assert cloud.mutating() == []


def test_a_real_association_after_recovery_uses_the_engine_and_returns_the_final_record():
    cloud = LifecycleCloud([record("eip-1")], [(ECS1, instance("i-1"))])
    done = lifecycle.associate(
        CONNECTION,
        cloud.eips["eip-1"],
        lifecycle.association_request({"instance_id": "i-1"}),
        False,
        True,
        30,
        api=cloud,
        wait_policy=NO_WAIT,
    )
    assert cloud.mutating() == ["AssociateEipAddress"]
    assert (done.eip["status"], done.eip["instance_id"]) == ("InUse", "i-1")


def test_bad_association_input_is_an_input_error():
    with pytest.raises(InputError, match="association: "):
        lifecycle.association_request({"instance_id": "x-unknown"})


# ---- transient states -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "status, then, expected",
    [
        ("Unassociating", "Available", "Available"),
        ("Associating", "InUse", "InUse"),
        ("Releasing", None, None),  # released meanwhile: there is no EIP any more
        ("Available", "InUse", "Available"),  # stable already: not even looked at again
    ],
)
def test_settle_waits_for_a_transient_eip(status, then, expected):
    cloud = LifecycleCloud([record("eip-1", status=status)])
    polls = []

    def describe(connection, **filters):
        polls.append(filters)
        if len(polls) > 1:  # the second poll sees the transition done
            if then is None:
                cloud.eips.pop("eip-1", None)
            else:
                cloud.eips["eip-1"]["status"] = then
        return LifecycleCloud.describe_eip_addresses(cloud, connection, **filters)

    cloud.describe_eip_addresses = describe
    settled = lifecycle.settle(CONNECTION, record("eip-1", status=status), 30, api=cloud, policy=NO_WAIT)
    assert (settled or {}).get("status") == expected
    assert len(polls) == (0 if status == "Available" else 2)
