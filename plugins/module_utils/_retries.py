# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note: this module util is PRIVATE to the collection. It can change at any time; do not use it from
# other collections or standalone plugins/modules.

"""Retries, error translation, ClientTokens and flow-control limits for every Alibaba Cloud API call.

Every SDK exception is translated into one :class:`AlicloudApiError` carrying the API error code, the
message, the request ID and the HTTP status, so modules never see raw SDK exceptions.

Which errors are retried (``shared/reference/alibaba-api.md`` §1.5, §2, §3):

- throttling: any code starting with ``Throttling`` (``Throttling``, ``Throttling.User``, ...) and
  ``Rejected.Throttling``, whether or not the SDK raised ``ThrottlingException`` (it only does when the
  ``x-acs-retry-after`` header is present);
- transient conflicts and server trouble that real clients (Terraform's provider) retry:
  ``TaskConflict``, ``OperationConflict``, ``LastTokenProcessing``, ``SystemBusy``, ``ServiceUnavailable``,
  ``InternalError`` and any HTTP 5xx;
- transport failures (connection refused or dropped, read timeout: the SDK's ``UnretryableException``).

A credential failure is *not* a transport failure although the SDK raises it the same way: the client asks
the credential provider inside its request loop and wraps whatever it raises in ``UnretryableException``,
so the classifier looks at the wrapped exception first and reports ``InvalidCredentials`` at once, with no
retry (asking a missing credential eight times only delays the answer by the whole backoff budget).

A lost answer on a call without ClientToken (attach, detach, delete, release, unassign, modify, tag) may
still have acted: the retry then meets a state error ("already attached", "not found").  A wrapper can pass
``verify`` to :func:`api_call`: when a retry that followed a transport failure ends in an API error, the
wrapper's ``verify`` re-reads the state, and the call counts as done when the desired state holds.

State preconditions such as ``IncorrectEipStatus`` or ``IncorrectInstanceStatus`` are deliberately
*not* retried here although Terraform retries them: the modules check the state first (and wait for
transient EIP states with the waiter), so retrying them would only delay the documented failure by the
whole backoff budget.  Callers can add per-operation codes with ``retry_codes``.

Mutating calls carry a ``ClientToken`` created once per logical call (uuid4) and reused on every retry
of that call, so a retry after a lost answer cannot act twice.
"""

from __future__ import annotations

import functools
import random
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

try:
    from darabonba.exceptions import ResponseException as _ResponseException
    from Tea.exceptions import TeaException as _TeaException
    from Tea.exceptions import UnretryableException as _UnretryableException
except ImportError:  # the module reports the missing SDK itself (missing_required_lib)
    _TeaException = _UnretryableException = _ResponseException = None

try:
    from alibabacloud_credentials.exceptions import CredentialException as _CredentialException
except ImportError:
    _CredentialException = None

T = TypeVar("T")

RETRYABLE_CODES = frozenset(
    {
        "TaskConflict",
        "OperationConflict",
        "LastTokenProcessing",
        "OperationFailed.LastTokenProcessing",
        "SystemBusy",
        "OperationFailed.SystemBusy",
        "ServiceUnavailable",
        "InternalError",
        "Rejected.Throttling",
    }
)

# Code given to errors that never reached the API (connection refused, dropped, timed out).
TRANSPORT_ERROR = "TransportError"
# Code given to a failure of the credential provider (no credentials found, role not assumable, ...).
CREDENTIALS_ERROR = "InvalidCredentials"
# API codes that mean the cloud refused the credentials themselves (never retried: none is in RETRYABLE_CODES).
REFUSED_CREDENTIAL_CODES = ("InvalidAccessKeyId", "InvalidSecurityToken", "SignatureDoesNotMatch")
CREDENTIAL_HINT = (
    "the cloud refused the credentials (a wrong, disabled or expired access key, secret or STS token): check "
    "access_key_id/access_key_secret/security_token, profile, ecs_ram_role or the ALIBABA_CLOUD_* variables"
)


