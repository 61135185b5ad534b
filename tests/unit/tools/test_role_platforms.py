"""Role metadata lists only platforms whose system Python can run ansible-core 2.19's modules (issue 13).

ansible-core 2.19 runs modules on Python 3.8 or newer on the managed host (its support matrix); a release whose
default Python is older (EL 7: 2.7 / 3.6, EL 8: platform-python 3.6, Ubuntu 18.04: 3.6) or a catch-all such as
``versions: [all]`` cannot be promised.
"""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[3]
MINIMUM = (3, 8)
# The default Python 3 of each release (the distributions' own package lists).
SYSTEM_PYTHON = {
    ("Debian", "bullseye"): (3, 9),
    ("Debian", "bookworm"): (3, 11),
    ("Debian", "trixie"): (3, 13),
    ("Ubuntu", "bionic"): (3, 6),
    ("Ubuntu", "focal"): (3, 8),
    ("Ubuntu", "jammy"): (3, 10),
    ("Ubuntu", "noble"): (3, 12),
    ("EL", "7"): (3, 6),
    ("EL", "8"): (3, 6),
    ("EL", "9"): (3, 9),
    ("EL", "10"): (3, 12),
}


def test_every_role_platform_runs_ansible_core_2_19_modules():
    roles = sorted((ROOT / "roles").glob("*/meta/main.yml"))
    assert roles
    checked = 0
    for meta in roles:
        platforms = yaml.safe_load(meta.read_text(encoding="utf-8"))["galaxy_info"]["platforms"]
        assert platforms, meta
        for platform in platforms:
            for version in platform["versions"]:
                key = (platform["name"], str(version))
                assert key in SYSTEM_PYTHON, f"{meta}: {key} is not a release whose Python is known here"
                assert SYSTEM_PYTHON[key] >= MINIMUM, f"{meta}: {key} ships Python {SYSTEM_PYTHON[key]}"
                checked += 1
    assert checked
