"""Step 1 of the association engine (_eip_association/request.py): input validation, table-driven."""

from __future__ import annotations

import pytest
from ansible_collections.alicloud.eip.plugins.module_utils._eip_association.request import (
    Desired,
    infer_instance_type,
    validate_request,
)
from ansible_collections.alicloud.eip.plugins.module_utils._util import InputError
from ansible_collections.alicloud.eip.tests.unit.plugins.module_utils.eip_association.fakes import (
    ENI1,
    want,
    want_list,
)

# ---- 1. input --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("instance_id", "expected"),
    [
        ("i-bp1abc", "EcsInstance"),
        ("eni-bp1abc", "NetworkInterface"),
        ("ngw-bp1abc", "Nat"),
        ("lb-bp1abc", "SlbInstance"),
        ("havip-bp1abc", "HaVip"),
        ("172.16.1.9", "IpAddress"),
        ("nat-bp1abc", None),
        ("vm-1", None),
    ],
)
def test_instance_type_from_prefix(instance_id, expected):
    assert infer_instance_type(instance_id) == expected


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"instance_id": "i-1"}, "name the EIP with allocation_id or ip_address"),
        ({"allocation_id": "eip-1"}, "instance_id is required with state=present"),
        (
            {"allocation_id": "eip-1", "ip_address": "47.0.0.1", "instance_id": "i-1"},
            "allocation_id and ip_address both name the EIP",
        ),
        ({"allocation_id": "i-123", "instance_id": "i-1"}, "allocation_id='i-123' is not an EIP allocation ID"),
        ({"ip_address": "47.0.0.300", "instance_id": "i-1"}, "ip_address='47.0.0.300' is not an IPv4 address"),
        ({"allocation_id": "eip-1", "instance_id": "vm-1"}, "cannot tell what instance_id='vm-1' is from its prefix"),
        ({"allocation_id": "eip-1", "instance_id": "i-1", "mode": "BINDED"}, "mode applies only to ENI targets"),
        ({"allocation_id": "eip-1", "instance_id": "ngw-1", "mode": "NAT"}, "but ngw-1 is a NAT gateway; remove mode"),
        (
            {"allocation_id": "eip-1", "instance_id": "i-1", "private_ip_address": "10.0.0.5"},
            "private_ip_address applies only to ENI targets",
        ),
        (
            {"allocation_id": "eip-1", "instance_id": "eni-1", "private_ip_address": "10.0.0"},
            "private_ip_address='10.0.0' is not an IPv4 address",
        ),
        (
            {"allocation_id": "eip-1", "instance_id": "172.16.1.9"},
            "vpc_id is required when the target is an IP address",
        ),
        (
            {"allocation_id": "eip-1", "instance_id": "i-1", "vpc_id": "vpc-1"},
            "vpc_id applies only when the target is an IP address",
        ),
        ({"allocation_id": "eip-1", "instance_type": "HaVip"}, "instance_id is required"),
    ],
)
def test_bad_input_names_the_option_and_the_fix(params, fragment):
    with pytest.raises(InputError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        validate_request({"state": "present", **params})


def test_absent_needs_an_eip_or_a_resource():
    with pytest.raises(InputError, match="name the EIP .* or the resource to take EIPs off"):
        validate_request({"state": "absent"})
    desired, _warnings = validate_request({"state": "absent", "instance_id": "eni-1"})
    assert desired[0].target == ENI1 and not desired[0].eip_ref


def test_explicit_type_overrides_the_prefix_with_a_warning():
    desired, warnings = validate_request(
        {"state": "present", "allocation_id": "eip-1", "instance_id": "i-1", "instance_type": "HaVip"}
    )
    assert desired[0].instance_type == "HaVip"
    assert warnings == ["instance_type=HaVip overrides the type the ID i-1 suggests (EcsInstance)"]


def test_ip_address_target_sends_the_address_as_private_ip():
    desired = want(allocation_id="eip-1", instance_id="172.16.1.9", vpc_id="vpc-gw")
    assert (desired[0].instance_type, desired[0].private_ip_address, desired[0].vpc_id) == (
        "IpAddress",
        "172.16.1.9",
        "vpc-gw",
    )


@pytest.mark.parametrize(
    ("items", "fragment"),
    [
        (
            [{"allocation_id": "eip-1", "instance_id": "i-1"}, {"allocation_id": "eip-1", "instance_id": "i-2"}],
            "associations[0] and associations[1] both name EIP eip-1",
        ),
        (
            [{"allocation_id": "eip-1", "instance_id": "i-1"}, {"allocation_id": "eip-2", "instance_id": "i-1"}],
            "both put an EIP on i-1; it takes one EIP",
        ),
        (
            [
                {"allocation_id": "eip-1", "instance_id": "eni-1", "private_ip_address": "10.0.0.5"},
                {"allocation_id": "eip-2", "instance_id": "eni-1", "private_ip_address": "10.0.0.5"},
            ],
            "both put an EIP on eni-1 at 10.0.0.5",
        ),
        (
            [
                {"allocation_id": "eip-1", "instance_id": "eni-1", "private_ip_address": "10.0.0.5"},
                {"allocation_id": "eip-2", "instance_id": "eni-1", "mode": "MULTI_BINDED"},
            ],
            "associations[0] (NAT) and associations[1] (MULTI_BINDED) put EIPs on eni-1 in different modes",
        ),
        (
            [{"allocation_id": "eip-1", "instance_id": "i-1"}, {"instance_id": "i-2"}],
            "associations[1]: name the EIP with associations[1].allocation_id",
        ),
        (
            [{"allocation_id": "eip-1", "instance_id": "i-1", "mode": "NAT"}],
            "associations[0].mode applies only to ENI targets",
        ),
    ],
)
def test_list_items_are_checked_against_each_other(items, fragment):
    with pytest.raises(InputError) as excinfo:
        want_list(*items)
    assert fragment in str(excinfo.value)


def test_empty_list_is_refused():
    with pytest.raises(InputError, match="associations is empty"):
        validate_request({"state": "present", "associations": []})


def test_desired_where_prefixes_messages():
    assert Desired("associations[3]", allocation_id="eip-1").option("mode") == "associations[3].mode"
    assert Desired("", allocation_id="eip-1").option("mode") == "mode"
