"""Pages and the pager that streams them: ``Page[T]`` and ``AsyncPager[T]``.

A pager is a description of a list query; nothing happens until it is iterated, and each
iteration starts again at page 1. It reads pages by number through a *fetch* function
(``fetch(page) -> (raw items, PageMeta)``) and turns raw items into results with *parse*;
these two are the only things it knows about the API. Parsing a page (building its models)
happens after the next page has been requested, so that the two overlap.

Ending: the last page wins. After each page the pager decides whether there is more:
``has_more`` when the server sends it, else ``current page < total_pages``, else "the page was
full". A page whose ``has_more`` is false, or an empty page, ends the iteration whatever an
earlier ``total_pages`` said — a list that shrinks while it is read (rows deleted by another
client) costs at most one request past its real end. A page number that differs from the one
asked for (a server ignoring ``page``) raises :class:`~wacr_async.errors.PaginationError`.

Fetching ahead. With ``prefetch`` (the default) the next page is requested while the current
one is consumed. With ``concurrency=N``, once page 1 has told the page count, up to N pages are
in flight; items still come in page order, and at most N + 1 pages are held (N fetched or
fetching, one being consumed). When a page ends the list, the fetches in flight past it are
cancelled and nothing past it is yielded. The scheduling lives in ``_page_stream``.

Cleaning up. Fetches run as tasks named ``wacr-page-<n>``. They are cancelled when the
iteration ends, fails or is cancelled. ``async for`` runs over an async generator: leaving the
loop early (``break``, an exception) is handled by the generator's own close path — asyncio
closes a dropped generator on the loop's thread, which cancels its fetches — never by a
``__del__``. ``async with pager:`` (or ``await pager.aclose()``) closes everything and waits for
the cancelled fetches, for code that must know nothing is running when the block is left.

Offset pagination and changing data. Pages are offsets (``(page - 1) * per_page``) into a list
that other clients may change while you read it: an insert before your position shifts items
onto the page you already read (you see one twice), a delete shifts an item back onto a page
you already passed (you never see it). To read every row that exists for the whole iteration
exactly once, sort by a key that new rows sort after — ascending ``id`` — and let the pager
drop any id it has already yielded with :meth:`AsyncPager.dedupe`::

    async for contact in client.contacts.list(sort="id").dedupe():
        ...

Inserts then land after your position: no row that existed when you started is skipped or
repeated (rows created meanwhile may or may not be seen). ``dedupe()`` also removes the repeats
that inserts cause in any other order (newest first, for example). What no option can repair
is a *delete* during the iteration: it moves later rows one place back, and the row that
crosses a page boundary is missed. When deletes matter, read again afterwards (or compare
counts: ``page.total`` of the first and last page).
"""

from __future__ import annotations

import asyncio
import operator
import weakref
from collections.abc import AsyncIterator, Callable, Hashable, Sequence
from types import TracebackType
from typing import Any, Generic, TypeVar, overload

from ._page_stream import MAX_CONCURRENCY, FetchPage, Page, PageStream, ParseItems, wait_quietly
from ._validate import check_int_range
from .errors import PaginationError

__all__ = [
    "MAX_CONCURRENCY",
    "AsyncPager",
    "FetchPage",
    "Page",
    "ParseItems",
]

T = TypeVar("T")


def _as_is(raw: Sequence[Any]) -> Sequence[Any]:
    return raw


async def _items_of(stream: PageStream[T]) -> AsyncIterator[T]:
    """``async for item in pager``: items in page order; leaving early cancels the fetches."""
    try:
        while (page := await stream.next_page()) is not None:
            for item in page.items:
                yield item
    finally:
        await stream.aclose()


async def _pages_of(stream: PageStream[T]) -> AsyncIterator[Page[T]]:
    """``async for page in pager.pages()``."""
    try:
        while (page := await stream.next_page()) is not None:
            yield page
    finally:
        await stream.aclose()


