"""ALB and NLB zone EIPs (_eip_association/lb_zones.py through plan.py): every transition, table-driven, no I/O."""

from __future__ import annotations

import pytest
from ansible_collections.alicloud.eip.plugins.module_utils._eip_association import lb_zones
from ansible_collections.alicloud.eip.plugins.module_utils._eip_association.snapshot import holder_of
from ansible_collections.alicloud.eip.plugins.module_utils._util import InputError
from ansible_collections.alicloud.eip.tests.unit.plugins.module_utils.eip_association.fakes import (
    ECS1,
    eip,
    failure,
    instance,
    plan,
    want,
    want_list,
    world,
)

ZONES = ("cn-hangzhou-h", "cn-hangzhou-i")


def balancer(product, balancer_id, held=(), status="Active"):
    """A normalized load balancer (``_api.zonal_lb`` shape); ``held``: one allocation ID per zone (Internet)."""
    zones = [
        {
            "zone_id": zone,
            "vswitch_id": f"vsw-{zone[-1]}",
            "allocation_id": (held[index] if held else ""),
            "address": "",
            "eni_id": "",
        }
        for index, zone in enumerate(ZONES)
    ]
    return {
        "id": balancer_id,
        "product": product,
        "region_id": "cn-hangzhou",
        "status": status,
        "address_type": "Internet" if held else "Intranet",
        "vpc_id": "vpc-1",
        "locks": [],
        "zones": zones,
    }


def on_zone(allocation_id, record, zone):
    """An EIP held by a load balancer's zone, as gather leaves it (owner written)."""
    return eip(
        allocation_id,
        on=("NetworkInterface", f"eni-svc-{zone[-1]}"),
        service_managed=True,
        owner=lb_zones.owner_of(record, zone),
    )


def snapshot_of(product, held=(), free=("eip-a", "eip-b", "eip-c"), status="Active", extra=()):
    kind = {"alb": "Alb", "nlb": "Nlb"}[product]
    record = balancer(product, f"{product}-1", held, status)
    eips = [eip(key) for key in free] + [on_zone(key, record, zone) for key, zone in zip(held, ZONES)] + list(extra)
    return world(eips, [((kind, f"{product}-1"), record)])


def zone_item(allocation_id, zone, product="alb", **more):
    return {"allocation_id": allocation_id, "instance_id": f"{product}-1", "zone_id": zone, **more}


def calls(result):
    return [
        (change.action, change.address_type, [(z["zone_id"], z["allocation_id"]) for z in change.zones])
        for change in result.zonal
    ]


# ---- Intranet -> Internet ----------------------------------------------------------------------------------


@pytest.mark.parametrize("product", ["alb", "nlb"])
def test_intranet_to_internet_is_one_address_type_call_with_every_zone(product):
    result = plan(
        want_list(zone_item("eip-a", ZONES[0], product), zone_item("eip-b", ZONES[1], product)), snapshot_of(product)
    )
    assert calls(result) == [
        ("UpdateLoadBalancerAddressTypeConfig", "Internet", [(ZONES[0], "eip-a"), (ZONES[1], "eip-b")])
    ]
    assert [(s.kind, s.allocation_id, s.holder.instance_id, s.holder.zone_id, s.action) for s in result.steps] == [
        ("associate", "eip-a", f"{product}-1", ZONES[0], "UpdateLoadBalancerAddressTypeConfig"),
        ("associate", "eip-b", f"{product}-1", ZONES[1], "UpdateLoadBalancerAddressTypeConfig"),
    ]
    assert not result.disassociations and not result.associations  # nothing goes through AssociateEipAddress
    diff = result.diff.as_diff()
    assert diff["before"]["eip-a"]["instance_id"] == "" and diff["after"]["eip-a"]["zone_id"] == ZONES[0]


def test_intranet_to_internet_needs_every_zone():
    error = failure(want_list(zone_item("eip-a", ZONES[0])), snapshot_of("alb"))
    assert error.failures[0].code == lb_zones.ZONES_CODE
    assert "is internal (Intranet); making it Internet-facing needs an EIP for every zone" in str(error)
    assert "zone(s) cn-hangzhou-i have none" in str(error)


