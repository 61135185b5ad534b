"""ALB and NLB state: load balancers with one EIP per zone, their jobs, and the EIP side of a zone mapping.

The one room for it, so that the world loader (load balancers a world file declares) and the ALB/NLB actions
(``actions/alb.py``, ``actions/nlb.py``, shared handlers in ``actions/_zonal.py``) record a zone's EIP the same way.
State is the wire shape (CamelCase), one collection ``zonal_load_balancers`` for both products (``Product``) and
one ``lb_jobs``.  A change is a job that stays ``Processing`` for the ``lb_job`` delay while the load balancer is
``Configuring``; the transition ``lb.job_done`` applies it: the zone mappings, the EIPs (InUse on a service-managed
ENI, or Available again) and ``Active``.

UNCONFIRMED [fid:lb-eip-service-managed]: DescribeEipAddresses shows a zone's EIP as InstanceType
NetworkInterface on the load balancer's ENI with ServiceManaged 1 (docs/fidelity.md).
"""

from __future__ import annotations

import hashlib

from .bindings import UNBOUND
from .store import transition

ALB = "alb"
NLB = "nlb"
PREFIXES = {ALB: "alb-", NLB: "nlb-"}


def service_eni(balancer_id: str, zone_id: str) -> str:
    """The stable ID of the service-managed ENI a zone's address sits on."""
    return "eni-lb%s" % hashlib.sha1(("%s/%s" % (balancer_id, zone_id)).encode()).hexdigest()[:17]


def hold_eip(state: dict, balancer: dict, mapping: dict, allocation_id: str) -> None:
    """Put the EIP on the zone: InUse on the zone's service-managed ENI."""
    eip = state["eips"][allocation_id]
    eni = service_eni(balancer["LoadBalancerId"], mapping["ZoneId"])
    mapping["AllocationId"] = allocation_id
    mapping["EniId"] = eni
    eip.update(
        {
            "Status": "InUse",
            "InstanceId": eni,
            "InstanceType": "NetworkInterface",
            "InstanceRegionId": balancer["RegionId"],
            "Mode": "NAT",
            "PrivateIpAddress": "",
            "VpcId": balancer["VpcId"],
            "ServiceManaged": True,
        }
    )


def drop_eip(state: dict, mapping: dict) -> None:
    """Take the zone's EIP off: Available again."""
    allocation_id = mapping.get("AllocationId") or ""
    eip = state["eips"].get(allocation_id)
    if eip is not None:
        eip.update(UNBOUND)
        eip.pop("ServiceManaged", None)
    mapping["AllocationId"] = ""


def apply_mappings(
    state: dict, balancer: dict, address_type: str, allocations: dict[str, str], zones: list[dict]
) -> None:
    """The load balancer after a change: ``zones`` (ZoneId, VSwitchId), ``allocations`` ZoneId -> EIP."""
    old = {mapping["ZoneId"]: mapping for mapping in balancer["ZoneMappings"]}
    new = []
    for zone in zones:
        mapping = old.get(zone["ZoneId"]) or {
            "ZoneId": zone["ZoneId"],
            "VSwitchId": zone["VSwitchId"],
            "AllocationId": "",
        }
        wanted = allocations.get(zone["ZoneId"], "") if address_type == "Internet" else ""
        if mapping.get("AllocationId") != wanted:
            drop_eip(state, mapping)
            if wanted:
                hold_eip(state, balancer, mapping, wanted)
        new.append(mapping)
    for zone_id, mapping in old.items():
        if zone_id not in {zone["ZoneId"] for zone in zones}:
            drop_eip(state, mapping)
    balancer["ZoneMappings"] = new
    balancer["AddressType"] = address_type


@transition("lb.job_done")
def _job_done(store, payload: dict) -> None:
    state = store.data
    job = state["lb_jobs"][payload["JobId"]]
    balancer = state["zonal_load_balancers"].get(job["ResourceId"])
    if balancer is not None and job["OperateType"] == "Delete":
        for mapping in balancer["ZoneMappings"]:
            drop_eip(state, mapping)
        del state["zonal_load_balancers"][balancer["LoadBalancerId"]]
    elif balancer is not None:
        apply_mappings(state, balancer, payload["AddressType"], payload["Allocations"], payload["Zones"])
        balancer["LoadBalancerStatus"] = "Active"
    job["Status"] = "Succeeded"


def add_from_world(state: dict, region_id: str, product: str, spec: dict, vswitch_of, error) -> None:
    """A load balancer a world file declares: ``{id, zones: [{vswitch, eip}], address_type, status, name}``.

    ``vswitch_of(id, owner)`` returns the vSwitch (or raises); ``error`` is the world's exception class.
    """
    balancer_id = spec["id"]
    if not balancer_id.startswith(PREFIXES[product]):
        raise error("%s %s: the ID must start with %s" % (product.upper(), balancer_id, PREFIXES[product]))
    if balancer_id in state["zonal_load_balancers"]:
        raise error("the world defines load balancer %s twice" % balancer_id)
    zones = spec.get("zones") or []
    if len(zones) < 1:
        raise error("load balancer %s needs at least one zone" % balancer_id)
    vswitches = [vswitch_of(zone["vswitch"], "load balancer %s" % balancer_id) for zone in zones]
    address_type = spec.get("address_type", "Intranet")
    balancer = {
        "LoadBalancerId": balancer_id,
        "Product": product,
        "LoadBalancerName": spec.get("name", balancer_id),
        "RegionId": region_id,
        "VpcId": vswitches[0]["VpcId"],
        "AddressType": address_type,
        "LoadBalancerStatus": spec.get("status", "Active"),
        "ZoneMappings": [],
    }
    state["zonal_load_balancers"][balancer_id] = balancer
    for zone, vswitch in zip(zones, vswitches):
        mapping = {"ZoneId": vswitch["ZoneId"], "VSwitchId": vswitch["VSwitchId"], "AllocationId": ""}
        balancer["ZoneMappings"].append(mapping)
        if zone.get("eip"):
            if address_type != "Internet":
                raise error("load balancer %s is Intranet and cannot hold EIP %s" % (balancer_id, zone["eip"]))
            eip = state["eips"].get(zone["eip"])
            if eip is None or eip["Status"] != "Available" or eip["RegionId"] != region_id:
                raise error(
                    "load balancer %s: EIP %s is not an Available EIP of %s" % (balancer_id, zone["eip"], region_id)
                )
            hold_eip(state, balancer, mapping, zone["eip"])
    if address_type == "Internet" and not all(mapping["AllocationId"] for mapping in balancer["ZoneMappings"]):
        raise error("load balancer %s is Internet-facing: every zone needs an EIP" % balancer_id)
