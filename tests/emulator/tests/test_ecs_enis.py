"""ECS elastic network interface actions through the real SDK (alibaba-api.md §8.1-8.6)."""

from __future__ import annotations

import pytest
from alibabacloud_ecs20140526 import models as m
from alibabacloud_vpc20160428 import models as vpc_models

from tests.emulator.tests.conftest import REGION, api_error
from tests.emulator.tests.network_support import SECURITY_GROUPS, bind_eip, world_with


def describe(ecs, **kwargs):
    return ecs.describe_network_interfaces(m.DescribeNetworkInterfacesRequest(region_id=REGION, **kwargs)).body


def eni(ecs, eni_id: str):
    return describe(ecs, network_interface_id=[eni_id]).network_interface_sets.network_interface_set[0]


def addresses(view) -> list[str]:
    return [entry.private_ip_address for entry in view.private_ip_sets.private_ip_set]


def failure(call) -> tuple[str, int]:
    with pytest.raises(Exception) as excinfo:
        call()
    return api_error(excinfo)


def free_count(vpc, vswitch_id: str) -> int:
    body = vpc.describe_vswitches(vpc_models.DescribeVSwitchesRequest(region_id=REGION, v_switch_id=vswitch_id)).body
    return body.v_switches.v_switch[0].available_ip_address_count


@pytest.fixture
def sg_world(control):
    """BASE_WORLD with a security group per VPC (CreateNetworkInterface needs one)."""
    control.load(world_with(security_groups=SECURITY_GROUPS))
    return control


# ---- DescribeNetworkInterfaces ----------------------------------------------------------------------


def test_describe_by_ids_and_filters(ecs):
    body = describe(ecs, network_interface_id=["eni-multi", "eni-free"])
    assert [v.network_interface_id for v in body.network_interface_sets.network_interface_set] == [
        "eni-free",
        "eni-multi",
    ]
    assert [
        v.network_interface_id
        for v in describe(ecs, instance_id="i-running").network_interface_sets.network_interface_set
    ] == [
        "eni-attached",
        "eni-running",
    ]
    secondaries = describe(
        ecs, type="Secondary", status="Available", vpc_id="vpc-main"
    ).network_interface_sets.network_interface_set
    assert [v.network_interface_id for v in secondaries] == ["eni-free", "eni-multi"]


def test_describe_by_private_ip_and_primary_ip(ecs):
    by_secondary = describe(ecs, private_ip_address=["10.1.0.62"]).network_interface_sets.network_interface_set
    assert [v.network_interface_id for v in by_secondary] == ["eni-multi"]
    by_primary = describe(ecs, primary_ip_address="10.1.0.60").network_interface_sets.network_interface_set
    assert [v.network_interface_id for v in by_primary] == ["eni-multi"]
    assert describe(ecs, primary_ip_address="10.1.0.61").total_count == 0


def test_describe_shape_of_an_attached_secondary_eni(ecs):
    view = eni(ecs, "eni-attached")
    assert (view.status, view.type, view.instance_id) == ("InUse", "Secondary", "i-running")
    assert view.attachment.instance_id == "i-running" and view.attachment.device_index == 1
    assert view.private_ip_address == "10.1.0.70"
    assert view.mac_address.startswith("00:16:3e:")
    assert eni(ecs, "eni-free").attachment is None


def test_associated_public_ip_per_private_address(ecs, server):
    bind_eip(server, "eip-a", "NetworkInterface", "eni-multi", PrivateIpAddress="10.1.0.61")
    bind_eip(server, "eip-b", "NetworkInterface", "eni-multi", PrivateIpAddress="10.1.0.60")
    view = eni(ecs, "eni-multi")
    by_address = {entry.private_ip_address: entry.associated_public_ip for entry in view.private_ip_sets.private_ip_set}
    assert by_address["10.1.0.61"].public_ip_address == "47.96.1.10"
    assert by_address["10.1.0.61"].allocation_id == "eip-a"
    assert by_address["10.1.0.62"] is None
    # The top-level AssociatedPublicIp is the primary address's.
    assert view.associated_public_ip.allocation_id == "eip-b"


def test_an_eip_still_associating_is_not_on_the_eni_record(ecs, server):
    """The record shows bound EIPs only; the association engine reads what an ENI holds from it (issue 14)."""
    bind_eip(server, "eip-a", "NetworkInterface", "eni-multi", PrivateIpAddress="10.1.0.61", Status="Associating")
    view = eni(ecs, "eni-multi")
    assert view.associated_public_ip is None
    assert all(entry.associated_public_ip is None for entry in view.private_ip_sets.private_ip_set)


