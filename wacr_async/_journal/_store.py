"""The SQLite side of :class:`~wacr_async.batch.SQLiteJournal`: what the journal thread runs.

The loop hands the thread lists of *operations* (small named records); the thread applies
everything queued in one transaction (group commit) and sends the replies back to the loop.
Nothing here touches the event loop except through the replies it returns.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import Callable, Collection, Mapping
from typing import Any, Literal, TypeAlias

import attrs

from ..errors import JournalError
from .protocol import ENTRY_STATUSES, EntryStatus, JournalEntry

__all__ = [
    "Call",
    "Claim",
    "Op",
    "Release",
    "Reply",
    "Settle",
    "Stop",
    "apply_group",
    "connect",
    "futures_of",
    "page_reader",
]

Synchronous: TypeAlias = Literal["NORMAL", "FULL"]

SCHEMA_VERSION = 2
_SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    key         TEXT PRIMARY KEY,
    status      TEXT NOT NULL,
    run         TEXT NOT NULL,
    idx         INTEGER NOT NULL,
    prior       TEXT,
    result      TEXT,
    error       TEXT,
    updated     REAL NOT NULL,
    fingerprint TEXT
) WITHOUT ROWID
"""
_COLUMNS = "key, status, run, idx, fingerprint, result, error"
_SETTLE_SQL = (
    "UPDATE items SET status = ?, result = ?, error = ?, prior = NULL, updated = ? "
    "WHERE key = ? AND run = ? AND idx = ?"
)
_INSERT_SQL = (
    "INSERT INTO items (key, status, run, idx, fingerprint, updated) "
    "VALUES (?, 'in_flight', ?, ?, ?, ?)"
)
_RECLAIM_SQL = (
    "UPDATE items SET status = 'in_flight', run = ?, idx = ?, fingerprint = ?, prior = ?, "
    "updated = ? WHERE key = ?"
)
# SQLite's limit on bound parameters is 999 in old builds: look keys up in slices.
_LOOKUP_SLICE = 500


@attrs.frozen(slots=True)
class Claim:
    key: str
    run: str
    index: int
    fingerprint: str
    reclaim: frozenset[EntryStatus]
    reply: asyncio.Future[JournalEntry | None]


@attrs.frozen(slots=True)
class Settle:
    key: str
    run: str
    index: int
    status: EntryStatus
    result: Mapping[str, Any] | None
    error: Mapping[str, Any] | None


@attrs.frozen(slots=True)
class Release:
    key: str
    run: str
    index: int


@attrs.frozen(slots=True)
class Call:
    """Run ``fn`` on the connection inside the group's transaction; its value is the reply."""

    fn: Callable[[sqlite3.Connection], Any]
    reply: asyncio.Future[Any]


@attrs.frozen(slots=True)
class Stop:
    """Close the connection after this group and end the thread."""


Op: TypeAlias = Claim | Settle | Release | Call | Stop


@attrs.frozen(slots=True)
class Reply:
    """What the loop sets on a waiting future: a value, or an error."""

    future: asyncio.Future[Any]
    value: Any = None
    error: BaseException | None = None

    def deliver(self) -> None:
        if self.future.done():  # the waiter was cancelled; the work is done all the same
            return
        if self.error is not None:
            self.future.set_exception(self.error)
        else:
            self.future.set_result(self.value)


def futures_of(ops: Collection[Op]) -> list[asyncio.Future[Any]]:
    """Every future waiting on ``ops`` (to fail them all when their group fails)."""
    return [op.reply for op in ops if isinstance(op, Claim | Call)]


def connect(path: str, synchronous: Synchronous) -> sqlite3.Connection:
    """Open (creating or upgrading) the journal file."""
    db = sqlite3.connect(path, isolation_level=None, timeout=30.0)
    try:
        db.execute("PRAGMA journal_mode = WAL")
        db.execute(f"PRAGMA synchronous = {synchronous}")
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version not in (0, 1, SCHEMA_VERSION):
            raise JournalError(f"{path!r} is a journal of an unknown version ({version})")
        db.execute(_SCHEMA)
        if version == 1:  # written before fingerprints were recorded
            db.execute("ALTER TABLE items ADD COLUMN fingerprint TEXT")
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    except BaseException:
        db.close()
        raise
    return db


