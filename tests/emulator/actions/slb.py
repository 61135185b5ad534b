"""SLB 2014-05-15 actions: just enough of Classic Load Balancer for the collection to validate a CLB target."""

from __future__ import annotations

from ..registry import SLB, Context, action, paginate
from ._network import ecs_tags

LOAD_BALANCER_STATES = ("inactive", "active", "locked")


@action(SLB, "DescribeLoadBalancers")
def describe_load_balancers(ctx: Context) -> dict:
    # An unknown LoadBalancerId yields an empty list, as Terraform's reader expects (UNCONFIRMED in the docs).
    # [fid:slb-unknown-id-empty]
    region = ctx.region()
    params = ctx.params
    wanted = params.comma_list("LoadBalancerId", maximum=20)
    simple = {
        "AddressType": params.str("AddressType", choices=("internet", "intranet")),
        "VpcId": params.str("VpcId"),
        "VSwitchId": params.str("VSwitchId"),
        "NetworkType": params.str("NetworkType", choices=("classic", "vpc")),
        "LoadBalancerStatus": params.str("LoadBalancerStatus", choices=LOAD_BALANCER_STATES),
        "LoadBalancerName": params.str("LoadBalancerName"),
        "Address": params.str("Address"),
        "MasterZoneId": params.str("MasterZoneId"),
    }
    views = []
    for balancer in sorted(ctx.store.in_region("load_balancers", region), key=lambda item: item["LoadBalancerId"]):
        if wanted and balancer["LoadBalancerId"] not in wanted:
            continue
        if any(value is not None and balancer[key] != value for key, value in simple.items()):
            continue
        views.append(
            {
                "LoadBalancerId": balancer["LoadBalancerId"],
                "LoadBalancerName": balancer["LoadBalancerName"],
                "LoadBalancerStatus": balancer["LoadBalancerStatus"],
                "Address": balancer["Address"],
                "AddressType": balancer["AddressType"],
                "AddressIPVersion": "ipv4",
                "NetworkType": balancer["NetworkType"],
                "RegionId": balancer["RegionId"],
                "RegionIdAlias": balancer["RegionId"],
                "VpcId": balancer["VpcId"],
                "VSwitchId": balancer["VSwitchId"],
                "MasterZoneId": balancer["MasterZoneId"],
                "SlaveZoneId": "",
                "CreateTime": balancer["CreateTime"],
                "PayType": "PayOnDemand",
                "InternetChargeType": "paybytraffic",
                "LoadBalancerSpec": "slb.s1.small",
                "DeleteProtection": "off",
                "ResourceGroupId": "",
                "Tags": ecs_tags(balancer.get("Tags", {})),
            }
        )
    # SLB pages default to 50 entries, at most 100 (SDK docstring of DescribeLoadBalancers.PageSize).
    page, envelope = paginate(views, params, default_size=50, max_size=100)
    return {**envelope, "LoadBalancers": {"LoadBalancer": page}}
