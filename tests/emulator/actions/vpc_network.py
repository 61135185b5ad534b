"""VPC 2016-04-28 network actions: VPCs, vSwitches, HaVips, NAT gateways and SNAT entries (alibaba-api.md §6-7).

The EIP actions live in ``vpc_eip``; this module only reads EIP bindings (``InstanceType`` HaVip / Nat).
SNAT entries are stored as ``state["snat_entries"][id]`` with the API's field names; ``vpc_eip`` reads them
for the ``Force`` rule of UnassociateEipAddress.
"""

from __future__ import annotations

import ipaddress

from .. import accounting
from ..errors import ApiError
from ..registry import VPC, Context, action, paginate
from ..store import Store, transition
from ._network import (  # the token helpers are shared with ECS paging
    OPERABLE_INSTANCE_STATES,
    _decode_token,
    _encode_token,
    ecs_tags,
    eips_held_by,
    matches_tags,
    register_missing,
    tag_filters,
    tags_from_request,
    vpc_tags,
)

register_missing(
    {
        # §6.1 CreateHaVip (deprecated ECS twin's table; all 400)
        "InvalidVSwitch.NotFound": (400, "The specified VSwitch does not exist."),
        "InvalidIPAddress.Malformed": (400, "The specified IPAddress is malformed."),
        "InvalidIPAddress.OutOfRange": (400, "The specified IPAddress is out of VSwitch CIDR."),
        "InvalidIPAddress.NotAvailable": (400, "The specified IPAddress is reserved by the system."),
        "InvalidIPAddress.AlreadyUsed": (400, "The specified IPAddress is already used."),
        "InvalidDescription.Malformed": (400, "The specified Description is malformed."),
        "InvalidName.Malformed": (400, "The specified Name is malformed."),
        # §6.2-6.3 HaVip
        "InvalidHaVipId.NotFound": (404, "The specified HaVip does not exist in the specified region."),
        "IncorrectHaVipStatus": (
            400,
            "HaVip can be operated by this action only when it's status is Available or InUse.",
        ),
        "IncorrectInstanceStatus": (
            400,
            "ECS instance can be operated by this action only when it's status is Running or Stopped.",
        ),
        "InvalidInstanceId.NotFound": (404, "The specified instance does not exist."),
        "InvalidFilterKey.NotFound": (404, "The specified filter key is not supported."),
        "InvalidFilterKey.Duplicated": (400, "The filter key %s is specified more than once."),
        "ResourceNotAssociated": (400, "The specified instance is not associated with the HaVip."),
        "Forbidden.UnassociateMaster": (
            400,
            "The master instance cannot be disassociated while a backup instance exists; set Force to true.",
        ),
        "IncorrectStatus": (400, "The status of the resource does not support this operation."),
        "DependencyViolation.HaVipAssociatedWithEIP": (400, "The HaVip is associated with an EIP."),
        # UNCONFIRMED: the AssociateHaVip error table is cut off in every source; these two are the
        # [fid:havip-associate-codes]
        # documented codes whose names fit "already associated" and "more than two instances".
        "InvalidAssociation.Duplicated": (400, "Specified instance already is associated."),
        "CountLimitExceed.HaVipOnInstance": (400, "An HaVip can be associated with at most %s instances."),
        # UNCONFIRMED: no source gives the code for "HaVip and instance are not in the same vSwitch".
        # [fid:havip-vswitch-mismatch-code]
        "InvalidVSwitchId.Mismatch": (400, "The HaVip and the instance are not in the same vSwitch."),
        # §7.2-7.4 SNAT
        "InvalidSnatTableId.NotFound": (404, "The specified SnatTableId does not exist."),
        "InvalidSnatEntryId.NotFound": (404, "The specified SnatEntryId does not exist."),
        "InvalidVSwitchId.NotFound": (404, "The specified VSwitchId does not exist."),
        "InvalidSnatIp.NotFound": (404, "Specified SnatIp does not found on the NAT Gateway"),
        "InvalidSnatIp.Malformed": (400, "The specified SnatIp is malformed."),
        "Forbidden.SourceVSwitchId.IncludeHaVip": (
            400,
            "The specified vSwitch contains an HaVip; SNAT entries are not allowed for it.",
        ),
        "Forbidden.SourceVSwitchId.Duplicated": (400, "The specified SourceVSwitchId already has a SNAT entry."),
        "OperationUnsupported.CidrConflict": (400, "The specified SourceCIDR conflicts with an existing SNAT entry."),
        "Forbidden.IpUsedInForwardTable": (400, "The specified SnatIp is used in the forward table."),
        "InvalidParameter.Name.Malformed": (400, "The specified SnatEntryName is malformed."),
        "INVALID_PARAMETER": (400, "The parameter %s is invalid."),
        "IncorretSnatEntryStatus": (400, "Some Snat entry status blocked this operation.."),
        "DryRunOperation": (400, "Request validation has been passed with DryRun flag set."),
        # UNCONFIRMED [fid:snat-count-limit] message: CreateSnatEntry lists the code without its text.
        "Forbidden.SnatEntryCountLimited": (400, "The number of SNAT entries in the SNAT table exceeds the limit."),
    }
)

