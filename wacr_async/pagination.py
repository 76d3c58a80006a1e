"""Pages and the pager that streams them: ``Page[T]`` and ``AsyncPager[T]``.

A pager is a description of a list query; nothing happens until it is iterated, and each
iteration starts again at page 1. It reads pages by number through a *fetch* function
(``fetch(page) -> (raw items, PageMeta)``) and turns raw items into results with *parse*;
these two are the only things it knows about the API. Parsing a page (building its models)
happens after the next page has been requested, so that the two overlap.

Ending. After each page the pager decides whether there is more: ``has_more`` when the server
sends it, else ``current page < total_pages``, else "the page was full". So a last page that is
full but says ``has_more: false`` ends iteration without asking for an empty page. An empty page
that still claims more is skipped, at most :data:`MAX_EMPTY_PAGES` times in a row, then
:class:`~wacr_async.errors.PaginationError` is raised; a page number that differs from the one
asked for (a server ignoring ``page``) raises it too. Neither can loop forever.

Fetching ahead. With ``prefetch`` (the default) the next page is requested while the current
one is consumed. With ``concurrency=N``, once page 1 has told the page count, up to N pages are
in flight; items still come in page order, and at most N + 1 pages are held (N fetched or
fetching, one being consumed). Pages that are past the end are never requested.

Cleaning up. Fetches run as tasks named ``wacr-page-<n>``. They are cancelled when the
iteration ends, fails or is cancelled, and when an ``async for`` is left with ``break``: the
iterator is a plain object (not an async generator), so CPython drops it — and cancels its
fetches — as soon as the loop is left. ``async with pager:`` (or ``await pager.aclose()``)
also waits for the cancelled fetches to finish, for code that must know nothing is running.

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
import contextlib
import operator
import weakref
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Sequence
from types import TracebackType
from typing import Any, Final, Generic, TypeVar, overload

import attrs

from ._envelope import PageMeta
from ._validate import check_int_range
from .errors import PaginationError

__all__ = [
    "MAX_CONCURRENCY",
    "MAX_EMPTY_PAGES",
    "AsyncPager",
    "FetchPage",
    "Page",
    "ParseItems",
]

T = TypeVar("T")

FetchPage = Callable[[int], Awaitable[tuple[Sequence[Any], PageMeta]]]
"""Reads one page by number (1-based): its raw items (decoded JSON) and its pagination block."""

ParseItems = Callable[[Sequence[Any]], Sequence[T]]
"""Turns the raw items of one page into results (models)."""


def _as_is(raw: Sequence[Any]) -> Sequence[Any]:
    return raw


MAX_EMPTY_PAGES: Final = 3
"""Consecutive empty pages claiming more that are tolerated before PaginationError."""

MAX_CONCURRENCY: Final = 32
"""Upper bound of ``concurrency`` (the client's rate limiter paces requests anyway)."""


@attrs.frozen(kw_only=True, slots=True)
class Page(Generic[T]):
    """One page of a list: its items and where it sits.

    ``per_page`` is the page size the server used, ``total`` and ``total_pages`` are None when
    the server did not say, and ``has_more`` is the pager's verdict on whether a next page
    exists.

    Example::

        async for page in client.contacts.list(per_page=100).pages():
            print(f"page {page.page}/{page.total_pages}: {len(page.items)} contacts")
    """

    items: Sequence[T]
    page: int
    per_page: int
    total: int | None
    total_pages: int | None
    has_more: bool

    def __len__(self) -> int:
        return len(self.items)


def _consume_outcome(task: asyncio.Task[Any]) -> None:
    # A fetch whose result nobody will read (cancelled iteration) must not log
    # "Task exception was never retrieved"; the consumer still sees errors it awaits.
    if not task.cancelled():
        task.exception()


async def _wait_quietly(tasks: Sequence[asyncio.Future[Any]]) -> None:
    """Wait until ``tasks`` (already cancelled) have finished; their outcome is not needed."""
    if tasks:
        await asyncio.wait(tasks)


class _PageStream(Generic[T]):
    """One pass over the pages: schedules fetches, keeps them in order, decides the end."""

    __slots__ = (
        "__weakref__",
        "_count_known",
        "_dedupe_key",
        "_done",
        "_empty_streak",
        "_fetch",
        "_frontier",
        "_limit",
        "_next_page",
        "_page_size",
        "_parse",
        "_pending",
        "_prefetch",
        "_received",
        "_running",
        "_seen",
        "_window",
    )

    def __init__(
        self,
        fetch: FetchPage,
        parse: ParseItems[T],
        *,
        per_page: int,
        prefetch: bool,
        concurrency: int,
        limit: int | None,
        dedupe_key: Callable[[T], Hashable] | None,
        running: set[asyncio.Future[Any]],
    ) -> None:
        self._fetch = fetch
        self._parse = parse
        self._running = running
        self._page_size = per_page
        self._limit = limit
        self._window = concurrency
        self._prefetch = prefetch or concurrency > 1
        self._pending: deque[tuple[int, asyncio.Future[tuple[Sequence[Any], PageMeta]]]] = deque()
        self._next_page = 1
        self._frontier = 1  # the highest page known to exist
        self._count_known = False
        self._received = 0
        self._empty_streak = 0
        self._done = limit == 0
        self._dedupe_key = dedupe_key
        self._seen: set[Hashable] = set()

    def __del__(self) -> None:
        self.cancel()

    # scheduling

    def _may_schedule(self) -> bool:
        if self._done or self._next_page > self._frontier:
            return False
        # Until the server has told the page count, one page at a time.
        window = self._window if self._count_known else 1
        if len(self._pending) >= window:
            return False
        if self._limit is not None:
            coming = self._received + len(self._pending) * self._page_size
            if coming >= self._limit:
                return False
        return True

    def _fill(self) -> bool:
        """Schedule every fetch the window allows; True when any was scheduled."""
        scheduled = False
        while self._may_schedule():
            scheduled = True
            number = self._next_page
            task = asyncio.ensure_future(self._fetch(number))
            if isinstance(task, asyncio.Task):
                task.set_name(f"wacr-page-{number}")
            task.add_done_callback(_consume_outcome)
            # The pager keeps every fetch until it ends, so that aclose() can wait for the
            # ones this stream cancelled even after the stream itself is gone.
            self._running.add(task)
            task.add_done_callback(self._running.discard)
            self._pending.append((number, task))
            self._next_page = number + 1
        return scheduled

    def cancel(self) -> None:
        """Stop: cancel every fetch in flight (they finish cancelling on the loop)."""
        self._done = True
        pending = self._pending
        while pending:
            _, task = pending.popleft()
            if not task.done():
                with contextlib.suppress(RuntimeError):  # the loop is already closed
                    task.cancel()

    async def aclose(self) -> None:
        """Cancel every fetch in flight and wait until they have finished."""
        tasks = [task for _, task in self._pending]
        self.cancel()
        await _wait_quietly(tasks)

    # reading

    async def next_page(self) -> Page[T] | None:
        """The next page in order, or None at the end."""
        try:
            while True:
                self._fill()
                if not self._pending:
                    self._done = True
                    return None
                number, task = self._pending[0]
                raw, meta = await task
                self._pending.popleft()
                more = self._more_after(number, raw, meta)
                if raw or number == 1:  # page 1 is shown even when empty (first_page, totals)
                    break
            # Decide what comes next and ask for it before the slow part, reading this page:
            # the server works on the next page while this one is parsed.
            dedupe_key = self._dedupe_key
            if dedupe_key is not None:  # the count after dedupe is known only once parsed
                raw = self._unseen(self._parse(raw), dedupe_key)
            raw, more = self._within_limit(raw, more)
            if not more:
                self.cancel()  # anything scheduled past the end is not needed
            elif self._prefetch and self._fill():
                # Let the new fetches put their requests on the wire now. A caller that works
                # through the page without awaiting would otherwise hold them back until it
                # asks for the next page, and fetching ahead would overlap nothing.
                await asyncio.sleep(0)
            items = raw if dedupe_key is not None else self._parse(raw)
            return Page(
                items=items,
                page=number,
                per_page=self._page_size,
                total=meta.total,
                total_pages=meta.total_pages,
                has_more=more,
            )
        except BaseException:
            self.cancel()
            raise

    def _more_after(self, number: int, raw: Sequence[Any], meta: PageMeta) -> bool:
        """Check one page and decide whether more follow (raising on contradictions)."""
        if meta.current_page is not None and meta.current_page != number:
            raise PaginationError(
                f"Asked for page {number} but the server answered page {meta.current_page}; "
                "stopping so as not to repeat items"
            )
        if meta.per_page is not None and meta.per_page > 0:
            self._page_size = meta.per_page
        if meta.has_more is not None:
            more = meta.has_more
        elif meta.total_pages is not None:
            more = number < meta.total_pages
        else:
            more = len(raw) >= self._page_size
        if raw:
            self._empty_streak = 0
        elif more:
            self._empty_streak += 1
            if self._empty_streak >= MAX_EMPTY_PAGES:
                raise PaginationError(
                    f"{self._empty_streak} empty pages in a row (up to page {number}) "
                    "all claim that more items follow; the listing is inconsistent"
                )
        if meta.total_pages is not None:
            self._count_known = True
        if more:
            # The latest count wins: rows deleted meanwhile may have removed pages.
            self._frontier = max(number + 1, meta.total_pages or 0)
        return more

    def _within_limit(self, items: Sequence[Any], more: bool) -> tuple[Sequence[Any], bool]:
        """Count ``items`` as received, cut to the limit; reaching it ends the iteration."""
        self._received += len(items)
        limit = self._limit
        if limit is not None and self._received >= limit:
            items = items[: len(items) - (self._received - limit)]
            self._received = limit
            more = False
        return items, more

    def _unseen(self, items: Sequence[T], key_of: Callable[[T], Hashable]) -> list[T]:
        seen = self._seen
        fresh: list[T] = []
        for item in items:
            key = key_of(item)
            if key not in seen:
                seen.add(key)
                fresh.append(item)
        return fresh


class _ItemIterator(Generic[T]):
    """``async for item in pager``: items in page order, fetches owned by one page stream."""

    __slots__ = ("_index", "_items", "_stream")

    def __init__(self, stream: _PageStream[T]) -> None:
        self._stream = stream
        self._items: Sequence[T] = ()
        self._index = 0

    def __aiter__(self) -> _ItemIterator[T]:
        return self

    async def __anext__(self) -> T:
        index = self._index
        if index < len(self._items):
            self._index = index + 1
            return self._items[index]
        self._items = ()  # hold at most one page while waiting for the next
        while (page := await self._stream.next_page()) is not None:
            if page.items:
                self._items = page.items
                self._index = 1
                return page.items[0]
        raise StopAsyncIteration

    async def aclose(self) -> None:
        """Stop iterating: cancel the fetches in flight and wait for them."""
        self._items = ()
        await self._stream.aclose()


class _PageIterator(Generic[T]):
    """``async for page in pager.pages()``."""

    __slots__ = ("_stream",)

    def __init__(self, stream: _PageStream[T]) -> None:
        self._stream = stream

    def __aiter__(self) -> _PageIterator[T]:
        return self

    async def __anext__(self) -> Page[T]:
        page = await self._stream.next_page()
        if page is None:
            raise StopAsyncIteration
        return page

    async def aclose(self) -> None:
        """Stop iterating: cancel the fetches in flight and wait for them."""
        await self._stream.aclose()


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
        self._streams: weakref.WeakSet[_PageStream[T]] = weakref.WeakSet()
        self._running: set[asyncio.Future[Any]] = set()

    def __repr__(self) -> str:
        return (
            f"<AsyncPager per_page={self._per_page} prefetch={self._prefetch} "
            f"concurrency={self._concurrency}>"
        )

    @property
    def per_page(self) -> int:
        return self._per_page

    def _stream(self, *, limit: int | None = None, one_page: bool = False) -> _PageStream[T]:
        stream = _PageStream(
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
        return _ItemIterator(self._stream())

    def pages(self) -> AsyncIterator[Page[T]]:
        """The pages one by one (an empty list gives one empty page 1).

        Example::

            async for page in client.contacts.list().pages():
                await db.insert_many(page.items)
        """
        return _PageIterator(self._stream())

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
        await _wait_quietly(running)

    async def __aenter__(self) -> AsyncPager[T]:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
