"""Which failures are retried for which requests, and how long to wait between tries.

The API has no idempotency keys, so a request that may already have taken effect is never
sent again. The rules, by what the request does:

=========================  =============  ==========  ======================================
failure                    read (GET)     idempotent  unsafe (sends, creates, batch, OTP)
                                          (PATCH,
                                          DELETE by
                                          id, OTP
                                          status)
=========================  =============  ==========  ======================================
not sent (refused, DNS,    retry          retry       retry
connect timeout)
429 Too Many Requests      retry after    retry after retry after the wait (refused before
                           the wait       the wait    doing anything)
sent, no answer (read      retry          retry       raise OutcomeUnknownError
timeout, dropped)
500 / 502 / 503 / 504      retry          retry       raise the typed ServerError
any other error status     raise          raise       raise
=========================  =============  ==========  ======================================

Waits grow exponentially with full jitter (``random.uniform(0, min(cap, base * 2**n))``).
``max_retries`` bounds retries of connection failures, timeouts and 5xx; 429s have their own
budget because they are safe to repeat and the client's limiter paces them.
"""

from __future__ import annotations

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

__all__ = ["Safety", "call_with_retries", "no_wait"]

T = TypeVar("T")

Safety = Literal["read", "idempotent", "unsafe"]

BACKOFF_BASE = 0.5
BACKOFF_CAP = 8.0
RATE_LIMIT_RETRIES = 8
RETRIED_STATUSES = frozenset({500, 502, 503, 504})

_no_wait_depth = 0


@contextlib.contextmanager
def no_wait() -> Iterator[None]:
    """Turn retry sleeps off (for tests): retries happen at once, with the same rules.

    Example::

        with wacr.testing.no_wait():
            await client.contacts.get(1)   # retried 5xx do not sleep
    """
    global _no_wait_depth
    _no_wait_depth += 1
    try:
        yield
    finally:
        _no_wait_depth -= 1


def waiting_disabled() -> bool:
    return _no_wait_depth > 0


class _Budget:
    """Counts retries per kind of failure and decides when to stop."""

    __slots__ = ("max_retries", "rate_limited", "retried", "safety")

    def __init__(self, safety: Safety, max_retries: int) -> None:
        self.safety = safety
        self.max_retries = max_retries
        self.retried = 0
        self.rate_limited = 0

    def give_up(self, exc: Exception) -> bool:
        if isinstance(exc, RateLimitError):
            self.rate_limited += 1
            return self.rate_limited > RATE_LIMIT_RETRIES
        if not is_retryable(exc, self.safety):
            return True
        self.retried += 1
        return self.retried > self.max_retries


def is_retryable(exc: BaseException, safety: Safety) -> bool:
    """Whether ``exc`` may be retried for a request of this ``safety`` (see the table above)."""
    if isinstance(exc, RateLimitError):
        return True
    if isinstance(exc, OutcomeUnknownError):
        return False
    if isinstance(exc, TransportError):
        return not exc.sent or safety != "unsafe"
    if isinstance(exc, ServerError):
        return safety != "unsafe" and exc.status in RETRIED_STATUSES
    return False


def _waits() -> Generator[float, BaseException | None, None]:
    exc = yield 0.0
    tries = 0
    while True:
        if waiting_disabled():
            delay = 0.0
        elif isinstance(exc, RateLimitError) and exc.retry_after is not None:
            # The client's limiter holds every task until the server's window reopens.
            delay = 0.0
        else:
            delay = random.uniform(0.0, min(BACKOFF_CAP, BACKOFF_BASE * 2**tries))
            tries += 1
        exc = yield delay


async def call_with_retries(
    attempt: Callable[[], Awaitable[T]],
    *,
    safety: Safety,
    max_retries: int,
    on_retry: Callable[[int, BaseException, float], None] | None = None,
) -> T:
    """Run ``attempt`` until it succeeds or the rules say stop; raise the last error.

    Example::

        response = await call_with_retries(send_once, safety="read", max_retries=2)
    """
    budget = _Budget(safety, max_retries)

    def _on_backoff(details: Details) -> None:
        if on_retry is not None:
            exc = details.get("exception")
            if isinstance(exc, BaseException):
                on_retry(details["tries"], exc, float(details.get("wait", 0.0)))

    retrying = backoff.on_exception(
        _waits,
        WacrError,
        max_tries=None,
        giveup=budget.give_up,
        jitter=None,
        on_backoff=_on_backoff,
        raise_on_giveup=True,
    )(attempt)
    result: T = await retrying()
    return result
