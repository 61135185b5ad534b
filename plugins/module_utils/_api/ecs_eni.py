# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note: this module util is PRIVATE to the collection. It can change at any time; do not use it from
# other collections or standalone plugins/modules.

"""ECS (2014-05-26) ENI changes: create, delete, attach, detach, private addresses, attributes, tags; the ENI waiter.

Same conventions as the other product files (``common``); the reading side of ENIs is in ``ecs``.
CreateNetworkInterface and AssignPrivateIpAddresses carry a ClientToken: a retry after a lost answer is answered
from the first call.  The others have none; each gets a verify function that api_call runs when the retry of a call
whose answer was lost meets an error ("is InUse", "not found"): it re-reads the ENI and the call counts as done when
the desired state holds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from ansible_collections.alicloud.eip.plugins.module_utils._api.common import body, inner_list, request_id, text
from ansible_collections.alicloud.eip.plugins.module_utils._api.ecs import describe_interfaces
from ansible_collections.alicloud.eip.plugins.module_utils._openapi import light_models
from ansible_collections.alicloud.eip.plugins.module_utils._polling import WaitPolicy, Watch, wait_until
from ansible_collections.alicloud.eip.plugins.module_utils._retries import api_call

# TagResources / UntagResources on ECS take ResourceType "eni" (ECS API reference, TagResources).
ENI_RESOURCE_TYPE = "eni"
# Attaching/Detaching/Deleting are the asynchronous states (alibaba-api.md §8.5, §8.6; DeleteNetworkInterface
# is documented as asynchronous since 2024: Deleting, then gone).
TRANSIENT_STATUSES = ("Attaching", "Detaching", "Deleting")
GONE = "Deleted"  # pseudo status of a waiter expectation: the ENI no longer exists

# ---- verify functions ------------------------------------------------------------------------------------


def _one_interface(connection, eni_id: str) -> dict[str, Any] | None:
    found = describe_interfaces(connection, eni_ids=[eni_id])
    return found[0] if found else None


def interface_deleted(connection, eni_id: str, client_token: str | None = None) -> bool:
    """Verify of DeleteNetworkInterface: the ENI is gone or on its way (Deleting)."""
    del client_token  # the verify gets the wrapper's arguments; the token plays no part in reading
    eni = _one_interface(connection, eni_id)
    return eni is None or eni["status"] == "Deleting"


def interface_attached(connection, eni_id: str, instance_id: str, client_token: str | None = None) -> bool:
    """Verify of AttachNetworkInterface: the ENI is on that instance (Attaching or InUse)."""
    del client_token  # the verify gets the wrapper's arguments; the token plays no part in reading
    eni = _one_interface(connection, eni_id)
    return eni is not None and eni["instance_id"] == instance_id and eni["status"] in ("Attaching", "InUse")


def interface_detached(connection, eni_id: str, instance_id: str, client_token: str | None = None) -> bool:
    """Verify of DetachNetworkInterface: the ENI is leaving that instance (Detaching) or on none (Available)."""
    del client_token  # the verify gets the wrapper's arguments; the token plays no part in reading
    eni = _one_interface(connection, eni_id)
    if eni is None:
        return False
    return eni["status"] == "Detaching" or (eni["status"] == "Available" and eni["instance_id"] != instance_id)


def addresses_unassigned(
    connection, eni_id: str, private_ip_addresses: Sequence[str], client_token: str | None = None
) -> bool:
    """Verify of UnassignPrivateIpAddresses: none of the addresses is on the ENI any more."""
    del client_token  # the verify gets the wrapper's arguments; the token plays no part in reading
    eni = _one_interface(connection, eni_id)
    return eni is not None and not set(private_ip_addresses) & set(eni["private_ip_addresses"])


def interface_attributes_hold(
    connection,
    eni_id: str,
    name: str | None = None,
    description: str | None = None,
    security_group_ids: Sequence[str] | None = None,
    client_token: str | None = None,
) -> bool:
    """Verify of ModifyNetworkInterfaceAttribute: every field that was given has the value that was asked for."""
    del client_token  # the verify gets the wrapper's arguments; the token plays no part in reading
    eni = _one_interface(connection, eni_id)
    if eni is None:
        return False
    if name is not None and eni["name"] != name:
        return False
    if description is not None and eni["description"] != description:
        return False
    return security_group_ids is None or set(eni["security_group_ids"]) == set(security_group_ids)


def interface_tags_hold(
    connection, eni_ids: Sequence[str], tags: Mapping[str, str], client_token: str | None = None
) -> bool:
    """Verify of ECS TagResources: every ENI carries every tag with its value."""
    del client_token  # the verify gets the wrapper's arguments; the token plays no part in reading
    enis = describe_interfaces(connection, eni_ids=list(eni_ids))
    return len(enis) == len(set(eni_ids)) and all(
        all(eni["tags"].get(key) == value for key, value in tags.items()) for eni in enis
    )


def interface_tags_gone(
    connection, eni_ids: Sequence[str], keys: Iterable[str], client_token: str | None = None
) -> bool:
    """Verify of ECS UntagResources: no ENI carries any of the keys."""
    del client_token  # the verify gets the wrapper's arguments; the token plays no part in reading
    keys = list(keys)
    enis = describe_interfaces(connection, eni_ids=list(eni_ids))
    return len(enis) == len(set(eni_ids)) and not any(key in eni["tags"] for eni in enis for key in keys)


@api_call("CreateNetworkInterface", mutating=True)
def create_network_interface(
    connection,
    vswitch_id: str,
    security_group_ids: Sequence[str],
    name: str | None = None,
    description: str | None = None,
    primary_ip_address: str | None = None,
    private_ip_addresses: Sequence[str] | None = None,
    secondary_private_ip_address_count: int | None = None,
    tags: Mapping[str, str] | None = None,
    client_token: str | None = None,
) -> str:
    """CreateNetworkInterface (synchronous: the ENI is Available at once); returns the new ENI's ID."""
    models = light_models("ecs")

    request = models.CreateNetworkInterfaceRequest(
        region_id=connection.region,
        v_switch_id=vswitch_id,
        security_group_ids=list(security_group_ids),
        network_interface_name=name or None,
        description=description or None,
        primary_ip_address=primary_ip_address or None,
        private_ip_address=list(private_ip_addresses) if private_ip_addresses else None,
        secondary_private_ip_address_count=secondary_private_ip_address_count or None,
        tag=[models.CreateNetworkInterfaceRequestTag(key=key, value=value) for key, value in (tags or {}).items()]
        or None,
        client_token=client_token,
    )
    answer = body(connection.ecs.create_network_interface_with_options(request, connection.runtime()))
    return text(answer.get("NetworkInterfaceId"))


