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
      - One of O(network_interface_id) and O(network_interface_ids) is required.
    type: str
    aliases: [eni_id]
  network_interface_ids:
    description:
      - The IDs of many secondary ENIs (for example one per host of a fleet), instead of O(network_interface_id).
      - The module reads each ENI's gateways (C(DescribeEipGatewayInfo) takes one ENI per call; the calls run
        concurrently, up to 8 at a time) and the allocation IDs of all their addresses with C(DescribeEipAddresses),
        50 addresses per call, instead of one call per ENI.
      - RV(eips) is then the concatenation over the ENIs, in the order given, each entry naming its ENI.
    type: list
    elements: str
extends_documentation_fragment:
  - alicloud.eip._alicloud
  - alicloud.eip._attributes
  - alicloud.eip._attributes.INFO_MODULE
  - alicloud.eip._attributes.ACTIONGROUP_ALICLOUD
notes:
  - The API answers only for EIPs in C(MULTI_BINDED) mode; an ENI with EIPs in NAT or cut-through (C(BINDED)) mode,
    or with none, gives an empty list.
  - The allocation IDs come from one C(DescribeEipAddresses) of the EIPs on the ENI (with O(network_interface_ids),
    of the addresses the API reported, 50 per call); an address the API reports without a matching EIP record on
    that ENI gets an empty allocation ID.
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

- name: Gateways and masks of the secondary ENIs of a whole fleet, in one task
  alicloud.eip.eip_gateway_info:
    network_interface_ids:
      - eni-bp1xxxxxxxxxxxxxxxxxx
      - eni-bp1yyyyyyyyyyyyyyyyyy
  run_once: true
  delegate_to: localhost
  register: fleet_gateways

- name: Configure them on the instance
  alicloud.eip.eni_routing:
    interfaces:
      - mac: "00:16:3e:00:00:02"
        mode: multi_eip
        eips: "{{ gateway_info.eips }}"
"""

RETURN = r"""
eips:
  description:
    - The MULTI_BINDED EIPs of the ENI, ordered by address.
    - With O(network_interface_ids), those of every ENI, ENI after ENI in the order given (each ENI's ordered by
      address), each with its RV(eips[].network_interface_id).
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
    network_interface_id:
      description: The ENI the EIP is on.
      returned: with O(network_interface_ids)
      type: str
      sample: eni-bp1xxxxxxxxxxxxxxxxxx
"""

import ipaddress

from ansible_collections.alicloud.eip.plugins.module_utils._api.namespace import API
from ansible_collections.alicloud.eip.plugins.module_utils._client import AlicloudModule
from ansible_collections.alicloud.eip.plugins.module_utils._item_list import MAX_WORKERS
from ansible_collections.alicloud.eip.plugins.module_utils._util import run_concurrently


def argument_spec() -> dict:
    return {
        "network_interface_id": {"type": "str", "aliases": ["eni_id"]},
        "network_interface_ids": {"type": "list", "elements": "str"},
    }


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


def fleet_gateway_entries(connection, eni_ids: list[str], api=API) -> list[dict]:
    """The gateway entries of many ENIs, ENI after ENI, each with its allocation ID and ``network_interface_id``.

    One DescribeEipGatewayInfo per ENI (the API takes one), concurrently; then one DescribeEipAddresses for all their
    addresses (50 per call) rather than one per ENI.  An address keeps an empty allocation ID unless an EIP record
    with that address is on that ENI, as in :func:`gateway_entries`.
    """
    answers = run_concurrently(lambda eni_id: api.describe_eip_gateway_info(connection, eni_id), eni_ids, MAX_WORKERS)
    for _eni_id, _entries, error in answers:
        if error is not None:
            raise error
    addresses = [entry["ip"] for _eni_id, entries, _error in answers for entry in entries]
    held = api.describe_eip_addresses(connection, ip_addresses=addresses) if addresses else []
    ids = {(eip["instance_id"], eip["ip_address"]): eip["allocation_id"] for eip in held}
    result = []
    for eni_id, entries, _error in answers:
        found = [
            {**entry, "allocation_id": ids.get((eni_id, entry["ip"]), ""), "network_interface_id": eni_id}
            for entry in entries
        ]
        result.extend(sorted(found, key=_address_order))
    return result


def _address_order(entry: dict) -> tuple:
    """Numeric order of the addresses; one that is not IPv4 sorts last, by its text."""
    try:
        return (0, int(ipaddress.IPv4Address(entry["ip"])), "")
    except ValueError:
        return (1, 0, entry["ip"])


def eni_id_of(value: str, option: str) -> str:
    """The ENI ID, stripped; fails the module on anything else (the caller's ``fail``)."""
    eni_id = value.strip()
    if not eni_id.startswith("eni-"):
        raise ValueError(f"{option}: {eni_id!r} is not an ENI ID (they look like eni-bp1xxxxxxxx)")
    return eni_id


def main():
    module = AlicloudModule(
        argument_spec=argument_spec(),
        supports_check_mode=True,
        mutually_exclusive=[["network_interface_id", "network_interface_ids"]],
        required_one_of=[["network_interface_id", "network_interface_ids"]],
    )
    params = module.params
    try:
        if params["network_interface_ids"] is not None:
            eni_ids = [
                eni_id_of(value, f"network_interface_ids[{index}]")
                for index, value in enumerate(params["network_interface_ids"])
            ]
            eni_ids = list(dict.fromkeys(eni_ids))
        else:
            eni_id = eni_id_of(params["network_interface_id"], "network_interface_id")
    except ValueError as error:
        module.fail_json(msg=str(error))
    if params["network_interface_ids"] is not None:
        module.exit_info(
            lambda: {"eips": fleet_gateway_entries(module.connection, eni_ids)},
            f"read the EIP gateways of {', '.join(eni_ids) or 'no ENI'}",
        )
    module.exit_info(lambda: {"eips": gateway_entries(module.connection, eni_id)}, f"read the EIP gateways of {eni_id}")


if __name__ == "__main__":
    main()
