#!/usr/bin/python
# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: eip_association
short_description: Associate Alibaba Cloud Elastic IP Addresses with resources, or disassociate them
version_added: 0.1.0
description:
  - Puts an Elastic IP Address (EIP) on an ECS instance, an elastic network interface (ENI) in NAT, cut-through
    (C(BINDED)) or multi-EIP cut-through (C(MULTI_BINDED)) mode, an Internet NAT gateway, a Classic Load Balancer
    (CLB) instance, a high-availability virtual IP (HaVip) or an IP address of a VPC with an IPv4 gateway; or takes
    it off again. This implements every association of the vendor's I(Associate an EIP with a cloud resource).
  - Name one association with the top-level options, or many with O(associations); the list form converges all of
    them in one task, concurrently and within the API's flow limit, and polls them with one batched
    C(DescribeEipAddresses) per round.
  - The same EIP on the same target, private IP and mode makes no mutating call, so a second run reports no change.
  - Before any mutating call the module checks the request against the cloud's documented rules (one EIP per ECS
    instance, instance Running or Stopped, no fixed public IP, at most 20 EIPs per NAT gateway, one EIP per HaVip,
    cut-through only on a detached secondary ENI, one mode per ENI, ...). A request that breaks one fails with the
    same message in check mode and in a real run, naming the API error code the cloud would answer.
  - With O(allow_reassociation=true) an EIP held elsewhere is moved (disassociated, then associated), and an EIP
    that the target already holds in the slot (an ECS instance's EIP, the EIP on an ENI's private IP, a HaVip's or
    CLB's EIP) is replaced ("Replace the EIP" in the specification). The module never does either silently, and if
    the new association fails it puts the old one back.
author:
  - alicloud.eip developers (@alicloud-eip)
options:
  state:
    description:
      - V(present) associates; V(absent) disassociates.
      - With V(absent), name the EIP, or the resource (O(instance_id)) to take every EIP off (optionally only the one
        on O(private_ip_address)). An EIP that is not associated, or is associated with another resource than
        O(instance_id), is left alone.
    type: str
    choices: [present, absent]
    default: present
  allocation_id:
    description:
      - The ID of the EIP, for example C(eip-bp1xxxxxxxxxxxxxxxx). Mutually exclusive with O(ip_address).
    type: str
  ip_address:
    description:
      - The public address of the EIP, instead of O(allocation_id).
    type: str
  instance_id:
    description:
      - The resource that holds, or is to hold, the EIP. Its type follows from the ID's prefix (C(i-) ECS instance,
        C(eni-) ENI, C(ngw-) NAT gateway, C(lb-) CLB instance, C(havip-) HaVip, C(alb-) ALB instance, C(nlb-) NLB
        instance); an IPv4 address means an IP address of the VPC in O(vpc_id). O(instance_type) overrides the guess
        (except that an C(alb-) or C(nlb-) ID must match it).
    type: str
  instance_type:
    description:
      - The API's C(InstanceType) of O(instance_id), when the prefix does not tell it.
      - V(Alb) and V(Nlb) are not InstanceTypes of the EIP API; those load balancers take one EIP per zone through
        their own API (see O(zone_id)).
    type: str
    choices: [EcsInstance, NetworkInterface, Nat, SlbInstance, HaVip, IpAddress, Alb, Nlb]
  private_ip_address:
    description:
      - For an ENI in NAT mode, the private IP (primary or secondary) the EIP maps to; defaults to the ENI's primary
        private IP.
      - In cut-through mode (C(BINDED)) the EIP always takes the ENI's primary private IP; if given, it must be that.
      - In multi-EIP cut-through mode (C(MULTI_BINDED)), the secondary private IP to pair with the EIP (optional).
      - For an IP address target, the address (defaults to O(instance_id); UNCONFIRMED whether the API needs both).
        [fid:eip-ipaddress-private-ip]
      - Not allowed for the other target types, whose EIP maps to their primary address.
    type: str
  mode:
    description:
      - "How the EIP is put on an ENI (only for ENIs). The values are the API's C(Mode); in the console:"
      - V(NAT) is I(NAT Mode). The EIP maps one-to-one to a private IP of the ENI, primary or secondary, and is not
        visible in the operating system. This is the API's default.
      - V(BINDED) is I(Cut-through Mode) (I(EIP cut-through mode)). The EIP replaces the private IP of a secondary
        ENI, which must be detached while the EIP is associated and have no secondary private IPs.
      - V(MULTI_BINDED) is I(Multi-EIP cut-through mode) (I(multi-EIP to ENI mode); no longer open to new users).
        Up to 10 EIPs on a secondary ENI, visible in the operating system.
      - An ENI holds EIPs in one mode only. When omitted, an EIP already on the ENI is accepted in whatever mode it
        is, and a new association uses V(NAT).
      - Changing the mode of an associated EIP disassociates and associates it again, so it needs
        O(allow_reassociation=true).
    type: str
    choices: [NAT, BINDED, MULTI_BINDED]
  vpc_id:
    description:
      - The VPC of an IP address target (O(instance_id) is an IPv4 address); the VPC needs an IPv4 gateway.
    type: str
  zone_id:
    description:
      - For an ALB or NLB instance (required with O(state=present)), the zone whose EIP this is; the load balancer
        takes one EIP per zone. See C(docs/load-balancers.md) and
        the notes.
    type: str
  associations:
    description:
      - Many associations in one task, each with the options O(allocation_id), O(ip_address), O(instance_id),
        O(instance_type), O(private_ip_address), O(mode), O(vpc_id) and O(zone_id) as above; O(state), O(allow_reassociation),
        O(force), O(wait) and O(wait_timeout) apply to all.
      - Every item is checked before the first mutating call; two items may not name the same EIP, or put two EIPs
        on a place that takes one, or mix modes on one ENI.
      - Mutually exclusive with the single-association options.
    type: list
    elements: dict
    suboptions:
      allocation_id:
        description: The ID of the EIP.
        type: str
      ip_address:
        description: The public address of the EIP, instead of O(associations[].allocation_id).
        type: str
      instance_id:
        description: The resource to put the EIP on (or, with O(state=absent), take it off).
        type: str
      instance_type:
        description: The API's C(InstanceType), when the prefix of O(associations[].instance_id) does not tell it.
        type: str
        choices: [EcsInstance, NetworkInterface, Nat, SlbInstance, HaVip, IpAddress, Alb, Nlb]
      private_ip_address:
        description: As O(private_ip_address).
        type: str
      mode:
        description: As O(mode).
        type: str
        choices: [NAT, BINDED, MULTI_BINDED]
      vpc_id:
        description: As O(vpc_id).
        type: str
      zone_id:
        description: As O(zone_id).
        type: str
  allow_reassociation:
    description:
      - Move an EIP that another resource holds (it is disassociated first), and replace the EIP the target already
        holds in the requested place (the old EIP is disassociated first, and left unassociated).
      - Without it, both cases fail before any change, saying so.
    type: bool
    default: false
  force:
    description:
      - Disassociate an EIP from a NAT gateway even though SNAT or DNAT entries of the gateway use it (the API's
        C(Force)); the entries lose the address. Without it such a disassociation fails before any change.
      - With O(state=absent) on an ALB or NLB instance, the consent to take every EIP off, which turns the load
        balancer internal (C(Intranet)) and takes it off the internet.
    type: bool
    default: false
  wait:
    description:
      - Wait until every association is C(InUse) (and every disassociation C(Available)) before returning.
      - Disassociations that an association depends on are always waited for.
    type: bool
    default: true
  wait_timeout:
    description:
      - How long to wait, in seconds, for each batch of EIPs to reach its status; also bounds the wait for EIPs
        found in a transient state (C(Associating), C(Unassociating)) before deciding.
    type: int
    default: 300
