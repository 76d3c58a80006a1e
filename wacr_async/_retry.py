"""Which failures are retried for which requests, how long to wait, and the loop that does it.

The API has no idempotency keys, so a request that may already have taken effect is never
sent again. Every call declares its safety class:

* ``"read"``: ``GET``.
* ``"idempotent"``: ``PATCH``, ``DELETE`` by id, ``POST /auth/status`` (repeating changes nothing).
* ``"unsafe"``: sends, creates, batch calls, OTP send/verify/resend, group add/remove,
  templates sync, comment add.

A failure is retried when it is *transient* (the same request may succeed later) and, for an
unsafe call, when it certainly had no effect (``_effects.effect_of`` says ``"none"``):

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
500 ``MESSAGE_SEND_FAILED``      (sends only)        raised: WhatsApp's verdict, not a hiccup
3xx and any other error status   raised              raised
===============================  ==================  =========================================

A ``DELETE`` by id retried after an attempt that may have gone through takes the server's
404 as done: the first attempt deleted it.

Limits: ``max_retries`` (default 2, per client and per call) bounds the retries of one call
after connection failures, timeouts and 5xx answers; the waits come from ``backoff.expo``
(0.5 s doubling, capped at 8 s) with ``backoff.full_jitter``. A 429 is waited out for as long
as the server asks (:attr:`RateLimitError.retry_after`, else backoff) up to 90 s and at most 5
times per call; a longer wait raises at once so the caller decides. A 429 that holds the whole
token (:attr:`RateLimitError.shared`) is waited out by the rate limiter, which holds every
request until the window reopens, so the loop does not sleep for it. ``max_retries=0`` turns
every automatic retry off, 429s included.

Deadline: ``timeout`` bounds the whole call. A wait that would end past the call's deadline is
not slept: the failure that called for it is raised at once (a 429 as ``RateLimitError`` with
its ``retry_after``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterator
from typing import Literal, TypeVar

import backoff

from ._effects import effect_of
from ._pacing.headers import MAX_SHARED_WAIT
from .errors import MessageSendFailedError, RateLimitError, ServerError, TransportError, WacrError

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
# instead of silently holding the call; the token window itself is 60 s. The same bound
# decides whether the limiter holds the whole token for a 429 (one number for both).
RATE_LIMIT_MAX_WAIT = MAX_SHARED_WAIT

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


def _transient(exc: BaseException) -> bool:
    """A failure the same request may not meet again: worth another attempt."""
    if isinstance(exc, RateLimitError | TransportError):
        return True
    return (
        isinstance(exc, ServerError)
        and exc.status in RETRIED_STATUSES
        and not isinstance(exc, MessageSendFailedError)
    )


def is_retryable(exc: BaseException, safety: Safety) -> bool:
    """Whether ``exc`` may be retried for a request of this ``safety`` (see the table above).

    Example::

        is_retryable(InternalServerError("boom", status=500), "unsafe")   # False
    """
    if not _transient(exc):
        return False
    return safety != "unsafe" or effect_of(exc, left=True) == "none"


def backoff_delay(retry_number: int) -> float:
    """The wait before backoff ``retry_number`` (0-based): what the retry loop draws.

    Example::

        backoff_delay(0)   # somewhere in [0, 0.5]
        backoff_delay(3)   # somewhere in [0, 4.0]
    """
    if waiting_disabled():
        return 0.0
    return backoff.full_jitter(min(BACKOFF_CAP, BACKOFF_BASE * 2.0**retry_number))


OnRetry = Callable[[WacrError, float, int], None]


async def call_with_retries(
    attempt: Callable[[], Awaitable[T]],
    *,
    safety: Safety,
    max_retries: int,
    deadline: float | None = None,
    on_retry: OnRetry | None = None,
) -> T:
    """Run ``attempt`` until it succeeds or the rules say stop; raise the last error.

    ``deadline`` (loop time) ends the retries: a wait that would end after it is not slept.
    ``on_retry(error, wait, next_attempt)`` is told about each retry before its wait.

    Example::

        payload = await call_with_retries(send_once, safety="read", max_retries=2)
    """
    backoffs = None
    failures = rate_limited = 0
    attempts = 1
    while True:
        try:
            return await attempt()
        except WacrError as exc:
            error = exc
        if max_retries == 0 or not is_retryable(error, safety):
            raise error
        if isinstance(error, RateLimitError):
            rate_limited += 1
            if rate_limited > RATE_LIMIT_RETRIES:
                raise error
            if error.shared:
                wait: float | None = 0.0  # the limiter holds every request until then
            elif error.retry_after is not None and error.retry_after > RATE_LIMIT_MAX_WAIT:
                raise error
            else:
                wait = error.retry_after
        else:
            failures += 1
            if failures > max_retries:
                raise error
            wait = None
        if wait is None:
            if backoffs is None:
                backoffs = backoff.expo(factor=BACKOFF_BASE, max_value=BACKOFF_CAP)
                next(backoffs)  # backoff's generators start with a bare yield
            drawn = backoff.full_jitter(next(backoffs))
            wait = 0.0 if waiting_disabled() else drawn
        if deadline is not None and asyncio.get_running_loop().time() + wait >= deadline:
            raise error  # waiting would overrun the call's timeout: say why now
        attempts += 1
        if on_retry is not None:
            on_retry(error, wait, attempts)
        if wait > 0:
            await asyncio.sleep(wait)
