"""The collection as a user gets it (issue 13 items 2-4): the built tarball, installed into an empty path.

One build, then: nothing development-only or cached is inside; the installed collection's requirements are met by
the tested versions; the README's example playbook runs unchanged but for the endpoint against the emulator (one
run: the modules' idempotence has its own tests) and passes the lint profile; the execution environment of
extensions/ee goes through `ansible-builder create` and its galaxy stage's install command installs that tarball,
offline.
"""

from __future__ import annotations

import importlib.metadata
import re
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement

from .conftest import REPO, VENV_BIN, base_env

ACCESS_KEY_ID = "LTAI-readme-test"
ACCESS_KEY_SECRET = "readme-test-secret-value"
README_INSTANCE = "i-bp1a2b3c4d5e6f7g8h9i0"
WORLD = {
    "access_keys": [{"id": ACCESS_KEY_ID, "secret": ACCESS_KEY_SECRET}],
    "delays": {"eip_associate": 0.2},
    "regions": {
        "cn-hangzhou": {
            "zones": ["cn-hangzhou-h"],
            "eip_pool": {"cidr": "47.96.20.0/28", "count": 5},
            "vpcs": [
                {
                    "id": "vpc-readme",
                    "cidr": "10.9.0.0/16",
                    "vswitches": [{"id": "vsw-readme", "zone": "cn-hangzhou-h", "cidr": "10.9.1.0/24"}],
                }
            ],
            "instances": [{"id": README_INSTANCE, "vswitch": "vsw-readme"}],
        }
    },
}
# Inside the tarball these never belong: the development-only demo (playbook, inventory, lab), caches, build output.
FORBIDDEN = re.compile(
    r"(^|/)(tools/demo(/|\.sh$)|playbooks/demo\.ya?ml$|__pycache__/|\.pytest_cache/|\.cache/|\.venv/|tests/output/|"
    r"\.ansible/)|\.pyc$|\.tar\.gz$"
)