@pytest.mark.parametrize(
    ("other", "message"),
    [
        (eip("eip-b", on=ECS1), "EIP eip-b (47.0.0.{}) is InUse on i-1; a load balancer zone takes an Available EIP"),
        (eip("eip-b", status="Associating"), "is Associating; a load balancer zone takes an Available EIP"),
    ],
)
def test_every_zone_eip_must_be_available(other, message):
    snapshot = snapshot_of("alb", free=("eip-a",), extra=[other])
    error = failure(want_list(zone_item("eip-a", ZONES[0]), zone_item("eip-b", ZONES[1])), snapshot)
    assert error.failures[0].code == "IncorrectEipStatus"
    assert message.split("{}")[-1] in str(error)


def test_an_eip_of_another_region_is_not_found_before_any_call():
    error = failure(want_list(zone_item("eip-a", ZONES[0]), zone_item("eip-elsewhere", ZONES[1])), snapshot_of("alb"))
    assert error.failures[0].code == "InvalidAllocationId.NotFound"
    assert "EIP eip-elsewhere does not exist in region cn-hangzhou" in str(error)


def test_a_zone_the_load_balancer_does_not_have():
    error = failure(want_list(zone_item("eip-a", ZONES[0]), zone_item("eip-b", "cn-hangzhou-k")), snapshot_of("alb"))
    assert (
        "associations[1].zone_id=cn-hangzhou-k: ALB instance alb-1 has no such zone; its zones are "
        "cn-hangzhou-h, cn-hangzhou-i" in str(error)
    )


def test_a_load_balancer_that_is_configuring_is_waited_for_not_written():
    error = failure(
        want_list(zone_item("eip-a", ZONES[0]), zone_item("eip-b", ZONES[1])), snapshot_of("alb", status="Configuring")
    )
    assert error.failures[0].code == "IncorrectStatus.LoadBalancer" and "is Configuring" in str(error)


def test_in_place_while_configuring_is_no_change_not_a_refusal():
    snapshot = snapshot_of("nlb", held=("eip-a", "eip-b"), free=(), status="Configuring")
    result = plan(want_list(zone_item("eip-a", ZONES[0], "nlb"), zone_item("eip-b", ZONES[1], "nlb")), snapshot)
    assert not result.changed


def test_a_load_balancer_that_does_not_exist():
    snapshot = snapshot_of("alb")
    snapshot.resources[("Alb", "alb-1")] = None
    error = failure(want_list(zone_item("eip-a", ZONES[0])), snapshot)
    assert error.failures[0].code == "ResourceNotFound.LoadBalancer"


# ---- in place, swap ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("product", ["alb", "nlb"])
def test_every_zone_in_place_makes_no_call(product):
    result = plan(
        want_list(zone_item("eip-a", ZONES[0], product), zone_item("eip-b", ZONES[1], product)),
        snapshot_of(product, held=("eip-a", "eip-b"), free=()),
    )
    assert not result.changed and result.results == ["eip-a", "eip-b"]


@pytest.mark.parametrize(
    ("product", "action"),
    [("alb", "UpdateLoadBalancerAddressTypeConfig"), ("nlb", "UpdateLoadBalancerZones")],
)
def test_a_swap_uses_the_action_that_changes_it_with_the_full_zone_list(product, action):
    # ALB: UpdateLoadBalancerZones would answer ZoneMappingsNotChanged (TF #9309); NLB drops zones left out.
    result = plan(
        want_list(zone_item("eip-c", ZONES[1], product)), snapshot_of(product, held=("eip-a", "eip-b"), free=("eip-c",))
    )
    assert calls(result) == [(action, "Internet", [(ZONES[0], "eip-a"), (ZONES[1], "eip-c")])]
    assert [(s.kind, s.allocation_id, s.holder.zone_id) for s in result.steps] == [
        ("disassociate", "eip-b", ZONES[1]),
        ("associate", "eip-c", ZONES[1]),
    ]


