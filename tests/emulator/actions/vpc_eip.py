"""VPC EIP actions (placeholder: the EIP work package fills this in)."""

from __future__ import annotations

from ..registry import VPC, Context, action, paginate


def bind_in_world(state: dict, allocation_id: str, target: dict) -> None:
    """Record a pre-existing association declared by the world file."""
    raise NotImplementedError("pre-associated EIPs in world files are not supported yet")


@action(VPC, "DescribeEipAddresses")
def describe_eip_addresses(ctx: Context) -> dict:
    region = ctx.region()
    eips = sorted(ctx.store.in_region("eips", region), key=lambda eip: eip["AllocationId"])
    page, envelope = paginate(eips, ctx.params)
    return {**envelope, "EipAddresses": {"EipAddress": [dict(eip) for eip in page]}}
