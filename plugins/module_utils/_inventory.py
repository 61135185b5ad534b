# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note: this module util is PRIVATE to the collection. It can change at any time; do not use it from
# other collections or standalone plugins/modules.

"""What the ``alicloud.eip.ecs`` inventory plugin reads and how it turns it into hosts (``docs/inventory.md``).

Two halves, so the plugin file holds only Ansible's plumbing:

* :func:`gather_region`: the raw API records of one region, in batched calls that do not grow with the number of
  hosts beyond paging: DescribeInstances (100 per page, one listing per include filter and per exclude filter, as
  amazon.aws's ``aws_ec2`` does) and one DescribeEipAddresses sweep of the region's ``InUse`` EIPs (100 per page).
  The ENIs with their private addresses and MACs come with DescribeInstances itself (``NetworkInterfaces``), so no
  call is made per host or per ENI.  These raw records are what the plugin caches (the ansible#46961 lesson: cache
  the answers, rebuild the groups).
* pure functions over those records: :func:`host_vars` (every EIP of the instance, its own and those on its ENIs in
  NAT, BINDED and MULTI_BINDED mode), :func:`hostnames` (``aws_ec2``'s precedence and dict form),
  :func:`default_groups`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ansible_collections.alicloud.eip.plugins.module_utils._api.common import inner_list, pages, text
from ansible_collections.alicloud.eip.plugins.module_utils._api.ecs import ecs_tags_to_dict, instance_records
from ansible_collections.alicloud.eip.plugins.module_utils._api.vpc_eip import describe_eip_addresses_page

# The ``filters`` / ``include_filters`` / ``exclude_filters`` keys: DescribeInstances request parameters in
# snake_case (alibaba-api.md §8.7), mapped to the SDK request model's field; True for the JSON-array ones.
FILTERS: dict[str, tuple[str, bool]] = {
    "instance_ids": ("instance_ids", True),
    "instance_name": ("instance_name", False),
    "instance_type": ("instance_type", False),
    "instance_type_family": ("instance_type_family", False),
    "instance_network_type": ("instance_network_type", False),
    "instance_charge_type": ("instance_charge_type", False),
    "status": ("status", False),
    "vpc_id": ("vpc_id", False),
    "vswitch_id": ("v_switch_id", False),
    "zone_id": ("zone_id", False),
    "security_group_id": ("security_group_id", False),
    "resource_group_id": ("resource_group_id", False),
    "image_id": ("image_id", False),
    "key_pair_name": ("key_pair_name", False),
    "private_ip_addresses": ("private_ip_addresses", True),
    "public_ip_addresses": ("public_ip_addresses", True),
    "eip_addresses": ("eip_addresses", True),
}
TAG_FILTER_PREFIX = "tag:"
# DescribeInstances takes at most 20 Tag.N pairs.
MAX_TAG_FILTERS = 20

# The ``hostnames`` names (besides ``tag:K``, ``tag:K=V`` and ``tag:K1,K2``).
HOSTNAME_NAMES = (
    "eip_address",
    "public_ip_address",
    "private_ip_address",
    "instance_id",
    "instance_name",
    "hostname",
)
DEFAULT_HOSTNAMES = ["eip_address", "public_ip_address", "private_ip_address", "instance_id"]


class InventoryOptionError(ValueError):
    """An option the plugin cannot use; the message names the option and the fix."""


# ---- filters ---------------------------------------------------------------------------------------------


def request_filters(filters: Mapping[str, Any] | None, option: str) -> dict[str, Any]:
    """One filter dict of the options as DescribeInstances request fields (``tags`` a dict); refuses unknown keys."""
    request: dict[str, Any] = {}
    tags: dict[str, str] = {}
    for key, value in (filters or {}).items():
        key = str(key)
        if key.startswith(TAG_FILTER_PREFIX):
            name = key[len(TAG_FILTER_PREFIX) :]
            if not name:
                raise InventoryOptionError(f"{option}: {key!r} names no tag key; write tag:KEY: VALUE")
            tags[name] = "" if value is None else str(value)
            continue
        if key not in FILTERS:
            raise InventoryOptionError(
                f"{option}: unknown filter {key!r}; the filters are {', '.join(sorted(FILTERS))} and tag:KEY"
            )
        field, is_list = FILTERS[key]
        if is_list:
            values = value if isinstance(value, (list, tuple)) else [value]
            if len(values) > 100:
                raise InventoryOptionError(f"{option}: {key} takes at most 100 values (the API's limit)")
            request[field] = [str(item) for item in values]
        elif isinstance(value, (list, tuple, dict)):
            raise InventoryOptionError(f"{option}: {key} takes one value, not {type(value).__name__}")
        else:
            request[field] = str(value)
    if len(tags) > MAX_TAG_FILTERS:
        raise InventoryOptionError(f"{option}: at most {MAX_TAG_FILTERS} tag: filters (the API's limit)")
    if tags:
        request["tags"] = tags
    return request


def include_filter_sets(filters: Mapping[str, Any] | None, include_filters: Sequence[Mapping] | None) -> list[dict]:
    """The listings to union, as ``aws_ec2`` builds them: ``filters`` first, then each include filter; ``[{}]``
    (every instance) when there is none."""
    sets = [request_filters(entry, f"include_filters[{index}]") for index, entry in enumerate(include_filters or [])]
    if filters:
        sets.insert(0, request_filters(filters, "filters"))
    return sets or [{}]


def exclude_filter_sets(exclude_filters: Sequence[Mapping] | None) -> list[dict]:
    return [request_filters(entry, f"exclude_filters[{index}]") for index, entry in enumerate(exclude_filters or [])]


# ---- gathering -------------------------------------------------------------------------------------------


def eip_records(connection) -> list[dict[str, Any]]:
    """Every raw ``InUse`` EIP record of the connection's region (100 per page): one sweep for all hosts."""
    return pages(
        lambda page: describe_eip_addresses_page(connection, page, status="InUse"),
        lambda answer: inner_list(answer.get("EipAddresses"), "EipAddress"),
    )


