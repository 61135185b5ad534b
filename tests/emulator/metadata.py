"""ECS instance metadata service (``http://100.100.100.200/latest/...``) for the seeded instances.

The server routes ``/_metadata/<instance-id>/latest/...`` here (the netns forwarder ``imds_forward`` maps
the real address onto that path).  Every answer is computed from the live state, so an ENI attached or
an address assigned through the API shows up on the next request.  Items and their formats follow
alibaba-api.md §9.1 and host-networking.md §2.1.

Hardened mode (alibaba-api.md §9.1): ``PUT /latest/api/token`` with ``X-aliyun-ecs-metadata-token-ttl-seconds``
(1-21600) returns a token that GETs present in ``X-aliyun-ecs-metadata-token``.  Status codes the docs do not
give, all UNCONFIRMED and chosen to match what clients handle (terway retries once on 401 with a new token;
[fid:metadata-status-codes]
AWS IMDSv2, which Alibaba's design mirrors, answers the same codes):
- missing or out-of-range TTL: 400;
- a token request carrying ``X-Forwarded-For``: 403;
- a GET without a valid token on an instance that requires one (``MetadataToken``), or with an invalid or
  expired token on any instance: 401;
- a method other than PUT on the token path, or other than GET elsewhere: 405;
- an unknown item, or an item the instance does not have (``eipv4`` without a public address): 404.
"""

from __future__ import annotations

import ipaddress
import json
import secrets

TOKEN_TTL_HEADER = "x-aliyun-ecs-metadata-token-ttl-seconds"
TOKEN_HEADER = "x-aliyun-ecs-metadata-token"
MAX_TOKEN_TTL = 21600

# Per-MAC items under network/interfaces/macs/<mac>/ (alibaba-api.md §9.1 table).
MAC_ITEMS = (
    "gateway",
    "netmask",
    "network-interface-id",
    "primary-ip-address",
    "private-ipv4s",
    "vpc-cidr-block",
    "vpc-id",
    "vswitch-cidr-block",
    "vswitch-id",
)

Answer = tuple[int, dict, str]


def _text(status: int, body: str, headers: dict | None = None) -> Answer:
    return status, headers or {}, body


def _attached_enis(state: dict, instance: dict) -> list[dict]:
    """ENIs attached to the instance (InUse), primary first, then by device index."""
    found = [
        eni
        for eni in state["enis"].values()
        if eni["InstanceId"] == instance["InstanceId"] and eni["Status"] == "InUse"
    ]
    return sorted(found, key=lambda eni: (eni["DeviceIndex"] or 0, eni["NetworkInterfaceId"]))


def _primary_ip(eni: dict) -> str:
    return next(entry["PrivateIpAddress"] for entry in eni["PrivateIpSets"] if entry["Primary"])


def _public_ipv4(state: dict, instance: dict, primary_eni: dict | None) -> str | None:
    """``eipv4``: the EIP or fixed public IP of the primary NIC (§9.1), or None."""
    bound = [
        eip
        for eip in state["eips"].values()
        if eip.get("Status") in ("InUse", "Unassociating")
        and (
            (eip.get("InstanceType") == "EcsInstance" and eip.get("InstanceId") == instance["InstanceId"])
            or (
                primary_eni is not None
                and eip.get("InstanceType") == "NetworkInterface"
                and eip.get("InstanceId") == primary_eni["NetworkInterfaceId"]
                and eip.get("PrivateIpAddress", "") in ("", _primary_ip(primary_eni))
            )
        )
    ]
    if bound:
        return min(bound, key=lambda eip: eip["AllocationId"])["IpAddress"]
    if instance["PublicIpAddress"]:
        return instance["PublicIpAddress"][0]
    return None


def _mac_items(state: dict, eni: dict) -> dict[str, str]:
    vswitch = state["vswitches"][eni["VSwitchId"]]
    vpc = state["vpcs"][eni["VpcId"]]
    network = ipaddress.IPv4Network(vswitch["CidrBlock"])
    return {
        "gateway": vswitch["Gateway"],
        "netmask": str(network.netmask),
        "network-interface-id": eni["NetworkInterfaceId"],
        "primary-ip-address": _primary_ip(eni),
        # JSON-array text, primary address first (UNCONFIRMED [fid:metadata-private-ipv4s-order] order, §9.1).
        "private-ipv4s": json.dumps(
            [entry["PrivateIpAddress"] for entry in eni["PrivateIpSets"]], separators=(",", ":")
        ),
        "vpc-cidr-block": vpc["CidrBlock"],
        "vpc-id": eni["VpcId"],
        "vswitch-cidr-block": vswitch["CidrBlock"],
        "vswitch-id": eni["VSwitchId"],
    }


