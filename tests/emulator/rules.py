"""Association rules of Alibaba Cloud EIPs, one small function per rule of the vendor specification.

Sources: ``shared/reference/spec-associate-eip.txt`` ("Associate an EIP with a cloud resource") and
``shared/reference/alibaba-api.md`` §3.2, §3.3 and §5.  Every rule names the sentence it enforces and raises
the documented error code with its documented HTTP status.  ``vpc_eip`` runs them for AssociateEipAddress,
UnassociateEipAddress and ModifyEipForwardMode, and for EIPs that a world file declares pre-associated, so a
world can never hold an association the API would refuse.

Choices that no source confirms are marked UNCONFIRMED [fid:<id>] here and in ``docs/emulator-eip.md``
(ledger: ``docs/fidelity.md``).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass

from . import errors
from .accounting import first_free_ip
from .errors import ApiError

# ---- error codes ---------------------------------------------------------------------------------------------
# code -> (HTTP status, documented message).  Messages are the vendor's, typos included ("Forbbiden").
ERRORS: dict[str, tuple[int, str]] = {
    # EIP state and lookup (alibaba-api.md §3.2, §3.3, §3.7)
    "InvalidAllocationId.NotFound": (404, "Specified allocation ID is not found."),
    "IncorrectEipStatus": (400, "Current elastic IP status does not support this operation."),
    "TaskConflict": (400, "The eip operate too frequent, TaskConflict."),
    "Forbidden.FinancialLocked": (400, "The ip business status is invalid."),
    "InvalidEIPStatus.BizDisabled": (400, "The EIP has been locked."),
    # AssociateEipAddress (§3.2)
    "InvalidInstanId.NotFound": (404, "Specified instance does not exist."),
    "InvalidInstanceType.ValueNotSupported": (400, "The specified value of InstanceType is not supported."),
    "IllegalParam.Mode": (400, "The specified Mode (%s) is illegal."),
    "InvalidAssociation.Duplicated": (400, "Specified instance already is associated."),
    "InvalidParameter.Mismatch": (400, "Specified elastic IP address and ECS instance are not in the same region."),
    "OperationDenied": (400, "Specified instance is not in VPC."),
    "IncorrectInstanceStatus": (400, "Current instance status does not support this operation."),
    "EIP_CAN_NOT_ASSOCIATE_WITH_PUBLIC_IP": (400, "instance already bind natpublicip,cannot bind eip."),
    "InvalidStatus.EcsStatusNotSupport": (400, "The special instance status is not support operate"),
    "InvalidStatus.EniStatusNotSupport": (400, "%s"),
    "Invalid.DirectEip.BindType": (400, "The direct eip can be only associated with eni."),
    "Eni.Attached": (400, "The eni should be detached from ecs when associating with direct eip."),
    "Eni.HasSubIp": (400, "Eni has sub ip can not bind direct eip."),
    "UnsupportedRegion": (400, "%s"),
    "OperationDenied.Ipv4GatewayExist": (400, "The operation is not allowed because of Ipv4GatewayExist."),
    "Mode.Conflict": (400, "The eni can bind only one mode of eip."),
    "QuotaExceed.MultiBindedEip": (400, "The number of multi binded eip is over limit."),
    "OperationUnsupported.EipBindModel": (400, "The instance type of ecs does not support MULTI_BINDED model Eip."),
    "OperationFailed.EipBindModeConflict": (
        400,
        "Eips can not bind Eni with NAT mode and MULTI_BINDED mode at the same time.",
    ),
    "QuotaExceeded.NumberOfEip": (400, "Binded eip Quota exceed on this NatGw."),
    "NATGATEWAY_FINANCIALLOCKED": (400, "The NatGateway has expire, cannot do bind operation."),
    "IncorrectStatus.NatGateway": (400, "%s"),
    "Forbidden.EipCanNotBindGatgw": (400, "Eip can not bind on natgw."),
    "OperationDenied.NoAvailablePrivateIp": (
        400,
        "The operation is failed because of vSwitch has not availalbe private ip",
    ),
    "IncorrectHaVipStatus": (400, "HaVip can be operated by this action only when it's status is Available or InUse."),
    "InvalidParameter.InstanceTypeNotSupport": (400, "The specified instance type is not support."),
    "OperationFailed.Ipv4GatewayNotOpenedInVpc": (400, "The IPv4 gateway is not opened in the VPC."),
    "ResourceAlreadyAssociated.IpAddress": (400, "%s"),
    "InvalidVpcId.NotFound": (404, "Specified VPC does not exist."),
    "InvalidRegionId.NotFound": (404, "Specified value of InstanceRegionId is not supported."),
    # UnassociateEipAddress (§3.3)
    "InvalidBindInstance.NotFound": (404, "The specified bind instance does not exist."),
    "InvalidIpStatus.HasBeenUsedBySnatTable": (400, "The removed ip address has been used by snat table."),
    "InvalidIpStatus.HasBeenUsedByForwardEntry": (400, "The specified address has been used by forwardTable."),
    "InvalidStatus.SnatOrDnat": (400, "Operation failed because snat or dnat in unstable status."),
    # AllocateEipAddress / AllocateEipAddressPro (§3.5, §3.6, §4)
    "FrequentPurchase.EIP": (400, "eip frequent purchase"),
    "QuotaExceeded.Eip": (400, "Elastic IP address quota exceeded."),
    "InvalidBandwidth.Malformed": (400, "The specified Bandwidth is invalid."),
    "ReserveIpFail": (400, "Reserve eip failed."),
    "OperationFailed.AllocateUnfamiliarIp": (
        400,
        "The operation failed because only IP addresses used within the last seven days can be allocated.",
    ),
    "Ip.Allocated": (400, "The reserve ip has been allocated."),
    "OperationDenied.IpBelongToOtherUser": (400, "The operation is not allowed because of ip belong to other user."),
    "IllegalParam.IpAddress": (400, "The specified IpAddress (%s) is illegal."),
    "IllegalParam.Isp": (400, "The param of Isp [%s] is illegal."),
    "OperationFailed.ResourceNotEnough": (400, "The resources you have applied for are insufficient."),
    "ResourceNotFound.PublicIpAddressPool": (400, "The specified resource of PublicIpAddressPool is not found."),
    # ReleaseEipAddress (§3.7)
    "Forbidden.ChargeTypeIsPrepaid": (400, "It's forbidden to release a prepaid EIP"),
    "InvalidOperation.DeletionProtection": (400, "The instance cannnot delete because of deletion protecion."),
    # DescribeEipAddresses (§3.4); the messages of the 404 filter codes are not documented (UNCONFIRMED).
    # [fid:eip-describe-filter-messages]
    "InvalidIAssociatedInstanceType.ValueNotSupported": (400, "The specified AssociatedInstanceType is not supported."),
    "InvalidChargeType.ValueNotSupported": (400, "The specified ChargeType is not supported."),
    "InstanceIdLength.Exceed": (400, "The number of the specified IDs exceeds 50."),
    "InvalidLockReason.NotFound": (404, "The specified LockReason is not found"),
    "InvalidFilterKey.NotFound": (404, "The specified filter key is not found."),
    "InvalidFilterValue": (404, "The specified filter value is not valid."),
    "DryRunOperation": (400, "Request validation has been passed with DryRun flag set."),
    # DescribeEipGatewayInfo (§3.9)
    "Forbbiden": (403, "User not authorized to operate on the specified resource."),
    # TagResources / UnTagResources / ListTagResources: the VPC tag family as documented for
    # ListTagResourcesForExpressConnect (same API version); VPC TagResources' own table is not in the references.
    "InvalidTagKey": (400, "The tag keys are not valid."),
    "InvalidTagValue": (400, "The tag values are not valid."),
    "InvalidInstanceType.NotFound": (400, "The instance type is not found"),
    "InvalidInstanceIds.NotFound": (400, "The instanceIds are not found"),
    "Forbidden.TagKeys": (400, "The request do not allow to operate the tag keys"),
    "QuotaExceeded.TagNum": (400, "Custom Tags quota exceeded"),
    "Forbidden.TagKey.Duplicated": (400, "The specified tag key already exists."),
    "SizeLimitExceeded.TagNum": (400, "The maximum number of tags is exceeded."),
    "SizeLimitExceeded.ResourceId": (400, "The maximum number of resource IDs is exceeded."),
    "BothEmpty.TagsAndResources": (403, "The specified Tags and ResourcesIds are not allow to both empty."),
}

# Codes that other Alibaba APIs also answer, with other text (ECS IncorrectInstanceStatus, the HaVip and SLB
# families, the region code of the core catalogue).  They are not put in the shared catalogue, so that the
# other action modules can register their own wording; ``fail`` always sends this module's text.
_NOT_REGISTERED = {
    "IncorrectInstanceStatus",
    "IncorrectHaVipStatus",
    "InvalidParameter.Mismatch",
    "OperationDenied",
    "InvalidVpcId.NotFound",
    "InvalidRegionId.NotFound",
    "DryRunOperation",
    "InvalidTagKey",
    "InvalidTagValue",
    "InvalidInstanceType.NotFound",
    "InvalidInstanceIds.NotFound",
    "Forbidden.TagKeys",
    "QuotaExceeded.TagNum",
    "Forbidden.TagKey.Duplicated",
    "SizeLimitExceeded.TagNum",
    "SizeLimitExceeded.ResourceId",
    "BothEmpty.TagsAndResources",
}

errors.register({code: entry for code, entry in ERRORS.items() if code not in _NOT_REGISTERED})


def fail(code: str, *args: object, message: str | None = None) -> ApiError:
    """The ApiError for ``code`` with this module's status and message (``message`` overrides the text)."""
    status, text = ERRORS[code]
    return ApiError(code, *args, message=message or text, status=status)


