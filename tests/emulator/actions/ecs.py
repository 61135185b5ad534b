"""ECS 2014-05-26 actions: instances and elastic network interfaces (alibaba-api.md §8).

ENI bookkeeping lives in ``state["enis"]`` (shape defined by ``world._add_eni``); the addresses an ENI
holds are its ``PrivateIpSets``, which ``accounting.used_ips`` counts against the vSwitch.  Attach and
detach are asynchronous (delay keys ``eni_attach`` / ``eni_detach``); every other ENI action is
synchronous, as the docs describe (CreateNetworkInterface returns an Available ENI).
"""

from __future__ import annotations

import ipaddress

from .. import accounting
from ..errors import ApiError
from ..registry import ECS, Context, action
from ..store import Store, transition
from ..world import mac_for
from ._network import (
    OPERABLE_INSTANCE_STATES,
    ecs_page,
    ecs_tags,
    eips_held_by,
    matches_tags,
    register_missing,
    tag_filters,
    tags_from_request,
)

# Documented codes of the ECS ENI family (alibaba-api.md §8 table and §8.1-8.7).  The docs give "%s" as
# the message of most of them; the texts below say what the emulator checked.
register_missing(
    {
        "InvalidEniId.NotFound": (404, "The specified NetworkInterfaceId does not exist."),
        "InvalidEcsId.NotFound": (404, "The specified ECS instance does not exist."),
        "InvalidVSwitchId.NotFound": (404, "The specified VSwitchId does not exist."),
        "InvalidSecurityGroupId.NotFound": (404, "The specified SecurityGroupId does not exist."),
        "InvalidStatus.NotFound": (404, "The specified Status is not found."),
        "InvalidOperation.InvalidEniState": (
            400,
            "The operation is not allowed in the current state of the network interface: %s",
        ),
        "InvalidOperation.InvalidEcsState": (
            400,
            "The operation is not allowed in the current state of the instance: %s",
        ),
        "InvalidOperation.DetachPrimaryEniNotAllowed": (
            400,
            "The primary network interface of an instance cannot be detached.",
        ),
        "InvalidOperation.VpcMismatch": (403, "The specified resources are not in the same VPC: %s"),
        "InvalidOperation.AvailabilityZoneMismatch": (
            403,
            "The specified instance and network interface are not in the same zone.",
        ),
        "EniPerInstanceLimitExceeded": (
            403,
            "The number of network interfaces attached to the instance has reached the limit (%s).",
        ),
        "InvalidIp.IpAssigned": (403, "The specified IP address %s is already assigned."),
        "InvalidIp.IpUnassigned": (403, "The specified IP address %s is not assigned to the network interface."),
        "InvalidIp.IpRepeated": (403, "The specified IP address %s is repeated in the request."),
        "InvalidIp.Address": (403, "The specified IP address %s is not valid."),
        "InvalidVSwitchId.IpNotEnough": (403, "The specified vSwitch does not have enough free IP addresses."),
        "InvalidVSwitchId.IpInvalid": (
            403,
            "The specified IP address %s is not in the vSwitch CIDR block or is reserved.",
        ),
        "InvalidPrivateIpAddress.Duplicated": (400, "The specified private IP address %s is already in use."),
        "InvalidParameter.Conflict": (400, "The parameters %s cannot be specified together."),
        "InvalidOperation.Ipv4CountExceeded": (
            400,
            "The number of private IPv4 addresses of the network interface exceeds %s.",
        ),
        # UNCONFIRMED: no document names the code for unassigning (or deleting the ENI of) a private
        # [fid:eni-eip-bound-code]
        # address an EIP is bound to; the ENI family's InvalidOperation.* prefix and 403 are the guess.
        "InvalidOperation.EipBound": (
            403,
            "The private IP address %s is associated with EIP %s; disassociate the EIP first.",
        ),
    }
)

INSTANCE_STATES = ("Pending", "Running", "Starting", "Stopping", "Stopped")
ENI_STATES = ("Available", "Attaching", "InUse", "Detaching", "Deleting")
# UNCONFIRMED [fid:eni-max-ips]: the per-ENI IPv4 limit depends on the instance type; the 2021 doc says 20 per ENI.
MAX_IPS_PER_ENI = 20


# ---- lookups shared with the VPC network module ------------------------------------------------------


def find_instance(ctx: Context, instance_id: str, code: str = "InvalidEcsId.NotFound") -> dict:
    """The instance ``instance_id`` of the request's region, or ``code``."""
    instance = ctx.store.get("instances", instance_id)
    if instance is None or instance["RegionId"] != ctx.params.str("RegionId"):
        raise ApiError(code)
    return instance


