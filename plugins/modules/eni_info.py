#!/usr/bin/python
# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: eni_info
short_description: List Alibaba Cloud elastic network interfaces
version_added: 0.1.0
description:
  - Lists the ECS elastic network interfaces (ENIs) of a region that match every given filter, reading every page of
    C(DescribeNetworkInterfaces) (500 per page).
  - Returns each ENI in the same form as the C(interface) of M(alicloud.eip.eni), with its private addresses (primary
    first), attachment, security groups, tags and the EIPs mapped to its addresses.
author:
  - alicloud.eip developers (@alicloud-eip)
options:
  network_interface_ids:
    description:
      - Only these ENIs. Asked for 100 at a time, the API's limit. An ID that does not exist is simply not returned.
    type: list
    elements: str
    aliases: [eni_ids]
  instance_id:
    description:
      - Only the ENIs attached to this ECS instance (its primary ENI included).
      - Mutually exclusive with O(instance_ids).
    type: str
  instance_ids:
    description:
      - Only the ENIs attached to one of these ECS instances (their primary ENIs included), with the other filters
        applied to each.
      - The API filters by one instance at a time, so this is one C(DescribeNetworkInterfaces) (every page) per
        instance, all in one module process; an instance that does not exist contributes nothing, an empty list
        asks for nothing.
      - Mutually exclusive with O(instance_id).
    type: list
    elements: str
  vswitch_id:
    description:
      - Only the ENIs in this vSwitch.
    type: str
  vpc_id:
    description:
      - Only the ENIs in this VPC.
    type: str
  name:
    description:
      - Only the ENIs with this name.
    type: str
  type:
    description:
      - Only primary or only secondary ENIs.
    type: str
    choices: [Primary, Secondary]
  status:
    description:
      - Only the ENIs in this status.
    type: str
    choices: [Available, Attaching, InUse, Detaching, Deleting]
  primary_ip_address:
    description:
      - Only the ENI with this primary private address.
    type: str
  tags:
    description:
      - Only the ENIs that carry every one of these tags (key and value).
    type: dict
extends_documentation_fragment:
  - alicloud.eip._alicloud
  - alicloud.eip._attributes
  - alicloud.eip._attributes.INFO_MODULE
  - alicloud.eip._attributes.ACTIONGROUP_ALICLOUD
seealso:
  - module: alicloud.eip.eni
"""

EXAMPLES = r"""
- name: Every ENI on an instance
  alicloud.eip.eni_info:
    instance_id: i-bp1xxxxxxxxxxxxxxxxxx
  register: on_instance

- name: The primary ENI of each of several instances (one module run)
  alicloud.eip.eni_info:
    instance_ids: [i-bp1xxxxxxxxxxxxxxxxxx, i-bp1yyyyyyyyyyyyyyyyyy]
    type: Primary
  register: primaries

- name: The secondary ENIs of a team
  alicloud.eip.eni_info:
    type: Secondary
    tags:
      team: web
  register: web_enis

- name: Its secondary addresses
  ansible.builtin.debug:
    msg: "{{ on_instance.interfaces | map(attribute='secondary_private_ip_addresses') | flatten }}"
