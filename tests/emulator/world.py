"""Build an emulator state from a world file (YAML or JSON; see ``docs/emulator.md``).

Resources are stored with the API's own field names so that Describe* handlers can return them
almost as they are.  The world file uses short snake_case keys; this module is the one translation.
"""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
import itertools
import re
import time
from typing import Any

from .accounting import free_ips
from .bindings import UNBOUND, record_association
from .errors import ApiError
from .rules import PREFIXES, Binding, check_association
from .store import DEFAULT_DELAYS, empty_state
from .zonal import ALB, NLB, add_from_world
from .world_schema import WorldFormatError, check_world

_RELATIVE = re.compile(r"^-(?P<number>\d+(?:\.\d+)?)(?P<unit>[smhd])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
# Rules about the moment of association that a world file, which states the end result, may skip: a BINDED
# EIP is bound to a detached ENI that is attached afterwards ("Associate the EIP with the ENI first, then attach").
WORLD_SKIPPED_RULES = frozenset({"binded_eni_detached"})


def parse_time(value: Any, now: float) -> float:
    """``-3d`` / ``-12h`` relative to now, an ISO 8601 UTC time, or epoch seconds."""
    if value is None:
        return now
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, datetime.datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=datetime.timezone.utc)
        return moment.timestamp()
    if isinstance(value, datetime.date):
        return datetime.datetime(value.year, value.month, value.day, tzinfo=datetime.timezone.utc).timestamp()
    match = _RELATIVE.match(str(value))
    if match:
        return now - float(match.group("number")) * _UNITS[match.group("unit")]
    text = str(value).replace("Z", "+00:00")
    moment = datetime.datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return moment.timestamp()