def find_eni(ctx: Context, eni_id: str) -> dict:
    """The ENI ``eni_id`` of the request's region, or InvalidEniId.NotFound."""
    eni = ctx.store.get("enis", eni_id)
    if eni is None or eni["RegionId"] != ctx.params.str("RegionId"):
        raise ApiError("InvalidEniId.NotFound")
    return eni


def primary_ip(eni: dict) -> str:
    """The ENI's primary private address."""
    return next(entry["PrivateIpAddress"] for entry in eni["PrivateIpSets"] if entry["Primary"])


def instance_enis(state: dict, instance_id: str, states: tuple[str, ...] = ("InUse",)) -> list[dict]:
    """ENIs on ``instance_id`` in one of ``states``, primary first, then by device index."""
    found = [eni for eni in state["enis"].values() if eni["InstanceId"] == instance_id and eni["Status"] in states]
    return sorted(found, key=lambda eni: (eni["DeviceIndex"] or 0, eni["NetworkInterfaceId"]))


def instance_eip(state: dict, instance: dict) -> dict | None:
    """The EIP bound to the instance itself (InstanceType EcsInstance), if any."""
    held = eips_held_by(state, "EcsInstance", instance["InstanceId"])
    return held[0] if held else None


def public_ip_of(state: dict, eni: dict, address: str) -> dict | None:
    """``{PublicIpAddress, AllocationId}`` of the public address mapped to ``address`` on ``eni``."""
    for eip in eips_held_by(state, "NetworkInterface", eni["NetworkInterfaceId"]):
        if eip.get("PrivateIpAddress") == address:
            return {"PublicIpAddress": eip["IpAddress"], "AllocationId": eip["AllocationId"]}
    if eni["Type"] == "Primary" and address == primary_ip(eni):
        # An EIP bound to the instance, or its fixed public IP, is the primary address's public side.
        instance = state["instances"].get(eni["InstanceId"])
        if instance is not None:
            eip = instance_eip(state, instance)
            if eip is not None:
                return {"PublicIpAddress": eip["IpAddress"], "AllocationId": eip["AllocationId"]}
            if instance["PublicIpAddress"]:
                return {"PublicIpAddress": instance["PublicIpAddress"][0], "AllocationId": ""}
    return None


def require_operable_instance(ctx: Context, instance_id: str) -> None:
    """Raise InvalidOperation.InvalidEcsState unless the instance is Running or Stopped."""
    instance = ctx.state["instances"].get(instance_id)
    if instance is not None and instance["Status"] not in OPERABLE_INSTANCE_STATES:
        raise ApiError("InvalidOperation.InvalidEcsState", "{} is {}".format(instance_id, instance["Status"]))


# ---- DescribeInstances -------------------------------------------------------------------------------