extends_documentation_fragment:
  - alicloud.eip._alicloud
  - alicloud.eip._attributes
  - alicloud.eip._attributes.ACTIONGROUP_ALICLOUD
attributes:
  check_mode:
    support: full
    details:
      - Check mode reads the current state and predicts the documented failures with the same message as a real run.
  diff_mode:
    support: full
    details:
      - The diff shows, per EIP, the holder (resource, type, private IP, mode) before and after.
  idempotent:
    support: full
notes:
  - AssociateEipAddress and UnassociateEipAddress are asynchronous; the EIP goes C(Associating) then C(InUse), or
    C(Unassociating) then C(Available). With O(wait=true) the module polls with one batched C(DescribeEipAddresses)
    per round (50 EIPs per call), from a 0.2 s interval growing 1.5x up to 5 s, never longer than O(wait_timeout).
  - An EIP found in a transient state is waited for (up to O(wait_timeout)) before the module decides what to do.
  - The list form runs up to 16 calls at a time and never more than 120 AssociateEipAddress calls per 60 seconds,
    the API's documented flow limit (the same limit is assumed for UnassociateEipAddress, UNCONFIRMED).
    [fid:eip-unassociate-flow-limit]
  - A NAT gateway created since 2022-09-19 takes a private IP of its vSwitch per EIP; a vSwitch without a free
    address fails with C(OperationDenied.NoAvailablePrivateIp), which check mode cannot predict.
  - The VPC's IPv4 gateway is read (C(ListIpv4Gateways), one call per VPC, only for associations not yet in place)
    for a cut-through (C(BINDED)) ENI target, refused in a VPC with an IPv4 gateway
    (C(OperationDenied.Ipv4GatewayExist)), and for an IP address target (C(IpAddress)), which needs one
    (C(OperationFailed.Ipv4GatewayNotOpenedInVpc)); check mode predicts both.
  - For an IP address target, check mode cannot see the VPC's CIDR block nor an EIP already on the address; the API
    answers those itself.
  - "The cut-through modes exist only in some regions (as listed by the specification): check mode predicts
    C(UnsupportedRegion) from that list, which may lag behind Alibaba Cloud's."
  - The API does not document which code answers an EIP that is already C(InUse) on another resource;
    C(IncorrectEipStatus) is assumed (UNCONFIRMED [fid:eip-assoc-inuse-code]).
  - ALB and NLB instances take EIPs through their own zone mappings, not through AssociateEipAddress; the module
    routes them to the load balancer's API, one call per load balancer. An internal (C(Intranet)) one becomes
    Internet-facing with C(UpdateLoadBalancerAddressTypeConfig) carrying every zone's EIP, so every zone must be
    given an C(Available) EIP of the region in the same task. A zone's EIP is swapped with
    C(UpdateLoadBalancerAddressTypeConfig) (ALB) or C(UpdateLoadBalancerZones) with the full zone list (NLB). Taking
    every EIP off (O(state=absent), O(force=true)) makes it internal; taking off only some is refused, because an
    Internet-facing one needs an EIP per zone. The module waits for the job (C(ListAsynJobs) for ALB,
    C(GetJobStatus) for NLB) and then for the load balancer to be C(Active).
  - An EIP an ALB or NLB holds sits on a service-managed ENI; RV(eips[].owner) names the load balancer and zone, and
    the module refuses to move it elsewhere.
  - The rollback of a failed move or replace exists only while the module runs. A run killed between the
    disassociation and the association leaves the old holder without an EIP until the next run; the next run of
    the same task observes the EIP C(Available) and completes the move (after a replace the old EIP stays
    C(Available)). It does not put the EIP back on the old holder.
