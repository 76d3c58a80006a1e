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
from wacr_async.pagination import AsyncPager, Page


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


async def test_an_empty_page_ends_the_list_even_when_it_claims_more() -> None:
    listing = Listing(range(10))
    for page in range(1, 50):
        listing.has_more_override[page] = True
    assert [x async for x in AsyncPager(listing.fetch, per_page=10)] == list(range(10))
    assert listing.calls == [1, 2]


class Shrinking(Listing):
    """A list of 500 rows that another client deletes down to 5 once page 1 has been read."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(range(500), per_page=10, **kwargs)

    def answer(self, page: int) -> tuple[Sequence[Any], PageMeta]:
        chunk, meta = super().answer(page)
        if page == 1:
            del self.items[5:]
        return chunk, meta


@pytest.mark.parametrize("meta", ["full", "pages"])
async def test_a_list_shrinking_from_50_pages_to_1_costs_two_requests(meta: str) -> None:
    listing = Shrinking(meta=meta)
    got = [x async for x in AsyncPager(listing.fetch, per_page=10)]
    assert got == list(range(10))
    assert listing.calls == [1, 2]


@pytest.mark.parametrize("concurrency", [2, 4, 8])
async def test_a_shrinking_list_costs_at_most_n_plus_1_requests_fanned_out(
    concurrency: int,
) -> None:
    listing = Shrinking()
    got = [x async for x in AsyncPager(listing.fetch, per_page=10, concurrency=concurrency)]
    assert got == list(range(10))
    assert len(listing.calls) <= concurrency + 1
    await settle()
    assert page_tasks() == []


async def test_fetches_in_flight_past_the_last_page_are_cancelled_and_not_yielded() -> None:
    listing = Listing(range(500))
    listing.gates.update({page: asyncio.Event() for page in range(3, 6)})
    listing.has_more_override[2] = False  # the server says page 2 is the last, now
    pager = AsyncPager(listing.fetch, per_page=10, concurrency=4)
    got = [x async for x in pager]
    assert got == list(range(20))
    await settle()
    assert set(listing.cancelled) == {3, 4, 5}
    assert page_tasks() == []


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
