"""Bad input to the cloud-side modules: refused, naming the option and the fix, with no mutating call.

Each case of ``module_cases.yml`` runs the module's real ``main()`` in this process against the emulator, once
as a real run and once in check mode, and asserts:
- the module failed, without a traceback;
- the message names the option (its path, e.g. ``associations[1].instance_id``; or, for a refusal about the
  resource the option names, the value given to it and the list item's index) and carries the fix;
- the emulator counted no call of a mutating action (the emulator's own ``mutating=True`` actions);
- the emulator's account is exactly as loaded (every resource, the clock, pending transitions, client tokens).
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest
import yaml

from .conftest import ACCESS_KEY, MUTATING_ACTIONS, REGION, mutating_calls, run_module

CASES = yaml.safe_load((Path(__file__).parent / "module_cases.yml").read_text(encoding="utf-8")) or []
MODULES = (
    "eip_association",
    "eip_info",
    "eip_address",
    "eip_recover",
    "eip_gateway_info",
    "eni",
    "eni_info",
    "snat_entry",
    "nat_gateway_info",
    "havip",
    "havip_info",
)
_STEP = re.compile(r"([A-Za-z_]\w*)(?:\[(\d+)\])?")


def option_value(args: dict, path: str):
    """The value the case gives the option at ``path`` (``associations[1].instance_id``, ``association.mode``)."""
    value = args
    for name, index in _STEP.findall(path):
        value = value[name]
        if index:
            value = value[int(index)]
    return value


def names(message: str, text: str) -> bool:
    """Whether ``message`` contains ``text`` as a whole name (not as part of a longer identifier)."""
    return re.search(r"(?<![\w\-])" + re.escape(text) + r"(?![\w\-])", message) is not None


def test_every_module_has_cases():
    """The table is the suite: an empty or truncated table must fail, never pass."""
    assert len(CASES) >= 100, f"module_cases.yml holds {len(CASES)} cases; the suite needs at least 100"
    assert {case["module"] for case in CASES} == set(MODULES)
    assert MUTATING_ACTIONS, "the emulator registers no mutating action; the call count would prove nothing"


@pytest.mark.parametrize("check_mode", [False, True], ids=["run", "check"])
@pytest.mark.parametrize("case", CASES, ids=[f"{case['module']}:{case['id']}" for case in CASES])
def test_bad_input_is_refused_before_any_change(case, check_mode, control, capsys):
    module = importlib.import_module(f"ansible_collections.alicloud.eip.plugins.modules.{case['module']}")
    args = {
        "access_key_id": ACCESS_KEY["id"],
        "access_key_secret": ACCESS_KEY["secret"],
        "region": REGION,
        "endpoint_url": f"http://{control.endpoint}",
        **case["args"],
    }
    args = {name: value for name, value in args.items() if value is not None}
    before = control.state()

    result = run_module(module, args, check_mode, capsys)

    calls = control.calls()
    message = str(result.get("msg", ""))
    assert result.get("failed") is True, f"not refused: {result}"
    assert "Traceback" not in message and "exception" not in result, result
    assert mutating_calls(calls) == {}, f"mutating calls were made: {calls}; message: {message}"
    assert control.state() == before, f"the account changed; message: {message}"
    option = case["option"]
    if case.get("named_by") == "value":
        value = str(option_value(case["args"], option))
        assert names(message, value), f"the message does not name {option} by its value {value!r}: {message}"
        item = re.match(r"^associations\[\d+\]", option)
        if item:
            assert item.group(0) in message, f"the message does not name the item {item.group(0)}: {message}"
    else:
        assert names(message, option), f"the message does not name the option {option}: {message}"
    assert case["fix"] in message, f"the message does not say how to fix it ({case['fix']!r}): {message}"
