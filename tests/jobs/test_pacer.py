"""SharedPacer: one row per (base URL, token hash) following the server's fixed windows on the
database clock, a shared cooldown after a 429, slots given back. Deadlines stand in for
sleeping: a refused reservation says how far the next slot is, without waiting for it."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest

import wacr_async as wacr
from wacr_async import jobs
from wacr_async._pacing import RateLimiter
from wacr_async.jobs._db import open_pool

URL = "http://127.0.0.1:9/api/v2"
TOKEN = "wm_secret_token"


async def migrated(dsn: str) -> None:
    async with jobs.JobQueue(dsn) as queue:
        await queue.migrate()


@contextlib.asynccontextmanager
async def pacers(dsn: str, count: int, **options: Any) -> AsyncIterator[list[jobs.SharedPacer]]:
    """``count`` processes' pacers on one token (the tables migrated first)."""
    await migrated(dsn)
    made = [jobs.SharedPacer(dsn, TOKEN, base_url=URL, **options) for _ in range(count)]
    try:
        yield made
    finally:
        for pacer in made:
            await pacer.aclose()


def now() -> float:
    return asyncio.get_running_loop().time()


async def row(dsn: str) -> dict[str, object]:
    pool = await open_pool(dsn)
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT win_epoch, win_used, win_confirmed, "
            "extract(epoch FROM win_end - clock_timestamp())::float8 FROM wacr_pacing"
        )
        found = await cur.fetchone()
    await pool.close()
    assert found is not None
    return dict(zip(("epoch", "used", "confirmed", "ends_in"), found, strict=True))


def answer(limit: int, remaining: int, window: float = 4.0) -> dict[str, str]:
    return {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Window": f"{window:g}",
    }


async def test_two_pacers_on_one_token_share_one_window(pg_dsn: str) -> None:
    async with pacers(pg_dsn, 2, limit=(3, 2.0)) as (first, second):
        # The window's calls go at once, whichever process takes them...
        await first.acquire(first.lane(), deadline=now())
        await first.acquire(first.lane(), deadline=now())
        await second.acquire(second.lane(), deadline=now())
        # ...then everyone waits for the window's end (2 s, plus a margin while no answer
        # has said when the server's window opened): refused at once.
        with pytest.raises(wacr.RateLimitError) as caught:
            await second.acquire(second.lane(), deadline=now() + 1.0)
        assert caught.value.retry_after is not None
        assert 1.8 < caught.value.retry_after <= 2.2
        assert caught.value.status is None
        assert getattr(caught.value, "shared", None) is True
        # Another token (or another server) has a window of its own.
        other = jobs.SharedPacer(pg_dsn, "wm_other", base_url=URL, limit=(3, 2.0))
        await other.acquire(other.lane(), deadline=now())
        await other.aclose()


async def test_the_answer_that_opened_the_window_fixes_its_end(pg_dsn: str) -> None:
    async with pacers(pg_dsn, 2, limit=(2, 4.0)) as (sender, other):
        permit = await sender.acquire(sender.lane())
        assert (await row(pg_dsn))["confirmed"] is False
        # Remaining = limit - 1: this request opened the server's window, which therefore
        # ends within 4 s from now; no margin is added after a confirmed window.
        await sender.record(permit, status=200, headers=answer(2, 1))
        state = await row(pg_dsn)
        assert state["confirmed"] is True and state["used"] == 1
        await other.acquire(other.lane(), deadline=now())
        with pytest.raises(wacr.RateLimitError) as caught:
            await other.acquire(other.lane(), deadline=now() + 1.0)
        assert caught.value.retry_after is not None and 3.5 < caught.value.retry_after <= 4.0


async def test_a_success_with_nothing_left_closes_the_window_for_everyone(pg_dsn: str) -> None:
    async with pacers(pg_dsn, 2, limit=(10, 4.0)) as (sender, other):
        permit = await sender.acquire(sender.lane())
        # Someone outside the pacer spent the token: the server says 0 left.
        await sender.record(permit, status=200, headers=answer(10, 0))
        with pytest.raises(wacr.RateLimitError):
            await other.acquire(other.lane(), deadline=now() + 1.0)
        assert (await row(pg_dsn))["used"] == 10


async def end_the_window(dsn: str) -> None:
    """The current window ends now (instead of waiting for it)."""
    pool = await open_pool(dsn)
    async with pool.connection() as conn:
        await conn.execute(
            "UPDATE wacr_pacing SET win_end = clock_timestamp() - interval '1 second', "
            "win_confirmed = true"
        )
    await pool.close()


