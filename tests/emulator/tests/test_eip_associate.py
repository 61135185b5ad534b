"""AssociateEipAddress: one case per rule of the spec (spec-associate-eip.txt, alibaba-api.md §3.2 and §5)."""

from __future__ import annotations

import pytest

from tests.emulator.tests.eip_support import (
    SHANGHAI,
    associate,
    edit,
    eip_world,
    error_of,
    find,
    numbered_eips,
    unassociate,
)

# BASE_WORLD plus the odd resources the rules talk about.
ASSOC_WORLD = eip_world(
    vpcs=[
        {
            "id": "vpc-small",
            "cidr": "10.9.0.0/16",
            # A /29 keeps four usable addresses; reserving them leaves a NAT gateway nothing to consume.
            "vswitches": [
                {
                    "id": "vsw-tiny",
                    "cidr": "10.9.0.0/29",
                    "reserved_ips": ["10.9.0.1", "10.9.0.2", "10.9.0.3", "10.9.0.4"],
                }
            ],
        }
    ],
    instances=[{"id": "i-classic", "vswitch": "vsw-a", "network_type": "classic"}],
    enis=[{"id": "eni-on-starting", "vswitch": "vsw-a", "instance": "i-starting", "private_ips": ["10.1.0.80"]}],
    nat_gateways=[
        {"id": "ngw-locked", "vswitch": "vsw-b", "business_status": "FinancialLocked"},
        {"id": "ngw-vpc", "vswitch": "vsw-b", "network_type": "intranet"},
        {"id": "ngw-creating", "vswitch": "vsw-b", "status": "Creating"},
        {"id": "ngw-tiny", "vswitch": "vsw-tiny", "created": "2024-01-01T00:00:00Z"},
    ],
    load_balancers=[{"id": "lb-internet", "vswitch": "vsw-a", "address_type": "internet"}],
    havips=[{"id": "havip-creating", "vswitch": "vsw-a", "status": "Creating"}],
    eips=[
        {"id": "eip-c", "ip": "47.96.1.12"},
        {"id": "eip-fin", "ip": "47.96.1.13", "lock_reasons": ["financial"]},
        {"id": "eip-sec", "ip": "47.96.1.14", "lock_reasons": ["security"]},
    ],
)
ASSOC_WORLD["regions"]["cn-beijing"]["eips"] = [{"id": "eip-bj", "ip": "39.96.0.100"}]

ENI = {"instance_type": "NetworkInterface"}
BINDED = {"instance_type": "NetworkInterface", "mode": "BINDED"}
NAT_GW = {"instance_type": "Nat"}
HAVIP = {"instance_type": "HaVip"}
CLB = {"instance_type": "SlbInstance"}
ADDRESS = {"instance_type": "IpAddress"}
PRIMARY = "<primary IP of the ENI>"  # replaced by the ENI's primary private IP read from the state


def case(name, request, expected, setup=()):
    """One rule: earlier associations that succeed, then the request that must fail with (code, status)."""
    return pytest.param(list(setup), request, expected, id=name)


def request(allocation_id, instance_id, **kwargs):
    return {"allocation_id": allocation_id, "instance_id": instance_id, **kwargs}


