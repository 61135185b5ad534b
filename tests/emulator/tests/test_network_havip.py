"""VPC DescribeVpcs / DescribeVSwitches and the HaVip actions through the real SDK (alibaba-api.md §6)."""

from __future__ import annotations

import json
import urllib.error

import pytest
from alibabacloud_vpc20160428 import models as m
from alibabacloud_vpc20160428.client import Client as VpcClient

from tests.emulator.tests.conftest import REGION, api_error, make_config
from tests.emulator.tests.network_support import bind_eip, world_with


def failure(call) -> tuple[str, int]:
    with pytest.raises(Exception) as excinfo:
        call()
    return api_error(excinfo)


# ---- DescribeVpcs / DescribeVSwitches --------------------------------------------------------------


def test_describe_vpcs(vpc):
    body = vpc.describe_vpcs(m.DescribeVpcsRequest(region_id=REGION)).body
    views = {v.vpc_id: v for v in body.vpcs.vpc}
    assert set(views) == {"vpc-main", "vpc-gw"} and body.total_count == 2
    assert views["vpc-main"].cidr_block == "10.0.0.0/8"
    assert views["vpc-main"].v_switch_ids.v_switch_id == ["vsw-a", "vsw-b"]
    assert views["vpc-main"].nat_gateway_ids.nat_gateway_ids == ["ngw-new", "ngw-old"]
    only = vpc.describe_vpcs(m.DescribeVpcsRequest(region_id=REGION, vpc_id="vpc-gw,vpc-none")).body
    assert [v.vpc_id for v in only.vpcs.vpc] == ["vpc-gw"]
    assert vpc.describe_vpcs(m.DescribeVpcsRequest(region_id=REGION, is_default=True)).body.total_count == 0


def test_describe_vpcs_page_size_is_capped_at_50(vpc):
    assert failure(lambda: vpc.describe_vpcs(m.DescribeVpcsRequest(region_id=REGION, page_size=51))) == (
        "InvalidParameter",
        400,
    )


def test_describe_vswitches_counts_free_addresses(vpc, ecs):
    def count(vswitch_id):
        body = vpc.describe_vswitches(m.DescribeVSwitchesRequest(region_id=REGION, v_switch_id=vswitch_id)).body
        return body.v_switches.v_switch[0].available_ip_address_count

    # A /24 hands out .1-.252 (.0 and .253-.255 are reserved); nothing in vsw-b holds an address.
    assert count("vsw-b") == 252
    # vsw-a: the primary ENIs of 5 instances, eni-free (1), eni-multi (3), eni-attached (1), the CLB and havip-1.
    assert count("vsw-a") == 252 - 5 - 1 - 3 - 1 - 1 - 1
    body = vpc.describe_vswitches(
        m.DescribeVSwitchesRequest(region_id=REGION, vpc_id="vpc-main", zone_id="cn-hangzhou-h")
    ).body
    assert [v.v_switch_id for v in body.v_switches.v_switch] == ["vsw-a", "vsw-b"]
    assert body.v_switches.v_switch[0].cidr_block == "10.1.0.0/24"


# ---- CreateHaVip ------------------------------------------------------------------------------------


def create(vpc, **kwargs):
    kwargs.setdefault("v_switch_id", "vsw-b")
    return vpc.create_ha_vip(m.CreateHaVipRequest(region_id=REGION, **kwargs)).body


def havips(vpc, **filters):
    request = m.DescribeHaVipsRequest(
        region_id=REGION, filter=[m.DescribeHaVipsRequestFilter(key=key, value=value) for key, value in filters.items()]
    )
    return vpc.describe_ha_vips(request).body


def havip(vpc, havip_id):
    return havips(vpc, HaVipId=[havip_id]).ha_vips.ha_vip[0]


def test_create_is_asynchronous(vpc, control):
    control.delays(havip_create=5)
    body = create(vpc, name="vip", description="for keepalived", tag=[m.CreateHaVipRequestTag(key="k", value="v")])
    assert body.ip_address == "10.2.0.1"
    view = havip(vpc, body.ha_vip_id)
    assert (view.status, view.name, view.description, view.v_switch_id, view.vpc_id) == (
        "Creating",
        "vip",
        "for keepalived",
        "vsw-b",
        "vpc-main",
    )
    assert [(t.key, t.value) for t in view.tags.tag] == [("k", "v")]
    control.advance(6)
    assert havip(vpc, body.ha_vip_id).status == "Available"


