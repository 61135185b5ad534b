"""The AWX credential type shipped as data (extensions/awx, issue 13 item 4): valid by AWX's rules, rendered the way
AWX renders it, and read by the collection's credential chain with blank optional fields counted as unset."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from jinja2.sandbox import ImmutableSandboxedEnvironment

from ansible_collections.alicloud.eip.plugins.module_utils import _client, _credentials

ROOT = Path(__file__).resolve().parents[3]
AWX = ROOT / "extensions" / "awx"
CREDENTIAL_TYPE = yaml.safe_load((AWX / "credential_type_alibaba_cloud.yml").read_text(encoding="utf-8"))


def render_env(inputs: dict[str, str]) -> dict[str, str]:
    """What AWX puts in the job's environment: each env injector rendered over the inputs, a field the user left
    blank rendered as an empty string (AWX passes every declared field, blank or not)."""
    values = {field["id"]: inputs.get(field["id"], "") for field in CREDENTIAL_TYPE["inputs"]["fields"]}
    environment = ImmutableSandboxedEnvironment()
    return {name: environment.from_string(template).render(**values) for name, template in
            CREDENTIAL_TYPE["injectors"]["env"].items()}


def test_the_type_follows_awx_rules():
    assert set(CREDENTIAL_TYPE) == {"name", "description", "kind", "inputs", "injectors"}
    assert CREDENTIAL_TYPE["kind"] in ("cloud", "net")  # the only kinds AWX lets a user create
    fields = CREDENTIAL_TYPE["inputs"]["fields"]
    ids = [field["id"] for field in fields]
    labels = [field["label"] for field in fields]
    assert len(set(ids)) == len(ids) and len(set(labels)) == len(labels)
    assert all(field.get("type", "string") in ("string", "boolean") for field in fields)
    assert set(CREDENTIAL_TYPE["inputs"]["required"]) == {"access_key_id", "access_key_secret"}
    secret = {field["id"] for field in fields if field.get("secret")}
    assert secret == {"access_key_secret", "security_token"}
    # Only environment variables: no secret in extra_vars (AWX stores and shows those), no file needed.
    assert set(CREDENTIAL_TYPE["injectors"]) == {"env"}
    for name, template in CREDENTIAL_TYPE["injectors"]["env"].items():
        assert not name.startswith("ANSIBLE_"), name  # reserved by AWX
        used = set(re.findall(r"{{\s*(\w+)", template))
        assert used and used <= set(ids), template


def test_every_injected_variable_is_one_the_collection_reads():
    injected = set(CREDENTIAL_TYPE["injectors"]["env"])
    assert injected <= set(_credentials.KEY_ENVIRONMENT[0]) | set(_client.REGION_ENVIRONMENT)
    assert injected >= set(_credentials.KEY_ENVIRONMENT[0]) | {_client.REGION_ENVIRONMENT[0]}


def test_full_credential_reaches_the_chain():
    env = render_env({"access_key_id": "LTAI-awx", "access_key_secret": "awx-secret", "security_token": "sts-token",
                      "region_id": "cn-shanghai"})
    source = _credentials.choose_credentials({}, env)
    assert (source.kind, source.access_key_id, source.access_key_secret, source.security_token) == (
        "sts", "LTAI-awx", "awx-secret", "sts-token")


@pytest.mark.parametrize("other_region, expected", [("cn-beijing", "cn-beijing"), (None, None)])
def test_blank_optional_fields_count_as_unset(monkeypatch, other_region, expected):
    env = render_env({"access_key_id": "LTAI-awx", "access_key_secret": "awx-secret"})
    assert env["ALIBABA_CLOUD_SECURITY_TOKEN"] == "" and env["ALIBABA_CLOUD_REGION_ID"] == ""
    source = _credentials.choose_credentials({}, env)
    assert (source.kind, source.security_token) == ("access_key", None)  # an empty token is no token

    for name in _client.REGION_ENVIRONMENT + ["ALICLOUD_REGION"]:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    if other_region:
        monkeypatch.setenv("ALICLOUD_REGION", other_region)
    result = ArgumentSpecValidator(_client.alicloud_argument_spec()).validate({})
    assert result.error_messages == []
    assert result.validated_parameters["region"] == expected
    if expected is None:
        with pytest.raises(_credentials.ConfigurationError, match="no region"):
            _client.connection_from_params(result.validated_parameters, env)


def test_empty_key_options_fall_back_to_the_environment():
    env = {"ALIBABA_CLOUD_ACCESS_KEY_ID": "LTAI-env", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "env-secret"}
    source = _credentials.choose_credentials({"access_key_id": "", "access_key_secret": "", "security_token": ""}, env)
    assert (source.kind, source.access_key_id, source.origin) == (
        "access_key", "LTAI-env", "environment (ALIBABA_CLOUD_ACCESS_KEY_ID)")


def test_register_playbook_sends_the_whole_type_to_awx():
    (play,) = yaml.safe_load((AWX / "register_credential_type.yml").read_text(encoding="utf-8"))
    assert play["hosts"] == "localhost"
    (task,) = play["tasks"]
    arguments = task["awx.awx.credential_type"]
    assert {key for key in arguments if key != "state"} == set(CREDENTIAL_TYPE)
    assert arguments["state"] == "present"
    assert "credential_type_alibaba_cloud.yml" in play["vars"]["alicloud_eip_credential_type"]
