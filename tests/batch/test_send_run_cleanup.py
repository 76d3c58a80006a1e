"""``client.batch.send_messages``: whatever ends a run, nothing of it is left running.

No task, no journal thread, no further send once the caller has left: breaking out of an
``async for`` without ``async with``, or a journal that fails when it is flushed at the end.
"""

from __future__ import annotations

import asyncio
import gc
import sqlite3
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

import wacr_async as wacr
from wacr_async.batch import JournalError, SQLiteJournal, TextMessage
from wacr_async.testing import Sandbox

if TYPE_CHECKING:
    from .conftest import Eventually


def texts(count: int) -> Iterator[TextMessage]:
    return (TextMessage(f"+1555{n:07d}", f"Hello number {n}") for n in range(count))


def journal_threads(path: Path) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == f"wacr-journal:{path}"]


def run_tasks() -> list[asyncio.Task[object]]:
    """The tasks of send runs (driver and workers) still alive on this loop."""
    return [
        task
        for task in asyncio.all_tasks()
        if getattr(task.get_coro(), "__qualname__", "").startswith("SendRun.")
    ]


async def journal_counts(path: Path) -> dict[str, int]:
    journal = SQLiteJournal(path)
    await journal.open()
    try:
        return await journal.counts()
    finally:
        await journal.aclose()


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with Sandbox() as sandbox:
        yield sandbox


@pytest.fixture
async def client(sandbox: Sandbox) -> AsyncIterator[wacr.Client]:
    async with sandbox.client() as client:
        yield client


# -- leaving an ``async for`` early ----------------------------------------------------------


async def test_breaking_out_of_async_for_cancels_the_run(
    sandbox: Sandbox, client: wacr.Client, tmp_path: Path
) -> None:
    path = tmp_path / "job.sqlite"
    run = client.batch.send_messages(texts(1000), concurrency=4, journal=path)
    seen = 0
    async for _ in run:
        seen += 1
        if seen == 3:
            break
    async with asyncio.timeout(10):
        report = await run.report()

    assert report.cancelled
    assert report.done < 30
    assert report.unread_from == report.done
    # Sends on the wire when the loop was left may or may not have been performed.
    assert report.counts["sent"] <= len(sandbox.sends)
    assert len(sandbox.sends) <= report.counts["sent"] + report.counts["unknown"]
    assert not journal_threads(path)
    assert run_tasks() == []
    # The journal agrees with the report: nothing left in flight, nothing sent twice later.
    counts = await journal_counts(path)
    assert counts.get("sent", 0) == report.counts["sent"]
    assert counts.get("unknown", 0) == report.counts["unknown"]
    assert set(counts) <= {"sent", "unknown"}


async def test_breaking_out_of_a_run_nobody_holds_stops_it_promptly(
    sandbox: Sandbox, client: wacr.Client, tmp_path: Path, eventually: Eventually
) -> None:
    path = tmp_path / "job.sqlite"
    seen = 0
    async for _ in client.batch.send_messages(texts(1000), concurrency=4, journal=path):
        seen += 1
        if seen == 3:
            break
    gc.collect()

    # Nobody awaits the wind-down, yet it ends: no task, no journal thread left behind.
    await eventually(lambda: not run_tasks() and not journal_threads(path))
    sends = len(sandbox.sends)
    await asyncio.sleep(0.2)
    assert len(sandbox.sends) == sends  # no send after the consumer left
    # Those read, those waiting to be read (at most 16 here), one on the wire per worker.
    assert sends <= seen + 16 + 4
    counts = await journal_counts(path)
    assert counts.get("sent", 0) <= sends
    assert set(counts) <= {"sent", "unknown"}


async def test_an_error_raised_in_the_loop_body_cancels_the_run(
    sandbox: Sandbox, client: wacr.Client, eventually: Eventually
) -> None:
    run = client.batch.send_messages(texts(1000), concurrency=4)
    with pytest.raises(LookupError):
        async for outcome in run:
            if outcome.index >= 2:
                raise LookupError("the caller's own error")
    async with asyncio.timeout(10):
        report = await run.report()

    assert report.cancelled
    assert report.done < 30
    assert run_tasks() == []


async def test_awaiting_the_report_before_leaving_the_loop_lets_the_run_finish(
    sandbox: Sandbox, client: wacr.Client
) -> None:
    run = client.batch.send_messages(texts(40), concurrency=4)
    async with asyncio.timeout(30):
        async for _ in run:
            report = await run.report()
            break

    assert not report.cancelled
    assert report.counts["sent"] == 40
    assert len(sandbox.sends) == 40
    assert (await run.report()) is report


async def test_an_iterator_never_used_does_not_cancel_the_run(
    sandbox: Sandbox, client: wacr.Client
) -> None:
    run = client.batch.send_messages(texts(5))
    del_me = aiter(run)
    del del_me
    gc.collect()
    report = await run.report()
    assert not report.cancelled
    assert report.counts["sent"] == 5


async def test_anext_on_the_run_itself_does_not_cancel_between_calls(
    sandbox: Sandbox, client: wacr.Client
) -> None:
    run = client.batch.send_messages(texts(5))
    first = await anext(run)
    assert first.status == "sent"
    report = await run.report()
    assert not report.cancelled
    assert report.counts["sent"] == 5


# -- a journal that fails at the end ---------------------------------------------------------


async def test_a_journal_that_fails_to_open_is_closed_all_the_same(
    sandbox: Sandbox, client: wacr.Client, tmp_path: Path
) -> None:
    path = tmp_path / "job.sqlite"
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version = 7")  # a journal of some unknown future version
    db.commit()
    db.close()

    run = client.batch.send_messages(texts(3), journal=path)
    with pytest.raises(JournalError, match="unknown version"):
        await run.report()

    assert sandbox.sends == []
    assert not journal_threads(path)


async def test_a_journal_whose_final_flush_fails_is_closed_and_the_error_raised(
    sandbox: Sandbox, client: wacr.Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    closed: list[SQLiteJournal] = []
    real_aclose = SQLiteJournal.aclose

    async def failing_flush(self: SQLiteJournal) -> None:
        raise JournalError("disk full")

    async def tracked_aclose(self: SQLiteJournal) -> None:
        closed.append(self)
        await real_aclose(self)

    monkeypatch.setattr(SQLiteJournal, "flush", failing_flush)
    monkeypatch.setattr(SQLiteJournal, "aclose", tracked_aclose)
    path = tmp_path / "job.sqlite"
    run = client.batch.send_messages(texts(3), journal=path)
    with pytest.raises(JournalError, match="disk full") as caught:
        await run.report()

    assert any("sent 3" in note for note in caught.value.__notes__)
    assert len(closed) == 1
    assert not journal_threads(path)
    monkeypatch.undo()
    # What was settled before the failed flush is there all the same (the close commits it).
    assert await journal_counts(path) == {"sent": 3}