def test_create_with_a_chosen_address(vpc):
    assert create(vpc, ip_address="10.2.0.77").ip_address == "10.2.0.77"
    assert failure(lambda: create(vpc, ip_address="10.2.0.77")) == ("InvalidIPAddress.AlreadyUsed", 400)


@pytest.mark.parametrize(
    "kwargs,expected",
    [
        ({"ip_address": "10.2.1.5"}, ("InvalidIPAddress.OutOfRange", 400)),
        ({"ip_address": "10.2.0.253"}, ("InvalidIPAddress.NotAvailable", 400)),
        ({"ip_address": "10.2.0.0"}, ("InvalidIPAddress.NotAvailable", 400)),
        ({"ip_address": "10.2.0"}, ("InvalidIPAddress.Malformed", 400)),
        ({"ip_address": "10.1.0.200", "v_switch_id": "vsw-a"}, ("InvalidIPAddress.AlreadyUsed", 400)),
        ({"v_switch_id": "vsw-nothere"}, ("InvalidVSwitch.NotFound", 400)),
        ({"name": "n" * 129}, ("InvalidName.Malformed", 400)),
        ({"description": "http://example"}, ("InvalidDescription.Malformed", 400)),
        ({"v_switch_id": None}, ("MissingParameter", 400)),
    ],
)
def test_create_rules(vpc, kwargs, expected):
    assert failure(lambda: create(vpc, **kwargs)) == expected


def test_create_when_the_vswitch_is_full(vpc, control):
    control.load(
        world_with(
            vpcs=[
                {
                    "id": "vpc-tiny",
                    "cidr": "192.168.0.0/16",
                    "vswitches": [{"id": "vsw-tiny", "cidr": "192.168.9.0/29"}],
                }
            ],
            enis=[
                {
                    "id": "eni-tiny",
                    "vswitch": "vsw-tiny",
                    "private_ips": ["192.168.9.1", "192.168.9.2", "192.168.9.3", "192.168.9.4"],
                }
            ],
        )
    )
    assert failure(lambda: create(vpc, v_switch_id="vsw-tiny")) == ("InvalidIPAddress.NotAvailable", 400)


# ---- DescribeHaVips ---------------------------------------------------------------------------------


def test_filters_or_values_and_keys(vpc, control):
    control.load(
        world_with(
            havips=[
                {"id": "havip-2", "vswitch": "vsw-b", "ip": "10.2.0.10"},
                {"id": "havip-3", "vswitch": "vsw-gw", "ip": "172.16.1.10"},
            ]
        )
    )

    def ids(body):
        return [h.ha_vip_id for h in body.ha_vips.ha_vip]

    assert ids(havips(vpc)) == ["havip-1", "havip-2", "havip-3"]
    assert ids(havips(vpc, HaVipId=["havip-1", "havip-3"])) == ["havip-1", "havip-3"]
    assert ids(havips(vpc, VpcId=["vpc-main"], HaVipAddress=["10.2.0.10", "172.16.1.10"])) == ["havip-2"]
    assert ids(havips(vpc, VSwitchId=["vsw-gw"], Status=["Available"])) == ["havip-3"]


def test_unknown_filter_key(vpc):
    assert failure(lambda: havips(vpc, Colour=["red"])) == ("InvalidFilterKey.NotFound", 404)


def test_more_than_five_filters(vpc):
    request = m.DescribeHaVipsRequest(
        region_id=REGION, filter=[m.DescribeHaVipsRequestFilter(key="HaVipId", value=["havip-1"]) for _copy in range(6)]
    )
    assert failure(lambda: vpc.describe_ha_vips(request)) == ("InvalidParameter", 400)


def test_page_size_max_50(vpc):
    assert failure(lambda: vpc.describe_ha_vips(m.DescribeHaVipsRequest(region_id=REGION, page_size=51))) == (
        "InvalidParameter",
        400,
    )


def test_tags_filter_uses_the_tags_parameter(vpc):
    created = create(vpc, tag=[m.CreateHaVipRequestTag(key="app", value="db")]).ha_vip_id
    request = m.DescribeHaVipsRequest(region_id=REGION, tags=[m.DescribeHaVipsRequestTags(key="app", value="db")])
    assert [h.ha_vip_id for h in vpc.describe_ha_vips(request).body.ha_vips.ha_vip] == [created]


