"""What a 429 means: one shared cooldown for a spent token window, only the call for a narrow
limit (an OTP limit per phone), and backoff when the server names no wait."""

from __future__ import annotations

import asyncio

import pytest

from wacr_async._pacing import AutoLimiter, NoLimiter

from .conftest import counts, now, run_virtual, seeded, settle, wall_clock


def spent(wait: float) -> dict[str, str]:
    return {"X-RateLimit-Limit": "5", "X-RateLimit-Remaining": "0", "Retry-After": f"{wait:g}"}


def test_token_wide_429_holds_every_request_in_one_cooldown() -> None:
    async def main() -> None:
        limiter = await seeded(AutoLimiter(wall=wall_clock), limit=5, remaining=3)
        lane = limiter.lane()
        permit = await limiter.acquire(lane)
        hit = await limiter.record(permit, status=429, headers=spent(30), retry_after=30.0)
        assert hit is not None
        assert hit.shared
        assert hit.wait == 30.0
        state = limiter.state
        assert state.cooling_down_until == pytest.approx(wall_clock() + 30.1)

        held_at = now()
        waiters = [asyncio.ensure_future(limiter.acquire(lane)) for _ in range(10)]
        await settle()
        assert not any(w.done() for w in waiters)
        # When the cooldown ends, the next window starts with one probe.
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        assert now() == pytest.approx(held_at + 30.1)
        assert sum(w.done() for w in waiters) == 1
        for w in waiters:
            w.cancel()
        await asyncio.gather(*waiters, return_exceptions=True)
        assert limiter.waiting == 0
        assert not any(limiter._room._queues.values()), "cancelled waiters leave at once"

    run_virtual(main())


def test_narrow_429_with_budget_left_holds_only_its_own_call() -> None:
    async def main() -> None:
        limiter = await seeded(AutoLimiter(wall=wall_clock), limit=60, remaining=50)
        lane = limiter.lane()
        permit = await limiter.acquire(lane)
        headers = {"X-RateLimit-Limit": "60", "X-RateLimit-Remaining": "49"}
        hit = await limiter.record(permit, status=429, headers=headers, retry_after=20.0)
        assert hit is not None
        assert not hit.shared
        assert hit.wait == 20.0
        assert limiter.state.cooling_down_until is None
        started = now()
        await limiter.acquire(lane)
        assert now() == started

    run_virtual(main())


def test_429_without_retry_after_falls_back_to_the_reset_header() -> None:
    async def main() -> None:
        limiter = AutoLimiter(wall=wall_clock)
        permit = await limiter.acquire(limiter.lane())
        headers = {"X-RateLimit-Limit": "5", "X-RateLimit-Remaining": "0"}
        headers["X-RateLimit-Reset"] = str(int(wall_clock()) + 20)
        hit = await limiter.record(permit, status=429, headers=headers)
        assert hit is not None
        assert hit.shared
        assert hit.wait == pytest.approx(20, abs=1)

    run_virtual(main())


def test_429_without_any_wait_is_left_to_backoff() -> None:
    async def main() -> None:
        limiter = AutoLimiter(wall=wall_clock)
        lane = limiter.lane()
        permit = await limiter.acquire(lane)
        hit = await limiter.record(permit, status=429, headers={})
        assert hit is not None
        assert hit.wait is None
        assert not hit.shared
        started = now()
        await limiter.acquire(lane)
        assert now() == started

    run_virtual(main())


def test_429_without_a_remaining_count_holds_only_its_own_call() -> None:
    # A proxy's 429, or an OTP limit on a server that sends no counts: not the token window.
    async def main() -> None:
        limiter = AutoLimiter(wall=wall_clock)
        permit = await limiter.acquire(limiter.lane())
        hit = await limiter.record(
            permit, status=429, headers={"Retry-After": "20"}, retry_after=20.0
        )
        assert hit is not None
        assert hit.wait == 20.0
        assert not hit.shared
        assert limiter.state.cooling_down_until is None

    run_virtual(main())


def test_a_token_wide_429_asking_for_minutes_does_not_freeze_the_client() -> None:
    async def main() -> None:
        limiter = await seeded(AutoLimiter(wall=wall_clock), limit=5, remaining=1)
        permit = await limiter.acquire(limiter.lane())
        hit = await limiter.record(permit, status=429, headers=spent(300), retry_after=300.0)
        assert hit is not None
        assert not hit.shared  # the call raises RateLimitError; nobody is held for 5 minutes
        assert limiter.state.cooling_down_until is None

    run_virtual(main())


def test_429_without_an_answer_header_set_is_the_calls_own() -> None:
    async def main() -> None:
        limiter = NoLimiter(wall=wall_clock)
        permit = await limiter.acquire(limiter.lane())
        hit = await limiter.record(permit, status=429, headers=None, retry_after=3.0)
        assert hit is not None
        assert hit == type(hit)(3.0, shared=False)

    run_virtual(main())


def test_off_mode_ignores_counts_but_keeps_the_429_cooldown() -> None:
    async def main() -> None:
        limiter = NoLimiter(wall=wall_clock)
        lane = limiter.lane()
        permit = await limiter.acquire(lane)
        await limiter.record(permit, status=200, headers=counts(5, 0))
        assert limiter.state.remaining == 0  # still reported, for dashboards
        started = now()
        free = await limiter.acquire(lane)
        assert now() == started, "off: a spent count does not hold anyone"
        hit = await limiter.record(free, status=429, headers=spent(30), retry_after=30.0)
        assert hit is not None and hit.shared
        await limiter.acquire(lane)
        assert now() == pytest.approx(started + 30.1)

    run_virtual(main())


def test_a_second_shared_429_never_shortens_the_cooldown() -> None:
    async def main() -> None:
        limiter = NoLimiter(wall=wall_clock)
        lane = limiter.lane()
        first, second = await limiter.acquire(lane), await limiter.acquire(lane)
        started = now()
        await limiter.record(first, status=429, headers=spent(20), retry_after=20.0)
        await limiter.record(second, status=429, headers=spent(5), retry_after=5.0)
        await limiter.acquire(lane)
        assert now() == pytest.approx(started + 20.1)

    run_virtual(main())
