# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note: this module util is PRIVATE to the collection. It can change at any time; do not use it from
# other collections or standalone plugins/modules.

"""The one door to the cloud: the shared options, endpoints and SDK clients (credentials: ``_credentials``).

:class:`AlicloudModule` wraps ``AnsibleModule``: it merges a *copy* of the shared argument spec into
the module's own, checks that the SDK packages it needs are installed, and builds the SDK clients lazily, one per
product of :data:`PRODUCTS`.  A module needs the shared packages and the package of each product it calls, no
other: the shared ones are checked at its start, a product's when its client is first needed (eip_info needs the
ALB package only for an EIP on an ALB's zone).  A module whose run changes something through one product and also
calls another names both in ``products``, checked at its start, so that a missing package never stops it half-way.
A missing package fails the module with ``missing_required_lib``'s message naming it, never an ``ImportError``.

A product with an endpoint table in ``_endpoint_maps`` (VPC, ECS, SLB) is called through the
SDK's generic ``call_api`` (``_openapi``): importing a generated product client and its models costs 0.3-0.5 s of
CPU per module process, more than the rest of a one-call task (issue 14).

Credentials: ``_credentials`` (which source, in which order, and how a failure is explained).
"""

from __future__ import annotations

import copy
import importlib
import importlib.util
import os
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.errors import AnsibleFallbackNotFound
from ansible_collections.alicloud.eip.plugins.module_utils._credentials import (
    ConfigurationError,
    CredentialSource,
    check_credential_source,
    choose_credentials,
    make_credential_client,
)
from ansible_collections.alicloud.eip.plugins.module_utils._endpoint_maps import ENDPOINT_MAPS
from ansible_collections.alicloud.eip.plugins.module_utils._openapi import ProductCaller, endpoint_of
from ansible_collections.alicloud.eip.plugins.module_utils._products import PRODUCTS, PRODUCTS_BY_NAME
from ansible_collections.alicloud.eip.plugins.module_utils._retries import (
    AlicloudApiError,
    CallContext,
)

COLLECTION_USER_AGENT = "AnsibleCollection/alicloud.eip"

# The Python packages every product's client needs, by the pip name missing_required_lib reports.
SHARED_SDK_PACKAGES = {
    "alibabacloud_tea_openapi": "alibabacloud-tea-openapi",
    "alibabacloud_credentials": "alibabacloud-credentials",
}
# Every package of the SDK: the shared ones, then each product's (its row of PRODUCTS says which product it serves).
SDK_PACKAGES = {
    **SHARED_SDK_PACKAGES,
    **{product.package: product.pip_name for product in PRODUCTS},
}

SERVICES = tuple(product.name for product in PRODUCTS)

REGION_ENVIRONMENT = ["ALIBABA_CLOUD_REGION_ID", "ALICLOUD_REGION"]


def non_empty_env_fallback(*names: str) -> str:
    """The first of the environment variables ``names`` that holds a non-empty value.

    ansible-core's ``env_fallback`` returns the first variable that is *set*, even to ``""``; an AWX credential
    renders an optional field left blank as exactly that (``ALIBABA_CLOUD_REGION_ID=""``), which would hide
    ``ALICLOUD_REGION`` and end in "no region".  Empty counts as unset here, as it does for the keys and the STS
    token in :func:`choose_credentials` (docs/awx.md).
    """
    for name in names:
        value = os.environ.get(name, "").strip()
        if value:
            return value
    raise AnsibleFallbackNotFound


# Connect and read timeouts of every call, milliseconds (the SDK defaults are 5000 and 10000).
CONNECT_TIMEOUT_MS = 5000
READ_TIMEOUT_MS = 10000

