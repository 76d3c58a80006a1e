"""How the Receiver runs handlers: on its own worker tasks, after the answer, bounded."""

from __future__ import annotations

import asyncio
import contextvars
import copy
import logging
from typing import Any

import pytest

from wacr_async import webhooks

from .conftest import CONTACT_UPDATED, SECRET, SOURCE_CREATED, signed


def numbered(n: int) -> tuple[bytes, dict[str, str]]:
    """A signed contact event with its own id (so it is not dropped as a repeat)."""
    payload: dict[str, Any] = copy.deepcopy(CONTACT_UPDATED)
    payload["event"]["id"] = f"evt_1702468200_{n:010d}"
    return signed(payload)


async def test_handlers_run_after_the_answer_inside_a_task() -> None:
    receiver = webhooks.Receiver(secret=SECRET)
    seen: list[tuple[str | None, bool]] = []

    @receiver.on("*")
    async def handler(event: webhooks.Event) -> None:
        async with asyncio.timeout(5):  # needs a current task
            await asyncio.sleep(0)
        seen.append((event.id, asyncio.current_task() is not None))

    reply = await receiver.receive(*numbered(1))
    assert reply.status == 200 and seen == [] and receiver.pending == 1
    await receiver.join()
    assert seen == [("evt_1702468200_0000000001", True)] and receiver.pending == 0
    await receiver.aclose()


async def test_a_burst_of_quick_handlers_shares_one_task() -> None:
    receiver = webhooks.Receiver(secret=SECRET)
    tasks: list[asyncio.Task[Any] | None] = []

    @receiver.on("*")
    async def quick(event: webhooks.Event) -> None:
        tasks.append(asyncio.current_task())

    for n in range(50):
        assert (await receiver.receive(*numbered(n))).status == 200
    assert receiver.pending == 50 and tasks == []  # answered, none handled yet
    await receiver.join()
    assert len(tasks) == 50 and len(set(tasks)) == 1 and tasks[0] is not None
    await receiver.aclose()


async def test_a_waiting_handler_does_not_hold_up_the_others() -> None:
    receiver = webhooks.Receiver(secret=SECRET)
    release, others_done = asyncio.Event(), asyncio.Event()
    order: list[str] = []

    @receiver.on("*")
    async def handler(event: webhooks.Event) -> None:
        if event.id == "evt_1702468200_0000000000":
            await release.wait()
        order.append(str(event.id)[-1])
        if len(order) == 2:
            others_done.set()

    for n in range(3):
        await receiver.receive(*numbered(n))
    await asyncio.wait_for(others_done.wait(), 5)
    assert order == ["1", "2"] and receiver.pending == 1
    release.set()
    await receiver.join()
    assert order == ["1", "2", "0"]
    await receiver.aclose()


async def test_pending_counts_accepted_events_and_bounds_the_answers() -> None:
    receiver = webhooks.Receiver(secret=SECRET, max_concurrency=2)
    release = asyncio.Event()
    handled: list[str | None] = []

    @receiver.on("*")
    async def slow(event: webhooks.Event) -> None:
        await release.wait()
        handled.append(event.id)

    assert (await receiver.receive(*numbered(1))).status == 200
    assert (await receiver.receive(*numbered(2))).status == 200
    assert receiver.pending == 2  # accepted, not yet handled
    third = asyncio.create_task(receiver.receive(*numbered(3)))
    for _ in range(5):
        await asyncio.sleep(0)
    assert not third.done() and receiver.pending == 2  # the answer waits for room
    release.set()
    assert (await third).status == 200
    await receiver.join()
    assert sorted(str(i) for i in handled) == [f"evt_1702468200_{n:010d}" for n in (1, 2, 3)]
    await receiver.aclose()


async def test_errors_are_logged_with_the_event_id_before_and_after_a_wait(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.ERROR, logger="wacr_async.webhooks")
    receiver = webhooks.Receiver(secret=SECRET)
    after: list[str | None] = []

    @receiver.on("contact.*")
    async def at_once(event: webhooks.Event) -> None:
        raise RuntimeError("broken at once")

    @receiver.on("contact.*")
    async def later(event: webhooks.Event) -> None:
        await asyncio.sleep(0)
        raise RuntimeError("broken after a wait")

    @receiver.on("*")
    async def last(event: webhooks.Event) -> None:
        after.append(event.id)

    assert (await receiver.receive(*numbered(7))).status == 200
    await receiver.join()
    assert after == ["evt_1702468200_0000000007"]
    records = [r for r in caplog.records if "failed on event" in r.getMessage()]
    assert [str(r.exc_info[1]) for r in records if r.exc_info] == [
        "broken at once",
        "broken after a wait",
    ]
    assert {getattr(r, "wacr_event_id", None) for r in records} == {"evt_1702468200_0000000007"}
    await receiver.aclose()


