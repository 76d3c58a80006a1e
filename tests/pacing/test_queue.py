"""The waiting room shared by every mode: priority order, share caps, deadlines, cancellation."""

from __future__ import annotations

import asyncio
import time

import pytest

import wacr_async as wacr
from wacr_async._pacing import (
    AutoLimiter,
    FixedLimiter,
    Gate,
    Lane,
    NoLimiter,
    Permit,
    RateLimiter,
    limiter_for,
)

from .conftest import counts, now, run_virtual, seeded, settle, wall_clock


def test_every_mode_is_a_rate_limiter() -> None:
    for mode in ("auto", "off", 60):
        assert isinstance(limiter_for(mode), RateLimiter)
    assert type(limiter_for("auto")) is AutoLimiter
    assert type(limiter_for("off")) is NoLimiter
    fixed = limiter_for(30)
    assert isinstance(fixed, FixedLimiter) and fixed.per_minute == 30


@pytest.mark.parametrize("share", [0, -0.5, 1.5])
def test_a_share_outside_zero_to_one_is_refused(share: float) -> None:
    with pytest.raises(ValueError, match="share"):
        AutoLimiter().lane(share=share)


def test_an_unknown_priority_is_refused() -> None:
    with pytest.raises(ValueError, match="priority"):
        Lane(priority="urgent")  # type: ignore[arg-type]  # the check a typo meets at runtime


@pytest.mark.parametrize("per_minute", [0, -1, True, 1.5])
def test_fixed_pace_needs_a_positive_integer(per_minute: int) -> None:
    with pytest.raises(ValueError, match="per_minute"):
        FixedLimiter(per_minute)


# -- fixed pace ------------------------------------------------------------------------------


def test_fixed_pace_spaces_requests_evenly() -> None:
    async def main() -> None:
        limiter = FixedLimiter(600, wall=wall_clock)  # one every 0.1 s
        lane = limiter.lane()
        started = now()
        granted: list[float] = []

        async def take() -> None:
            await limiter.acquire(lane)
            granted.append(now() - started)

        await asyncio.gather(*(take() for _ in range(6)))
        assert granted == pytest.approx([0.0, 0.1, 0.2, 0.3, 0.4, 0.5])

    run_virtual(main())


def test_fixed_pace_earns_no_burst_from_a_quiet_spell() -> None:
    async def main() -> None:
        limiter = FixedLimiter(60, wall=wall_clock)
        lane = limiter.lane()
        await limiter.acquire(lane)
        await asyncio.sleep(30)
        started = now()
        await limiter.acquire(lane)
        await limiter.acquire(lane)
        assert now() - started == pytest.approx(1.0)

    run_virtual(main())


# -- priority --------------------------------------------------------------------------------


def test_high_priority_is_served_before_queued_normal_and_low_work() -> None:
    async def main() -> None:
        limiter = FixedLimiter(60, wall=wall_clock)
        lanes = {p: limiter.lane(priority=p) for p in ("high", "normal", "low")}
        await limiter.acquire(lanes["normal"])  # the next slot is 1 s away
        order: list[str] = []

        async def take(name: str, priority: str) -> None:
            await limiter.acquire(lanes[priority])
            order.append(name)

        tasks = [
            asyncio.ensure_future(take(name, priority))
            for name, priority in [
                ("low1", "low"),
                ("normal1", "normal"),
                ("low2", "low"),
                ("high1", "high"),
                ("normal2", "normal"),
                ("high2", "high"),
            ]
        ]
        await asyncio.gather(*tasks)
        assert order == ["high1", "high2", "normal1", "normal2", "low1", "low2"]

    run_virtual(main())