"""

RETURN = r"""
interfaces:
  description: The matching ENIs, in the API's order.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: The ID of the ENI.
      type: str
      sample: eni-bp1a2b3c4d5e6f7g8h9i0
    name:
      description: The name of the ENI.
      type: str
      sample: web-1-eni1
    description:
      description: The description of the ENI.
      type: str
      sample: ""
    mac_address:
      description: The MAC address.
      type: str
      sample: "00:16:3e:12:34:56"
    primary_ip_address:
      description: The primary private address.
      type: str
      sample: 10.1.0.60
    private_ip_addresses:
      description: Every private address of the ENI, the primary first.
      type: list
      elements: str
      sample: [10.1.0.60, 10.1.0.61]
    secondary_private_ip_addresses:
      description: The secondary private addresses, in the API's order.
      type: list
      elements: str
      sample: [10.1.0.61]
    vswitch_id:
      description: The vSwitch of the ENI.
      type: str
      sample: vsw-bp1xxxxxxxxxxxxxxxxxx
    vpc_id:
      description: The VPC of the ENI.
      type: str
      sample: vpc-bp1xxxxxxxxxxxxxxxxxx
    zone_id:
      description: The zone of the ENI.
      type: str
      sample: cn-hangzhou-h
    instance_id:
      description: The instance the ENI is attached to; empty when detached.
      type: str
      sample: i-bp1xxxxxxxxxxxxxxxxxx
    device_index:
      description: The device index on the instance (0 for the primary ENI); null when detached.
      type: int
      sample: 1
    status:
      description: C(Available), C(Attaching), C(InUse), C(Detaching) or C(Deleting).
      type: str
      sample: InUse
    type:
      description: C(Primary) (created with the instance) or C(Secondary).
      type: str
      sample: Secondary
    security_group_ids:
      description: The security groups of the ENI.
      type: list
      elements: str
      sample: [sg-bp1xxxxxxxxxxxxxxxxxx]
    associated_public_ips:
      description: The public addresses (EIPs, or an instance's fixed public IP) mapped to private addresses of the ENI.
      type: list
      elements: dict
      contains:
        private_ip_address:
          description: The private address.
          type: str
          sample: 10.1.0.61
        ip_address:
          description: The public address.
          type: str
          sample: 47.96.10.20
        allocation_id:
          description: The EIP's allocation ID (empty for an instance's fixed public IP).
          type: str
          sample: eip-bp1a2b3c4d5e6f7g8h9i0
    creation_time:
      description: When the ENI was created (UTC).
      type: str
      sample: "2026-11-20T08:00:00Z"
    tags:
      description: The tags of the ENI.
      type: dict
      sample: {role: web}
"""

import ipaddress

from ansible_collections.alicloud.eip.plugins.module_utils._api.ecs import describe_interfaces
from ansible_collections.alicloud.eip.plugins.module_utils._client import AlicloudModule


def argument_spec() -> dict:
    return {
        "network_interface_ids": {"type": "list", "elements": "str", "aliases": ["eni_ids"]},
        "instance_id": {"type": "str"},
        "instance_ids": {"type": "list", "elements": "str"},
        "vswitch_id": {"type": "str"},
        "vpc_id": {"type": "str"},
        "name": {"type": "str"},
        "type": {"type": "str", "choices": ["Primary", "Secondary"]},
        "status": {"type": "str", "choices": ["Available", "Attaching", "InUse", "Detaching", "Deleting"]},
        "primary_ip_address": {"type": "str"},
        "tags": {"type": "dict"},
    }


def build_filters(params: dict) -> dict:
    """The describe_interfaces filters the options ask for; raises ValueError for a bad address."""
    address = params.get("primary_ip_address")
    if address:
        try:
            address = str(ipaddress.IPv4Address(address))
        except ValueError:
            raise ValueError(f"primary_ip_address: {address!r} is not an IPv4 address") from None
    instance_ids = params.get("instance_ids")
    if instance_ids is not None and not all(instance and instance.strip() for instance in instance_ids):
        # An empty ID would be no filter at all: the call would list every ENI of the region.
        raise ValueError("instance_ids: an element is empty; give ECS instance IDs (i-...)")
    return {
        "eni_ids": params.get("network_interface_ids"),
        "instance_id": params.get("instance_id"),
        "instance_ids": instance_ids,
        "vswitch_id": params.get("vswitch_id"),
        "vpc_id": params.get("vpc_id"),
        "name": params.get("name"),
        "eni_type": params.get("type"),
        "status": params.get("status"),
        "primary_ip_address": address,
        "tags": {str(key): "" if value is None else str(value) for key, value in (params.get("tags") or {}).items()}
        or None,
    }


def describe(connection, instance_ids: list[str] | None = None, **filters) -> list[dict]:
    """describe_interfaces, once per instance of ``instance_ids`` when given (the API takes one InstanceId)."""
    if instance_ids is None:
        return describe_interfaces(connection, **filters)
    filters.pop("instance_id", None)
    interfaces: dict[str, dict] = {}
    for instance in dict.fromkeys(instance_ids):
        for interface in describe_interfaces(connection, instance_id=instance, **filters):
            interfaces.setdefault(interface["id"], interface)
    return list(interfaces.values())


def main():
    module = AlicloudModule(
        argument_spec=argument_spec(), supports_check_mode=True, mutually_exclusive=[["instance_id", "instance_ids"]]
    )
    module.exit_listing("interfaces", build_filters, describe, "list the ENIs")


if __name__ == "__main__":
    main()
