"""``Worker``: a procrastinate worker that sends the chunks of jobs through the client.

Each chunk goes through ``client.batch.send_messages`` (the one send path: pacing, retries,
outcomes) with the job's :class:`PostgresJournal`. ``concurrency`` is the number of sends on
the wire for the whole worker, which is what a token's window and the server see: two chunks
run at once (so that one chunk's tail and the next one's start overlap) and share one
semaphore, taken before an item is handed to its run and given back with its outcome.

Every worker LISTENs on the jobs channel: a stop reaches its runs at once (``run.stop()``: no
new sends, those on the wire finish), a cancel too (``run.cancel()``: on the wire becomes
``unknown``). The journal's claim gate makes a stop exact even if a notification is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from ..batch import ACCOUNT_ERRORS, PreflightError
from ..errors import JournalError
from ._app import QUEUE, WORKER_KEY, make_app
from ._codec import spec_from_json
from ._db import Pool, open_pool, psycopg
from ._journal import JobStoppedError, PostgresJournal
from ._queue import end_job
from ._report import namespace_of
from ._schema import NOTIFY_CHANNEL

if TYPE_CHECKING:
    from .._client import Client
    from .._specs import MessageSpec
    from ..batch import SendRun

__all__ = ["Worker"]

log = logging.getLogger("wacr_async.jobs")

_CHUNKS_AT_ONCE = 2


class Worker:
    """Runs the chunks of every job in the database until stopped (or, with ``burst``,
    until no work is left).

    ``client`` sends (give it a :class:`SharedPacer` as ``rate_limiter`` so that all workers
    on one token share one pace); ``concurrency`` bounds the sends on the wire;
    ``heartbeat`` is how often the worker tells the database it is alive
    (``queue.recover(job, stalled_after=…)`` should wait a few of them).

    Example::

        async with wacr.Client(rate_limiter=jobs.SharedPacer(dsn, token)) as client:
            await jobs.Worker(dsn, client=client, concurrency=16).run()
    """

    def __init__(
        self,
        dsn: str,
        *,
        client: Client,
        concurrency: int = 16,
        burst: bool = False,
        name: str | None = None,
        heartbeat: float = 10.0,
        install_signal_handlers: bool = True,
    ) -> None:
        if concurrency < 1:
            raise ValueError(f"concurrency must be >= 1, not {concurrency!r}")
        self._dsn = dsn
        self._client = client
        self._concurrency = concurrency
        self._burst = burst
        self._name = name
        self._heartbeat = heartbeat
        self._signals = install_signal_handlers
        self._pool: Pool | None = None
        self._runs: dict[int, set[SendRun]] = {}
        self._journals: dict[int, PostgresJournal] = {}
        self._on_wire = asyncio.Semaphore(concurrency)

    async def run(self) -> None:
        """Work until SIGINT/SIGTERM (the chunk in progress finishes), or with ``burst``
        until no chunk is waiting."""
        app = make_app(self._dsn)
        async with self.running(), app.open_async():
            await app.run_worker_async(
                queues=[QUEUE],
                concurrency=_CHUNKS_AT_ONCE,
                wait=not self._burst,
                name=self._name or "wacr-worker",
                additional_context={WORKER_KEY: self},
                install_signal_handlers=self._signals,
                update_heartbeat_interval=self._heartbeat,
                fetch_job_polling_interval=1.0,
                delete_jobs="never",
            )

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """The worker's connections and its stop/cancel listener, without procrastinate (for
        :meth:`run_chunk` called directly)."""
        self._pool = await open_pool(self._dsn, max_size=3, name="wacr-worker")
        listener = asyncio.get_running_loop().create_task(self._listen())
        try:
            yield
        finally:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener
            await self._pool.close()
            self._pool = None

    # -- one chunk -------------------------------------------------------------------------

    async def run_chunk(self, job: int, chunk: int) -> None:
        """Send one chunk of ``job`` (called by procrastinate for each chunk job)."""
        pool = self._ready_pool()
        async with pool.connection() as conn:
            cur = await conn.execute(
                "UPDATE wacr_job_chunks c SET state = 'running', updated_at = clock_timestamp() "
                "FROM wacr_jobs j WHERE c.job_id = %s AND c.chunk = %s AND j.id = c.job_id "
                "RETURNING j.state, c.first_idx, c.end_idx",
                (job, chunk),
            )
            row = await cur.fetchone()
        if row is None:
            return
        state, first, end = row
        try:
            if state == "running":
                await self._send(job, int(first), int(end))
        except BaseException:
            await self._mark(job, chunk, "failed")
            raise
        await self._mark(job, chunk, "done")

    async def _send(self, job: int, first: int, end: int) -> None:
        pool = self._ready_pool()
        async with pool.connection() as conn:
            cur = await conn.execute(
                "SELECT spec FROM wacr_job_specs WHERE job_id = %s AND idx >= %s AND idx < %s "
                "ORDER BY idx",
                (job, first, end),
            )
            specs = [spec_from_json(row[0]) for row in await cur.fetchall()]
        # The chunks of one job running here share one journal writer (see shifted()).
        journal = self._journals.get(job)
        if journal is None:
            journal = PostgresJournal(pool=pool, namespace=namespace_of(job), job_id=job)
            self._journals[job] = journal
        # A key given twice in one job with other content: the first one counts. Only the
        # first chunk checks the templates: one look per job, not one per chunk.
        held = [0]  # items handed to the run whose outcome has not come out yet
        run = self._client.batch.send_messages(
            self._metered(specs, held),
            concurrency=self._concurrency,
            journal=journal.shifted(first),
            keep=0,
            on_mismatch="skip",
            preflight=first == 0,
        )
        runs = self._runs.setdefault(job, set())
        runs.add(run)
        try:
            async for _ in run:
                held[0] -= 1
                self._on_wire.release()  # one outcome per item handed over
            report = await run.report()
        except JobStoppedError:
            return
        except PreflightError as exc:
            await end_job(pool, job, "stopped", str(exc))
            return
        finally:
            for _ in range(held[0]):
                self._on_wire.release()
            runs.discard(run)
            if not runs:
                self._runs.pop(job, None)
                self._journals.pop(job, None)
                with contextlib.suppress(JournalError):
                    await journal.aclose()
        stopped_by = report.stopped_by
        if stopped_by is not None and isinstance(stopped_by, ACCOUNT_ERRORS):
            # Every other worker would hit the same wall: stop the whole job.
            await end_job(pool, job, "stopped", f"{type(stopped_by).__name__}: {stopped_by}")

    async def _metered(
        self, specs: list[MessageSpec], held: list[int]
    ) -> AsyncIterator[MessageSpec]:
        for spec in specs:
            await self._on_wire.acquire()
            held[0] += 1
            yield spec

    async def _mark(self, job: int, chunk: int, state: str) -> None:
        async with self._ready_pool().connection() as conn:
            await conn.execute(
                "UPDATE wacr_job_chunks SET state = %s, updated_at = clock_timestamp() "
                "WHERE job_id = %s AND chunk = %s",
                (state, job, chunk),
            )
            await conn.execute(
                "UPDATE wacr_jobs SET updated_at = clock_timestamp() WHERE id = %s", (job,)
            )

    def _ready_pool(self) -> Pool:
        if self._pool is None:
            raise RuntimeError("the worker is not running")
        return self._pool

    # -- stop and cancel from anywhere -----------------------------------------------------

    async def _listen(self) -> None:
        while True:
            try:
                conn = await psycopg.AsyncConnection.connect(self._dsn, autocommit=True)
                async with conn:
                    await conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
                    async for note in conn.notifies():
                        self._on_notice(note.payload)
            except psycopg.Error:
                log.warning("jobs: lost the notification connection; reconnecting")
                await asyncio.sleep(1.0)

    def _on_notice(self, payload: str) -> None:
        job_text, _, state = payload.partition(":")
        with contextlib.suppress(ValueError):
            runs = self._runs.get(int(job_text), set())
            for run in list(runs):
                if state == "cancelled":
                    run.cancel()
                else:
                    _stop_run(run, int(job_text))


def _stop_run(run: SendRun, job: int) -> None:
    run.stop()  # graceful: no new sends, those in flight finish and are recorded
