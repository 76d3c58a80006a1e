"""A bounded single-loop channel that can be closed by the writer and abandoned by the reader.

``asyncio.Queue`` cannot say "no more items" without a sentinel that itself needs room in a
full queue, and cannot let a reader that lost interest unblock every writer. This can.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Generic, TypeVar

__all__ = ["CLOSED", "Channel", "Closed"]

T = TypeVar("T")


class Closed:
    """Returned by :meth:`Channel.get` once the channel is closed and empty."""

    __slots__ = ()


CLOSED = Closed()


class Channel(Generic[T]):
    """At most ``maxsize`` items buffered; ``put`` waits for room.

    Example::

        channel: Channel[int] = Channel(16)
        await channel.put(1); channel.close()
        assert await channel.get() == 1 and await channel.get() is CLOSED
    """

    __slots__ = ("_closed", "_dropping", "_getters", "_items", "_maxsize", "_putters")

    def __init__(self, maxsize: int) -> None:
        self._items: deque[T] = deque()
        self._maxsize = maxsize
        self._getters: deque[asyncio.Future[None]] = deque()
        self._putters: deque[asyncio.Future[None]] = deque()
        self._closed = False
        self._dropping = False

    async def put(self, item: T) -> None:
        """Add ``item``, waiting while the channel is full; dropped once the reader left."""
        while len(self._items) >= self._maxsize and not self._dropping:
            waiter = asyncio.get_running_loop().create_future()
            self._putters.append(waiter)
            try:
                await waiter
            except asyncio.CancelledError:
                if waiter in self._putters:
                    self._putters.remove(waiter)
                elif waiter.done() and not waiter.cancelled():
                    _wake(self._putters)  # pass the room on
                raise
        if self._dropping:
            return
        self._items.append(item)
        _wake(self._getters)

    def push(self, item: T) -> None:
        """Add ``item`` now, even beyond ``maxsize`` (for the few last words of a writer that
        must not wait: the caller bounds how many)."""
        if self._dropping:
            return
        self._items.append(item)
        _wake(self._getters)

    async def get(self) -> T | Closed:
        """The next item, or :data:`CLOSED` once closed and drained."""
        while not self._items:
            if self._closed:
                return CLOSED
            waiter = asyncio.get_running_loop().create_future()
            self._getters.append(waiter)
            try:
                await waiter
            except asyncio.CancelledError:
                if waiter in self._getters:
                    self._getters.remove(waiter)
                raise
        item = self._items.popleft()
        _wake(self._putters)
        return item

    def close(self) -> None:
        """No more items will come; readers get the buffered ones, then :data:`CLOSED`."""
        self._closed = True
        while self._getters:
            _wake(self._getters)

    def drop(self) -> None:
        """The reader is gone: forget buffered items and let every writer through."""
        self._dropping = True
        self._items.clear()
        while self._putters:
            _wake(self._putters)


def _wake(waiters: deque[asyncio.Future[None]]) -> None:
    while waiters:
        waiter = waiters.popleft()
        if not waiter.done():
            waiter.set_result(None)
            return
