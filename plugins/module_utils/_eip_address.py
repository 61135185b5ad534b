# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note: this module util is PRIVATE to the collection. It can change at any time; do not use it from
# other collections or standalone plugins/modules.

"""What eip_address does to one EIP (allocate or update it, release it), and its list form ``addresses``.

The list form does what the single form does to each item, with the calls that can serve many items made once:
one DescribeEipAddresses for the items keyed by allocation ID (50 per call), one for those keyed by address, one
for those keyed by name when they share tags (else one per item); one wait for every EIP found in a transient
state; the changes of the items concurrently (``_item_list``); then one batched wait for every allocation and
release (``wait_for_eips``, one describe per round).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ansible_collections.alicloud.eip.plugins.module_utils._api.namespace import API
from ansible_collections.alicloud.eip.plugins.module_utils._api.vpc_eip import (
    STABLE,
    TRANSIENT_STATUSES,
    Expectation,
    wait_for_eips,
)
from ansible_collections.alicloud.eip.plugins.module_utils._eip_lifecycle import (
    LifecycleError,
    apply_changes,
    check_bandwidth_for,
    diff_view,
    disassociate,
    explain_allocation_error,
    find_eip,
    key_label,
    make_changes,
    new_eip_view,
    normalize_tags,
    plan_attributes,
    plan_release,
    select_eip,
    validate_key_options,
    wait_for_status,
    with_owner,
)
from ansible_collections.alicloud.eip.plugins.module_utils._item_list import (
    MAX_WORKERS,
    ItemFailure,
    ItemOutcome,
    converge_items,
    refuse_duplicates,
    validate_items,
    where,
)
from ansible_collections.alicloud.eip.plugins.module_utils._polling import WaitError
from ansible_collections.alicloud.eip.plugins.module_utils._retries import (
    AlicloudApiError,
)
from ansible_collections.alicloud.eip.plugins.module_utils._util import (
    InputError,
    run_concurrently,
)

# The options of one EIP: the top level of the single form, and each item of ``addresses``.
ITEM_OPTIONS = (
    "state",
    "allocation_id",
    "ip_address",
    "name",
    "description",
    "bandwidth",
    "internet_charge_type",
    "isp",
    "tags",
    "purge_tags",
    "release_associated",
    "force",
)
LIST_NAME = "addresses"


# ---- one EIP -------------------------------------------------------------------------------------------------


def ensure_present(
    params: Mapping[str, Any],
    connection,
    eip: dict | None,
    check_mode: bool,
    warn: Callable[[str], None],
    defer_wait: bool = False,
) -> tuple[bool, dict, list, str | None]:
    """Allocate (key: name) or update the EIP; returns (changed, final record, actions, status still to wait for).

    With ``defer_wait`` a new EIP is not waited for here: the caller waits for the returned status (``Available``)
    together with other EIPs; otherwise the last item is ``None``.
    """
    if eip is None:
        if params["allocation_id"] or params["ip_address"]:
            raise LifecycleError(
                f"this account holds no EIP with {key_label(params)} in region {connection.region}; to bring back "
                "an EIP released within the last 7 days use alicloud.eip.eip_recover, or key a new EIP by name"
            )
        check_bandwidth_for(None, params)
        if check_mode:
            return (
                True,
                new_eip_view(params, connection.region),
                ["AllocateEipAddress"],
                None,
            )
        try:
            allocated = API.allocate_eip_address(
                connection,
                bandwidth=params["bandwidth"],
                internet_charge_type=params["internet_charge_type"],
                isp=params["isp"],
                name=params["name"],
                description=params["description"],
                # As the key is looked up (a null value is an empty one), so that a re-run finds this EIP.
                tags=normalize_tags(params["tags"]) or None,
            )
        except AlicloudApiError as error:
            raise explain_allocation_error(error, f"allocating an EIP named {params['name']!r}") from None
        fallback = new_eip_view(
            params,
            connection.region,
            allocated["allocation_id"],
            allocated["ip_address"],
        )
        if params["wait"] and defer_wait:
            return True, fallback, ["AllocateEipAddress"], "Available"
        record = None
        if params["wait"]:
            record = wait_for_status(
                connection,
                allocated["allocation_id"],
                "Available",
                params["wait_timeout"],
            )
        else:
            found = API.describe_eip_addresses(connection, allocation_ids=[allocated["allocation_id"]])
            record = found[0] if found else None
        return True, record or fallback, ["AllocateEipAddress"], None

    check_bandwidth_for(eip, params)
    name_is_key = not (params["allocation_id"] or params["ip_address"])
    changes = plan_attributes(eip, params, name_is_key=name_is_key)
    for warning in changes.warnings:
        warn(warning)
    actions = (
        (["ModifyEipAddressAttribute"] if changes.modify else [])
        + (["UnTagResources"] if changes.remove_tags else [])
        + (["TagResources"] if changes.add_tags else [])
    )
    if not changes.changed:
        return False, eip, actions, None
    if check_mode:
        return True, apply_changes(eip, changes), actions, None
    make_changes(connection, eip["allocation_id"], changes)
    found = API.describe_eip_addresses(connection, allocation_ids=[eip["allocation_id"]])
    return True, (found[0] if found else apply_changes(eip, changes)), actions, None


def ensure_absent(
    params: Mapping[str, Any],
    connection,
    eip: dict | None,
    check_mode: bool,
    defer_wait: bool = False,
) -> tuple[bool, dict, list, str | None]:
    """Release the EIP (disassociating it first if allowed); returns (changed, record before, actions, status still
    to wait for: ``Released`` with ``defer_wait``, else ``None``)."""
    if eip is None:
        return False, {}, [], None
    needs_disassociation = plan_release(with_owner(connection, eip), params["release_associated"])
    actions = []
    if needs_disassociation:
        # The engine of eip_association predicts what stands in the way (SNAT entries, an ENI in cut-through
        # mode that is attached, ...) with the same message in check mode and in a real run.
        disassociate(connection, eip, check_mode, params["wait_timeout"], force=params["force"])
        actions.append("UnassociateEipAddress")
    actions.append("ReleaseEipAddress")
    if check_mode:
        return True, eip, actions, None
    API.release_eip_address(connection, eip["allocation_id"])
    if params["wait"] and defer_wait:
        return True, eip, actions, "Released"
    if params["wait"]:
        wait_for_status(connection, eip["allocation_id"], "Released", params["wait_timeout"])
    return True, eip, actions, None


def read_failure(error: Exception, params: Mapping[str, Any]) -> ItemFailure:
    """A failure while finding the EIP, as the single form words it (nothing changed)."""
    if isinstance(error, LifecycleError):
        return ItemFailure(str(error), error.as_dict())
    if isinstance(error, WaitError):
        return ItemFailure(f"the EIP stayed in a transient state: {error}")
    if isinstance(error, AlicloudApiError):
        return ItemFailure(
            f"could not read the EIP with {key_label(params)}: {error.describe()}",
            error.as_dict(),
        )
    raise error


def change_failure(error: Exception, params: Mapping[str, Any]) -> ItemFailure:
    """A failure while changing the EIP, as the single form words it."""
    if isinstance(error, InputError):
        return ItemFailure(str(error))
    if isinstance(error, LifecycleError):
        return ItemFailure(str(error), error.as_dict())
    if isinstance(error, WaitError):
        # The mutating call was accepted; only the wait for its outcome ran out.
        return ItemFailure(f"the EIP did not reach its status: {error}", changed=True)
    if isinstance(error, AlicloudApiError):
        return ItemFailure(
            f"could not manage the EIP with {key_label(params)}: {error.describe()}",
            error.as_dict(),
        )
    raise error


# ---- the list form -----------------------------------------------------------------------------------------------


def item_key(params: Mapping[str, Any]) -> tuple | None:
    """The key an item finds its EIP by, to refuse two items with the same one."""
    if params.get("allocation_id"):
        return ("allocation_id", params["allocation_id"])
    if params.get("ip_address"):
        return ("ip_address", params["ip_address"])
    tags = normalize_tags(params.get("tags")) or {}
    return ("name", params.get("name"), tuple(sorted(tags.items())))


def key_text(key: tuple) -> str:
    if key[0] == "name":
        return f"EIP (name {key[1]!r}, tags {dict(key[2])})"
    return f"EIP ({key[0]} {key[1]})"


def validate_addresses(items: Sequence[Mapping[str, Any]]) -> None:
    """The single form's input checks for every item, and no two items with one key; raises InputError."""
    validate_items(LIST_NAME, items, validate_key_options, ITEM_OPTIONS)
    refuse_duplicates(LIST_NAME, [item_key(item) for item in items], key_text)


