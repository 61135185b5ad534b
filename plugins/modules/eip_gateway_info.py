#!/usr/bin/python
# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: eip_gateway_info
short_description: Gateway and netmask of the EIPs on an ENI in multi-EIP cut-through mode
version_added: 0.1.0
description:
  - Reads C(DescribeEipGatewayInfo) for a secondary elastic network interface (ENI) whose EIPs are associated in
    multi-EIP cut-through mode (C(MULTI_BINDED)), and returns each EIP with its gateway, netmask and allocation ID.
  - The operating system of the instance must configure these addresses itself; the list is in the shape the
    C(eips) of an M(alicloud.eip.eni_routing) interface (and of the C(alicloud.eip.eni_host) role) takes, so it can
    be passed on unchanged.
author:
  - alicloud.eip developers (@alicloud-eip)
options:
  network_interface_id:
    description:
      - The ID of the secondary ENI, for example C(eni-bp1xxxxxxxxxxxxxxxxxx).
    type: str
    required: true
    aliases: [eni_id]
extends_documentation_fragment:
  - alicloud.eip._alicloud
  - alicloud.eip._attributes
  - alicloud.eip._attributes.INFO_MODULE
  - alicloud.eip._attributes.ACTIONGROUP_ALICLOUD
notes:
  - The API answers only for EIPs in C(MULTI_BINDED) mode; an ENI with EIPs in NAT or cut-through (C(BINDED)) mode,
    or with none, gives an empty list.
  - The allocation IDs come from one C(DescribeEipAddresses) of the EIPs on the ENI; an address the API reports
    without a matching EIP record gets an empty allocation ID.
  - An ENI the caller cannot see answers C(Forbbiden) (sic, HTTP 403), the only documented error of the API.
seealso:
  - module: alicloud.eip.eip_association
  - module: alicloud.eip.eni_routing
"""

EXAMPLES = r"""
- name: Gateways and masks of the EIPs on a secondary ENI
  alicloud.eip.eip_gateway_info:
    eni_id: eni-bp1xxxxxxxxxxxxxxxxxx
    region: cn-shanghai
  delegate_to: localhost
  register: gateway_info

- name: Configure them on the instance
  alicloud.eip.eni_routing:
    interfaces:
      - mac: "00:16:3e:00:00:02"
        mode: multi_eip
        eips: "{{ gateway_info.eips }}"
"""

RETURN = r"""
eips:
  description: The MULTI_BINDED EIPs of the ENI, ordered by address.
  returned: always
  type: list
  elements: dict
  contains:
    ip:
      description: The EIP.
      type: str
      sample: 47.96.1.10
    gateway:
      description: Its gateway.
      type: str
      sample: 47.96.1.1
    mask:
      description: Its netmask, dotted.
      type: str
      sample: 255.255.255.0
    allocation_id:
      description: The ID of the EIP; empty when no EIP record of the ENI has the address.
      type: str
      sample: eip-bp1a2b3c4d5e6f7g8h9i0
"""

import ipaddress

from ansible_collections.alicloud.eip.plugins.module_utils._api.namespace import API
from ansible_collections.alicloud.eip.plugins.module_utils._client import AlicloudModule


def argument_spec() -> dict:
    return {"network_interface_id": {"type": "str", "required": True, "aliases": ["eni_id"]}}


def gateway_entries(connection, eni_id: str, api=API) -> list[dict]:
    """The gateway entries of the ENI with the allocation ID of each address, ordered by address."""
    entries = api.describe_eip_gateway_info(connection, eni_id)
    if not entries:
        return []
    held = api.describe_eip_addresses(
        connection, associated_instance_id=eni_id, associated_instance_type="NetworkInterface"
    )
    ids = {eip["ip_address"]: eip["allocation_id"] for eip in held}
    result = [{**entry, "allocation_id": ids.get(entry["ip"], "")} for entry in entries]
    return sorted(result, key=_address_order)


def _address_order(entry: dict) -> tuple:
    """Numeric order of the addresses; one that is not IPv4 sorts last, by its text."""
    try:
        return (0, int(ipaddress.IPv4Address(entry["ip"])), "")
    except ValueError:
        return (1, 0, entry["ip"])


def main():
    module = AlicloudModule(argument_spec=argument_spec(), supports_check_mode=True)
    eni_id = module.params["network_interface_id"].strip()
    if not eni_id.startswith("eni-"):
        module.fail_json(msg=f"network_interface_id: {eni_id!r} is not an ENI ID (they look like eni-bp1xxxxxxxx)")
    module.exit_info(lambda: {"eips": gateway_entries(module.connection, eni_id)}, f"read the EIP gateways of {eni_id}")


if __name__ == "__main__":
    main()
