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

from .errors import JournalError

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


# What the loop hands the journal thread, in order: one list per loop iteration.
_Claim = tuple[Literal["claim"], str, str, int, frozenset[str], "asyncio.Future[Any]"]
_Settle = tuple[Literal["settle"], str, str, int, str, Any, Any]
_Release = tuple[Literal["release"], str, str, int]
_Call = tuple[Literal["call"], Callable[[sqlite3.Connection], Any], "asyncio.Future[Any] | None"]
_Op = _Claim | _Settle | _Release | _Call
_STOP: Any = object()

_SETTLE_SQL = (
    "UPDATE items SET status = ?, result = ?, error = ?, prior = NULL, updated = ? "
    "WHERE key = ? AND run = ? AND idx = ?"
)
_INSERT_SQL = "INSERT INTO items (key, status, run, idx, updated) VALUES (?, 'in_flight', ?, ?, ?)"
_RECLAIM_SQL = (
    "UPDATE items SET status = 'in_flight', run = ?, idx = ?, prior = ?, updated = ? WHERE key = ?"
)
# SQLite's limit on bound parameters is 999 in old builds: look keys up in slices.
_LOOKUP_SLICE = 500


class SQLiteJournal:
    """A journal in one SQLite file, written by one dedicated thread.

    Calls made during one turn of the event loop are handed to that thread together and
    applied in one transaction (group commit, with ``executemany``): a claim returns once
    its transaction has committed, so concurrent claims share a commit instead of paying one
    each. ``settle`` does not wait for its commit (a crash before it loses nothing: the item
    stays in flight and a re-run reports it ``unknown``), but it is committed no later than
    the next claim made after it, so a worker that settles an item and claims the next one
    has at most one item in flight in the journal. ``flush`` waits for everything.

    Durability: the file uses WAL with ``synchronous="NORMAL"`` by default. A commit then
    survives the process being killed (``kill -9``, OOM), but an OS crash or power loss may
    lose the last transactions, claims included, so an item sent just before it could be
    sent again by a re-run. ``synchronous="FULL"`` syncs every group commit to disk and
    closes that gap at the cost of one fsync per group.

    Example::

        journal = wacr.batch.SQLiteJournal("job.sqlite")
        run = client.batch.send_messages(specs, journal=journal)
        print(await run.report())
        print(await journal.counts())     # {"sent": 9990, "failed": 10}
    """

    __slots__ = (
        "_closed",
        "_commands",
        "_error",
        "_kick_scheduled",
        "_loop",
        "_opening",
        "_ops",
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
        self._commands: queue.SimpleQueue[list[_Op]] = queue.SimpleQueue()
        self._ops: list[_Op] = []
        self._kick_scheduled = False
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
            self._opening = self._call(_noop)
        await asyncio.shield(self._opening)

    async def claim(
        self, key: str, *, run: str, index: int, reclaim: Collection[EntryStatus]
    ) -> JournalEntry | None:
        future = self._future()
        self._add(("claim", key, run, index, frozenset(reclaim), future))
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
        self._add(("settle", key, run, index, status, result, error))
        self._unflushed += 1
        if self._unflushed >= self.max_unflushed:
            await self.flush()

    async def release(self, key: str, *, run: str, index: int) -> None:
        self._check_usable()
        self._add(("release", key, run, index))

    async def flush(self) -> None:
        self._unflushed = 0
        await self._call(_noop)

    async def aclose(self) -> None:
        """Flush, close the file and stop the thread. Safe to call more than once."""
        if self._closed:
            return
        if self._thread is None or self._loop is None:
            self._closed = True
            return
        # A journal that failed already said so: then just stop the thread.
        done = None if self._error is not None else self._call(_noop)
        self._closed = True
        self._kick()
        self._commands.put([("call", _STOP, None)])
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

        counts: dict[str, int] = await self._call(op)
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
            page: list[JournalEntry] = await self._call(_page_reader(after, status, page_size))
            for entry in page:
                yield entry
            if len(page) < page_size:
                return
            after = page[-1].key

    # -- handing work to the thread --------------------------------------------------------

    def _future(self) -> asyncio.Future[Any]:
        self._check_usable()
        assert self._loop is not None
        return self._loop.create_future()

    def _call(self, fn: Callable[[sqlite3.Connection], Any]) -> asyncio.Future[Any]:
        future = self._future()
        self._add(("call", fn, future))
        return future

    def _add(self, op: _Op) -> None:
        self._ops.append(op)
        if not self._kick_scheduled:
            # Everything asked for until the loop comes round goes over in one batch.
            self._kick_scheduled = True
            assert self._loop is not None
            self._loop.call_soon(self._kick)

    def _kick(self) -> None:
        self._kick_scheduled = False
        if self._ops:
            ops, self._ops = self._ops, []
            self._commands.put(ops)

    def _check_usable(self) -> None:
        if self._closed:
            raise JournalError(f"{self!r} is closed")
        if self._error is not None:
            raise JournalError(f"{self!r} failed earlier: {self._error}") from self._error
        if self._loop is None:
            raise JournalError(f"{self!r} is not open; await journal.open() first")

    # -- the thread ------------------------------------------------------------------------

    def _serve(self) -> None:
        """The journal thread: apply queued batches, a group per transaction, until stopped."""
        db: sqlite3.Connection | None = None
        stopping = False
        while not stopping:
            ops = list(self._commands.get())
            while len(ops) < _MAX_GROUP:
                try:
                    ops.extend(self._commands.get_nowait())
                except queue.Empty:
                    break
            stopping = any(op[0] == "call" and op[1] is _STOP for op in ops)
            replies: list[tuple[asyncio.Future[Any], Any, BaseException | None]] = []
            try:
                if db is None:
                    db = _connect(self._path, self._synchronous)
                db.execute("BEGIN IMMEDIATE")
                _apply(db, ops, replies)
                db.execute("COMMIT")
            except Exception as exc:
                if db is not None and db.in_transaction:
                    db.execute("ROLLBACK")
                failure = JournalError(f"journal {self._path!r}: {exc}")
                failure.__cause__ = exc
                # From now on every call fails at once: a run must stop rather than guess.
                self._error = failure
                replies = [(future, None, failure) for future in _futures(ops)]
            if stopping and db is not None:
                db.close()
                db = None
            if replies and self._loop is not None:
                # A closed loop raises RuntimeError: nobody is waiting any more.
                with contextlib.suppress(RuntimeError):
                    self._loop.call_soon_threadsafe(_deliver, replies)


def _futures(ops: list[_Op]) -> list[asyncio.Future[Any]]:
    found: list[asyncio.Future[Any]] = []
    for op in ops:
        if op[0] == "claim":
            found.append(op[5])
        elif op[0] == "call" and op[2] is not None:
            found.append(op[2])
    return found


def _apply(
    db: sqlite3.Connection,
    ops: list[_Op],
    replies: list[tuple[asyncio.Future[Any], Any, BaseException | None]],
) -> None:
    """Apply ``ops`` in order, consecutive ops of one kind together."""
    now = time.time()
    start = 0
    while start < len(ops):
        kind = ops[start][0]
        end = start + 1
        while end < len(ops) and ops[end][0] == kind and kind != "call":
            end += 1
        run = ops[start:end]
        if kind == "settle":
            db.executemany(
                _SETTLE_SQL,
                [
                    (op[4], _dumps(op[5]), _dumps(op[6]), now, op[1], op[2], op[3])
                    for op in run
                    if op[0] == "settle"
                ],
            )
        elif kind == "claim":
            _claim_all(db, [op for op in run if op[0] == "claim"], now, replies)
        elif kind == "release":
            for op in run:
                if op[0] == "release":
                    _release(db, op[1], op[2], op[3], now)
        else:
            op = run[0]
            if op[0] == "call" and op[1] is not _STOP:
                value = op[1](db)
                if op[2] is not None:
                    replies.append((op[2], value, None))
        start = end


def _claim_all(
    db: sqlite3.Connection,
    claims: list[_Claim],
    now: float,
    replies: list[tuple[asyncio.Future[Any], Any, BaseException | None]],
) -> None:
    keys = list(dict.fromkeys(op[1] for op in claims))
    known: dict[str, tuple[Any, ...]] = {}
    for first in range(0, len(keys), _LOOKUP_SLICE):
        part = keys[first : first + _LOOKUP_SLICE]
        marks = ",".join("?" * len(part))
        for row in db.execute(
            f"SELECT key, status, run, idx, result, error FROM items WHERE key IN ({marks})",
            part,
        ):
            known[row[0]] = row
    inserts: list[tuple[Any, ...]] = []
    reclaims: list[tuple[Any, ...]] = []
    for _, key, run, index, reclaim, future in claims:
        row = known.get(key)
        if row is None:
            inserts.append((key, run, index, now))
        elif row[1] in reclaim and row[2] != run:
            reclaims.append((run, index, row[1], now, key))
        else:
            replies.append((future, _entry(*row), None))
            continue
        # Later claims of the same key in this batch see this one.
        known[key] = (key, "in_flight", run, index, None, None)
        replies.append((future, None, None))
    if inserts:
        db.executemany(_INSERT_SQL, inserts)
    if reclaims:
        db.executemany(_RECLAIM_SQL, reclaims)


def _release(db: sqlite3.Connection, key: str, run: str, index: int, now: float) -> None:
    row = db.execute(
        "SELECT status, prior FROM items WHERE key = ? AND run = ? AND idx = ?", (key, run, index)
    ).fetchone()
    if row is None or row[0] != "in_flight":
        return
    if row[1] is None:
        db.execute("DELETE FROM items WHERE key = ?", (key,))
    else:
        db.execute(
            "UPDATE items SET status = prior, prior = NULL, updated = ? WHERE key = ?", (now, key)
        )


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
