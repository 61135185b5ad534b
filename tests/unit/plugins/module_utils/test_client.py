"""Shared options, credentials, endpoints and the module wrapper (plugins/module_utils/_client.py)."""

from __future__ import annotations

import json

import pytest
from alibabacloud_credentials.provider import (
    CLIProfileCredentialsProvider,
    DefaultCredentialsProvider,
    EcsRamRoleCredentialsProvider,
    RamRoleArnCredentialsProvider,
    StaticAKCredentialsProvider,
    StaticSTSCredentialsProvider,
)
from ansible.module_utils import basic
from ansible.module_utils.common.text.converters import to_bytes
from ansible_collections.alicloud.eip.plugins.module_utils import _client
from ansible_collections.alicloud.eip.plugins.module_utils._client import (
    AlicloudModule,
    ConfigurationError,
    alicloud_argument_spec,
    choose_credentials,
    connection_from_params,
    make_credential_client,
    parse_endpoint,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("http://127.0.0.1:8080", ("http", "127.0.0.1:8080")),
        ("http://127.0.0.1:8080/", ("http", "127.0.0.1:8080")),
        ("https://vpc.example.test", ("https", "vpc.example.test")),
        ("vpc-vpc.cn-hangzhou.aliyuncs.com", ("https", "vpc-vpc.cn-hangzhou.aliyuncs.com")),
        (" vpc.aliyuncs.com ", ("https", "vpc.aliyuncs.com")),
    ],
)
def test_parse_endpoint(value, expected):
    assert parse_endpoint(value, "endpoint_url") == expected


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("ftp://host", "scheme must be http:// or https://"),
        ("http://host/path", "no path or query"),
        ("http://host?x=1", "no path or query"),
        ("host/path", "is not a host name or URL"),
        ("", "is not a host name or URL"),
    ],
)
def test_parse_endpoint_rejects_what_the_sdk_cannot_use(value, fragment):
    with pytest.raises(ConfigurationError, match=fragment) as excinfo:
        parse_endpoint(value, "endpoints.vpc")
    assert "endpoints.vpc" in str(excinfo.value)


PARAMS = {"assume_role_arn": None, "assume_role_session_name": "ansible-alicloud-eip"}
ENV_NEW = {"ALIBABA_CLOUD_ACCESS_KEY_ID": "env-ak", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "env-secret"}
ENV_LEGACY = {
    "ALICLOUD_ACCESS_KEY": "old-ak",
    "ALICLOUD_SECRET_KEY": "old-secret",
    "ALICLOUD_SECURITY_TOKEN": "old-token",
}


@pytest.mark.parametrize(
    ("params", "environ", "kind", "origin", "key"),
    [
        ({"access_key_id": "ak", "access_key_secret": "s"}, ENV_NEW, "access_key", "options", "ak"),
        ({"access_key_id": "ak", "access_key_secret": "s", "security_token": "t"}, {}, "sts", "options", "ak"),
        ({"profile": "prod"}, ENV_NEW, "profile", "options", None),
        ({"ecs_ram_role": "eip-role"}, ENV_NEW, "ecs_ram_role", "options", None),
        ({}, ENV_NEW, "access_key", "environment (ALIBABA_CLOUD_ACCESS_KEY_ID)", "env-ak"),
        (
            {},
            {**ENV_NEW, "ALIBABA_CLOUD_SECURITY_TOKEN": "tok"},
            "sts",
            "environment (ALIBABA_CLOUD_ACCESS_KEY_ID)",
            "env-ak",
        ),
        ({}, ENV_LEGACY, "sts", "environment (ALICLOUD_ACCESS_KEY)", "old-ak"),
        ({}, {**ENV_LEGACY, **ENV_NEW}, "access_key", "environment (ALIBABA_CLOUD_ACCESS_KEY_ID)", "env-ak"),
        ({}, {"ALIBABA_CLOUD_ACCESS_KEY_ID": "only-id"}, "default", "the alibabacloud-credentials default chain", None),
        ({}, {}, "default", "the alibabacloud-credentials default chain", None),
    ],
)
def test_choose_credentials(params, environ, kind, origin, key):
    source = choose_credentials({**PARAMS, **params}, environ)
    assert (source.kind, source.origin, source.access_key_id) == (kind, origin, key)


def test_explicit_profile_is_not_overridden_by_exported_keys():
    source = choose_credentials({**PARAMS, "profile": "prod"}, ENV_NEW)
    assert source.kind == "profile" and source.profile == "prod" and source.access_key_id is None


@pytest.mark.parametrize(
    ("params", "provider_type"),
    [
        ({"access_key_id": "ak", "access_key_secret": "s"}, StaticAKCredentialsProvider),
        ({"access_key_id": "ak", "access_key_secret": "s", "security_token": "t"}, StaticSTSCredentialsProvider),
        ({"profile": "prod"}, CLIProfileCredentialsProvider),
        ({"ecs_ram_role": "eip-role"}, EcsRamRoleCredentialsProvider),
        ({}, DefaultCredentialsProvider),
        ({"assume_role_arn": "acs:ram::1:role/eip"}, RamRoleArnCredentialsProvider),
    ],
)
def test_credential_client_uses_the_chosen_provider(params, provider_type):
    client = make_credential_client(choose_credentials({**PARAMS, **params}, {}))
    assert isinstance(client.cloud_credential.provider, provider_type)