# ---- vendor data ---------------------------------------------------------------------------------------------
INSTANCE_TYPES = ("EcsInstance", "NetworkInterface", "Nat", "SlbInstance", "HaVip", "IpAddress")
MODES = ("NAT", "BINDED", "MULTI_BINDED")

# Cut-through (BINDED) regions of the spec, mapped to region IDs: Hangzhou, Shanghai, Qingdao, Beijing,
# Zhangjiakou, Hohhot, Shenzhen, Guangzhou, Chengdu, Singapore, Jakarta, Frankfurt, London, Virginia, Riyadh.
BINDED_REGIONS = frozenset(
    {
        "cn-hangzhou",
        "cn-shanghai",
        "cn-qingdao",
        "cn-beijing",
        "cn-zhangjiakou",
        "cn-huhehaote",
        "cn-shenzhen",
        "cn-guangzhou",
        "cn-chengdu",
        "ap-southeast-1",
        "ap-southeast-5",
        "eu-central-1",
        "eu-west-1",
        "us-east-1",
        "me-central-1",
    }
)
# Multi-EIP cut-through (MULTI_BINDED) regions: Shenzhen, Shanghai, Beijing, Zhangjiakou, Chengdu, Singapore,
# Frankfurt, Virginia, London.  (The 2021 guide also listed Mumbai; the current spec does not.)
MULTI_BINDED_REGIONS = frozenset(
    {
        "cn-shenzhen",
        "cn-shanghai",
        "cn-beijing",
        "cn-zhangjiakou",
        "cn-chengdu",
        "ap-southeast-1",
        "eu-central-1",
        "us-east-1",
        "eu-west-1",
    }
)
# Instance families of the spec that support multi-EIP cut-through.
_MULTI_BINDED_FAMILY_NAMES = (
    "d1ne ebmc4 ebmg5 ebmhfg5 f1 gn5i gn6v i2 r1 re4 re4e sccg5 sccgn6 scch5 g5 c5 r5 t5 sn2ne se1ne sn1ne"
)
MULTI_BINDED_FAMILIES = frozenset("ecs." + name for name in _MULTI_BINDED_FAMILY_NAMES.split())
MULTI_BINDED_PER_ENI = 10
EIPS_PER_NAT_GATEWAY = 20
# "Since September 19, 2022, associating an EIP with a newly created public NAT gateway consumes a private IP
# from the vSwitch where the gateway resides."  ISO 8601 UTC strings compare in time order.
NAT_PRIVATE_IP_SINCE = "2022-09-19T00:00:00Z"

