"""The pacing seam over the header-following limiter of ``_ratelimit`` (until ``_pacing``).

The request path asks a limiter for a permit on a lane, then gives it back (``release``: the
request never left) or reports the answer (``record``). This adapter offers that seam over
:class:`~wacr_async._ratelimit.RateLimiter`; lanes carry a priority and a share that it does
not act on.

Example::

    limiter = LegacyLimiter("auto")
    permit = await limiter.acquire(limiter.lane(), deadline=loop.time() + 30)
    hit = await limiter.record(permit, status=429, headers=headers, retry_after=None)
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Literal

from ._config import RateLimitMode
from ._ratelimit import RateLimiter, RateLimitHit, RateLimitState, Slot
from .errors import RateLimitError

__all__ = ["Lane", "LegacyLimiter", "Permit", "Priority", "RateLimitHit", "RateLimitState"]

Priority = Literal["high", "normal", "low"]


class Lane:
    """One stream of calls: a client view, or a batch run."""

    __slots__ = ("priority", "share")

    def __init__(self, *, priority: Priority = "normal", share: float | None = None) -> None:
        self.priority: Priority = priority
        self.share = share


class Permit:
    """Permission for one attempt to leave."""

    __slots__ = ("slot",)

    def __init__(self, slot: Slot) -> None:
        self.slot = slot


def _too_long(wait: float | None) -> RateLimitError:
    return RateLimitError(
        "rate limit: this call would wait for a slot past its deadline",
        retry_after=wait,
        shared=True,
        status=None,
    )


class LegacyLimiter:
    """The pacing seam over ``_ratelimit.RateLimiter``."""

    __slots__ = ("_inner",)

    def __init__(self, mode: RateLimitMode) -> None:
        self._inner = RateLimiter(mode)

    @property
    def state(self) -> RateLimitState:
        return self._inner.state

    def lane(self, *, priority: Priority = "normal", share: float | None = None) -> Lane:
        return Lane(priority=priority, share=share)

    async def acquire(self, lane: Lane, *, deadline: float | None = None) -> Permit:
        if deadline is None:
            return Permit(await self._inner.acquire())
        inner = self._inner
        left = deadline - asyncio.get_running_loop().time()
        wait = inner._wait_needed(time.monotonic()) if not inner.waiting else None
        if wait is not None and wait > left:
            raise _too_long(wait)
        if wait == 0.0:
            return Permit(await inner.acquire())  # free now: no timer needed
        try:
            async with asyncio.timeout_at(deadline):
                return Permit(await self._inner.acquire())
        except TimeoutError:
            raise _too_long(None) from None

    def release(self, permit: Permit) -> None:
        self._inner.finish(permit.slot)

    async def record(
        self,
        permit: Permit,
        *,
        status: int | None,
        headers: Mapping[str, str] | None,
        retry_after: float | None = None,
    ) -> RateLimitHit | None:
        return self._inner.finish(
            permit.slot, status, headers, retry_after=retry_after, maybe_counted=status is None
        )

    async def aclose(self) -> None:
        return None
