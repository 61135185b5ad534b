"""Host-side ENI configuration (plugins/module_utils/_host_network.py): input, plan, renderers, detection.

Rendered files are compared with golden files under ``host_network_golden/<case>/``; set
``ALICLOUD_EIP_UPDATE_GOLDEN=1`` to rewrite them after an intended change, then review the diff.
"""

from __future__ import annotations

import os

import pytest

from ansible_collections.alicloud.eip.plugins.module_utils import _host_network as hn

GOLDEN = os.path.join(os.path.dirname(__file__), "host_network_golden")
MARKER = "Ansible managed: test"

PRIMARY = "00:16:3e:00:00:01"
SECOND = "00:16:3e:00:00:02"
THIRD = "00:16:3e:00:00:03"


def link(name: str, mac: str, index: int, up: bool = True) -> dict:
    flags = ["BROADCAST", "MULTICAST"] + (["UP", "LOWER_UP"] if up else [])
    return {"ifindex": index, "ifname": name, "flags": flags, "link_type": "ether", "address": mac}


LINKS = [
    {
        "ifindex": 1,
        "ifname": "lo",
        "flags": ["LOOPBACK", "UP"],
        "link_type": "loopback",
        "address": "00:00:00:00:00:00",
    },
    link("eth0", PRIMARY, 2),
    link("eth1", SECOND, 3, up=False),
    link("ens7", THIRD, 4, up=False),
]

PRIMARY_SPEC = {"mac": PRIMARY, "addresses": ["10.0.1.10", "10.0.1.11"], "cidr": "10.0.1.0/24", "gateway": "10.0.1.253"}

CASES = {
    "nat": [
        PRIMARY_SPEC,
        {
            "mac": SECOND,
            "addresses": ["10.0.2.20", "10.0.2.21", "10.0.2.22"],
            "cidr": "10.0.2.0/24",
            "gateway": "10.0.2.253",
        },
    ],
    "shared_subnet": [
        PRIMARY_SPEC,
        {"mac": SECOND, "addresses": ["10.0.1.20"], "cidr": "10.0.1.0/24", "gateway": "10.0.1.253"},
        {"mac": THIRD, "addresses": ["10.0.1.30", "10.0.1.31"], "cidr": "10.0.1.0/24", "gateway": "10.0.1.253"},
    ],
    "cut_through": [
        PRIMARY_SPEC,
        {
            "mac": SECOND,
            "mode": "cut_through",
            "addresses": ["203.0.113.10"],
            "cidr": "203.0.113.0/28",
            "gateway": "203.0.113.1",
        },
    ],
    "multi_eip": [
        PRIMARY_SPEC,
        {
            "mac": SECOND,
            "mode": "multi_eip",
            "addresses": ["10.0.2.20"],
            "cidr": "10.0.2.0/24",
            "gateway": "10.0.2.253",
            "eips": [
                {"Ip": "203.0.113.50", "IpGw": "203.0.113.49", "IpMask": "255.255.255.248"},
                {"ip": "203.0.113.34", "gateway": "203.0.113.33", "mask": "28"},
                {"ip": "203.0.113.35", "gateway": "203.0.113.33", "mask": "255.255.255.240"},
            ],
        },
    ],
}


def enis_for(case: str) -> list:
    return hn.resolve_enis(CASES[case], PRIMARY, LINKS)


def empty_observed() -> dict:
    return {
        "addresses": {"eth0": ["10.0.1.10/24"]},
        "routes": [hn.Route(254, "default", "eth0", gateway="10.0.1.253")],
        "rules": [],
        "up": {"eth0": True},
    }


# ---- input ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("00:16:3E:AA:BB:CC", "00:16:3e:aa:bb:cc"),
        ("00-16-3e-aa-bb-cc", "00:16:3e:aa:bb:cc"),
        (" 00:16:3e:aa:bb:cc ", "00:16:3e:aa:bb:cc"),
    ],
)
def test_normalize_mac(text, expected):
    assert hn.normalize_mac(text) == expected


@pytest.mark.parametrize("text", ["", None, "00:16:3e:aa:bb", "00:16:3e:aa:bb:zz", "eth1"])
def test_normalize_mac_rejects(text):
    with pytest.raises(hn.HostNetworkError, match="is not a MAC address"):
        hn.normalize_mac(text)


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
    assert hn.table_for_mac(mac) == table


@pytest.mark.parametrize(
    "mac", [f"00:16:3e:{a:02x}:{b:02x}:{a ^ b:02x}" for a in range(0, 256, 37) for b in range(0, 256, 51)]
)
def test_table_for_mac_stays_in_its_range(mac):
    table = hn.table_for_mac(mac)
    assert hn.TABLE_BASE <= table <= hn.TABLE_BASE + hn.TABLE_SLOT * (hn.TABLE_SLOTS - 1)
    assert (table - hn.TABLE_BASE) % hn.TABLE_SLOT == 0
    assert table + hn.TABLE_SLOT - 1 < 32766


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
    primary, interfaces = hn.interfaces_from_metadata(METADATA)
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
    with pytest.raises(hn.HostNetworkError, match=message.replace("(", r"\(").replace("[", r"\[")):
        hn.interfaces_from_metadata(metadata)


