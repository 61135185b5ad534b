"""NAT gateways and SNAT entries through the real SDK (alibaba-api.md §7)."""

from __future__ import annotations

import pytest
from alibabacloud_vpc20160428 import models as m

from tests.emulator.tests.conftest import REGION, api_error
from tests.emulator.tests.network_support import bind_eip, world_with
from tests.emulator.world import WorldError, build_state


def failure(call) -> tuple[str, int]:
    with pytest.raises(Exception) as excinfo:
        call()
    return api_error(excinfo)


def gateway(vpc, gateway_id="ngw-new"):
    body = vpc.describe_nat_gateways(m.DescribeNatGatewaysRequest(region_id=REGION, nat_gateway_id=gateway_id)).body
    return body.nat_gateways.nat_gateway[0]


def create(vpc, **kwargs):
    kwargs.setdefault("snat_table_id", "stb-new")
    return vpc.create_snat_entry(m.CreateSnatEntryRequest(region_id=REGION, **kwargs)).body


def entries(vpc, **kwargs):
    kwargs.setdefault("snat_table_id", "stb-new")
    return vpc.describe_snat_table_entries(m.DescribeSnatTableEntriesRequest(region_id=REGION, **kwargs)).body


def entry(vpc, entry_id):
    return entries(vpc, snat_entry_id=entry_id).snat_table_entries.snat_table_entry[0]


def delete(vpc, entry_id, table_id="stb-new"):
    return vpc.delete_snat_entry(
        m.DeleteSnatEntryRequest(region_id=REGION, snat_table_id=table_id, snat_entry_id=entry_id)
    )


@pytest.fixture
def nat_eips(server, control):
    """eip-a and eip-b bound to ngw-new, as the EIP module records a NAT binding."""
    bind_eip(server, "eip-a", "Nat", "ngw-new", nat_private_ip="10.2.0.30")
    bind_eip(server, "eip-b", "Nat", "ngw-new", nat_private_ip="10.2.0.31")


# ---- DescribeNatGateways ----------------------------------------------------------------------------


def test_describe_nat_gateways(vpc):
    body = vpc.describe_nat_gateways(m.DescribeNatGatewaysRequest(region_id=REGION, vpc_id="vpc-main")).body
    assert [g.nat_gateway_id for g in body.nat_gateways.nat_gateway] == ["ngw-new", "ngw-old"]
    view = gateway(vpc)
    assert view.snat_table_ids.snat_table_id == ["stb-new"]
    assert view.nat_gateway_private_info.vswitch_id == "vsw-b"
    assert view.ip_lists.ip_list == []
    assert (
        vpc.describe_nat_gateways(m.DescribeNatGatewaysRequest(region_id=REGION, vpc_id="vpc-gw")).body.total_count == 0
    )


def test_ip_lists_follow_bindings_and_snat_use(vpc, nat_eips):
    ip_list = {ip.allocation_id: ip for ip in gateway(vpc).ip_lists.ip_list}
    assert set(ip_list) == {"eip-a", "eip-b"}
    assert (ip_list["eip-a"].ip_address, ip_list["eip-a"].private_ip_address) == ("47.96.1.10", "10.2.0.30")
    assert ip_list["eip-a"].using_status == "Idle" and ip_list["eip-a"].snat_entry_enabled is False
    create(vpc, snat_ip="47.96.1.10", source_vswitch_id="vsw-b")
    ip_list = {ip.allocation_id: ip for ip in gateway(vpc).ip_lists.ip_list}
    assert (ip_list["eip-a"].using_status, ip_list["eip-a"].snat_entry_enabled) == ("UsedBySnatTable", True)
    assert ip_list["eip-b"].using_status == "Idle"


def test_using_status_with_forward_table(vpc, server, control):
    control.load(world_with(nat_gateways=[{"id": "ngw-dnat", "vswitch": "vsw-b", "dnat_ips": ["47.96.1.10"]}]))
    bind_eip(server, "eip-a", "Nat", "ngw-dnat")
    bind_eip(server, "eip-b", "Nat", "ngw-dnat")
    ip_list = {ip.allocation_id: ip.using_status for ip in gateway(vpc, "ngw-dnat").ip_lists.ip_list}
    assert ip_list == {"eip-a": "UsedByForwardTable", "eip-b": "Idle"}


def test_page_size_max_50(vpc):
    request = m.DescribeNatGatewaysRequest(region_id=REGION, page_size=51)
    assert failure(lambda: vpc.describe_nat_gateways(request)) == ("InvalidParameter", 400)


