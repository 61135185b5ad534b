"""Shared options, credentials, endpoints and the module wrapper (plugins/module_utils/_client.py, _credentials.py)."""

from __future__ import annotations

import ipaddress
import json
import os
import socket
from pathlib import Path

import pytest
import yaml
from alibabacloud_credentials.exceptions import CredentialException
from alibabacloud_credentials.provider import (
    CLIProfileCredentialsProvider,
    DefaultCredentialsProvider,
    EcsRamRoleCredentialsProvider,
    RamRoleArnCredentialsProvider,
    StaticAKCredentialsProvider,
    StaticSTSCredentialsProvider,
)
from alibabacloud_credentials.utils import auth_util
from ansible.module_utils import basic
from ansible.module_utils.common.text.converters import to_bytes
from ansible_collections.alicloud.eip.plugins.doc_fragments._alicloud import ModuleDocFragment
from ansible_collections.alicloud.eip.plugins.module_utils import _client, _credentials
from ansible_collections.alicloud.eip.plugins.module_utils._client import (
    AlicloudModule,
    alicloud_argument_spec,
    connection_from_params,
    parse_endpoint,
)
from ansible_collections.alicloud.eip.plugins.module_utils._credentials import (
    ConfigurationError,
    ExplainedCredentialClient,
    choose_credentials,
    explain_credential_failure,
    make_credential_client,
)
from ansible_collections.alicloud.eip.plugins.module_utils._endpoint_maps import ENDPOINT_MAPS
from ansible_collections.alicloud.eip.plugins.module_utils._openapi import ProductCaller


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
def test_credential_client_uses_the_chosen_provider(params, provider_type, monkeypatch):
    # The tests run with the metadata lookup off (tests/unit/conftest.py); building the provider sends nothing.
    monkeypatch.setattr(auth_util, "environment_ecs_metadata_disabled", "false")
    client = make_credential_client(choose_credentials({**PARAMS, **params}, {}), environ={})
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
        "alb": ("http", "127.0.0.1:9000"),
        "nlb": ("http", "127.0.0.1:9000"),
    }


def test_clients_are_built_lazily_once_with_endpoint_and_region():
    connection = connection_from_params(
        base_params(endpoint_url="http://127.0.0.1:9000", access_key_id="ak", access_key_secret="s"), environ={}
    )
    assert connection._clients == {}  # pylint: disable=protected-access
    vpc = connection.vpc
    assert connection.vpc is vpc
    openapi = vpc._openapi  # pylint: disable=protected-access
    assert (openapi._endpoint, openapi._protocol, openapi._region_id) == (
        "127.0.0.1:9000",
        "http",
        "cn-hangzhou",
    )  # pylint: disable=protected-access
    assert list(connection._clients) == ["vpc"]  # pylint: disable=protected-access
    assert connection.ecs._openapi._credential is openapi._credential  # pylint: disable=protected-access


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
    for name in list(_credentials.KEY_ENVIRONMENT[0] + _credentials.KEY_ENVIRONMENT[1]) + _client.REGION_ENVIRONMENT:
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


# ---- credential failures say where the chain looked (issue 9 item 6) -----------------------------------------


def test_default_chain_failure_names_every_place_and_no_secret():
    environ = {
        "ALIBABA_CLOUD_ACCESS_KEY_ID": "LTAI-partial",
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "",
        "ALICLOUD_SECRET_KEY": "legacy-secret-value",
        "ALIBABA_CLOUD_ECS_METADATA_DISABLED": "true",
    }
    source = choose_credentials(PARAMS, environ)
    message = explain_credential_failure(
        source, "provider said legacy-secret-value is bad", environ=environ, home="/home/ops"
    )
    assert message.startswith("no usable credentials from the alibabacloud-credentials default chain")
    for place in (
        "ALIBABA_CLOUD_ACCESS_KEY_ID (set)",
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET (not set)",
        "ALIBABA_CLOUD_OIDC_TOKEN_FILE (not set)",
        "/home/ops/.aliyun/config.json",
        "/home/ops/.alibabacloud/credentials.ini",
        "ECS instance RAM role: skipped (ALIBABA_CLOUD_ECS_METADATA_DISABLED=true)",
        "ALIBABA_CLOUD_CREDENTIALS_URI (not set)",
        "access_key_id and access_key_secret",
    ):
        assert place in message
    assert "legacy-secret-value" not in message and "LTAI-partial" not in message


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"profile": "prod"}, "profile 'prod' of the Alibaba Cloud CLI configuration /h/.aliyun/config.json"),
        ({"ecs_ram_role": "eip-role"}, "the RAM role 'eip-role' of this ECS instance, from the metadata service"),
        ({}, "the metadata service 100.100.100.200 (off: ALIBABA_CLOUD_ECS_METADATA_DISABLED=true)"),
    ],
)
def test_credential_failure_names_the_chosen_source(params, fragment):
    message = explain_credential_failure(choose_credentials({**PARAMS, **params}, {}), "x", environ={}, home="/h")
    assert fragment in message