def test_a_world_havip_carries_its_tags(vpc, control):
    control.load(world_with(havips=[{"id": "havip-tagged", "vswitch": "vsw-b", "tags": {"havip-failover/vrid": "51"}}]))
    request = m.DescribeHaVipsRequest(
        region_id=REGION, tags=[m.DescribeHaVipsRequestTags(key="havip-failover/vrid", value="51")]
    )
    views = vpc.describe_ha_vips(request).body.ha_vips.ha_vip
    assert [h.ha_vip_id for h in views] == ["havip-tagged"]
    assert [(t.key, t.value) for t in views[0].tags.tag] == [("havip-failover/vrid", "51")]
    assert [(t.key, t.value) for t in havip(vpc, "havip-1").tags.tag] == []


def test_associated_eip_addresses_use_the_sdk_inner_key(vpc, server):
    bind_eip(server, "eip-a", "HaVip", "havip-1")
    view = havip(vpc, "havip-1")
    assert view.associated_eip_addresses.associated_eip_addresse == ["47.96.1.10"]
    bind_eip(server, "eip-a", "HaVip", "havip-1", Status="Associating")
    assert havip(vpc, "havip-1").associated_eip_addresses.associated_eip_addresse == []


# ---- DeleteHaVip -------------------------------------------------------------------------------------


def delete(vpc, havip_id):
    return vpc.delete_ha_vip(m.DeleteHaVipRequest(region_id=REGION, ha_vip_id=havip_id))


def test_delete_frees_the_address(vpc):
    delete(vpc, "havip-1")
    assert havips(vpc, HaVipId=["havip-1"]).total_count == 0
    assert create(vpc, v_switch_id="vsw-a", ip_address="10.1.0.200").ip_address == "10.1.0.200"


def test_delete_rules(vpc, server, control):
    assert failure(lambda: delete(vpc, "havip-nothere")) == ("InvalidHaVipId.NotFound", 404)
    bind_eip(server, "eip-a", "HaVip", "havip-1", Status="Associating")
    assert failure(lambda: delete(vpc, "havip-1")) == ("DependencyViolation.HaVipAssociatedWithEIP", 400)
    control.load(world_with())
    associate(vpc, "havip-1", "i-running")
    assert failure(lambda: delete(vpc, "havip-1")) == ("IncorrectStatus", 400)


# ---- AssociateHaVip / UnassociateHaVip ---------------------------------------------------------------


def associate(vpc, havip_id, instance_id, instance_type=None):
    request = m.AssociateHaVipRequest(
        region_id=REGION, ha_vip_id=havip_id, instance_id=instance_id, instance_type=instance_type
    )
    return vpc.associate_ha_vip(request)


def unassociate(vpc, havip_id, instance_id, force=None):
    request = m.UnassociateHaVipRequest(region_id=REGION, ha_vip_id=havip_id, instance_id=instance_id, force=force)
    return vpc.unassociate_ha_vip(request)


def test_associate_two_instances_then_unassociate(vpc, control, signature, server):
    client = VpcClient(make_config(server.endpoint, signature))
    control.delays(havip_associate=3)
    associate(client, "havip-1", "i-running")
    assert havip(client, "havip-1").status == "Associating"
    control.advance(4)
    view = havip(client, "havip-1")
    assert (view.status, view.master_instance_id) == ("InUse", "i-running")
    associate(client, "havip-1", "i-stopped")
    control.advance(4)
    assert havip(client, "havip-1").associated_instances.associated_instance == ["i-running", "i-stopped"]
    # The master cannot leave while the backup remains, unless forced (booleans travel as "True").
    assert failure(lambda: unassociate(client, "havip-1", "i-running", force=False)) == (
        "Forbidden.UnassociateMaster",
        400,
    )
    unassociate(client, "havip-1", "i-running", force=True)
    assert havip(client, "havip-1").status == "Unassociating"
    control.advance(4)
    view = havip(client, "havip-1")
    assert (view.status, view.master_instance_id, view.associated_instances.associated_instance) == (
        "InUse",
        "i-stopped",
        ["i-stopped"],
    )
    unassociate(client, "havip-1", "i-stopped")
    control.advance(4)
    view = havip(client, "havip-1")
    assert (view.status, view.master_instance_id, view.associated_instances.associated_instance) == (
        "Available",
        "",
        [],
    )


