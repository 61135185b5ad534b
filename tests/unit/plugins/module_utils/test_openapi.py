# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The generic OpenAPI call path (_openapi) and its endpoint table (_endpoint_maps).

That each request of the API layer is the one the product client would send is proved by the API tests themselves:
their fake connection (api/recording.py) compares every generic request with the product client's.
"""

from __future__ import annotations

import importlib

import pytest
from alibabacloud_tea_openapi.models import Config
from ansible_collections.alicloud.eip.plugins.module_utils._client import connection_from_params
from ansible_collections.alicloud.eip.plugins.module_utils._endpoint_maps import ENDPOINT_MAPS
from ansible_collections.alicloud.eip.plugins.module_utils._openapi import (
    LightRequest,
    ProductCaller,
    api_name,
    light_models,
)
from ansible_collections.alicloud.eip.plugins.module_utils._products import PRODUCTS_BY_NAME


@pytest.mark.parametrize("product", sorted(ENDPOINT_MAPS))
def test_the_endpoint_table_is_the_pinned_sdk_clients(product):
    package = PRODUCTS_BY_NAME[product].package
    client = importlib.import_module(f"{package}.client").Client(Config(region_id="cn-hangzhou", endpoint="x"))
    assert client._endpoint_rule == "regional"  # pylint: disable=protected-access
    assert ENDPOINT_MAPS[product] == client._endpoint_map  # pylint: disable=protected-access


@pytest.mark.parametrize(
    "region,expected",
    [("cn-hangzhou", "vpc.aliyuncs.com"), ("cn-shanghai", "vpc.cn-shanghai.aliyuncs.com")],
)
def test_without_an_endpoint_option_the_generic_client_goes_where_the_product_client_would(region, expected):
    params = {"region": region, "access_key_id": "ak", "access_key_secret": "s", "validate_certs": True}
    connection = connection_from_params(params, environ={})
    generic = connection.vpc._openapi._endpoint  # pylint: disable=protected-access
    generated = connection.vpc._generated()._endpoint  # pylint: disable=protected-access
    assert generic == generated == expected


def test_a_light_request_reads_like_a_model_and_names_its_action():
    models = light_models("vpc")
    request = models.DescribeEipAddressesRequest(region_id="cn-hangzhou", allocation_id="eip-1")
    request.tag = [models.DescribeEipAddressesRequestTag(key="team", value="web")]
    assert (request.allocation_id, request.status, request.tag[0].key) == ("eip-1", None, "team")
    assert request.action == "DescribeEipAddresses"
    assert request.to_parameters() == {
        "RegionId": "cn-hangzhou",
        "AllocationId": "eip-1",
        "Tag": [{"Key": "team", "Value": "web"}],
    }
    with pytest.raises(ValueError, match="not a request model"):
        request.tag[0].action  # noqa: B018  # pylint: disable=pointless-statement


def test_api_names_follow_the_sdk_spelling():
    assert [api_name(name) for name in ("v_switch_id", "source_vswitch_id", "isp", "source_cidr")] == [
        "VSwitchId",
        "SourceVSwitchId",
        "ISP",
        "SourceCIDR",
    ]


class FakeOpenApi:
    def __init__(self):
        self.calls = []

    def call_api(self, params, request, runtime):
        self.calls.append((params.action, params.version, request.query))
        return {"body": {"RequestId": "r-1", "TotalCount": 0}, "headers": {"x": "y"}, "statusCode": 200}


class FakeGenerated:
    def __init__(self):
        self.calls = []

    def describe_eip_addresses_with_options(self, request, runtime):
        self.calls.append(request)
        return "generated answer"


def test_a_light_request_goes_through_call_api_and_a_real_model_to_the_product_client():
    openapi, generated = FakeOpenApi(), FakeGenerated()
    caller = ProductCaller(openapi, "2016-04-28", lambda: generated)
    answer = caller.describe_eip_addresses_with_options(
        LightRequest("DescribeEipAddressesRequest", region_id="cn-hangzhou", page_number=1), None
    )
    assert openapi.calls == [("DescribeEipAddresses", "2016-04-28", {"RegionId": "cn-hangzhou", "PageNumber": "1"})]
    assert (answer.body.to_map(), answer.headers, answer.status_code) == (
        {"RequestId": "r-1", "TotalCount": 0},
        {"x": "y"},
        200,
    )
    from alibabacloud_vpc20160428 import models

    real = models.DescribeEipAddressesRequest(region_id="cn-hangzhou")
    assert caller.describe_eip_addresses_with_options(real, None) == "generated answer"
    assert generated.calls == [real] and len(openapi.calls) == 1
