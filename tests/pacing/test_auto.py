"""AutoLimiter's bookkeeping, driven with the headers a server would send, in virtual time.

Ported from the old ``tests/test_ratelimit_limiter.py``; each case needs precise control over
which answer arrives when, which a live server cannot give.
"""

from __future__ import annotations

import asyncio
import email.utils

import pytest

from wacr_async._pacing import AutoLimiter

from .conftest import counts, now, run_virtual, seeded, settle, wall_clock


def auto() -> AutoLimiter:
    return AutoLimiter(wall=wall_clock)


def test_before_the_first_answer_requests_go_one_at_a_time() -> None:
    async def main() -> None:
        limiter = auto()
        lane = limiter.lane()
        first = await limiter.acquire(lane)
        second = asyncio.ensure_future(limiter.acquire(lane))
        await settle()
        assert not second.done(), "nothing is known yet: wait for the first answer"
        await limiter.record(first, status=200, headers=counts(10, 9))
        await settle()
        assert second.done()
        limiter.release(second.result())

    run_virtual(main())


def test_a_probe_that_never_answers_lets_the_next_one_try_after_a_second() -> None:
    async def main() -> None:
        limiter = auto()
        lane = limiter.lane()
        started = now()
        await limiter.acquire(lane)  # never answered
        await limiter.acquire(lane)
        assert now() - started == pytest.approx(1.0)

    run_virtual(main())


def test_answers_without_rate_limit_headers_turn_pacing_off() -> None:
    async def main() -> None:
        limiter = auto()
        lane = limiter.lane()
        first = await limiter.acquire(lane)
        await limiter.record(first, status=200, headers={"Content-Type": "application/json"})
        started = now()
        permits = [await limiter.acquire(lane) for _ in range(50)]
        assert len(permits) == 50
        assert now() == started
        assert limiter.state.limit is None

    run_virtual(main())


def test_requests_in_flight_count_against_the_remaining_budget() -> None:
    async def main() -> None:
        limiter = await seeded(auto(), limit=10, remaining=2)
        lane = limiter.lane()
        first = await limiter.acquire(lane)
        second = await limiter.acquire(lane)
        third = asyncio.ensure_future(limiter.acquire(lane))
        await settle()
        assert not third.done(), "two left and two in flight: the third must wait"
        # The answers confirm the two were counted: the window is spent until it ends.
        await limiter.record(first, status=200, headers=counts(10, 1))
        await limiter.record(second, status=200, headers=counts(10, 0))
        await settle()
        assert not third.done()
        assert limiter.waiting == 1
        third.cancel()
        with pytest.raises(asyncio.CancelledError):
            await third
        assert limiter.waiting == 0

    run_virtual(main())


def test_a_spent_window_reopens_at_its_estimated_end() -> None:
    async def main() -> None:
        seeded_at = now()
        limiter = await seeded(auto(), limit=3, remaining=0, window=10)
        await limiter.acquire(limiter.lane())
        # The first answer came at seeded_at: the window ends 10 s later (plus a margin).
        assert now() == pytest.approx(seeded_at + 10.05)

    run_virtual(main())


def test_a_request_that_never_left_gives_its_budget_back() -> None:
    async def main() -> None:
        limiter = await seeded(auto(), limit=10, remaining=1)
        lane = limiter.lane()
        permit = await limiter.acquire(lane)
        waiting = asyncio.ensure_future(limiter.acquire(lane))
        await settle()
        assert not waiting.done()
        limiter.release(permit)
        await settle()
        assert waiting.done()

    run_virtual(main())


def test_a_request_that_left_without_an_answer_stays_counted() -> None:
    async def main() -> None:
        limiter = await seeded(auto(), limit=10, remaining=1)
        lane = limiter.lane()
        permit = await limiter.acquire(lane)
        waiting = asyncio.ensure_future(limiter.acquire(lane))
        await settle()
        await limiter.record(permit, status=None, headers=None)  # a dropped connection
        await settle()
        assert not waiting.done(), "the server may have counted it: the budget is spent"
        assert limiter.state.remaining == 0
        waiting.cancel()
        await asyncio.gather(waiting, return_exceptions=True)

    run_virtual(main())


def test_waiters_are_let_through_in_arrival_order() -> None:
    async def main() -> None:
        limiter = await seeded(auto(), limit=10, remaining=1)
        lane = limiter.lane()
        blocker = await limiter.acquire(lane)
        order: list[int] = []

        async def take(n: int) -> None:
            permit = await limiter.acquire(lane)
            order.append(n)
            limiter.release(permit)

        tasks = [asyncio.ensure_future(take(n)) for n in range(5)]
        await settle()
        assert order == []
        limiter.release(blocker)
        await asyncio.gather(*tasks)
        assert order == [0, 1, 2, 3, 4]

    run_virtual(main())