RULE_CASES = [
    # --- lookups and parameters
    case("unknown-eip", request("eip-nothere", "i-running"), ("InvalidAllocationId.NotFound", 404)),
    case("eip-of-another-region", request("eip-bj", "i-running"), ("InvalidAllocationId.NotFound", 404)),
    case("unknown-instance", request("eip-a", "i-nothere"), ("InvalidInstanId.NotFound", 404)),
    case(
        "unknown-eni",
        request("eip-a", "eni-nothere", private_ip_address="10.1.0.5", **ENI),
        ("InvalidInstanId.NotFound", 404),
    ),
    case("unknown-nat-gateway", request("eip-a", "ngw-nothere", **NAT_GW), ("InvalidInstanId.NotFound", 404)),
    case("unknown-havip", request("eip-a", "havip-nothere", **HAVIP), ("InvalidInstanId.NotFound", 404)),
    case("unknown-clb", request("eip-a", "lb-nothere", **CLB), ("InvalidInstanId.NotFound", 404)),
    case(
        "bad-instance-type",
        request("eip-a", "i-running", instance_type="Ecs"),
        ("InvalidInstanceType.ValueNotSupported", 400),
    ),
    case("bad-mode", request("eip-a", "eni-free", mode="DIRECT", **ENI), ("IllegalParam.Mode", 400)),
    case("cut-through-mode-on-ecs", request("eip-a", "i-running", mode="BINDED"), ("Invalid.DirectEip.BindType", 400)),
    case("missing-instance-id", request("eip-a", None), ("MissingParameter", 400)),
    # --- the EIP itself
    case("eip-in-use", request("eip-a", "i-stopped"), ("IncorrectEipStatus", 400), [request("eip-a", "i-running")]),
    case("eip-financially-locked", request("eip-fin", "i-running"), ("Forbidden.FinancialLocked", 400)),
    case("eip-security-locked", request("eip-sec", "i-running"), ("InvalidEIPStatus.BizDisabled", 400)),
    case(
        "instance-region-unknown",
        request("eip-a", "i-running", instance_region_id="xx-nowhere-1"),
        ("InvalidRegionId.NotFound", 404),
    ),
    case(
        "instance-region-other",
        request("eip-a", "i-running", instance_region_id="cn-beijing"),
        ("InvalidParameter.Mismatch", 400),
    ),
    # --- ECS instance: "a VPC-type ECS instance in the same region", Running or Stopped, no public IP, one EIP
    case(
        "instance-other-region", request("eip-bj", "i-running", region="cn-beijing"), ("InvalidParameter.Mismatch", 400)
    ),
    case("instance-not-in-vpc", request("eip-a", "i-classic"), ("OperationDenied", 400)),
    case("instance-starting", request("eip-a", "i-starting"), ("IncorrectInstanceStatus", 400)),
    case("instance-fixed-public-ip", request("eip-a", "i-fixedip"), ("EIP_CAN_NOT_ASSOCIATE_WITH_PUBLIC_IP", 400)),
    case(
        "instance-second-eip",
        request("eip-b", "i-running"),
        ("InvalidAssociation.Duplicated", 400),
        [request("eip-a", "i-running")],
    ),
    case(
        "instance-whose-primary-ip-has-an-eip",
        request("eip-b", "i-running"),
        ("InvalidAssociation.Duplicated", 400),
        [request("eip-a", "eni-running", private_ip_address=PRIMARY, **ENI)],
    ),
    # --- ENI, NAT mode: one EIP per private IP of the ENI
    case("nat-mode-without-private-ip", request("eip-a", "eni-multi", **ENI), ("MissingParameter", 400)),
    case(
        "nat-mode-foreign-private-ip",
        request("eip-a", "eni-multi", private_ip_address="10.1.0.99", **ENI),
        ("InvalidParameter", 400),
    ),
    case(
        "nat-mode-private-ip-taken",
        request("eip-b", "eni-multi", private_ip_address="10.1.0.61", **ENI),
        ("InvalidAssociation.Duplicated", 400),
        [request("eip-a", "eni-multi", private_ip_address="10.1.0.61", **ENI)],
    ),
    case(
        "nat-mode-on-cut-through-eni",
        request("eip-b", "eni-free", private_ip_address="10.1.0.50", **ENI),
        ("Mode.Conflict", 400),
        [request("eip-a", "eni-free", **BINDED)],
    ),
    case(
        "nat-mode-primary-ip-of-instance-with-eip",
        request("eip-b", "eni-running", private_ip_address=PRIMARY, **ENI),
        ("InvalidAssociation.Duplicated", 400),
        [request("eip-a", "i-running")],
    ),
    case(
        "nat-mode-primary-ip-of-instance-with-public-ip",
        request("eip-a", "eni-fixedip", private_ip_address=PRIMARY, **ENI),
        ("EIP_CAN_NOT_ASSOCIATE_WITH_PUBLIC_IP", 400),
    ),
    case(
        "eni-of-starting-instance",
        request("eip-a", "eni-on-starting", private_ip_address="10.1.0.80", **ENI),
        ("InvalidStatus.EcsStatusNotSupport", 400),
    ),
    # --- ENI, cut-through (BINDED)
    case("cut-through-primary-eni", request("eip-a", "eni-running", **BINDED), ("Invalid.DirectEip.BindType", 400)),
    case("cut-through-attached-eni", request("eip-a", "eni-attached", **BINDED), ("Eni.Attached", 400)),
    case("cut-through-eni-with-secondary-ips", request("eip-a", "eni-multi", **BINDED), ("Eni.HasSubIp", 400)),
    case(
        "cut-through-not-the-primary-ip",
        request("eip-a", "eni-free", private_ip_address="10.1.0.51", **BINDED),
        ("InvalidParameter", 400),
    ),
    case(
        "cut-through-vpc-with-ipv4-gateway",
        request("eip-a", "eni-gwvpc", **BINDED),
        ("OperationDenied.Ipv4GatewayExist", 400),
    ),
    case(
        "cut-through-second-eip",
        request("eip-b", "eni-free", **BINDED),
        ("InvalidAssociation.Duplicated", 400),
        [request("eip-a", "eni-free", **BINDED)],
    ),
    case(
        "cut-through-on-nat-mode-eni",
        request("eip-b", "eni-free", **BINDED),
        ("Mode.Conflict", 400),
        [request("eip-a", "eni-free", private_ip_address="10.1.0.50", **ENI)],
    ),
    case(
        "multi-binded-outside-its-regions",
        request("eip-a", "eni-free", mode="MULTI_BINDED", **ENI),
        ("UnsupportedRegion", 400),
    ),
    # --- NAT gateway
    case(
        "nat-gateway-financially-locked", request("eip-a", "ngw-locked", **NAT_GW), ("NATGATEWAY_FINANCIALLOCKED", 400)
    ),
    case("nat-gateway-vpc-type", request("eip-a", "ngw-vpc", **NAT_GW), ("Forbidden.EipCanNotBindGatgw", 400)),
    case("nat-gateway-creating", request("eip-a", "ngw-creating", **NAT_GW), ("IncorrectStatus.NatGateway", 400)),
    case(
        "nat-gateway-vswitch-full",
        request("eip-a", "ngw-tiny", **NAT_GW),
        ("OperationDenied.NoAvailablePrivateIp", 400),
    ),
    # --- HaVip
    case("havip-creating", request("eip-a", "havip-creating", **HAVIP), ("IncorrectHaVipStatus", 400)),
    case(
        "havip-second-eip",
        request("eip-b", "havip-1", **HAVIP),
        ("InvalidAssociation.Duplicated", 400),
        [request("eip-a", "havip-1", **HAVIP)],
    ),
    # --- CLB
    case("clb-internet", request("eip-a", "lb-internet", **CLB), ("InvalidParameter.InstanceTypeNotSupport", 400)),
    case(
        "clb-second-eip",
        request("eip-b", "lb-intranet", **CLB),
        ("InvalidAssociation.Duplicated", 400),
        [request("eip-a", "lb-intranet", **CLB)],
    ),
    # --- IP address of a VPC with an IPv4 gateway
    case("ip-address-without-vpc", request("eip-a", "172.16.1.9", **ADDRESS), ("MissingParameter", 400)),
    case(
        "ip-address-unknown-vpc",
        request("eip-a", "172.16.1.9", vpc_id="vpc-nothere", **ADDRESS),
        ("InvalidVpcId.NotFound", 404),
    ),
    case(
        "ip-address-vpc-without-ipv4-gateway",
        request("eip-a", "10.1.0.9", vpc_id="vpc-main", **ADDRESS),
        ("OperationFailed.Ipv4GatewayNotOpenedInVpc", 400),
    ),
    case("ip-address-outside-vpc", request("eip-a", "10.1.0.9", vpc_id="vpc-gw", **ADDRESS), ("InvalidParameter", 400)),
    case(
        "ip-address-malformed", request("eip-a", "172.16.1.999", vpc_id="vpc-gw", **ADDRESS), ("InvalidParameter", 400)
    ),
    case(
        "ip-address-second-eip",
        request("eip-b", "172.16.1.9", vpc_id="vpc-gw", **ADDRESS),
        ("ResourceAlreadyAssociated.IpAddress", 400),
        [request("eip-a", "172.16.1.9", vpc_id="vpc-gw", **ADDRESS)],
    ),
]


