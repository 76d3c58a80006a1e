"""SharedPacer: one row per (base URL, token hash), slots on the database clock, a shared
cooldown after a 429. Deadlines stand in for sleeping: a refused reservation says how far
the next slot is, without waiting for it."""

from __future__ import annotations

import asyncio
import hashlib

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


def now() -> float:
    return asyncio.get_running_loop().time()


async def test_two_pacers_on_one_token_share_one_pace(pg_dsn: str) -> None:
    await migrated(pg_dsn)
    first = jobs.SharedPacer(pg_dsn, TOKEN, base_url=URL, limit=(10, 2.0), headroom=1.0)
    second = jobs.SharedPacer(pg_dsn, TOKEN, base_url=URL, limit=(10, 2.0), headroom=1.0)
    try:
        await first.acquire(first.lane(), deadline=now())
        # The other process's next slot is one interval (2 s / 10) away: refused at once.
        with pytest.raises(wacr.RateLimitError) as caught:
            await second.acquire(second.lane(), deadline=now())
        assert caught.value.retry_after is not None
        assert 0.1 < caught.value.retry_after <= 0.2
        assert caught.value.status is None
        assert getattr(caught.value, "shared", None) is True
        # Another token (or another server) has a pace of its own.
        other = jobs.SharedPacer(pg_dsn, "wm_other", base_url=URL, limit=(10, 2.0))
        await other.acquire(other.lane(), deadline=now())
        await other.aclose()
    finally:
        await first.aclose()
        await second.aclose()


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
        hit = await hit_by.record(permit, status=429, headers=narrow)
        assert hit is not None and not hit.shared and hit.wait == 30.0
    finally:
        await hit_by.aclose()
        await elsewhere.aclose()


async def test_the_limit_one_process_learns_paces_the_others(pg_dsn: str) -> None:
    await migrated(pg_dsn)
    learner = jobs.SharedPacer(pg_dsn, TOKEN, base_url=URL, headroom=1.0)
    follower = jobs.SharedPacer(pg_dsn, TOKEN, base_url=URL, headroom=1.0)
    try:
        permit = await learner.acquire(learner.lane())
        headers = {
            "X-RateLimit-Limit": "4",
            "X-RateLimit-Remaining": "3",
            "X-RateLimit-Window": "8",
        }
        assert await learner.record(permit, status=200, headers=headers) is None
        assert learner.state.limit == 4 and learner.state.window == 8.0
        # The probe slot (0.25 s) is spent; after it, slots are 8 s / 4 = 2 s apart.
        await follower.acquire(follower.lane(), deadline=now() + 0.5)
        with pytest.raises(wacr.RateLimitError) as caught:
            await follower.acquire(follower.lane(), deadline=now() + 0.5)
        assert caught.value.retry_after is not None and 1.5 < caught.value.retry_after <= 2.0
    finally:
        await learner.aclose()
        await follower.aclose()


def test_the_shared_pacer_is_a_rate_limiter() -> None:
    assert isinstance(jobs.SharedPacer("dbname=unused", TOKEN, base_url=URL), RateLimiter)