# Where each target type lives in the state, and how the world file's prefix names it.
TARGET_COLLECTIONS = {
    "EcsInstance": "instances",
    "NetworkInterface": "enis",
    "Nat": "nat_gateways",
    "SlbInstance": "load_balancers",
    "HaVip": "havips",
}
PREFIXES = {"i-": "EcsInstance", "eni-": "NetworkInterface", "ngw-": "Nat", "lb-": "SlbInstance", "havip-": "HaVip"}

# EIP statuses in which the EIP is bound to (or being bound to / unbound from) something.
HOLDING = ("Associating", "InUse", "Unassociating")


@dataclass
class Binding:
    """One association being checked: the EIP, the target and the request's options."""

    state: dict
    eip: dict
    instance_type: str
    instance_id: str
    mode: str = "NAT"
    private_ip: str | None = None
    vpc_id: str | None = None
    target: dict | None = None

    @property
    def region(self) -> str:
        return self.eip["RegionId"]

    @property
    def attached_instance(self) -> dict | None:
        """The ECS instance the target ENI is attached to, if any."""
        if self.instance_type != "NetworkInterface" or not self.target or not self.target.get("InstanceId"):
            return None
        return self.state["instances"].get(self.target["InstanceId"])

    def holders(self, **fields: str) -> list[dict]:
        """EIPs (other than the one being bound) holding a target whose recorded fields equal ``fields``."""
        return [
            eip
            for eip in self.state["eips"].values()
            if eip["AllocationId"] != self.eip["AllocationId"]
            and eip["Status"] in HOLDING
            and all(eip.get(key) == value for key, value in fields.items())
        ]

    def eni_holders(self) -> list[dict]:
        """EIPs bound to the target ENI, in any mode."""
        return self.holders(InstanceType="NetworkInterface", InstanceId=self.instance_id)


def refuse_if_held(holders: list[dict], code: str, *args: object) -> None:
    """Refuse a target that other EIPs hold; TaskConflict while they are all still being unassociated.

    UNCONFIRMED: the spec only says the target must not hold another EIP.  A holder that is Unassociating
    [fid:eip-assoc-holder-unassociating]
    will let go by itself, so the emulator answers the retryable TaskConflict ("The eip operate too
    frequent") rather than the permanent code.
    """
    if not holders:
        return
    if all(eip["Status"] == "Unassociating" for eip in holders):
        raise fail("TaskConflict")
    raise fail(code, *args)


# ---- the rule table --------------------------------------------------------------------------------------------
Rule = Callable[[Binding], None]


@dataclass
class RuleEntry:
    name: str
    instance_type: str
    modes: tuple[str, ...]
    check: Rule