def test_merge_interfaces_explicit_wins_per_key():
    discovered = hn.interfaces_from_metadata(METADATA)[1]
    merged = hn.merge_interfaces(
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
    merged = hn.merge_interfaces([], explicit)
    assert [item["mac"] for item in merged] == [SECOND]
    eni = hn.resolve_enis(merged, PRIMARY, LINKS)[0]
    assert (eni.mac, eni.device, eni.network, eni.gateway) == (SECOND, "eth1", "10.0.2.0/24", "10.0.2.253")
    assert (eni.mode, eni.addresses) == (expected["mode"], expected["addresses"])
    assert eni.table == expected.get("table", hn.table_for_mac(SECOND))
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
    with pytest.raises(hn.HostNetworkError) as error:
        hn.merge_interfaces(hn.interfaces_from_metadata(METADATA)[1], explicit)
    message = str(error.value)
    assert f"ENI {SECOND} is listed twice in interfaces, as interfaces[{first}] and interfaces[{second}]" in message
    assert clash in message
    assert "give each MAC (in any spelling) once in interfaces" in message


def test_merge_interfaces_metadata_and_one_explicit_entry_of_a_mac_still_merge():
    """The role passes metadata and the user's entries side by side: one explicit entry per MAC overrides metadata."""
    merged = hn.merge_interfaces(
        hn.interfaces_from_metadata(METADATA)[1], [{"mac": SECOND.upper(), "addresses": ["10.0.2.21"]}]
    )
    assert [item["addresses"] for item in merged if item["mac"] == SECOND] == [["10.0.2.21"]]


def test_merge_interfaces_names_the_entry_with_a_bad_mac():
    with pytest.raises(hn.HostNetworkError, match=r"interfaces\[1\]\.mac: '00:16:3e:zz:00:02' is not a MAC address"):
        hn.merge_interfaces([], [spec(), spec(mac="00:16:3e:zz:00:02")])


@pytest.mark.parametrize(
    "spelling", [SECOND, SECOND.upper(), SECOND.replace(":", "-"), SECOND.upper().replace(":", "-")]
)
def test_absent_interfaces_refuses_a_mac_also_configured_naming_both_entries(spelling):
    explicit = [spec(mac=PRIMARY, addresses=["10.0.1.10"], cidr="10.0.1.0/24", gateway="10.0.1.253"), spec()]
    enis = hn.resolve_enis(hn.merge_interfaces([], explicit), PRIMARY, LINKS)
    absent = [{"mac": "00:16:3e:00:00:09"}, {"mac": spelling, "table": None}]
    with pytest.raises(hn.HostNetworkError) as error:
        hn.add_absent_interfaces(hn.desired_state(enis), absent, enis, LINKS, PRIMARY, {"eth0": "default"}, explicit)
    message = str(error.value)
    assert f"ENI {SECOND} is listed as absent and as an interface to configure" in message
    assert "(absent_interfaces[1] and interfaces[1])" in message and "remove it from one of the two lists" in message
    # Only from metadata (no explicit entry): the message says so.
    with pytest.raises(hn.HostNetworkError, match=r"absent_interfaces\[1\], and the metadata still reports it"):
        hn.add_absent_interfaces(hn.desired_state(enis), absent, enis, LINKS, PRIMARY, {"eth0": "default"}, [])


def test_absent_interfaces_the_primary_mac_is_named_as_such_even_when_also_configured():
    """The more telling message wins: the primary ENI is never absent (extensions/molecule/eni_cut_through)."""
    explicit = [PRIMARY_SPEC]
    enis = hn.resolve_enis(explicit, PRIMARY, LINKS)
    with pytest.raises(hn.HostNetworkError, match=f"absent_interfaces lists {PRIMARY}, the primary ENI's MAC"):
        hn.add_absent_interfaces(hn.desired_state(enis), [{"mac": PRIMARY.upper()}], enis, LINKS, PRIMARY, {}, explicit)


def test_absent_interfaces_entries_of_one_mac_are_combined_or_refused():
    enis = hn.resolve_enis([PRIMARY_SPEC], PRIMARY, LINKS)
    desired = hn.desired_state(enis)
    absent = [{"mac": SECOND, "table": None}, {"mac": SECOND.upper().replace(":", "-"), "table": 3000}, {"mac": SECOND}]
    assert hn.add_absent_interfaces(desired, absent, enis, LINKS) == ["eth1"]
    assert desired["purge"] == ["eth1"]
    # One slot, the given table's (the entry without a table only repeats the MAC); not also the derived one.
    assert set(desired["tables"]) - set(hn.desired_state(enis)["tables"]) == set(range(3000, 3016))
    with pytest.raises(hn.HostNetworkError) as error:
        absent = [{"mac": SECOND, "table": 3000}, {"mac": SECOND.upper(), "table": 3016}]
        hn.add_absent_interfaces(hn.desired_state(enis), absent, enis, LINKS)
    assert str(error.value).startswith(
        f"ENI {SECOND} is listed twice in absent_interfaces, as absent_interfaces[0] and absent_interfaces[1], and "
        "the two entries disagree (table 3000 against 3016)"
    )


def test_interfaces_from_metadata_refuses_one_mac_spelled_twice():
    macs = dict(METADATA["macs"])
    macs[SECOND.upper() + "/"] = macs[SECOND]
    with pytest.raises(hn.HostNetworkError, match=f"metadata.macs lists MAC {SECOND} twice"):
        hn.interfaces_from_metadata({**METADATA, "macs": macs})


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
    with pytest.raises(hn.HostNetworkError) as error:
        hn.resolve_enis(interfaces, PRIMARY, LINKS)
    assert message in str(error.value)


def test_resolve_enis_unknown_primary():
    with pytest.raises(hn.HostNetworkError, match="primary ENI MAC 00:16:3e:00:00:09 matches no interface"):
        hn.resolve_enis([spec()], "00:16:3e:00:00:09", LINKS)


def test_resolve_enis_matches_by_mac_not_name():
    enis = enis_for("shared_subnet")
    assert [(eni.mac, eni.device, eni.primary) for eni in enis] == [
        (PRIMARY, "eth0", True),
        (SECOND, "eth1", False),
        (THIRD, "ens7", False),
    ]
    assert enis[0].table is None and enis[1].table == hn.table_for_mac(SECOND)


def test_resolve_enis_groups_eips_by_gateway_in_gateway_order():
    eni = enis_for("multi_eip")[1]
    assert eni.eip_groups == (
        hn.EipGroup(eni.table + 1, "203.0.113.33", "203.0.113.32/28", ("203.0.113.34", "203.0.113.35")),
        hn.EipGroup(eni.table + 2, "203.0.113.49", "203.0.113.48/29", ("203.0.113.50",)),
    )


# ---- desired state ------------------------------------------------------------------------------------------


def test_desired_state_nat():
    table = hn.table_for_mac(SECOND)
    state = hn.desired_state(enis_for("nat"))
    assert state["addresses"] == {"eth0": ["10.0.1.11/32"], "eth1": ["10.0.2.20/24", "10.0.2.21/32", "10.0.2.22/32"]}
    assert state["routes"] == [
        hn.Route(table, "10.0.2.0/24", "eth1", scope="link", src="10.0.2.20"),
        hn.Route(table, "default", "eth1", gateway="10.0.2.253"),
    ]
    # One rule per address on the secondary ENI, none for the primary ENI.
    assert state["rules"] == [hn.Rule(table, table, src=f"10.0.2.{last}/32") for last in (20, 21, 22)]
    assert state["sysctls"] == {"net/ipv4/conf/eth1/rp_filter": "2"}
    assert state["links"] == ["eth1"] and state["purge"] == ["eth1"] and state["tables"] == [table]


@pytest.mark.parametrize("primary_sysctls, primary_tuned", [(False, False), (True, True)])
def test_desired_state_arp_settings_for_a_shared_subnet(primary_sysctls, primary_tuned):
    state = hn.desired_state(enis_for("shared_subnet"), primary_sysctls=primary_sysctls)
    for device in ("eth1", "ens7"):
        assert state["sysctls"][f"net/ipv4/conf/{device}/arp_ignore"] == "1"
        assert state["sysctls"][f"net/ipv4/conf/{device}/arp_announce"] == "2"
    assert ("net/ipv4/conf/eth0/arp_ignore" in state["sysctls"]) is primary_tuned
    assert "net/ipv4/conf/eth0/rp_filter" not in state["sysctls"]


def test_desired_state_no_arp_settings_on_separate_subnets():
    assert not any("arp_" in key for key in hn.desired_state(enis_for("nat"))["sysctls"])


def test_desired_state_cut_through_keeps_the_internal_range_on_main():
    table = hn.table_for_mac(SECOND)
    state = hn.desired_state(enis_for("cut_through"))
    assert state["rules"] == [hn.Rule(table, table, src="203.0.113.10/32"), hn.Rule(999, 254, dst="100.64.0.0/10")]
    assert state["addresses"]["eth1"] == ["203.0.113.10/28"]


def test_desired_state_multi_eip():
    table = hn.table_for_mac(SECOND)
    state = hn.desired_state(enis_for("multi_eip"))
    assert state["addresses"]["eth1"] == ["10.0.2.20/24", "203.0.113.34/32", "203.0.113.35/32", "203.0.113.50/32"]
    assert hn.Route(table + 1, "default", "eth1", gateway="203.0.113.33") in state["routes"]
    assert hn.Route(table + 2, "203.0.113.48/29", "eth1", scope="link", src="203.0.113.50") in state["routes"]
    assert hn.Rule(table + 1, table + 1, src="203.0.113.35/32") in state["rules"]
    assert state["tables"] == [table, table + 1, table + 2]


# ---- observed state and plan ----------------------------------------------------------------------------

# Captured from `ip -j` on Linux 6.18 / iproute2 6.1 (trimmed).
ADDR_JSON = [
    {"ifname": "lo", "addr_info": [{"family": "inet", "local": "127.0.0.1", "prefixlen": 8, "scope": "host"}]},
    {"ifname": "eth0", "addr_info": [{"family": "inet", "local": "10.0.1.10", "prefixlen": 24, "scope": "global"}]},
    {
        "ifname": "eth1",
        "addr_info": [
            {"family": "inet", "local": "10.0.2.20", "prefixlen": 24, "scope": "global"},
            {"family": "inet", "local": "10.0.2.99", "prefixlen": 32, "scope": "global"},
        ],
    },
]
ROUTE_JSON = [
    {"dst": "default", "gateway": "10.0.1.253", "dev": "eth0", "flags": []},
    {"dst": "10.0.1.0/24", "dev": "eth0", "protocol": "kernel", "scope": "link", "prefsrc": "10.0.1.10", "flags": []},
    {"dst": "default", "gateway": "10.0.2.1", "dev": "eth1", "table": "TABLE", "protocol": "static", "flags": []},
    {
        "type": "local",
        "dst": "10.0.1.10",
        "dev": "eth0",
        "table": "local",
        "protocol": "kernel",
        "scope": "host",
        "prefsrc": "10.0.1.10",
        "flags": [],
    },
]
RULE_JSON = [
    {"priority": 0, "src": "all", "table": "local"},
    {"priority": 999, "src": "all", "dst": "100.64.0.0", "dstlen": 10, "table": "main"},
    {"priority": "TABLE", "src": "10.0.2.20", "table": "TABLE", "protocol": "static"},
    {"priority": "TABLE", "src": "10.0.2.99", "table": "TABLE"},
    {"priority": 100, "src": "all", "fwmark": "0x10", "table": "TABLE"},
    {"priority": 32766, "src": "all", "table": "main"},
]


def observed_nat() -> dict:
    table = str(hn.table_for_mac(SECOND))

    def fill(items):
        return [{key: (table if value == "TABLE" else value) for key, value in item.items()} for item in items]

    return hn.observed_state(ADDR_JSON, fill(ROUTE_JSON), fill(RULE_JSON), LINKS)


def test_observed_state_parses_ip_json():
    table = hn.table_for_mac(SECOND)
    observed = observed_nat()
    assert observed["addresses"] == {"eth0": ["10.0.1.10/24"], "eth1": ["10.0.2.20/24", "10.0.2.99/32"]}
    assert hn.Route(table, "default", "eth1", gateway="10.0.2.1") in observed["routes"]
    assert hn.Route(254, "10.0.1.0/24", "eth0", scope="link", src="10.0.1.10") in observed["routes"]
    assert not any(route.table == 255 for route in observed["routes"])
    # The fwmark rule is someone else's and is never parsed as ours.
    assert observed["rules"] == [
        hn.Rule(0, 255),
        hn.Rule(999, 254, dst="100.64.0.0/10"),
        hn.Rule(table, table, src="10.0.2.20/32"),
        hn.Rule(table, table, src="10.0.2.99/32"),
        hn.Rule(32766, 254),
    ]
    assert observed["up"] == {"lo": True, "eth0": True, "eth1": False, "ens7": False}


def test_plan_changes_from_the_observed_state():
    table = hn.table_for_mac(SECOND)
    desired = hn.desired_state(enis_for("nat"))
    changes = hn.plan_changes(desired, observed_nat(), {"net/ipv4/conf/eth1/rp_filter": "1\n"})
    argvs = [" ".join(change["argv"]) for change in changes if change["kind"] == "command"]
    assert argvs == [
        "ip link set dev eth1 up",
        "ip -4 addr add 10.0.1.11/32 dev eth0",
        "ip -4 addr add 10.0.2.21/32 dev eth1",
        "ip -4 addr add 10.0.2.22/32 dev eth1",
        f"ip -4 route replace 10.0.2.0/24 dev eth1 scope link src 10.0.2.20 table {table} proto static",
        f"ip -4 route replace default via 10.0.2.253 dev eth1 table {table} proto static",
        f"ip -4 rule add from 10.0.2.21/32 lookup {table} priority {table}",
        f"ip -4 rule add from 10.0.2.22/32 lookup {table} priority {table}",
        # Stale: the unassigned 10.0.2.99 and the 100.64.0.0/10 rule of a former cut-through setup.
        "ip -4 rule del to 100.64.0.0/10 lookup main priority 999",
        f"ip -4 rule del from 10.0.2.99/32 lookup {table} priority {table}",
        "ip -4 addr del 10.0.2.99/32 dev eth1",
    ]
    # Every change can be undone: a replaced route goes back to what it was.
    replaced = next(change for change in changes if "default" in change["argv"] and "replace" in change["argv"])
    assert replaced["undo"] == [
        [
            "ip",
            "-4",
            "route",
            "replace",
            "default",
            "via",
            "10.0.2.1",
            "dev",
            "eth1",
            "table",
            str(table),
            "proto",
            "static",
        ]
    ]
    assert changes[-1] == {
        "kind": "sysctl",
        "description": "net.ipv4.conf.eth1.rp_filter = 2",
        "key": "net/ipv4/conf/eth1/rp_filter",
        "value": "2",
        "old": "1",
    }


@pytest.mark.parametrize("case", sorted(CASES))
def test_plan_changes_is_idempotent(case):
    enis = enis_for(case)
    desired = hn.desired_state(enis)
    observed = empty_observed()
    sysctls = {key: "0" for key in desired["sysctls"]}
    assert hn.plan_changes(desired, observed, sysctls)
    after = hn.projected_state(desired, observed)
    assert hn.plan_changes(desired, {**after, "up": {eni.device: True for eni in enis}}, dict(desired["sysctls"])) == []


def test_plan_changes_replaces_a_wrong_prefix_on_a_secondary_eni_but_not_on_the_primary():
    desired = hn.desired_state(enis_for("nat"))
    observed = {
        **empty_observed(),
        "addresses": {"eth0": ["10.0.1.10/24", "10.0.1.11/24"], "eth1": ["10.0.2.21/24"]},
        "up": {"eth0": True, "eth1": True},
    }
    argvs = [
        " ".join(change["argv"])
        for change in hn.plan_changes(desired, observed, dict(desired["sysctls"]))
        if change["kind"] == "command"
    ]
    assert "ip -4 addr add 10.0.2.21/32 dev eth1" in argvs and "ip -4 addr del 10.0.2.21/24 dev eth1" in argvs
    assert not any("dev eth0" in argv for argv in argvs)


def test_plan_changes_missing_sysctl():
    desired = hn.desired_state(enis_for("nat"))
    with pytest.raises(hn.HostNetworkError, match="sysctl net.ipv4.conf.eth1.rp_filter does not exist"):
        hn.plan_changes(desired, empty_observed(), {"net/ipv4/conf/eth1/rp_filter": None})


def test_foreign_table_users():
    table = hn.table_for_mac(SECOND)
    enis = enis_for("nat")
    observed = {**empty_observed(), "routes": [hn.Route(table, "198.51.100.0/24", "eth0", gateway="10.0.1.1")]}
    problems = hn.foreign_table_users(hn.desired_state(enis), observed, enis)
    assert problems == [
        f"table {table} (for eth1) already holds a route that is not ours: 198.51.100.0/24 dev eth0; set 'table' for that ENI to an unused number"
    ]
    assert hn.foreign_table_users(hn.desired_state(enis), empty_observed(), enis) == []


@pytest.mark.parametrize(
    "address, touched", [("10.0.2.21", True), ("10.0.2.99", True), ("10.0.1.10", False), (None, False)]
)
def test_connection_problems(address, touched):
    observed = {**empty_observed(), "addresses": {"eth1": ["10.0.2.99/32"]}}
    problems = hn.connection_problems(enis_for("nat"), observed, address)
    assert bool(problems) is touched
    if touched:
        assert f"Ansible connects through {address} on eth1" in problems[0]


def test_main_default_device():
    assert hn.main_default_device(empty_observed()) == "eth0"
    assert hn.main_default_device({"routes": []}) is None


def test_runtime_view_lists_only_managed_state():
    table = hn.table_for_mac(SECOND)
    view = hn.runtime_view(observed_nat(), ["eth1"], [table], {"net/ipv4/conf/eth1/rp_filter": "1"})
    assert view == [
        "address 10.0.2.20/24 dev eth1",
        "address 10.0.2.99/32 dev eth1",
        f"route default via 10.0.2.1 dev eth1 table {table}",
        "rule 999: from all to 100.64.0.0/10 lookup main",
        f"rule {table}: from 10.0.2.20/32 lookup {table}",
        f"rule {table}: from 10.0.2.99/32 lookup {table}",
        "sysctl net.ipv4.conf.eth1.rp_filter = 1",
    ]


# ---- renderers (golden files) ---------------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["networkd", "nm", "netplan", "ifcfg"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_render_files_golden(case, backend):
    enis = enis_for(case)
    files = hn.render_files(backend, enis, hn.desired_state(enis), MARKER)
    directory = os.path.join(GOLDEN, case, backend)
    if os.environ.get("ALICLOUD_EIP_UPDATE_GOLDEN"):
        for relative, (content, _mode) in files.items():
            os.makedirs(os.path.dirname(os.path.join(directory, relative)), exist_ok=True)
            with open(os.path.join(directory, relative), "w", encoding="utf-8") as handle:
                handle.write(content)
    expected = {}
    for root, _dirs, names in os.walk(directory):
        for name in names:
            with open(os.path.join(root, name), encoding="utf-8") as handle:
                expected[os.path.relpath(os.path.join(root, name), directory)] = handle.read()
    assert expected, f"no golden files in {directory}"
    assert {path: content for path, (content, _mode) in files.items()} == expected
    for path, (content, mode) in files.items():
        assert content.startswith(f"# {MARKER}\n")
        assert mode == (0o600 if backend in ("nm", "netplan") and not path.startswith("etc/sysctl.d") else 0o644)


def test_render_files_never_writes_the_primary():
    enis = enis_for("nat")
    for backend in ("networkd", "nm", "ifcfg"):
        paths = hn.render_files(backend, enis, hn.desired_state(enis), MARKER)
        assert not any("000001" in path or "eth0" in path for path in paths)
    assert hn.render_files("none", enis, hn.desired_state(enis), MARKER) == {}


def test_render_files_puts_the_internal_rule_in_one_file_only():
    specs = CASES["cut_through"] + [
        {
            "mac": THIRD,
            "mode": "cut_through",
            "addresses": ["203.0.113.20"],
            "cidr": "203.0.113.16/28",
            "gateway": "203.0.113.17",
        }
    ]
    enis = hn.resolve_enis(specs, PRIMARY, LINKS)
    files = hn.render_files("networkd", enis, hn.desired_state(enis), MARKER)
    assert sum(content.count("To=100.64.0.0/10") for content, _mode in files.values()) == 1


def test_render_files_unknown_backend():
    with pytest.raises(hn.HostNetworkError, match="unknown backend 'wicked'"):
        hn.render_files("wicked", enis_for("nat"), hn.desired_state(enis_for("nat")), MARKER)


@pytest.mark.parametrize(
    "content, managed",
    [(f"# {MARKER}\n[Match]\n", True), ("[Match]\n", False), (f"#{MARKER}\n", False), ("", False)],
)
def test_is_managed_file(content, managed):
    assert hn.is_managed_file(content, MARKER) is managed


# ---- detection ----------------------------------------------------------------------------------------------

NETPLAN_NETWORKD = "network:\n  version: 2\n  renderer: networkd\n"
NETPLAN_NM = "network:\n  version: 2\n  renderer: NetworkManager\n"


@pytest.mark.parametrize(
    "daemons, netplan_texts, has_netplan, has_ifcfg, backend",
    [
        (set(), [NETPLAN_NETWORKD], True, False, "netplan"),
        ({"systemd-networkd"}, [NETPLAN_NETWORKD], True, False, "netplan"),
        (set(), ["network: {version: 2}\n"], True, False, "netplan"),
        (set(), [NETPLAN_NM], True, False, "nm"),
        ({"NetworkManager"}, [NETPLAN_NETWORKD], True, False, "nm"),
        ({"NetworkManager"}, [], False, True, "nm"),
        ({"systemd-networkd"}, [], False, True, "networkd"),
        ({"systemd-networkd"}, [NETPLAN_NETWORKD], False, False, "networkd"),
        (set(), [], False, True, "ifcfg"),
    ],
)
def test_detect_backend(daemons, netplan_texts, has_netplan, has_ifcfg, backend):
    assert hn.detect_backend(daemons, netplan_texts, has_netplan, has_ifcfg)[0] == backend


def test_detect_backend_refuses_to_guess():
    with pytest.raises(hn.HostNetworkError, match="could not tell which network stack"):
        hn.detect_backend(set(), [], False, False)


# ---- absent interfaces (scale-down) ---------------------------------------------------------------------------


def observed_after_detach(gone_table: int) -> dict:
    """The primary only, plus what a deleted multi-EIP ENI left: rules (the kernel keeps them) and a group route."""
    observed = empty_observed()
    observed["rules"] = [
        hn.Rule(gone_table, gone_table, src="10.0.2.20/32"),
        hn.Rule(gone_table + 1, gone_table + 1, src="203.0.113.34/32"),
        hn.Rule(32766, 254),
    ]
    observed["routes"].append(hn.Route(gone_table + 1, "default", "lo", gateway="203.0.113.33"))
    return observed


def test_absent_interface_rules_and_routes_are_removed_and_nothing_else():
    gone = hn.table_for_mac("00:16:3e:00:00:09")
    enis = hn.resolve_enis([PRIMARY_SPEC], PRIMARY, LINKS)
    desired = hn.desired_state(enis)
    present = hn.add_absent_interfaces(desired, [{"mac": "00:16:3E:00:00:09"}], enis, LINKS)
    assert present == []
    changes = hn.plan_changes(desired, observed_after_detach(gone), {})
    argvs = [" ".join(change["argv"]) for change in changes]
    assert argvs == [
        "ip -4 addr add 10.0.1.11/32 dev eth0",
        f"ip -4 rule del from 10.0.2.20/32 lookup {gone} priority {gone}",
        f"ip -4 rule del from 203.0.113.34/32 lookup {gone + 1} priority {gone + 1}",
        f"ip -4 route del default via 203.0.113.33 dev lo table {gone + 1}",
    ]


def test_absent_interface_without_leftovers_plans_nothing():
    enis = hn.resolve_enis([PRIMARY_SPEC], PRIMARY, LINKS)
    desired = hn.desired_state(enis)
    hn.add_absent_interfaces(desired, [{"mac": "00:16:3e:00:00:09", "table": 3000}], enis, LINKS)
    observed = empty_observed()
    observed["addresses"]["eth0"].append("10.0.1.11/32")
    assert 3000 in desired["tables"] and 3015 in desired["tables"] and 3016 not in desired["tables"]
    assert hn.plan_changes(desired, observed, {}) == []


def test_absent_interface_still_present_loses_its_addresses():
    enis = hn.resolve_enis([PRIMARY_SPEC], PRIMARY, LINKS)
    desired = hn.desired_state(enis)
    assert hn.add_absent_interfaces(desired, [{"mac": SECOND}], enis, LINKS) == ["eth1"]
    observed = empty_observed()
    observed["addresses"]["eth0"].append("10.0.1.11/32")
    observed["addresses"]["eth1"] = ["10.0.2.20/24", "10.0.2.21/32"]
    argvs = [" ".join(change["argv"]) for change in hn.plan_changes(desired, observed, {})]
    assert argvs == ["ip -4 addr del 10.0.2.20/24 dev eth1", "ip -4 addr del 10.0.2.21/32 dev eth1"]


def test_absent_interface_never_takes_a_configured_enis_tables():
    enis = enis_for("nat")
    desired = hn.desired_state(enis)
    with pytest.raises(
        hn.HostNetworkError, match=r"listed as absent and as an interface to configure \(absent_interfaces\[1\],"
    ):
        hn.add_absent_interfaces(desired, [{"mac": THIRD.upper()}, {"mac": SECOND.replace(":", "-")}], enis, LINKS)
    table = hn.table_for_mac(SECOND)
    # An absent ENI whose explicit table overlaps a configured ENI's slot leaves those tables alone.
    desired = hn.desired_state(enis)
    hn.add_absent_interfaces(desired, [{"mac": "00:16:3e:00:00:09", "table": table - 8}], enis, LINKS)
    observed = empty_observed()
    observed["rules"] = [hn.Rule(table, table, src="10.0.2.20/32")]
    changes = hn.plan_changes(desired, observed, {key: "2" for key in desired["sysctls"]})
    assert not any("rule del" in " ".join(change["argv"]) for change in changes if "argv" in change)


# ---- the host's way out (issue 9, items 11-14) ----------------------------------------------------------------


def observed_with_defaults(*defaults: dict, addresses: dict | None = None) -> dict:
    """The observed state ``observed_state`` returns, with the main table's default routes given as ``ip -j``."""
    route_json = [{"dst": "10.0.1.0/24", "dev": "eth0", "protocol": "kernel", "scope": "link", "prefsrc": "10.0.1.10"}]
    addr_json = []
    for device, cidrs in (addresses or {"eth0": ["10.0.1.10/24"]}).items():
        infos = []
        for cidr in cidrs:
            local, prefix = cidr.split("/")
            infos.append({"family": "inet", "local": local, "prefixlen": int(prefix)})
        addr_json.append({"ifname": device, "addr_info": infos})
    return hn.observed_state(addr_json, route_json + list(defaults), [], LINKS)


@pytest.mark.parametrize(
    "defaults, addresses, expected",
    [
        pytest.param([], None, {}, id="no-default-route"),
        pytest.param(
            [{"dst": "default", "gateway": "10.0.1.253", "dev": "eth0"}],
            None,
            {"eth0": "main table: default via 10.0.1.253 dev eth0"},
            id="plain",
        ),
        pytest.param(
            [
                {"dst": "default", "gateway": "10.0.1.253", "dev": "eth0", "metric": 100, "prefsrc": "10.0.1.10"},
                {"dst": "default", "gateway": "10.0.2.253", "dev": "eth1", "metric": 1001},
            ],
            None,
            {"eth0": "main table: default via 10.0.1.253 dev eth0 src 10.0.1.10 metric 100"},
            id="lowest-metric-only",
        ),
        pytest.param(
            [
                {"dst": "default", "gateway": "10.0.2.253", "dev": "eth1", "metric": 50},
                {"dst": "default", "gateway": "10.0.1.253", "dev": "eth0", "metric": 100},
            ],
            None,
            {"eth1": "main table: default via 10.0.2.253 dev eth1 metric 50"},
            id="the-kernel-uses-eth1",
        ),
        pytest.param(
            [{"dst": "default", "gateway": "10.0.2.253", "dev": "eth1", "prefsrc": "10.0.1.10"}],
            {"eth0": ["10.0.1.10/24"], "eth1": ["10.0.2.20/24"]},
            {
                "eth1": "main table: default via 10.0.2.253 dev eth1 src 10.0.1.10",
                "eth0": "it holds 10.0.1.10, the source of main table: default via 10.0.2.253 dev eth1 src 10.0.1.10",
            },
            id="source-address-elsewhere",
        ),
        pytest.param(
            [
                {
                    "dst": "default",
                    "metric": 10,
                    "nexthops": [
                        {"gateway": "10.0.1.253", "dev": "eth0", "weight": 1},
                        {"gateway": "10.0.2.253", "dev": "eth1", "weight": 1},
                    ],
                }
            ],
            None,
            {
                "eth0": "main table: default via 10.0.1.253 dev eth0 metric 10",
                "eth1": "main table: default via 10.0.2.253 dev eth1 metric 10",
            },
            id="multipath",
        ),
    ],
)
def test_main_egress(defaults, addresses, expected):
    assert hn.main_egress(observed_with_defaults(*defaults, addresses=addresses)) == expected


def test_main_egress_from_a_hand_made_observed_state():
    assert hn.main_egress(empty_observed()) == {"eth0": "main table: default via 10.0.1.253 dev eth0"}


EGRESS_ETH0 = {"dst": "default", "gateway": "10.0.1.253", "dev": "eth0", "protocol": "dhcp", "prefsrc": "10.0.1.10"}


@pytest.mark.parametrize(
    "absent, primary_mac, message",
    [
        ([{"mac": PRIMARY}], PRIMARY, f"absent_interfaces lists {PRIMARY}, the primary ENI's MAC"),
        ([{"mac": "00-16-3E-00-00-01"}], PRIMARY, "the primary ENI's MAC"),
        # primary_mac names another ENI: eth0 is refused for what it carries.
        (
            [{"mac": PRIMARY}],
            SECOND,
            f"absent_interfaces lists {PRIMARY}, which is eth0: it carries the route this host uses to leave",
        ),
    ],
)
def test_absent_interfaces_never_takes_the_way_out(absent, primary_mac, message):
    enis = hn.resolve_enis([CASES["nat"][1]], PRIMARY, LINKS) if primary_mac == PRIMARY else []
    desired = hn.desired_state(enis)
    egress = hn.main_egress(observed_with_defaults(EGRESS_ETH0))
    with pytest.raises(hn.HostNetworkError, match=message):
        hn.add_absent_interfaces(desired, absent, enis, LINKS, primary_mac, egress)


def test_absent_interfaces_still_take_a_secondary_off():
    egress = hn.main_egress(observed_with_defaults(EGRESS_ETH0))
    enis = hn.resolve_enis([PRIMARY_SPEC], PRIMARY, LINKS)
    desired = hn.desired_state(enis)
    assert hn.add_absent_interfaces(desired, [{"mac": SECOND}], enis, LINKS, PRIMARY, egress) == ["eth1"]
    table = hn.table_for_mac(SECOND)
    assert desired["table_owners"][table] == (f"absent ENI {SECOND}", "absent_interfaces[].table")


@pytest.mark.parametrize(
    "primary_mac, specs, refused",
    [
        (PRIMARY, CASES["nat"], []),
        # The wrong primary: eth0 would become a secondary ENI (purged, source rules into a table).
        (SECOND, [{**PRIMARY_SPEC, "addresses": ["10.0.1.10"]}, {**CASES["nat"][1]}], ["eth0"]),
    ],
)
def test_egress_problems(primary_mac, specs, refused):
    enis = hn.resolve_enis(specs, primary_mac, LINKS)
    problems = hn.egress_problems(enis, observed_with_defaults(EGRESS_ETH0), primary_mac)
    assert [problem.split("(")[1].split(")")[0] for problem in problems] == refused
    for problem in problems:
        assert "carries the route this host uses to leave (main table: default via 10.0.1.253 dev eth0" in problem
        assert f"the primary ENI is {primary_mac}: check primary_mac" in problem


@pytest.mark.parametrize(
    "cidr, address, gateway, problem",
    [
        ("10.0.2.0/24", "10.0.2.20", "10.0.2.253", None),
        ("10.0.1.0/24", "10.0.1.20", "10.0.1.253", None),  # the same vSwitch as the primary (shared_subnet)
        ("10.1.0.0/16", "10.1.2.20", "10.1.0.1", None),  # wider than the primary's, but another range
        ("10.0.0.0/8", "10.0.2.20", "10.0.2.253", "cidr 10.0.0.0/8 contains 10.0.1.0/24"),
        ("10.0.0.0/16", "10.0.2.20", "10.0.2.253", "cidr 10.0.0.0/16 contains 10.0.1.0/24"),
        ("0.0.0.0/0", "10.0.2.20", "10.0.2.253", "cidr 0.0.0.0/0 contains 10.0.1.0/24"),
        ("10.0.1.128/25", "10.0.1.200", "10.0.1.129", "cidr 10.0.1.128/25 lies inside 10.0.1.0/24"),
    ],
)
@pytest.mark.parametrize("primary_listed", [True, False])
def test_shadowing_problems(cidr, address, gateway, problem, primary_listed):
    specs = ([PRIMARY_SPEC] if primary_listed else []) + [
        {"mac": SECOND, "addresses": [address], "cidr": cidr, "gateway": gateway}
    ]
    enis = hn.resolve_enis(specs, PRIMARY, LINKS)
    # Without the primary in the input, the connected route of the default route's device protects its subnet.
    problems = hn.shadowing_problems(enis, observed_with_defaults(EGRESS_ETH0))
    if problem is None:
        assert problems == []
    else:
        assert len(problems) == 1 and problem in problems[0]
        assert problems[0].startswith(f"ENI {SECOND} (eth1): ") and "interfaces[].cidr" in problems[0]


@pytest.mark.parametrize(
    "rules, other, found",
    [
        pytest.param(
            lambda t: [hn.Rule(t, t, src="10.0.2.20/32"), hn.Rule(t, t, src="10.0.2.99/32")], [], [], id="ours"
        ),
        pytest.param(
            lambda t: [hn.Rule(500, t, src="10.0.0.0/16")], [], ["500: from 10.0.0.0/16 lookup {t}"], id="subnet"
        ),
        pytest.param(
            lambda t: [hn.Rule(700, t, src="10.0.2.20/32")], [], ["700: from 10.0.2.20/32 lookup {t}"], id="priority"
        ),
        pytest.param(
            lambda t: [hn.Rule(t, t, src="10.0.2.20/32", dst="10.9.0.0/16")],
            [],
            ["{t}: from 10.0.2.20/32 to 10.9.0.0/16 lookup {t}"],
            id="destination",
        ),
        pytest.param(lambda t: [hn.Rule(t + 1, t + 1, src="203.0.113.34/32")], [], [], id="ours-another-table"),
        pytest.param(lambda t: [hn.Rule(600, 4242)], [], [], id="not-our-table"),
        pytest.param(
            lambda t: [],
            [{"table": "T", "text": "600: from all fwmark 0x10 lookup T"}],
            ["600: from all fwmark 0x10 lookup {t}"],
            id="selector-rule",
        ),
    ],
)
def test_foreign_rule_users(rules, other, found):
    table = hn.table_for_mac(SECOND)
    enis = enis_for("nat")
    desired = hn.desired_state(enis)
    observed = {
        **empty_observed(),
        "rules": rules(table),
        "other_rules": [{"table": table, "text": item["text"].replace("T", str(table))} for item in other],
    }
    problems = hn.foreign_rule_users(desired, observed)
    assert [problem.split("'")[1] for problem in problems] == [text.format(t=table) for text in found]
    for problem in problems:
        assert f"looks up table {table}, which ENI {SECOND} (eth1) would use" in problem
        assert f"set interfaces[].table of ENI {SECOND} (eth1) to a number nothing else uses" in problem


def test_observed_state_keeps_selector_rules_as_someone_elses():
    observed = observed_nat()
    table = hn.table_for_mac(SECOND)
    assert observed["other_rules"] == [{"table": table, "text": f"100: from all fwmark 0x10 lookup {table}"}]
    expected = (
        f"the rule '100: from all fwmark 0x10 lookup {table}' is not one this module writes, but looks up table {table}, "
        f"which ENI {SECOND} (eth1) would use: something else uses that table; set interfaces[].table of ENI {SECOND} "
        "(eth1) to a number nothing else uses, or remove that rule"
    )
    assert hn.foreign_rule_users(hn.desired_state(enis_for("nat")), observed) == [expected]


DHCP_DEFAULT = {
    "dst": "default",
    "gateway": "10.0.1.253",
    "dev": "eth0",
    "protocol": "dhcp",
    "prefsrc": "10.0.1.10",
    "metric": 100,
    "flags": [],
}
PREFIX = {
    "dst": "10.0.1.0/24",
    "dev": "eth0",
    "protocol": "kernel",
    "scope": "link",
    "prefsrc": "10.0.1.10",
    "flags": [],
}
LOCAL = {
    "type": "local",
    "dst": "10.0.1.10",
    "dev": "eth0",
    "table": "local",
    "protocol": "kernel",
    "scope": "host",
    "prefsrc": "10.0.1.10",
    "flags": [],
}
OWN = {
    "dst": "default",
    "gateway": "10.0.2.253",
    "dev": "eth1",
    "table": "3000",
    "protocol": "boot",
    "flags": ["onlink"],
}
FOREIGN_TABLE = {"dst": "198.51.100.0/24", "gateway": "10.0.9.1", "dev": "eth9", "table": "77", "flags": []}


@pytest.mark.parametrize(
    "before, after, expected",
    [
        pytest.param([DHCP_DEFAULT, PREFIX, LOCAL], [DHCP_DEFAULT, PREFIX, LOCAL], [], id="nothing-lost"),
        pytest.param(
            [DHCP_DEFAULT, PREFIX, LOCAL],
            [],
            [
                "ip -4 route replace 10.0.1.0/24 dev eth0 proto kernel scope link src 10.0.1.10 table 254",
                "ip -4 route replace default via 10.0.1.253 dev eth0 proto dhcp src 10.0.1.10 metric 100 table 254",
            ],
            id="link-route-first-local-table-left-to-the-kernel",
        ),
        pytest.param(
            [OWN],
            [{**OWN, "protocol": "static", "flags": []}],
            ["ip -4 route replace default via 10.0.2.253 dev eth1 onlink proto boot table 3000"],
            id="rebuilt-differently",
        ),
        pytest.param([FOREIGN_TABLE], [], [], id="another-table-on-another-device"),
        pytest.param(
            [
                {
                    "dst": "default",
                    "metric": 5,
                    "flags": [],
                    "nexthops": [
                        {"gateway": "10.0.1.253", "dev": "eth0", "weight": 1, "flags": []},
                        {"gateway": "10.0.2.253", "dev": "eth1", "weight": 2, "flags": []},
                    ],
                }
            ],
            [],
            [
                (
                    "ip -4 route replace default metric 5 table 254 nexthop via 10.0.1.253 dev eth0 weight 1 nexthop via "
                    "10.0.2.253 dev eth1 weight 2"
                )
            ],
            id="multipath",
        ),
    ],
)
def test_routes_to_restore(before, after, expected):
    argvs = hn.routes_to_restore(before, after, {3000}, {"eth1"})
    assert [" ".join(argv) for argv in argvs] == expected


def test_routes_to_restore_covers_every_table_of_an_affected_device():
    route = {**FOREIGN_TABLE, "dev": "eth1"}
    assert hn.routes_to_restore([route], [], set(), {"eth1"}) == [
        ["ip", "-4", "route", "replace", "198.51.100.0/24", "via", "10.0.9.1", "dev", "eth1", "table", "77"]
    ]
