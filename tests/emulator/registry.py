"""Registry of emulated API actions.

An action module declares handlers with ``@action(PRODUCT, "ActionName", mutating=...)``::

    @action(VPC, "AssociateEipAddress", mutating=True)
    def associate_eip_address(ctx: Context) -> dict:
        eip = find_eip(ctx, ctx.params.str("AllocationId", required=True))
        ...
        return {}            # RequestId is added by the server

Handlers raise ``ApiError(code, *args)``; the server turns it into the documented JSON error body.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from .errors import ApiError
from .protocol import Identity, Params
from .store import Store

VPC = "Vpc"
ECS = "Ecs"
SLB = "Slb"
ALB = "Alb"
NLB = "Nlb"


@dataclass(frozen=True)
class Product:
    """One emulated product: its API version (how a request names it) and the host its error bodies name."""

    name: str
    version: str
    host: str
    # The SDK sends the parameters in the form body (NLB), not in the query string (next-capabilities.md §1.3).
    form_body: bool = False


# The one product table: a new product is one row here plus its action module in ``actions/``.  The emulator
# serves every product on one endpoint and routes a request on its Version.
PRODUCTS: dict[str, Product] = {
    product.name: product
    for product in (
        Product(VPC, "2016-04-28", "vpc.aliyuncs.com"),
        Product(ECS, "2014-05-26", "ecs.aliyuncs.com"),
        Product(SLB, "2014-05-15", "slb.aliyuncs.com"),
        Product(ALB, "2020-06-16", "alb.aliyuncs.com"),
        Product(NLB, "2022-04-30", "nlb.aliyuncs.com", form_body=True),
    )
}


def product_of_version(version: str | None) -> Product | None:
    """The product whose API version this is, or None."""
    return next((product for product in PRODUCTS.values() if product.version == version), None)


@dataclass
class Context:
    """What a handler gets: the parameters, the store (already locked and settled), the caller."""

    params: Params
    store: Store
    identity: Identity
    product: str
    action: str
    request_id: str

    @property
    def state(self) -> dict[str, Any]:
        return self.store.data

    def region(self, required: bool = True) -> str | None:
        """The request's RegionId, validated against the world's regions."""
        region = self.params.str("RegionId", required=required)
        if region is not None and region not in self.state["regions"]:
            raise ApiError("InvalidRegionId.NotFound")
        return region


@dataclass
class Action:
    product: str
    name: str
    handler: Callable[[Context], dict]
    mutating: bool


ACTIONS: dict[tuple[str, str], Action] = {}


def action(product: str, name: str, mutating: bool = False):
    """Register ``handler`` as ``product``'s action ``name``."""

    if product not in PRODUCTS:
        raise ValueError(f"action {product}.{name}: product {product} is not in registry.PRODUCTS")

    def decorate(handler):
        key = (product, name)
        if key in ACTIONS:
            raise ValueError("action %s.%s registered twice" % key)
        ACTIONS[key] = Action(product, name, handler, mutating)
        return handler

    return decorate


def paginate(items: list, params: Params, default_size: int = 10, max_size: int = 100) -> tuple[list, dict]:
    """PageNumber/PageSize paging as the VPC API does it; returns the page and its envelope."""
    page_number = params.int("PageNumber", default=1, minimum=1)
    page_size = params.int("PageSize", default=default_size, minimum=1, maximum=max_size)
    start = (page_number - 1) * page_size
    return items[start : start + page_size], {
        "TotalCount": len(items),
        "PageNumber": page_number,
        "PageSize": page_size,
    }