def _instance_view(state: dict, instance: dict) -> dict:
    """One ``Instances.Instance[]`` entry (alibaba-api.md §8.7)."""
    enis = instance_enis(state, instance["InstanceId"], ("InUse", "Detaching"))
    primary = state["enis"].get(instance["PrimaryNetworkInterfaceId"])
    private = [primary_ip(primary)] if primary else []
    eip = instance_eip(state, instance)
    eip_view = {
        "AllocationId": "",
        "IpAddress": "",
        "InternetChargeType": "",
        "Bandwidth": 0,
        "IsSupportUnassociate": False,
    }
    if eip is not None:
        eip_view = {
            "AllocationId": eip["AllocationId"],
            "IpAddress": eip["IpAddress"],
            "InternetChargeType": eip.get("InternetChargeType", ""),
            "Bandwidth": int(eip.get("Bandwidth") or 0),
            "IsSupportUnassociate": True,
        }
    family = ".".join(instance["InstanceType"].split(".")[:2])
    return {
        "InstanceId": instance["InstanceId"],
        "InstanceName": instance["InstanceName"],
        "HostName": instance["HostName"],
        "Description": "",
        "RegionId": instance["RegionId"],
        "ZoneId": instance["ZoneId"],
        "Status": instance["Status"],
        "InstanceType": instance["InstanceType"],
        "InstanceTypeFamily": family,
        "InstanceNetworkType": instance["InstanceNetworkType"],
        "InstanceChargeType": "PostPaid",
        "InternetChargeType": "PayByTraffic",
        "InternetMaxBandwidthOut": 5 if instance["PublicIpAddress"] else 0,
        "InternetMaxBandwidthIn": 200,
        "CreationTime": instance["CreationTime"],
        "ExpiredTime": "2099-12-31T15:59Z",
        "OSType": "linux",
        "ImageId": "debian_12_emulator_x64_20G_alibase.vhd",
        "SecurityGroupIds": {"SecurityGroupId": list(instance["SecurityGroupIds"])},
        "PublicIpAddress": {"IpAddress": list(instance["PublicIpAddress"])},
        "InnerIpAddress": {"IpAddress": []},
        "EipAddress": eip_view,
        "VpcAttributes": {
            "VpcId": instance["VpcId"],
            "VSwitchId": instance["VSwitchId"],
            "NatIpAddress": "",
            "PrivateIpAddress": {"IpAddress": private},
        },
        "NetworkInterfaces": {
            "NetworkInterface": [
                {
                    "NetworkInterfaceId": eni["NetworkInterfaceId"],
                    "Type": eni["Type"],
                    "MacAddress": eni["MacAddress"],
                    "PrimaryIpAddress": primary_ip(eni),
                    "PrivateIpSets": {
                        "PrivateIpSet": [
                            {"PrivateIpAddress": entry["PrivateIpAddress"], "Primary": entry["Primary"]}
                            for entry in eni["PrivateIpSets"]
                        ]
                    },
                    "Ipv6Sets": {"Ipv6Set": []},
                }
                for eni in enis
            ]
        },
        "MetadataOptions": {
            "HttpEndpoint": "enabled",
            "HttpTokens": "required" if instance.get("MetadataToken") else "optional",
        },
        "OperationLocks": {"LockReason": []},
        "Tags": ecs_tags(instance.get("Tags", {})),
    }


@action(ECS, "DescribeInstances")
def describe_instances(ctx: Context) -> dict:
    region = ctx.region()
    params = ctx.params
    wanted_ids = params.json_list("InstanceIds", maximum=100)
    private_ips = params.json_list("PrivateIpAddresses", maximum=100)
    public_ips = params.json_list("PublicIpAddresses", maximum=100)
    eip_addresses = params.json_list("EipAddresses", maximum=100)
    status = params.str("Status")
    if status is not None and status not in INSTANCE_STATES:
        raise ApiError("InvalidStatus.NotFound")
    network_type = params.str("InstanceNetworkType", choices=("classic", "vpc"))
    tags = tag_filters(params)
    simple = {
        "VpcId": params.str("VpcId"),
        "VSwitchId": params.str("VSwitchId"),
        "ZoneId": params.str("ZoneId"),
        "InstanceName": params.str("InstanceName"),
        "InstanceType": params.str("InstanceType"),
        "Status": status,
        "InstanceNetworkType": network_type,
    }
    security_group = params.str("SecurityGroupId")
    views = []
    for instance in sorted(ctx.store.in_region("instances", region), key=lambda item: item["InstanceId"]):
        if wanted_ids and instance["InstanceId"] not in wanted_ids:
            continue
        if any(value is not None and instance[key] != value for key, value in simple.items()):
            continue
        if security_group and security_group not in instance["SecurityGroupIds"]:
            continue
        if not matches_tags(instance.get("Tags", {}), tags):
            continue
        view = _instance_view(ctx.state, instance)
        if private_ips and not set(private_ips) & set(view["VpcAttributes"]["PrivateIpAddress"]["IpAddress"]):
            continue
        if public_ips and not set(public_ips) & set(view["PublicIpAddress"]["IpAddress"]):
            continue
        if eip_addresses and view["EipAddress"]["IpAddress"] not in eip_addresses:
            continue
        views.append(view)
    page, envelope = ecs_page(views, params, max_results=(1, 100), max_page_size=100)
    return {**envelope, "Instances": {"Instance": page}}


# ---- DescribeSecurityGroups ------------------------------------------------------------------------


