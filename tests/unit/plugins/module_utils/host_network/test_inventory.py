# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Metadata, explicit input and their resolution to host links (``_host_network/inventory.py``)."""

from __future__ import annotations

import pytest
from ansible_collections.alicloud.eip.plugins.module_utils._host_network.inventory import (
    interfaces_from_metadata,
    keep_blocks,
    merge_interfaces,
    resolve_enis,
)
from ansible_collections.alicloud.eip.plugins.module_utils._host_network.model import (
    TABLE_BASE,
    TABLE_SLOT,
    TABLE_SLOTS,
    EipGroup,
    HostNetworkError,
    normalize_mac,
    table_for_mac,
)
from ansible_collections.alicloud.eip.plugins.module_utils._host_network.state import (
    add_absent_interfaces,
    desired_state,
)
from ansible_collections.alicloud.eip.tests.unit.plugins.module_utils.host_network.cases import (
    LINKS,
    PRIMARY,
    PRIMARY_SPEC,
    SECOND,
    THIRD,
    enis_for,
)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("00:16:3E:AA:BB:CC", "00:16:3e:aa:bb:cc"),
        ("00-16-3e-aa-bb-cc", "00:16:3e:aa:bb:cc"),
        (" 00:16:3e:aa:bb:cc ", "00:16:3e:aa:bb:cc"),
    ],
)
def test_normalize_mac(text, expected):
    assert normalize_mac(text) == expected


@pytest.mark.parametrize("text", ["", None, "00:16:3e:aa:bb", "00:16:3e:aa:bb:zz", "eth1"])
def test_normalize_mac_rejects(text):
    with pytest.raises(HostNetworkError, match="is not a MAC address"):
        normalize_mac(text)


@pytest.mark.parametrize(
    "mac, table",
    # Pinned values: the molecule scenarios and any host configured before depend on them never changing.
    [
        ("00:16:3e:61:02:02", 26568),
        ("00:16:3e:63:02:02", 20680),
        ("00:16:3e:63:02:12", 5832),
        ("00:16:3E:66:02:02", 28136),
    ],
)
def test_table_for_mac_is_stable(mac, table):
    assert table_for_mac(mac) == table


@pytest.mark.parametrize(
    "mac", [f"00:16:3e:{a:02x}:{b:02x}:{a ^ b:02x}" for a in range(0, 256, 37) for b in range(0, 256, 51)]
)
def test_table_for_mac_stays_in_its_range(mac):
    table = table_for_mac(mac)
    assert TABLE_BASE <= table <= TABLE_BASE + TABLE_SLOT * (TABLE_SLOTS - 1)
    assert (table - TABLE_BASE) % TABLE_SLOT == 0
    assert table + TABLE_SLOT - 1 < 32766


METADATA = {
    "mac": "00:16:3E:00:00:01",
    "macs": {
        "00:16:3e:00:00:01/": {
            "gateway": "10.0.1.253",
            "vswitch-cidr-block": "10.0.1.0/24",
            "private-ipv4s": '["10.0.1.10"]',
            "primary-ip-address": "10.0.1.10",
            "network-interface-id": "eni-primary",
        },
        "00:16:3e:00:00:02": {
            "gateway": "10.0.2.253",
            "vswitch-cidr-block": "10.0.2.0/24",
            "private-ipv4s": '["10.0.2.21", "10.0.2.20/"]',
            "primary-ip-address": "10.0.2.20",
            "network-interface-id": "",
        },
    },
}


def test_interfaces_from_metadata():
    primary, interfaces = interfaces_from_metadata(METADATA)
    assert primary == PRIMARY
    assert interfaces == [
        {
            "mac": PRIMARY,
            "mode": "nat",
            "addresses": ["10.0.1.10"],
            "cidr": "10.0.1.0/24",
            "gateway": "10.0.1.253",
            "eni_id": "eni-primary",
        },
        # The primary IP goes first whatever order private-ipv4s uses (UNCONFIRMED); trailing "/" is dropped.
        # [fid:metadata-private-ipv4s-order]
        {
            "mac": SECOND,
            "mode": "nat",
            "addresses": ["10.0.2.20", "10.0.2.21"],
            "cidr": "10.0.2.0/24",
            "gateway": "10.0.2.253",
            "eni_id": None,
        },
    ]


