"""Wire protocol of the Alibaba Cloud RPC APIs as the Tea SDK speaks it.

Request parsing (query string, headers), signature verification for V3 (``ACS3-HMAC-SHA256``)
and V2 (HMAC-SHA1 ``Signature`` parameter), and typed access to the RPC parameter encodings
(``Name.N`` lists, ``Tag.N.Key`` objects, ``Filter.N.Value.M``, JSON-array strings).
Source: ``shared/reference/alibaba-api.md`` §1.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, quote, quote_plus

from .errors import ApiError

# Parameters of the V2 envelope: never handed to action handlers, never part of a ClientToken hash.
V2_ENVELOPE = {
    "Action",
    "Version",
    "Format",
    "Timestamp",
    "SignatureNonce",
    "SignatureMethod",
    "SignatureVersion",
    "AccessKeyId",
    "Signature",
    "SecurityToken",
}

# Parameters every action accepts and ignores (alibaba-api.md §3).
IGNORED = {"OwnerId", "OwnerAccount", "ResourceOwnerId", "ResourceOwnerAccount", "callerBid", "callerUid"}


@dataclass
class RawRequest:
    """One HTTP request as the server saw it."""

    method: str
    path: str
    query_string: str
    headers: dict[str, str]  # lower-cased names
    body: bytes = b""

    @property
    def query_pairs(self) -> list[tuple[str, str]]:
        return parse_qsl(self.query_string, keep_blank_values=True)


@dataclass
class Identity:
    """Who signed the request."""

    access_key_id: str
    signature_version: str  # "v3" or "v2"
    security_token: str | None = None
    nonce: str | None = None


def _v3_canonical_query(pairs: list[tuple[str, str]]) -> str:
    # Mirrors alibabacloud_tea_openapi.utils.get_canonical_query_string: keys as sent, values RFC3986.
    return "&".join("%s=%s" % (key, quote(value, safe="~")) for key, value in sorted(pairs))


def v3_signature(request: RawRequest, signed_headers: list[str], secret: str, algorithm: str) -> str:
    """Compute the ACS3 signature of ``request`` over the client's own SignedHeaders list."""
    canonical_headers = "".join("%s:%s\n" % (name, request.headers.get(name, "").strip()) for name in signed_headers)
    payload_hash = hashlib.sha256(request.body).hexdigest()
    canonical_request = "\n".join(
        [
            request.method,
            request.path or "/",
            _v3_canonical_query(request.query_pairs),
            canonical_headers,
            ";".join(signed_headers),
            payload_hash,
        ]
    )
    string_to_sign = "%s\n%s" % (algorithm, hashlib.sha256(canonical_request.encode("utf-8")).hexdigest())
    return hmac.new(secret.encode("utf-8"), string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def v2_signature(method: str, pairs: list[tuple[str, str]], secret: str) -> str:
    """Compute the legacy RPC (HMAC-SHA1) signature over every parameter but ``Signature``."""
    canonical = "&".join(
        "%s=%s" % (quote(key, safe="~"), quote(value, safe="~")) for key, value in sorted(pairs) if key != "Signature"
    )
    string_to_sign = "%s&%%2F&%s" % (method, quote_plus(canonical, safe="~"))
    digest = hmac.new((secret + "&").encode("utf-8"), string_to_sign.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("utf-8")


_AUTH_RE = re.compile(
    r"^(?P<algorithm>ACS3-[A-Z0-9-]+) Credential=(?P<ak>[^,]+),SignedHeaders=(?P<signed>[^,]*),Signature=(?P<sig>[0-9a-f]+)$"
)


def authenticate(request: RawRequest, lookup_secret) -> Identity:
    """Verify the request's signature; ``lookup_secret(ak)`` returns the secret or None.

    Raises ``ApiError`` with the code the real gateway answers.
    """
    authorization = request.headers.get("authorization")
    params = dict(request.query_pairs)
    if authorization:
        match = _AUTH_RE.match(authorization.strip())
        if not match:
            raise ApiError("IncompleteSignature")
        if match.group("algorithm") != "ACS3-HMAC-SHA256":
            raise ApiError("InvalidParameter", "SignatureMethod")
        access_key_id = match.group("ak")
        secret = lookup_secret(access_key_id)
        if secret is None:
            raise ApiError("InvalidAccessKeyId.NotFound")
        signed_headers = match.group("signed").split(";") if match.group("signed") else []
        # The gateway requires host and the x-acs-* headers to be signed (V3 spec).
        for required in ("host", "x-acs-action", "x-acs-version", "x-acs-date", "x-acs-signature-nonce"):
            if required not in signed_headers:
                raise ApiError("IncompleteSignature")
        content_hash = request.headers.get("x-acs-content-sha256")
        if content_hash is not None and content_hash != hashlib.sha256(request.body).hexdigest():
            raise ApiError("SignatureDoesNotMatch")
        expected = v3_signature(request, signed_headers, secret, match.group("algorithm"))
        if not hmac.compare_digest(expected, match.group("sig")):
            raise ApiError("SignatureDoesNotMatch")
        return Identity(
            access_key_id=access_key_id,
            signature_version="v3",
            security_token=request.headers.get("x-acs-security-token"),
            nonce=request.headers.get("x-acs-signature-nonce"),
        )
    if "Signature" in params:
        access_key_id = params.get("AccessKeyId")
        if not access_key_id:
            raise ApiError("MissingParameter", "AccessKeyId")
        secret = lookup_secret(access_key_id)
        if secret is None:
            raise ApiError("InvalidAccessKeyId.NotFound")
        if params.get("SignatureMethod", "HMAC-SHA1") != "HMAC-SHA1":
            raise ApiError("InvalidParameter", "SignatureMethod")
        for required in ("Timestamp", "SignatureNonce"):
            if not params.get(required):
                raise ApiError("MissingParameter", required)
        expected = v2_signature(request.method, request.query_pairs, secret)
        if not hmac.compare_digest(expected, params["Signature"]):
            raise ApiError("SignatureDoesNotMatch")
        return Identity(
            access_key_id=access_key_id,
            signature_version="v2",
            security_token=params.get("SecurityToken"),
            nonce=params.get("SignatureNonce"),
        )
    raise ApiError("MissingParameter", "Signature")


def action_and_version(request: RawRequest) -> tuple[str | None, str | None]:
    """Action and API version: the V3 ``x-acs-*`` headers, else the V2 query parameters."""
    params = dict(request.query_pairs)
    action = request.headers.get("x-acs-action") or params.get("Action")
    version = request.headers.get("x-acs-version") or params.get("Version")
    return action, version


_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}
_INDEXED = re.compile(r"^(?P<base>[A-Za-z0-9]+)\.(?P<index>\d+)(?:\.(?P<rest>.+))?$")


@dataclass
class Params:
    """Typed access to an RPC request's parameters; every accessor validates and raises ``ApiError``."""

    raw: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_pairs(cls, pairs: list[tuple[str, str]]) -> "Params":
        return cls({key: value for key, value in pairs if key not in V2_ENVELOPE and key not in IGNORED})

    def has(self, name: str) -> bool:
        return name in self.raw and self.raw[name] != ""

    def str(self, name: str, required: bool = False, default: str | None = None, choices=None, max_length=None):
        value = self.raw.get(name)
        if value is None or value == "":
            if required:
                raise ApiError("MissingParameter", name)
            return default
        if choices is not None and value not in choices:
            raise ApiError("InvalidParameter", name)
        if max_length is not None and len(value) > max_length:
            raise ApiError("InvalidParameter", name)
        return value

    def int(self, name: str, required: bool = False, default: int | None = None, minimum=None, maximum=None):
        value = self.str(name, required=required)
        if value is None:
            return default
        try:
            number = int(value)
        except ValueError:
            raise ApiError("InvalidParameter", name) from None
        if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
            raise ApiError("InvalidParameter", name)
        return number

    def bool(self, name: str, default: bool | None = None) -> bool | None:
        value = self.str(name)
        if value is None:
            return default
        lowered = value.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ApiError("InvalidParameter", name)

    def ip(self, name: str, required: bool = False) -> str | None:
        value = self.str(name, required=required)
        if value is None:
            return None
        try:
            return str(ipaddress.IPv4Address(value))
        except ValueError:
            raise ApiError("InvalidParameter", name) from None

    def comma_list(self, name: str, maximum: int | None = None) -> list[str]:
        value = self.str(name)
        if value is None:
            return []
        items = [item.strip() for item in value.split(",") if item.strip()]
        if maximum is not None and len(items) > maximum:
            raise ApiError("InvalidParameter", name)
        return items

    def json_list(self, name: str, maximum: int | None = None) -> list[str]:
        """A JSON-array text such as ECS ``InstanceIds=["i-1", "i-2"]``."""
        value = self.str(name)
        if value is None:
            return []
        try:
            items = json.loads(value)
        except ValueError:
            raise ApiError("InvalidParameter", name) from None
        if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
            raise ApiError("InvalidParameter", name)
        if maximum is not None and len(items) > maximum:
            raise ApiError("InvalidParameter", name)
        return items

    def indexed(self, name: str, maximum: int | None = None) -> list[str]:
        """``Name.1=a&Name.2=b`` -> ``['a', 'b']`` in index order."""
        found: dict[int, str] = {}
        for key, value in self.raw.items():
            match = _INDEXED.match(key)
            if match and match.group("base") == name and match.group("rest") is None:
                found[int(match.group("index"))] = value
        if maximum is not None and len(found) > maximum:
            raise ApiError("InvalidParameter", name)
        return [found[index] for index in sorted(found)]

    def objects(self, name: str, maximum: int | None = None) -> list[dict]:
        """``Tag.1.Key=k&Tag.1.Value=v`` -> ``[{'Key': 'k', 'Value': 'v'}]``; ``Filter.1.Value.2`` -> lists."""
        found: dict[int, dict] = {}
        for key, value in self.raw.items():
            match = _INDEXED.match(key)
            if not match or match.group("base") != name or match.group("rest") is None:
                continue
            entry = found.setdefault(int(match.group("index")), {})
            rest = match.group("rest")
            sub = _INDEXED.match(rest)
            if sub and sub.group("rest") is None:
                entry.setdefault(sub.group("base"), {})[int(sub.group("index"))] = value
            else:
                entry[rest] = value
        if maximum is not None and len(found) > maximum:
            raise ApiError("InvalidParameter", name)
        result = []
        for index in sorted(found):
            entry = {}
            for key, value in found[index].items():
                entry[key] = [value[i] for i in sorted(value)] if isinstance(value, dict) else value
            result.append(entry)
        return result
