"""Pacing at the rate limit: many GETs from many tasks against a fixed-window limiter.

Default scenario (issue target): 2,000 ``GET /account`` calls from 32 tasks against the
sandbox limiting the token to 300 calls per 5-second window (an allowed rate of 60/s). The
client should reach at least 95% of the allowed rate with under 1% of requests answered 429.

Two measures of "the allowed rate" are printed:

* ``rate ratio``: achieved calls per second over ``limit / window``. The last window is
  usually partly used, which flatters this ratio (it can exceed 1).
* ``window efficiency``: the least time the limiter allows for the calls (the start of the
  window the last call needs, ``floor((N - 1) / limit) * window``) over the time taken.

The same run measures a raw aiohttp loop that does what hand-written clients usually do:
fire, and on a 429 sleep for ``Retry-After`` and try again.

Run from the repository root::

    python -m benchmarks.ratelimit                       # about 65 s
    python -m benchmarks.ratelimit --skip-raw --runs 3   # SDK only, median of three
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import aiohttp

from wacr_async.testing import Sandbox

from ._common import HEADERS, TOKEN


@dataclass(frozen=True)
class Result:
    calls: int
    elapsed: float
    statuses: Counter[int]

    @property
    def rate(self) -> float:
        return self.calls / self.elapsed

    @property
    def share_429(self) -> float:
        total = sum(self.statuses.values())
        return self.statuses[429] / total if total else 0.0


async def bounded(calls: int, concurrency: int, call: Callable[[], Awaitable[None]]) -> None:
    remaining = iter(range(calls))

    async def worker() -> None:
        for _ in remaining:
            await call()

    async with asyncio.TaskGroup() as group:
        for _ in range(concurrency):
            group.create_task(worker())


def status_trace(statuses: Counter[int]) -> aiohttp.TraceConfig:
    async def on_end(
        session: aiohttp.ClientSession, ctx: object, params: aiohttp.TraceRequestEndParams
    ) -> None:
        statuses[params.response.status] += 1

    trace = aiohttp.TraceConfig()
    trace.on_request_end.append(on_end)
    return trace


async def run_sdk(calls: int, concurrency: int, limit: int, window: float) -> Result:
    statuses: Counter[int] = Counter()
    sandbox = Sandbox(rate_limit=(limit, window))
    async with sandbox, sandbox.client(trace_configs=[status_trace(statuses)]) as client:

        async def call() -> None:
            await client.account.get()

        started = time.monotonic()
        await bounded(calls, concurrency, call)
        elapsed = time.monotonic() - started
    return Result(calls, elapsed, statuses)


async def run_raw(calls: int, concurrency: int, limit: int, window: float) -> Result:
    statuses: Counter[int] = Counter()
    async with Sandbox(tokens={TOKEN: {"*"}}, rate_limit=(limit, window)) as sandbox:
        url = f"{sandbox.url}/account"
        async with aiohttp.ClientSession(headers=HEADERS) as session:

            async def call() -> None:
                while True:
                    async with session.get(url) as response:
                        await response.read()
                        statuses[response.status] += 1
                        if response.status != 429:
                            return
                        wait = float(response.headers.get("Retry-After", "1"))
                    await asyncio.sleep(wait)

            started = time.monotonic()
            await bounded(calls, concurrency, call)
            elapsed = time.monotonic() - started
    return Result(calls, elapsed, statuses)


def report(name: str, results: list[Result], limit: int, window: float) -> tuple[float, float]:
    allowed = limit / window
    floor_time = ((results[0].calls - 1) // limit) * window
    rate = statistics.median(r.rate for r in results)
    elapsed = statistics.median(r.elapsed for r in results)
    share = statistics.median(r.share_429 for r in results)
    n429 = statistics.median(r.statuses[429] for r in results)
    print(
        f"{name:<22} {elapsed:7.2f} s  {rate:6.1f}/s  rate ratio {rate / allowed:5.3f}  "
        f"window efficiency {floor_time / elapsed:5.3f}  429s {n429:5.0f} ({share:6.2%})"
    )
    return rate / allowed, share


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--limit", type=int, default=300, help="calls per window")
    parser.add_argument("--window", type=float, default=5.0, help="window length in seconds")
    parser.add_argument("--runs", type=int, default=1, help="runs per client (median shown)")
    parser.add_argument("--skip-raw", action="store_true", help="skip the raw aiohttp loop")
    args = parser.parse_args()

    n, c, limit, window = args.requests, args.concurrency, args.limit, args.window
    print(
        f"{n} GETs, concurrency {c}, limit {limit} per {window:g} s "
        f"(allowed {limit / window:.1f}/s), {args.runs} run(s) each"
    )
    sdk = [asyncio.run(run_sdk(n, c, limit, window)) for _ in range(args.runs)]
    ratio, share = report("wacr-async (auto)", sdk, limit, window)
    if not args.skip_raw:
        raw = [asyncio.run(run_raw(n, c, limit, window)) for _ in range(args.runs)]
        raw_ratio, _ = report("raw aiohttp (sleep)", raw, limit, window)
        print(f"wacr-async / raw aiohttp: rate x{ratio / raw_ratio:.2f}")
    target_met = ratio >= 0.95 and share < 0.01
    print(f"target (rate ratio >= 0.95, 429 share < 1%): {'met' if target_met else 'MISSED'}")
    return 0 if target_met else 1


if __name__ == "__main__":
    sys.exit(main())