def apply_group(db: sqlite3.Connection, ops: list[Op], replies: list[Reply]) -> None:
    """Apply ``ops`` in order, consecutive ops of one kind together (inside a transaction)."""
    now = time.time()
    start = 0
    while start < len(ops):
        kind = type(ops[start])
        end = start + 1
        while end < len(ops) and type(ops[end]) is kind and kind is not Call:
            end += 1
        run = ops[start:end]
        if kind is Settle:
            db.executemany(
                _SETTLE_SQL,
                [
                    (op.status, _dumps(op.result), _dumps(op.error), now, op.key, op.run, op.index)
                    for op in run
                    if isinstance(op, Settle)
                ],
            )
        elif kind is Claim:
            _claim_all(db, [op for op in run if isinstance(op, Claim)], now, replies)
        elif kind is Release:
            for op in run:
                if isinstance(op, Release):
                    _release(db, op, now)
        else:
            for op in run:
                if isinstance(op, Call):
                    replies.append(Reply(op.reply, op.fn(db)))
        start = end


def _claim_all(
    db: sqlite3.Connection, claims: list[Claim], now: float, replies: list[Reply]
) -> None:
    keys = list(dict.fromkeys(claim.key for claim in claims))
    known: dict[str, JournalEntry] = {}
    for first in range(0, len(keys), _LOOKUP_SLICE):
        part = keys[first : first + _LOOKUP_SLICE]
        marks = ",".join("?" * len(part))
        for row in db.execute(f"SELECT {_COLUMNS} FROM items WHERE key IN ({marks})", part):
            entry = _entry(row)
            known[entry.key] = entry
    inserts: list[tuple[Any, ...]] = []
    reclaims: list[tuple[Any, ...]] = []
    for claim in claims:
        found = known.get(claim.key)
        if found is None:
            inserts.append((claim.key, claim.run, claim.index, claim.fingerprint, now))
        elif found.status in claim.reclaim and found.run != claim.run:
            reclaims.append(
                (claim.run, claim.index, claim.fingerprint, found.status, now, claim.key)
            )
        else:
            replies.append(Reply(claim.reply, found))
            continue
        # Later claims of the same key in this group see this one.
        known[claim.key] = JournalEntry(
            key=claim.key,
            status="in_flight",
            run=claim.run,
            index=claim.index,
            fingerprint=claim.fingerprint,
        )
        replies.append(Reply(claim.reply, None))
    if inserts:
        db.executemany(_INSERT_SQL, inserts)
    if reclaims:
        db.executemany(_RECLAIM_SQL, reclaims)


def _release(db: sqlite3.Connection, op: Release, now: float) -> None:
    row = db.execute(
        "SELECT status, prior FROM items WHERE key = ? AND run = ? AND idx = ?",
        (op.key, op.run, op.index),
    ).fetchone()
    if row is None or row[0] != "in_flight":
        return
    if row[1] is None:
        db.execute("DELETE FROM items WHERE key = ?", (op.key,))
    else:
        db.execute(
            "UPDATE items SET status = prior, prior = NULL, updated = ? WHERE key = ?",
            (now, op.key),
        )


def page_reader(
    after: str, status: EntryStatus | None, size: int
) -> Callable[[sqlite3.Connection], list[JournalEntry]]:
    """A :class:`Call` function reading one page of entries in key order."""

    def read(db: sqlite3.Connection) -> list[JournalEntry]:
        sql = f"SELECT {_COLUMNS} FROM items WHERE key > ?"
        params: tuple[Any, ...] = (after,)
        if status is not None:
            sql += " AND status = ?"
            params += (status,)
        rows = db.execute(sql + " ORDER BY key LIMIT ?", (*params, size)).fetchall()
        return [_entry(row) for row in rows]

    return read


def _dumps(value: Mapping[str, Any] | None) -> str | None:
    return None if value is None else json.dumps(value, separators=(",", ":"), default=str)


def _loads(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def _status(value: str) -> EntryStatus:
    for status in ENTRY_STATUSES:
        if status == value:
            return status
    raise JournalError(f"the journal holds an unknown status {value!r}")


def _entry(row: tuple[Any, ...]) -> JournalEntry:
    key, status, run, index, fingerprint, result, error = row
    return JournalEntry(
        key=key,
        status=_status(status),
        run=run,
        index=index,
        fingerprint=fingerprint,
        result=_loads(result),
        error=_loads(error),
    )
