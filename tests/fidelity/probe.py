"""Probes of behaviours the fidelity ledger (docs/fidelity.md) lists as unsettled, recorded as redacted fixtures.

Each probe is one read-only SDK call that is safe on a real account (it creates, changes and costs nothing): it asks
for resources that cannot exist (IDs made of the probe's name) or lists what is there.  ``record`` runs the probes
against an endpoint and returns one fixture per probe: the outcome (``answer`` or ``error``), the error's code and
HTTP status, the answer's shape (field names and JSON types, not values) and the few values the ledger entry is
about, with every ID, address, time and request ID replaced by a typed placeholder (``redact``).  ``compare``
tells how two fixtures of one probe differ.

The real-cloud lane records:  ``python -m tests.fidelity.probe --out DIR`` with the lane's keys in
ALIBABA_CLOUD_ACCESS_KEY_ID / _SECRET (/ _SECURITY_TOKEN) and ALIBABA_CLOUD_REGION_ID; ``--endpoint HOST:PORT``
points it at the emulator instead.  A human reviews the files and commits them under tests/fidelity/fixtures, where
tests/emulator/tests/test_fidelity_fixtures.py replays each probe against the emulator and compares.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys

# fid, name, product, SDK request model, request fields, values to keep (dotted paths into the answer).
PROBES = [
    {
        "fid": "eip-describe-unknown-id-empty",
        "name": "describe-unknown-allocation-id",
        "product": "vpc",
        "action": "describe_eip_addresses",
        "request": "DescribeEipAddressesRequest",
        "fields": {"allocation_id": "eip-fidelityprobe00000000000"},
        "values": ["TotalCount"],
    },
    {
        "fid": "eip-describe-associated-type-default",
        "name": "describe-by-eni-without-type",
        "product": "vpc",
        "action": "describe_eip_addresses",
        "request": "DescribeEipAddressesRequest",
        "fields": {"associated_instance_id": "eni-fidelityprobe00000000000"},
        "values": ["TotalCount"],
    },
    {
        "fid": "eip-bandwidth-string",
        "name": "describe-one-eip",
        "product": "vpc",
        "action": "describe_eip_addresses",
        "request": "DescribeEipAddressesRequest",
        "fields": {"page_size": 1},
        "values": [],
    },
    {
        "fid": "slb-unknown-id-empty",
        "name": "describe-unknown-load-balancer",
        "product": "slb",
        "action": "describe_load_balancers",
        "request": "DescribeLoadBalancersRequest",
        "fields": {"load_balancer_id": "lb-fidelityprobe00000000000"},
        "values": ["TotalCount"],
    },
    {
        "fid": "ipv4gw-describe-details",
        "name": "list-ipv4-gateways",
        "product": "vpc",
        "action": "list_ipv_4gateways",
        "request": "ListIpv4GatewaysRequest",
        "fields": {},
        "values": [],
    },
]

SDK = {
    "vpc": ("alibabacloud_vpc20160428.client", "alibabacloud_vpc20160428.models"),
    "slb": ("alibabacloud_slb20140515.client", "alibabacloud_slb20140515.models"),
    "ecs": ("alibabacloud_ecs20140526.client", "alibabacloud_ecs20140526.models"),
}

# Typed placeholders: resource IDs by prefix, addresses, times, request IDs, account IDs in ARNs, long hex tokens.
_ID = re.compile(r"\b(eip|eni|i|ngw|vsw|vpc|sg|havip|lb|stb|ftb|snat|rg|ipv4gw|bwp|nat)-[a-z0-9]{6,}(?![\w-])")
_IPV4 = re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b")
_TIME = re.compile(r"\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?Z\b")
_UUID = re.compile(r"\b[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\b")
_ACCOUNT = re.compile(r"\b\d{12,20}\b")
_SECRET_KEYS = re.compile(r"(?i)(access_?key|secret|token|signature|password)")


def redact_text(text: str) -> str:
    """``text`` with IDs, addresses, times, request IDs and account numbers replaced by placeholders."""
    text = _UUID.sub("<request-id>", text)
    text = _ID.sub(lambda match: f"<{match.group(1)}-id>", text)
    text = _TIME.sub("<time>", text)
    text = _IPV4.sub("<ipv4>", text)
    return _ACCOUNT.sub("<number>", text)


def redact(value):
    """A copy of ``value`` (JSON-like) with every string redacted and any key that names a secret dropped."""
    if isinstance(value, dict):
        return {key: redact(item) for key, item in value.items() if not _SECRET_KEYS.search(key)}
    if isinstance(value, list):
        return [redact(item) for item in value]
    if isinstance(value, str):
        return redact_text(value)
    return value


SECRET_VARIABLES = (
    "ALIBABA_CLOUD_ACCESS_KEY_ID",
    "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
    "ALIBABA_CLOUD_SECURITY_TOKEN",
    "ALICLOUD_ACCESS_KEY",
    "ALICLOUD_SECRET_KEY",
    "ALICLOUD_SECURITY_TOKEN",
)


def leaks(text: str, environ) -> list:
    """What ``text`` (a fixture as written) still holds that redaction must have removed: the names of the credential
    variables whose values appear in it, and the kinds of identifier found (never the values themselves)."""
    found = [name for name in SECRET_VARIABLES if len(environ.get(name) or "") >= 4 and environ[name] in text]
    for kind, pattern in (("resource ID", _ID), ("IPv4 address", _IPV4), ("request ID", _UUID), ("time", _TIME)):
        if pattern.search(text):
            found.append(kind)
    return found


def shape(value):
    """Field names and JSON types of ``value``: dicts by key, lists by their first element, scalars by type."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in sorted(value.items())}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if value is None:
        return "null"
    return "str"