seealso:
  - module: alicloud.eip.eip_info
  - name: Associate an EIP with a cloud resource
    description: The Alibaba Cloud specification this module implements.
    link: https://www.alibabacloud.com/help/en/eip/user-guide/associate-an-eip-with-a-cloud-resource
"""

EXAMPLES = r"""
- name: Put an EIP on an ECS instance
  alicloud.eip.eip_association:
    allocation_id: eip-bp1a2b3c4d5e6f7g8h9i0
    instance_id: i-bp1a2b3c4d5e6f7g8h9i0
    region: cn-hangzhou

- name: Replace the EIP the instance already has (the old one is disassociated first)
  alicloud.eip.eip_association:
    ip_address: 47.96.10.20
    instance_id: i-bp1a2b3c4d5e6f7g8h9i0
    allow_reassociation: true

- name: One EIP per secondary private IP of an ENI, in NAT mode
  alicloud.eip.eip_association:
    associations:
      - allocation_id: eip-bp1aaaaaaaaaaaaaaaaaa
        instance_id: eni-bp1xxxxxxxxxxxxxxxxxx
        private_ip_address: 10.1.0.61
      - allocation_id: eip-bp1bbbbbbbbbbbbbbbbbb
        instance_id: eni-bp1xxxxxxxxxxxxxxxxxx
        private_ip_address: 10.1.0.62

- name: Cut-through mode on a detached secondary ENI (attach the ENI afterwards)
  alicloud.eip.eip_association:
    allocation_id: eip-bp1ccccccccccccccccccc
    instance_id: eni-bp1yyyyyyyyyyyyyyyyyy
    mode: BINDED

