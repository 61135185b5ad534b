"""DescribeEipAddresses, ModifyEipAddressAttribute and ReleaseEipAddress (alibaba-api.md §3.4, §3.7, §3.8)."""

from __future__ import annotations

import datetime

import pytest
from alibabacloud_vpc20160428 import models as vpc_models

from tests.emulator.tests.eip_support import (
    associate,
    describe,
    eip_world,
    error_of,
    find,
    modify,
    numbered_eips,
    raw_call,
    release,
)

# The documented entry of DescribeEipAddresses (§3.4 sample, SDK 7.2.2 model).
DOCUMENTED_FIELDS = {
    "AllocationId",
    "AllocationTime",
    "Bandwidth",
    "BandwidthPackageBandwidth",
    "BandwidthPackageId",
    "BandwidthPackageType",
    "BizType",
    "BusinessStatus",
    "ChargeType",
    "DeletionProtection",
    "Description",
    "EipBandwidth",
    "ExpiredTime",
    "HDMonitorStatus",
    "HasReservationData",
    "ISP",
    "InstanceId",
    "InstanceRegionId",
    "InstanceType",
    "InternetChargeType",
    "IpAddress",
    "Mode",
    "Name",
    "Netmode",
    "OperationLocks",
    "PrivateIpAddress",
    "PublicIpAddressPoolId",
    "RegionId",
    "ResourceGroupId",
    "SecondLimited",
    "SecurityProtectionTypes",
    "SegmentInstanceId",
    "ServiceManaged",
    "Status",
    "Tags",
    "VpcId",
    "Zone",
}

LISTING_WORLD = eip_world(
    eips=[
        {"id": "eip-c", "ip": "47.96.1.12", "name": "gamma", "isp": "BGP_PRO", "allocated": "-1d"},
        {"id": "eip-d", "ip": "47.96.1.13", "tags": {"team": "web", "env": "prod"}, "charge_type": "PrePaid"},
        {"id": "eip-e", "ip": "47.96.1.14", "lock_reasons": ["financial"], "resource_group": "rg-other"},
        {"id": "eip-f", "ip": "47.96.1.15", "gateway": "47.96.1.254", "deletion_protection": True},
    ]
)


def ids(body) -> list[str]:
    return [eip.allocation_id for eip in body.eip_addresses.eip_address]


# ---- response shape ------------------------------------------------------------------------------------------
def test_entries_carry_the_documented_fields_only(vpc, control):
    control.load(LISTING_WORLD)
    associate(vpc, "eip-d", "i-running")
    body = raw_call(vpc, "DescribeEipAddresses", {"RegionId": "cn-hangzhou", "PageSize": 100})
    entries = {entry["AllocationId"]: entry for entry in body["EipAddresses"]["EipAddress"]}
    assert set(entries) == {"eip-a", "eip-b", "eip-c", "eip-d", "eip-e", "eip-f"}
    for entry in entries.values():
        assert set(entry) == DOCUMENTED_FIELDS
    # Types of the SDK model: strings for the bandwidth fields, booleans for the flags.
    bound = entries["eip-d"]
    assert (bound["Bandwidth"], bound["EipBandwidth"], bound["DeletionProtection"], bound["ServiceManaged"]) == (
        "5",
        "5",
        False,
        0,
    )
    assert bound["Tags"] == {"Tag": [{"Key": "env", "Value": "prod"}, {"Key": "team", "Value": "web"}]}
    assert entries["eip-e"]["OperationLocks"] == {"LockReason": [{"LockReason": "financial"}]}
    assert entries["eip-f"]["DeletionProtection"] is True
    assert (body["TotalCount"], body["PageNumber"], body["PageSize"]) == (6, 1, 100)


# ---- paging --------------------------------------------------------------------------------------------------
def test_pages_cover_every_eip_once(vpc, control):
    control.load(eip_world(eips=numbered_eips("eip-p", 23)))
    seen = []
    for page_number in (1, 2, 3):
        body = describe(vpc, page_number=page_number, page_size=10)
        assert (body.total_count, body.page_number, body.page_size) == (25, page_number, 10)
        seen.extend(ids(body))
    assert len(seen) == 25 and len(set(seen)) == 25
    assert ids(describe(vpc, page_number=4, page_size=10)) == []


def test_default_page_is_ten_entries(vpc, control):
    control.load(eip_world(eips=numbered_eips("eip-p", 12)))
    body = describe(vpc)
    assert (len(ids(body)), body.page_size, body.total_count) == (10, 10, 14)


@pytest.mark.parametrize("page_size", [0, 101])
def test_page_size_is_1_to_100(vpc, control, page_size):
    assert error_of(describe, vpc, page_size=page_size) == ("InvalidParameter", 400)