def pick(answer, path):
    """The value at a dotted ``path`` of ``answer`` (None when absent)."""
    for key in path.split("."):
        if not isinstance(answer, dict):
            return None
        answer = answer.get(key)
    return answer


def clients(endpoint=None, environ=None):
    """SDK clients per product for the region of the environment; with ``endpoint`` (host:port) plain HTTP to it.

    Keys: an AccessKey pair (ALIBABA_CLOUD_ACCESS_KEY_ID / _SECRET, optional _SECURITY_TOKEN, or the legacy ALICLOUD_
    names), else the alibabacloud-credentials default chain (OIDC RAM role, ECS RAM role, ...), as the lane's gate
    accepts them (tools/cloud-lane/lane.py).
    """
    import importlib

    from alibabacloud_tea_openapi.models import Config

    environ = os.environ if environ is None else environ

    region = environ.get("ALIBABA_CLOUD_REGION_ID") or environ.get("ALICLOUD_REGION")
    if not region:
        raise SystemExit("probe: set ALIBABA_CLOUD_REGION_ID")
    keys = {}
    for key_id, secret, token in (
        ("ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ALIBABA_CLOUD_SECURITY_TOKEN"),
        ("ALICLOUD_ACCESS_KEY", "ALICLOUD_SECRET_KEY", "ALICLOUD_SECURITY_TOKEN"),
    ):
        if environ.get(key_id) and environ.get(secret):
            keys = {
                "access_key_id": environ[key_id],
                "access_key_secret": environ[secret],
                "security_token": environ.get(token) or None,
            }
            break
    if not keys:
        if not any(environ.get(name) for name in ("ALIBABA_CLOUD_ROLE_ARN", "ALIBABA_CLOUD_ECS_METADATA")):
            raise SystemExit(
                "probe: set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET (or the OIDC or ECS RAM "
                "role variables of the credential chain)"
            )
        from alibabacloud_credentials.client import Client as CredentialClient

        keys = {"credential": CredentialClient()}
    made = {}
    for product, (client_module, _models) in SDK.items():
        config = Config(region_id=region, endpoint=endpoint, protocol="http" if endpoint else "https", **keys)
        made[product] = importlib.import_module(client_module).Client(config)
    return made, region