@action(ECS, "DescribeSecurityGroups")
def describe_security_groups(ctx: Context) -> dict:
    """The security groups of the region (``SecurityGroupIds`` JSON array of up to 100, ``SecurityGroupId``, ``VpcId``).

    Only what the world models (ID, region, VPC); names, types and rule counts are fixed.  An unknown ID is
    simply not listed, as DescribeInstances does.
    """
    region = ctx.region()
    params = ctx.params
    wanted = params.json_list("SecurityGroupIds", maximum=100)
    single = params.str("SecurityGroupId")
    vpc_id = params.str("VpcId")
    views = []
    for group in sorted(ctx.store.in_region("security_groups", region), key=lambda item: item["SecurityGroupId"]):
        if wanted and group["SecurityGroupId"] not in wanted:
            continue
        if single and group["SecurityGroupId"] != single:
            continue
        if vpc_id and group["VpcId"] != vpc_id:
            continue
        views.append(
            {
                "SecurityGroupId": group["SecurityGroupId"],
                "SecurityGroupName": group["SecurityGroupId"],
                "SecurityGroupType": "normal",
                "VpcId": group["VpcId"],
                "Description": "",
                "CreationTime": "2024-01-01T00:00:00Z",
                "ResourceGroupId": "",
                "ServiceManaged": False,
                "Tags": {"Tag": []},
            }
        )
    page, envelope = ecs_page(views, params, max_results=(1, 100), max_page_size=50)
    return {**envelope, "RegionId": region, "SecurityGroups": {"SecurityGroup": page}}


# ---- DescribeNetworkInterfaces ---------------------------------------------------------------------


def eni_view(state: dict, eni: dict) -> dict:
    """One ``NetworkInterfaceSets.NetworkInterfaceSet[]`` entry (alibaba-api.md §8.1)."""
    ip_sets = []
    for entry in eni["PrivateIpSets"]:
        item = {"PrivateIpAddress": entry["PrivateIpAddress"], "Primary": entry["Primary"], "PrivateDnsName": ""}
        public = public_ip_of(state, eni, entry["PrivateIpAddress"])
        if public is not None:
            item["AssociatedPublicIp"] = public
        ip_sets.append(item)
    view = {
        "NetworkInterfaceId": eni["NetworkInterfaceId"],
        "NetworkInterfaceName": eni.get("NetworkInterfaceName", ""),
        "Description": eni.get("Description", ""),
        "Status": eni["Status"],
        "Type": eni["Type"],
        "InstanceId": eni["InstanceId"],
        "VpcId": eni["VpcId"],
        "VSwitchId": eni["VSwitchId"],
        "ZoneId": eni["ZoneId"],
        "MacAddress": eni["MacAddress"],
        "PrivateIpAddress": primary_ip(eni),
        "CreationTime": eni["CreationTime"],
        "DeleteOnRelease": bool(eni.get("DeleteOnRelease", eni["Type"] == "Primary")),
        "ResourceGroupId": eni.get("ResourceGroupId", ""),
        "ServiceManaged": False,
        "NetworkInterfaceTrafficMode": "Standard",
        "SecurityGroupIds": {"SecurityGroupId": list(eni["SecurityGroupIds"])},
        "PrivateIpSets": {"PrivateIpSet": ip_sets},
        "Ipv6Sets": {"Ipv6Set": []},
        "Ipv4PrefixSets": {"Ipv4PrefixSet": []},
        "Tags": ecs_tags(eni.get("Tags", {})),
    }
    primary_public = public_ip_of(state, eni, primary_ip(eni))
    if primary_public is not None:
        view["AssociatedPublicIp"] = primary_public
    if eni["InstanceId"]:
        view["Attachment"] = {
            "InstanceId": eni["InstanceId"],
            "DeviceIndex": eni["DeviceIndex"],
            "NetworkCardIndex": 0,
            "TrunkNetworkInterfaceId": "",
        }
    return view


@action(ECS, "DescribeNetworkInterfaces")
def describe_network_interfaces(ctx: Context) -> dict:
    region = ctx.region()
    params = ctx.params
    wanted_ids = params.indexed("NetworkInterfaceId", maximum=100)
    private_ips = params.indexed("PrivateIpAddress", maximum=100)
    simple = {
        "InstanceId": params.str("InstanceId"),
        "Type": params.str("Type", choices=("Primary", "Secondary")),
        "Status": params.str("Status", choices=ENI_STATES),
        "VSwitchId": params.str("VSwitchId"),
        "VpcId": params.str("VpcId"),
        "NetworkInterfaceName": params.str("NetworkInterfaceName"),
    }
    primary_address = params.str("PrimaryIpAddress")
    security_group = params.str("SecurityGroupId")
    tags = tag_filters(params)
    views = []
    for eni in sorted(ctx.store.in_region("enis", region), key=lambda item: item["NetworkInterfaceId"]):
        if wanted_ids and eni["NetworkInterfaceId"] not in wanted_ids:
            continue
        if any(value is not None and eni.get(key) != value for key, value in simple.items()):
            continue
        if primary_address and primary_ip(eni) != primary_address:
            continue
        if private_ips and not {entry["PrivateIpAddress"] for entry in eni["PrivateIpSets"]} & set(private_ips):
            continue
        if security_group and security_group not in eni["SecurityGroupIds"]:
            continue
        if not matches_tags(eni.get("Tags", {}), tags):
            continue
        views.append(eni_view(ctx.state, eni))
    page, envelope = ecs_page(views, params, max_results=(10, 500), max_page_size=1000)
    return {**envelope, "NetworkInterfaceSets": {"NetworkInterfaceSet": page}}


