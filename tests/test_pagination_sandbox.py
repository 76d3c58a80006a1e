"""Pagination end to end: list methods against the sandbox over real sockets."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest
from aiohttp import web

import wacr_async as wacr
from wacr_async._retry import no_wait
from wacr_async.filters import between, gte, in_, is_null, lt, not_in
from wacr_async.testing import Sandbox

if TYPE_CHECKING:
    from tests.conftest import ScriptedServer


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with Sandbox() as sandbox:
        yield sandbox


@pytest.fixture
async def client(sandbox: Sandbox) -> AsyncIterator[wacr.Client]:
    async with sandbox.client() as client:
        yield client


def page_tasks() -> list[asyncio.Task[object]]:
    return [t for t in asyncio.all_tasks() if t.get_name().startswith("wacr-page-")]


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)
        if not page_tasks():
            return


@pytest.mark.parametrize(("count", "requests"), [(0, 1), (1, 1), (100, 2), (250, 5), (300, 6)])
async def test_every_contact_once_and_no_request_for_an_empty_page(
    sandbox: Sandbox, client: wacr.Client, count: int, requests: int
) -> None:
    ids = list(sandbox.seed_contacts(count))
    got = [c.id async for c in client.contacts.list(per_page=50, sort="id")]
    assert got == ids
    assert sandbox.hits["GET /contacts"] == requests


@pytest.mark.parametrize("concurrency", [2, 8])
async def test_concurrent_pages_come_back_in_order(
    sandbox: Sandbox, client: wacr.Client, concurrency: int
) -> None:
    sandbox.faults.add("GET /contacts", latency=0.001, jitter=0.01, seed=3)
    ids = list(sandbox.seed_contacts(1_000))
    pager = client.contacts.list(per_page=20, sort="id", concurrency=concurrency)
    assert [c.id async for c in pager] == ids
    assert sandbox.hits["GET /contacts"] == 50


async def test_pages_report_the_servers_totals(sandbox: Sandbox, client: wacr.Client) -> None:
    sandbox.seed_contacts(230)
    pages = [p async for p in client.contacts.list(per_page=100).pages()]
    assert [(p.page, len(p.items), p.has_more) for p in pages] == [
        (1, 100, True),
        (2, 100, True),
        (3, 30, False),
    ]
    assert {(p.total, p.total_pages, p.per_page) for p in pages} == {(230, 3, 100)}
    first = await client.contacts.list(per_page=10).first_page()
    assert (first.page, len(first.items), first.total) == (1, 10, 230)


async def test_collect_limit_fetches_only_the_pages_it_needs(
    sandbox: Sandbox, client: wacr.Client
) -> None:
    ids = list(sandbox.seed_contacts(1_000))
    got = await client.contacts.list(per_page=100, sort="id", concurrency=8).collect(limit=250)
    assert [c.id for c in got] == ids[:250]
    await settle()
    assert sandbox.hits["GET /contacts"] == 3


async def test_filters_sort_and_include_reach_the_server(
    sandbox: Sandbox, client: wacr.Client
) -> None:
    start = datetime(2025, 1, 1, tzinfo=UTC).timestamp()
    sandbox.seed_contacts(90, start=start, spacing=86_400)  # one contact a day from 1 January
    rows = list(sandbox.state.contacts)

    async def ids(**kwargs: object) -> list[int]:
        return [c.id async for c in client.contacts.list(per_page=7, **kwargs)]  # type: ignore[arg-type]  # keyword pass-through

    assert await ids(sort="id", filter={"type": "lead"}) == [
        r["id"] for r in rows if r["type"] == "lead"
    ]
    assert await ids(sort="id", filter={"status_id": in_([1, 2])}) == [
        r["id"] for r in rows if r["status_id"] in (1, 2)
    ]
    assert await ids(sort="id", filter={"status_id": not_in([1, 2])}) == [
        r["id"] for r in rows if r["status_id"] not in (1, 2)
    ]
    assert await ids(sort="id", filter={"assigned_id": is_null(True)}) == [
        r["id"] for r in rows if r["assigned_id"] is None
    ]
    january = [r["id"] for r in rows if r["created_at"].startswith("2025-01")]
    assert (
        await ids(
            sort="id",
            filter={"created_at": [gte(datetime(2025, 1, 1, tzinfo=UTC)), lt("2025-02-01")]},
        )
        == january
    )
    assert await ids(sort="id", filter={"created_at": between("2025-01-01", "2025-01-31")}) == (
        january
    )
    assert await ids(sort=["-created_at"]) == [r["id"] for r in reversed(rows)]
    assert await ids(sort=["firstname", "-id"]) == [
        r["id"] for r in sorted(rows, key=lambda r: (r["firstname"].lower(), -r["id"]))
    ]
    with_groups = await client.contacts.list(per_page=1, include=["groups"]).first_page()
    assert with_groups.items[0].groups == []


async def test_an_invalid_filter_fails_before_any_request(
    sandbox: Sandbox, client: wacr.Client
) -> None:
    with pytest.raises(wacr.ValidationError) as info:
        client.contacts.list(filter={"status_id": in_([])})
    assert info.value.local
    assert sandbox.hits["GET /contacts"] == 0


async def test_break_leaves_no_fetch_running(sandbox: Sandbox, client: wacr.Client) -> None:
    sandbox.faults.add("GET /contacts", latency=0.05)
    sandbox.seed_contacts(1_000)
    async for contact in client.contacts.list(per_page=10, concurrency=4):
        if contact.id == 3:
            break
    assert page_tasks()  # pages 2-5 were in flight; the dropped generator's close path,
    # run by asyncio on the loop (no __del__), cancels them within a few loop turns
    for _ in range(4):
        await settle()
    assert page_tasks() == []


async def test_async_with_pager_waits_for_the_cancelled_fetches(
    sandbox: Sandbox, client: wacr.Client
) -> None:
    sandbox.faults.add("GET /contacts", latency=0.05)
    sandbox.seed_contacts(1_000)
    async with client.contacts.list(per_page=10, concurrency=4) as contacts:
        async for contact in contacts:
            if contact.id == 3:
                break
    assert page_tasks() == []
    # the connections of the cancelled requests were released: the client still works
    assert len(await client.contacts.list(per_page=5).collect(limit=5)) == 5


async def test_cancelling_the_reader_cancels_its_fetches(
    sandbox: Sandbox, client: wacr.Client
) -> None:
    sandbox.faults.add("GET /contacts", latency=0.05)
    sandbox.seed_contacts(1_000)
    reading = asyncio.Event()

    async def read() -> None:
        async for _ in client.contacts.list(per_page=10, concurrency=4):
            reading.set()

    reader = asyncio.create_task(read())
    await reading.wait()
    assert len(page_tasks()) == 4  # pages 2-5
    reader.cancel()
    with pytest.raises(asyncio.CancelledError):
        await reader
    await settle()
    assert page_tasks() == []


async def test_a_failing_page_raises_after_the_pages_before_it(sandbox: Sandbox) -> None:
    sandbox.seed_contacts(100)
    async with sandbox.client(max_retries=0) as client:
        got: list[int] = []
        with no_wait(), pytest.raises(wacr.InternalServerError):
            async for contact in client.contacts.list(per_page=10, concurrency=3):
                if not got:  # page 1 is in; pages 2-4 are scheduled but not sent yet
                    sandbox.faults.add("GET /contacts", error_before=1.0, status_before=500)
                got.append(contact.id)
        assert got == list(range(1, 11))
        await settle()
        assert page_tasks() == []


# changing data


async def test_inserts_during_a_newest_first_read_repeat_rows_without_dedupe(
    sandbox: Sandbox, client: wacr.Client
) -> None:
    # The hazard, shown: new rows push older ones onto the next page, which is read again.
    sandbox.seed_contacts(100)
    seen: list[int] = []
    async for contact in client.contacts.list(per_page=10, sort="-id", prefetch=False):
        seen.append(contact.id)
        if len(seen) % 10 == 5:
            sandbox.seed_contacts(3)
    assert len(seen) > len(set(seen))


@pytest.mark.parametrize("sort", ["id", "-id"])
@pytest.mark.parametrize("concurrency", [1, 4])
async def test_dedupe_reads_every_existing_row_exactly_once_while_rows_are_inserted(
    sandbox: Sandbox, client: wacr.Client, sort: str, concurrency: int
) -> None:
    original = set(sandbox.seed_contacts(300))
    seen: list[int] = []
    pager = client.contacts.list(per_page=20, sort=sort, concurrency=concurrency).dedupe()
    async for contact in pager:
        seen.append(contact.id)
        if len(seen) % 20 == 7:
            sandbox.seed_contacts(5)  # inserted while we read
            await asyncio.sleep(0)
    assert len(seen) == len(set(seen))  # none repeated
    assert original <= set(seen)  # none of the rows that existed skipped


# answers the sandbox never gives, from a scripted server


async def test_a_data_block_that_is_not_a_list_is_an_unexpected_response(
    scripted_server: ScriptedServer,
) -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        return web.json_response({"success": True, "data": {"id": 1}})

    scripted_server.route("GET", "/api/v2/contacts", handler)
    async with wacr.Client(token="t", base_url=scripted_server.url) as client:
        with pytest.raises(wacr.UnexpectedResponseError, match="list"):
            await client.contacts.list().collect()


async def test_an_item_that_does_not_fit_the_model_is_an_unexpected_response(
    scripted_server: ScriptedServer,
) -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        return web.json_response({"success": True, "data": [{"id": 1}, {"firstname": "no id"}]})

    scripted_server.route("GET", "/api/v2/contacts", handler)
    async with wacr.Client(token="t", base_url=scripted_server.url) as client:
        with pytest.raises(wacr.UnexpectedResponseError, match="Contact"):
            await client.contacts.list().collect()


async def test_a_server_that_ignores_page_is_stopped(scripted_server: ScriptedServer) -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        pagination = {"current_page": 1, "per_page": 2, "total": 10, "has_more": True}
        return web.json_response(
            {"success": True, "data": [{"id": 1}, {"id": 2}], "meta": {"pagination": pagination}}
        )

    scripted_server.route("GET", "/api/v2/contacts", handler)
    async with wacr.Client(token="t", base_url=scripted_server.url) as client:
        with pytest.raises(wacr.PaginationError, match="page 2"):
            await client.contacts.list(per_page=2).collect()
    assert len(scripted_server.seen) == 2


async def test_without_a_pagination_block_a_short_page_ends(
    scripted_server: ScriptedServer,
) -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        page = int(request.query["page"])
        ids = range((page - 1) * 3 + 1, min(page * 3, 7) + 1)
        return web.json_response({"success": True, "data": [{"id": i} for i in ids]})

    scripted_server.route("GET", "/api/v2/contacts", handler)
    async with wacr.Client(token="t", base_url=scripted_server.url) as client:
        assert [c.id for c in await client.contacts.list(per_page=3).collect()] == list(range(1, 8))
    assert [path for _, path, _, _ in scripted_server.seen] == [
        f"/api/v2/contacts?page={n}&per_page=3" for n in (1, 2, 3)
    ]
