"""JobQueue against a real PostgreSQL: migrate, submit, report, stop, and in-process workers."""

from __future__ import annotations

import asyncio

import pytest

import wacr_async as wacr
from wacr_async import jobs
from wacr_async.testing import Sandbox

pytestmark = pytest.mark.filterwarnings("error")


def texts(n: int, prefix: str = "m") -> list[wacr.TextMessage]:
    return [wacr.TextMessage(f"+1555{i:07d}", f"hello {i}", key=f"{prefix}-{i}") for i in range(n)]


async def test_migrate_is_idempotent_and_safe_in_parallel(pg_dsn: str) -> None:
    async def once() -> bool:
        async with jobs.JobQueue(pg_dsn) as queue:
            return await queue.migrate()

    results = await asyncio.gather(once(), once(), once())
    assert sorted(results) == [False, False, True]  # exactly one created the tables
    assert await once() is False


async def test_submit_stores_specs_in_chunks_and_reports_from_the_journal(pg_dsn: str) -> None:
    async with jobs.JobQueue(pg_dsn) as queue:
        await queue.migrate()
        specs = [*texts(25), texts(1)[0]]  # the same key twice: sent once
        job = await queue.submit(iter(specs), name="t", chunk_size=10)
        report = await queue.report(job)
    assert report.total == 26
    assert report.chunks == 3
    assert report.counts["skipped"] == 1
    assert report.counts["not_attempted"] == 25
    assert not report.done
    assert report.state == "running"


async def test_a_spec_with_a_file_is_refused_and_the_job_cancelled(pg_dsn: str) -> None:
    async with jobs.JobQueue(pg_dsn) as queue:
        await queue.migrate()
        specs = [*texts(3), wacr.MediaMessage("+15550000009", "image", file=b"\x89PNG")]
        with pytest.raises(wacr.ValidationError, match="URL"):
            await queue.submit(specs, name="files", chunk_size=2)


async def run_workers(dsn: str, sandbox: Sandbox, count: int = 1, concurrency: int = 4) -> None:
    async def one() -> None:
        async with sandbox.client() as client:
            worker = jobs.Worker(
                dsn,
                client=client,
                concurrency=concurrency,
                burst=True,
                install_signal_handlers=False,
            )
            await worker.run()

    await asyncio.gather(*(one() for _ in range(count)))


async def test_workers_send_every_item_once(pg_dsn: str) -> None:
    async with Sandbox() as sandbox, jobs.JobQueue(pg_dsn) as queue:
        await queue.migrate()
        job = await queue.submit(texts(60), name="all", chunk_size=7)
        await run_workers(pg_dsn, sandbox, count=2)
        report = await queue.wait(job)
    assert report.done and report.state == "finished"
    assert report.counts["sent"] == 60
    assert len(sandbox.sends) == 60
    assert sandbox.ledger.duplicate_sends() == []


async def test_an_account_error_in_one_worker_stops_the_job(pg_dsn: str) -> None:
    async with Sandbox(whatsapp_configured=False) as sandbox, jobs.JobQueue(pg_dsn) as queue:
        await queue.migrate()
        job = await queue.submit(texts(40), name="nowa", chunk_size=5)
        await run_workers(pg_dsn, sandbox, count=2, concurrency=2)
        report = await queue.wait(job)
    assert report.stopped and report.done
    assert report.reason is not None and "WhatsAppNotConfigured" in report.reason
    # Each worker learns it from its first answer; the other chunks never start a send.
    assert report.counts["failed"] <= 4
    assert report.counts["not_attempted"] == 40 - report.counts["failed"]


async def test_stop_before_work_leaves_everything_not_attempted(pg_dsn: str) -> None:
    async with Sandbox() as sandbox, jobs.JobQueue(pg_dsn) as queue:
        await queue.migrate()
        job = await queue.submit(texts(20), name="stopped", chunk_size=5)
        await queue.stop(job)
        await run_workers(pg_dsn, sandbox)
        report = await queue.wait(job)
    assert report.stopped and report.state == "stopped"
    assert report.counts["not_attempted"] == 20
    assert sandbox.sends == []
