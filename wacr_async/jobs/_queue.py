"""``JobQueue``: submit a bulk send as a job, watch it, stop it, recover it.

A job is a row in ``wacr_jobs``, its specs rows in ``wacr_job_specs`` (written with COPY as
they are read, so a submit of millions needs no more memory than one chunk), and one
procrastinate job per chunk (enqueued with a queueing lock as soon as its specs are stored:
workers start while the submit goes on). Stop and cancel change the job row and NOTIFY every
worker; the journal refuses claims for a job that is no longer running.
"""

from __future__ import annotations

import asyncio
import datetime
from collections.abc import AsyncIterable, AsyncIterator, Iterable
from types import TracebackType
from typing import Any

import attrs
import procrastinate
from psycopg.types.json import Jsonb

from .._specs import MessageSpec, spec_key
from ._app import TASK_NAME, make_app
from ._codec import spec_to_json
from ._db import Pool, open_pool
from ._report import JobReport, namespace_of, read_report
from ._schema import NOTIFY_CHANNEL, migrate

__all__ = ["JobOutcome", "JobQueue", "end_job"]

_STOP_SQL = """
UPDATE wacr_jobs SET state = %s, reason = coalesce(reason, %s), updated_at = clock_timestamp()
WHERE id = %s AND state IN ('running', 'stopped')
RETURNING id
"""
_UNKNOWN_SQL = """
UPDATE wacr_journal SET status = 'unknown', prior = NULL, updated_at = clock_timestamp(),
       error = %s
WHERE namespace = %s AND status = 'in_flight' AND idx >= %s AND idx < %s
"""

# Why a claimed item without an outcome became unknown: (error type, message).
_WORKER_LOST = ("WorkerLost", "the worker sending this item stopped answering")
_RUN_FAILED = ("ChunkFailed", "the chunk's run failed before this item's answer was recorded")
# The job's chunks whose run failed: through the procrastinate job id each chunk recorded
# (its primary key), so only this job's rows are read; chunks without one are listed apart.
_FAILED_CHUNKS_SQL = """
SELECT p.id, c.chunk
FROM wacr_job_chunks c JOIN procrastinate_jobs p ON p.id = c.task_id
WHERE c.job_id = %s AND p.status = 'failed' AND p.task_name = %s
ORDER BY c.chunk
"""
_UNRECORDED_CHUNKS_SQL = "SELECT chunk FROM wacr_job_chunks WHERE job_id = %s AND task_id IS NULL"

_OUTCOMES_SQL = """
SELECT s.idx, s.key, s.spec->>'phone', j.status, j.idx, j.result->>'message_id',
       j.error->>'message'
FROM wacr_job_specs s
LEFT JOIN wacr_journal j ON j.namespace = %s AND j.key = s.key
WHERE s.job_id = %s AND s.idx > %s
ORDER BY s.idx
LIMIT %s
"""


@attrs.frozen(kw_only=True)
class JobOutcome:
    """One item of a job as the journal knows it (``status`` as in :class:`JobReport`)."""

    index: int
    key: str
    phone: str
    status: str
    message_id: str | None
    error: str | None


