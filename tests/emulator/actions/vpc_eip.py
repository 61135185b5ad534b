"""EIP actions of the VPC 2016-04-28 API, as the real cloud behaves (``docs/emulator-eip.md``).

Lifecycle (alibaba-api.md §3.1): AllocateEipAddress / AllocateEipAddressPro -> Available;
AssociateEipAddress: Available -> Associating -> InUse; UnassociateEipAddress: InUse -> Unassociating ->
Available; ReleaseEipAddress: Available -> Releasing -> gone, remembered in ``released_eips`` so that the
address can be recovered for 7 days.  The association rules live in ``..rules``, one function per rule; what an
association writes on the EIP and its holder lives in ``..bindings`` (shared with the world loader).
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import ipaddress

from ..bindings import UNBOUND, clear_association, gateway_info, record_association
from ..errors import ApiError
from ..registry import VPC, Context, action, paginate
from ..rules import (
    INSTANCE_TYPES,
    MODES,
    Binding,
    Unbinding,
    check_association,
    check_unassociation,
    fail,
    primary_ip,
)
from ..store import Store, transition
from ..world import iso

DAY = 86400.0
RECOVERY_WINDOW = 7 * DAY
PURCHASE_WINDOW = 60.0
DEFAULT_RESOURCE_GROUP = "rg-emulatordefault"
ISPS = (
    "BGP",
    "BGP_PRO",
    "ChinaTelecom",
    "ChinaUnicom",
    "ChinaMobile",
    "ChinaTelecom_L2",
    "ChinaUnicom_L2",
    "ChinaMobile_L2",
    "BGP_FinanceCloud",
)
STATUSES = ("Associating", "Unassociating", "InUse", "Available", "Releasing")
MAX_TAGS = 20
MAX_TAG_RESOURCES = 50
# ResourceType (upper case) of the VPC tag API -> (state collection, ID field).  Only EIPs are served here;
# another action module may add its resource types to this table.
TAGGABLE = {"EIP": ("eips", "AllocationId")}


# ---- lookups and views ---------------------------------------------------------------------------------------
def find_eip(state: dict, allocation_id: str, region: str | None) -> dict:
    """The EIP with this ID in this region (any region when None) -> InvalidAllocationId.NotFound."""
    eip = state["eips"].get(allocation_id)
    if eip is None or (region is not None and eip["RegionId"] != region):
        raise fail("InvalidAllocationId.NotFound")
    return eip


def check_unlocked(eip: dict) -> None:
    """A locked EIP cannot be associated or disassociated (financial: Forbidden.FinancialLocked)."""
    locks = eip.get("OperationLocks") or []
    if "financial" in locks:
        raise fail("Forbidden.FinancialLocked")
    if locks or eip.get("BusinessStatus", "Normal") != "Normal":
        raise fail("InvalidEIPStatus.BizDisabled")


def require_status(eip: dict, *statuses: str) -> None:
    """Refuse an EIP in another status, transient ones included -> IncorrectEipStatus."""
    if eip["Status"] not in statuses:
        raise fail("IncorrectEipStatus")


def eip_view(eip: dict) -> dict:
    """The DescribeEipAddresses entry of an EIP: the documented fields only, with the SDK model's types."""
    return {
        "AllocationId": eip["AllocationId"],
        "IpAddress": eip["IpAddress"],
        "Status": eip["Status"],
        "RegionId": eip["RegionId"],
        "InstanceId": eip["InstanceId"],
        "InstanceType": eip["InstanceType"],
        "InstanceRegionId": eip["InstanceRegionId"],
        "Mode": eip["Mode"],
        "PrivateIpAddress": eip["PrivateIpAddress"],
        "VpcId": eip["VpcId"],
        # The SDK model types these as str, although the doc sample shows numbers (UNCONFIRMED).
        # [fid:eip-bandwidth-string]
        "Bandwidth": str(eip["Bandwidth"]),
        "EipBandwidth": str(eip["Bandwidth"]),
        "InternetChargeType": eip["InternetChargeType"],
        "ChargeType": eip["ChargeType"],
        "Netmode": eip["Netmode"],
        "ISP": eip["ISP"],
        "Name": eip["Name"],
        "Description": eip["Description"],
        "AllocationTime": eip["AllocationTime"],
        "ExpiredTime": eip["ExpiredTime"],
        "ResourceGroupId": eip["ResourceGroupId"],
        "BandwidthPackageId": "",
        "BandwidthPackageBandwidth": "",
        "BandwidthPackageType": "",
        "BusinessStatus": eip["BusinessStatus"],
        "DeletionProtection": bool(eip["DeletionProtection"]),
        "SecondLimited": False,
        "HDMonitorStatus": "false",
        "HasReservationData": "false",
        "ServiceManaged": 1 if eip.get("ServiceManaged") else 0,
        "Zone": "",
        "BizType": "Default",
        "SegmentInstanceId": "",
        "PublicIpAddressPoolId": "",
        "OperationLocks": {"LockReason": [{"LockReason": reason} for reason in eip.get("OperationLocks") or []]},
        "Tags": {"Tag": [{"Key": key, "Value": str(value)} for key, value in sorted(eip["Tags"].items())]},
        "SecurityProtectionTypes": {"SecurityProtectionType": list(eip.get("SecurityProtectionTypes") or [])},
    }