def test_explained_client_turns_any_provider_failure_into_a_credential_exception():
    class Failing:
        def __init__(self, error):
            self.error = error

        def get_credential(self):
            raise self.error

    source = choose_credentials({**PARAMS, "ecs_ram_role": "eip-role"}, {})
    for error in (CredentialException("HttpCode=404"), ConnectionError("metadata refused")):
        with pytest.raises(CredentialException) as excinfo:
            ExplainedCredentialClient(Failing(error), source).get_credential()
        assert "RAM role 'eip-role'" in excinfo.value.message
        assert str(error) in excinfo.value.message


def test_ecs_ram_role_with_the_metadata_lookup_off_is_refused_before_any_call():
    with pytest.raises(ConfigurationError) as excinfo:
        connection_from_params(
            base_params(ecs_ram_role="eip-role"), environ={"ALIBABA_CLOUD_ECS_METADATA_DISABLED": "true"}
        )
    assert "ecs_ram_role='eip-role'" in str(excinfo.value)
    assert "ALIBABA_CLOUD_ECS_METADATA_DISABLED=true" in str(excinfo.value)


# ---- a module run without credentials, end to end against the emulator (issue 9 items 6 and 15) ------------


@pytest.fixture(scope="module")
def emulator():
    from ansible_collections.alicloud.eip.tests.emulator.server import Emulator, EmulatorServer

    server = EmulatorServer(Emulator(world_spec={"regions": {"cn-hangzhou": {}}}))
    server.start_background()
    yield server
    server.shutdown()
    server.server_close()


class SocketRecorder:
    """Records every socket connect of this process; refuses (never sends to) any address outside loopback."""

    def __init__(self, monkeypatch):
        self.destinations: list = []
        real_connect = socket.socket.connect

        def connect(sock, address):
            self.destinations.append(address)
            if sock.family in (socket.AF_INET, socket.AF_INET6) and not ipaddress.ip_address(address[0]).is_loopback:
                raise ConnectionRefusedError(f"the test refused a connection to {address}")
            return real_connect(sock, address)

        monkeypatch.setattr(socket.socket, "connect", connect)

    def outside_loopback(self) -> list:
        return [
            address
            for address in self.destinations
            if isinstance(address, tuple) and not ipaddress.ip_address(address[0]).is_loopback
        ]


def run_eip_info_without_credentials(monkeypatch, capsys, emulator, tmp_path):
    """eip_info's main() in this process with no credentials anywhere; returns (result, credential asks, sleeps)."""
    from ansible_collections.alicloud.eip.plugins.module_utils import _retries
    from ansible_collections.alicloud.eip.plugins.modules import eip_info

    for name in list(os.environ):
        if name.startswith(("ALIBABA_CLOUD_", "ALICLOUD_")) and name != "ALIBABA_CLOUD_ECS_METADATA_DISABLED":
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.aliyun/config.json, no ~/.alibabacloud/credentials.ini
    sleeps: list[float] = []
    monkeypatch.setattr(
        _client, "CallContext", lambda: _retries.CallContext(retry_policy=_retries.RetryPolicy(sleep=sleeps.append))
    )
    asks = []
    real_get_credential = ExplainedCredentialClient.get_credential

    def counting_get_credential(self):
        asks.append(1)
        return real_get_credential(self)

    monkeypatch.setattr(ExplainedCredentialClient, "get_credential", counting_get_credential)
    args = {"region": "cn-hangzhou", "endpoint_url": f"http://{emulator.endpoint}"}
    monkeypatch.setattr(basic, "_ANSIBLE_ARGS", to_bytes(json.dumps({"ANSIBLE_MODULE_ARGS": args})))
    monkeypatch.setattr(basic, "_ANSIBLE_PROFILE", "legacy", raising=False)
    capsys.readouterr()
    with pytest.raises(SystemExit):
        eip_info.main()
    return json.loads(capsys.readouterr().out), len(asks), sleeps


def test_no_credentials_fails_at_once_with_a_credential_message_and_stays_on_loopback(
    monkeypatch, capsys, emulator, tmp_path
):
    assert os.environ.get("ALIBABA_CLOUD_ECS_METADATA_DISABLED") == "true"  # tests/unit/conftest.py
    recorder = SocketRecorder(monkeypatch)
    emulator.emulator.store.data["counters"] = {}
    result, asks, sleeps = run_eip_info_without_credentials(monkeypatch, capsys, emulator, tmp_path)
    assert result["failed"] is True
    assert result["error"]["code"] == "InvalidCredentials"
    assert "no usable credentials from the alibabacloud-credentials default chain" in result["msg"]
    assert str(tmp_path / ".aliyun" / "config.json") in result["msg"]
    assert "skipped (ALIBABA_CLOUD_ECS_METADATA_DISABLED=true)" in result["msg"]
    assert "TransportError" not in result["msg"] and "attempts" not in result["msg"]
    assert (asks, sleeps) == (1, [])  # one attempt, no backoff
    assert emulator.emulator.store.data["counters"] == {}  # nothing unsigned reached the API
    assert recorder.outside_loopback() == []


