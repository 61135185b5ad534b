#!/usr/bin/python
# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: nat_gateway_info
short_description: List Alibaba Cloud NAT gateways with their EIPs and room for more
version_added: 0.1.0
description:
  - Lists the NAT gateways of a region that match every given filter, reading every page of C(DescribeNatGateways).
  - Returns each gateway with its EIPs and what uses each (SNAT, DNAT), its SNAT tables, how many more EIPs it can
    take (C(eip_limit) is 20), whether each new EIP takes a private IP of the gateway's vSwitch (gateways
    created since 2022-09-19) and how many free addresses that vSwitch has (C(DescribeVSwitches), one call per VPC).
author:
  - alicloud.eip developers (@alicloud-eip)
options:
  nat_gateway_ids:
    description:
      - Only these NAT gateways. The API filters by one ID per call, so each ID is one listing.
      - An ID that does not exist is simply not returned.
    type: list
    elements: str
  vpc_id:
    description:
      - Only the NAT gateways of this VPC.
    type: str
  name:
    description:
      - Only the NAT gateways with this name.
    type: str
  snat_entries:
    description:
      - Also return the entries of each gateway's SNAT tables (one C(DescribeSnatTableEntries) listing per table).
    type: bool
    default: false
extends_documentation_fragment:
  - alicloud.eip._alicloud
  - alicloud.eip._attributes
  - alicloud.eip._attributes.INFO_MODULE
  - alicloud.eip._attributes.ACTIONGROUP_ALICLOUD
notes:
  - C(vswitch_free_ips) is C(AvailableIpAddressCount) of the gateway's vSwitch as C(DescribeVSwitches) reports it;
    it is C(null) when the vSwitch is not listed.
seealso:
  - module: alicloud.eip.snat_entry
  - module: alicloud.eip.eip_association
"""

EXAMPLES = r"""
- name: The NAT gateways of a VPC
  alicloud.eip.nat_gateway_info:
    vpc_id: vpc-bp1a2b3c4d5e6f7g8h9i0
    region: cn-hangzhou
  register: gateways

- name: One gateway, with its SNAT entries
  alicloud.eip.nat_gateway_info:
    nat_gateway_ids: [ngw-bp1xxxxxxxxxxxxxxxxxx]
    snat_entries: true
  register: gateway

- name: Check there is room for two more EIPs
  ansible.builtin.assert:
    that:
      - gw.eip_limit - gw.eip_count >= 2
      - not gw.consumes_vswitch_ip or gw.vswitch_free_ips >= 2
  vars:
    gw: "{{ gateway.nat_gateways[0] }}"

- name: The egress addresses in use by SNAT
  ansible.builtin.debug:
    msg: "{{ gateway.nat_gateways[0].eips | selectattr('using_status', 'in', ['UsedBySnatTable', 'UsedByForwardSnatTable'])
             | map(attribute='ip_address') | list }}"
