"""A world that names one resource twice is refused, instead of the second silently replacing the first."""

from __future__ import annotations

import pytest

from tests.emulator.tests.network_support import world_with
from tests.emulator.world import WorldError, build_state


@pytest.mark.parametrize(
    "additions,culprit",
    [
        # A secondary ENI that takes the ID the instance's primary ENI gets by default (eni-<instance suffix>).
        ({"instances": [{"id": "i-dup", "vswitch": "vsw-a"}], "enis": [{"id": "eni-dup", "vswitch": "vsw-a"}]}, "eni-dup"),
        ({"enis": [{"id": "eni-twice", "vswitch": "vsw-a"}, {"id": "eni-twice", "vswitch": "vsw-a"}]}, "eni-twice"),
        ({"instances": [{"id": "i-twice", "vswitch": "vsw-a"}, {"id": "i-twice", "vswitch": "vsw-a"}]}, "i-twice"),
    ],
)
def test_duplicate_ids_are_refused(additions, culprit):
    with pytest.raises(WorldError, match="twice") as refused:
        build_state(world_with(**additions))
    assert culprit in str(refused.value)


def test_explicit_primary_eni_avoids_the_clash():
    state = build_state(
        world_with(
            instances=[{"id": "i-dup", "vswitch": "vsw-a", "primary_eni": "eni-dup-primary"}],
            enis=[{"id": "eni-dup", "vswitch": "vsw-a"}],
        )
    )
    assert state["enis"]["eni-dup"]["Type"] == "Secondary"
    assert state["enis"]["eni-dup-primary"]["Type"] == "Primary"
    assert state["instances"]["i-dup"]["PrimaryNetworkInterfaceId"] == "eni-dup-primary"