HAVIP_FILTER_KEYS = {
    "VpcId": "VpcId",
    "VSwitchId": "VSwitchId",
    "Status": "Status",
    "HaVipId": "HaVipId",
    "HaVipAddress": "IpAddress",
}
MAX_HAVIP_INSTANCES = 2
# SNAT entries per SNAT table (UNCONFIRMED: the NAT Gateway quota page gives 40 as the default; a quota
# [fid:snat-count-limit]
# increase is not modelled).
MAX_SNAT_ENTRIES_PER_TABLE = 40


def _vpc_view(state: dict, vpc: dict) -> dict:
    """One ``Vpcs.Vpc[]`` entry."""
    vswitches = sorted(v["VSwitchId"] for v in state["vswitches"].values() if v["VpcId"] == vpc["VpcId"])
    gateways = sorted(g["NatGatewayId"] for g in state["nat_gateways"].values() if g["VpcId"] == vpc["VpcId"])
    return {
        "VpcId": vpc["VpcId"],
        "RegionId": vpc["RegionId"],
        "Status": vpc["Status"],
        "VpcName": vpc["VpcName"],
        "CidrBlock": vpc["CidrBlock"],
        "CreationTime": vpc.get("CreationTime", ""),
        "Description": vpc.get("Description", ""),
        "IsDefault": False,
        "VRouterId": "vrt-{}".format(vpc["VpcId"][4:]),
        "ResourceGroupId": vpc.get("ResourceGroupId", ""),
        "VSwitchIds": {"VSwitchId": vswitches},
        "NatGatewayIds": {"NatGatewayIds": gateways},
        "RouterTableIds": {"RouterTableIds": ["vtb-{}".format(vpc["VpcId"][4:])]},
        "SecondaryCidrBlocks": {"SecondaryCidrBlock": []},
        "UserCidrs": {"UserCidr": []},
        "Tags": vpc_tags(vpc.get("Tags", {})),
    }


@action(VPC, "DescribeVpcs")
def describe_vpcs(ctx: Context) -> dict:
    region = ctx.region()
    wanted = ctx.params.comma_list("VpcId", maximum=20)
    name = ctx.params.str("VpcName")
    is_default = ctx.params.bool("IsDefault")
    tags = tag_filters(ctx.params)
    vpcs = [
        _vpc_view(ctx.state, vpc)
        for vpc in sorted(ctx.store.in_region("vpcs", region), key=lambda item: item["VpcId"])
        if (not wanted or vpc["VpcId"] in wanted) and (name is None or vpc["VpcName"] == name)
        # The emulator never models a default VPC.
        and not is_default and matches_tags(vpc.get("Tags", {}), tags)
    ]
    page, envelope = paginate(vpcs, ctx.params, default_size=10, max_size=50)
    return {**envelope, "Vpcs": {"Vpc": page}}


@action(VPC, "DescribeVSwitches")
def describe_vswitches(ctx: Context) -> dict:
    region = ctx.region()
    params = ctx.params
    simple = {
        "VSwitchId": params.str("VSwitchId"),
        "VpcId": params.str("VpcId"),
        "ZoneId": params.str("ZoneId"),
        "VSwitchName": params.str("VSwitchName"),
    }
    is_default = params.bool("IsDefault")
    tags = tag_filters(params)
    views = []
    for vswitch in sorted(ctx.store.in_region("vswitches", region), key=lambda item: item["VSwitchId"]):
        if any(value is not None and vswitch[key] != value for key, value in simple.items()):
            continue
        if is_default or not matches_tags(vswitch.get("Tags", {}), tags):
            continue
        views.append(
            {
                "VSwitchId": vswitch["VSwitchId"],
                "VpcId": vswitch["VpcId"],
                "Status": vswitch["Status"],
                "CidrBlock": vswitch["CidrBlock"],
                "ZoneId": vswitch["ZoneId"],
                "VSwitchName": vswitch["VSwitchName"],
                "Description": "",
                "IsDefault": False,
                "CreationTime": vswitch.get("CreationTime", ""),
                "ResourceGroupId": "",
                "AvailableIpAddressCount": accounting.free_count(ctx.state, vswitch["VSwitchId"]),
                "RouteTable": {"RouteTableId": "vtb-{}".format(vswitch["VpcId"][4:]), "RouteTableType": "System"},
                "Tags": vpc_tags(vswitch.get("Tags", {})),
            }
        )
    page, envelope = paginate(views, params, default_size=10, max_size=50)
    return {**envelope, "VSwitches": {"VSwitch": page}}


# ---- HaVip ----------------------------------------------------------------------------------------


