"""Every module's RETURN block documents exactly the fields its records carry.

Ansible has no RETURN fragments, so the EIP record's block is written out in eip_association, eip_info,
eip_address and eip_recover (and the ENI, NAT gateway and SNAT entry blocks in two modules each).  This test
keeps every copy honest against the code that builds the records: the normalizers of the API layer, the
check-mode predictions of the engines, and the few fields a module adds itself (those are produced by calling
the module's own function on fakes, never listed here).  A field the code emits but the block leaves out, or a
block field the code never emits, fails with the module and the field's path.
"""

from __future__ import annotations

import ast
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from ansible_collections.alicloud.eip.plugins.module_utils import _eip_lifecycle, _eni, _havip
from ansible_collections.alicloud.eip.plugins.module_utils._api import ecs, vpc_eip, vpc_havip, vpc_network
from ansible_collections.alicloud.eip.plugins.module_utils._item_list import ItemOutcome
from ansible_collections.alicloud.eip.plugins.module_utils._retries import AlicloudApiError, CallContext, RetryPolicy
from ansible_collections.alicloud.eip.plugins.modules import eip_gateway_info, havip_info, nat_gateway_info, network_info

MODULES = Path(__file__).resolve().parents[4] / "plugins" / "modules"
TYPES = {"str": str, "int": int, "bool": bool, "list": list, "dict": dict}


# ---- records as the code emits them, every nested list holding one entry --------------------------------------
def eip_record() -> dict:
    return vpc_eip.normalize_eip(
        {
            "AllocationId": "eip-1",
            "IpAddress": "47.96.1.10",
            "Bandwidth": "5",
            "DeletionProtection": False,
            "OperationLocks": {"LockReason": [{"LockReason": "financial"}]},
            "Tags": {"Tag": [{"Key": "env", "Value": "prod"}]},
        }
    )


def predicted_eip() -> dict:
    """What eip_address and eip_recover return in check mode for an EIP that does not exist yet."""
    return _eip_lifecycle.new_eip_view({"bandwidth": 5, "tags": {"env": "prod"}}, "cn-hangzhou")


def interface_record() -> dict:
    return ecs.normalize_interface(
        {
            "NetworkInterfaceId": "eni-1",
            "Attachment": {"DeviceIndex": 1, "InstanceId": "i-1"},
            "PrivateIpSets": {
                "PrivateIpSet": [
                    {"PrivateIpAddress": "10.0.0.5", "Primary": True},
                    {
                        "PrivateIpAddress": "10.0.0.6",
                        "Primary": False,
                        "AssociatedPublicIp": {"PublicIpAddress": "47.96.1.11", "AllocationId": "eip-2"},
                    },
                ]
            },
            "SecurityGroupIds": {"SecurityGroupId": ["sg-1"]},
            "Tags": {"Tag": [{"TagKey": "env", "TagValue": "prod"}]},
        }
    )


def predicted_interface() -> dict:
    """What eni returns in check mode for an ENI it would create."""
    return _eni._predicted_new(
        {"vswitch_id": "vsw-1", "security_group_ids": ["sg-1"]}
    )  # pylint: disable=protected-access


def snat_entry_record() -> dict:
    return vpc_network.normalize_snat_entry({"SnatEntryId": "snat-1", "SnatIp": "47.96.1.12", "EipAffinity": "0"})


def nat_gateways(monkeypatch) -> list:
    """nat_gateway_info's own list_gateways on fakes: the normalizer's record plus what the module adds."""
    record = {
        "NatGatewayId": "ngw-1",
        "VpcId": "vpc-1",
        "NatGatewayPrivateInfo": {"VswitchId": "vsw-1", "IzNo": "cn-hangzhou-h"},
        "CreationTime": "2023-01-01T00:00:00Z",
        "IpLists": {"IpList": [{"AllocationId": "eip-1", "IpAddress": "47.96.1.10", "SnatEntryEnabled": True}]},
        "SnatTableIds": {"SnatTableId": ["stb-1"]},
        "ForwardTableIds": {"ForwardTableId": ["ftb-1"]},
    }
    monkeypatch.setattr(
        nat_gateway_info,
        "describe_nat_gateways",
        lambda *a, **k: [vpc_network.normalize_nat_gateway(record)],
    )
    monkeypatch.setattr(nat_gateway_info, "describe_vswitch_free_ips", lambda *a, **k: {"vsw-1": 200})
    monkeypatch.setattr(nat_gateway_info, "describe_snat_entries", lambda *a, **k: [snat_entry_record()])
    return nat_gateway_info.list_gateways(None, {"nat_gateway_ids": ["ngw-1"], "snat_entries": True})


