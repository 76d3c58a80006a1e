"""One bounded, lazy worker pool: the fan-out engine of ``batch.map``, the contact import and
bulk sends.

A :class:`WorkerPool` reads its input one item at a time, only when there is room, and runs
one task per item with at most ``limit`` items *held* at once. An item is held from the moment
it is read until it is released: by default when its task ends, or, for a consumer that must
hand results out in order, when the consumer says so (:meth:`WorkerPool.release`). Nothing
polls: the owner awaits :meth:`WorkerPool.next_done`, which wakes when a task ends.

Hooks for the owner's accounting: ``next_index`` (items read so far), ``exhausted`` (the
input ended), :meth:`stop` (read no more; a read in progress is cancelled),
:meth:`cancel` (cancel every task) and :meth:`aclose` (cancel and wait).
"""

from __future__ import annotations

import asyncio
import functools
from collections import deque
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Callable,
    Coroutine,
    Iterable,
    Iterator,
)
from typing import Any, Generic, TypeVar

__all__ = ["END", "ItemReader", "WorkerPool", "require_positive_int"]

T = TypeVar("T")


class _End:
    """The marker :meth:`ItemReader.next` returns once the input is exhausted."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "END"


END: Any = _End()
_CUT: Any = object()  # a read that stop() cut short: the input is not exhausted


class ItemReader(Generic[T]):
    """Reads an iterable or an async iterable one item at a time, lazily.

    ``is_async`` tells whether a read may suspend. :meth:`unread` puts items back in front
    (a preflight that looked at the first items gives them back this way).

    Example::

        reader = ItemReader(range(3))
        assert await reader.next() == 0
    """

    __slots__ = ("_async", "_back", "_ended", "_sync", "is_async")

    def __init__(self, items: Iterable[T] | AsyncIterable[T]) -> None:
        self._sync: Iterator[T] | None = None
        self._async: AsyncIterator[T] | None = None
        self._back: deque[T] = deque()
        self._ended = False
        if isinstance(items, AsyncIterable):
            self._async = aiter(items)
        else:
            self._sync = iter(items)
        self.is_async = self._async is not None

    async def next(self) -> T:
        """The next item, or :data:`END`; the input's own errors are raised as they are."""
        if self._back:
            return self._back.popleft()
        if self._ended:
            return END  # type: ignore[no-any-return]  # END is typed Any on purpose
        if self._sync is not None:
            item = next(self._sync, END)
        else:
            assert self._async is not None
            try:
                item = await anext(self._async)
            except StopAsyncIteration:
                item = END
        self._ended = item is END
        return item

    def unread(self, items: Iterable[T]) -> None:
        """Serve ``items`` again, before anything not yet read."""
        self._back.extendleft(reversed(list(items)))


def require_positive_int(name: str, value: object) -> None:
    """A setting of ours that counts something (workers, a chunk's rows, failures in a row):
    a positive int, else a ValueError naming ``name``. (API fields are checked by
    ``_validate``, which raises ``ValidationError``.)"""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer, not {value!r}")


