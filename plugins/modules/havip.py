#!/usr/bin/python
# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: havip
short_description: Manage an Alibaba Cloud HaVip and the two hosts that share it
version_added: 0.1.0
description:
  - Creates, associates, disassociates or deletes a high-availability virtual IP (HaVip) of a VPC vSwitch.
  - The HaVip is found by O(havip_id), or by O(name) (and O(tags)) in O(vswitch_id); a new one carries its name and
    tags in the C(CreateHaVip) call itself.
  - With O(instance_ids) the HaVip ends up associated with exactly those ECS instances (or ENIs, with
    O(instance_type=NetworkInterface)), at most two, in the HaVip's vSwitch, Running or Stopped. Each is checked
    before any call, and a request that breaks a rule fails with nothing changed, in check mode as in a real run.
  - Which associated host is the master is decided by the hosts (keepalived's gratuitous ARP), not by this module;
    removing the current master moves the address, so it needs O(force_unassociate_master=true).
  - Put an EIP on the HaVip with M(alicloud.eip.eip_association) (O(alicloud.eip.eip_association#module:instance_type=HaVip)).
    The role P(alicloud.eip.havip_failover#role) joins all of it with keepalived on the hosts.
author:
  - alicloud.eip developers (@alicloud-eip)
options:
  havip_id:
    description:
      - The HaVip, for example C(havip-bp1xxxxxxxxxxxxxxxxxx). With O(state=present) it must exist.
    type: str
  name:
    description:
      - The name of the HaVip, its key when O(havip_id) is not given. Two HaVips of one name (and O(tags)) are refused.
    type: str
  vswitch_id:
    description:
      - The vSwitch of the HaVip. Required to create one.
    type: str
  ip_address:
    description:
      - The private address of a new HaVip; a free address of the vSwitch's block. Default is one the platform picks.
      - An existing HaVip's address cannot change; a different value fails.
    type: str
  description:
    description:
      - The description of a new HaVip (applied at creation only).
    type: str
  tags:
    description:
      - Tags of a new HaVip, also part of its key when looking it up by O(name).
    type: dict
  instance_ids:
    description:
      - The ECS instances (or ENIs) the HaVip is associated with, at most two. Others are disassociated.
      - Not given leaves the associations alone.
    type: list
    elements: str
  instance_type:
    description:
      - What O(instance_ids) are. A HaVip holds one type at a time.
    type: str
    choices: [EcsInstance, NetworkInterface]
    default: EcsInstance
  force_unassociate_master:
    description:
      - Consent to disassociate the instance that is master now (C(UnassociateHaVip Force=True)), which moves the
        address to the other host or leaves it on none.
    type: bool
    default: false
  state:
    description:
      - V(present) creates and associates; V(absent) disassociates every instance (the master last, alone, so
        O(force_unassociate_master) is not needed) and deletes the HaVip (an EIP on it must be disassociated first).
    type: str
    choices: [present, absent]
    default: present
  wait:
    description:
      - Wait until the HaVip leaves C(Creating), C(Associating) and C(Unassociating) after each change.
    type: bool
    default: true
  wait_timeout:
    description:
      - How long to wait, in seconds, for each of those waits.
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
      - Check mode reads the HaVip, the vSwitch and the instances and predicts the refusals with the real run's message.
  diff_mode:
    support: full
    details:
      - The diff shows the HaVip's name, vSwitch, address, tags and associated instances before and after.
  idempotent:
    support: full
notes:
  - Creating a HaVip needs a quota grant on the account (50 per account once granted).
  - Failover needs no API call; the platform follows the master's gratuitous ARP and updates C(MasterInstanceId),
    which M(alicloud.eip.havip_info) reports.
seealso:
  - module: alicloud.eip.havip_info
  - module: alicloud.eip.eip_association
  - name: HaVip
    description: Alibaba Cloud VPC documentation.
    link: https://www.alibabacloud.com/help/en/vpc/highly-available-virtual-ip-address-havip
"""

EXAMPLES = r"""
- name: A HaVip shared by two web servers
  alicloud.eip.havip:
    name: web-vip
    vswitch_id: vsw-bp1yyyyyyyyyyyyyyyyyy
    ip_address: 192.168.0.100
    tags:
      app: web
    instance_ids: [i-bp1aaaaaaaaaaaaaaaaa, i-bp1bbbbbbbbbbbbbbbbb]
    region: cn-hangzhou
  register: vip

- name: Scale down to one host, even when it is the master now
  alicloud.eip.havip:
    havip_id: "{{ vip.havip.id }}"
    instance_ids: [i-bp1bbbbbbbbbbbbbbbbb]
    force_unassociate_master: true

- name: Remove the HaVip (its EIP disassociated first)
  alicloud.eip.havip:
    havip_id: "{{ vip.havip.id }}"
    state: absent
"""

RETURN = r"""
havip:
  description:
    - The HaVip after the change (in check mode, as predicted; C(id) empty for one still to be created). An empty
      dict after O(state=absent).
  returned: always
  type: dict
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
      description: The associated instance that holds the address now (the keepalived master).
      type: str
      sample: i-bp1aaaaaaaaaaaaaaaaa
    associated_instance_type:
      description: C(EcsInstance) or C(NetworkInterface); empty when nothing is associated.
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
    create_time:
      description: When it was created (UTC).
      type: str
      sample: "2026-12-01T10:00:00Z"
    tags:
      description: Its tags.
      type: dict
      sample: {app: web}
"""

from ansible_collections.alicloud.eip.plugins.module_utils._api.ecs import describe_instances, describe_interfaces
from ansible_collections.alicloud.eip.plugins.module_utils._api.vpc_havip import (
    associate_ha_vip,
    create_ha_vip,
    delete_ha_vip,
    list_ha_vips,
    unassociate_ha_vip,
    wait_for_havip,
)
from ansible_collections.alicloud.eip.plugins.module_utils._api.vpc_network import describe_vswitches
from ansible_collections.alicloud.eip.plugins.module_utils._client import AlicloudModule
from ansible_collections.alicloud.eip.plugins.module_utils._havip import (
    Request,
    choose_havip,
    plan_havip,
    validate_request,
)
from ansible_collections.alicloud.eip.plugins.module_utils._polling import WaitError
from ansible_collections.alicloud.eip.plugins.module_utils._retries import AlicloudApiError
from ansible_collections.alicloud.eip.plugins.module_utils._util import InputError


def argument_spec() -> dict:
    return {
        "havip_id": {"type": "str"},
        "name": {"type": "str"},
        "vswitch_id": {"type": "str"},
        "ip_address": {"type": "str"},
        "description": {"type": "str"},
        "tags": {"type": "dict"},
        "instance_ids": {"type": "list", "elements": "str"},
        "instance_type": {"type": "str", "choices": ["EcsInstance", "NetworkInterface"], "default": "EcsInstance"},
        "force_unassociate_master": {"type": "bool", "default": False},
        "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
        "wait": {"type": "bool", "default": True},
        "wait_timeout": {"type": "int", "default": 300},
    }


def read_targets(connection, request: Request) -> dict[str, dict]:
    """``id -> {status, vswitch_id, instance_id, primary_ip}`` of each instance (or ENI) in ``instance_ids``.

    ``status`` is the ECS instance's (of the ENI's instance, for ENIs): that is what AssociateHaVip checks.
    """
    ids = list(request.instance_ids or ())
    if not ids:
        return {}
    targets: dict[str, dict] = {}
    if request.instance_type == "NetworkInterface":
        enis = {eni["id"]: eni for eni in describe_interfaces(connection, eni_ids=ids)}
        owners = {item["id"]: item for item in describe_instances(connection, [e["instance_id"] for e in enis.values() if e["instance_id"]])}
        for eni_id, eni in enis.items():
            owner = owners.get(eni["instance_id"], {})
            targets[eni_id] = {
                "status": owner.get("status", ""),
                "vswitch_id": eni["vswitch_id"],
                "instance_id": eni["instance_id"],
                "primary_ip": eni["primary_ip_address"],
            }
        return targets
    instances = {item["id"]: item for item in describe_instances(connection, ids)}
    primaries = {
        eni["id"]: eni
        for eni in describe_interfaces(connection, eni_ids=[i["primary_eni_id"] for i in instances.values() if i["primary_eni_id"]])
    }
    for instance_id, instance in instances.items():
        eni = primaries.get(instance["primary_eni_id"], {})
        targets[instance_id] = {
            "status": instance["status"],
            "vswitch_id": eni.get("vswitch_id", ""),
            "instance_id": instance_id,
            "primary_ip": instance["primary_ip"],
        }
    return targets


def observe(connection, request: Request):
    """(the HaVip meant, the instances to associate, the vSwitch of a HaVip still to be created)."""
    if request.havip_id:
        candidates = list_ha_vips(connection, {"HaVipId": [request.havip_id]})
    elif request.vswitch_id:
        candidates = list_ha_vips(connection, {"VSwitchId": [request.vswitch_id]}, request.tags)
    else:
        candidates = list_ha_vips(connection, None, request.tags)
    current = choose_havip(request, candidates)
    targets = read_targets(connection, request) if request.state == "present" else {}
    vswitch = None
    if current is None and request.state == "present" and request.vswitch_id:
        found = describe_vswitches(connection, [request.vswitch_id])
        vswitch = found[0] if found else None
    return current, targets, vswitch


def apply(module, plan, current, done: list):
    """Run the plan's steps in order (each one done is appended to ``done``); returns the HaVip as read back."""
    connection = module.connection
    params = module.params
    havip_id = current["id"] if current else ""

    def settle(gone=False):
        if params["wait"]:
            return wait_for_havip(connection, havip_id, params["wait_timeout"], gone=gone)
        return None

    for step, args in plan.steps:
        if step == "create":
            havip_id = create_ha_vip(connection, **args)["id"]
        elif step == "associate":
            associate_ha_vip(connection, havip_id, args["instance_id"], args["instance_type"])
        elif step == "unassociate":
            unassociate_ha_vip(connection, havip_id, args["instance_id"], args["instance_type"], args["force"])
        elif step == "delete":
            delete_ha_vip(connection, havip_id)
            done.append(step)
            settle(gone=True)
            return {}
        done.append(step)
        settle()
    found = list_ha_vips(connection, {"HaVipId": [havip_id]})
    return found[0] if found else {}


def main():
    module = AlicloudModule(
        argument_spec=argument_spec(),
        # Changes through VPC, reads the ENIs' instances through ECS: both packages checked before anything.
        products=("vpc", "ecs"),
        supports_check_mode=True,
        required_one_of=[["havip_id", "name"]],
    )
    params = module.params
    if params["wait_timeout"] <= 0:
        module.fail_json(msg=f"wait_timeout must be a positive number of seconds, got {params['wait_timeout']}")
    try:
        request = validate_request(params)
    except InputError as error:
        module.fail_json(msg=str(error), changed=False)

    try:
        current, targets, vswitch = observe(module.connection, request)
        plan = plan_havip(request, current, targets, vswitch)
    except InputError as error:
        module.fail_json(msg=str(error), changed=False)
    except AlicloudApiError as error:
        module.fail_json_alicloud(error, "could not read the HaVip, its vSwitch and its instances", changed=False)

    havip = plan.after
    if plan.changed and not module.check_mode:
        done: list[str] = []
        try:
            havip = apply(module, plan, current, done)
        except AlicloudApiError as error:
            module.fail_json_alicloud(error, f"could not {error.action} for the HaVip", changed=bool(done))
        except WaitError as error:
            module.fail_json(msg=str(error), changed=True)

    result = {"changed": plan.changed, "havip": havip or {}}
    if module._diff:
        result["diff"] = plan.diff.as_diff()
    module.exit_json(**result)


if __name__ == "__main__":
    main()
