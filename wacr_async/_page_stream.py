"""One pass over the pages of a list: fetch scheduling, order, and where the list ends.

:class:`PageStream` is the engine behind :class:`~wacr_async.pagination.AsyncPager`: it reads
pages by number through a *fetch* function, keeps up to ``max_in_flight`` of them on the wire
once the page count is known, hands them out in page order, and decides where the list ends.

Ending: the last page wins. A page whose ``has_more`` is false, or an empty page, ends the
stream whatever an earlier ``total_pages`` said (rows deleted meanwhile shrink the list); any
fetch already in flight past it is cancelled and nothing past it is yielded. Without
``has_more``, ``current page < total_pages`` decides, else "the page was full". A page number
that differs from the one asked for raises :class:`~wacr_async.errors.PaginationError`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import Any, Final, Generic, TypeVar

import attrs

from ._envelope import PageMeta
from .errors import PaginationError

__all__ = ["MAX_CONCURRENCY", "FetchPage", "Page", "PageStream", "ParseItems", "wait_quietly"]

T = TypeVar("T")

FetchPage = Callable[[int], Awaitable[tuple[Sequence[Any], PageMeta]]]
"""Reads one page by number (1-based): its raw items (decoded JSON) and its pagination block."""

ParseItems = Callable[[Sequence[Any]], Sequence[T]]
"""Turns the raw items of one page into results (models)."""


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


async def wait_quietly(tasks: Sequence[asyncio.Future[Any]]) -> None:
    """Wait until ``tasks`` (already cancelled) have finished; their outcome is not needed."""
    if tasks:
        await asyncio.wait(tasks)


class PageStream(Generic[T]):
    """One pass over the pages: schedules fetches, keeps them in order, decides the end."""

    __slots__ = (
        "__weakref__",
        "_count_known",
        "_dedupe_key",
        "_done",
        "_fetch",
        "_frontier",
        "_limit",
        "_max_in_flight",
        "_next_page",
        "_page_size",
        "_parse",
        "_pending",
        "_prefetch",
        "_received",
        "_running",
        "_seen",
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
        self._max_in_flight = concurrency  # fetches on the wire at once, once the count is known
        self._prefetch = prefetch or concurrency > 1
        self._pending: deque[tuple[int, asyncio.Future[tuple[Sequence[Any], PageMeta]]]] = deque()
        self._next_page = 1
        self._frontier = 1  # the highest page known to exist
        self._count_known = False
        self._received = 0
        self._done = limit == 0
        self._dedupe_key = dedupe_key
        self._seen: set[Hashable] = set()

    # scheduling

    def _may_schedule(self) -> bool:
        if self._done or self._next_page > self._frontier:
            return False
        # Until the server has told the page count, one page at a time.
        in_flight = self._max_in_flight if self._count_known else 1
        if len(self._pending) >= in_flight:
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
        await wait_quietly(tasks)

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
                # An empty page is the end, whatever an earlier total_pages said.
                self.cancel()
                return None
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
        if not raw:
            more = False  # an empty page ends the list, whatever it or page 1 claimed
        elif meta.has_more is not None:
            more = meta.has_more
        elif meta.total_pages is not None:
            more = number < meta.total_pages
        else:
            more = len(raw) >= self._page_size
        if meta.total_pages is not None:
            self._count_known = True
        if more:
            # The latest count wins: rows deleted meanwhile may have removed pages.
            self._frontier = max(number + 1, meta.total_pages or 0)
            self._forget_beyond(self._frontier)
        return more

    def _forget_beyond(self, last: int) -> None:
        """Cancel the fetches of pages after ``last``: the list has shrunk below them."""
        pending = self._pending
        while pending and pending[-1][0] > last:
            _, task = pending.pop()
            task.cancel()
        self._next_page = min(self._next_page, last + 1)

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