def test_cut_through_bindings_show_on_the_eni_record(ecs, server):
    """UNCONFIRMED [fid:eni-associated-public-ip] whether the real record shows cut-through bindings: the emulator
    shows a BINDED EIP at the ENI's primary address (and at the top level), a MULTI_BINDED one at its address."""
    bind_eip(server, "eip-a", "NetworkInterface", "eni-free", Mode="BINDED", PrivateIpAddress="10.1.0.50")
    bind_eip(server, "eip-b", "NetworkInterface", "eni-multi", Mode="MULTI_BINDED", PrivateIpAddress="10.1.0.62")
    free = eni(ecs, "eni-free")
    assert free.private_ip_address == "10.1.0.50"
    assert free.associated_public_ip.allocation_id == "eip-a"
    assert free.private_ip_sets.private_ip_set[0].associated_public_ip.allocation_id == "eip-a"
    by_address = {
        entry.private_ip_address: entry.associated_public_ip
        for entry in eni(ecs, "eni-multi").private_ip_sets.private_ip_set
    }
    assert by_address["10.1.0.62"].allocation_id == "eip-b" and by_address["10.1.0.61"] is None


def test_instance_eip_is_the_primary_enis_public_ip(ecs, server):
    bind_eip(server, "eip-a", "EcsInstance", "i-running")
    assert eni(ecs, "eni-running").associated_public_ip.public_ip_address == "47.96.1.10"
    assert eni(ecs, "eni-fixedip").associated_public_ip.public_ip_address == "121.40.1.1"
    assert eni(ecs, "eni-stopped").associated_public_ip is None


def test_next_token_paging(ecs, control):
    control.load(world_with(enis=[{"id": f"eni-extra-{n}", "vswitch": "vsw-b"} for n in range(6)]))
    first = describe(ecs, max_results=10)
    assert len(first.network_interface_sets.network_interface_set) == 10 and first.next_token
    second = describe(ecs, max_results=10, next_token=first.next_token)
    assert second.next_token == ""
    everything = (
        first.network_interface_sets.network_interface_set + second.network_interface_sets.network_interface_set
    )
    assert (
        len({v.network_interface_id for v in everything})
        == first.total_count
        == 10 + len(second.network_interface_sets.network_interface_set)
    )


def test_max_results_below_ten_is_refused(ecs):
    assert failure(lambda: describe(ecs, max_results=5)) == ("InvalidParameter", 400)


def test_status_filter_value_is_validated(ecs):
    assert failure(lambda: describe(ecs, status="Broken")) == ("InvalidParameter", 400)


# ---- CreateNetworkInterface -----------------------------------------------------------------------


def create(ecs, **kwargs):
    kwargs.setdefault("security_group_id", "sg-main")
    return ecs.create_network_interface(
        m.CreateNetworkInterfaceRequest(region_id=REGION, v_switch_id="vsw-b", **kwargs)
    ).body


def test_create_takes_the_lowest_free_address_and_is_available(ecs, vpc, sg_world):
    before = free_count(vpc, "vsw-b")
    body = create(ecs, network_interface_name="app-eni", secondary_private_ip_address_count=2)
    assert body.status == "Available" and body.type == "Secondary"
    assert body.private_ip_address == "10.2.0.1"
    assert [entry.private_ip_address for entry in body.private_ip_sets.private_ip_set] == [
        "10.2.0.1",
        "10.2.0.2",
        "10.2.0.3",
    ]
    assert free_count(vpc, "vsw-b") == before - 3
    view = eni(ecs, body.network_interface_id)
    assert (view.network_interface_name, view.v_switch_id, view.vpc_id) == ("app-eni", "vsw-b", "vpc-main")
    assert view.security_group_ids.security_group_id == ["sg-main"]


def test_create_with_chosen_addresses_and_tags(ecs, sg_world):
    body = create(
        ecs,
        primary_ip_address="10.2.0.100",
        private_ip_address=["10.2.0.101", "10.2.0.102"],
        tag=[m.CreateNetworkInterfaceRequestTag(key="team", value="net")],
    )
    assert [entry.private_ip_address for entry in body.private_ip_sets.private_ip_set] == [
        "10.2.0.100",
        "10.2.0.101",
        "10.2.0.102",
    ]
    tagged = describe(ecs, tag=[m.DescribeNetworkInterfacesRequestTag(key="team", value="net")])
    assert [v.network_interface_id for v in tagged.network_interface_sets.network_interface_set] == [
        body.network_interface_id
    ]