def network(monkeypatch) -> dict:
    """network_info's own look_up on fakes (HaVips asked for, so ``havip_ids`` is there)."""
    instance = ecs.normalize_instance(
        {
            "InstanceId": "i-1",
            "PublicIpAddress": {"IpAddress": ["1.2.3.4"]},
            "VpcAttributes": {"VpcId": "vpc-1"},
            "NetworkInterfaces": {"NetworkInterface": [{"Type": "Primary", "NetworkInterfaceId": "eni-1"}]},
        }
    )
    vswitch = vpc_network.normalize_vswitch({"VSwitchId": "vsw-1", "AvailableIpAddressCount": 200})
    group = ecs.normalize_security_group({"SecurityGroupId": "sg-1"})
    monkeypatch.setattr(network_info, "describe_instances", lambda *a, **k: [instance])
    monkeypatch.setattr(network_info, "describe_vswitches", lambda *a, **k: [dict(vswitch)])
    monkeypatch.setattr(network_info, "havips_by_vswitch", lambda *a, **k: {"vsw-1": ["havip-1"]})
    monkeypatch.setattr(network_info, "describe_security_groups", lambda *a, **k: [group])
    params = {"instance_ids": ["i-1"], "vswitch_ids": ["vsw-1"], "security_group_ids": ["sg-1"], "havips": True}
    return network_info.look_up(None, params)


def gateway_entries() -> list:
    """eip_gateway_info's own gateway_entries: the API layer's DescribeEipGatewayInfo record plus allocation_id."""
    answer = {"EipInfos": {"EipInfo": [{"Ip": "47.96.1.10", "IpGw": "47.96.1.1", "IpMask": "255.255.255.0"}]}}
    response = SimpleNamespace(body=SimpleNamespace(to_map=lambda: answer))
    connection = SimpleNamespace(
        region="cn-hangzhou",
        runtime=lambda: None,
        calls=CallContext(retry_policy=RetryPolicy(sleep=lambda seconds: None)),
        vpc=SimpleNamespace(describe_eip_gateway_info_with_options=lambda request, runtime: response),
    )
    api = SimpleNamespace(
        describe_eip_gateway_info=lambda conn, eni_id: vpc_eip.describe_eip_gateway_info(connection, eni_id),
        describe_eip_addresses=lambda conn, **filters: [eip_record()],
    )
    return eip_gateway_info.gateway_entries(None, "eni-1", api=api)


def havip_record() -> dict:
    return vpc_havip.normalize_havip_record(
        {
            "HaVipId": "havip-1",
            "IpAddress": "192.168.0.100",
            "AssociatedInstances": {"associatedInstance": ["i-1"]},
            "AssociatedEipAddresses": {"associatedEipAddresse": ["47.96.1.10"]},
            "Tags": {"Tag": [{"Key": "app", "Value": "web"}]},
        }
    )


def predicted_havip() -> dict:
    """What havip returns in check mode for a HaVip it would create and associate."""
    request = _havip.validate_request(
        {"state": "present", "name": "web", "vswitch_id": "vsw-1", "tags": {"app": "web"}, "instance_ids": ["i-1"]}
    )
    targets = {"i-1": {"status": "Running", "vswitch_id": "vsw-1", "instance_id": "i-1", "primary_ip": ""}}
    return _havip.plan_havip(request, None, targets, {"id": "vsw-1", "vpc_id": "vpc-1", "cidr_block": ""}).after


def havips(monkeypatch) -> list:
    """havip_info's own describe on fakes: the normalizer's record plus the EIPs the module adds."""
    monkeypatch.setattr(havip_info, "list_ha_vips", lambda connection, filters, tags: [havip_record()])
    monkeypatch.setattr(havip_info, "describe_eip_addresses", lambda connection, **filters: [eip_record()])
    return havip_info.describe(None, {}, {}, None)


