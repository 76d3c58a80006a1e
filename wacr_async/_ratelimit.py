"""Client-wide pacing from the server's ``X-RateLimit-*`` headers, and one shared 429 cooldown.

The server counts calls per token in a fixed window that opens at the first call after the
previous window ended (REFERENCE §1.7). Its ``X-RateLimit-Reset`` on a success always reads
"now + window", so the limiter estimates the real window end itself: the window opened when
the call that left ``limit - 1`` remaining was sent. A 429's ``Retry-After`` is exact and puts
every task of the client into the same cooldown.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping

import attrs

from ._config import RateLimitMode
from ._retry import waiting_disabled
from .errors import parse_retry_after

__all__ = ["RateLimitState", "RateLimiter"]

# Added to estimated window ends: the server's clock and ours do not agree to the millisecond.
_SAFETY_MARGIN = 0.25


@attrs.frozen(kw_only=True)
class RateLimitState:
    """The latest rate-limit facts the client knows, for dashboards.

    ``limit``/``remaining`` are None when unknown or unlimited (``unlimited`` is True then);
    ``reset_at`` is a Unix timestamp.
    """

    limit: int | None = None
    remaining: int | None = None
    reset_at: float | None = None
    window: float | None = None
    unlimited: bool = False
    cooling_down_until: float | None = None


def _int_header(headers: Mapping[str, str], name: str) -> int | None:
    value = headers.get(name)
    if value is None:
        return None
    try:
        return int(float(value))
    except ValueError:
        return None


class RateLimiter:
    """Decides when the next request of a client may leave.

    ``mode`` is ``"auto"`` (follow the server's headers), ``"off"`` (only honour 429 waits), or
    a calls-per-minute number (a fixed pace, spread evenly).

    Example::

        limiter = RateLimiter("auto")
        await limiter.acquire()       # waits while the window is spent or a 429 cooldown runs
        ...send...
        limiter.observe(sent_at, status, headers)
    """

    __slots__ = (
        "_cooldown_until",
        "_in_flight",
        "_interval",
        "_limit",
        "_mode",
        "_next_slot",
        "_remaining",
        "_reset_at",
        "_unlimited",
        "_window",
        "_window_end",
    )

    def __init__(self, mode: RateLimitMode) -> None:
        self._mode = mode
        self._interval = 60.0 / mode if isinstance(mode, int) else 0.0
        self._next_slot = 0.0
        self._cooldown_until = 0.0
        self._limit: int | None = None
        self._remaining: int | None = None
        self._reset_at: float | None = None
        self._window: float | None = None
        self._window_end: float | None = None
        self._unlimited = False
        self._in_flight = 0

    @property
    def state(self) -> RateLimitState:
        now = time.monotonic()
        cooling = self._cooldown_until - now
        return RateLimitState(
            limit=self._limit,
            remaining=self._remaining,
            reset_at=self._reset_at,
            window=self._window,
            unlimited=self._unlimited,
            cooling_down_until=time.time() + cooling if cooling > 0 else None,
        )

    def _delay(self, now: float) -> float:
        if now < self._cooldown_until:
            return self._cooldown_until - now
        if self._mode != "auto" or self._unlimited or self._remaining is None:
            return 0.0
        if self._remaining - self._in_flight > 0:
            return 0.0
        if self._window_end is None:
            # Spent, but the window's end is unknown: the server's reset is an upper bound.
            if self._reset_at is None:
                return 0.0
            self._window_end = now + max(0.0, self._reset_at - time.time())
        if now >= self._window_end:
            # A new window has opened: the budget is whole again.
            self._remaining = self._limit
            self._window_end = None
            return 0.0 if self._in_flight < (self._limit or 1) else 0.05
        return self._window_end - now + _SAFETY_MARGIN

    async def acquire(self) -> float:
        """Wait until a request may leave; return the time it may be sent (monotonic)."""
        if self._mode == "off" and self._cooldown_until == 0.0:
            return time.monotonic()
        while True:
            now = time.monotonic()
            delay = self._delay(now)
            if isinstance(self._mode, int):
                slot = max(now, self._next_slot)
                delay = max(delay, slot - now)
            if delay <= 0 or waiting_disabled():
                break
            await asyncio.sleep(delay)
        if isinstance(self._mode, int):
            self._next_slot = max(time.monotonic(), self._next_slot) + self._interval
        self._in_flight += 1
        return time.monotonic()

    def release(self) -> None:
        """The request that ``acquire`` let through has finished (whatever its outcome)."""
        self._in_flight = max(0, self._in_flight - 1)

    def observe(self, sent_at: float, status: int, headers: Mapping[str, str]) -> float | None:
        """Learn from a response; return the cooldown in seconds when it was a 429."""
        limit_raw = headers.get("X-RateLimit-Limit")
        if limit_raw is not None and limit_raw.strip().lower() == "unlimited":
            self._unlimited = True
            self._limit = self._remaining = None
            return None
        limit = _int_header(headers, "X-RateLimit-Limit")
        remaining = _int_header(headers, "X-RateLimit-Remaining")
        reset = _int_header(headers, "X-RateLimit-Reset")
        window = _int_header(headers, "X-RateLimit-Window")
        if limit is not None:
            self._unlimited = False
            self._limit = limit
        if window is not None:
            self._window = float(window)
        if reset is not None:
            self._reset_at = float(reset)
        if remaining is not None:
            if limit is not None and remaining >= limit - 1:
                # This call opened the window: it ends one window after it was sent.
                self._window_end = sent_at + (self._window or 60.0)
                self._remaining = remaining
            elif self._remaining is None or remaining < self._remaining:
                # Answers arrive out of order; the lowest count is the latest.
                self._remaining = remaining
        if status != 429:
            return None
        wait = parse_retry_after(headers.get("Retry-After"))
        if wait is None and reset is not None:
            wait = max(0.0, reset - time.time())
        if wait is None:
            return None
        until = time.monotonic() + wait + _SAFETY_MARGIN
        self._cooldown_until = max(self._cooldown_until, until)
        self._remaining = 0
        self._window_end = until
        return wait
