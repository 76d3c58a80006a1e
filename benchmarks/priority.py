"""Priority on a shared token: interactive calls beside a saturating bulk job.

The issue's scenario (17.2): a sandbox token limited to 60 calls per 10-second window. A bulk
job of 16 workers sends text messages on a low-priority lane for ``--seconds`` (default 60);
meanwhile 20 high-priority sends arrive, spread evenly over that time. Printed:

* ``high wait``: how long each high-priority call took, end to end (the wait at the rate
  limiter plus one request to the local sandbox; median, p90, max); target: median < 1 s;
* ``bulk share``: bulk sends over what the token allowed in that time
  (``sends / (elapsed * limit / window)``); target >= 0.75 beside the high calls;
* the same bulk job alone on its token: target >= 0.97;
* a baseline: the bulk job on a normal lane (burst until the window is spent, then wait; the
  pacing before lanes existed), to show what spacing low-priority work buys the high calls.

Every call is a real ``client.messages.send_text`` against the in-process sandbox: the high
calls through ``client.with_options(priority="high")``, the bulk job through the lane view a
batch run uses (``client._with_lane(client._new_lane(priority=…))``).

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

import wacr_async as wacr
from wacr_async._pacing import Priority
from wacr_async.testing import Sandbox

from ._common import TOKEN

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


def status_trace(statuses: Counter[int]) -> aiohttp.TraceConfig:
    async def on_end(
        session: aiohttp.ClientSession, ctx: object, params: aiohttp.TraceRequestEndParams
    ) -> None:
        statuses[params.response.status] += 1

    trace = aiohttp.TraceConfig()
    trace.on_request_end.append(on_end)
    return trace


async def scenario(seconds: float, bulk_priority: Priority, with_high: bool) -> Run:
    run = Run()
    sandbox = Sandbox(tokens={TOKEN: {"*"}}, rate_limit=(LIMIT, WINDOW))
    trace = status_trace(run.statuses)
    async with sandbox, wacr.Client(token=TOKEN, base_url=sandbox.url, trace_configs=[trace]) as c:
        # The lane view a batch run uses (client.batch makes it with the run's share).
        bulk = c._with_lane(c._new_lane(priority=bulk_priority))
        high = c.with_options(priority="high")
        started = time.monotonic()
        stop_at = started + seconds
        numbers = iter(range(10**9))

        async def bulk_worker() -> None:
            while time.monotonic() < stop_at:
                await bulk.messages.send_text(f"+1555{next(numbers):07d}", "Hi")
                run.bulk_sends += 1

        async def interactive(k: int) -> None:
            # Each arrives on its own schedule (a web request does not wait for the last one),
            # spread evenly, half a gap in.
            gap = seconds / HIGH_CALLS
            await asyncio.sleep(max(0.0, started + gap * (k + 0.5) - time.monotonic()))
            asked = time.monotonic()
            await high.messages.send_text(f"+1666{k:07d}", "Your code is 123456")
            run.high_waits.append(time.monotonic() - asked)

        async with asyncio.TaskGroup() as group:
            for _ in range(BULK_WORKERS):
                group.create_task(bulk_worker())
            for k in range(HIGH_CALLS if with_high else 0):
                group.create_task(interactive(k))
        run.elapsed = time.monotonic() - started
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
            f"high wait median, low lane / normal lane: x{median_wait / max(base_wait, 1e-9):.4f}"
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