async def test_a_late_request_that_opened_the_next_window_takes_one_of_its_slots(
    pg_dsn: str,
) -> None:
    async with pacers(pg_dsn, 1, limit=(2, 30.0)) as (pacer,):
        late = await pacer.acquire(pacer.lane())
        await end_the_window(pg_dsn)
        await pacer.acquire(pacer.lane())  # the next window's first slot
        # The earlier window's request reached the server after that window ended: it
        # opened the server's next window and counts in it.
        await pacer.record(late, status=200, headers=answer(2, 1, 30.0))
        state = await row(pg_dsn)
        assert state["epoch"] == 2 and state["used"] == 2 and state["confirmed"] is True
        ends_in = state["ends_in"]
        assert isinstance(ends_in, float) and 29.0 < ends_in <= 30.0
        with pytest.raises(wacr.RateLimitError):
            await pacer.acquire(pacer.lane(), deadline=now() + 1.0)


async def test_a_slot_whose_request_never_left_goes_back(pg_dsn: str) -> None:
    async with pacers(pg_dsn, 2, limit=(2, 30.0)) as (pacer, other):
        await pacer.acquire(pacer.lane())
        unsent = await pacer.acquire(pacer.lane())
        with pytest.raises(wacr.RateLimitError):
            await other.acquire(other.lane(), deadline=now())
        pacer.release(unsent)  # cancelled before it left
        pacer.release(unsent)  # a second return is ignored
        await pacer.aclose()  # waits for the slot to be handed back
        assert (await row(pg_dsn))["used"] == 1
        await other.acquire(other.lane(), deadline=now())
        with pytest.raises(wacr.RateLimitError):
            await other.acquire(other.lane(), deadline=now())


async def test_a_slot_of_a_window_that_ended_is_not_given_back(pg_dsn: str) -> None:
    await migrated(pg_dsn)
    pacer = jobs.SharedPacer(pg_dsn, TOKEN, base_url=URL, limit=(2, 30.0))
    try:
        old = await pacer.acquire(pacer.lane())
        await end_the_window(pg_dsn)
        await pacer.acquire(pacer.lane())  # opens the next window
        pacer.release(old)
        await pacer.aclose()
        state = await row(pg_dsn)
        assert state["epoch"] == 2 and state["used"] == 1
    finally:
        await pacer.aclose()


async def test_the_token_is_never_stored_only_its_hash(pg_dsn: str) -> None:
    await migrated(pg_dsn)
    pacer = jobs.SharedPacer(pg_dsn, TOKEN, base_url=URL)
    await pacer.acquire(pacer.lane())
    await pacer.aclose()
    pool = await open_pool(pg_dsn)
    async with pool.connection() as conn:
        cur = await conn.execute("SELECT row_to_json(p)::text FROM wacr_pacing p")
        rows = [row[0] for row in await cur.fetchall()]
    await pool.close()
    assert len(rows) == 1
    assert TOKEN not in rows[0]
    assert hashlib.sha256(TOKEN.encode()).hexdigest() in rows[0]


async def test_a_429_that_spends_the_window_holds_every_process(pg_dsn: str) -> None:
    await migrated(pg_dsn)
    hit_by = jobs.SharedPacer(pg_dsn, TOKEN, base_url=URL)
    elsewhere = jobs.SharedPacer(pg_dsn, TOKEN, base_url=URL)
    try:
        permit = await hit_by.acquire(hit_by.lane())
        headers = {"X-RateLimit-Limit": "60", "X-RateLimit-Remaining": "0", "Retry-After": "3"}
        hit = await hit_by.record(permit, status=429, headers=headers, retry_after=3.0)
        assert hit is not None and hit.shared and hit.wait == 3.0
        with pytest.raises(wacr.RateLimitError) as caught:
            await elsewhere.acquire(elsewhere.lane(), deadline=now() + 1.0)
        assert caught.value.retry_after is not None and 2.5 < caught.value.retry_after <= 3.2
        assert hit_by.state.cooling_down_until is not None
        # A 429 with budget left is a narrower limit (one phone's OTP): nobody else waits.
        narrow = {"X-RateLimit-Limit": "60", "X-RateLimit-Remaining": "12", "Retry-After": "30"}
        narrow_pacer = jobs.SharedPacer(pg_dsn, "wm_narrow", base_url=URL)
        permit = await narrow_pacer.acquire(narrow_pacer.lane())
        hit = await narrow_pacer.record(permit, status=429, headers=narrow)
        await narrow_pacer.aclose()
        assert hit is not None and not hit.shared and hit.wait == 30.0
    finally:
        await hit_by.aclose()
        await elsewhere.aclose()


