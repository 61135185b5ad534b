#!/usr/bin/python
# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: havip_info
short_description: Which host holds an Alibaba Cloud HaVip now, and which EIP rides on it
version_added: 0.1.0
description:
  - Lists HaVips with the instance that is master now (C(MasterInstanceId), which the platform moves when the
    keepalived master changes), the associated instances and the EIPs on the HaVip.
  - All filters are AND-ed; none lists every HaVip of the region.
author:
  - alicloud.eip developers (@alicloud-eip)
options:
  havip_ids:
    description:
      - Only these HaVips.
    type: list
    elements: str
  name:
    description:
      - Only HaVips of this name.
    type: str
  vpc_id:
    description:
      - Only HaVips of this VPC.
    type: str
  vswitch_id:
    description:
      - Only HaVips of this vSwitch.
    type: str
  ip_address:
    description:
      - Only the HaVip with this private address.
    type: str
  tags:
    description:
      - Only HaVips with all these tags.
    type: dict
extends_documentation_fragment:
  - alicloud.eip._alicloud
  - alicloud.eip._attributes
  - alicloud.eip._attributes.ACTIONGROUP_ALICLOUD
  - alicloud.eip._attributes.INFO_MODULE
notes:
  - One C(DescribeHaVips) listing (every page), and one C(DescribeEipAddresses) per HaVip that has an EIP.
seealso:
  - module: alicloud.eip.havip
"""

EXAMPLES = r"""
- name: Which host is master of the web HaVip now
  alicloud.eip.havip_info:
    name: web-vip
  register: vip

- name: Show the master and its public address
  ansible.builtin.debug:
    msg: "{{ vip.havips[0].master_instance_id }} answers on {{ vip.havips[0].eip_addresses | join(', ') }}"
"""

RETURN = r"""
havips:
  description: The HaVips found, sorted by ID.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: The ID of the HaVip.
      type: str
      sample: havip-bp1xxxxxxxxxxxxxxxxxx
    name:
      description: Its name.
      type: str
      sample: web-vip
    description:
      description: Its description.
      type: str
      sample: ""
    status:
      description: C(Creating), C(Available), C(InUse), C(Associating), C(Unassociating) or C(Deleting).
      type: str
      sample: InUse
    ip_address:
      description: The private address.
      type: str
      sample: 192.168.0.100
    vpc_id:
      description: The VPC.
      type: str
      sample: vpc-bp1xxxxxxxxxxxxxxxxxx
    vswitch_id:
      description: The vSwitch.
      type: str
      sample: vsw-bp1yyyyyyyyyyyyyyyyyy
    master_instance_id:
      description: The associated instance (or ENI) that holds the address now; empty when none does.
      type: str
      sample: i-bp1aaaaaaaaaaaaaaaaa
    associated_instance_type:
      description: C(EcsInstance) or C(NetworkInterface).
      type: str
      sample: EcsInstance
    associated_instances:
      description: The associated instances or ENIs.
      type: list
      elements: str
      sample: [i-bp1aaaaaaaaaaaaaaaaa, i-bp1bbbbbbbbbbbbbbbbb]
    eip_addresses:
      description: The public addresses of the EIPs on the HaVip.
      type: list
      elements: str
      sample: [47.96.10.20]
    eips:
      description: The EIPs on the HaVip (allocation ID and address).
      type: list
      elements: dict
      sample: [{allocation_id: eip-bp1xxxxxxxxxxxxxxxxxx, ip_address: 47.96.10.20}]
    create_time:
      description: When it was created (UTC).
      type: str
      sample: "2026-12-01T10:00:00Z"
    tags:
      description: Its tags.
      type: dict
      sample: {app: web}
"""

from ansible_collections.alicloud.eip.plugins.module_utils._api.vpc_eip import describe_eip_addresses
from ansible_collections.alicloud.eip.plugins.module_utils._api.vpc_havip import list_ha_vips
from ansible_collections.alicloud.eip.plugins.module_utils._client import AlicloudModule


def argument_spec() -> dict:
    return {
        "havip_ids": {"type": "list", "elements": "str"},
        "name": {"type": "str"},
        "vpc_id": {"type": "str"},
        "vswitch_id": {"type": "str"},
        "ip_address": {"type": "str"},
        "tags": {"type": "dict"},
    }


def build_filters(params: dict) -> dict:
    """Module options -> DescribeHaVips filters (the name is matched here: the API has no name filter)."""
    return {
        "filters": {
            "HaVipId": [item for item in params["havip_ids"] or () if item],
            "VpcId": [params["vpc_id"]] if params["vpc_id"] else [],
            "VSwitchId": [params["vswitch_id"]] if params["vswitch_id"] else [],
            "HaVipAddress": [params["ip_address"]] if params["ip_address"] else [],
        },
        "tags": dict(params["tags"] or {}),
        "name": params["name"],
    }


def describe(connection, filters: dict, tags: dict, name: str | None) -> list[dict]:
    found = [item for item in list_ha_vips(connection, filters, tags) if name is None or item["name"] == name]
    for item in found:
        eips = []
        if item["eip_addresses"]:
            eips = describe_eip_addresses(connection, associated_instance_id=item["id"], associated_instance_type="HaVip")
        item["eips"] = [{"allocation_id": eip["allocation_id"], "ip_address": eip["ip_address"]} for eip in eips]
    return found


def main():
    module = AlicloudModule(argument_spec=argument_spec(), supports_check_mode=True)
    module.exit_listing("havips", build_filters, describe, "list the HaVips")


if __name__ == "__main__":
    main()
