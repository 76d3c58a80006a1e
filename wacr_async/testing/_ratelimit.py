"""Fixed-window limiters shaped like Laravel's ``RateLimiter``, and the API's header rules.

A window opens at the first hit after the previous one expired (it is not aligned to the
clock minute); within it at most ``limit`` hits pass. The API limiter runs on the running
event loop's clock, because clients really wait on it: real monotonic time on a normal loop,
and a test's virtual time on a loop whose clock it moves. The OTP limiters take the sandbox
clock.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from typing import NamedTuple

__all__ = ["ApiRateLimiter", "Decision", "FixedWindow"]


class Decision(NamedTuple):
    """The outcome of one hit: allowed or not, what is left, when the window ends."""

    allowed: bool
    limit: int
    remaining: int
    retry_after: int  # whole seconds until the window really ends (0 when allowed)


class FixedWindow:
    """At most ``limit`` hits per key per ``window`` seconds.

    Example::

        resend = FixedWindow(3, 300, clock.time)
        assert resend.hit("otp-resend:1:15550001111").allowed
    """

    __slots__ = ("_now", "_windows", "limit", "window")

    def __init__(self, limit: int, window: float, now: Callable[[], float]) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("a rate limit needs limit >= 1 and window > 0")
        self.limit = limit
        self.window = window
        self._now = now
        self._windows: dict[str, list[float]] = {}  # key -> [ends_at, hits]

    def hit(self, key: str) -> Decision:
        """Count one attempt for ``key`` unless the window is full (Laravel counts no 429s)."""
        now = self._now()
        state = self._windows.get(key)
        if state is None or state[0] <= now:
            state = self._windows[key] = [now + self.window, 0.0]
        if state[1] >= self.limit:
            wait = max(1, math.ceil(state[0] - now))
            return Decision(False, self.limit, 0, wait)
        state[1] += 1
        return Decision(True, self.limit, self.limit - int(state[1]), 0)

    def ends_in(self, key: str) -> float:
        """Seconds until ``key``'s window ends (0 when there is none)."""
        state = self._windows.get(key)
        return 0.0 if state is None else max(0.0, state[0] - self._now())

    def clear(self, key: str | None = None) -> None:
        """Forget ``key`` (a successful OTP verify does this) or every key."""
        if key is None:
            self._windows.clear()
        else:
            self._windows.pop(key, None)


class ApiRateLimiter:
    """The per-token API limiter and the ``X-RateLimit-*`` headers the server sends.

    On success ``X-RateLimit-Reset`` is always "now + window" (the real server's quirk),
    not the true end of the window; a 429 carries the accurate reset and ``Retry-After``.
    """

    __slots__ = ("_wall", "_window", "whitelist")

    def __init__(
        self,
        limit: int,
        window: float = 60.0,
        *,
        whitelist: frozenset[str] = frozenset(),
        now: Callable[[], float] | None = None,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self._window = FixedWindow(limit, window, now or _loop_time)
        self._wall = wall
        self.whitelist = whitelist

    @property
    def limit(self) -> int:
        return self._window.limit

    @property
    def window(self) -> float:
        return self._window.window

    def check(self, token: str) -> tuple[Decision | None, dict[str, str]]:
        """Hit ``token``'s window; return the decision (``None`` if whitelisted) and headers."""
        if token in self.whitelist:
            return None, {
                "X-RateLimit-Limit": "unlimited",
                "X-RateLimit-Remaining": "unlimited",
                "X-RateLimit-Whitelisted": "true",
            }
        decision = self._window.hit(token)
        wall = self._wall()
        if decision.allowed:
            window = self._window.window
            return decision, {
                "X-RateLimit-Limit": str(decision.limit),
                "X-RateLimit-Remaining": str(decision.remaining),
                "X-RateLimit-Reset": str(int(wall + window)),
                "X-RateLimit-Window": _seconds(window),
            }
        return decision, {
            "X-RateLimit-Limit": str(decision.limit),
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": str(math.ceil(wall + self._window.ends_in(token))),
            "Retry-After": str(decision.retry_after),
        }

    def reset(self) -> None:
        """Forget every token's window."""
        self._window.clear()


def _loop_time() -> float:
    """The running loop's clock (``time.monotonic`` on a normal loop), or monotonic time."""
    try:
        return asyncio.get_running_loop().time()
    except RuntimeError:
        return time.monotonic()


def _seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"
