"""Pacing against the sandbox's fixed-window limiter: no 429 storms, one shared cooldown.

The sandbox runs in-process, over real sockets, on a virtual-time loop: its window and the
client's waits run on that loop's clock, so a 30-second window passes instantly.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import wacr_async as wacr
from tests.conftest import status_counter
from tests.virtual_time import run_virtual
from wacr_async.testing import Sandbox


async def run_bounded(count: int, workers: int, call: Callable[[], Awaitable[object]]) -> None:
    remaining = iter(range(count))

    async def worker() -> None:
        for _ in remaining:
            await call()

    async with asyncio.TaskGroup() as group:
        for _ in range(workers):
            group.create_task(worker())


def test_auto_pacing_waits_for_the_window_instead_of_hitting_429() -> None:
    async def main() -> None:
        trace, statuses = status_counter()
        async with Sandbox(rate_limit=(10, 0.5)) as sandbox:
            async with sandbox.client(trace_configs=[trace]) as client:
                # Three windows' worth from more tasks than one window allows.
                await run_bounded(30, 16, client.account.get)
            assert sandbox.hits["GET /account"] == 30
        assert statuses == {200: 30}

    run_virtual(main())


def test_rate_limit_state_is_exposed_for_dashboards() -> None:
    async def main() -> None:
        async with Sandbox(rate_limit=(5, 30.0)) as sandbox, sandbox.client() as client:
            assert client.rate_limit.limit is None  # nothing known before the first answer
            before = time.time()
            await client.account.get()
            await client.account.get()
            state = client.rate_limit
            assert state.limit == 5
            assert state.remaining == 3
            assert state.window == 30
            assert not state.unlimited
            assert state.cooling_down_until is None
            assert state.reset_at is not None
            assert before + 29 <= state.reset_at <= time.time() + 30.5
            # Views share the client's limiter.
            view = client.with_options(max_retries=0)
            await view.account.get()
            assert view.rate_limit.remaining == client.rate_limit.remaining == 2

    run_virtual(main())


def test_whitelisted_token_reads_unlimited_and_is_not_paced() -> None:
    async def main() -> None:
        trace, statuses = status_counter()
        sandbox = Sandbox(rate_limit=(2, 60.0), whitelisted_tokens={"wm_sandbox"})
        async with sandbox, sandbox.client(trace_configs=[trace]) as client:
            await run_bounded(10, 5, client.account.get)
            assert client.rate_limit.unlimited
            assert client.rate_limit.limit is None
        assert statuses == {200: 10}

    run_virtual(main())


def test_429s_put_the_whole_client_into_one_cooldown() -> None:
    async def main() -> None:
        # Pacing off, so that ten concurrent calls run into a window of five.
        trace, statuses = status_counter()
        async with Sandbox(rate_limit=(5, 1.0)) as sandbox:
            async with sandbox.client(rate_limit="off", trace_configs=[trace]) as client:
                phones = [f"+1555000{n:04d}" for n in range(10)]
                await asyncio.gather(*(client.messages.send_text(p, "Hi") for p in phones))
            assert len(sandbox.sends) == 10
            assert sandbox.duplicate_sends() == []
        # Five got a 429 once each and waited together; nobody hammered the window again.
        assert statuses == {200: 10, 429: 5}

    run_virtual(main())


def test_fixed_pace_spaces_requests_evenly() -> None:
    async def main() -> None:
        trace, statuses = status_counter()
        async with Sandbox() as sandbox:
            async with sandbox.client(rate_limit=600, trace_configs=[trace]) as client:
                started = asyncio.get_running_loop().time()
                await asyncio.gather(*(client.account.get() for _ in range(6)))
                elapsed = asyncio.get_running_loop().time() - started
            assert sandbox.hits["GET /account"] == 6
        # 600 per minute is one every 0.1 s: six calls cannot finish sooner than 0.5 s.
        assert elapsed >= 0.45
        assert statuses == {200: 6}

    run_virtual(main())


def test_pacing_off_sends_without_waiting_for_the_window() -> None:
    async def main() -> None:
        trace, statuses = status_counter()
        sandbox = Sandbox(rate_limit=(3, 30.0))
        async with (
            sandbox,
            sandbox.client(rate_limit="off", max_retries=0, trace_configs=[trace]) as c,
        ):
            results = await asyncio.gather(
                *(c.account.get() for _ in range(5)), return_exceptions=True
            )
        assert sum(isinstance(r, wacr.RateLimitError) for r in results) == 2
        assert statuses == {200: 3, 429: 2}

    run_virtual(main())


def test_cancelled_waiters_leave_the_limiter_clean() -> None:
    async def main() -> None:
        # No deadline: a wait past a call's deadline would raise at once instead of queueing.
        async with Sandbox(rate_limit=(2, 30.0)) as sandbox, sandbox.client(timeout=None) as client:
            await client.account.get()
            await client.account.get()  # the window is spent for 30 s
            waiting = [asyncio.ensure_future(client.account.get()) for _ in range(5)]
            for _ in range(100):  # until all five are queued at the limiter
                if client._core.limiter.waiting == 5:
                    break
                await asyncio.sleep(0)
            assert client._core.limiter.waiting == 5
            assert not any(task.done() for task in waiting)
            for task in waiting:
                task.cancel()
            results = await asyncio.gather(*waiting, return_exceptions=True)
            assert all(isinstance(r, asyncio.CancelledError) for r in results)
            assert client._core.limiter.waiting == 0
            assert sandbox.hits["GET /account"] == 2  # none of them went out

    run_virtual(main())
