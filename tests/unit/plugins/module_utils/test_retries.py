"""Retries, error translation, ClientTokens and flow limits (plugins/module_utils/_retries.py)."""

from __future__ import annotations

import pytest
from alibabacloud_credentials.exceptions import CredentialException
from alibabacloud_tea_openapi.exceptions import ClientException, ServerException, ThrottlingException
from ansible_collections.alicloud.eip.plugins.module_utils._retries import (
    CREDENTIALS_ERROR,
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
        limiter.release()
    assert clock.sleeps == []
    limiter.acquire()  # the 4th call waits until the first leaves the window
    assert clock.now == pytest.approx(10.0)


def test_associate_calls_go_through_the_flow_limiter():
    context = CallContext()
    assert context.limiter("AssociateEipAddress").limit == 120
    assert context.limiter("AssociateEipAddress") is context.limiter("AssociateEipAddress")
    assert context.limiter("DescribeEipAddresses") is None


# ---- credential failures (issue 9 item 6) ---------------------------------------------------------------


def wrapped_credential_failure(message="unable to load credentials from any of the providers in the chain"):
    """What the SDK raises: the client's request loop catches the provider's CredentialException and re-raises it
    as ``darabonba.exceptions.UnretryableException(RetryPolicyContext(...))`` (alibabacloud_tea_openapi client)."""
    return UnretryableException(
        RetryPolicyContext(
            retries_attempted=1, http_request=None, http_response=None, exception=CredentialException(message)
        )
    )


def test_wrapped_credential_failure_is_a_credential_error_not_a_transport_failure():
    error = translate_exception(wrapped_credential_failure("role not found"), "DescribeEipAddresses")
    assert error.code == CREDENTIALS_ERROR
    assert not error.retryable
    assert error.message == "no usable credentials: role not found"


def test_credential_failure_fails_at_once_without_sleeping():
    clock = FakeClock()
    calls = []

    def attempt():
        calls.append(1)
        raise wrapped_credential_failure()

    with pytest.raises(AlicloudApiError) as excinfo:
        call_with_retries(policy(clock), "DescribeEipAddresses", attempt)
    assert (len(calls), clock.sleeps, excinfo.value.attempts) == (1, [], 1)
    assert excinfo.value.code == CREDENTIALS_ERROR


def test_real_sdk_client_with_a_failing_credential_is_not_retried():
    """The real VPC client and the real wrapping: a credential provider that fails, one attempt, no sleep."""
    from alibabacloud_credentials.client import Client as CredentialClient
    from alibabacloud_credentials.provider import CLIProfileCredentialsProvider
    from alibabacloud_tea_openapi.models import Config
    from alibabacloud_vpc20160428 import models
    from alibabacloud_vpc20160428.client import Client as VpcClient

    # A profile file that does not exist: the provider raises CredentialException before any request is built,
    # so the endpoint (a closed loopback port) is never contacted.
    credential = CredentialClient(
        provider=CLIProfileCredentialsProvider(profile_name="absent", profile_file="/nonexistent/config.json")
    )
    client = VpcClient(Config(credential=credential, endpoint="127.0.0.1:9", protocol="http", region_id="cn-hangzhou"))
    clock = FakeClock()
    calls = []

    def attempt():
        calls.append(1)
        return client.describe_eip_addresses(models.DescribeEipAddressesRequest(region_id="cn-hangzhou"))

    with pytest.raises(AlicloudApiError) as excinfo:
        call_with_retries(policy(clock), "DescribeEipAddresses", attempt)
    assert isinstance(excinfo.value.__cause__, UnretryableException)
    assert (excinfo.value.code, len(calls), clock.sleeps) == (CREDENTIALS_ERROR, 1, [])
    assert "/nonexistent/config.json" in excinfo.value.message


# ---- lost answers on calls without ClientToken (issue 9 item 7) ---------------------------------------------


def run_answers(answers, verify=None, max_attempts=8):
    """call_with_retries over a list of answers (exceptions are raised); returns (result or error, verify calls)."""
    checks = []

    def attempt():
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def check():
        checks.append(1)
        return verify() if callable(verify) else verify

    try:
        result = call_with_retries(
            policy(max_attempts=max_attempts),
            "AttachNetworkInterface",
            attempt,
            verify=None if verify is None else check,
            verified_result="verified",
        )
    except AlicloudApiError as error:
        return error, len(checks)
    return result, len(checks)


def test_state_error_after_a_lost_answer_is_verified_and_counts_as_done():
    result, checks = run_answers([transport_error(), client_error("InvalidOperation.InvalidEniState")], verify=True)
    assert (result, checks) == ("verified", 1)


def test_state_error_after_a_lost_answer_is_raised_marked_ambiguous_when_the_state_does_not_hold():
    error, checks = run_answers([transport_error(), client_error("InvalidOperation.InvalidEniState")], verify=False)
    assert (error.code, error.ambiguous, error.attempts, checks) == ("InvalidOperation.InvalidEniState", True, 2, 1)


def test_state_error_without_a_lost_answer_is_not_verified():
    error, checks = run_answers([client_error("Throttling.User"), client_error("InvalidEniState")], verify=True)
    assert (error.code, error.ambiguous, checks) == ("InvalidEniState", False, 0)


def test_ambiguous_error_without_verify_is_only_marked():
    error, checks = run_answers([transport_error(), client_error("InvalidIp.IpUnassigned")])
    assert (error.code, error.ambiguous, checks) == ("InvalidIp.IpUnassigned", True, 0)


def test_transport_failures_to_the_end_are_not_verified():
    error, checks = run_answers([transport_error(), transport_error()], verify=True, max_attempts=2)
    assert (error.code, checks) == (TRANSPORT_ERROR, 0)


def test_an_error_while_verifying_raises_the_original_error():
    def verify():  # the describe wrappers verify with raise AlicloudApiError after their own retries
        raise translate_exception(client_error("Throttling.User"))

    error, checks = run_answers([transport_error(), client_error("InvalidEniState")], verify=verify)
    assert (error.code, error.ambiguous, checks) == ("InvalidEniState", True, 1)


def test_api_call_passes_the_wrappers_arguments_to_verify():
    seen = []

    def attached(connection, eni_id, instance_id, client_token=None):
        seen.append((eni_id, instance_id, bool(client_token)))
        return True

    failures = [transport_error(), client_error("InvalidOperation.InvalidEniState")]

    @api_call("AttachNetworkInterface", mutating=True, verify=attached)
    def attach(connection, eni_id, instance_id, client_token=None):
        raise failures.pop(0)

    assert attach(FakeConnection(FakeClock()), "eni-1", instance_id="i-1") == ""
    assert seen == [("eni-1", "i-1", True)]
    assert attach.verify is attached


# ---- the flow limiter counts what reaches the wire (issue 9 item 8) -----------------------------------------


def max_in_any_window(times, window):
    times = sorted(times)
    start = most = 0
    for end, moment in enumerate(times):
        while moment - times[start] >= window:
            start += 1
        most = max(most, end - start + 1)
    return most


def simulate(limiter_factory, workers, calls, send_delay, latency, poll=0.01):
    """Discrete-event run of ``workers`` threads making ``calls`` limited calls on an injected clock.

    A worker acquires, its request reaches the wire ``send_delay(n)`` seconds later (another thread, a busy
    interpreter) and its answer comes back ``latency(n)`` seconds after that, when it releases.  Returns the
    wire arrival times.  No real sleeping: the clock jumps from event to event.
    """
    import heapq

    now = [0.0]
    limiter = limiter_factory(lambda: now[0])
    events = [(0.0, worker, "acquire", None) for worker in range(workers)]
    heapq.heapify(events)
    started = 0
    arrivals = []
    while events:
        moment, worker, kind, number = heapq.heappop(events)
        now[0] = moment
        if kind == "acquire":
            if started >= calls:
                continue
            wait = limiter.try_acquire()
            if wait > 0:
                heapq.heappush(events, (moment + max(wait, poll), worker, "acquire", None))
                continue
            number = started
            started += 1
            sent = moment + send_delay(number)
            arrivals.append(sent)
            heapq.heappush(events, (sent + latency(number), worker, "release", number))
        else:
            limiter.release()
            heapq.heappush(events, (moment, worker, "acquire", None))
    return arrivals


def test_limiter_never_lets_more_than_the_limit_reach_the_wire_in_any_window():
    import random as random_module

    jitter = random_module.Random(9)
    delays = [jitter.choice([0.0, 0.001, 0.004, 0.05, 0.3]) for _call in range(400)]
    latencies = [jitter.uniform(0.01, 0.4) for _call in range(400)]
    arrivals = simulate(
        lambda clock: RateLimiter(12, 6.0, clock=clock, sleep=None, margin=0.0),
        workers=8,
        calls=400,
        send_delay=lambda number: delays[number],
        latency=lambda number: latencies[number],
    )
    assert len(arrivals) == 400
    assert max_in_any_window(arrivals, 6.0) <= 12
    # The limiter is not idle either: windows are filled to the limit.
    assert max_in_any_window(arrivals, 6.0) == 12


def test_a_call_delayed_after_acquire_still_holds_its_slot():
    """Stamped at acquire, call 0 (sent 0.5 s late) would leave the window at 10 s and call 3 would join
    calls 0-2 in the wire window [0.5, 10.5): 4 calls where the limit is 3."""
    starts = iter([0.0, 1.0, 2.0])
    clock_now = [0.0]

    def clock():
        return clock_now[0]

    limiter = RateLimiter(3, 10.0, clock=clock, sleep=None, margin=0.0)
    arrivals = []
    for number, send_delay in enumerate([0.5, 0.0, 0.0]):
        clock_now[0] = next(starts)
        assert limiter.try_acquire() == 0.0
        clock_now[0] += send_delay
        arrivals.append(clock_now[0])
        limiter.release()
        del number
    clock_now[0] = 10.0
    wait = limiter.try_acquire()
    assert wait == pytest.approx(0.5)  # call 0 finished (and was stamped) at 0.5, not 0.0
    clock_now[0] = 10.0 + wait
    assert limiter.try_acquire() == 0.0
    arrivals.append(clock_now[0])
    assert max_in_any_window(arrivals, 10.0) == 3


def test_limiter_waits_while_every_slot_is_in_flight_and_blocking_acquire_sleeps():
    clock = FakeClock()
    limiter = RateLimiter(2, 10.0, clock=clock, sleep=clock.sleep, margin=0.5)
    limiter.acquire()
    limiter.acquire()
    assert limiter.try_acquire() == RateLimiter.IN_FLIGHT_POLL
    limiter.release()
    limiter.release()
    limiter.acquire()  # both finished at 0.0: the third waits period + margin
    assert clock.now == pytest.approx(10.5)


def test_api_call_releases_the_slot_when_the_call_fails():
    clock = FakeClock()
    connection = FakeConnection(clock)

    @api_call("AssociateEipAddress", mutating=True)
    def associate(connection, client_token=None):
        raise client_error("InvalidParameter")

    with pytest.raises(AlicloudApiError):
        associate(connection)
    limiter = connection.calls.limiter("AssociateEipAddress")
    assert limiter.margin > 0
    assert limiter._in_flight == 0 and len(limiter._finished) == 1


@pytest.mark.parametrize(
    "code", ["SignatureDoesNotMatch", "InvalidAccessKeyId.NotFound", "InvalidSecurityToken.Expired"]
)
def test_credentials_refused_by_the_cloud_fail_at_once_and_say_so(code):
    clock = FakeClock()

    def attempt():
        raise client_error(code, message="refused")

    with pytest.raises(AlicloudApiError) as excinfo:
        call_with_retries(policy(clock), "DescribeEipAddresses", attempt)
    assert clock.sleeps == []
    assert str(excinfo.value).startswith(
        f"{code}: refused (HTTP 400, request id R1); the cloud refused the credentials"
    )
    assert "access_key_secret" in str(excinfo.value)


def test_other_errors_get_no_credential_hint():
    assert "credentials" not in translate_exception(client_error("IncorrectEipStatus")).describe()
