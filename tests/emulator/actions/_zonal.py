"""What the ALB (2020-06-16) and NLB (2022-04-30) actions share: zone mappings with one EIP per zone, and jobs.

``alb.py`` and ``nlb.py`` register the handlers per product; the product's quirks are parameters here
(docs/load-balancers.md, the SDK models): the not-found code (``ResourceNotFound.LoadBalancer`` /
``.loadBalancer``), the address field of a zone (``Address`` / ``PublicIPv4Address`` with ``EniId``), the lock
list's name, and whether ``UpdateLoadBalancerZones`` takes ``AllocationId`` (NLB only).
"""

from __future__ import annotations

from ..errors import ApiError
from ..registry import Context
from ..zonal import ALB, NLB
from ._network import register_missing

register_missing(
    {
        "ResourceNotFound.LoadBalancer": (404, "The specified resource %s is not found."),
        "ResourceNotFound.loadBalancer": (404, "The specified resource %s is not found."),
        "IncorrectStatus.LoadBalancer": (400, "The status of %s is incorrect."),
        "OperationDenied.ZoneMappingsNotChanged": (
            400,
            "The operation is not allowed because the zone mappings are not changed.",
        ),
        # UNCONFIRMED [fid:lb-eip-codes]: the ALB/NLB pages' error tables were not reachable; the VPC codes are reused.
        "InvalidAllocationId.NotFound": (404, "Specified allocation id is not found"),
        "IncorrectEipStatus": (400, "The current status of the EIP does not support this operation."),
        "ResourceNotFound.Job": (404, "The specified job %s is not found."),
    }
)

NOT_FOUND = {ALB: "ResourceNotFound.LoadBalancer", NLB: "ResourceNotFound.loadBalancer"}


def find_balancer(ctx: Context, product: str) -> dict:
    balancer_id = ctx.params.str("LoadBalancerId", required=True)
    balancer = ctx.state["zonal_load_balancers"].get(balancer_id)
    region = ctx.params.str("RegionId")
    if balancer is None or balancer["Product"] != product or (region and balancer["RegionId"] != region):
        raise ApiError(NOT_FOUND[product], balancer_id)
    return balancer


def view(ctx: Context, balancer: dict) -> dict:
    """The GetLoadBalancerAttribute answer (and a ListLoadBalancers entry)."""
    product = balancer["Product"]
    zones = []
    for mapping in balancer["ZoneMappings"]:
        eip = ctx.state["eips"].get(mapping.get("AllocationId") or "")
        address: dict = {"AllocationId": mapping.get("AllocationId") or ""}
        if product == ALB:
            address["Address"] = eip["IpAddress"] if eip else ""
        else:
            address.update({"PublicIPv4Address": eip["IpAddress"] if eip else "", "EniId": mapping.get("EniId", "")})
        zones.append(
            {
                "ZoneId": mapping["ZoneId"],
                "VSwitchId": mapping["VSwitchId"],
                "Status": "Active",
                "LoadBalancerAddresses": [address],
            }
        )
    record = {
        "LoadBalancerId": balancer["LoadBalancerId"],
        "LoadBalancerName": balancer["LoadBalancerName"],
        "RegionId": balancer["RegionId"],
        "VpcId": balancer["VpcId"],
        "AddressType": balancer["AddressType"],
        "LoadBalancerStatus": balancer["LoadBalancerStatus"],
        "ZoneMappings": zones,
    }
    if product == ALB:
        record["LoadBalancerBussinessStatus"] = "Normal"  # sic: the ALB API spells it with "ss"
        record["LoadBalancerOperationLocks"] = []
    else:
        record["LoadBalancerBusinessStatus"] = "Normal"
        record["OperationLocks"] = []
    return record


def get_attribute(ctx: Context, product: str) -> dict:
    return view(ctx, find_balancer(ctx, product))


def list_balancers(ctx: Context, product: str) -> dict:
    wanted = ctx.params.indexed("LoadBalancerIds", maximum=20)
    region = ctx.params.str("RegionId")
    balancers = [
        view(ctx, balancer)
        for balancer in sorted(ctx.state["zonal_load_balancers"].values(), key=lambda item: item["LoadBalancerId"])
        if balancer["Product"] == product
        and (not wanted or balancer["LoadBalancerId"] in wanted)
        and (not region or balancer["RegionId"] == region)
    ]
    return {"LoadBalancers": balancers, "TotalCount": len(balancers), "MaxResults": 100, "NextToken": ""}