# ---- CreateNetworkInterface / DeleteNetworkInterface -------------------------------------------------


def _check_new_address(state: dict, vswitch_id: str, address: str, in_use_code: str) -> str:
    """Validate one requested private address of ``vswitch_id``; returns it normalised."""
    try:
        normalised = str(ipaddress.IPv4Address(address))
    except ValueError:
        raise ApiError("InvalidIp.Address", address) from None
    if not accounting.is_usable(state["vswitches"][vswitch_id]["CidrBlock"], normalised):
        raise ApiError("InvalidVSwitchId.IpInvalid", normalised)
    if normalised in accounting.used_ips(state, vswitch_id):
        raise ApiError(in_use_code, normalised)
    return normalised


def _pick_free(state: dict, vswitch_id: str, count: int, taken: set[str]) -> list[str]:
    """``count`` free addresses of the vSwitch (lowest first), excluding ``taken``."""
    free = [address for address in accounting.free_ips(state, vswitch_id, count + len(taken)) if address not in taken]
    if len(free) < count:
        raise ApiError("InvalidVSwitchId.IpNotEnough")
    return free[:count]


def _requested_security_groups(ctx: Context, vpc_id: str) -> list[str]:
    """SecurityGroupId or SecurityGroupIds.N, each an existing group of the vSwitch's VPC."""
    single = ctx.params.str("SecurityGroupId")
    several = ctx.params.indexed("SecurityGroupIds", maximum=10)
    if single and several:
        raise ApiError("InvalidParameter.Conflict", "SecurityGroupId and SecurityGroupIds.N")
    groups = [single] if single else several
    if not groups:
        raise ApiError("MissingParameter", "SecurityGroupId")
    for group_id in groups:
        group = ctx.state["security_groups"].get(group_id)
        if group is None or group["RegionId"] != ctx.params.str("RegionId"):
            raise ApiError("InvalidSecurityGroupId.NotFound")
        if group["VpcId"] != vpc_id:
            raise ApiError("InvalidOperation.VpcMismatch", f"security group {group_id} and vSwitch")
    return groups


@action(ECS, "CreateNetworkInterface", mutating=True)
def create_network_interface(ctx: Context) -> dict:
    region = ctx.region()
    params = ctx.params
    vswitch = ctx.store.get("vswitches", params.str("VSwitchId", required=True))
    if vswitch is None or vswitch["RegionId"] != region:
        raise ApiError("InvalidVSwitchId.NotFound")
    groups = _requested_security_groups(ctx, vswitch["VpcId"])
    name = params.str("NetworkInterfaceName", default="")
    if name and not 2 <= len(name) <= 128:
        raise ApiError("InvalidParameter", "NetworkInterfaceName")
    kind = params.str("InstanceType", default="Secondary", choices=("Secondary", "Trunk"))
    secondary = params.indexed("PrivateIpAddress", maximum=10)
    if secondary and params.has("SecondaryPrivateIpAddressCount"):
        raise ApiError("InvalidParameter.Conflict", "PrivateIpAddress.N and SecondaryPrivateIpAddressCount")
    count = params.int("SecondaryPrivateIpAddressCount", default=0, minimum=1, maximum=49)
    tags = tags_from_request(params)

    requested = ([params.str("PrimaryIpAddress")] if params.has("PrimaryIpAddress") else []) + secondary
    if len(set(requested)) != len(requested):
        raise ApiError("InvalidIp.IpRepeated", next(a for a in requested if requested.count(a) > 1))
    state = ctx.state
    vswitch_id = vswitch["VSwitchId"]
    addresses = [
        _check_new_address(state, vswitch_id, address, "InvalidPrivateIpAddress.Duplicated") for address in requested
    ]
    if not params.has("PrimaryIpAddress"):
        addresses = _pick_free(state, vswitch_id, 1, set(addresses)) + addresses
    addresses += _pick_free(state, vswitch_id, count, set(addresses))
    if len(addresses) > MAX_IPS_PER_ENI:
        raise ApiError("InvalidOperation.Ipv4CountExceeded", MAX_IPS_PER_ENI)

    eni_id = ctx.store.new_id("eni")
    eni = {
        "NetworkInterfaceId": eni_id,
        "NetworkInterfaceName": name,
        "Description": params.str("Description", default=""),
        "RegionId": region,
        "ZoneId": vswitch["ZoneId"],
        "VpcId": vswitch["VpcId"],
        "VSwitchId": vswitch_id,
        "Type": kind,
        "Status": "Available",
        "InstanceId": "",
        "DeviceIndex": None,
        "MacAddress": mac_for(eni_id),
        "PrivateIpSets": [
            {"PrivateIpAddress": address, "Primary": index == 0} for index, address in enumerate(addresses)
        ],
        "SecurityGroupIds": groups,
        "CreationTime": ctx.store.now_iso(),
        "ResourceGroupId": params.str("ResourceGroupId", default=""),
        "DeleteOnRelease": params.bool("DeleteOnRelease", default=False),
        "Tags": tags,
    }
    state["enis"][eni_id] = eni
    view = eni_view(state, eni)
    return {
        key: view[key]
        for key in (
            "NetworkInterfaceId",
            "NetworkInterfaceName",
            "Description",
            "Status",
            "Type",
            "VpcId",
            "VSwitchId",
            "ZoneId",
            "PrivateIpAddress",
            "MacAddress",
            "PrivateIpSets",
            "SecurityGroupIds",
            "ResourceGroupId",
            "Tags",
        )
    }


