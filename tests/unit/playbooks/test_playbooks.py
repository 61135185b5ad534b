# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ready playbooks: the target guard in both plays, no key from a variable by default, no secret in examples."""

from __future__ import annotations

import glob
import os
import re

import pytest
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
PLAYBOOKS = sorted(
    path
    for path in glob.glob(os.path.join(ROOT, "playbooks", "*.yml"))
    if os.path.basename(path) not in ("inventory.example.yml", "demo.yml", "cleanup.yml")
)
# The janitor acts on the account only, from the controller: no target, its scope is tags (docs/cleanup.md).
CONTROLLER_PLAYBOOKS = [os.path.join(ROOT, "playbooks", "cleanup.yml")]
KEY_VARIABLES = {
    "alicloud_access_key_id": "SENTINEL-ACCESS-KEY-ID",
    "alicloud_access_key_secret": "SENTINEL-ACCESS-KEY-SECRET",
    "alicloud_security_token": "SENTINEL-SECURITY-TOKEN",
}
TARGET_HOSTS = "{{ target | default('no_target_given') }}"
# Where examples live: every user-facing document, the example inventory and the playbooks' own comments.
EXAMPLE_FILES = sorted(
    glob.glob(os.path.join(ROOT, "docs", "*.md"))
    + glob.glob(os.path.join(ROOT, "roles", "*", "README.md"))
    + glob.glob(os.path.join(ROOT, "playbooks", "*.yml"))
    + glob.glob(os.path.join(ROOT, "playbooks", "tasks", "*.yml"))
    + glob.glob(os.path.join(ROOT, "plugins", "doc_fragments", "*.py"))
    + glob.glob(os.path.join(ROOT, "plugins", "modules", "*.py"))
    + [os.path.join(ROOT, "README.md")]
)
SECRET_WORD = re.compile(r"secret|token|password|passwd", re.IGNORECASE)
EXTRA_VARS = re.compile(r"(?:^|\s)(?:-e|--extra-vars)(?:\s+|=)(\S+(?:\s+\S+)*)")
SECRET_ENVIRONMENT_ASSIGNMENT = re.compile(
    r"\b(?:ALIBABA_CLOUD_ACCESS_KEY_SECRET|ALIBABA_CLOUD_SECURITY_TOKEN|ALICLOUD_SECRET_KEY|ALICLOUD_SECURITY_TOKEN)"
    r"=(?P<value>[^\s;]*)"
)
SECRET_YAML_VALUE = re.compile(
    r"^[ \t]*(?:-[ \t]+)?(?:alicloud_)?(?:access_key_secret|security_token)[ \t]*:[ \t]*(?P<value>\S.*?)[ \t]*$", re.MULTILINE
)


def load(path: str):
    """The playbook as ansible-playbook reads it (its templates trusted)."""
    return DataLoader().load_from_file(path, trusted_as_template=True)


def render_module_defaults(play: dict, variables: dict) -> dict:
    """The module_defaults of a play, templated with the given variables."""
    return Templar(loader=DataLoader(), variables=variables).template(play["module_defaults"])


def target_plays(playbook: list) -> list:
    """The plays that act on the target hosts."""
    return [play for play in playbook if play.get("hosts") == TARGET_HOSTS]


@pytest.mark.parametrize("path", PLAYBOOKS, ids=os.path.basename)
def test_every_playbook_guards_its_target_in_both_plays(path):
    playbook = load(path)
    first = playbook[0]
    assert first["hosts"] == "localhost"
    includes = [task.get("ansible.builtin.include_tasks") for task in first["tasks"]]
    assert includes == ["tasks/guard_target.yml", "tasks/guard_credentials.yml"]
    # Every other play acts on the target, and starts with the guard again: a --limit without localhost skips the
    # first play, and the guard must still run, on the controller, once, stopping every host when it refuses.
    assert playbook[1:] and target_plays(playbook) == playbook[1:]
    for play in playbook[1:]:
        guard = play["pre_tasks"][0]
        assert guard["ansible.builtin.import_tasks"] == "tasks/guard_target.yml"
        assert guard["run_once"] is True
        assert guard["delegate_to"] == "localhost"
        assert guard["any_errors_fatal"] is True


@pytest.mark.parametrize("path", PLAYBOOKS, ids=os.path.basename)
def test_module_defaults_take_no_key_from_variables_by_default(path):
    plays = target_plays(load(path))
    assert plays
    for play in plays:
        rendered = render_module_defaults(play, {**KEY_VARIABLES, "alicloud_region": "cn-hangzhou"})
        group = rendered["group/alicloud.eip.all"]
        assert group == {"region": "cn-hangzhou"}, group
        # Non-secret settings still come from variables.
        rendered = render_module_defaults(
            play, {"alicloud_region": "r", "alicloud_endpoint_url": "http://127.0.0.1:1", "alicloud_profile": "p"}
        )
        assert rendered["group/alicloud.eip.all"] == {
            "region": "r",
            "endpoint_url": "http://127.0.0.1:1",
            "profile": "p",
        }


