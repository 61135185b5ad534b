"""AllocateEipAddress / AllocateEipAddressPro, recovery of released EIPs (alibaba-api.md §3.5, §3.6, §4)."""

from __future__ import annotations

import ipaddress

import pytest
from alibabacloud_vpc20160428 import models as vpc_models

from tests.emulator.tests.eip_support import (
    allocate,
    allocate_pro,
    describe,
    eip_world,
    error_of,
    find,
    release,
)

DAY = 86400
POOL = ipaddress.IPv4Network("47.96.0.0/26")


# ---- random allocation ---------------------------------------------------------------------------------------
def test_allocation_takes_an_address_of_the_region_pool(vpc, control):
    first = allocate(vpc)
    second = allocate(vpc)
    assert first.allocation_id.startswith("eip-") and first.allocation_id != second.allocation_id
    assert ipaddress.IPv4Address(first.eip_address) in POOL
    assert first.eip_address != second.eip_address
    assert first.resource_group_id == "rg-emulatordefault"
    listed = find(vpc, first.allocation_id)
    assert (listed.ip_address, listed.status, listed.charge_type) == (first.eip_address, "Available", "PostPaid")
    # Documented defaults: PayByBandwidth, 5 Mbit/s, BGP, public.
    assert (listed.internet_charge_type, listed.bandwidth, listed.isp, listed.netmode) == (
        "PayByBandwidth",
        "5",
        "BGP",
        "public",
    )
    pool = control.state()["eip_pool"]["cn-hangzhou"]
    assert first.eip_address not in pool and second.eip_address not in pool


def test_allocation_records_name_description_tags_and_charging(vpc, control):
    created = allocate(
        vpc,
        bandwidth="200",
        internet_charge_type="PayByTraffic",
        isp="BGP_PRO",
        name="web",
        description="front door",
        resource_group_id="rg-web",
        tag=[
            vpc_models.AllocateEipAddressRequestTag(key="team", value="net"),
            vpc_models.AllocateEipAddressRequestTag(key="env", value=""),
        ],
    )
    listed = find(vpc, created.allocation_id).to_map()
    assert {key: listed[key] for key in ("Bandwidth", "InternetChargeType", "ISP", "Name", "Description")} == {
        "Bandwidth": "200",
        "InternetChargeType": "PayByTraffic",
        "ISP": "BGP_PRO",
        "Name": "web",
        "Description": "front door",
    }
    assert listed["ResourceGroupId"] == "rg-web"
    assert listed["Tags"]["Tag"] == [{"Key": "env", "Value": ""}, {"Key": "team", "Value": "net"}]


def test_exhausted_pool_cannot_reserve(vpc, control):
    control.load(eip_world(region="cn-beijing", eip_pool=["39.96.0.1"]))
    allocate(vpc, region="cn-beijing")
    assert error_of(allocate, vpc, region="cn-beijing") == ("ReserveIpFail", 400)


def test_eip_quota_per_region(vpc, control):
    control.load(eip_world(top={"eip_quota": 3}))
    allocate(vpc)  # eip-a and eip-b already count
    assert error_of(allocate, vpc) == ("QuotaExceeded.Eip", 400)
    # Another region has its own count.
    assert allocate(vpc, region="cn-beijing").allocation_id


def test_frequent_purchase_is_refused_for_a_minute(vpc, control):
    control.load(eip_world(top={"purchase_limit_per_minute": 2}))
    allocate(vpc)
    allocate(vpc)
    assert error_of(allocate, vpc) == ("FrequentPurchase.EIP", 400)
    control.advance(61)
    assert allocate(vpc).allocation_id


def test_subscription_eip_answers_an_order(vpc, control):
    created = allocate(
        vpc, instance_charge_type="PrePaid", internet_charge_type="PayByBandwidth", period=2, pricing_cycle="Month"
    )
    # OrderId for subscriptions only; EipAddress and ResourceGroupId for pay-as-you-go only.
    assert created.order_id and created.eip_address is None and created.resource_group_id is None
    listed = find(vpc, created.allocation_id)
    assert (listed.charge_type, listed.expired_time != "") == ("PrePaid", True)
    assert error_of(release, vpc, created.allocation_id) == ("Forbidden.ChargeTypeIsPrepaid", 400)