def _find_havip(ctx: Context) -> dict:
    havip = ctx.store.get("havips", ctx.params.str("HaVipId", required=True))
    if havip is None or havip["RegionId"] != ctx.params.str("RegionId"):
        raise ApiError("InvalidHaVipId.NotFound")
    return havip


@action(VPC, "CreateHaVip", mutating=True)
def create_ha_vip(ctx: Context) -> dict:
    region = ctx.region()
    params = ctx.params
    vswitch = ctx.store.get("vswitches", params.str("VSwitchId", required=True))
    if vswitch is None or vswitch["RegionId"] != region:
        raise ApiError("InvalidVSwitch.NotFound")
    name = params.str("Name", default="")
    if len(name) > 128:
        raise ApiError("InvalidName.Malformed")
    description = params.str("Description", default="")
    if len(description) > 255 or description.startswith(("http://", "https://")):
        raise ApiError("InvalidDescription.Malformed")
    tags = tags_from_request(params)
    address = params.str("IpAddress")
    if address is None:
        address = accounting.first_free_ip(ctx.state, vswitch["VSwitchId"])
        if address is None:
            raise ApiError("InvalidIPAddress.NotAvailable")
    else:
        try:
            parsed = ipaddress.IPv4Address(address)
        except ValueError:
            raise ApiError("InvalidIPAddress.Malformed") from None
        address = str(parsed)
        if parsed not in ipaddress.IPv4Network(vswitch["CidrBlock"]):
            raise ApiError("InvalidIPAddress.OutOfRange")
        if not accounting.is_usable(vswitch["CidrBlock"], address) or address == vswitch.get("Gateway"):
            raise ApiError("InvalidIPAddress.NotAvailable")
        if address in accounting.used_ips(ctx.state, vswitch["VSwitchId"]):
            raise ApiError("InvalidIPAddress.AlreadyUsed")
    havip_id = ctx.store.new_id("havip")
    ctx.state["havips"][havip_id] = {
        "HaVipId": havip_id,
        "Name": name,
        "Description": description,
        "RegionId": region,
        "VpcId": vswitch["VpcId"],
        "VSwitchId": vswitch["VSwitchId"],
        "IpAddress": address,
        "Status": "Creating",
        "AssociatedInstances": [],
        "AssociatedInstanceType": "EcsInstance",
        "MasterInstanceId": "",
        "CreateTime": ctx.store.now_iso(),
        "ChargeType": "PostPaid",
        "ResourceGroupId": params.str("ResourceGroupId", default=""),
        "Tags": tags,
    }
    ctx.store.schedule("havip_created", "havip_create", {"HaVipId": havip_id})
    return {"HaVipId": havip_id, "IpAddress": address}


@transition("havip_created")
def _havip_created(store: Store, payload: dict) -> None:
    havip = store.get("havips", payload["HaVipId"])
    if havip is not None and havip["Status"] == "Creating":
        havip["Status"] = "Available"


def _havip_filters(ctx: Context) -> list[tuple[str, list[str]]]:
    """``Filter.N.Key`` / ``Filter.N.Value.M``: at most 5 keys, values OR-ed, keys AND-ed."""
    filters = ctx.params.objects("Filter", maximum=5)
    result = []
    seen: set[str] = set()
    for entry in filters:
        key = entry.get("Key")
        if not key:
            raise ApiError("MissingParameter", "Filter.N.Key")
        if key not in HAVIP_FILTER_KEYS:
            raise ApiError("InvalidFilterKey.NotFound")
        if key in seen:
            raise ApiError("InvalidFilterKey.Duplicated", key)
        seen.add(key)
        values = entry.get("Value") or []
        # A single ``Filter.N.Value=x`` (no index) arrives as a plain string.
        result.append((HAVIP_FILTER_KEYS[key], [values] if isinstance(values, str) else list(values)))
    return result


@action(VPC, "DescribeHaVips")
def describe_ha_vips(ctx: Context) -> dict:
    region = ctx.region()
    filters = _havip_filters(ctx)
    tags = tag_filters(ctx.params, "Tags")
    views = []
    for havip in sorted(ctx.store.in_region("havips", region), key=lambda item: item["HaVipId"]):
        if any(values and havip[field] not in values for field, values in filters):
            continue
        if not matches_tags(havip.get("Tags", {}), tags):
            continue
        eips = eips_held_by(ctx.state, "HaVip", havip["HaVipId"])
        views.append(
            {
                "HaVipId": havip["HaVipId"],
                "IpAddress": havip["IpAddress"],
                "Status": havip["Status"],
                "VpcId": havip["VpcId"],
                "VSwitchId": havip["VSwitchId"],
                "RegionId": havip["RegionId"],
                "Name": havip["Name"],
                "Description": havip["Description"],
                "CreateTime": havip["CreateTime"],
                "ChargeType": havip["ChargeType"],
                "MasterInstanceId": havip["MasterInstanceId"],
                "ResourceGroupId": havip.get("ResourceGroupId", ""),
                "AssociatedInstanceType": havip["AssociatedInstanceType"],
                # The SDK model reads these lower-case inner keys (sic, alibaba-api.md §6.2).
                "AssociatedInstances": {"associatedInstance": list(havip["AssociatedInstances"])},
                "AssociatedEipAddresses": {"associatedEipAddresse": [eip["IpAddress"] for eip in eips]},
                "Tags": vpc_tags(havip.get("Tags", {})),
            }
        )
    page, envelope = paginate(views, ctx.params, default_size=10, max_size=50)
    return {**envelope, "HaVips": {"HaVip": page}}


