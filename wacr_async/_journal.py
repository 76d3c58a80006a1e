"""The journal of a bulk send: which items are in flight, sent, failed or of unknown outcome.

A run *claims* an item before its request leaves (the claim is durable when ``claim``
returns), then *settles* it with its outcome. A later run of the same job reads the claims
back: what was sent is skipped, and an item left ``in_flight`` by a crash is reported as
``unknown`` instead of being sent twice.

:class:`Journal` is the small interface a run needs, so that a store shared by several
machines can stand in for :class:`SQLiteJournal`, the embedded default. A shared store must
make ``claim`` atomic (one winner per key across all machines).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import queue
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Callable, Collection, Mapping
from typing import Any, Literal, Protocol, TypeAlias, runtime_checkable

import attrs

from .errors import WacrError

__all__ = [
    "EntryStatus",
    "Journal",
    "JournalEntry",
    "JournalError",
    "SQLiteJournal",
]

EntryStatus: TypeAlias = Literal["in_flight", "sent", "failed", "unknown"]

_SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    key     TEXT PRIMARY KEY,
    status  TEXT NOT NULL,
    run     TEXT NOT NULL,
    idx     INTEGER NOT NULL,
    prior   TEXT,
    result  TEXT,
    error   TEXT,
    updated REAL NOT NULL
) WITHOUT ROWID
"""
# Commands executed in one transaction at most; more wait for the next one.
_MAX_GROUP = 2048


class JournalError(WacrError):
    """The journal could not be read or written; the run stops rather than risk resending."""


@attrs.frozen(kw_only=True, slots=True)
class JournalEntry:
    """One item as the journal knows it.

    ``run`` and ``index`` name the attempt that last claimed it; ``result`` is the JSON of
    the send's answer (``sent``), ``error`` a description of the failure
    (``{"type", "message", "status", "code"}``).
    """

    key: str
    status: EntryStatus
    run: str
    index: int
    result: Mapping[str, Any] | None = None
    error: Mapping[str, Any] | None = None


@runtime_checkable
class Journal(Protocol):
    """What a bulk send needs from a journal.

    Example (a store of your own)::

        class RedisJournal:
            async def open(self) -> None: ...
            async def claim(self, key, *, run, index, reclaim): ...   # atomic, durable
            async def settle(self, key, *, run, index, status, result, error): ...
            async def release(self, key, *, run, index): ...
            async def flush(self) -> None: ...
            async def aclose(self) -> None: ...

        run = client.batch.send_messages(specs, journal=RedisJournal())
    """

    async def open(self) -> None:
        """Get ready; called by every run that uses the journal (so: idempotent)."""

    async def claim(
        self, key: str, *, run: str, index: int, reclaim: Collection[EntryStatus]
    ) -> JournalEntry | None:
        """Mark ``key`` in flight for attempt ``(run, index)``, durably, and return None.

        If ``key`` is already known, take it over only when its status is in ``reclaim``
        and it was claimed by another run; otherwise change nothing and return the entry.
        """

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
        """Record the outcome of attempt ``(run, index)``; durable once ``flush`` returns."""

    async def release(self, key: str, *, run: str, index: int) -> None:
        """Undo the claim of attempt ``(run, index)``: its request never left."""

    async def flush(self) -> None:
        """Return once everything recorded so far is durable."""

    async def aclose(self) -> None:
        """Flush and let go of resources."""


# A command for the journal thread: what to run, and the future waiting for its result.
_Command: TypeAlias = tuple[Callable[[sqlite3.Connection], Any], "asyncio.Future[Any] | None"]
_STOP: Any = object()


