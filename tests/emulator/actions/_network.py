"""Private helpers shared by the ECS, VPC network and SLB action modules (not part of the emulator's API).

They read the EIP bookkeeping that ``vpc_eip`` writes (``state["eips"]`` entries with ``InstanceType``,
``InstanceId``, ``PrivateIpAddress``, ``Status``) but never change it.
"""

from __future__ import annotations

import base64
import json

from .. import errors
from ..errors import ApiError
from ..protocol import Params

# EIP states in which the address is actually bound to its holder and shows up on it
# (Associating is not bound yet; Unassociating still is until the task completes).  UNCONFIRMED:
# [fid:ecs-eip-visible-states]
# the docs do not say when DescribeInstances starts/stops showing an EIP; this is the state machine's reading.
VISIBLE_EIP_STATES = ("InUse", "Unassociating")

# ECS instance states that ENI, HaVip and EIP operations accept (alibaba-api.md §5, §6.3, §8.5).
OPERABLE_INSTANCE_STATES = ("Running", "Stopped")


def register_missing(codes: dict[str, tuple[int, str]]) -> None:
    """Register error codes that no other action module has catalogued yet.

    The catalogue is global across products; a code another module already registered (the EIP module
    shares a few, such as ``IncorrectInstanceStatus``) keeps that module's documented text.
    """
    errors.register({code: entry for code, entry in codes.items() if code not in errors.CATALOGUE})


# Tag validation codes of the create actions (ECS CreateNetworkInterface, VPC CreateHaVip; alibaba-api.md §8.4).
register_missing(
    {
        "InvalidTagKey.Malformed": (400, "The specified Tag.n.Key is not valid."),
        "InvalidTagValue.Malformed": (400, "The specified Tag.n.Value is not valid."),
        "Duplicate.TagKey": (400, "The Tag.N.Key contain duplicate key."),
    }
)


def eips_held_by(state: dict, instance_type: str, instance_id: str, visible_only: bool = True) -> list[dict]:
    """EIPs bound to ``instance_id`` as ``instance_type``, sorted by AllocationId."""
    found = [
        eip
        for eip in state["eips"].values()
        if eip.get("InstanceType") == instance_type
        and eip.get("InstanceId") == instance_id
        and (not visible_only or eip.get("Status") in VISIBLE_EIP_STATES)
    ]
    return sorted(found, key=lambda eip: eip["AllocationId"])


def tag_filters(params: Params, name: str = "Tag") -> list[dict]:
    """``Tag.N.Key`` / ``Tag.N.Value`` request filters (at most 20, keys required)."""
    tags = params.objects(name, maximum=20)
    for tag in tags:
        if not tag.get("Key"):
            raise ApiError("InvalidParameter", f"{name}.N.Key")
    return tags


def matches_tags(resource_tags: dict, filters: list[dict]) -> bool:
    """True when every filter key is present and, where a value is given, equal."""
    for tag in filters:
        if tag["Key"] not in resource_tags:
            return False
        if tag.get("Value") not in (None, "") and resource_tags[tag["Key"]] != tag["Value"]:
            return False
    return True


def tags_from_request(params: Params) -> dict:
    """Tags to set on a new resource from ``Tag.N.Key`` / ``Tag.N.Value`` (create actions)."""
    result: dict = {}
    for tag in params.objects("Tag", maximum=20):
        key = tag.get("Key") or ""
        value = tag.get("Value") or ""
        if not key or len(key) > 128 or key.startswith(("aliyun", "acs:")):
            raise ApiError("InvalidTagKey.Malformed")
        if len(value) > 128 or value.startswith(("aliyun", "acs:")):
            raise ApiError("InvalidTagValue.Malformed")
        if key in result:
            raise ApiError("Duplicate.TagKey")
        result[key] = value
    return result


def ecs_tags(tags: dict) -> dict:
    """ECS/SLB/NAT tag list shape: ``{"Tag": [{"TagKey", "TagValue"}]}``."""
    return {"Tag": [{"TagKey": key, "TagValue": value} for key, value in sorted(tags.items())]}


def vpc_tags(tags: dict) -> dict:
    """VPC/vSwitch/HaVip tag list shape: ``{"Tag": [{"Key", "Value"}]}``."""
    return {"Tag": [{"Key": key, "Value": value} for key, value in sorted(tags.items())]}


def _encode_token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode().rstrip("=")


def _decode_token(token: str) -> int:
    try:
        padded = token + "=" * (-len(token) % 4)
        offset = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())["offset"]
    except (ValueError, KeyError, TypeError):
        raise ApiError("InvalidParameter", "NextToken") from None
    if not isinstance(offset, int) or offset < 0:
        raise ApiError("InvalidParameter", "NextToken")
    return offset


def ecs_page(items: list, params: Params, max_results: tuple[int, int], max_page_size: int) -> tuple[list, dict]:
    """ECS paging: ``MaxResults`` + ``NextToken`` when either is given, else ``PageNumber`` / ``PageSize``.

    ``max_results`` is the documented (minimum, maximum) of MaxResults; its default is 10 as in the docs.
    """
    if "MaxResults" in params.raw or "NextToken" in params.raw:
        minimum, maximum = max_results
        size = params.int("MaxResults", default=10, minimum=minimum, maximum=maximum)
        token = params.str("NextToken")
        offset = _decode_token(token) if token else 0
        page = items[offset : offset + size]
        following = offset + size
        return page, {
            "TotalCount": len(items),
            "NextToken": _encode_token(following) if following < len(items) else "",
        }
    page_number = params.int("PageNumber", default=1, minimum=1)
    page_size = params.int("PageSize", default=10, minimum=1, maximum=max_page_size)
    start = (page_number - 1) * page_size
    return items[start : start + page_size], {
        "TotalCount": len(items),
        "PageNumber": page_number,
        "PageSize": page_size,
    }