def test_a_high_priority_call_bypasses_a_queue_of_bulk_work() -> None:
    async def main() -> None:
        limiter = await seeded(AutoLimiter(wall=wall_clock), limit=60, remaining=59, window=10)
        bulk = limiter.lane(priority="low")
        bulk_tasks = [asyncio.ensure_future(limiter.acquire(bulk)) for _ in range(30)]
        await settle()
        started = now()
        await limiter.acquire(limiter.lane(priority="high"))
        assert now() == started, "budget is left: the high call goes at once"
        assert sum(t.done() for t in bulk_tasks) < 30, "the bulk lane is still queued"
        for t in bulk_tasks:
            t.cancel()
        await asyncio.gather(*bulk_tasks, return_exceptions=True)

    run_virtual(main())


def test_when_the_window_reopens_high_priority_goes_first() -> None:
    async def main() -> None:
        limiter = await seeded(AutoLimiter(wall=wall_clock), limit=5, remaining=0, window=10)
        order: list[str] = []

        async def take(name: str, lane: Lane) -> None:
            await limiter.acquire(lane)
            order.append(name)

        low, high = limiter.lane(priority="low"), limiter.lane(priority="high")
        tasks = [asyncio.ensure_future(take("low", low)), asyncio.ensure_future(take("high", high))]
        await settle()
        assert order == []
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        assert order == ["high"], "the probe of the new window is the high-priority call"
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    run_virtual(main())


# -- paced lanes and share caps --------------------------------------------------------------


async def spaced(limiter: Gate, lane: Lane, n: int) -> list[float]:
    started = now()
    granted = []
    for _ in range(n):
        await limiter.acquire(lane)
        granted.append(now() - started)
    return granted


def test_a_low_priority_lane_is_spread_evenly_over_the_window() -> None:
    async def main() -> None:
        limiter = await seeded(AutoLimiter(wall=wall_clock, burst=0), 60, 59, window=10)
        granted = await spaced(limiter, limiter.lane(priority="low"), 5)
        assert granted == pytest.approx([0.0, 1 / 6, 2 / 6, 3 / 6, 4 / 6])

    run_virtual(main())


def test_a_low_priority_lane_may_run_ahead_by_a_tenth_of_the_window() -> None:
    async def main() -> None:
        limiter = await seeded(AutoLimiter(wall=wall_clock), limit=60, remaining=59, window=10)
        granted = await spaced(limiter, limiter.lane(priority="low"), 9)
        # Six at once (a tenth of 60), then the even pace: the seventh is due at 6/6 s, but
        # may run ahead by five slots.
        assert granted == pytest.approx([0.0] * 6 + [1 / 6, 2 / 6, 3 / 6])

    run_virtual(main())


def test_a_lane_whose_burst_was_spent_earns_it_back_at_its_pace() -> None:
    async def main() -> None:
        limiter = await seeded(AutoLimiter(wall=wall_clock), limit=60, remaining=59, window=100)
        lane = limiter.lane(priority="low")
        await spaced(limiter, lane, 6)
        await asyncio.sleep(100 / 60 * 3)  # three slots' worth of quiet
        assert await spaced(limiter, lane, 3) == [0.0] * 3

    run_virtual(main())


def test_a_burst_outside_zero_to_one_is_refused() -> None:
    with pytest.raises(ValueError, match="burst"):
        AutoLimiter(burst=2)


def test_a_normal_lane_without_share_spends_the_budget_at_once() -> None:
    async def main() -> None:
        limiter = await seeded(AutoLimiter(wall=wall_clock), limit=60, remaining=59, window=10)
        assert await spaced(limiter, limiter.lane(), 5) == [0.0] * 5  # exact: no timer ran

    run_virtual(main())


def test_share_caps_a_lane_at_that_fraction_of_the_rate() -> None:
    async def main() -> None:
        limiter = await seeded(AutoLimiter(wall=wall_clock, burst=0), 60, 59, window=10)
        granted = await spaced(limiter, limiter.lane(priority="low", share=0.5), 4)
        assert granted == pytest.approx([0.0, 1 / 3, 2 / 3, 1.0])
        # A normal lane with a share is paced the same way.
        granted = await spaced(limiter, limiter.lane(share=0.25), 3)
        assert granted == pytest.approx([0.0, 2 / 3, 4 / 3])

    run_virtual(main())


