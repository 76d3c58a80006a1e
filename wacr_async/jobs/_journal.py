"""A bulk-send journal in PostgreSQL, shared by every worker of a job on every machine.

Calls made during one turn of the event loop go to the server together, in one transaction
(group commit), like the SQLite journal's: a claim returns once that transaction has
committed, so it is durable before the request leaves. Claims are one
``INSERT … ON CONFLICT DO UPDATE … WHERE`` statement: whoever commits first owns the key, on
any machine, so the same chunk run by two workers at once still sends each item at most once
(the loser sees the winner's entry and reports it instead of sending).

A journal made for a job also refuses new claims once the job is stopped: each claim group
reads the job row ``FOR SHARE``, so ``queue.stop(job)`` (an ``UPDATE`` of that row) waits
for claims already under way and no claim commits after it returns.

Kept whole because the group writer, the statements it runs and the replies it builds from
them are one protocol (a group applied again must rebuild exactly the replies of that attempt).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator, Collection, Mapping
from typing import Any, Literal

from psycopg.types.json import Jsonb

from .._journal import EntryStatus, JournalEntry
from ..errors import JournalError
from ._db import Pool, psycopg
from ._shifted import ShiftedJournal

__all__ = ["JobStoppedError", "PostgresJournal", "ShiftedJournal"]

# Commands applied in one transaction at most; more wait for the next one.
_MAX_GROUP = 2048
# A group rolled back by a deadlock or a serialization failure is applied again, this often.
_ATTEMPTS = 5
_ROLLED_BACK = (psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure)
# Before applying it again, a pause of about this long, doubled at each attempt, with jitter:
# two workers whose groups collided do not collide again in step.
_BACKOFF = 0.005


def _retry_delay(attempt: int) -> float:
    """Seconds to wait before attempt ``attempt + 1`` (0.0025-0.0075 s after the first)."""
    return _BACKOFF * 2.0**attempt * random.uniform(0.5, 1.5)


class JobStoppedError(JournalError):
    """The job was stopped or cancelled: the journal takes no new claims for it."""


_CLAIM_SQL = """
INSERT INTO wacr_journal AS j (namespace, key, status, run, idx, fingerprint)
SELECT %(ns)s, r.key, 'in_flight', r.run, r.idx, r.fp
FROM unnest(%(keys)s::text[], %(runs)s::text[], %(idxs)s::bigint[], %(fps)s::text[])
     AS r(key, run, idx, fp)
ON CONFLICT (namespace, key) DO UPDATE
    SET status = 'in_flight', run = excluded.run, idx = excluded.idx,
        fingerprint = excluded.fingerprint, prior = j.status,
        updated_at = clock_timestamp()
    WHERE j.status = ANY(%(reclaim)s::text[]) AND j.run <> excluded.run
RETURNING key
"""
_LOOKUP_SQL = """
SELECT key, status, run, idx, fingerprint, result, error FROM wacr_journal
WHERE namespace = %s AND key = ANY(%s::text[])
"""
_SETTLE_SQL = """
UPDATE wacr_journal j
SET status = u.status, result = u.result, error = u.error, prior = NULL,
    updated_at = clock_timestamp()
FROM unnest(%(keys)s::text[], %(runs)s::text[], %(idxs)s::bigint[], %(statuses)s::text[],
            %(results)s::jsonb[], %(errors)s::jsonb[]) AS u(key, run, idx, status, result, error)
WHERE j.namespace = %(ns)s AND j.key = u.key AND j.run = u.run AND j.idx = u.idx
"""
_RELEASE_NEW_SQL = """
DELETE FROM wacr_journal
WHERE namespace = %s AND key = %s AND run = %s AND idx = %s AND status = 'in_flight'
  AND prior IS NULL
"""
_RELEASE_RECLAIMED_SQL = """
UPDATE wacr_journal SET status = prior, prior = NULL, updated_at = clock_timestamp()
WHERE namespace = %s AND key = %s AND run = %s AND idx = %s AND status = 'in_flight'
  AND prior IS NOT NULL
