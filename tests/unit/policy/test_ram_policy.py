# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Least privilege as a test: the RAM policy docs/ram-policy.json lists exactly the API actions the collection calls.

The actions are derived from the code, not from a list kept by hand: every ``.py`` file under ``plugins/`` (found
recursively, so code moved between files and packages is still found) is parsed, and every SDK call on a service
client (``connection.vpc.associate_eip_address_with_options(...)``: a method of the client the attribute names) is
resolved to its API action by reading the action name from the official SDK's own method (``action='...'``).  The
SDK product gives the RAM service prefix (vpc, ecs, slb; RAM action names are the API action names,
UNCONFIRMED [fid:ram-action-names]).  The test fails when the policy misses an action the code calls, when it
lists one the code never calls, and when a service client call cannot be resolved (so a new way of calling the SDK
cannot slip past it).  ``test_a_policy_without_one_action_fails`` proves the comparison notices a missing action.
"""

from __future__ import annotations

import ast
import functools
import importlib
import importlib.util
import json
import os
import re

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))
PLUGINS = os.path.join(ROOT, "plugins")
POLICY = os.path.join(ROOT, "docs", "ram-policy.json")
POLICY_DOC = os.path.join(ROOT, "docs", "ram-policy.md")

# Service attribute of the collection's connection -> (SDK client module, RAM service prefix).  A service that is
# not here fails the test by name: add its SDK and prefix when the collection starts calling it.
SERVICES = {
    "vpc": ("alibabacloud_vpc20160428.client", "vpc"),
    "ecs": ("alibabacloud_ecs20140526.client", "ecs"),
    "slb": ("alibabacloud_slb20140515.client", "slb"),
    "alb": ("alibabacloud_alb20200616.client", "alb"),
    "nlb": ("alibabacloud_nlb20220430.client", "nlb"),
}


def sdk_calls(root=PLUGINS):
    """[(service, method, 'path:line')] of every call ``<expr>.<service>.<method>(...)`` under ``root``.

    ``<service>`` is a key of SERVICES or any other name whose method ends in ``_with_options`` (reported as is, so
    that an unknown service fails the test instead of being skipped).
    """
    found = []
    for folder, _dirs, files in os.walk(root):
        for name in sorted(files):
            if not name.endswith(".py"):
                continue
            path = os.path.join(folder, name)
            with open(path, encoding="utf-8") as handle:
                tree = ast.parse(handle.read(), filename=path)
            where = os.path.relpath(path, ROOT)
            for node in ast.walk(tree):
                if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                    continue
                method = node.func.attr
                receiver = node.func.value
                # ``connection.vpc.x(...)``: the attribute names the client.  A local name (``vpc.get(...)`` on a
                # dict) is no client; an SDK-style method on anything else is kept with its receiver's name.
                service = receiver.attr if isinstance(receiver, ast.Attribute) else getattr(receiver, "id", "?")
                if (isinstance(receiver, ast.Attribute) and service in SERVICES) or method.endswith("_with_options"):
                    found.append((service, method, f"{where}:{node.lineno}"))
    return found


def _importable(service):
    """Whether the SDK of ``service`` is installed (ALB and NLB are optional until the collection calls them)."""
    return importlib.util.find_spec(SERVICES[service][0].split(".")[0]) is not None


@functools.cache
def sdk_methods(service):
    """{method: API action} of the SDK client of ``service``, read from its source without importing it.

    Each method of the generated client names its action (``action='AssociateEipAddress'``); a method without one
    (``describe_load_balancers``) delegates to its ``_with_options`` twin and gets that one's action.
    """
    spec = importlib.util.find_spec(SERVICES[service][0])
    with open(spec.origin, encoding="utf-8") as handle:
        source = handle.read()
    methods = {}
    for chunk in re.split(r"\n    (?:async )?def ", source)[1:]:
        name = chunk.split("(", 1)[0]
        match = re.search(r"action\s*=\s*['\"](\w+)['\"]", chunk)
        methods[name] = match.group(1) if match else None
    for name, action in methods.items():
        if action is None:
            for suffix in ("_with_options", "_with_options_async"):
                base = name.removesuffix("_async")
                methods[name] = methods[name] or methods.get(base + suffix)
    return methods


def sdk_action(service, method):
    """The API action the SDK client method calls (read from the SDK's own ``action='...'``), or None."""
    return sdk_methods(service).get(method)


def code_actions(calls):
    """({'vpc:AssociateEipAddress', ...}, [problems]) for the calls found by ``sdk_calls``."""
    actions, problems = set(), []
    for service, method, where in calls:
        if service not in SERVICES:
            # A client held in another variable: the method must belong to exactly one SDK client.
            owners = [name for name in SERVICES if _importable(name) and sdk_action(name, method)]
            if len(owners) != 1:
                problems.append(
                    f"{where}: {service}.{method}: unknown service client {service!r} and the method is in "
                    f"{len(owners)} SDK clients ({', '.join(owners) or 'none'}); call it on connection.<service>"
                    " or add the service to SERVICES"
                )
                continue
            service = owners[0]
        if not _importable(service):
            problems.append(
                f"{where}: {service}.{method}: the {service} SDK is not installed, so the action is unknown"
            )
            continue
        action = sdk_action(service, method)
        if action is None:
            problems.append(f"{where}: {service}.{method} is not an API method of the {service} SDK client")
            continue
        actions.add(f"{SERVICES[service][1]}:{action}")
    return actions, problems


def policy_actions(policy):
    """Every action the policy allows (Statement with Effect Allow)."""
    allowed = set()
    for statement in policy.get("Statement", []):
        if statement.get("Effect") == "Allow":
            listed = statement.get("Action", [])
            allowed.update([listed] if isinstance(listed, str) else listed)
    return allowed


def compare(policy, called):
    """(missing, unused): actions the code calls that the policy lacks; actions the policy lists that nobody calls."""
    allowed = policy_actions(policy)
    return sorted(called - allowed), sorted(allowed - called)


def load_policy():
    with open(POLICY, encoding="utf-8") as handle:
        return json.load(handle)


@pytest.fixture(scope="module")
def called():
    actions, problems = code_actions(sdk_calls())
    assert problems == []
    return actions


def test_the_scan_finds_the_calls_of_every_service_in_use():
    calls = sdk_calls()
    # The collection calls three products today; an empty or tiny scan means the walk broke, not that nothing is
    # called.
    assert {service for service, _method, _where in calls} >= {"vpc", "ecs", "slb"}
    assert len(calls) >= 30


def test_the_policy_lists_exactly_the_actions_the_code_calls(called):
    missing, unused = compare(load_policy(), called)
    assert missing == [], f"add to docs/ram-policy.json (and docs/ram-policy.md): {missing}"
    assert unused == [], f"never called, remove from docs/ram-policy.json (and docs/ram-policy.md): {unused}"


def test_a_policy_without_one_action_fails(called):
    policy = load_policy()
    for action in sorted(policy_actions(policy)):
        reduced = json.loads(json.dumps(policy))
        for statement in reduced["Statement"]:
            statement["Action"] = [listed for listed in statement["Action"] if listed != action]
        assert compare(reduced, called) == ([action], [])


def test_a_policy_with_an_action_never_called_fails(called):
    policy = load_policy()
    policy["Statement"][0]["Action"] = policy["Statement"][0]["Action"] + ["vpc:DeleteVpc"]
    assert compare(policy, called) == ([], ["vpc:DeleteVpc"])


def test_the_policy_is_a_valid_ram_policy_document():
    policy = load_policy()
    assert policy["Version"] == "1"
    assert policy["Statement"]
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow"
        assert statement["Resource"] == "*"
        assert statement["Action"] == sorted(set(statement["Action"])), "keep the actions sorted and unique"
        assert all(re.match(r"^(vpc|ecs|slb|alb|nlb):[A-Z][A-Za-z0-9]+$", action) for action in statement["Action"])


def test_the_docs_publish_the_same_policy():
    with open(POLICY_DOC, encoding="utf-8") as handle:
        text = handle.read()
    blocks = re.findall(r"```json\n(.*?)```", text, re.DOTALL)
    assert blocks, "docs/ram-policy.md shows the policy in a ```json block"
    assert json.loads(blocks[0]) == load_policy()


@pytest.mark.parametrize(
    ("service", "method", "action"),
    [
        ("vpc", "associate_eip_address_with_options", "AssociateEipAddress"),
        ("vpc", "list_ipv_4gateways_with_options", "ListIpv4Gateways"),  # not a plain snake_case -> CamelCase
        ("vpc", "un_tag_resources_with_options", "UnTagResources"),
        ("ecs", "untag_resources_with_options", "UntagResources"),
        ("slb", "describe_load_balancers", "DescribeLoadBalancers"),
        ("vpc", "no_such_call_with_options", None),
    ],
)
def test_sdk_methods_resolve_to_their_api_action(service, method, action):
    assert sdk_action(service, method) == action


def test_unresolvable_calls_are_problems_not_silence(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "wrapper.py").write_text(
        "def f(connection, client):\n"
        "    connection.vpc.release_eip_address_with_options(1, 2)\n"
        "    connection.vpc.no_such_call_with_options(1, 2)\n"
        "    connection.dns.add_record_with_options(1, 2)\n"
        "    client.describe_things_with_options(1, 2)\n"
        "    client.tag_resources_with_options(1, 2)\n"
        "    client.describe_snat_table_entries_with_options(1, 2)\n"
        "    vpc = {}\n"
        "    vpc.get('VpcId')\n"
    )
    actions, problems = code_actions(sdk_calls(str(tmp_path)))
    assert actions == {"vpc:ReleaseEipAddress", "vpc:DescribeSnatTableEntries"}
    assert len(problems) == 4, problems
    assert "vpc.no_such_call_with_options is not an API method" in problems[0]
    assert "unknown service client 'dns' and the method is in 0 SDK clients (none)" in problems[1]
    assert "client.describe_things_with_options: unknown service client 'client'" in problems[2]
    assert "client.tag_resources_with_options" in problems[3] and "(vpc, ecs" in problems[3]