def gather_region(connection, includes: Sequence[dict], excludes: Sequence[dict]) -> dict[str, list[dict]]:
    """The raw records of the region: the instances of the include listings minus those of the exclude listings
    (exclude wins; each instance once, in first-seen order) and the region's EIPs in use."""
    excluded: set[str] = set()
    for filters in excludes:
        excluded.update(text(record.get("InstanceId")) for record in instance_records(connection, **dict(filters)))
    seen: set[str] = set()
    instances: list[dict] = []
    for filters in includes:
        for record in instance_records(connection, **dict(filters)):
            instance_id = text(record.get("InstanceId"))
            if instance_id in excluded or instance_id in seen:
                continue
            seen.add(instance_id)
            instances.append(record)
    return {"instances": instances, "eips": eip_records(connection) if instances else []}


# ---- hostvars -------------------------------------------------------------------------------------------


def _network_interfaces(record: Mapping[str, Any]) -> list[dict[str, Any]]:
    enis = []
    for eni in inner_list(record.get("NetworkInterfaces"), "NetworkInterface"):
        if not isinstance(eni, dict):
            continue
        entries = [entry for entry in inner_list(eni.get("PrivateIpSets"), "PrivateIpSet") if isinstance(entry, dict)]
        primary = text(eni.get("PrimaryIpAddress")) or next(
            (text(entry.get("PrivateIpAddress")) for entry in entries if entry.get("Primary")), ""
        )
        addresses = [primary] if primary else []
        addresses += [
            text(entry.get("PrivateIpAddress")) for entry in entries if text(entry.get("PrivateIpAddress")) != primary
        ]
        enis.append(
            {
                "id": text(eni.get("NetworkInterfaceId")),
                "type": text(eni.get("Type")),
                "mac_address": text(eni.get("MacAddress")),
                "primary_ip_address": primary,
                "private_ip_addresses": addresses,
            }
        )
    enis.sort(key=lambda eni: eni["type"] != "Primary")
    return enis