def test_create_with_client_token_is_idempotent(ecs, sg_world):
    first = create(ecs, client_token="token-eni-1")
    again = create(ecs, client_token="token-eni-1")
    assert first.network_interface_id == again.network_interface_id
    assert describe(ecs, v_switch_id="vsw-b").total_count == 1


@pytest.mark.parametrize(
    "kwargs,expected",
    [
        ({"primary_ip_address": "10.9.0.5"}, ("InvalidVSwitchId.IpInvalid", 403)),
        ({"primary_ip_address": "10.2.0.253"}, ("InvalidVSwitchId.IpInvalid", 403)),
        ({"primary_ip_address": "10.2.0.x"}, ("InvalidIp.Address", 403)),
        ({"private_ip_address": ["10.2.0.7", "10.2.0.7"]}, ("InvalidIp.IpRepeated", 403)),
        (
            {"private_ip_address": ["10.2.0.7"], "secondary_private_ip_address_count": 1},
            ("InvalidParameter.Conflict", 400),
        ),
        ({"secondary_private_ip_address_count": 50}, ("InvalidParameter", 400)),
        ({"secondary_private_ip_address_count": 20}, ("InvalidOperation.Ipv4CountExceeded", 400)),
        ({"network_interface_name": "x"}, ("InvalidParameter", 400)),
        ({"security_group_id": None}, ("MissingParameter", 400)),
        ({"security_group_id": "sg-nothere"}, ("InvalidSecurityGroupId.NotFound", 404)),
        ({"security_group_id": "sg-gw"}, ("InvalidOperation.VpcMismatch", 403)),
        ({"security_group_ids": ["sg-main"]}, ("InvalidParameter.Conflict", 400)),
        ({"tag": [m.CreateNetworkInterfaceRequestTag(key="", value="v")]}, ("InvalidTagKey.Malformed", 400)),
        ({"tag": [m.CreateNetworkInterfaceRequestTag(key="acs:x", value="v")]}, ("InvalidTagKey.Malformed", 400)),
        ({"tag": [m.CreateNetworkInterfaceRequestTag(key="k", value="aliyun-v")]}, ("InvalidTagValue.Malformed", 400)),
        (
            {
                "tag": [
                    m.CreateNetworkInterfaceRequestTag(key="k", value="1"),
                    m.CreateNetworkInterfaceRequestTag(key="k", value="2"),
                ]
            },
            ("Duplicate.TagKey", 400),
        ),
    ],
)
def test_create_rules(ecs, sg_world, kwargs, expected):
    assert failure(lambda: create(ecs, **kwargs)) == expected


def test_create_with_security_group_ids_list(ecs, sg_world):
    body = create(ecs, security_group_id=None, security_group_ids=["sg-main"])
    assert body.security_group_ids.security_group_id == ["sg-main"]


def test_create_refuses_an_address_in_use(ecs, sg_world):
    create(ecs, primary_ip_address="10.2.0.20")
    assert failure(lambda: create(ecs, primary_ip_address="10.2.0.20")) == ("InvalidPrivateIpAddress.Duplicated", 400)


def test_create_in_unknown_vswitch(ecs, sg_world):
    request = m.CreateNetworkInterfaceRequest(region_id=REGION, v_switch_id="vsw-nothere", security_group_id="sg-main")
    assert failure(lambda: ecs.create_network_interface(request)) == ("InvalidVSwitchId.NotFound", 404)


def test_create_when_the_vswitch_is_full(ecs, control):
    control.load(
        world_with(
            security_groups=SECURITY_GROUPS + [{"id": "sg-tiny", "vpc": "vpc-tiny"}],
            vpcs=[
                {
                    "id": "vpc-tiny",
                    "cidr": "192.168.0.0/16",
                    "vswitches": [{"id": "vsw-tiny", "cidr": "192.168.9.0/29"}],
                }
            ],
        )
    )
    request = m.CreateNetworkInterfaceRequest(region_id=REGION, v_switch_id="vsw-tiny", security_group_id="sg-tiny")
    # A /29 hands out 4 addresses (.1-.4; .5 is the gateway, .0 and .6-.7 are reserved).
    ecs.create_network_interface(request)
    request.secondary_private_ip_address_count = 3
    assert failure(lambda: ecs.create_network_interface(request)) == ("InvalidVSwitchId.IpNotEnough", 403)
    request.secondary_private_ip_address_count = 2
    assert len(ecs.create_network_interface(request).body.private_ip_sets.private_ip_set) == 3


