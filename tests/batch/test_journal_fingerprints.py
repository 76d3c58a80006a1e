"""Journal v2: every claim records what the message was, and a re-run that would send another
message under a journalled key stops (or resends, or skips, as asked) instead of skipping it."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import attrs
import pytest

import wacr_async as wacr
from wacr_async.batch import SQLiteJournal, TemplateMessage, TextMessage, fingerprint_of
from wacr_async.testing import Sandbox

TEMPLATE = TemplateMessage(
    "+15550001111", "order_update", "en", fields=["A-17", "Friday"], key="order-A-17"
)


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with Sandbox() as sandbox:
        yield sandbox


@pytest.fixture
async def client(sandbox: Sandbox) -> AsyncIterator[wacr.Client]:
    async with sandbox.client() as client:
        yield client


def orders(template: str = "order_update", count: int = 5) -> list[TemplateMessage]:
    return [
        TemplateMessage(
            f"+1555000{n:04d}", template, "en", fields=[f"A-{n}", "5"], key=f"order-{n}"
        )
        for n in range(count)
    ]


def test_the_fingerprint_is_pinned_and_the_same_in_another_process() -> None:
    # Changing it would make every re-run of an existing journal a mismatch: pin the value.
    expected = "11b559abb09519cd762e2c8cc541d3ff096e559d81c3c28ab6312b5522256ba2"
    code = (
        "from wacr_async.batch import TemplateMessage, fingerprint_of\n"
        "print(fingerprint_of(TemplateMessage('+15550001111', 'order_update', 'en',"
        " fields=['A-17', 'Friday'])))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "4242"}
    child = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert child.stdout.strip() == fingerprint_of(TEMPLATE)
    assert fingerprint_of(TEMPLATE) == expected


def test_the_fingerprint_reads_kind_phone_digits_and_content_not_the_key() -> None:
    same = {
        fingerprint_of(TEMPLATE),
        fingerprint_of(attrs.evolve(TEMPLATE, key="another-key")),
        fingerprint_of(attrs.evolve(TEMPLATE, phone="+1 (555) 000-1111")),
    }
    assert len(same) == 1
    different = {
        fingerprint_of(TEMPLATE),
        fingerprint_of(attrs.evolve(TEMPLATE, template_name="order_updte")),
        fingerprint_of(attrs.evolve(TEMPLATE, fields=["A-18", "Friday"])),
        fingerprint_of(attrs.evolve(TEMPLATE, phone="+15550001112")),
        fingerprint_of(TextMessage("+15550001111", "order_update")),
    }
    assert len(different) == 5


async def test_claims_record_the_fingerprint(client: wacr.Client, tmp_path: Path) -> None:
    path = tmp_path / "job.sqlite"
    await client.batch.send_messages(orders(), journal=path).report()
    journal = SQLiteJournal(path)
    await journal.open()
    try:
        entries = {entry.key: entry async for entry in journal.entries()}
    finally:
        await journal.aclose()
    assert {key: entry.fingerprint for key, entry in entries.items()} == {
        spec.key: fingerprint_of(spec) for spec in orders()
    }


async def test_a_rerun_with_another_message_under_a_key_stops_before_sending(
    sandbox: Sandbox, client: wacr.Client, tmp_path: Path
) -> None:
    path = tmp_path / "job.sqlite"
    assert (await client.batch.send_messages(orders(), journal=path).report()).counts["sent"] == 5

    run = client.batch.send_messages(orders("login_code"), concurrency=1, journal=path)
    with pytest.raises(wacr.JournalMismatchError, match="order-0") as caught:
        await run.report()

    assert caught.value.key == "order-0"
    assert caught.value.index == 0
    assert isinstance(caught.value, wacr.JournalError)
    assert len(sandbox.sends) == 5  # nothing of the second run went out
    assert any("stopped by JournalMismatchError" in note for note in caught.value.__notes__)


async def test_on_mismatch_skip_and_resend(
    sandbox: Sandbox, client: wacr.Client, tmp_path: Path
) -> None:
    path = tmp_path / "job.sqlite"
    await client.batch.send_messages(orders(count=3), journal=path).report()

    skipped = await client.batch.send_messages(
        orders("login_code", count=3), journal=path, on_mismatch="skip"
    ).report()
    assert skipped.counts["skipped"] == 3
    assert len(sandbox.sends) == 3

    resent = await client.batch.send_messages(
        orders("login_code", count=3), journal=path, on_mismatch="resend"
    ).report()
    assert resent.counts["sent"] == 3
    assert [s.payload["template"] for s in sandbox.sends][3:] == ["login_code"] * 3

    # The journal now holds the new messages: the same input again is simply skipped.
    again = client.batch.send_messages(orders("login_code", count=3), journal=path)
    assert (await again.report()).counts["skipped"] == 3


async def test_a_journal_written_before_fingerprints_is_upgraded_and_trusted(
    sandbox: Sandbox, client: wacr.Client, tmp_path: Path
) -> None:
    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as old:
        old.execute(
            "CREATE TABLE items (key TEXT PRIMARY KEY, status TEXT NOT NULL, run TEXT NOT NULL,"
            " idx INTEGER NOT NULL, prior TEXT, result TEXT, error TEXT, updated REAL NOT NULL)"
            " WITHOUT ROWID"
        )
        old.execute("INSERT INTO items VALUES ('order-0', 'sent', 'r0', 0, NULL, NULL, NULL, 0)")
        old.execute("PRAGMA user_version = 1")

    report = await client.batch.send_messages(orders(count=2), journal=path).report()
    assert (report.counts["skipped"], report.counts["sent"]) == (1, 1)
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 2
        rows = dict(db.execute("SELECT key, fingerprint FROM items").fetchall())
    assert rows == {"order-0": None, "order-1": fingerprint_of(orders(count=2)[1])}