@action(VPC, "DeleteHaVip", mutating=True)
def delete_ha_vip(ctx: Context) -> dict:
    ctx.region()
    havip = _find_havip(ctx)
    if eips_held_by(ctx.state, "HaVip", havip["HaVipId"], visible_only=False):
        raise ApiError("DependencyViolation.HaVipAssociatedWithEIP")
    if havip["Status"] != "Available":
        raise ApiError("IncorrectStatus")
    # Deletion completes at once: no document gives the length of the Deleting phase, and nothing
    # in this collection waits on it.
    del ctx.state["havips"][havip["HaVipId"]]
    return {}


def _havip_target(ctx: Context) -> tuple[str, str, dict]:
    """(instance type, instance ID, ECS instance) named by InstanceId/InstanceType of Associate/UnassociateHaVip."""
    instance_type = ctx.params.str("InstanceType", default="EcsInstance", choices=("EcsInstance", "NetworkInterface"))
    instance_id = ctx.params.str("InstanceId", required=True)
    region = ctx.params.str("RegionId")
    if instance_type == "NetworkInterface":
        eni = ctx.state["enis"].get(instance_id)
        if eni is None or eni["RegionId"] != region:
            raise ApiError("InvalidInstanceId.NotFound")
        # An unattached ENI has no instance state to check; its own vSwitch decides the match.
        instance = ctx.state["instances"].get(eni["InstanceId"]) or {"Status": "Running", "VSwitchId": eni["VSwitchId"]}
        return instance_type, instance_id, {**instance, "VSwitchId": eni["VSwitchId"]}
    instance = ctx.state["instances"].get(instance_id)
    if instance is None or instance["RegionId"] != region:
        raise ApiError("InvalidInstanceId.NotFound")
    return instance_type, instance_id, instance


@action(VPC, "AssociateHaVip", mutating=True)
def associate_ha_vip(ctx: Context) -> dict:
    ctx.region()
    havip = _find_havip(ctx)
    instance_type, instance_id, instance = _havip_target(ctx)
    if havip["Status"] not in ("Available", "InUse"):
        raise ApiError("IncorrectHaVipStatus")
    if instance["Status"] not in OPERABLE_INSTANCE_STATES:
        raise ApiError("IncorrectInstanceStatus")
    if instance["VSwitchId"] != havip["VSwitchId"]:
        raise ApiError("InvalidVSwitchId.Mismatch")
    if instance_id in havip["AssociatedInstances"]:
        raise ApiError("InvalidAssociation.Duplicated")
    if len(havip["AssociatedInstances"]) >= MAX_HAVIP_INSTANCES:
        raise ApiError("CountLimitExceed.HaVipOnInstance", MAX_HAVIP_INSTANCES)
    havip["AssociatedInstances"].append(instance_id)
    havip["AssociatedInstanceType"] = instance_type
    if not havip["MasterInstanceId"]:
        havip["MasterInstanceId"] = instance_id
    havip["Status"] = "Associating"
    ctx.store.schedule("havip_settled", "havip_associate", {"HaVipId": havip["HaVipId"]})
    return {}


@action(VPC, "UnassociateHaVip", mutating=True)
def unassociate_ha_vip(ctx: Context) -> dict:
    ctx.region()
    havip = _find_havip(ctx)
    _instance_type, instance_id, instance = _havip_target(ctx)
    force = ctx.params.bool("Force", default=False)
    if havip["Status"] != "InUse":
        # The UnassociateHaVip doc words this code's message differently from AssociateHaVip's.
        raise ApiError(
            "IncorrectHaVipStatus",
            status=400,
            message="HaVip can be operated by this action only when it's status is InUse.",
        )
    if instance["Status"] not in OPERABLE_INSTANCE_STATES:
        raise ApiError("IncorrectInstanceStatus")
    if instance_id not in havip["AssociatedInstances"]:
        raise ApiError("ResourceNotAssociated")
    # UNCONFIRMED: the docs say only "with False the master instance cannot be disassociated"; the
    # [fid:havip-unassociate-master]
    # emulator applies that while a backup instance remains, so a lone master can still be removed.
    if instance_id == havip["MasterInstanceId"] and len(havip["AssociatedInstances"]) > 1 and not force:
        raise ApiError("Forbidden.UnassociateMaster")
    havip["Status"] = "Unassociating"
    havip.setdefault("Leaving", []).append(instance_id)
    ctx.store.schedule("havip_settled", "havip_associate", {"HaVipId": havip["HaVipId"]})
    return {}