# ---- DeleteNetworkInterface -----------------------------------------------------------------------


def delete(ecs, eni_id):
    return ecs.delete_network_interface(m.DeleteNetworkInterfaceRequest(region_id=REGION, network_interface_id=eni_id))


def test_delete_available_eni_frees_its_addresses(ecs, vpc):
    before = free_count(vpc, "vsw-a")
    delete(ecs, "eni-multi")
    assert describe(ecs, network_interface_id=["eni-multi"]).total_count == 0
    assert free_count(vpc, "vsw-a") == before + 3


def test_delete_rules(ecs, server):
    assert failure(lambda: delete(ecs, "eni-nothere")) == ("InvalidEniId.NotFound", 404)
    assert failure(lambda: delete(ecs, "eni-attached")) == ("InvalidOperation.InvalidEniState", 400)
    bind_eip(server, "eip-a", "NetworkInterface", "eni-free", Mode="BINDED")
    assert failure(lambda: delete(ecs, "eni-free")) == ("InvalidOperation.EipBound", 403)


# ---- AttachNetworkInterface / DetachNetworkInterface ---------------------------------------------


def attach(ecs, eni_id, instance_id):
    request = m.AttachNetworkInterfaceRequest(region_id=REGION, network_interface_id=eni_id, instance_id=instance_id)
    return ecs.attach_network_interface(request)


def detach(ecs, eni_id, instance_id):
    request = m.DetachNetworkInterfaceRequest(region_id=REGION, network_interface_id=eni_id, instance_id=instance_id)
    return ecs.detach_network_interface(request)


def test_attach_is_asynchronous_and_sets_device_index(ecs, control):
    control.delays(eni_attach=30)
    attach(ecs, "eni-free", "i-running")
    view = eni(ecs, "eni-free")
    assert (view.status, view.instance_id, view.attachment.device_index) == ("Attaching", "i-running", 2)
    # Margins of seconds: the emulated clock is real time plus the offset, and real time moves on too.
    control.advance(20)
    assert eni(ecs, "eni-free").status == "Attaching"
    control.advance(11)
    assert eni(ecs, "eni-free").status == "InUse"


def test_attach_reuses_the_lowest_free_device_index(ecs, control):
    detach(ecs, "eni-attached", "i-running")
    attach(ecs, "eni-free", "i-running")
    assert eni(ecs, "eni-free").attachment.device_index == 1


def test_detach_is_asynchronous(ecs, control):
    control.delays(eni_detach=10)
    detach(ecs, "eni-attached", "i-running")
    assert eni(ecs, "eni-attached").status == "Detaching"
    control.advance(11)
    view = eni(ecs, "eni-attached")
    assert (view.status, view.instance_id, view.attachment) == ("Available", "", None)


@pytest.mark.parametrize(
    "eni_id,instance_id,expected",
    [
        ("eni-nothere", "i-running", ("InvalidEniId.NotFound", 404)),
        ("eni-free", "i-nothere", ("InvalidEcsId.NotFound", 404)),
        ("eni-attached", "i-stopped", ("InvalidOperation.InvalidEniState", 400)),
        ("eni-free", "i-starting", ("InvalidOperation.InvalidEcsState", 400)),
        ("eni-free", "i-gwvpc", ("InvalidOperation.VpcMismatch", 403)),
        ("eni-gwvpc", "i-running", ("InvalidOperation.VpcMismatch", 403)),
    ],
)
def test_attach_rules(ecs, eni_id, instance_id, expected):
    assert failure(lambda: attach(ecs, eni_id, instance_id)) == expected


