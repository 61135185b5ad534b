"""The world-file format: a bad key is named with its path and its fix, before the emulator builds or listens."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.emulator import world, world_schema
from tests.emulator.server import Emulator

REPO = Path(__file__).resolve().parents[3]
GOOD = {
    "world_format": 1,
    "access_keys": [{"id": "ak", "secret": "sk"}],
    "delays": {"eip_associate": 0.5},
    "regions": {
        "cn-x": {
            "eip_pool": {"cidr": "203.0.113.0/28", "count": 4},
            "vpcs": [{"id": "vpc-1", "cidr": "10.1.0.0/16", "vswitches": [{"id": "vsw-1", "cidr": "10.1.1.0/24"}]}],
            "instances": [{"id": "i-1", "vswitch": "vsw-1", "private_ip": "10.1.1.10", "tags": {"role": "web"}}],
            "eips": [{"id": "eip-1", "ip": "203.0.113.9", "associated_with": {"instance": "i-1"}}],
            "snat_entries": [],
        },
        "cn-empty": None,
    },
}


def edited(path: tuple, value, remove: bool = False) -> dict:
    """GOOD with the key at ``path`` set to ``value`` (or removed)."""
    spec = copy.deepcopy(GOOD)
    if not path:
        return value
    node = spec
    for step in path[:-1]:
        node = node[step]
    if remove:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return spec


def test_the_good_world_and_every_shipped_world_pass():
    assert world_schema.world_errors(GOOD) == []
    balancers = {"albs": [{"id": "alb-1", "zones": [{"vswitch": "vsw-1"}], "address_type": "Intranet"}]}
    havips = {"havips": [{"id": "havip-1", "vswitch": "vsw-1", "tags": {"app": "ha"}}]}
    assert (
        world_schema.world_errors(edited(("regions", "cn-x"), {**GOOD["regions"]["cn-x"], **balancers, **havips})) == []
    )
    assert world.build_state(GOOD)["instances"]["i-1"]["Tags"] == {"role": "web"}
    shipped = sorted(REPO.glob("tests/emulator/worlds/*.yml")) + sorted(
        REPO.glob("extensions/molecule/*/lab/world.yml")
    )
    shipped += sorted(REPO.glob("examples/*/molecule/*/world.yml"))
    assert shipped
    for path in shipped:
        assert world_schema.world_errors(yaml.safe_load(path.read_text())) == [], path


@pytest.mark.parametrize(
    "path, value, remove, expected",
    [
        (
            ("regions", "cn-x", "instances", 0, "vswtich"),
            "vsw-1",
            False,
            "regions.cn-x.instances[0] (i-1): unknown key 'vswtich' - did you mean 'vswitch'?",
        ),
        (
            ("regions", "cn-x", "instances", 0, "vswitch"),
            None,
            True,
            "regions.cn-x.instances[0] (i-1): missing required key 'vswitch' - add vswitch: a string",
        ),
        (
            ("regions", "cn-x", "eips", 0, "ip"),
            "not-an-ip",
            False,
            "regions.cn-x.eips[0].ip: expected an IPv4 address such as 10.0.1.10, got 'not-an-ip'",
        ),
        (
            ("regions", "cn-x", "eips", 0, "associated_with", "instnace"),
            "i-1",
            False,
            "regions.cn-x.eips[0].associated_with: unknown key 'instnace' - did you mean 'instance'?",
        ),
        (
            ("regions", "cn-x", "vpcs", 0, "vswitches"),
            {"id": "vsw-1"},
            False,
            "regions.cn-x.vpcs[0].vswitches: expected a list of vswitch entries (each a mapping)",
        ),
        (
            ("regions", "cn-x", "eip_pool", "cidr"),
            "203.0.113.0/33",
            False,
            "regions.cn-x.eip_pool.cidr: expected an IPv4 network such as 10.0.1.0/24",
        ),
        (("delays", "eip_asociate"), 1, False, "delays: unknown key 'eip_asociate' - did you mean 'eip_associate'?"),
        (("delays", "eip_associate"), -1, False, "delays.eip_associate: expected seconds (a number >= 0), got -1"),
        (("eip_quota",), "twenty", False, "eip_quota: expected an integer, got 'twenty' - write an integer"),
        (
            ("regions", "cn-x", "instances", 0, "metadata_token_required"),
            "yes",
            False,
            "metadata_token_required: expected true or false",
        ),
        (("regions", "cn-x", "zones"), "cn-x-a", False, "regions.cn-x.zones: expected a list of strings"),
        (("regions",), ["cn-x"], False, "regions: expected a mapping of region ID to its contents"),
        (
            ("regions", "cn-x", "snat_entries"),
            [{"id": "snat-1", "nat_gateway": "ngw-1", "snat_ip": "1.2.3"}],
            False,
            "snat_entries[0].snat_ip: expected an EIP address or a list of them",
        ),
        (
            ("regions", "cn-x", "instances", 0),
            "i-1",
            False,
            "regions.cn-x.instances[0]: expected a mapping of keys (id, vswitch",
        ),
        (
            ("regions", "cn-x", "eip_pool"),
            ["203.0.113.1", "nope"],
            False,
            "regions.cn-x.eip_pool: expected a list of IPv4 addresses",
        ),
        (("delays",), [1], False, "delays: expected a mapping of step name to seconds, got [1]"),
        (("regions", "cn-x", "eips", 0, "bandwidth"), True, False, "eips[0].bandwidth: expected an integer, got True"),
        (
            ("regions", "cn-x", "albs"),
            [{"id": "alb-1", "zones": [{"vswich": "vsw-1"}]}],
            False,
            "regions.cn-x.albs[0].zones[0]: unknown key 'vswich' - did you mean 'vswitch'?",
        ),
        (("regions", "cn-x", "nlbs"), [{"id": "nlb-1"}], False, "nlbs[0] (nlb-1): missing required key 'zones'"),
        (("world_format",), 2, False, "world_format: 2 is not a format this emulator reads - write world_format: 1"),
        (("regionz",), {}, False, "world: unknown key 'regionz' - did you mean 'regions'?"),
        (("access_keys", 0, "secret"), None, True, "access_keys[0] (ak): missing required key 'secret'"),
        ((), ["regions"], False, "world: expected a mapping of keys (world_format, access_keys"),
    ],
)
def test_a_bad_key_is_named_with_its_fix(path, value, remove, expected):
    spec = edited(path, value, remove)
    errors = world_schema.world_errors(spec)
    assert any(expected in error for error in errors), errors
    # The loader refuses the same world before it builds anything, with the same words.
    with pytest.raises(world.WorldError, match="problem"):
        world.build_state(spec)


def test_every_problem_is_reported_at_once_and_the_emulator_refuses_the_world():
    spec = edited(("regions", "cn-x", "instances", 0, "vswtich"), "vsw-1")
    spec["eip_quota"] = "many"
    with pytest.raises(world_schema.WorldFormatError) as raised:
        world_schema.check_world(spec, "my-world.yml")
    assert len(raised.value.errors) == 2 and str(raised.value).startswith("my-world.yml: 2 problem(s)")
    with pytest.raises(world.WorldError, match="unknown key 'vswtich'"):
        Emulator(world_spec=spec)


def test_files_that_are_not_worlds(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text("regions: [unclosed\n")
    with pytest.raises(world_schema.WorldFormatError, match="not YAML or JSON"):
        world_schema.load_and_check(str(broken))
    with pytest.raises(world_schema.WorldFormatError, match="cannot read the world file"):
        world_schema.load_and_check(str(tmp_path / "missing.yml"))
    empty = tmp_path / "empty.yml"
    empty.write_text("")
    assert world_schema.load_and_check(str(empty)) == {}
    assert world_schema.world_errors(None) == []


def test_the_command_lines_refuse_a_bad_world_before_listening(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text(yaml.safe_dump(edited(("regions", "cn-x", "instances", 0, "vswtich"), "vsw-1")))
    good = tmp_path / "good.yml"
    good.write_text(yaml.safe_dump(GOOD))
    ready = tmp_path / "endpoint"
    checker = [sys.executable, "-m", "tests.emulator.world_schema"]
    runs = {
        "check bad": subprocess.run(
            checker + [str(bad)], cwd=REPO, capture_output=True, text=True, timeout=60, check=False
        ),
        "check good": subprocess.run(
            checker + [str(good)], cwd=REPO, capture_output=True, text=True, timeout=60, check=False
        ),
        "usage": subprocess.run(checker, cwd=REPO, capture_output=True, text=True, timeout=60, check=False),
        "emulator": subprocess.run(
            [sys.executable, "-m", "tests.emulator", "--world", str(bad), "--ready-file", str(ready)],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        ),
    }
    assert runs["check bad"].returncode == 2 and "did you mean 'vswitch'?" in runs["check bad"].stderr
    assert runs["check good"].returncode == 0 and "well-formed world (format 1)" in runs["check good"].stdout
    assert runs["usage"].returncode == 2
    assert runs["emulator"].returncode == 2 and "unknown key 'vswtich'" in runs["emulator"].stderr
    assert "Traceback" not in runs["emulator"].stderr and not ready.exists()


def test_the_checker_s_own_command_line(tmp_path, capsys):
    good = tmp_path / "good.yml"
    good.write_text(yaml.safe_dump({**GOOD, "regions": None, "delays": None}))
    assert world_schema.main(["world_schema", str(good)]) == 0
    assert "well-formed world" in capsys.readouterr().out
    assert world_schema.main(["world_schema", str(tmp_path / "absent.yml")]) == 2
    assert "cannot read the world file" in capsys.readouterr().err
    assert world_schema.main(["world_schema"]) == 2
