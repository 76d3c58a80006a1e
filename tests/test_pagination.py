"""The pager's contract, driven through its seam: a fetch function over an in-memory listing.

Sandbox-backed tests (real sockets, the client's own fetch) are in test_pagination_sandbox.py.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Sequence
from typing import Any

import pytest

import wacr_async as wacr
from wacr_async._envelope import PageMeta
from wacr_async.pagination import MAX_EMPTY_PAGES, AsyncPager, Page


class Listing:
    """An in-memory list endpoint: ``fetch(page)`` as the client's fetch would answer it.

    ``meta`` chooses what the pagination block says: "full" (the server's shape), "pages"
    (total_pages, no has_more), "none" (no block at all). ``gates`` hold a page's answer
    until the test releases it; ``fail`` makes a page raise.
    """

    def __init__(self, items: Sequence[Any], *, per_page: int = 10, meta: str = "full") -> None:
        self.items = list(items)
        self.per_page = per_page
        self.meta = meta
        self.calls: list[int] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.cancelled: list[int] = []
        self.gates: dict[int, asyncio.Event] = {}
        self.fail: dict[int, Exception] = {}
        self.has_more_override: dict[int, bool] = {}
        self.current_page_override: int | None = None

    async def fetch(self, page: int) -> tuple[Sequence[Any], PageMeta]:
        self.calls.append(page)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            gate = self.gates.get(page)
            if gate is not None:
                await gate.wait()
            else:
                await asyncio.sleep(0)
            if page in self.fail:
                raise self.fail[page]
            return self.answer(page)
        except asyncio.CancelledError:
            self.cancelled.append(page)
            raise
        finally:
            self.in_flight -= 1

    def answer(self, page: int) -> tuple[Sequence[Any], PageMeta]:
        size = self.per_page
        chunk = self.items[(page - 1) * size : page * size]
        total = len(self.items)
        total_pages = max(1, -(-total // size))
        if self.meta == "none":
            return chunk, PageMeta()
        has_more = self.has_more_override.get(page, page < total_pages)
        current = self.current_page_override or page
        if self.meta == "pages":
            return chunk, PageMeta(per_page=size, current_page=current, total_pages=total_pages)
        return chunk, PageMeta(
            total=total,
            count=len(chunk),
            per_page=size,
            current_page=current,
            total_pages=total_pages,
            has_more=has_more,
        )


def page_tasks() -> list[asyncio.Task[Any]]:
    return [t for t in asyncio.all_tasks() if t.get_name().startswith("wacr-page-")]


async def settle() -> None:
    """Let cancelled tasks run their cancellation (a few loop turns, no wall-clock wait)."""
    for _ in range(5):
        await asyncio.sleep(0)


# ending


@pytest.mark.parametrize("meta", ["full", "pages", "none"])
async def test_yields_every_item_in_order(meta: str) -> None:
    listing = Listing(range(95), meta=meta)
    assert [x async for x in AsyncPager(listing.fetch, per_page=10)] == list(range(95))
    assert listing.calls == list(range(1, 11))


@pytest.mark.parametrize("meta", ["full", "pages"])
async def test_full_last_page_ends_without_asking_for_an_empty_page(meta: str) -> None:
    listing = Listing(range(30), meta=meta)
    assert len(await AsyncPager(listing.fetch, per_page=10).collect()) == 30
    assert listing.calls == [1, 2, 3]


async def test_without_pagination_block_a_short_page_ends() -> None:
    listing = Listing(range(25), meta="none")
    assert len(await AsyncPager(listing.fetch, per_page=10).collect()) == 25
    assert listing.calls == [1, 2, 3]


async def test_without_pagination_block_a_full_last_page_needs_one_empty_page() -> None:
    # Nothing tells the pager that page 3 was the last: one look at page 4 is unavoidable.
    listing = Listing(range(30), meta="none")
    assert len(await AsyncPager(listing.fetch, per_page=10).collect()) == 30
    assert listing.calls == [1, 2, 3, 4]


async def test_has_more_wins_over_a_short_page() -> None:
    listing = Listing(range(25), meta="full")
    listing.per_page = 10
    # page 2 is full but the server says it is the end
    listing.has_more_override[2] = False
    assert await AsyncPager(listing.fetch, per_page=10).collect() == list(range(20))
    assert listing.calls == [1, 2]


async def test_server_page_size_is_used_when_it_clamps() -> None:
    # asked for 100 per page, the server sends 10: a 10-item page is full, not short
    listing = Listing(range(25), meta="pages")
    pager = AsyncPager(listing.fetch, per_page=100)
    pages = [page async for page in pager.pages()]
    assert [len(p.items) for p in pages] == [10, 10, 5]
    assert {p.per_page for p in pages} == {10}


async def test_empty_listing_is_one_empty_first_page() -> None:
    listing = Listing([])
    pager = AsyncPager(listing.fetch, per_page=10)
    assert [x async for x in pager] == []
    pages = [page async for page in pager.pages()]
    assert pages == [Page(items=[], page=1, per_page=10, total=0, total_pages=1, has_more=False)]
    assert (await pager.first_page()).items == []
    assert listing.calls == [1, 1, 1]


async def test_empty_pages_claiming_more_end_in_pagination_error_after_a_bound() -> None:
    listing = Listing(range(10))
    for page in range(1, 50):
        listing.has_more_override[page] = True
    with pytest.raises(wacr.PaginationError, match="empty pages"):
        [x async for x in AsyncPager(listing.fetch, per_page=10)]
    assert listing.calls == list(range(1, 2 + MAX_EMPTY_PAGES))


async def test_one_empty_page_claiming_more_is_skipped() -> None:
    items = list(range(30))
    listing = Listing(items)
    original = listing.answer

    def hole_at_page_2(page: int) -> tuple[Sequence[Any], PageMeta]:
        chunk, meta = original(page)
        return ([], meta) if page == 2 else (chunk, meta)

    listing.answer = hole_at_page_2  # type: ignore[method-assign]  # a server with a gap
    assert await AsyncPager(listing.fetch, per_page=10).collect() == items[:10] + items[20:]


async def test_a_server_ignoring_the_page_number_is_an_error_not_a_loop() -> None:
    listing = Listing(range(100))
    listing.current_page_override = 1
    with pytest.raises(wacr.PaginationError, match="Asked for page 2"):
        await AsyncPager(listing.fetch, per_page=10).collect()


# pages, first_page, collect, limit


async def test_pages_carry_position_and_totals() -> None:
    listing = Listing(range(25))
    pages = [page async for page in AsyncPager(listing.fetch, per_page=10).pages()]
    assert [(p.page, len(p), p.has_more) for p in pages] == [
        (1, 10, True),
        (2, 10, True),
        (3, 5, False),
    ]
    assert {(p.per_page, p.total, p.total_pages) for p in pages} == {(10, 25, 3)}


@pytest.mark.parametrize("concurrency", [1, 8])
async def test_first_page_is_one_request(concurrency: int) -> None:
    listing = Listing(range(25))
    page = await AsyncPager(listing.fetch, per_page=10, concurrency=concurrency).first_page()
    await settle()
    assert (page.page, list(page.items), page.total) == (1, list(range(10)), 25)
    assert listing.calls == [1]


@pytest.mark.parametrize(
    ("limit", "calls"),
    [(0, []), (5, [1]), (10, [1]), (11, [1, 2]), (25, [1, 2, 3]), (99, [1, 2, 3])],
)
@pytest.mark.parametrize("concurrency", [1, 8])
async def test_collect_limit_stops_fetching(limit: int, calls: list[int], concurrency: int) -> None:
    listing = Listing(range(25))
    pager = AsyncPager(listing.fetch, per_page=10, concurrency=concurrency)
    assert await pager.collect(limit=limit) == list(range(min(limit, 25)))
    await settle()
    assert sorted(listing.calls) == calls


async def test_a_pager_can_be_iterated_again() -> None:
    listing = Listing(range(15))
    pager = AsyncPager(listing.fetch, per_page=10)
    assert [x async for x in pager] == [x async for x in pager] == list(range(15))


# fetching ahead


async def test_prefetch_requests_the_next_page_while_the_caller_works() -> None:
    listing = Listing(range(30))
    iterator = aiter(AsyncPager(listing.fetch, per_page=10))
    assert await anext(iterator) == 0
    await settle()  # the caller is busy with item 0
    assert listing.calls == [1, 2]
    await settle()
    assert listing.calls == [1, 2]  # one page ahead, not more
    await iterator.aclose()  # type: ignore[attr-defined]  # our iterator has aclose


async def test_a_page_is_parsed_after_the_next_one_was_requested() -> None:
    listing = Listing(range(30))
    requested_when_parsing: list[list[int]] = []

    def parse(raw: Sequence[Any]) -> list[str]:
        requested_when_parsing.append(list(listing.calls))
        return [f"item {x}" for x in raw]

    pager = AsyncPager(listing.fetch, parse=parse, per_page=10)
    assert (await pager.collect())[:2] == ["item 0", "item 1"]
    # the server can work on page n + 1 while page n is turned into models
    assert requested_when_parsing == [[1, 2], [1, 2, 3], [1, 2, 3]]


async def test_without_prefetch_pages_are_requested_on_demand() -> None:
    listing = Listing(range(30))
    iterator = aiter(AsyncPager(listing.fetch, per_page=10, prefetch=False))
    assert await anext(iterator) == 0
    await settle()
    assert listing.calls == [1]
    assert [await anext(iterator) for _ in range(10)][-1] == 10
    assert listing.calls == [1, 2]
    await iterator.aclose()  # type: ignore[attr-defined]  # our iterator has aclose


async def test_prefetch_is_not_speculative_past_the_last_page() -> None:
    listing = Listing(range(10))
    iterator = aiter(AsyncPager(listing.fetch, per_page=10))
    assert await anext(iterator) == 0
    await settle()
    assert listing.calls == [1]


async def test_concurrency_fans_out_once_the_page_count_is_known() -> None:
    listing = Listing(range(100))
    release = {page: asyncio.Event() for page in range(2, 11)}
    listing.gates.update(release)
    iterator = aiter(AsyncPager(listing.fetch, per_page=10, concurrency=4))
    assert await anext(iterator) == 0
    await settle()
    assert sorted(listing.calls) == [1, 2, 3, 4, 5]
    assert listing.in_flight == 4
    # pages finish in reverse order; items still come in page order
    for page in (5, 4, 3, 2):
        release[page].set()
        await settle()
    rest = [await anext(iterator) for _ in range(19)]
    assert rest == list(range(1, 20))
    for event in release.values():
        event.set()
    assert [x async for x in iterator] == list(range(20, 100))
    assert listing.max_in_flight == 4


async def test_concurrency_keeps_the_window_full_up_to_the_last_page() -> None:
    listing = Listing(range(100))
    iterator = aiter(AsyncPager(listing.fetch, per_page=10, concurrency=4).pages())
    in_flight_after_each_page: list[int] = []
    async for _ in iterator:
        await settle()
        in_flight_after_each_page.append(len(listing.calls) - len(in_flight_after_each_page) - 1)
    assert in_flight_after_each_page == [4, 4, 4, 4, 4, 4, 3, 2, 1, 0]


async def test_concurrency_without_a_page_count_stays_sequential() -> None:
    listing = Listing(range(100), meta="none")
    assert await AsyncPager(listing.fetch, per_page=10, concurrency=8).collect() == list(range(100))
    assert listing.max_in_flight == 1


@pytest.mark.parametrize("concurrency", [1, 3, 8])
async def test_at_most_concurrency_plus_one_pages_are_held(concurrency: int) -> None:
    listing = Listing(range(200))
    held_peak = 0
    done_with = 0
    async for page in AsyncPager(listing.fetch, per_page=10, concurrency=concurrency).pages():
        # pages requested but not yet finished with by the caller (this one included)
        held_peak = max(held_peak, len(listing.calls) - done_with)
        await settle()
        held_peak = max(held_peak, len(listing.calls) - done_with)
        done_with = page.page
    assert held_peak == concurrency + 1


async def test_dedupe_drops_repeated_ids() -> None:
    class Row:
        def __init__(self, id: int) -> None:
            self.id = id

    listing = Listing([Row(i) for i in range(30)])
    seen: list[int] = []
    async for row in AsyncPager(listing.fetch, per_page=10, prefetch=False).dedupe():
        seen.append(row.id)
        if row.id == 5:  # someone inserts a row at the front: items shift by one
            listing.items.insert(0, Row(100))
    assert seen == list(range(30))


# cleaning up


async def test_break_cancels_fetches_in_flight() -> None:
    listing = Listing(range(100))
    listing.gates.update({page: asyncio.Event() for page in range(2, 11)})
    async for item in AsyncPager(listing.fetch, per_page=10, concurrency=4):
        if item == 3:
            await settle()  # pages 2-5 are now being fetched
            break
    assert page_tasks() and all(t.cancelling() or t.done() for t in page_tasks())
    await settle()
    assert page_tasks() == []
    assert sorted(listing.cancelled) == [2, 3, 4, 5]


async def test_async_with_waits_for_cancelled_fetches() -> None:
    listing = Listing(range(100))
    listing.gates.update({page: asyncio.Event() for page in range(2, 11)})
    async with AsyncPager(listing.fetch, per_page=10, concurrency=4) as pager:
        async for item in pager:
            if item == 3:
                await settle()
                break
    assert page_tasks() == []
    assert sorted(listing.cancelled) == [2, 3, 4, 5]


async def test_cancelling_the_consumer_cancels_every_fetch() -> None:
    listing = Listing(range(100))
    listing.gates.update({page: asyncio.Event() for page in range(2, 11)})

    async def consume() -> None:
        async for _ in AsyncPager(listing.fetch, per_page=10, concurrency=3):
            pass

    task = asyncio.create_task(consume())
    await settle()
    assert listing.in_flight == 3
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await settle()
    assert page_tasks() == []
    assert listing.in_flight == 0
    assert sorted(listing.cancelled) == [2, 3, 4]


async def test_a_failed_page_raises_in_order_and_cancels_the_rest() -> None:
    listing = Listing(range(100))
    listing.fail[3] = wacr.ServiceUnavailableError("down", status=503)
    listing.gates.update({page: asyncio.Event() for page in range(4, 11)})
    got: list[int] = []
    with pytest.raises(wacr.ServiceUnavailableError):
        async for item in AsyncPager(listing.fetch, per_page=10, concurrency=4):
            got.append(item)
    assert got == list(range(20))
    await settle()
    assert page_tasks() == []
    assert set(listing.cancelled) >= {4, 5}


async def test_an_abandoned_failed_prefetch_is_not_reported_as_unretrieved() -> None:
    loop = asyncio.get_running_loop()
    reports: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda _loop, context: reports.append(context))
    try:
        listing = Listing(range(30))
        listing.fail[2] = wacr.ServiceUnavailableError("down", status=503)
        async for _ in AsyncPager(listing.fetch, per_page=10):
            await settle()  # page 2 fails while we look at page 1
            break
        await settle()
        gc.collect()
        await settle()
    finally:
        loop.set_exception_handler(None)
    assert listing.calls == [1, 2]
    assert reports == []


# checks


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"concurrency": 0}, "concurrency"),
        ({"concurrency": 1000}, "concurrency"),
        ({"per_page": 0}, "per_page"),
        ({"per_page": True}, "per_page"),
    ],
)
def test_bad_settings_fail_locally(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(wacr.ValidationError) as info:
        AsyncPager(Listing([]).fetch, **kwargs)
    assert info.value.local
    assert field in info.value.fields


async def test_negative_limit_fails_locally() -> None:
    listing = Listing(range(5))
    with pytest.raises(wacr.ValidationError) as info:
        await AsyncPager(listing.fetch).collect(limit=-1)
    assert info.value.local and "limit" in info.value.fields
    assert listing.calls == []
