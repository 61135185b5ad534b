#!/usr/bin/python
# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: snat_entry
short_description: Manage SNAT entries of an Alibaba Cloud Internet NAT gateway
version_added: 0.1.0
description:
  - Creates, modifies or deletes one SNAT entry of an Internet NAT gateway, so that a vSwitch or a CIDR block (one ECS
    instance is its private IP as a C(/32)) reaches the Internet through the EIPs associated with the gateway.
  - The entry is keyed by its SNAT table and its source (O(source_vswitch_id) or O(source_cidr)). An existing entry
    whose SNAT IPs (compared as a set) or name differ is changed in place with C(ModifySnatEntry); the source of an
    entry cannot change.
  - Before any mutating call the module checks that every SNAT IP is an EIP associated with the gateway, that a
    CIDR is not already the source of a vSwitch's entry, and that a new entry's source vSwitch exists in the
    gateway's VPC (the API answers C(InvalidVSwitchId.NotFound)) and holds no HaVip (the API answers
    C(Forbidden.SourceVSwitchId.IncludeHaVip)); such a request fails with the same message, and the API's error code
    under C(error.code), in check mode and in a real run. The vSwitch and its HaVips are read (one
    C(DescribeVSwitches), one C(DescribeHaVips)) only when an entry of a source vSwitch is to be created.
  - Associate the EIPs with the gateway first, with M(alicloud.eip.eip_association).
author:
  - alicloud.eip developers (@alicloud-eip)
options:
  nat_gateway_id:
    description:
      - The Internet NAT gateway, for example C(ngw-bp1xxxxxxxxxxxxxxxxxx).
    type: str
    required: true
  snat_table_id:
    description:
      - The SNAT table of the entry. It must belong to O(nat_gateway_id).
      - Default is the gateway's first SNAT table (an Internet NAT gateway has one).
    type: str
  source_vswitch_id:
    description:
      - The vSwitch whose addresses the entry translates. Exactly one of O(source_vswitch_id) and O(source_cidr).
    type: str
  source_cidr:
    description:
      - The CIDR block the entry translates. For one ECS instance give its private IP as C(<ip>/32); a bare address
        means C(/32). Host bits must be zero (C(10.1.0.0/24), not C(10.1.0.5/24)).
      - Overlapping blocks may have entries of their own (the longest prefix wins); the same block may not, and the
        block of a vSwitch that has an entry by O(source_vswitch_id) counts as taken.
    type: str
  snat_ips:
    description:
      - The public addresses of the EIPs the source is translated to; more than one makes a SNAT address pool.
        Order does not matter. Required with O(state=present).
      - Each must be an EIP associated with O(nat_gateway_id).
    type: list
    elements: str
  name:
    description:
      - The name of the entry, 2 to 128 characters, starting with a letter. Left alone when not given.
    type: str
  check_mode_associated_ips:
    description:
      - In check mode only, EIP addresses to count as associated with O(nat_gateway_id) although the gateway does not
        list them yet, because an earlier task of the same check-mode run (M(alicloud.eip.eip_association)) only
        predicted their association. Without it such a check-mode run fails as the real run would without that
        association.
      - Ignored outside check mode, where the gateway's own list decides.
    type: list
    elements: str
    default: []
  state:
    description:
      - V(present) creates or updates the entry; V(absent) deletes it (O(snat_ips) and O(name) are then ignored).
    type: str
    choices: [present, absent]
    default: present
  wait:
    description:
      - Wait until the entry is C(Available) after a create or modify, or gone after a delete.
      - An entry of the same source found C(Pending) or C(Deleting) is always waited for before deciding, since the
        API refuses to change it until then.
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
      - Check mode reads the gateway and the SNAT table and predicts the refusals listed above with the real run's
        message.
  diff_mode:
    support: full
    details:
      - The diff shows the entry's source, SNAT IPs (sorted) and name before and after.
  idempotent:
    support: full
notes:
  - CreateSnatEntry, ModifySnatEntry and DeleteSnatEntry are asynchronous (C(Pending) then C(Available); C(Deleting)
    then gone). With O(wait=true) the module polls the table with one C(DescribeSnatTableEntries) per round, from a
    0.2 s interval growing 1.5x up to 5 s, never longer than O(wait_timeout).
  - While another entry of the same table is C(Pending) the API refuses ModifySnatEntry and DeleteSnatEntry for a
    moment; the module retries C(IncorretSnatEntryStatus) (sic) and C(IncorrectStatus.NATGW) with backoff, as
    Alibaba Cloud's Terraform provider does.
  - To take an EIP that SNAT entries use off the gateway, first change or delete those entries (or disassociate with
    C(force=true) in M(alicloud.eip.eip_association), which also removes it from the entries).
  - An ECS instance that has its own public IP or EIP does not use SNAT entries at all.
