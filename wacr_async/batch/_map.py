"""``client.batch.map``: bounded, lazy fan-out of any coroutine function over an iterable."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable
from typing import TypeVar

from .._pool import ItemReader, WorkerPool

__all__ = ["bounded_map"]

T = TypeVar("T")
R = TypeVar("R")


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
    yields the exception in its place. Closing the generator early cancels the calls.

    Example::

        async for contact in bounded_map(client.contacts.get, ids, concurrency=8,
                                         ordered=True, return_exceptions=False):
            print(contact.id)
    """

    async def call(index: int, item: T) -> R:
        return await fn(item)

    pool = WorkerPool(ItemReader(items), call, limit=concurrency, release_when_done=not ordered)
    try:
        while True:
            await pool.fill()
            done = pool.next_done(pool.first_held()) if ordered else pool.next_done()
            taken = await done
            if taken is None:
                return
            index, task = taken
            pool.release(index)
            error = task.exception()  # a cancelled call raises CancelledError here
            if error is None:
                yield task.result()
            elif return_exceptions:
                yield error
            else:
                raise error
    finally:
        await pool.aclose()