INVALID = [
    pytest.param({"bandwidth": "fast"}, ("InvalidBandwidth.Malformed", 400), id="bandwidth-not-a-number"),
    pytest.param({"bandwidth": "0"}, ("InvalidParameter", 400), id="bandwidth-zero"),
    pytest.param({"bandwidth": "501"}, ("InvalidParameter", 400), id="bandwidth-over-500"),
    pytest.param(
        {"bandwidth": "201", "internet_charge_type": "PayByTraffic"},
        ("InvalidParameter", 400),
        id="pay-by-traffic-over-200",
    ),
    pytest.param({"internet_charge_type": "PayByMood"}, ("InvalidParameter", 400), id="internet-charge-type"),
    pytest.param({"instance_charge_type": "Free"}, ("InvalidParameter", 400), id="instance-charge-type"),
    pytest.param(
        {"instance_charge_type": "PrePaid", "internet_charge_type": "PayByTraffic", "period": 1},
        ("InvalidParameter", 400),
        id="prepaid-pay-by-traffic",
    ),
    pytest.param({"instance_charge_type": "PrePaid"}, ("MissingParameter", 400), id="prepaid-without-period"),
    pytest.param({"instance_charge_type": "PrePaid", "period": 10}, ("InvalidParameter", 400), id="period-10-months"),
    pytest.param(
        {"instance_charge_type": "PrePaid", "period": 6, "pricing_cycle": "Year"},
        ("InvalidParameter", 400),
        id="period-6-years",
    ),
    pytest.param({"isp": "Carrier-Pigeon"}, ("IllegalParam.Isp", 400), id="isp"),
    pytest.param({"netmode": "private"}, ("InvalidParameter", 400), id="netmode"),
    pytest.param({"name": "n" * 129}, ("InvalidParameter", 400), id="name-too-long"),
    pytest.param({"name": "https://example.invalid"}, ("InvalidParameter", 400), id="name-url"),
    pytest.param({"description": "1st"}, ("InvalidParameter", 400), id="description-not-starting-with-a-letter"),
    pytest.param({"description": "x"}, ("InvalidParameter", 400), id="description-too-short"),
    pytest.param({"security_protection_types": ["AntiDDoS_Ultimate"]}, ("InvalidParameter", 400), id="protection"),
    pytest.param({"public_ip_address_pool_id": "pippool-x"}, ("ResourceNotFound.PublicIpAddressPool", 400), id="pool"),
    pytest.param({"tag": [{"key": "acs:owner", "value": "x"}]}, ("Forbidden.TagKeys", 400), id="system-tag-key"),
    pytest.param({"tag": [{"key": "", "value": "x"}]}, ("InvalidTagKey", 400), id="empty-tag-key"),
    pytest.param({"tag": [{"key": "k", "value": "http://x"}]}, ("InvalidTagValue", 400), id="url-tag-value"),
    pytest.param(
        {"tag": [{"key": "k", "value": "1"}, {"key": "k", "value": "2"}]},
        ("Forbidden.TagKey.Duplicated", 400),
        id="duplicate-tag-key",
    ),
    pytest.param(
        {"tag": [{"key": f"k{n}", "value": "v"} for n in range(21)]},
        ("SizeLimitExceeded.TagNum", 400),
        id="21-tags",
    ),
    pytest.param({"region": "xx-nowhere-1"}, ("InvalidRegionId.NotFound", 404), id="unknown-region"),
]


@pytest.mark.parametrize("kwargs, expected", INVALID)
def test_allocation_parameters_are_validated(vpc, control, kwargs, expected):
    kwargs = dict(kwargs)
    region = kwargs.pop("region", "cn-hangzhou")
    if "tag" in kwargs:
        kwargs["tag"] = [vpc_models.AllocateEipAddressRequestTag(key=t["key"], value=t["value"]) for t in kwargs["tag"]]
    assert error_of(allocate, vpc, region=region, **kwargs) == expected
    assert describe(vpc).total_count == 2  # nothing was allocated


def test_largest_documented_values_are_accepted(vpc, control):
    assert allocate(vpc, bandwidth="500").allocation_id
    assert allocate(vpc, bandwidth="200", internet_charge_type="PayByTraffic").allocation_id
    subscription = allocate(vpc, instance_charge_type="PrePaid", period=5, pricing_cycle="Year", bandwidth="1000")
    assert find(vpc, subscription.allocation_id).bandwidth == "1000"


def test_pro_variant_allocates_and_limits_years_to_three(vpc, control):
    created = allocate_pro(vpc, bandwidth="9")
    assert find(vpc, created.allocation_id).bandwidth == "9"
    code = error_of(allocate_pro, vpc, instance_charge_type="PrePaid", period=4, pricing_cycle="Year")
    assert code == ("InvalidParameter", 400)


