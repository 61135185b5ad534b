#!/usr/bin/python
# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: eni
short_description: Create, change, attach, detach and delete Alibaba Cloud elastic network interfaces
version_added: 0.1.0
description:
  - Manages an ECS elastic network interface (ENI), modelled on M(amazon.aws.ec2_eni) - creates it in a vSwitch, sets
    its name, description, security groups and tags, assigns and unassigns secondary private IP addresses, attaches
    it to an ECS instance or detaches it, and deletes it.
  - The ENI is named by O(network_interface_id), or by O(name) (plus O(vswitch_id) to narrow the match). With
    O(state=present) and no match, a new ENI is created, which needs O(vswitch_id) and O(security_group_ids).
  - Secondary ENIs carry the extra private addresses and EIPs of M(alicloud.eip.eip_association) (NAT, cut-through
    and multi-EIP modes). For cut-through mode the ENI must be detached while its EIP is associated; run this module
    with O(attached=false), associate the EIP, then run it again with O(instance_id).
  - Before any mutating call the module refuses what cannot work - unassigning a private address or deleting an ENI
    an EIP is associated with, detaching the primary ENI, moving an attached ENI without O(force_detach), attaching
    to an instance that does not exist, is not Running or Stopped, or sits in another VPC or zone, a vSwitch or
    security group that does not exist, a security group of another VPC, an address outside the vSwitch's CIDR, a
    value beyond the documented limits - with the same message in check mode and in a real run.
author:
  - alicloud.eip developers (@alicloud-eip)
