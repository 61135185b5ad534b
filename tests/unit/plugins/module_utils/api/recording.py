"""A fake SDK connection for the API wrapper tests: answers every call from a function and records the requests.

Every request a wrapper sends on the generic path (a ``LightRequest``) is also built the way the product's own
SDK client builds it (the real model, the generated ``<call>_with_options``, its ``call_api`` caught before it
sends): the action, version, style and query parameters must be the same, so the API tests prove that the generic
path sends what the product client would.
"""

from __future__ import annotations

import importlib
from types import SimpleNamespace

from ansible_collections.alicloud.eip.plugins.module_utils._openapi import LightRequest, call_parameters
from ansible_collections.alicloud.eip.plugins.module_utils._products import PRODUCTS_BY_NAME
from ansible_collections.alicloud.eip.plugins.module_utils._retries import CallContext, RetryPolicy


def real_model(models, value):
    """The SDK model of a ``LightRequest`` (nested parts too)."""
    if isinstance(value, LightRequest):
        return getattr(models, value.model)(**{name: real_model(models, item) for name, item in value.fields.items()})
    if isinstance(value, list):
        return [real_model(models, item) for item in value]
    return value


def product_client_call(product, method, request):
    """``(params, query)`` the product's generated client passes to ``call_api`` for ``method(request)``."""
    from alibabacloud_tea_openapi.models import Config

    package = PRODUCTS_BY_NAME[product].package
    models = importlib.import_module(f"{package}.models")
    client = importlib.import_module(f"{package}.client").Client(Config(region_id="cn-hangzhou", endpoint="x"))
    seen = []

    def call_api(params, openapi_request, runtime):
        seen.append((params.to_map(), openapi_request.query))
        return {"body": {}, "headers": {}, "statusCode": 200}

    client.call_api = call_api
    getattr(client, method)(real_model(models, request), None)
    return seen[0]


def probe(value):
    """``value`` with every unset field given a value, so that the name of each field the wrapper can send is compared."""
    if isinstance(value, LightRequest):
        return LightRequest(value.model, **{name: "probe" if item is None else probe(item) for name, item in value.fields.items()})
    if isinstance(value, list):
        return [probe(item) for item in value]
    return value


def assert_as_product_client(product, method, request):
    """The generic path's ``call_api`` arguments for ``request`` equal the product client's for ``method``."""
    for sent in (request, probe(request)):
        params, openapi_request = call_parameters(sent, PRODUCTS_BY_NAME[product].api_version)
        assert (params.to_map(), openapi_request.query) == product_client_call(product, method, sent), (
            f"{product}.{method}({sent!r}) differs from the SDK product client's request"
        )


class Body:
    """An SDK response body: ``to_map()`` gives the answer."""

    def __init__(self, data):
        self.data = data

    def to_map(self):
        return self.data


class RecordingClient:
    """Answers ``*_with_options`` calls from a function of the request, and records every request.

    ``product`` (vpc, ecs, slb): a generic-path request is checked against that product's SDK client.
    """

    def __init__(self, answer, product=None, requests=None):
        self.answer = answer
        self.product = product
        self.requests = [] if requests is None else requests

    def __getattr__(self, name):
        def call(request, runtime):
            if self.product and isinstance(request, LightRequest):
                assert_as_product_client(self.product, name, request)
            self.requests.append((name, request))
            return SimpleNamespace(body=Body(self.answer(name, request)))

        return call


def connection(answer):
    """A connection whose clients (``vpc``, ``ecs``, ``slb``) answer with ``answer(name, request)``; ``client`` holds the log."""
    client = RecordingClient(answer)
    return SimpleNamespace(
        region="cn-hangzhou",
        vpc=RecordingClient(answer, "vpc", client.requests),
        ecs=RecordingClient(answer, "ecs", client.requests),
        slb=RecordingClient(answer, "slb", client.requests),
        runtime=lambda: None,
        calls=CallContext(retry_policy=RetryPolicy(sleep=lambda s: None)),
        client=client,
    )