@transition("havip_settled")
def _havip_settled(store: Store, payload: dict) -> None:
    havip = store.get("havips", payload["HaVipId"])
    if havip is None or havip["Status"] not in ("Associating", "Unassociating"):
        return
    leaving = havip.pop("Leaving", [])
    havip["AssociatedInstances"] = [item for item in havip["AssociatedInstances"] if item not in leaving]
    if havip["MasterInstanceId"] in leaving:
        havip["MasterInstanceId"] = havip["AssociatedInstances"][0] if havip["AssociatedInstances"] else ""
    havip["Status"] = "InUse" if havip["AssociatedInstances"] else "Available"


def move_havip_master(store: Store, havip_id: str, instance_id: str) -> dict:
    """Make ``instance_id`` the HaVip's ``MasterInstanceId``: what the platform does when the keepalived master's
    gratuitous ARP reaches the VPC (no API call does it; the control endpoint ``havip_master`` stands in for the
    platform, driven by a lab's data plane).  ``ValueError`` for an unknown HaVip or an instance not associated."""
    havip = store.get("havips", havip_id)
    if havip is None:
        raise ValueError("no HaVip %s" % havip_id)
    if instance_id not in havip["AssociatedInstances"]:
        raise ValueError(
            "%s is not associated with HaVip %s (associated: %s)"
            % (instance_id, havip_id, ", ".join(havip["AssociatedInstances"]) or "none")
        )
    havip["MasterInstanceId"] = instance_id
    return {"HaVipId": havip_id, "MasterInstanceId": instance_id}


# ---- NAT gateways and SNAT --------------------------------------------------------------------------


def _snat_addresses(entry: dict) -> list[str]:
    return [address for address in entry["SnatIp"].split(",") if address]


def _nat_view(state: dict, gateway: dict) -> dict:
    """One ``NatGateways.NatGateway[]`` entry (alibaba-api.md §7.1)."""
    entries = [
        entry
        for entry in state["snat_entries"].values()
        if entry["NatGatewayId"] == gateway["NatGatewayId"] and entry["Status"] != "Deleting"
    ]
    snat_ips = {address for entry in entries for address in _snat_addresses(entry)}
    ip_list = []
    for eip in eips_held_by(state, "Nat", gateway["NatGatewayId"]):
        in_snat = eip["IpAddress"] in snat_ips
        in_dnat = eip["IpAddress"] in gateway.get("DnatIps", [])
        using = {
            (False, False): "Idle",
            (True, False): "UsedBySnatTable",
            (False, True): "UsedByForwardTable",
            (True, True): "UsedByForwardSnatTable",
        }[(in_snat, in_dnat)]
        ip_list.append(
            {
                "AllocationId": eip["AllocationId"],
                "IpAddress": eip["IpAddress"],
                "PrivateIpAddress": gateway.get("EipPrivateIps", {}).get(eip["AllocationId"], ""),
                "SnatEntryEnabled": in_snat,
                "UsingStatus": using,
            }
        )
    return {
        "NatGatewayId": gateway["NatGatewayId"],
        "Name": gateway["Name"],
        "Description": gateway["Description"],
        "VpcId": gateway["VpcId"],
        "RegionId": gateway["RegionId"],
        "Status": gateway["Status"],
        "BusinessStatus": gateway["BusinessStatus"],
        "NatType": gateway["NatType"],
        "NetworkType": gateway["NetworkType"],
        "Spec": gateway["Spec"],
        "InstanceChargeType": gateway["InstanceChargeType"],
        "InternetChargeType": gateway["InternetChargeType"],
        "EipBindMode": gateway["EipBindMode"],
        "CreationTime": gateway["CreationTime"],
        "ExpiredTime": "",
        "DeletionProtection": False,
        "EcsMetricEnabled": False,
        "IcmpReplyEnabled": True,
        "PrivateLinkEnabled": False,
        "SecurityProtectionEnabled": False,
        "ResourceGroupId": gateway.get("ResourceGroupId", ""),
        "SnatTableIds": {"SnatTableId": list(gateway["SnatTableIds"])},
        "ForwardTableIds": {"ForwardTableId": list(gateway["ForwardTableIds"])},
        "FullNatTableIds": {"FullNatTableId": []},
        "IpLists": {"IpList": ip_list},
        "NatGatewayPrivateInfo": {
            "VswitchId": gateway["VSwitchId"],
            "IzNo": gateway["ZoneId"],
            "EniInstanceId": "",
            "EniType": "Standard",
            "PrivateIpAddress": "",
            "MaxBandwidth": 5120,
        },
        "Tags": ecs_tags(gateway.get("Tags", {})),
    }