class AlicloudApiError(Exception):
    """One failed Alibaba Cloud API call, whatever the SDK raised.

    ``code`` is the API error code (``TransportError`` for a failure that never got an answer),
    ``message`` the API's own message without the SDK's decoration, ``request_id`` the request ID to
    quote to Alibaba Cloud support, ``status_code`` the HTTP status, ``retry_after`` the delay the
    server asked for (milliseconds) and ``action`` the API action that failed.
    """

    def __init__(
        self,
        code: str | None,
        message: str,
        request_id: str | None = None,
        status_code: int | None = None,
        retry_after: int | None = None,
        action: str | None = None,
        attempts: int = 1,
        ambiguous: bool = False,
    ):
        self.code = code or TRANSPORT_ERROR
        self.message = message
        self.request_id = request_id
        self.status_code = status_code
        self.retry_after = retry_after
        self.action = action
        self.attempts = attempts
        # True when an earlier attempt of the same call lost its answer: the call may have acted although
        # this error says otherwise (set by call_with_retries).
        self.ambiguous = ambiguous
        super().__init__(self.describe())

    def __str__(self) -> str:
        return self.describe()

    @property
    def retryable(self) -> bool:
        """Whether a retry of the same call can succeed (throttling, transient conflict, 5xx, transport)."""
        if self.code == CREDENTIALS_ERROR:
            return False
        if self.code == TRANSPORT_ERROR or self.code in RETRYABLE_CODES:
            return True
        if self.code.startswith("Throttling"):
            return True
        return self.status_code is not None and self.status_code >= 500

    def describe(self) -> str:
        """``Code: message (HTTP 400, request id R)`` for error messages."""
        details = []
        if self.status_code:
            details.append(f"HTTP {self.status_code}")
        if self.request_id:
            details.append(f"request id {self.request_id}")
        if self.attempts > 1:
            details.append(f"after {self.attempts} attempts")
        suffix = f" ({', '.join(details)})" if details else ""
        if self.code.startswith(REFUSED_CREDENTIAL_CODES):
            suffix += f"; {CREDENTIAL_HINT}"
        return f"{self.code}: {self.message}{suffix}"

    def as_dict(self) -> dict[str, Any]:
        """The error as returned by ``fail_json`` under ``error``."""
        return {
            "code": self.code,
            "message": self.message,
            "request_id": self.request_id,
            "status_code": self.status_code,
            "action": self.action,
        }


def _api_message(exception: Any) -> str:
    """The API's own message: the SDK decorates it as ``code: 400, <Message> request id: <id>``."""
    data = getattr(exception, "data", None)
    if isinstance(data, dict):
        for key in ("Message", "message"):
            if data.get(key):
                return str(data[key])
    return str(getattr(exception, "message", None) or exception)


def _request_id(exception: Any) -> str | None:
    request_id = getattr(exception, "request_id", None)
    data = getattr(exception, "data", None)
    if not request_id and isinstance(data, dict):
        request_id = data.get("RequestId") or data.get("requestId")
    return request_id or None


def credential_message(exception: BaseException) -> str:
    """The message of a credential failure, marked as one (``_client`` already words its own that way)."""
    text = str(getattr(exception, "message", None) or exception)
    if text.startswith("no usable credentials"):
        return text
    return f"no usable credentials: {text}"


def _credential_failure(exception: BaseException) -> BaseException | None:
    """The credential exception behind ``exception``: itself, or the one the SDK wrapped in UnretryableException.

    The SDK client calls the credential provider inside its request loop; whatever the provider raises is
    caught there and re-raised as ``UnretryableException(inner_exception=...)``, exactly like a refused
    connection.  The request was never sent, so this is no transport failure and must not be retried.
    """
    if _CredentialException is None:
        return None
    if isinstance(exception, _CredentialException):
        return exception
    inner = getattr(exception, "inner_exception", None)
    wrapped = _UnretryableException is not None and isinstance(exception, _UnretryableException)
    return inner if wrapped and isinstance(inner, _CredentialException) else None


def translate_exception(exception: BaseException, action: str | None = None) -> AlicloudApiError | None:
    """Turn an SDK exception into :class:`AlicloudApiError`; ``None`` for exceptions that are bugs, not API errors."""
    if isinstance(exception, AlicloudApiError):
        return exception
    credential_failure = _credential_failure(exception)
    if credential_failure is not None:
        return AlicloudApiError(CREDENTIALS_ERROR, credential_message(credential_failure), action=action)
    if _ResponseException is not None and isinstance(exception, _ResponseException):
        status = getattr(exception, "status_code", None) or getattr(exception, "statusCode", None)
        retry_after = getattr(exception, "retry_after", None)
        return AlicloudApiError(
            getattr(exception, "code", None) or "UnknownError",
            _api_message(exception),
            request_id=_request_id(exception),
            status_code=int(status) if status else None,
            retry_after=int(retry_after) if retry_after else None,
            action=action,
        )
    if _UnretryableException is not None and isinstance(exception, _UnretryableException):
        inner = getattr(exception, "inner_exception", None) or exception
        return AlicloudApiError(TRANSPORT_ERROR, f"no answer from the API endpoint: {inner}", action=action)
    if _TeaException is not None and isinstance(exception, _TeaException):
        return AlicloudApiError(
            getattr(exception, "code", None) or "UnknownError", _api_message(exception), action=action
        )
    if isinstance(exception, (ConnectionError, TimeoutError)):
        return AlicloudApiError(TRANSPORT_ERROR, f"no answer from the API endpoint: {exception}", action=action)
    return None


