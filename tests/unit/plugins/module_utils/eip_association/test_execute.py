"""Step 4 of the association engine (_eip_association/execute.py): calls, waits and rollbacks, on FakeApi."""

from __future__ import annotations

from ansible_collections.alicloud.eip.plugins.module_utils._eip_association.execute import (
    execute_plan,
)
from ansible_collections.alicloud.eip.plugins.module_utils._eip_association.request import (
    validate_request,
)
from ansible_collections.alicloud.eip.plugins.module_utils._eip_association.snapshot import (
    gather_snapshot,
)
from ansible_collections.alicloud.eip.plugins.module_utils._retries import (
    AlicloudApiError,
)
from ansible_collections.alicloud.eip.tests.unit.plugins.module_utils.eip_association.fakes import (
    CONNECTION,
    ECS1,
    NO_WAIT,
    FakeApi,
    eip,
    instance,
    plan,
    want,
    want_list,
)


def run(api, desired, state="present", allow=False, force=False):
    snapshot = gather_snapshot(CONNECTION, desired, state, 60, api=api, wait_policy=NO_WAIT)
    result = plan(desired, snapshot, state, allow, force)
    return result, execute_plan(CONNECTION, result, wait=True, wait_timeout=60, api=api, wait_policy=NO_WAIT)


def test_replace_disassociates_waits_then_associates():
    api = FakeApi([eip("eip-new"), eip("eip-old", on=ECS1)], [(ECS1, instance("i-1"))])
    result, outcome = run(api, want(allocation_id="eip-new", instance_id="i-1"), allow=True)
    mutating = [call for call in api.calls if call[0] in ("AssociateEipAddress", "UnassociateEipAddress")]
    assert mutating == [("UnassociateEipAddress", "eip-old", "i-1"), ("AssociateEipAddress", "eip-new", "i-1")]
    assert not outcome.failed
    assert outcome.records["eip-new"]["instance_id"] == "i-1" and api.eips["eip-old"]["status"] == "Available"
    # Second run: in place, no mutating call, one describe.
    api.calls.clear()
    result, outcome = run(api, want(allocation_id="eip-new", instance_id="i-1"), allow=True)
    assert not result.changed and api.actions() == ["DescribeEipAddresses"]


def test_failed_association_puts_the_old_eip_back():
    rejected = AlicloudApiError(
        "InvalidAssociation.Duplicated", "Specified instance already is associated.", request_id="R9", status_code=400
    )
    api = FakeApi(
        [eip("eip-new"), eip("eip-old", on=ECS1)], [(ECS1, instance("i-1"))], fail={("associate", "eip-new"): rejected}
    )
    _result, outcome = run(api, want(allocation_id="eip-new", instance_id="i-1"), allow=True)
    assert outcome.failed
    assert outcome.failures[0].startswith("AssociateEipAddress (associate eip-new")
    assert (
        "InvalidAssociation.Duplicated: Specified instance already is associated. (HTTP 400, request id R9)"
        in outcome.failures[0]
    )
    assert outcome.rollbacks == [f"restored eip-old ({api.eips['eip-old']['ip_address']}) on ECS instance i-1"]
    assert api.eips["eip-old"]["instance_id"] == "i-1"


def test_failed_disassociation_skips_its_association_but_not_the_others():
    refused = AlicloudApiError("IncorrectEipStatus", "Current elastic IP status does not support this operation.")
    api = FakeApi(
        [eip("eip-1", on=("EcsInstance", "i-9")), eip("eip-2")],
        [(ECS1, instance("i-1")), (("EcsInstance", "i-9"), instance("i-9")), (("EcsInstance", "i-2"), instance("i-2"))],
        fail={("unassociate", "eip-1"): refused},
    )
    desired = want_list(
        {"allocation_id": "eip-1", "instance_id": "i-1"}, {"allocation_id": "eip-2", "instance_id": "i-2"}
    )
    _result, outcome = run(api, desired, allow=True)
    assert api.eips["eip-2"]["instance_id"] == "i-2"
    assert api.eips["eip-1"]["instance_id"] == "i-9"
    assert any("skipped associate eip-1" in failure for failure in outcome.failures)
    assert outcome.rollbacks == []


def test_absent_then_rerun_is_a_no_op():
    api = FakeApi([eip("eip-1", on=ECS1)], [(ECS1, instance("i-1"))])
    desired, _warnings = validate_request({"state": "absent", "allocation_id": "eip-1"})
    result, outcome = run(api, desired, state="absent")
    assert result.changed and not outcome.failed and api.eips["eip-1"]["status"] == "Available"
    api.calls.clear()
    result, _outcome = run(api, desired, state="absent")
    assert not result.changed and api.actions() == ["DescribeEipAddresses"]