def test_success_reset_header_is_not_taken_as_the_window_end() -> None:
    async def main() -> None:
        limiter = auto()
        lane = limiter.lane()
        permit = await limiter.acquire(lane)
        opened = wall_clock()
        await limiter.record(permit, status=200, headers=counts(60, 59, window=60))
        await asyncio.sleep(5)
        # A later answer's reset says "now + 600"; the window still ends 60 s after it opened.
        permit = await limiter.acquire(lane)
        headers = counts(60, 58, window=60)
        headers["X-RateLimit-Reset"] = str(int(opened + 600))
        await limiter.record(permit, status=200, headers=headers)
        state = limiter.state
        assert state.limit == 60
        assert state.remaining == 58
        assert state.window == 60
        assert state.reset_at == pytest.approx(opened + 60.05)

    run_virtual(main())


def test_window_length_is_read_from_date_when_no_window_header() -> None:
    async def main() -> None:
        limiter = auto()
        permit = await limiter.acquire(limiter.lane())
        wall = int(wall_clock())
        headers = {
            "X-RateLimit-Limit": "60",
            "X-RateLimit-Remaining": "59",
            "X-RateLimit-Reset": str(wall + 30),
            "Date": email.utils.formatdate(wall, usegmt=True),
        }
        await limiter.record(permit, status=200, headers=headers)
        assert limiter.state.window == 30

    run_virtual(main())


def test_new_window_starts_with_one_probe_then_opens_up() -> None:
    async def main() -> None:
        limiter = await seeded(auto(), limit=3, remaining=0, window=0.2)
        lane = limiter.lane()
        await asyncio.sleep(0.3)  # the window has certainly ended
        probe = await limiter.acquire(lane)
        followers = [asyncio.ensure_future(limiter.acquire(lane)) for _ in range(3)]
        await settle()
        assert not any(f.done() for f in followers), "nothing follows until the probe answers"
        await limiter.record(probe, status=200, headers=counts(3, 2, window=0.2))
        await settle()
        assert sum(f.done() for f in followers) == 2, "the probe's answer leaves a budget of two"
        for f in followers:
            f.cancel()
        await asyncio.gather(*followers, return_exceptions=True)

    run_virtual(main())


def test_a_higher_count_after_a_lower_one_reveals_a_new_window() -> None:
    async def main() -> None:
        limiter = await seeded(auto(), limit=5, remaining=1)
        lane = limiter.lane()
        before = limiter.state.reset_at
        assert limiter.state.remaining == 1
        # Sent after the count of 1 arrived, yet counted as the first of a window: the
        # server's window rolled over earlier than the estimate said.
        await asyncio.sleep(0.01)
        permit = await limiter.acquire(lane)
        await limiter.record(permit, status=200, headers=counts(5, 4))
        state = limiter.state
        assert state.remaining == 4
        assert before is not None and state.reset_at is not None
        assert state.reset_at > before
        started = now()
        for _ in range(4):
            await limiter.acquire(lane)
        assert now() == started

    run_virtual(main())


def test_a_count_from_before_the_estimate_rolled_over_is_ignored() -> None:
    async def main() -> None:
        limiter = await seeded(auto(), limit=5, remaining=3, window=10)
        lane = limiter.lane()
        old = await limiter.acquire(lane)
        await asyncio.sleep(11)  # the estimate rolls over at the next grant
        probe = await limiter.acquire(lane)
        await limiter.record(probe, status=200, headers=counts(5, 4, window=10))
        await limiter.record(old, status=200, headers=counts(5, 2, window=10))
        assert limiter.state.remaining == 4

    run_virtual(main())


def test_unlimited_values_switch_pacing_off() -> None:
    async def main() -> None:
        limiter = await seeded(auto(), limit=5, remaining=1)
        lane = limiter.lane()
        permit = await limiter.acquire(lane)
        headers = {
            "X-RateLimit-Limit": "unlimited",
            "X-RateLimit-Remaining": "unlimited",
            "X-RateLimit-Whitelisted": "true",
        }
        await limiter.record(permit, status=200, headers=headers)
        state = limiter.state
        assert state.unlimited
        assert state.limit is None
        assert state.remaining is None
        started = now()
        permits = [await limiter.acquire(lane) for _ in range(20)]
        assert len(permits) == 20
        assert now() == started

    run_virtual(main())


def test_unreadable_headers_do_not_fail_the_call() -> None:
    async def main() -> None:
        limiter = auto()
        permit = await limiter.acquire(limiter.lane())
        headers = {"X-RateLimit-Limit": "lots", "X-RateLimit-Reset": "soon", "Date": "today"}
        assert await limiter.record(permit, status=200, headers=headers) is None
        assert limiter.state.limit is None

    run_virtual(main())