def run_probe(probe, sdk_clients, region):
    """One fixture: call the probe's action and keep its outcome, redacted."""
    import importlib

    from darabonba.runtime import RuntimeOptions

    models = importlib.import_module(SDK[probe["product"]][1])
    request = getattr(models, probe["request"])(region_id=region, **probe["fields"])
    fixture = {"fid": probe["fid"], "probe": probe["name"], "product": probe["product"], "action": probe["action"]}
    try:
        response = getattr(sdk_clients[probe["product"]], probe["action"] + "_with_options")(request, RuntimeOptions())
    except Exception as error:  # pylint: disable=broad-except  # the SDK's exception is the answer being recorded
        code = getattr(error, "code", None)
        if code is None:
            raise
        fixture |= {"outcome": "error", "code": code, "status": getattr(error, "status_code", None),
                    "message": redact_text(str(getattr(error, "message", "")))}  # fmt: skip
        return fixture
    body = response.body.to_map()
    fixture |= {
        "outcome": "answer",
        "shape": shape(redact(body)),
        "values": {path: redact(pick(body, path)) for path in probe["values"]},
    }
    return fixture


def record(sdk_clients, region, probes=None):
    """Every probe's fixture."""
    return [run_probe(probe, sdk_clients, region) for probe in probes or PROBES]


def _shape_differences(expected, actual, where="body"):
    if isinstance(expected, dict) and isinstance(actual, dict):
        found = []
        for key in sorted(set(expected) | set(actual)):
            if key not in actual:
                found.append(f"{where}.{key}: missing from the emulator's answer")
            elif key not in expected:
                found.append(f"{where}.{key}: not in the real answer")
            else:
                found.extend(_shape_differences(expected[key], actual[key], f"{where}.{key}"))
        return found
    if isinstance(expected, list) and isinstance(actual, list):
        # An empty list says nothing about its elements' shape.
        return _shape_differences(expected[0], actual[0], where + "[]") if expected and actual else []
    return [] if expected == actual else [f"{where}: {expected} in the real answer, {actual} in the emulator's"]


def compare(real, emulated):
    """How the emulator's fixture differs from the real one (empty when they agree)."""
    if real.get("outcome") != emulated.get("outcome"):
        real_outcome = f"{real.get('outcome')} {real.get('code', '')}"
        emulated_outcome = f"{emulated.get('outcome')} {emulated.get('code', '')}"
        return [f"outcome: {real_outcome} in the real answer, {emulated_outcome} in the emulator's"]
    if real["outcome"] == "error":
        return [
            f"{key}: {real.get(key)!r} in the real answer, {emulated.get(key)!r} in the emulator's"
            for key in ("code", "status")
            if real.get(key) != emulated.get(key)
        ]
    differences = _shape_differences(real.get("shape"), emulated.get("shape"))
    for path, value in (real.get("values") or {}).items():
        if (emulated.get("values") or {}).get(path) != value:
            differences.append(
                f"{path}: {value!r} in the real answer, {emulated['values'].get(path)!r} in the emulator's"
            )
    return differences


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--out", required=True, help="directory for the fixtures (<probe>.json)")
    parser.add_argument("--endpoint", help="host:port of an emulator instead of Alibaba Cloud")
    args = parser.parse_args(argv)
    sdk_clients, region = clients(args.endpoint)
    os.makedirs(args.out, exist_ok=True)
    fixtures = record(sdk_clients, region)
    texts = {fixture["probe"]: json.dumps(fixture, indent=2, sort_keys=True) + "\n" for fixture in fixtures}
    # Nothing is written when any fixture still holds a key or an identifier: a fixture is meant to be committed.
    unredacted = {name: found for name, text in texts.items() if (found := leaks(text, os.environ))}
    if unredacted:
        raise SystemExit(f"probe: redaction failed, nothing written: {unredacted}")
    for fixture in fixtures:
        with open(os.path.join(args.out, fixture["probe"] + ".json"), "w", encoding="utf-8") as handle:
            handle.write(texts[fixture["probe"]])
        print(f"{fixture['probe']}: {fixture['outcome']} {fixture.get('code', '')}".rstrip())
    return 0


if __name__ == "__main__":
    sys.exit(main())