# The shared options.  Copied into each module by alicloud_argument_spec(); never mutate it.
# plugins/doc_fragments/_alicloud.py documents exactly these (a unit test compares the two).
_COMMON_ARGUMENT_SPEC: dict[str, Any] = {
    "access_key_id": {"type": "str", "no_log": False},
    "access_key_secret": {"type": "str", "no_log": True},
    "security_token": {"type": "str", "no_log": True},
    "profile": {"type": "str"},
    "ecs_ram_role": {"type": "str"},
    "assume_role_arn": {"type": "str"},
    "assume_role_session_name": {"type": "str", "default": "ansible-alicloud-eip"},
    "region": {"type": "str", "fallback": (non_empty_env_fallback, REGION_ENVIRONMENT)},
    "endpoint_url": {"type": "str"},
    "endpoints": {"type": "dict", "options": {product.name: {"type": "str"} for product in PRODUCTS}},
    "validate_certs": {"type": "bool", "default": True},
}

COMMON_MUTUALLY_EXCLUSIVE = [
    ["access_key_id", "profile"],
    ["access_key_id", "ecs_ram_role"],
    ["profile", "ecs_ram_role"],
]
COMMON_REQUIRED_TOGETHER = [["access_key_id", "access_key_secret"]]
COMMON_REQUIRED_BY = {"security_token": ["access_key_id", "access_key_secret"]}


def alicloud_argument_spec() -> dict[str, Any]:
    """A deep copy of the shared options, for a module to extend."""
    return copy.deepcopy(_COMMON_ARGUMENT_SPEC)


class MissingSdkError(ImportError):
    """A product's SDK package is not installed; ``packages`` are the pip names, the message is
    ``missing_required_lib``'s."""

    def __init__(self, packages: list[str]):
        super().__init__(missing_required_lib(" and ".join(packages)))
        self.packages = packages


def _raise_missing(packages: list[str]) -> None:
    raise MissingSdkError(packages)


def parse_endpoint(
    value: str, option: str, example: str = PRODUCTS[0].private_endpoint.format(region="cn-hangzhou")
) -> tuple[str, str]:
    """``(protocol, host[:port])`` of an endpoint option; ``example`` is the host a refusal suggests.

    A URL's scheme decides the protocol (``http://127.0.0.1:8080`` -> ``http``); a bare host means
    HTTPS.  The scheme is stripped because the SDK would otherwise send (and sign) it as part of the
    ``host`` header (alibaba-api.md §1.6).
    """
    text = value.strip()
    if "://" not in text:
        if "/" in text or not text:
            raise ConfigurationError(
                f"{option}={value!r} is not a host name or URL; give e.g. {example} or https://host"
            )
        return "https", text
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https"):
        raise ConfigurationError(f"{option}={value!r}: the scheme must be http:// or https://")
    if not parts.netloc or parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ConfigurationError(f"{option}={value!r}: give only scheme, host and port (no path or query)")
    return parts.scheme, parts.netloc