@pytest.mark.parametrize(
    "metadata, message",
    [
        ({}, "metadata must give the primary 'mac'"),
        (
            {"mac": PRIMARY, "macs": {SECOND: {"gateway": "10.0.2.253", "vswitch-cidr-block": "10.0.2.0/24"}}},
            "lacks private-ipv4s",
        ),
        (
            {"mac": PRIMARY, "macs": {SECOND: {"gateway": "", "vswitch-cidr-block": "x", "private-ipv4s": "[]"}}},
            "lacks gateway",
        ),
        (
            {"mac": PRIMARY, "macs": {PRIMARY: {**METADATA["macs"]["00:16:3e:00:00:01/"], "private-ipv4s": "[]"}}},
            "lists no private IPv4 address",
        ),
        ({"mac": THIRD, "macs": {SECOND: METADATA["macs"]["00:16:3e:00:00:02"]}}, "lists no interface with that MAC"),
        (
            {
                "mac": PRIMARY,
                "macs": {PRIMARY: {**METADATA["macs"]["00:16:3e:00:00:01/"], "private-ipv4s": "[10.0.1.10"}},
            },
            "is not JSON",
        ),
    ],
)
def test_interfaces_from_metadata_never_reads_a_gap_as_empty(metadata, message):
    with pytest.raises(HostNetworkError, match=message.replace("(", r"\(").replace("[", r"\[")):
        interfaces_from_metadata(metadata)


def test_merge_interfaces_explicit_wins_per_key():
    discovered = interfaces_from_metadata(METADATA)[1]
    merged = merge_interfaces(
        discovered,
        [{"mac": "00:16:3E:00:00:02", "mode": "multi_eip", "eips": [], "table": None}, {"mac": THIRD, "cidr": "x"}],
    )
    assert [item["mac"] for item in merged] == [PRIMARY, SECOND, THIRD]
    assert (
        merged[1]["mode"] == "multi_eip"
        and merged[1]["addresses"] == ["10.0.2.20", "10.0.2.21"]
        and "table" not in merged[1]
    )
    assert merged[2] == {"mac": THIRD, "cidr": "x"}


# ---- validation -------------------------------------------------------------------------------------------


def spec(**overrides) -> dict:
    base = {"mac": SECOND, "addresses": ["10.0.2.20"], "cidr": "10.0.2.0/24", "gateway": "10.0.2.253"}
    return {**base, **overrides}


EIP = {"ip": "203.0.113.2", "gateway": "203.0.113.1", "mask": "24"}


# Entries of one MAC in ``interfaces``: combined when they repeat or complement each other (whatever the spelling of
# the MAC and of the values), refused before anything else when they disagree.
@pytest.mark.parametrize(
    "explicit, expected",
    [
        # The same entry twice, the MAC spelled in capitals and with dashes the second time.
        ([spec(), spec(mac="00-16-3E-00-00-02")], {"mode": "nat", "addresses": ("10.0.2.20",), "groups": 0}),
        # One gives the mode and EIPs, the other the addresses: nothing to choose between.
        (
            [{"mac": SECOND.upper(), "mode": "multi_eip", "eips": [EIP]}, spec()],
            {"mode": "multi_eip", "addresses": ("10.0.2.20",), "groups": 1},
        ),
        # Values spelled differently that resolve to the same thing (a host bit in the CIDR, blanks, a dotted mask).
        (
            [
                spec(cidr="10.0.2.7/24", gateway=" 10.0.2.253", mode="multi_eip", eips=[EIP]),
                spec(addresses=[" 10.0.2.20"], eips=[{**EIP, "mask": "255.255.255.0"}]),
            ],
            {"mode": "multi_eip", "addresses": ("10.0.2.20",), "groups": 1},
        ),
        # None is "not given", as the module's argument spec passes an absent suboption.
        ([spec(table=None), spec(table=2000, mode=None)], {"mode": "nat", "addresses": ("10.0.2.20",), "table": 2000}),
    ],
    ids=["identical", "complementary", "same-resolved-values", "none-is-not-given"],
)
def test_merge_interfaces_combines_entries_of_one_mac_that_agree(explicit, expected):
    merged = merge_interfaces([], explicit)
    assert [item["mac"] for item in merged] == [SECOND]
    eni = resolve_enis(merged, PRIMARY, LINKS)[0]
    assert (eni.mac, eni.device, eni.network, eni.gateway) == (SECOND, "eth1", "10.0.2.0/24", "10.0.2.253")
    assert (eni.mode, eni.addresses) == (expected["mode"], expected["addresses"])
    assert eni.table == expected.get("table", table_for_mac(SECOND))
    assert len(eni.eip_groups) == expected.get("groups", 0)


