"""``client.batch.send_messages`` against the sandbox: outcomes, stops, journal, cancellation."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Collection, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

import wacr_async as wacr
from wacr_async.batch import (
    InteractiveMessage,
    JournalEntry,
    MediaMessage,
    Outcome,
    Progress,
    SendRun,
    SQLiteJournal,
    TemplateMessage,
    TextMessage,
)
from wacr_async.models.messages import Button, SentInteractive, SentMedia, SentTemplate, SentText
from wacr_async.testing import Sandbox

if TYPE_CHECKING:
    from .conftest import Eventually


def phone(n: int) -> str:
    return f"+1555{n:07d}"


def texts(count: int, start: int = 0) -> Iterator[TextMessage]:
    return (TextMessage(phone(n), f"Hello number {n}") for n in range(start, start + count))


async def collect(run: SendRun) -> list[Outcome]:
    async with asyncio.timeout(60):  # a guard against hangs, not a timing assertion
        return [outcome async for outcome in run]


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with Sandbox() as sandbox:
        yield sandbox


@pytest.fixture
async def client(sandbox: Sandbox) -> AsyncIterator[wacr.Client]:
    async with sandbox.client() as client:
        yield client


async def test_every_kind_of_spec_is_sent_with_its_result(
    sandbox: Sandbox, client: wacr.Client
) -> None:
    specs = [
        TextMessage(phone(1), "Hi", key="text"),
        TemplateMessage(phone(2), "order_update", "en", fields=["A-17", "Friday"], key="tpl"),
        MediaMessage(phone(3), "image", url="https://example.com/a.png", key="media"),
        InteractiveMessage(phone(4), "Coming?", buttons=[Button("y", "Yes")], key="ia"),
    ]
    outcomes = {o.key: o for o in await collect(client.batch.send_messages(specs))}

    assert {key: o.status for key, o in outcomes.items()} == dict.fromkeys(
        ["text", "tpl", "media", "ia"], "sent"
    )
    assert isinstance(outcomes["text"].result, SentText)
    assert isinstance(outcomes["tpl"].result, SentTemplate)
    assert isinstance(outcomes["media"].result, SentMedia)
    assert isinstance(outcomes["ia"].result, SentInteractive)
    assert outcomes["tpl"].spec is specs[1]
    assert sorted(s.kind for s in sandbox.sends) == ["interactive", "media", "template", "text"]


async def test_one_outcome_per_index_and_a_report_that_counts_them(
    sandbox: Sandbox, client: wacr.Client
) -> None:
    run = client.batch.send_messages(texts(60), concurrency=8)
    outcomes = await collect(run)
    report = await run.report()

    assert sorted(o.index for o in outcomes) == list(range(60))
    assert report.counts == {
        "sent": 60,
        "failed": 0,
        "skipped": 0,
        "unknown": 0,
        "not_attempted": 0,
    }
    assert report.ok
    assert report.done == 60
    assert report.unread_from is None
    assert len(sandbox.sends) == 60
    assert "sent 60" in str(report)


async def test_awaiting_the_report_alone_runs_the_whole_job(
    sandbox: Sandbox, client: wacr.Client
) -> None:
    report = await client.batch.send_messages(texts(25), concurrency=4).report()
    assert report.counts["sent"] == 25
    assert len(sandbox.sends) == 25


async def test_nothing_happens_until_the_run_is_iterated(
    sandbox: Sandbox, client: wacr.Client
) -> None:
    read: list[int] = []

    def specs() -> Iterator[TextMessage]:
        for n in range(3):
            read.append(n)
            yield TextMessage(phone(n), "Hi")

    run = client.batch.send_messages(specs())
    await asyncio.sleep(0.05)
    assert read == []
    assert sandbox.sends == []
    assert (await run.report()).counts["sent"] == 3


async def test_refused_sends_fail_and_the_rest_go_on(sandbox: Sandbox, client: wacr.Client) -> None:
    sandbox.add_contact(firstname="Opted", lastname="Out", phone=phone(3))
    sandbox.opt_out(phone(3))
    sandbox.fail_sends_to(phone(5))

    run = client.batch.send_messages(texts(10), concurrency=3)
    outcomes = {o.index: o for o in await collect(run)}
    report = await run.report()

    assert outcomes[3].status == "failed"
    assert isinstance(outcomes[3].error, wacr.ContactOptedOutError)
    # MESSAGE_SEND_FAILED says the send did not happen: a plain failure, safe to retry.
    assert outcomes[5].status == "failed"
    assert isinstance(outcomes[5].error, wacr.MessageSendFailedError)
    assert report.counts["sent"] == 8
    assert report.counts["failed"] == 2
    assert sorted(o.index for o in report.failed) == [3, 5]
    assert not report.ok
    assert report.stopped_by is None


async def test_a_lost_answer_is_unknown_and_never_sent_again(
    sandbox: Sandbox, client: wacr.Client
) -> None:
    sandbox.faults.add("POST /messages/text", drop_after=1.0, times=2)
    sandbox.faults.add("POST /messages/template", error_after=1.0, times=1)
    templates = (
        TemplateMessage(phone(n), "order_update", "en", fields=[str(n), "Friday"])
        for n in range(10, 20)
    )

    run = client.batch.send_messages([*texts(10), *templates], concurrency=1)
    outcomes = await collect(run)
    report = await run.report()

    unknown = [o for o in outcomes if o.status == "unknown"]
    assert len(unknown) == 3
    assert sum(isinstance(o.error, wacr.OutcomeUnknownError) for o in unknown) == 2
    assert sum(isinstance(o.error, wacr.InternalServerError) for o in unknown) == 1
    assert report.counts["sent"] == 17
    # The server performed all 20; none twice.
    assert len(sandbox.sends) == 20
    assert sandbox.duplicate_sends() == []


@pytest.mark.parametrize("detailed_auth", [False, True], ids=["UNAUTHORIZED", "TOKEN_REVOKED"])
async def test_an_account_level_error_stops_the_run(
    sandbox: Sandbox, client: wacr.Client, detailed_auth: bool
) -> None:
    sandbox.detailed_auth = detailed_auth

    def specs() -> Iterator[TextMessage]:
        for n in range(1000):
            if n == 10:
                sandbox.revoke_token(sandbox.token)  # the token is revoked mid-run
            yield TextMessage(phone(n), "Hi")

    run = client.batch.send_messages(specs(), concurrency=2)
    outcomes = await collect(run)
    report = await run.report()

    assert isinstance(report.stopped_by, wacr.AuthenticationError)
    assert report.unread_from is not None
    assert report.unread_from < 20  # the input was not drained
    assert sorted(o.index for o in outcomes) == list(range(report.unread_from))
    assert report.counts["sent"] == len(sandbox.sends) == 10
    assert all(isinstance(o.error, wacr.AuthenticationError) for o in report.failed)
    assert {o.error.code for o in report.failed if isinstance(o.error, wacr.APIError)} == {
        "TOKEN_REVOKED" if detailed_auth else "UNAUTHORIZED"
    }
    assert "stopped by AuthenticationError" in str(report)


async def test_sends_waiting_for_the_rate_limit_are_not_attempted_after_a_stop() -> None:
    # Three calls a minute: of four sends, at least one has to wait a minute for the next
    # window. WhatsApp is not configured, so the first answer stops the run.
    async with (
        Sandbox(rate_limit=3, whatsapp_configured=False) as sandbox,
        sandbox.client() as client,
    ):
        run = client.batch.send_messages(texts(10), concurrency=4)
        outcomes = await collect(run)
        report = await run.report()

    assert isinstance(report.stopped_by, wacr.WhatsAppNotConfiguredError)
    statuses = [o.status for o in outcomes]
    assert len(statuses) == report.unread_from == 4
    # Whether the client paced them or the server refused them, the sends that had to wait
    # for the window were let go at once.
    assert set(statuses) == {"failed", "not_attempted"}
    assert sandbox.sends == []


async def test_stop_on_adds_exception_types(sandbox: Sandbox, client: wacr.Client) -> None:
    sandbox.add_contact(firstname="Opted", lastname="Out", phone=phone(2))
    sandbox.opt_out(phone(2))
    stop_on = (*wacr.batch.ACCOUNT_ERRORS, wacr.ContactOptedOutError)

    report = await client.batch.send_messages(texts(50), concurrency=1, stop_on=stop_on).report()

    assert isinstance(report.stopped_by, wacr.ContactOptedOutError)
    assert report.counts["sent"] == 2
    assert report.counts["failed"] == 1
    assert report.unread_from == 3


async def test_a_journalled_job_resumes_without_resending(
    sandbox: Sandbox, client: wacr.Client, tmp_path: Path
) -> None:
    journal = tmp_path / "job.sqlite"
    first = await client.batch.send_messages(texts(30), journal=journal).report()
    assert first.counts["sent"] == 30

    run = client.batch.send_messages(texts(40), journal=journal)
    outcomes = {o.index: o for o in await collect(run)}
    second = await run.report()

    assert second.counts["skipped"] == 30
    assert second.counts["sent"] == 10
    skipped = outcomes[7]
    assert skipped.status == "skipped"
    assert isinstance(skipped.result, SentText)
    assert skipped.result.message_id == sandbox.sends_to(phone(7))[0].message_id
    assert len(sandbox.sends) == 40
    assert sandbox.duplicate_sends() == []


async def test_unknown_items_are_resent_only_when_asked(
    sandbox: Sandbox, client: wacr.Client, tmp_path: Path
) -> None:
    journal = tmp_path / "job.sqlite"
    sandbox.faults.add("POST /messages/text", drop_after=1.0, times=2)
    first = await client.batch.send_messages(texts(10), concurrency=1, journal=journal).report()
    assert first.counts["unknown"] == 2
    lost = {o.index for o in first.unknown}

    second_run = client.batch.send_messages(texts(10), journal=journal)
    second = {o.index: o for o in await collect(second_run)}
    assert {i for i, o in second.items() if o.status == "unknown"} == lost
    assert all("resend_unknown=True" in str(second[i].error) for i in lost)
    assert len(sandbox.sends) == 10

    third = await client.batch.send_messages(
        texts(10), journal=journal, resend_unknown=True
    ).report()
    assert third.counts == {
        "sent": 2,
        "failed": 0,
        "skipped": 8,
        "unknown": 0,
        "not_attempted": 0,
    }
    # Asked for, and so done: the two lost sends now went out twice.
    assert sorted({s.phone for s in sandbox.duplicate_sends()}) == sorted(
        phone(i).lstrip("+") for i in lost
    )


async def test_failed_items_are_tried_again_by_a_rerun(
    sandbox: Sandbox, client: wacr.Client, tmp_path: Path
) -> None:
    journal = tmp_path / "job.sqlite"
    sandbox.add_contact(firstname="Opted", lastname="Out", phone=phone(4))
    sandbox.opt_out(phone(4))
    first = await client.batch.send_messages(texts(6), journal=journal).report()
    assert first.counts["failed"] == 1

    sandbox.opt_out(phone(4), opted_out=False)
    second = await client.batch.send_messages(texts(6), journal=journal).report()
    assert second.counts["sent"] == 1
    assert second.counts["skipped"] == 5
    assert len(sandbox.sends_to(phone(4))) == 1


async def test_the_same_key_twice_in_one_input_is_sent_once(
    sandbox: Sandbox, client: wacr.Client, tmp_path: Path
) -> None:
    specs = [TextMessage(phone(n % 5), f"Hi {n % 5}") for n in range(15)]
    run = client.batch.send_messages(specs, concurrency=4, journal=tmp_path / "j.sqlite")
    report = await run.report()

    assert report.counts["sent"] == 5
    assert report.counts["skipped"] == 10
    assert len(sandbox.sends) == 5


async def test_cancelling_the_iterating_task_records_sends_in_flight_as_unknown(
    sandbox: Sandbox, client: wacr.Client, tmp_path: Path, eventually: Eventually
) -> None:
    sandbox.faults.add("POST /messages/text", latency=30.0)
    path = tmp_path / "job.sqlite"
    run = client.batch.send_messages(texts(100), concurrency=4, journal=path)

    async def consume() -> None:
        async for _ in run:
            pass

    task = asyncio.create_task(consume())
    await eventually(lambda: sandbox.hits["POST /messages/text"] >= 4)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    report = await run.report()

    assert report.cancelled
    assert report.counts["unknown"] == 4
    assert report.done == 4
    assert report.unread_from == 4
    journal = SQLiteJournal(path)
    await journal.open()
    try:
        assert await journal.counts() == {"unknown": 4}
    finally:
        await journal.aclose()


async def test_cancelled_sends_that_never_left_are_released_from_the_journal(
    tmp_path: Path, eventually: Eventually
) -> None:
    path = tmp_path / "job.sqlite"
    async with Sandbox(rate_limit=2) as sandbox, sandbox.client() as client:
        run = client.batch.send_messages(texts(10), concurrency=4, journal=path)
        task = asyncio.create_task(run.report())
        # Two sent; the others wait a minute for the next window.
        await eventually(lambda: len(sandbox.sends) >= 2)
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        report = await run.report()

    # Two sent; every other item read (the workers took new ones) waited for the window.
    assert report.counts["sent"] == 2
    assert report.counts["not_attempted"] == report.done - 2 >= 2
    assert report.unread_from == report.done
    journal = SQLiteJournal(path)
    await journal.open()
    try:
        assert await journal.counts() == {"sent": 2}
    finally:
        await journal.aclose()
    # Nothing was lost: a re-run sends exactly the eight others.
    async with Sandbox() as sandbox, sandbox.client() as client:
        rerun = await client.batch.send_messages(texts(10), journal=path).report()
    assert rerun.counts["skipped"] == 2
    assert rerun.counts["sent"] == 8


async def test_leaving_the_async_with_block_early_cancels_the_run(
    sandbox: Sandbox, client: wacr.Client
) -> None:
    async with client.batch.send_messages(texts(1000), concurrency=2) as run:
        async for outcome in run:
            if outcome.index >= 5:
                break
    report = await run.report()

    assert report.cancelled
    assert report.done < 1000
    # Sends on the wire when the block was left may or may not have been performed.
    assert report.counts["sent"] <= len(sandbox.sends)
    assert len(sandbox.sends) <= report.counts["sent"] + report.counts["unknown"]
    assert report.unread_from == report.done


async def test_the_input_is_read_lazily_with_a_bounded_number_ahead(client: wacr.Client) -> None:
    read = 0

    def specs() -> Iterator[TextMessage]:
        nonlocal read
        for n in range(500):
            read += 1
            yield TextMessage(phone(n), "Hi")

    concurrency = 4
    taken = 0
    async with client.batch.send_messages(specs(), concurrency=concurrency) as run:
        async for _ in run:
            taken += 1
            await asyncio.sleep(0.001)  # a slow reader
            # Read ahead: the items in flight plus the outcomes waiting to be read.
            assert read <= taken + concurrency + 16 + 1
    assert taken == read == 500


async def test_async_iterable_input(sandbox: Sandbox, client: wacr.Client) -> None:
    async def specs() -> AsyncIterator[TextMessage]:
        for n in range(30):
            await asyncio.sleep(0)
            yield TextMessage(phone(n), "Hi")

    report = await client.batch.send_messages(specs(), concurrency=5).report()
    assert report.counts["sent"] == 30
    assert report.total is None


async def test_an_error_raised_by_the_input_is_raised_after_the_run_winds_down(
    sandbox: Sandbox, client: wacr.Client
) -> None:
    def specs() -> Iterator[TextMessage]:
        yield from texts(5)
        raise KeyError("row 6 is broken")

    run = client.batch.send_messages(specs(), concurrency=2)
    with pytest.raises(KeyError, match="row 6"):
        await run.report()
    assert len(sandbox.sends) == 5
    with pytest.raises(KeyError):  # every later ask says the same
        await run.report()


async def test_items_that_are_not_specs_fail_without_a_request(
    sandbox: Sandbox, client: wacr.Client
) -> None:
    specs: list[Any] = [TextMessage(phone(1), "Hi"), {"phone": phone(2)}, TextMessage("12", "x")]
    run = client.batch.send_messages(specs)
    outcomes = {o.index: o for o in await collect(run)}

    assert outcomes[0].status == "sent"
    assert outcomes[1].status == "failed"
    assert isinstance(outcomes[1].error, TypeError)
    assert outcomes[2].status == "failed"  # a local check: the phone is too short
    assert isinstance(outcomes[2].error, wacr.ValidationError)
    assert outcomes[2].error.local
    assert sandbox.hits["POST /messages/text"] == 1


async def test_the_report_keeps_a_bounded_number_of_failures(
    sandbox: Sandbox, client: wacr.Client
) -> None:
    specs = [TextMessage(phone(n), "") for n in range(10)]  # empty text: refused locally
    report = await client.batch.send_messages(specs, keep=3).report()

    assert report.counts["failed"] == 10
    assert len(report.failed) == 3
    assert report.omitted == 7


async def test_progress_is_reported_and_ends_with_the_final_counts(client: wacr.Client) -> None:
    ticks: list[Progress] = []
    report = await client.batch.send_messages(
        list(texts(40)), on_progress=ticks.append, progress_interval=0.0
    ).report()

    assert ticks
    assert [t.done for t in ticks] == sorted(t.done for t in ticks)
    assert ticks[-1].done == 40
    assert ticks[-1].total == 40
    assert ticks[-1].counts == report.counts


async def test_an_error_in_on_progress_stops_the_run_and_is_raised(client: wacr.Client) -> None:
    def boom(progress: Progress) -> None:
        if progress.done >= 3:
            raise RuntimeError("dashboard down")

    with pytest.raises(RuntimeError, match="dashboard down"):
        await client.batch.send_messages(texts(200), on_progress=boom).report()


class FlakyJournal:
    """An in-memory journal whose claims start failing after a while."""

    def __init__(self, fail_after: int) -> None:
        self.fail_after = fail_after
        self.claims = 0
        self.entries: dict[str, str] = {}

    async def open(self) -> None:
        pass

    async def claim(
        self, key: str, *, run: str, index: int, fingerprint: str, reclaim: Collection[str]
    ) -> JournalEntry | None:
        self.claims += 1
        if self.claims > self.fail_after:
            raise wacr.batch.JournalError("disk full")
        self.entries[key] = "in_flight"
        return None

    async def settle(
        self,
        key: str,
        *,
        run: str,
        index: int,
        status: str,
        result: Mapping[str, Any] | None,
        error: Mapping[str, Any] | None,
    ) -> None:
        self.entries[key] = status

    async def release(self, key: str, *, run: str, index: int) -> None:
        self.entries.pop(key, None)

    async def flush(self) -> None:
        pass

    async def aclose(self) -> None:
        pass


async def test_a_broken_journal_stops_the_run(sandbox: Sandbox, client: wacr.Client) -> None:
    journal = FlakyJournal(fail_after=5)
    run = client.batch.send_messages(texts(100), concurrency=1, journal=journal)
    with pytest.raises(wacr.batch.JournalError, match="disk full") as caught:
        async for _ in run:
            pass

    # The summary travels with the error.
    assert any("sent 5, not_attempted 1" in note for note in caught.value.__notes__)
    assert len(sandbox.sends) == 5
    assert list(journal.entries.values()) == ["sent"] * 5


async def test_a_journal_that_cannot_be_opened_is_an_error_not_an_empty_report(
    sandbox: Sandbox, client: wacr.Client, tmp_path: Path
) -> None:
    run = client.batch.send_messages(texts(10), journal=tmp_path / "missing" / "job.sqlite")
    with pytest.raises(wacr.batch.JournalError):
        await run.report()
    assert sandbox.sends == []


def test_bad_arguments_are_refused_at_once(client: wacr.Client) -> None:
    with pytest.raises(ValueError, match="concurrency"):
        client.batch.send_messages([], concurrency=0)
    with pytest.raises(TypeError, match="stop_on"):
        client.batch.send_messages([], stop_on=["nope"])  # type: ignore[list-item]  # the point
    with pytest.raises(TypeError, match="iterable"):
        client.batch.send_messages(42)  # type: ignore[arg-type]  # the point

    async def progress(p: Progress) -> None:
        pass

    with pytest.raises(TypeError, match="on_progress"):
        client.batch.send_messages([], on_progress=progress)


async def test_an_empty_input_gives_an_empty_report(client: wacr.Client) -> None:
    run = client.batch.send_messages([])
    assert await collect(run) == []
    report = await run.report()
    assert report.done == 0
    assert report.ok


async def test_aclose_before_starting_does_nothing(client: wacr.Client) -> None:
    run = client.batch.send_messages(texts(3))
    await run.aclose()
    assert (await run.report()).counts["sent"] == 3