def test_static_keys_reach_the_sdk():
    client = make_credential_client(choose_credentials({**PARAMS, "access_key_id": "ak", "access_key_secret": "s"}, {}))
    credential = client.get_credential()
    assert (credential.access_key_id, credential.access_key_secret) == ("ak", "s")


def test_assume_role_wraps_the_chosen_source():
    params = {**PARAMS, "profile": "prod", "assume_role_arn": "acs:ram::1:role/eip", "assume_role_session_name": "s1"}
    provider = make_credential_client(choose_credentials(params, {})).cloud_credential.provider
    assert isinstance(provider._credentials_provider, CLIProfileCredentialsProvider)  # pylint: disable=protected-access


def base_params(**overrides):
    params = {name: None for name in alicloud_argument_spec()}
    params.update(validate_certs=True, assume_role_session_name="ansible-alicloud-eip", region="cn-hangzhou")
    params.update(overrides)
    return params


def test_missing_region_names_the_option_and_the_variables():
    with pytest.raises(ConfigurationError) as excinfo:
        connection_from_params(base_params(region=None), environ={})
    assert "region" in str(excinfo.value)
    assert "ALIBABA_CLOUD_REGION_ID or ALICLOUD_REGION" in str(excinfo.value)


def test_per_service_endpoint_overrides_endpoint_url():
    connection = connection_from_params(
        base_params(
            endpoint_url="http://127.0.0.1:9000", endpoints={"vpc": "https://vpc.private", "ecs": None, "slb": None}
        ),
        environ={},
    )
    assert connection.endpoints == {
        "vpc": ("https", "vpc.private"),
        "ecs": ("http", "127.0.0.1:9000"),
        "slb": ("http", "127.0.0.1:9000"),
    }


def test_clients_are_built_lazily_once_with_endpoint_and_region():
    connection = connection_from_params(
        base_params(endpoint_url="http://127.0.0.1:9000", access_key_id="ak", access_key_secret="s"), environ={}
    )
    assert connection._clients == {}  # pylint: disable=protected-access
    vpc = connection.vpc
    assert connection.vpc is vpc
    assert (vpc._endpoint, vpc._protocol, vpc._region_id) == (
        "127.0.0.1:9000",
        "http",
        "cn-hangzhou",
    )  # pylint: disable=protected-access
    assert list(connection._clients) == ["vpc"]  # pylint: disable=protected-access
    assert connection.ecs._credential is vpc._credential  # pylint: disable=protected-access


def test_validate_certs_false_turns_off_certificate_checks():
    connection = connection_from_params(base_params(validate_certs=False), environ={})
    assert connection.runtime().ignore_ssl is True
    assert connection_from_params(base_params(), environ={}).runtime().ignore_ssl is False


def test_argument_spec_is_a_copy():
    spec = alicloud_argument_spec()
    spec["region"]["default"] = "mutated"
    spec.pop("profile")
    assert "default" not in alicloud_argument_spec()["region"]
    assert "profile" in alicloud_argument_spec()


def test_secrets_are_no_log_and_the_key_id_is_explicitly_not():
    spec = alicloud_argument_spec()
    assert spec["access_key_secret"]["no_log"] is True
    assert spec["security_token"]["no_log"] is True
    assert spec["access_key_id"]["no_log"] is False


def run_module(monkeypatch, args, environ=None):
    """Build an AlicloudModule from ``args`` as Ansible would hand them over."""
    monkeypatch.setattr(basic, "_ANSIBLE_ARGS", to_bytes(json.dumps({"ANSIBLE_MODULE_ARGS": args})))
    monkeypatch.setattr(basic, "_ANSIBLE_PROFILE", "legacy", raising=False)
    for name in list(_client.KEY_ENVIRONMENT[0] + _client.KEY_ENVIRONMENT[1]) + _client.REGION_ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    for name, value in (environ or {}).items():
        monkeypatch.setenv(name, value)
    return AlicloudModule(argument_spec={"extra": {"type": "str"}}, supports_check_mode=True)


def test_module_merges_the_shared_options_and_hides_environment_secrets(monkeypatch):
    module = run_module(
        monkeypatch,
        {"extra": "x"},
        {
            "ALIBABA_CLOUD_REGION_ID": "cn-beijing",
            "ALICLOUD_ACCESS_KEY": "old-ak",
            "ALICLOUD_SECRET_KEY": "old-secret-value",
        },
    )
    assert module.params["extra"] == "x"
    assert module.params["region"] == "cn-beijing"
    connection = module.connection
    assert connection.credential_source.access_key_id == "old-ak"
    assert "old-secret-value" in module.no_log_values


def test_module_refuses_profile_with_keys(monkeypatch):
    with pytest.raises(SystemExit):
        run_module(monkeypatch, {"profile": "p", "access_key_id": "a", "access_key_secret": "s"})
