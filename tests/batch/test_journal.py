"""The SQLite journal: claims, settles, releases, group commits, and what survives a reopen."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

import pytest

from wacr_async.batch import Journal, JournalError, SQLiteJournal


@pytest.fixture
async def journal(tmp_path: Path) -> SQLiteJournal:
    journal = SQLiteJournal(tmp_path / "job.sqlite")
    await journal.open()
    yield journal  # type: ignore[misc]  # an async generator fixture
    await journal.aclose()


def test_sqlite_journal_satisfies_the_protocol(tmp_path: Path) -> None:
    assert isinstance(SQLiteJournal(tmp_path / "j.sqlite"), Journal)


async def test_claim_then_settle_then_a_later_run_sees_the_entry(journal: SQLiteJournal) -> None:
    assert await journal.claim("k1", run="r1", index=0, fingerprint="f", reclaim={"failed"}) is None
    await journal.settle(
        "k1", run="r1", index=0, status="sent", result={"message_id": "wamid.1"}, error=None
    )
    await journal.flush()

    entry = await journal.claim("k1", run="r2", index=5, fingerprint="f", reclaim={"failed"})
    assert entry is not None
    assert (entry.status, entry.run, entry.index) == ("sent", "r1", 0)
    assert entry.result == {"message_id": "wamid.1"}
    assert await journal.counts() == {"sent": 1}


async def test_failed_items_are_reclaimed_by_another_run_but_not_by_the_same_run(
    journal: SQLiteJournal,
) -> None:
    await journal.claim("k", run="r1", index=0, fingerprint="f", reclaim={"failed"})
    await journal.settle(
        "k", run="r1", index=0, status="failed", result=None, error={"message": "no"}
    )
    # The same key later in the same run is a duplicate, not a retry.
    again = await journal.claim("k", run="r1", index=9, fingerprint="f", reclaim={"failed"})
    assert again is not None
    assert again.status == "failed"
    # Another run takes it over.
    assert await journal.claim("k", run="r2", index=0, fingerprint="f", reclaim={"failed"}) is None
    assert await journal.counts() == {"in_flight": 1}


async def test_unknown_and_in_flight_items_are_reclaimed_only_when_asked(
    journal: SQLiteJournal,
) -> None:
    await journal.claim("left", run="r1", index=0, fingerprint="f", reclaim=())
    await journal.claim("lost", run="r1", index=1, fingerprint="f", reclaim=())
    await journal.settle("lost", run="r1", index=1, status="unknown", result=None, error=None)

    for key, status in (("left", "in_flight"), ("lost", "unknown")):
        entry = await journal.claim(key, run="r2", index=0, fingerprint="f", reclaim={"failed"})
        assert entry is not None
        assert entry.status == status
    assert (
        await journal.claim("left", run="r2", index=0, fingerprint="f", reclaim={"in_flight"})
        is None
    )
    assert (
        await journal.claim("lost", run="r2", index=1, fingerprint="f", reclaim={"unknown"}) is None
    )


async def test_release_undoes_a_claim_and_restores_what_was_there(
    journal: SQLiteJournal,
) -> None:
    await journal.claim("new", run="r1", index=0, fingerprint="f", reclaim=())
    await journal.release("new", run="r1", index=0)
    await journal.claim("old", run="r1", index=1, fingerprint="f", reclaim=())
    await journal.settle("old", run="r1", index=1, status="unknown", result=None, error=None)
    await journal.claim("old", run="r2", index=1, fingerprint="f", reclaim={"unknown"})
    await journal.release("old", run="r2", index=1)
    # A release by an attempt that does not hold the claim changes nothing.
    await journal.claim("held", run="r2", index=2, fingerprint="f", reclaim=())
    await journal.release("held", run="r2", index=3)
    await journal.flush()

    entries = {entry.key: entry.status async for entry in journal.entries()}
    assert entries == {"old": "unknown", "held": "in_flight"}


async def test_everything_survives_closing_and_reopening(tmp_path: Path) -> None:
    path = tmp_path / "job.sqlite"
    first = SQLiteJournal(path)
    await first.open()
    for n in range(30):
        await first.claim(f"k{n}", run="r1", index=n, fingerprint="f", reclaim=())
    for n in range(20):
        await first.settle(f"k{n}", run="r1", index=n, status="sent", result={"n": n}, error=None)
    await first.aclose()

    second = SQLiteJournal(path)
    await second.open()
    try:
        assert await second.counts() == {"sent": 20, "in_flight": 10}
        sent = [entry async for entry in second.entries(status="sent", page_size=7)]
        assert sorted(entry.result["n"] for entry in sent if entry.result) == list(range(20))
    finally:
        await second.aclose()


async def test_a_claim_is_committed_when_it_returns(tmp_path: Path) -> None:
    path = tmp_path / "job.sqlite"
    journal = SQLiteJournal(path)
    await journal.open()
    try:
        await journal.claim("k", run="r1", index=0, fingerprint="f", reclaim=())
        # Another connection (another process, after a crash) already sees it.
        with sqlite3.connect(path) as other:
            rows = other.execute("SELECT key, status FROM items").fetchall()
        assert rows == [("k", "in_flight")]
    finally:
        await journal.aclose()


async def test_concurrent_claims_share_transactions_and_run_off_the_loop(
    journal: SQLiteJournal,
) -> None:
    loop_thread = threading.get_ident()
    seen_threads: set[int] = set()

    def where(db: sqlite3.Connection) -> None:
        seen_threads.add(threading.get_ident())

    await journal._call(where)
    results = await asyncio.gather(
        *(journal.claim(f"k{n}", run="r", index=n, fingerprint="f", reclaim=()) for n in range(500))
    )
    assert results == [None] * 500
    assert await journal.counts() == {"in_flight": 500}
    assert seen_threads
    assert loop_thread not in seen_threads


async def test_a_closed_journal_refuses_work(tmp_path: Path) -> None:
    journal = SQLiteJournal(tmp_path / "j.sqlite")
    await journal.open()
    await journal.aclose()
    await journal.aclose()  # twice is fine
    with pytest.raises(JournalError, match="closed"):
        await journal.claim("k", run="r", index=0, fingerprint="f", reclaim=())


async def test_an_unusable_file_fails_open_with_a_journal_error(tmp_path: Path) -> None:
    journal = SQLiteJournal(tmp_path)  # a directory
    with pytest.raises(JournalError):
        await journal.open()
    await journal.aclose()


def test_synchronous_must_be_a_known_mode(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="synchronous"):
        SQLiteJournal(tmp_path / "j.sqlite", synchronous="OFF")  # type: ignore[arg-type]  # the point


async def test_claims_are_synced_to_disk_by_default(journal: SQLiteJournal) -> None:
    # synchronous=FULL (2): every group commit is fsynced before its claims return, so a
    # power loss cannot forget a claim whose message then went out.
    def mode(db: sqlite3.Connection) -> int:
        return int(db.execute("PRAGMA synchronous").fetchone()[0])

    assert await journal._call(mode) == 2


async def test_a_failing_rollback_fails_the_waiting_calls_instead_of_hanging_them(
    journal: SQLiteJournal,
) -> None:
    # Closing the connection inside a group makes its COMMIT fail, and the ROLLBACK after it.
    def close(db: sqlite3.Connection) -> None:
        db.close()

    closing = journal._call(close)
    claim = asyncio.ensure_future(journal.claim("k", run="r", index=0, fingerprint="f", reclaim=()))
    async with asyncio.timeout(10):  # a hang guard: before the fix, these never answered
        with pytest.raises(JournalError):
            await closing
        with pytest.raises(JournalError):
            await claim
    with pytest.raises(JournalError, match="failed earlier"):
        await journal.claim("k2", run="r", index=1, fingerprint="f", reclaim=())
