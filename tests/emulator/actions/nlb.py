"""NLB 2022-04-30 actions: enough of Network Load Balancer for zone EIPs (parameters in the form body).

The server reads an NLB request's form body as its parameters (``registry.Product.form_body``), as the SDK sends
them; a query-only reader would miss every one.  Jobs are read with GetJobStatus (and ListAsynJobs).
"""

from __future__ import annotations

from ..errors import ApiError
from ..registry import NLB, Context, action
from ..zonal import NLB as PRODUCT
from . import _zonal


@action(NLB, "GetLoadBalancerAttribute")
def get_load_balancer_attribute(ctx: Context) -> dict:
    return _zonal.get_attribute(ctx, PRODUCT)


@action(NLB, "ListLoadBalancers")
def list_load_balancers(ctx: Context) -> dict:
    return _zonal.list_balancers(ctx, PRODUCT)


@action(NLB, "UpdateLoadBalancerAddressTypeConfig", mutating=True)
def update_load_balancer_address_type_config(ctx: Context) -> dict:
    return _zonal.update_address_type(ctx, PRODUCT)


@action(NLB, "UpdateLoadBalancerZones", mutating=True)
def update_load_balancer_zones(ctx: Context) -> dict:
    return _zonal.update_zones(ctx, PRODUCT)


@action(NLB, "ListAsynJobs")
def list_asyn_jobs(ctx: Context) -> dict:
    return _zonal.list_jobs(ctx, PRODUCT)


@action(NLB, "GetJobStatus")
def get_job_status(ctx: Context) -> dict:
    job_id = ctx.params.str("JobId", required=True)
    job = ctx.state["lb_jobs"].get(job_id)
    if job is None or job["Product"] != PRODUCT:
        raise ApiError("ResourceNotFound.Job", job_id)
    return {"Status": job["Status"]}


@action(NLB, "CreateLoadBalancer", mutating=True)
def create_load_balancer(ctx: Context) -> dict:
    return _zonal.create_balancer(ctx, PRODUCT)


@action(NLB, "DeleteLoadBalancer", mutating=True)
def delete_load_balancer(ctx: Context) -> dict:
    return _zonal.delete_balancer(ctx, PRODUCT)
