# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The molecule kit's lab hosts (extensions/molecule/kit/topology.py): seeded from the world's instances, the
collection's written-out topologies kept as they are, a wrong topology or world refused naming the key, and nothing
written then."""

from __future__ import annotations

import glob
import os
import subprocess
import sys

import pytest
import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
KIT = os.path.join(ROOT, "extensions", "molecule", "kit", "topology.py")
WORLD = {
    "regions": {
        "cn-x": {
            "vpcs": [
                {
                    "id": "vpc-1",
                    "cidr": "10.9.0.0/16",
                    "vswitches": [{"id": "vsw-a", "cidr": "10.9.1.0/24"}, {"id": "vsw-b", "cidr": "10.9.2.0/25"}],
                }
            ],
            "instances": [
                {"id": "i-web-1", "vswitch": "vsw-a", "private_ip": "10.9.1.11"},
                {"id": "i-web-2", "vswitch": "vsw-b", "mac": "00:16:3e:00:00:22"},
            ],
        }
    }
}


def expand(tmp_path, topology, world):
    """(exit status, stderr, written topology or None) of ``topology.py expand``."""
    (tmp_path / "topology.yml").write_text(yaml.safe_dump(topology))
    (tmp_path / "world.yml").write_text(yaml.safe_dump(world) if world is not None else "")
    world_path = str(tmp_path / ("world.yml" if world is not None else "absent.yml"))
    out = tmp_path / "out" / "topology.yml"
    result = subprocess.run(
        [sys.executable, KIT, "expand", str(tmp_path / "topology.yml"), world_path, str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return result.returncode, result.stderr, yaml.safe_load(out.read_text()) if out.exists() else None


def test_hosts_given_by_instance_get_the_instance_s_nic_and_every_vswitch_a_bridge(tmp_path):
    status, stderr, written = expand(
        tmp_path, {"prefix": "wt", "hosts": {"web1": {"instance": "i-web-1"}, "web2": {"instance": "i-web-2"}}}, WORLD
    )
    assert status == 0, stderr
    assert written["bridges"] == [
        {"name": "wt-b1", "addresses": ["10.9.1.253/24"], "vswitch": "vsw-a"},
        {"name": "wt-b2", "addresses": ["10.9.2.125/25"], "vswitch": "vsw-b"},
    ]
    web1, web2 = written["hosts"]["web1"]["nics"][0], written["hosts"]["web2"]["nics"][0]
    assert web1["address"] == "10.9.1.11/24" and web1["gateway"] == "10.9.1.253" and web1["bridge"] == "wt-b1"
    assert web1["mac"].startswith("00:16:3e:")  # the primary ENI's MAC the emulator derives, as the metadata says
    assert web2 == {
        "name": "eth0",
        "mac": "00:16:3e:00:00:22",
        "address": "10.9.2.1/25",
        "gateway": "10.9.2.125",
        "bridge": "wt-b2",
    }
    assert written["hosts"]["web1"]["instance"] == "i-web-1"


# A scenario's one lab (lab/topology.yml) or its several (labs/<group>/topology.yml, extensions/molecule/eni_host).
@pytest.mark.parametrize(
    "path",
    sorted(
        glob.glob(os.path.join(ROOT, "extensions", "molecule", "*", "lab", "topology.yml"))
        + glob.glob(os.path.join(ROOT, "extensions", "molecule", "*", "labs", "*", "topology.yml"))
    ),
)
def test_the_collection_s_written_out_topologies_are_kept(tmp_path, path):
    world_path = os.path.join(os.path.dirname(path), "world.yml")
    with open(path, encoding="utf-8") as handle:
        topology = yaml.safe_load(handle)
    world = None
    if os.path.exists(world_path):
        with open(world_path, encoding="utf-8") as handle:
            world = yaml.safe_load(handle)
    status, stderr, written = expand(tmp_path, topology, world)
    assert status == 0, stderr
    assert written == topology


@pytest.mark.parametrize(
    "topology, world, message",
    [
        (
            {"prefix": "wt", "hosts": {"web1": {"instance": "i-nope"}}},
            WORLD,
            "hosts.web1.instance: i-nope is not an ECS instance of the world - use one of: i-web-1, i-web-2",
        ),
        (
            {"prefix": "much-too-long", "hosts": {"web1": {"instance": "i-web-1"}}},
            WORLD,
            "topology prefix 'much-too-long': write 1-8 lower-case",
        ),
        (
            {"prefix": "wt", "hosts": {"Web_1": {"instance": "i-web-1"}}},
            WORLD,
            "topology hosts.Web_1: a host name has 1-11",
        ),
        (
            {"prefix": "wt", "hosts": {"web1": {"instanse": "i-web-1"}}},
            WORLD,
            "topology hosts.web1: unknown key 'instanse'",
        ),
        ({"prefix": "wt", "hosts": {}}, WORLD, "topology hosts: write a mapping of host name"),
        (
            {"prefix": "wt", "hosts": {"web1": {"instance": "i-web-1"}}, "routers": []},
            WORLD,
            "topology: unknown key 'routers'",
        ),
        (
            {"prefix": "wt", "hosts": {"web1": {"instance": "i-web-1"}}},
            None,
            "hosts given by instance need the world file",
        ),
        (
            {
                "prefix": "wt",
                "hosts": {"web1": {"instance": "i-web-1"}},
                "bridges": [{"name": "wt-x", "addresses": ["10.9.2.1/25"], "vswitch": "vsw-b"}],
            },
            WORLD,
            "no bridge has vswitch: vsw-a (the vSwitch of i-web-1)",
        ),
        (
            {"prefix": "wt", "hosts": {"web1": {"instance": "i-web-1"}}},
            {"regions": {"cn-x": {"instances": [{"id": "i-web-1", "vswtich": "vsw-a"}]}}},
            "regions.cn-x.instances[0] (i-web-1): unknown key 'vswtich' - did you mean 'vswitch'?",
        ),
        (
            {"prefix": "wt", "hosts": {"web1": {"instance": "i-web-1"}}},
            {"regions": {"cn-x": {"instances": [{"id": "i-web-1", "vswitch": "vsw-gone"}]}}},
            "instance i-web-1 names vSwitch vsw-gone, which the world does not define",
        ),
    ],
)
def test_a_wrong_topology_or_world_is_refused_naming_the_key_and_nothing_is_written(tmp_path, topology, world, message):
    status, stderr, written = expand(tmp_path, topology, world)
    assert status == 2 and message in stderr, stderr
    assert written is None and "Traceback" not in stderr