def _refuse_if_eip_bound(state: dict, eni: dict, addresses: list[str]) -> None:
    """InvalidOperation.EipBound when an EIP (in any state) is bound to one of ``addresses`` of ``eni``."""
    for eip in eips_held_by(state, "NetworkInterface", eni["NetworkInterfaceId"], visible_only=False):
        bound_to = eip.get("PrivateIpAddress") or primary_ip(eni)
        if bound_to in addresses:
            raise ApiError("InvalidOperation.EipBound", bound_to, eip["AllocationId"])


@action(ECS, "DeleteNetworkInterface", mutating=True)
def delete_network_interface(ctx: Context) -> dict:
    ctx.region()
    eni = find_eni(ctx, ctx.params.str("NetworkInterfaceId", required=True))
    if eni["Status"] != "Available":
        raise ApiError("InvalidOperation.InvalidEniState", "{} is {}".format(eni["NetworkInterfaceId"], eni["Status"]))
    _refuse_if_eip_bound(ctx.state, eni, [entry["PrivateIpAddress"] for entry in eni["PrivateIpSets"]])
    del ctx.state["enis"][eni["NetworkInterfaceId"]]
    return {}


# ---- AttachNetworkInterface / DetachNetworkInterface (asynchronous) ---------------------------------


@action(ECS, "AttachNetworkInterface", mutating=True)
def attach_network_interface(ctx: Context) -> dict:
    ctx.region()
    eni = find_eni(ctx, ctx.params.str("NetworkInterfaceId", required=True))
    instance = find_instance(ctx, ctx.params.str("InstanceId", required=True))
    if eni["Status"] != "Available":
        raise ApiError("InvalidOperation.InvalidEniState", "{} is {}".format(eni["NetworkInterfaceId"], eni["Status"]))
    require_operable_instance(ctx, instance["InstanceId"])
    if eni["VpcId"] != instance["VpcId"]:
        raise ApiError("InvalidOperation.VpcMismatch", "instance {} and ENI".format(instance["InstanceId"]))
    if eni["ZoneId"] != instance["ZoneId"]:
        raise ApiError("InvalidOperation.AvailabilityZoneMismatch")
    on_instance = instance_enis(ctx.state, instance["InstanceId"], ("Attaching", "InUse", "Detaching"))
    if len(on_instance) >= instance.get("MaxEnis", 3):
        raise ApiError("EniPerInstanceLimitExceeded", instance.get("MaxEnis", 3))
    used_indexes = {other["DeviceIndex"] for other in on_instance}
    eni["DeviceIndex"] = min(index for index in range(1, len(used_indexes) + 2) if index not in used_indexes)
    eni["InstanceId"] = instance["InstanceId"]
    eni["Status"] = "Attaching"
    ctx.store.schedule("eni_attached", "eni_attach", {"NetworkInterfaceId": eni["NetworkInterfaceId"]})
    return {}


@transition("eni_attached")
def _eni_attached(store: Store, payload: dict) -> None:
    eni = store.get("enis", payload["NetworkInterfaceId"])
    if eni is not None and eni["Status"] == "Attaching":
        eni["Status"] = "InUse"