# ---- CreateSnatEntry -----------------------------------------------------------------------------------


def test_create_is_pending_then_available(vpc, control, nat_eips):
    control.delays(snat_create=20)
    created = create(vpc, snat_ip="47.96.1.10,47.96.1.11", source_vswitch_id="vsw-b", snat_entry_name="web-out")
    view = entry(vpc, created.snat_entry_id)
    assert (
        view.status,
        view.snat_ip,
        view.source_vswitch_id,
        view.source_cidr,
        view.snat_entry_name,
        view.nat_gateway_id,
    ) == (
        "Pending",
        "47.96.1.10,47.96.1.11",
        "vsw-b",
        "10.2.0.0/24",
        "web-out",
        "ngw-new",
    )
    control.advance(21)
    assert entry(vpc, created.snat_entry_id).status == "Available"


def test_create_by_cidr_and_by_eni(vpc, nat_eips):
    by_cidr = create(vpc, snat_ip="47.96.1.10", source_cidr="10.1.0.0/26").snat_entry_id
    by_eni = create(vpc, snat_ip="47.96.1.11", network_interface_id="eni-free").snat_entry_id
    assert entry(vpc, by_cidr).source_cidr == "10.1.0.0/26"
    assert entry(vpc, by_eni).network_interface_id == "eni-free"
    found = entries(vpc, network_interface_ids=["eni-free"]).snat_table_entries.snat_table_entry
    assert [e.snat_entry_id for e in found] == [by_eni]


def test_snat_ip_must_be_an_eip_of_that_gateway(vpc, server, control):
    bind_eip(server, "eip-a", "Nat", "ngw-old")
    assert failure(lambda: create(vpc, snat_ip="47.96.1.10", source_vswitch_id="vsw-a")) == (
        "InvalidSnatIp.NotFound",
        404,
    )
    bind_eip(server, "eip-b", "Nat", "ngw-new", Status="Associating")
    assert failure(lambda: create(vpc, snat_ip="47.96.1.11", source_vswitch_id="vsw-a")) == (
        "InvalidSnatIp.NotFound",
        404,
    )


@pytest.mark.parametrize(
    "kwargs,expected",
    [
        ({"snat_ip": "47.96.1", "source_vswitch_id": "vsw-a"}, ("InvalidSnatIp.Malformed", 400)),
        ({"source_vswitch_id": "vsw-a"}, ("MissingParameter", 400)),
        ({"snat_ip": "47.96.1.10"}, ("MissingParameter", 400)),
        (
            {"snat_ip": "47.96.1.10", "source_vswitch_id": "vsw-a", "source_cidr": "10.1.0.0/24"},
            ("INVALID_PARAMETER", 400),
        ),
        ({"snat_ip": "47.96.1.10", "source_cidr": "10.1.0.0/33"}, ("INVALID_PARAMETER", 400)),
        ({"snat_ip": "47.96.1.10", "source_vswitch_id": "vsw-gw"}, ("InvalidVSwitchId.NotFound", 404)),
        ({"snat_ip": "47.96.1.10", "source_vswitch_id": "vsw-nothere"}, ("InvalidVSwitchId.NotFound", 404)),
        ({"snat_ip": "47.96.1.10", "network_interface_id": "eni-gwvpc"}, ("INVALID_PARAMETER", 400)),
        (
            {"snat_ip": "47.96.1.10", "source_vswitch_id": "vsw-b", "snat_entry_name": "x"},
            ("InvalidParameter.Name.Malformed", 400),
        ),
        ({"snat_ip": "47.96.1.10", "source_vswitch_id": "vsw-b", "eip_affinity": 2}, ("InvalidParameter", 400)),
        (
            {"snat_ip": "47.96.1.10", "source_vswitch_id": "vsw-b", "snat_table_id": "stb-nothere"},
            ("InvalidSnatTableId.NotFound", 404),
        ),
        ({"snat_ip": "47.96.1.10", "source_vswitch_id": "vsw-b", "dry_run": True}, ("DryRunOperation", 400)),
    ],
)
def test_create_rules(vpc, nat_eips, kwargs, expected):
    assert failure(lambda: create(vpc, **kwargs)) == expected