def test_share_caps_a_fixed_pace_too() -> None:
    async def main() -> None:
        limiter = FixedLimiter(60, wall=wall_clock)
        granted = await spaced(limiter, limiter.lane(share=0.5), 3)
        assert granted == pytest.approx([0.0, 2.0, 4.0])

    run_virtual(main())


def test_a_lane_held_by_its_pace_does_not_hold_other_lanes() -> None:
    async def main() -> None:
        limiter = await seeded(AutoLimiter(wall=wall_clock), limit=60, remaining=59, window=10)
        capped = limiter.lane(priority="low", share=0.1)  # one per 1 2/3 s
        await limiter.acquire(capped)
        held = asyncio.ensure_future(limiter.acquire(capped))
        await settle()
        started = now()
        await limiter.acquire(limiter.lane(priority="low"))  # another batch run
        assert now() == started
        assert not held.done()
        await held
        assert now() - started == pytest.approx(10 / 6)

    run_virtual(main())


def test_share_has_no_effect_without_a_known_window() -> None:
    async def main() -> None:
        limiter = NoLimiter(wall=wall_clock)
        assert await spaced(limiter, limiter.lane(priority="low", share=0.1), 3) == [0.0] * 3

    run_virtual(main())


# -- deadlines -------------------------------------------------------------------------------


def test_a_wait_past_the_deadline_raises_at_once() -> None:
    async def main() -> None:
        limiter = await seeded(AutoLimiter(wall=wall_clock), limit=5, remaining=0, window=10)
        started = now()
        with pytest.raises(wacr.RateLimitError) as caught:
            await limiter.acquire(limiter.lane(), deadline=started + 2)
        assert now() == started, "no sleeping first"
        error = caught.value
        assert error.retry_after == pytest.approx(10.05)
        assert error.status is None
        assert error.shared is True
        assert limiter.waiting == 0

    run_virtual(main())


def test_a_wait_within_the_deadline_is_served() -> None:
    async def main() -> None:
        limiter = await seeded(AutoLimiter(wall=wall_clock), limit=5, remaining=0, window=10)
        started = now()
        await limiter.acquire(limiter.lane(), deadline=started + 11)
        assert now() == pytest.approx(started + 10.05)

    run_virtual(main())


def test_the_deadline_counts_the_queue_ahead() -> None:
    async def main() -> None:
        limiter = FixedLimiter(60, wall=wall_clock)
        lane = limiter.lane()
        await limiter.acquire(lane)
        queued = [asyncio.ensure_future(limiter.acquire(lane)) for _ in range(3)]
        await settle()
        started = now()
        with pytest.raises(wacr.RateLimitError) as caught:
            await limiter.acquire(lane, deadline=started + 3.5)
        assert caught.value.retry_after == pytest.approx(4.0)
        assert now() == started
        await asyncio.gather(*queued)

    run_virtual(main())


def test_a_cooldown_arriving_later_fails_queued_calls_it_would_make_late() -> None:
    async def main() -> None:
        limiter = FixedLimiter(60, wall=wall_clock)
        lane = limiter.lane()
        first = await limiter.acquire(lane)
        started = now()
        late = asyncio.ensure_future(limiter.acquire(lane, deadline=started + 5))
        await settle()
        assert not late.done()
        spent = {"X-RateLimit-Remaining": "0", "Retry-After": "30"}
        await limiter.record(first, status=429, headers=spent, retry_after=30.0)
        with pytest.raises(wacr.RateLimitError):
            await late
        assert now() == started, "it fails when the cooldown starts, not at its deadline"

    run_virtual(main())


def test_a_queued_call_fails_at_its_deadline_when_no_estimate_was_possible() -> None:
    async def main() -> None:
        limiter = AutoLimiter(wall=wall_clock)
        lane = limiter.lane()
        await limiter.acquire(lane)  # the first request: its answer is awaited
        limiter_probe_patience = 1.0
        started = now()
        with pytest.raises(wacr.RateLimitError):
            await limiter.acquire(lane, deadline=started + limiter_probe_patience / 2)
        assert now() <= started + limiter_probe_patience / 2

    run_virtual(main())