def iso(epoch: float) -> str:
    return datetime.datetime.fromtimestamp(epoch, tz=datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def mac_for(resource_id: str) -> str:
    """A stable Alibaba-style MAC (00:16:3e prefix) derived from the resource ID."""
    digest = hashlib.sha1(resource_id.encode()).hexdigest()
    return "00:16:3e:%s:%s:%s" % (digest[0:2], digest[2:4], digest[4:6])


class WorldError(ValueError):
    """The world file is inconsistent; the message names the offending entry."""


def check_format(spec: dict | None) -> None:
    """The world follows the documented format (``world_schema``): every bad key named with its fix, as a WorldError."""
    try:
        check_world(spec)
    except WorldFormatError as error:
        raise WorldError(str(error)) from None


def _pool(spec: Any) -> list[str]:
    if spec is None:
        return []
    if isinstance(spec, list):
        return [str(ipaddress.IPv4Address(address)) for address in spec]
    network = ipaddress.IPv4Network(spec["cidr"])
    count = int(spec.get("count", 50))
    return [str(address) for address in itertools.islice(network.hosts(), count)]


def _free_ip(state: dict, vswitch: dict) -> str:
    """The lowest free address of the vSwitch."""
    free = free_ips(state, vswitch["VSwitchId"])
    if not free:
        raise WorldError("vSwitch %s has no free address" % vswitch["VSwitchId"])
    return free[0]


def build_state(spec: dict | None) -> dict:
    """Translate a world spec into a fresh state dict (see ``store.empty_state`` for the layout)."""
    check_format(spec)
    spec = spec or {}
    now = time.time()
    state = empty_state()
    state["delays"] = {**DEFAULT_DELAYS, **{k: float(v) for k, v in (spec.get("delays") or {}).items()}}
    unknown_delays = set(state["delays"]) - set(DEFAULT_DELAYS)
    if unknown_delays:
        raise WorldError("unknown delay names: %s" % ", ".join(sorted(unknown_delays)))
    state["eip_quota"] = int(spec.get("eip_quota", 20))
    state["recovery_limit"] = int(spec.get("recovery_limit", 20))
    # Allocations allowed per minute of emulated time before FrequentPurchase.EIP (absent: unlimited).
    state["purchase_limit_per_minute"] = spec.get("purchase_limit_per_minute")
    state["foreign_ips"] = [str(ipaddress.IPv4Address(a)) for a in spec.get("foreign_ips", [])]
    for key in spec.get("access_keys") or [{"id": "emulator-ak", "secret": "emulator-secret"}]:
        state["access_keys"][key["id"]] = {"secret": key["secret"], "security_tokens": list(key.get("security_tokens", []))}

    for region_id, region in (spec.get("regions") or {}).items():
        region = region or {}
        state["regions"].append(region_id)
        zones = region.get("zones") or ["%s-a" % region_id]
        state["eip_pool"][region_id] = _pool(region.get("eip_pool"))
        for vpc in region.get("vpcs", []):
            _add_vpc(state, region_id, zones, vpc, now)
        for sg in region.get("security_groups", []):
            state["security_groups"][sg["id"]] = {"SecurityGroupId": sg["id"], "RegionId": region_id, "VpcId": sg["vpc"]}
        for instance in region.get("instances", []):
            _add_instance(state, region_id, instance, now)
        for eni in region.get("enis", []):
            _add_eni(state, region_id, eni, now)
        for nat in region.get("nat_gateways", []):
            _add_nat(state, region_id, nat, now)
        for lb in region.get("load_balancers", []):
            _add_lb(state, region_id, lb, now)
        for havip in region.get("havips", []):
            _add_havip(state, region_id, havip, now)
        for eip in region.get("eips", []):
            _add_eip(state, region_id, eip, now)
        for product in (ALB, NLB):
            for balancer in region.get(product + "s", []):
                add_from_world(state, region_id, product, balancer, lambda vswitch_id, owner: _vswitch(state, vswitch_id, owner), WorldError)
        for entry in region.get("snat_entries", []):
            _add_snat_entry(state, region_id, entry)
        for released in region.get("released_eips", []):
            state["released_eips"].append(
                {
                    "AllocationId": released["id"],
                    "IpAddress": str(ipaddress.IPv4Address(released["ip"])),
                    "RegionId": region_id,
                    "ReleaseTime": parse_time(released.get("released", "-1d"), now),
                }
            )
    return state


def _vswitch(state: dict, vswitch_id: str, owner: str) -> dict:
    vswitch = state["vswitches"].get(vswitch_id)
    if vswitch is None:
        raise WorldError("%s names vSwitch %s, which the world does not define" % (owner, vswitch_id))
    return vswitch


def _add_vpc(state: dict, region_id: str, zones: list[str], vpc: dict, now: float) -> None:
    state["vpcs"][vpc["id"]] = {
        "VpcId": vpc["id"],
        "RegionId": region_id,
        "CidrBlock": vpc.get("cidr", "10.0.0.0/8"),
        "VpcName": vpc.get("name", ""),
        "Ipv4GatewayId": vpc.get("ipv4_gateway_id") or ("ipv4gw-%s" % vpc["id"][4:] if vpc.get("ipv4_gateway") else ""),
        "Status": "Available",
    }
    for vswitch in vpc.get("vswitches", []):
        network = ipaddress.IPv4Network(vswitch["cidr"])
        if not network.subnet_of(ipaddress.IPv4Network(state["vpcs"][vpc["id"]]["CidrBlock"])):
            raise WorldError("vSwitch %s CIDR %s is outside VPC %s" % (vswitch["id"], vswitch["cidr"], vpc["id"]))
        state["vswitches"][vswitch["id"]] = {
            "VSwitchId": vswitch["id"],
            "VpcId": vpc["id"],
            "RegionId": region_id,
            "ZoneId": vswitch.get("zone", zones[0]),
            "CidrBlock": str(network),
            "VSwitchName": vswitch.get("name", ""),
            "Status": "Available",
            # Addresses consumed by things the emulator does not model as resources
            # (NAT gateway EIP bindings after 2022-09-19, reserved by the world file).
            "ReservedIps": list(vswitch.get("reserved_ips", [])),
            # Alibaba puts the vSwitch gateway on the third-last address (x.x.x.253 in a /24).
            "Gateway": str(ipaddress.IPv4Address(vswitch["gateway"])) if vswitch.get("gateway") else str(network.broadcast_address - 2),
        }


def _unique(existing: dict, resource_id: str, kind: str) -> None:
    """A second resource with one ID would silently replace the first: refuse the world instead."""
    if resource_id in existing:
        raise WorldError("the world defines %s %s twice" % (kind, resource_id))


def _add_instance(state: dict, region_id: str, spec: dict, now: float) -> None:
    vswitch = _vswitch(state, spec["vswitch"], "instance %s" % spec["id"])
    eni_id = spec.get("primary_eni") or "eni-%s" % spec["id"][2:]
    _unique(state["instances"], spec["id"], "instance")
    _unique(state["enis"], eni_id, "ENI (the primary ENI of instance %s; set its primary_eni)" % spec["id"])
    state["instances"][spec["id"]] = {
        "InstanceId": spec["id"],
        "InstanceName": spec.get("name", spec["id"]),
        "HostName": spec.get("hostname", spec["id"]),
        "RegionId": region_id,
        "ZoneId": vswitch["ZoneId"],
        "VpcId": vswitch["VpcId"],
        "VSwitchId": vswitch["VSwitchId"],
        "Status": spec.get("status", "Running"),
        "InstanceType": spec.get("instance_type", "ecs.g7.large"),
        "InstanceNetworkType": spec.get("network_type", "vpc"),
        "PublicIpAddress": [spec["public_ip"]] if spec.get("public_ip") else [],
        "PrimaryNetworkInterfaceId": eni_id,
        "SecurityGroupIds": list(spec.get("security_groups", [])),
        "CreationTime": iso(parse_time(spec.get("created", "-30d"), now)),
        "MetadataToken": spec.get("metadata_token_required", False),
        "Tags": dict(spec.get("tags") or {}),
        # ENIs (primary included) the instance type allows; real limits vary by type (2-8 for most).
        "MaxEnis": int(spec.get("max_enis", 3)),
    }
    primary_ip = spec.get("private_ip") or _free_ip(state, vswitch)
    state["enis"][eni_id] = {
        "NetworkInterfaceId": eni_id,
        "NetworkInterfaceName": "",
        "RegionId": region_id,
        "ZoneId": vswitch["ZoneId"],
        "VpcId": vswitch["VpcId"],
        "VSwitchId": vswitch["VSwitchId"],
        "Type": "Primary",
        "Status": "InUse",
        "InstanceId": spec["id"],
        "DeviceIndex": 0,
        "MacAddress": spec.get("mac") or mac_for(eni_id),
        "PrivateIpSets": [{"PrivateIpAddress": primary_ip, "Primary": True}]
        + [{"PrivateIpAddress": ip, "Primary": False} for ip in spec.get("secondary_ips", [])],
        "SecurityGroupIds": list(spec.get("security_groups", [])),
        "CreationTime": iso(parse_time(spec.get("created", "-30d"), now)),
    }


def _add_eni(state: dict, region_id: str, spec: dict, now: float) -> None:
    vswitch = _vswitch(state, spec["vswitch"], "ENI %s" % spec["id"])
    _unique(state["enis"], spec["id"], "ENI")
    instance_id = spec.get("instance")
    if instance_id and instance_id not in state["instances"]:
        raise WorldError("ENI %s is attached to instance %s, which the world does not define" % (spec["id"], instance_id))
    ips = list(spec.get("private_ips") or [_free_ip(state, vswitch)])
    device_index = 0
    if instance_id:
        device_index = 1 + sum(1 for e in state["enis"].values() if e["InstanceId"] == instance_id and e["Type"] == "Secondary")
    state["enis"][spec["id"]] = {
        "NetworkInterfaceId": spec["id"],
        "NetworkInterfaceName": spec.get("name", ""),
        "RegionId": region_id,
        "ZoneId": vswitch["ZoneId"],
        "VpcId": vswitch["VpcId"],
        "VSwitchId": vswitch["VSwitchId"],
        "Type": "Secondary",
        "Status": "InUse" if instance_id else "Available",
        "InstanceId": instance_id or "",
        "DeviceIndex": device_index if instance_id else None,
        "MacAddress": spec.get("mac") or mac_for(spec["id"]),
        "PrivateIpSets": [{"PrivateIpAddress": ip, "Primary": index == 0} for index, ip in enumerate(ips)],
        "SecurityGroupIds": list(spec.get("security_groups", [])),
        "CreationTime": iso(parse_time(spec.get("created", "-10d"), now)),
        "Description": spec.get("description", ""),
        "Tags": dict(spec.get("tags") or {}),
    }


def _add_nat(state: dict, region_id: str, spec: dict, now: float) -> None:
    vswitch = _vswitch(state, spec["vswitch"], "NAT gateway %s" % spec["id"])
    snat_table_id = spec.get("snat_table") or "stb-%s" % spec["id"][4:]
    state["nat_gateways"][spec["id"]] = {
        "NatGatewayId": spec["id"],
        "Name": spec.get("name", ""),
        "Description": "",
        "RegionId": region_id,
        "VpcId": vswitch["VpcId"],
        "VSwitchId": vswitch["VSwitchId"],
        "ZoneId": vswitch["ZoneId"],
        "Status": spec.get("status", "Available"),
        "BusinessStatus": spec.get("business_status", "Normal"),
        "NatType": "Enhanced",
        "NetworkType": spec.get("network_type", "internet"),
        "Spec": "",
        "InstanceChargeType": "PostPaid",
        "InternetChargeType": "PayByLcu",
        "EipBindMode": spec.get("eip_bind_mode", "MULTI_BINDED"),
        "CreationTime": iso(parse_time(spec.get("created", "-30d"), now)),
        "SnatTableIds": [snat_table_id],
        "ForwardTableIds": ["ftb-%s" % spec["id"][4:]],
        # Per-binding private IPs consumed in the vSwitch (gateways created after 2022-09-19).
        "EipPrivateIps": {},
        "DnatIps": list(spec.get("dnat_ips", [])),
    }
    state["snat_tables"][snat_table_id] = {"SnatTableId": snat_table_id, "NatGatewayId": spec["id"], "RegionId": region_id}


def _add_lb(state: dict, region_id: str, spec: dict, now: float) -> None:
    vswitch = _vswitch(state, spec["vswitch"], "load balancer %s" % spec["id"])
    state["load_balancers"][spec["id"]] = {
        "LoadBalancerId": spec["id"],
        "LoadBalancerName": spec.get("name", spec["id"]),
        "RegionId": region_id,
        "VpcId": vswitch["VpcId"],
        "VSwitchId": vswitch["VSwitchId"],
        "Address": spec.get("address") or _free_ip(state, vswitch),
        "AddressType": spec.get("address_type", "intranet"),
        "NetworkType": "vpc",
        "LoadBalancerStatus": spec.get("status", "active"),
        "CreateTime": iso(parse_time(spec.get("created", "-30d"), now)),
        "MasterZoneId": vswitch["ZoneId"],
    }


def _add_havip(state: dict, region_id: str, spec: dict, now: float) -> None:
    vswitch = _vswitch(state, spec["vswitch"], "HaVip %s" % spec["id"])
    state["havips"][spec["id"]] = {
        "HaVipId": spec["id"],
        "Name": spec.get("name", ""),
        "Description": "",
        "RegionId": region_id,
        "VpcId": vswitch["VpcId"],
        "VSwitchId": vswitch["VSwitchId"],
        "IpAddress": spec.get("ip") or _free_ip(state, vswitch),
        "Status": spec.get("status", "Available"),
        "AssociatedInstances": list(spec.get("instances", [])),
        "AssociatedInstanceType": "EcsInstance",
        "MasterInstanceId": (spec.get("instances") or [""])[0],
        "CreateTime": iso(parse_time(spec.get("created", "-30d"), now)),
        "ChargeType": "PostPaid",
        "Tags": dict(spec.get("tags") or {}),
    }


def _add_snat_entry(state: dict, region_id: str, spec: dict) -> None:
    """A SNAT entry that already exists (Available unless ``status`` says otherwise)."""
    gateway = state["nat_gateways"].get(spec.get("nat_gateway", ""))
    if gateway is None:
        raise WorldError(
            f"SNAT entry {spec['id']} names NAT gateway {spec.get('nat_gateway')}, which the world does not define"
        )
    addresses = spec["snat_ip"] if isinstance(spec["snat_ip"], list) else str(spec["snat_ip"]).split(",")
    addresses = [str(ipaddress.IPv4Address(address.strip())) for address in addresses]
    known = {eip["IpAddress"] for eip in state["eips"].values() if eip["RegionId"] == region_id}
    for address in addresses:
        if address not in known:
            raise WorldError(f"SNAT entry {spec['id']} uses {address}, which is not an EIP of the world")
    source_vswitch = spec.get("source_vswitch", "")
    if source_vswitch:
        source_cidr = _vswitch(state, source_vswitch, f"SNAT entry {spec['id']}")["CidrBlock"]
    else:
        source_cidr = str(ipaddress.IPv4Network(spec["source_cidr"]))
    state["snat_entries"][spec["id"]] = {
        "SnatEntryId": spec["id"],
        "SnatTableId": gateway["SnatTableIds"][0],
        "NatGatewayId": gateway["NatGatewayId"],
        "SnatIp": ",".join(addresses),
        "SourceVSwitchId": source_vswitch,
        "SourceCIDR": source_cidr,
        "NetworkInterfaceId": "",
        "SnatEntryName": spec.get("name", ""),
        "EipAffinity": 0,
        "Status": spec.get("status", "Available"),
        "RegionId": region_id,
    }


def _add_eip(state: dict, region_id: str, spec: dict, now: float) -> None:
    address = str(ipaddress.IPv4Address(spec["ip"]))
    pool = state["eip_pool"].get(region_id, [])
    if address in pool:
        pool.remove(address)
    state["eips"][spec["id"]] = {
        "AllocationId": spec["id"],
        "IpAddress": address,
        "RegionId": region_id,
        **UNBOUND,
        "Bandwidth": str(spec.get("bandwidth", 5)),
        "InternetChargeType": spec.get("internet_charge_type", "PayByTraffic"),
        "ChargeType": spec.get("charge_type", "PostPaid"),
        "Netmode": "public",
        "ISP": spec.get("isp", "BGP"),
        "Name": spec.get("name", ""),
        "Description": spec.get("description", ""),
        "AllocationTime": iso(parse_time(spec.get("allocated", "-5d"), now)),
        "ExpiredTime": "",
        "BusinessStatus": spec.get("business_status", "OperationLock" if spec.get("lock_reasons") else "Normal"),
        "DeletionProtection": bool(spec.get("deletion_protection", False)),
        "ResourceGroupId": spec.get("resource_group", "rg-emulatordefault"),
        "Tags": dict(spec.get("tags") or {}),
        # LockReason values: financial | security.
        "OperationLocks": list(spec.get("lock_reasons") or []),
    }
    if spec.get("gateway"):
        # DescribeEipGatewayInfo answer of a MULTI_BINDED EIP (default: the EIP's /24, gateway .1).
        state["eips"][spec["id"]]["GatewayInfo"] = {"IpGw": spec["gateway"], "IpMask": spec.get("netmask", "255.255.255.0")}
    target = spec.get("associated_with")
    if target:
        # A pre-associated EIP: the world states the holder directly, checked by the API's rules and written by
        # the same bookkeeping (``bindings``) as AssociateEipAddress.
        bind_in_world(state, spec["id"], target)


def bind_in_world(state: dict, allocation_id: str, target: dict) -> None:
    """Record a pre-existing association declared by the world file, checked by the same rules as the API.

    ``target``: ``{instance: ID or address, type: InstanceType (else from the ID prefix), mode: NAT,
    private_ip: ..., vpc: VPC ID for an IpAddress target}``.  Raises ``WorldError`` when the API
    would refuse the association.
    """
    eip = state["eips"][allocation_id]
    instance_id = str(target.get("instance", ""))
    binding = Binding(
        state,
        eip,
        instance_type=target.get("type") or _type_from_id(allocation_id, instance_id),
        instance_id=instance_id,
        mode=target.get("mode", "NAT"),
        private_ip=target.get("private_ip"),
        vpc_id=target.get("vpc"),
    )
    try:
        check_association(binding, skip=WORLD_SKIPPED_RULES)
    except ApiError as error:
        raise WorldError(
            f"EIP {allocation_id} cannot be associated with {instance_id}: {error.code} ({error.message})"
        ) from None
    record_association(binding, "InUse")


def _type_from_id(allocation_id: str, instance_id: str) -> str:
    """The InstanceType a world target names by its ID prefix, or IpAddress for an address."""
    for prefix, instance_type in PREFIXES.items():
        if instance_id.startswith(prefix):
            return instance_type
    try:
        ipaddress.IPv4Address(instance_id)
    except ValueError:
        raise WorldError(
            f"EIP {allocation_id}: cannot tell the type of {instance_id!r}; give associated_with.type"
        ) from None
    return "IpAddress"