@pytest.mark.parametrize("path", PLAYBOOKS, ids=os.path.basename)
def test_keys_from_variables_only_on_request(path):
    for play in target_plays(load(path)):
        rendered = render_module_defaults(play, {**KEY_VARIABLES, "alicloud_credentials_from_vars": "true"})
        group = rendered["group/alicloud.eip.all"]
        assert group["access_key_id"] == KEY_VARIABLES["alicloud_access_key_id"]
        assert group["access_key_secret"] == KEY_VARIABLES["alicloud_access_key_secret"]
        assert group["security_token"] == KEY_VARIABLES["alicloud_security_token"]
        # Asked for, but none given: nothing is passed, the modules fall back to the environment.
        rendered = render_module_defaults(play, {"alicloud_credentials_from_vars": True})
        assert rendered["group/alicloud.eip.all"] == {}


def secrets_in_example(text: str) -> list[str]:
    """Places in a document where a secret is put on a command line or written in plain text."""
    found = []
    for line in text.splitlines():
        for match in EXTRA_VARS.finditer(line):
            for argument in re.split(r"\s+(?:-e|--extra-vars)(?:\s+|=)", match.group(1)):
                value = argument.split()[0].strip("'\"") if argument.split() else ""
                if not value.startswith("@") and SECRET_WORD.search(value):
                    found.append(f"secret after -e: {line.strip()}")
        for match in SECRET_ENVIRONMENT_ASSIGNMENT.finditer(line):
            value = match.group("value").strip("'\"")
            if value and not value.startswith("$"):
                found.append(f"secret value in a command: {line.strip()}")
    for match in SECRET_YAML_VALUE.finditer(text):
        value = match.group("value")
        if not re.match(r"""["']?(\{\{|!vault)""", value):
            found.append(f"secret in plain text: {match.group(0).strip()}")
    return found


@pytest.mark.parametrize(
    "text",
    [
        "ansible-playbook alicloud.eip.nat_egress -i inv -e target=web -e alicloud_access_key_secret=abc",
        "ansible-playbook x.yml --extra-vars 'alicloud_security_token=abc'",
        """ansible-playbook x.yml -e '{"alicloud_access_key_secret": "abc"}'""",
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET=abc ansible-playbook alicloud.eip.multi_eip -e target=web",
        "export ALICLOUD_SECRET_KEY='abc'",
        "    alicloud_access_key_secret: abc",
        "  access_key_secret: plain-text",
    ],
)
def test_the_example_check_finds_a_secret(text):
    assert secrets_in_example(text)


@pytest.mark.parametrize(
    "text",
    [
        "ansible-playbook alicloud.eip.nat_egress -i inv -e target=web -e @keys.vault.yml --ask-vault-pass",
        'export ALIBABA_CLOUD_ACCESS_KEY_SECRET="$(pass show aliyun/secret)"',
        "read -rs ALIBABA_CLOUD_ACCESS_KEY_SECRET && export ALIBABA_CLOUD_ACCESS_KEY_SECRET",
        '  ALIBABA_CLOUD_ACCESS_KEY_SECRET: "{{ access_key_secret }}"',
        '      access_key_secret: "{{ alicloud_access_key_secret | default(omit) }}"',
        "alicloud_access_key_secret: !vault |",
        "  - id: access_key_secret",
        "ansible-playbook alicloud.eip.replace_eip -i inv -e target=web01 -e replace_ip_address=47.96.10.21",
    ],
)
def test_the_example_check_lets_safe_examples_pass(text):
    assert secrets_in_example(text) == []


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda path: os.path.relpath(path, ROOT))
def test_no_example_puts_a_secret_on_a_command_line_or_in_plain_text(path):
    with open(path, encoding="utf-8") as handle:
        assert secrets_in_example(handle.read()) == []


@pytest.mark.parametrize("path", CONTROLLER_PLAYBOOKS, ids=os.path.basename)
def test_controller_playbooks_check_keys_and_take_none_from_variables_by_default(path):
    (play,) = load(path)
    assert play["hosts"] == "localhost"
    assert play["tasks"][0]["ansible.builtin.include_tasks"] == "tasks/guard_credentials.yml"
    rendered = render_module_defaults(play, {**KEY_VARIABLES, "alicloud_region": "cn-hangzhou"})
    assert rendered["group/alicloud.eip.all"] == {"region": "cn-hangzhou"}
    rendered = render_module_defaults(play, {**KEY_VARIABLES, "alicloud_credentials_from_vars": "true"})
    assert rendered["group/alicloud.eip.all"]["access_key_secret"] == KEY_VARIABLES["alicloud_access_key_secret"]