RULES: list[RuleEntry] = []


def rule(instance_type: str, modes: tuple[str, ...] = MODES):
    """Register a check for one target type (and, for ENIs, the modes it governs); order is check order."""

    def decorate(check: Rule) -> Rule:
        RULES.append(RuleEntry(check.__name__, instance_type, modes, check))
        return check

    return decorate


def applicable_rules(instance_type: str, mode: str) -> list[RuleEntry]:
    """The rules AssociateEipAddress runs for this target type and mode, in order."""
    return [entry for entry in RULES if entry.instance_type == instance_type and mode in entry.modes]


# ---- ECS instance --------------------------------------------------------------------------------------------
def _instance_holders(binding: Binding, instance: dict) -> list[dict]:
    """EIPs standing for the instance's one public address: bound to it, or to its primary ENI's primary IP.

    UNCONFIRMED: an EIP in NAT mode on the primary private IP of the primary ENI gives the instance the same
    [fid:eip-nat-primary-counts-as-instance]
    public address as a direct association, so the emulator counts both as "the instance's EIP".
    """
    direct = binding.holders(InstanceType="EcsInstance", InstanceId=instance["InstanceId"])
    primary_eni = binding.state["enis"].get(instance.get("PrimaryNetworkInterfaceId", ""))
    if primary_eni is None:
        return direct
    return direct + binding.holders(
        InstanceType="NetworkInterface",
        InstanceId=primary_eni["NetworkInterfaceId"],
        PrivateIpAddress=primary_ip(primary_eni),
    )


@rule("EcsInstance")
def ecs_instance_in_vpc(binding: Binding) -> None:
    """ "Associate an EIP directly with a VPC-type ECS instance" -> OperationDenied."""
    if binding.target["InstanceNetworkType"] != "vpc":
        raise fail("OperationDenied")


@rule("EcsInstance")
def ecs_instance_running_or_stopped(binding: Binding) -> None:
    """ "The ECS instance must be in the Running or Stopped state" -> IncorrectInstanceStatus."""
    if binding.target["Status"] not in ("Running", "Stopped"):
        raise fail("IncorrectInstanceStatus")


@rule("EcsInstance")
def ecs_instance_without_fixed_public_ip(binding: Binding) -> None:
    """ "with no fixed public IP address" -> EIP_CAN_NOT_ASSOCIATE_WITH_PUBLIC_IP."""
    if binding.target.get("PublicIpAddress"):
        raise fail("EIP_CAN_NOT_ASSOCIATE_WITH_PUBLIC_IP")


@rule("EcsInstance")
def one_eip_per_ecs_instance(binding: Binding) -> None:
    """ "Each ECS instance supports only one EIP" -> InvalidAssociation.Duplicated."""
    refuse_if_held(_instance_holders(binding, binding.target), "InvalidAssociation.Duplicated")


# ---- elastic network interface (every mode) ------------------------------------------------------------------
def primary_ip(eni: dict) -> str:
    """The primary private IP of an ENI."""
    for entry in eni["PrivateIpSets"]:
        if entry["Primary"]:
            return entry["PrivateIpAddress"]
    return eni["PrivateIpSets"][0]["PrivateIpAddress"]


def eni_ips(eni: dict) -> list[str]:
    """Every private IP of an ENI, primary first."""
    return [entry["PrivateIpAddress"] for entry in eni["PrivateIpSets"]]


@rule("NetworkInterface")
def eni_stable(binding: Binding) -> None:
    """An ENI being attached or detached cannot change its EIPs -> InvalidStatus.EniStatusNotSupport."""
    status = binding.target["Status"]
    if status not in ("Available", "InUse"):
        raise fail(
            "InvalidStatus.EniStatusNotSupport",
            message=f"The status {status} of eni {binding.instance_id} is not supported.",
        )


@rule("NetworkInterface")
def eni_instance_stable(binding: Binding) -> None:
    """The instance an ENI is attached to must be Running or Stopped -> InvalidStatus.EcsStatusNotSupport."""
    instance = binding.attached_instance
    if instance is not None and instance["Status"] not in ("Running", "Stopped"):
        raise fail("InvalidStatus.EcsStatusNotSupport")


# ---- ENI, NAT mode -------------------------------------------------------------------------------------------
@rule("NetworkInterface", ("NAT",))
def nat_mode_needs_private_ip(binding: Binding) -> None:
    """ "each EIP maps one-to-one with a private IP on the ENI": PrivateIpAddress is required."""
    if not binding.private_ip:
        raise ApiError("MissingParameter", "PrivateIpAddress")


@rule("NetworkInterface", ("NAT", "MULTI_BINDED"))
def private_ip_on_eni(binding: Binding) -> None:
    """The private IP must be one of the ENI's private IPs -> InvalidParameter."""
    if binding.private_ip and binding.private_ip not in eni_ips(binding.target):
        raise ApiError("InvalidParameter", "PrivateIpAddress")