@pytest.fixture(scope="module")
def tarball(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("build")
    subprocess.run(
        [str(VENV_BIN / "ansible-galaxy"), "collection", "build", str(REPO), "--output-path", str(out)],
        check=True,
        capture_output=True,
        text=True,
        env=base_env(),
    )
    (built,) = out.glob("alicloud-eip-*.tar.gz")
    return built


def _plays(member_text: str) -> list | None:
    document = yaml.safe_load(member_text)
    if isinstance(document, list) and all(isinstance(play, dict) for play in document):
        return document
    return None


def test_nothing_development_only_or_cached_is_inside(tarball):
    with tarfile.open(tarball) as archive:
        names = archive.getnames()
        assert "LICENSE" in names and "requirements.txt" in names and "plugins/inventory/ecs.py" in names
        assert [name for name in names if FORBIDDEN.search(name)] == []
        # A shipped playbook runs on localhost only, or refuses a target that is missing or matches every host
        # (the guard): a playbook that acts on any inventory's group unguarded is development-only.
        for name in names:
            if re.fullmatch(r"playbooks/[^/]+\.ya?ml", name):
                plays = _plays(archive.extractfile(name).read().decode())
                if plays is None:
                    continue  # not a playbook (the example inventory)
                guarded = any("guard_target" in str(play) for play in plays)
                local_only = all(play.get("hosts") == "localhost" or "import_playbook" in str(play) for play in plays)
                assert guarded or local_only, f"{name} acts on inventory hosts without the target guard"
        galaxy = yaml.safe_load(archive.extractfile("MANIFEST.json").read())["collection_info"]
    for key in ("repository", "documentation", "issues", "homepage"):
        assert galaxy[key] and galaxy[key].startswith("https://") and "example" not in galaxy[key], key


@pytest.fixture(scope="module")
def installed(tarball, tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("installed")
    subprocess.run(
        [str(VENV_BIN / "ansible-galaxy"), "collection", "install", str(tarball), "-p", str(target)],
        check=True,
        capture_output=True,
        text=True,
        # An empty path and nothing else: a copy of alicloud.eip elsewhere (~/.ansible) must not satisfy the install.
        env=base_env(ANSIBLE_COLLECTIONS_PATH=str(target), ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false"),
    )
    return target


def test_installed_requirements_are_met_by_the_tested_versions(installed):
    requirements = (installed / "ansible_collections/alicloud/eip/requirements.txt").read_text().splitlines()
    for line in requirements:
        if line.strip() and not line.startswith("#"):
            requirement = Requirement(line)
            assert requirement.specifier.contains(importlib.metadata.version(requirement.name)), line


def readme_playbook(endpoint: str) -> str:
    """The README's example playbook, with the endpoint added to its module_defaults (the one change)."""
    readme = (REPO / "README.md").read_text()
    section = readme[readme.index("## Use it") :]
    playbook = re.search(r"```yaml\n(.*?)```", section, re.S).group(1)
    plays = yaml.safe_load(playbook)
    assert plays[0]["name"] and all(task.get("name") for task in plays[0]["tasks"])
    marker = "      region: cn-hangzhou\n"
    assert playbook.count(marker) == 1
    return playbook.replace(marker, marker + f"      endpoint_url: {endpoint}\n")


def test_readme_playbook_runs_from_a_fresh_install(installed, start_emulator, tmp_path):
    emulator = start_emulator(WORLD)
    playbook = tmp_path / "readme.yml"
    playbook.write_text(readme_playbook(emulator.endpoint))
    env = base_env(
        ANSIBLE_COLLECTIONS_PATH=str(installed),
        ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false",
        ALIBABA_CLOUD_ACCESS_KEY_ID=ACCESS_KEY_ID,
        ALIBABA_CLOUD_ACCESS_KEY_SECRET=ACCESS_KEY_SECRET,
        ANSIBLE_PYTHON_INTERPRETER=str(VENV_BIN / "python"),
    )
    command = [str(VENV_BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(playbook)]
    first = subprocess.run(command, capture_output=True, text=True, env=env, check=False, timeout=300)
    assert first.returncode == 0, first.stdout + first.stderr
    assert re.search(r"localhost\s*: ok=2\s+changed=2 ", first.stdout), first.stdout
    state = emulator.control("state")
    (eip,) = [eip for eip in state["eips"].values() if eip["Name"] == "web01-public"]
    assert (eip["InstanceId"], eip["Status"]) == (README_INSTANCE, "InUse")


def test_readme_playbook_passes_the_lint_profile(installed, tmp_path):
    readme = (REPO / "README.md").read_text()
    section = readme[readme.index("## Use it") :]
    playbook = tmp_path / "readme.yml"
    playbook.write_text("---\n" + re.search(r"```yaml\n(.*?)```", section, re.S).group(1))
    lint = subprocess.run(
        [str(VENV_BIN / "ansible-lint"), "--offline", "--profile", "production", "--nocolor", str(playbook)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        env=base_env(ANSIBLE_COLLECTIONS_PATH=str(installed)),
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr
    assert "Profile 'production' was required, and it passed" in lint.stdout + lint.stderr


def test_execution_environment_galaxy_stage_installs_the_tarball(tarball, tmp_path):
    version = yaml.safe_load((REPO / "galaxy.yml").read_text())["version"]
    ee_dir = tmp_path / "ee"
    shutil.copytree(REPO / "extensions" / "ee", ee_dir, ignore=shutil.ignore_patterns("*.tar.gz", "context"))
    definition = yaml.safe_load((ee_dir / "execution-environment.yml").read_text())
    (build_file,) = definition["additional_build_files"]
    assert build_file["src"] == tarball.name == f"alicloud-eip-{version}.tar.gz"
    shutil.copy(tarball, ee_dir / tarball.name)
    subprocess.run(
        [
            str(VENV_BIN / "ansible-builder"),
            "create",
            "-f",
            str(ee_dir / "execution-environment.yml"),
            "-c",
            str(ee_dir / "context"),
        ],
        check=True,
        capture_output=True,
        text=True,
        env=base_env(),
    )
    build = ee_dir / "context" / "_build"
    assert (build / build_file["dest"] / tarball.name).is_file()
    (containerfile,) = [path.read_text() for path in (ee_dir / "context").glob("*file") if path.is_file()]
    install = next(line for line in containerfile.splitlines() if "ansible-galaxy collection install" in line)
    assert "-r requirements.yml" in install
    # The stage's own command, run where the stage runs it (WORKDIR /build = _build), into an empty path.
    collections = tmp_path / "ee-collections"
    subprocess.run(
        [
            str(VENV_BIN / "ansible-galaxy"),
            "collection",
            "install",
            "-r",
            "requirements.yml",
            "--collections-path",
            str(collections),
        ],
        cwd=build,
        check=True,
        capture_output=True,
        text=True,
        # Like the image's build stage, where no other copy of any collection exists.
        env=base_env(ANSIBLE_COLLECTIONS_PATH=str(collections), ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false"),
    )
    manifest = collections / "ansible_collections" / "alicloud" / "eip" / "MANIFEST.json"
    assert manifest.is_file()
    # What the builder stage's introspection then reads: the SDK requirements and the bindep file.
    introspect = subprocess.run(
        [str(VENV_BIN / "ansible-builder"), "introspect", str(collections)],
        check=True,
        capture_output=True,
        text=True,
        env=base_env(),
    ).stdout
    for package in ("alibabacloud-vpc20160428", "alibabacloud-ecs20140526", "alibabacloud-credentials"):
        assert package in introspect, introspect
    assert "keepalived" in introspect and "iproute2" in introspect