def _common_tags(tag_sets: Sequence[Mapping[str, str]]) -> dict[str, str]:
    """The tags (key and value) every set has."""
    common = dict(tag_sets[0]) if tag_sets else {}
    for tags in tag_sets[1:]:
        common = {key: value for key, value in common.items() if tags.get(key) == value}
    return common


def find_addresses(connection, items: Sequence[Mapping[str, Any]], api=API) -> list[Any]:
    """The EIP each item's key finds (``None``: none), or the item's :class:`ItemFailure`, in request order.

    Items keyed by allocation ID share one DescribeEipAddresses (50 IDs per call), items keyed by address another,
    and items keyed by name one filtered by the tags they all carry (each item then selects its EIP as the single
    form does); name items with no tag in common are looked up one by one, concurrently.
    """
    found: list[Any] = [None] * len(items)

    def select(indexes: Sequence[int], **filters: Any) -> None:
        try:
            candidates = api.describe_eip_addresses(connection, **filters)
        except AlicloudApiError as error:
            for index in indexes:
                found[index] = read_failure(error, items[index])
            return
        for index in indexes:
            try:
                found[index] = select_eip(candidates, items[index])
            except LifecycleError as error:
                found[index] = read_failure(error, items[index])

    by_id = [index for index, item in enumerate(items) if item.get("allocation_id")]
    by_ip = [index for index, item in enumerate(items) if not item.get("allocation_id") and item.get("ip_address")]
    by_name = [index for index in range(len(items)) if index not in by_id and index not in by_ip]
    if by_id:
        select(by_id, allocation_ids=[items[index]["allocation_id"] for index in by_id])
    if by_ip:
        select(by_ip, ip_addresses=[items[index]["ip_address"] for index in by_ip])
    common = _common_tags([normalize_tags(items[index].get("tags")) or {} for index in by_name])
    if len(by_name) > 1 and common:
        select(by_name, tags=common)
    else:
        for index, record, error in _each(lambda index: find_eip(connection, items[index], api=api), by_name):
            found[index] = read_failure(error, items[index]) if error is not None else record
    return found