@rule("NetworkInterface", ("NAT",))
def nat_mode_not_mixed_with_multi_binded(binding: Binding) -> None:
    """NAT and MULTI_BINDED never share an ENI -> OperationFailed.EipBindModeConflict."""
    if any(eip["Mode"] == "MULTI_BINDED" for eip in binding.eni_holders()):
        raise fail("OperationFailed.EipBindModeConflict")


@rule("NetworkInterface", ("NAT",))
def nat_mode_not_on_binded_eni(binding: Binding) -> None:
    """A cut-through ENI has lost its private IP to its EIP; "The eni can bind only one mode" -> Mode.Conflict."""
    if any(eip["Mode"] == "BINDED" for eip in binding.eni_holders()):
        raise fail("Mode.Conflict")


@rule("NetworkInterface", ("NAT",))
def nat_mode_instance_without_fixed_public_ip(binding: Binding) -> None:
    """The primary IP of a primary ENI is the instance's address: no fixed public IP on the instance."""
    instance = binding.attached_instance
    if (
        instance is not None
        and binding.target["Type"] == "Primary"
        and binding.private_ip == primary_ip(binding.target)
    ):
        if instance.get("PublicIpAddress"):
            raise fail("EIP_CAN_NOT_ASSOCIATE_WITH_PUBLIC_IP")
        refuse_if_held(
            binding.holders(InstanceType="EcsInstance", InstanceId=instance["InstanceId"]),
            "InvalidAssociation.Duplicated",
        )


@rule("NetworkInterface", ("NAT",))
def one_eip_per_private_ip(binding: Binding) -> None:
    """ "In NAT mode, each EIP maps one-to-one with a private IP on the ENI" -> InvalidAssociation.Duplicated."""
    holders = [eip for eip in binding.eni_holders() if eip["PrivateIpAddress"] == binding.private_ip]
    refuse_if_held(holders, "InvalidAssociation.Duplicated")


# ---- ENI, cut-through (BINDED) and multi-EIP cut-through (MULTI_BINDED) -------------------------------------------
@rule("NetworkInterface", ("BINDED", "MULTI_BINDED"))
def cut_through_secondary_eni_only(binding: Binding) -> None:
    """ "Only secondary ENIs are supported" -> Invalid.DirectEip.BindType."""
    if binding.target["Type"] != "Secondary":
        raise fail("Invalid.DirectEip.BindType")


@rule("NetworkInterface", ("BINDED",))
def binded_region(binding: Binding) -> None:
    """Cut-through mode exists only in the spec's listed regions -> UnsupportedRegion."""
    if binding.region not in BINDED_REGIONS:
        raise fail("UnsupportedRegion", message=f"The region {binding.region} does not support BINDED mode.")


@rule("NetworkInterface", ("BINDED",))
def binded_eni_detached(binding: Binding) -> None:
    """ "Associate the EIP with the ENI first, then attach the ENI" -> Eni.Attached."""
    if binding.target.get("InstanceId"):
        raise fail("Eni.Attached")


@rule("NetworkInterface", ("BINDED",))
def binded_eni_without_secondary_ips(binding: Binding) -> None:
    """The EIP replaces the ENI's only private IP; secondary private IPs forbid it -> Eni.HasSubIp."""
    if len(binding.target["PrivateIpSets"]) > 1:
        raise fail("Eni.HasSubIp")


@rule("NetworkInterface", ("BINDED",))
def binded_on_primary_private_ip(binding: Binding) -> None:
    """ "The EIP can only associate with the primary private IP of the secondary ENI" -> InvalidParameter."""
    if binding.private_ip and binding.private_ip != primary_ip(binding.target):
        raise ApiError("InvalidParameter", "PrivateIpAddress")


@rule("NetworkInterface", ("BINDED",))
def binded_vpc_without_ipv4_gateway(binding: Binding) -> None:
    """ "The VPC where the secondary ENI resides cannot contain an IPv4 gateway" -> OperationDenied.Ipv4GatewayExist."""
    vpc = binding.state["vpcs"].get(binding.target["VpcId"]) or {}
    if vpc.get("Ipv4GatewayId"):
        raise fail("OperationDenied.Ipv4GatewayExist")


@rule("NetworkInterface", ("BINDED",))
def binded_alone_on_eni(binding: Binding) -> None:
    """One cut-through EIP per ENI (Duplicated); an ENI with EIPs of another mode -> Mode.Conflict."""
    holders = binding.eni_holders()
    if any(eip["Mode"] != "BINDED" for eip in holders):
        raise fail("Mode.Conflict")
    refuse_if_held(holders, "InvalidAssociation.Duplicated")


@rule("NetworkInterface", ("MULTI_BINDED",))
def multi_binded_region(binding: Binding) -> None:
    """Multi-EIP cut-through exists only in the spec's listed regions -> UnsupportedRegion."""
    if binding.region not in MULTI_BINDED_REGIONS:
        raise fail("UnsupportedRegion", message=f"The region {binding.region} does not support MULTI_BINDED mode.")


