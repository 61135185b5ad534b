# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note: this module util is PRIVATE to the collection. It can change at any time; do not use it from
# other collections or standalone plugins/modules.

"""The host-side model: ENIs, routes, rules, multi-EIP groups, table numbering and their ``ip`` spellings.

The model follows amazon-ec2-net-utils (host-networking.md §0, §1): one routing table per secondary ENI
holding its subnet route and a default route via its gateway, one rule per address living on that ENI,
no table and no rule for the primary ENI, table id = rule priority.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any, NamedTuple

MODES = ("nat", "cut_through", "multi_eip")

# Alibaba reserves 100.64.0.0/10 (metadata 100.100.100.200, DNS 100.100.2.136/138); since 2026-04-23 a
# cut-through EIP may not reach it, so it must leave through the primary ENI (host-networking.md §2.5).
INTERNAL_RANGE = "100.64.0.0/10"
# The "to 100.64.0.0/10 lookup main" rule must win over every from-address rule, whose priorities start at
# TABLE_BASE.
INTERNAL_RULE_PRIORITY = 999
MAIN_TABLE = 254

# Table numbers: TABLE_BASE + TABLE_SLOT * (hash of the MAC mod TABLE_SLOTS).  Alibaba metadata has no device
# index (host-networking.md §2.1) and ifindex changes across hot-plug (terway), so the MAC is the only stable
# key.  Each ENI owns a slot of TABLE_SLOT consecutive tables: the first for its private (or cut-through)
# addresses, the next ones for multi-EIP gateway groups (at most 10 EIPs per ENI).  The largest number,
# 1000 + 16 * 1899 + 15 = 31399, stays below the main rule's priority 32766.  Rule priority = table number.
TABLE_BASE = 1000
TABLE_SLOT = 16
TABLE_SLOTS = 1900
MAX_EXPLICIT_TABLE = 32000

FILE_PREFIX = "alicloud-eni-"
MAC_PATTERN = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")


class HostNetworkError(ValueError):
    """Input that cannot be applied; the message names the ENI and the problem."""


class Route(NamedTuple):
    """One IPv4 route in a numbered table; ``dst`` is ``default`` or a CIDR."""

    table: int
    dst: str
    dev: str
    gateway: str | None = None
    scope: str | None = None
    src: str | None = None


class Rule(NamedTuple):
    """One IPv4 policy rule; ``src``/``dst`` are CIDRs or None for "all"."""

    priority: int
    table: int
    src: str | None = None
    dst: str | None = None


class EipGroup(NamedTuple):
    """Multi-EIP addresses sharing one gateway: they get their own table."""

    table: int
    gateway: str
    network: str
    addresses: tuple[str, ...]


class Eni(NamedTuple):
    """A validated ENI matched to its host link."""

    mac: str
    device: str
    mode: str
    primary: bool
    addresses: tuple[str, ...]
    network: str
    gateway: str
    table: int | None
    eip_groups: tuple[EipGroup, ...]
    eni_id: str | None = None


def normalize_mac(mac: Any) -> str:
    """Lower-case ``aa:bb:cc:dd:ee:ff``; dashes accepted; anything else raises ``HostNetworkError``."""
    text = str(mac or "").strip().lower().replace("-", ":")
    if not MAC_PATTERN.match(text):
        raise HostNetworkError(
            f"'{mac}' is not a MAC address (expected six hexadecimal pairs such as 00:16:3e:12:34:56)"
        )
    return text


def table_for_mac(mac: str) -> int:
    """The stable default table (and rule priority) of an ENI: a hash of its MAC mapped onto a slot."""
    digest = int(hashlib.sha256(normalize_mac(mac).encode()).hexdigest(), 16)
    return TABLE_BASE + TABLE_SLOT * (digest % TABLE_SLOTS)


def eni_tables(eni: Eni) -> list[int]:
    """Tables an ENI uses: none for the primary, its own plus one per multi-EIP gateway group otherwise."""
    if eni.primary or eni.table is None:
        return []
    return [eni.table] + [group.table for group in eni.eip_groups]


def table_number(value: Any) -> int | None:
    names = {"main": 254, "local": 255, "default": 253, "unspec": 0}
    if value is None:
        return MAIN_TABLE
    text = str(value)
    if text in names:
        return names[text]
    return int(text) if text.isdigit() else None


def route_argv(verb: str, route: Route) -> list[str]:
    """``ip -4 route <verb> ...`` for a route (routes we add carry ``proto static``)."""
    argv = ["ip", "-4", "route", verb, route.dst]
    if route.gateway:
        argv += ["via", route.gateway]
    argv += ["dev", route.dev]
    if route.scope:
        argv += ["scope", route.scope]
    if route.src:
        argv += ["src", route.src]
    argv += ["table", str(route.table)]
    if verb in ("add", "replace"):
        argv += ["proto", "static"]
    return argv


def rule_argv(verb: str, rule: Rule) -> list[str]:
    argv = ["ip", "-4", "rule", verb]
    if rule.src:
        argv += ["from", rule.src]
    if rule.dst:
        argv += ["to", rule.dst]
    table = "main" if rule.table == MAIN_TABLE else str(rule.table)
    return argv + ["lookup", table, "priority", str(rule.priority)]


def rule_key(rule: Rule) -> tuple:
    return (rule.priority, rule.table, rule.src or "", rule.dst or "")


def route_key(route: Route) -> tuple:
    return (
        route.table,
        route.dst == "default",
        route.dst,
        route.dev,
        route.gateway or "",
        route.scope or "",
        route.src or "",
    )


def is_internal_rule(rule: Rule) -> bool:
    return (
        rule.priority == INTERNAL_RULE_PRIORITY
        and rule.dst == INTERNAL_RANGE
        and rule.table == MAIN_TABLE
        and rule.src is None
    )


def rule_text(rule: Rule) -> str:
    table = "main" if rule.table == MAIN_TABLE else str(rule.table)
    return f"{rule.priority}: from {rule.src or 'all'}{' to ' + rule.dst if rule.dst else ''} lookup {table}"


def route_text(route: Route) -> str:
    return " ".join(route_argv("show", route)[4:])