def test_attach_needs_the_same_zone(ecs, control):
    control.load(
        world_with(
            vpcs=[
                {
                    "id": "vpc-two-zones",
                    "cidr": "192.168.0.0/16",
                    "vswitches": [
                        {"id": "vsw-h", "zone": "cn-hangzhou-h", "cidr": "192.168.1.0/24"},
                        {"id": "vsw-i", "zone": "cn-hangzhou-i", "cidr": "192.168.2.0/24"},
                    ],
                }
            ],
            instances=[{"id": "i-zone-h", "vswitch": "vsw-h"}],
            enis=[{"id": "eni-zone-i", "vswitch": "vsw-i"}],
        )
    )
    assert failure(lambda: attach(ecs, "eni-zone-i", "i-zone-h")) == ("InvalidOperation.AvailabilityZoneMismatch", 403)


def test_attach_stopped_instance_is_allowed(ecs):
    attach(ecs, "eni-free", "i-stopped")
    assert eni(ecs, "eni-free").status == "InUse"


def test_eni_count_limit_per_instance(ecs, control):
    control.load(
        world_with(
            instances=[{"id": "i-two", "vswitch": "vsw-b", "max_enis": 2}],
            enis=[{"id": "eni-b1", "vswitch": "vsw-b"}, {"id": "eni-b2", "vswitch": "vsw-b"}],
        )
    )
    attach(ecs, "eni-b1", "i-two")
    assert failure(lambda: attach(ecs, "eni-b2", "i-two")) == ("EniPerInstanceLimitExceeded", 403)


@pytest.mark.parametrize(
    "eni_id,instance_id,expected",
    [
        ("eni-running", "i-running", ("InvalidOperation.DetachPrimaryEniNotAllowed", 400)),
        ("eni-free", "i-running", ("InvalidOperation.InvalidEniState", 400)),
        ("eni-attached", "i-stopped", ("InvalidOperation.InvalidEniState", 400)),
        ("eni-nothere", "i-running", ("InvalidEniId.NotFound", 404)),
        ("eni-attached", "i-nothere", ("InvalidEcsId.NotFound", 404)),
    ],
)
def test_detach_rules(ecs, eni_id, instance_id, expected):
    assert failure(lambda: detach(ecs, eni_id, instance_id)) == expected


def test_detach_needs_an_operable_instance(ecs, control):
    control.load(
        world_with(
            instances=[{"id": "i-pending", "vswitch": "vsw-b", "status": "Pending"}],
            enis=[{"id": "eni-on-pending", "vswitch": "vsw-b", "instance": "i-pending"}],
        )
    )
    assert failure(lambda: detach(ecs, "eni-on-pending", "i-pending")) == ("InvalidOperation.InvalidEcsState", 400)


# ---- AssignPrivateIpAddresses / UnassignPrivateIpAddresses ---------------------------------------


def assign(ecs, eni_id, **kwargs):
    request = m.AssignPrivateIpAddressesRequest(region_id=REGION, network_interface_id=eni_id, **kwargs)
    return ecs.assign_private_ip_addresses(request).body


def unassign(ecs, eni_id, addresses):
    request = m.UnassignPrivateIpAddressesRequest(
        region_id=REGION, network_interface_id=eni_id, private_ip_address=addresses
    )
    return ecs.unassign_private_ip_addresses(request)


def test_assign_specific_addresses(ecs, vpc):
    before = free_count(vpc, "vsw-a")
    body = assign(ecs, "eni-attached", private_ip_address=["10.1.0.71", "10.1.0.72"])
    assert body.assigned_private_ip_addresses_set.network_interface_id == "eni-attached"
    assert body.assigned_private_ip_addresses_set.private_ip_set.private_ip_address == ["10.1.0.71", "10.1.0.72"]
    assert addresses(eni(ecs, "eni-attached")) == ["10.1.0.70", "10.1.0.71", "10.1.0.72"]
    assert free_count(vpc, "vsw-a") == before - 2


def test_assign_by_count_takes_free_addresses(ecs):
    body = assign(ecs, "eni-free", secondary_private_ip_address_count=2)
    new = body.assigned_private_ip_addresses_set.private_ip_set.private_ip_address
    assert len(new) == 2 and addresses(eni(ecs, "eni-free")) == ["10.1.0.50"] + new
    # Never an address another ENI already holds.
    taken = {
        a
        for v in describe(ecs, page_size=100).network_interface_sets.network_interface_set
        if v.network_interface_id != "eni-free"
        for a in addresses(v)
    }
    assert not taken & set(new)


def test_assign_on_the_primary_eni_of_a_stopped_instance(ecs):
    assign(ecs, "eni-stopped", secondary_private_ip_address_count=1)
    assert len(addresses(eni(ecs, "eni-stopped"))) == 2