def resolve(control, kwargs: dict) -> dict:
    """Replace the PRIMARY placeholder with the ENI's primary private IP as the world built it."""
    if kwargs.get("private_ip_address") != PRIMARY:
        return dict(kwargs)
    eni = control.state()["enis"][kwargs["instance_id"]]
    primary = next(entry["PrivateIpAddress"] for entry in eni["PrivateIpSets"] if entry["Primary"])
    return {**kwargs, "private_ip_address": primary}


@pytest.mark.parametrize("setup, failing, expected", RULE_CASES)
def test_association_rule(vpc, control, setup, failing, expected):
    control.load(ASSOC_WORLD)
    for earlier in setup:
        kwargs = resolve(control, earlier)
        associate(vpc, kwargs.pop("allocation_id"), kwargs.pop("instance_id"), **kwargs)
    kwargs = resolve(control, failing)
    assert error_of(associate, vpc, kwargs.pop("allocation_id"), kwargs.pop("instance_id"), **kwargs) == expected
    # A refused association leaves the EIP as it was.
    refused = control.state()["eips"].get(failing["allocation_id"])
    if refused is not None and not any(earlier["allocation_id"] == failing["allocation_id"] for earlier in setup):
        assert (refused["Status"], refused["InstanceId"]) == ("Available", "")


