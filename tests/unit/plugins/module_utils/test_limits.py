"""The documented limits (plugins/module_utils/_limits.py): every limit at and beyond its boundaries."""

from __future__ import annotations

import pytest
from ansible_collections.alicloud.eip.plugins.module_utils import _limits as limits
from ansible_collections.alicloud.eip.plugins.module_utils._limits import LimitError, role_eip_settings_errors


def refused(check, *args, **kwargs) -> str:
    """The message of the refusal (fails the test when the value passes)."""
    with pytest.raises(LimitError) as excinfo:
        check(*args, **kwargs)
    return str(excinfo.value)


# ---- names and descriptions ------------------------------------------------------------------------------

TEXT_CASES = [
    # (check, value, accepted, message fragment when refused)
    (limits.check_eip_name, None, True, ""),
    (limits.check_eip_name, "", False, "name: 0 characters given; it must be 1 to 128 characters; lengthen it"),
    (limits.check_eip_name, "a", True, ""),
    (limits.check_eip_name, "a" * 128, True, ""),
    (limits.check_eip_name, "a" * 129, False, "name: 129 characters given; it must be 1 to 128 characters; shorten it"),
    (limits.check_eip_name, "1st", True, ""),  # a name need not start with a letter
    (limits.check_eip_name, "http://x", False, "name: 'http://x' starts with http:// or https://"),
    (limits.check_eip_name, "https://x", False, "starts with http:// or https://"),
    (limits.check_eip_description, "", False, "description: 0 characters given; it must be 2 to 256"),
    (limits.check_eip_description, "a", False, "description: 1 characters given; it must be 2 to 256"),
    (limits.check_eip_description, "ab", True, ""),
    (limits.check_eip_description, "a" * 256, True, ""),
    (limits.check_eip_description, "a" * 257, False, "it must be 2 to 256 characters; shorten it"),
    (limits.check_eip_description, "1st tier", False, "description: '1st tier' must start with a letter"),
    (limits.check_eip_description, "https://x", False, "starts with http:// or https://"),
    (limits.check_eip_description, "Ünïcode first", True, ""),
    (limits.check_eni_name, "a", False, "name: 1 characters given; it must be 2 to 128 characters"),
    (limits.check_eni_name, "ab", True, ""),
    (limits.check_eni_name, "a" * 128, True, ""),
    (limits.check_eni_name, "a" * 129, False, "name: 129 characters given; it must be 2 to 128"),
    (limits.check_eni_description, "a", False, "description: 1 characters given; it must be 2 to 256"),
    (limits.check_eni_description, "1st", True, ""),  # no letter rule for an ENI's description
    (limits.check_eni_description, "a" * 256, True, ""),
    (limits.check_eni_description, "a" * 257, False, "it must be 2 to 256 characters"),
    (limits.check_eni_description, "http://x", False, "starts with http:// or https://"),
    (limits.check_eip_name, 5, False, "name: 5 is not text"),
]


@pytest.mark.parametrize("check, value, accepted, fragment", TEXT_CASES)
def test_text_limits(check, value, accepted, fragment):
    if accepted:
        check(value)
    else:
        assert fragment in refused(check, value)


def test_the_option_named_is_the_one_given():
    assert refused(limits.check_eip_name, "", option="association.name").startswith("association.name: ")


# ---- bandwidth --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, internet_charge_type, charge_type, accepted",
    [
        (None, "PayByTraffic", "PostPaid", True),
        (0, "PayByBandwidth", "PostPaid", False),
        (-5, "PayByBandwidth", "PostPaid", False),
        (1, "PayByTraffic", "PostPaid", True),
        (200, "PayByTraffic", "PostPaid", True),
        (201, "PayByTraffic", "PostPaid", False),
        (500, "PayByBandwidth", "PostPaid", True),
        (501, "PayByBandwidth", "PostPaid", False),
        (500, None, "PostPaid", True),  # AllocateEipAddress's default billing is PayByBandwidth
        (501, None, "PostPaid", False),
        (1000, "PayByBandwidth", "PrePaid", True),
        (1001, "PayByBandwidth", "PrePaid", False),
    ],
)
def test_bandwidth_ranges_by_billing(value, internet_charge_type, charge_type, accepted):
    if accepted:
        limits.check_bandwidth(value, internet_charge_type, charge_type)
    else:
        message = refused(limits.check_bandwidth, value, internet_charge_type, charge_type)
        assert message.startswith(f"bandwidth: {value} Mbit/s given")


