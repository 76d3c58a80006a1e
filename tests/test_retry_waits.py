"""The waits a retry honours, in virtual time: the server's ``Retry-After`` (seconds or an
HTTP date), a spent window's reset, and that ``no_wait()`` never skips them. A cancelled call
leaves the client usable. Through a MockTransport: no sockets, no real sleeps."""

from __future__ import annotations

import asyncio
import email.utils
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import wacr_async as wacr
from tests.test_retry_loop import ACCOUNT, SENT
from tests.virtual_time import run_virtual, settle
from wacr_async.testing import MockTransport, Request, Response, no_wait

SOURCE = {"success": True, "data": {"id": 1, "name": "Web"}}


@pytest.fixture(autouse=True)
def _instant_retries() -> Iterator[None]:
    with no_wait():
        yield


def rate_limited(headers: dict[str, str]) -> Response:
    body = {"success": False, "error": {"code": "RATE_LIMIT_EXCEEDED", "message": "Too many"}}
    return Response.from_json(body, status=429, headers=headers)


def in_order(*answers: Response) -> MockTransport:
    """A transport giving these answers in order, then repeating the last one."""
    queue = list(answers)
    return MockTransport(lambda request: queue.pop(0) if len(queue) > 1 else queue[0])


def elapsed_since(started: float) -> float:
    return asyncio.get_running_loop().time() - started


def retry_after_date() -> dict[str, str]:
    return {"Retry-After": email.utils.formatdate(time.time() + 2, usegmt=True)}


def reset_header_only() -> dict[str, str]:
    return {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(time.time()) + 2)}


@pytest.mark.parametrize("make_headers", [retry_after_date, reset_header_only])
def test_429_wait_comes_from_an_http_date_or_the_reset_header(
    make_headers: Callable[[], dict[str, str]],
) -> None:
    async def main() -> None:
        transport = in_order(rate_limited(make_headers()), Response.from_json(SOURCE))
        async with wacr.Client("wm_test", transport=transport) as client:
            started = asyncio.get_running_loop().time()
            source = await client.sources.get(1)
            waited = elapsed_since(started)
        assert source.id == 1
        assert len(transport.requests) == 2
        # Both say "in one to two seconds" (whole-second resolution): the retry waited for it.
        assert 0.9 <= waited <= 2.5

    run_virtual(main())


def test_rate_limited_send_is_retried_after_the_window_and_sent_once() -> None:
    async def main() -> None:
        spent = {"Retry-After": "1", "X-RateLimit-Limit": "1", "X-RateLimit-Remaining": "0"}
        transport = in_order(
            Response.from_json(SENT), rate_limited(spent), Response.from_json(SENT)
        )
        async with wacr.Client("wm_test", transport=transport, rate_limit="off") as client:
            await client.messages.send_text("+15550001111", "first")
            started = asyncio.get_running_loop().time()
            second = await client.messages.send_text("+15550002222", "second")
            waited = elapsed_since(started)
        assert second.message_id
        bodies = [request.json for request in transport.requests]
        # ok, 429 (refused before anything was done), ok: the second went out once more.
        assert [body["message"] for body in bodies] == ["first", "second", "second"]
        assert waited >= 1.0

    run_virtual(main())


def test_no_wait_still_honours_the_servers_wait() -> None:
    # no_wait skips the client's own backoff sleeps only; the server's wait stays, or the
    # retry would just earn another 429.
    async def main() -> None:
        transport = in_order(rate_limited({"Retry-After": "0.5"}), Response.from_json(ACCOUNT))
        async with wacr.Client("wm_test", transport=transport, rate_limit="off") as client:
            started = asyncio.get_running_loop().time()
            await client.account.get()
            waited = elapsed_since(started)
        assert len(transport.requests) == 2
        assert waited >= 0.5

    run_virtual(main())


def test_cancelled_call_leaves_the_client_usable() -> None:
    async def main() -> None:
        entered = asyncio.Event()
        never = asyncio.Event()

        async def answer(request: Request) -> Response:
            if not entered.is_set():
                entered.set()
                await never.wait()  # the first call hangs on the wire
            return Response.from_json(ACCOUNT)

        async with wacr.Client("wm_test", transport=MockTransport(answer)) as client:
            task = asyncio.ensure_future(client.account.get())
            await entered.wait()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            await settle()
            assert (await client.account.get()).id == 1

    run_virtual(main())


def test_every_wait_here_is_virtual() -> None:
    # The point of this module: a 30-second server wait costs no real time.
    async def main() -> Any:
        transport = in_order(rate_limited({"Retry-After": "30"}), Response.from_json(ACCOUNT))
        options: dict[str, Any] = {"rate_limit": "off", "timeout": 60}
        async with wacr.Client("wm_test", transport=transport, **options) as client:
            started = asyncio.get_running_loop().time()
            await client.account.get()
            return elapsed_since(started)

    real = time.monotonic()
    assert run_virtual(main()) >= 30
    assert time.monotonic() - real < 5
