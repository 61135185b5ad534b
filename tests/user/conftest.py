"""Fixtures of the user-facing tests (tests/user, `make user-tests`): a live emulator on loopback started with
tools/emulator.sh, the collection view, and the environment every ansible-* command gets (no proxy, no metadata)."""

from __future__ import annotations

import json
import os
import subprocess
import urllib.request
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = REPO / ".venv" / "bin"
# Credentials and region of the caller's shell never leak into a test.
CREDENTIAL_PREFIXES = (
    "ALIBABA_CLOUD_",
    "ALICLOUD_ACCESS_KEY",
    "ALICLOUD_SECRET_KEY",
    "ALICLOUD_SECURITY_TOKEN",
    "ALICLOUD_REGION",
)


def base_env(**extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key.lower() not in ("http_proxy", "https_proxy", "all_proxy") and not key.startswith(CREDENTIAL_PREFIXES)
    }
    env.update(
        ALIBABA_CLOUD_ECS_METADATA_DISABLED="true",
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_LOCALHOST_WARNING="false",
        PATH=f"{VENV_BIN}:{env.get('PATH', '/usr/bin:/bin')}",
    )
    env.update(extra)
    return env


class Emulator:
    """One emulator process (tools/emulator.sh) and its control API."""

    def __init__(self, run_dir: Path, world: dict):
        self.run_dir = run_dir
        world_file = run_dir / "world.yml"
        world_file.write_text(yaml.safe_dump(world))
        out = subprocess.run(
            [str(REPO / "tools" / "emulator.sh"), "start", str(run_dir), str(world_file)],
            check=True,
            capture_output=True,
            text=True,
            env=base_env(),
        )
        self.endpoint = "http://" + out.stdout.strip()

    def control(self, path: str, method: str = "GET") -> dict:
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        request = urllib.request.Request(f"{self.endpoint}/_emulator/{path}", method=method)
        with opener.open(request, timeout=10) as answer:
            return json.loads(answer.read() or b"{}")

    def calls(self) -> dict[str, int]:
        return {name: count for name, count in self.control("calls").items() if count}

    def reset_calls(self) -> None:
        self.control("calls", "DELETE")

    def stop(self) -> None:
        subprocess.run(
            [str(REPO / "tools" / "emulator.sh"), "stop", str(self.run_dir)],
            check=False,
            capture_output=True,
            env=base_env(),
        )


@pytest.fixture(scope="session")
def collections_path() -> str:
    view = subprocess.run(
        [str(REPO / "tools" / "collection-tree.sh")], check=True, capture_output=True, text=True, env=base_env()
    ).stdout.strip()
    return view.split("/ansible_collections/")[0]


@pytest.fixture(scope="module")
def start_emulator(tmp_path_factory):
    started: list[Emulator] = []

    def start(world: dict) -> Emulator:
        emulator = Emulator(tmp_path_factory.mktemp("emulator"), world)
        started.append(emulator)
        return emulator

    yield start
    for emulator in started:
        emulator.stop()
