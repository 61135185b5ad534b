# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note: this module util is PRIVATE to the collection. It can change at any time; do not use it from
# other collections or standalone plugins/modules.

"""Every function of the product files as one namespace, :data:`API`: the engines' injectable ``api=`` seam.

The engines (association, EIP lifecycle) take ``api=API`` and call ``api.describe_eip_addresses(...)``,
``api.describe_nat_gateways(...)``, ... without knowing which product file holds a call; unit tests hand them a
fake with the same names, or replace one attribute of :data:`API`.  A product file added to
:data:`PRODUCT_MODULES` adds its functions here; two files defining the same public name is refused at import.
"""

from __future__ import annotations

import inspect
from types import ModuleType, SimpleNamespace

from ansible_collections.alicloud.eip.plugins.module_utils._api import (
    alb,
    ecs,
    ecs_eni,
    nlb,
    slb,
    vpc_eip,
    vpc_havip,
    vpc_network,
)

# One module per SDK product (ECS in two files: reading, and ENI changes), mirroring tests/emulator/actions/
# (ALB and NLB share their record and job wait through zonal_lb, which makes no call and is not listed).
PRODUCT_MODULES = (vpc_eip, vpc_network, ecs, ecs_eni, slb, alb, nlb, vpc_havip)


def public_functions(module: ModuleType) -> dict[str, object]:
    """The public functions a module defines itself (not the ones it imports)."""
    return {
        name: value
        for name, value in vars(module).items()
        if not name.startswith("_") and inspect.isfunction(value) and value.__module__ == module.__name__
    }


def namespace_of(*modules: ModuleType) -> SimpleNamespace:
    """One namespace of the public functions of ``modules``; raises ``ValueError`` when a name is defined twice."""
    functions: dict[str, object] = {}
    for module in modules:
        for name, function in public_functions(module).items():
            if name in functions:
                raise ValueError(f"{name} is defined in {module.__name__} and in {functions[name].__module__}")
            functions[name] = function
    return SimpleNamespace(**functions)


API = namespace_of(*PRODUCT_MODULES)
