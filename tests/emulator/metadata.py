"""ECS instance metadata service (``http://100.100.100.200/latest/...``) for the seeded instances.

Placeholder: the metadata items are implemented by the metadata work package.
"""

from __future__ import annotations


def handle(store, instance_id: str, method: str, path: str, headers: dict) -> tuple[int, dict, str]:
    """Answer one metadata request for ``instance_id``: (status, extra headers, text body)."""
    return 404, {}, "Not Found"