class Primary:
    """The primary private IP of an ENI, read from the state once the world is built."""

    def __init__(self, eni_id: str):
        self.eni_id = eni_id


def primary_of(control, eni_id: str) -> str:
    eni = control.state()["enis"][eni_id]
    return next(entry["PrivateIpAddress"] for entry in eni["PrivateIpSets"] if entry["Primary"])


SUCCESS_CASES = [
    pytest.param(
        request("eip-a", "i-running"),
        {"InstanceType": "EcsInstance", "Mode": "NAT", "PrivateIpAddress": Primary("eni-running"), "VpcId": "vpc-main"},
        id="ecs-running",
    ),
    pytest.param(
        request("eip-a", "i-stopped", instance_type="EcsInstance"),
        {"InstanceType": "EcsInstance", "Mode": "NAT", "PrivateIpAddress": Primary("eni-stopped"), "VpcId": "vpc-main"},
        id="ecs-stopped",
    ),
    pytest.param(
        request("eip-a", "eni-multi", private_ip_address="10.1.0.62", **ENI),
        {"InstanceType": "NetworkInterface", "Mode": "NAT", "PrivateIpAddress": "10.1.0.62", "VpcId": "vpc-main"},
        id="eni-nat-secondary-ip",
    ),
    pytest.param(
        request("eip-a", "eni-running", private_ip_address=PRIMARY, mode="NAT", **ENI),
        {"InstanceType": "NetworkInterface", "Mode": "NAT", "PrivateIpAddress": Primary("eni-running")},
        id="eni-nat-primary-eni",
    ),
    pytest.param(
        request("eip-a", "eni-free", **BINDED),
        {"InstanceType": "NetworkInterface", "Mode": "BINDED", "PrivateIpAddress": "10.1.0.50"},
        id="eni-cut-through",
    ),
    pytest.param(
        request("eip-a", "ngw-old", **NAT_GW),
        {"InstanceType": "Nat", "Mode": "NAT", "PrivateIpAddress": "", "VpcId": "vpc-main"},
        id="nat-gateway",
    ),
    pytest.param(
        request("eip-a", "lb-intranet", **CLB),
        {"InstanceType": "SlbInstance", "Mode": "NAT", "PrivateIpAddress": "", "VpcId": "vpc-main"},
        id="clb",
    ),
    pytest.param(
        request("eip-a", "havip-1", **HAVIP),
        {"InstanceType": "HaVip", "Mode": "NAT", "PrivateIpAddress": "", "VpcId": "vpc-main"},
        id="havip",
    ),
    pytest.param(
        request("eip-a", "172.16.1.9", vpc_id="vpc-gw", **ADDRESS),
        {"InstanceType": "IpAddress", "Mode": "NAT", "PrivateIpAddress": "172.16.1.9", "VpcId": "vpc-gw"},
        id="ip-address",
    ),
]


@pytest.mark.parametrize("kwargs, recorded", SUCCESS_CASES)
def test_association_is_recorded(vpc, control, kwargs, recorded):
    kwargs = resolve(control, kwargs)
    expected = {
        key: primary_of(control, value.eni_id) if isinstance(value, Primary) else value
        for key, value in recorded.items()
    }
    instance_id = kwargs["instance_id"]
    assert associate(vpc, kwargs.pop("allocation_id"), kwargs.pop("instance_id"), **kwargs).request_id
    eip = find(vpc, "eip-a").to_map()
    assert (eip["Status"], eip["InstanceId"], eip["InstanceRegionId"]) == ("InUse", instance_id, "cn-hangzhou")
    assert {key: eip[key] for key in expected} == expected