seealso:
  - module: alicloud.eip.nat_gateway_info
  - module: alicloud.eip.eip_association
  - name: Create and manage SNAT entries
    description: Alibaba Cloud NAT Gateway documentation.
    link: https://www.alibabacloud.com/help/en/nat-gateway/latest/create-and-manage-snat-entries
"""

EXAMPLES = r"""
- name: Let a whole vSwitch reach the Internet through two EIPs of the NAT gateway
  alicloud.eip.snat_entry:
    nat_gateway_id: ngw-bp1xxxxxxxxxxxxxxxxxx
    source_vswitch_id: vsw-bp1yyyyyyyyyyyyyyyyyy
    snat_ips: [47.96.10.20, 47.96.10.21]
    name: web-egress
    region: cn-hangzhou

- name: One ECS instance leaves through its own EIP
  alicloud.eip.snat_entry:
    nat_gateway_id: ngw-bp1xxxxxxxxxxxxxxxxxx
    source_cidr: 10.1.0.15/32
    snat_ips: [47.96.10.22]

- name: Remove the vSwitch's entry
  alicloud.eip.snat_entry:
    nat_gateway_id: ngw-bp1xxxxxxxxxxxxxxxxxx
    source_vswitch_id: vsw-bp1yyyyyyyyyyyyyyyyyy
    state: absent

- name: Credentials and endpoint once for the whole play
  module_defaults:
    group/alicloud.eip.all:
      region: cn-hangzhou
      profile: production
  block:
    - name: Replace the EIPs of an entry (ModifySnatEntry)
      alicloud.eip.snat_entry:
        nat_gateway_id: ngw-bp1xxxxxxxxxxxxxxxxxx
        source_vswitch_id: vsw-bp1yyyyyyyyyyyyyyyyyy
        snat_ips: [47.96.10.23]
      register: egress

    - name: Show the egress addresses
      ansible.builtin.debug:
        msg: "{{ egress.snat_entry.snat_ips }}"