def _eip_view(record: Mapping[str, Any], eni_id: str, private_ip: str) -> dict[str, str]:
    return {
        "allocation_id": text(record.get("AllocationId")),
        "ip_address": text(record.get("IpAddress")),
        "mode": text(record.get("Mode")) or "NAT",
        "instance_type": text(record.get("InstanceType")),
        "network_interface_id": eni_id,
        "private_ip_address": text(record.get("PrivateIpAddress")) or private_ip,
        "name": text(record.get("Name")),
    }


def index_eips(eips: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str], list[Mapping[str, Any]]]:
    """The region's EIP records by holder ``(InstanceType, InstanceId)``."""
    index: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    for record in eips:
        key = (text(record.get("InstanceType")), text(record.get("InstanceId")))
        if key[1]:
            index.setdefault(key, []).append(record)
    return index


def instance_eips(
    instance_id: str, enis: Sequence[Mapping[str, Any]], index: Mapping[tuple[str, str], list]
) -> list[dict[str, str]]:
    """Every EIP of the instance: the one on the instance itself first, then those on its ENIs (primary ENI first,
    then by device order; on one ENI in the order of its private addresses)."""
    primary = next((eni for eni in enis if eni["type"] == "Primary"), enis[0] if enis else None)
    found = [
        _eip_view(record, primary["id"] if primary else "", primary["primary_ip_address"] if primary else "")
        for record in index.get(("EcsInstance", instance_id), [])
    ]
    for eni in enis:
        order = {address: position for position, address in enumerate(eni["private_ip_addresses"])}
        views = [
            _eip_view(record, eni["id"], eni["primary_ip_address"])
            for record in index.get(("NetworkInterface", eni["id"]), [])
        ]
        views.sort(key=lambda view: (order.get(view["private_ip_address"], len(order)), view["ip_address"]))
        found.extend(views)
    return found


def host_vars(record: Mapping[str, Any], region: str, index: Mapping[tuple[str, str], list]) -> dict[str, Any]:
    """The hostvars of one DescribeInstances record: what the roles need (``alicloud_instance_id``,
    ``alicloud_region``) and what users group and compose by."""
    vpc = record.get("VpcAttributes") or {}
    instance_id = text(record.get("InstanceId"))
    enis = _network_interfaces(record)
    private = [text(ip) for ip in inner_list(vpc.get("PrivateIpAddress"), "IpAddress") if ip]
    if not private and enis:
        private = [enis[0]["primary_ip_address"]]
    public = [text(ip) for ip in inner_list(record.get("PublicIpAddress"), "IpAddress") if ip]
    eips = instance_eips(instance_id, enis, index)
    own_eip = text((record.get("EipAddress") or {}).get("IpAddress"))
    eip_address = own_eip or (eips[0]["ip_address"] if eips else "")
    return {
        "alicloud_instance_id": instance_id,
        "alicloud_region": region,
        "instance_id": instance_id,
        "instance_name": text(record.get("InstanceName")),
        "hostname": text(record.get("HostName")),
        "region_id": text(record.get("RegionId")) or region,
        "zone_id": text(record.get("ZoneId")),
        "vpc_id": text(vpc.get("VpcId")),
        "vswitch_id": text(vpc.get("VSwitchId")),
        "status": text(record.get("Status")),
        "instance_type": text(record.get("InstanceType")),
        "instance_network_type": text(record.get("InstanceNetworkType")),
        "security_group_ids": [text(group) for group in inner_list(record.get("SecurityGroupIds"), "SecurityGroupId")],
        "instance_tags": ecs_tags_to_dict(record.get("Tags")),
        "private_ip_address": private[0] if private else "",
        "public_ip_address": public[0] if public else eip_address,
        "eip_address": eip_address,
        "network_interfaces": enis,
        "eips": eips,
    }


# ---- hostnames and groups -------------------------------------------------------------------------------