# ---- association side effects (the bookkeeping itself lives in ``..bindings``) -----------------------------------
def detach_from_nat_entries(state: dict, unbinding: Unbinding) -> None:
    """Force=true: take the address out of the gateway's SNAT entries (dropping emptied ones) and DNAT list.

    UNCONFIRMED: the API only says Force disassociates "from a NAT gateway that has DNAT/SNAT entries"; the
    [fid:eip-force-nat-entries]
    emulator removes the address from those entries so that no entry points at an address the gateway lost.
    """
    address = unbinding.eip["IpAddress"]
    for entry in unbinding.snat_entries():
        remaining = [item.strip() for item in entry["SnatIp"].split(",") if item.strip() and item.strip() != address]
        if remaining:
            entry["SnatIp"] = ",".join(remaining)
        else:
            del state["snat_entries"][entry["SnatEntryId"]]
    holder = unbinding.holder
    if holder is not None and address in holder.get("DnatIps", []):
        holder["DnatIps"].remove(address)


@transition("eip.associated")
def _associated(store: Store, payload: dict) -> None:
    eip = store.data["eips"].get(payload["AllocationId"])
    if eip is not None and eip["Status"] == "Associating":
        eip["Status"] = "InUse"


@transition("eip.unassociated")
def _unassociated(store: Store, payload: dict) -> None:
    eip = store.data["eips"].get(payload["AllocationId"])
    if eip is not None and eip["Status"] == "Unassociating":
        clear_association(store.data, eip)


@transition("eip.released")
def _released(store: Store, payload: dict) -> None:
    eip = store.data["eips"].get(payload["AllocationId"])
    if eip is None or eip["Status"] != "Releasing":
        return
    del store.data["eips"][eip["AllocationId"]]
    # The address is not returned to the pool: it stays the account's to recover for 7 days.
    store.data["released_eips"].append(
        {
            "AllocationId": eip["AllocationId"],
            "IpAddress": eip["IpAddress"],
            "RegionId": eip["RegionId"],
            # When the release completed, even if the clock jumped past it in one advance.
            "ReleaseTime": float(payload.get("ReleaseTime", store.now())),
        }
    )


# ---- parameter validation ------------------------------------------------------------------------------------
def bandwidth_limit(charge_type: str, internet_charge_type: str) -> int:
    """Largest Bandwidth (Mbit/s): PrePaid 1000; PostPaid PayByBandwidth 500, PayByTraffic 200."""
    if charge_type == "PrePaid":
        return 1000
    return 500 if internet_charge_type == "PayByBandwidth" else 200


def parse_bandwidth(ctx: Context, charge_type: str, internet_charge_type: str, default: int | None) -> int | None:
    """Bandwidth: not a number -> InvalidBandwidth.Malformed; out of range -> InvalidParameter."""
    raw = ctx.params.str("Bandwidth")
    if raw is None:
        return default
    try:
        bandwidth = int(raw)
    except ValueError:
        raise fail("InvalidBandwidth.Malformed") from None
    if not 1 <= bandwidth <= bandwidth_limit(charge_type, internet_charge_type):
        raise ApiError("InvalidParameter", message='Specified value of "Bandwidth" is not valid.')
    return bandwidth