def test_vswitch_with_an_havip_is_refused(vpc, nat_eips):
    # havip-1 lives in vsw-a; once it is gone the same request succeeds.
    def call():
        return create(vpc, snat_ip="47.96.1.10", source_vswitch_id="vsw-a")

    assert failure(call) == ("Forbidden.SourceVSwitchId.IncludeHaVip", 400)
    vpc.delete_ha_vip(m.DeleteHaVipRequest(region_id=REGION, ha_vip_id="havip-1"))
    assert entry(vpc, call().snat_entry_id).source_vswitch_id == "vsw-a"


def test_one_entry_per_vswitch_and_per_cidr(vpc, nat_eips):
    vpc.delete_ha_vip(m.DeleteHaVipRequest(region_id=REGION, ha_vip_id="havip-1"))
    create(vpc, snat_ip="47.96.1.10", source_vswitch_id="vsw-a")
    assert failure(lambda: create(vpc, snat_ip="47.96.1.11", source_vswitch_id="vsw-a")) == (
        "Forbidden.SourceVSwitchId.Duplicated",
        400,
    )
    create(vpc, snat_ip="47.96.1.10", source_cidr="10.5.0.0/16")
    assert failure(lambda: create(vpc, snat_ip="47.96.1.11", source_cidr="10.5.0.0/16")) == (
        "OperationUnsupported.CidrConflict",
        400,
    )
    create(vpc, snat_ip="47.96.1.10", network_interface_id="eni-free")
    assert failure(lambda: create(vpc, snat_ip="47.96.1.11", network_interface_id="eni-free")) == (
        "OperationUnsupported.CidrConflict",
        400,
    )


def test_ip_used_by_the_forward_table_is_refused(vpc, server, control):
    control.load(world_with(nat_gateways=[{"id": "ngw-dnat", "vswitch": "vsw-b", "dnat_ips": ["47.96.1.10"]}]))
    bind_eip(server, "eip-a", "Nat", "ngw-dnat")
    kwargs = {"snat_table_id": "stb-dnat", "snat_ip": "47.96.1.10", "source_vswitch_id": "vsw-b"}
    assert failure(lambda: create(vpc, **kwargs)) == ("Forbidden.IpUsedInForwardTable", 400)


# ---- DescribeSnatTableEntries / DeleteSnatEntry -----------------------------------------------------


def test_describe_filters_and_required_table(vpc, nat_eips):
    first = create(vpc, snat_ip="47.96.1.10", source_vswitch_id="vsw-b", snat_entry_name="b-out").snat_entry_id
    second = create(vpc, snat_ip="47.96.1.10,47.96.1.11", source_cidr="10.9.0.0/16").snat_entry_id

    def ids(body):
        return [e.snat_entry_id for e in body.snat_table_entries.snat_table_entry]

    assert ids(entries(vpc)) == sorted([first, second])
    assert ids(entries(vpc, snat_table_id=None, nat_gateway_id="ngw-new")) == sorted([first, second])
    assert ids(entries(vpc, snat_ip="47.96.1.11")) == [second]
    assert ids(entries(vpc, source_vswitch_id="vsw-b")) == [first]
    assert ids(entries(vpc, snat_entry_name="b-out")) == [first]
    assert ids(entries(vpc, source_cidr="10.9.0.0/16")) == [second]
    assert failure(lambda: entries(vpc, snat_table_id=None)) == ("MissingParameter", 400)
    assert failure(lambda: entries(vpc, snat_table_id="stb-nothere")) == ("InvalidSnatTableId.NotFound", 404)
    assert failure(lambda: entries(vpc, page_size=51)) == ("InvalidParameter", 400)


def test_delete_is_asynchronous(vpc, control, nat_eips):
    control.delays(snat_delete=15)
    created = create(vpc, snat_ip="47.96.1.10", source_vswitch_id="vsw-b").snat_entry_id
    delete(vpc, created)
    assert entry(vpc, created).status == "Deleting"
    # A Deleting entry no longer counts as using the address.
    assert {ip.allocation_id: ip.using_status for ip in gateway(vpc).ip_lists.ip_list}["eip-a"] == "Idle"
    control.advance(16)
    assert entries(vpc, snat_entry_id=created).total_count == 0