@pytest.mark.parametrize(
    "eni_id,kwargs,expected",
    [
        ("eni-free", {"private_ip_address": ["10.1.0.70"]}, ("InvalidIp.IpAssigned", 403)),
        ("eni-free", {"private_ip_address": ["10.1.0.200"]}, ("InvalidIp.IpAssigned", 403)),
        ("eni-free", {"private_ip_address": ["10.2.0.5"]}, ("InvalidVSwitchId.IpInvalid", 403)),
        ("eni-free", {"private_ip_address": ["10.1.0.90", "10.1.0.90"]}, ("InvalidIp.IpRepeated", 403)),
        (
            "eni-free",
            {"private_ip_address": ["10.1.0.90"], "secondary_private_ip_address_count": 1},
            ("InvalidParameter.Conflict", 400),
        ),
        ("eni-free", {}, ("MissingParameter", 400)),
        ("eni-free", {"secondary_private_ip_address_count": 20}, ("InvalidOperation.Ipv4CountExceeded", 400)),
        ("eni-starting", {"secondary_private_ip_address_count": 1}, ("InvalidOperation.InvalidEcsState", 400)),
        ("eni-nothere", {"secondary_private_ip_address_count": 1}, ("InvalidEniId.NotFound", 404)),
    ],
)
def test_assign_rules(ecs, eni_id, kwargs, expected):
    assert failure(lambda: assign(ecs, eni_id, **kwargs)) == expected


def test_assign_refused_while_attaching(ecs, control):
    control.delays(eni_attach=60)
    attach(ecs, "eni-free", "i-running")
    assert failure(lambda: assign(ecs, "eni-free", secondary_private_ip_address_count=1)) == (
        "InvalidOperation.InvalidEniState",
        400,
    )


def test_assign_when_the_vswitch_is_full(ecs, control):
    control.load(
        world_with(
            vpcs=[
                {
                    "id": "vpc-tiny",
                    "cidr": "192.168.0.0/16",
                    "vswitches": [{"id": "vsw-tiny", "cidr": "192.168.9.0/29"}],
                }
            ],
            enis=[{"id": "eni-tiny", "vswitch": "vsw-tiny"}],
        )
    )
    assert failure(lambda: assign(ecs, "eni-tiny", secondary_private_ip_address_count=4)) == (
        "InvalidVSwitchId.IpNotEnough",
        403,
    )
    assign(ecs, "eni-tiny", secondary_private_ip_address_count=3)
    assert addresses(eni(ecs, "eni-tiny")) == ["192.168.9.1", "192.168.9.2", "192.168.9.3", "192.168.9.4"]


def test_unassign_frees_the_address(ecs, vpc):
    before = free_count(vpc, "vsw-a")
    unassign(ecs, "eni-multi", ["10.1.0.61"])
    assert addresses(eni(ecs, "eni-multi")) == ["10.1.0.60", "10.1.0.62"]
    assert free_count(vpc, "vsw-a") == before + 1
    assign(ecs, "eni-free", private_ip_address=["10.1.0.61"])


@pytest.mark.parametrize(
    "eni_id,addresses_,expected",
    [
        ("eni-multi", ["10.1.0.99"], ("InvalidIp.IpUnassigned", 403)),
        ("eni-multi", ["10.1.0.70"], ("InvalidIp.IpUnassigned", 403)),
        ("eni-multi", ["10.1.0.60"], ("InvalidParameter", 400)),
        ("eni-multi", [], ("MissingParameter", 400)),
        ("eni-nothere", ["10.1.0.61"], ("InvalidEniId.NotFound", 404)),
    ],
)
def test_unassign_rules(ecs, eni_id, addresses_, expected):
    assert failure(lambda: unassign(ecs, eni_id, addresses_)) == expected


def test_unassign_refuses_an_address_with_an_eip(ecs, server):
    bind_eip(server, "eip-a", "NetworkInterface", "eni-multi", PrivateIpAddress="10.1.0.62")
    assert failure(lambda: unassign(ecs, "eni-multi", ["10.1.0.62"])) == ("InvalidOperation.EipBound", 403)
    # Even while the association is still in progress.
    bind_eip(server, "eip-b", "NetworkInterface", "eni-multi", PrivateIpAddress="10.1.0.61", Status="Associating")
    assert failure(lambda: unassign(ecs, "eni-multi", ["10.1.0.61"])) == ("InvalidOperation.EipBound", 403)