def parse_internet_charge_type(ctx: Context, default: str) -> str:
    """InternetChargeType: PayByBandwidth or PayByTraffic."""
    value = ctx.params.str("InternetChargeType", default=default)
    if value not in ("PayByBandwidth", "PayByTraffic"):
        raise ApiError("InvalidParameter", message='Specified value of "InternetChargeType" is not valid.')
    return value


def _is_url(text: str) -> bool:
    return text.startswith(("http://", "https://"))


def check_name(name: str | None) -> None:
    """Name: 1-128 characters, not a URL."""
    if name is not None and (len(name) > 128 or _is_url(name)):
        raise ApiError("InvalidParameter", "Name")


def check_description(description: str | None) -> None:
    """Description: 2-256 characters, starts with a letter, not a URL."""
    if description is not None and (
        not 2 <= len(description) <= 256 or not description[0].isalpha() or _is_url(description)
    ):
        raise ApiError("InvalidParameter", "Description")


def _bad_tag_text(text: str) -> bool:
    return len(text) > 128 or "http://" in text or "https://" in text


def parse_tags(pairs: list[dict], key_only: bool = False) -> list[tuple[str, str | None]]:
    """Validate ``Tag.N.Key/Value`` pairs (at most 20, keys unique, no aliyun/acs: prefix, 128 characters)."""
    if len(pairs) > MAX_TAGS:
        raise fail("SizeLimitExceeded.TagNum")
    seen: set[str] = set()
    result: list[tuple[str, str | None]] = []
    for pair in pairs:
        key = pair.get("Key") or ""
        value = pair.get("Value")
        if not key or _bad_tag_text(key):
            raise fail("InvalidTagKey")
        if key.startswith(("aliyun", "acs:")) and not key_only:
            raise fail("Forbidden.TagKeys")
        if value is not None and (_bad_tag_text(value) or value.startswith(("aliyun", "acs:"))):
            raise fail("InvalidTagValue")
        if key in seen:
            raise fail("Forbidden.TagKey.Duplicated")
        seen.add(key)
        result.append((key, value if value is not None or key_only else ""))
    return result


def tags_match(resource: dict, wanted: list[tuple[str, str | None]]) -> bool:
    """Every wanted tag is on the resource; a tag given by key alone matches any value."""
    tags = resource.get("Tags") or {}
    return all(key in tags and (value is None or str(tags[key]) == value) for key, value in wanted)


# ---- AllocateEipAddress / AllocateEipAddressPro --------------------------------------------------------------
def check_purchase_rate(ctx: Context) -> None:
    """World ``purchase_limit_per_minute``: more allocations within 60 s of emulated time -> FrequentPurchase.EIP."""
    limit = ctx.state.get("purchase_limit_per_minute")
    now = ctx.store.now()
    recent = [moment for moment in ctx.state.get("eip_purchases", []) if now - moment < PURCHASE_WINDOW]
    ctx.state["eip_purchases"] = recent
    if limit is not None and len(recent) >= int(limit):
        raise fail("FrequentPurchase.EIP")


def check_quota(ctx: Context, region: str) -> None:
    """World ``eip_quota`` EIPs per region -> QuotaExceeded.Eip."""
    if len(ctx.store.in_region("eips", region)) >= int(ctx.state["eip_quota"]):
        raise fail("QuotaExceeded.Eip")


def take_from_pool(ctx: Context, region: str, allocation_id: str) -> str:
    """A pseudo-random free address of the region's pool, derived from the new ID so runs are repeatable."""
    pool = ctx.state["eip_pool"].get(region) or []
    if not pool:
        raise fail("ReserveIpFail")
    index = int(hashlib.sha1(allocation_id.encode()).hexdigest(), 16) % len(pool)
    return pool.pop(index)


