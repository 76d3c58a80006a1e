"""Ending a bulk run well: run.stop() and its grace period, fail fast on streaks of the same
failure, the template preflight, and a run dropped without being closed."""

from __future__ import annotations

import asyncio
import gc
import logging
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

import wacr_async as wacr
from wacr_async._pacing import Lane, NoLimiter, Priority
from wacr_async.batch import SQLiteJournal, TemplateMessage, TextMessage
from wacr_async.testing import Sandbox, no_wait

if TYPE_CHECKING:
    from .conftest import Eventually

TEMPLATE_SENDS = "POST /messages/template"


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with Sandbox() as sandbox:
        yield sandbox


@pytest.fixture
async def client(sandbox: Sandbox) -> AsyncIterator[wacr.Client]:
    async with sandbox.client() as client:
        yield client


def orders(
    count: int, template: str = "order_update", fields: int = 2
) -> Iterator[TemplateMessage]:
    for n in range(count):
        values = [f"A-{n}", "Friday"][:fields]
        yield TemplateMessage(f"+1555{n:07d}", template, "en", fields=values)


def texts(count: int) -> list[TextMessage]:
    return [TextMessage(f"+1444{n:07d}", f"Hello {n}") for n in range(count)]


# -- preflight -------------------------------------------------------------------------------


async def test_a_misspelt_template_is_refused_by_the_preflight_with_nothing_sent(
    sandbox: Sandbox, client: wacr.Client
) -> None:
    run = client.batch.send_messages(orders(2000, "order_updte"))
    with pytest.raises(wacr.PreflightError, match="'order_updte'") as caught:
        await run.report()

    assert "did you mean 'order_update'" in str(caught.value)
    assert sandbox.hits[TEMPLATE_SENDS] == 0
    assert sandbox.sends == []
    assert any("unread" in note or "not read" in note for note in caught.value.__notes__)


async def test_the_preflight_lists_every_misfit_in_one_error(
    sandbox: Sandbox, client: wacr.Client
) -> None:
    specs = [
        *orders(3, fields=1),  # order_update takes two body fields
        TemplateMessage("+15550009999", "summer_sale", "en", fields=["10%"]),  # PENDING
        TemplateMessage("+15550009998", "order_update", "fr", fields=["A", "B"]),
    ]
    with pytest.raises(wacr.PreflightError) as caught:
        await client.batch.send_messages(specs).report()

    problems = caught.value.problems
    assert len(problems) == 3, problems
    assert "takes 2 body fields" in problems[0]
    assert "PENDING" in problems[1]
    assert "no 'fr' version" in problems[2]
    assert sandbox.hits[TEMPLATE_SENDS] == 0


async def test_a_preflight_without_the_templates_scope_warns_and_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with (
        Sandbox(tokens={"send-only": {"messages:send"}}) as sandbox,
        wacr.Client(token="send-only", base_url=sandbox.url) as client,
    ):
        with caplog.at_level(logging.WARNING, logger="wacr_async"):
            report = await client.batch.send_messages(orders(5)).report()
    assert report.counts["sent"] == 5
    assert "preflight skipped" in caplog.text


async def test_preflight_false_sends_without_asking(sandbox: Sandbox, client: wacr.Client) -> None:
    report = await client.batch.send_messages(orders(3), preflight=False).report()
    assert report.counts["sent"] == 3
    assert sandbox.hits["GET /templates"] == 0


# -- fail fast -------------------------------------------------------------------------------


async def test_a_streak_of_the_same_failure_stops_the_run(
    sandbox: Sandbox, client: wacr.Client
) -> None:
    run = client.batch.send_messages(orders(500, "order_updte"), preflight=False, concurrency=1)
    report = await run.report()

    assert report.counts["failed"] == 20
    assert sandbox.hits[TEMPLATE_SENDS] == 20
    assert report.stop_reason is not None
    assert "20 items in a row failed with NOT_FOUND" in report.stop_reason
    assert isinstance(report.stopped_by, wacr.NotFoundError)
    assert report.unread_from == 20
    assert "stopped: 20 items in a row" in str(report)


async def test_failures_between_successes_never_stop_the_run(
    sandbox: Sandbox, client: wacr.Client
) -> None:
    specs = texts(40)
    for spec in specs[::2]:
        sandbox.fail_sends_to(spec.phone)
    report = await client.batch.send_messages(
        specs, concurrency=1, max_consecutive_failures=2
    ).report()
    assert (report.counts["sent"], report.counts["failed"]) == (20, 20)
    assert report.stop_reason is None