def test_association_names_the_instance(vpc, control):
    associate(vpc, "eip-a", "i-stopped")
    associate(vpc, "eip-b", "lb-intranet", instance_type="SlbInstance")
    assert find(vpc, "eip-a").instance_id == "i-stopped"
    assert find(vpc, "eip-b").instance_id == "lb-intranet"


def test_eni_in_transition_is_refused(vpc, control, server):
    edit(server, "enis", "eni-multi", Status="Attaching")
    code = error_of(associate, vpc, "eip-a", "eni-multi", private_ip_address="10.1.0.60", **ENI)
    assert code == ("InvalidStatus.EniStatusNotSupport", 400)


def test_nat_mode_gives_one_eip_to_each_private_ip(vpc, control):
    for allocation_id, address in (("eip-a", "10.1.0.60"), ("eip-b", "10.1.0.61")):
        associate(vpc, allocation_id, "eni-multi", private_ip_address=address, **ENI)
    assert {(find(vpc, eip).private_ip_address, find(vpc, eip).status) for eip in ("eip-a", "eip-b")} == {
        ("10.1.0.60", "InUse"),
        ("10.1.0.61", "InUse"),
    }


def test_nat_gateway_takes_at_most_20_eips(vpc, control):
    control.load(eip_world(eips=numbered_eips("eip-n", 21)))
    for number in range(20):
        associate(vpc, f"eip-n-{number:02d}", "ngw-old", instance_type="Nat")
    assert error_of(associate, vpc, "eip-n-20", "ngw-old", instance_type="Nat") == ("QuotaExceeded.NumberOfEip", 400)


def test_new_nat_gateway_consumes_and_frees_a_vswitch_address(vpc, control):
    used_before = control.state()["nat_gateways"]["ngw-new"]["EipPrivateIps"]
    assert used_before == {}
    associate(vpc, "eip-a", "ngw-new", instance_type="Nat")
    associate(vpc, "eip-b", "ngw-old", instance_type="Nat")
    state = control.state()
    consumed = state["nat_gateways"]["ngw-new"]["EipPrivateIps"]
    assert list(consumed) == ["eip-a"]
    assert consumed["eip-a"].startswith("10.2.0.")
    # A gateway created before 2022-09-19 consumes nothing.
    assert state["nat_gateways"]["ngw-old"]["EipPrivateIps"] == {}
    # A second EIP takes a different address.
    control.load(eip_world(eips=[{"id": "eip-c", "ip": "47.96.1.12"}]))
    associate(vpc, "eip-a", "ngw-new", instance_type="Nat")
    associate(vpc, "eip-c", "ngw-new", instance_type="Nat")
    consumed = control.state()["nat_gateways"]["ngw-new"]["EipPrivateIps"]
    assert len(set(consumed.values())) == 2
    unassociate(vpc, "eip-a", instance_id="ngw-new", instance_type="Nat")
    assert list(control.state()["nat_gateways"]["ngw-new"]["EipPrivateIps"]) == ["eip-c"]


# ---- multi-EIP cut-through (MULTI_BINDED) and cut-through regions --------------------------------------------
MULTI_WORLD = eip_world(
    region=SHANGHAI,
    zones=["cn-shanghai-a"],
    eip_pool={"cidr": "47.100.0.0/26", "count": 10},
    vpcs=[{"id": "vpc-sh", "cidr": "192.168.0.0/16", "vswitches": [{"id": "vsw-sh", "cidr": "192.168.1.0/24"}]}],
    instances=[
        {"id": "i-g5", "vswitch": "vsw-sh", "instance_type": "ecs.g5.large"},
        {"id": "i-g7-sh", "vswitch": "vsw-sh", "instance_type": "ecs.g7.large"},
    ],
    enis=[
        {"id": "eni-on-g5", "vswitch": "vsw-sh", "instance": "i-g5", "private_ips": ["192.168.1.50", "192.168.1.51"]},
        {"id": "eni-on-g7", "vswitch": "vsw-sh", "instance": "i-g7-sh", "private_ips": ["192.168.1.60"]},
        {"id": "eni-loose", "vswitch": "vsw-sh", "private_ips": ["192.168.1.70"]},
        {"id": "eni-single", "vswitch": "vsw-sh", "private_ips": ["192.168.1.80"]},
    ],
    eips=numbered_eips("eip-sh", 12, "47.100.1.1"),
)
MULTI_WORLD["regions"]["ap-northeast-1"].update(
    {
        "vpcs": [{"id": "vpc-jp", "cidr": "10.50.0.0/16", "vswitches": [{"id": "vsw-jp", "cidr": "10.50.1.0/24"}]}],
        "enis": [{"id": "eni-jp", "vswitch": "vsw-jp", "private_ips": ["10.50.1.10"]}],
        "eips": [{"id": "eip-jp", "ip": "13.230.0.100"}],
    }
)
MULTI = {"instance_type": "NetworkInterface", "mode": "MULTI_BINDED", "region": SHANGHAI}