class AsyncPager(Generic[T]):
    """The items of a list endpoint, fetched page by page as you iterate.

    Returned at once by every ``list`` method; no request is made until it is iterated.

    Example::

        pager = client.contacts.list(per_page=100, sort="-created_at", concurrency=4)
        async for contact in pager:                    # every item, in order
            ...
        async for page in pager.pages():               # Page objects, with totals
            print(page.page, page.total_pages, len(page.items))
        first = await pager.first_page()
        recent = await pager.collect(limit=250)        # at most 250 items, 3 requests

    ``prefetch`` requests the next page while you consume the current one; ``concurrency=N``
    fetches up to N pages at once once the page count is known (it implies fetching ahead).
    Offset pages over data that changes while you read can skip or repeat items; see the
    module notes and :meth:`dedupe`.
    """

    __slots__ = (
        "_concurrency",
        "_dedupe_key",
        "_fetch",
        "_parse",
        "_per_page",
        "_prefetch",
        "_running",
        "_streams",
    )

    @overload
    def __init__(
        self: AsyncPager[Any],
        fetch: FetchPage,
        *,
        parse: None = None,
        per_page: int = 100,
        prefetch: bool = True,
        concurrency: int = 1,
        dedupe_key: Callable[[Any], Hashable] | None = None,
    ) -> None: ...

    @overload
    def __init__(
        self,
        fetch: FetchPage,
        *,
        parse: ParseItems[T],
        per_page: int = 100,
        prefetch: bool = True,
        concurrency: int = 1,
        dedupe_key: Callable[[T], Hashable] | None = None,
    ) -> None: ...

    def __init__(
        self,
        fetch: FetchPage,
        *,
        parse: ParseItems[T] | None = None,
        per_page: int = 100,
        prefetch: bool = True,
        concurrency: int = 1,
        dedupe_key: Callable[[T], Hashable] | None = None,
    ) -> None:
        """``fetch(page)`` reads one page; ``parse`` turns its raw items into results."""
        self._fetch = fetch
        self._parse: ParseItems[T] = parse if parse is not None else _as_is
        check_int_range("per_page", per_page, 1)
        self._per_page = per_page
        self._prefetch = bool(prefetch)
        check_int_range("concurrency", concurrency, 1, MAX_CONCURRENCY)
        self._concurrency = concurrency
        self._dedupe_key = dedupe_key
        self._streams: weakref.WeakSet[PageStream[T]] = weakref.WeakSet()
        self._running: set[asyncio.Future[Any]] = set()

    def __repr__(self) -> str:
        return (
            f"<AsyncPager per_page={self._per_page} prefetch={self._prefetch} "
            f"concurrency={self._concurrency}>"
        )

    @property
    def per_page(self) -> int:
        return self._per_page

    def _stream(self, *, limit: int | None = None, one_page: bool = False) -> PageStream[T]:
        stream = PageStream(
            self._fetch,
            self._parse,
            per_page=self._per_page,
            prefetch=self._prefetch and not one_page,
            concurrency=1 if one_page else self._concurrency,
            limit=limit,
            dedupe_key=self._dedupe_key,
            running=self._running,
        )
        self._streams.add(stream)
        return stream

    def dedupe(self, key: Callable[[T], Hashable] = operator.attrgetter("id")) -> AsyncPager[T]:
        """The same listing, dropping any item whose ``key`` (default: ``id``) was already yielded.

        Offset pages shift when rows are inserted before your position, and the shifted rows
        come round again; this drops them. Combined with an ascending ``id`` sort (new rows go
        last), every row that existed when the iteration began is yielded exactly once. The
        keys seen are kept for the whole iteration (a set of ints: about 60 bytes per item).

        Example::

            async for contact in client.contacts.list(sort="id").dedupe():
                await sync(contact)
        """
        return AsyncPager(
            self._fetch,
            parse=self._parse,
            per_page=self._per_page,
            prefetch=self._prefetch,
            concurrency=self._concurrency,
            dedupe_key=key,
        )

    def __aiter__(self) -> AsyncIterator[T]:
        return _items_of(self._stream())

    def pages(self) -> AsyncIterator[Page[T]]:
        """The pages one by one (an empty list gives one empty page 1).

        Example::

            async for page in client.contacts.list().pages():
                await db.insert_many(page.items)
        """
        return _pages_of(self._stream())

    async def first_page(self) -> Page[T]:
        """Page 1 alone (one request), for its items and totals.

        Example::

            page = await client.contacts.list(per_page=1).first_page()
            print(page.total)
        """
        stream = self._stream(one_page=True)
        try:
            page = await stream.next_page()
        finally:
            stream.cancel()
        if page is None:  # only when the server sends an inconsistent empty page 1
            raise PaginationError("The server sent no first page")
        return page

    async def collect(self, limit: int | None = None) -> list[T]:
        """All items in a list, or the first ``limit`` of them (no page past that is fetched).

        Example::

            newest = await client.contacts.list(sort="-created_at").collect(limit=10)
        """
        check_int_range("limit", limit, 0)
        stream = self._stream(limit=limit)
        items: list[T] = []
        try:
            while (page := await stream.next_page()) is not None:
                items.extend(page.items)
        finally:
            stream.cancel()
        return items

    async def aclose(self) -> None:
        """Cancel the fetches of every iteration of this pager and wait for them to end.

        Example::

            async with client.contacts.list() as contacts:
                async for contact in contacts:
                    if contact.phone == wanted:
                        break
            # here no page request of this pager is running
        """
        for stream in list(self._streams):
            stream.cancel()
        running = list(self._running)
        for task in running:
            task.cancel()
        await wait_quietly(running)

    async def __aenter__(self) -> AsyncPager[T]:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