@pytest.mark.parametrize(
    "explicit, positions, clash",
    [
        (
            [spec(addresses=["10.0.2.20"]), spec(addresses=["10.0.2.21"])],
            (0, 1),
            "addresses [10.0.2.20] against [10.0.2.21]",
        ),
        # Order matters: the first address is the primary one.
        (
            [spec(addresses=["10.0.2.20", "10.0.2.21"]), spec(addresses=["10.0.2.21", "10.0.2.20"])],
            (0, 1),
            "addresses [10.0.2.20, 10.0.2.21] against [10.0.2.21, 10.0.2.20]",
        ),
        (
            [spec(), spec(mac=THIRD), spec(mac="00-16-3E-00-00-02", cidr="10.0.0.0/16")],
            (0, 2),
            "cidr 10.0.2.0/24 against 10.0.0.0/16",
        ),
        ([spec(gateway="10.0.2.1"), spec(mac=SECOND.upper())], (0, 1), "gateway 10.0.2.1 against 10.0.2.253"),
        ([spec(table=2000), spec(table=2016)], (0, 1), "table 2000 against 2016"),
        ([spec(mode="nat"), {"mac": SECOND, "mode": "cut_through"}], (0, 1), "mode nat against cut_through"),
        # Complementary first, then a third entry that disagrees with the first.
        (
            [{"mac": SECOND, "mode": "nat"}, spec(), {"mac": SECOND, "mode": "multi_eip"}],
            (0, 2),
            "mode nat against multi_eip",
        ),
        (
            [spec(mode="multi_eip", eips=[EIP]), spec(mode="multi_eip", eips=[{**EIP, "ip": "203.0.113.3"}])],
            (0, 1),
            "eips [",
        ),
    ],
    ids=["addresses", "address-order", "cidr-other-spelling", "gateway", "table", "mode", "third-entry", "eips"],
)
def test_merge_interfaces_refuses_entries_of_one_mac_that_disagree(explicit, positions, clash):
    first, second = positions
    with pytest.raises(HostNetworkError) as error:
        merge_interfaces(interfaces_from_metadata(METADATA)[1], explicit)
    message = str(error.value)
    assert f"ENI {SECOND} is listed twice in interfaces, as interfaces[{first}] and interfaces[{second}]" in message
    assert clash in message
    assert "give each MAC (in any spelling) once in interfaces" in message


def test_merge_interfaces_metadata_and_one_explicit_entry_of_a_mac_still_merge():
    """The role passes metadata and the user's entries side by side: one explicit entry per MAC overrides metadata."""
    merged = merge_interfaces(
        interfaces_from_metadata(METADATA)[1], [{"mac": SECOND.upper(), "addresses": ["10.0.2.21"]}]
    )
    assert [item["addresses"] for item in merged if item["mac"] == SECOND] == [["10.0.2.21"]]


def test_merge_interfaces_names_the_entry_with_a_bad_mac():
    with pytest.raises(HostNetworkError, match=r"interfaces\[1\]\.mac: '00:16:3e:zz:00:02' is not a MAC address"):
        merge_interfaces([], [spec(), spec(mac="00:16:3e:zz:00:02")])


