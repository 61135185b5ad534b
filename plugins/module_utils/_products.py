# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note: this module util is PRIVATE to the collection. It can change at any time; do not use it from
# other collections or standalone plugins/modules.

"""The SDK products the collection calls, as one table: ``_client`` builds the clients, the shared
``endpoints`` option and the SDK check from it (see ``docs/architecture.md``, "Add an SDK product")."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SdkProduct:
    """One Alibaba Cloud SDK product the collection calls: one row of :data:`PRODUCTS`.

    ``name`` is the connection's attribute (``connection.vpc``) and the key of the ``endpoints`` option;
    ``package`` the Python package (its ``client.Client`` is built, its ``models`` hold the requests);
    ``pip_name`` what ``missing_required_lib`` names (pinned in ``requirements.txt``); ``api_version`` the
    OpenAPI version the package speaks; ``private_endpoint`` the pattern of the product's VPC-internal endpoint,
    the example the documentation and messages give for ``endpoints.<name>`` (without an endpoint option the SDK
    picks the public endpoint of the region from its own table).
    """

    name: str
    pip_name: str
    package: str
    api_version: str
    private_endpoint: str
    serves: str


# Adding a product (ALB, NLB, ...) is one row here, then the endpoints suboption in doc_fragments/_alicloud.py, the
# pins in requirements.txt and requirements-dev.lock (a unit test holds them together) and its file under _api/.
PRODUCTS = (
    SdkProduct(
        "vpc",
        "alibabacloud-vpc20160428",
        "alibabacloud_vpc20160428",
        "2016-04-28",
        "vpc-vpc.{region}.aliyuncs.com",
        "EIPs, NAT gateways, HaVips",
    ),
    SdkProduct(
        "ecs",
        "alibabacloud-ecs20140526",
        "alibabacloud_ecs20140526",
        "2014-05-26",
        "ecs-vpc.{region}.aliyuncs.com",
        "instances, ENIs",
    ),
    SdkProduct(
        "slb",
        "alibabacloud-slb20140515",
        "alibabacloud_slb20140515",
        "2014-05-15",
        "slb-vpc.{region}.aliyuncs.com",
        "Classic Load Balancer",
    ),
    # The ALB/NLB VPC endpoints follow the other products' "-vpc" pattern: UNCONFIRMED [fid:alb-nlb-vpc-endpoint].
    SdkProduct(
        "alb",
        "alibabacloud-alb20200616",
        "alibabacloud_alb20200616",
        "2020-06-16",
        "alb-vpc.{region}.aliyuncs.com",
        "Application Load Balancer zone EIPs",
    ),
    SdkProduct(
        "nlb",
        "alibabacloud-nlb20220430",
        "alibabacloud_nlb20220430",
        "2022-04-30",
        "nlb-vpc.{region}.aliyuncs.com",
        "Network Load Balancer zone EIPs",
    ),
)
PRODUCTS_BY_NAME = {product.name: product for product in PRODUCTS}
