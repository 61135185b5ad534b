"""The emulator's public entry points for code outside it (the lab's data plane in ``extensions/molecule``).

Everything else in ``tests/emulator`` is free to move between rooms; a name here keeps its meaning, so the lab
never imports an action module or the bookkeeping behind it.  Importing this module registers no action and
starts nothing.
"""

from __future__ import annotations

from .bindings import gateway_info


def eip_gateway(eip: dict) -> tuple[str, str]:
    """(gateway, netmask) that DescribeEipGatewayInfo answers for a MULTI_BINDED EIP (a state record, CamelCase)."""
    info = gateway_info(eip)
    return info["IpGw"], info["IpMask"]