def recover_released(ctx: Context, region: str, address: str | None, allocation_id: str | None) -> tuple[str, str]:
    """Recover an EIP this account released within 7 days; returns (allocation ID, address).

    Recovery by InstanceId keeps that allocation ID.  Recovery by IpAddress alone gets a new allocation ID
    (UNCONFIRMED; the research notes lean that way, and it makes a client read the ID from the response
    [fid:eip-recover-address-new-id]
    instead of assuming the old one).
    """
    state = ctx.state
    if address is not None:
        try:
            address = str(ipaddress.IPv4Address(address))
        except ValueError:
            raise fail("IllegalParam.IpAddress", address) from None
        if any(eip["IpAddress"] == address for eip in state["eips"].values()):
            raise fail("Ip.Allocated")
        if address in state["foreign_ips"]:
            raise fail("OperationDenied.IpBelongToOtherUser")
    if allocation_id is not None and allocation_id in state["eips"]:
        raise fail("Ip.Allocated")
    now = ctx.store.now()
    candidates = [
        record
        for record in state["released_eips"]
        if record["RegionId"] == region
        and (address is None or record["IpAddress"] == address)
        and (allocation_id is None or record["AllocationId"] == allocation_id)
        and now - float(record["ReleaseTime"]) <= RECOVERY_WINDOW
    ]
    if not candidates:
        raise fail("OperationFailed.AllocateUnfamiliarIp")
    month = ctx.store.now_iso()[:7]
    recoveries = state["monthly_recoveries"]
    # UNCONFIRMED code for the documented 20-recoveries-a-month limit ("submit a ticket" beyond it).
    # [fid:eip-recover-monthly-limit-code]
    if recoveries.get(month, 0) >= int(state["recovery_limit"]):
        raise fail("OperationFailed.ResourceNotEnough")
    record = max(candidates, key=lambda entry: float(entry["ReleaseTime"]))
    state["released_eips"].remove(record)
    recoveries[month] = recoveries.get(month, 0) + 1
    new_id = record["AllocationId"] if allocation_id is not None else ctx.store.new_id("eip")
    return new_id, record["IpAddress"]


def expiry(ctx: Context, period: int, cycle: str) -> str:
    """ExpiredTime of a subscription: a month counts 30 days, a year 365."""
    days = period * (365 if cycle == "Year" else 30)
    return iso(ctx.store.now() + days * DAY)


def allocate(ctx: Context, pro: bool) -> dict:
    """Shared body of AllocateEipAddress and AllocateEipAddressPro."""
    params = ctx.params
    region = ctx.region()
    address = params.str("IpAddress")
    recover_id = params.str("InstanceId")
    recovering = address is not None or recover_id is not None
    charge_type = params.str("InstanceChargeType", default="PostPaid", choices=("PostPaid", "PrePaid"))
    # A recovered EIP defaults to pay-by-data-transfer, 5 Mbit/s (EIPDOCS "Recover a released EIP").
    internet = parse_internet_charge_type(ctx, "PayByTraffic" if recovering else "PayByBandwidth")
    if charge_type == "PrePaid" and internet != "PayByBandwidth":
        raise ApiError("InvalidParameter", message='Specified value of "InternetChargeType" is not valid.')
    bandwidth = parse_bandwidth(ctx, charge_type, internet, default=5)
    expired = ""
    if charge_type == "PrePaid":
        cycle = params.str("PricingCycle", default="Month", choices=("Month", "Year"))
        longest = 9 if cycle == "Month" else (3 if pro else 5)
        expired = expiry(ctx, params.int("Period", required=True, minimum=1, maximum=longest), cycle)
    isp = params.str("ISP", default="BGP")
    if isp not in ISPS:
        raise fail("IllegalParam.Isp", isp)
    params.str("Netmode", choices=("public",))
    params.bool("AutoPay")
    name = None if pro else params.str("Name")
    description = None if pro else params.str("Description")
    check_name(name)
    check_description(description)
    protection = params.indexed("SecurityProtectionTypes", maximum=10)
    if any(kind != "AntiDDoS_Enhanced" for kind in protection):
        raise ApiError("InvalidParameter", "SecurityProtectionTypes")
    if params.str("PublicIpAddressPoolId"):
        raise fail("ResourceNotFound.PublicIpAddressPool")
    tags = parse_tags(params.objects("Tag"))
    resource_group = params.str("ResourceGroupId", default=DEFAULT_RESOURCE_GROUP)

    check_purchase_rate(ctx)
    check_quota(ctx, region)
    if recovering:
        allocation_id, address = recover_released(ctx, region, address, recover_id)
    else:
        allocation_id = ctx.store.new_id("eip")
        address = take_from_pool(ctx, region, allocation_id)
    ctx.state["eips"][allocation_id] = {
        "AllocationId": allocation_id,
        "IpAddress": address,
        "RegionId": region,
        **UNBOUND,
        "Bandwidth": str(bandwidth),
        "InternetChargeType": internet,
        "ChargeType": charge_type,
        "Netmode": "public",
        "ISP": isp,
        "Name": name or "",
        "Description": description or "",
        "AllocationTime": ctx.store.now_iso(),
        "ExpiredTime": expired,
        "BusinessStatus": "Normal",
        "DeletionProtection": False,
        "ResourceGroupId": resource_group,
        "Tags": dict(tags),
        "OperationLocks": [],
        "SecurityProtectionTypes": protection,
    }
    ctx.state.setdefault("eip_purchases", []).append(ctx.store.now())
    if charge_type == "PrePaid":
        # EipAddress and ResourceGroupId are returned for pay-as-you-go only, OrderId for subscriptions only.
        return {"AllocationId": allocation_id, "OrderId": 20190000 + ctx.state["sequence"]}
    return {"AllocationId": allocation_id, "EipAddress": address, "ResourceGroupId": resource_group}