@dataclass
class RetryPolicy:
    """Jittered exponential backoff; ``sleep``, ``random`` and ``clock`` are injectable for tests.

    The delay before retry *n* (1-based) is drawn uniformly from ``[d/2, d]`` with
    ``d = min(max_delay, base_delay * 2 ** (n - 1))`` ("equal jitter": never zero, never in lock-step
    with other clients), and is at least the server's ``x-acs-retry-after`` when it sent one.
    """

    max_attempts: int = 8
    base_delay: float = 0.25
    max_delay: float = 8.0
    sleep: Callable[[float], None] = time.sleep
    random: Callable[[], float] = random.random
    clock: Callable[[], float] = time.monotonic

    def delay(self, retry_number: int, retry_after_ms: int | None = None) -> float:
        ceiling = min(self.max_delay, self.base_delay * (2 ** (retry_number - 1)))
        delay = ceiling / 2 + self.random() * ceiling / 2
        if retry_after_ms:
            delay = max(delay, retry_after_ms / 1000.0)
        return delay


def _holds(verify: Callable[[], bool]) -> bool:
    """``verify()``, where an API error while re-reading counts as "cannot tell" (the original error is raised)."""
    try:
        return bool(verify())
    except AlicloudApiError:
        return False


def call_with_retries(
    policy: RetryPolicy,
    action: str,
    attempt: Callable[[], T],
    retry_codes: Iterable[str] = (),
    verify: Callable[[], bool] | None = None,
    verified_result: Any = None,
) -> T:
    """Run ``attempt`` until it succeeds, fails with a non-retryable error, or the attempts run out.

    When an attempt lost its answer (a transport failure: the request may have reached the API and acted)
    and a later attempt gets an API error, the error is marked ``ambiguous``; with ``verify`` given, the state
    is re-read first and, when ``verify()`` says the desired state holds, ``verified_result`` is returned
    instead of the error: the first attempt did the work and only its answer was lost.

    Raises :class:`AlicloudApiError`; exceptions that are not API errors (bugs) propagate unchanged.
    """
    extra = frozenset(retry_codes)
    number = 0
    answer_lost = False
    while True:
        number += 1
        try:
            return attempt()
        except Exception as exception:  # pylint: disable=broad-except
            error = translate_exception(exception, action)
            if error is None:
                raise
            error.attempts = number
            if not (error.retryable or error.code in extra) or number >= policy.max_attempts:
                # Only an answer from the API is checked against the state: after a run of transport failures
                # the re-read would most likely fail the same way and only double the time to the error.
                if answer_lost and error.code not in (TRANSPORT_ERROR, CREDENTIALS_ERROR):
                    error.ambiguous = True
                    if verify is not None and _holds(verify):
                        return verified_result
                if error is exception:
                    raise
                raise error from exception
            if error.code == TRANSPORT_ERROR:
                answer_lost = True
            policy.sleep(policy.delay(number, error.retry_after))


class RateLimiter:
    """At most ``limit`` calls in any ``period`` seconds (a sliding window), shared by threads.

    Alibaba Cloud applies a flow-control limit per API (AssociateEipAddress: 120 calls per 60 s); the
    list form of the modules issues calls from a thread pool, and this keeps it under the limit
    instead of provoking ``Throttling`` and paying for the retries.

    The window is counted as the API sees it, on the wire.  A call is admitted at :meth:`acquire` but its
    request leaves later, on another thread, after an unknown delay; stamping it at admission let two
    60 s windows on the wire hold 121 calls.  So a call holds its slot from admission until :meth:`release`
    (its answer, or its failure, came back) and is stamped only then, and a slot is free again only
    ``period + margin`` seconds after that stamp.  Since a request reaches the API after its admission and
    before its answer comes back, any two calls ``limit`` apart in admission order are at least
    ``period + margin`` apart on the wire, whatever the thread jitter: no window of ``period`` seconds can
    hold more than ``limit`` of them.  ``margin`` covers where the API's own clock stamps an arrival.
    """

    # How long a caller waits before looking again when every slot is held by a call still in flight.
    IN_FLIGHT_POLL = 0.05

    def __init__(
        self,
        limit: int,
        period: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        margin: float = 0.0,
    ):
        self.limit = limit
        self.period = period
        self.margin = margin
        self._clock = clock
        self._sleep = sleep
        self._finished: deque[float] = deque()
        self._in_flight = 0
        self._lock = threading.Lock()

    def try_acquire(self) -> float:
        """Admit one call now (returns 0.0; :meth:`release` it when it is over), or the seconds to wait first."""
        with self._lock:
            now = self._clock()
            window = self.period + self.margin
            while self._finished and now - self._finished[0] >= window:
                self._finished.popleft()
            if len(self._finished) + self._in_flight < self.limit:
                self._in_flight += 1
                return 0.0
            if self._finished:
                return max(window - (now - self._finished[0]), 0.001)
            return self.IN_FLIGHT_POLL

    def acquire(self) -> None:
        """Block until one more call fits in the window; the caller must :meth:`release` it afterwards."""
        while True:
            wait = self.try_acquire()
            if wait <= 0:
                return
            self._sleep(wait)

    def release(self) -> None:
        """The admitted call is over (answered or failed): stamp it now, when it surely reached the wire."""
        with self._lock:
            self._in_flight -= 1
            self._finished.append(self._clock())


