"""``client.batch.create_contacts`` against the sandbox: chunks, row numbers, local checks."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

import wacr_async as wacr
from wacr_async.models.contacts import NewContact
from wacr_async.testing import Sandbox


def row(n: int, **changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "firstname": f"First{n}",
        "lastname": f"Last{n}",
        "phone": f"+1444{n:07d}",
        "type": "lead",
        "source_id": 1,
        "status_id": 1,
    }
    base.update(changes)
    return {key: value for key, value in base.items() if value is not None}


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with Sandbox() as sandbox:
        yield sandbox


@pytest.fixture
async def client(sandbox: Sandbox) -> AsyncIterator[wacr.Client]:
    async with sandbox.client() as client:
        yield client


async def stored_phones(client: wacr.Client) -> list[str]:
    """The phones of the contacts this test created (all start with +1444)."""
    return [
        c.phone async for c in client.contacts.list() if c.phone and c.phone.startswith("+1444")
    ]


async def test_rows_are_imported_in_chunks_and_mapped_back_to_their_row(
    sandbox: Sandbox, client: wacr.Client
) -> None:
    before = sandbox.hits["POST /contacts/batch"]
    report = await client.batch.create_contacts(
        (row(n) for n in range(250)), chunk_size=100, concurrency=2
    )

    assert sandbox.hits["POST /contacts/batch"] - before == 3
    assert [entry.row for entry in report.entries] == list(range(250))
    assert report.counts["created"] == 250
    assert report.ok
    for entry in report.entries[::37]:
        contact = await client.contacts.get(entry.contact_id or 0)
        assert contact.phone == row(entry.row)["phone"]


async def test_new_contact_values_and_dicts_mix(sandbox: Sandbox, client: wacr.Client) -> None:
    rows: list[NewContact | dict[str, Any]] = [
        NewContact(
            firstname="Ada",
            lastname="L",
            phone="+14440000001",
            type="lead",
            source_id=1,
            status_id=1,
        ),
        row(2),
    ]
    report = await client.batch.create_contacts(rows)
    assert [entry.status for entry in report.entries] == ["created", "created"]


async def test_rows_failing_local_checks_are_reported_and_not_sent(
    sandbox: Sandbox, client: wacr.Client
) -> None:
    rows = [
        row(0),
        row(1, firstname=None),
        row(2, type="vip"),
        row(3, email="not-an-email"),
        "a string",
        row(5, groups=[1]),
        row(6),
    ]
    report = await client.batch.create_contacts(rows, chunk_size=10)

    by_row = {entry.row: entry for entry in report.entries}
    assert [by_row[n].status for n in range(7)] == [
        "created",
        "failed",
        "failed",
        "failed",
        "failed",
        "failed",
        "created",
    ]
    assert "firstname" in by_row[1].errors
    assert "type" in by_row[2].errors
    assert "email" in by_row[3].errors
    assert "groups" in by_row[5].errors
    assert all(isinstance(by_row[n].error, wacr.ValidationError) for n in (1, 2, 3, 4, 5))
    assert sorted(await stored_phones(client)) == [row(0)["phone"], row(6)["phone"]]


async def test_duplicate_phones_in_the_input_are_caught_without_asking_the_server(
    sandbox: Sandbox, client: wacr.Client
) -> None:
    rows = [row(0), row(1), row(0, firstname="Again"), row(2, phone="1 444 000 0001")]
    skipped = await client.batch.create_contacts(rows, skip_duplicates=True)
    assert [e.status for e in skipped.entries] == ["created", "created", "skipped", "skipped"]
    assert skipped.entries[2].reason == "Duplicate phone (same as row 0)"

    failed = await client.batch.create_contacts([row(5), row(5)], skip_duplicates=False)
    assert [e.status for e in failed.entries] == ["created", "failed"]
    assert "phone" in failed.entries[1].errors


async def test_phones_the_account_has_are_skipped_by_the_server(
    sandbox: Sandbox, client: wacr.Client
) -> None:
    sandbox.add_contact(firstname="Old", lastname="Timer", phone=row(3)["phone"])
    report = await client.batch.create_contacts(
        (row(n) for n in range(6)), chunk_size=4, match_account=False
    )

    by_row = {entry.row: entry for entry in report.entries}
    assert by_row[3].status == "skipped"
    assert by_row[3].reason == "Duplicate phone"
    assert [by_row[n].status for n in (0, 1, 2, 4, 5)] == ["created"] * 5
    # Contact ids still line up with the rows around the skipped one.
    for n in (2, 4):
        contact = await client.contacts.get(by_row[n].contact_id or 0)
        assert contact.phone == row(n)["phone"]


async def test_a_chunk_whose_answer_is_lost_is_unknown_and_not_retried(
    sandbox: Sandbox, client: wacr.Client
) -> None:
    sandbox.faults.add("POST /contacts/batch", drop_after=1.0, times=1)
    report = await client.batch.create_contacts((row(n) for n in range(30)), chunk_size=10)

    assert report.counts["unknown"] == 10
    assert report.counts["created"] == 20
    assert all(isinstance(e.error, wacr.OutcomeUnknownError) for e in report.unknown)
    assert sandbox.hits["POST /contacts/batch"] == 3
    # The lost chunk was created all the same, once.
    phones = await stored_phones(client)
    assert len(phones) == len(set(phones)) == 30


async def test_an_account_level_error_stops_the_import(
    sandbox: Sandbox, client: wacr.Client
) -> None:
    def rows() -> Iterator[dict[str, Any]]:
        for n in range(10_000):
            if n == 25:
                sandbox.remove_token(sandbox.token)
            yield row(n)

    report = await client.batch.create_contacts(rows(), chunk_size=10, concurrency=1)

    assert isinstance(report.stopped_by, wacr.AuthenticationError)
    assert report.counts["created"] == 20
    assert report.unread_from is not None
    assert report.unread_from < 50
    assert len(report.entries) == report.unread_from
    assert not report.ok


async def test_continue_on_error_false_stops_at_the_first_failing_row(
    sandbox: Sandbox, client: wacr.Client
) -> None:
    rows = [row(n) for n in range(5)] + [row(5, lastname=None)] + [row(n) for n in range(6, 30)]
    report = await client.batch.create_contacts(
        rows, chunk_size=4, concurrency=1, continue_on_error=False
    )

    by_row = {entry.row: entry for entry in report.entries}
    assert [by_row[n].status for n in range(4)] == ["created"] * 4
    assert by_row[5].status == "failed"
    assert by_row[4].status == "not_attempted"  # read with row 5 into a chunk never sent
    assert isinstance(report.stopped_by, wacr.ValidationError)
    assert report.unread_from == 6
    assert len(await stored_phones(client)) == 4


async def test_async_rows_and_an_error_raised_by_them(
    sandbox: Sandbox, client: wacr.Client
) -> None:
    async def rows() -> AsyncIterator[dict[str, Any]]:
        for n in range(12):
            await asyncio.sleep(0)
            yield row(n)

    report = await client.batch.create_contacts(rows(), chunk_size=5, concurrency=3)
    assert report.counts["created"] == 12

    def broken() -> Iterator[dict[str, Any]]:
        yield row(100)
        raise OSError("the CSV file went away")

    with pytest.raises(OSError, match="CSV"):
        await client.batch.create_contacts(broken())


async def test_bad_arguments_are_refused(client: wacr.Client) -> None:
    with pytest.raises(ValueError, match="chunk_size"):
        await client.batch.create_contacts([], chunk_size=0)
    with pytest.raises(ValueError, match="concurrency"):
        await client.batch.create_contacts([], concurrency=0)
    empty = await client.batch.create_contacts([])
    assert empty.entries == ()
    assert empty.ok


async def test_rows_the_server_refuses_map_back_to_their_row(
    sandbox: Sandbox, client: wacr.Client
) -> None:
    # country_id is checked by the server only: row 7 is index 2 of the second chunk.
    rows = [row(n) for n in range(7)] + [row(7, country_id="abc")] + [row(8), row(9)]
    report = await client.batch.create_contacts(rows, chunk_size=5, concurrency=2)

    by_row = {entry.row: entry for entry in report.entries}
    assert by_row[7].status == "failed"
    assert "country_id" in by_row[7].errors
    assert [by_row[n].status for n in range(10) if n != 7] == ["created"] * 9
    contact = await client.contacts.get(by_row[8].contact_id or 0)
    assert contact.phone == row(8)["phone"]


async def test_a_chunk_the_server_rolls_back_stops_the_import(
    sandbox: Sandbox, client: wacr.Client
) -> None:
    rows = [row(n) for n in range(3)] + [row(3, country_id="abc")] + [row(n) for n in range(4, 20)]
    report = await client.batch.create_contacts(
        rows, chunk_size=5, concurrency=1, continue_on_error=False
    )

    by_row = {entry.row: entry for entry in report.entries}
    assert "country_id" in by_row[3].errors
    assert all(by_row[n].status == "failed" for n in range(5))
    assert by_row[0].reason == "rolled back with its chunk"
    assert isinstance(report.stopped_by, wacr.ValidationError)
    assert report.unread_from == 5
    assert await stored_phones(client) == []