@action(VPC, "AllocateEipAddress", mutating=True)
def allocate_eip_address(ctx: Context) -> dict:
    return allocate(ctx, pro=False)


@action(VPC, "AllocateEipAddressPro", mutating=True)
def allocate_eip_address_pro(ctx: Context) -> dict:
    return allocate(ctx, pro=True)


# ---- ReleaseEipAddress / ModifyEipAddressAttribute -----------------------------------------------------------
@action(VPC, "ReleaseEipAddress", mutating=True)
def release_eip_address(ctx: Context) -> dict:
    region = ctx.region(required=False)
    eip = find_eip(ctx.state, ctx.params.str("AllocationId", required=True), region)
    require_status(eip, "Available")
    if eip["ChargeType"] == "PrePaid":
        raise fail("Forbidden.ChargeTypeIsPrepaid")
    if eip["DeletionProtection"]:
        raise fail("InvalidOperation.DeletionProtection")
    eip["Status"] = "Releasing"
    done = ctx.store.now() + float(ctx.state["delays"].get("eip_release", 0.0))
    ctx.store.schedule("eip.released", "eip_release", {"AllocationId": eip["AllocationId"], "ReleaseTime": done})
    return {}


@action(VPC, "ModifyEipAddressAttribute", mutating=True)
def modify_eip_address_attribute(ctx: Context) -> dict:
    region = ctx.region(required=False)
    eip = find_eip(ctx.state, ctx.params.str("AllocationId", required=True), region)
    require_status(eip, "Available", "InUse")
    bandwidth = parse_bandwidth(ctx, eip["ChargeType"], eip["InternetChargeType"], default=None)
    name = ctx.params.str("Name")
    description = ctx.params.str("Description")
    check_name(name)
    check_description(description)
    if bandwidth is not None:
        eip["Bandwidth"] = str(bandwidth)
    if name is not None:
        eip["Name"] = name
    if description is not None:
        eip["Description"] = description
    return {}


