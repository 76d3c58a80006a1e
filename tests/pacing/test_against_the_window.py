"""Each mode against the sandbox's own per-token window, on virtual time.

Ported from the old ``tests/test_ratelimit.py``: the same counting rules the sandbox applies
(``testing._ratelimit.ApiRateLimiter``), without waiting in real time.
"""

from __future__ import annotations

import asyncio
import statistics

import pytest

from wacr_async._pacing import AutoLimiter, FixedLimiter, NoLimiter, Priority

from .conftest import WindowServer, now, run_bounded, run_virtual, wall_clock


def test_auto_pacing_waits_for_the_window_instead_of_hitting_429() -> None:
    async def main() -> None:
        server = WindowServer(10, 0.5)
        limiter = AutoLimiter(wall=wall_clock)
        lane = limiter.lane()
        # Three windows' worth from more tasks than one window allows.
        await run_bounded(30, 16, lambda: server.send(limiter, lane))
        assert server.statuses == {200: 30}

    run_virtual(main())


def test_auto_pacing_of_a_bulk_lane_uses_nearly_the_whole_rate() -> None:
    async def main() -> None:
        server = WindowServer(60, 10.0)
        limiter = AutoLimiter(wall=wall_clock)
        lane = limiter.lane(priority="low")
        started = now()
        await run_bounded(600, 16, lambda: server.send(limiter, lane))
        assert server.statuses == {200: 600}
        # Paced evenly, 600 calls take ten windows less the first one's burst; little is lost.
        assert now() - started < 600 / 6.0 / 0.97

    run_virtual(main())


async def high_waits_beside_bulk(bulk_priority: Priority) -> tuple[list[float], WindowServer]:
    """20 high-priority calls, one every 1.7 s, beside 400 bulk calls from 16 workers."""
    server = WindowServer(60, 10.0)
    limiter = AutoLimiter(wall=wall_clock)
    bulk, high = limiter.lane(priority=bulk_priority), limiter.lane(priority="high")
    waits: list[float] = []

    async def interactive(k: int) -> None:
        await asyncio.sleep(1.7 * (k + 1))
        asked = now()
        await server.send(limiter, high)
        waits.append(now() - asked - server.latency)

    async with asyncio.TaskGroup() as group:
        group.create_task(run_bounded(400, 16, lambda: server.send(limiter, bulk)))
        for k in range(20):
            group.create_task(interactive(k))
    return waits, server


def test_high_priority_calls_barely_wait_beside_a_saturating_bulk_lane() -> None:
    waits, server = run_virtual(high_waits_beside_bulk("low"))
    assert server.statuses[429] == 0
    assert statistics.median(waits) < 0.05
    assert max(waits) < 2.0


def test_a_bulk_job_on_a_normal_lane_spends_the_window_before_high_calls_come() -> None:
    # Why bulk work goes on a low lane: bursting, it leaves the high calls nothing.
    waits, _ = run_virtual(high_waits_beside_bulk("normal"))
    assert statistics.median(waits) > 1.0


def test_rate_limit_state_is_exposed_for_dashboards() -> None:
    async def main() -> None:
        server = WindowServer(5, 30.0)
        limiter = AutoLimiter(wall=wall_clock)
        lane = limiter.lane()
        assert limiter.state.limit is None  # nothing known before the first answer
        before = wall_clock()
        await server.send(limiter, lane)
        await server.send(limiter, lane)
        state = limiter.state
        assert state.limit == 5
        assert state.remaining == 3
        assert state.window == 30
        assert not state.unlimited
        assert state.cooling_down_until is None
        assert state.reset_at is not None
        assert before + 29 <= state.reset_at <= wall_clock() + 30.5

    run_virtual(main())


def test_whitelisted_token_reads_unlimited_and_is_not_paced() -> None:
    async def main() -> None:
        server = WindowServer(2, 60.0, whitelisted=True)
        limiter = AutoLimiter(wall=wall_clock)
        lane = limiter.lane()
        started = now()
        await run_bounded(10, 5, lambda: server.send(limiter, lane))
        assert limiter.state.unlimited
        assert limiter.state.limit is None
        assert server.statuses == {200: 10}
        assert now() - started < 0.1

    run_virtual(main())


def test_429s_put_the_whole_client_into_one_cooldown() -> None:
    # Pacing off, so that ten concurrent calls run into a window of five.
    async def main() -> None:
        server = WindowServer(5, 1.0)
        limiter = NoLimiter(wall=wall_clock)
        lane = limiter.lane()
        await asyncio.gather(*(server.send(limiter, lane) for _ in range(10)))
        # Five got a 429 once each and waited together; nobody hammered the window again.
        assert server.statuses == {200: 10, 429: 5}

    run_virtual(main())


def test_pacing_off_sends_without_waiting_for_the_window() -> None:
    async def main() -> None:
        server = WindowServer(3, 30.0)
        limiter = NoLimiter(wall=wall_clock)
        lane = limiter.lane()
        results = await asyncio.gather(*(server.call(limiter, lane) for _ in range(5)))
        assert sorted(status for status, _ in results) == [200, 200, 200, 429, 429]

    run_virtual(main())


def test_fixed_pace_against_the_window_sends_at_its_own_rate() -> None:
    async def main() -> None:
        server = WindowServer(100, 60.0)
        limiter = FixedLimiter(600, wall=wall_clock)
        lane = limiter.lane()
        await asyncio.gather(*(server.send(limiter, lane) for _ in range(6)))
        gaps = [b - a for a, b in zip(server.arrivals, server.arrivals[1:], strict=False)]
        assert gaps == pytest.approx([0.1] * 5)

    run_virtual(main())