- name: An EIP on a NAT gateway, a CLB instance and a HaVip
  alicloud.eip.eip_association:
    associations:
      - allocation_id: eip-bp1dddddddddddddddddd
        instance_id: ngw-bp1zzzzzzzzzzzzzzzzzz
      - allocation_id: eip-bp1eeeeeeeeeeeeeeeeee
        instance_id: lb-bp1wwwwwwwwwwwwwwwwww
      - allocation_id: eip-bp1ffffffffffffffffff
        instance_id: havip-bp1vvvvvvvvvvvvvvvvvv

- name: An Internet-facing ALB with one EIP per zone (the same task swaps a zone's EIP later)
  alicloud.eip.eip_association:
    associations:
      - allocation_id: eip-bp1ggggggggggggggggggg
        instance_id: alb-bp1uuuuuuuuuuuuuuuuuu
        zone_id: cn-hangzhou-h
      - allocation_id: eip-bp1hhhhhhhhhhhhhhhhhh
        instance_id: alb-bp1uuuuuuuuuuuuuuuuuu
        zone_id: cn-hangzhou-i

- name: Take every EIP off an NLB (it becomes internal)
  alicloud.eip.eip_association:
    instance_id: nlb-bp1tttttttttttttttttt
    state: absent
    force: true

- name: Credentials and endpoint once for the whole play
  module_defaults:
    group/alicloud.eip.all:
      region: cn-hangzhou
      profile: production
  block:
    - name: Take the EIP off the NAT gateway even though SNAT entries use it
      alicloud.eip.eip_association:
        allocation_id: eip-bp1dddddddddddddddddd
        instance_id: ngw-bp1zzzzzzzzzzzzzzzzzz
        state: absent
        force: true

- name: Take every EIP off an ENI
  alicloud.eip.eip_association:
    instance_id: eni-bp1xxxxxxxxxxxxxxxxxx
    state: absent
"""

RETURN = r"""
eip:
  description:
    - The EIP, in the single form when the module dealt with exactly one EIP. After a change with O(wait=true) it
      shows the final state; in check mode, the current one.
  returned: when exactly one EIP was concerned
  type: dict
  contains: &eip_keys
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
      sample: i-bp1a2b3c4d5e6f7g8h9i0
    instance_type:
      description: The holder's type (C(EcsInstance), C(NetworkInterface), C(Nat), C(SlbInstance), C(HaVip), C(IpAddress)); empty when unassociated.
      type: str
      sample: EcsInstance
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
      sample: {env: prod}
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
eips:
  description:
    - Every EIP the module dealt with, in the order of the request (the requested EIPs; with O(state=absent) and only
      O(instance_id), the EIPs that resource held). Same keys as RV(eip).
  returned: always
  type: list
  elements: dict
  contains: *eip_keys
actions:
  description:
    - The mutating calls made (or, in check mode, that would be made), disassociations first.
  returned: always
  type: list
  elements: dict
  contains:
    action:
      description: V(associate) or V(disassociate).
      type: str
      sample: associate
    allocation_id:
      description: The EIP.
      type: str
      sample: eip-bp1a2b3c4d5e6f7g8h9i0
    ip_address:
      description: Its address.
      type: str
      sample: 47.96.10.20
    instance_id:
      description: The resource it is associated with, or disassociated from.
      type: str
      sample: eni-bp1xxxxxxxxxxxxxxxxxx
    instance_type:
      description: That resource's type.
      type: str
      sample: NetworkInterface
    private_ip_address:
      description: The private IP on an ENI (or the IP address target).
      type: str
      sample: 10.1.0.61
    mode:
      description: The mode on an ENI.
      type: str
      sample: NAT
    zone_id:
      description: The zone of an ALB or NLB instance; empty for the other targets.
      type: str
      sample: ""
    reason:
      description: Why, for example V(requested), V(moved from ...), V(replaces eip-...), V(replaced by ...).
      type: str
      sample: requested
rollbacks:
  description: After a failed association, what the module did to put back the EIPs it had disassociated for it.
  returned: on failure, when something was rolled back
  type: list
  elements: str
  sample: ["restored eip-bp1old (47.96.1.10) on ECS instance i-bp1a2b3c4d5e6f7g8h9i0"]
error:
  description: The API's answer to the call that failed, or the failure predicted from the current state.
  returned: on failure
  type: dict
  contains:
    code:
      description: The API error code, for example C(InvalidAssociation.Duplicated); C(TransportError) when the endpoint did not answer.
      type: str
      sample: InvalidAssociation.Duplicated
    message:
      description: The API's message (or the module's, for a predicted failure).
      type: str
      sample: Specified instance already is associated.
    request_id:
      description: The request ID to quote to Alibaba Cloud support; null for a predicted failure.
      type: str
      sample: 4FA6A9B1-6F3D-4B1A-9C2E-6F1B2A3C4D5E
    status_code:
      description: The HTTP status.
      type: int
      sample: 400
    action:
      description: The API action.
      type: str
      sample: AssociateEipAddress
    predicted:
      description: True when the failure was predicted before any call.
      type: bool
      sample: true