# ---- DescribeEipAddresses ------------------------------------------------------------------------------------
def _filter_time(value: str) -> str:
    """A Filter.N.Value (``YYYY-MM-DDThh:mmZ``) as a comparable ISO string -> InvalidFilterValue."""
    try:
        moment = datetime.datetime.strptime(value, "%Y-%m-%dT%H:%MZ")
    except (TypeError, ValueError):
        raise fail("InvalidFilterValue") from None
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def describe_filters(ctx: Context) -> list:
    """The request's filters as predicates over EIP records (parameter errors are raised here)."""
    params = ctx.params
    checks = []
    for name, field in (("AllocationId", "AllocationId"), ("EipAddress", "IpAddress")):
        wanted = params.comma_list(name)
        if len(wanted) > 50:
            raise fail("InstanceIdLength.Exceed")
        if wanted:
            checks.append(lambda eip, field=field, wanted=set(wanted): eip[field] in wanted)
    status = params.str("Status")
    if status is not None:
        if status not in STATUSES:
            raise ApiError("InvalidParameter", "Status")
        checks.append(lambda eip: eip["Status"] == status)
    associated_type = params.str("AssociatedInstanceType")
    associated_id = params.str("AssociatedInstanceId")
    if associated_type is not None and associated_type not in INSTANCE_TYPES:
        raise fail("InvalidIAssociatedInstanceType.ValueNotSupported")
    if associated_id is not None:
        # UNCONFIRMED: the documented default of AssociatedInstanceType (EcsInstance) applies to an ID given
        # [fid:eip-describe-associated-type-default]
        # alone, so looking up an ENI's EIP needs AssociatedInstanceType=NetworkInterface.
        associated_type = associated_type or "EcsInstance"
        checks.append(lambda eip: eip["InstanceId"] == associated_id)
    if associated_type is not None:
        checks.append(lambda eip: eip["InstanceType"] == associated_type)
    charge_type = params.str("ChargeType")
    if charge_type is not None and charge_type not in ("PostPaid", "PrePaid"):
        raise fail("InvalidChargeType.ValueNotSupported")
    lock_reason = params.str("LockReason")
    if lock_reason is not None and lock_reason not in ("financial", "security"):
        raise fail("InvalidLockReason.NotFound")
    for name, field in (
        ("EipName", "Name"),
        ("ISP", "ISP"),
        ("ChargeType", "ChargeType"),
        ("ResourceGroupId", "ResourceGroupId"),
    ):
        value = params.str(name)
        if value is not None:
            checks.append(lambda eip, field=field, value=value: eip[field] == value)
    if lock_reason is not None:
        checks.append(lambda eip: lock_reason in (eip.get("OperationLocks") or []))
    for name in ("SegmentInstanceId", "PublicIpAddressPoolId"):
        if params.str(name) is not None:
            # Neither contiguous EIP groups nor IP address pools are modelled: nothing belongs to one.
            checks.append(lambda eip: False)
    protected = params.bool("SecurityProtectionEnabled")
    if protected is not None:
        checks.append(lambda eip: bool(eip.get("SecurityProtectionTypes")) == protected)
    params.bool("IncludeReservationData")
    params.bool("ServiceManaged")
    tags = parse_tags(params.objects("Tag"), key_only=True)
    if tags:
        checks.append(lambda eip: tags_match(eip, tags))
    for entry in params.objects("Filter"):
        key = entry.get("Key")
        if key == "CreationStartTime":
            start = _filter_time(entry.get("Value"))
            checks.append(lambda eip, start=start: eip["AllocationTime"] >= start)
        elif key == "CreationEndTime":
            end = _filter_time(entry.get("Value"))
            checks.append(lambda eip, end=end: eip["AllocationTime"] <= end)
        else:
            raise fail("InvalidFilterKey.NotFound")
    return checks


@action(VPC, "DescribeEipAddresses")
def describe_eip_addresses(ctx: Context) -> dict:
    region = ctx.region()
    checks = describe_filters(ctx)
    if ctx.params.bool("DryRun"):
        raise fail("DryRunOperation")
    # Unknown allocation IDs simply match nothing: an empty list, not an error (UNCONFIRMED, TF-inferred).
    # [fid:eip-describe-unknown-id-empty]
    eips = [eip for eip in ctx.store.in_region("eips", region) if all(check(eip) for check in checks)]
    # Newest first, then by ID, so that pages are stable.
    eips.sort(key=lambda eip: eip["AllocationId"])
    eips.sort(key=lambda eip: eip["AllocationTime"], reverse=True)
    page, envelope = paginate(eips, ctx.params, default_size=10, max_size=100)
    return {**envelope, "EipAddresses": {"EipAddress": [eip_view(eip) for eip in page]}}


# ---- AssociateEipAddress / UnassociateEipAddress / ModifyEipForwardMode ----------------------------------------
def check_instance_region(ctx: Context, region: str) -> None:
    """InstanceRegionId (Global Accelerator only): a known region, the EIP's own."""
    instance_region = ctx.params.str("InstanceRegionId")
    if instance_region is None:
        return
    if instance_region not in ctx.state["regions"]:
        raise fail("InvalidRegionId.NotFound")
    if instance_region != region:
        raise fail("InvalidParameter.Mismatch")


