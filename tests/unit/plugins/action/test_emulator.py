# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""alicloud.eip.emulator: options and the world refused before anything starts; started/stopped decided on the
running emulator's record (idempotent, check mode predicts); stop removes only the emulator's files."""

from __future__ import annotations

import json
import os
from unittest.mock import MagicMock

import pytest
from ansible.errors import AnsibleActionFail
from ansible_collections.alicloud.eip.plugins.action import emulator

GOOD_WORLD = "regions:\n  cn-x:\n    vpcs: [{id: vpc-1, vswitches: [{id: vsw-1, cidr: 10.0.1.0/24}]}]\n"


def action(args: dict, check_mode: bool = False) -> emulator.ActionModule:
    task = MagicMock()
    task.args = args
    task.check_mode = check_mode
    task.async_val = 0
    task.action = "alicloud.eip.emulator"
    return emulator.ActionModule(task, MagicMock(), MagicMock(), loader=None, templar=None, shared_loader_obj=None)


@pytest.fixture
def world(tmp_path):
    path = tmp_path / "world.yml"
    path.write_text(GOOD_WORLD)
    return str(path)


@pytest.mark.parametrize(
    "args, message",
    [
        ({"host": "0.0.0.0"}, "host '0.0.0.0' is not a loopback address"),
        ({"host": "emulator.example"}, "is not a loopback address"),
        ({"port": 70000}, "port 70000 is not a TCP port"),
        ({"timeout": 0}, "timeout 0 must be at least 1"),
        ({"world": None}, "state=started needs world"),
    ],
)
def test_bad_options_fail_before_anything_starts(tmp_path, world, monkeypatch, args, message):
    started = MagicMock()
    monkeypatch.setattr(emulator, "start", started)
    with pytest.raises(AnsibleActionFail, match=message):
        action({"directory": str(tmp_path / "emu"), "world": world, **args}).run(task_vars={})
    started.assert_not_called()
    assert not (tmp_path / "emu").exists()


def test_a_bad_world_is_named_with_its_key_and_fix(tmp_path, monkeypatch):
    bad = tmp_path / "bad.yml"
    bad.write_text(GOOD_WORLD.replace("cidr: 10.0.1.0/24", "cidr: 10.0.1.0/24, zome: a"))
    started = MagicMock()
    monkeypatch.setattr(emulator, "start", started)
    with pytest.raises(AnsibleActionFail) as raised:
        action({"directory": str(tmp_path / "emu"), "world": str(bad)}).run(task_vars={})
    assert "regions.cn-x.vpcs[0].vswitches[0] (vsw-1): unknown key 'zome' - did you mean 'zone'?" in str(raised.value)
    assert str(bad) in str(raised.value)
    started.assert_not_called()


def record_of(world_path: str, directory: str) -> dict:
    return {
        **action({"directory": directory, "world": world_path}).wanted(
            {"world": world_path, "host": "127.0.0.1", "port": 0, "metadata_socket": False, "timeout": 5}
        ),
        "pid": 4242,
        "endpoint": "127.0.0.1:40000",
    }


@pytest.mark.parametrize("check_mode", [False, True])
def test_started_is_idempotent_and_restarts_only_for_a_different_world(tmp_path, world, monkeypatch, check_mode):
    directory = str(tmp_path / "emu")
    running = record_of(world, directory)
    monkeypatch.setattr(emulator, "read_record", lambda _directory: running)
    started, stopped = MagicMock(return_value={**running, "pid": 5000}), MagicMock()
    monkeypatch.setattr(emulator, "start", started)
    monkeypatch.setattr(emulator, "stop", stopped)

    same = action({"directory": directory, "world": world}, check_mode).run(task_vars={})
    assert same["changed"] is False and same["endpoint_url"] == "http://127.0.0.1:40000" and same["pid"] == 4242

    with open(world, "a", encoding="utf-8") as handle:
        handle.write("eip_quota: 3\n")  # same path, other content: the emulator must restart from it
    other = action({"directory": directory, "world": world}, check_mode).run(task_vars={})
    assert other["changed"] is True
    assert other["diff"]["before"]["state"] == "started"
    if check_mode:
        started.assert_not_called()
        stopped.assert_not_called()
        assert other["endpoint"] == "" and other["pid"] == 0
    else:
        started.assert_called_once()
        stopped.assert_called_once_with(directory)
        assert other["pid"] == 5000


def test_stopped_reports_a_change_only_when_one_runs(tmp_path, monkeypatch):
    directory = str(tmp_path / "emu")
    stopped = MagicMock()
    monkeypatch.setattr(emulator, "stop", stopped)
    monkeypatch.setattr(emulator, "read_record", lambda _directory: None)
    assert action({"directory": directory, "state": "stopped"}).run(task_vars={})["changed"] is False
    monkeypatch.setattr(emulator, "read_record", lambda _directory: {"pid": 1})
    predicted = action({"directory": directory, "state": "stopped"}, check_mode=True).run(task_vars={})
    assert predicted["changed"] is True and predicted["diff"]["after"] == {"state": "stopped"}
    stopped.assert_called_once_with(directory)  # the first (real) run only; check mode stops nothing


def test_a_stale_record_is_not_an_emulator_and_stop_removes_only_its_files(tmp_path, monkeypatch):
    directory = tmp_path / "emu"
    directory.mkdir()
    # A pid that is not this directory's emulator (our own test process): never signalled.
    (directory / emulator.RECORD).write_text(json.dumps({"pid": os.getpid()}))
    for name in (emulator.ENDPOINT, emulator.STATE, emulator.LOG):
        (directory / name).write_text("x")
    killed = MagicMock()
    monkeypatch.setattr(emulator.os, "kill", killed)
    assert emulator.read_record(str(directory)) is None
    assert emulator.stop(str(directory)) is False
    killed.assert_not_called()
    assert not directory.exists()

    directory.mkdir()
    (directory / "yours.txt").write_text("kept")
    (directory / emulator.LOG).write_text("x")
    emulator.stop(str(directory))
    assert sorted(os.listdir(directory)) == ["yours.txt"]


def test_a_directory_that_cannot_be_used_is_a_clear_failure(tmp_path, world):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(AnsibleActionFail, match="cannot run the emulator in directory .*give a directory"):
        action({"directory": str(blocker / "emu"), "world": world}).run(task_vars={})
