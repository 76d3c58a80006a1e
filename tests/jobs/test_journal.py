"""PostgresJournal: atomic claims across processes, the stop gate, settle/release, reading."""

from __future__ import annotations

import asyncio
from typing import Any

import psycopg
import pytest

from wacr_async import jobs
from wacr_async.jobs import _journal
from wacr_async.jobs._db import open_pool


async def migrated(dsn: str) -> None:
    async with jobs.JobQueue(dsn) as queue:
        await queue.migrate()


async def test_two_journals_racing_for_the_same_keys_each_key_has_one_winner(
    pg_dsn: str,
) -> None:
    await migrated(pg_dsn)
    first = jobs.PostgresJournal(pg_dsn, namespace="race")
    second = jobs.PostgresJournal(pg_dsn, namespace="race")
    await first.open()
    await second.open()
    keys = [f"k{i}" for i in range(300)]
    try:
        results = await asyncio.gather(
            *(first.claim(k, run="a", index=i, reclaim={"failed"}) for i, k in enumerate(keys)),
            *(second.claim(k, run="b", index=i, reclaim={"failed"}) for i, k in enumerate(keys)),
        )
    finally:
        await first.aclose()
        await second.aclose()
    won_a = {k for k, r in zip(keys, results[:300], strict=True) if r is None}
    won_b = {k for k, r in zip(keys, results[300:], strict=True) if r is None}
    assert won_a.isdisjoint(won_b)
    assert won_a | won_b == set(keys)
    for key, entry in zip(keys * 2, results, strict=True):
        if entry is not None:
            assert entry.key == key and entry.status == "in_flight"


async def test_settle_release_and_reclaim(pg_dsn: str) -> None:
    await migrated(pg_dsn)
    journal = jobs.PostgresJournal(pg_dsn, namespace="n", index_offset=100)
    await journal.open()
    try:
        assert await journal.claim("a", run="r1", index=0, reclaim=(), fingerprint="f") is None
        assert await journal.claim("b", run="r1", index=1, reclaim=()) is None
        await journal.settle("a", run="r1", index=0, status="failed", result=None, error={"x": 1})
        await journal.release("b", run="r1", index=1)
        await journal.flush()
        assert await journal.counts() == {"failed": 1}
        # Another run takes a failed item over; released, it goes back to failed.
        assert await journal.claim("a", run="r2", index=5, reclaim={"failed"}) is None
        again = await journal.claim("a", run="r3", index=6, reclaim={"failed"})
        assert again is not None and again.run == "r2" and again.index == 5
        await journal.release("a", run="r2", index=5)
        await journal.flush()
        [entry] = [e async for e in journal.entries()]
        assert entry.status == "failed" and entry.error == {"x": 1} and entry.run == "r2"
    finally:
        await journal.aclose()


async def test_a_stopped_job_takes_no_new_claims_but_settles(pg_dsn: str) -> None:
    await migrated(pg_dsn)
    async with jobs.JobQueue(pg_dsn) as queue:
        job = await queue.submit([], name="gate")
        pool = await open_pool(pg_dsn)
        journal = jobs.PostgresJournal(pool=pool, namespace="g", job_id=job)
        await journal.open()
        try:
            assert await journal.claim("a", run="r", index=0, reclaim=()) is None
            await queue.stop(job)
            with pytest.raises(jobs.JobStoppedError):
                await journal.claim("b", run="r", index=1, reclaim=())
            await journal.settle("a", run="r", index=0, status="sent", result={"id": 1}, error=None)
            await journal.flush()
            assert await journal.counts() == {"sent": 1}
        finally:
            await journal.aclose()
            await pool.close()


def test_a_group_rolled_back_goes_again_after_a_growing_jittered_pause() -> None:
    for attempt in range(_journal._ATTEMPTS - 1):
        base = _journal._BACKOFF * 2**attempt
        delays = {_journal._retry_delay(attempt) for _ in range(50)}
        assert all(0.5 * base <= delay <= 1.5 * base for delay in delays)
        assert len(delays) > 1  # jittered: two workers do not retry in step
    assert 0.001 <= _journal._retry_delay(0) <= 0.01


async def test_a_group_rolled_back_for_a_deadlock_is_applied_once_after_a_pause(
    pg_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    await migrated(pg_dsn)
    journal = jobs.PostgresJournal(pg_dsn, namespace="dl")
    pauses: list[int] = []
    monkeypatch.setattr(_journal, "_retry_delay", lambda attempt: pauses.append(attempt) or 0.0)
    real_apply = journal._apply
    calls = 0

    async def deadlocking(*args: Any) -> None:
        nonlocal calls
        calls += 1
        await real_apply(*args)  # written, then rolled back whole with the deadlock
        if calls <= 2:
            raise psycopg.errors.DeadlockDetected("deadlock detected")

    monkeypatch.setattr(journal, "_apply", deadlocking)
    await journal.open()
    try:
        results = await asyncio.gather(
            *(journal.claim(f"k{i}", run="r", index=i, reclaim=()) for i in range(5))
        )
        assert results == [None] * 5  # each claim won once, not seen as already claimed
        assert calls == 3 and pauses == [0, 1]
        assert await journal.counts() == {"in_flight": 5}
    finally:
        await journal.aclose()
