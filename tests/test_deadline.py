"""One deadline per call: limiter waits, attempts, backoffs and 429 sleeps share one budget."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Any

import pytest

import wacr_async as wacr
from wacr_async.testing import MockTransport, Request, Response, Sandbox

ACCOUNT = {"success": True, "data": {"id": 1, "name": "Acme"}}


async def test_a_half_second_call_against_a_failing_api_ends_within_its_budget() -> None:
    async with Sandbox() as sandbox:
        sandbox.faults.add("GET /account", error_before=1.0, status_before=500)
        async with sandbox.client(timeout=0.5, max_retries=5) as client:
            started = time.monotonic()
            with pytest.raises(wacr.ServerError):
                await client.account.get()
            elapsed = time.monotonic() - started
    assert elapsed < 0.6
    assert sandbox.hits["GET /account"] >= 1


async def test_a_call_that_would_wait_past_its_deadline_for_the_window_raises_at_once() -> None:
    async with Sandbox(rate_limit=(1, 10.0)) as sandbox, sandbox.client() as client:
        await client.account.get()  # the window is spent for 10 s
        started = time.monotonic()
        with pytest.raises(wacr.RateLimitError) as caught:
            await client.with_options(timeout=2).account.get()
        elapsed = time.monotonic() - started
    assert elapsed < 0.1
    assert caught.value.status is None and caught.value.shared is True
    assert caught.value.retry_after is not None and caught.value.retry_after > 2
    assert sandbox.hits["GET /account"] == 1  # nothing more was sent


async def test_a_429_wait_past_the_deadline_is_raised_not_slept() -> None:
    limited = Response.from_json(
        {"success": False, "error": {"code": "RATE_LIMIT_EXCEEDED", "message": "slow down"}},
        status=429,
        headers={"Retry-After": "5"},
    )
    transport = MockTransport(lambda request: limited)
    async with wacr.Client("wm_test", transport=transport, rate_limit="off", timeout=1) as client:
        started = time.monotonic()
        with pytest.raises(wacr.RateLimitError) as caught:
            await client.account.get()
    assert time.monotonic() - started < 0.1
    assert caught.value.retry_after == 5
    assert len(transport.requests) == 1


class _LateLimiter:
    """Grants every permit, but only after the call's deadline has passed."""

    state = None

    def lane(self, *, priority: str = "normal", share: float | None = None) -> Any:
        return object()

    async def acquire(self, lane: Any, *, deadline: float | None = None) -> Any:
        assert deadline is not None
        loop = asyncio.get_running_loop()
        await asyncio.sleep(max(0.0, deadline - loop.time()) + 0.01)
        return object()

    released = 0

    def release(self, permit: Any) -> None:
        self.released += 1

    async def record(
        self, permit: Any, *, status: int | None, headers: Mapping[str, str] | None, **_: Any
    ) -> None:
        return None

    async def aclose(self) -> None:
        return None


async def test_no_attempt_starts_once_the_budget_is_spent() -> None:
    limiter = _LateLimiter()
    transport = MockTransport(lambda request: Response.from_json(ACCOUNT))
    client = wacr.Client(
        "wm_test",
        transport=transport,
        rate_limiter=limiter,
        timeout=0.05,  # type: ignore[arg-type]
    )
    async with client:
        with pytest.raises(wacr.APITimeoutError) as caught:
            await client.account.get()
    assert caught.value.sent is False
    assert transport.requests == [] and limiter.released == 1


async def test_each_attempt_gets_what_is_left_of_the_call() -> None:
    deadlines: list[float | None] = []

    def handler(request: Request) -> Response:
        deadlines.append(request.deadline)
        return Response.from_json(ACCOUNT)

    async with wacr.Client("wm_test", transport=MockTransport(handler), timeout=3) as client:
        loop = asyncio.get_running_loop()
        before = loop.time()
        await client.account.get()
    assert deadlines[0] is not None and before + 2.9 < deadlines[0] <= loop.time() + 3
