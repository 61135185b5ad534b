# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note: this module util is PRIVATE to the collection. It can change at any time; do not use it from
# other collections or standalone plugins/modules.

"""Decision logic of the snat_entry module: validate -> observe -> plan -> apply.

``validate_request`` and ``plan_entry`` are pure (no API call), so every decision is unit-tested with
plain dicts.  ``wait_for_entries`` polls one SNAT table with one DescribeSnatTableEntries per round
(every entry of the table comes back in that call), on a growing interval bounded by ``wait_timeout``.

Rules applied before any mutating call (alibaba-api.md §7.2-7.4 and the NAT Gateway docs):

- a SNAT entry is keyed by its table and its source: a vSwitch (``SourceVSwitchId``) or a CIDR block
  (``SourceCIDR``; one ECS instance is its private IP as a /32).  Each vSwitch or CIDR can be the source of
  one entry only; overlapping CIDRs are allowed (the longest prefix wins), identical ones are not;
- every SNAT IP must be an EIP associated with the entry's NAT gateway (``InvalidSnatIp.NotFound``);
- no SNAT entry may have a vSwitch that holds a HaVip as its source (``Forbidden.SourceVSwitchId.IncludeHaVip``;
  the HaVips of the vSwitch are one DescribeHaVips away, so the module asks before its create call);
- ModifySnatEntry changes the SNAT IPs and the name; the source cannot change;
- entries in ``Pending`` cannot be modified or deleted, and a ``Deleting`` entry still holds its source,
  so the module waits for either to settle before acting.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.alicloud.eip.plugins.module_utils._api.vpc_network import describe_snat_entries
from ansible_collections.alicloud.eip.plugins.module_utils._polling import WaitPolicy, Watch, wait_until
from ansible_collections.alicloud.eip.plugins.module_utils._util import DifferenceTracker
from ansible_collections.alicloud.eip.plugins.module_utils._util import InputError

TRANSIENT_STATUSES = ("Pending", "Deleting")
GONE = "gone"
AVAILABLE = "Available"


class PlanError(Exception):
    """A request the cloud would refuse, found before any mutating call (same message in check mode)."""

    def __init__(self, message: str, code: str | None = None):
        super().__init__(message)
        self.code = code

    def as_dict(self) -> dict[str, Any]:
        """The predicted API error, under ``error`` in the module result."""
        return {"code": self.code, "message": str(self), "request_id": None, "predicted": True}


@dataclass(frozen=True)
class DesiredEntry:
    """What the user asked for, validated and normalized."""

    nat_gateway_id: str
    state: str
    snat_table_id: str | None = None
    source_vswitch_id: str = ""
    source_cidr: str = ""
    snat_ips: tuple[str, ...] = ()
    name: str | None = None

    @property
    def source_label(self) -> str:
        """``vSwitch vsw-x`` or ``CIDR 10.0.0.5/32``, for messages."""
        return f"vSwitch {self.source_vswitch_id}" if self.source_vswitch_id else f"CIDR {self.source_cidr}"


def _valid_name(name: str) -> bool:
    """SnatEntryName: 2-128 characters, starting with a letter (or Chinese character), not with http(s)://."""
    return 2 <= len(name) <= 128 and name[0].isalpha() and not name.startswith(("http://", "https://"))


def normalize_cidr(text: str) -> str:
    """A source CIDR in canonical form; a bare address means that one address (/32)."""
    try:
        network = ipaddress.IPv4Network(text.strip(), strict=True)
    except ValueError as error:
        hint = ""
        try:
            loose = ipaddress.IPv4Network(text.strip(), strict=False)
            address = text.strip().split("/")[0]
            hint = f"; did you mean {loose} (the block) or {address}/32 (one instance)?"
        except ValueError:
            pass
        raise InputError(f"source_cidr: {text!r} is not an IPv4 CIDR block ({error}){hint}") from None
    return str(network)