def address_outcome() -> dict:
    """One entry of eip_address's list form as _item_list renders it: a failed item with every optional key."""
    error = AlicloudApiError("QuotaExceeded.Eip", "quota", "R-1", 400, action="AllocateEipAddress")
    values = {"eip": eip_record(), "actions": ["AllocateEipAddress"]}
    return ItemOutcome(changed=True, failed=True, msg="failed", error=error.as_dict(), values=values).as_result()


def interface_outcome() -> dict:
    """One entry of eni's list form: a failed item with every optional key."""
    error = AlicloudApiError("X.Y", "no", "R-1", 400, action="AttachNetworkInterface")
    values = {"interface": interface_record(), "actions": ["attach"]}
    return ItemOutcome(changed=False, failed=True, msg="failed", error=error.as_dict(), values=values).as_result()


def fleet_gateway_entries() -> list:
    """eip_gateway_info's fleet_gateway_entries (network_interface_ids): the entries plus network_interface_id."""
    entry = {"ip": "47.96.1.10", "gateway": "47.96.1.1", "mask": "255.255.255.0"}
    api = SimpleNamespace(
        describe_eip_gateway_info=lambda conn, eni_id: [dict(entry)],
        describe_eip_addresses=lambda conn, **filters: [{**eip_record(), "instance_id": "eni-1"}],
    )
    return eip_gateway_info.fleet_gateway_entries(None, ["eni-1"], api=api)


# (module, RETURN key, how to get what the code puts under that key)
CASES = [
    ("eip_info", "eips", lambda mp: [eip_record()]),
    ("eip_association", "eips", lambda mp: [eip_record()]),
    ("eip_association", "eip", lambda mp: eip_record()),
    ("eip_address", "eip", lambda mp: eip_record()),
    ("eip_address", "eip", lambda mp: predicted_eip()),
    ("eip_address", "addresses", lambda mp: [address_outcome()]),
    ("eip_recover", "eip", lambda mp: eip_record()),
    ("eip_recover", "eip", lambda mp: predicted_eip()),
    ("eni_info", "interfaces", lambda mp: [interface_record()]),
    ("eni", "interface", lambda mp: interface_record()),
    ("eni", "interface", lambda mp: predicted_interface()),
    ("eni", "interfaces", lambda mp: [interface_outcome()]),
    ("snat_entry", "snat_entry", lambda mp: snat_entry_record()),
    ("nat_gateway_info", "nat_gateways", nat_gateways),
    ("network_info", "instances", lambda mp: network(mp)["instances"]),
    ("network_info", "vswitches", lambda mp: network(mp)["vswitches"]),
    ("network_info", "security_groups", lambda mp: network(mp)["security_groups"]),
    ("eip_gateway_info", "eips", lambda mp: gateway_entries()),
    ("eip_gateway_info", "eips", lambda mp: fleet_gateway_entries()),
    ("havip", "havip", lambda mp: havip_record()),
    ("havip", "havip", lambda mp: predicted_havip()),
    ("havip_info", "havips", havips),
]