options:
  state:
    description:
      - V(present) creates or updates the ENI; V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
  network_interface_id:
    description:
      - The ID of the ENI, for example C(eni-bp1xxxxxxxxxxxxxxxxx). Takes precedence over O(name) as the key.
    type: str
    aliases: [eni_id]
  name:
    description:
      - The name of the ENI (2 to 128 characters). Used as the key when O(network_interface_id) is not given; several
        ENIs with that name (in O(vswitch_id), when given) are an error naming their IDs.
      - With O(network_interface_id), a different name renames the ENI.
    type: str
  vswitch_id:
    description:
      - The vSwitch of the ENI. Required to create one; an existing ENI cannot change vSwitch.
    type: str
  security_group_ids:
    description:
      - The security groups of the ENI (of the vSwitch's VPC). Required to create one; on an existing ENI a different
        set replaces the groups (order does not matter).
    type: list
    elements: str
  description:
    description:
      - The description of the ENI (2 to 256 characters, not starting with C(http://) or C(https://)).
    type: str
  primary_ip_address:
    description:
      - The primary private address of a new ENI (a free address of the vSwitch); by default the cloud picks one.
      - It cannot change later; on an existing ENI a different value is an error.
    type: str
  secondary_private_ip_addresses:
    description:
      - Secondary private addresses the ENI must have; missing ones are assigned.
      - With O(purge_secondary_private_ip_addresses=true), secondary addresses not listed are unassigned.
      - Mutually exclusive with O(secondary_private_ip_address_count).
      - At most 49 addresses (an ENI has at most 49 secondary addresses; fewer on some instance types). A new ENI is
        created with at most 10 listed addresses (the limit of C(CreateNetworkInterface)).
    type: list
    elements: str
  secondary_private_ip_address_count:
    description:
      - How many secondary private addresses the ENI must have; the cloud picks new ones, and surplus ones are
        unassigned newest first, skipping addresses an EIP is associated with.
      - 0 to 49 (fewer on some instance types).
    type: int
  purge_secondary_private_ip_addresses:
    description:
      - Unassign secondary addresses not listed in O(secondary_private_ip_addresses).
    type: bool
    default: false
  instance_id:
    description:
      - The ECS instance the ENI is to be attached to (with O(attached=true), the default when this is given), or
        detached from (with O(attached=false)).
    type: str
  attached:
    description:
      - V(true) attaches the ENI to O(instance_id); V(false) detaches it (from O(instance_id) when given, else from
        any instance). Not given - the attachment is left alone, unless O(instance_id) is given, which means V(true).
      - An ENI attached to another instance is only moved with O(force_detach=true).
    type: bool
  force_detach:
    description:
      - Allow detaching an attached ENI to delete it (O(state=absent)) or to move it to O(instance_id).
    type: bool
    default: false
  tags:
    description:
      - Tags of the ENI. Not given - the tags are left alone.
      - At most 20 tags; keys of 1 to 128 characters, not starting with C(aliyun) or C(acs:); values of at most 128
        characters; neither may contain C(http://) or C(https://). A value is text - a dict or a list is refused.
    type: dict
  purge_tags:
    description:
      - Remove tags that are not in O(tags) (only when O(tags) is given).
    type: bool
    default: true
  released_allocation_ids:
    description:
      - Allocation IDs of EIPs that an earlier task of the same run releases or disassociates (as roles do when they
        scale down). In check mode that task changed nothing, so this module plans as if these EIPs were no longer on
        the ENI and predicts what the real run does (an address or an ENI they hold can then go).
      - Outside check mode this option is ignored; the EIPs are read from the cloud as they are.
    type: list
    elements: str
  interfaces:
    description:
      - Many ENIs in one task (for example the ENIs of a whole fleet of hosts), each item with the per-ENI options
        above; O(wait) and O(wait_timeout) apply to all. Mutually exclusive with the per-ENI top-level options.
      - Every item is checked as the single form checks its options before any call; a bad item fails the task,
        naming C(interfaces[<index>]) and the option, before anything changes. Two items with the same key (the same
        O(interfaces[].network_interface_id), or the same O(interfaces[].name) and O(interfaces[].vswitch_id)) are
        refused the same way, and so are two items whose different keys find the same ENI (its ID in one item and
        its name in another, or one name with and without a vSwitch); the keys are described first, and nothing
        changes.
      - Each item converges as the single form would (its refusals, calls and waits), and different items run
        concurrently, up to 8 at a time, within the API's flow limits. The keys are described together, with one
        C(DescribeNetworkInterfaces) for the items keyed by O(interfaces[].network_interface_id) (100 per call), and one
        per vSwitch for two or more items keyed by O(interfaces[].name) in the same O(interfaces[].vswitch_id); the
        waits of different items run side by side, one item's wait at a time.
      - The outcome of every item is in RV(interfaces). When an item fails, the others still converge, and the task
        then fails with a message counting the failed items and quoting the first one.
    type: list
    elements: dict
    suboptions:
      state:
        description: As O(state).
        type: str
        choices: [present, absent]
        default: present
      network_interface_id:
        description: As O(network_interface_id).
        type: str
        aliases: [eni_id]
      name:
        description: As O(name). One of O(interfaces[].network_interface_id) and O(interfaces[].name) is required.
        type: str
      vswitch_id:
        description: As O(vswitch_id).
        type: str
      security_group_ids:
        description: As O(security_group_ids).
        type: list
        elements: str
      description:
        description: As O(description).
        type: str
      primary_ip_address:
        description: As O(primary_ip_address).
        type: str
      secondary_private_ip_addresses:
        description: As O(secondary_private_ip_addresses).
        type: list
        elements: str
      secondary_private_ip_address_count:
        description: As O(secondary_private_ip_address_count).
        type: int
      purge_secondary_private_ip_addresses:
        description: As O(purge_secondary_private_ip_addresses).
        type: bool
        default: false
      instance_id:
        description: As O(instance_id).
        type: str
      attached:
        description: As O(attached).
        type: bool
      force_detach:
        description: As O(force_detach).
        type: bool
        default: false
      tags:
        description: As O(tags).
        type: dict
      purge_tags:
        description: As O(purge_tags).
        type: bool
        default: true
      released_allocation_ids:
        description: As O(released_allocation_ids).
        type: list
        elements: str
  wait:
    description:
      - Wait until an attach (C(InUse)), a detach (C(Available)) or a delete has completed before returning.
      - A detach that an attach or a delete depends on is always waited for.
    type: bool
    default: true
  wait_timeout:
    description:
      - How long to wait, in seconds, for each asynchronous step; also bounds the wait for an ENI found C(Attaching),
        C(Detaching) or C(Deleting) before deciding.
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
      - Check mode reads the ENI and the instance and predicts the change and the refusals; addresses the cloud would
        pick (by count, or the primary address of a new ENI) are not known in check mode.
  diff_mode:
    support: full
    details:
      - The diff shows the O(state=present) interface before and after (empty before a create, empty after a delete).
      - In the list form, C(before) and C(after) are lists with one entry per item, in the order of O(interfaces).
  idempotent:
    support: full
notes:
  - AttachNetworkInterface and DetachNetworkInterface are asynchronous (C(Attaching) then C(InUse), C(Detaching) then
    C(Available)); DeleteNetworkInterface is documented as asynchronous too (C(Deleting), then gone). The module polls
    with one C(DescribeNetworkInterfaces) per round, from a 0.2 s interval growing 1.5x up to 5 s, never longer than
    O(wait_timeout).
  - The cloud limits the ENIs per instance and the private addresses per ENI by instance type; a request over the
    limit fails with the API's error (C(EniPerInstanceLimitExceeded), C(InvalidOperation.Ipv4CountExceeded)).
  - An attach needs the ENI and the instance in the same VPC and zone; the module checks both before the call, except
    the zone of an ENI created in the same run (the API answers C(InvalidOperation.AvailabilityZoneMismatch)).
  - Refusing to unassign an address, or delete an ENI, that an EIP is associated with is this module's rule; whether
    the real API refuses or frees the EIP is UNCONFIRMED. Disassociate with M(alicloud.eip.eip_association) first.
    [fid:eni-eip-bound-code]
seealso:
  - module: alicloud.eip.eni_info
  - module: alicloud.eip.eip_association
  - module: amazon.aws.ec2_eni
"""

EXAMPLES = r"""
- name: A secondary ENI with two extra private addresses, attached to an instance
  alicloud.eip.eni:
    name: web-1-eni1
    vswitch_id: vsw-bp1xxxxxxxxxxxxxxxxxx
    security_group_ids: [sg-bp1xxxxxxxxxxxxxxxxxx]
    secondary_private_ip_address_count: 2
    instance_id: i-bp1xxxxxxxxxxxxxxxxxx
    tags:
      role: web
  register: eni

- name: Exactly these secondary addresses
  alicloud.eip.eni:
    network_interface_id: "{{ eni.interface.id }}"
    secondary_private_ip_addresses: [10.1.0.61, 10.1.0.62]
    purge_secondary_private_ip_addresses: true

- name: Cut-through mode - detach, associate the EIP, attach again
  alicloud.eip.eni:
    network_interface_id: "{{ eni.interface.id }}"
    attached: false

- name: Associate the EIP in cut-through mode
  alicloud.eip.eip_association:
    allocation_id: eip-bp1xxxxxxxxxxxxxxxxxx
    instance_id: "{{ eni.interface.id }}"
    mode: BINDED

- name: Attach again
  alicloud.eip.eni:
    network_interface_id: "{{ eni.interface.id }}"
    instance_id: i-bp1xxxxxxxxxxxxxxxxxx

- name: The secondary ENIs of a whole fleet in one task (one module process; the items converge concurrently)
  alicloud.eip.eni:
    interfaces:
      - name: web-1-eni1
        vswitch_id: vsw-bp1xxxxxxxxxxxxxxxxxx
        security_group_ids: [sg-bp1xxxxxxxxxxxxxxxxxx]
        instance_id: i-bp1aaaaaaaaaaaaaaaaaa
      - name: web-2-eni1
        vswitch_id: vsw-bp1xxxxxxxxxxxxxxxxxx
        security_group_ids: [sg-bp1xxxxxxxxxxxxxxxxxx]
        instance_id: i-bp1bbbbbbbbbbbbbbbbbb
  run_once: true
  delegate_to: localhost
  register: fleet_enis

- name: Delete it, detaching it first
  alicloud.eip.eni:
    network_interface_id: "{{ eni.interface.id }}"
    state: absent
    force_detach: true
"""

RETURN = r"""
interface:
  description:
    - The ENI after the changes (with O(state=absent), as it was before the delete; empty when there was none).
    - In check mode, the predicted ENI; values the cloud would pick (ID, MAC, addresses by count) are empty.
  returned: in the single form (and on a failure after a call, the ENI as it is then)
  type: dict
  contains: &interface_keys
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
      description: The public addresses (EIPs) mapped to private addresses of the ENI.
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
actions:
  description: The API calls made (or, in check mode, that would be made), in order.
  returned: in the single form
  type: list
  elements: str
  sample: [create, attach]
interfaces:
  description:
    - The list form's outcome of every item of O(interfaces), in the order of the request, also when the task failed.
  returned: in the list form
  type: list
  elements: dict
  contains:
    changed:
      description: Whether this item changed (or, in check mode, would change) its ENI.
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
      sample: "network_interface_id='eni-bp1xxxxxxxxxxxxxxxxxx': no such ENI in this region (...)"
    error:
      description: The API's answer to this item's failed call (code, message, request ID, HTTP status, action).
      returned: when the item failed with an API error
      type: dict
      sample: {code: InvalidVSwitchId.IpNotEnough, message: no address left, request_id: 4FA6A9B1-6F3D, status_code: 400, action: CreateNetworkInterface}
    interface:
      description: The item's ENI, as RV(interface) in the single form.
      returned: unless the item failed before its first call (a failure after a call returns the ENI as it is then)
      type: dict
      contains: *interface_keys
    actions:
      description: The item's API calls, as RV(actions) in the single form.
      returned: unless the item failed before its first call
      type: list
      elements: str
      sample: [create, attach]
error:
  description:
    - The API's answer to the call that failed; in the list form, that of the first failed item.
  returned: on failure, when the API answered
  type: dict
  sample: {code: InvalidVSwitchId.IpNotEnough, message: no address left, request_id: 4FA6A9B1-6F3D, status_code: 400, action: CreateNetworkInterface}
"""

from ansible_collections.alicloud.eip.plugins.module_utils._api.ecs import (
    describe_instances,
    describe_interfaces,
    describe_security_groups,
)
from ansible_collections.alicloud.eip.plugins.module_utils._api.ecs_eni import (
    GONE,
    TRANSIENT_STATUSES,
    assign_private_ip_addresses,
    attach_network_interface,
    create_network_interface,
    delete_network_interface,
    detach_network_interface,
    modify_network_interface_attribute,
    tag_interfaces,
    unassign_private_ip_addresses,
    untag_interfaces,
    wait_for_interfaces,
)
from ansible_collections.alicloud.eip.plugins.module_utils._api.vpc_eip import describe_eip_addresses
from ansible_collections.alicloud.eip.plugins.module_utils._api.vpc_network import describe_vswitches
from ansible_collections.alicloud.eip.plugins.module_utils._client import AlicloudModule
from ansible_collections.alicloud.eip.plugins.module_utils._eni import (
    InputError,
    Plan,
    check_attach_target,
    check_network,
    listed_addresses,
    matching_interfaces,
    may_unassign,
    merge_eips,
    without_eips,
    network_lookups,
    normalize_params,
    plan_absent,
    plan_present,
    select_interface,
)
from ansible_collections.alicloud.eip.plugins.module_utils._item_list import (
    ItemFailure,
    ItemOutcome,
    converge_items,
    exclusive_with,
    exit_list,
    list_option,
    refuse_duplicates,
    validate_items,
)
from ansible_collections.alicloud.eip.plugins.module_utils._polling import WaitError
from ansible_collections.alicloud.eip.plugins.module_utils._retries import AlicloudApiError

LIST_NAME = "interfaces"


def item_spec() -> dict:
    """Options of one ENI (top level, and each ``interfaces`` item)."""
    return {
        "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
        "network_interface_id": {"type": "str", "aliases": ["eni_id"]},
        "name": {"type": "str"},
        "vswitch_id": {"type": "str"},
        "security_group_ids": {"type": "list", "elements": "str"},
        "description": {"type": "str"},
        "primary_ip_address": {"type": "str"},
        "secondary_private_ip_addresses": {"type": "list", "elements": "str"},
        "secondary_private_ip_address_count": {"type": "int"},
        "purge_secondary_private_ip_addresses": {"type": "bool", "default": False},
        "instance_id": {"type": "str"},
        "attached": {"type": "bool"},
        "force_detach": {"type": "bool", "default": False},
        "tags": {"type": "dict"},
        "purge_tags": {"type": "bool", "default": True},
        "released_allocation_ids": {"type": "list", "elements": "str"},
    }


# The per-ENI options (mutually exclusive with the list form's option).
ITEMS = tuple(item_spec())


def argument_spec() -> dict:
    spec = item_spec()
    spec.update(
        interfaces=list_option(
            item_spec(),
            mutually_exclusive=[["secondary_private_ip_addresses", "secondary_private_ip_address_count"]],
            required_one_of=[["network_interface_id", "name"]],
        ),
        wait={"type": "bool", "default": True},
        wait_timeout={"type": "int", "default": 300},
    )
    return spec


def find_interface(connection, params: dict, timeout: float, wait: bool, candidates: list | None = None) -> dict | None:
    """The ENI the key options name (waiting out a transient status when ``wait``), or ``None``.

    ``candidates``: ENIs already described for this key (the list form describes many keys at once).
    """
    if candidates is None and params.get("network_interface_id"):
        candidates = describe_interfaces(connection, eni_ids=[params["network_interface_id"]])
    elif candidates is None:
        candidates = describe_interfaces(connection, name=params["name"], vswitch_id=params.get("vswitch_id"))
    current = select_interface(candidates, params)
    if current is not None and wait and current["status"] in TRANSIENT_STATUSES:
        latest = wait_for_interfaces(connection, {current["id"]: None}, timeout, poll_first=True)
        current = latest[current["id"]]
    return current


def check_attachments(connection, plan: Plan, current: dict | None) -> None:
    """Refuse an attach to a missing, busy, foreign-VPC or other-zone instance before any call is made."""
    for step in plan.steps:
        if step.action == "attach":
            instance_id = step.args["instance_id"]
            found = describe_instances(connection, [instance_id])
            check_attach_target(
                found[0] if found else None,
                instance_id,
                current["vpc_id"] if current else "",
                current["zone_id"] if current else "",
            )


def check_network_of(connection, plan: Plan, current: dict | None) -> None:
    """Look up the vSwitch and security groups the plan sends (only those) and refuse what cannot work."""
    vswitch_id, group_ids = network_lookups(plan, current)
    vswitch = None
    if vswitch_id:
        found = describe_vswitches(connection, [vswitch_id])
        vswitch = found[0] if found else None
    groups = describe_security_groups(connection, group_ids) if group_ids else []
    holders: dict[str, str] = {}
    if vswitch is not None and listed_addresses(plan):
        # The addresses the other ENIs of the vSwitch hold (a listed one must be free): one listing of the vSwitch.
        for other in describe_interfaces(connection, vswitch_id=vswitch_id):
            if current is None or other["id"] != current["id"]:
                holders.update({address: other["id"] for address in other["private_ip_addresses"]})
    check_network(plan, current, vswitch, vswitch_id, groups, group_ids, holders)


def run_plan(connection, plan: Plan, eni_id: str, wait: bool, timeout: float) -> str:
    """Make the planned calls in order; returns the ENI's ID (new after a create)."""
    steps = plan.steps
    for index, step in enumerate(steps):
        args = dict(step.args)
        later = [other.action for other in steps[index + 1 :]]
        if step.action == "create":
            eni_id = create_network_interface(connection, **args)
            if not eni_id:
                raise AlicloudApiError(
                    "EmptyResponse",
                    "CreateNetworkInterface answered without an ENI ID",
                    action="CreateNetworkInterface",
                )
            plan.created_id = eni_id  # a later failure still reports the ENI that now exists
        elif step.action == "modify":
            modify_network_interface_attribute(connection, eni_id, **args)
        elif step.action == "unassign":
            unassign_private_ip_addresses(connection, eni_id, args["private_ip_addresses"])
        elif step.action == "assign":
            assign_private_ip_addresses(
                connection, eni_id, private_ip_addresses=args.get("private_ip_addresses"), count=args.get("count")
            )
        elif step.action == "untag":
            untag_interfaces(connection, [eni_id], args["keys"])
        elif step.action == "tag":
            tag_interfaces(connection, [eni_id], args["tags"])
        elif step.action == "detach":
            detach_network_interface(connection, eni_id, args["instance_id"])
            if wait or later:  # an attach or a delete needs the ENI Available
                wait_for_interfaces(connection, {eni_id: "Available"}, timeout)
        elif step.action == "attach":
            attach_network_interface(connection, eni_id, args["instance_id"])
            if wait:
                wait_for_interfaces(connection, {eni_id: "InUse"}, timeout)
        elif step.action == "delete":
            delete_network_interface(connection, eni_id)
            if wait:
                wait_for_interfaces(connection, {eni_id: GONE}, timeout)
    return eni_id


def read_back(connection, eni_id: str, fallback: dict) -> dict:
    """The ENI as it is after a failed step (so that the failure names what exists), else ``fallback``."""
    if not eni_id:
        return fallback
    try:
        found = describe_interfaces(connection, eni_ids=[eni_id])
    except AlicloudApiError:
        return fallback
    return found[0] if found else fallback


def build_diff(before: dict, after: dict, params: dict) -> dict:
    """Before/after of the interface, plus the secondary address count (addresses picked by count are unknown in
    check mode, their number is not)."""
    diff = {"before": dict(before), "after": dict(after)}
    for side in ("before", "after"):
        if diff[side]:
            diff[side]["secondary_private_ip_address_count"] = len(diff[side]["secondary_private_ip_addresses"])
    count = params.get("secondary_private_ip_address_count")
    if diff["after"] and count is not None and params.get("secondary_private_ip_addresses") is None:
        diff["after"]["secondary_private_ip_address_count"] = count
    return diff


def converge_interface(connection, params: dict, check_mode: bool, want_diff: bool, candidates=None) -> dict:
    """Bring one ENI (``params``, normalized) where it should be; returns the result (``changed``, ``actions``,
    ``interface``, ``diff`` when ``want_diff``), or raises ItemFailure with what the module fails with.

    ``candidates``: the ENIs already described for its key (see :func:`find_interface`)."""
    timeout = params["wait_timeout"]
    present = params["state"] == "present"

    try:
        current = find_interface(connection, params, timeout, params["wait"], candidates)
        if present and current is None and params.get("network_interface_id"):
            raise InputError(
                f"network_interface_id={params['network_interface_id']!r}: no such ENI in this region (to create one, "
                "give name, vswitch_id and security_group_ids instead)"
            )
        if current is not None and may_unassign(params):
            held = describe_eip_addresses(
                connection, associated_instance_id=current["id"], associated_instance_type="NetworkInterface"
            )
            current = merge_eips(current, held)
        seen = current
        if current is not None and check_mode and params.get("released_allocation_ids"):
            current = without_eips(current, params["released_allocation_ids"])
        plan = plan_present(current, params) if present else plan_absent(current, params["force_detach"])
        if present:
            check_network_of(connection, plan, current)
            check_attachments(connection, plan, current)
    except InputError as error:
        raise ItemFailure(str(error), changed=False) from None
    except WaitError as error:
        raise ItemFailure(f"the ENI did not settle: {error}", changed=False) from None
    except AlicloudApiError as error:
        raise ItemFailure(f"could not read the ENI: {error.describe()}", error.as_dict(), changed=False) from None

    before = seen or {}
    interface = plan.after if present else before
    result = {"changed": plan.changed, "actions": plan.actions()}
    if plan.changed and not check_mode:
        eni_id = current["id"] if current else ""
        try:
            eni_id = run_plan(connection, plan, eni_id, params["wait"], timeout)
            if present:
                found = describe_interfaces(connection, eni_ids=[eni_id])
                interface = found[0] if found else plan.after
        except WaitError as error:
            interface = read_back(connection, plan.created_id or eni_id, interface)
            raise ItemFailure(f"ENI {interface.get('id') or '(new)'}: {error}", interface=interface, **result) from None
        except AlicloudApiError as error:
            interface = read_back(connection, plan.created_id or eni_id, interface)
            action = f" ({error.action})" if error.action else ""
            raise ItemFailure(
                f"ENI {interface.get('id') or '(new)'}: a call failed{action}: {error.describe()}",
                error.as_dict(),
                interface=interface,
                **result,
            ) from None
    result["interface"] = interface
    if want_diff:
        result["diff"] = build_diff(before, interface if present else {}, params)
    return result


def interface_key(params: dict) -> tuple:
    """The key an item finds its ENI by, to refuse two items with the same one."""
    if params.get("network_interface_id"):
        return ("network_interface_id", params["network_interface_id"])
    return ("name", params.get("name"), params.get("vswitch_id") or "")


def key_text(key: tuple) -> str:
    if key[0] == "name":
        return f"ENI (name {key[1]!r}{f' in {key[2]}' if key[2] else ''})"
    return f"ENI ({key[1]})"


def describe_keys(connection, items: list[dict]) -> list:
    """What the items' keys find, described together: per item the candidate ENIs, an ItemFailure, or ``None``.

    One DescribeNetworkInterfaces for every item keyed by ID (100 IDs per call), and one per vSwitch for the items
    keyed by name in the same vSwitch (when two or more are); ``None`` leaves an item to describe its own key.  When
    two items with different keys could find the same ENI (:func:`_may_share_an_eni`) every key is described here,
    so that :func:`refuse_same_eni` compares what they find before any change (a lone name key once, by its name).
    """
    found: list = [None] * len(items)
    groups: dict[tuple, list[int]] = {}
    every_key = _may_share_an_eni(items)
    for index, item in enumerate(items):
        if item.get("network_interface_id"):
            groups.setdefault(("eni_ids",), []).append(index)
        elif item.get("vswitch_id"):
            groups.setdefault(("vswitch_id", item["vswitch_id"]), []).append(index)
        elif every_key:
            groups.setdefault(("name", item.get("name")), []).append(index)
    for group, indexes in groups.items():
        if group[0] == "vswitch_id" and len(indexes) < 2 and not every_key:
            continue
        try:
            if group[0] == "eni_ids":
                candidates = describe_interfaces(
                    connection, eni_ids=[items[index]["network_interface_id"] for index in indexes]
                )
            elif group[0] == "name":
                candidates = describe_interfaces(connection, name=group[1])
            elif len(indexes) < 2:
                candidates = describe_interfaces(connection, name=items[indexes[0]]["name"], vswitch_id=group[1])
            else:
                candidates = describe_interfaces(connection, vswitch_id=group[1])
        except AlicloudApiError as error:
            failure = ItemFailure(f"could not read the ENI: {error.describe()}", error.as_dict(), changed=False)
            for index in indexes:
                found[index] = failure
            continue
        for index in indexes:
            found[index] = candidates
    return found


def _may_share_an_eni(items: list[dict]) -> bool:
    """Whether two items with different keys could find the same ENI: an ID and a name, or one name with and
    without a vSwitch (two items with the same key are refused before this)."""
    by_id = any(item.get("network_interface_id") for item in items)
    names = [item["name"] for item in items if not item.get("network_interface_id")]
    return (by_id and bool(names)) or len(set(names)) < len(names)


def refuse_same_eni(items: list[dict], described: list) -> None:
    """Two items whose different keys find the same ENI would converge it twice, concurrently: refused before any
    change, on what the keys resolve to (``described``, see :func:`describe_keys`) rather than how they are spelled.
    """
    owners: dict[str, int] = {}
    for index, item in enumerate(items):
        if not isinstance(described[index], list):
            continue
        for eni in matching_interfaces(described[index], item):
            owner = owners.setdefault(eni["id"], index)
            if owner != index:
                raise InputError(
                    f"{LIST_NAME}[{index}] ({key_text(interface_key(item))}) and {LIST_NAME}[{owner}] "
                    f"({key_text(interface_key(items[owner]))}) both find {eni['id']}; give each ENI in one "
                    "item (by its network_interface_id, or by a name that only it has)"
                )


def run_list(module) -> None:
    """The list form: every item of ``interfaces`` converged as the single form would, in one task."""
    params = module.params
    if params["wait_timeout"] <= 0:
        module.fail_json(msg=f"wait_timeout must be a positive number of seconds, got {params['wait_timeout']}")
    shared = {"wait": params["wait"], "wait_timeout": params["wait_timeout"]}
    try:
        items = validate_items(LIST_NAME, [{**item, **shared} for item in params[LIST_NAME]], normalize_params, ITEMS)
        refuse_duplicates(LIST_NAME, [interface_key(item) for item in items], key_text)
    except InputError as error:
        module.fail_json(msg=str(error), changed=False)
    connection = module.connection
    described = describe_keys(connection, items)
    try:
        refuse_same_eni(items, described)
    except InputError as error:
        module.fail_json(msg=str(error), changed=False)

    def converge_one(index: int) -> ItemOutcome:
        if isinstance(described[index], ItemFailure):
            raise described[index]
        result = converge_interface(connection, items[index], module.check_mode, True, described[index])
        diff = result.pop("diff")
        return ItemOutcome(changed=result.pop("changed"), values=result, diff=diff)

    exit_list(module, LIST_NAME, converge_items(converge_one, len(items)), "ENIs")


def main():
    module = AlicloudModule(
        argument_spec=argument_spec(),
        # Changes through ECS, reads vSwitches and EIPs through VPC: both packages checked before anything.
        products=("ecs", "vpc"),
        supports_check_mode=True,
        mutually_exclusive=[["secondary_private_ip_addresses", "secondary_private_ip_address_count"]]
        + exclusive_with(LIST_NAME, ITEMS),
        required_one_of=[[LIST_NAME, "network_interface_id", "name"]],
    )
    if module.params[LIST_NAME] is not None:
        run_list(module)
    if module.params["wait_timeout"] <= 0:
        module.fail_json(msg=f"wait_timeout must be a positive number of seconds, got {module.params['wait_timeout']}")
    try:
        params = normalize_params(module.params)
    except InputError as error:
        module.fail_json(msg=str(error))
    try:
        result = converge_interface(module.connection, params, module.check_mode, module._diff)
    except ItemFailure as failure:
        error = {"error": failure.error} if failure.error is not None else {}
        module.fail_json(msg=failure.msg, changed=failure.changed, **error, **failure.values)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