@action(ECS, "DetachNetworkInterface", mutating=True)
def detach_network_interface(ctx: Context) -> dict:
    ctx.region()
    eni = find_eni(ctx, ctx.params.str("NetworkInterfaceId", required=True))
    instance = find_instance(ctx, ctx.params.str("InstanceId", required=True))
    if eni["Type"] == "Primary":
        raise ApiError("InvalidOperation.DetachPrimaryEniNotAllowed")
    if eni["Status"] != "InUse" or eni["InstanceId"] != instance["InstanceId"]:
        where = eni["InstanceId"] or "no instance"
        raise ApiError(
            "InvalidOperation.InvalidEniState", "{} is {} on {}".format(eni["NetworkInterfaceId"], eni["Status"], where)
        )
    require_operable_instance(ctx, instance["InstanceId"])
    eni["Status"] = "Detaching"
    ctx.store.schedule("eni_detached", "eni_detach", {"NetworkInterfaceId": eni["NetworkInterfaceId"]})
    return {}


@transition("eni_detached")
def _eni_detached(store: Store, payload: dict) -> None:
    eni = store.get("enis", payload["NetworkInterfaceId"])
    if eni is not None and eni["Status"] == "Detaching":
        eni.update({"Status": "Available", "InstanceId": "", "DeviceIndex": None})


# ---- AssignPrivateIpAddresses / UnassignPrivateIpAddresses -------------------------------------------


def _require_ip_operable(ctx: Context, eni: dict) -> None:
    """ENI Available or InUse; for a primary ENI, its instance Running or Stopped (§8.2, §8.3)."""
    if eni["Status"] not in ("Available", "InUse"):
        raise ApiError("InvalidOperation.InvalidEniState", "{} is {}".format(eni["NetworkInterfaceId"], eni["Status"]))
    if eni["Type"] == "Primary":
        require_operable_instance(ctx, eni["InstanceId"])


@action(ECS, "AssignPrivateIpAddresses", mutating=True)
def assign_private_ip_addresses(ctx: Context) -> dict:
    ctx.region()
    params = ctx.params
    eni = find_eni(ctx, params.str("NetworkInterfaceId", required=True))
    requested = params.indexed("PrivateIpAddress", maximum=50)
    if requested and params.has("SecondaryPrivateIpAddressCount"):
        raise ApiError("InvalidParameter.Conflict", "PrivateIpAddress.N and SecondaryPrivateIpAddressCount")
    if not requested and not params.has("SecondaryPrivateIpAddressCount"):
        raise ApiError("MissingParameter", "PrivateIpAddress.N")
    count = params.int("SecondaryPrivateIpAddressCount", default=0, minimum=1, maximum=49)
    _require_ip_operable(ctx, eni)
    if len(set(requested)) != len(requested):
        raise ApiError("InvalidIp.IpRepeated", next(a for a in requested if requested.count(a) > 1))
    state = ctx.state
    vswitch_id = eni["VSwitchId"]
    addresses = [_check_new_address(state, vswitch_id, address, "InvalidIp.IpAssigned") for address in requested]
    addresses += _pick_free(state, vswitch_id, count, set(addresses))
    if len(eni["PrivateIpSets"]) + len(addresses) > MAX_IPS_PER_ENI:
        raise ApiError("InvalidOperation.Ipv4CountExceeded", MAX_IPS_PER_ENI)
    eni["PrivateIpSets"].extend({"PrivateIpAddress": address, "Primary": False} for address in addresses)
    return {
        "AssignedPrivateIpAddressesSet": {
            "NetworkInterfaceId": eni["NetworkInterfaceId"],
            "PrivateIpSet": {"PrivateIpAddress": addresses},
        }
    }


@action(ECS, "UnassignPrivateIpAddresses", mutating=True)
def unassign_private_ip_addresses(ctx: Context) -> dict:
    ctx.region()
    params = ctx.params
    eni = find_eni(ctx, params.str("NetworkInterfaceId", required=True))
    requested = params.indexed("PrivateIpAddress", maximum=50)
    if not requested:
        raise ApiError("MissingParameter", "PrivateIpAddress.N")
    _require_ip_operable(ctx, eni)
    secondary = {entry["PrivateIpAddress"] for entry in eni["PrivateIpSets"] if not entry["Primary"]}
    for address in requested:
        if address == primary_ip(eni):
            raise ApiError(
                "InvalidParameter", "PrivateIpAddress.N (the primary private IP address cannot be unassigned)"
            )
        if address not in secondary:
            raise ApiError("InvalidIp.IpUnassigned", address)
    _refuse_if_eip_bound(ctx.state, eni, requested)
    eni["PrivateIpSets"] = [entry for entry in eni["PrivateIpSets"] if entry["PrivateIpAddress"] not in requested]
    return {}