@pytest.mark.parametrize(
    "spelling", [SECOND, SECOND.upper(), SECOND.replace(":", "-"), SECOND.upper().replace(":", "-")]
)
def test_absent_interfaces_refuses_a_mac_also_configured_naming_both_entries(spelling):
    explicit = [spec(mac=PRIMARY, addresses=["10.0.1.10"], cidr="10.0.1.0/24", gateway="10.0.1.253"), spec()]
    enis = resolve_enis(merge_interfaces([], explicit), PRIMARY, LINKS)
    absent = [{"mac": "00:16:3e:00:00:09"}, {"mac": spelling, "table": None}]
    with pytest.raises(HostNetworkError) as error:
        add_absent_interfaces(desired_state(enis), absent, enis, LINKS, PRIMARY, {"eth0": "default"}, explicit)
    message = str(error.value)
    assert f"ENI {SECOND} is listed as absent and as an interface to configure" in message
    assert "(absent_interfaces[1] and interfaces[1])" in message and "remove it from one of the two lists" in message
    # Only from metadata (no explicit entry): the message says so.
    with pytest.raises(HostNetworkError, match=r"absent_interfaces\[1\], and the metadata still reports it"):
        add_absent_interfaces(desired_state(enis), absent, enis, LINKS, PRIMARY, {"eth0": "default"}, [])


def test_absent_interfaces_the_primary_mac_is_named_as_such_even_when_also_configured():
    """The more telling message wins: the primary ENI is never absent (molecule eni_host, eni_cut_through)."""
    explicit = [PRIMARY_SPEC]
    enis = resolve_enis(explicit, PRIMARY, LINKS)
    with pytest.raises(HostNetworkError, match=f"absent_interfaces lists {PRIMARY}, the primary ENI's MAC"):
        add_absent_interfaces(desired_state(enis), [{"mac": PRIMARY.upper()}], enis, LINKS, PRIMARY, {}, explicit)


def test_absent_interfaces_entries_of_one_mac_are_combined_or_refused():
    enis = resolve_enis([PRIMARY_SPEC], PRIMARY, LINKS)
    desired = desired_state(enis)
    absent = [{"mac": SECOND, "table": None}, {"mac": SECOND.upper().replace(":", "-"), "table": 3000}, {"mac": SECOND}]
    assert add_absent_interfaces(desired, absent, enis, LINKS) == ["eth1"]
    assert desired["purge"] == ["eth1"]
    # One slot, the given table's (the entry without a table only repeats the MAC); not also the derived one.
    assert set(desired["tables"]) - set(desired_state(enis)["tables"]) == set(range(3000, 3016))
    with pytest.raises(HostNetworkError) as error:
        absent = [{"mac": SECOND, "table": 3000}, {"mac": SECOND.upper(), "table": 3016}]
        add_absent_interfaces(desired_state(enis), absent, enis, LINKS)
    assert str(error.value).startswith(
        f"ENI {SECOND} is listed twice in absent_interfaces, as absent_interfaces[0] and absent_interfaces[1], and "
        "the two entries disagree (table 3000 against 3016)"
    )


def test_interfaces_from_metadata_refuses_one_mac_spelled_twice():
    macs = dict(METADATA["macs"])
    macs[SECOND.upper() + "/"] = macs[SECOND]
    with pytest.raises(HostNetworkError, match=f"metadata.macs lists MAC {SECOND} twice"):
        interfaces_from_metadata({**METADATA, "macs": macs})