def _requested_zones(ctx: Context, balancer: dict) -> list[dict]:
    zones = ctx.params.objects("ZoneMappings", maximum=10)
    known = {mapping["ZoneId"] for mapping in balancer["ZoneMappings"]}
    for zone in zones:
        if not zone.get("ZoneId") or not zone.get("VSwitchId"):
            raise ApiError("MissingParameter", "ZoneMappings.N.ZoneId/VSwitchId")
        vswitch = ctx.state["vswitches"].get(zone["VSwitchId"])
        if vswitch is None or vswitch["ZoneId"] != zone["ZoneId"] or vswitch["VpcId"] != balancer["VpcId"]:
            raise ApiError("InvalidParameter", "ZoneMappings.N.VSwitchId")
        if zone["ZoneId"] not in known and ctx.action == "UpdateLoadBalancerAddressTypeConfig":
            raise ApiError("InvalidParameter", "ZoneMappings.N.ZoneId")
    return zones


def _check_eips(ctx: Context, balancer: dict, allocations: dict[str, str]) -> None:
    """Each new zone EIP exists in the region and is Available (or already on this zone)."""
    current = {mapping["ZoneId"]: mapping.get("AllocationId") for mapping in balancer["ZoneMappings"]}
    for zone_id, allocation_id in allocations.items():
        if current.get(zone_id) == allocation_id:
            continue
        eip = ctx.state["eips"].get(allocation_id)
        if eip is None or eip["RegionId"] != balancer["RegionId"]:
            raise ApiError("InvalidAllocationId.NotFound")
        if eip["Status"] != "Available":
            raise ApiError("IncorrectEipStatus")


def _start_job(
    ctx: Context, balancer: dict, address_type: str, allocations: dict, zones: list[dict], operate: str = "Update"
) -> dict:
    job_id = ctx.store.new_id("job")
    ctx.state["lb_jobs"][job_id] = {
        "Id": job_id,
        "Product": balancer["Product"],
        "ApiName": ctx.action,
        "OperateType": operate,
        "ResourceId": balancer["LoadBalancerId"],
        "ResourceType": "loadbalancer",
        "Status": "Processing",
        "ErrorCode": "",
        "ErrorMessage": "",
        "CreateTime": int(ctx.store.now() * 1000),
    }
    balancer["LoadBalancerStatus"] = {"Create": "Provisioning", "Update": "Configuring"}.get(operate, "Configuring")
    payload = {
        "JobId": job_id,
        "AddressType": address_type,
        "Allocations": allocations,
        "Zones": [{"ZoneId": zone["ZoneId"], "VSwitchId": zone["VSwitchId"]} for zone in zones],
    }
    ctx.store.schedule("lb.job_done", "lb_job", payload)
    return {"JobId": job_id}


def _writable(ctx: Context, balancer: dict) -> None:
    # While a job runs "you can perform only query operations" (NLB API doc); TF retries this code on ALB.
    if balancer["LoadBalancerStatus"] != "Active":
        raise ApiError("IncorrectStatus.LoadBalancer", balancer["LoadBalancerId"])


def update_address_type(ctx: Context, product: str) -> dict:
    balancer = find_balancer(ctx, product)
    address_type = ctx.params.str("AddressType", required=True, choices=("Internet", "Intranet"))
    _writable(ctx, balancer)
    requested = _requested_zones(ctx, balancer)
    current = {mapping["ZoneId"]: mapping for mapping in balancer["ZoneMappings"]}
    zones = [{"ZoneId": m["ZoneId"], "VSwitchId": m["VSwitchId"]} for m in balancer["ZoneMappings"]]
    allocations = {}
    if address_type == "Internet":
        given = {zone["ZoneId"]: zone.get("AllocationId", "") for zone in requested}
        for zone_id, mapping in current.items():
            # "AllocationId is required when you change the network type from Intranet to Internet" (SDK doc); on an
            # Internet-facing one a zone left out keeps its EIP (UNCONFIRMED [fid:lb-address-type-partial]).
            allocation_id = given.get(zone_id) or (
                mapping.get("AllocationId") if balancer["AddressType"] == "Internet" else ""
            )
            if not allocation_id:
                raise ApiError("MissingParameter", "ZoneMappings.N.AllocationId")
            allocations[zone_id] = allocation_id
        if len(set(allocations.values())) != len(allocations):
            raise ApiError("InvalidParameter", "ZoneMappings.N.AllocationId")
        _check_eips(ctx, balancer, allocations)
    unchanged = address_type == balancer["AddressType"] and all(
        current[zone_id].get("AllocationId") == allocation_id for zone_id, allocation_id in allocations.items()
    )
    if unchanged:
        raise ApiError("OperationDenied.ZoneMappingsNotChanged")
    return _start_job(ctx, balancer, address_type, allocations, zones)


