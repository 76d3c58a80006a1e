"""No pacing (``rate_limit="off"``): requests leave at once, except during a shared 429 cooldown.

Even unpaced, ten calls that all met a spent window should wait for it together, not each
hammer it again: a 429 with ``X-RateLimit-Remaining: 0`` holds every request until the
server's ``Retry-After`` (see ``gate``). Lanes keep their priority order during such a
cooldown; ``share`` has no effect, since nothing is known about the window.

Example::

    limiter = NoLimiter()
    permit = await limiter.acquire(limiter.lane())   # immediate unless cooling down
    await limiter.record(permit, status=429, headers=headers, retry_after=12.0)
"""

from __future__ import annotations

from .gate import Gate

__all__ = ["NoLimiter"]


class NoLimiter(Gate):
    """Lets every request go at once, except while a shared 429 cooldown runs."""

    __slots__ = ()
    _paces_by_answers = False

    def __repr__(self) -> str:
        return "NoLimiter()"

    def _token_wait(self, now: float) -> float:
        return 0.0
