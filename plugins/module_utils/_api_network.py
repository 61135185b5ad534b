# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note: this module util is PRIVATE to the collection. It can change at any time; do not use it from
# other collections or standalone plugins/modules.

"""API wrappers for the lookups a role makes before it creates anything: ECS security groups.

Same layering as ``_api``: the ``*_page`` function is decorated with :func:`api_call` (retries, error
translation), the public function reads every page, ``normalize_security_group`` returns a plain dict.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from ansible_collections.alicloud.eip.plugins.module_utils._api import _body, _inner_list, _text, chunks
from ansible_collections.alicloud.eip.plugins.module_utils._retries import api_call

# DescribeSecurityGroups: SecurityGroupIds is a JSON array of up to 100 IDs; MaxResults up to 100.
SECURITY_GROUP_BATCH = 100


def normalize_security_group(record: dict[str, Any]) -> dict[str, Any]:
    """One DescribeSecurityGroups record: the group and the VPC it belongs to."""
    return {
        "id": _text(record.get("SecurityGroupId")),
        "name": _text(record.get("SecurityGroupName")),
        "vpc_id": _text(record.get("VpcId")),
        "type": _text(record.get("SecurityGroupType")),
    }


@api_call("DescribeSecurityGroups")
def describe_security_groups_page(connection, security_group_ids: list[str], next_token: str | None) -> dict[str, Any]:
    """One page of DescribeSecurityGroups; ``SecurityGroupIds`` travels as JSON-array text, like InstanceIds."""
    from alibabacloud_ecs20140526 import models

    request = models.DescribeSecurityGroupsRequest(
        region_id=connection.region,
        security_group_ids=json.dumps(security_group_ids),
        max_results=SECURITY_GROUP_BATCH,
        next_token=next_token,
    )
    return _body(connection.ecs.describe_security_groups_with_options(request, connection.runtime()))


def describe_security_groups(connection, security_group_ids: Iterable[str]) -> list[dict[str, Any]]:
    """The security groups with these IDs that exist in the region, normalized (100 IDs per listing)."""
    groups = []
    for batch in chunks(
        list(dict.fromkeys(group_id for group_id in security_group_ids if group_id)), SECURITY_GROUP_BATCH
    ):
        token = None
        while True:
            body = describe_security_groups_page(connection, batch, token)
            groups.extend(
                normalize_security_group(record)
                for record in _inner_list(body.get("SecurityGroups"), "SecurityGroup")
                if isinstance(record, dict) and record.get("SecurityGroupId") in batch
            )
            token = body.get("NextToken")
            if not token:
                break
    return groups
