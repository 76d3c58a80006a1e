"""Which failures are retried for which requests, and how long to wait between tries.

The API has no idempotency keys, so a request that may already have taken effect is never
sent again. Every call declares its safety class:

* ``"read"``: ``GET``.
* ``"idempotent"``: ``PATCH``, ``DELETE`` by id, ``POST /auth/status`` (repeating changes nothing).
* ``"unsafe"``: sends, creates, batch calls, OTP send/verify/resend, group add/remove,
  templates sync, comment add.

The rules, by failure and safety class:

===============================  ==================  =========================================
failure                          read / idempotent   unsafe
===============================  ==================  =========================================
not sent: connection refused,    retried             retried
DNS failure, connect timeout
429 Too Many Requests            retried after the   retried after the wait (the server refused
                                 wait                before doing anything)
sent, no answer: read timeout,   retried             ``OutcomeUnknownError``, never retried
connection dropped
500 / 502 / 503 / 504            retried             the typed ``ServerError``, never retried
any other error status           raised              raised
===============================  ==================  =========================================

A ``DELETE`` by id retried after an attempt that may have gone through takes the server's
404 as done: the first attempt deleted it.

Limits: ``max_retries`` (default 2, per client and per call) bounds the retries of one call
after connection failures, timeouts and 5xx answers; each backoff wait is drawn with full
jitter from ``[0, min(8 s, 0.5 s * 2**n)]``. A 429 is waited out for as long as the server
asks (``Retry-After``, else ``X-RateLimit-Reset``, else backoff) up to 90 s and at most 5 times
per call; a longer wait raises :class:`~wacr_async.RateLimitError` at once so the caller
decides. ``max_retries=0`` turns every automatic retry off, 429s included. A 429 that says
the token's window is spent makes the client's limiter hold every request until the window
reopens, so the retry itself does not sleep (see ``_ratelimit``).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Awaitable, Callable, Generator, Iterator
from typing import Literal, TypeVar

import backoff
from backoff.types import Details

from .errors import (
    OutcomeUnknownError,
    RateLimitError,
    ServerError,
    TransportError,
    WacrError,
)

__all__ = [
    "Safety",
    "backoff_delay",
    "call_with_retries",
    "is_retryable",
    "no_wait",
    "waiting_disabled",
]

T = TypeVar("T")

Safety = Literal["read", "idempotent", "unsafe"]

BACKOFF_BASE = 0.5
BACKOFF_CAP = 8.0
RETRIED_STATUSES = frozenset({500, 502, 503, 504})
RATE_LIMIT_RETRIES = 5
# A 429 asking for a longer wait than this (an OTP resend limit of 5 minutes, say) is raised
# instead of silently holding the call; the token window itself is 60 s.
RATE_LIMIT_MAX_WAIT = 90.0

_no_wait_depth = 0


@contextlib.contextmanager
def no_wait() -> Iterator[None]:
    """Test mode: retries happen at once instead of after a backoff sleep, with the same rules.

    Waits the server dictates are still honoured (the rate-limit window, a 429's
    ``Retry-After``): skipping them would only earn more 429s. Give the sandbox a short
    rate-limit window to keep such tests fast.

    Example::

        with wacr.testing.no_wait():
            await client.contacts.get(1)   # a retried 503 does not sleep
    """
    global _no_wait_depth
    _no_wait_depth += 1
    try:
        yield
    finally:
        _no_wait_depth -= 1


def waiting_disabled() -> bool:
    """True inside :func:`no_wait`."""
    return _no_wait_depth > 0


def is_retryable(exc: BaseException, safety: Safety) -> bool:
    """Whether ``exc`` may be retried for a request of this ``safety`` (see the table above).

    Example::

        is_retryable(InternalServerError("boom", status=500), "unsafe")   # False
    """
    if isinstance(exc, RateLimitError):
        return True
    if isinstance(exc, OutcomeUnknownError):
        return False
    if isinstance(exc, TransportError):
        return not exc.sent or safety != "unsafe"
    if isinstance(exc, ServerError):
        return safety != "unsafe" and exc.status in RETRIED_STATUSES
    return False


def backoff_delay(retry_number: int) -> float:
    """The wait before retry ``retry_number`` (0-based): exponential, capped, full jitter.

    Example::

        backoff_delay(0)   # somewhere in [0, 0.5]
        backoff_delay(3)   # somewhere in [0, 4.0]
    """
    if waiting_disabled():
        return 0.0
    return random.uniform(0.0, min(BACKOFF_CAP, BACKOFF_BASE * 2.0**retry_number))


class _Budget:
    """Counts the retries of one call by kind and decides when to stop."""

    __slots__ = ("failures", "max_retries", "rate_limited", "safety")

    def __init__(self, safety: Safety, max_retries: int) -> None:
        self.safety = safety
        self.max_retries = max_retries
        self.failures = 0
        self.rate_limited = 0

    def give_up(self, exc: Exception) -> bool:
        if self.max_retries == 0 or not is_retryable(exc, self.safety):
            return True
        if isinstance(exc, RateLimitError):
            self.rate_limited += 1
            too_long = exc.retry_after is not None and exc.retry_after > RATE_LIMIT_MAX_WAIT
            return too_long or self.rate_limited > RATE_LIMIT_RETRIES
        self.failures += 1
        return self.failures > self.max_retries


def _server_wait(exc: RateLimitError) -> float | None:
    return exc.retry_after


class _Delays:
    """The wait before each retry of one call: the server's wait after a 429, else backoff."""

    __slots__ = ("backoffs", "rate_limit_wait")

    def __init__(self, rate_limit_wait: Callable[[RateLimitError], float | None]) -> None:
        self.rate_limit_wait = rate_limit_wait
        self.backoffs = 0

    def after(self, exc: BaseException | None) -> float:
        if isinstance(exc, RateLimitError):
            delay = self.rate_limit_wait(exc)
            if delay is not None:
                return delay
        delay = backoff_delay(self.backoffs)
        self.backoffs += 1
        return delay

    def generator(self) -> Generator[float, BaseException | None, None]:
        # backoff sends each failure in and sleeps for the value that comes out.
        exc = yield 0.0
        while True:
            exc = yield self.after(exc)


