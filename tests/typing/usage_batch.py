"""Typed usage of ``client.batch``; checked by ``mypy --strict``, never run."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import wacr_async as wacr
from wacr_async.batch import (
    ACCOUNT_ERRORS,
    ImportEntry,
    ImportReport,
    InteractiveMessage,
    Journal,
    MediaMessage,
    MessageSpec,
    Outcome,
    Progress,
    SendReport,
    SendRun,
    SQLiteJournal,
    TemplateMessage,
    TextMessage,
    spec_key,
)
from wacr_async.models.contacts import Contact, NewContact
from wacr_async.models.messages import Button, SentMessage


def specs() -> Iterator[MessageSpec]:
    yield TextMessage("+15550001111", "Hi", key="hi-1")
    yield TemplateMessage("+15550001112", "order_update", "en", fields=["A-17", "Friday"])
    yield MediaMessage("+15550001113", "image", url="https://example.com/a.png")
    yield MediaMessage("+15550001114", "document", file=Path("invoice.pdf"), caption="Invoice")
    yield InteractiveMessage("+15550001115", "Coming?", buttons=[Button("y", "Yes")])


async def async_specs() -> AsyncIterator[TextMessage]:
    yield TextMessage("+15550001111", "Hi")


async def sends(client: wacr.Client) -> None:
    def show(progress: Progress) -> None:
        total: int | None = progress.total
        print(progress.done, total, progress.counts["sent"], progress.elapsed)

    run: SendRun = client.batch.send_messages(
        specs(),
        concurrency=16,
        journal="job.sqlite",
        stop_on=(*ACCOUNT_ERRORS, wacr.ContactOptedOutError),
        on_progress=show,
        resend_unknown=False,
        keep=100,
    )
    async with run:
        async for outcome in run:
            o: Outcome = outcome
            index: int = o.index
            key: str | None = o.key
            result: SentMessage | None = o.result
            error: BaseException | None = o.error
            print(index, key, o.status, result, error)
    report: SendReport = await run.report()
    print(report.counts["failed"], report.ok, report.unread_from, report.stopped_by)
    failed: tuple[Outcome, ...] = report.failed
    print(failed, report.omitted, report.done)

    # Outcomes narrow on their status: a sent one has its result, a failed one its error.
    narrowed = client.batch.send_messages(
        specs(),
        share=0.8,
        preflight=True,
        max_consecutive_failures=20,
        max_connect_failures=5,
        on_mismatch="skip",
        grace=10.0,
    )
    async for outcome in narrowed:
        if outcome.status == "sent":
            message_id: str | None = outcome.result.message_id
            print(message_id)
        elif outcome.status in ("failed", "unknown"):
            cause: BaseException = outcome.error
            print(cause)
    narrowed.stop()
    narrowed.cancel()
    print(report.stop_reason)

    journal: Journal = SQLiteJournal("job.sqlite", synchronous="FULL")
    again = await client.batch.send_messages(async_specs(), journal=journal).report()
    print(again.cancelled, spec_key(TextMessage("+15550001111", "Hi")))


async def imports(client: wacr.Client) -> None:
    rows: list[NewContact | dict[str, object]] = [
        NewContact(
            firstname="Ada",
            lastname="L",
            phone="+15550001111",
            type="lead",
            source_id=1,
            status_id=1,
        ),
        {
            "firstname": "Bob",
            "lastname": "B",
            "phone": "+15550001112",
            "type": "lead",
            "source_id": 1,
            "status_id": 1,
        },
    ]
    report: ImportReport = await client.batch.create_contacts(
        rows, chunk_size=100, concurrency=4, skip_duplicates=True, continue_on_error=True
    )
    for entry in report.created:
        e: ImportEntry = entry
        contact_id: int | None = e.contact_id
        print(e.row, contact_id, e.errors, e.reason)
    print(report.counts["skipped"], report.ok)


async def mapping(client: wacr.Client, ids: list[int]) -> None:
    async for contact in client.batch.map(client.contacts.get, ids, concurrency=8):
        c: Contact = contact
        print(c.id)
    async for maybe in client.batch.map(
        client.contacts.get, ids, ordered=False, return_exceptions=True
    ):
        if isinstance(maybe, BaseException):
            print("failed", maybe)
        else:
            print(maybe.id)
