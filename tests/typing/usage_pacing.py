"""Type-checked (mypy --strict), not run: every mode satisfies the public RateLimiter seam."""

from __future__ import annotations

import asyncio

import wacr_async as wacr
from wacr_async._pacing import AutoLimiter, FixedLimiter, NoLimiter, RateLimitHit


async def pace(limiter: wacr.RateLimiter) -> RateLimitHit | None:
    lane = limiter.lane(priority="high", share=0.5)
    deadline = asyncio.get_running_loop().time() + 5
    permit = await limiter.acquire(lane, deadline=deadline)
    hit = await limiter.record(permit, status=200, headers={"X-RateLimit-Remaining": "3"})
    limit: int | None = limiter.state.limit
    del limit
    await limiter.aclose()
    return hit


async def every_mode() -> None:
    for limiter in (AutoLimiter(), FixedLimiter(60), NoLimiter()):
        await pace(limiter)
