# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note: this module util is PRIVATE to the collection. It can change at any time; do not use it from
# other collections or standalone plugins/modules.

"""Where the credentials of a call come from, and what a failure to find them says (``_client`` uses it).

Credentials, in order (``shared/reference/alibaba-api.md`` §1.8):

1. ``access_key_id`` + ``access_key_secret`` (+ ``security_token``) given as options;
2. ``profile``: that profile of the Alibaba Cloud CLI's ``~/.aliyun/config.json``;
3. ``ecs_ram_role``: the RAM role of the ECS instance the module runs on (metadata service);
4. the environment: ``ALIBABA_CLOUD_ACCESS_KEY_ID`` / ``ALIBABA_CLOUD_ACCESS_KEY_SECRET`` /
   ``ALIBABA_CLOUD_SECURITY_TOKEN``, else the legacy ``ALICLOUD_ACCESS_KEY`` / ``ALICLOUD_SECRET_KEY`` /
   ``ALICLOUD_SECURITY_TOKEN``;
5. otherwise the ``alibabacloud-credentials`` default chain (environment, OIDC, CLI profile,
   ``~/.alibabacloud/credentials.ini``, ECS RAM role, credentials URI).  The SDK client does *not* fall
   back to that chain by itself, so it is built here explicitly.

``assume_role_arn`` wraps whichever source was chosen: the role is assumed with those credentials.

When no source yields credentials, the module fails at once (no retry: ``_retries`` reports
``InvalidCredentials``) with a message that names every place that was looked at (:func:`explain_credential_failure`)
and never a secret.

The ECS metadata service (100.100.100.200) in the default chain: the collection leaves it in.  Users who run
the modules on an ECS instance with an instance RAM role and configure nothing rely on exactly that step of the
chain (it is how Alibaba Cloud's own tools find credentials there), and dropping it would break them silently.
Off ECS, the lookup costs one refused or timed-out connection (1 s connect and read timeouts in the SDK) and
only when nothing earlier in the chain answered; whoever must not send it (the tests: traffic must stay on the
machine) sets ``ALIBABA_CLOUD_ECS_METADATA_DISABLED=true``, which the SDK honours and the failure message
mentions.  An explicit ``ecs_ram_role`` with that switch set is refused with a clear message rather than
the SDK's ``ValueError``.

The environment is read here rather than through ``env_fallback`` on the options so that an explicit
``profile`` or ``ecs_ram_role`` is never overridden by keys that merely happen to be exported.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

KEY_ENVIRONMENT = (
    ("ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ALIBABA_CLOUD_SECURITY_TOKEN"),
    ("ALICLOUD_ACCESS_KEY", "ALICLOUD_SECRET_KEY", "ALICLOUD_SECURITY_TOKEN"),
)


class ConfigurationError(ValueError):
    """Options that cannot work together; the message names the option and the fix."""


@dataclass(frozen=True)
class CredentialSource:
    """Where the credentials come from; ``kind`` is one of access_key, sts, profile, ecs_ram_role, default."""

    kind: str
    origin: str
    access_key_id: str | None = None
    access_key_secret: str | None = None
    security_token: str | None = None
    profile: str | None = None
    role_name: str | None = None
    assume_role_arn: str | None = None
    assume_role_session_name: str | None = None


def choose_credentials(params: Mapping[str, Any], environ: Mapping[str, str]) -> CredentialSource:
    """Pick the credential source from the options and the environment (see the module docstring)."""
    role = {
        "assume_role_arn": params.get("assume_role_arn"),
        "assume_role_session_name": params.get("assume_role_session_name"),
    }
    if params.get("access_key_id"):
        kind = "sts" if params.get("security_token") else "access_key"
        return CredentialSource(
            kind,
            "options",
            access_key_id=params["access_key_id"],
            access_key_secret=params.get("access_key_secret"),
            security_token=params.get("security_token") or None,
            **role,
        )
    if params.get("profile"):
        return CredentialSource("profile", "options", profile=params["profile"], **role)
    if params.get("ecs_ram_role"):
        return CredentialSource("ecs_ram_role", "options", role_name=params["ecs_ram_role"], **role)
    for id_name, secret_name, token_name in KEY_ENVIRONMENT:
        if environ.get(id_name) and environ.get(secret_name):
            token = environ.get(token_name) or None
            return CredentialSource(
                "sts" if token else "access_key",
                f"environment ({id_name})",
                access_key_id=environ[id_name],
                access_key_secret=environ[secret_name],
                security_token=token,
                **role,
            )
    return CredentialSource("default", "the alibabacloud-credentials default chain", **role)


METADATA_DISABLED_VARIABLE = "ALIBABA_CLOUD_ECS_METADATA_DISABLED"
METADATA_ADDRESS = "100.100.100.200"


def _variable_state(environ: Mapping[str, str], *names: str) -> str:
    """``NAME (set)`` / ``NAME (not set)`` for each name; values are never shown (some are secrets)."""
    return ", ".join(f"{name} ({'set' if environ.get(name) else 'not set'})" for name in names)


def _metadata_disabled(environ: Mapping[str, str]) -> bool:
    return str(environ.get(METADATA_DISABLED_VARIABLE, "")).lower() == "true"


def credential_places(source: CredentialSource, environ: Mapping[str, str], home: str | None = None) -> list[str]:
    """Where the credentials of ``source`` were looked for, in the order the SDK looks (no values, no secrets)."""
    home = home if home is not None else (environ.get("HOME") or os.path.expanduser("~"))
    cli_file = os.path.join(home, ".aliyun", "config.json")
    if source.kind in ("access_key", "sts"):
        return [f"the access key given by {source.origin}"]
    if source.kind == "profile":
        return [f"profile {source.profile!r} of the Alibaba Cloud CLI configuration {cli_file}"]
    if source.kind == "ecs_ram_role":
        return [f"the RAM role {source.role_name!r} of this ECS instance, from the metadata service {METADATA_ADDRESS}"]
    metadata = (
        f"skipped ({METADATA_DISABLED_VARIABLE}=true)"
        if _metadata_disabled(environ)
        else f"the metadata service {METADATA_ADDRESS} (off: {METADATA_DISABLED_VARIABLE}=true)"
    )
    return [
        "the environment: "
        + _variable_state(
            environ,
            "ALIBABA_CLOUD_ACCESS_KEY_ID",
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
            "ALICLOUD_ACCESS_KEY",
            "ALICLOUD_SECRET_KEY",
        ),
        "OIDC: "
        + _variable_state(
            environ, "ALIBABA_CLOUD_ROLE_ARN", "ALIBABA_CLOUD_OIDC_PROVIDER_ARN", "ALIBABA_CLOUD_OIDC_TOKEN_FILE"
        ),
        f"the Alibaba Cloud CLI configuration {cli_file} (profile: ALIBABA_CLOUD_PROFILE or its current one)",
        "the credentials file "
        + (environ.get("ALIBABA_CLOUD_CREDENTIALS_FILE") or os.path.join(home, ".alibabacloud", "credentials.ini")),
        f"the ECS instance RAM role: {metadata}",
        "a credentials URI: " + _variable_state(environ, "ALIBABA_CLOUD_CREDENTIALS_URI"),
    ]


def explain_credential_failure(
    source: CredentialSource, detail: str, environ: Mapping[str, str] | None = None, home: str | None = None
) -> str:
    """The message of a credential failure: what failed, where it looked, the SDK's reason, the fix; no secret."""
    environ = os.environ if environ is None else environ
    for secret in _secrets_of(source, environ):
        detail = detail.replace(secret, "********")
    places = "; ".join(f"{number}. {place}" for number, place in enumerate(credential_places(source, environ, home), 1))
    role = f" (then assuming {source.assume_role_arn})" if source.assume_role_arn else ""
    return (
        f"no usable credentials from {source.origin}{role}. Looked at: {places}. The credentials library said: "
        f"{detail}. Give access_key_id and access_key_secret (or profile, or ecs_ram_role), or export "
        "ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET"
    )


