"""Retries, error translation, ClientTokens and flow limits (plugins/module_utils/_retries.py)."""

from __future__ import annotations

import pytest
from alibabacloud_credentials.exceptions import CredentialException
from alibabacloud_tea_openapi.exceptions import ClientException, ServerException, ThrottlingException
from ansible_collections.alicloud.eip.plugins.module_utils._retries import (
    TRANSPORT_ERROR,
    AlicloudApiError,
    CallContext,
    RateLimiter,
    RetryPolicy,
    api_call,
    call_with_retries,
    translate_exception,
)
from darabonba.exceptions import RetryError, UnretryableException
from darabonba.policy.retry import RetryPolicyContext


def client_error(code, status=400, message="boom", request_id="R1", retry_after=None, kind=ClientException):
    data = {"Code": code, "Message": message, "RequestId": request_id}
    return kind(
        status_code=status,
        code=code,
        message=f"code: {status}, {message} request id: {request_id}",
        request_id=request_id,
        data=data,
        retry_after=retry_after,
    )


def transport_error():
    return UnretryableException(RetryPolicyContext(exception=RetryError("Connection refused")))


class FakeClock:
    """A clock that only moves when the code under test sleeps."""

    def __init__(self):
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds

    def __call__(self):
        return self.now


def policy(clock=None, **overrides):
    clock = clock or FakeClock()
    return RetryPolicy(sleep=clock.sleep, clock=clock, random=lambda: 0.5, **overrides)


@pytest.mark.parametrize(
    ("exception", "code", "status", "retryable", "retry_after"),
    [
        (client_error("IncorrectEipStatus"), "IncorrectEipStatus", 400, False, None),
        (client_error("Throttling.User"), "Throttling.User", 400, True, None),
        (client_error("Throttling.User", retry_after=300, kind=ThrottlingException), "Throttling.User", 400, True, 300),
        (client_error("TaskConflict"), "TaskConflict", 400, True, None),
        (client_error("OperationConflict", status=409), "OperationConflict", 409, True, None),
        (client_error("ServiceUnavailable", status=503, kind=ServerException), "ServiceUnavailable", 503, True, None),
        (client_error("SomethingNew", status=502, kind=ServerException), "SomethingNew", 502, True, None),
        (client_error("InvalidAllocationId.NotFound", status=404), "InvalidAllocationId.NotFound", 404, False, None),
        (transport_error(), TRANSPORT_ERROR, None, True, None),
        (CredentialException("no credentials"), "InvalidCredentials", None, False, None),
        (ConnectionResetError("reset"), TRANSPORT_ERROR, None, True, None),
    ],
)
def test_translate_exception(exception, code, status, retryable, retry_after):
    error = translate_exception(exception, "AssociateEipAddress")
    assert (error.code, error.status_code, error.retryable, error.retry_after) == (code, status, retryable, retry_after)
    assert error.action == "AssociateEipAddress"


def test_translated_error_keeps_the_api_message_and_request_id():
    error = translate_exception(
        client_error("InvalidAssociation.Duplicated", message="Specified instance already is associated.")
    )
    assert error.message == "Specified instance already is associated."
    assert error.request_id == "R1"
    assert (
        error.describe()
        == "InvalidAssociation.Duplicated: Specified instance already is associated. (HTTP 400, request id R1)"
    )
    assert error.as_dict() == {
        "code": "InvalidAssociation.Duplicated",
        "message": "Specified instance already is associated.",
        "request_id": "R1",
        "status_code": 400,
        "action": None,
    }


def test_bugs_are_not_translated():
    assert translate_exception(KeyError("x")) is None


@pytest.mark.parametrize(
    ("retry_number", "retry_after", "random", "expected"),
    [
        (1, None, 0.0, 0.125),  # ceiling 0.25: between 0.125 and 0.25
        (1, None, 1.0, 0.25),
        (3, None, 0.5, 0.75),  # ceiling 1.0 -> 0.5 + 0.25
        (10, None, 1.0, 8.0),  # capped at max_delay
        (1, 2000, 0.5, 2.0),  # the server's x-acs-retry-after (ms) wins when longer
        (6, 100, 0.0, 4.0),  # ... and is a floor, not a replacement
    ],
)
def test_delay_is_jittered_exponential_and_honours_retry_after(retry_number, retry_after, random, expected):
    assert RetryPolicy(random=lambda: random).delay(retry_number, retry_after) == pytest.approx(expected)