"""

from ansible_collections.alicloud.eip.plugins.module_utils._client import AlicloudModule
from ansible_collections.alicloud.eip.plugins.module_utils._eip_association.engine import Options, converge
from ansible_collections.alicloud.eip.plugins.module_utils._eip_association.kinds import MODES
from ansible_collections.alicloud.eip.plugins.module_utils._eip_association.plan import PlanError
from ansible_collections.alicloud.eip.plugins.module_utils._eip_association.request import (
    ITEM_OPTIONS,
    validate_request,
)
from ansible_collections.alicloud.eip.plugins.module_utils._eip_association.targets import INSTANCE_TYPES
from ansible_collections.alicloud.eip.plugins.module_utils._polling import WaitError
from ansible_collections.alicloud.eip.plugins.module_utils._retries import AlicloudApiError
from ansible_collections.alicloud.eip.plugins.module_utils._util import InputError


def item_spec() -> dict:
    """Options of one association (top level, and each ``associations`` item)."""
    return {
        "allocation_id": {"type": "str"},
        "ip_address": {"type": "str"},
        "instance_id": {"type": "str"},
        "instance_type": {"type": "str", "choices": list(INSTANCE_TYPES)},
        "private_ip_address": {"type": "str"},
        "mode": {"type": "str", "choices": list(MODES)},
        "vpc_id": {"type": "str"},
        "zone_id": {"type": "str"},
    }


def argument_spec() -> dict:
    spec = item_spec()
    spec.update(
        state={"type": "str", "choices": ["present", "absent"], "default": "present"},
        associations={"type": "list", "elements": "dict", "options": item_spec()},
        allow_reassociation={"type": "bool", "default": False},
        force={"type": "bool", "default": False},
        wait={"type": "bool", "default": True},
        wait_timeout={"type": "int", "default": 300},
    )
    return spec


def main():
    module = AlicloudModule(
        argument_spec=argument_spec(),
        # VPC on every run; the targets' products (ECS, SLB, ALB, NLB) are checked when the engine first describes a
        # target of theirs, which it does for every target before its first change.
        products=("vpc",),
        supports_check_mode=True,
        mutually_exclusive=[["allocation_id", "ip_address"]] + [["associations", name] for name in ITEM_OPTIONS],
        required_one_of=[["associations", "allocation_id", "ip_address", "instance_id"]],
    )
    params = module.params
    if params["wait_timeout"] <= 0:
        module.fail_json(msg=f"wait_timeout must be a positive number of seconds, got {params['wait_timeout']}")
    try:
        desired, warnings = validate_request(params)
    except InputError as error:
        module.fail_json(msg=str(error))
    for warning in warnings:
        module.warn(warning)

    options = Options(
        params["state"], params["allow_reassociation"], params["force"], params["wait"], params["wait_timeout"]
    )
    try:
        converged = converge(module.connection, desired, options, module.check_mode)
    except PlanError as error:
        module.fail_json(msg=str(error), error=error.as_dict(), changed=False)
    except WaitError as error:
        module.fail_json(msg=f"EIPs in a transient state did not settle: {error}", changed=False)
    except AlicloudApiError as error:
        module.fail_json_alicloud(error, "could not read the EIPs and resources to associate", changed=False)
    for warning in converged.warnings:
        module.warn(warning)

    result = {
        "changed": converged.changed,
        "eips": converged.eips,
        "actions": [step.as_dict() for step in converged.plan.steps],
    }
    if len(converged.eips) == 1:
        result["eip"] = converged.eips[0]
    if module._diff:
        result["diff"] = converged.plan.diff.as_diff()
    if converged.failed:
        if converged.rollbacks:
            result["rollbacks"] = converged.rollbacks
        error = converged.first_error
        module.fail_json(msg=converged.failure_message(), error=error.as_dict() if error else None, **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
