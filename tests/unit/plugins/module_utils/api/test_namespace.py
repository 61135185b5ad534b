"""The engines' API namespace (plugins/module_utils/_api/namespace.py): every product file's functions, once."""

from __future__ import annotations

import types

import pytest
from ansible_collections.alicloud.eip.plugins.module_utils._api import (
    alb,
    ecs,
    ecs_eni,
    namespace,
    nlb,
    slb,
    vpc_eip,
    vpc_havip,
    vpc_network,
)
from ansible_collections.alicloud.eip.plugins.module_utils._api.namespace import API, PRODUCT_MODULES, namespace_of

# What the association and lifecycle engines and the EIP modules call through ``api=``.
ENGINE_CALLS = (
    "describe_eip_addresses",
    "describe_instances",
    "describe_network_interfaces",
    "describe_nat_gateways",
    "describe_load_balancers",
    "describe_ha_vips",
    "list_ipv4_gateways",
    "associate_eip_address",
    "unassociate_eip_address",
    "allocate_eip_address",
    "release_eip_address",
    "modify_eip_address_attribute",
    "tag_resources",
    "untag_resources",
    "describe_eip_gateway_info",
)


def test_every_engine_call_is_the_product_files_function():
    homes = {
        "describe_eip_addresses": vpc_eip,
        "describe_instances": ecs,
        "describe_network_interfaces": ecs,
        "describe_nat_gateways": vpc_network,
        "describe_load_balancers": slb,
        "describe_ha_vips": vpc_network,
        "list_ipv4_gateways": vpc_network,
    }
    for name in ENGINE_CALLS:
        assert getattr(API, name) is getattr(homes.get(name, vpc_eip), name), name


def test_the_namespace_holds_each_product_files_public_functions_and_nothing_imported():
    assert PRODUCT_MODULES == (vpc_eip, vpc_network, ecs, ecs_eni, slb, alb, nlb, vpc_havip)
    expected = set()
    for module in PRODUCT_MODULES:
        expected |= set(namespace.public_functions(module))
    assert set(vars(API)) == expected
    assert "wait_for_interfaces" in expected and "create_snat_entry" in expected
    assert "body" not in expected  # common's helpers are imported by the product files, not theirs
    assert "_one_eip" not in expected


def module_defining(name):
    """A module named ``name`` that defines ``describe_things`` itself."""
    module = types.ModuleType(name)

    def describe_things(connection):
        return []

    describe_things.__module__ = name
    module.describe_things = describe_things
    return module


def test_a_name_defined_in_two_product_files_is_refused():
    with pytest.raises(ValueError, match="describe_things is defined in second and in first"):
        namespace_of(module_defining("first"), module_defining("second"))
    assert vars(namespace_of(module_defining("only"))).keys() == {"describe_things"}