def test_delete_rules(vpc, control, nat_eips):
    control.delays(snat_create=30)
    pending = create(vpc, snat_ip="47.96.1.10", source_vswitch_id="vsw-b").snat_entry_id
    assert failure(lambda: delete(vpc, pending)) == ("IncorretSnatEntryStatus", 400)
    assert failure(lambda: delete(vpc, "snat-nothere")) == ("InvalidSnatEntryId.NotFound", 404)
    assert failure(lambda: delete(vpc, pending, table_id="stb-old")) == ("InvalidSnatEntryId.NotFound", 404)
    assert failure(lambda: delete(vpc, pending, table_id="stb-nothere")) == ("InvalidSnatTableId.NotFound", 404)


# ---- SNAT entries seeded by the world ----------------------------------------------------------------


def test_world_seeds_snat_entries(vpc, control):
    control.load(
        world_with(
            snat_entries=[
                {
                    "id": "snat-seed",
                    "nat_gateway": "ngw-new",
                    "snat_ip": ["47.96.1.10"],
                    "source_vswitch": "vsw-b",
                    "name": "seed",
                },
                {
                    "id": "snat-cidr",
                    "nat_gateway": "ngw-new",
                    "snat_ip": "47.96.1.11",
                    "source_cidr": "10.7.0.0/16",
                    "status": "Pending",
                },
            ]
        )
    )
    seeded = entry(vpc, "snat-seed")
    assert (seeded.status, seeded.snat_ip, seeded.source_cidr, seeded.snat_table_id, seeded.snat_entry_name) == (
        "Available",
        "47.96.1.10",
        "10.2.0.0/24",
        "stb-new",
        "seed",
    )
    assert entry(vpc, "snat-cidr").status == "Pending"


@pytest.mark.parametrize(
    "spec,message",
    [
        ({"id": "s", "nat_gateway": "ngw-none", "snat_ip": "47.96.1.10", "source_cidr": "10.0.0.0/8"}, "ngw-none"),
        ({"id": "s", "nat_gateway": "ngw-new", "snat_ip": "8.8.8.8", "source_cidr": "10.0.0.0/8"}, "8.8.8.8"),
        ({"id": "s", "nat_gateway": "ngw-new", "snat_ip": "47.96.1.10", "source_vswitch": "vsw-none"}, "vsw-none"),
    ],
)
def test_world_snat_entry_errors_name_the_culprit(spec, message):
    with pytest.raises(WorldError, match=message):
        build_state(world_with(snat_entries=[spec]))


# ---- ModifySnatEntry ------------------------------------------------------------------------------------


def modify(vpc, entry_id, table_id="stb-new", **kwargs):
    return vpc.modify_snat_entry(
        m.ModifySnatEntryRequest(region_id=REGION, snat_table_id=table_id, snat_entry_id=entry_id, **kwargs)
    )


def test_modify_is_pending_then_available(vpc, control, nat_eips):
    created = create(vpc, snat_ip="47.96.1.10", source_vswitch_id="vsw-b", snat_entry_name="old-name").snat_entry_id
    control.delays(snat_modify=20)
    modify(vpc, created, snat_ip="47.96.1.11,47.96.1.10", snat_entry_name="new-name", eip_affinity=1)
    view = entry(vpc, created)
    assert (view.status, view.snat_ip, view.snat_entry_name, view.eip_affinity, view.source_vswitch_id) == (
        "Pending",
        "47.96.1.11,47.96.1.10",
        "new-name",
        1,
        "vsw-b",
    )
    # The gateway's IpLists follows at once: both addresses are now used by the table.
    using = {ip.allocation_id: ip.using_status for ip in gateway(vpc).ip_lists.ip_list}
    assert using == {"eip-a": "UsedBySnatTable", "eip-b": "UsedBySnatTable"}
    control.advance(21)
    assert entry(vpc, created).status == "Available"


def test_modify_name_only_keeps_the_addresses(vpc, nat_eips):
    created = create(vpc, snat_ip="47.96.1.10", source_cidr="10.1.0.5/32").snat_entry_id
    modify(vpc, created, snat_entry_name="renamed")
    view = entry(vpc, created)
    assert (view.snat_ip, view.snat_entry_name, view.source_cidr, view.status) == (
        "47.96.1.10",
        "renamed",
        "10.1.0.5/32",
        "Available",
    )