def test_an_eip_on_another_zone_of_the_same_load_balancer_is_refused():
    error = failure(want_list(zone_item("eip-a", ZONES[1])), snapshot_of("alb", held=("eip-a", "eip-b"), free=()))
    assert "EIP eip-a" in str(error) and "is held by ALB alb-1 (zone cn-hangzhou-h)" in str(error)


# ---- taking EIPs off ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("product", ["alb", "nlb"])
def test_every_eip_off_needs_consent_and_goes_intranet(product):
    snapshot = snapshot_of(product, held=("eip-a", "eip-b"), free=())
    error = failure(want(instance_id=f"{product}-1", state="absent"), snapshot, state="absent")
    assert error.failures[0].code == lb_zones.CONSENT_CODE
    assert "turns it internal (Intranet): it leaves the internet. Set force: true" in str(error)
    result = plan(want(instance_id=f"{product}-1", state="absent"), snapshot, state="absent", force=True)
    assert calls(result) == [("UpdateLoadBalancerAddressTypeConfig", "Intranet", [(ZONES[0], ""), (ZONES[1], "")])]
    assert sorted(result.results) == ["eip-a", "eip-b"]
    assert {s.kind for s in result.steps} == {"disassociate"}


def test_naming_every_eip_of_the_load_balancer_is_the_same_as_naming_it():
    snapshot = snapshot_of("nlb", held=("eip-a", "eip-b"), free=())
    result = plan(
        want_list({"allocation_id": "eip-a"}, {"allocation_id": "eip-b"}, state="absent"),
        snapshot,
        state="absent",
        force=True,
    )
    assert calls(result)[0][:2] == ("UpdateLoadBalancerAddressTypeConfig", "Intranet")


def test_a_partial_disassociation_is_refused_with_the_reason():
    snapshot = snapshot_of("alb", held=("eip-a", "eip-b"), free=())
    error = failure(want(allocation_id="eip-a", state="absent"), snapshot, state="absent", force=True)
    assert error.failures[0].code == lb_zones.ZONES_CODE
    assert (
        "is Internet-facing and needs an EIP in every zone; taking off only eip-a would leave zone(s) "
        "cn-hangzhou-h without one" in str(error)
    )


def test_an_internal_load_balancer_has_nothing_to_take_off():
    result = plan(want(instance_id="alb-1", state="absent"), snapshot_of("alb"), state="absent", force=True)
    assert not result.changed


# ---- an EIP a load balancer holds, asked for elsewhere ----------------------------------------------------------


@pytest.mark.parametrize("allow", [False, True])
def test_moving_an_eip_a_load_balancer_holds_is_refused_naming_it(allow):
    snapshot = snapshot_of("nlb", held=("eip-a", "eip-b"), free=())
    snapshot.resources[ECS1] = instance("i-1")
    error = failure(want(allocation_id="eip-a", instance_id="i-1"), snapshot, allow=allow)
    assert error.failures[0].code == "IncorrectEipStatus"
    assert "is held by NLB nlb-1 (zone cn-hangzhou-h) and cannot be moved to ECS instance i-1" in str(error)
    assert "instance_id nlb-1, zone_id cn-hangzhou-h and another EIP" in str(error)


def test_the_holder_of_an_lb_eip_is_the_load_balancer_and_its_zone():
    record = on_zone("eip-a", balancer("alb", "alb-1", ("eip-a", "eip-b")), ZONES[0])
    holder = holder_of(record)
    assert (holder.instance_type, holder.instance_id, holder.zone_id) == ("Alb", "alb-1", ZONES[0])
    assert holder.describe() == "ALB instance alb-1 (zone cn-hangzhou-h)"


