"""How many describes a first run and a re-run of many associations cost (issue 14, goal 2), through the real API
wrappers (``_api.namespace.API``) on a fake connection: the engine, the wrappers' batching and the normalizers of
the records together.  Calls are counted, nothing is timed.

First run of N associations: ceil(N/50) DescribeEipAddresses for the EIPs, the targets once (100 IDs a call), what
the targets hold read from their records (one DescribeEipAddresses per 50 EIPs found there and not known yet), and
then one DescribeEipAddresses per 50 pending EIPs per waiter round.  Re-run: ceil(N/50) describes, no mutating call.
"""

from __future__ import annotations

import json
import math
import threading
from types import SimpleNamespace

import pytest
from ansible_collections.alicloud.eip.plugins.module_utils._eip_association.engine import Options, converge
from ansible_collections.alicloud.eip.plugins.module_utils._eip_association.plan import PlanError
from ansible_collections.alicloud.eip.plugins.module_utils._polling import WaitPolicy
from ansible_collections.alicloud.eip.plugins.module_utils._retries import CallContext, RetryPolicy
from ansible_collections.alicloud.eip.tests.unit.plugins.module_utils.api.recording import RecordingClient
from ansible_collections.alicloud.eip.tests.unit.plugins.module_utils.eip_association.fakes import want_list

ACTIONS = {
    "describe_eip_addresses_with_options": "DescribeEipAddresses",
    "describe_network_interfaces_with_options": "DescribeNetworkInterfaces",
    "describe_instances_with_options": "DescribeInstances",
    "associate_eip_address_with_options": "AssociateEipAddress",
    "unassociate_eip_address_with_options": "UnassociateEipAddress",
    "list_ipv_4gateways_with_options": "ListIpv4Gateways",
}
MUTATING = ("AssociateEipAddress", "UnassociateEipAddress")