def test_modify_refuses_while_the_table_has_a_pending_entry(vpc, control, nat_eips):
    settled = create(vpc, snat_ip="47.96.1.10", source_vswitch_id="vsw-b").snat_entry_id
    control.delays(snat_create=30)
    pending = create(vpc, snat_ip="47.96.1.10", source_cidr="10.1.0.5/32").snat_entry_id
    assert failure(lambda: modify(vpc, pending, snat_ip="47.96.1.11")) == ("IncorretSnatEntryStatus", 400)
    assert failure(lambda: modify(vpc, settled, snat_ip="47.96.1.11")) == ("IncorretSnatEntryStatus", 400)
    control.advance(31)
    modify(vpc, settled, snat_ip="47.96.1.11")
    assert entry(vpc, settled).snat_ip == "47.96.1.11"


@pytest.mark.parametrize(
    "kwargs,expected",
    [
        ({"snat_ip": "47.96.1"}, ("InvalidSnatIp.Malformed", 400)),
        ({"snat_ip": "47.96.1.12"}, ("InvalidSnatIp.NotFound", 404)),
        ({"snat_ip": "47.96.1.10", "network_interface_id": "eni-free"}, ("INVALID_PARAMETER", 400)),
        ({"network_interface_id": "eni-gwvpc"}, ("INVALID_PARAMETER", 400)),
        ({"snat_entry_name": "x"}, ("InvalidParameter.Name.Malformed", 400)),
        ({"eip_affinity": 3}, ("InvalidParameter", 400)),
        ({"snat_ip": "47.96.1.11", "dry_run": True}, ("DryRunOperation", 400)),
    ],
)
def test_modify_rules(vpc, nat_eips, kwargs, expected):
    created = create(vpc, snat_ip="47.96.1.10", source_vswitch_id="vsw-b").snat_entry_id
    assert failure(lambda: modify(vpc, created, **kwargs)) == expected
    assert entry(vpc, created).snat_ip == "47.96.1.10"  # a refused request changes nothing


def test_modify_unknown_entry_or_table(vpc, nat_eips):
    created = create(vpc, snat_ip="47.96.1.10", source_vswitch_id="vsw-b").snat_entry_id
    assert failure(lambda: modify(vpc, "snat-nothere", snat_ip="47.96.1.10")) == ("InvalidSnatEntryId.NotFound", 404)
    assert failure(lambda: modify(vpc, created, table_id="stb-old", snat_ip="47.96.1.10")) == (
        "InvalidSnatEntryId.NotFound",
        404,
    )
    assert failure(lambda: modify(vpc, created, table_id="stb-nothere")) == ("InvalidSnatTableId.NotFound", 404)


def test_modify_an_ip_of_the_forward_table_is_refused(vpc, server, control):
    control.load(world_with(nat_gateways=[{"id": "ngw-dnat", "vswitch": "vsw-b", "dnat_ips": ["47.96.1.11"]}]))
    bind_eip(server, "eip-a", "Nat", "ngw-dnat")
    bind_eip(server, "eip-b", "Nat", "ngw-dnat")
    created = create(vpc, snat_table_id="stb-dnat", snat_ip="47.96.1.10", source_vswitch_id="vsw-b").snat_entry_id
    assert failure(lambda: modify(vpc, created, table_id="stb-dnat", snat_ip="47.96.1.11")) == (
        "Forbidden.IpUsedInForwardTable",
        400,
    )


def test_modify_replays_a_client_token(vpc, nat_eips):
    created = create(vpc, snat_ip="47.96.1.10", source_vswitch_id="vsw-b").snat_entry_id
    first = modify(vpc, created, snat_ip="47.96.1.11", client_token="token-modify-1").body.request_id
    again = modify(vpc, created, snat_ip="47.96.1.11", client_token="token-modify-1").body.request_id
    assert first == again


# ---- entry count ------------------------------------------------------------------------------------------


def test_a_table_holds_at_most_40_entries(vpc, control, nat_eips):
    control.delays(snat_delete=5)
    ids = [create(vpc, snat_ip="47.96.1.10", source_cidr=f"10.8.{n}.0/24").snat_entry_id for n in range(40)]
    assert failure(lambda: create(vpc, snat_ip="47.96.1.10", source_cidr="10.8.200.0/24")) == (
        "Forbidden.SnatEntryCountLimited",
        400,
    )
    # A Deleting entry still counts until it is gone.
    delete(vpc, ids[0])
    assert failure(lambda: create(vpc, snat_ip="47.96.1.10", source_cidr="10.8.200.0/24")) == (
        "Forbidden.SnatEntryCountLimited",
        400,
    )
    control.advance(6)
    assert (
        entry(vpc, create(vpc, snat_ip="47.96.1.10", source_cidr="10.8.200.0/24").snat_entry_id).status == "Available"
    )
