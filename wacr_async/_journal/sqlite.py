"""The embedded journal: one SQLite file, written by one dedicated thread, with group commit."""

from __future__ import annotations

import asyncio
import contextlib
import os
import queue
import sqlite3
import threading
from collections.abc import AsyncIterator, Callable, Collection, Mapping
from typing import Any

from ..errors import JournalError
from ._store import (
    Call,
    Claim,
    Op,
    Release,
    Reply,
    Settle,
    Stop,
    Synchronous,
    apply_group,
    connect,
    futures_of,
    page_reader,
)
from .protocol import EntryStatus, JournalEntry

__all__ = ["SQLiteJournal"]

# Operations applied in one transaction at most; more wait for the next one.
_MAX_GROUP = 2048


class SQLiteJournal:
    """A journal in one SQLite file, written by one dedicated thread.

    Calls made during one turn of the event loop are handed to that thread together and
    applied in one transaction (group commit, with ``executemany``): a claim returns once
    its transaction has committed, so concurrent claims share a commit instead of paying one
    each. ``settle`` does not wait for its commit (a crash before it loses nothing: the item
    stays in flight and a re-run reports it ``unknown``), but it is committed no later than
    the next claim made after it. ``flush`` waits for everything.

    Durability: the file uses WAL with ``synchronous="FULL"`` by default, so every group
    commit is synced to disk before its claims return: a claim survives a power loss or an
    OS crash, not only the process being killed, and a message is never resent because its
    claim was forgotten. ``synchronous="NORMAL"`` skips that sync (faster on slow disks; an
    OS crash may then forget the last claims, and a re-run resend their messages).

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
        synchronous: Synchronous = "FULL",
        max_unflushed: int = 10_000,
    ) -> None:
        if synchronous not in ("NORMAL", "FULL"):
            raise ValueError(f"synchronous must be 'NORMAL' or 'FULL', not {synchronous!r}")
        self._path = os.fspath(path)
        self._synchronous: Synchronous = synchronous
        self.max_unflushed = max_unflushed
        self._commands: queue.SimpleQueue[list[Op]] = queue.SimpleQueue()
        self._ops: list[Op] = []
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
        self,
        key: str,
        *,
        run: str,
        index: int,
        fingerprint: str,
        reclaim: Collection[EntryStatus],
    ) -> JournalEntry | None:
        future: asyncio.Future[JournalEntry | None] = self._future()
        self._add(Claim(key, run, index, fingerprint, frozenset(reclaim), future))
        return await future

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
        self._add(Settle(key, run, index, status, result, error))
        self._unflushed += 1
        if self._unflushed >= self.max_unflushed:
            await self.flush()

    async def release(self, key: str, *, run: str, index: int) -> None:
        self._check_usable()
        self._add(Release(key, run, index))

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
        self._commands.put([Stop()])
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

        def count(db: sqlite3.Connection) -> dict[str, int]:
            rows = db.execute("SELECT status, COUNT(*) FROM items GROUP BY status").fetchall()
            return {str(status): int(number) for status, number in rows}

        counts: dict[str, int] = await self._call(count)
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
            page: list[JournalEntry] = await self._call(page_reader(after, status, page_size))
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
        self._add(Call(fn, future))
        return future

    def _add(self, op: Op) -> None:
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
        """The journal thread: apply queued groups, one transaction each, until stopped."""
        db: sqlite3.Connection | None = None
        stopping = False
        while not stopping:
            ops = list(self._commands.get())
            while len(ops) < _MAX_GROUP:
                try:
                    ops.extend(self._commands.get_nowait())
                except queue.Empty:
                    break
            stopping = any(isinstance(op, Stop) for op in ops)
            replies: list[Reply] = []
            try:
                if db is None:
                    db = connect(self._path, self._synchronous)
                db.execute("BEGIN IMMEDIATE")
                apply_group(db, ops, replies)
                db.execute("COMMIT")
            except Exception as exc:
                replies = self._failed(db, ops, exc)
            if stopping and db is not None:
                with contextlib.suppress(Exception):  # the file is done with either way
                    db.close()
                db = None
            if replies and self._loop is not None:
                # A closed loop raises RuntimeError: nobody is waiting any more.
                with contextlib.suppress(RuntimeError):
                    self._loop.call_soon_threadsafe(_deliver, replies)

    def _failed(self, db: sqlite3.Connection | None, ops: list[Op], exc: Exception) -> list[Reply]:
        """A group failed: roll it back if possible, and fail every call waiting on it.

        A rollback that fails too (a closed or corrupt connection) must not end the thread
        with the futures unanswered: whatever happens, each gets the error."""
        cause: BaseException = exc
        if db is not None:
            try:
                if db.in_transaction:
                    db.execute("ROLLBACK")
            except Exception as rollback_error:
                rollback_error.__context__ = exc
                cause = rollback_error
        failure = JournalError(f"journal {self._path!r}: {exc}")
        failure.__cause__ = cause
        # From now on every call fails at once: a run must stop rather than guess.
        self._error = failure
        return [Reply(future, error=failure) for future in futures_of(ops)]


def _noop(db: sqlite3.Connection) -> None:
    return None


def _deliver(replies: list[Reply]) -> None:
    for reply in replies:
        reply.deliver()