@action(VPC, "DescribeNatGateways")
def describe_nat_gateways(ctx: Context) -> dict:
    region = ctx.region()
    params = ctx.params
    simple = {
        "NatGatewayId": params.str("NatGatewayId"),
        "VpcId": params.str("VpcId"),
        "Name": params.str("Name"),
        "NetworkType": params.str("NetworkType", choices=("internet", "intranet")),
        "Status": params.str("Status"),
        "ZoneId": params.str("ZoneId"),
        "NatType": params.str("NatType"),
        "InstanceChargeType": params.str("InstanceChargeType"),
    }
    tags = tag_filters(params)
    views = [
        _nat_view(ctx.state, gateway)
        for gateway in sorted(ctx.store.in_region("nat_gateways", region), key=lambda item: item["NatGatewayId"])
        if all(value is None or gateway.get(key) == value for key, value in simple.items())
        and matches_tags(gateway.get("Tags", {}), tags)
    ]
    page, envelope = paginate(views, params, default_size=10, max_size=50)
    return {**envelope, "NatGateways": {"NatGateway": page}}


def _find_snat_table(ctx: Context, table_id: str) -> dict:
    table = ctx.store.get("snat_tables", table_id)
    if table is None or table["RegionId"] != ctx.params.str("RegionId"):
        raise ApiError("InvalidSnatTableId.NotFound")
    return table


def _snat_source(ctx: Context, gateway: dict, table_id: str) -> tuple[str, str, str]:
    """(SourceVSwitchId, SourceCIDR, NetworkInterfaceId) of a new SNAT entry, validated (§7.2)."""
    params = ctx.params
    vswitch_id = params.str("SourceVSwitchId", default="")
    cidr = params.str("SourceCIDR", default="")
    eni_id = params.str("NetworkInterfaceId", default="")
    given = [
        name
        for name, value in (("SourceVSwitchId", vswitch_id), ("SourceCIDR", cidr), ("NetworkInterfaceId", eni_id))
        if value
    ]
    if not given:
        raise ApiError("MissingParameter", "SourceVSwitchId")
    if len(given) > 1:
        raise ApiError("INVALID_PARAMETER", " and ".join(given))
    existing = [entry for entry in ctx.state["snat_entries"].values() if entry["SnatTableId"] == table_id]
    if vswitch_id:
        vswitch = ctx.store.get("vswitches", vswitch_id)
        if vswitch is None or vswitch["VpcId"] != gateway["VpcId"]:
            raise ApiError("InvalidVSwitchId.NotFound")
        if any(havip["VSwitchId"] == vswitch_id for havip in ctx.state["havips"].values()):
            raise ApiError("Forbidden.SourceVSwitchId.IncludeHaVip")
        if any(entry["SourceVSwitchId"] == vswitch_id for entry in existing):
            raise ApiError("Forbidden.SourceVSwitchId.Duplicated")
        return vswitch_id, vswitch["CidrBlock"], ""
    if eni_id:
        eni = ctx.state["enis"].get(eni_id)
        if eni is None or eni["VpcId"] != gateway["VpcId"]:
            raise ApiError("INVALID_PARAMETER", "NetworkInterfaceId")
        if any(entry["NetworkInterfaceId"] == eni_id for entry in existing):
            raise ApiError("OperationUnsupported.CidrConflict")
        return "", "", eni_id
    try:
        network = ipaddress.IPv4Network(cidr)
    except ValueError:
        raise ApiError("INVALID_PARAMETER", "SourceCIDR") from None
    if any(entry["SourceCIDR"] == str(network) for entry in existing):
        raise ApiError("OperationUnsupported.CidrConflict")
    return "", str(network), ""


def _table_entries(state: dict, table_id: str) -> list[dict]:
    """Every entry of a SNAT table, Deleting ones included (they still count until gone)."""
    return [entry for entry in state["snat_entries"].values() if entry["SnatTableId"] == table_id]


def _snat_ips(ctx: Context, gateway: dict, raw_ips: list[str]) -> list[str]:
    """The ``SnatIp`` addresses, each an EIP bound to ``gateway`` and not in its forward table (§7.2)."""
    bound = {eip["IpAddress"] for eip in eips_held_by(ctx.state, "Nat", gateway["NatGatewayId"])}
    addresses = []
    for raw in raw_ips:
        try:
            address = str(ipaddress.IPv4Address(raw))
        except ValueError:
            raise ApiError("InvalidSnatIp.Malformed") from None
        if address not in bound:
            raise ApiError("InvalidSnatIp.NotFound")
        if address in gateway.get("DnatIps", []):
            raise ApiError("Forbidden.IpUsedInForwardTable")
        addresses.append(address)
    return addresses