"""

RETURN = r"""
snat_entry:
  description:
    - The SNAT entry. After a change with O(wait=true) it shows the final state; in check mode, the predicted one
      (C(id) and C(status) empty for an entry still to be created). An empty dict when the entry does not exist
      (after O(state=absent)).
  returned: always
  type: dict
  contains:
    id:
      description: The ID of the entry.
      type: str
      sample: snat-bp1vcgcf8tm0plqcgxxxx
    snat_table_id:
      description: The SNAT table.
      type: str
      sample: stb-bp190wu8io1vgevxxxxxx
    nat_gateway_id:
      description: The NAT gateway.
      type: str
      sample: ngw-bp1xxxxxxxxxxxxxxxxxx
    source_vswitch_id:
      description: The source vSwitch; empty for an entry by CIDR block.
      type: str
      sample: vsw-bp1yyyyyyyyyyyyyyyyyy
    source_cidr:
      description: The source CIDR block (for an entry by vSwitch, the vSwitch's block as the API reports it).
      type: str
      sample: 10.1.0.0/24
    network_interface_id:
      description: The source ENI of an entry created by ENI (not managed by this module); usually empty.
      type: str
      sample: ""
    snat_ips:
      description: The public addresses the source is translated to, in the API's order.
      type: list
      elements: str
      sample: [47.96.10.20, 47.96.10.21]
    name:
      description: The name of the entry.
      type: str
      sample: web-egress
    eip_affinity:
      description: Whether IP affinity is on (a client keeps one EIP of the pool).
      type: bool
      sample: false
    status:
      description: C(Pending), C(Available) or C(Deleting).
      type: str
      sample: Available
"""

from ansible_collections.alicloud.eip.plugins.module_utils._api.vpc_network import (
    create_snat_entry,
    delete_snat_entry,
    describe_nat_gateways,
    describe_snat_entries,
    describe_vswitches,
    havips_by_vswitch,
    modify_snat_entry,
)
from ansible_collections.alicloud.eip.plugins.module_utils._client import AlicloudModule
from ansible_collections.alicloud.eip.plugins.module_utils._polling import WaitError
from ansible_collections.alicloud.eip.plugins.module_utils._retries import AlicloudApiError
from ansible_collections.alicloud.eip.plugins.module_utils._snat import (
    ApplyFunctions,
    InputError,
    PlanError,
    apply_plan,
    choose_table,
    plan_entry,
    settle_entries,
    validate_request,
)


def argument_spec() -> dict:
    return {
        "nat_gateway_id": {"type": "str", "required": True},
        "snat_table_id": {"type": "str"},
        "source_vswitch_id": {"type": "str"},
        "source_cidr": {"type": "str"},
        "snat_ips": {"type": "list", "elements": "str"},
        "name": {"type": "str"},
        "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
        "wait": {"type": "bool", "default": True},
        "wait_timeout": {"type": "int", "default": 300},
        "check_mode_associated_ips": {"type": "list", "elements": "str", "default": []},
    }


def observe(module, desired):
    """(gateway, SNAT table ID, entries of the table, HaVips of a new entry's source vSwitch, that vSwitch).

    A transient entry of the same source is settled first.  The source vSwitch and its HaVips are read only when the
    entry of a source vSwitch is still to be created (one DescribeVSwitches, one DescribeHaVips), since that is the
    call the API would refuse (InvalidVSwitchId.NotFound, Forbidden.SourceVSwitchId.IncludeHaVip).  The last item
    is ``None`` when the vSwitch was not looked up, else the DescribeVSwitches records (empty: no such vSwitch).
    """
    connection = module.connection
    gateways = describe_nat_gateways(connection, [desired.nat_gateway_id])
    gateway = gateways[0] if gateways else None
    table_id = choose_table(desired, gateway, connection.region)
    entries = describe_snat_entries(connection, table_id)
    entries = settle_entries(
        connection, table_id, entries, desired, module.params["wait_timeout"], describe=describe_snat_entries
    )
    havips: tuple[str, ...] = ()
    vswitch_id = desired.source_vswitch_id
    if (
        desired.state == "present"
        and vswitch_id
        and not any(entry["source_vswitch_id"] == vswitch_id and entry["status"] != "Deleting" for entry in entries)
    ):
        vswitches = describe_vswitches(connection, [vswitch_id])
        havips = tuple(havips_by_vswitch(connection, [vswitch_id]).get(vswitch_id, []))
        return gateway, table_id, entries, havips, vswitches
    return gateway, table_id, entries, havips, None


def main():
    module = AlicloudModule(
        argument_spec=argument_spec(),
        supports_check_mode=True,
        mutually_exclusive=[["source_vswitch_id", "source_cidr"]],
        required_one_of=[["source_vswitch_id", "source_cidr"]],
        required_if=[["state", "present", ["snat_ips"]]],
    )
    params = module.params
    if params["wait_timeout"] <= 0:
        module.fail_json(msg=f"wait_timeout must be a positive number of seconds, got {params['wait_timeout']}")
    try:
        desired = validate_request(params)
    except InputError as error:
        module.fail_json(msg=str(error))

    try:
        gateway, table_id, entries, havips, vswitches = observe(module, desired)
        assumed = tuple(params["check_mode_associated_ips"]) if module.check_mode else ()
        plan = plan_entry(
            desired,
            gateway,
            table_id,
            entries,
            assumed_bound=assumed,
            source_havips=havips,
            source_vswitches=vswitches,
        )
    except PlanError as error:
        module.fail_json(msg=str(error), error=error.as_dict(), changed=False)
    except WaitError as error:
        module.fail_json(msg=f"a SNAT entry of {desired.source_label} did not settle: {error}", changed=False)
    except AlicloudApiError as error:
        module.fail_json_alicloud(
            error, f"could not read NAT gateway {desired.nat_gateway_id} and its SNAT entries", changed=False
        )

    entry = plan.after if plan.action != "delete" else {}
    if plan.changed and not module.check_mode:
        functions = ApplyFunctions(
            create=create_snat_entry, modify=modify_snat_entry, delete=delete_snat_entry, describe=describe_snat_entries
        )
        try:
            entry = apply_plan(module.connection, plan, desired, params["wait"], params["wait_timeout"], functions)
        except AlicloudApiError as error:
            # A failed mutating call changed nothing; a failed read-back after it did change something.
            module.fail_json_alicloud(
                error,
                f"could not {plan.action} the SNAT entry of {desired.source_label} on {desired.nat_gateway_id}",
                changed=error.action == "DescribeSnatTableEntries",
            )
        except WaitError as error:
            module.fail_json(msg=str(error), changed=True, snat_entry=plan.after or {})

    result = {"changed": plan.changed, "snat_entry": entry or {}}
    if module._diff:
        result["diff"] = plan.diff.as_diff()
    module.exit_json(**result)


if __name__ == "__main__":
    main()