def validate_request(params: Mapping[str, Any]) -> DesiredEntry:
    """The module options as a :class:`DesiredEntry`; raises :class:`InputError` for bad input."""
    gateway_id = (params.get("nat_gateway_id") or "").strip()
    if not gateway_id:
        raise InputError("nat_gateway_id is required")
    vswitch_id = (params.get("source_vswitch_id") or "").strip()
    cidr_text = (params.get("source_cidr") or "").strip()
    if vswitch_id and cidr_text:
        raise InputError("give exactly one of source_vswitch_id and source_cidr, not both")
    if not vswitch_id and not cidr_text:
        raise InputError(
            "give one of source_vswitch_id and source_cidr (for one ECS instance: its private IP as <ip>/32)"
        )
    cidr = normalize_cidr(cidr_text) if cidr_text else ""
    state = params.get("state") or "present"
    addresses: list[str] = []
    for raw in params.get("snat_ips") or []:
        try:
            address = str(ipaddress.IPv4Address(str(raw).strip()))
        except ValueError:
            raise InputError(f"snat_ips: {raw!r} is not an IPv4 address (give the EIPs' public addresses)") from None
        if address not in addresses:
            addresses.append(address)
    if state == "present" and not addresses:
        raise InputError("snat_ips is required with state=present: the EIP addresses the source translates to")
    name = params.get("name")
    if name is not None and not _valid_name(name):
        raise InputError(
            f"name: {name!r} is not a valid SNAT entry name (2-128 characters, starting with a letter, "
            "not with http:// or https://)"
        )
    return DesiredEntry(
        nat_gateway_id=gateway_id,
        state=state,
        snat_table_id=(params.get("snat_table_id") or "").strip() or None,
        source_vswitch_id=vswitch_id,
        source_cidr=cidr,
        snat_ips=tuple(addresses),
        name=name,
    )


def choose_table(desired: DesiredEntry, gateway: dict[str, Any] | None, region: str | None = None) -> str:
    """The SNAT table of the entry: ``snat_table_id`` if it belongs to the gateway, else the gateway's first."""
    if gateway is None:
        where = f" in region {region}" if region else ""
        raise PlanError(
            f"NAT gateway {desired.nat_gateway_id} not found{where}; check nat_gateway_id and region "
            "(alicloud.eip.nat_gateway_info lists the gateways)",
            code="InvalidNatGatewayId.NotFound",
        )
    tables = list(gateway.get("snat_table_ids") or [])
    if desired.snat_table_id:
        if desired.snat_table_id not in tables:
            raise PlanError(
                f"SNAT table {desired.snat_table_id} does not belong to NAT gateway {gateway['id']} "
                f"(its SNAT tables: {', '.join(tables) or 'none'})",
                code="InvalidSnatTableId.NotFound",
            )
        return desired.snat_table_id
    if not tables:
        raise PlanError(
            f"NAT gateway {gateway['id']} has no SNAT table (a VPC NAT gateway or one still being created?)",
            code="InvalidSnatTableId.NotFound",
        )
    return tables[0]


