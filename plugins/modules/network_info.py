#!/usr/bin/python
# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: network_info
short_description: Look up ECS instances, vSwitches and security groups by ID before creating anything
version_added: 0.1.0
description:
  - Reads, in one task, the ECS instances, vSwitches and security groups a play is about to use, so that a role can
    refuse bad input before its first mutating call (the roles P(alicloud.eip.multi_eip#role) and
    P(alicloud.eip.nat_egress#role) do).
  - Each list returns only the resources that exist in the region; an ID that is missing from the answer does not
    exist there (or the caller may not read it).
  - With O(havips=true) each vSwitch also lists the HaVips in it (C(DescribeHaVips) filtered by C(VSwitchId)); an SNAT
    entry cannot have such a vSwitch as its source (C(Forbidden.SourceVSwitchId.IncludeHaVip)).
author:
  - alicloud.eip developers (@alicloud-eip)
options:
  instance_ids:
    description:
      - ECS instances to read (C(DescribeInstances), 100 IDs per call).
    type: list
    elements: str
    default: []
  vswitch_ids:
    description:
      - vSwitches to read (C(DescribeVSwitches); the API filters by one ID, so one call per vSwitch).
    type: list
    elements: str
    default: []
  security_group_ids:
    description:
      - Security groups to read (C(DescribeSecurityGroups), 100 IDs per call).
    type: list
    elements: str
    default: []
  havips:
    description:
      - Also list the HaVips of each vSwitch of O(vswitch_ids) under C(havip_ids) (one C(DescribeHaVips) per 20
        vSwitches).
    type: bool
    default: false
extends_documentation_fragment:
  - alicloud.eip._alicloud
  - alicloud.eip._attributes
  - alicloud.eip._attributes.INFO_MODULE
  - alicloud.eip._attributes.ACTIONGROUP_ALICLOUD
notes:
  - A RAM user without permission to describe instances gets an empty list from C(DescribeInstances), not an error; a
    missing instance in the answer can also mean that.
seealso:
  - module: alicloud.eip.eni_info
  - module: alicloud.eip.nat_gateway_info
"""

EXAMPLES = r"""
- name: Read what new ENIs of an instance would depend on
  alicloud.eip.network_info:
    instance_ids: [i-bp1a2b3c4d5e6f7g8h9i0]
    vswitch_ids: [vsw-bp1xxxxxxxxxxxxxxxx]
    security_group_ids: [sg-bp1web]
    region: cn-hangzhou
  register: network

- name: Refuse a vSwitch of another zone
  ansible.builtin.assert:
    that:
      - network.vswitches | length == 1
      - network.vswitches[0].zone_id == network.instances[0].zone_id

- name: Which vSwitches hold a HaVip (no SNAT entry can use them as source)
  alicloud.eip.network_info:
    vswitch_ids: [vsw-bp1app, vsw-bp1db]
    havips: true
  register: sources
"""

RETURN = r"""
instances:
  description: The ECS instances of O(instance_ids) that exist, in API order.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: The instance ID.
      type: str
      sample: i-bp1a2b3c4d5e6f7g8h9i0
    status:
      description: C(Pending), C(Running), C(Starting), C(Stopping) or C(Stopped).
      type: str
      sample: Running
    network_type:
      description: C(vpc) or C(classic).
      type: str
      sample: vpc
    instance_type:
      description: The instance type.
      type: str
      sample: ecs.g7.large
    vpc_id:
      description: The VPC of the instance.
      type: str
      sample: vpc-bp1a2b3c4d5e6f7g8h9i0
    zone_id:
      description: The zone of the instance.
      type: str
      sample: cn-hangzhou-h
    public_ip_addresses:
      description: Fixed public addresses of the instance.
      type: list
      elements: str
      sample: []
    eip_allocation_id:
      description: The EIP associated with the instance itself, if any.
      type: str
      sample: ""
    eip_address:
      description: Its address.
      type: str
      sample: ""
    primary_eni_id:
      description: The primary ENI.
      type: str
      sample: eni-bp1primary
    primary_ip:
      description: The primary private address.
      type: str
      sample: 10.1.0.10
vswitches:
  description: The vSwitches of O(vswitch_ids) that exist, in the order asked.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: The vSwitch ID.
      type: str
      sample: vsw-bp1xxxxxxxxxxxxxxxx
    vpc_id:
      description: Its VPC.
      type: str
      sample: vpc-bp1a2b3c4d5e6f7g8h9i0
    zone_id:
      description: Its zone.
      type: str
      sample: cn-hangzhou-h
    cidr_block:
      description: Its IPv4 block.
      type: str
      sample: 10.1.0.0/24
    status:
      description: C(Pending) or C(Available).
      type: str
      sample: Available
    name:
      description: Its name.
      type: str
      sample: app
    available_ip_count:
      description: Free private addresses (C(AvailableIpAddressCount)); C(null) when the API does not say.
      type: int
      sample: 248
    havip_ids:
      description: The HaVips in the vSwitch.
      returned: when O(havips=true)
      type: list
      elements: str
      sample: [havip-bp1keepalived]
security_groups:
  description: The security groups of O(security_group_ids) that exist, in API order.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: The security group ID.
      type: str
      sample: sg-bp1web
    name:
      description: Its name.
      type: str
      sample: web
    vpc_id:
      description: Its VPC.
      type: str
      sample: vpc-bp1a2b3c4d5e6f7g8h9i0
    type:
      description: C(normal) or C(enterprise).
      type: str
      sample: normal
"""

from ansible_collections.alicloud.eip.plugins.module_utils._api.ecs import describe_instances, describe_security_groups
from ansible_collections.alicloud.eip.plugins.module_utils._api.vpc_network import describe_vswitches, havips_by_vswitch
from ansible_collections.alicloud.eip.plugins.module_utils._client import AlicloudModule


def argument_spec() -> dict:
    return {
        "instance_ids": {"type": "list", "elements": "str", "default": []},
        "vswitch_ids": {"type": "list", "elements": "str", "default": []},
        "security_group_ids": {"type": "list", "elements": "str", "default": []},
        "havips": {"type": "bool", "default": False},
    }


def look_up(connection, params: dict) -> dict:
    """The three lists the options ask for (an empty option asks for nothing, not for everything)."""
    instance_ids = [item for item in params["instance_ids"] if item]
    vswitch_ids = [item for item in params["vswitch_ids"] if item]
    group_ids = [item for item in params["security_group_ids"] if item]
    vswitches = describe_vswitches(connection, vswitch_ids)
    if params["havips"] and vswitches:
        held = havips_by_vswitch(connection, [vswitch["id"] for vswitch in vswitches])
        for vswitch in vswitches:
            vswitch["havip_ids"] = held.get(vswitch["id"], [])
    return {
        "instances": describe_instances(connection, instance_ids) if instance_ids else [],
        "vswitches": vswitches,
        "security_groups": describe_security_groups(connection, group_ids) if group_ids else [],
    }


def main():
    module = AlicloudModule(argument_spec=argument_spec(), supports_check_mode=True)
    module.exit_info(
        lambda: look_up(module.connection, module.params), "read the instances, vSwitches and security groups"
    )


if __name__ == "__main__":
    main()
