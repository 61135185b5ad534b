# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note: this module util is PRIVATE to the collection. It can change at any time; do not use it from
# other collections or standalone plugins/modules.

"""Check mode of a scale-down: the host as the real run finds it once the ENIs listed as absent are detached.

A check-mode scale-down (roles/multi_eip) predicts deleting a surplus ENI without deleting it, then hands it to
eni_routing in ``absent_interfaces`` while the metadata still reports it and its NIC is still on the host.  The real
run finds neither: the cloud part deleted the ENI, and the kernel took its addresses and its routes (and every route
whose source was one of its addresses) with the NIC.  :func:`as_after_detach` gives check mode that host, so that it
predicts exactly what the real run does (remove the rules left in the ENI's table slot, and its files) instead of
refusing the ENI as still attached.

Only an ENI that the metadata still reports and that ``interfaces`` does not list is taken as about to be detached
(an ENI listed in both is refused as before); the primary ENI's MAC and a NIC that carries the host's way out are
left as they are, so that the guards of ``add_absent_interfaces`` refuse them in check mode too.  The real run is
unchanged: an ENI the metadata still reports is refused there ("detach it first").
"""

from __future__ import annotations

import copy

from ansible_collections.alicloud.eip.plugins.module_utils._host_network.inventory import (
    links_by_mac,
)
from ansible_collections.alicloud.eip.plugins.module_utils._host_network.model import (
    HostNetworkError,
    normalize_mac,
)
from ansible_collections.alicloud.eip.plugins.module_utils._host_network.safety import (
    main_egress,
)


def _mac(value) -> str | None:
    try:
        return normalize_mac(str(value or "").rstrip("/"))
    # A MAC the validation refuses later, with its message: not one to predict anything for.
    except HostNetworkError:
        return None


def about_to_detach(params: dict, links: list[dict], observed: dict) -> dict[str, str]:
    """Metadata key -> MAC of each ENI listed as absent that the metadata still reports, that ``interfaces`` does not
    list, that is not the primary ENI and whose NIC does not carry the host's way out."""
    metadata = params.get("metadata")
    if not isinstance(metadata, dict) or not isinstance(metadata.get("macs"), dict):
        return {}
    absent = {_mac(item.get("mac")) for item in params.get("absent_interfaces") or []} - {None}
    configured = {_mac(item.get("mac")) for item in params.get("interfaces") or []}
    primary = _mac(params.get("primary_mac") or metadata.get("mac"))
    egress = main_egress(observed)
    devices = links_by_mac(links)
    found = {}
    for key in metadata["macs"]:
        mac = _mac(key)
        if mac is None or mac not in absent or mac in configured or mac == primary:
            continue
        if any(device in egress for device in devices.get(mac, [])):
            continue
        found[key] = mac
    return found


def as_after_detach(params: dict, links: list[dict], observed: dict) -> tuple[dict, list[dict], dict]:
    """``(params, links, observed)`` as the real run sees them once :func:`about_to_detach` ENIs are gone: not in the
    metadata, no NIC, none of its addresses, no route through it nor from one of its addresses.  Copies; the
    arguments are left as they are."""
    detaching = about_to_detach(params, links, observed)
    if not detaching:
        return params, links, observed
    metadata = copy.deepcopy(params["metadata"])
    for key in detaching:
        del metadata["macs"][key]
    macs = set(detaching.values())
    devices = {device for mac, names in links_by_mac(links).items() if mac in macs for device in names}
    sources = {cidr.split("/")[0] for device in devices for cidr in observed["addresses"].get(device, [])}
    kept_links = [link for link in links if link.get("ifname") not in devices]
    after = dict(observed)
    after["addresses"] = {device: list(items) for device, items in observed["addresses"].items() if device not in devices}
    after["routes"] = [route for route in observed["routes"] if route.dev not in devices and route.src not in sources]
    after["up"] = {device: up for device, up in observed["up"].items() if device not in devices}
    after["main_defaults"] = [
        item
        for item in observed.get("main_defaults", [])
        if item["dev"] not in devices and item.get("prefsrc") not in sources
    ]
    return {**params, "metadata": metadata}, kept_links, after