"""

RETURN = r"""
nat_gateways:
  description: The matching NAT gateways, in API order.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: The ID of the NAT gateway.
      type: str
      sample: ngw-bp1xxxxxxxxxxxxxxxxxx
    name:
      description: The name.
      type: str
      sample: egress
    description:
      description: The description.
      type: str
      sample: ""
    vpc_id:
      description: The VPC of the gateway.
      type: str
      sample: vpc-bp1a2b3c4d5e6f7g8h9i0
    vswitch_id:
      description: The vSwitch the gateway sits in.
      type: str
      sample: vsw-bp1yyyyyyyyyyyyyyyyyy
    zone_id:
      description: The zone of the gateway.
      type: str
      sample: cn-hangzhou-h
    status:
      description: C(Creating), C(Available), C(Modifying), C(Deleting) or C(Converting).
      type: str
      sample: Available
    business_status:
      description: C(Normal) or C(FinancialLocked).
      type: str
      sample: Normal
    spec:
      description: The specification of a subscription gateway (empty for pay-as-you-go, enhanced gateways).
      type: str
      sample: ""
    nat_type:
      description: The gateway type, C(Enhanced).
      type: str
      sample: Enhanced
    network_type:
      description: C(internet) (Internet NAT gateway) or C(intranet) (VPC NAT gateway).
      type: str
      sample: internet
    eip_bind_mode:
      description: C(MULTI_BINDED) or C(NAT), how EIPs are bound.
      type: str
      sample: MULTI_BINDED
    created:
      description: When the gateway was created (UTC).
      type: str
      sample: "2023-05-01T00:00:00Z"
    snat_table_ids:
      description: The SNAT tables of the gateway.
      type: list
      elements: str
      sample: [stb-bp190wu8io1vgevxxxxxx]
    forward_table_ids:
      description: The DNAT (forward) tables of the gateway.
      type: list
      elements: str
      sample: [ftb-bp1mbjubq34hlcqpaxxxx]
    eips:
      description: The EIPs associated with the gateway.
      type: list
      elements: dict
      contains:
        allocation_id:
          description: The ID of the EIP.
          type: str
          sample: eip-bp1a2b3c4d5e6f7g8h9i0
        ip_address:
          description: The public address.
          type: str
          sample: 47.96.10.20
        using_status:
          description: C(Idle), C(UsedBySnatTable), C(UsedByForwardTable) or C(UsedByForwardSnatTable).
          type: str
          sample: UsedBySnatTable
        private_ip_address:
          description: The vSwitch address the EIP took (gateways created since 2022-09-19); else empty.
          type: str
          sample: 10.2.0.5
        snat_entry_enabled:
          description: Whether the EIP can be used by SNAT entries.
          type: bool
          sample: true
    eip_count:
      description: How many EIPs the gateway holds.
      type: int
      sample: 2
    eip_limit:
      description: How many EIPs a gateway can hold (the documented default quota, 20).
      type: int
      sample: 20
    consumes_vswitch_ip:
      description: Whether each EIP associated with the gateway takes a private IP of its vSwitch (gateways created
        on or after 2022-09-19).
      type: bool
      sample: true
    vswitch_free_ips:
      description: The free addresses of the gateway's vSwitch (C(AvailableIpAddressCount)); C(null) if unknown.
      type: int
      sample: 248
    snat_entries:
      description: The SNAT entries of the gateway's tables, each as M(alicloud.eip.snat_entry) returns C(snat_entry).
      returned: when O(snat_entries=true)
      type: list
      elements: dict
      sample:
        - id: snat-bp1vcgcf8tm0plqcgxxxx
          snat_table_id: stb-bp190wu8io1vgevxxxxxx
          nat_gateway_id: ngw-bp1xxxxxxxxxxxxxxxxxx
          source_vswitch_id: vsw-bp1yyyyyyyyyyyyyyyyyy
          source_cidr: 10.1.0.0/24
          network_interface_id: ""
          snat_ips: [47.96.10.20]
          name: web-egress
          eip_affinity: false
          status: Available
"""

from ansible_collections.alicloud.eip.plugins.module_utils._api.vpc_network import (
    describe_nat_gateways,
    describe_snat_entries,
    describe_vswitch_free_ips,
)
from ansible_collections.alicloud.eip.plugins.module_utils._client import AlicloudModule


def argument_spec() -> dict:
    return {
        "nat_gateway_ids": {"type": "list", "elements": "str"},
        "vpc_id": {"type": "str"},
        "name": {"type": "str"},
        "snat_entries": {"type": "bool", "default": False},
    }


def list_gateways(connection, params: dict) -> list:
    """The gateways the filters ask for, with their vSwitch's free addresses (and SNAT entries if asked)."""
    ids = params.get("nat_gateway_ids")
    if ids is not None and not ids:
        return []  # an empty list of IDs asks for nothing, not for every gateway of the region
    gateways = describe_nat_gateways(connection, ids, vpc_id=params.get("vpc_id"), name=params.get("name"))
    if not gateways:
        return gateways
    free = describe_vswitch_free_ips(connection, [gateway["vpc_id"] for gateway in gateways])
    for gateway in gateways:
        gateway["vswitch_free_ips"] = free.get(gateway["vswitch_id"])
        if params.get("snat_entries"):
            gateway["snat_entries"] = [
                entry for table_id in gateway["snat_table_ids"] for entry in describe_snat_entries(connection, table_id)
            ]
    return gateways


def main():
    module = AlicloudModule(argument_spec=argument_spec(), supports_check_mode=True)
    module.exit_info(
        lambda: {"nat_gateways": list_gateways(module.connection, module.params)}, "list the NAT gateways"
    )


if __name__ == "__main__":
    main()