@rule("NetworkInterface", ("MULTI_BINDED",))
def multi_binded_instance_family(binding: Binding) -> None:
    """Only the listed instance families -> OperationUnsupported.EipBindModel.

    The family is that of the instance the ENI is attached to.  A detached ENI has no family yet and is
    accepted (UNCONFIRMED: the real check may happen at attach time, which the ECS API would then refuse).
    [fid:eip-multi-binded-detached-eni]
    """
    instance = binding.attached_instance
    if instance is not None and instance_family(instance["InstanceType"]) not in MULTI_BINDED_FAMILIES:
        raise fail("OperationUnsupported.EipBindModel")


@rule("NetworkInterface", ("MULTI_BINDED",))
def multi_binded_not_mixed(binding: Binding) -> None:
    """Never mixed with NAT (OperationFailed.EipBindModeConflict) nor with BINDED (Mode.Conflict) on one ENI."""
    holders = binding.eni_holders()
    if any(eip["Mode"] == "NAT" for eip in holders):
        raise fail("OperationFailed.EipBindModeConflict")
    if any(eip["Mode"] == "BINDED" for eip in holders):
        raise fail("Mode.Conflict")


@rule("NetworkInterface", ("MULTI_BINDED",))
def multi_binded_private_ip_free(binding: Binding) -> None:
    """A named private IP carries at most one EIP -> InvalidAssociation.Duplicated."""
    if binding.private_ip:
        holders = [eip for eip in binding.eni_holders() if eip["PrivateIpAddress"] == binding.private_ip]
        refuse_if_held(holders, "InvalidAssociation.Duplicated")


@rule("NetworkInterface", ("MULTI_BINDED",))
def multi_binded_quota(binding: Binding) -> None:
    """ "Each supports up to 10 EIPs" -> QuotaExceed.MultiBindedEip."""
    if len(binding.eni_holders()) >= MULTI_BINDED_PER_ENI:
        raise fail("QuotaExceed.MultiBindedEip")


def instance_family(instance_type: str) -> str:
    """``ecs.g5.large`` -> ``ecs.g5``."""
    return ".".join(instance_type.split(".")[:2])


# ---- NAT gateway ---------------------------------------------------------------------------------------------
@rule("Nat")
def nat_gateway_internet(binding: Binding) -> None:
    """Only Internet NAT gateways take EIPs; a VPC NAT gateway -> Forbidden.EipCanNotBindGatgw."""
    if binding.target.get("NetworkType", "internet") != "internet":
        raise fail("Forbidden.EipCanNotBindGatgw")


@rule("Nat")
def nat_gateway_not_financially_locked(binding: Binding) -> None:
    """An expired (FinancialLocked) gateway -> NATGATEWAY_FINANCIALLOCKED."""
    if binding.target.get("BusinessStatus") == "FinancialLocked":
        raise fail("NATGATEWAY_FINANCIALLOCKED")


@rule("Nat")
def nat_gateway_available(binding: Binding) -> None:
    """A gateway being created, modified or deleted -> IncorrectStatus.NatGateway."""
    status = binding.target.get("Status", "Available")
    if status != "Available":
        raise fail("IncorrectStatus.NatGateway", message=f"The status {status} of the NAT gateway is not supported.")


@rule("Nat")
def nat_gateway_quota(binding: Binding) -> None:
    """ "Each public NAT gateway supports up to 20 EIPs" -> QuotaExceeded.NumberOfEip."""
    if len(binding.holders(InstanceType="Nat", InstanceId=binding.instance_id)) >= EIPS_PER_NAT_GATEWAY:
        raise fail("QuotaExceeded.NumberOfEip")


@rule("Nat")
def nat_gateway_private_ip_available(binding: Binding) -> None:
    """A gateway created since 2022-09-19 needs a free private IP in its vSwitch -> NoAvailablePrivateIp."""
    if nat_consumes_private_ip(binding.target) and first_free_ip(binding.state, binding.target["VSwitchId"]) is None:
        raise fail("OperationDenied.NoAvailablePrivateIp")


def nat_consumes_private_ip(gateway: dict) -> bool:
    """Whether each EIP bound to the gateway takes a private IP of the gateway's vSwitch."""
    return gateway.get("CreationTime", "") >= NAT_PRIVATE_IP_SINCE


# ---- HaVip, CLB, IP address ------------------------------------------------------------------------------------
@rule("HaVip")
def havip_status(binding: Binding) -> None:
    """ "The HaVip must be in the Available or Assigned state" (API: Available or InUse) -> IncorrectHaVipStatus."""
    if binding.target["Status"] not in ("Available", "InUse"):
        raise fail("IncorrectHaVipStatus")


@rule("HaVip")
def one_eip_per_havip(binding: Binding) -> None:
    """ "Each HaVip supports only one EIP" -> InvalidAssociation.Duplicated."""
    refuse_if_held(
        binding.holders(InstanceType="HaVip", InstanceId=binding.instance_id), "InvalidAssociation.Duplicated"
    )


