"""The limiter's bookkeeping, driven directly with the headers a server would send.

These cases need precise control over which answer arrives when, which a live server cannot
give; the end-to-end pacing against the sandbox is in ``test_ratelimit.py``.
"""

from __future__ import annotations

import asyncio
import email.utils
import time

import pytest

from wacr_async._ratelimit import RateLimiter


def counts(limit: int, remaining: int, window: float = 60.0) -> dict[str, str]:
    return {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": str(remaining),
        # The server's success reset always reads "now + window": never the real end.
        "X-RateLimit-Reset": str(int(time.time() + window)),
        "X-RateLimit-Window": f"{window:g}",
    }


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def seeded(limit: int, remaining: int, window: float = 60.0) -> RateLimiter:
    """A limiter that has seen one answer of the current window."""
    limiter = RateLimiter("auto")
    slot = await limiter.acquire()
    limiter.finish(slot, 200, counts(limit, remaining, window))
    return limiter


async def test_before_the_first_answer_requests_go_one_at_a_time() -> None:
    limiter = RateLimiter("auto")
    first = await limiter.acquire()
    second = asyncio.ensure_future(limiter.acquire())
    await settle()
    assert not second.done(), "nothing is known yet: wait for the first answer"
    limiter.finish(first, 200, counts(10, 9))
    await settle()
    assert second.done()
    limiter.finish(second.result())


async def test_answers_without_rate_limit_headers_turn_pacing_off() -> None:
    limiter = RateLimiter("auto")
    first = await limiter.acquire()
    limiter.finish(first, 200, {"Content-Type": "application/json"})
    slots = [await asyncio.wait_for(limiter.acquire(), 1) for _ in range(50)]
    assert len(slots) == 50
    assert limiter.state.limit is None


async def test_requests_in_flight_count_against_the_remaining_budget() -> None:
    limiter = await seeded(limit=10, remaining=2)
    first = await limiter.acquire()
    second = await limiter.acquire()
    third = asyncio.ensure_future(limiter.acquire())
    await settle()
    assert not third.done(), "two left and two in flight: the third must wait"

    # The answers confirm the two were counted: the window is spent until it ends.
    limiter.finish(first, 200, counts(10, 1))
    limiter.finish(second, 200, counts(10, 0))
    await settle()
    assert not third.done()
    assert limiter.waiting == 1
    third.cancel()
    with pytest.raises(asyncio.CancelledError):
        await third
    assert limiter.waiting == 0


async def test_a_failed_request_gives_its_budget_back() -> None:
    limiter = await seeded(limit=10, remaining=1)
    slot = await limiter.acquire()
    waiting = asyncio.ensure_future(limiter.acquire())
    await settle()
    assert not waiting.done()
    limiter.finish(slot)  # no answer: the server may not have counted it
    await settle()
    assert waiting.done()
    limiter.finish(waiting.result())


async def test_waiters_are_let_through_in_arrival_order() -> None:
    limiter = await seeded(limit=10, remaining=1)
    blocker = await limiter.acquire()
    order: list[int] = []

    async def take(n: int) -> None:
        slot = await limiter.acquire()
        order.append(n)
        limiter.finish(slot)

    tasks = [asyncio.ensure_future(take(n)) for n in range(5)]
    await settle()
    assert order == []
    limiter.finish(blocker)
    await asyncio.gather(*tasks)
    assert order == [0, 1, 2, 3, 4]


async def test_success_reset_header_is_not_taken_as_the_window_end() -> None:
    limiter = RateLimiter("auto")
    slot = await limiter.acquire()
    opened = time.time()
    limiter.finish(slot, 200, counts(60, 59, window=60))
    # A later answer's reset says "now + 60" again; the window still ends 60 s after it opened.
    slot = await limiter.acquire()
    headers = counts(60, 58, window=60)
    headers["X-RateLimit-Reset"] = str(int(opened + 600))
    limiter.finish(slot, 200, headers)
    state = limiter.state
    assert state.limit == 60
    assert state.remaining == 58
    assert state.window == 60
    assert state.reset_at is not None
    assert opened + 59 <= state.reset_at <= time.time() + 61


async def test_window_length_is_read_from_date_when_no_window_header() -> None:
    limiter = RateLimiter("auto")
    slot = await limiter.acquire()
    now = int(time.time())
    limiter.finish(
        slot,
        200,
        {
            "X-RateLimit-Limit": "60",
            "X-RateLimit-Remaining": "59",
            "X-RateLimit-Reset": str(now + 30),
            "Date": email.utils.formatdate(now, usegmt=True),
        },
    )
    assert limiter.state.window == 30


async def test_new_window_starts_with_one_probe_then_opens_up() -> None:
    limiter = await seeded(limit=3, remaining=0, window=0.2)
    await asyncio.sleep(0.3)  # the window has certainly ended
    probe = await limiter.acquire()
    followers = [asyncio.ensure_future(limiter.acquire()) for _ in range(3)]
    await settle()
    assert not any(f.done() for f in followers), "nothing follows until the probe is answered"

    limiter.finish(probe, 200, counts(3, 2, window=0.2))
    await settle()
    done = [f for f in followers if f.done()]
    assert len(done) == 2, "the probe's answer leaves a budget of two"
    for f in followers:
        if f.done():
            limiter.finish(f.result())
        else:
            f.cancel()
    await settle()


