"""Association bookkeeping: what an EIP's association writes on the EIP and on its holder, and what it implies.

The one room for it, so that the world loader (associations a world file declares) and the EIP actions
(AssociateEipAddress, ModifyEipForwardMode, the end of an UnassociateEipAddress) record and forget an
association the same way without importing each other.  The rules that decide whether an association is
allowed live in ``rules``; this module only writes the result (CamelCase, the wire shape, as everywhere).
"""

from __future__ import annotations

import ipaddress

from .accounting import first_free_ip
from .rules import Binding, nat_consumes_private_ip, primary_ip

# The association fields of an EIP that is on nothing (a new EIP, or one just released from its holder).
UNBOUND = {
    "Status": "Available",
    "InstanceId": "",
    "InstanceType": "",
    "InstanceRegionId": "",
    "Mode": "",
    "PrivateIpAddress": "",
    "VpcId": "",
}


def recorded_private_ip(binding: Binding) -> str:
    """The PrivateIpAddress DescribeEipAddresses shows for a binding.

    ENI modes: the bound private IP (cut-through: the ENI's primary IP).  ECS instance: its primary private IP,
    as in the documented sample.  IpAddress: the address.  NAT gateway, CLB, HaVip: empty (UNCONFIRMED).
    [fid:eip-holder-private-ip-empty]
    """
    if binding.instance_type == "NetworkInterface":
        if binding.mode == "BINDED":
            return primary_ip(binding.target)
        return binding.private_ip or ""
    if binding.instance_type == "EcsInstance":
        eni = binding.state["enis"].get(binding.target.get("PrimaryNetworkInterfaceId", ""))
        return primary_ip(eni) if eni else ""
    if binding.instance_type == "IpAddress":
        return binding.instance_id
    return ""


def record_association(binding: Binding, status: str) -> None:
    """Write the association on the EIP; a post-2022-09-19 NAT gateway takes a private IP of its vSwitch."""
    eip = binding.eip
    eip.update(
        {
            "Status": status,
            "InstanceId": binding.instance_id,
            "InstanceType": binding.instance_type,
            "InstanceRegionId": binding.target["RegionId"],
            # Non-ENI targets are NAT-mode bindings; the documented sample shows Mode NAT for an ECS instance.
            "Mode": binding.mode,
            "PrivateIpAddress": recorded_private_ip(binding),
            "VpcId": binding.target["VpcId"],
        }
    )
    if binding.instance_type == "Nat" and nat_consumes_private_ip(binding.target):
        consumed = binding.target.setdefault("EipPrivateIps", {})
        if eip["AllocationId"] not in consumed:
            consumed[eip["AllocationId"]] = first_free_ip(binding.state, binding.target["VSwitchId"])


def clear_association(state: dict, eip: dict) -> None:
    """Forget the association and give a NAT gateway's private IP back to its vSwitch."""
    gateway = state["nat_gateways"].get(eip["InstanceId"]) if eip["InstanceType"] == "Nat" else None
    if gateway is not None:
        gateway.get("EipPrivateIps", {}).pop(eip["AllocationId"], None)
    eip.update(UNBOUND)


def gateway_info(eip: dict) -> dict:
    """Gateway and mask of a MULTI_BINDED EIP: the world's, else the EIP's /24 with gateway .1 (.254 for a .1).

    DescribeEipGatewayInfo answers with this; the lab's data plane (``public.eip_gateway``) builds the same
    gateway on its router, so the host's routes point at an address that answers.
    """
    configured = eip.get("GatewayInfo")
    if configured:
        return {"Ip": eip["IpAddress"], "IpGw": configured["IpGw"], "IpMask": configured["IpMask"]}
    network = ipaddress.IPv4Network(f"{eip['IpAddress']}/24", strict=False)
    gateway = network.network_address + 1
    if str(gateway) == eip["IpAddress"]:
        # An EIP on .1 cannot be its own gateway: the other end of the /24 then.
        gateway = network.broadcast_address - 1
    return {"Ip": eip["IpAddress"], "IpGw": str(gateway), "IpMask": str(network.netmask)}
