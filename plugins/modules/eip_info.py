#!/usr/bin/python
# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: eip_info
short_description: List Alibaba Cloud Elastic IP Addresses and what they are associated with
version_added: 0.1.0
description:
  - Lists the Elastic IP Addresses (EIPs) of a region that match every given filter, reading every page of
    C(DescribeEipAddresses).
  - Returns each EIP with its holder (resource, type, private IP, mode) in the same form as
    M(alicloud.eip.eip_association).
author:
  - alicloud.eip developers (@alicloud-eip)
options:
  allocation_ids:
    description:
      - Only these EIPs (IDs such as C(eip-bp1xxxxxxxx)). Asked for 50 at a time, the API's limit.
      - An ID that does not exist is simply not returned.
    type: list
    elements: str
  ip_addresses:
    description:
      - Only the EIPs with these public addresses.
    type: list
    elements: str
  status:
    description:
      - Only EIPs in this status.
    type: str
    choices: [Associating, Unassociating, InUse, Available, Releasing]
  associated_instance_id:
    description:
      - Only EIPs associated with this resource. Its type follows from the ID's prefix as in
        M(alicloud.eip.eip_association) (the API would otherwise assume an ECS instance); O(associated_instance_type)
        overrides it.
    type: str
  associated_instance_type:
    description:
      - Only EIPs associated with this type of resource.
    type: str
    choices: [EcsInstance, NetworkInterface, Nat, SlbInstance, HaVip, IpAddress]
  name:
    description:
      - Only EIPs with this name.
    type: str
  tags:
    description:
      - Only EIPs that carry every one of these tags (key and value).
    type: dict
extends_documentation_fragment:
  - alicloud.eip._alicloud
  - alicloud.eip._attributes
  - alicloud.eip._attributes.INFO_MODULE
  - alicloud.eip._attributes.ACTIONGROUP_ALICLOUD
notes:
  - With both O(allocation_ids) and O(ip_addresses), the EIPs are listed by ID and the addresses matched here (the
    API cannot combine the two lists in one batch).
seealso:
  - module: alicloud.eip.eip_association
"""

EXAMPLES = r"""
- name: Every EIP of the region
  alicloud.eip.eip_info:
    region: cn-hangzhou
  register: all_eips

- name: The EIPs on one ENI
  alicloud.eip.eip_info:
    associated_instance_id: eni-bp1xxxxxxxxxxxxxxxxxx
  register: on_eni

- name: Free EIPs of the web team
  alicloud.eip.eip_info:
    status: Available
    tags:
      team: web

- name: Check that an EIP sits on the right private IP
  ansible.builtin.assert:
    that:
      - on_eni.eips | selectattr('private_ip_address', 'equalto', '10.1.0.61') | list | length == 1
"""

RETURN = r"""
eips:
  description: The matching EIPs, newest first as the API lists them.
  returned: always
  type: list
  elements: dict
  contains:
    allocation_id:
      description: The ID of the EIP.
      type: str
      sample: eip-bp1a2b3c4d5e6f7g8h9i0
    ip_address:
      description: The public IP address.
      type: str
      sample: 47.96.10.20
    status:
      description: C(Associating), C(InUse), C(Unassociating), C(Available) or C(Releasing).
      type: str
      sample: InUse
    region_id:
      description: The region of the EIP.
      type: str
      sample: cn-hangzhou
    instance_id:
      description: The resource holding the EIP; empty when unassociated.
      type: str
      sample: eni-bp1xxxxxxxxxxxxxxxxxx
    instance_type:
      description: The holder's type (C(EcsInstance), C(NetworkInterface), C(Nat), C(SlbInstance), C(HaVip), C(IpAddress)); empty when unassociated.
      type: str
      sample: NetworkInterface
    instance_region_id:
      description: The holder's region.
      type: str
      sample: cn-hangzhou
    mode:
      description: The association mode (C(NAT), C(BINDED), C(MULTI_BINDED)); empty when unassociated.
      type: str
      sample: NAT
    private_ip_address:
      description: The private IP the EIP maps to (ENI and IP address targets; the primary IP for an ECS instance).
      type: str
      sample: 10.1.0.61
    vpc_id:
      description: The VPC of the holder.
      type: str
      sample: vpc-bp1a2b3c4d5e6f7g8h9i0
    bandwidth:
      description: The peak bandwidth in Mbit/s (an integer; the API sends it as a string).
      type: int
      sample: 5
    internet_charge_type:
      description: C(PayByBandwidth) or C(PayByTraffic).
      type: str
      sample: PayByTraffic
    charge_type:
      description: C(PostPaid) (pay-as-you-go) or C(PrePaid) (subscription).
      type: str
      sample: PostPaid
    isp:
      description: The line type (C(BGP), C(BGP_PRO), ...).
      type: str
      sample: BGP
    netmode:
      description: The network type, C(public).
      type: str
      sample: public
    name:
      description: The name of the EIP.
      type: str
      sample: web-frontend
    description:
      description: The description of the EIP.
      type: str
      sample: ""
    allocation_time:
      description: When the EIP was allocated (UTC).
      type: str
      sample: "2026-11-20T08:00:00Z"
    expired_time:
      description: When a subscription EIP expires; empty for pay-as-you-go.
      type: str
      sample: ""
    business_status:
      description: C(Normal), C(FinancialLocked) or another lock state.
      type: str
      sample: Normal
    resource_group_id:
      description: The resource group.
      type: str
      sample: rg-acfmxazb4ph6aiy
    bandwidth_package_id:
      description: The EIP bandwidth plan the EIP belongs to, if any.
      type: str
      sample: ""
    deletion_protection:
      description: Whether deletion protection is on.
      type: bool
      sample: false
    operation_locks:
      description: Lock reasons (C(financial), C(security)); empty when unlocked.
      type: list
      elements: str
      sample: []
    tags:
      description: The tags of the EIP.
      type: dict
      sample: {team: web}
    service_managed:
      description: True when a cloud service's ENI holds the EIP (an ALB or NLB zone; the API's C(ServiceManaged)).
      type: bool
      sample: false
    owner:
      description:
        - The load balancer whose zone holds the EIP (C(type) V(alb) or V(nlb), C(id), C(zone_id)); null otherwise.
        - Looked up only for an EIP on a service-managed ENI (by eip_info, and by eip_association for the EIPs it
          deals with).
      type: dict
      sample: {type: alb, id: alb-bp1a2b3c4d5e6f7g8h9, zone_id: cn-hangzhou-h}
