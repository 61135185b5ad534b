# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note: this module util is PRIVATE to the collection. It can change at any time; do not use it from
# other collections or standalone plugins/modules.

"""The vocabulary the target kinds speak: type names, modes, documented limits, and what a check returns.

A check (``targets.py``) reads the described state through a :class:`Context` and returns a
:class:`Verdict`: refusals, the EIPs in the slot the new EIP takes, the private IP and mode to send,
and a limit to hold after replacements.  It never plans a step itself, so the planner (``plan.py``) and
the targets never import each other: both import this file.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

ECS = "EcsInstance"
ENI = "NetworkInterface"
NAT_GATEWAY = "Nat"
CLB = "SlbInstance"
HAVIP = "HaVip"
IP_ADDRESS = "IpAddress"
# Not InstanceTypes of AssociateEipAddress: ALB and NLB zones take EIPs through their own API (lb_zones.py).
ALB = "Alb"
NLB = "Nlb"

NAT_MODE = "NAT"
CUT_THROUGH = "BINDED"
MULTI_EIP_CUT_THROUGH = "MULTI_BINDED"
MODES = (NAT_MODE, CUT_THROUGH, MULTI_EIP_CUT_THROUGH)
MODE_LABELS = {
    NAT_MODE: "NAT mode",
    CUT_THROUGH: "cut-through mode (BINDED)",
    MULTI_EIP_CUT_THROUGH: "multi-EIP cut-through mode (MULTI_BINDED)",
}

# Documented limits (shared/reference/alibaba-api.md §5, spec-associate-eip.txt).
MULTI_BINDED_EIP_LIMIT = 10
# Regions of the cut-through modes, as the specification lists them by name (region IDs are our mapping;
# the lists change over time: UNCONFIRMED [fid:eip-cut-through-regions] beyond the specification's date).
# fmt: off
CUT_THROUGH_REGIONS = frozenset([
    "cn-hangzhou", "cn-shanghai", "cn-qingdao", "cn-beijing", "cn-zhangjiakou", "cn-huhehaote", "cn-shenzhen",
    "cn-guangzhou", "cn-chengdu", "ap-southeast-1", "ap-southeast-5", "eu-central-1", "eu-west-1", "us-east-1",
    "me-central-1",
])
MULTI_EIP_CUT_THROUGH_REGIONS = frozenset([
    "cn-shenzhen", "cn-shanghai", "cn-beijing", "cn-zhangjiakou", "cn-chengdu", "ap-southeast-1", "eu-central-1",
    "us-east-1", "eu-west-1",
])
# Instance families that support multi-EIP cut-through (specification).
MULTI_EIP_CUT_THROUGH_FAMILIES = frozenset("ecs." + name for name in [
    "d1ne", "ebmc4", "ebmg5", "ebmhfg5", "f1", "gn5i", "gn6v", "i2", "r1", "re4", "re4e", "sccg5", "sccgn6", "scch5",
    "g5", "c5", "r5", "t5", "sn2ne", "se1ne", "sn1ne",
])
# fmt: on

# Concurrent API calls of the list form; the flow limiter (_retries.FLOW_LIMITS) bounds the rate.
MAX_CONCURRENCY = 16

Key = tuple[str, str]


@dataclass(frozen=True)
class PredictedFailure:
    """A documented API failure foreseen from the described state (``code`` is the API's code for it)."""

    code: str
    message: str
    action: str = "AssociateEipAddress"


@dataclass(frozen=True)
class Limit:
    """At most ``maximum`` EIPs on the target: ``count`` before replaced EIPs leave, ``message(total)`` if over."""

    count: int
    maximum: int
    code: str
    message: Callable[[int], str]


@dataclass
class Verdict:
    """What a target's association check decided (messages without the item's ``where`` prefix).

    ``occupants`` hold the exclusive slot (named ``slot``, exclusive because of ``rule``) the EIP takes: the planner
    replaces them with allow_reassociation, or refuses with the API's InvalidAssociation.Duplicated.
    """

    refusals: list[PredictedFailure] = field(default_factory=list)
    occupants: list[dict[str, Any]] = field(default_factory=list)
    slot: str = ""
    rule: str = ""
    private_ip: str = ""
    mode: str = ""
    limit: Limit | None = None

    def refuse(self, code: str, message: str) -> Verdict:
        self.refusals.append(PredictedFailure(code, message))
        return self


def capacity(item, staying: list, context: Context, maximum: int, code: str, message: Callable[[int], str]) -> Limit:
    """The limit of a target that keeps ``staying`` and receives every item of the plan that names it."""
    return Limit(len(staying) + len(context.arriving(item.target)), maximum, code, message)


def release_needs_status(statuses: tuple[str, ...], code: str, advice: str) -> Callable[..., PredictedFailure | None]:
    """A release check: UnassociateEipAddress fails with ``code`` unless the holder is in one of ``statuses``."""

    def check(eip, holder, resource, force) -> PredictedFailure | None:
        if resource["status"] in statuses:
            return None
        return PredictedFailure(
            code,
            f"{eip_label(eip)} is on {holder.describe()}, which is {state_of(resource)}; {advice}",
            "UnassociateEipAddress",
        )

    return check


def refused(code: str, message: str) -> Verdict:
    """A verdict with one refusal."""
    return Verdict().refuse(code, message)


def state_of(resource: Mapping[str, Any]) -> str:
    return resource.get("status") or "in an unknown state"


def names(eips) -> str:
    return ", ".join(f"{eip['allocation_id']} ({eip['ip_address']})" for eip in eips)


def eip_label(eip: Mapping[str, Any]) -> str:
    return f"EIP {eip['allocation_id']} ({eip['ip_address']})"


class Context:
    """What the checks may read: the described snapshot and the plan's bookkeeping so far, read-only.

    ``leaving``: allocation IDs the plan disassociates; ``incoming``: target key -> the items that put an EIP on it.
    """

    def __init__(self, snapshot, leaving: Mapping[str, Any], incoming: Mapping[Key, list]):
        self.snapshot = snapshot
        self.leaving = leaving
        self.incoming = incoming

    @property
    def region(self) -> str:
        return self.snapshot.region

    @property
    def ipv4_gateways(self) -> Mapping[str, dict[str, Any] | None]:
        return self.snapshot.ipv4_gateways

    def resource(self, key: Key) -> dict[str, Any] | None:
        return self.snapshot.resources.get(key)

    def arriving(self, key: Key) -> list:
        return list(self.incoming.get(key, []))

    def staying(self, key: Key | None, exclude: str) -> list[dict[str, Any]]:
        """EIPs on ``key`` that stay there: not ``exclude``, not leaving in this plan, not Unassociating."""
        return [
            eip
            for eip in self.snapshot.held_eips(key)
            if eip["allocation_id"] != exclude
            and eip["allocation_id"] not in self.leaving
            and eip["status"] != "Unassociating"
        ]