# ---- filters -------------------------------------------------------------------------------------------------
FILTERS = [
    pytest.param({"allocation_id": "eip-a,eip-c,eip-nothere"}, ["eip-a", "eip-c"], id="allocation-id-list"),
    pytest.param({"allocation_id": "eip-nothere"}, [], id="unknown-allocation-id"),
    pytest.param({"eip_address": "47.96.1.13, 47.96.1.11"}, ["eip-b", "eip-d"], id="address-list"),
    pytest.param({"eip_name": "gamma"}, ["eip-c"], id="name"),
    pytest.param({"isp": "BGP_PRO"}, ["eip-c"], id="isp"),
    pytest.param({"charge_type": "PrePaid"}, ["eip-d"], id="charge-type"),
    pytest.param({"lock_reason": "financial"}, ["eip-e"], id="lock-reason"),
    pytest.param({"resource_group_id": "rg-other"}, ["eip-e"], id="resource-group"),
    pytest.param({"status": "InUse"}, ["eip-a"], id="status"),
    pytest.param({"associated_instance_type": "EcsInstance"}, ["eip-a"], id="associated-type"),
    pytest.param(
        {"associated_instance_type": "EcsInstance", "associated_instance_id": "i-running"}, ["eip-a"], id="holder"
    ),
    pytest.param({"associated_instance_id": "i-running"}, ["eip-a"], id="holder-id-alone-means-ecs"),
    pytest.param({"segment_instance_id": "eipsg-1"}, [], id="segment"),
    pytest.param({"public_ip_address_pool_id": "pippool-1"}, [], id="address-pool"),
    pytest.param(
        {"security_protection_enabled": False}, ["eip-a", "eip-b", "eip-c", "eip-d", "eip-e", "eip-f"], id="protection"
    ),
    pytest.param(
        {"include_reservation_data": True, "service_managed": False},
        ["eip-a", "eip-b", "eip-c", "eip-d", "eip-e", "eip-f"],
        id="ignored-flags",
    ),
]


@pytest.mark.parametrize("kwargs, expected", FILTERS)
def test_filters(vpc, control, kwargs, expected):
    control.load(LISTING_WORLD)
    associate(vpc, "eip-a", "i-running")
    assert sorted(ids(describe(vpc, page_size=100, **kwargs))) == expected


def test_associated_instance_id_alone_does_not_find_an_eni_binding(vpc, control):
    associate(vpc, "eip-a", "eni-multi", instance_type="NetworkInterface", private_ip_address="10.1.0.60")
    assert ids(describe(vpc, associated_instance_id="eni-multi")) == []
    found = describe(vpc, associated_instance_id="eni-multi", associated_instance_type="NetworkInterface")
    assert ids(found) == ["eip-a"]


def test_tag_filters(vpc, control):
    control.load(LISTING_WORLD)
    tag = vpc_models.DescribeEipAddressesRequestTag
    assert ids(describe(vpc, tag=[tag(key="team", value="web")])) == ["eip-d"]
    # A key alone matches any value (eip-b carries team=net in BASE_WORLD).
    assert sorted(ids(describe(vpc, tag=[tag(key="team")]))) == ["eip-b", "eip-d"]
    assert ids(describe(vpc, tag=[tag(key="team", value="web"), tag(key="env", value="dev")])) == []
    assert sorted(ids(describe(vpc, tag=[tag(key="team", value="net")]))) == ["eip-b"]


def test_creation_time_filters(vpc, control):
    # eip-c was allocated a day ago, the others five days ago (world defaults).
    control.load(LISTING_WORLD)
    two_days_ago = control.call("GET", "clock")["now"] - 2 * 86400
    start = datetime.datetime.fromtimestamp(two_days_ago, tz=datetime.UTC).strftime("%Y-%m-%dT%H:%MZ")
    window = vpc_models.DescribeEipAddressesRequestFilter
    assert ids(describe(vpc, filter=[window(key="CreationStartTime", value=start)])) == ["eip-c"]
    older = ids(describe(vpc, page_size=100, filter=[window(key="CreationEndTime", value=start)]))
    assert sorted(older) == ["eip-a", "eip-b", "eip-d", "eip-e", "eip-f"]


