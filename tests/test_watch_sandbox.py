"""Watching for new messages against the sandbox over real sockets."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

import wacr_async as wacr
from wacr_async._watch import watch_messages
from wacr_async.testing import Sandbox

PHONE = "+15550001111"


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with Sandbox() as sandbox:
        yield sandbox


@pytest.fixture
async def client(sandbox: Sandbox) -> AsyncIterator[wacr.Client]:
    async with sandbox.client() as client:
        yield client


class Waits:
    """``sleep`` for the watch: real (short) sleeps, and an event set at the first one."""

    def __init__(self) -> None:
        self.started = asyncio.Event()

    async def sleep(self, seconds: float) -> None:
        self.started.set()  # the first look is done
        await asyncio.sleep(min(seconds, 0.01))


async def test_new_inbound_messages_arrive_oldest_first(
    sandbox: Sandbox, client: wacr.Client
) -> None:
    sandbox.receive(PHONE, "before the start")
    waits = Waits()
    watch = watch_messages(client.messages, filter={"direction": "inbound"}, sleep=waits.sleep)

    async def three() -> list[str | None]:
        return [(await anext(watch)).message for _ in range(3)]

    reader = asyncio.create_task(three())
    await waits.started.wait()
    for text in ("one", "two"):
        sandbox.receive(PHONE, text)
    await client.messages.send_text(phone=PHONE, message="an outbound reply")
    sandbox.receive(PHONE, "three")
    assert await reader == ["one", "two", "three"]
    assert watch.last_seen_id == max(row["id"] for row in sandbox.state.messages)


async def test_after_id_resumes_with_the_history_since_then(
    sandbox: Sandbox, client: wacr.Client
) -> None:
    rows = [sandbox.receive(PHONE, f"m{i}") for i in range(130)]
    watch = watch_messages(client.messages, after_id=rows[9]["id"], per_page=50)
    got = [(await anext(watch)).message for _ in range(120)]
    assert got == [f"m{i}" for i in range(10, 130)]
    # newest first, 50 a page: pages 1-3 hold the 120 new ones and the first seen one
    assert sandbox.hits["GET /messages"] == 3


async def test_messages_watch_is_the_same_watch(sandbox: Sandbox, client: wacr.Client) -> None:
    first = sandbox.receive(PHONE, "seen")
    sandbox.receive(PHONE, "new")
    watch = client.messages.watch(filter={"direction": "inbound"}, after_id=first["id"])
    assert (await anext(watch)).message == "new"
    assert watch.last_seen_id == first["id"] + 1
