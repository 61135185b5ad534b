"""A fake SDK connection for the API wrapper tests: answers every call from a function and records the requests."""

from __future__ import annotations

from types import SimpleNamespace

from ansible_collections.alicloud.eip.plugins.module_utils._retries import CallContext, RetryPolicy


class Body:
    """An SDK response body: ``to_map()`` gives the answer."""

    def __init__(self, data):
        self.data = data

    def to_map(self):
        return self.data


class RecordingClient:
    """Answers ``*_with_options`` calls from a function of the request, and records every request."""

    def __init__(self, answer):
        self.answer = answer
        self.requests = []

    def __getattr__(self, name):
        def call(request, runtime):
            self.requests.append((name, request))
            return SimpleNamespace(body=Body(self.answer(name, request)))

        return call


def connection(answer):
    """A connection whose clients (``vpc``, ``ecs``, ``slb``, all the same ``client``) answer with ``answer(name, request)``."""
    client = RecordingClient(answer)
    return SimpleNamespace(
        region="cn-hangzhou",
        vpc=client,
        ecs=client,
        slb=client,
        runtime=lambda: None,
        calls=CallContext(retry_policy=RetryPolicy(sleep=lambda s: None)),
        client=client,
    )
