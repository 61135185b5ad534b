"""Action modules; importing this package registers every emulated action."""

# vpc_eip comes first so that its error texts win for codes several modules share (``register_missing``).
from . import vpc_eip  # noqa: F401
from . import alb, ecs, nlb, slb, vpc_network  # noqa: F401