# -- cancellation and closing ----------------------------------------------------------------


def test_a_cancelled_waiter_leaves_the_queue_at_once() -> None:
    async def main() -> None:
        limiter = await seeded(AutoLimiter(wall=wall_clock), limit=2, remaining=0)
        lane = limiter.lane()
        waiting = [asyncio.ensure_future(limiter.acquire(lane)) for _ in range(5)]
        await settle()
        assert limiter.waiting == 5
        waiting[2].cancel()
        await settle()
        assert len(limiter._room._queues["normal"]) == 4
        for task in waiting:
            task.cancel()
        results = await asyncio.gather(*waiting, return_exceptions=True)
        assert all(isinstance(r, asyncio.CancelledError) for r in results)
        assert not any(limiter._room._queues.values())

    run_virtual(main())


def test_cancelled_waiter_granted_a_slot_gives_it_back() -> None:
    async def main() -> None:
        limiter = await seeded(AutoLimiter(wall=wall_clock), limit=10, remaining=1)
        lane = limiter.lane()
        blocker = await limiter.acquire(lane)
        waiter = asyncio.ensure_future(limiter.acquire(lane))
        await settle()
        limiter.release(blocker)  # grants the waiter its slot...
        waiter.cancel()  # ...but it is cancelled before it runs
        with pytest.raises(asyncio.CancelledError):
            await waiter
        started = now()
        await limiter.acquire(lane)  # the slot came back
        assert now() == started

    run_virtual(main())


def test_a_permit_returned_twice_counts_once() -> None:
    async def main() -> None:
        limiter = await seeded(AutoLimiter(wall=wall_clock), limit=10, remaining=2)
        lane = limiter.lane()
        first = await limiter.acquire(lane)
        second = await limiter.acquire(lane)
        limiter.release(first)
        limiter.release(first)
        assert await limiter.record(first, status=200, headers=counts(10, 9)) is None
        third = asyncio.ensure_future(limiter.acquire(lane))
        fourth = asyncio.ensure_future(limiter.acquire(lane))
        await settle()
        assert third.done() and not fourth.done(), "second is still in flight"
        limiter.release(second)
        fourth.cancel()
        await asyncio.gather(fourth, return_exceptions=True)

    run_virtual(main())


def test_closing_fails_the_waiters_and_stops_the_timer() -> None:
    async def main() -> None:
        limiter = FixedLimiter(1, wall=wall_clock)
        lane = limiter.lane()
        await limiter.acquire(lane)
        waiting = asyncio.ensure_future(limiter.acquire(lane))
        await settle()
        await limiter.aclose()
        with pytest.raises(wacr.ClientClosedError):
            await waiting
        assert limiter._room._timer is None

    run_virtual(main())


def test_state_before_any_request_knows_nothing() -> None:
    state = AutoLimiter().state
    assert state.limit is None and state.remaining is None and state.reset_at is None


def test_a_permit_is_opaque_but_says_where_it_came_from() -> None:
    lane = Lane(priority="low")
    permit = Permit(lane, epoch=3, granted_at=12.5)
    assert permit.lane is lane and not permit.returned
    assert "low" in repr(permit)


def test_a_limiter_carried_to_a_new_loop_does_not_wait_on_the_old_loops_timer() -> None:
    limiter = FixedLimiter(60, wall=time.time)
    lane = limiter.lane()

    async def leave_a_timer_behind() -> None:
        await limiter.acquire(lane)
        waiter = asyncio.ensure_future(limiter.acquire(lane))
        await settle()
        waiter.cancel()  # the room's timer stays set on this loop, which then closes
        await asyncio.gather(waiter, return_exceptions=True)

    async def wait_for_a_turn() -> None:
        await limiter.acquire(lane)  # waits for the slot: a timer on the new loop must wake it

    run_virtual(leave_a_timer_behind())
    run_virtual(wait_for_a_turn())