@action(VPC, "AssociateEipAddress", mutating=True)
def associate_eip_address(ctx: Context) -> dict:
    params = ctx.params
    region = ctx.region()
    allocation_id = params.str("AllocationId", required=True)
    instance_id = params.str("InstanceId", required=True)
    instance_type = params.str("InstanceType", default="EcsInstance")
    mode = params.str("Mode", default="NAT")
    if instance_type not in INSTANCE_TYPES:
        raise fail("InvalidInstanceType.ValueNotSupported")
    if mode not in MODES:
        raise fail("IllegalParam.Mode", mode)
    eip = find_eip(ctx.state, allocation_id, region)
    check_unlocked(eip)
    # An EIP already InUse (with this target or another) is refused like any non-Available one (UNCONFIRMED).
    # [fid:eip-assoc-inuse-code]
    require_status(eip, "Available")
    check_instance_region(ctx, region)
    binding = Binding(
        ctx.state,
        eip,
        instance_type=instance_type,
        instance_id=instance_id,
        mode=mode,
        private_ip=params.str("PrivateIpAddress"),
        vpc_id=params.str("VpcId"),
    )
    check_association(binding)
    record_association(binding, "Associating")
    ctx.store.schedule("eip.associated", "eip_associate", {"AllocationId": allocation_id})
    return {}


@action(VPC, "UnassociateEipAddress", mutating=True)
def unassociate_eip_address(ctx: Context) -> dict:
    params = ctx.params
    region = ctx.region(required=False)
    eip = find_eip(ctx.state, params.str("AllocationId", required=True), region)
    instance_type = params.str("InstanceType")
    if instance_type is not None and instance_type not in INSTANCE_TYPES:
        raise fail("InvalidInstanceType.ValueNotSupported")
    check_unlocked(eip)
    require_status(eip, "InUse")
    if eip.get("ServiceManaged"):
        # A load balancer's zone EIP comes off through the load balancer's API (UNCONFIRMED code).
        # [fid:lb-eip-service-managed]
        raise fail("IncorrectEipStatus")
    unbinding = Unbinding(
        ctx.state,
        eip,
        instance_id=params.str("InstanceId"),
        instance_type=instance_type,
        private_ip=params.str("PrivateIpAddress"),
        force=bool(params.bool("Force", default=False)),
    )
    check_unassociation(unbinding)
    if unbinding.force:
        detach_from_nat_entries(ctx.state, unbinding)
    eip["Status"] = "Unassociating"
    ctx.store.schedule("eip.unassociated", "eip_unassociate", {"AllocationId": eip["AllocationId"]})
    return {}


@action(VPC, "ModifyEipForwardMode", mutating=True)
def modify_eip_forward_mode(ctx: Context) -> dict:
    """Change the mode of a bound EIP; the new mode must pass the association rules (synchronous, UNCONFIRMED)."""
    # [fid:eip-forward-mode-sync]
    params = ctx.params
    region = ctx.region()
    eip = find_eip(ctx.state, params.str("InstanceId", required=True), region)
    mode = params.str("Mode", required=True)
    if mode not in MODES:
        raise fail("IllegalParam.Mode", mode)
    check_unlocked(eip)
    require_status(eip, "InUse")
    if mode == eip["Mode"]:
        return {}
    private_ip = eip["PrivateIpAddress"] or None
    eni = ctx.state["enis"].get(eip["InstanceId"]) if eip["InstanceType"] == "NetworkInterface" else None
    if mode == "NAT" and private_ip is None and eni is not None:
        # NAT mode maps the EIP to one private IP: a MULTI_BINDED EIP without one takes the primary IP.
        private_ip = primary_ip(eni)
    binding = Binding(
        ctx.state,
        eip,
        instance_type=eip["InstanceType"],
        instance_id=eip["InstanceId"],
        mode=mode,
        private_ip=private_ip,
        vpc_id=eip["VpcId"],
    )
    check_association(binding)
    record_association(binding, "InUse")
    return {}


# ---- DescribeEipGatewayInfo ----------------------------------------------------------------------------------
@action(VPC, "DescribeEipGatewayInfo")
def describe_eip_gateway_info(ctx: Context) -> dict:
    region = ctx.region()
    eni_id = ctx.params.str("InstanceId", required=True)
    eni = ctx.state["enis"].get(eni_id)
    if eni is None or eni["RegionId"] != region:
        # The only documented error; an ENI the caller cannot see is "not authorized" (UNCONFIRMED).
        # [fid:eip-gateway-info]
        raise fail("Forbbiden")
    bound = [
        eip
        for eip in ctx.state["eips"].values()
        if eip["InstanceType"] == "NetworkInterface"
        and eip["InstanceId"] == eni_id
        and eip["Mode"] == "MULTI_BINDED"
        and eip["Status"] == "InUse"
    ]
    infos = [gateway_info(eip) for eip in sorted(bound, key=lambda eip: eip["IpAddress"])]
    return {"Code": "200", "Message": "successful", "EipInfos": {"EipInfo": infos}}


