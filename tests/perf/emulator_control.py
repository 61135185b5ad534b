"""The emulator's control API (``/_emulator/...``) for the benchmarks of tests/perf, which run as scripts."""

from __future__ import annotations

import json
import urllib.request


class Control:
    """The emulator's control API, asked directly (never through a proxy)."""

    def __init__(self, endpoint: str, timeout: float = 60):
        self.base = f"http://{endpoint}/_emulator/"
        self.timeout = timeout
        self.opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def call(self, method: str, path: str, payload: dict | None = None) -> dict:
        data = json.dumps(payload).encode() if payload is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method)
        with self.opener.open(request, timeout=self.timeout) as response:
            return json.loads(response.read() or b"{}")
