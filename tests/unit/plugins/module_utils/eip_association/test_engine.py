"""The one door of the association engine (_eip_association/engine.py): converge, on FakeApi."""

from __future__ import annotations

import ast
import pathlib

import pytest
from ansible_collections.alicloud.eip.plugins.module_utils._eip_association import engine
from ansible_collections.alicloud.eip.plugins.module_utils._eip_association.engine import Options, converge
from ansible_collections.alicloud.eip.plugins.module_utils._eip_association.plan import PlanError
from ansible_collections.alicloud.eip.plugins.module_utils._eip_association.request import Desired, validate_target
from ansible_collections.alicloud.eip.plugins.module_utils._retries import AlicloudApiError
from ansible_collections.alicloud.eip.tests.unit.plugins.module_utils.eip_association.fakes import (
    CONNECTION,
    ECS1,
    NO_WAIT,
    FakeApi,
    eip,
    instance,
    want,
)

I2 = ("EcsInstance", "i-2")
MUTATING = ("AssociateEipAddress", "UnassociateEipAddress")


def mutating(api):
    return [call for call in api.calls if call[0] in MUTATING]


def test_check_mode_plans_with_a_seeded_eip_that_does_not_exist_yet():
    api = FakeApi([], [(I2, instance("i-2"))])
    pending = eip("eip-back", ip="47.0.0.8")
    target, _warnings = validate_target({"instance_id": "i-2"})
    result = converge(
        CONNECTION, [target.naming(pending)], Options(), True, api=api, wait_policy=NO_WAIT, seeded=[pending]
    )
    assert [(step.kind, step.allocation_id, step.holder.instance_id) for step in result.plan.steps] == [
        ("associate", "eip-back", "i-2")
    ]
    assert result.changed and result.eip == pending and result.outcome is None
    # The seeded EIP is taken as given: not described, and nothing is called that changes anything.
    assert ("DescribeEipAddresses", ("eip-back",)) not in api.calls
    assert mutating(api) == []


def test_a_seeded_eip_named_by_address_only_is_planned_by_its_address():
    api = FakeApi([eip("eip-old", on=ECS1)], [(ECS1, instance("i-1"))])
    pending = {**eip("eip-x", ip="47.0.0.9"), "allocation_id": ""}
    target, _warnings = validate_target({"instance_id": "i-1"})
    desired = target.naming(pending)
    assert (desired.allocation_id, desired.ip_address) == (None, "47.0.0.9")
    with pytest.raises(PlanError) as refused:
        converge(CONNECTION, [desired], Options(), True, api=api, wait_policy=NO_WAIT, seeded=[pending])
    assert refused.value.failures[0].code == "InvalidAssociation.Duplicated"
    assert "replace it with 47.0.0.9 (the old EIP" in str(refused.value)
    assert ("DescribeEipAddresses", ("47.0.0.9",)) not in api.calls


def test_check_mode_and_the_real_run_refuse_alike_through_the_door():
    api = FakeApi([eip("eip-1"), eip("eip-old", on=ECS1)], [(ECS1, instance("i-1"))])
    messages = []
    for check_mode in (True, False):
        with pytest.raises(PlanError) as refused:
            converge(
                CONNECTION,
                want(allocation_id="eip-1", instance_id="i-1"),
                Options(),
                check_mode,
                api=api,
                wait_policy=NO_WAIT,
            )
        messages.append(refused.value.as_dict())
    assert messages[0] == messages[1] and mutating(api) == []


def test_a_real_run_acts_and_returns_the_final_records():
    api = FakeApi([eip("eip-1")], [(ECS1, instance("i-1"))])
    result = converge(
        CONNECTION, want(allocation_id="eip-1", instance_id="i-1"), Options(), False, api=api, wait_policy=NO_WAIT
    )
    assert mutating(api) == [("AssociateEipAddress", "eip-1", "i-1")]
    assert not result.failed and (result.eip["status"], result.eip["instance_id"]) == ("InUse", "i-1")
    api.calls.clear()
    again = converge(
        CONNECTION, want(allocation_id="eip-1", instance_id="i-1"), Options(), False, api=api, wait_policy=NO_WAIT
    )
    assert not again.changed and api.actions() == ["DescribeEipAddresses"]


def test_failures_and_rollbacks_are_joined_in_one_message():
    rejected = AlicloudApiError("InvalidAssociation.Duplicated", "already", request_id="R9", status_code=400)
    api = FakeApi(
        [eip("eip-new"), eip("eip-old", on=ECS1)], [(ECS1, instance("i-1"))], fail={("associate", "eip-new"): rejected}
    )
    result = converge(
        CONNECTION,
        want(allocation_id="eip-new", instance_id="i-1"),
        Options(allow_reassociation=True),
        False,
        api=api,
        wait_policy=NO_WAIT,
    )
    assert result.failed and result.first_error is rejected
    message = result.failure_message()
    assert message.startswith("AssociateEipAddress (associate eip-new")
    assert message.endswith(f". Rollback: restored eip-old ({api.eips['eip-old']['ip_address']}) on ECS instance i-1")
    assert result.rollbacks == [message.split(". Rollback: ")[1]]


def test_without_wait_the_eips_are_read_back_once():
    api = FakeApi([eip("eip-1")], [(ECS1, instance("i-1"))])
    result = converge(
        CONNECTION,
        want(allocation_id="eip-1", instance_id="i-1"),
        Options(wait=False),
        False,
        api=api,
        wait_policy=NO_WAIT,
    )
    assert api.actions()[-2:] == ["AssociateEipAddress", "DescribeEipAddresses"]
    assert result.eip["instance_id"] == "i-1" and result.warnings == []


def test_a_failed_read_back_is_a_warning_not_a_failure():
    api = FakeApi([eip("eip-1")], [(ECS1, instance("i-1"))])
    describe = api.describe_eip_addresses

    def describe_until_changed(connection, **filters):
        if "AssociateEipAddress" in api.actions():
            raise AlicloudApiError("Throttling", "slow down", request_id="R1")
        return describe(connection, **filters)

    api.describe_eip_addresses = describe_until_changed
    result = converge(
        CONNECTION,
        want(allocation_id="eip-1", instance_id="i-1"),
        Options(wait=False),
        False,
        api=api,
        wait_policy=NO_WAIT,
    )
    assert not result.failed
    assert len(result.warnings) == 1 and "reading them back failed: Throttling" in result.warnings[0]


def test_absent_through_the_door():
    api = FakeApi([eip("eip-1", on=ECS1)], [(ECS1, instance("i-1"))])
    result = converge(
        CONNECTION, [Desired("", allocation_id="eip-1")], Options(state="absent"), False, api=api, wait_policy=NO_WAIT
    )
    assert mutating(api) == [("UnassociateEipAddress", "eip-1", "i-1")] and result.eip["status"] == "Available"


def test_only_the_door_imports_the_api_module():
    """The api namespace is chosen in one place (engine.py); the other files take it as a parameter."""
    package = pathlib.Path(engine.__file__).parent
    importers = []
    for path in sorted(package.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.endswith("._api.namespace"):
                importers.append(path.name)
    assert importers == ["engine.py"]
