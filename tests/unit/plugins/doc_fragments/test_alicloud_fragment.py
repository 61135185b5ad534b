"""The shared doc fragment documents exactly the shared argument spec."""

from __future__ import annotations

import yaml
from ansible_collections.alicloud.eip.plugins.doc_fragments._alicloud import ModuleDocFragment
from ansible_collections.alicloud.eip.plugins.module_utils._client import alicloud_argument_spec

DOCUMENTED_KEYS = ("type", "default", "choices", "elements", "aliases")


def comparable(options: dict) -> dict:
    """Option name -> the keys both the spec and the docs state, recursing into suboptions."""
    result = {}
    for name, option in options.items():
        entry = {key: option[key] for key in DOCUMENTED_KEYS if option.get(key) is not None}
        nested = option.get("options") or option.get("suboptions")
        if nested:
            entry["suboptions"] = comparable(nested)
        result[name] = entry
    return result


def test_fragment_matches_argument_spec():
    documented = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"]
    assert comparable(documented) == comparable(alicloud_argument_spec())


def test_every_option_is_described():
    documented = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"]
    for name, option in documented.items():
        assert option.get("description"), name