async def test_an_unreachable_host_stops_the_run_after_five_items() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with wacr.Client(token="t", base_url=f"http://127.0.0.1:{port}/api/v2") as client:
        with no_wait():
            run = client.batch.send_messages(orders(600), concurrency=1)
            async with asyncio.timeout(30):  # a hang guard, not a timing assertion
                report = await run.report()

    assert report.counts["failed"] == 5
    assert report.stop_reason is not None
    assert "5 items in a row could not connect" in report.stop_reason
    assert isinstance(report.stopped_by, wacr.APIConnectionError)
    assert report.unread_from == 5


# -- stop, grace, cancel ---------------------------------------------------------------------


async def test_stop_lets_the_requests_in_flight_finish_and_records_them(
    tmp_path: Path, eventually: Eventually
) -> None:
    path = tmp_path / "job.sqlite"
    async with Sandbox(latency=(0.3, 0.0)) as sandbox, sandbox.client() as client:
        run = client.batch.send_messages(texts(200), concurrency=4, journal=path)
        reading = asyncio.ensure_future(run.report())
        await eventually(lambda: sandbox.hits["POST /messages/text"] >= 4)
        run.stop()
        async with asyncio.timeout(10):
            report = await reading
        performed = len(sandbox.sends)

    assert report.counts["unknown"] == 0
    assert report.counts["sent"] == performed >= 4
    assert report.stop_reason == "stopped by run.stop()"
    assert not report.cancelled
    journal = SQLiteJournal(path)
    await journal.open()
    try:
        assert await journal.counts() == {"sent": performed}
    finally:
        await journal.aclose()


async def test_what_is_still_in_flight_when_the_grace_period_ends_is_unknown(
    tmp_path: Path, eventually: Eventually
) -> None:
    path = tmp_path / "job.sqlite"
    async with Sandbox(latency=(5.0, 0.0)) as sandbox, sandbox.client() as client:
        run = client.batch.send_messages(texts(50), concurrency=3, journal=path, grace=0.2)
        reading = asyncio.ensure_future(run.report())
        await eventually(lambda: sandbox.hits["POST /messages/text"] >= 3)
        run.stop()
        async with asyncio.timeout(3):  # a hang guard: the answers would take 5 s
            report = await reading

    assert report.counts["unknown"] == 3
    assert all("grace period" in str(o.error) for o in report.unknown)
    journal = SQLiteJournal(path)
    await journal.open()
    try:
        assert await journal.counts() == {"unknown": 3}
    finally:
        await journal.aclose()


async def test_a_run_dropped_while_going_warns_and_is_cancelled_on_the_loop(
    sandbox: Sandbox, client: wacr.Client, eventually: Eventually
) -> None:
    before = len(asyncio.all_tasks())
    run = client.batch.send_messages(texts(1000), concurrency=4)
    await anext(run)
    assert len(asyncio.all_tasks()) > before
    only_reference = [run]
    del run
    with pytest.warns(ResourceWarning, match="dropped while running"):
        only_reference.clear()  # the handle dies here, its tasks still going
    gc.collect()
    await eventually(lambda: len(asyncio.all_tasks()) == before)
    assert len(sandbox.sends) < 1000


# -- pacing ----------------------------------------------------------------------------------


class RecordingLimiter(NoLimiter):
    """No pacing; remembers the lanes asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.lanes: list[Lane] = []

    def lane(self, *, priority: Priority = "normal", share: float | None = None) -> Lane:
        made = super().lane(priority=priority, share=share)
        self.lanes.append(made)
        return made


async def test_a_run_paces_on_a_low_priority_lane_capped_at_its_share(sandbox: Sandbox) -> None:
    limiter = RecordingLimiter()
    async with wacr.Client(token=sandbox.token, base_url=sandbox.url, rate_limiter=limiter) as c:
        report = await c.batch.send_messages(texts(3), share=0.5).report()
        with pytest.raises(ValueError, match="share"):
            c.batch.send_messages(texts(3), share=1.5)
    assert report.counts["sent"] == 3
    assert [(lane.priority, lane.share) for lane in limiter.lanes[1:]] == [("low", 0.5)]