"""

import ipaddress

from ansible_collections.alicloud.eip.plugins.module_utils._api.vpc_eip import describe_eip_addresses
from ansible_collections.alicloud.eip.plugins.module_utils._client import AlicloudModule
from ansible_collections.alicloud.eip.plugins.module_utils._eip_association.request import (
    infer_instance_type,
    is_allocation_id,
)
from ansible_collections.alicloud.eip.plugins.module_utils._eip_association.targets import INSTANCE_TYPES, ZONAL
from ansible_collections.alicloud.eip.plugins.module_utils._util import InputError

STATUSES = ["Associating", "Unassociating", "InUse", "Available", "Releasing"]


def argument_spec() -> dict:
    return {
        "allocation_ids": {"type": "list", "elements": "str"},
        "ip_addresses": {"type": "list", "elements": "str"},
        "status": {"type": "str", "choices": STATUSES},
        "associated_instance_id": {"type": "str"},
        # ALB and NLB are not holders the EIP API filters by (their EIPs sit on service-managed ENIs).
        "associated_instance_type": {"type": "str", "choices": [name for name in INSTANCE_TYPES if name not in ZONAL]},
        "name": {"type": "str"},
        "tags": {"type": "dict"},
    }


def build_filters(params: dict) -> dict:
    """The describe_eip_addresses filters the options ask for; raises InputError for bad input."""
    for address in params.get("ip_addresses") or []:
        try:
            ipaddress.IPv4Address(address)
        except ValueError:
            raise InputError(f"ip_addresses: {address!r} is not an IPv4 address") from None
    for allocation_id in params.get("allocation_ids") or []:
        if not is_allocation_id(str(allocation_id)):
            raise InputError(
                f"allocation_ids: {allocation_id!r} is not an EIP allocation ID (they look like eip-bp1xxxxxxxx)"
            )
    instance_id = params.get("associated_instance_id")
    instance_type = params.get("associated_instance_type")
    if instance_id and not instance_type:
        instance_type = infer_instance_type(instance_id)
        if instance_type is None:
            raise InputError(
                f"cannot tell what associated_instance_id={instance_id!r} is from its prefix (i-, eni-, ngw-, lb-, "
                "havip- or an IP address); set associated_instance_type"
            )
        if instance_type in ZONAL:
            raise InputError(
                f"associated_instance_id={instance_id}: the EIP API cannot filter by an ALB or NLB (their EIPs sit on "
                "service-managed ENIs); list the EIPs without it and read each one's owner"
            )
    return {
        "allocation_ids": params.get("allocation_ids"),
        "ip_addresses": params.get("ip_addresses"),
        "status": params.get("status"),
        "associated_instance_id": instance_id,
        "associated_instance_type": instance_type,
        "name": params.get("name"),
        "tags": {str(key): str(value) for key, value in (params.get("tags") or {}).items()} or None,
    }


def describe_with_owners(connection, **filters) -> list[dict]:
    """The EIPs, each on a service-managed ENI with its ``owner`` (the ALB or NLB and zone) looked up."""
    eips = describe_eip_addresses(connection, **filters)
    if any(eip.get("service_managed") for eip in eips):
        # Imported here: the whole API namespace (every product file) is needed only for this lookup, and a module
        # process that lists no load-balancer EIP does not pay for compiling it (issue 14, module start-up).
        from ansible_collections.alicloud.eip.plugins.module_utils._api.namespace import API
        from ansible_collections.alicloud.eip.plugins.module_utils._eip_association import lb_zones

        lb_zones.gather(connection, API, {eip["allocation_id"]: eip for eip in eips}, {}, [], ZONAL)
    return eips


def main():
    module = AlicloudModule(argument_spec=argument_spec(), supports_check_mode=True)
    module.exit_listing("eips", build_filters, describe_with_owners, "list the EIPs")


if __name__ == "__main__":
    main()