class WorkerPool(Generic[T]):
    """Run ``work(index, item)`` for each item of ``reader``, at most ``limit`` held at once.

    ``index`` counts items from 0 in input order. The owner drives the pool: :meth:`fill`
    reads and starts items while there is room, :meth:`next_done` waits for a task to end.
    With ``release_when_done=False`` an item stays held after its task ends until the owner
    calls :meth:`release` (an ordered ``map`` releases a result when it yields it).
    ``on_read(index, item)`` is called as each item is read, before its task exists.

    Example::

        pool = WorkerPool(ItemReader(urls), fetch, limit=8)
        while True:
            await pool.fill()
            done = await pool.next_done()
            if done is None:
                break
            index, task = done
    """

    __slots__ = (
        "_done",
        "_held",
        "_on_read",
        "_reading",
        "_release_when_done",
        "_wakeup",
        "_work",
        "exhausted",
        "limit",
        "next_index",
        "reader",
        "stopped",
    )

    def __init__(
        self,
        reader: ItemReader[T],
        work: Callable[[int, T], Coroutine[Any, Any, Any]],
        *,
        limit: int,
        release_when_done: bool = True,
        on_read: Callable[[int, T], object] | None = None,
    ) -> None:
        require_positive_int("limit", limit)
        self._on_read = on_read
        self.reader = reader
        self._work = work
        self.limit = limit
        self._release_when_done = release_when_done
        # index -> task, for every held item (in input order: dicts keep insertion order)
        self._held: dict[int, asyncio.Task[Any]] = {}
        # held items whose task has ended and that nobody has taken from next_done yet
        self._done: deque[int] = deque()
        self._reading: asyncio.Task[Any] | None = None
        self._wakeup: asyncio.Future[None] | None = None
        self.next_index = 0
        self.exhausted = False
        self.stopped = False

    def __len__(self) -> int:
        """How many items are held."""
        return len(self._held)

    @property
    def tasks(self) -> dict[int, asyncio.Task[Any]]:
        """The held items' tasks by index (do not modify)."""
        return self._held

    async def fill(self) -> None:
        """Read and start items until ``limit`` are held, the input ends or the pool stops.

        The input's own error is raised (the pool reads no more after it)."""
        loop = asyncio.get_running_loop()
        while not self.stopped and not self.exhausted and len(self._held) < self.limit:
            item = await self._read()
            if item is _CUT:
                return
            if item is END:
                self.exhausted = True
                return
            index = self.next_index
            self.next_index += 1
            if self._on_read is not None:
                # Accounted for at once: a task cancelled before its first step never runs.
                self._on_read(index, item)
            task = loop.create_task(self._work(index, item))
            self._held[index] = task
            task.add_done_callback(functools.partial(self._ended, index))

    def _ended(self, index: int, task: asyncio.Task[Any]) -> None:
        self._done.append(index)
        wakeup = self._wakeup
        if wakeup is not None and not wakeup.done():
            wakeup.set_result(None)

    async def _read(self) -> Any:
        if not self.reader.is_async:
            return await self.reader.next()  # never suspends
        # An async read runs as its own task, so that stop() can cancel it.
        self._reading = asyncio.ensure_future(self.reader.next())
        try:
            return await self._reading
        except asyncio.CancelledError:
            if self.stopped and not _cancelling():
                return _CUT  # stop() cancelled the read, not our caller
            raise
        except BaseException:
            self.stopped = True
            raise
        finally:
            self._reading = None

    async def next_done(self, index: int | None = None) -> tuple[int, asyncio.Task[Any]] | None:
        """Wait until a held item's task ends (item ``index``'s, if given) and return it;
        None once nothing is held. Ended items are returned once each, oldest first."""
        while True:
            if index is not None:
                task = self._held.get(index)
                if task is None:
                    return None
                if task.done():
                    if index in self._done:
                        self._done.remove(index)
                    return self._take(index)
            elif self._done:
                return self._take(self._done.popleft())
            elif all(task.done() for task in self._held.values()):
                return None  # every held item has ended and been taken: nothing to wait for
            # One future woken by whichever task ends next: no callbacks per waiting task.
            self._wakeup = asyncio.get_running_loop().create_future()
            try:
                await self._wakeup
            finally:
                self._wakeup = None

    def _take(self, index: int) -> tuple[int, asyncio.Task[Any]]:
        task = self._held[index]
        if self._release_when_done:
            del self._held[index]
        return index, task

    def first_held(self) -> int | None:
        """The lowest index still held (the head of an ordered consumer)."""
        return next(iter(self._held), None)

    def release(self, index: int) -> None:
        """Let go of item ``index`` (with ``release_when_done=False``): room for another."""
        self._held.pop(index, None)

    def stop(self) -> None:
        """Read no more items (a read in progress is cancelled); held items go on."""
        self.stopped = True
        if self._reading is not None:
            self._reading.cancel()

    def cancel(self) -> None:
        """Stop, and cancel every held item's task."""
        self.stop()
        for task in self._held.values():
            task.cancel()

    async def aclose(self) -> None:
        """Cancel every held task and wait until they have all ended."""
        self.cancel()
        tasks = list(self._held.values())
        if tasks:
            await asyncio.wait(tasks)


def _cancelling() -> bool:
    """Whether the current task itself is being cancelled (not just an awaited child)."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0