async def call_with_retries(
    attempt: Callable[[], Awaitable[T]],
    *,
    safety: Safety,
    max_retries: int,
    rate_limit_wait: Callable[[RateLimitError], float | None] = _server_wait,
    on_retry: Callable[[BaseException, float], None] | None = None,
) -> T:
    """Run ``attempt`` until it succeeds or the rules say stop; raise the last error.

    ``rate_limit_wait`` says how long this call must sleep itself after a 429 (0 when a shared
    limiter already holds every request until the window reopens; None to back off).
    ``on_retry`` is told about each retry and its wait, for logging.

    Example::

        payload = await call_with_retries(send_once, safety="read", max_retries=2)
    """
    # Most calls succeed at once: only a failure pays for the retry machinery.
    try:
        return await attempt()
    except WacrError as exc:
        budget = _Budget(safety, max_retries)
        if budget.give_up(exc):
            raise
        first_failure = exc

    delays = _Delays(rate_limit_wait)
    wait = delays.after(first_failure)
    if on_retry is not None:
        on_retry(first_failure, wait)
    await asyncio.sleep(wait)

    def _on_backoff(details: Details) -> None:
        exc = details.get("exception")
        if on_retry is not None and isinstance(exc, BaseException):
            on_retry(exc, float(details.get("wait", 0.0)))

    retrying = backoff.on_exception(
        delays.generator,
        WacrError,
        max_tries=None,
        giveup=budget.give_up,
        jitter=None,  # full jitter is applied in backoff_delay; server waits stay exact
        on_backoff=_on_backoff,
        raise_on_giveup=True,
        logger=None,  # the client logs each attempt itself, redacted
    )(attempt)
    result: T = await retrying()
    return result