@rule("SlbInstance")
def clb_intranet(binding: Binding) -> None:
    """Only an intranet CLB takes an EIP (an Internet CLB has its own public address).

    UNCONFIRMED code: InvalidParameter.InstanceTypeNotSupport ("The specified instance type is not support.").
    [fid:eip-clb-internet-code]
    """
    if binding.target.get("AddressType") != "intranet":
        raise fail("InvalidParameter.InstanceTypeNotSupport")


@rule("SlbInstance")
def one_eip_per_clb(binding: Binding) -> None:
    """One EIP per CLB instance -> InvalidAssociation.Duplicated."""
    refuse_if_held(
        binding.holders(InstanceType="SlbInstance", InstanceId=binding.instance_id), "InvalidAssociation.Duplicated"
    )


@rule("IpAddress")
def ip_address_vpc_has_ipv4_gateway(binding: Binding) -> None:
    """Binding to an IP address of a VPC needs the VPC's IPv4 gateway -> OperationFailed.Ipv4GatewayNotOpenedInVpc."""
    if not binding.target.get("Ipv4GatewayId"):
        raise fail("OperationFailed.Ipv4GatewayNotOpenedInVpc")


@rule("IpAddress")
def ip_address_in_vpc(binding: Binding) -> None:
    """The address must lie in the VPC's CIDR block -> InvalidParameter (UNCONFIRMED code)."""
    # [fid:eip-ipaddress-outside-vpc-code]
    if ipaddress.IPv4Address(binding.instance_id) not in ipaddress.IPv4Network(binding.target["CidrBlock"]):
        raise ApiError("InvalidParameter", "InstanceId")


@rule("IpAddress")
def one_eip_per_ip_address(binding: Binding) -> None:
    """One EIP per IP address -> ResourceAlreadyAssociated.IpAddress."""
    refuse_if_held(
        binding.holders(InstanceType="IpAddress", InstanceId=binding.instance_id, VpcId=binding.target["VpcId"]),
        "ResourceAlreadyAssociated.IpAddress",
        f"The IP address {binding.instance_id} is already associated with an EIP.",
    )


# ---- target resolution and the full check --------------------------------------------------------------------
def resolve_target(binding: Binding) -> None:
    """Find the target resource (404 when unknown) and refuse one in another region (InvalidParameter.Mismatch).

    UNCONFIRMED: one NotFound code for every target type, the documented "InvalidInstanId.NotFound"
    [fid:eip-assoc-unknown-target-code]
    (sic) "Specified instance does not exist."
    """
    if binding.instance_type == "IpAddress":
        _resolve_ip_address(binding)
        return
    target = binding.state[TARGET_COLLECTIONS[binding.instance_type]].get(binding.instance_id)
    if target is None:
        raise fail("InvalidInstanId.NotFound")
    if target["RegionId"] != binding.region:
        raise fail("InvalidParameter.Mismatch")
    binding.target = target


def _resolve_ip_address(binding: Binding) -> None:
    """For InstanceType=IpAddress the target is the VPC named by VpcId; InstanceId is the address itself."""
    try:
        binding.instance_id = str(ipaddress.IPv4Address(binding.instance_id))
    except ValueError:
        raise ApiError("InvalidParameter", "InstanceId") from None
    if not binding.vpc_id:
        raise ApiError("MissingParameter", "VpcId")
    vpc = binding.state["vpcs"].get(binding.vpc_id)
    if vpc is None:
        raise fail("InvalidVpcId.NotFound")
    if vpc["RegionId"] != binding.region:
        raise fail("InvalidParameter.Mismatch")
    binding.target = vpc


def check_mode(binding: Binding) -> None:
    """Modes other than NAT exist only for ENIs: "The direct eip can be only associated with eni"."""
    if binding.mode not in MODES:
        raise fail("IllegalParam.Mode", binding.mode)
    if binding.instance_type != "NetworkInterface" and binding.mode != "NAT":
        raise fail("Invalid.DirectEip.BindType")


def check_association(binding: Binding, skip: frozenset[str] = frozenset()) -> None:
    """Run every rule that governs this association, but those named in ``skip``; raises the first violation."""
    if binding.instance_type not in INSTANCE_TYPES:
        raise fail("InvalidInstanceType.ValueNotSupported")
    check_mode(binding)
    resolve_target(binding)
    for entry in applicable_rules(binding.instance_type, binding.mode):
        if entry.name not in skip:
            entry.check(binding)