# ---- recovery of released EIPs -------------------------------------------------------------------------------
def test_recovery_by_address_gets_a_new_allocation_id(vpc, control):
    recovered = allocate(vpc, ip_address="47.96.1.20")
    assert recovered.eip_address == "47.96.1.20"
    # UNCONFIRMED choice of the emulator: a recovery by IpAddress gets a new ID (see docs/emulator-eip.md).
    # [fid:eip-recover-address-new-id]
    assert recovered.allocation_id != "eip-recent"
    listed = find(vpc, recovered.allocation_id)
    # A recovered EIP defaults to pay-by-data-transfer, 5 Mbit/s.
    assert (listed.internet_charge_type, listed.bandwidth, listed.status) == ("PayByTraffic", "5", "Available")
    assert error_of(allocate, vpc, instance_id="eip-recent") == ("OperationFailed.AllocateUnfamiliarIp", 400)


def test_recovery_by_allocation_id_keeps_the_id(vpc, control):
    recovered = allocate_pro(vpc, instance_id="eip-recent", bandwidth="20", internet_charge_type="PayByBandwidth")
    assert (recovered.allocation_id, recovered.eip_address) == ("eip-recent", "47.96.1.20")
    listed = find(vpc, "eip-recent")
    assert (listed.internet_charge_type, listed.bandwidth) == ("PayByBandwidth", "20")
    # The address is the account's again: a second recovery finds it allocated.
    assert error_of(allocate, vpc, ip_address="47.96.1.20") == ("Ip.Allocated", 400)


def test_recovery_naming_address_and_id_must_agree(vpc, control):
    code = error_of(allocate, vpc, ip_address="47.96.1.20", instance_id="eip-old")
    assert code == ("OperationFailed.AllocateUnfamiliarIp", 400)
    assert allocate(vpc, ip_address="47.96.1.20", instance_id="eip-recent").allocation_id == "eip-recent"


@pytest.mark.parametrize(
    "kwargs, expected",
    [
        pytest.param(
            {"ip_address": "47.96.1.21"}, ("OperationFailed.AllocateUnfamiliarIp", 400), id="released-8-days-ago"
        ),
        pytest.param({"instance_id": "eip-old"}, ("OperationFailed.AllocateUnfamiliarIp", 400), id="id-8-days-ago"),
        pytest.param({"ip_address": "47.96.0.5"}, ("OperationFailed.AllocateUnfamiliarIp", 400), id="never-used"),
        pytest.param({"instance_id": "eip-never"}, ("OperationFailed.AllocateUnfamiliarIp", 400), id="unknown-id"),
        pytest.param({"ip_address": "47.96.1.10"}, ("Ip.Allocated", 400), id="address-allocated"),
        pytest.param({"instance_id": "eip-a"}, ("Ip.Allocated", 400), id="id-allocated"),
        pytest.param({"ip_address": "121.40.9.9"}, ("OperationDenied.IpBelongToOtherUser", 400), id="foreign"),
        pytest.param({"ip_address": "47.96.1.300"}, ("IllegalParam.IpAddress", 400), id="malformed"),
        pytest.param(
            {"ip_address": "47.96.1.20", "region": "cn-beijing"},
            ("OperationFailed.AllocateUnfamiliarIp", 400),
            id="other-region",
        ),
    ],
)
def test_recovery_is_refused(vpc, control, kwargs, expected):
    control.load(eip_world(top={"foreign_ips": ["121.40.9.9"]}))
    region = kwargs.pop("region", "cn-hangzhou")
    assert error_of(allocate, vpc, region=region, **kwargs) == expected


def test_recovery_window_is_seven_days_of_emulated_time(vpc, control):
    created = allocate(vpc)
    other = allocate(vpc)
    release(vpc, created.allocation_id)
    release(vpc, other.allocation_id)
    control.advance(7 * DAY - 60)
    assert allocate(vpc, ip_address=created.eip_address).eip_address == created.eip_address
    control.advance(120)
    code = error_of(allocate, vpc, ip_address=other.eip_address)
    assert code == ("OperationFailed.AllocateUnfamiliarIp", 400)


def test_recovery_window_counts_from_the_end_of_the_release(vpc, control):
    created = allocate(vpc)
    control.delays(eip_release=3600)
    release(vpc, created.allocation_id)
    # One jump past the release and the whole window: the window starts when Releasing ended, not now.
    control.advance(3600 + 7 * DAY + 60)
    code = error_of(allocate, vpc, ip_address=created.eip_address)
    assert code == ("OperationFailed.AllocateUnfamiliarIp", 400)


def test_monthly_recovery_limit(vpc, control):
    control.load(
        eip_world(
            top={"recovery_limit": 1},
            released_eips=[{"id": "eip-recent2", "ip": "47.96.1.22", "released": "-1d"}],
        )
    )
    allocate(vpc, ip_address="47.96.1.20")
    assert error_of(allocate, vpc, ip_address="47.96.1.22") == ("OperationFailed.ResourceNotEnough", 400)