def test_associate_an_eni(vpc):
    associate(vpc, "havip-1", "eni-free", "NetworkInterface")
    view = havip(vpc, "havip-1")
    assert (view.associated_instance_type, view.associated_instances.associated_instance) == (
        "NetworkInterface",
        ["eni-free"],
    )


def test_at_most_two_instances(vpc, control):
    control.load(world_with(instances=[{"id": "i-third", "vswitch": "vsw-a"}]))
    associate(vpc, "havip-1", "i-running")
    associate(vpc, "havip-1", "i-stopped")
    assert failure(lambda: associate(vpc, "havip-1", "i-third")) == ("CountLimitExceed.HaVipOnInstance", 400)
    assert failure(lambda: associate(vpc, "havip-1", "i-running")) == ("InvalidAssociation.Duplicated", 400)


@pytest.mark.parametrize(
    "havip_id,instance_id,instance_type,expected",
    [
        ("havip-nothere", "i-running", None, ("InvalidHaVipId.NotFound", 404)),
        ("havip-1", "i-nothere", None, ("InvalidInstanceId.NotFound", 404)),
        ("havip-1", "eni-nothere", "NetworkInterface", ("InvalidInstanceId.NotFound", 404)),
        ("havip-1", "i-starting", None, ("IncorrectInstanceStatus", 400)),
        ("havip-1", "i-gwvpc", None, ("InvalidVSwitchId.Mismatch", 400)),
        ("havip-1", "i-running", "Router", ("InvalidParameter", 400)),
    ],
)
def test_associate_rules(vpc, havip_id, instance_id, instance_type, expected):
    assert failure(lambda: associate(vpc, havip_id, instance_id, instance_type)) == expected


def test_associate_needs_available_or_in_use(vpc, control):
    control.delays(havip_create=60)
    created = create(vpc, v_switch_id="vsw-a").ha_vip_id
    assert failure(lambda: associate(vpc, created, "i-running")) == ("IncorrectHaVipStatus", 400)


def test_unassociate_rules(vpc, control):
    assert failure(lambda: unassociate(vpc, "havip-1", "i-running")) == ("IncorrectHaVipStatus", 400)
    associate(vpc, "havip-1", "i-running")
    assert failure(lambda: unassociate(vpc, "havip-1", "i-stopped")) == ("ResourceNotAssociated", 400)
    assert failure(lambda: unassociate(vpc, "havip-1", "i-starting")) == ("IncorrectInstanceStatus", 400)
    assert failure(lambda: unassociate(vpc, "havip-nothere", "i-running")) == ("InvalidHaVipId.NotFound", 404)


# ---- the platform's side of a failover: /_emulator/havip_master -------------------------------------


def test_control_moves_the_master_to_an_associated_instance(vpc, control):
    associate(vpc, "havip-1", "i-running")
    associate(vpc, "havip-1", "i-stopped")
    control.advance(1)
    assert havip(vpc, "havip-1").master_instance_id == "i-running"
    assert control.call("POST", "havip_master", {"HaVipId": "havip-1", "InstanceId": "i-stopped"}) == {
        "HaVipId": "havip-1",
        "MasterInstanceId": "i-stopped",
    }
    view = havip(vpc, "havip-1")
    assert (view.master_instance_id, view.associated_instances.associated_instance) == (
        "i-stopped",
        ["i-running", "i-stopped"],
    )
    # The master now is the one UnassociateHaVip Force=False refuses.
    assert failure(lambda: unassociate(vpc, "havip-1", "i-stopped", force=False)) == ("Forbidden.UnassociateMaster", 400)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"HaVipId": "havip-none", "InstanceId": "i-running"}, "no HaVip havip-none"),
        ({"HaVipId": "havip-1", "InstanceId": "i-stopped"}, "i-stopped is not associated with HaVip havip-1"),
    ],
)
def test_control_refuses_a_master_that_cannot_be(vpc, control, payload, message):
    associate(vpc, "havip-1", "i-running")
    control.advance(1)
    with pytest.raises(urllib.error.HTTPError) as excinfo:
        control.call("POST", "havip_master", payload)
    assert excinfo.value.code == 400
    assert message in json.loads(excinfo.value.read())["error"]
    assert havip(vpc, "havip-1").master_instance_id == "i-running"
