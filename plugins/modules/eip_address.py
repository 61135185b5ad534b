#!/usr/bin/python
# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: eip_address
short_description: Allocate, modify and release Alibaba Cloud Elastic IP Addresses
version_added: 0.1.0
description:
  - Allocates a pay-as-you-go Elastic IP Address (EIP), changes its name, description, bandwidth and tags, or releases it.
  - The EIP is found by a key, so that a second run never allocates again. The key is O(allocation_id); else
    O(ip_address); else O(name) together with every tag in O(tags). More than one EIP matching the key is an error
    that names them.
  - A given O(allocation_id) or O(ip_address) that the account does not hold is an error; a released address is
    brought back with M(alicloud.eip.eip_recover). Only a key of O(name) allocates a new EIP.
  - The bandwidth is changed only when O(bandwidth) is given and differs; it is never reset to a default.
  - Name one EIP with the top-level options, or many with O(addresses); the list form converges each item as the
    single form would, in one task, concurrently within the API's flow limits, with the lookups and the waits of
    many EIPs batched.
author:
  - alicloud.eip developers (@alicloud-eip)
options:
  state:
    description:
      - V(present) allocates the EIP if the key finds none, and brings its attributes to the given values.
      - V(absent) releases it. Only an C(Available) EIP can be released; an associated one only with
        O(release_associated=true).
    type: str
    choices: [present, absent]
    default: present
  allocation_id:
    description:
      - The ID of the EIP, for example C(eip-bp1xxxxxxxxxxxxxxxx). The strongest key.
    type: str
  ip_address:
    description:
      - The public address of the EIP. The key when O(allocation_id) is not given; with it, it must be the same EIP's.
    type: str
  name:
    description:
      - The name of the EIP (1 to 128 characters, not starting with C(http://) or C(https://)).
      - The key (together with O(tags)) when neither O(allocation_id) nor O(ip_address) is given; otherwise the name to set.
    type: str
  description:
    description:
      - The description of the EIP (2 to 256 characters, starting with a letter, not C(http://) or C(https://)).
    type: str
  bandwidth:
    description:
      - The peak bandwidth in Mbit/s. Applied when the EIP is allocated (the API's default is 5), and later changed only
        when given and different.
      - 1 to 500 for C(PayByBandwidth) (the default of a new EIP), 1 to 200 for C(PayByTraffic), 1 to 1000 for a
        subscription EIP; a value outside the range of the EIP's billing is refused before any call.
    type: int
  internet_charge_type:
    description:
      - The metering method of a new EIP. Fixed at allocation; a different value on an existing EIP is a warning.
    type: str
    choices: [PayByBandwidth, PayByTraffic]
  isp:
    description:
      - The line type of a new EIP, for example C(BGP) (the API's default) or C(BGP_PRO). Fixed at allocation.
      - One of C(BGP), C(BGP_PRO), C(ChinaTelecom), C(ChinaUnicom), C(ChinaMobile), C(ChinaTelecom_L2),
        C(ChinaUnicom_L2), C(ChinaMobile_L2), C(BGP_FinanceCloud) (the values the API documents; anything else is
        refused before any call).
    type: str
  tags:
    description:
      - The tags of the EIP. Not given (null) leaves the tags alone.
      - With a key of O(name), every tag given here must match too.
      - At most 20 tags; keys of 1 to 128 characters, not starting with C(aliyun) or C(acs:); values of at most 128
        characters, not starting with C(aliyun) or C(acs:); neither may contain C(http://) or C(https://). A value is
        text - a dict or a list is refused (serialize it with P(ansible.builtin.to_json#filter)).
    type: dict
  purge_tags:
    description:
      - Remove the tags not in O(tags) (as in amazon.aws; tags of the cloud, C(acs:) and C(aliyun) prefixes, stay).
      - No effect when O(tags) is not given.
    type: bool
    default: true
  release_associated:
    description:
      - With O(state=absent), disassociate an associated EIP first (with the engine of M(alicloud.eip.eip_association),
        waiting until it is C(Available)), then release it.
      - Without it, releasing an associated EIP fails before any change.
    type: bool
    default: false
  force:
    description:
      - With O(release_associated=true), disassociate the EIP from a NAT gateway even though SNAT or DNAT entries of
        the gateway use it (the API's C(Force)); the entries lose the address. Without it such a release fails before
        any change.
    type: bool
    default: false
  addresses:
    description:
      - Many EIPs in one task (for example the EIPs of a whole fleet of hosts), each item with the per-EIP options
        above; O(wait) and O(wait_timeout) apply to all. Mutually exclusive with the per-EIP top-level options.
      - Every item is checked as the single form checks its options before any call; a bad item fails the task,
        naming C(addresses[<index>]) and the option, before anything changes. Two items with the same key, or whose
        keys find the same EIP, are refused the same way.
      - "The lookups are batched: one C(DescribeEipAddresses) for the items keyed by O(addresses[].allocation_id)
        (50 per call), one for those keyed by O(addresses[].ip_address), and one for those keyed by
        O(addresses[].name) when they all carry a common tag (otherwise one per item). The changes of different
        items run concurrently (up to 8 at a time), and the allocations and releases are waited for together, with
        one C(DescribeEipAddresses) per round."
      - The outcome of every item is in RV(addresses). When an item fails, the others still converge, and the task
        then fails with a message counting the failed items and quoting the first one.
    type: list
    elements: dict
    suboptions:
      state:
        description: As O(state).
        type: str
        choices: [present, absent]
        default: present
      allocation_id:
        description: As O(allocation_id).
        type: str
      ip_address:
        description: As O(ip_address).
        type: str
      name:
        description:
          - As O(name). One of O(addresses[].allocation_id), O(addresses[].ip_address) and O(addresses[].name) is
            required.
        type: str
      description:
        description: As O(description).
        type: str
      bandwidth:
        description: As O(bandwidth).
        type: int
      internet_charge_type:
        description: As O(internet_charge_type).
        type: str
        choices: [PayByBandwidth, PayByTraffic]
      isp:
        description: As O(isp).
        type: str
      tags:
        description: As O(tags).
        type: dict
      purge_tags:
        description: As O(purge_tags).
        type: bool
        default: true
      release_associated:
        description: As O(release_associated).
        type: bool
        default: false
      force:
        description: As O(force).
        type: bool
        default: false
  wait:
    description:
      - Wait until a new EIP is C(Available), or a released one is gone.
    type: bool
    default: true
  wait_timeout:
    description:
      - How long to wait, in seconds; also bounds the wait for an EIP found in a transient state before deciding.
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
      - A new EIP has no ID and no address until it is allocated, so in check mode RV(eip.allocation_id) and
        RV(eip.ip_address) of a new EIP are empty.
  diff_mode:
    support: full
    details:
      - The diff shows the ID, address, status, name, description, bandwidth, tags and holder before and after.
      - In the list form, C(before) and C(after) are lists with one entry per item, in the order of O(addresses).
  idempotent:
    support: full
notes:
  - Only pay-as-you-go EIPs are allocated. A subscription EIP cannot be released through the API
    (C(Forbidden.ChargeTypeIsPrepaid)), nor one with deletion protection; both fail before any call.
  - ReleaseEipAddress is asynchronous (C(Releasing), then gone); with O(wait=true) the module polls until the EIP is gone.
  - Allocation can fail with C(QuotaExceeded.Eip) (the region's EIP quota, 20 by default) or C(FrequentPurchase.EIP)
    (too many purchases in a short time); the message says so.
  - "The allocation call carries a C(ClientToken), kept across retries: a retry after a lost answer cannot allocate twice."
seealso:
  - module: alicloud.eip.eip_recover
  - module: alicloud.eip.eip_association
  - module: alicloud.eip.eip_info
"""

EXAMPLES = r"""
- name: An EIP for the web tier, allocated once (found again by name and tags on later runs)
  alicloud.eip.eip_address:
    name: web-frontend
    tags:
      team: web
    bandwidth: 10
    internet_charge_type: PayByTraffic
    region: cn-hangzhou
  register: web_eip

- name: Raise the bandwidth of a known EIP, leaving its tags alone
  alicloud.eip.eip_address:
    allocation_id: eip-bp1a2b3c4d5e6f7g8h9i0
    bandwidth: 50

- name: Add a tag, keep the others
  alicloud.eip.eip_address:
    ip_address: 47.96.10.20
    tags:
      owner: ops
    purge_tags: false

- name: The EIPs of a whole fleet in one task (one module process, the lookups batched, the waits together)
  alicloud.eip.eip_address:
    addresses:
      - name: web-1
        tags: {fleet: web}
        bandwidth: 10
      - name: web-2
        tags: {fleet: web}
        bandwidth: 10
      - allocation_id: eip-bp1a2b3c4d5e6f7g8h9i0
        description: shared egress
  run_once: true
  delegate_to: localhost
  register: fleet_eips

- name: Release two EIPs, disassociating the first one
  alicloud.eip.eip_address:
    addresses:
      - allocation_id: eip-bp1a2b3c4d5e6f7g8h9i0
        state: absent
        release_associated: true
      - ip_address: 47.96.10.21
        state: absent

- name: Release an EIP, disassociating it first
  alicloud.eip.eip_address:
    allocation_id: "{{ web_eip.eip.allocation_id }}"
    state: absent
    release_associated: true
"""

RETURN = r"""
eip:
  description:
    - The EIP, in the shape of one item of RV(alicloud.eip.eip_info#module:eips).
    - With O(state=absent), the EIP as it was before its release (empty when there was none).
    - In check mode, the EIP as it would be; a new EIP has an empty ID and address.
  returned: in the single form
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
      sample: Available
    region_id:
      description: The region of the EIP.
      type: str
      sample: cn-hangzhou
    instance_id:
      description: The resource holding the EIP; empty when unassociated.
      type: str
      sample: ""
    instance_type:
      description: The holder's type; empty when unassociated.
      type: str
      sample: ""
    instance_region_id:
      description: The holder's region.
      type: str
      sample: ""
    mode:
      description: The association mode (C(NAT), C(BINDED), C(MULTI_BINDED)); empty when unassociated.
      type: str
      sample: ""
    private_ip_address:
      description: The private IP the EIP maps to; empty when unassociated.
      type: str
      sample: ""
    vpc_id:
      description: The VPC of the holder.
      type: str
      sample: ""
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
      description: When the EIP was allocated (UTC).
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
actions:
  description: The mutating API calls made (in check mode, that would be made), in order.
  returned: in the single form
  type: list
  elements: str
  sample: [ModifyEipAddressAttribute, TagResources]
addresses:
  description:
    - The list form's outcome of every item of O(addresses), in the order of the request, also when the task failed.
  returned: in the list form
  type: list
  elements: dict
  contains:
    changed:
      description: Whether this item changed (or, in check mode, would change) its EIP.
      type: bool
      sample: true
    failed:
      description: Whether this item failed.
      type: bool
      sample: false
    msg:
      description: Why this item failed, as the single form says it.
      returned: when the item failed
      type: str
      sample: "this account holds no EIP with ip_address 47.96.10.21 in region cn-hangzhou; ..."
    error:
      description: The API's answer to this item's failed call, or its predicted failure (as RV(error)).
      returned: when the item failed with an API error or a predicted one
      type: dict
      sample: {code: QuotaExceeded.Eip, message: quota, request_id: 4FA6A9B1-6F3D, status_code: 400, action: AllocateEipAddress}
    eip:
      description: The item's EIP, as RV(eip) in the single form.
      returned: unless the item failed (when only the wait for its change ran out, still)
      type: dict
      contains: *eip_keys
    actions:
      description: The item's mutating API calls, as RV(actions) in the single form.
      returned: unless the item failed (when only the wait for its change ran out, still)
      type: list
      elements: str
      sample: [AllocateEipAddress]
error:
  description:
    - The API's answer to the call that failed, or the failure predicted from the current state.
    - In the list form, that of the first failed item (each item's is in RV(addresses[].error)).
  returned: on failure, when the API answered or the failure was predicted
  type: dict
  contains:
    code:
      description: The API error code, for example C(QuotaExceeded.Eip).
      type: str
      sample: QuotaExceeded.Eip
    message:
      description: The API's message (or the module's, for a predicted failure).
      type: str
      sample: Elastic IP address quota exceeded
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

from ansible_collections.alicloud.eip.plugins.module_utils._client import AlicloudModule
from ansible_collections.alicloud.eip.plugins.module_utils._eip_address import (
    ITEM_OPTIONS,
    LIST_NAME,
    converge_addresses,
    ensure_absent,
    ensure_present,
    validate_addresses,
)
from ansible_collections.alicloud.eip.plugins.module_utils._eip_lifecycle import (
    InputError,
    LifecycleError,
    diff_view,
    find_eip,
    key_label,
    settle,
    validate_key_options,
)
from ansible_collections.alicloud.eip.plugins.module_utils._item_list import exclusive_with, exit_list, list_option
from ansible_collections.alicloud.eip.plugins.module_utils._polling import WaitError
from ansible_collections.alicloud.eip.plugins.module_utils._retries import AlicloudApiError


def item_spec() -> dict:
    """Options of one EIP (top level, and each ``addresses`` item)."""
    return {
        "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
        "allocation_id": {"type": "str"},
        "ip_address": {"type": "str"},
        "name": {"type": "str"},
        "description": {"type": "str"},
        "bandwidth": {"type": "int"},
        "internet_charge_type": {"type": "str", "choices": ["PayByBandwidth", "PayByTraffic"]},
        "isp": {"type": "str"},
        "tags": {"type": "dict"},
        "purge_tags": {"type": "bool", "default": True},
        "release_associated": {"type": "bool", "default": False},
        "force": {"type": "bool", "default": False},
    }


def argument_spec() -> dict:
    spec = item_spec()
    spec.update(
        addresses=list_option(item_spec(), required_one_of=[["allocation_id", "ip_address", "name"]]),
        wait={"type": "bool", "default": True},
        wait_timeout={"type": "int", "default": 300},
    )
    return spec


def run_list(module) -> None:
    """The list form: every item of ``addresses`` converged as the single form would, in one task."""
    params = module.params
    shared = {"wait": params["wait"], "wait_timeout": params["wait_timeout"]}
    items = [{**item, **shared} for item in params[LIST_NAME]]
    try:
        if params["wait_timeout"] <= 0:
            raise InputError(f"wait_timeout must be a positive number of seconds, got {params['wait_timeout']}")
        validate_addresses(items)
        outcomes = converge_addresses(module.connection, items, module.check_mode)
    except InputError as error:
        module.fail_json(msg=str(error), changed=False)
    exit_list(module, LIST_NAME, outcomes, "EIPs")


def main():
    module = AlicloudModule(
        argument_spec=argument_spec(),
        supports_check_mode=True,
        mutually_exclusive=exclusive_with(LIST_NAME, ITEM_OPTIONS),
        required_one_of=[[LIST_NAME, "allocation_id", "ip_address", "name"]],
    )
    params = module.params
    if params[LIST_NAME] is not None:
        run_list(module)
    try:
        validate_key_options(params)
    except InputError as error:
        module.fail_json(msg=str(error))
    connection = module.connection
    try:
        eip = settle(connection, find_eip(connection, params), params["wait_timeout"])
    except LifecycleError as error:
        module.fail_json(msg=str(error), error=error.as_dict(), changed=False)
    except WaitError as error:
        module.fail_json(msg=f"the EIP stayed in a transient state: {error}", changed=False)
    except AlicloudApiError as error:
        module.fail_json_alicloud(error, f"could not read the EIP with {key_label(params)}", changed=False)
    before = diff_view(eip)
    try:
        if params["state"] == "present":
            changed, after, actions, _wait = ensure_present(params, connection, eip, module.check_mode, module.warn)
        else:
            changed, after, actions, _wait = ensure_absent(params, connection, eip, module.check_mode)
    except InputError as error:
        module.fail_json(msg=str(error), changed=False)
    except LifecycleError as error:
        module.fail_json(msg=str(error), error=error.as_dict(), changed=False)
    except WaitError as error:
        # The mutating call was accepted; only the wait for its outcome ran out.
        module.fail_json(msg=f"the EIP did not reach its status: {error}", changed=True)
    except AlicloudApiError as error:
        module.fail_json_alicloud(error, f"could not manage the EIP with {key_label(params)}", changed=False)
    result = {"changed": changed, "eip": after, "actions": actions}
    if module._diff:
        result["diff"] = {
            "before": before,
            "after": {} if params["state"] == "absent" and changed else diff_view(after),
        }
    module.exit_json(**result)


if __name__ == "__main__":
    main()