def _meta_data(state: dict, instance: dict, item: str) -> Answer:
    """Answer ``/latest/meta-data/<item>``."""
    enis = _attached_enis(state, instance)
    primary = next((eni for eni in enis if eni["Type"] == "Primary"), None)
    vswitch = state["vswitches"][instance["VSwitchId"]]
    top: dict[str, str | None] = {
        "hostname": instance["HostName"],
        "instance-id": instance["InstanceId"],
        "region-id": instance["RegionId"],
        "zone-id": instance["ZoneId"],
        "vpc-id": instance["VpcId"],
        "vswitch-id": instance["VSwitchId"],
        "vswitch-cidr-block": vswitch["CidrBlock"],
        "vpc-cidr-block": state["vpcs"][instance["VpcId"]]["CidrBlock"],
        "network-type": instance["InstanceNetworkType"],
        "private-ipv4": _primary_ip(primary) if primary else None,
        "mac": primary["MacAddress"] if primary else None,
        "eipv4": _public_ipv4(state, instance, primary),
    }
    # Directory listings answer with or without the trailing slash, as the real service does.
    item = item.rstrip("/")
    if item == "":
        listing = sorted(name for name, value in top.items() if value is not None) + ["network/"]
        return _text(200, "\n".join(listing))
    if item in top:
        value = top[item]
        return _text(200, value) if value is not None else _text(404, "Not Found")
    if item == "network":
        return _text(200, "interfaces/")
    if item == "network/interfaces":
        return _text(200, "macs/")
    by_mac = {eni["MacAddress"]: eni for eni in enis}
    if item == "network/interfaces/macs":
        return _text(200, "\n".join(f"{mac}/" for mac in by_mac))
    parts = item.split("/")
    if len(parts) in (4, 5) and parts[:3] == ["network", "interfaces", "macs"] and parts[3] in by_mac:
        items = _mac_items(state, by_mac[parts[3]])
        if len(parts) == 4:
            return _text(200, "\n".join(MAC_ITEMS))
        if parts[4] in items:
            return _text(200, items[parts[4]])
    return _text(404, "Not Found")


def _issue_token(store, instance_id: str, headers: dict) -> Answer:
    """``PUT /latest/api/token``."""
    if "x-forwarded-for" in headers:
        return _text(403, "Forbidden")
    try:
        ttl = int(headers.get(TOKEN_TTL_HEADER, ""))
    except ValueError:
        return _text(400, "Bad Request")
    if not 1 <= ttl <= MAX_TOKEN_TTL:
        return _text(400, "Bad Request")
    tokens = store.data.setdefault("metadata_tokens", {})
    now = store.now()
    for token, entry in list(tokens.items()):
        if entry["expires"] <= now:
            del tokens[token]
    token = secrets.token_urlsafe(32)
    tokens[token] = {"instance": instance_id, "expires": now + ttl}
    return _text(200, token, {"X-aliyun-ecs-metadata-token-ttl-seconds": str(ttl)})


def _token_state(store, instance_id: str, headers: dict) -> str:
    """'absent', 'valid' or 'invalid' for the request's metadata token."""
    token = headers.get(TOKEN_HEADER)
    if token is None:
        return "absent"
    entry = store.data.get("metadata_tokens", {}).get(token)
    if entry is None or entry["instance"] != instance_id or entry["expires"] <= store.now():
        return "invalid"
    return "valid"


def handle(store, instance_id: str, method: str, path: str, headers: dict) -> Answer:
    """Answer one metadata request for ``instance_id``: (status, extra headers, text body)."""
    with store.lock:
        store.settle()
        state = store.data
        instance = state["instances"].get(instance_id)
        if instance is None or not path.startswith("/latest"):
            return _text(404, "Not Found")
        rest = path[len("/latest") :]
        if rest == "/api/token":
            if method != "PUT":
                return _text(405, "Method Not Allowed")
            response = _issue_token(store, instance_id, headers)
            store.save()
            return response
        if method != "GET":
            return _text(405, "Method Not Allowed")
        token = _token_state(store, instance_id, headers)
        if token == "invalid" or (token == "absent" and instance.get("MetadataToken")):
            return _text(401, "Unauthorized")
        if rest in ("", "/"):
            return _text(200, "meta-data/")
        if rest == "/meta-data" or rest.startswith("/meta-data/"):
            return _meta_data(state, instance, rest[len("/meta-data/") :])
        return _text(404, "Not Found")