def _secrets_of(source: CredentialSource, environ: Mapping[str, str]) -> list[str]:
    values = [source.access_key_secret, source.security_token]
    values += [environ.get(name) for group in KEY_ENVIRONMENT for name in group[1:]]
    return [value for value in values if value]


class ExplainedCredentialClient:
    """The SDK's credential client, whose failures say where the chain looked (a ``CredentialException``).

    The SDK calls ``get_credential`` inside its request loop and wraps what it raises in
    ``UnretryableException``; ``_retries`` unwraps it and reports ``InvalidCredentials`` without a retry.
    """

    def __init__(self, client: Any, source: CredentialSource):
        self._client = client
        self._source = source

    def get_credential(self):
        from alibabacloud_credentials.exceptions import CredentialException

        try:
            return self._client.get_credential()
        except CredentialException as error:
            raise CredentialException(
                explain_credential_failure(self._source, str(error.message or error)), code=error.code
            ) from None
        except Exception as error:  # noqa: BLE001  # pylint: disable=broad-except
            # A provider that cannot reach its service (the metadata service, STS) raises the HTTP library's
            # error; it is still a credential failure, not a lost API answer, and is not retried here.
            raise CredentialException(
                explain_credential_failure(self._source, f"{type(error).__name__}: {error}")
            ) from None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def make_credential_client(source: CredentialSource, environ: Mapping[str, str] | None = None):
    """An ``alibabacloud_credentials`` client for ``source`` (imports the SDK); raises :class:`ConfigurationError`."""
    check_credential_source(source, os.environ if environ is None else environ)
    return ExplainedCredentialClient(_make_sdk_credential_client(source), source)


