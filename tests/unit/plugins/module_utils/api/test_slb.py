"""Classic Load Balancer wrappers (plugins/module_utils/_api/slb.py): batches, records."""

from __future__ import annotations

from ansible_collections.alicloud.eip.plugins.module_utils._api import slb
from ansible_collections.alicloud.eip.tests.unit.plugins.module_utils.api.recording import connection


def test_describe_load_balancers_batches_ten():
    conn = connection(lambda name, request: {"TotalCount": 0, "LoadBalancers": {"LoadBalancer": []}})
    slb.describe_load_balancers(conn, [f"lb-{n}" for n in range(25)])
    assert [len(request.load_balancer_id.split(",")) for _name, request in conn.client.requests] == [10, 10, 5]


def test_normalize_load_balancer():
    balancer = slb.normalize_load_balancer(
        {"LoadBalancerId": "lb-1", "AddressType": "intranet", "LoadBalancerStatus": "active"}
    )
    assert (balancer["address_type"], balancer["status"]) == ("intranet", "active")
