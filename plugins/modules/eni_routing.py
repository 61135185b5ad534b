#!/usr/bin/python
# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: eni_routing
short_description: Configure a Linux host for the ENIs, secondary private IPs and EIPs Alibaba Cloud gave it
version_added: 0.1.0
description:
  - Makes an EIP on a secondary ENI or on a secondary private IP carry traffic, in NAT mode, cut-through mode
    (the EIP replaces the ENI's private IP) and multi-EIP cut-through mode (EIPs with their own gateway and mask).
  - "Runtime state, read with C(ip -j) and changed with C(ip) argument lists: the ENI's link up, its addresses, one
    routing table per secondary ENI (subnet route plus default route via that ENI's gateway), one rule per address
    living on that ENI, loose C(rp_filter) on secondary ENIs, C(arp_ignore)/C(arp_announce) for ENIs that share a
    subnet. The primary ENI gets no table and no rule; only its secondary private IPs are added."
  - Cut-through mode adds the rule C(to 100.64.0.0/10 lookup main priority 999) so that Alibaba's internal range
    (metadata, DNS) leaves through the primary ENI; the main table's default route must already go through the
    primary ENI.
  - Multi-EIP mode groups EIPs by gateway; each group gets its own table (the ENI's table plus 1, 2, ... in
    gateway order) with the EIPs' network and a default route via that gateway.
  - Persistent state for the stack the host runs (O(backend)), written only when the content changes, each file
    starting with O(marker); only the changed backend is reloaded, and only when its daemon runs in this network
    namespace.
  - ENIs are matched by MAC, never by interface name.
  - Every input problem (unknown MAC, address outside the vSwitch CIDR block, cut-through on the primary ENI, a
    table that something else uses, the interface Ansible connects through) fails before any change.
  - "The host's way out is never removed nor shadowed, whatever the input and O(allow_primary_changes) say; refused
    before any change: the primary ENI's MAC, or the device that carries the main table's default route (the one of
    lowest metric) or holds its source address, in O(absent_interfaces); that device as a secondary ENI (a wrong
    O(primary_mac) or metadata C(mac)); a secondary ENI O(interfaces[].cidr) that contains or lies inside the primary
    ENI's subnet (vSwitches of one VPC never overlap: the same block, a shared vSwitch, is fine); a rule that looks
    up one of the module's tables but is not of the one shape the module writes
    (C(from <address>/32 lookup T priority T)), for example a subnet, fwmark or iif rule of another tool."
  - After applying, each gateway must answer from the ENI's address (O(gateway_check)); if one does not, every
    runtime change is rolled back, no file is written and the module fails naming the gateway.
  - A rollback (after a failed step or a failed gateway check) also restores, from a snapshot of every IPv4 route
    taken before applying, the routes of the main table, of the module's tables and of every device it changed that
    the kernel removed as a consequence (a route whose source address is removed goes with it, such as a DHCP
    lease's default route) or that an undo step rebuilt differently; the failure lists them in C(restored_routes).
author:
  - alicloud.eip developers (@alicloud-eip)
options:
  interfaces:
    description:
      - ENIs to configure, merged per MAC over what O(metadata) gives; a key given here wins.
      - A MAC is the same however spelled (case, dashes or colons). Several entries of one MAC are combined when each
        key they both give resolves to the same value (one may give the mode, another the addresses); entries that
        disagree (other addresses, address order, cidr, gateway, table, mode, eips) are refused before any change,
        naming both entries. A MAC also listed in O(absent_interfaces) is refused.
      - Without O(metadata), each entry needs O(interfaces[].addresses), O(interfaces[].cidr) and O(interfaces[].gateway).
    type: list
    elements: dict
    default: []
    suboptions:
      mac:
        description: MAC address of the ENI (as C(DescribeNetworkInterfaces) or metadata report it).
        type: str
        required: true
      mode:
        description:
          - C(nat) for private IPs (an EIP in NAT mode is invisible to the host), C(cut_through) when the EIP
            replaces the ENI's private IP (mode C(BINDED)), C(multi_eip) for EIPs in mode C(MULTI_BINDED).
          - When neither this nor O(metadata) gives a mode, C(nat).
        type: str
        choices: [nat, cut_through, multi_eip]
      addresses:
        description:
          - The ENI's addresses, its primary private IP first. For C(cut_through), the one EIP.
          - The first address gets the prefix of O(interfaces[].cidr), the others C(/32).
        type: list
        elements: str
      cidr:
        description:
          - The vSwitch CIDR block. For C(cut_through), the network of the EIP as DHCP announces it (UNCONFIRMED
            [fid:cut-through-dhcp-network]
            what metadata reports for such an ENI, so give it explicitly).
        type: str
      gateway:
        description: The gateway of O(interfaces[].cidr) (the vSwitch gateway, or the EIP's gateway in cut-through mode).
        type: str
      table:
        description:
          - Routing table and rule priority of this ENI. Default 1000 + 16 * (SHA-256 of the MAC mod 1900), stable
            for the ENI whatever its interface name or index. Multi-EIP groups use the next numbers.
        type: int
      eni_id:
        description: The ENI's ID, for messages and the result only.
        type: str
      eips:
        description: For C(multi_eip), the EIPs as C(DescribeEipGatewayInfo) returns them (C(Ip), C(IpGw), C(IpMask)), or with the snake-case names.
        type: list
        elements: dict
        suboptions:
          ip:
            description: The EIP.
            type: str
            required: true
            aliases: [Ip]
          gateway:
            description: Its gateway.
            type: str
            required: true
            aliases: [ip_gw, IpGw]
          mask:
            description: Its netmask, dotted (C(255.255.255.0)) or a prefix length.
            type: str
            required: true
            aliases: [ip_mask, IpMask]
          allocation_id:
            description: The EIP's ID, as M(alicloud.eip.eip_gateway_info) returns it; for the result only.
            type: str
  metadata:
    description:
      - "What the instance metadata service reports, as the role collects it: C(mac) (the primary ENI's MAC) and C(macs), a
        mapping of each MAC to its items C(gateway), C(private-ipv4s), C(vswitch-cidr-block), C(primary-ip-address) and
        C(network-interface-id). Every MAC becomes a NAT-mode ENI unless O(interfaces) says otherwise."
      - A missing item fails; it is never read as "no addresses".
    type: dict
  absent_interfaces:
    description:
      - ENIs that are gone (detached or deleted) or are to be unconfigured, by MAC. Every rule and route left in
        their table slot (O(absent_interfaces[].table), else the table derived from the MAC, and the 15 numbers after
        it that multi-EIP groups use) is removed; a NIC with that MAC that is still present loses its IPv4 addresses.
        Their files are removed as every managed file no longer wanted is.
      - The primary ENI's MAC, and a NIC that carries the main table's default route or holds its source address, are
        refused (however the MAC is spelled), since removing their addresses would take the host's way out.
      - The kernel removes an ENI's addresses and routes with its NIC, but not the rules that look up its table; this
        is how a scale-down leaves the host clean.
      - An ENI listed here that O(metadata) still reports attached is refused in a real run (detach it first). In
        check mode, when O(interfaces) does not list it, it is taken as about to be detached (a scale-down checked
        before its cloud part ran), and the result is the real run's once the ENI is gone (its rules removed, its
        NIC, addresses and routes gone with it), with the same guards of the host's way out.
    type: list
    elements: dict
    default: []
    suboptions:
      mac:
        description: MAC address of the ENI.
        type: str
        required: true
      table:
        description: The table the ENI had, when it was set explicitly.
        type: int
  primary_mac:
    description: MAC of the primary ENI. Required without O(metadata); with it, metadata's C(mac) is used unless this is set.
    type: str
  keep_addresses:
    description:
      - IPv4 addresses or CIDR blocks that the module never removes from a managed interface, for example a HaVip
        (high-availability virtual IP) that keepalived moves between hosts by adding it to and removing it from a
        secondary ENI.
      - Without this, a configured secondary ENI is cut down to exactly its desired addresses, so the next run would
        remove such an address from the host that holds it.
      - An address in one of these blocks that is present at runtime is left alone; one that is absent is not added,
        no rule is written for it, and it is not written into the persistent files (its owner, keepalived, adds it).
        An address that O(interfaces) or O(metadata) also gives is configured as usual.
      - The host's way out is protected as before, whatever this says.
    type: list
    elements: str
    default: []
  backend:
    description:
      - Which persistent configuration to write. C(auto) detects the stack this host runs, see notes. C(none) changes
        the runtime state only.
    type: str
    choices: [auto, networkd, nm, netplan, ifcfg, none]
    default: auto
  rp_filter:
    description: C(rp_filter) for secondary ENIs; the effective value is the maximum of C(all) and the interface's, so 2 (loose) wins.
    type: int
    choices: [0, 1, 2]
    default: 2
  arp_tuning:
    description: Set C(arp_ignore=1) and C(arp_announce=2) on ENIs that share a subnet with another configured ENI.
    type: bool
    default: true
  allow_primary_changes:
    description:
      - Permit configuring the ENI that holds O(connection_address), and ARP settings on the primary ENI.
      - The primary ENI's addresses and the main table's default route are never removed or changed either way.
    type: bool
    default: false
  connection_address:
    description: The host address Ansible connected to (the role passes the third field of C(SSH_CONNECTION)).
    type: str
  gateway_check:
    description: After applying runtime changes, require every gateway to answer (ping from the ENI's address, or an ARP reply); roll back if one does not.
    type: bool
    default: true
  gateway_check_attempts:
    description: Pings (one second each) per gateway before the check fails.
    type: int
    default: 3
  reload:
    description: Reload the backend whose files changed, when its daemon runs in this network namespace.
    type: bool
    default: true
  marker:
    description: First line of every file written (commented); files starting with it are this module's to replace or remove.
    type: str
    default: "Ansible managed: alicloud.eip.eni_routing"
extends_documentation_fragment:
  - alicloud.eip._attributes
attributes:
  check_mode:
    support: full
    details:
      - Check mode reads the runtime state and the files and reports the changes and the diff; it runs no gateway check.
  diff_mode:
    support: full
    details:
      - The diff shows the managed runtime state (addresses, routes, rules, sysctls) and every file, before and after.
  idempotent:
    support: full
notes:
  - "Backend detection (O(backend=auto)): netplan files rendered by networkd -> C(netplan); NetworkManager running in this
    network namespace, or netplan rendering to it -> C(nm) keyfiles (netplan 0.106 drops C(routing-policy) under the
    NetworkManager renderer); systemd-networkd running -> C(networkd); C(/etc/sysconfig/network-scripts) -> C(ifcfg).
    Nothing found fails."
  - "Files: networkd C(/etc/systemd/network/05-alicloud-eni-<mac>.network); NetworkManager
    C(/etc/NetworkManager/system-connections/alicloud-eni-<mac>.nmconnection) (mode 0600, C(autoconnect-priority=50));
    netplan C(/etc/netplan/90-alicloud-eni.yaml) (mode 0600, renderer networkd per device); ifcfg
    C(ifcfg-/route-/rule-<device>); all backends C(/etc/sysctl.d/90-alicloud-eni.conf). The primary ENI's profile is never written."
  - "Reloads: networkd C(networkctl reload); netplan C(netplan generate) then C(networkctl reload); NetworkManager
    C(nmcli connection reload) (the running profile is left alone; the keyfile wins at the next activation by its
    autoconnect priority); ifcfg none (network-scripts read the files at C(ifup)). NetworkManager's ifcfg-rh plugin ignores
    C(rule-*) files."
  - Addresses are static in every backend. On ECS the vSwitch never changes an ENI's private IP, so this matches what
    DHCP would give; a cut-through EIP's mask and gateway must be given (UNCONFIRMED what metadata reports for it).
    [fid:cut-through-dhcp-network]
  - This module configures the host, not the cloud, so it is not in the action group C(alicloud.eip.all). The
    group's C(module_defaults) (region, endpoint, keys) would otherwise reach it and fail as unsupported parameters in
    every play that also calls the cloud modules (as the role C(alicloud.eip.multi_eip) does).
  - Whether the vSwitch gateway answers ICMP is UNCONFIRMED; the gateway check also accepts a neighbour entry (an ARP reply).
    [fid:vswitch-gateway-icmp]
  - "Owned state, removed when no longer wanted: every route in a table of a configured ENI, every rule
    C(from <address>/32 lookup T priority T) of such a table T (any other rule looking it up is refused), the
    100.64.0.0/10 rule, other IPv4 addresses on a configured secondary ENI (except those in O(keep_addresses))."
seealso:
  - name: Configure an ENI (Alibaba Cloud)
    description: The vendor's manual recipe this module automates.
    link: https://www.alibabacloud.com/help/en/ecs/user-guide/configure-nic-routing
"""

EXAMPLES = r"""
- name: NAT mode, everything from the metadata service the role collected
  alicloud.eip.eni_routing:
    metadata: "{{ eni_metadata }}"

- name: Two secondary private IPs on a secondary ENI (NAT mode), explicit
  alicloud.eip.eni_routing:
    primary_mac: "00:16:3e:00:00:01"
    interfaces:
      - mac: "00:16:3e:00:00:02"
        addresses: [10.20.1.2, 10.20.1.3, 10.20.1.4]
        cidr: 10.20.1.0/24
        gateway: 10.20.1.253
    backend: networkd

- name: Cut-through EIP on a secondary ENI
  alicloud.eip.eni_routing:
    primary_mac: "00:16:3e:00:00:01"
    interfaces:
      - mac: "00:16:3e:00:00:02"
        mode: cut_through
        addresses: [47.96.1.10]
        cidr: 47.96.1.0/24
        gateway: 47.96.1.1

- name: Multi-EIP cut-through, gateways and masks from eip_gateway_info
  alicloud.eip.eni_routing:
    metadata: "{{ eni_metadata }}"
    interfaces:
      - mac: "00:16:3e:00:00:02"
        mode: multi_eip
        eips: "{{ gateway_info.eips }}"

- name: A secondary ENI that also carries a HaVip which keepalived moves between two hosts; leave the VIP alone
  alicloud.eip.eni_routing:
    metadata: "{{ eni_metadata }}"
    keep_addresses:
      - 10.20.1.100

- name: After a scale-down deleted an ENI, remove the rules and routes it left behind
  alicloud.eip.eni_routing:
    metadata: "{{ eni_metadata }}"
    absent_interfaces:
      - mac: "00:16:3e:00:00:03"
"""

RETURN = r"""
backend:
  description: The backend whose files were written.
  returned: always
  type: str
  sample: networkd
backend_reason:
  description: Why that backend (detection result, or "given").
  returned: always
  type: str
  sample: systemd-networkd is running
interfaces:
  description: The ENIs as configured, matched to their interfaces.
  returned: always
  type: list
  elements: dict
  sample:
    - mac: "00:16:3e:00:00:02"
      device: eth1
      mode: nat
      primary: false
      addresses: [10.20.1.2, 10.20.1.3]
      network: 10.20.1.0/24
      gateway: 10.20.1.253
      table: 13488
      eip_groups: []
commands:
  description: The runtime changes, applied (or, in check mode, planned), in order.
  returned: always
  type: list
  elements: str
  sample: ["ip -4 addr add 10.20.1.3/32 dev eth1", "ip -4 rule add from 10.20.1.3/32 lookup 13488 priority 13488"]
files:
  description: Every file of the backend and whether it was (or would be) written or removed.
  returned: always
  type: list
  elements: dict
  sample:
    - {path: /etc/systemd/network/05-alicloud-eni-00163e000002.network, state: written}
reloaded:
  description: Reload commands run.
  returned: always
  type: list
  elements: str
  sample: ["networkctl reload"]
gateways:
  description: Result of the gateway check per gateway (empty in check mode or with O(gateway_check=false)).
  returned: always
  type: list
  elements: dict
  sample:
    - {device: eth1, source: 10.20.1.2, gateway: 10.20.1.253, answered: true, how: ping}
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.alicloud.eip.plugins.module_utils._host_network.backends import (
    BACKENDS,
)
from ansible_collections.alicloud.eip.plugins.module_utils._host_network.converge import (
    converge,
)
from ansible_collections.alicloud.eip.plugins.module_utils._host_network.host import (
    ApplyFailed,
    Host,
)
from ansible_collections.alicloud.eip.plugins.module_utils._host_network.model import (
    HostNetworkError,
)


def argument_spec() -> dict:
    eip = {
        "ip": {"type": "str", "required": True, "aliases": ["Ip"]},
        "gateway": {"type": "str", "required": True, "aliases": ["ip_gw", "IpGw"]},
        "mask": {"type": "str", "required": True, "aliases": ["ip_mask", "IpMask"]},
        # Accepted so that the eips of alicloud.eip.eip_gateway_info pass unchanged; routing does not use it.
        "allocation_id": {"type": "str"},
    }
    interface = {
        "mac": {"type": "str", "required": True},
        "mode": {"type": "str", "choices": ["nat", "cut_through", "multi_eip"]},
        "addresses": {"type": "list", "elements": "str"},
        "cidr": {"type": "str"},
        "gateway": {"type": "str"},
        "table": {"type": "int"},
        "eni_id": {"type": "str"},
        "eips": {"type": "list", "elements": "dict", "options": eip},
    }
    return {
        "interfaces": {"type": "list", "elements": "dict", "options": interface, "default": []},
        "metadata": {"type": "dict"},
        "absent_interfaces": {
            "type": "list",
            "elements": "dict",
            "default": [],
            "options": {"mac": {"type": "str", "required": True}, "table": {"type": "int"}},
        },
        "primary_mac": {"type": "str"},
        "keep_addresses": {"type": "list", "elements": "str", "default": []},
        "backend": {
            "type": "str",
            "default": "auto",
            # One entry per backend class (backends.BACKEND_CLASSES), plus none.
            "choices": ["auto", *BACKENDS],
        },
        "rp_filter": {"type": "int", "default": 2, "choices": [0, 1, 2]},
        "arp_tuning": {"type": "bool", "default": True},
        "allow_primary_changes": {"type": "bool", "default": False},
        "connection_address": {"type": "str"},
        "gateway_check": {"type": "bool", "default": True},
        "gateway_check_attempts": {"type": "int", "default": 3},
        "reload": {"type": "bool", "default": True},
        "marker": {"type": "str", "default": "Ansible managed: alicloud.eip.eni_routing"},
    }


def main() -> None:
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    host = Host(
        lambda argv: module.run_command(argv, environ_update={"LC_ALL": "C"}),
        atomic_move=module.atomic_move,
    )
    try:
        result = converge(module.params, host, module.check_mode, module._diff, module.warn)
    except ApplyFailed as error:
        module.fail_json(msg=str(error), **error.details)
    except HostNetworkError as error:
        module.fail_json(msg=str(error))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
