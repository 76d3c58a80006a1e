"""The one worker pool behind ``batch.map``, the contact import and bulk sends."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest

from wacr_async._pool import ItemReader, WorkerPool


async def test_it_reads_lazily_and_holds_at_most_limit_items() -> None:
    read: list[int] = []
    running = 0
    most = 0

    def items() -> Iterator[int]:
        for n in range(50):
            read.append(n)
            yield n

    async def work(index: int, item: int) -> int:
        nonlocal running, most
        running += 1
        most = max(most, running)
        await asyncio.sleep(0)
        running -= 1
        return item

    accounted: list[int] = []
    pool = WorkerPool(
        ItemReader(items()), work, limit=4, on_read=lambda index, item: accounted.append(index)
    )
    await pool.fill()
    assert read == [0, 1, 2, 3]  # nothing read beyond the room there is
    finished = []
    while True:
        await pool.fill()
        assert len(pool) <= 4
        taken = await pool.next_done()
        if taken is None:
            break
        finished.append(taken[1].result())
    assert sorted(finished) == list(range(50))
    assert accounted == list(range(50))
    assert most == 4
    assert pool.exhausted


async def test_stop_cancels_a_read_in_progress_and_reads_no_more() -> None:
    gate = asyncio.Event()

    async def items() -> AsyncIterator[int]:
        yield 0
        await gate.wait()  # an input that blocks: a queue nobody fills, say
        yield 1

    async def work(index: int, item: int) -> None:
        return None

    pool = WorkerPool(ItemReader(items()), work, limit=4)
    filling = asyncio.ensure_future(pool.fill())
    await asyncio.sleep(0.01)
    assert not filling.done()  # blocked reading item 1
    pool.stop()
    async with asyncio.timeout(5):
        await filling
    assert pool.next_index == 1
    assert not pool.exhausted
    assert await pool.next_done() is not None
    assert await pool.next_done() is None


async def test_an_ordered_consumer_releases_items_itself() -> None:
    async def work(index: int, item: int) -> int:
        await asyncio.sleep(0.02 if index == 0 else 0)
        return item

    pool = WorkerPool(ItemReader(range(10)), work, limit=3, release_when_done=False)
    await pool.fill()
    await asyncio.sleep(0.005)  # items 1 and 2 are done, item 0 is not
    await pool.fill()
    assert pool.next_index == 3  # finished but unreleased items still hold their place
    head = pool.first_held()
    assert head == 0
    taken = await pool.next_done(head)
    assert taken is not None
    pool.release(taken[0])
    await pool.fill()
    assert pool.next_index == 4
    await pool.aclose()


async def test_aclose_cancels_every_task_and_waits_for_them() -> None:
    started = asyncio.Event()

    async def work(index: int, item: int) -> None:
        started.set()
        await asyncio.sleep(60)

    pool = WorkerPool(ItemReader(range(3)), work, limit=3)
    await pool.fill()
    await started.wait()
    tasks = list(pool.tasks.values())
    await pool.aclose()
    assert all(task.cancelled() for task in tasks)


def test_the_limit_must_be_a_positive_integer() -> None:
    async def work(index: int, item: int) -> None:
        return None

    with pytest.raises(ValueError, match="limit"):
        WorkerPool(ItemReader([]), work, limit=0)
