"""Remembering which events were handled, so the server's retries are dispatched once.

The server resends a resource event with the same ``event.id`` when an attempt fails or times
out, so a receiver sees repeats. :class:`MemorySeen` is the default: a bounded LRU of ids in
this process. Several processes behind one URL share a :class:`SeenStore` of their own (a
Redis ``SET NX``, a database unique key): anything with ``async add(id) -> bool``.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Protocol, runtime_checkable

__all__ = ["MemorySeen", "SeenStore"]


@runtime_checkable
class SeenStore(Protocol):
    """Where handled event ids are kept.

    ``add`` records ``event_id`` and returns True if it was new, False if it was already
    there. It must be atomic across the processes sharing the store.

    Example::

        class RedisSeen:
            async def add(self, event_id: str) -> bool:
                return bool(await redis.set(f"wacr:evt:{event_id}", 1, nx=True, ex=86400))
    """

    async def add(self, event_id: str) -> bool: ...


class MemorySeen:
    """The last ``size`` event ids seen by this process (least recently seen dropped first).

    Example::

        seen = MemorySeen(size=10_000)
        assert await seen.add("evt_1") and not await seen.add("evt_1")
    """

    __slots__ = ("_ids", "size")

    def __init__(self, size: int = 10_000) -> None:
        if size < 1:
            raise ValueError("size must be at least 1")
        self.size = size
        self._ids: OrderedDict[str, None] = OrderedDict()

    async def add(self, event_id: str) -> bool:
        return self.add_now(event_id)

    def add_now(self, event_id: str) -> bool:
        """``add`` without awaiting (the receiver's fast path for this store)."""
        ids = self._ids
        if event_id in ids:
            ids.move_to_end(event_id)
            return False
        ids[event_id] = None
        if len(ids) > self.size:
            ids.popitem(last=False)
        return True

    def __len__(self) -> int:
        return len(self._ids)
