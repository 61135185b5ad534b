"""ALB 2020-06-16 actions: enough of Application Load Balancer for zone EIPs (parameters in the query string).

ALB requests carry no RegionId (the endpoint names the region); the emulator serves every region on one endpoint,
so an ALB is found by its ID alone.  ALB has no GetJobStatus: jobs are read with ListAsynJobs.
"""

from __future__ import annotations

from ..registry import ALB, Context, action
from ..zonal import ALB as PRODUCT
from . import _zonal


@action(ALB, "GetLoadBalancerAttribute")
def get_load_balancer_attribute(ctx: Context) -> dict:
    return _zonal.get_attribute(ctx, PRODUCT)


@action(ALB, "ListLoadBalancers")
def list_load_balancers(ctx: Context) -> dict:
    return _zonal.list_balancers(ctx, PRODUCT)


@action(ALB, "UpdateLoadBalancerAddressTypeConfig", mutating=True)
def update_load_balancer_address_type_config(ctx: Context) -> dict:
    return _zonal.update_address_type(ctx, PRODUCT)


@action(ALB, "UpdateLoadBalancerZones", mutating=True)
def update_load_balancer_zones(ctx: Context) -> dict:
    return _zonal.update_zones(ctx, PRODUCT)


@action(ALB, "ListAsynJobs")
def list_asyn_jobs(ctx: Context) -> dict:
    return _zonal.list_jobs(ctx, PRODUCT)


@action(ALB, "CreateLoadBalancer", mutating=True)
def create_load_balancer(ctx: Context) -> dict:
    return _zonal.create_balancer(ctx, PRODUCT)


@action(ALB, "DeleteLoadBalancer", mutating=True)
def delete_load_balancer(ctx: Context) -> dict:
    return _zonal.delete_balancer(ctx, PRODUCT)
