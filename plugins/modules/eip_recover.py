#!/usr/bin/python
# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: eip_recover
short_description: Recover a released Alibaba Cloud Elastic IP Address within 7 days
version_added: 0.1.0
description:
  - Makes sure that a public address the account released belongs to the account again as an Elastic IP Address
    (EIP). "An EIP address does not change during its lifecycle. If an EIP is released due to expiration or overdue
    payment, you can attempt to recover it within 7 days."
  - If the account already holds the address (or the allocation ID), nothing is allocated. Otherwise the module
    allocates exactly that address again with C(AllocateEipAddress) and C(IpAddress) (or, given only the released
    EIP's allocation ID, C(InstanceId)).
  - Optionally restores the name, description, bandwidth and tags, and puts the EIP back on a resource through the
    same engine as M(alicloud.eip.eip_association) (same rules, same predicted failures, same rollback).
author:
  - alicloud.eip developers (@alicloud-eip)
options:
  ip_address:
    description:
      - The public address to recover. The key of the recovery when given.
    type: str
  allocation_id:
    description:
      - The allocation ID of the released EIP (C(eip-...)). With O(ip_address), both must name the same released EIP.
      - Recovered by ID, the EIP keeps its ID; recovered by address it may get a new one (UNCONFIRMED
        [fid:eip-recover-address-new-id]), so use the
        returned RV(eip.allocation_id).
    type: str
  name:
    description:
      - The name to give the EIP (set during the recovery, or changed when it differs); 1 to 128 characters, not
        starting with C(http://) or C(https://).
    type: str
  description:
    description:
      - The description to give the EIP (2 to 256 characters, starting with a letter, not C(http://) or C(https://)).
    type: str
  bandwidth:
    description:
      - The peak bandwidth in Mbit/s. A recovered EIP otherwise gets the cloud's default (5 Mbit/s); an EIP the
        account holds is changed only when this is given and differs.
      - 1 to 200 for C(PayByTraffic) (the default of a recovered EIP), 1 to 500 for C(PayByBandwidth), 1 to 1000 for a
        subscription EIP; a value outside the range of the EIP's billing is refused before any call.
    type: int
  internet_charge_type:
    description:
      - The metering method of the recovered EIP (a recovered EIP defaults to C(PayByTraffic)). Used only when the
        address is recovered.
    type: str
    choices: [PayByBandwidth, PayByTraffic]
  tags:
    description:
      - The tags to restore. Not given (null) leaves the tags alone.
      - The limits of M(alicloud.eip.eip_address) apply (at most 20 tags, 128 characters, no C(aliyun)/C(acs:) prefix,
        text values only).
    type: dict
  purge_tags:
    description:
      - Remove the tags not in O(tags) (as in amazon.aws; the cloud's own C(acs:) and C(aliyun) tags stay).
    type: bool
    default: true
  association:
    description:
      - Put the EIP on this resource once it is back, as M(alicloud.eip.eip_association) would (same options and
        rules). An EIP already there is left alone.
      - The association is planned before anything is changed, in check mode and in a real run alike - a target that
        does not exist or already holds an EIP (without O(association.allow_reassociation)) fails the task before the
        address is recovered, with the same message.
    type: dict
    suboptions:
      instance_id:
        description: The resource (C(i-), C(eni-), C(ngw-), C(lb-), C(havip-) prefix, or an IPv4 address of a VPC).
        type: str
        required: true
      instance_type:
        description: The API's C(InstanceType), when the prefix does not tell it.
        type: str
        choices: [EcsInstance, NetworkInterface, Nat, SlbInstance, HaVip, IpAddress]
      private_ip_address:
        description: The private IP of an ENI (or the IP address target) the EIP maps to.
        type: str
      mode:
        description: The association mode on an ENI.
        type: str
        choices: [NAT, BINDED, MULTI_BINDED]
      vpc_id:
        description: The VPC of an IP address target.
        type: str
      allow_reassociation:
        description: Move the EIP from another holder, or replace the EIP the target holds (as in M(alicloud.eip.eip_association)).
        type: bool
        default: false
      force:
        description: Disassociate from a NAT gateway even though SNAT or DNAT entries use the address.
        type: bool
        default: false
  wait:
    description:
      - Wait until the recovered EIP is C(Available) and the association C(InUse).
    type: bool
    default: true
  wait_timeout:
    description:
      - How long to wait, in seconds, for each status.
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
      - Check mode cannot know whether the cloud will give the address back (the 7-day window, another account, the
        monthly limit are the cloud's to decide); it reports the recovery as a change. The association is planned
        against the EIP as it would be, so the target's rules are checked.
  diff_mode:
    support: full
  idempotent:
    support: full
notes:
  - The 7-day window. Alibaba Cloud lets an account recover an address it released (or that was released because a
    subscription expired or a payment was overdue) within 7 days, by address or by allocation ID. After that, or for
    an address that was never the account's, the API answers C(OperationFailed.AllocateUnfamiliarIp) and only a
    support ticket can help.
  - An address another account holds now answers C(OperationDenied.IpBelongToOtherUser) (or C(Ip.Allocated)); a
    locked one C(OperationFailed.IpIsLocked); the module explains each.
  - The monthly limit. An account may recover at most 20 EIPs a calendar month without a quota increase. The API's
    code for that limit is not documented (UNCONFIRMED; the emulator answers C(OperationFailed.ResourceNotEnough)).
    [fid:eip-recover-monthly-limit-code]
  - Recovery is an allocation, so the region's EIP quota (C(QuotaExceeded.Eip)) and the purchase frequency limit
    (C(FrequentPurchase.EIP)) apply.
  - A recovered EIP is pay-as-you-go and starts unassociated, by default with C(PayByTraffic) and 5 Mbit/s.
seealso:
  - module: alicloud.eip.eip_address
  - module: alicloud.eip.eip_association
  - name: Recover a released EIP
    description: The Alibaba Cloud guide to recovering an EIP.
    link: https://www.alibabacloud.com/help/en/eip/user-guide/apply-for-an-eip
"""

EXAMPLES = r"""
- name: Get an address back that was released by mistake
  alicloud.eip.eip_recover:
    ip_address: 47.96.10.20
    region: cn-hangzhou
  register: recovered

- name: Recover it with its old name, bandwidth and tags, and put it back on the instance
  alicloud.eip.eip_recover:
    ip_address: 47.96.10.20
    name: web-frontend
    bandwidth: 10
    tags:
      team: web
    association:
      instance_id: i-bp1a2b3c4d5e6f7g8h9i0

- name: Recover by the released EIP's allocation ID (it keeps its ID) onto a secondary private IP of an ENI
  alicloud.eip.eip_recover:
    allocation_id: eip-bp1a2b3c4d5e6f7g8h9i0
    association:
      instance_id: eni-bp1xxxxxxxxxxxxxxxxxx
      private_ip_address: 10.1.0.61
"""

RETURN = r"""
recovered:
  description: Whether the address had to be recovered (in check mode, would have to be).
  returned: always
  type: bool
  sample: true
eip:
  description:
    - The EIP, in the shape of one item of RV(alicloud.eip.eip_info#module:eips).
    - In check mode, before a recovery, the EIP as it would be; the allocation ID (recovered by address) or the
      address (recovered by ID) is then empty, since only the cloud knows it.
  returned: always
  type: dict
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
      sample: i-bp1a2b3c4d5e6f7g8h9i0
    instance_type:
      description: The holder's type; empty when unassociated.
      type: str
      sample: EcsInstance
    instance_region_id:
      description: The holder's region.
      type: str
      sample: cn-hangzhou
    mode:
      description: The association mode; empty when unassociated.
      type: str
      sample: NAT
    private_ip_address:
      description: The private IP the EIP maps to.
      type: str
      sample: 10.1.0.10
    vpc_id:
      description: The VPC of the holder.
      type: str
      sample: vpc-bp1a2b3c4d5e6f7g8h9i0
    bandwidth:
      description: The peak bandwidth in Mbit/s.
      type: int
      sample: 10
    internet_charge_type:
      description: C(PayByBandwidth) or C(PayByTraffic).
      type: str
      sample: PayByTraffic
    charge_type:
      description: C(PostPaid) (pay-as-you-go) or C(PrePaid) (subscription).
      type: str
      sample: PostPaid
    isp:
      description: The line type.
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
      description: When the EIP was allocated (for a recovered EIP, when it was recovered).
      type: str
      sample: "2026-11-20T08:00:00Z"
    expired_time:
      description: When a subscription EIP expires; empty for pay-as-you-go.
      type: str
      sample: ""
    business_status:
      description: C(Normal), or a lock state.
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
      description: Lock reasons; empty when unlocked.
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
actions:
  description: The mutating API calls made (in check mode, that would be made), in order.
  returned: always
  type: list
  elements: str
  sample: [AllocateEipAddress, AssociateEipAddress]
association_actions:
  description: The association steps of the engine, in the form of RV(alicloud.eip.eip_association#module:actions).
  returned: always
  type: list
  elements: dict
  sample: [{action: associate, allocation_id: eip-bp1a2b3c4d5e6f7g8h9i0, instance_id: i-bp1a2b3c4d5e6f7g8h9i0}]
error:
  description: The API's answer to the call that failed, or the failure predicted from the current state.
  returned: on failure, when the API answered or the failure was predicted
  type: dict
  contains:
    code:
      description: The API error code, for example C(OperationFailed.AllocateUnfamiliarIp).
      type: str
      sample: OperationFailed.AllocateUnfamiliarIp
    message:
      description: The API's message (or the module's, for a predicted failure).
      type: str
      sample: The operation failed because only IP addresses used within the last seven days can be allocated.
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
      sample: AllocateEipAddress
    predicted:
      description: True when the failure was predicted before any call.
      type: bool
      sample: true
"""

from ansible_collections.alicloud.eip.plugins.module_utils._api.namespace import API
from ansible_collections.alicloud.eip.plugins.module_utils._client import AlicloudModule
from ansible_collections.alicloud.eip.plugins.module_utils._eip_association.kinds import MODES
from ansible_collections.alicloud.eip.plugins.module_utils._eip_association.targets import INSTANCE_TYPES, ZONAL
from ansible_collections.alicloud.eip.plugins.module_utils._eip_lifecycle import (
    InputError,
    LifecycleError,
    apply_changes,
    associate,
    association_request,
    check_bandwidth_for,
    diff_view,
    explain_allocation_error,
    make_changes,
    new_eip_view,
    normalize_tags,
    plan_association,
    plan_attributes,
    select_eip,
    settle,
    validate_key_options,
    wait_for_status,
)
from ansible_collections.alicloud.eip.plugins.module_utils._polling import WaitError
from ansible_collections.alicloud.eip.plugins.module_utils._retries import AlicloudApiError


def argument_spec() -> dict:
    association = {
        "instance_id": {"type": "str", "required": True},
        # ALB and NLB zones take EIPs through the load balancer's API (eip_association with zone_id), not here.
        "instance_type": {"type": "str", "choices": [name for name in INSTANCE_TYPES if name not in ZONAL]},
        "private_ip_address": {"type": "str"},
        "mode": {"type": "str", "choices": list(MODES)},
        "vpc_id": {"type": "str"},
        "allow_reassociation": {"type": "bool", "default": False},
        "force": {"type": "bool", "default": False},
    }
    return {
        "ip_address": {"type": "str"},
        "allocation_id": {"type": "str"},
        "name": {"type": "str"},
        "description": {"type": "str"},
        "bandwidth": {"type": "int"},
        "internet_charge_type": {"type": "str", "choices": ["PayByBandwidth", "PayByTraffic"]},
        "tags": {"type": "dict"},
        "purge_tags": {"type": "bool", "default": True},
        "association": {"type": "dict", "options": association},
        "wait": {"type": "bool", "default": True},
        "wait_timeout": {"type": "int", "default": 300},
    }


def find_held(connection, params: dict, api=API) -> tuple[dict | None, list[str]]:
    """The EIP of the account with the address (else the allocation ID), and warnings.

    The address is the identity that matters ("this public IP belongs to the account again"): recovered by
    address, an EIP may carry a new ID, so a re-run naming the old ID as well still finds it.
    """
    warnings: list[str] = []
    if params.get("ip_address"):
        eip = select_eip(api.describe_eip_addresses(connection, ip_addresses=[params["ip_address"]]), params)
        if eip is None and params.get("allocation_id"):
            by_id = select_eip(api.describe_eip_addresses(connection, allocation_ids=[params["allocation_id"]]), params)
            if by_id is not None:
                raise LifecycleError(
                    f"allocation_id {params['allocation_id']} is held with the address {by_id['ip_address']}, "
                    f"not {params['ip_address']}; give one of the two, or both of the same EIP"
                )
        if eip is not None and params.get("allocation_id") and eip["allocation_id"] != params["allocation_id"]:
            warnings.append(
                f"{params['ip_address']} is held as {eip['allocation_id']} (it was {params['allocation_id']} before "
                "its release); use the new ID from now on"
            )
        return eip, warnings
    eip = select_eip(api.describe_eip_addresses(connection, allocation_ids=[params["allocation_id"]]), params)
    return eip, warnings


def recover(module, connection, api=API) -> dict:
    """AllocateEipAddress of exactly the released address (or ID), with the attributes to restore; waits for it."""
    params = module.params
    what = f"recovering {params['ip_address'] or params['allocation_id']}"
    try:
        allocated = api.allocate_eip_address(
            connection,
            bandwidth=params["bandwidth"],
            internet_charge_type=params["internet_charge_type"],
            name=params["name"],
            description=params["description"],
            tags=normalize_tags(params["tags"]) or None,
            ip_address=params["ip_address"],
            instance_id=params["allocation_id"],
        )
    except AlicloudApiError as error:
        raise explain_allocation_error(error, what) from None
    if params["wait"]:
        record = wait_for_status(connection, allocated["allocation_id"], "Available", params["wait_timeout"], api=api)
    else:
        found = api.describe_eip_addresses(connection, allocation_ids=[allocated["allocation_id"]])
        record = found[0] if found else None
    return record or new_eip_view(params, connection.region, allocated["allocation_id"], allocated["ip_address"])


def main():
    module = AlicloudModule(
        argument_spec=argument_spec(),
        supports_check_mode=True,
        required_one_of=[["ip_address", "allocation_id"]],
    )
    params = module.params
    try:
        validate_key_options(params)
        association = association_request(params["association"]) if params["association"] else None
    except InputError as error:
        module.fail_json(msg=str(error))
    connection = module.connection
    check_mode = module.check_mode
    actions: list[str] = []
    association_actions: list[dict] = []
    changed = False
    recovered = False
    before: dict = {}
    try:
        eip, warnings = find_held(connection, params)
        for warning in warnings:
            module.warn(warning)
        eip = settle(connection, eip, params["wait_timeout"])
        before = diff_view(eip)
        recovered = eip is None
        check_bandwidth_for(eip, params, recovering=True)
        pending = None
        if recovered:
            # The EIP as the recovery would bring it back (its ID or its address is unknown until then).
            pending = new_eip_view(params, connection.region, params["allocation_id"] or "", params["ip_address"] or "")
        planned = None
        if association is not None:
            # Planned before the first mutating call, in check mode and in a real run alike: a target the engine
            # refuses stops the run before the address is recovered, with the same message in both.
            planned = plan_association(
                connection, pending or eip, association, params["wait_timeout"], pending=recovered
            )
        if recovered:
            changed = True
            actions.append("AllocateEipAddress")
            eip = pending if check_mode else recover(module, connection)
        # Also after a recovery: the API may not apply every attribute on allocation, so converge them the same way.
        # internet_charge_type applies to the recovery only; an EIP already held keeps its own without a warning.
        changes = plan_attributes(eip, {**params, "internet_charge_type": None})
        if changes.changed and not (recovered and check_mode):
            changed = True
            actions.extend(
                (["ModifyEipAddressAttribute"] if changes.modify else [])
                + (["UnTagResources"] if changes.remove_tags else [])
                + (["TagResources"] if changes.add_tags else [])
            )
            if check_mode:
                eip = apply_changes(eip, changes)
            else:
                make_changes(connection, eip["allocation_id"], changes)
                eip = API.describe_eip_addresses(connection, allocation_ids=[eip["allocation_id"]])[0]
        if planned is not None:
            result = planned
            if not check_mode and planned.plan.changed:
                # Planned again on the EIP as it is now (recovered, with its ID); the engine refuses before its own
                # call if the target changed meanwhile.
                result = associate(connection, eip, association, False, params["wait"], params["wait_timeout"])
            if result.plan.changed:
                changed = True
                association_actions = [step.as_dict() for step in result.plan.steps]
                actions.extend(step.action for step in result.plan.steps)
                if not check_mode and result.eip is not None:
                    eip = result.eip
    except InputError as error:
        module.fail_json(msg=str(error), changed=changed, actions=actions)
    except LifecycleError as error:
        module.fail_json(msg=str(error), error=error.as_dict(), changed=changed, actions=actions)
    except WaitError as error:
        module.fail_json(msg=f"the EIP did not reach its status: {error}", changed=changed, actions=actions)
    except AlicloudApiError as error:
        module.fail_json_alicloud(error, "could not recover the EIP", changed=changed, actions=actions)
    result = {
        "changed": changed,
        "recovered": recovered,
        "eip": eip,
        "actions": actions,
        "association_actions": association_actions,
    }
    if module._diff:
        result["diff"] = {"before": before, "after": diff_view(eip)}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