@api_call("DeleteNetworkInterface", mutating=True, verify=interface_deleted)
def delete_network_interface(connection, eni_id: str, client_token: str | None = None) -> str:
    """DeleteNetworkInterface (the ENI must be Available); returns the request ID.

    The request model has no ClientToken; the decorator's token is simply not sent.
    """
    models = light_models("ecs")

    del client_token
    request = models.DeleteNetworkInterfaceRequest(region_id=connection.region, network_interface_id=eni_id)
    return request_id(connection.ecs.delete_network_interface_with_options(request, connection.runtime()))


@api_call("AttachNetworkInterface", mutating=True, verify=interface_attached)
def attach_network_interface(connection, eni_id: str, instance_id: str, client_token: str | None = None) -> str:
    """AttachNetworkInterface; asynchronous (Attaching -> InUse).  Returns the request ID."""
    models = light_models("ecs")

    del client_token  # not a parameter of this action
    request = models.AttachNetworkInterfaceRequest(
        region_id=connection.region, network_interface_id=eni_id, instance_id=instance_id
    )
    return request_id(connection.ecs.attach_network_interface_with_options(request, connection.runtime()))


@api_call("DetachNetworkInterface", mutating=True, verify=interface_detached)
def detach_network_interface(connection, eni_id: str, instance_id: str, client_token: str | None = None) -> str:
    """DetachNetworkInterface; asynchronous (Detaching -> Available).  Returns the request ID."""
    models = light_models("ecs")

    del client_token  # not a parameter of this action
    request = models.DetachNetworkInterfaceRequest(
        region_id=connection.region, network_interface_id=eni_id, instance_id=instance_id
    )
    return request_id(connection.ecs.detach_network_interface_with_options(request, connection.runtime()))


@api_call("AssignPrivateIpAddresses", mutating=True)
def assign_private_ip_addresses(
    connection,
    eni_id: str,
    private_ip_addresses: Sequence[str] | None = None,
    count: int | None = None,
    client_token: str | None = None,
) -> list[str]:
    """AssignPrivateIpAddresses by list or by count (exactly one); returns the addresses assigned."""
    models = light_models("ecs")

    request = models.AssignPrivateIpAddressesRequest(
        region_id=connection.region,
        network_interface_id=eni_id,
        private_ip_address=list(private_ip_addresses) if private_ip_addresses else None,
        secondary_private_ip_address_count=count if not private_ip_addresses else None,
        client_token=client_token,
    )
    answer = body(connection.ecs.assign_private_ip_addresses_with_options(request, connection.runtime()))
    assigned = (answer.get("AssignedPrivateIpAddressesSet") or {}).get("PrivateIpSet") or {}
    return [text(address) for address in inner_list(assigned, "PrivateIpAddress")]