class Cloud:
    """EIPs, ENIs and ECS instances answering the SDK requests as the API does (alibaba-api.md §5.1, §8.1, §8.7).

    An association is ``Associating`` for ``rounds`` DescribeEipAddresses that show it, then ``InUse``.  The ENI and
    instance records show bound EIPs only (InUse), as the emulator does [fid:eni-associated-public-ip].
    """

    def __init__(self, rounds=2):
        self.rounds = rounds
        self.eips: dict[str, dict] = {}
        self.enis: dict[str, dict] = {}
        self.instances: dict[str, dict] = {}
        self.lock = threading.Lock()

    def add_eip(self, allocation_id, on=None, private_ip=""):
        instance_type, instance_id = on or ("", "")
        number = len(self.eips)
        self.eips[allocation_id] = {
            "AllocationId": allocation_id,
            "IpAddress": f"47.1.{number // 250}.{number % 250 + 1}",
            "Status": "InUse" if on else "Available",
            "InstanceType": instance_type,
            "InstanceId": instance_id,
            "PrivateIpAddress": private_ip,
            "Mode": "NAT" if on else "",
            "BusinessStatus": "Normal",
            "OperationLocks": {"LockReason": []},
            "polls": 0,
        }

    def add_instance(self, instance_id, primary_eni, primary_ip):
        self.instances[instance_id] = {"eni": primary_eni, "ip": primary_ip}
        self.enis[primary_eni] = {"type": "Primary", "instance": instance_id, "ips": [primary_ip]}

    def add_eni(self, eni_id, ips, instance_id=""):
        self.enis[eni_id] = {"type": "Secondary", "instance": instance_id, "ips": list(ips)}

    def _bound(self, instance_type, instance_id):
        return [
            eip
            for eip in self.eips.values()
            if (eip["InstanceType"], eip["InstanceId"]) == (instance_type, instance_id) and eip["Status"] == "InUse"
        ]

    def _eip_view(self, eip):
        if eip["Status"] == "Associating":
            eip["polls"] += 1
            if eip["polls"] >= self.rounds:
                eip["Status"] = "InUse"
        return {key: value for key, value in eip.items() if key != "polls"}

    def _public(self, eni_id, eni, address):
        on = [eip for eip in self._bound("NetworkInterface", eni_id) if eip["PrivateIpAddress"] == address]
        if not on and eni["type"] == "Primary" and address == eni["ips"][0]:
            on = self._bound("EcsInstance", eni["instance"])
        return {"PublicIpAddress": on[0]["IpAddress"], "AllocationId": on[0]["AllocationId"]} if on else None

    def _eni_view(self, eni_id):
        eni = self.enis[eni_id]
        sets = []
        for index, address in enumerate(eni["ips"]):
            entry = {"PrivateIpAddress": address, "Primary": index == 0}
            public = self._public(eni_id, eni, address)
            if public:
                entry["AssociatedPublicIp"] = public
            sets.append(entry)
        view = {
            "NetworkInterfaceId": eni_id,
            "Type": eni["type"],
            "Status": "InUse" if eni["instance"] else "Available",
            "InstanceId": eni["instance"],
            "VpcId": "vpc-1",
            "PrivateIpAddress": eni["ips"][0],
            "PrivateIpSets": {"PrivateIpSet": sets},
        }
        top = self._public(eni_id, eni, eni["ips"][0])
        if top:
            view["AssociatedPublicIp"] = top
        return view

    def _instance_view(self, instance_id):
        instance = self.instances[instance_id]
        own = self._bound("EcsInstance", instance_id)
        return {
            "InstanceId": instance_id,
            "Status": "Running",
            "InstanceNetworkType": "vpc",
            "InstanceType": "ecs.g5.large",
            "PublicIpAddress": {"IpAddress": []},
            "EipAddress": {"AllocationId": own[0]["AllocationId"], "IpAddress": own[0]["IpAddress"]} if own else {},
            "VpcAttributes": {"VpcId": "vpc-1"},
            "NetworkInterfaces": {
                "NetworkInterface": [
                    {"NetworkInterfaceId": instance["eni"], "Type": "Primary", "PrimaryIpAddress": instance["ip"]}
                ]
            },
        }

    def answer(self, name, request):
        with self.lock:
            return getattr(self, "_" + ACTIONS[name])(request)

    def _DescribeEipAddresses(self, request):
        if request.allocation_id:
            ids = request.allocation_id.split(",")
            assert len(ids) <= 50, "DescribeEipAddresses takes at most 50 allocation IDs"
            found = [self.eips[i] for i in ids if i in self.eips]
        else:
            key = (request.associated_instance_type, request.associated_instance_id)
            found = [eip for eip in self.eips.values() if (eip["InstanceType"], eip["InstanceId"]) == key]
        start = (request.page_number - 1) * request.page_size
        page = found[start : start + request.page_size]
        return {"TotalCount": len(found), "EipAddresses": {"EipAddress": [self._eip_view(eip) for eip in page]}}

    def _DescribeNetworkInterfaces(self, request):
        ids = list(request.network_interface_id or [])
        assert len(ids) <= 100
        views = [self._eni_view(eni_id) for eni_id in ids if eni_id in self.enis]
        return {"NetworkInterfaceSets": {"NetworkInterfaceSet": views}, "NextToken": "", "TotalCount": len(views)}

    def _DescribeInstances(self, request):
        ids = json.loads(request.instance_ids)
        assert len(ids) <= 100
        views = [self._instance_view(instance_id) for instance_id in ids if instance_id in self.instances]
        return {"Instances": {"Instance": views}, "NextToken": "", "TotalCount": len(views)}

    def _ListIpv4Gateways(self, request):
        return {"Ipv4GatewayModels": [], "NextToken": "", "TotalCount": 0}

    def _AssociateEipAddress(self, request):
        eip = self.eips[request.allocation_id]
        assert eip["Status"] == "Available", f"{request.allocation_id} is {eip['Status']}"
        eip.update(
            Status="Associating",
            InstanceId=request.instance_id,
            InstanceType=request.instance_type,
            PrivateIpAddress=request.private_ip_address or "",
            Mode=request.mode or "NAT",
            polls=0,
        )
        return {"RequestId": "R-associate"}