@action(VPC, "CreateSnatEntry", mutating=True)
def create_snat_entry(ctx: Context) -> dict:
    region = ctx.region()
    params = ctx.params
    table = _find_snat_table(ctx, params.str("SnatTableId", required=True))
    gateway = ctx.state["nat_gateways"][table["NatGatewayId"]]
    raw_ips = params.comma_list("SnatIp")
    if not raw_ips:
        raise ApiError("MissingParameter", "SnatIp")
    addresses = _snat_ips(ctx, gateway, raw_ips)
    vswitch_id, cidr, eni_id = _snat_source(ctx, gateway, table["SnatTableId"])
    if len(_table_entries(ctx.state, table["SnatTableId"])) >= MAX_SNAT_ENTRIES_PER_TABLE:
        raise ApiError("Forbidden.SnatEntryCountLimited")
    name = params.str("SnatEntryName", default="")
    if name and not 2 <= len(name) <= 128:
        raise ApiError("InvalidParameter.Name.Malformed")
    affinity = params.int("EipAffinity", default=0, minimum=0, maximum=1)
    if params.bool("DryRun", default=False):
        raise ApiError("DryRunOperation")
    entry_id = ctx.store.new_id("snat")
    ctx.state["snat_entries"][entry_id] = {
        "SnatEntryId": entry_id,
        "SnatTableId": table["SnatTableId"],
        "NatGatewayId": gateway["NatGatewayId"],
        "SnatIp": ",".join(addresses),
        "SourceVSwitchId": vswitch_id,
        "SourceCIDR": cidr,
        "NetworkInterfaceId": eni_id,
        "SnatEntryName": name,
        "EipAffinity": affinity,
        "Status": "Pending",
        "RegionId": region,
    }
    ctx.store.schedule("snat_created", "snat_create", {"SnatEntryId": entry_id})
    return {"SnatEntryId": entry_id}


# Also completes a ModifySnatEntry (scheduled under the "snat_modify" delay).
@transition("snat_created")
def _snat_created(store: Store, payload: dict) -> None:
    entry = store.get("snat_entries", payload["SnatEntryId"])
    if entry is not None and entry["Status"] == "Pending":
        entry["Status"] = "Available"


@action(VPC, "ModifySnatEntry", mutating=True)
def modify_snat_entry(ctx: Context) -> dict:
    """SnatIp, SnatEntryName, EipAffinity or NetworkInterfaceId of an entry; Pending -> Available after ``snat_modify``.

    The documented codes are those of the table below (NATDOCS ModifySnatEntry): InvalidSnatTableId.NotFound,
    InvalidSnatEntryId.NotFound, InvalidSnatIp.Malformed, Forbidden.IpUsedInForwardTable.  UNCONFIRMED: the
    [fid:snat-modify-codes]
    docs say a Pending entry (or any Pending entry of the table) cannot be modified but give no code, so the
    emulator answers DeleteSnatEntry's IncorretSnatEntryStatus; an address that is not an EIP of the gateway
    gets CreateSnatEntry's InvalidSnatIp.NotFound.
    """
    ctx.region()
    params = ctx.params
    table = _find_snat_table(ctx, params.str("SnatTableId", required=True))
    entry = ctx.state["snat_entries"].get(params.str("SnatEntryId", required=True))
    if entry is None or entry["SnatTableId"] != table["SnatTableId"]:
        raise ApiError("InvalidSnatEntryId.NotFound")
    gateway = ctx.state["nat_gateways"][table["NatGatewayId"]]
    raw_ips = params.comma_list("SnatIp")
    eni_id = params.str("NetworkInterfaceId")
    if raw_ips and eni_id:
        # "SnatIp and NetworkInterfaceId cannot both be given" (the ModifySnatEntry parameter table).
        raise ApiError("INVALID_PARAMETER", "SnatIp and NetworkInterfaceId")
    addresses = _snat_ips(ctx, gateway, raw_ips) if raw_ips else None
    if eni_id:
        eni = ctx.state["enis"].get(eni_id)
        if eni is None or eni["VpcId"] != gateway["VpcId"]:
            raise ApiError("INVALID_PARAMETER", "NetworkInterfaceId")
    name = params.str("SnatEntryName")
    if name is not None and not 2 <= len(name) <= 128:
        raise ApiError("InvalidParameter.Name.Malformed")
    affinity = params.int("EipAffinity", minimum=0, maximum=1)
    busy = [other for other in _table_entries(ctx.state, table["SnatTableId"]) if other["Status"] == "Pending"]
    if entry["Status"] != "Available" or busy:
        raise ApiError("IncorretSnatEntryStatus")
    if params.bool("DryRun", default=False):
        raise ApiError("DryRunOperation")
    if addresses is not None:
        entry["SnatIp"] = ",".join(addresses)
    if eni_id:
        entry["NetworkInterfaceId"] = eni_id
    if name is not None:
        entry["SnatEntryName"] = name
    if affinity is not None:
        entry["EipAffinity"] = affinity
    entry["Status"] = "Pending"
    ctx.store.schedule("snat_created", "snat_modify", {"SnatEntryId": entry["SnatEntryId"]})
    return {}