# ---- ModifyNetworkInterfaceAttribute ----------------------------------------------------------------------


@action(ECS, "ModifyNetworkInterfaceAttribute", mutating=True)
def modify_network_interface_attribute(ctx: Context) -> dict:
    """Name, description and the full security group list (``SecurityGroupId.N``, 1-10) of an ENI.

    The attribute fields of the real action are synchronous; the queue/traffic options are not emulated.
    """
    ctx.region()
    params = ctx.params
    eni = find_eni(ctx, params.str("NetworkInterfaceId", required=True))
    name = params.str("NetworkInterfaceName")
    if name is not None and name and not 2 <= len(name) <= 128:
        raise ApiError("InvalidParameter", "NetworkInterfaceName")
    groups = params.indexed("SecurityGroupId", maximum=10)
    for group_id in groups:
        group = ctx.state["security_groups"].get(group_id)
        if group is None or group["RegionId"] != eni["RegionId"]:
            raise ApiError("InvalidSecurityGroupId.NotFound")
        if group["VpcId"] != eni["VpcId"]:
            raise ApiError("InvalidOperation.VpcMismatch", f"security group {group_id} and ENI")
    if name is not None:
        eni["NetworkInterfaceName"] = name
    description = params.str("Description")
    if description is not None:
        eni["Description"] = description
    if groups:
        eni["SecurityGroupIds"] = list(dict.fromkeys(groups))
    return {}


# ---- TagResources / UntagResources (ECS tag API; ResourceType eni or instance) -----------------------------

# ECS TagResources: ResourceId.N 1-50, Tag.N 1-20 (ECS API reference); the 20-tags-per-resource quota and the codes
# below are the ECS tag family's as far as the references show them (UNCONFIRMED: exact texts and statuses).
# [fid:ecs-tag-codes]
register_missing(
    {
        "InvalidResourceType.NotFound": (404, "The ResourceType provided does not exist in our records."),
        "InvalidResourceId.NotFound": (404, "The specified ResourceIds are not found in our records."),
        "InvalidTagCount": (400, "The specified tags are beyond the permitted range."),
    }
)
ECS_TAGGABLE = {"eni": ("enis", "NetworkInterfaceId"), "instance": ("instances", "InstanceId")}
ECS_MAX_TAGS = 20


def _ecs_tag_targets(ctx: Context) -> list[dict]:
    """The resources of ``ResourceType`` + ``ResourceId.N`` (1-50) in the request's region."""
    region = ctx.region()
    resource_type = ctx.params.str("ResourceType", required=True)
    if resource_type not in ECS_TAGGABLE:
        raise ApiError("InvalidResourceType.NotFound")
    collection = ECS_TAGGABLE[resource_type][0]
    ids = ctx.params.indexed("ResourceId", maximum=50)
    if not ids:
        raise ApiError("MissingParameter", "ResourceId.N")
    targets = []
    for resource_id in ids:
        resource = ctx.state[collection].get(resource_id)
        if resource is None or resource["RegionId"] != region:
            raise ApiError("InvalidResourceId.NotFound")
        targets.append(resource)
    return targets


@action(ECS, "TagResources", mutating=True)
def ecs_tag_resources(ctx: Context) -> dict:
    targets = _ecs_tag_targets(ctx)
    tags = tags_from_request(ctx.params)
    if not tags:
        raise ApiError("MissingParameter", "Tag.N")
    if any(len({**resource.get("Tags", {}), **tags}) > ECS_MAX_TAGS for resource in targets):
        raise ApiError("InvalidTagCount")
    for resource in targets:
        resource.setdefault("Tags", {}).update(tags)
    return {}


@action(ECS, "UntagResources", mutating=True)
def ecs_untag_resources(ctx: Context) -> dict:
    targets = _ecs_tag_targets(ctx)
    keys = ctx.params.indexed("TagKey", maximum=20)
    remove_all = bool(ctx.params.bool("All", default=False))
    if not keys and not remove_all:
        raise ApiError("MissingParameter", "TagKey.N")
    for resource in targets:
        tags = resource.setdefault("Tags", {})
        for key in list(tags) if remove_all else keys:
            tags.pop(key, None)
    return {}
