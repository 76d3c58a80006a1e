"""Pacing at a fixed number of calls per minute (``rate_limit=<int>``), evenly spaced.

Requests leave one every ``60 / per_minute`` seconds, whatever the server's headers say;
a 429 that speaks for the whole token still holds every request (see ``gate``).

Example::

    limiter = FixedLimiter(per_minute=30)          # one call every 2 s
    permit = await limiter.acquire(limiter.lane())
    await limiter.record(permit, status=200, headers=response.headers)
"""

from __future__ import annotations

import time
from collections.abc import Callable

from .gate import Gate

__all__ = ["FixedLimiter"]


class FixedLimiter(Gate):
    """Spaces requests evenly at ``per_minute`` calls per minute."""

    __slots__ = ("_interval", "_next_slot", "per_minute")
    _paces_by_answers = False

    def __init__(self, per_minute: int, *, wall: Callable[[], float] = time.time) -> None:
        if isinstance(per_minute, bool) or not isinstance(per_minute, int) or per_minute < 1:
            raise ValueError(f"per_minute must be a positive integer, got {per_minute!r}")
        super().__init__(wall=wall)
        self.per_minute = per_minute
        self._interval = 60.0 / per_minute
        self._next_slot = 0.0

    def __repr__(self) -> str:
        return f"FixedLimiter(per_minute={self.per_minute})"

    def _token_wait(self, now: float) -> float:
        return max(0.0, self._next_slot - now)

    def _queue_eta(self, now: float, ahead: int) -> float:
        return self._token_wait(now) + ahead * self._interval

    def _slot_interval(self) -> float:
        return self._interval

    def _on_admit(self, now: float) -> int:
        # From "now" when idle: a quiet spell earns no burst afterwards.
        self._next_slot = max(now, self._next_slot) + self._interval
        return 0
