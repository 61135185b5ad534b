# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note: this module util is PRIVATE to the collection. It can change at any time; do not use it from
# other collections or standalone plugins/modules.

"""The generic OpenAPI call path: the SDK's ``call_api`` with the request's parameters, without the product package.

A generated product client (``alibabacloud_vpc20160428.client``, 43,000 lines) and its ``models`` package (1,200
files, all imported at once) cost more CPU than everything else a module process does; a task that makes one call
paid it on every run (issue 14).  The product client does three things for a call: it turns the request model
into the query map (``query['AllocationId'] = request.allocation_id``, every call of the collection sends query
parameters only, POST, RPC style), names the action and version in ``Params``, and hands both to the shared
tea-openapi client's ``call_api``, which signs and sends.  This module does the first two and calls the same
``call_api``: the request on the wire is the one the product client would send (a unit test builds both for every
request the API layer makes and compares them), signed and sent by the SDK.

The API layer's wrappers keep their shape: ``models = light_models("vpc")`` instead of
``from alibabacloud_vpc20160428 import models``, then ``models.DescribeEipAddressesRequest(region_id=..., ...)``
and ``connection.vpc.describe_eip_addresses_with_options(request, runtime)``.  A :class:`LightRequest` keeps the
model's class name (the action is that name without ``Request``) and its snake_case fields; unknown fields read
as ``None`` like an unset model field.  A real SDK model handed to :class:`ProductCaller` goes to the generated
client, built on first use, so a wrapper that still imports its product's models works unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

# Field names whose API spelling is not the snake_case parts capitalised and joined (the unit test that compares
# the generic request with the product client's finds any other).
API_NAMES: dict[str, str] = {"isp": "ISP", "source_cidr": "SourceCIDR"}


def api_name(field: str) -> str:
    """``allocation_id`` -> ``AllocationId``, ``v_switch_id`` and ``vswitch_id`` -> ``VSwitchId``."""
    if field in API_NAMES:
        return API_NAMES[field]
    return "".join("VSwitch" if part == "vswitch" else part[:1].upper() + part[1:] for part in field.split("_"))


class LightRequest:
    """A request (or a nested part of one, like a tag) of the generic path: the SDK model's name and its fields."""

    def __init__(self, model: str, **fields: Any):
        self.model = model
        self.fields = fields

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name in ("model", "fields"):
            raise AttributeError(name)
        return self.fields.get(name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name in ("model", "fields"):
            object.__setattr__(self, name, value)
        else:
            self.fields[name] = value

    def __repr__(self) -> str:
        return f"{self.model}({', '.join(f'{key}={value!r}' for key, value in self.fields.items())})"

    @property
    def action(self) -> str:
        """The API action: the model's name without ``Request`` (``DescribeVSwitchesRequest`` -> ``DescribeVSwitches``)."""
        if not self.model.endswith("Request"):
            raise ValueError(f"{self.model} is not a request model")
        return self.model[: -len("Request")]

    def to_parameters(self) -> dict[str, Any]:
        """The fields that are set, by their API names (nested parts as dicts), as the product client's query map."""
        return {api_name(field): _plain(value) for field, value in self.fields.items() if value is not None}


def _plain(value: Any) -> Any:
    if isinstance(value, LightRequest):
        return value.to_parameters()
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


class LightModels:
    """``light_models("vpc").DescribeEipAddressesRequest(...)``: a :class:`LightRequest` of that model name."""

    def __init__(self, product: str):
        self.product = product

    def __getattr__(self, model: str) -> Callable[..., LightRequest]:
        if model.startswith("__"):
            raise AttributeError(model)
        return lambda **fields: LightRequest(model, **fields)


def light_models(product: str) -> LightModels:
    """The stand-in of ``<product package>.models`` for the generic path."""
    return LightModels(product)


class Body:
    """The body of a generic answer, read like an SDK response's body (``to_map()``)."""

    def __init__(self, data: Mapping[str, Any] | None):
        self._data = dict(data or {})

    def to_map(self) -> dict[str, Any]:
        return self._data


class Answer:
    """What ``call_api`` answered, read like a product client's response: ``body``, ``headers``, ``status_code``."""

    def __init__(self, answer: Mapping[str, Any]):
        self.body = Body(answer.get("body") if isinstance(answer.get("body"), Mapping) else {})
        self.headers = answer.get("headers") or {}
        self.status_code = answer.get("statusCode")


def call_parameters(request: LightRequest, version: str) -> tuple[Any, Any]:
    """The ``Params`` and ``OpenApiRequest`` the product client builds for ``request`` (query parameters, RPC)."""
    from alibabacloud_tea_openapi.utils import Utils
    from alibabacloud_tea_openapi.utils_models import OpenApiRequest, Params

    params = Params(
        action=request.action,
        version=version,
        protocol="HTTPS",
        pathname="/",
        method="POST",
        auth_type="AK",
        style="RPC",
        req_body_type="formData",
        body_type="json",
    )
    return params, OpenApiRequest(query=Utils.query(request.to_parameters()))


class ProductCaller:
    """``connection.vpc`` on the generic path: ``<call>_with_options(request, runtime)`` through ``call_api``.

    ``openapi`` is the shared tea-openapi client configured for this product's endpoint; ``generated`` builds the
    product's own client, used only for a request that is a real SDK model (a wrapper not on the generic path).
    """

    def __init__(self, openapi: Any, version: str, generated: Callable[[], Any]):
        self._openapi = openapi
        self._version = version
        self._generated = generated

    def call(self, request: LightRequest, runtime: Any) -> Answer:
        params, openapi_request = call_parameters(request, self._version)
        return Answer(self._openapi.call_api(params, openapi_request, runtime))

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if not name.endswith("_with_options"):
            return getattr(self._generated(), name)

        def call(request: Any, runtime: Any) -> Any:
            if isinstance(request, LightRequest):
                return self.call(request, runtime)
            return getattr(self._generated(), name)(request, runtime)

        return call


def endpoint_of(product: str, region: str, endpoint_map: Mapping[str, str]) -> str:
    """The endpoint the product client picks without an endpoint option: its map's entry, else the regional rule."""
    return endpoint_map.get(region) or f"{product.lower()}.{region}.aliyuncs.com"