def test_retries_until_success_without_real_sleeping():
    clock = FakeClock()
    answers = [
        client_error("Throttling.User", retry_after=500, kind=ThrottlingException),
        client_error("TaskConflict"),
        "ok",
    ]

    def attempt():
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert call_with_retries(policy(clock), "AssociateEipAddress", attempt) == "ok"
    assert clock.sleeps == [pytest.approx(0.5), pytest.approx(0.375)]


def test_gives_up_after_max_attempts_and_says_how_many():
    calls = []

    def attempt():
        calls.append(1)
        raise client_error("ServiceUnavailable", status=503, kind=ServerException)

    with pytest.raises(AlicloudApiError) as excinfo:
        call_with_retries(policy(max_attempts=4), "DescribeEipAddresses", attempt)
    assert len(calls) == 4
    assert excinfo.value.attempts == 4
    assert "after 4 attempts" in str(excinfo.value)


def test_non_retryable_error_fails_at_once():
    clock = FakeClock()

    def attempt():
        raise client_error("InvalidAssociation.Duplicated")

    with pytest.raises(AlicloudApiError) as excinfo:
        call_with_retries(policy(clock), "AssociateEipAddress", attempt)
    assert excinfo.value.code == "InvalidAssociation.Duplicated"
    assert clock.sleeps == []


def test_extra_retry_codes():
    answers = [client_error("InvalidStatus.SnatOrDnat"), "ok"]

    def attempt():
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert call_with_retries(policy(), "UnassociateEipAddress", attempt, ["InvalidStatus.SnatOrDnat"]) == "ok"


def test_bug_in_attempt_propagates_unchanged():
    def attempt():
        raise KeyError("bug")

    with pytest.raises(KeyError):
        call_with_retries(policy(), "X", attempt)


class FakeConnection:
    def __init__(self, clock):
        self.calls = CallContext(retry_policy=policy(clock))
        self.tokens: list[str | None] = []


def test_client_token_is_created_once_and_reused_across_retries():
    clock = FakeClock()
    connection = FakeConnection(clock)
    failures = [transport_error(), client_error("Throttling.User")]

    @api_call("AssociateEipAddress", mutating=True)
    def associate(connection, allocation_id, client_token=None):
        connection.tokens.append(client_token)
        if failures:
            raise failures.pop(0)
        return "R-ok"

    assert associate(connection, "eip-1") == "R-ok"
    assert len(connection.tokens) == 3
    assert len(set(connection.tokens)) == 1 and connection.tokens[0]
    # A second logical call gets a new token.
    associate(connection, "eip-1")
    assert connection.tokens[3] != connection.tokens[0]


def test_callers_client_token_wins_and_reads_get_none():
    connection = FakeConnection(FakeClock())

    @api_call("AssociateEipAddress", mutating=True)
    def associate(connection, client_token=None):
        return client_token

    @api_call("DescribeEipAddresses")
    def describe(connection, client_token=None):
        return client_token

    assert associate(connection, client_token="mine") == "mine"
    assert describe(connection) is None


def test_rate_limiter_keeps_a_sliding_window():
    clock = FakeClock()
    limiter = RateLimiter(3, 10.0, clock=clock, sleep=clock.sleep)
    for _call in range(3):
        limiter.acquire()
    assert clock.sleeps == []
    limiter.acquire()  # the 4th call waits until the first leaves the window
    assert clock.now == pytest.approx(10.0)


def test_associate_calls_go_through_the_flow_limiter():
    context = CallContext()
    assert context.limiter("AssociateEipAddress").limit == 120
    assert context.limiter("AssociateEipAddress") is context.limiter("AssociateEipAddress")
    assert context.limiter("DescribeEipAddresses") is None
