# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The world-file format (version 1): one table of every key, and the check that names a bad key and its fix.

The emulator's loader (``world.build_state``) and the ``alicloud.eip.emulator`` action plugin both call
``check_world`` before anything starts, so a typo (``vswtich``) or a wrong type fails at once with the path of the
key, instead of being ignored.  This file is standalone (standard library only, no relative imports): the action
plugin loads it by path from the installed collection.

    python -m tests.emulator.world_schema WORLD.yml     exit 0 if the world is well formed, else 2 and the errors

A new world key of the emulator is declared here, in the section it belongs to, next to its code in ``world.py``.
The format's version is ``world_format`` (absent: 1); a change that breaks existing worlds raises it.
"""

from __future__ import annotations

import difflib
import ipaddress
import sys
from typing import Any

WORLD_FORMAT = 1
SUPPORTED_FORMATS = (1,)

# Value kinds: what the check accepts and how the fix is worded.
STR, INT, NUMBER, BOOL, TIME, IPV4, CIDR, MAP = "str", "int", "number", "bool", "time", "ipv4", "cidr", "map"
STR_LIST, IPV4_LIST = "list of str", "list of ipv4"
KIND_HINT = {
    STR: "a string",
    INT: "an integer",
    NUMBER: "a number",
    BOOL: "true or false",
    TIME: "an ISO 8601 UTC time, epoch seconds or a relative time such as -30d",
    IPV4: "an IPv4 address such as 10.0.1.10",
    CIDR: "an IPv4 network such as 10.0.1.0/24",
    MAP: "a mapping of key: value",
    STR_LIST: "a list of strings",
    IPV4_LIST: "a list of IPv4 addresses",
}

# section name -> {key: kind or nested section name (a list of that section, or "one <section>")}; REQUIRED below.
SECTIONS: dict[str, dict[str, str]] = {
    "world": {
        "world_format": INT,
        "access_keys": "access_key",
        "delays": "delays",
        "eip_quota": INT,
        "recovery_limit": INT,
        "purchase_limit_per_minute": INT,
        "foreign_ips": IPV4_LIST,
        "regions": "regions",
    },
    "access_key": {"id": STR, "secret": STR, "security_tokens": STR_LIST},
    "region": {
        "zones": STR_LIST,
        "eip_pool": "eip_pool",
        "vpcs": "vpc",
        "security_groups": "security_group",
        "instances": "instance",
        "enis": "eni",
        "nat_gateways": "nat_gateway",
        "load_balancers": "load_balancer",
        "albs": "zonal_load_balancer",
        "nlbs": "zonal_load_balancer",
        "havips": "havip",
        "eips": "eip",
        "snat_entries": "snat_entry",
        "released_eips": "released_eip",
    },
    "eip_pool": {"cidr": CIDR, "count": INT},
    "vpc": {"id": STR, "cidr": CIDR, "name": STR, "ipv4_gateway": BOOL, "ipv4_gateway_id": STR, "vswitches": "vswitch"},
    "vswitch": {"id": STR, "cidr": CIDR, "zone": STR, "name": STR, "gateway": IPV4, "reserved_ips": IPV4_LIST},
    "security_group": {"id": STR, "vpc": STR},
    "instance": {
        "id": STR,
        "vswitch": STR,
        "name": STR,
        "hostname": STR,
        "status": STR,
        "instance_type": STR,
        "network_type": STR,
        "public_ip": IPV4,
        "private_ip": IPV4,
        "secondary_ips": IPV4_LIST,
        "primary_eni": STR,
        "mac": STR,
        "security_groups": STR_LIST,
        "tags": MAP,
        "max_enis": INT,
        "metadata_token_required": BOOL,
        "created": TIME,
    },
    "eni": {
        "id": STR,
        "vswitch": STR,
        "instance": STR,
        "private_ips": IPV4_LIST,
        "name": STR,
        "description": STR,
        "mac": STR,
        "security_groups": STR_LIST,
        "tags": MAP,
        "created": TIME,
    },
    "nat_gateway": {
        "id": STR,
        "vswitch": STR,
        "name": STR,
        "status": STR,
        "business_status": STR,
        "network_type": STR,
        "eip_bind_mode": STR,
        "snat_table": STR,
        "dnat_ips": IPV4_LIST,
        "created": TIME,
    },
    "load_balancer": {
        "id": STR,
        "vswitch": STR,
        "name": STR,
        "address": IPV4,
        "address_type": STR,
        "status": STR,
        "created": TIME,
    },
    # ALB and NLB instances (zonal.py): one entry per zone, each with its vSwitch and, Internet-facing, its EIP.
    "zonal_load_balancer": {"id": STR, "name": STR, "address_type": STR, "status": STR, "zones": "lb_zone"},
    "lb_zone": {"vswitch": STR, "eip": STR},
    "havip": {
        "id": STR,
        "vswitch": STR,
        "ip": IPV4,
        "name": STR,
        "status": STR,
        "instances": STR_LIST,
        "created": TIME,
        "tags": MAP,
    },
    "eip": {
        "id": STR,
        "ip": IPV4,
        "bandwidth": INT,
        "internet_charge_type": STR,
        "charge_type": STR,
        "isp": STR,
        "name": STR,
        "description": STR,
        "allocated": TIME,
        "business_status": STR,
        "deletion_protection": BOOL,
        "resource_group": STR,
        "tags": MAP,
        "lock_reasons": STR_LIST,
        "gateway": IPV4,
        "netmask": IPV4,
        "associated_with": "one association",
    },
    "association": {"instance": STR, "type": STR, "mode": STR, "private_ip": IPV4, "vpc": STR},
    "snat_entry": {
        "id": STR,
        "nat_gateway": STR,
        "snat_ip": "snat_ip",
        "source_vswitch": STR,
        "source_cidr": CIDR,
        "name": STR,
        "status": STR,
    },
    "released_eip": {"id": STR, "ip": IPV4, "released": TIME},
}
REQUIRED: dict[str, tuple[str, ...]] = {
    "access_key": ("id", "secret"),
    "eip_pool": ("cidr",),
    "vpc": ("id",),
    "vswitch": ("id", "cidr"),
    "security_group": ("id", "vpc"),
    "instance": ("id", "vswitch"),
    "eni": ("id", "vswitch"),
    "nat_gateway": ("id", "vswitch"),
    "load_balancer": ("id", "vswitch"),
    "havip": ("id", "vswitch"),
    "zonal_load_balancer": ("id", "zones"),
    "lb_zone": ("vswitch",),
    "eip": ("id", "ip"),
    "association": ("instance",),
    "snat_entry": ("id", "nat_gateway", "snat_ip"),
    "released_eip": ("id", "ip"),
}
DELAY_NAMES = (
    "eip_associate",
    "eip_unassociate",
    "eip_release",
    "eni_attach",
    "eni_detach",
    "snat_create",
    "snat_modify",
    "snat_delete",
    "havip_create",
    "havip_associate",
    "lb_job",
)


class WorldFormatError(ValueError):
    """The world file does not follow the format; ``errors`` holds one line per bad key (path, problem, fix)."""

    def __init__(self, errors: list[str], source: str = "world"):
        self.errors = errors
        super().__init__(
            f"{source}: {len(errors)} problem(s) in the world file:\n" + "\n".join(f"  - {e}" for e in errors)
        )


def _kind_ok(kind: str, value: Any) -> bool:
    if kind == STR:
        return isinstance(value, str) and value != ""
    if kind == INT:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == NUMBER:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == BOOL:
        return isinstance(value, bool)
    if kind == MAP:
        return isinstance(value, dict)
    if kind == TIME:
        # YAML turns an unquoted ISO time into a datetime; the loader parses the rest (world.parse_time).
        return not isinstance(value, (bool, list, dict)) and value is not None
    if kind in (IPV4, CIDR):
        try:
            (ipaddress.IPv4Address if kind == IPV4 else ipaddress.IPv4Network)(str(value))
        except ValueError:
            return False
        return isinstance(value, str)
    if kind == STR_LIST:
        return isinstance(value, list) and all(_kind_ok(STR, item) for item in value)
    if kind == IPV4_LIST:
        return isinstance(value, list) and all(_kind_ok(IPV4, item) for item in value)
    raise AssertionError(f"unknown kind {kind}")  # a table entry names no kind: a defect of this file


def _describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _unknown(path: str, key: Any, known: list[str]) -> str:
    close = difflib.get_close_matches(str(key), known, n=1)
    fix = f"did you mean '{close[0]}'?" if close else f"remove it, or use one of: {', '.join(known)}"
    return f"{path}: unknown key '{key}' - {fix}"


class _Checker:
    def __init__(self) -> None:
        self.errors: list[str] = []

    def section(self, name: str, path: str, value: Any) -> None:
        if not isinstance(value, dict):
            self.errors.append(
                f"{path or 'world'}: expected a mapping of keys ({', '.join(SECTIONS[name])}), got {_describe(value)}"
            )
            return
        label = f"{path} ({value['id']})" if isinstance(value.get("id"), str) else (path or "world")
        for key in REQUIRED.get(name, ()):
            if value.get(key) is None:
                self.errors.append(
                    f"{label}: missing required key '{key}' - add {key}: {KIND_HINT.get(SECTIONS[name][key], '...')}"
                )
        for key, item in value.items():
            if key not in SECTIONS[name]:
                self.errors.append(_unknown(label, key, list(SECTIONS[name])))
                continue
            self.value(SECTIONS[name][key], f"{path}.{key}" if path else str(key), item)

    def value(self, kind: str, path: str, item: Any) -> None:
        if kind in KIND_HINT:
            if item is not None and not _kind_ok(kind, item):
                self.errors.append(
                    f"{path}: expected {KIND_HINT[kind]}, got {_describe(item)} - write {KIND_HINT[kind]}"
                )
        elif kind.startswith("one "):
            self.section(kind[4:], path, item)
        elif kind == "regions":
            self.regions(path, item)
        elif kind == "delays":
            self.delays(path, item)
        elif kind == "eip_pool":
            if isinstance(item, list):
                self.value(IPV4_LIST, path, item)
            else:
                self.section("eip_pool", path, item)
        elif kind == "snat_ip":
            if isinstance(item, list):
                self.value(IPV4_LIST, path, item)
            elif not all(_kind_ok(IPV4, part.strip()) for part in str(item).split(",")):
                self.errors.append(f"{path}: expected an EIP address or a list of them, got {_describe(item)}")
        elif item is not None:
            if not isinstance(item, list):
                self.errors.append(f"{path}: expected a list of {kind} entries (each a mapping), got {_describe(item)}")
                return
            for index, entry in enumerate(item):
                self.section(kind, f"{path}[{index}]", entry)

    def regions(self, path: str, item: Any) -> None:
        if item is None:
            return
        if not isinstance(item, dict):
            self.errors.append(
                f"{path}: expected a mapping of region ID to its contents (cn-hangzhou: {{...}}), got {_describe(item)}"
            )
            return
        for region_id, region in item.items():
            if region is not None:
                self.section("region", f"{path}.{region_id}", region)

    def delays(self, path: str, item: Any) -> None:
        if item is None:
            return
        if not isinstance(item, dict):
            self.errors.append(f"{path}: expected a mapping of step name to seconds, got {_describe(item)}")
            return
        for name, seconds in item.items():
            if name not in DELAY_NAMES:
                self.errors.append(_unknown(path, name, list(DELAY_NAMES)))
            elif not _kind_ok(NUMBER, seconds) or seconds < 0:
                self.errors.append(f"{path}.{name}: expected seconds (a number >= 0), got {_describe(seconds)}")


def world_errors(spec: Any) -> list[str]:
    """Every problem of a world spec (parsed YAML/JSON), one line each: the key's path, what is wrong, the fix."""
    if spec is None:
        return []
    checker = _Checker()
    if isinstance(spec, dict) and "world_format" in spec and spec["world_format"] not in SUPPORTED_FORMATS:
        return [
            f"world_format: {_describe(spec['world_format'])} is not a format this emulator reads - write "
            f"world_format: {WORLD_FORMAT} (supported: {', '.join(map(str, SUPPORTED_FORMATS))})"
        ]
    checker.section("world", "", spec)
    return checker.errors


def check_world(spec: Any, source: str = "world") -> None:
    """Raise ``WorldFormatError`` naming every bad key of ``spec`` and its fix; return quietly for a good one."""
    errors = world_errors(spec)
    if errors:
        raise WorldFormatError(errors, source)


def load_and_check(path: str) -> dict:
    """Read a world file (YAML or JSON) and check it; ``WorldFormatError`` names the file and every bad key."""
    import yaml  # pylint: disable=import-outside-toplevel

    try:
        with open(path, encoding="utf-8") as handle:
            spec = yaml.safe_load(handle)
    except OSError as error:
        raise WorldFormatError(
            [f"cannot read the world file: {error.strerror} - give the path of an existing file"], path
        ) from None
    except yaml.YAMLError as error:
        raise WorldFormatError([f"not YAML or JSON: {error}".replace("\n", " ")], path) from None
    spec = {} if spec is None else spec
    check_world(spec, path)
    return spec


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        load_and_check(argv[1])
    except WorldFormatError as error:
        print(error, file=sys.stderr)
        return 2
    print(f"{argv[1]}: a well-formed world (format {WORLD_FORMAT})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