async def test_a_handler_raising_cancelled_error_ends_only_its_event() -> None:
    receiver = webhooks.Receiver(secret=SECRET)
    seen: list[str | None] = []

    @receiver.on("*")
    async def handler(event: webhooks.Event) -> None:
        if event.id == "evt_1702468200_0000000001":
            raise asyncio.CancelledError
        seen.append(event.id)

    for n in range(1, 4):
        await receiver.receive(*numbered(n))
    await receiver.join()
    assert seen == ["evt_1702468200_0000000002", "evt_1702468200_0000000003"]
    await receiver.aclose()


async def test_aclose_grace_cancels_running_handlers_and_drops_queued_events(
    caplog: pytest.LogCaptureFixture,
) -> None:
    receiver = webhooks.Receiver(secret=SECRET, max_concurrency=1)
    cancelled: list[str | None] = []

    @receiver.on("*")
    async def stuck(event: webhooks.Event) -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.append(event.id)
            raise

    await receiver.receive(*numbered(1))
    await asyncio.sleep(0)  # the only worker is now stuck in the first event
    queued = asyncio.create_task(receiver.receive(*signed(SOURCE_CREATED)))
    await asyncio.sleep(0)
    assert receiver.pending == 1 and not queued.done()
    await receiver.aclose(grace=0.01)
    assert cancelled == ["evt_1702468200_0000000001"] and receiver.pending == 0
    assert (await queued).status == 503  # closed while waiting for room: retried later
    assert (await receiver.receive(*numbered(2))).status == 503
    await receiver.aclose()  # twice is fine


async def test_aclose_without_grace_drains_the_queue_then_stops_the_workers() -> None:
    receiver = webhooks.Receiver(secret=SECRET)
    handled: list[str | None] = []

    @receiver.on("*")
    async def slow(event: webhooks.Event) -> None:
        await asyncio.sleep(0.001)
        handled.append(event.id)

    for n in range(5):
        await receiver.receive(*numbered(n))
    await receiver.aclose()
    assert len(handled) == 5 and receiver.pending == 0
    coroutines = [t.get_coro() for t in asyncio.all_tasks()]
    assert not [c for c in coroutines if getattr(c, "__qualname__", "") == "Receiver._work"]


REQUEST_ID: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


async def test_each_handler_runs_in_the_context_of_its_request() -> None:
    receiver = webhooks.Receiver(secret=SECRET)
    seen: list[tuple[str, str]] = []

    @receiver.on("*")
    async def handler(event: webhooks.Event) -> None:
        before = REQUEST_ID.get()
        REQUEST_ID.set("changed by a handler")
        await asyncio.sleep(0)
        seen.append((before, REQUEST_ID.get()))

    async def request(n: int) -> None:  # as a framework runs each request in its own task
        REQUEST_ID.set(f"request {n}")
        await receiver.receive(*numbered(n))

    await asyncio.gather(request(1), request(2))
    await receiver.join()
    assert sorted(seen) == [
        ("request 1", "changed by a handler"),
        ("request 2", "changed by a handler"),
    ]
    assert REQUEST_ID.get() == "-"
    await receiver.aclose()


async def test_aclose_grace_ends_even_when_a_handler_swallows_the_cancel() -> None:
    receiver = webhooks.Receiver(secret=SECRET)
    swallowed: list[str | None] = []

    @receiver.on("*")
    async def stubborn(event: webhooks.Event) -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            swallowed.append(event.id)  # and returns as if nothing happened

    await receiver.receive(*numbered(1))
    await asyncio.sleep(0)
    await asyncio.wait_for(receiver.aclose(grace=0.01), 5)
    assert swallowed == ["evt_1702468200_0000000001"] and receiver.pending == 0
    coroutines = [t.get_coro() for t in asyncio.all_tasks()]
    assert not [c for c in coroutines if getattr(c, "__qualname__", "") == "Receiver._work"]


class SlowSeen:
    """A shared ``seen`` store whose ``add`` waits until the test lets it finish."""

    def __init__(self) -> None:
        self.ids: set[str] = set()
        self.release = asyncio.Event()
        self.asked = asyncio.Event()

    async def add(self, event_id: str) -> bool:
        self.asked.set()
        await self.release.wait()
        fresh = event_id not in self.ids
        self.ids.add(event_id)
        return fresh


def slow_seen_receiver() -> tuple[SlowSeen, webhooks.Receiver, list[str | None]]:
    """A receiver on a :class:`SlowSeen` store, and the ids its handler was given."""
    seen = SlowSeen()
    receiver = webhooks.Receiver(secret=SECRET, seen=seen)
    handled: list[str | None] = []

    @receiver.on("*")
    async def handler(event: webhooks.Event) -> None:
        handled.append(event.id)

    return seen, receiver, handled