def test_the_recorder_sees_the_metadata_lookup_when_it_is_left_on(monkeypatch, capsys, emulator, tmp_path):
    """The control case: with the switch off the chain does ask 100.100.100.200 (refused by the recorder, so
    nothing leaves the machine), the recorder notices, and the module still fails at once."""
    monkeypatch.setattr(auth_util, "environment_ecs_metadata_disabled", "false")
    monkeypatch.delenv("ALIBABA_CLOUD_ECS_METADATA_DISABLED")
    recorder = SocketRecorder(monkeypatch)
    result, asks, sleeps = run_eip_info_without_credentials(monkeypatch, capsys, emulator, tmp_path)
    assert ("100.100.100.200", 80) in recorder.outside_loopback()
    assert result["error"]["code"] == "InvalidCredentials"
    assert "EcsRamRoleCredentialsProvider" in result["msg"]
    assert (asks, sleeps) == (1, [])


def test_every_test_runner_keeps_the_metadata_lookup_off():
    """tools/*.sh that run modules, the Makefile's environment and every integration target (ansible-test passes
    only a few variables through, so each target sets it with an ``env/set`` alias) turn the lookup off."""
    root = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
    targets_dir = os.path.join(root, "tests", "integration", "targets")
    targets = sorted(os.listdir(targets_dir))
    assert targets
    for target in targets:
        with open(os.path.join(targets_dir, target, "aliases"), encoding="utf-8") as handle:
            assert "env/set/ALIBABA_CLOUD_ECS_METADATA_DISABLED/true" in handle.read().splitlines(), target
    for tool in ("integration.sh", "molecule.sh", "bench.sh", "demo.sh", "test.sh"):
        with open(os.path.join(root, "tools", tool), encoding="utf-8") as handle:
            assert "\nexport ALIBABA_CLOUD_ECS_METADATA_DISABLED=true" in handle.read(), tool
    with open(os.path.join(root, "Makefile"), encoding="utf-8") as handle:
        makefile = handle.read()
    assert "ALIBABA_CLOUD_ECS_METADATA_DISABLED=true" in makefile.split("NOPROXY :=", 1)[1].split("\n\n", 1)[0]


# ---- the SDK products: one table ------------------------------------------------------------------------------


def test_every_product_is_an_endpoints_suboption_documented_with_its_private_endpoint_and_pinned():
    fragment = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)
    documented = fragment["options"]["endpoints"]["suboptions"]
    assert set(documented) == {product.name for product in _client.PRODUCTS}
    root = Path(__file__).resolve().parents[4]
    pins = (root / "requirements.txt").read_text(encoding="utf-8")
    locked = (root / "requirements-dev.lock").read_text(encoding="utf-8")
    for product in _client.PRODUCTS:
        assert product.private_endpoint.format(region="cn-hangzhou") in " ".join(
            documented[product.name]["description"]
        )
        assert product.pip_name in fragment["requirements"], product.name
        assert f"\n{product.pip_name}>=" in pins, product.name  # a supported range (issue 13)
        assert f"\n{product.pip_name}==" in locked, product.name
        assert _client.SDK_PACKAGES[product.package] == product.pip_name
        assert product.api_version.replace("-", "") in product.package  # alibabacloud_vpc20160428 speaks 2016-04-28


def test_each_product_client_is_its_package_client_reachable_by_name_and_as_attribute():
    connection = connection_from_params(
        base_params(endpoint_url="http://127.0.0.1:9000", access_key_id="ak", access_key_secret="s"), environ={}
    )
    for product in _client.PRODUCTS:
        client = connection.client(product.name)
        assert getattr(connection, product.name) is client
        if product.name in ENDPOINT_MAPS:  # the generic path; its generated client only for a real SDK model
            assert isinstance(client, ProductCaller)
            client = client._generated()  # pylint: disable=protected-access
        assert type(client).__module__ == f"{product.package}.client"
    with pytest.raises(ValueError, match="unknown SDK product 'cdn'; the products are vpc, ecs, slb, alb, nlb"):
        connection.client("cdn")
    with pytest.raises(AttributeError, match="cdn"):
        connection.cdn  # noqa: B018  # pylint: disable=pointless-statement


def test_a_refused_product_endpoint_suggests_that_products_endpoint_in_the_region():
    with pytest.raises(ConfigurationError) as excinfo:
        connection_from_params(base_params(region="cn-shanghai", endpoints={"ecs": "host/path"}), environ={})
    assert "endpoints.ecs='host/path' is not a host name or URL; give e.g. ecs-vpc.cn-shanghai.aliyuncs.com" in str(
        excinfo.value
    )