@action(VPC, "DescribeSnatTableEntries")
def describe_snat_table_entries(ctx: Context) -> dict:
    ctx.region()
    params = ctx.params
    table_id = params.str("SnatTableId")
    gateway_id = params.str("NatGatewayId")
    if not table_id and not gateway_id:
        raise ApiError("MissingParameter", "SnatTableId")
    if table_id:
        _find_snat_table(ctx, table_id)
    simple = {
        "SnatTableId": table_id,
        "NatGatewayId": gateway_id,
        "SnatEntryId": params.str("SnatEntryId"),
        "SnatEntryName": params.str("SnatEntryName"),
        "SourceCIDR": params.str("SourceCIDR"),
        "SourceVSwitchId": params.str("SourceVSwitchId"),
    }
    snat_ip = params.str("SnatIp")
    enis = params.indexed("NetworkInterfaceIds", maximum=20)
    views = []
    for entry in sorted(ctx.state["snat_entries"].values(), key=lambda item: item["SnatEntryId"]):
        if any(value is not None and entry[key] != value for key, value in simple.items()):
            continue
        if snat_ip and snat_ip not in _snat_addresses(entry):
            continue
        if enis and entry["NetworkInterfaceId"] not in enis:
            continue
        views.append({key: entry[key] for key in entry if key != "RegionId"})
    page, envelope = paginate(views, params, default_size=10, max_size=50)
    return {**envelope, "SnatTableEntries": {"SnatTableEntry": page}}


@action(VPC, "DeleteSnatEntry", mutating=True)
def delete_snat_entry(ctx: Context) -> dict:
    ctx.region()
    table = _find_snat_table(ctx, ctx.params.str("SnatTableId", required=True))
    entry = ctx.state["snat_entries"].get(ctx.params.str("SnatEntryId", required=True))
    if entry is None or entry["SnatTableId"] != table["SnatTableId"]:
        raise ApiError("InvalidSnatEntryId.NotFound")
    if entry["Status"] != "Available":
        raise ApiError("IncorretSnatEntryStatus")
    entry["Status"] = "Deleting"
    ctx.store.schedule("snat_deleted", "snat_delete", {"SnatEntryId": entry["SnatEntryId"]})
    return {}


@transition("snat_deleted")
def _snat_deleted(store: Store, payload: dict) -> None:
    entry = store.get("snat_entries", payload["SnatEntryId"])
    if entry is not None and entry["Status"] == "Deleting":
        del store.data["snat_entries"][payload["SnatEntryId"]]


# ---- IPv4 gateways (read only) ------------------------------------------------------------------------------
def _ipv4_gateway_view(vpc: dict) -> dict:
    """ListIpv4Gateways item of the gateway a world VPC has (the world only says that it exists, and its ID).

    UNCONFIRMED details: a gateway of the world is "Created" and Enabled (active; the world models no
    [fid:ipv4gw-describe-details]
    gateway being created or deactivated), has no name, description or route table, and belongs to no
    resource group.
    """
    return {
        "Ipv4GatewayId": vpc["Ipv4GatewayId"],
        "Ipv4GatewayName": "",
        "Ipv4GatewayDescription": "",
        "Ipv4GatewayRouteTableId": "",
        "VpcId": vpc["VpcId"],
        "Status": "Created",
        "Enabled": True,
        "GmtCreate": vpc.get("CreationTime", ""),
        "ResourceGroupId": "",
        "Tags": [],
    }


@action(VPC, "ListIpv4Gateways")
def list_ipv4_gateways(ctx: Context) -> dict:
    """The real API (SDK 7.2.2 has no DescribeIpv4Gateways): filters VpcId, Ipv4GatewayId, Ipv4GatewayName.

    Token paging only (MaxResults 1-100, default 10; UNCONFIRMED bounds), flat ``Ipv4GatewayModels`` list.
    [fid:ipv4gw-describe-details]
    """
    region = ctx.region()
    vpc_id = ctx.params.str("VpcId")
    gateway_id = ctx.params.str("Ipv4GatewayId")
    name = ctx.params.str("Ipv4GatewayName")
    gateways = [
        _ipv4_gateway_view(vpc)
        for vpc in sorted(ctx.store.in_region("vpcs", region), key=lambda item: item["VpcId"])
        if vpc.get("Ipv4GatewayId")
        and (vpc_id is None or vpc["VpcId"] == vpc_id)
        and (gateway_id is None or vpc["Ipv4GatewayId"] == gateway_id)
        # A world gateway has no name: any name filter matches nothing.
        and name is None
    ]
    size = ctx.params.int("MaxResults", default=10, minimum=1, maximum=100)
    token = ctx.params.str("NextToken")
    offset = _decode_token(token) if token else 0
    following = offset + size
    return {
        "Ipv4GatewayModels": gateways[offset:following],
        "NextToken": _encode_token(following) if following < len(gateways) else "",
        "TotalCount": len(gateways),
    }