@pytest.mark.parametrize(
    "interfaces, message",
    [
        ([spec(mac="00:16:3e:00:00:09")], "ENI 00:16:3e:00:00:09 matches no interface on this host"),
        ([spec(addresses=["10.0.3.20"])], "address 10.0.3.20 is outside the vSwitch CIDR block 10.0.2.0/24"),
        (
            [spec(mode="cut_through", addresses=["203.0.114.1"], cidr="203.0.113.0/28", gateway="203.0.113.1")],
            "EIP 203.0.114.1 is outside",
        ),
        ([spec(gateway="10.0.3.253")], "gateway 10.0.3.253 is outside its CIDR block 10.0.2.0/24"),
        ([spec(addresses=["10.0.2.253"])], "address 10.0.2.253 is the gateway itself"),
        (
            [spec(mac=PRIMARY, mode="cut_through")],
            "is the primary ENI: cut_through mode is only possible on a secondary ENI",
        ),
        (
            [spec(mac=PRIMARY, mode="multi_eip", eips=[{"ip": "203.0.113.2", "gateway": "203.0.113.1", "mask": "24"}])],
            "is the primary ENI",
        ),
        ([spec(), spec()], "is listed twice"),
        ([spec(), spec(mac=THIRD)], "address 10.0.2.20 is given for both ENI"),
        ([spec(table=2000), spec(mac=THIRD, addresses=["10.0.2.30"], table=2000)], "would both use table 2000"),
        (
            [
                spec(
                    table=2000, mode="multi_eip", eips=[{"ip": "203.0.113.2", "gateway": "203.0.113.1", "mask": "24"}]
                ),
                spec(mac=THIRD, addresses=["10.0.2.30"], table=2001),
            ],
            "would both use table 2001",
        ),
        ([spec(table=254)], "table 254 must be between 1000 and 32000"),
        ([spec(mode="cut_through", addresses=["10.0.2.20", "10.0.2.21"])], "cut-through mode carries exactly one EIP"),
        (
            [spec(eips=[{"ip": "203.0.113.2", "gateway": "203.0.113.1", "mask": "24"}])],
            "'eips' is only for multi_eip mode",
        ),
        ([spec(mode="multi_eip")], "multi_eip mode needs 'eips'"),
        (
            [spec(mode="multi_eip", eips=[{"ip": "203.0.113.2", "gateway": "203.0.114.1", "mask": "24"}])],
            "EIP gateway 203.0.114.1 is outside",
        ),
        ([spec(mode="multi_eip", eips=[{"ip": "203.0.113.2"}])], "each EIP needs ip, gateway and mask"),
        (
            [
                spec(
                    mode="multi_eip",
                    eips=[
                        {"ip": "203.0.113.2", "gateway": "203.0.113.1", "mask": "24"},
                        {"ip": "203.0.113.3", "gateway": "203.0.113.1", "mask": "28"},
                    ],
                )
            ],
            "disagree on the mask",
        ),
        (
            [spec(mode="multi_eip", eips=[{"ip": "10.0.2.20", "gateway": "10.0.2.1", "mask": "24"}])],
            "is also listed as a private address",
        ),
        ([spec(addresses=[])], "no addresses given or discovered"),
        ([spec(cidr=None)], "'cidr' (vSwitch CIDR block) and 'gateway' are required"),
        ([spec(mode="bridge")], "mode 'bridge' is not one of"),
        ([spec(addresses=["10.0.2.x"])], "'10.0.2.x' is not an IPv4 address"),
    ],
)
def test_resolve_enis_names_the_problem(interfaces, message):
    with pytest.raises(HostNetworkError) as error:
        resolve_enis(interfaces, PRIMARY, LINKS)
    assert message in str(error.value)


def test_resolve_enis_unknown_primary():
    with pytest.raises(HostNetworkError, match="primary ENI MAC 00:16:3e:00:00:09 matches no interface"):
        resolve_enis([spec()], "00:16:3e:00:00:09", LINKS)


def test_resolve_enis_matches_by_mac_not_name():
    enis = enis_for("shared_subnet")
    assert [(eni.mac, eni.device, eni.primary) for eni in enis] == [
        (PRIMARY, "eth0", True),
        (SECOND, "eth1", False),
        (THIRD, "ens7", False),
    ]
    assert enis[0].table is None and enis[1].table == table_for_mac(SECOND)


def test_resolve_enis_groups_eips_by_gateway_in_gateway_order():
    eni = enis_for("multi_eip")[1]
    assert eni.eip_groups == (
        EipGroup(eni.table + 1, "203.0.113.33", "203.0.113.32/28", ("203.0.113.34", "203.0.113.35")),
        EipGroup(eni.table + 2, "203.0.113.49", "203.0.113.48/29", ("203.0.113.50",)),
    )


def test_keep_blocks():
    assert keep_blocks(None) == () and keep_blocks([]) == ()
    assert keep_blocks(["10.0.2.100", " 10.0.2.100/28 ", "10.0.3.0/24"]) == (
        "10.0.2.100/32",
        "10.0.2.96/28",
        "10.0.3.0/24",
    )


@pytest.mark.parametrize("value", ["10.0.2.300", "vip", "", "2001:db8::1", "10.0.2.0/33"])
def test_keep_blocks_names_the_bad_entry(value):
    with pytest.raises(HostNetworkError) as raised:
        keep_blocks(["10.0.2.100", value])
    assert str(raised.value).startswith(f"keep_addresses[1]: '{value}' is not an IPv4 address or CIDR block; give")