def _each(function: Callable[[int], Any], indexes: Sequence[int]) -> list[tuple[int, Any, Exception | None]]:
    """``function(index)`` for each index on the bounded pool; ``(index, result, exception)`` in order."""
    return run_concurrently(function, indexes, MAX_WORKERS)


def settle_addresses(connection, found: list[Any], timeout: float, api=API) -> list[Any]:
    """Wait once, for every EIP found in a transient state, until it is stable (as the single form's ``settle``)."""
    transient = {
        record["allocation_id"]: STABLE
        for record in found
        if isinstance(record, dict) and record["status"] in TRANSIENT_STATUSES
    }
    if not transient:
        return found
    stuck: Mapping[str, str] = {}
    failure = None
    try:
        latest = wait_for_eips(connection, transient, timeout, describe=api.describe_eip_addresses, poll_first=True)
    except WaitError as error:
        latest, stuck = error.latest, error.pending
        failure = ItemFailure(f"the EIP stayed in a transient state: {error}")
    settled = []
    for record in found:
        if isinstance(record, dict) and record["allocation_id"] in transient:
            record = failure if record["allocation_id"] in stuck else latest.get(record["allocation_id"])
        settled.append(record)
    return settled


def converge_addresses(connection, items: Sequence[Mapping[str, Any]], check_mode: bool, api=API) -> list[ItemOutcome]:
    """Converge every item (validated by :func:`validate_addresses`, with the module-level ``wait`` and
    ``wait_timeout`` merged in) as the single form would; outcomes in request order.

    Raises InputError (before any change) when two items find the same EIP.
    """
    timeout = items[0]["wait_timeout"] if items else 0
    found = find_addresses(connection, items, api=api)
    holders: dict[str, int] = {}
    for index, record in enumerate(found):
        if isinstance(record, dict):
            if record["allocation_id"] in holders:
                raise InputError(
                    f"{where(LIST_NAME, index)} finds the same EIP ({record['allocation_id']}) as "
                    f"{where(LIST_NAME, holders[record['allocation_id']])}; give each EIP once"
                )
            holders[record["allocation_id"]] = index
    found = settle_addresses(connection, found, timeout, api=api)
    pending: dict[int, str] = {}

    def converge_one(index: int) -> ItemOutcome:
        params, eip = items[index], found[index]
        if isinstance(eip, ItemFailure):
            raise eip
        label = where(LIST_NAME, index)
        warnings: list[str] = []

        def warn(message: str) -> None:
            warnings.append(f"{label}: {message}")

        before = diff_view(eip)
        try:
            if params["state"] == "present":
                changed, after, actions, wait_for = ensure_present(params, connection, eip, check_mode, warn, True)
            else:
                changed, after, actions, wait_for = ensure_absent(params, connection, eip, check_mode, True)
        except (InputError, LifecycleError, WaitError, AlicloudApiError) as error:
            outcome = ItemOutcome.from_failure(change_failure(error, params))
            outcome.warnings = warnings
            return outcome
        if wait_for:
            pending[index] = wait_for
        return ItemOutcome(
            changed=changed,
            values={"eip": after, "actions": actions},
            diff={"before": before, "after": {} if params["state"] == "absent" and changed else diff_view(after)},
            warnings=warnings,
        )

    outcomes = converge_items(converge_one, len(items))
    if pending:
        wait_for_changes(connection, outcomes, pending, timeout, api)
    return outcomes


def wait_for_changes(connection, outcomes: list[ItemOutcome], pending: Mapping[int, str], timeout: float, api=API):
    """One batched wait for every allocation (``Available``) and release (``Released``) the items made."""
    expectations = {
        outcomes[index].values["eip"]["allocation_id"]: Expectation(status) for index, status in pending.items()
    }
    stuck: Mapping[str, str] = {}
    message = ""
    try:
        latest = wait_for_eips(connection, expectations, timeout, describe=api.describe_eip_addresses, poll_first=True)
    except WaitError as error:
        latest, stuck = error.latest, error.pending
        message = f"the EIP did not reach its status: {error}"
    for index, status in pending.items():
        outcome = outcomes[index]
        allocation_id = outcome.values["eip"]["allocation_id"]
        if allocation_id in stuck:
            outcome.failed, outcome.msg = True, message
        elif status == "Available" and latest.get(allocation_id):
            outcome.values["eip"] = latest[allocation_id]
            outcome.diff = {
                "before": outcome.diff["before"],
                "after": diff_view(latest[allocation_id]),
            }
