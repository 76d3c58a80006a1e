"""Priority on a shared token: interactive calls beside a saturating bulk job.

The issue's scenario (17.2): a sandbox token limited to 60 calls per 10-second window. A bulk
job of 16 workers sends text messages on a low-priority lane for ``--seconds`` (default 60);
meanwhile 20 high-priority sends arrive, spread evenly over that time. Printed:

* ``high wait``: how long each high-priority call waited for its permit (median, p90, max);
  target: median < 1 s;
* ``bulk share``: bulk sends over what the token allowed in that time
  (``sends / (elapsed * limit / window)``); target >= 0.75 beside the high calls;
* the same bulk job alone on its token: target >= 0.97;
* a baseline: the bulk job on a normal lane (burst until the window is spent, then wait; the
  pacing before lanes existed), to show what spacing low-priority work buys the high calls.

Each call goes through the limiter the client uses (``wacr_async._pacing.AutoLimiter``) and
a thin aiohttp loop against the in-process sandbox: acquire a permit, POST, record the
answer, and on a 429 retry the way the client does.

Run from the repository root::

    python -m benchmarks.priority                      # about 3 minutes
    python -m benchmarks.priority --seconds 30 --skip-baseline
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass, field

import aiohttp

from wacr_async._pacing import AutoLimiter, Lane, Priority
from wacr_async.testing import Sandbox

from ._common import HEADERS, TOKEN

LIMIT, WINDOW = 60, 10.0
BULK_WORKERS = 16
HIGH_CALLS = 20


@dataclass
class Run:
    bulk_sends: int = 0
    elapsed: float = 0.0
    high_waits: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)

    @property
    def bulk_share(self) -> float:
        return self.bulk_sends / (self.elapsed * LIMIT / WINDOW)


class Sender:
    """One POST /messages/text through the limiter, retried on 429 as the client does."""

    def __init__(self, session: aiohttp.ClientSession, url: str, limiter: AutoLimiter) -> None:
        self.session = session
        self.url = f"{url}/messages/text"
        self.limiter = limiter
        self.statuses: Counter[int] = Counter()

    async def send(self, lane: Lane, n: int) -> float:
        """Send once; return the seconds spent waiting for permits."""
        waited = 0.0
        body = {"phone": f"+1555{n % 10_000_000:07d}", "message": "Hi"}
        while True:
            asked = time.monotonic()
            permit = await self.limiter.acquire(lane)
            waited += time.monotonic() - asked
            try:
                async with self.session.post(self.url, json=body) as response:
                    await response.read()
                    status, headers = response.status, response.headers
            except BaseException:
                await self.limiter.record(permit, status=None, headers=None)
                raise
            self.statuses[status] += 1
            retry_after = float(headers["Retry-After"]) if "Retry-After" in headers else None
            hit = await self.limiter.record(
                permit, status=status, headers=headers, retry_after=retry_after
            )
            if status != 429:
                return waited
            if hit is not None and not hit.shared and hit.wait is not None:
                await asyncio.sleep(hit.wait)


async def scenario(seconds: float, bulk_priority: Priority, with_high: bool) -> Run:
    run = Run()
    sandbox = Sandbox(tokens={TOKEN: {"*"}}, rate_limit=(LIMIT, WINDOW))
    async with sandbox, aiohttp.ClientSession(headers=HEADERS) as session:
        limiter = AutoLimiter()
        sender = Sender(session, sandbox.url, limiter)
        bulk, high = limiter.lane(priority=bulk_priority), limiter.lane(priority="high")
        started = time.monotonic()
        stop_at = started + seconds
        numbers = iter(range(10**9))

        async def bulk_worker() -> None:
            while time.monotonic() < stop_at:
                await sender.send(bulk, next(numbers))
                run.bulk_sends += 1

        async def interactive(k: int) -> None:
            # Each arrives on its own schedule (a web request does not wait for the last one),
            # spread evenly, half a gap in.
            gap = seconds / HIGH_CALLS
            await asyncio.sleep(max(0.0, started + gap * (k + 0.5) - time.monotonic()))
            run.high_waits.append(await sender.send(high, 1_000_000 + k))

        async with asyncio.TaskGroup() as group:
            for _ in range(BULK_WORKERS):
                group.create_task(bulk_worker())
            for k in range(HIGH_CALLS if with_high else 0):
                group.create_task(interactive(k))
        run.elapsed = time.monotonic() - started
        run.statuses = sender.statuses
        await limiter.aclose()
    return run


def describe(name: str, run: Run) -> None:
    line = (
        f"{name:<34} {run.elapsed:6.1f} s  bulk sends {run.bulk_sends:4d}  "
        f"bulk share ratio {run.bulk_share:5.3f}  429s {run.statuses[429]}"
    )
    if run.high_waits:
        waits = sorted(run.high_waits)
        p90 = waits[int(0.9 * (len(waits) - 1))]
        line += (
            f"  high wait median {statistics.median(waits) * 1000:.1f} ms"
            f" p90 {p90 * 1000:.1f} ms max {waits[-1] * 1000:.0f} ms"
        )
    print(line, flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="length of each run")
    parser.add_argument("--skip-baseline", action="store_true", help="skip the normal-lane run")
    args = parser.parse_args()
    print(
        f"token limit {LIMIT} per {WINDOW:g} s; bulk: {BULK_WORKERS} workers for "
        f"{args.seconds:g} s; {HIGH_CALLS} high-priority sends spread over that time"
    )
    mixed = asyncio.run(scenario(args.seconds, "low", with_high=True))
    describe("bulk (low lane) + high calls", mixed)
    alone = asyncio.run(scenario(args.seconds, "low", with_high=False))
    describe("bulk (low lane) alone", alone)
    median_wait = statistics.median(mixed.high_waits)
    if not args.skip_baseline:
        baseline = asyncio.run(scenario(args.seconds, "normal", with_high=True))
        describe("baseline: bulk on a normal lane + high", baseline)
        base_wait = statistics.median(baseline.high_waits)
        print(
            f"high wait median, low lane / normal lane: x{median_wait / max(base_wait, 1e-9):.3f}"
        )
    met = median_wait < 1.0 and mixed.bulk_share >= 0.75 and alone.bulk_share >= 0.97
    print(
        f"target (high wait median {median_wait:.3f} s < 1 s, bulk beside high "
        f"{mixed.bulk_share:.3f} >= 0.75, bulk alone {alone.bulk_share:.3f} >= 0.97): "
        f"{'met' if met else 'MISSED'}"
    )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