"""
_GATE_SQL = "SELECT state FROM wacr_jobs WHERE id = %s FOR SHARE"

_Claim = tuple[Literal["claim"], str, str, int, str | None, frozenset[str], "asyncio.Future[Any]"]
_Settle = tuple[Literal["settle"], str, str, int, str, Any, Any]
_Release = tuple[Literal["release"], str, str, int]
_Flush = tuple[Literal["flush"], "asyncio.Future[Any]"]
_Op = _Claim | _Settle | _Release | _Flush


class PostgresJournal:
    """A :class:`wacr_async.batch.Journal` in PostgreSQL, for sends spread over machines.

    ``namespace`` names the journal (one table holds many); keys are unique within it. Pass
    ``pool`` to share a psycopg pool, otherwise the journal opens a small one of its own on
    ``dsn``. The tables must exist (``await JobQueue(dsn).migrate()`` creates them).

    Example::

        journal = jobs.PostgresJournal("postgresql://db/wacr", namespace="newsletter-12")
        run = client.batch.send_messages(specs, journal=journal)
        print(await run.report())
        print(await journal.counts())         # {"sent": 9990, "failed": 10}
        await journal.aclose()
    """

    def __init__(
        self,
        dsn: str | None = None,
        *,
        namespace: str,
        pool: Pool | None = None,
        job_id: int | None = None,
        index_offset: int = 0,
    ) -> None:
        if (dsn is None) == (pool is None):
            raise ValueError("give PostgresJournal a dsn or a pool (one of them)")
        self._dsn = dsn
        self._pool = pool
        self._owns_pool = pool is None
        self.namespace = namespace
        self._job_id = job_id
        self._offset = index_offset
        self._ops: list[_Op] = []
        self._wake = asyncio.Event()
        self._writer: asyncio.Task[None] | None = None
        self._kick_scheduled = False
        self._error: BaseException | None = None
        self._closed = False

    def __repr__(self) -> str:
        return f"PostgresJournal(namespace={self.namespace!r})"

    # -- the Journal interface -------------------------------------------------------------

    async def open(self) -> None:
        if self._closed:
            raise JournalError(f"{self!r} is closed")
        if self._pool is None:
            from ._db import open_pool

            assert self._dsn is not None
            self._pool = await open_pool(self._dsn, max_size=2, name="wacr-journal")
        if self._writer is None:
            self._writer = asyncio.get_running_loop().create_task(self._write())

    async def claim(
        self,
        key: str,
        *,
        run: str,
        index: int,
        reclaim: Collection[EntryStatus],
        fingerprint: str | None = None,
    ) -> JournalEntry | None:
        future = self._future()
        at = index + self._offset
        self._add(("claim", key, run, at, fingerprint, frozenset(reclaim), future))
        result: JournalEntry | None = await future
        return result

    async def settle(
        self,
        key: str,
        *,
        run: str,
        index: int,
        status: EntryStatus,
        result: Mapping[str, Any] | None,
        error: Mapping[str, Any] | None,
    ) -> None:
        self._check_usable()
        self._add(("settle", key, run, index + self._offset, status, result, error))

    async def release(self, key: str, *, run: str, index: int) -> None:
        self._check_usable()
        self._add(("release", key, run, index + self._offset))

    async def flush(self) -> None:
        future = self._future()
        self._add(("flush", future))
        await future

    async def aclose(self) -> None:
        """Flush, stop the writer and close the pool if the journal opened it."""
        if self._closed:
            return
        try:
            if self._writer is not None and self._error is None:
                await self.flush()
        finally:
            self._closed = True
            if self._writer is not None:
                self._writer.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._writer
            if self._owns_pool and self._pool is not None:
                await self._pool.close()

    def shifted(self, offset: int) -> ShiftedJournal:
        """A view of this journal whose item ``index`` starts at ``offset`` (a chunk of a job),
        sharing its writer: the views' claims and settles go out in one order, so an item
        settled before another is claimed is never left in flight after it.

        Example::

            run = client.batch.send_messages(chunk, journal=journal.shifted(first_index))
        """
        return ShiftedJournal(self, offset)

    # -- reading ---------------------------------------------------------------------------

    async def counts(self) -> dict[str, int]:
        """How many items the journal holds, by status.

        Example::

            await journal.counts()      # {"sent": 9990, "failed": 7, "unknown": 3}
        """
        pool = self._ready_pool()
        async with pool.connection() as conn:
            cur = await conn.execute(
                "SELECT status, count(*) FROM wacr_journal WHERE namespace = %s GROUP BY status",
                (self.namespace,),
            )
            return {str(status): int(count) for status, count in await cur.fetchall()}

    async def entries(
        self, *, status: EntryStatus | None = None, page_size: int = 1000
    ) -> AsyncIterator[JournalEntry]:
        """Every item (or those with ``status``), in key order, a page at a time.

        Example::

            async for entry in journal.entries(status="unknown"):
                print(entry.key, entry.error)
        """
        pool = self._ready_pool()
        after = ""
        while True:
            async with pool.connection() as conn:
                cur = await conn.execute(
                    "SELECT key, status, run, idx, fingerprint, result, error FROM wacr_journal "
                    "WHERE namespace = %s AND key > %s AND (%s::text IS NULL OR status = %s) "
                    "ORDER BY key LIMIT %s",
                    (self.namespace, after, status, status, page_size),
                )
                rows = await cur.fetchall()
            for row in rows:
                yield self._entry(row)
            if len(rows) < page_size:
                return
            after = rows[-1][0]

    # -- the writer ------------------------------------------------------------------------

    def _ready_pool(self) -> Pool:
        if self._pool is None:
            raise JournalError(f"{self!r} is not open; await journal.open() first")
        return self._pool

    def _future(self) -> asyncio.Future[Any]:
        self._check_usable()
        return asyncio.get_running_loop().create_future()

    def _check_usable(self) -> None:
        if self._closed:
            raise JournalError(f"{self!r} is closed")
        if self._error is not None:
            raise JournalError(f"{self!r} failed earlier: {self._error}") from self._error
        if self._writer is None:
            raise JournalError(f"{self!r} is not open; await journal.open() first")

    def _add(self, op: _Op) -> None:
        self._ops.append(op)
        if not self._kick_scheduled:
            # Everything asked for until the loop comes round goes in one transaction.
            self._kick_scheduled = True
            asyncio.get_running_loop().call_soon(self._kick)

    def _kick(self) -> None:
        self._kick_scheduled = False
        self._wake.set()

    async def _write(self) -> None:
        pool = self._ready_pool()
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._ops:
                ops, self._ops = self._ops[:_MAX_GROUP], self._ops[_MAX_GROUP:]
                replies: list[tuple[asyncio.Future[Any], Any, BaseException | None]] = []
                try:
                    for attempt in range(_ATTEMPTS):
                        replies = []
                        try:
                            # One pipeline: BEGIN, settles, the gate and the claims together.
                            async with (
                                pool.connection() as conn,
                                conn.pipeline(),
                                conn.transaction(),
                            ):
                                await self._apply(conn, ops, replies)
                            break
                        except _ROLLED_BACK:
                            # Two workers' groups took the same rows in another order (one
                            # chunk run twice): undone whole, so it can simply go again
                            # (its replies are rebuilt), after a pause out of step.
                            if attempt == _ATTEMPTS - 1:
                                raise
                            await asyncio.sleep(_retry_delay(attempt))
                except psycopg.Error as exc:
                    failure = JournalError(f"{self!r}: {exc}")
                    failure.__cause__ = exc
                    # From now on every call fails at once: a run must stop rather than guess.
                    self._error = failure
                    replies = [(future, None, failure) for future in _futures(ops + self._ops)]
                    self._ops = []
                for future, value, error in replies:
                    if future.done():
                        continue
                    if error is not None:
                        future.set_exception(error)
                    else:
                        future.set_result(value)

    async def _apply(
        self,
        conn: psycopg.AsyncConnection[Any],
        ops: list[_Op],
        replies: list[tuple[asyncio.Future[Any], Any, BaseException | None]],
    ) -> None:
        """Apply ``ops`` in order, consecutive ops of one kind together."""
        gate_open: bool | None = None
        start = 0
        while start < len(ops):
            kind = ops[start][0]
            end = start + 1
            while end < len(ops) and ops[end][0] == kind:
                end += 1
            run = ops[start:end]
            if kind == "settle":
                await self._settle_all(conn, [op for op in run if op[0] == "settle"])
            elif kind == "release":
                params = [(self.namespace, *op[1:4]) for op in run if op[0] == "release"]
                async with conn.cursor() as cur:
                    await cur.executemany(_RELEASE_NEW_SQL, params)
                    await cur.executemany(_RELEASE_RECLAIMED_SQL, params)
            elif kind == "claim":
                claims = [op for op in run if op[0] == "claim"]
                if gate_open is None:
                    gate_open = await self._gate(conn)
                if gate_open:
                    await self._claim_all(conn, claims, replies)
                else:
                    stopped = JobStoppedError(f"job {self._job_id} is stopped: no new sends")
                    replies.extend((op[6], None, stopped) for op in claims)
            else:
                replies.extend((op[1], None, None) for op in run if op[0] == "flush")
            start = end

    async def _settle_all(self, conn: psycopg.AsyncConnection[Any], settles: list[_Settle]) -> None:
        # One statement for the group; a row may be updated once per statement, so an attempt
        # settled twice in one group keeps its last outcome.
        last = {(op[1], op[2], op[3]): op for op in settles}
        ops = list(last.values())
        await conn.execute(
            _SETTLE_SQL,
            {
                "ns": self.namespace,
                "keys": [op[1] for op in ops],
                "runs": [op[2] for op in ops],
                "idxs": [op[3] for op in ops],
                "statuses": [op[4] for op in ops],
                "results": [_json(op[5]) for op in ops],
                "errors": [_json(op[6]) for op in ops],
            },
        )

    async def _gate(self, conn: psycopg.AsyncConnection[Any]) -> bool:
        if self._job_id is None:
            return True
        cur = await conn.execute(_GATE_SQL, (self._job_id,))
        row = await cur.fetchone()
        return row is not None and row[0] == "running"

    async def _claim_all(
        self,
        conn: psycopg.AsyncConnection[Any],
        claims: list[_Claim],
        replies: list[tuple[asyncio.Future[Any], Any, BaseException | None]],
    ) -> None:
        # One statement per reclaim set (a run has one) and per key: a statement may not
        # touch a row twice, so a key repeated in the group waits for the next statement.
        pending = claims
        while pending:
            first: dict[str, _Claim] = {}
            later: list[_Claim] = []
            reclaim = pending[0][5]
            for op in pending:
                if op[5] != reclaim or op[1] in first:
                    later.append(op)
                else:
                    first[op[1]] = op
            batch = list(first.values())
            cur = await conn.execute(
                _CLAIM_SQL,
                {
                    "ns": self.namespace,
                    "keys": [op[1] for op in batch],
                    "runs": [op[2] for op in batch],
                    "idxs": [op[3] for op in batch],
                    "fps": [op[4] for op in batch],
                    "reclaim": sorted(reclaim),
                },
            )
            won = {row[0] for row in await cur.fetchall()}
            lost = [op[1] for op in batch if op[1] not in won]
            known: dict[str, JournalEntry] = {}
            if lost:
                cur = await conn.execute(_LOOKUP_SQL, (self.namespace, lost))
                known = {row[0]: self._entry(row) for row in await cur.fetchall()}
            for op in batch:
                if op[1] in won:
                    replies.append((op[6], None, None))
                else:
                    entry = known.get(op[1])
                    if entry is None:  # released by its owner meanwhile: try again
                        later.append(op)
                    else:
                        replies.append((op[6], entry, None))
            pending = later

    def _entry(self, row: tuple[Any, ...]) -> JournalEntry:
        key, status, run, idx, fingerprint, result, error = row
        return JournalEntry(
            key=key,
            status=status,
            run=run,
            index=int(idx) - self._offset,
            fingerprint=fingerprint,
            result=result,
            error=error,
        )


def _json(value: Mapping[str, Any] | None) -> Jsonb | None:
    return None if value is None else Jsonb(dict(value))


def _futures(ops: list[_Op]) -> list[asyncio.Future[Any]]:
    found: list[asyncio.Future[Any]] = []
    for op in ops:
        if op[0] == "claim":
            found.append(op[6])
        elif op[0] == "flush":
            found.append(op[1])
    return found