def find_entry(desired: DesiredEntry, entries: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The entry of the table with the desired source, ignoring ones being deleted.

    A CIDR that is the source of a vSwitch entry (whose ``SourceCIDR`` is the vSwitch's block) cannot get an
    entry of its own: the API answers ``OperationUnsupported.CidrConflict``; say so now, naming the entry.
    """
    live = [entry for entry in entries if entry["status"] != "Deleting"]
    if desired.source_vswitch_id:
        matches = [entry for entry in live if entry["source_vswitch_id"] == desired.source_vswitch_id]
    else:
        matches = [
            entry for entry in live if entry["source_cidr"] == desired.source_cidr and not entry["network_interface_id"]
        ]
        held = [entry for entry in matches if entry["source_vswitch_id"]]
        if held and desired.state == "present":
            raise PlanError(
                f"CIDR {desired.source_cidr} is the source of SNAT entry {held[0]['id']}, the entry of vSwitch "
                f"{held[0]['source_vswitch_id']}; manage that entry with source_vswitch_id",
                code="OperationUnsupported.CidrConflict",
            )
        matches = [entry for entry in matches if not entry["source_vswitch_id"]]
    return matches[0] if matches else None


def entry_view(entry: dict[str, Any] | None) -> dict[str, Any]:
    """What the module manages of an entry, for the diff (SNAT IPs sorted: their order means nothing)."""
    if entry is None:
        return {}
    return {
        "source_vswitch_id": entry["source_vswitch_id"],
        "source_cidr": entry["source_cidr"],
        "snat_ips": sorted(entry["snat_ips"]),
        "name": entry["name"],
    }


@dataclass
class Plan:
    """The one call to make (``create``, ``modify``, ``delete``) or ``none``, and what the entry looks like after."""

    action: str
    snat_table_id: str
    entry: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    snat_ips: list[str] | None = None
    name: str | None = None
    diff: DifferenceTracker = field(default_factory=DifferenceTracker)

    @property
    def changed(self) -> bool:
        return self.action != "none"


def check_source_vswitch(vswitch_id: str, gateway: dict[str, Any], found: list[dict[str, Any]]) -> None:
    """Refuse a source vSwitch that does not exist or is not in the gateway's VPC (raises PlanError).

    CreateSnatEntry answers InvalidVSwitchId.NotFound for both (alibaba-api.md §7.2; that a vSwitch of another VPC
    gets the same code is the emulator's reading, UNCONFIRMED), so the prediction carries that code.
    [fid:snat-other-vpc-vswitch]
    """
    vpc_id = gateway.get("vpc_id") or ""
    vswitch = next((item for item in found if item.get("id") == vswitch_id), None)
    if vswitch is None:
        raise PlanError(
            f"source_vswitch_id: there is no vSwitch {vswitch_id} in this region (InvalidVSwitchId.NotFound); give a "
            f"vSwitch of the NAT gateway's VPC {vpc_id}, or the hosts' addresses as source_cidr",
            code="InvalidVSwitchId.NotFound",
        )
    if vpc_id and vswitch.get("vpc_id") != vpc_id:
        raise PlanError(
            f"source_vswitch_id: vSwitch {vswitch_id} is in VPC {vswitch.get('vpc_id')}, and NAT gateway "
            f"{gateway.get('id')} serves only VPC {vpc_id}, so the API would refuse the entry "
            f"(InvalidVSwitchId.NotFound); give a vSwitch of VPC {vpc_id}",
            code="InvalidVSwitchId.NotFound",
        )


def plan_entry(
    desired: DesiredEntry,
    gateway: dict[str, Any],
    snat_table_id: str,
    entries: list[dict[str, Any]],
    assumed_bound: tuple[str, ...] = (),
    source_havips: tuple[str, ...] = (),
    source_vswitches: list[dict[str, Any]] | None = None,
) -> Plan:
    """Decide the call that brings the entry of ``desired``'s source to the desired state (pure).

    ``assumed_bound``: addresses to count as EIPs of the gateway although the gateway does not list them (check
    mode of a play whose earlier task only predicted their association).  ``source_havips``: the HaVips in the
    source vSwitch; with any, a new entry for that vSwitch is refused as CreateSnatEntry would refuse it.
    ``source_vswitches``: what DescribeVSwitches answered for the source vSwitch of a new entry (``None``: not looked
    up); a vSwitch that does not exist, or is in another VPC than the gateway, is refused as CreateSnatEntry would
    refuse it (InvalidVSwitchId.NotFound).
    """
    entry = find_entry(desired, entries)
    if desired.state == "absent":
        plan = Plan("delete" if entry else "none", snat_table_id, entry=entry)
        plan.diff.add("snat_entry", entry_view(entry), {})
        return plan

    bound = [eip["ip_address"] for eip in gateway.get("eips") or []]
    missing = [address for address in desired.snat_ips if address not in bound and address not in assumed_bound]
    if missing:
        raise PlanError(
            f"SNAT IP {', '.join(missing)} is not an EIP associated with NAT gateway {gateway['id']} "
            f"(its EIPs: {', '.join(bound) or 'none'}); associate it first with alicloud.eip.eip_association",
            code="InvalidSnatIp.NotFound",
        )
    if entry is None and desired.source_vswitch_id and source_vswitches is not None:
        check_source_vswitch(desired.source_vswitch_id, gateway, source_vswitches)
    if entry is None and desired.source_vswitch_id and source_havips:
        raise PlanError(
            f"source_vswitch_id: vSwitch {desired.source_vswitch_id} holds HaVip {', '.join(source_havips)}, and the "
            "API refuses an SNAT entry whose source vSwitch holds a HaVip (Forbidden.SourceVSwitchId.IncludeHaVip); "
            "give the hosts' addresses as source_cidr instead (a /32 per instance), or delete the HaVip",
            code="Forbidden.SourceVSwitchId.IncludeHaVip",
        )
    if entry is None:
        after = {
            "id": "",
            "snat_table_id": snat_table_id,
            "nat_gateway_id": gateway["id"],
            "source_vswitch_id": desired.source_vswitch_id,
            # The API fills in a vSwitch's own block; unknown until the entry exists.
            "source_cidr": desired.source_cidr,
            "network_interface_id": "",
            "snat_ips": list(desired.snat_ips),
            "name": desired.name or "",
            "eip_affinity": False,
            "status": "",
        }
        plan = Plan("create", snat_table_id, after=after, snat_ips=list(desired.snat_ips), name=desired.name)
        plan.diff.add("snat_entry", {}, entry_view(after))
        return plan

    new_ips = None if set(entry["snat_ips"]) == set(desired.snat_ips) else list(desired.snat_ips)
    new_name = desired.name if desired.name is not None and desired.name != entry["name"] else None
    after = dict(entry)
    if new_ips is not None:
        after["snat_ips"] = new_ips
    if new_name is not None:
        after["name"] = new_name
    action = "modify" if new_ips is not None or new_name is not None else "none"
    plan = Plan(action, snat_table_id, entry=entry, after=after, snat_ips=new_ips, name=new_name)
    plan.diff.add("snat_entry", entry_view(entry), entry_view(after))
    return plan


def _entry_is_done(wanted: str, entry: dict[str, Any] | None) -> bool:
    return entry is None if wanted == GONE else entry is not None and entry["status"] == wanted


SNAT_WATCH = Watch(
    key="id",
    is_done=_entry_is_done,
    seen_text=lambda entry: entry["status"] if entry is not None else GONE,
    # An entry that is to become Available and is gone instead was refused by the cloud: no use waiting on.
    has_failed=lambda wanted, entry, _seen: wanted != GONE and entry is None,
    failure=lambda ids, wanted: "; ".join(
        f"SNAT entry {entry_id} disappeared while waiting for it to be {wanted[entry_id]}" for entry_id in ids
    ),
    subject="SNAT entry ",
)


def wait_for_entries(
    connection,
    snat_table_id: str,
    expectations: Mapping[str, str],
    timeout: float,
    policy: WaitPolicy | None = None,
    describe: Callable[..., list[dict[str, Any]]] = describe_snat_entries,
    poll_first: bool = False,
) -> dict[str, dict[str, Any] | None]:
    """Poll the table until each entry is ``Available`` (or ``gone``); returns the last record of each.

    One DescribeSnatTableEntries per round answers for every entry; the interval grows x1.5 from
    ``first_interval`` up to ``max_interval``, never past ``timeout``.  Raises :class:`WaitError` on timeout.
    """
    return wait_until(
        lambda _ids: describe(connection, snat_table_id),
        expectations,
        SNAT_WATCH,
        timeout,
        policy or WaitPolicy(),
        poll_first,
    )


def settle_entries(
    connection,
    snat_table_id: str,
    entries: list[dict[str, Any]],
    desired: DesiredEntry,
    timeout: float,
    policy: WaitPolicy | None = None,
    describe: Callable[..., list[dict[str, Any]]] = describe_snat_entries,
) -> list[dict[str, Any]]:
    """The table's entries once the entry of ``desired``'s source is no longer Pending or Deleting.

    The API refuses to modify or delete a Pending entry, and a Deleting one still holds its source, so
    deciding on a transient entry would only produce a failure; wait (bounded by ``timeout``) and re-read.
    """
    transient = {
        entry["id"]: (GONE if entry["status"] == "Deleting" else AVAILABLE)
        for entry in entries
        if entry["status"] in TRANSIENT_STATUSES
        and (
            (desired.source_vswitch_id and entry["source_vswitch_id"] == desired.source_vswitch_id)
            or (desired.source_cidr and entry["source_cidr"] == desired.source_cidr)
        )
    }
    if not transient:
        return entries
    wait_for_entries(connection, snat_table_id, transient, timeout, policy=policy, describe=describe)
    return describe(connection, snat_table_id)


@dataclass
class ApplyFunctions:
    """The API calls ``apply_plan`` makes (replaceable in unit tests)."""

    create: Callable[..., str]
    modify: Callable[..., str]
    delete: Callable[..., str]
    describe: Callable[..., list[dict[str, Any]]] = describe_snat_entries


def apply_plan(
    connection,
    plan: Plan,
    desired: DesiredEntry,
    wait: bool,
    timeout: float,
    functions: ApplyFunctions,
    policy: WaitPolicy | None = None,
) -> dict[str, Any]:
    """Make the plan's call and return the entry as it is afterwards (``{}`` once deleted).

    With ``wait`` the entry is polled until Available (or gone); without, it is read back once, so the
    result shows ``Pending`` / ``Deleting``.
    """
    table = plan.snat_table_id
    if plan.action == "create":
        entry_id = functions.create(
            connection,
            snat_table_id=table,
            snat_ips=plan.snat_ips or [],
            source_vswitch_id=desired.source_vswitch_id or None,
            source_cidr=desired.source_cidr or None,
            name=plan.name,
        )
    elif plan.action == "modify":
        entry_id = plan.entry["id"] if plan.entry else ""
        functions.modify(
            connection, snat_table_id=table, snat_entry_id=entry_id, snat_ips=plan.snat_ips, name=plan.name
        )
    elif plan.action == "delete":
        entry_id = plan.entry["id"] if plan.entry else ""
        functions.delete(connection, snat_table_id=table, snat_entry_id=entry_id)
    else:
        return plan.entry or {}
    expected = GONE if plan.action == "delete" else AVAILABLE
    if wait:
        latest = wait_for_entries(connection, table, {entry_id: expected}, timeout, policy, functions.describe)
        return latest.get(entry_id) or {}
    found = {entry["id"]: entry for entry in functions.describe(connection, table)}
    return found.get(entry_id) or {}