# ---- bad input, refused in validation -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"associations": [zone_item("eip-a", ZONES[0]), zone_item("eip-b", ZONES[0])]},
            "associations[0] and associations[1] both put an EIP on alb-1 at cn-hangzhou-h; it takes one EIP",
        ),
        (
            {"allocation_id": "eip-a", "instance_id": "alb-1", "instance_type": "Nlb", "zone_id": ZONES[0]},
            "instance_type=Nlb does not match instance_id=alb-1, which is an ALB instance ID",
        ),
        ({"allocation_id": "eip-a", "instance_id": "alb-1"}, "zone_id is required for an ALB instance (alb-1)"),
        (
            {"allocation_id": "eip-a", "instance_id": "i-1", "zone_id": ZONES[0]},
            "zone_id applies only to ALB and NLB instances",
        ),
        (
            {"allocation_id": "eip-a", "instance_id": "nlb-1", "zone_id": ZONES[0], "private_ip_address": "10.0.0.5"},
            "private_ip_address applies only to ENI targets",
        ),
    ],
)
def test_bad_input(options, message):
    with pytest.raises(InputError) as excinfo:
        want(**options)
    assert message in str(excinfo.value)


# ---- the owner lookup (gather) ----------------------------------------------------------------------------------


class LookupApi:
    """The API functions gather calls: two products, one NLB holding eip-a; records every call."""

    def __init__(self, alb_error=None):
        self.calls = []
        self.alb_error = alb_error
        self.nlb = balancer("nlb", "nlb-1", ("eip-a", "eip-b"))

    def list_alb_ids(self, connection):
        self.calls.append("list_alb_ids")
        if self.alb_error:
            raise self.alb_error
        return []

    def list_nlb_ids(self, connection):
        self.calls.append("list_nlb_ids")
        return ["nlb-1"]

    def describe_albs(self, connection, ids):
        self.calls.append(("describe_albs", tuple(ids)))
        return []

    def describe_nlbs(self, connection, ids):
        self.calls.append(("describe_nlbs", tuple(ids)))
        return [self.nlb]

    def describe_eip_addresses(self, connection, allocation_ids):
        self.calls.append(("describe_eip_addresses", tuple(allocation_ids)))
        return [eip(key) for key in allocation_ids]


def lookup(api, eips, named=()):
    from ansible_collections.alicloud.eip.plugins.module_utils._eip_association.targets import ZONAL

    resources = {}
    lb_zones.gather(None, api, eips, resources, list(named), ZONAL)
    return resources


def test_an_eip_on_a_service_managed_eni_gets_its_owner_from_a_scan_of_both_products():
    api = LookupApi()
    eips = {"eip-a": eip("eip-a", on=("NetworkInterface", "eni-svc"), service_managed=True)}
    lookup(api, eips)
    assert eips["eip-a"]["owner"] == {"type": "nlb", "id": "nlb-1", "zone_id": ZONES[0]}
    # The zone's other EIP is read too (for the diff and the results), once.
    assert api.calls == [
        "list_alb_ids",
        "list_nlb_ids",
        ("describe_nlbs", ("nlb-1",)),
        ("describe_eip_addresses", ("eip-b",)),
    ]


def test_no_scan_without_a_service_managed_eip_and_none_for_a_named_load_balancer():
    api = LookupApi()
    eips = {"eip-a": eip("eip-a", on=("NetworkInterface", "eni-svc"), service_managed=True), "eip-b": eip("eip-b")}
    lookup(api, eips, named=[("Nlb", "nlb-1")])
    assert "list_alb_ids" not in api.calls and eips["eip-a"]["owner"]["id"] == "nlb-1"
    quiet = LookupApi()
    lookup(quiet, {"eip-c": eip("eip-c", on=ECS1)})
    assert quiet.calls == []


def test_a_policy_without_the_alb_reads_leaves_alb_owners_unknown_but_finds_the_nlb():
    from ansible_collections.alicloud.eip.plugins.module_utils._retries import AlicloudApiError

    api = LookupApi(alb_error=AlicloudApiError("Forbidden.RAM", "not allowed"))
    eips = {"eip-a": eip("eip-a", on=("NetworkInterface", "eni-svc"), service_managed=True)}
    lookup(api, eips)
    assert eips["eip-a"]["owner"]["id"] == "nlb-1"
    broken = LookupApi(alb_error=AlicloudApiError("InternalError", "boom"))
    with pytest.raises(AlicloudApiError):
        lookup(broken, {"eip-a": eip("eip-a", on=("NetworkInterface", "eni-svc"), service_managed=True)})