def connection(cloud):
    client = RecordingClient(cloud.answer)
    return SimpleNamespace(
        region="cn-hangzhou",
        vpc=client,
        ecs=client,
        runtime=lambda: None,
        calls=CallContext(retry_policy=RetryPolicy(sleep=lambda seconds: None)),
        client=client,
    )


class Run:
    """One converge on the fake cloud: the actions it sent, in order, and its waiter's rounds (its sleeps)."""

    def __init__(self, cloud, associations, check_mode=False):
        self.sleeps: list[float] = []
        conn = connection(cloud)
        policy = WaitPolicy(sleep=self.sleeps.append, clock=lambda: 0.0)
        self.result = converge(conn, want_list(*associations), Options(), check_mode, wait_policy=policy)
        self.actions = [ACTIONS[name] for name, _request in conn.client.requests]

    def count(self, action, before_mutating=False):
        actions = self.actions
        if before_mutating:
            first = next((index for index, action in enumerate(actions) if action in MUTATING), len(actions))
            actions = actions[:first]
        return actions.count(action)

    def waiter_describes(self):
        first = next(index for index, action in enumerate(self.actions) if action in MUTATING)
        return self.actions[first:].count("DescribeEipAddresses")


def nat_world(associations=120, enis=60, occupied=0):
    """``associations`` NAT-mode EIPs on the secondary private IPs of ``enis`` secondary ENIs, each attached to an
    instance; the first ``occupied`` ENIs already hold an EIP on their primary IP (not named by the request)."""
    cloud = Cloud()
    wanted = []
    per_eni = math.ceil(associations / enis)
    for number in range(enis):
        cloud.add_instance(f"i-{number:03d}", f"eni-p{number:03d}", f"10.1.{number}.2")
        cloud.add_eni(f"eni-{number:03d}", [f"10.1.{number}.10"] + [f"10.1.{number}.{20 + n}" for n in range(per_eni)])
        cloud.enis[f"eni-{number:03d}"]["instance"] = f"i-{number:03d}"
        if number < occupied:
            cloud.add_eip(
                f"eip-old{number:03d}", on=("NetworkInterface", f"eni-{number:03d}"), private_ip=f"10.1.{number}.10"
            )
    for index in range(associations):
        number, slot = divmod(index, per_eni)
        cloud.add_eip(f"eip-{index:03d}")
        wanted.append(
            {
                "allocation_id": f"eip-{index:03d}",
                "instance_id": f"eni-{number:03d}",
                "private_ip_address": f"10.1.{number}.{20 + slot}",
            }
        )
    return cloud, wanted


def ecs_world(associations=60):
    cloud = Cloud()
    wanted = []
    for number in range(associations):
        cloud.add_instance(f"i-{number:03d}", f"eni-p{number:03d}", f"10.2.{number}.2")
        cloud.add_eip(f"eip-{number:03d}")
        wanted.append({"allocation_id": f"eip-{number:03d}", "instance_id": f"i-{number:03d}"})
    return cloud, wanted