# Documented flow-control limits (calls, seconds).  AssociateEipAddress: 120/60 s
# (api.aliyun.com, alibaba-api.md §2).  UnassociateEipAddress: UNCONFIRMED, assumed to be the same.
# [fid:eip-unassociate-flow-limit]
# FLOW_MARGIN: extra seconds a slot stays taken after its call is over (where the API stamps an arrival is
# not documented; half a second costs less than 1 % of the throughput at 120 calls per 60 s).
FLOW_MARGIN = 0.5
FLOW_LIMITS: dict[str, tuple[int, float]] = {
    "AssociateEipAddress": (120, 60.0),
    "UnassociateEipAddress": (120, 60.0),
}


@dataclass
class CallContext:
    """What a wrapped API call needs besides its arguments: the retry policy and the flow limiters."""

    retry_policy: RetryPolicy = field(default_factory=RetryPolicy)
    limiters: dict[str, RateLimiter] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def limiter(self, action: str) -> RateLimiter | None:
        """The shared limiter of ``action`` (created on first use), or ``None`` when it has no known limit."""
        if action not in FLOW_LIMITS:
            return None
        with self._lock:
            if action not in self.limiters:
                limit, period = FLOW_LIMITS[action]
                self.limiters[action] = RateLimiter(
                    limit, period, clock=self.retry_policy.clock, sleep=self.retry_policy.sleep, margin=FLOW_MARGIN
                )
            return self.limiters[action]


def new_client_token() -> str:
    """A fresh ClientToken: ASCII, at most 64 characters (the ECS limit; VPC has none documented)."""
    return str(uuid.uuid4())


def api_call(
    action: str,
    mutating: bool = False,
    retry_codes: Iterable[str] = (),
    verify: Callable[..., bool] | None = None,
    verified_result: Any = "",
):
    """Decorate a one-call API wrapper ``func(connection, ...)`` with retries and error translation.

    ``connection`` must have a ``calls`` attribute holding a :class:`CallContext`.  For mutating calls
    the wrapper receives ``client_token``: the caller's, or one created here once and reused on every
    retry of this logical call.

    ``verify(connection, *args, **kwargs)`` (same arguments as the wrapper) is for mutating calls that carry
    no ClientToken: it re-reads the state and returns True when the desired state holds.  It runs only when a
    retry that followed a lost answer got an API error (see :func:`call_with_retries`); the wrapper then returns
    ``verified_result`` (the request ID of the lost answer is unknown, hence ``""``).
    """
    codes = tuple(retry_codes)

    def decorate(func: Callable[..., T]) -> Callable[..., T]:
        @functools.wraps(func)
        def wrapper(connection, *args, **kwargs):
            if mutating and not kwargs.get("client_token"):
                kwargs["client_token"] = new_client_token()
            context: CallContext = connection.calls
            limiter = context.limiter(action)

            def attempt():
                if limiter is None:
                    return func(connection, *args, **kwargs)
                limiter.acquire()
                try:
                    return func(connection, *args, **kwargs)
                finally:
                    limiter.release()

            check = None if verify is None else (lambda: verify(connection, *args, **kwargs))
            return call_with_retries(context.retry_policy, action, attempt, codes, check, verified_result)

        wrapper.action = action  # type: ignore[attr-defined]
        wrapper.mutating = mutating  # type: ignore[attr-defined]
        wrapper.verify = verify  # type: ignore[attr-defined]
        return wrapper

    return decorate
