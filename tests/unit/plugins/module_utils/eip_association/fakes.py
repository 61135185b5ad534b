"""Shared helpers of the association engine's unit tests: normalized records, a Snapshot builder, and FakeApi,
an in-memory cloud behind the API functions the engine's ``api`` namespace offers."""

from __future__ import annotations

import copy
from types import SimpleNamespace

import pytest
from ansible_collections.alicloud.eip.plugins.module_utils._eip_association.plan import (
    PlanError,
    plan_changes,
)
from ansible_collections.alicloud.eip.plugins.module_utils._eip_association.request import (
    validate_request,
)
from ansible_collections.alicloud.eip.plugins.module_utils._eip_association.snapshot import (
    Snapshot,
)
from ansible_collections.alicloud.eip.plugins.module_utils._polling import WaitPolicy

# ---- helpers -------------------------------------------------------------------------------------


def eip(allocation_id, ip=None, status=None, on=None, private_ip="", mode="", **extra):
    """A normalized EIP record; ``on=(type, id)`` associates it."""
    instance_type, instance_id = on or ("", "")
    record = {
        "allocation_id": allocation_id,
        "ip_address": ip or f"47.0.0.{sum(map(ord, allocation_id)) % 250}",
        "status": status or ("InUse" if on else "Available"),
        "instance_id": instance_id,
        "instance_type": instance_type,
        "private_ip_address": private_ip,
        "mode": mode or ("NAT" if on else ""),
        "vpc_id": "",
        "business_status": "Normal",
        "operation_locks": [],
    }
    record.update(extra)
    return record


def instance(
    instance_id, status="Running", public_ips=(), primary_eni="", primary_ip="10.0.0.2", family="ecs.g5.large"
):
    return {
        "id": instance_id,
        "status": status,
        "network_type": "vpc",
        "instance_type": family,
        "vpc_id": "vpc-1",
        "public_ip_addresses": list(public_ips),
        "eip_allocation_id": "",
        "eip_address": "",
        "primary_eni_id": primary_eni,
        "primary_ip": primary_ip if primary_eni else "",
    }


def eni(eni_id, ips=("10.0.0.5",), kind="Secondary", status="Available", attached=""):
    return {
        "id": eni_id,
        "type": kind,
        "status": status if not attached or status != "Available" else "InUse",
        "instance_id": attached,
        "vpc_id": "vpc-1",
        "primary_ip": ips[0],
        "private_ips": [
            {"ip": ip, "primary": index == 0, "eip_allocation_id": "", "eip_address": ""}
            for index, ip in enumerate(ips)
        ],
        "eip_allocation_ids": [],
    }


def nat(gateway_id, status="Available", business="Normal", network="internet", uses=None):
    return {
        "id": gateway_id,
        "status": status,
        "business_status": business,
        "network_type": network,
        "eip_bind_mode": "MULTI_BINDED",
        "vpc_id": "vpc-1",
        "eips": [{"allocation_id": a, "ip_address": "", "using_status": u} for a, u in (uses or {}).items()],
    }


def havip(havip_id, status="Available"):
    return {"id": havip_id, "status": status, "ip_address": "10.0.0.200", "vpc_id": "vpc-1", "eip_addresses": []}


def clb(lb_id, address_type="intranet"):
    return {
        "id": lb_id,
        "status": "active",
        "address_type": address_type,
        "network_type": "vpc",
        "address": "10.0.0.9",
        "vpc_id": "vpc-1",
    }


def world(eips=(), resources=(), region="cn-hangzhou"):
    """A Snapshot whose ``held`` lists are derived from the EIP records, as the describes would give them."""
    snapshot = Snapshot(region=region)
    snapshot.add_eips(eips)
    for key, record in resources:
        snapshot.resources[key] = record
        snapshot.held[key] = [e["allocation_id"] for e in eips if (e["instance_type"], e["instance_id"]) == key]
    return snapshot


def want(**options):
    params = {"state": "present", **options}
    desired, _warnings = validate_request(params)
    return desired


def want_list(*items, state="present"):
    desired, _warnings = validate_request({"state": state, "associations": list(items)})
    return desired


def plan(desired, snapshot, state="present", allow=False, force=False):
    return plan_changes(desired, snapshot, state, allow, force)


def steps(result):
    return [
        (step.kind, step.allocation_id, step.holder.instance_id, step.holder.private_ip_address, step.holder.mode)
        for step in result.steps
    ]


def failure(desired, snapshot, state="present", allow=False, force=False):
    with pytest.raises(PlanError) as excinfo:
        plan(desired, snapshot, state, allow, force)
    return excinfo.value


ECS1 = ("EcsInstance", "i-1")
ENI1 = ("NetworkInterface", "eni-1")