def test_bandwidth_messages_name_the_billing_and_the_fix():
    assert refused(limits.check_bandwidth, 0, "PayByTraffic") == (
        "bandwidth: 0 Mbit/s given; the bandwidth must be at least 1 Mbit/s"
    )
    new = refused(limits.check_bandwidth, 300, "PayByTraffic", whose="the recovered EIP")
    assert "pay-as-you-go PayByTraffic billing of the recovered EIP allows 1 to 200 Mbit/s" in new
    assert "internet_charge_type=PayByBandwidth" in new
    held = refused(limits.check_bandwidth, 300, "PayByTraffic", whose="eip-1", existing=True)
    assert "of eip-1 allows 1 to 200" in held and "internet_charge_type" not in held


# ---- tags -------------------------------------------------------------------------------------------------

TAG_CASES = [
    # (tags, vpc_values, message fragment or None when accepted)
    (None, True, None),
    ({}, True, None),
    ({f"k{n}": "v" for n in range(20)}, True, None),
    ({f"k{n}": "v" for n in range(21)}, True, "tags: 21 tags given; a resource takes at most 20"),
    ({"k" * 128: "v"}, True, None),
    ({"k" * 129: "v"}, True, "has 129 characters; at most 128"),
    ({"": "v"}, True, "tags: a tag key is empty"),
    ({"acs:owner": "x"}, True, "tags: the key 'acs:owner' is reserved by Alibaba Cloud"),
    ({"aliyun-x": "x"}, True, "reserved by Alibaba Cloud"),
    ({"see-http://x": "x"}, True, "contains http:// or https://"),
    ({"owner": "v" * 128}, True, None),
    ({"owner": "v" * 129}, True, "tags.owner: the value has 129 characters; at most 128"),
    ({"owner": ""}, True, None),
    ({"owner": None}, True, None),
    ({"owner": 3}, True, None),  # a number is stringified as the cloud stores it
    ({"owner": {"team": "web"}}, True, "tags.owner: the value is a dict; a tag value is text"),
    ({"owner": ["a", "b"]}, True, "tags.owner: the value is a list; a tag value is text"),
    ({"owner": "https://example.invalid/x"}, True, "tags.owner: the value contains http:// or https://"),
    ({"owner": "aliyun-team"}, True, "tags.owner: the value 'aliyun-team' starts with aliyun or acs:"),
    ({"owner": "aliyun-team"}, False, None),  # ECS (ENI) values have no prefix rule
    ({"owner": {"a": 1}}, False, "tags.owner: the value is a dict"),
]


@pytest.mark.parametrize("tags, vpc_values, fragment", TAG_CASES)
def test_tag_limits(tags, vpc_values, fragment):
    if fragment is None:
        limits.check_tags(tags, vpc_values=vpc_values)
    else:
        assert fragment in refused(limits.check_tags, tags, vpc_values=vpc_values)


# ---- counts -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value, accepted", [(None, True), (-1, False), (0, True), (1, True), (49, True), (50, False)])
def test_count_limits(value, accepted):
    if accepted:
        limits.check_count("count", value, 0, 49, "fewer")
    else:
        assert refused(limits.check_count, "count", value, 0, 49, "fewer") == (
            f"count: {value} given; it must be 0 to 49; fewer"
        )


# ---- line type --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [None, "BGP", "BGP_PRO", "ChinaMobile_L2", "BGP_FinanceCloud"])
def test_documented_line_types_pass(value):
    limits.check_isp(value)


@pytest.mark.parametrize("value", ["", "bgp", "BGP_LOL", "BGP "])
def test_other_line_types_are_refused(value):
    message = refused(limits.check_isp, value)
    assert message.startswith(f"isp: {value!r} is not a line type of the API; use one of BGP, BGP_PRO,")


@pytest.mark.parametrize(
    "settings, expected",
    [
        ({}, []),
        ({"eip_bandwidth": "5", "wait_timeout": 30}, []),
        (
            {"eip_bandwidth": "fast"},
            ["nat_egress_eip_bandwidth: 'fast' is not a whole number of Mbit/s; give one, e.g. 5"],
        ),
        ({"eip_bandwidth": 0}, ["nat_egress_eip_bandwidth: 0 Mbit/s given; the bandwidth must be at least 1 Mbit/s"]),
        ({"wait_timeout": 0}, ["nat_egress_wait_timeout: 0 given; it must be a positive number of seconds"]),
    ],
)
def test_role_eip_settings_errors_name_the_role_variables(settings, expected):
    assert role_eip_settings_errors(settings, "nat_egress_", whose="the new EIPs", eip_keys="eip_") == expected


def test_role_eip_settings_errors_name_the_role_metering_variable():
    errors = role_eip_settings_errors(
        {"eip_bandwidth": 900, "eip_internet_charge_type": "PayByTraffic"}, "nat_egress_", "the new EIPs", "eip_"
    )
    assert len(errors) == 1 and errors[0].startswith("nat_egress_eip_bandwidth: 900 Mbit/s given")
    assert "nat_egress_eip_internet_charge_type=PayByBandwidth" in errors[0]
