"""JobQueue against a real PostgreSQL: migrate, submit, report, stop, and in-process workers."""

from __future__ import annotations

import asyncio

import pytest

import wacr_async as wacr
from wacr_async import jobs
from wacr_async.jobs._schema import SCHEMA_VERSION, procrastinate_migrations
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


async def test_migrate_upgrades_the_tables_of_an_earlier_release(pg_dsn: str) -> None:
    async with jobs.JobQueue(pg_dsn) as queue:
        await queue.migrate()
        async with queue.pool.connection() as conn:  # the tables as release 1 made them
            await conn.execute(
                "ALTER TABLE wacr_pacing DROP COLUMN win_epoch, DROP COLUMN win_end, "
                "DROP COLUMN win_used, DROP COLUMN win_confirmed"
            )
            await conn.execute("ALTER TABLE wacr_schema DROP COLUMN procrastinate_level")
            await conn.execute("UPDATE wacr_schema SET version = 1")
        assert await queue.migrate() is True
        assert await queue.migrate() is False
        async with queue.pool.connection() as conn:
            cur = await conn.execute("SELECT version, procrastinate_level FROM wacr_schema")
            level = procrastinate_migrations()[-1].stem
            assert await cur.fetchall() == [(SCHEMA_VERSION, level)]
            cur = await conn.execute("SELECT win_epoch, win_used FROM wacr_pacing")
            assert await cur.fetchall() == []


async def test_migrate_names_procrastinate_upgrades_it_leaves_to_the_operator(
    pg_dsn: str, caplog: pytest.LogCaptureFixture
) -> None:
    files = procrastinate_migrations()
    async with jobs.JobQueue(pg_dsn) as queue:
        await queue.migrate()
        assert "procrastinate" not in caplog.text
        async with queue.pool.connection() as conn:  # tables of an older procrastinate
            await conn.execute("UPDATE wacr_schema SET procrastinate_level = %s", (files[-3].stem,))
        await queue.migrate()
        assert f"apply {files[-2].name}, {files[-1].name} from" in caplog.text
        caplog.clear()
        await queue.migrate(procrastinate_upgraded=True)  # the operator applied them
        await queue.migrate()
        assert "procrastinate" not in caplog.text


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


async def test_one_chunk_run_by_two_workers_at_once_sends_each_item_once(pg_dsn: str) -> None:
    async with Sandbox(latency=0.01) as sandbox, jobs.JobQueue(pg_dsn) as queue:
        await queue.migrate()
        job = await queue.submit(texts(80), name="twice", chunk_size=80)
        async with sandbox.client() as first_client, sandbox.client() as second_client:
            first = jobs.Worker(pg_dsn, client=first_client, concurrency=8)
            second = jobs.Worker(pg_dsn, client=second_client, concurrency=8)
            # Not through procrastinate (which hands a chunk to one worker): straight in.
            async with first.running(), second.running():
                await asyncio.gather(first.run_chunk(job, 0), second.run_chunk(job, 0))
        report = await queue.report(job)
    assert sandbox.ledger.duplicate_sends() == []
    assert len(sandbox.sends) == 80
    assert report.counts["sent"] == 80


async def test_recover_reruns_a_failed_chunk_and_the_journal_keeps_claims(pg_dsn: str) -> None:
    async with Sandbox() as sandbox, jobs.JobQueue(pg_dsn) as queue:
        await queue.migrate()
        job = await queue.submit(texts(30, "fail"), name="fails", chunk_size=30)
        async with queue.pool.connection() as conn:  # the journal refuses items 10 and on
            await conn.execute("ALTER TABLE wacr_journal ADD CONSTRAINT stop_at CHECK (idx < 10)")
        await run_workers(pg_dsn, sandbox)
        first = len(sandbox.sends)
        assert 0 < first <= 10
        async with queue.pool.connection() as conn:
            await conn.execute("ALTER TABLE wacr_journal DROP CONSTRAINT stop_at")
            # An item claimed whose answer was never written (the run died around it).
            await conn.execute("UPDATE wacr_journal SET status = 'in_flight' WHERE idx = 0")
        assert await queue.recover(job, stalled_after=60) == 0  # no worker died
        assert await queue.recover(job, stalled_after=60, failed=True) == 1
        await run_workers(pg_dsn, sandbox)
        report = await queue.wait(job)
        unknown = [item.index async for item in queue.outcomes(job) if item.status == "unknown"]
    assert sandbox.ledger.duplicate_sends() == []
    assert len(sandbox.sends) == 30  # the first run's sends were not made again
    # Unknown: item 0, and the first run's items whose answers were lost with the failed
    # transaction (sent once, but the journal cannot say so); the rest sent by the second run.
    assert 0 in unknown and max(unknown) < first
    assert report.counts["sent"] + report.counts["unknown"] == 30, report.counts
    assert report.done and report.state == "finished"


async def test_recover_failed_requeues_only_the_chunks_of_its_job(pg_dsn: str) -> None:
    async with jobs.JobQueue(pg_dsn) as queue:
        await queue.migrate()
        job = await queue.submit(texts(30, "mine"), name="mine", chunk_size=10)
        other = await queue.submit(texts(20, "other"), name="other", chunk_size=10)
        async with queue.pool.connection() as conn:  # every chunk's run failed
            await conn.execute("UPDATE procrastinate_jobs SET status = 'doing'")
            await conn.execute("UPDATE procrastinate_jobs SET status = 'failed'")
            # A chunk enqueued by a submit that stopped before writing its procrastinate id.
            await conn.execute(
                "UPDATE wacr_job_chunks SET task_id = NULL WHERE job_id = %s AND chunk = 2", (job,)
            )
        assert await queue.recover(job, failed=True) == 3
        async with queue.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT (args->>'job')::bigint, status::text, count(*) FROM procrastinate_jobs "
                "GROUP BY 1, 2 ORDER BY 1"
            )
            states = await cur.fetchall()
    assert states == [(job, "todo", 3), (other, "failed", 2)]


async def test_cancel_mid_job_reaches_the_worker_at_once(pg_dsn: str) -> None:
    async with Sandbox(latency=0.3) as sandbox, jobs.JobQueue(pg_dsn) as queue:
        await queue.migrate()
        job = await queue.submit(texts(200), name="cancel", chunk_size=50)
        worker_task = asyncio.create_task(run_workers(pg_dsn, sandbox, concurrency=4))
        for _ in range(1000):  # until some sends went out (10 s at most)
            if len(sandbox.sends) >= 8:
                break
            await asyncio.sleep(0.01)
        await queue.cancel(job)
        await asyncio.wait_for(worker_task, 10)
        report = await queue.wait(job)
    assert report.stopped and report.state == "cancelled"
    counts = report.counts
    assert counts["unknown"] <= 4  # what was on the wire
    assert counts["sent"] + counts["unknown"] + counts["not_attempted"] == 200
    assert counts["sent"] <= len(sandbox.sends) <= counts["sent"] + counts["unknown"]
