"""Pacing: when may each request leave, given the token's rate limit and the call's priority.

One seam, :class:`RateLimiter` (``protocol``), and one small class per mode, all built on the
shared waiting room in ``gate`` (priority queues, one timer, deadlines, the shared 429
cooldown). The only clock is the running loop's ``time()``.

:class:`AutoLimiter` — ``rate_limit="auto"``: follows the ``X-RateLimit-*`` headers::

    limiter = AutoLimiter()
    permit = await limiter.acquire(limiter.lane(), deadline=loop.time() + 30)
    hit = await limiter.record(permit, status=response.status, headers=response.headers)

:class:`FixedLimiter` — ``rate_limit=<calls per minute>``: evenly spaced::

    limiter = FixedLimiter(per_minute=60)
    permit = await limiter.acquire(limiter.lane())

:class:`NoLimiter` — ``rate_limit="off"``: no pacing, but a token-wide 429 still holds all::

    limiter = NoLimiter()
    permit = await limiter.acquire(limiter.lane())
    limiter.release(permit)                      # it never left: nothing counted

Priority and share (lanes)::

    web = limiter.lane(priority="high")          # served before any queued normal/low work
    bulk = limiter.lane(priority="low", share=0.8)  # spaced evenly at 80% of the token's rate

Low-priority lanes are spaced evenly through the window (after a burst of a tenth of it)
instead of spending it at once, so a high-priority call almost always finds a free slot,
while a bulk job alone still gets the whole rate (``share=None``).

Why this default (``benchmarks/priority.py``: a token limited to 60 calls per 10 s, a bulk
job of 16 workers for 60 s, 20 high-priority sends spread over that time): the high calls
waited 0 ms at the median (max 0.8 s) and the bulk job kept 0.96 of the token's rate beside
them; alone it reached 1.01. The same bulk job bursting on a normal lane (the pacing before
lanes) left the high calls a median wait of 5.2 s. A reserve of slots kept for high calls
was not chosen: it costs a lone job that many slots in every window, and once the reserve is
spent the next high call waits for the next window all the same.
"""

from __future__ import annotations

from .._config import RateLimitMode
from .auto import AutoLimiter
from .fixed import FixedLimiter
from .gate import Gate
from .headers import MAX_SHARED_WAIT
from .off import NoLimiter
from .protocol import Lane, Permit, Priority, RateLimiter, RateLimitHit, RateLimitState
from .waiting import too_long

__all__ = [
    "MAX_SHARED_WAIT",
    "AutoLimiter",
    "FixedLimiter",
    "Lane",
    "NoLimiter",
    "Permit",
    "Priority",
    "RateLimitHit",
    "RateLimitState",
    "RateLimiter",
    "limiter_for",
    "too_long",
]


def limiter_for(mode: RateLimitMode) -> Gate:
    """The limiter a client builds for ``rate_limit=mode``: "auto", "off" or calls per minute.

    Example::

        limiter = limiter_for(config.rate_limit)     # AutoLimiter() for "auto"
    """
    if mode == "auto":
        return AutoLimiter()
    if mode == "off":
        return NoLimiter()
    return FixedLimiter(mode)