class JobQueue:
    """Bulk sends as jobs in PostgreSQL, run by ``wacr jobs worker`` processes anywhere.

    Example::

        from wacr_async import jobs

        async with jobs.JobQueue("postgresql://db/wacr") as queue:
            await queue.migrate()
            job = await queue.submit(specs, name="orders-2026-12", chunk_size=200)
            print(await queue.wait(job))
    """

    def __init__(self, dsn: str) -> None:
        self._dsn = dsn
        self._pool: Pool | None = None
        self._app: procrastinate.App | None = None

    async def __aenter__(self) -> JobQueue:
        self._pool = await open_pool(self._dsn, max_size=2, name="wacr-queue")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        app, self._app = self._app, None
        if app is not None:
            await app.close_async()
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()

    @property
    def pool(self) -> Pool:
        if self._pool is None:
            raise RuntimeError("use the queue inside `async with JobQueue(dsn) as queue:`")
        return self._pool

    async def _procrastinate(self) -> procrastinate.App:
        if self._app is None:
            app = make_app(self._dsn)
            await app.open_async()
            self._app = app
        return self._app

    async def migrate(self, *, procrastinate_upgraded: bool = False) -> bool:
        """Create the tables (procrastinate's and ours) where missing and upgrade ours;
        idempotent, and safe to run from several machines at once. Returns whether anything
        changed.

        procrastinate's own upgrades are not applied here (their ``pre`` and ``post`` steps
        must be timed against the workers still running the older version): when a newer
        procrastinate is installed, this logs the migration files to apply; once they are,
        ``procrastinate_upgraded=True`` records it.

        Example::

            await queue.migrate()
        """
        return await migrate(self.pool, procrastinate_upgraded=procrastinate_upgraded)

    async def submit(
        self,
        specs: Iterable[MessageSpec] | AsyncIterable[MessageSpec],
        *,
        name: str,
        chunk_size: int = 200,
    ) -> int:
        """Store ``specs`` as a new job and enqueue its chunks; returns the job id.

        Specs are read once, lazily, and written as they come (constant memory). A spec
        that cannot travel (media given as a file) raises ``ValidationError`` naming its
        index; the job is then cancelled with that reason.

        Example::

            job = await queue.submit(
                (wacr.TemplateMessage(p, "order_update", "en", key=f"o-{o}") for p, o in rows),
                name="orders-2026-12",
            )
        """
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be >= 1, not {chunk_size!r}")
        pool = self.pool
        app = await self._procrastinate()
        async with pool.connection() as conn:
            cur = await conn.execute(
                "INSERT INTO wacr_jobs (name, chunk_size) VALUES (%s, %s) RETURNING id",
                (name, chunk_size),
            )
            row = await cur.fetchone()
        assert row is not None
        job = int(row[0])
        batch: list[tuple[int, str, Jsonb]] = []
        index = 0
        chunk = 0
        try:
            async for spec in _items(specs):
                batch.append((index, spec_key(spec), Jsonb(spec_to_json(spec))))
                index += 1
                if len(batch) == chunk_size:
                    await self._store_chunk(app, job, chunk, batch)
                    chunk += 1
                    batch = []
            if batch:
                await self._store_chunk(app, job, chunk, batch)
        except BaseException as exc:
            await self._end(job, "cancelled", f"submit failed at item {index}: {exc}")
            if isinstance(exc, Exception):
                exc.add_note(f"wacr jobs: item {index} of job {job}")
            raise
        async with pool.connection() as conn:
            await conn.execute(
                "UPDATE wacr_jobs SET submitted = true, total = %s, updated_at = "
                "clock_timestamp(), distinct_keys = (SELECT count(DISTINCT key) "
                "FROM wacr_job_specs WHERE job_id = %s) WHERE id = %s",
                (index, job, job),
            )
        return job

    async def _store_chunk(
        self, app: procrastinate.App, job: int, chunk: int, rows: list[tuple[int, str, Jsonb]]
    ) -> None:
        async with self.pool.connection() as conn, conn.transaction():
            async with (
                conn.cursor() as cur,
                cur.copy("COPY wacr_job_specs (job_id, idx, key, spec) FROM STDIN") as copy,
            ):
                for index, key, spec in rows:
                    await copy.write_row((job, index, key, spec))
            await conn.execute(
                "INSERT INTO wacr_job_chunks (job_id, chunk, first_idx, end_idx) "
                "VALUES (%s, %s, %s, %s)",
                (job, chunk, rows[0][0], rows[-1][0] + 1),
            )
            await conn.execute(
                "UPDATE wacr_jobs SET total = %s WHERE id = %s", (rows[-1][0] + 1, job)
            )
        deferrer = app.configure_task(TASK_NAME, queueing_lock=f"wacr:{job}:{chunk}")
        task_id = await deferrer.defer_async(job=job, chunk=chunk)
        async with self.pool.connection() as conn:
            await conn.execute(
                "UPDATE wacr_job_chunks SET task_id = %s WHERE job_id = %s AND chunk = %s",
                (task_id, job, chunk),
            )

    async def report(self, job: int) -> JobReport:
        """The job's counts by status, computed from the journal.

        Example::

            report = await queue.report(job)
            print(report)     # job 7 'orders-2026-12': running; sent 1200, in_flight 12 of 2000
        """
        return await read_report(self.pool, job)

    async def stop(self, job: int, *, reason: str = "stopped by request") -> None:
        """Stop gracefully: once this returns no worker starts another send of the job;
        sends on the wire finish and the rest stay ``not_attempted``.

        Example::

            await queue.stop(job)
        """
        await self._end(job, "stopped", reason)

    async def cancel(self, job: int, *, reason: str = "cancelled by request") -> None:
        """Stop now: workers cancel their runs, sends on the wire become ``unknown``.

        Example::

            await queue.cancel(job)
        """
        await self._end(job, "cancelled", reason)

    async def _end(self, job: int, state: str, reason: str) -> None:
        await end_job(self.pool, job, state, reason)

    async def recover(self, job: int, *, stalled_after: float = 60.0, failed: bool = False) -> int:
        """Requeue the chunks of ``job`` whose worker stopped heart-beating ``stalled_after``
        seconds ago (killed, or its machine lost) and, with ``failed=True``, those whose run
        ended in an error (a lost database, a bug). Returns how many chunks were requeued.

        The journal decides what is sent again: an item it holds as claimed without an
        outcome becomes ``unknown`` (it may have been sent) and is never sent again; items
        sent are skipped; items never claimed (or refused for certain) are sent by the next
        worker.

        Example::

            await queue.recover(job, stalled_after=60)
            await queue.recover(job, failed=True)   # after fixing what made chunks fail
        """
        app = await self._procrastinate()
        manager = app.job_manager
        # (procrastinate job id, chunk, why): running chunks are few, failed ones may be many.
        found: list[tuple[int, int, tuple[str, str]]] = [
            (task.id, int(str(task.task_kwargs.get("chunk"))), _WORKER_LOST)
            for task in await manager.get_stalled_jobs(
                task_name=TASK_NAME, seconds_since_heartbeat=stalled_after
            )
            if task.id is not None and task.task_kwargs.get("job") == job
        ]
        if failed:
            found += [(task_id, chunk, _RUN_FAILED) for task_id, chunk in await self._failed(job)]
        requeued = 0
        for task_id, chunk, why in found:
            async with self.pool.connection() as conn, conn.transaction():
                cur = await conn.execute(
                    "UPDATE wacr_job_chunks SET state = 'queued', updated_at = clock_timestamp()"
                    " WHERE job_id = %s AND chunk = %s RETURNING first_idx, end_idx",
                    (job, chunk),
                )
                bounds = await cur.fetchone()
                if bounds is not None:
                    error = {"type": why[0], "message": why[1]}
                    await conn.execute(
                        _UNKNOWN_SQL, (Jsonb(error), namespace_of(job), bounds[0], bounds[1])
                    )
            now = datetime.datetime.now(datetime.UTC)
            await manager.retry_job_by_id_async(task_id, retry_at=now)
            requeued += 1
        return requeued

    async def _failed(self, job: int) -> list[tuple[int, int]]:
        """(procrastinate job id, chunk) of each chunk of ``job`` whose run failed."""
        async with self.pool.connection() as conn:
            cur = await conn.execute(_FAILED_CHUNKS_SQL, (job, TASK_NAME))
            found = [(int(task_id), int(chunk)) for task_id, chunk in await cur.fetchall()]
            cur = await conn.execute(_UNRECORDED_CHUNKS_SQL, (job,))
            unrecorded = [int(chunk) for (chunk,) in await cur.fetchall()]
        manager = (await self._procrastinate()).job_manager
        for chunk in unrecorded:  # enqueued, but the submit stopped before writing its id
            for task in await manager.list_jobs_async(
                task=TASK_NAME, status="failed", queueing_lock=f"wacr:{job}:{chunk}"
            ):
                if task.id is not None:
                    found.append((task.id, chunk))
        return found

    async def outcomes(self, job: int, *, page_size: int = 1000) -> AsyncIterator[JobOutcome]:
        """One :class:`JobOutcome` per item of ``job``, in input order, a page at a time.

        Example::

            async for item in queue.outcomes(job):
                if item.status != "sent":
                    print(item.index, item.phone, item.status, item.error)
        """
        after = -1
        while True:
            async with self.pool.connection() as conn:
                cur = await conn.execute(_OUTCOMES_SQL, (namespace_of(job), job, after, page_size))
                rows = await cur.fetchall()
            for index, key, phone, status, owner, message_id, error in rows:
                if status is None:
                    status = "not_attempted"
                elif owner != index and status == "sent":
                    status = "skipped"  # the same key earlier in the job was sent
                yield JobOutcome(
                    index=int(index),
                    key=key,
                    phone=phone or "",
                    status=status,
                    message_id=message_id,
                    error=error,
                )
            if len(rows) < page_size:
                return
            after = int(rows[-1][0])

    async def wait(self, job: int, *, poll: float = 0.5) -> JobReport:
        """Wait until the job is done (finished, or stopped with no send left on the wire).

        Example::

            report = await queue.wait(job)
        """
        while True:
            report = await self.report(job)
            if report.done:
                return report
            await asyncio.sleep(poll)


async def end_job(pool: Pool, job: int, state: str, reason: str) -> None:
    """Mark ``job`` stopped or cancelled and tell every worker (LISTEN/NOTIFY)."""
    async with pool.connection() as conn, conn.transaction():
        # Waits for claim groups holding the job row FOR SHARE: none commits after this.
        cur = await conn.execute(_STOP_SQL, (state, reason, job))
        if await cur.fetchone() is None:
            return
        await conn.execute("SELECT pg_notify(%s, %s)", (NOTIFY_CHANNEL, f"{job}:{state}"))


async def _items(specs: Iterable[Any] | AsyncIterable[Any]) -> AsyncIterator[Any]:
    if isinstance(specs, AsyncIterable):
        async for spec in specs:
            yield spec
    else:
        for spec in specs:
            yield spec
