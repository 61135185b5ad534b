"""Security group lookups (plugins/module_utils/_api_network.py): request shape, batches, pages, normalization."""

from __future__ import annotations

import json

from ansible_collections.alicloud.eip.plugins.module_utils import _api_network
from ansible_collections.alicloud.eip.tests.unit.plugins.module_utils.test_api import connection


def test_security_groups_by_json_id_list_in_batches_of_100_with_pages():
    existing = {f"sg-{n}": "vpc-1" for n in range(0, 150, 2)}

    def answer(name, request):
        ids = json.loads(request.security_group_ids)
        records = [{"SecurityGroupId": group, "VpcId": existing[group]} for group in ids if group in existing]
        start = int(request.next_token or 0)
        page = records[start : start + 30]
        following = start + 30
        return {
            "SecurityGroups": {"SecurityGroup": page},
            "NextToken": str(following) if following < len(records) else "",
        }

    conn = connection(answer)
    wanted = [f"sg-{n}" for n in range(150)]
    found = _api_network.describe_security_groups(conn, wanted + ["sg-0", ""])
    assert sorted(group["id"] for group in found) == sorted(existing)
    assert found[0] == {"id": "sg-0", "name": "", "vpc_id": "vpc-1", "type": ""}
    requests = [request for _name, request in conn.client.requests]
    assert [len(json.loads(r.security_group_ids)) for r in requests] == [100, 100, 50]
    assert [r.next_token for r in requests] == [None, "30", None]
    assert {r.max_results for r in requests} == {100}


def test_security_groups_of_nothing_makes_no_call():
    conn = connection(lambda name, request: {})
    assert _api_network.describe_security_groups(conn, []) == []
    assert conn.client.requests == []