def check_hostnames(preferences: Sequence[Any]) -> None:
    """Refuse a ``hostnames`` entry the plugin cannot resolve, naming it and the choices."""
    for position, preference in enumerate(preferences):
        names = [preference]
        if isinstance(preference, Mapping):
            if "name" not in preference:
                raise InventoryOptionError(
                    f"hostnames[{position}]: a dict entry needs a name key (and may have prefix, separator)"
                )
            unknown_keys = set(preference) - {"name", "prefix", "separator"}
            if unknown_keys:
                raise InventoryOptionError(
                    f"hostnames[{position}]: unknown keys {', '.join(sorted(map(str, unknown_keys)))}; use name, prefix, separator"
                )
            names = [preference["name"]] + ([preference["prefix"]] if "prefix" in preference else [])
        for name in names:
            if not isinstance(name, str) or not (
                name in HOSTNAME_NAMES or (name.startswith(TAG_FILTER_PREFIX) and len(name) > 4)
            ):
                raise InventoryOptionError(
                    f"hostnames[{position}]: {name!r} is not a host name source; use one of {', '.join(HOSTNAME_NAMES)}, "
                    "tag:KEY, tag:KEY=VALUE or a dict {name, prefix, separator}"
                )


def _tag_hostname(variables: Mapping[str, Any], preference: str) -> str:
    """``tag:K`` -> the value of tag K; ``tag:K=V`` -> ``K_V`` when the tag has that value; ``tag:A,B`` -> the first
    that matches (aws_ec2's rules)."""
    tags = variables.get("instance_tags") or {}
    for entry in preference[len(TAG_FILTER_PREFIX) :].split(","):
        if "=" in entry:
            key, value = entry.split("=", 1)
            if tags.get(key) == value:
                return f"{key}_{value}"
        elif tags.get(entry):
            return str(tags[entry])
    return ""


def _one_hostname(variables: Mapping[str, Any], name: str) -> str:
    if name.startswith(TAG_FILTER_PREFIX):
        return _tag_hostname(variables, name)
    return str(variables.get(name) or "")


def hostnames(
    variables: Mapping[str, Any], preferences: Sequence[Any], allow_duplicated_hosts: bool = False
) -> list[str]:
    """The host's names by the ``hostnames`` precedence: the first that resolves, or with ``allow_duplicated_hosts``
    every one that resolves (each once).  An entry may be ``{name, prefix, separator}`` (``prefix`` + ``separator``
    + ``name``, separator ``_`` by default; only when both resolve)."""
    found: list[str] = []
    for preference in preferences:
        if isinstance(preference, Mapping):
            name = _one_hostname(variables, preference["name"])
            if name and "prefix" in preference:
                prefix = _one_hostname(variables, preference["prefix"])
                name = f"{prefix}{preference.get('separator', '_')}{name}" if prefix else ""
        else:
            name = _one_hostname(variables, preference)
        if name and name not in found:
            found.append(name)
            if not allow_duplicated_hosts:
                break
    return found


def safe_group_name(name: str) -> str:
    """A group name Ansible takes without warning: every character but letters, digits and ``_`` becomes ``_``.
    Only groups are sanitized, never host names (an IP host name keeps its dots: alibaba.alicloud#165)."""
    return re.sub(r"[^A-Za-z0-9_]", "_", name)


def default_groups(variables: Mapping[str, Any]) -> list[str]:
    """``region_<id>``, ``zone_<id>``, ``vpc_<id>``, ``status_<status>``, ``tag_<key>_<value>``, ``has_eip`` and
    ``eip_mode_<mode>`` for each mode of the host's EIPs (sanitized)."""
    groups = [f"region_{variables['region_id']}"]
    for key, prefix in (("zone_id", "zone"), ("vpc_id", "vpc"), ("status", "status")):
        if variables.get(key):
            groups.append(f"{prefix}_{variables[key]}")
    for key, value in sorted((variables.get("instance_tags") or {}).items()):
        groups.append(f"tag_{key}_{value}" if value else f"tag_{key}")
    if variables.get("eips"):
        groups.append("has_eip")
        groups.extend(f"eip_mode_{mode}" for mode in sorted({eip["mode"] for eip in variables["eips"]}))
    return [safe_group_name(group) for group in groups]