class FakeApi:
    """An in-memory cloud behind the API functions; records every call.  Changes take effect at once."""

    def __init__(self, eips=(), resources=(), fail=None, gateways=()):
        self.eips = {record["allocation_id"]: dict(record) for record in eips}
        self.resources = dict(resources)
        self.calls: list[tuple] = []
        self.fail = fail or {}
        self.gateways = list(gateways)  # normalized IPv4 gateways, as list_ipv4_gateways returns them

    def _held(self, instance_type, instance_id):
        return [
            dict(e)
            for e in self.eips.values()
            if (e["instance_type"], e["instance_id"]) == (instance_type, instance_id)
        ]

    def describe_eip_addresses(
        self,
        connection,
        allocation_ids=None,
        ip_addresses=None,
        associated_instance_type=None,
        associated_instance_id=None,
        **filters,
    ):
        assert not any(filters.values()), f"the fake does not filter by {filters}"
        self.calls.append(("DescribeEipAddresses", tuple(allocation_ids or ip_addresses or (associated_instance_id,))))
        if associated_instance_id:
            return self._held(associated_instance_type, associated_instance_id)
        wanted = set(allocation_ids or ip_addresses)
        return [dict(e) for e in self.eips.values() if e["allocation_id"] in wanted or e["ip_address"] in wanted]

    def _bound(self, instance_type, instance_id):
        """The EIPs a resource's own record shows: bound ones (InUse, Unassociating), as the emulator shows them."""
        return [
            e
            for e in self.eips.values()
            if (e["instance_type"], e["instance_id"]) == (instance_type, instance_id)
            and e["status"] in ("InUse", "Unassociating")
        ]

    def _answer(self, kind, record):
        """The record as DescribeInstances / DescribeNetworkInterfaces answer: with the EIPs it shows."""
        record = copy.deepcopy(record)
        if kind == "EcsInstance":
            own = self._bound(kind, record["id"])
            record["eip_allocation_id"] = own[0]["allocation_id"] if own else ""
            record["eip_address"] = own[0]["ip_address"] if own else ""
        elif kind == "NetworkInterface":
            on = self._bound(kind, record["id"])
            for entry in record["private_ips"]:
                here = [e for e in on if (e["private_ip_address"] or record["primary_ip"]) == entry["ip"]]
                if not here and entry["primary"] and record["type"] == "Primary" and record["instance_id"]:
                    here = self._bound("EcsInstance", record["instance_id"])  # the instance's EIP is its public side
                entry["eip_allocation_id"] = here[0]["allocation_id"] if here else ""
                entry["eip_address"] = here[0]["ip_address"] if here else ""
            shown = [entry["eip_allocation_id"] for entry in record["private_ips"]] + [e["allocation_id"] for e in on]
            record["eip_allocation_ids"] = list(dict.fromkeys(a for a in shown if a))
        return record

    def _describe(self, kind, action):
        def describe(connection, ids):
            self.calls.append((action, tuple(ids)))
            return [self._answer(kind, self.resources[(kind, i)]) for i in ids if (kind, i) in self.resources]

        return describe

    def __getattr__(self, name):
        kinds = {
            "describe_instances": ("EcsInstance", "DescribeInstances"),
            "describe_network_interfaces": ("NetworkInterface", "DescribeNetworkInterfaces"),
            "describe_nat_gateways": ("Nat", "DescribeNatGateways"),
            "describe_ha_vips": ("HaVip", "DescribeHaVips"),
            "describe_load_balancers": ("SlbInstance", "DescribeLoadBalancers"),
        }
        if name in kinds:
            return self._describe(*kinds[name])
        raise AttributeError(name)

    def list_ipv4_gateways(self, connection, vpc_ids):
        self.calls.append(("ListIpv4Gateways", tuple(vpc_ids)))
        return [dict(gateway) for gateway in self.gateways if gateway["vpc_id"] in vpc_ids]

    def associate_eip_address(
        self, connection, allocation_id, instance_id, instance_type, private_ip_address=None, mode=None, vpc_id=None
    ):
        self.calls.append(("AssociateEipAddress", allocation_id, instance_id))
        if ("associate", allocation_id) in self.fail:
            raise self.fail[("associate", allocation_id)]
        self.eips[allocation_id].update(
            status="InUse",
            instance_id=instance_id,
            instance_type=instance_type,
            private_ip_address=private_ip_address or "",
            mode=mode or "NAT",
        )
        return "R"

    def unassociate_eip_address(
        self, connection, allocation_id, instance_id, instance_type, private_ip_address=None, force=None
    ):
        self.calls.append(("UnassociateEipAddress", allocation_id, instance_id))
        if ("unassociate", allocation_id) in self.fail:
            raise self.fail[("unassociate", allocation_id)]
        self.eips[allocation_id].update(
            status="Available", instance_id="", instance_type="", private_ip_address="", mode=""
        )
        return "R"

    def actions(self):
        return [call[0] for call in self.calls]


CONNECTION = SimpleNamespace(region="cn-hangzhou")
NO_WAIT = WaitPolicy(sleep=lambda seconds: None, clock=lambda: 0.0)


def gateway(vpc_id, enabled=True):
    """A normalized IPv4 gateway (as list_ipv4_gateways returns it)."""
    return {"id": f"ipv4gw-{vpc_id[4:]}", "vpc_id": vpc_id, "name": "", "status": "Created", "enabled": enabled}


def with_gateways(snapshot, **vpcs):
    """The snapshot with the looked-up VPCs: ``vpc_1=gateway(...)`` or ``vpc_1=None`` (looked up, has none)."""
    snapshot.ipv4_gateways.update({name.replace("_", "-"): record for name, record in vpcs.items()})
    return snapshot


IP_TARGET = {"allocation_id": "eip-1", "instance_id": "10.0.0.9", "vpc_id": "vpc-1"}
CUT_THROUGH = {"allocation_id": "eip-1", "instance_id": "eni-1", "mode": "BINDED"}
MULTI = {"allocation_id": "eip-1", "instance_id": "eni-1", "mode": "MULTI_BINDED"}