class SQLiteJournal:
    """A journal in one SQLite file, written by one dedicated thread.

    Every call is queued to that thread, which runs whatever has queued up in one
    transaction (group commit): a claim returns once its transaction has committed, so
    concurrent claims share a commit instead of paying one each. ``settle`` does not wait
    for its commit (a crash before it loses nothing: the item stays in flight and a re-run
    reports it ``unknown``); ``flush`` waits for all of them.

    Durability: the file uses WAL with ``synchronous="NORMAL"`` by default. A commit then
    survives the process being killed (``kill -9``, OOM), but an OS crash or power loss may
    lose the last transactions, claims included, so an item sent just before it could be
    sent again by a re-run. ``synchronous="FULL"`` syncs every group commit to disk and
    closes that gap at the cost of one fsync per group.

    Example::

        journal = wacr.SQLiteJournal("job.sqlite")
        run = client.batch.send_messages(specs, journal=journal)
        print(await run.report())
        print(await journal.counts())     # {"sent": 9990, "failed": 10}
    """

    __slots__ = (
        "_closed",
        "_commands",
        "_error",
        "_loop",
        "_opening",
        "_path",
        "_synchronous",
        "_thread",
        "_unflushed",
        "max_unflushed",
    )

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        synchronous: Literal["NORMAL", "FULL"] = "NORMAL",
        max_unflushed: int = 10_000,
    ) -> None:
        if synchronous not in ("NORMAL", "FULL"):
            raise ValueError(f"synchronous must be 'NORMAL' or 'FULL', not {synchronous!r}")
        self._path = os.fspath(path)
        self._synchronous = synchronous
        self.max_unflushed = max_unflushed
        self._commands: queue.SimpleQueue[_Command] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._opening: asyncio.Future[None] | None = None
        self._error: BaseException | None = None
        self._unflushed = 0
        self._closed = False

    def __repr__(self) -> str:
        return f"SQLiteJournal({self._path!r})"

    @property
    def path(self) -> str:
        return self._path

    # -- the Journal interface -------------------------------------------------------------

    async def open(self) -> None:
        if self._closed:
            raise JournalError(f"{self!r} is closed")
        if self._opening is None:
            self._loop = asyncio.get_running_loop()
            self._thread = threading.Thread(
                target=self._serve, name=f"wacr-journal:{self._path}", daemon=True
            )
            self._thread.start()
            # The thread connects (and creates the table) before running its first group.
            self._opening = self._submit(_noop)
        await asyncio.shield(self._opening)

    async def claim(
        self, key: str, *, run: str, index: int, reclaim: Collection[EntryStatus]
    ) -> JournalEntry | None:
        reclaimable = frozenset(reclaim)

        def op(db: sqlite3.Connection) -> JournalEntry | None:
            row = db.execute(
                "SELECT status, run, idx, result, error FROM items WHERE key = ?", (key,)
            ).fetchone()
            now = time.time()
            if row is None:
                db.execute(
                    "INSERT INTO items (key, status, run, idx, updated) "
                    "VALUES (?, 'in_flight', ?, ?, ?)",
                    (key, run, index, now),
                )
                return None
            status, entry_run, entry_index, result, error = row
            if status in reclaimable and entry_run != run:
                db.execute(
                    "UPDATE items SET status = 'in_flight', run = ?, idx = ?, prior = ?, "
                    "updated = ? WHERE key = ?",
                    (run, index, status, now, key),
                )
                return None
            return _entry(key, status, entry_run, entry_index, result, error)

        result: JournalEntry | None = await self._submit(op)
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
        def op(db: sqlite3.Connection) -> None:
            db.execute(
                "UPDATE items SET status = ?, result = ?, error = ?, prior = NULL, updated = ? "
                "WHERE key = ? AND run = ? AND idx = ?",
                (status, _dumps(result), _dumps(error), time.time(), key, run, index),
            )

        self._post(op)
        self._unflushed += 1
        if self._unflushed >= self.max_unflushed:
            await self.flush()

    async def release(self, key: str, *, run: str, index: int) -> None:
        def op(db: sqlite3.Connection) -> None:
            row = db.execute(
                "SELECT status, prior FROM items WHERE key = ? AND run = ? AND idx = ?",
                (key, run, index),
            ).fetchone()
            if row is None or row[0] != "in_flight":
                return
            if row[1] is None:
                db.execute("DELETE FROM items WHERE key = ?", (key,))
            else:
                db.execute(
                    "UPDATE items SET status = prior, prior = NULL, updated = ? WHERE key = ?",
                    (time.time(), key),
                )

        self._post(op)

    async def flush(self) -> None:
        self._unflushed = 0
        await self._submit(_noop)

    async def aclose(self) -> None:
        """Flush, close the file and stop the thread. Safe to call more than once."""
        if self._closed:
            return
        self._closed = True
        if self._thread is None or self._loop is None:
            return
        # A journal that failed already said so: then just stop the thread.
        done: asyncio.Future[None] | None = None
        if self._error is None:
            done = self._loop.create_future()
            self._commands.put((_noop, done))
        self._commands.put((_STOP, None))
        try:
            if done is not None:
                await done
        finally:
            await asyncio.to_thread(self._thread.join)

    # -- reading the journal ---------------------------------------------------------------

    async def counts(self) -> dict[str, int]:
        """How many items the journal holds, by status.

        Example::

            await journal.counts()      # {"sent": 9990, "failed": 7, "unknown": 3}
        """

        def op(db: sqlite3.Connection) -> dict[str, int]:
            rows = db.execute("SELECT status, COUNT(*) FROM items GROUP BY status").fetchall()
            return {str(status): int(count) for status, count in rows}

        counts: dict[str, int] = await self._submit(op)
        return counts

    async def entries(
        self, *, status: EntryStatus | None = None, page_size: int = 1000
    ) -> AsyncIterator[JournalEntry]:
        """Every item of the journal (or those with ``status``), in key order, a page at a time.

        Example::

            async for entry in journal.entries(status="unknown"):
                print(entry.key, entry.index, entry.error)
        """
        after = ""
        while True:
            page = await self._submit(_page_reader(after, status, page_size))
            for entry in page:
                yield entry
            if len(page) < page_size:
                return
            after = page[-1].key

    # -- the thread ------------------------------------------------------------------------

    def _submit(self, op: Callable[[sqlite3.Connection], Any]) -> asyncio.Future[Any]:
        self._check_usable()
        assert self._loop is not None
        future: asyncio.Future[Any] = self._loop.create_future()
        self._commands.put((op, future))
        return future

    def _post(self, op: Callable[[sqlite3.Connection], Any]) -> None:
        self._check_usable()
        self._commands.put((op, None))

    def _check_usable(self) -> None:
        if self._closed:
            raise JournalError(f"{self!r} is closed")
        if self._error is not None:
            raise JournalError(f"{self!r} failed earlier: {self._error}") from self._error
        if self._loop is None:
            raise JournalError(f"{self!r} is not open; await journal.open() first")

    def _serve(self) -> None:
        """The journal thread: run queued commands a group per transaction until stopped."""
        db: sqlite3.Connection | None = None
        stopping = False
        while not stopping:
            group = [self._commands.get()]
            while len(group) < _MAX_GROUP:
                try:
                    group.append(self._commands.get_nowait())
                except queue.Empty:
                    break
            stopping = any(op is _STOP for op, _ in group)
            replies: list[tuple[asyncio.Future[Any], Any, BaseException | None]] = []
            try:
                if db is None:
                    db = _connect(self._path, self._synchronous)
                db.execute("BEGIN IMMEDIATE")
                for op, future in group:
                    if op is _STOP:
                        continue
                    value = op(db)
                    if future is not None:
                        replies.append((future, value, None))
                db.execute("COMMIT")
            except Exception as exc:
                if db is not None and db.in_transaction:
                    db.execute("ROLLBACK")
                failure = JournalError(f"journal {self._path!r}: {exc}")
                failure.__cause__ = exc
                # From now on every call fails at once: a run must stop rather than guess.
                self._error = failure
                replies = [(future, None, failure) for _, future in group if future is not None]
            if stopping and db is not None:
                db.close()
                db = None
            if replies and self._loop is not None:
                # A closed loop raises RuntimeError: nobody is waiting any more.
                with contextlib.suppress(RuntimeError):
                    self._loop.call_soon_threadsafe(_deliver, replies)