# ---- UnassociateEipAddress -------------------------------------------------------------------------------------
@dataclass
class Unbinding:
    """One disassociation being checked: the bound EIP and what the request says about its holder."""

    state: dict
    eip: dict
    instance_id: str | None = None
    instance_type: str | None = None
    private_ip: str | None = None
    force: bool = False

    @property
    def holder(self) -> dict | None:
        """The resource the EIP is bound to (None for IpAddress targets and for resources since deleted)."""
        collection = TARGET_COLLECTIONS.get(self.eip["InstanceType"])
        return self.state[collection].get(self.eip["InstanceId"]) if collection else None

    def snat_entries(self) -> list[dict]:
        """SNAT entries of the holding NAT gateway that translate to this EIP's address."""
        if self.eip["InstanceType"] != "Nat":
            return []
        return [
            entry
            for entry in self.state.get("snat_entries", {}).values()
            if entry.get("NatGatewayId") == self.eip["InstanceId"]
            and self.eip["IpAddress"] in [address.strip() for address in entry.get("SnatIp", "").split(",")]
        ]

    def dnat_in_use(self) -> bool:
        """Whether a DNAT (forward) entry of the holding NAT gateway uses this EIP's address."""
        holder = self.holder
        return bool(holder) and self.eip["InstanceType"] == "Nat" and self.eip["IpAddress"] in holder.get("DnatIps", [])


UnbindRule = Callable[[Unbinding], None]
UNASSOCIATE_RULES: list[UnbindRule] = []


def unassociate_rule(check: UnbindRule) -> UnbindRule:
    """Register a check of UnassociateEipAddress; order is check order."""
    UNASSOCIATE_RULES.append(check)
    return check


@unassociate_rule
def request_names_the_holder(unbinding: Unbinding) -> None:
    """InstanceId, InstanceType and PrivateIpAddress, when given, must describe the current holder.

    UNCONFIRMED code: InvalidBindInstance.NotFound (404, "The specified bind instance does not exist."): the
    [fid:eip-unassociate-other-holder-code]
    EIP is not bound to what the request names, which a client may read as "already disassociated from it".
    """
    eip = unbinding.eip
    mismatched = (
        (unbinding.instance_id and unbinding.instance_id != eip["InstanceId"])
        or (unbinding.instance_type and unbinding.instance_type != eip["InstanceType"])
        or (unbinding.private_ip and eip["PrivateIpAddress"] and unbinding.private_ip != eip["PrivateIpAddress"])
    )
    if mismatched:
        raise fail("InvalidBindInstance.NotFound")


@unassociate_rule
def holder_instance_stable(unbinding: Unbinding) -> None:
    """The ECS instance must be Running or Stopped -> IncorrectInstanceStatus."""
    holder = unbinding.holder
    if unbinding.eip["InstanceType"] == "EcsInstance" and holder and holder["Status"] not in ("Running", "Stopped"):
        raise fail("IncorrectInstanceStatus", message="The current status of instance does not support this operation.")


@unassociate_rule
def holder_eni_stable(unbinding: Unbinding) -> None:
    """An ENI being attached or detached cannot lose its EIP -> InvalidStatus.EniStatusNotSupport."""
    holder = unbinding.holder
    if (
        unbinding.eip["InstanceType"] == "NetworkInterface"
        and holder
        and holder["Status"] not in ("Available", "InUse")
    ):
        raise fail(
            "InvalidStatus.EniStatusNotSupport",
            message=f"The status {holder['Status']} of eni {holder['NetworkInterfaceId']} is not supported.",
        )


@unassociate_rule
def binded_eni_detached_to_unassociate(unbinding: Unbinding) -> None:
    """A cut-through EIP comes off a detached ENI only (documented for UnassociateEipAddress) -> Eni.Attached."""
    holder = unbinding.holder
    if unbinding.eip["Mode"] == "BINDED" and holder and holder.get("InstanceId"):
        raise fail("Eni.Attached")


@unassociate_rule
def holder_havip_stable(unbinding: Unbinding) -> None:
    """The HaVip must be Available or InUse -> IncorrectHaVipStatus."""
    holder = unbinding.holder
    if unbinding.eip["InstanceType"] == "HaVip" and holder and holder["Status"] not in ("Available", "InUse"):
        raise fail(
            "IncorrectHaVipStatus",
            message="This operation is denied because satus of the specified HaVip is neither Available nor InUse.",
        )


@unassociate_rule
def snat_entries_stable(unbinding: Unbinding) -> None:
    """SNAT entries using the EIP that are still Pending or Deleting -> InvalidStatus.SnatOrDnat (even with Force)."""
    if any(entry.get("Status", "Available") != "Available" for entry in unbinding.snat_entries()):
        raise fail("InvalidStatus.SnatOrDnat")


@unassociate_rule
def snat_needs_force(unbinding: Unbinding) -> None:
    """An EIP used by an SNAT entry needs Force=true -> InvalidIpStatus.HasBeenUsedBySnatTable."""
    if unbinding.snat_entries() and not unbinding.force:
        raise fail("InvalidIpStatus.HasBeenUsedBySnatTable")


@unassociate_rule
def dnat_needs_force(unbinding: Unbinding) -> None:
    """An EIP used by a DNAT entry needs Force=true -> InvalidIpStatus.HasBeenUsedByForwardEntry."""
    if unbinding.dnat_in_use() and not unbinding.force:
        raise fail("InvalidIpStatus.HasBeenUsedByForwardEntry")


def check_unassociation(unbinding: Unbinding) -> None:
    """Run every UnassociateEipAddress rule; raises the first violation's ApiError."""
    for check in UNASSOCIATE_RULES:
        check(unbinding)