async def test_the_limit_one_process_learns_paces_the_others(pg_dsn: str) -> None:
    await migrated(pg_dsn)
    learner = jobs.SharedPacer(pg_dsn, TOKEN, base_url=URL)
    follower = jobs.SharedPacer(pg_dsn, TOKEN, base_url=URL)
    try:
        permit = await learner.acquire(learner.lane())
        # Until the limit is known, one probe at a time.
        with pytest.raises(wacr.RateLimitError):
            await follower.acquire(follower.lane(), deadline=now())
        assert await learner.record(permit, status=200, headers=answer(4, 3, 8.0)) is None
        assert learner.state.limit == 4 and learner.state.window == 8.0
        # The probe opened a window of 4 calls per 8 s: the 3 left go at once, then the next
        # waits for the window's end.
        for _ in range(3):
            await follower.acquire(follower.lane(), deadline=now())
        with pytest.raises(wacr.RateLimitError) as caught:
            await follower.acquire(follower.lane(), deadline=now() + 0.5)
        assert caught.value.retry_after is not None and 7.5 < caught.value.retry_after <= 8.0
    finally:
        await learner.aclose()
        await follower.aclose()


def test_the_shared_pacer_is_a_rate_limiter() -> None:
    assert isinstance(jobs.SharedPacer("dbname=unused", TOKEN, base_url=URL), RateLimiter)


async def set_window(dsn: str, *, ends_in: float, used: int) -> None:
    """The current (confirmed) window ends ``ends_in`` seconds from now, ``used`` slots taken."""
    pool = await open_pool(dsn)
    async with pool.connection() as conn:
        await conn.execute(
            "UPDATE wacr_pacing SET win_end = clock_timestamp() + make_interval(secs => %s), "
            "win_used = %s, win_confirmed = true",
            (ends_in, used),
        )
    await pool.close()


async def reserve_while_locked(dsn: str, pacer: jobs.SharedPacer, held: float) -> Any:
    """Reserve while another session holds the row lock (as every 'wait' decision does) for
    ``held`` seconds of the database's time; the reservation's answer (a Permit or the
    RateLimitError refusing it with ``deadline=now()``)."""
    pool = await open_pool(dsn)
    try:
        async with pool.connection() as holder, pool.connection() as watcher:
            await holder.execute("BEGIN")
            await holder.execute("SELECT 1 FROM wacr_pacing FOR UPDATE")
            reserving = asyncio.ensure_future(pacer.acquire(pacer.lane(), deadline=now()))
            while True:  # until the reservation waits for the lock
                cur = await watcher.execute(
                    "SELECT count(*) FROM pg_locks WHERE NOT granted AND locktype = 'transactionid'"
                )
                found = await cur.fetchone()
                if found is not None and found[0] > 0:
                    break
                await asyncio.sleep(0.01)
            await holder.execute("SELECT pg_sleep(%s)", (held,))
            await holder.execute("COMMIT")
            try:
                return await reserving
            except wacr.RateLimitError as refused:
                return refused
    finally:
        await pool.close()


async def test_a_reservation_decides_on_the_time_the_row_lock_was_granted(pg_dsn: str) -> None:
    async with pacers(pg_dsn, 1, limit=(10, 3.0)) as (pacer,):
        await pacer.acquire(pacer.lane())
        # The window has slots left and 1 s to go when the reservation asks; it gets the row
        # 0.8 s later, within the last 0.3 s of the window: no slot for it.
        await set_window(pg_dsn, ends_in=1.0, used=1)
        answered = await reserve_while_locked(pg_dsn, pacer, 0.8)
        assert isinstance(answered, wacr.RateLimitError)
        assert (await row(pg_dsn))["used"] == 1
        # A window opened after a wait for the lock ends a whole window after the lock came.
        await end_the_window(pg_dsn)
        answered = await reserve_while_locked(pg_dsn, pacer, 0.8)
        assert not isinstance(answered, wacr.RateLimitError)
        ends_in = (await row(pg_dsn))["ends_in"]
        assert isinstance(ends_in, float) and 2.8 < ends_in <= 3.0


async def test_a_slot_handed_back_does_not_reopen_a_window_the_server_said_full(
    pg_dsn: str,
) -> None:
    async with pacers(pg_dsn, 2, limit=(10, 4.0)) as (sender, other):
        answered = await sender.acquire(sender.lane())
        unsent = await sender.acquire(sender.lane())
        await sender.record(answered, status=200, headers=answer(10, 0))
        sender.release(unsent)  # its request never left, after the server said 0 left
        await sender.aclose()
        with pytest.raises(wacr.RateLimitError):
            await other.acquire(other.lane(), deadline=now())


async def test_a_slot_that_cannot_be_handed_back_is_logged_whatever_the_error(
    pg_dsn: str, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.DEBUG, logger="wacr_async.jobs")
    async with pacers(pg_dsn, 1, limit=(2, 30.0)) as (pacer,):
        unsent = await pacer.acquire(pacer.lane())
        pool = await pacer._open()

        def broken(*args: object, **kwargs: object) -> object:
            raise RuntimeError("not a database error")

        monkeypatch.setattr(pool, "connection", broken)
        pacer.release(unsent)
        await asyncio.sleep(0)  # the background return runs (and fails) on its own
        await asyncio.sleep(0)
        monkeypatch.undo()
        await pacer.aclose()
    assert "a pacing slot was not handed back" in caplog.text
    assert "not a database error" in caplog.text