async def test_a_higher_count_after_a_lower_one_reveals_a_new_window() -> None:
    limiter = await seeded(limit=5, remaining=1)
    before = limiter.state.reset_at
    assert limiter.state.remaining == 1
    # Sent after the count of 1 arrived, yet counted as the first of a window: the server's
    # window rolled over earlier than the estimate said.
    await asyncio.sleep(0.01)
    slot = await limiter.acquire()
    limiter.finish(slot, 200, counts(5, 4))
    state = limiter.state
    assert state.remaining == 4
    assert before is not None
    assert state.reset_at is not None
    assert state.reset_at > before
    slots = [await asyncio.wait_for(limiter.acquire(), 1) for _ in range(4)]
    for slot in slots:
        limiter.finish(slot)


async def test_token_wide_429_holds_every_request_in_one_cooldown() -> None:
    limiter = await seeded(limit=5, remaining=3)
    slot = await limiter.acquire()
    headers = {"X-RateLimit-Limit": "5", "X-RateLimit-Remaining": "0", "Retry-After": "30"}
    hit = limiter.finish(slot, 429, headers, retry_after=30.0)
    assert hit is not None
    assert hit.shared
    assert hit.wait == 30.0
    state = limiter.state
    assert state.cooling_down_until is not None
    assert state.cooling_down_until >= time.time() + 29

    waiters = [asyncio.ensure_future(limiter.acquire()) for _ in range(10)]
    await settle()
    assert not any(w.done() for w in waiters)
    for w in waiters:
        w.cancel()
    await asyncio.gather(*waiters, return_exceptions=True)
    assert limiter.waiting == 0
    assert len(limiter._waiters) == 0  # cancelled waiters leave the queue at once


async def test_narrow_429_with_budget_left_holds_only_its_own_call() -> None:
    limiter = await seeded(limit=60, remaining=50)
    slot = await limiter.acquire()
    headers = {"X-RateLimit-Limit": "60", "X-RateLimit-Remaining": "49"}
    hit = limiter.finish(slot, 429, headers, retry_after=20.0)
    assert hit is not None
    assert not hit.shared
    assert hit.wait == 20.0
    assert limiter.state.cooling_down_until is None
    other = await asyncio.wait_for(limiter.acquire(), 1)
    limiter.finish(other)


async def test_429_without_retry_after_falls_back_to_the_reset_header() -> None:
    limiter = RateLimiter("auto")
    slot = await limiter.acquire()
    reset = int(time.time()) + 20
    headers = {"X-RateLimit-Limit": "5", "X-RateLimit-Remaining": "0"}
    headers["X-RateLimit-Reset"] = str(reset)
    hit = limiter.finish(slot, 429, headers)
    assert hit is not None
    assert hit.shared
    assert hit.wait is not None
    assert 18 <= hit.wait <= 21


async def test_429_without_any_wait_is_left_to_backoff() -> None:
    limiter = RateLimiter("auto")
    slot = await limiter.acquire()
    hit = limiter.finish(slot, 429, {})
    assert hit is not None
    assert hit.wait is None
    assert not hit.shared
    other = await asyncio.wait_for(limiter.acquire(), 1)
    limiter.finish(other)


async def test_unlimited_values_switch_pacing_off() -> None:
    limiter = await seeded(limit=5, remaining=1)
    slot = await limiter.acquire()
    limiter.finish(
        slot,
        200,
        {
            "X-RateLimit-Limit": "unlimited",
            "X-RateLimit-Remaining": "unlimited",
            "X-RateLimit-Whitelisted": "true",
        },
    )
    state = limiter.state
    assert state.unlimited
    assert state.limit is None
    assert state.remaining is None
    slots = [await asyncio.wait_for(limiter.acquire(), 1) for _ in range(20)]
    assert len(slots) == 20


async def test_off_mode_ignores_counts_but_keeps_the_429_cooldown() -> None:
    limiter = RateLimiter("off")
    slot = await limiter.acquire()
    limiter.finish(slot, 200, counts(5, 0))
    free = await asyncio.wait_for(limiter.acquire(), 1)
    limiter.finish(free, 429, counts(5, 0) | {"Retry-After": "30"}, retry_after=30.0)
    held = asyncio.ensure_future(limiter.acquire())
    await settle()
    assert not held.done()
    held.cancel()
    await asyncio.gather(held, return_exceptions=True)


async def test_cancelled_waiter_granted_a_slot_gives_it_back() -> None:
    limiter = await seeded(limit=10, remaining=1)
    blocker = await limiter.acquire()
    waiter = asyncio.ensure_future(limiter.acquire())
    await settle()
    limiter.finish(blocker)  # grants the waiter its slot...
    waiter.cancel()  # ...but it is cancelled before it runs
    with pytest.raises(asyncio.CancelledError):
        await waiter
    # The slot came back: one more request may go.
    slot = await asyncio.wait_for(limiter.acquire(), 1)
    limiter.finish(slot)


async def test_429_without_a_remaining_count_holds_only_its_own_call() -> None:
    # A proxy's 429, or an OTP limit on a server that sends no counts: not the token window.
    limiter = RateLimiter("auto")
    slot = await limiter.acquire()
    hit = limiter.finish(slot, 429, {"Retry-After": "20"}, retry_after=20.0)
    assert hit is not None
    assert hit.wait == 20.0
    assert not hit.shared
    assert limiter.state.cooling_down_until is None


async def test_a_token_wide_429_asking_for_minutes_does_not_freeze_the_client() -> None:
    limiter = await seeded(limit=5, remaining=1)
    slot = await limiter.acquire()
    headers = {"X-RateLimit-Limit": "5", "X-RateLimit-Remaining": "0", "Retry-After": "300"}
    hit = limiter.finish(slot, 429, headers, retry_after=300.0)
    assert hit is not None
    assert not hit.shared  # the call raises RateLimitError; nobody is held for five minutes
    assert limiter.state.cooling_down_until is None