class AlicloudConnection:
    """Region, endpoints, credentials and the lazily built SDK clients of one module run.

    The clients are thread-safe enough for the list form's thread pool: each call builds its own
    request, and the SDK shares one pooled HTTP session per endpoint.
    """

    def __init__(
        self,
        region: str,
        credential_source: CredentialSource,
        endpoints: Mapping[str, tuple[str, str] | None],
        validate_certs: bool = True,
        calls: CallContext | None = None,
    ):
        # Called with the pip names when a product's package is missing as its client is first needed; it must not
        # return (AlicloudModule fails the module; by default MissingSdkError is raised).
        self.missing_sdk: Callable[[list[str]], Any] = _raise_missing
        self.region = region
        self.credential_source = credential_source
        self.endpoints = dict(endpoints)
        self.validate_certs = validate_certs
        self.calls = calls or CallContext()
        self._clients: dict[str, Any] = {}
        self._credential = None
        self._lock = threading.Lock()

    def client(self, service: str):
        """The SDK client of one product of :data:`PRODUCTS` (built once, on first use)."""
        if service not in PRODUCTS_BY_NAME:
            raise ValueError(f"unknown SDK product {service!r}; the products are {', '.join(SERVICES)}")
        return self._client(service)

    # The products as attributes, for the wrappers: connection.vpc, connection.ecs, ... (one per row of PRODUCTS).
    def __getattr__(self, name: str):
        if name in PRODUCTS_BY_NAME:
            return self.client(name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def runtime(self):
        """``RuntimeOptions`` for one call: timeouts, certificate checking, no SDK-level retries (ours wrap it)."""
        from darabonba.runtime import RuntimeOptions

        return RuntimeOptions(
            ignore_ssl=not self.validate_certs,
            connect_timeout=CONNECT_TIMEOUT_MS,
            read_timeout=READ_TIMEOUT_MS,
        )

    def _client(self, service: str):
        with self._lock:
            if service not in self._clients:
                missing = missing_sdk_packages((service,))
                if missing:
                    self.missing_sdk(missing)
                    raise MissingSdkError(missing)  # a missing_sdk that returned
                self._clients[service] = self._build(service)
            return self._clients[service]

    def _build(self, service: str):
        """A product on the generic path (``_openapi``) gets the shared tea-openapi client; others their own."""
        if service not in ENDPOINT_MAPS:
            return self._build_generated(service)
        from alibabacloud_tea_openapi.client import Client as OpenApiClient

        config = self._config(service)
        if not config.endpoint:
            config.endpoint = endpoint_of(service, self.region, ENDPOINT_MAPS[service])
        generated: list[Any] = []

        def build_generated():
            with self._lock:
                if not generated:
                    generated.append(self._build_generated(service))
                return generated[0]

        return ProductCaller(OpenApiClient(config), PRODUCTS_BY_NAME[service].api_version, build_generated)

    def _build_generated(self, service: str):
        """The product's generated SDK client (imports its whole package: 0.3-0.5 s of CPU)."""
        client_class = importlib.import_module(f"{PRODUCTS_BY_NAME[service].package}.client").Client
        return client_class(self._config(service))

    def _config(self, service: str):
        from alibabacloud_tea_openapi.models import Config

        if self._credential is None:
            self._credential = make_credential_client(self.credential_source)
        config = Config(
            credential=self._credential,
            region_id=self.region,
            connect_timeout=CONNECT_TIMEOUT_MS,
            read_timeout=READ_TIMEOUT_MS,
            user_agent=COLLECTION_USER_AGENT,
        )
        endpoint = self.endpoints.get(service)
        if endpoint:
            config.protocol, config.endpoint = endpoint
        return config


def connection_from_params(params: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> AlicloudConnection:
    """Build the connection the shared options describe; raises :class:`ConfigurationError`."""
    environ = os.environ if environ is None else environ
    region = params.get("region")
    if not region:
        variables = " or ".join(REGION_ENVIRONMENT)
        raise ConfigurationError(
            f"no region: set the region option (for example region: cn-hangzhou) or the environment variable "
            f"{variables}"
        )
    endpoints: dict[str, tuple[str, str] | None] = {}
    default = parse_endpoint(params["endpoint_url"], "endpoint_url") if params.get("endpoint_url") else None
    per_service = params.get("endpoints") or {}
    for product in PRODUCTS:
        value = per_service.get(product.name)
        example = product.private_endpoint.format(region=region)
        endpoints[product.name] = parse_endpoint(value, f"endpoints.{product.name}", example) if value else default
    credential_source = choose_credentials(params, environ)
    check_credential_source(credential_source, environ)
    return AlicloudConnection(
        region=region,
        credential_source=credential_source,
        endpoints=endpoints,
        validate_certs=params.get("validate_certs", True),
    )


def missing_sdk_packages(products: Iterable[str] | None = None) -> list[str]:
    """pip names of the SDK packages that cannot be imported (checked without importing them): the shared ones and
    those of ``products`` (names of :data:`PRODUCTS` rows; ``None``: every product)."""
    names = SERVICES if products is None else tuple(products)
    unknown = [name for name in names if name not in PRODUCTS_BY_NAME]
    if unknown:
        raise ValueError(f"unknown SDK products {', '.join(unknown)}; the products are {', '.join(SERVICES)}")
    packages = dict(SHARED_SDK_PACKAGES)
    packages.update({PRODUCTS_BY_NAME[name].package: PRODUCTS_BY_NAME[name].pip_name for name in names})
    return [pip_name for name, pip_name in packages.items() if importlib.util.find_spec(name) is None]


class AlicloudModule:
    """``AnsibleModule`` with the shared options, the SDK check and a lazily built connection.

    The shared SDK packages, and those of ``products`` (names of :data:`PRODUCTS` rows), are checked at once, so that
    a missing one fails before anything is read or changed; a module that changes something through one product and
    calls another lists both.  Any other product's package is checked when its client is first needed, with the
    same message (see the module docstring).

    Attribute access falls through to the wrapped ``AnsibleModule`` (``params``, ``check_mode``,
    ``exit_json``, ``warn``, ...).
    """

    def __init__(self, argument_spec: dict[str, Any] | None = None, products: Iterable[str] = (), **kwargs: Any):
        spec = alicloud_argument_spec()
        spec.update(argument_spec or {})
        kwargs["mutually_exclusive"] = list(kwargs.get("mutually_exclusive") or []) + COMMON_MUTUALLY_EXCLUSIVE
        kwargs["required_together"] = list(kwargs.get("required_together") or []) + COMMON_REQUIRED_TOGETHER
        kwargs["required_by"] = {**COMMON_REQUIRED_BY, **(kwargs.get("required_by") or {})}
        self._module = AnsibleModule(argument_spec=spec, **kwargs)
        self._connection: AlicloudConnection | None = None
        missing = missing_sdk_packages(products)
        if missing:
            self._fail_missing_sdk(missing)

    def _fail_missing_sdk(self, packages: list[str]) -> None:
        self._module.fail_json(msg=missing_required_lib(" and ".join(packages)))

    def __getattr__(self, name: str) -> Any:
        if name == "_module":  # not set yet (AnsibleModule failed early): no endless recursion
            raise AttributeError(name)
        return getattr(self._module, name)

    @property
    def connection(self) -> AlicloudConnection:
        """The connection described by the shared options (built once)."""
        if self._connection is None:
            try:
                self._connection = connection_from_params(self._module.params)
            except ConfigurationError as error:
                self._module.fail_json(msg=str(error))
            self._connection.missing_sdk = self._fail_missing_sdk
            source = self._connection.credential_source
            for secret in (source.access_key_secret, source.security_token):
                if secret:
                    self._module.no_log_values.add(secret)
        return self._connection

    def fail_json_alicloud(self, error: AlicloudApiError, msg: str, **result: Any) -> None:
        """Fail with ``msg``, the API's answer (code, message, request id, HTTP status) and ``result``."""
        self._module.fail_json(msg=f"{msg}: {error.describe()}", error=error.as_dict(), **result)

    def exit_info(self, read: Callable[[], dict[str, Any]], what: str) -> None:
        """An info module's whole run: exit unchanged with ``read()``; an API error fails with "could not <what>"."""
        try:
            found = read()
        except AlicloudApiError as error:
            self.fail_json_alicloud(error, f"could not {what}")
        self._module.exit_json(changed=False, **found)

    def exit_listing(self, key: str, build_filters: Callable, describe: Callable, what: str) -> None:
        """A listing module's whole run: its options as filters (a ValueError names the option), then one listing."""
        try:
            filters = build_filters(self._module.params)
        except ValueError as error:
            self._module.fail_json(msg=str(error))
        self.exit_info(lambda: {key: describe(self.connection, **filters)}, what)
