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
    watch = watch_messages(
        client.messages,
        filter={"direction": "inbound"},
        sleep=waits.sleep,
        own_number="+" + sandbox.state.wa_number,
    )

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
    # the sandbox answers filter[direction] with the server code's 500
    assert watch.direction_source == "sender_id"


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


async def started(watch: wacr.MessageWatch[wacr.Message]) -> None:
    """Wait until the watch has its starting point (taken in the background when created)."""
    for _ in range(500):
        if watch.last_seen_id is not None:
            return
        await asyncio.sleep(0.002)
    raise AssertionError("the watch never took its starting point")


async def test_inbound_only_where_the_server_refuses_filter_direction(
    sandbox: Sandbox, client: wacr.Client
) -> None:
    sandbox.receive(PHONE, "old")
    watch = client.messages.watch(inbound_only=True, interval=0.01)
    await started(watch)
    await client.messages.send_text(PHONE, "our own reply")
    sandbox.receive(PHONE, "new question")
    await client.messages.send_text(PHONE, "another reply")
    sandbox.receive("+15550002222", "second customer")

    got = [await anext(watch) for _ in range(2)]
    assert [(m.message, m.direction) for m in got] == [
        ("new question", "inbound"),
        ("second customer", "inbound"),
    ]
    assert watch.direction_source == "sender_id"
    assert sandbox.hits["GET /account"] == 1  # the own number is read once
    await watch.aclose()


async def test_inbound_only_asks_the_server_while_it_honours_the_filter() -> None:
    async with Sandbox(documented_queries=True) as sandbox, sandbox.client() as client:
        watch = client.messages.watch(inbound_only=True, interval=0.01)
        await started(watch)
        await client.messages.send_text(PHONE, "our own reply")
        sandbox.receive(PHONE, "hello")
        assert (await anext(watch)).message == "hello"
        assert watch.direction_source == "server"
        assert sandbox.hits["GET /account"] == 0


async def test_nothing_is_lost_between_watch_and_its_first_poll(
    sandbox: Sandbox, client: wacr.Client
) -> None:
    sandbox.receive(PHONE, "before")
    watch = client.messages.watch(interval=0.01)
    await started(watch)
    sandbox.receive(PHONE, "between watch() and the first poll")
    assert (await anext(watch)).message == "between watch() and the first poll"


async def test_a_watch_dropped_before_its_start_is_closed_cleanly(
    sandbox: Sandbox, client: wacr.Client
) -> None:
    async with client.messages.watch() as watch:
        pass
    assert watch.last_seen_id is None


async def test_the_starting_point_can_be_stored_before_the_first_message(
    sandbox: Sandbox, client: wacr.Client
) -> None:
    newest = sandbox.receive(PHONE, "already there")
    watch = client.messages.watch(inbound_only=True, interval=0.01)
    assert await watch.starting_point() == newest["id"]
    sandbox.receive(PHONE, "after")
    assert (await anext(watch)).message == "after"