def check_credential_source(source: CredentialSource, environ: Mapping[str, str]) -> None:
    """Refuse a source the SDK cannot build in this environment; raises :class:`ConfigurationError`."""
    if source.kind == "ecs_ram_role" and _metadata_disabled(environ):
        # The SDK would raise a bare ValueError("IMDS credentials is disabled") from the provider's constructor.
        raise ConfigurationError(
            f"ecs_ram_role={source.role_name!r} needs the ECS metadata service, but {METADATA_DISABLED_VARIABLE}=true "
            "turns it off; unset that variable or give access_key_id and access_key_secret (or profile)"
        )


def _make_sdk_credential_client(source: CredentialSource):
    """The ``alibabacloud_credentials`` client of ``source``."""
    from alibabacloud_credentials.client import Client as CredentialClient
    from alibabacloud_credentials.provider import (
        CLIProfileCredentialsProvider,
        DefaultCredentialsProvider,
        EcsRamRoleCredentialsProvider,
        RamRoleArnCredentialsProvider,
        StaticAKCredentialsProvider,
        StaticSTSCredentialsProvider,
    )

    if source.kind == "access_key":
        provider = StaticAKCredentialsProvider(
            access_key_id=source.access_key_id, access_key_secret=source.access_key_secret
        )
    elif source.kind == "sts":
        provider = StaticSTSCredentialsProvider(
            access_key_id=source.access_key_id,
            access_key_secret=source.access_key_secret,
            security_token=source.security_token,
        )
    elif source.kind == "profile":
        provider = CLIProfileCredentialsProvider(profile_name=source.profile)
    elif source.kind == "ecs_ram_role":
        provider = EcsRamRoleCredentialsProvider(role_name=source.role_name)
    else:
        provider = DefaultCredentialsProvider()
    if source.assume_role_arn:
        provider = RamRoleArnCredentialsProvider(
            credentials_provider=provider,
            role_arn=source.assume_role_arn,
            role_session_name=source.assume_role_session_name,
        )
    return CredentialClient(provider=provider)