@pytest.mark.parametrize(
    ("world", "targets", "neighbours"),
    [
        # 120 NAT-mode associations on 60 secondary ENIs: the ENIs, then the instances they are attached to.
        (nat_world, ("DescribeNetworkInterfaces", 60), ("DescribeInstances", 60)),
        # 60 ECS instances: the instances, then their primary ENIs (a NAT-mode EIP there is the instance's address).
        (ecs_world, ("DescribeInstances", 60), ("DescribeNetworkInterfaces", 60)),
    ],
    ids=["nat-120-on-60-enis", "ecs-60"],
)
def test_a_first_run_describes_the_eips_and_targets_once_and_nothing_per_target(world, targets, neighbours):
    cloud, wanted = world()
    run = Run(cloud, wanted)
    n = len(wanted)
    assert run.result.changed and not run.result.failed
    assert all(eip["Status"] == "InUse" for eip in cloud.eips.values())
    assert run.count("AssociateEipAddress") == n
    # Before the first association: the EIPs (50 a call) and each kind of resource once (100 a call), no
    # DescribeEipAddresses per ENI or instance.
    assert run.count("DescribeEipAddresses", before_mutating=True) == math.ceil(n / 50)
    assert run.count(targets[0], before_mutating=True) == math.ceil(targets[1] / 100)
    assert run.count(neighbours[0], before_mutating=True) == math.ceil(neighbours[1] / 100)
    # The waiter: one DescribeEipAddresses per 50 pending EIPs per round (the cloud keeps each EIP Associating for
    # two describes that show it).
    rounds = len(run.sleeps)
    assert rounds == 2
    assert run.waiter_describes() == rounds * math.ceil(n / 50)
    assert run.count("DescribeEipAddresses") <= math.ceil(n / 50) + rounds * math.ceil(n / 50)

    rerun = Run(cloud, wanted)
    assert not rerun.result.changed
    assert rerun.actions == ["DescribeEipAddresses"] * math.ceil(n / 50)


def test_eips_a_target_already_holds_cost_one_batched_describe_and_keep_their_rule():
    """Ten ENIs hold an EIP on their primary IP: one DescribeEipAddresses for the ten, and a request for that
    address is still refused with the engine's message (in check mode as in the real run)."""
    cloud, wanted = nat_world(associations=120, enis=60, occupied=10)
    run = Run(cloud, wanted, check_mode=True)
    assert run.result.changed
    describes = [action for action in run.actions if action == "DescribeEipAddresses"]
    assert len(describes) == math.ceil(120 / 50) + 1
    assert "AssociateEipAddress" not in run.actions

    taken = [*wanted[:2], {"allocation_id": "eip-002", "instance_id": "eni-000", "private_ip_address": "10.1.0.10"}]
    for check_mode in (True, False):
        with pytest.raises(PlanError) as refused:
            Run(cloud, taken, check_mode=check_mode)
        assert refused.value.failures[0].code == "InvalidAssociation.Duplicated"
        assert "ENI eni-000 at 10.1.0.10 already holds EIP eip-old000" in str(refused.value)
    assert all(cloud.eips[f"eip-{index:03d}"]["Status"] == "Available" for index in range(3))


def test_an_instances_own_eip_is_read_from_its_record_and_refused_by_the_one_eip_rule():
    cloud, wanted = ecs_world(associations=3)
    cloud.add_eip("eip-own", on=("EcsInstance", "i-001"), private_ip="10.2.1.2")
    with pytest.raises(PlanError) as refused:
        Run(cloud, wanted, check_mode=True)
    assert refused.value.failures[0].code == "InvalidAssociation.Duplicated"
    assert "ECS instance i-001 already holds EIP eip-own" in str(refused.value)


def test_a_cut_through_request_still_looks_up_what_the_eni_holds():
    """UNCONFIRMED [fid:eni-associated-public-ip] whether an ENI's record shows cut-through bindings: a BINDED
    request reads the ENI's EIPs from DescribeEipAddresses (by associated instance) as well."""
    cloud = Cloud()
    cloud.add_eni("eni-cut", ["10.3.0.5"])
    cloud.add_eip("eip-1")
    connection_ = connection(cloud)
    converge(
        connection_,
        want_list({"allocation_id": "eip-1", "instance_id": "eni-cut", "mode": "BINDED"}),
        Options(),
        True,
        wait_policy=WaitPolicy(sleep=lambda seconds: None, clock=lambda: 0.0),
    )
    lookups = [
        request
        for name, request in connection_.client.requests
        if name == "describe_eip_addresses_with_options" and request.associated_instance_id
    ]
    assert [(r.associated_instance_type, r.associated_instance_id) for r in lookups] == [
        ("NetworkInterface", "eni-cut")
    ]
