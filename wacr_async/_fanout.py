"""Bounded, lazy fan-out of any coroutine function over an iterable: ``client.batch.map``."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Iterator,
)
from typing import Any, Generic, TypeVar

__all__ = ["END", "ItemReader", "bounded_map", "check_count"]

T = TypeVar("T")
R = TypeVar("R")


class _End:
    """The marker :meth:`ItemReader.next` returns once the input is exhausted."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "END"


END: Any = _End()


class ItemReader(Generic[T]):
    """Reads an iterable or an async iterable one item at a time, lazily.

    ``is_async`` tells whether a read may suspend (then concurrent readers need a lock).
    """

    __slots__ = ("_async", "_sync", "is_async")

    def __init__(self, items: Iterable[T] | AsyncIterable[T]) -> None:
        self._sync: Iterator[T] | None = None
        self._async: AsyncIterator[T] | None = None
        if isinstance(items, AsyncIterable):
            self._async = aiter(items)
        else:
            self._sync = iter(items)
        self.is_async = self._async is not None

    async def next(self) -> T:
        """The next item, or :data:`END`; the input's own errors are raised as they are."""
        if self._sync is not None:
            return next(self._sync, END)
        assert self._async is not None
        try:
            return await anext(self._async)
        except StopAsyncIteration:
            return END  # type: ignore[no-any-return]  # END is typed Any on purpose


def check_count(name: str, value: object) -> None:
    """A worker count or chunk size: a positive int, else a ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer, not {value!r}")


async def bounded_map(
    fn: Callable[[T], Awaitable[R]],
    items: Iterable[T] | AsyncIterable[T],
    *,
    concurrency: int,
    ordered: bool,
    return_exceptions: bool,
) -> AsyncIterator[R | BaseException]:
    """Yield ``await fn(item)`` for each item, at most ``concurrency`` calls at a time.

    Items are read only when a call can start. ``ordered`` yields in input order (a slow
    call holds back the results after it, and at most ``concurrency`` calls run or wait to be
    yielded); otherwise results come as they complete. A call that raises ends the map with
    that error (the calls still running are cancelled), unless ``return_exceptions``, which
    yields the exception in its place.
    """
    reader = ItemReader(items)
    loop = asyncio.get_running_loop()
    pending: deque[asyncio.Future[R]] = deque()
    exhausted = False

    async def call(item: T) -> R:
        return await fn(item)

    try:
        while True:
            while not exhausted and len(pending) < concurrency:
                item = await reader.next()
                if item is END:
                    exhausted = True
                    break
                pending.append(loop.create_task(call(item)))
            if not pending:
                return
            if ordered:
                # Keep the head in ``pending`` while waiting on it, so that if the consumer
                # is cancelled here the ``finally`` cancels (and awaits) it too.
                await asyncio.wait([pending[0]])
                done = pending.popleft()
            else:
                finished, _ = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                done = next(future for future in pending if future in finished)
                pending.remove(done)
            if done.cancelled():
                raise asyncio.CancelledError
            error = done.exception()
            if error is None:
                yield done.result()
            elif return_exceptions:
                yield error
            else:
                raise error
    finally:
        for future in pending:
            future.cancel()
        if pending:
            await asyncio.wait(pending)