@pytest.mark.parametrize(
    "kwargs, expected",
    [
        pytest.param(
            {"allocation_id": ",".join(f"eip-{n}" for n in range(51))}, ("InstanceIdLength.Exceed", 400), id="51-ids"
        ),
        pytest.param({"status": "Sleeping"}, ("InvalidParameter", 400), id="status"),
        pytest.param(
            {"associated_instance_type": "Vm"}, ("InvalidIAssociatedInstanceType.ValueNotSupported", 400), id="type"
        ),
        pytest.param({"charge_type": "Free"}, ("InvalidChargeType.ValueNotSupported", 400), id="charge-type"),
        pytest.param({"lock_reason": "boredom"}, ("InvalidLockReason.NotFound", 404), id="lock-reason"),
        pytest.param({"dry_run": True}, ("DryRunOperation", 400), id="dry-run"),
        pytest.param({"region": "xx-nowhere-1"}, ("InvalidRegionId.NotFound", 404), id="region"),
        pytest.param(
            {"filter": [vpc_models.DescribeEipAddressesRequestFilter(key="Colour", value="red")]},
            ("InvalidFilterKey.NotFound", 404),
            id="filter-key",
        ),
        pytest.param(
            {"filter": [vpc_models.DescribeEipAddressesRequestFilter(key="CreationStartTime", value="yesterday")]},
            ("InvalidFilterValue", 404),
            id="filter-value",
        ),
    ],
)
def test_describe_parameters_are_validated(vpc, control, kwargs, expected):
    kwargs = dict(kwargs)
    region = kwargs.pop("region", "cn-hangzhou")
    assert error_of(describe, vpc, region, **kwargs) == expected


# ---- ModifyEipAddressAttribute -------------------------------------------------------------------------------
def test_modify_changes_bandwidth_name_and_description(vpc, control):
    modify(vpc, "eip-a", bandwidth="150", name="renamed", description="Edge address")
    eip = find(vpc, "eip-a")
    assert (eip.bandwidth, eip.name, eip.description) == ("150", "renamed", "Edge address")
    modify(vpc, "eip-a", name="again")
    eip = find(vpc, "eip-a")
    assert (eip.bandwidth, eip.name, eip.description) == ("150", "again", "Edge address")


@pytest.mark.parametrize(
    "kwargs, expected",
    [
        pytest.param({"bandwidth": "201"}, ("InvalidParameter", 400), id="pay-by-traffic-over-200"),
        pytest.param({"bandwidth": "much"}, ("InvalidBandwidth.Malformed", 400), id="bandwidth-not-a-number"),
        pytest.param({"description": "http://x.invalid"}, ("InvalidParameter", 400), id="description-url"),
        pytest.param({"name": "n" * 129}, ("InvalidParameter", 400), id="name-too-long"),
    ],
)
def test_modify_parameters_are_validated(vpc, control, kwargs, expected):
    # World EIPs are PayByTraffic: 1-200 Mbit/s.
    assert error_of(modify, vpc, "eip-a", **kwargs) == expected
    assert find(vpc, "eip-a").bandwidth == "5"


def test_pay_by_bandwidth_goes_to_500(vpc, control):
    control.load(eip_world(eips=[{"id": "eip-c", "ip": "47.96.1.12", "internet_charge_type": "PayByBandwidth"}]))
    modify(vpc, "eip-c", bandwidth="500")
    assert find(vpc, "eip-c").bandwidth == "500"
    assert error_of(modify, vpc, "eip-c", bandwidth="501") == ("InvalidParameter", 400)


def test_modify_unknown_eip(vpc, control):
    assert error_of(modify, vpc, "eip-nothere", name="x") == ("InvalidAllocationId.NotFound", 404)


def test_modify_works_on_a_bound_eip(vpc, control):
    associate(vpc, "eip-a", "i-running")
    modify(vpc, "eip-a", bandwidth="10")
    assert (find(vpc, "eip-a").bandwidth, find(vpc, "eip-a").status) == ("10", "InUse")


# ---- ReleaseEipAddress ---------------------------------------------------------------------------------------
def test_release_forgets_the_eip_and_remembers_the_address(vpc, control):
    assert release(vpc, "eip-b").body.request_id
    assert find(vpc, "eip-b") is None
    assert describe(vpc).total_count == 1
    released = [entry for entry in control.state()["released_eips"] if entry["AllocationId"] == "eip-b"]
    assert [entry["IpAddress"] for entry in released] == ["47.96.1.11"]


@pytest.mark.parametrize(
    "allocation_id, expected",
    [
        pytest.param("eip-f", ("InvalidOperation.DeletionProtection", 400), id="deletion-protection"),
        pytest.param("eip-d", ("Forbidden.ChargeTypeIsPrepaid", 400), id="subscription"),
        pytest.param("eip-nothere", ("InvalidAllocationId.NotFound", 404), id="unknown"),
        pytest.param("eip-a", ("IncorrectEipStatus", 400), id="in-use"),
    ],
)
def test_release_is_refused(vpc, control, allocation_id, expected):
    control.load(LISTING_WORLD)
    associate(vpc, "eip-a", "i-running")
    assert error_of(release, vpc, allocation_id) == expected
    assert control.state()["eips"].get(allocation_id, {}).get("Status") in (None, "Available", "InUse")


def test_release_without_region_finds_the_eip(vpc, control):
    vpc.release_eip_address(vpc_models.ReleaseEipAddressRequest(allocation_id="eip-b"))
    assert find(vpc, "eip-b") is None