@pytest.mark.parametrize("how", ["awaits", "returns", "converts"])
async def test_a_handler_cancelling_its_own_task_ends_only_its_event(
    how: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="wacr_async.webhooks")
    receiver = webhooks.Receiver(secret=SECRET, max_concurrency=1)
    handled: list[str | None] = []

    @receiver.on("*")
    async def handler(event: webhooks.Event) -> None:
        if event.id == "evt_1702468200_0000000001":
            task = asyncio.current_task()
            assert task is not None
            if how == "returns":  # cancels itself and returns before the cancel lands
                task.cancel()
                return
            if how == "converts":  # as an old async_timeout does: no uncancel()
                asyncio.get_running_loop().call_soon(task.cancel)
                try:
                    await asyncio.sleep(1)
                except asyncio.CancelledError:
                    raise TimeoutError from None
            task.cancel()
            await asyncio.sleep(0)
        await asyncio.sleep(0)
        handled.append(event.id)

    for n in range(1, 6):
        reply = await asyncio.wait_for(receiver.receive(*numbered(n)), 5)
        assert reply.status == 200
    await asyncio.wait_for(receiver.join(), 5)
    assert sorted(str(i) for i in handled) == [f"evt_1702468200_{n:010d}" for n in range(2, 6)]
    logged = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert logged and all("evt_1702468200_0000000001" in r.getMessage() for r in logged)
    for n in range(6, 9):  # the receiver goes on serving
        assert (await asyncio.wait_for(receiver.receive(*numbered(n)), 5)).status == 200
    await asyncio.wait_for(receiver.join(), 5)
    assert len(handled) == 7 and receiver.pending == 0
    await asyncio.wait_for(receiver.aclose(), 5)


async def test_a_worker_cancelled_from_outside_stops_and_another_takes_the_queue() -> None:
    receiver = webhooks.Receiver(secret=SECRET, max_concurrency=1)
    release = asyncio.Event()
    handled: list[str | None] = []

    @receiver.on("*")
    async def handler(event: webhooks.Event) -> None:
        await release.wait()
        handled.append(event.id)

    await receiver.receive(*numbered(1))
    await asyncio.sleep(0)
    (worker,) = [
        t
        for t in asyncio.all_tasks()
        if getattr(t.get_coro(), "__qualname__", "") == "Receiver._work"
    ]
    waiting = asyncio.create_task(receiver.receive(*numbered(2)))
    await asyncio.sleep(0)
    worker.cancel()  # as the loop does when it shuts down with the receiver still open
    await asyncio.wait([worker], timeout=5)
    assert worker.cancelled()
    release.set()
    assert (await asyncio.wait_for(waiting, 5)).status == 200
    await asyncio.wait_for(receiver.join(), 5)
    assert handled == ["evt_1702468200_0000000002"]
    await asyncio.wait_for(receiver.aclose(), 5)


async def test_an_event_recorded_as_seen_while_closing_is_never_answered_5xx(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="wacr_async.webhooks")
    seen, receiver, handled = slow_seen_receiver()
    request = asyncio.create_task(receiver.receive(*numbered(1)))
    await asyncio.wait_for(seen.asked.wait(), 5)
    await asyncio.wait_for(receiver.aclose(grace=0.01), 5)  # the store is still recording
    seen.release.set()
    reply = await asyncio.wait_for(request, 5)
    assert seen.ids == {"evt_1702468200_0000000001"}
    assert reply.status == 200  # recorded: a retry would be a repeat, so no 5xx
    assert handled == []
    assert any("evt_1702468200_0000000001" in r.getMessage() for r in caplog.records)
    assert (await receiver.receive(*numbered(2))).status == 503  # not recorded


async def test_an_event_recorded_as_seen_before_aclose_drains_is_handled() -> None:
    seen, receiver, handled = slow_seen_receiver()
    request = asyncio.create_task(receiver.receive(*numbered(1)))
    await asyncio.wait_for(seen.asked.wait(), 5)
    closing = asyncio.create_task(receiver.aclose())  # waits for the recording, then the handler
    await asyncio.sleep(0)
    seen.release.set()
    assert (await asyncio.wait_for(request, 5)).status == 200
    await asyncio.wait_for(closing, 5)
    assert handled == ["evt_1702468200_0000000001"]


def test_a_receiver_serves_one_event_loop_after_another() -> None:
    receiver = webhooks.Receiver(secret=SECRET)
    handled: list[str | None] = []

    @receiver.on("*")
    async def handler(event: webhooks.Event) -> None:
        await asyncio.sleep(0)  # still running when join() starts waiting
        handled.append(event.id)

    async def deliver(n: int) -> None:  # one test on its own loop, as pytest-asyncio runs it
        assert (await receiver.receive(*numbered(n))).status == 200
        await asyncio.wait_for(receiver.join(), 5)

    asyncio.run(deliver(1))
    asyncio.run(deliver(2))
    assert handled == ["evt_1702468200_0000000001", "evt_1702468200_0000000002"]
    asyncio.run(receiver.aclose())