def _noop(db: sqlite3.Connection) -> None:
    return None


def _connect(path: str, synchronous: str) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None, timeout=30.0)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute(f"PRAGMA synchronous = {synchronous}")
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version not in (0, _SCHEMA_VERSION):
        db.close()
        raise JournalError(f"{path!r} is a journal of an unknown version ({version})")
    db.execute(_SCHEMA)
    db.execute(f"PRAGMA user_version = {_SCHEMA_VERSION}")
    return db


def _deliver(replies: list[tuple[asyncio.Future[Any], Any, BaseException | None]]) -> None:
    for future, value, error in replies:
        if future.done():  # the waiter was cancelled; the work is done all the same
            continue
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(value)


def _dumps(value: Mapping[str, Any] | None) -> str | None:
    return None if value is None else json.dumps(value, separators=(",", ":"), default=str)


def _loads(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def _entry(
    key: str, status: str, run: str, index: int, result: str | None, error: str | None
) -> JournalEntry:
    return JournalEntry(
        key=key,
        status=status,  # type: ignore[arg-type]  # the column only ever holds EntryStatus values
        run=run,
        index=index,
        result=_loads(result),
        error=_loads(error),
    )


def _page_reader(
    after: str, status: EntryStatus | None, size: int
) -> Callable[[sqlite3.Connection], list[JournalEntry]]:
    def op(db: sqlite3.Connection) -> list[JournalEntry]:
        sql = "SELECT key, status, run, idx, result, error FROM items WHERE key > ?"
        params: tuple[Any, ...] = (after,)
        if status is not None:
            sql += " AND status = ?"
            params += (status,)
        rows = db.execute(sql + " ORDER BY key LIMIT ?", (*params, size)).fetchall()
        return [_entry(*row) for row in rows]

    return op
