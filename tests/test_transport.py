"""The transport's account of whether a request left, and what its errors carry."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time
import traceback

import aiohttp
import pytest
from aiohttp import web

import wacr_async as wacr
from tests.conftest import ScriptedServer
from wacr_async.testing import Sandbox

TOKEN = "wm_SECRET_TOKEN_123"
ACCOUNT = {"success": True, "data": {"id": 1, "name": "Acme"}}


async def test_a_request_still_waiting_for_a_connection_never_left(
    wacr_sandbox: Sandbox,
) -> None:
    wacr_sandbox.faults.add("POST /messages/text", latency=0.8)
    async with wacr_sandbox.client(connection_limit=1, timeout=5, max_retries=0) as client:
        await client.account.get()  # the client learns there is no rate limit to pace by
        hasty = client.with_options(timeout=wacr.Timeout(total=0.3))
        first, second = await asyncio.gather(
            client.messages.send_text("15550001111", "one"),
            hasty.messages.send_text("15550002222", "two"),
            return_exceptions=True,
        )

    # The first holds the only connection for 0.8 s; the second timed out waiting for it,
    # so it certainly was not sent, and says so.
    assert isinstance(first, wacr.SentText)
    assert isinstance(second, wacr.APITimeoutError)
    assert second.sent is False
    assert "before a connection was free" in str(second)
    assert wacr_sandbox.hits["POST /messages/text"] == 1


async def test_a_queued_send_that_timed_out_is_retried_once_a_connection_frees(
    wacr_sandbox: Sandbox,
) -> None:
    wacr_sandbox.faults.add("POST /messages/text", latency=0.4, times=1)
    with wacr.testing.no_wait():
        # The first send times out reading (0.3 s); the second gives up waiting for the only
        # connection (0.2 s), certainly unsent, and is retried within its total.
        client = wacr_sandbox.client(
            connection_limit=1,
            timeout=wacr.Timeout(total=5, read=0.3, pool=0.2),
            max_retries=2,
        )
        async with client:
            await client.account.get()
            results = await asyncio.gather(
                client.messages.send_text("15550001111", "slow"),
                client.messages.send_text("15550002222", "queued"),
                return_exceptions=True,
            )

    assert isinstance(results[0], wacr.OutcomeUnknownError)
    assert isinstance(results[1], wacr.SentText)
    assert wacr_sandbox.duplicate_sends() == []


async def test_a_borrowed_session_does_not_resend_a_batch_delete(
    wacr_sandbox: Sandbox,
) -> None:
    ids = list(wacr_sandbox.seed_contacts(3))
    wacr_sandbox.faults.add("DELETE /contacts/batch", drop_after=1.0, times=1)
    async with aiohttp.ClientSession() as session:
        async with wacr_sandbox.client(session=session, max_retries=2) as client:
            await client.account.get()  # leaves a keep-alive connection to reuse
            with pytest.raises(wacr.OutcomeUnknownError):
                await client.contacts.delete_many(ids)
        assert not session.closed  # borrowed: still the caller's to close

    assert wacr_sandbox.hits["DELETE /contacts/batch"] == 1


async def test_odd_rate_limit_and_date_headers_do_not_fail_an_answered_call(
    scripted_server: ScriptedServer,
) -> None:
    async def odd_headers(request: web.Request) -> web.StreamResponse:
        response = web.json_response(ACCOUNT)
        response.headers.update(
            {
                "X-RateLimit-Limit": "60",
                "X-RateLimit-Remaining": "inf",
                "X-RateLimit-Reset": "NaN",
                "Date": "garbage",
            }
        )
        return response

    scripted_server.route("GET", "/api/v2/account", odd_headers)
    async with wacr.Client(TOKEN, base_url=scripted_server.url) as client:
        account = await client.account.get()
        again = await client.account.get()

    assert account.id == again.id == 1


async def test_errors_never_chain_an_aiohttp_error_holding_the_token() -> None:
    async def malformed(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nBad\x01Header: x\r\n\r\n{}")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(malformed, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with wacr.Client(
            TOKEN, base_url=f"http://127.0.0.1:{port}/api/v2", max_retries=0
        ) as client:
            with pytest.raises(wacr.APIConnectionError) as caught:
                await client.account.get()
    finally:
        server.close()
        await server.wait_closed()

    error = caught.value
    chain = [error, error.__cause__, error.__context__]
    assert all(TOKEN not in repr(item) for item in chain)
    assert all(TOKEN not in repr(vars(item)) for item in chain if hasattr(item, "__dict__"))
    assert TOKEN not in "".join(traceback.format_exception(error))


async def test_an_otp_limit_stating_its_wait_only_in_the_details_is_raised_at_once(
    scripted_server: ScriptedServer,
) -> None:
    # The OTP limiter's 429: budget left in the token's window, the wait in error.details,
    # and the success-style "now + 60 s" reset that says nothing about this limit.
    async def limited(request: web.Request) -> web.StreamResponse:
        response = web.json_response(
            {
                "success": False,
                "error": {
                    "code": "RATE_LIMIT_EXCEEDED",
                    "message": "Too many resend attempts. Please try again in 287 seconds.",
                    "details": {"retry_after": 287},
                },
            },
            status=429,
        )
        response.headers.update(
            {
                "X-RateLimit-Limit": "60",
                "X-RateLimit-Remaining": "57",
                "X-RateLimit-Reset": str(int(time.time()) + 60),
            }
        )
        return response

    scripted_server.route("POST", "/api/v2/auth/resend", limited)
    async with wacr.Client(TOKEN, base_url=scripted_server.url) as client:
        async with asyncio.timeout(5):  # a guard against sitting out the wait, not a speed check
            with pytest.raises(wacr.RateLimitError) as caught:
                await client.otp.resend("+15550001111", "otp_verification")

    assert caught.value.retry_after == 287
    assert len(scripted_server.seen) == 1


async def test_finished_attempts_leave_nothing_behind_for_the_timers_to_hold(
    wacr_sandbox: Sandbox,
) -> None:
    # aiohttp's cancelled timeout timers stay in the loop's heap for a while, each holding the
    # context it was set in: an attempt must not leave its own objects in that context.
    from wacr_async._effects import CallTrace
    from wacr_async._transport import _Wire

    def alive(kind: type) -> int:
        gc.collect()
        return sum(1 for thing in gc.get_objects() if type(thing) is kind)

    wacr_sandbox.faults.add("POST /messages/text", latency=0.05, times=5)
    async with wacr_sandbox.client(rate_limit="off") as client:
        before = alive(_Wire), alive(CallTrace)
        semaphore = asyncio.Semaphore(8)

        async def send(n: int) -> None:
            async with semaphore:
                await client.messages.send_text(f"+1555000{n:04d}", "hi")

        await asyncio.gather(*(send(n) for n in range(60)))
        assert (alive(_Wire), alive(CallTrace)) == before


async def test_an_attempt_cancelled_on_the_wire_is_forgotten_by_the_connector(
    wacr_sandbox: Sandbox,
) -> None:
    wacr_sandbox.faults.add("POST /messages/text", latency=5.0, times=1)
    async with wacr_sandbox.client(rate_limit="off") as client:
        slow = asyncio.ensure_future(client.messages.send_text("+15550009999", "late"))
        for _ in range(200):  # until the server holds it
            if wacr_sandbox.hits["POST /messages/text"]:
                break
            await asyncio.sleep(0.005)
        assert not slow.done()
        connector = client._core.transport._connector  # type: ignore[attr-defined]  # the aiohttp transport's own
        assert len(connector.attempts) == 1
        slow.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await slow
        assert connector.attempts == {}
