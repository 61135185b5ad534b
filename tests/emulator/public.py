"""The emulator's public entry points for code outside it (the lab's data plane in ``extensions/molecule``).

Everything else in ``tests/emulator`` is free to move between rooms; a name here keeps its meaning, so the lab
never imports an action module or the bookkeeping behind it.  Importing this module registers no action and
starts nothing.
"""

from __future__ import annotations

from .bindings import gateway_info
from .world import WorldError, build_state
from .world_schema import WorldFormatError, load_and_check

# The molecule kit (extensions/molecule/kit/topology.py) seeds the lab hosts from a world: it checks the world file
# (``load_and_check``, ``WorldFormatError``) and builds the state the emulator would start from (``build_state``,
# ``WorldError``) to read each instance's primary ENI, address and vSwitch.
__all__ = ["WorldError", "WorldFormatError", "build_state", "eip_gateway", "load_and_check"]


def eip_gateway(eip: dict) -> tuple[str, str]:
    """(gateway, netmask) that DescribeEipGatewayInfo answers for a MULTI_BINDED EIP (a state record, CamelCase)."""
    info = gateway_info(eip)
    return info["IpGw"], info["IpMask"]