# ---- TagResources / UnTagResources / ListTagResources --------------------------------------------------------
def tag_collection(ctx: Context) -> tuple[str, str, str]:
    """(ResourceType as answered, state collection, ID field) of the request's case-insensitive ResourceType."""
    resource_type = ctx.params.str("ResourceType", required=True).upper()
    if resource_type not in TAGGABLE:
        raise fail("InvalidInstanceType.NotFound")
    collection, id_field = TAGGABLE[resource_type]
    return resource_type, collection, id_field


def tag_resources_named(ctx: Context, region: str, collection: str, required: bool) -> list[dict]:
    """The resources of ``ResourceId.N`` (at most 50); an unknown one -> InvalidInstanceIds.NotFound."""
    ids = ctx.params.indexed("ResourceId")
    if len(ids) > MAX_TAG_RESOURCES:
        raise fail("SizeLimitExceeded.ResourceId")
    if required and not ids:
        raise ApiError("MissingParameter", "ResourceId.N")
    resources = []
    for resource_id in ids:
        resource = ctx.state[collection].get(resource_id)
        if resource is None or resource["RegionId"] != region:
            raise fail("InvalidInstanceIds.NotFound")
        resources.append(resource)
    return resources


@action(VPC, "TagResources", mutating=True)
def tag_resources(ctx: Context) -> dict:
    region = ctx.region()
    collection = tag_collection(ctx)[1]
    resources = tag_resources_named(ctx, region, collection, required=True)
    tags = parse_tags(ctx.params.objects("Tag"))
    if not tags:
        raise ApiError("MissingParameter", "Tag.N")
    for resource in resources:
        merged = {**resource.setdefault("Tags", {}), **dict(tags)}
        if len(merged) > MAX_TAGS:
            raise fail("QuotaExceeded.TagNum")
    for resource in resources:
        resource["Tags"].update(dict(tags))
    return {}


@action(VPC, "UnTagResources", mutating=True)
def untag_resources(ctx: Context) -> dict:
    region = ctx.region()
    collection = tag_collection(ctx)[1]
    resources = tag_resources_named(ctx, region, collection, required=True)
    keys = ctx.params.indexed("TagKey")
    if len(keys) > MAX_TAGS:
        raise fail("SizeLimitExceeded.TagNum")
    remove_all = bool(ctx.params.bool("All", default=False))
    for resource in resources:
        tags = resource.setdefault("Tags", {})
        for key in list(tags) if remove_all else keys:
            tags.pop(key, None)
    return {}


def _decode_token(token: str | None) -> int:
    """The offset hidden in a NextToken -> InvalidParameter when it was not one of ours."""
    if not token:
        return 0
    try:
        return int(base64.urlsafe_b64decode(token.encode()).decode().split(":", 1)[1])
    except (ValueError, IndexError, UnicodeDecodeError):
        raise ApiError("InvalidParameter", "NextToken") from None


@action(VPC, "ListTagResources")
def list_tag_resources(ctx: Context) -> dict:
    region = ctx.region()
    resource_type, collection, id_field = tag_collection(ctx)
    named = tag_resources_named(ctx, region, collection, required=False)
    wanted = parse_tags(ctx.params.objects("Tag"), key_only=True)
    if not named and not wanted:
        raise fail("BothEmpty.TagsAndResources")
    max_results = ctx.params.int("MaxResults", default=50, minimum=1, maximum=50)
    offset = _decode_token(ctx.params.str("NextToken"))
    resources = named or [item for item in ctx.state[collection].values() if item["RegionId"] == region]
    rows = [
        {"ResourceId": resource[id_field], "ResourceType": resource_type, "TagKey": key, "TagValue": str(value)}
        for resource in sorted(resources, key=lambda item: item[id_field])
        if tags_match(resource, wanted)
        for key, value in sorted(resource.get("Tags", {}).items())
    ]
    page = rows[offset : offset + max_results]
    more = offset + max_results < len(rows)
    token = base64.urlsafe_b64encode(f"tags:{offset + max_results}".encode()).decode() if more else ""
    return {"NextToken": token, "TagResources": {"TagResource": page}}
