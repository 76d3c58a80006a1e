"""``client.batch.map``: bounded, lazy fan-out of any call, ordered or as completed."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING

import pytest

import wacr_async as wacr
from wacr_async.testing import Sandbox

if TYPE_CHECKING:
    from .conftest import Eventually


@pytest.fixture
async def client() -> AsyncIterator[wacr.Client]:
    async with Sandbox() as sandbox, sandbox.client() as client:
        yield client


class Probe:
    """An async function that records how many calls run at once."""

    def __init__(self, delays: dict[int, float] | None = None) -> None:
        self.running = 0
        self.most = 0
        self.started: list[int] = []
        self.delays = delays or {}

    async def __call__(self, n: int) -> int:
        self.started.append(n)
        self.running += 1
        self.most = max(self.most, self.running)
        try:
            await asyncio.sleep(self.delays.get(n, 0.001))
            if n < 0:
                raise ValueError(f"negative {n}")
            return n * 10
        finally:
            self.running -= 1


async def test_results_come_in_input_order_with_bounded_concurrency(client: wacr.Client) -> None:
    probe = Probe({0: 0.05})
    results = [r async for r in client.batch.map(probe, range(20), concurrency=3)]
    assert results == [n * 10 for n in range(20)]
    assert probe.most == 3


async def test_unordered_results_come_as_they_complete(client: wacr.Client) -> None:
    probe = Probe({0: 0.1})
    results = [r async for r in client.batch.map(probe, range(6), concurrency=6, ordered=False)]
    assert sorted(results) == [n * 10 for n in range(6)]
    assert results[-1] == 0  # the slow first call finished last


async def test_items_are_read_only_when_a_call_can_start(client: wacr.Client) -> None:
    read: list[int] = []

    def items() -> Iterator[int]:
        for n in range(1000):
            read.append(n)
            yield n

    async with contextlib.aclosing(client.batch.map(Probe(), items(), concurrency=4)) as results:
        async for result in results:
            if result == 50:
                break
    assert len(read) <= 51 + 4


async def test_an_error_ends_the_map_and_cancels_the_calls_running(client: wacr.Client) -> None:
    probe = Probe({-1: 0.0, 5: 10.0})
    with pytest.raises(ValueError, match="negative"):
        async with asyncio.timeout(5):
            async for _ in client.batch.map(probe, [5, -1, 2, 3], concurrency=2, ordered=False):
                pass
    await asyncio.sleep(0)
    assert probe.running == 0


async def test_return_exceptions_yields_errors_in_place(client: wacr.Client) -> None:
    results = [
        r
        async for r in client.batch.map(Probe(), [1, -2, 3], concurrency=2, return_exceptions=True)
    ]
    assert results[0] == 10
    assert isinstance(results[1], ValueError)
    assert results[2] == 30


async def test_map_over_a_real_call_and_an_async_iterable(client: wacr.Client) -> None:
    created = [await client.groups.create(name=f"group {n}") for n in range(5)]

    async def ids() -> AsyncIterator[int]:
        for group in created:
            yield group.id

    names = [g.name async for g in client.batch.map(client.groups.get, ids(), concurrency=3)]
    assert names == [f"group {n}" for n in range(5)]


def test_concurrency_must_be_positive(client: wacr.Client) -> None:
    with pytest.raises(ValueError, match="concurrency"):
        client.batch.map(Probe(), [1], concurrency=0)


async def test_cancelling_the_consumer_of_an_ordered_map_cancels_the_call_it_waits_for(
    client: wacr.Client, eventually: Eventually
) -> None:
    started: list[int] = []
    finished: list[int] = []
    cancelled: list[int] = []

    async def call(n: int) -> int:
        started.append(n)
        try:
            await asyncio.sleep(30.0 if n == 0 else 0.001)
        except asyncio.CancelledError:
            cancelled.append(n)
            raise
        finished.append(n)
        return n

    async def consume() -> None:
        async for _ in client.batch.map(call, range(4), concurrency=2):
            pass

    task = asyncio.create_task(consume())
    await eventually(lambda: 0 in started and 1 in finished)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    # The slow head call (the one the consumer was waiting on) was cancelled with it, and
    # had finished cancelling by the time the consumer's cancellation was delivered.
    assert cancelled == [0]
    assert 0 not in finished
    others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    assert others == []