# ---- the comparison ------------------------------------------------------------------------------------------
def return_block(module: str) -> dict:
    """The module's RETURN, parsed (read from the file, as ansible-doc does)."""
    tree = ast.parse((MODULES / f"{module}.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "RETURN" for t in node.targets):
            return yaml.safe_load(node.value.value) or {}
    raise AssertionError(f"{module}: no RETURN block")


def as_record(value):
    """The dict a value describes: itself, or the first entry of a list of dicts; else None."""
    if isinstance(value, dict):
        return value
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return value[0]
    return None


def mismatches(documented: dict, emitted: dict, path: str) -> list[str]:
    """Fields emitted but not documented, documented but not emitted, and types that disagree, recursively.

    Nested records are compared where the block documents them (``contains``), or, when it only shows a
    ``sample`` of a list of records, against the keys of that sample.  Free-form dicts (``tags``) are leaves; an
    empty list (a check-mode prediction) has no record to compare, its filled form is another case.
    """
    problems = [f"{path}.{name}: emitted but not documented" for name in sorted(set(emitted) - set(documented))]
    # A field documented as conditional (``returned``) may be absent from one record; some case must still emit it
    # (test_every_conditional_field_is_emitted_by_some_case).
    problems += [
        f"{path}.{name}: documented but never emitted"
        for name in sorted(set(documented) - set(emitted))
        if "returned" not in documented[name]
    ]
    for name in sorted(set(documented) & set(emitted)):
        entry, value = documented[name], emitted[name]
        expected = TYPES.get(entry.get("type"))
        if value is not None and expected is not None and not isinstance(value, expected):
            problems.append(f"{path}.{name}: documented as {entry['type']}, emitted {type(value).__name__}")
        nested = as_record(value)
        if entry.get("contains"):
            if nested is None and value not in ([], {}):
                problems.append(f"{path}.{name}: documents contains, but no record was emitted to compare")
            elif nested is not None:
                problems += mismatches(entry["contains"], nested, f"{path}.{name}")
        elif isinstance(value, list) and nested is not None:
            sample = as_record(entry.get("sample"))
            if sample is None:
                problems.append(f"{path}.{name}: a list of records with neither contains nor a sample record")
            else:
                documented_keys = {key: {} for key in sample}
                problems += mismatches(documented_keys, nested, f"{path}.{name}[sample]")
    return problems


@pytest.mark.parametrize("module, key, emit", CASES, ids=[f"{m}.{k}-{i}" for i, (m, k, _e) in enumerate(CASES)])
def test_return_block_documents_exactly_what_the_code_emits(monkeypatch, module, key, emit):
    block = return_block(module)
    assert key in block, f"{module}: RETURN does not document {key}"
    emitted = as_record(emit(monkeypatch))
    assert emitted, f"{module}.{key}: the code emitted no record to compare"
    problems = mismatches(block[key].get("contains") or {}, emitted, f"{module}.{key}")
    assert not problems, "\n".join(problems)


def test_every_conditional_field_is_emitted_by_some_case(monkeypatch):
    """The fields a RETURN block marks as conditional (``returned``) are emitted by at least one case of that key."""
    emitted: dict[tuple, set] = {}
    for module, key, emit in CASES:
        emitted.setdefault((module, key), set()).update(as_record(emit(monkeypatch)) or {})
    missing = [
        f"{module}.{key}.{name}"
        for (module, key), names in emitted.items()
        for name, entry in (return_block(module)[key].get("contains") or {}).items()
        if "returned" in entry and name not in names
    ]
    assert not missing, missing


def test_every_documented_record_is_checked():
    """Every RETURN key of every module whose value is a record (``contains``) is in CASES: a new module's
    record is not left unchecked."""
    checked = {(module, key) for module, key, _emit in CASES}
    records = {
        (path.stem, key)
        for path in sorted(MODULES.glob("*.py"))
        if path.stem != "__init__"
        for key, entry in return_block(path.stem).items()
        if entry.get("contains")
    }
    # Not records of the API: the engines' action logs and error details (checked by their own tests).
    not_api_records = {("eip_association", "actions"), ("eip_address", "error"), ("eip_association", "error")}
    not_api_records |= {("eip_recover", "error")}
    assert records - not_api_records <= checked, sorted(records - not_api_records - checked)


@pytest.mark.parametrize(
    "documented, emitted, expected",
    [
        pytest.param({"a": {"type": "str"}}, {"a": "x", "b": 1}, ["m.k.b: emitted but not documented"], id="extra"),
        pytest.param(
            {"a": {"type": "str"}, "c": {}}, {"a": "x"}, ["m.k.c: documented but never emitted"], id="missing"
        ),
        pytest.param({"a": {"type": "int"}}, {"a": "x"}, ["m.k.a: documented as int, emitted str"], id="type"),
        pytest.param(
            {"l": {"type": "list", "contains": {"x": {}}}},
            {"l": [{"x": 1, "y": 2}]},
            ["m.k.l.y: emitted but not documented"],
            id="nested",
        ),
        pytest.param(
            {"l": {"type": "list", "sample": [{"x": 1}]}},
            {"l": [{"x": 1, "z": 2}]},
            ["m.k.l[sample].z: emitted but not documented"],
            id="sample",
        ),
        pytest.param({"t": {"type": "dict"}}, {"t": {"env": "prod"}}, [], id="free-dict"),
    ],
)
def test_the_comparison_names_module_and_field(documented, emitted, expected):
    assert mismatches(documented, emitted, "m.k") == expected
