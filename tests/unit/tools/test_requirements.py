"""requirements.txt declares supported ranges (an execution environment merges them with other collections'),
requirements-dev.lock pins the exact versions CI installs; every pin must lie inside its range (issue 13)."""

from __future__ import annotations

from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[3]


def _lines(name: str) -> list[str]:
    text = (ROOT / name).read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def test_runtime_requirements_are_ranges_that_hold_the_locked_versions():
    locked = {}
    for line in _lines("requirements-dev.lock"):
        requirement = Requirement(line)
        (specifier,) = requirement.specifier
        assert specifier.operator == "==", line
        locked[canonicalize_name(requirement.name)] = specifier.version
    runtime = [Requirement(line) for line in _lines("requirements.txt")]
    assert runtime
    for requirement in runtime:
        operators = {specifier.operator for specifier in requirement.specifier}
        assert operators == {">=", "<"}, f"{requirement}: give a supported range (>=tested,<next major), not a pin"
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{requirement.name} is not in requirements-dev.lock"
        assert requirement.specifier.contains(locked[name]), f"the lock's {name}=={locked[name]} is outside {requirement}"