@api_call("UnassignPrivateIpAddresses", mutating=True, verify=addresses_unassigned)
def unassign_private_ip_addresses(
    connection, eni_id: str, private_ip_addresses: Sequence[str], client_token: str | None = None
) -> str:
    """UnassignPrivateIpAddresses (secondary addresses only); returns the request ID."""
    models = light_models("ecs")

    del client_token  # not a parameter of this action
    request = models.UnassignPrivateIpAddressesRequest(
        region_id=connection.region, network_interface_id=eni_id, private_ip_address=list(private_ip_addresses)
    )
    return request_id(connection.ecs.unassign_private_ip_addresses_with_options(request, connection.runtime()))


@api_call("ModifyNetworkInterfaceAttribute", mutating=True, verify=interface_attributes_hold)
def modify_network_interface_attribute(
    connection,
    eni_id: str,
    name: str | None = None,
    description: str | None = None,
    security_group_ids: Sequence[str] | None = None,
    client_token: str | None = None,
) -> str:
    """ModifyNetworkInterfaceAttribute: name, description and/or the full security group list."""
    models = light_models("ecs")

    del client_token  # not a parameter of this action
    request = models.ModifyNetworkInterfaceAttributeRequest(
        region_id=connection.region,
        network_interface_id=eni_id,
        network_interface_name=name,
        description=description,
        security_group_id=list(security_group_ids) if security_group_ids is not None else None,
    )
    return request_id(connection.ecs.modify_network_interface_attribute_with_options(request, connection.runtime()))


@api_call("TagResources", mutating=True, verify=interface_tags_hold)
def tag_interfaces(connection, eni_ids: Sequence[str], tags: Mapping[str, str], client_token: str | None = None) -> str:
    """ECS TagResources with ResourceType ``eni``: add or overwrite ``tags``."""
    models = light_models("ecs")

    del client_token  # not a parameter of this action
    request = models.TagResourcesRequest(
        region_id=connection.region,
        resource_type=ENI_RESOURCE_TYPE,
        resource_id=list(eni_ids),
        tag=[models.TagResourcesRequestTag(key=key, value=value) for key, value in tags.items()],
    )
    return request_id(connection.ecs.tag_resources_with_options(request, connection.runtime()))


@api_call("UntagResources", mutating=True, verify=interface_tags_gone)
def untag_interfaces(connection, eni_ids: Sequence[str], keys: Iterable[str], client_token: str | None = None) -> str:
    """ECS UntagResources with ResourceType ``eni``: remove the tags with these keys."""
    models = light_models("ecs")

    del client_token  # not a parameter of this action
    request = models.UntagResourcesRequest(
        region_id=connection.region, resource_type=ENI_RESOURCE_TYPE, resource_id=list(eni_ids), tag_key=list(keys)
    )
    return request_id(connection.ecs.untag_resources_with_options(request, connection.runtime()))


# ---- waiting ---------------------------------------------------------------------------------------------


def _status(eni: dict[str, Any] | None) -> str:
    return eni["status"] if eni is not None else GONE


ENI_WATCH = Watch(
    key="id",
    # None: any status that is not transient; a status: exactly that one (GONE: the ENI no longer exists).
    is_done=lambda wanted, eni: _status(eni) not in TRANSIENT_STATUSES if wanted is None else _status(eni) == wanted,
    wanted_text=lambda wanted: wanted or "stable",
    is_transient=lambda eni: _status(eni) in TRANSIENT_STATUSES,
    # An attach that ends Available again is the API's sign of a failed attach (alibaba-api.md §8.5).
    has_failed=lambda wanted, eni, seen: wanted == "InUse" and _status(eni) == "Available" and seen,
    failure=lambda ids, _wanted: (f"the attachment of {', '.join(ids)} did not take: the ENI went back to Available"),
)


def wait_for_interfaces(
    connection,
    expectations: Mapping[str, str | None],
    timeout: float,
    policy: WaitPolicy | None = None,
    describe: Callable[..., list[dict[str, Any]]] = describe_interfaces,
    poll_first: bool = False,
) -> dict[str, dict[str, Any] | None]:
    """Poll until every ENI has its expected status; returns the last record of each (``None``: gone).

    ``expectations`` maps ENI ID -> status (``Available``, ``InUse``), :data:`GONE`, or ``None`` for "any
    status that is not transient".  One batched DescribeNetworkInterfaces per round, with the growing
    interval of :class:`WaitPolicy`; never a fixed sleep.  An attach that ends Available again (the API's
    sign of a failed attach, alibaba-api.md §8.5) fails at once.  Raises :class:`WaitError`.
    """
    return wait_until(
        lambda eni_ids: describe(connection, eni_ids=eni_ids),
        expectations,
        ENI_WATCH,
        timeout,
        policy or WaitPolicy(),
        poll_first,
    )
