"""Virtual time for limiter tests (``tests.virtual_time``), and a token's window as the
sandbox counts it.

``WindowServer`` answers "requests" with the sandbox's own per-token limiter
(``wacr_async.testing._ratelimit.ApiRateLimiter``) running on the virtual clock, so pacing is
tested end to end against the server's counting rules without real waiting.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from tests.virtual_time import START, VirtualLoopStalled, VirtualTimeLoop, run_virtual, settle
from wacr_async._pacing import Gate, Lane, Permit, RateLimitHit
from wacr_async.testing._ratelimit import ApiRateLimiter

__all__ = [
    "START",
    "VirtualLoopStalled",
    "VirtualTimeLoop",
    "WindowServer",
    "counts",
    "now",
    "run_virtual",
    "seeded",
    "settle",
    "wall_clock",
]

# The Unix time at virtual loop time 0: the limiter and the "server" read one wall clock.
WALL_AT_ZERO = 1_800_000_000.0


def now() -> float:
    return asyncio.get_running_loop().time()


def wall_clock() -> float:
    """Unix time matching the running virtual loop's clock."""
    return WALL_AT_ZERO + now()


def counts(limit: int, remaining: int, window: float = 60.0) -> dict[str, str]:
    """Headers of a success: the reset always reads "now + window", never the real end."""
    return {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Reset": str(int(wall_clock() + window)),
        "X-RateLimit-Window": f"{window:g}",
    }


async def seeded(limiter: Gate, limit: int, remaining: int, window: float = 60.0) -> Gate:
    """``limiter`` after one answer of the current window."""
    permit = await limiter.acquire(limiter.lane())
    await limiter.record(permit, status=200, headers=counts(limit, remaining, window))
    return limiter


class WindowServer:
    """One token's fixed window, counted by the sandbox's limiter on the virtual clock.

    ``call`` acquires a permit, "sends" (half the latency out, half back), and records the
    answer; ``send`` retries 429s the way the client does (no sleep of its own when the
    limiter holds the whole token).
    """

    def __init__(
        self, limit: int, window: float, *, latency: float = 0.01, whitelisted: bool = False
    ) -> None:
        loop = asyncio.get_running_loop()
        self.api = ApiRateLimiter(
            limit,
            window,
            whitelist=frozenset({"tok"} if whitelisted else ()),
            now=loop.time,
            wall=wall_clock,
        )
        self.latency = latency
        self.statuses: Counter[int] = Counter()
        self.arrivals: list[float] = []  # when each request reached the "server"

    async def call(self, limiter: Gate, lane: Lane) -> tuple[int, RateLimitHit | None]:
        permit: Permit = await limiter.acquire(lane)
        await asyncio.sleep(self.latency / 2)
        decision, headers = self.api.check("tok")
        self.arrivals.append(now())
        status = 200 if decision is None or decision.allowed else 429
        self.statuses[status] += 1
        await asyncio.sleep(self.latency / 2)
        retry_after = float(headers["Retry-After"]) if status == 429 else None
        hit = await limiter.record(permit, status=status, headers=headers, retry_after=retry_after)
        return status, hit

    async def send(self, limiter: Gate, lane: Lane) -> None:
        while True:
            status, hit = await self.call(limiter, lane)
            if status != 429:
                return
            if hit is not None and not hit.shared and hit.wait is not None:
                await asyncio.sleep(hit.wait)


async def run_bounded(count: int, workers: int, call: Any) -> None:
    """``count`` calls of ``call()`` from ``workers`` tasks."""
    remaining = iter(range(count))

    async def worker() -> None:
        for _ in remaining:
            await call()

    async with asyncio.TaskGroup() as group:
        for _ in range(workers):
            group.create_task(worker())