def test_multi_binded_takes_up_to_ten_eips_per_eni(vpc, control):
    control.load(MULTI_WORLD)
    for number in range(10):
        associate(vpc, f"eip-sh-{number:02d}", "eni-on-g5", **MULTI)
    bound = find(vpc, "eip-sh-03", SHANGHAI)
    assert (bound.status, bound.mode, bound.instance_type, bound.instance_id) == (
        "InUse",
        "MULTI_BINDED",
        "NetworkInterface",
        "eni-on-g5",
    )
    assert error_of(associate, vpc, "eip-sh-10", "eni-on-g5", **MULTI) == ("QuotaExceed.MultiBindedEip", 400)


@pytest.mark.parametrize(
    "eni_id, expected",
    [
        pytest.param("eni-g5", ("Invalid.DirectEip.BindType", 400), id="primary-eni"),
        pytest.param("eni-on-g7", ("OperationUnsupported.EipBindModel", 400), id="unlisted-family"),
    ],
)
def test_multi_binded_eni_rules(vpc, control, eni_id, expected):
    control.load(MULTI_WORLD)
    assert error_of(associate, vpc, "eip-sh-00", eni_id, **MULTI) == expected


def test_multi_binded_on_detached_eni_is_accepted(vpc, control):
    control.load(MULTI_WORLD)
    associate(vpc, "eip-sh-00", "eni-loose", **MULTI)
    assert find(vpc, "eip-sh-00", SHANGHAI).mode == "MULTI_BINDED"


def test_multi_binded_and_nat_never_share_an_eni(vpc, control):
    control.load(MULTI_WORLD)
    associate(vpc, "eip-sh-00", "eni-on-g5", private_ip_address="192.168.1.51", **{**MULTI, "mode": "NAT"})
    assert error_of(associate, vpc, "eip-sh-01", "eni-on-g5", **MULTI) == ("OperationFailed.EipBindModeConflict", 400)
    associate(vpc, "eip-sh-02", "eni-loose", **MULTI)
    code = error_of(
        associate, vpc, "eip-sh-03", "eni-loose", private_ip_address="192.168.1.70", **{**MULTI, "mode": "NAT"}
    )
    assert code == ("OperationFailed.EipBindModeConflict", 400)


def test_multi_binded_refuses_a_cut_through_eni(vpc, control):
    control.load(MULTI_WORLD)
    associate(vpc, "eip-sh-00", "eni-single", **{**MULTI, "mode": "BINDED"})
    assert error_of(associate, vpc, "eip-sh-01", "eni-single", **MULTI) == ("Mode.Conflict", 400)


def test_multi_binded_private_ip_carries_one_eip(vpc, control):
    control.load(MULTI_WORLD)
    associate(vpc, "eip-sh-00", "eni-on-g5", private_ip_address="192.168.1.50", **MULTI)
    assert find(vpc, "eip-sh-00", SHANGHAI).private_ip_address == "192.168.1.50"
    code = error_of(associate, vpc, "eip-sh-01", "eni-on-g5", private_ip_address="192.168.1.50", **MULTI)
    assert code == ("InvalidAssociation.Duplicated", 400)
    code = error_of(associate, vpc, "eip-sh-01", "eni-on-g5", private_ip_address="192.168.9.9", **MULTI)
    assert code == ("InvalidParameter", 400)


def test_cut_through_only_in_listed_regions(vpc, control):
    control.load(MULTI_WORLD)
    code = error_of(
        associate, vpc, "eip-jp", "eni-jp", region="ap-northeast-1", instance_type="NetworkInterface", mode="BINDED"
    )
    assert code == ("UnsupportedRegion", 400)
    # The same ENI kind is fine in a listed region.
    associate(vpc, "eip-sh-00", "eni-single", **{**MULTI, "mode": "BINDED"})
    assert find(vpc, "eip-sh-00", SHANGHAI).private_ip_address == "192.168.1.80"