def update_zones(ctx: Context, product: str) -> dict:
    """The full zone list; a zone left out is removed.  ALB's model has no AllocationId: its EIPs never change here."""
    balancer = find_balancer(ctx, product)
    _writable(ctx, balancer)
    requested = _requested_zones(ctx, balancer)
    if not requested:
        raise ApiError("MissingParameter", "ZoneMappings")
    current = {mapping["ZoneId"]: mapping.get("AllocationId", "") for mapping in balancer["ZoneMappings"]}
    allocations = {}
    if balancer["AddressType"] == "Internet":
        for zone in requested:
            wanted = zone.get("AllocationId", "") if product == NLB else ""
            allocations[zone["ZoneId"]] = wanted or current.get(zone["ZoneId"], "")
            if not allocations[zone["ZoneId"]]:
                raise ApiError("MissingParameter", "ZoneMappings.N.AllocationId")
        _check_eips(ctx, balancer, allocations)
    same_zones = [zone["ZoneId"] for zone in requested] == [mapping["ZoneId"] for mapping in balancer["ZoneMappings"]]
    if same_zones and all(current.get(zone_id) == allocation_id for zone_id, allocation_id in allocations.items()):
        raise ApiError("OperationDenied.ZoneMappingsNotChanged")
    return _start_job(ctx, balancer, balancer["AddressType"], allocations, requested)


def list_jobs(ctx: Context, product: str) -> dict:
    wanted = ctx.params.indexed("JobIds", maximum=100)
    jobs = [
        {key: value for key, value in job.items() if key != "Product"}
        for job in ctx.state["lb_jobs"].values()
        if job["Product"] == product and (not wanted or job["Id"] in wanted)
    ]
    return {"Jobs": jobs, "TotalCount": len(jobs), "MaxResults": 100, "NextToken": ""}


def create_balancer(ctx: Context, product: str) -> dict:
    """CreateLoadBalancer: Provisioning, then Active with its zones (and their EIPs) once its job is done.

    The answer has no JobId (ALB: ``LoadBalancerId``; NLB: ``LoadbalancerId`` with a lower-case b, and ``OrderId``).
    An Internet-facing one needs an EIP per zone here; the real API may allocate EIPs of its own instead
    (UNCONFIRMED [fid:lb-create-internet-eips]).  The documented lower bound of two zones is not enforced.
    """
    params = ctx.params
    region = ctx.region(required=product == NLB)
    vpc = ctx.state["vpcs"].get(params.str("VpcId", required=True))
    if vpc is None or (region and vpc["RegionId"] != region):
        raise ApiError("InvalidParameter", "VpcId")
    address_type = params.str("AddressType", required=True, choices=("Internet", "Intranet"))
    if product == ALB:
        params.str("LoadBalancerEdition", required=True, choices=("Basic", "Standard", "StandardWithWaf"))
        params.str("LoadBalancerBillingConfig.PayType", required=True, choices=("PostPay",))
    zones = params.objects("ZoneMappings", maximum=10)
    if not zones:
        raise ApiError("MissingParameter", "ZoneMappings")
    balancer = {
        "LoadBalancerId": ctx.store.new_id(product),
        "Product": product,
        "LoadBalancerName": params.str("LoadBalancerName", default=""),
        "RegionId": vpc["RegionId"],
        "VpcId": vpc["VpcId"],
        "AddressType": "Intranet",
        "LoadBalancerStatus": "Provisioning",
        "ZoneMappings": [],
    }
    for zone in zones:
        vswitch = ctx.state["vswitches"].get(zone.get("VSwitchId", ""))
        if vswitch is None or vswitch["VpcId"] != vpc["VpcId"] or vswitch["ZoneId"] != zone.get("ZoneId"):
            raise ApiError("InvalidParameter", "ZoneMappings.N.VSwitchId")
    allocations = {zone["ZoneId"]: zone.get("AllocationId", "") for zone in zones} if address_type == "Internet" else {}
    if address_type == "Internet":
        if not all(allocations.values()) or len(set(allocations.values())) != len(allocations):
            raise ApiError("MissingParameter", "ZoneMappings.N.AllocationId")
        _check_eips(ctx, balancer, allocations)
    ctx.state["zonal_load_balancers"][balancer["LoadBalancerId"]] = balancer
    _start_job(ctx, balancer, address_type, allocations, zones, operate="Create")
    if product == NLB:
        return {"LoadbalancerId": balancer["LoadBalancerId"], "OrderId": "%d" % ctx.state["sequence"]}
    return {"LoadBalancerId": balancer["LoadBalancerId"]}


def delete_balancer(ctx: Context, product: str) -> dict:
    """DeleteLoadBalancer: a job; when it is done the load balancer is gone and its EIPs are Available."""
    balancer = find_balancer(ctx, product)
    _writable(ctx, balancer)
    return _start_job(ctx, balancer, balancer["AddressType"], {}, [], operate="Delete")
