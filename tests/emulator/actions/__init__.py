"""Action modules; importing this package registers every emulated action."""

from . import vpc_eip  # noqa: F401
