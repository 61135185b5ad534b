# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The molecule kit's lab hosts, seeded as the world's ECS instances (docs/testing-your-roles.md).

    python topology.py expand TOPOLOGY.yml WORLD.yml OUT.yml

checks the world (the emulator's own format check and loader) and the topology against it, then writes the full
topology that ``eni_shared/lab.py`` builds and ``eip_shared/dataplane.py`` programs.  A host given only as
``{instance: i-...}`` gets its primary NIC from the world: the instance's primary ENI (MAC, private address), its
vSwitch (prefix length, gateway) and the router bridge of that vSwitch.  Without ``bridges``, every vSwitch of the
world gets one (``<prefix>-b<n>``, the vSwitch gateway on it), so that ENIs the role creates on another vSwitch of
the world plug in too.  Hosts with their own ``nics`` are kept as written (the collection's eni scenarios).
Nothing is written, and the exit status is 2, when the topology or the world is wrong; the message names the key.
"""

from __future__ import annotations

import ipaddress
import os
import re
import sys

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import tests.emulator.public as emulator  # noqa: E402  pylint: disable=wrong-import-position

# Interface names have at most 15 characters: the router's end of a host NIC is "<host>e<n>", a bridge
# "<prefix>-b<n>", the internet client's namespace "<prefix>-r-inet".
PREFIX = re.compile(r"^[a-z][a-z0-9]{0,7}$")
HOST = re.compile(r"^[a-z][a-z0-9]{0,10}$")
TOPOLOGY_KEYS = {"prefix", "hosts", "bridges"}
HOST_KEYS = {"instance", "nics", "seed_files"}


class TopologyError(ValueError):
    """The topology cannot be built; the message names the key and the fix."""


def load_yaml(path: str, what: str) -> dict:
    try:
        with open(path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
    except OSError as error:
        raise TopologyError(f"{what} {path}: {error.strerror}") from None
    except yaml.YAMLError as error:
        raise TopologyError(f"{what} {path} is not YAML: {error}".replace("\n", " ")) from None
    if not isinstance(data, dict):
        raise TopologyError(f"{what} {path}: expected a mapping of keys, got {type(data).__name__}")
    return data


def check_shape(topology: dict) -> None:
    """The keys the lab reads, with names that fit in interface names."""
    unknown = sorted(set(topology) - TOPOLOGY_KEYS)
    if unknown:
        raise TopologyError(f"topology: unknown key '{unknown[0]}' - use only {', '.join(sorted(TOPOLOGY_KEYS))}")
    if not PREFIX.match(str(topology.get("prefix", ""))):
        raise TopologyError(
            f"topology prefix {topology.get('prefix')!r}: write 1-8 lower-case letters or digits starting with a "
            "letter (it names the lab's namespaces and interfaces, at most 15 characters each)"
        )
    hosts = topology.get("hosts")
    if not isinstance(hosts, dict) or not hosts:
        raise TopologyError("topology hosts: write a mapping of host name to {instance: <the world's instance ID>}")
    for name, host in hosts.items():
        if not HOST.match(str(name)):
            raise TopologyError(
                f"topology hosts.{name}: a host name has 1-11 lower-case letters or digits, starting with a letter"
            )
        if not isinstance(host, dict):
            raise TopologyError(f"topology hosts.{name}: write a mapping such as {{instance: i-web-1}}")
        unknown = sorted(set(host) - HOST_KEYS)
        if unknown:
            raise TopologyError(
                f"topology hosts.{name}: unknown key '{unknown[0]}' - use {', '.join(sorted(HOST_KEYS))}"
            )
        if not host.get("nics") and not host.get("instance"):
            raise TopologyError(f"topology hosts.{name}: give instance (an ECS instance ID of the world) or nics")


def expand(topology: dict, world_spec: dict | None) -> dict:
    """The full topology: hosts without ``nics`` built from their world instance (see the module docstring)."""
    check_shape(topology)
    if world_spec is None:
        if any(not host.get("nics") for host in topology["hosts"].values()):
            raise TopologyError("topology: hosts given by instance need the world file (lab/world.yml) to seed them")
        return topology
    try:
        state = emulator.build_state(world_spec)
    except emulator.WorldError as error:
        raise TopologyError(f"world: {error}") from None
    prefix = topology["prefix"]
    result = {**topology, "hosts": {}}
    bridges = list(topology.get("bridges") or [])
    if not bridges:
        for index, vswitch in enumerate(sorted(state["vswitches"].values(), key=lambda v: v["VSwitchId"]), start=1):
            network = ipaddress.IPv4Network(vswitch["CidrBlock"])
            bridges.append(
                {
                    "name": f"{prefix}-b{index}",
                    "addresses": [f"{vswitch['Gateway']}/{network.prefixlen}"],
                    "vswitch": vswitch["VSwitchId"],
                }
            )
        if bridges:
            result["bridges"] = bridges
    by_vswitch = {bridge.get("vswitch"): bridge for bridge in bridges}
    for name, host in topology["hosts"].items():
        instance_id = host.get("instance")
        if instance_id and instance_id not in state["instances"]:
            known = ", ".join(sorted(state["instances"])) or "none"
            raise TopologyError(
                f"topology hosts.{name}.instance: {instance_id} is not an ECS instance of the world - use one of: {known}"
            )
        if host.get("nics"):
            result["hosts"][name] = host
            continue
        instance = state["instances"][instance_id]
        eni = state["enis"][instance["PrimaryNetworkInterfaceId"]]
        vswitch = state["vswitches"][instance["VSwitchId"]]
        bridge = by_vswitch.get(vswitch["VSwitchId"])
        if bridge is None:
            raise TopologyError(
                f"topology bridges: no bridge has vswitch: {vswitch['VSwitchId']} (the vSwitch of {instance_id}) - add "
                "one, or leave bridges out to get one per vSwitch of the world"
            )
        address = next(ip["PrivateIpAddress"] for ip in eni["PrivateIpSets"] if ip["Primary"])
        prefixlen = ipaddress.IPv4Network(vswitch["CidrBlock"]).prefixlen
        nic = {
            "name": "eth0",
            "mac": eni["MacAddress"],
            "address": f"{address}/{prefixlen}",
            "gateway": vswitch["Gateway"],
            "bridge": bridge["name"],
        }
        result["hosts"][name] = {**host, "nics": [nic]}
    return result


def main(argv: list[str]) -> int:
    if len(argv) != 5 or argv[1] != "expand":
        print(__doc__, file=sys.stderr)
        return 2
    _command, topology_path, world_path, out_path = argv[1:]
    try:
        topology = load_yaml(topology_path, "topology")
        world_spec = emulator.load_and_check(world_path) if os.path.exists(world_path) else None
        result = expand(topology, world_spec)
    except (TopologyError, emulator.WorldFormatError) as error:
        print(f"lab kit: {error}", file=sys.stderr)
        return 2
    os.makedirs(os.path.dirname(os.path.abspath(out_path)), exist_ok=True)
    with open(out_path, "w", encoding="utf-8") as handle:
        yaml.safe_dump(result, handle, sort_keys=False)
    summary = {name: host["nics"][0].get("address", "") for name, host in result["hosts"].items()}
    print(f"lab kit: {result['prefix']}: {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
