"""One classifier for "did it take effect?", and the trace a bulk run reads it from."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import web

import wacr_async as wacr
from tests.conftest import ScriptedServer
from wacr_async._effects import CallTrace, current_trace, effect_of, trace_calls
from wacr_async.errors import RequestInfo, error_from_response
from wacr_async.testing import Sandbox

INFO = RequestInfo("POST", "/messages/text")


def _send_failed(reason: object) -> wacr.MessageSendFailedError:
    error = error_from_response(
        500,
        b"{}",
        parsed={
            "success": False,
            "error": {
                "code": "MESSAGE_SEND_FAILED",
                "message": "Failed to send message",
                "details": {"error": reason},
            },
        },
    )
    assert isinstance(error, wacr.MessageSendFailedError)
    return error


@pytest.mark.parametrize(
    ("error", "left", "effect"),
    [
        (None, True, "applied"),
        (wacr.InternalServerError("boom", status=500), False, "none"),
        (wacr.APIConnectionError("refused", request=INFO, sent=False), True, "none"),
        (wacr.APITimeoutError("lost", request=INFO, sent=True), True, "maybe"),
        (wacr.OutcomeUnknownError("lost", request=INFO), True, "maybe"),
        (wacr.NotFoundError("gone", status=404), True, "none"),
        (wacr.RateLimitError("slow down", status=429), True, "none"),
        (wacr.RedirectError("moved", status=307), True, "none"),
        (wacr.InternalServerError("boom", status=500), True, "maybe"),
        (wacr.ServiceUnavailableError("busy", status=503), True, "maybe"),
        (_send_failed("(#131026) Message Undeliverable."), True, "none"),
        (
            _send_failed("cURL error 28: Operation timed out after 30001 milliseconds"),
            True,
            "maybe",
        ),
        (_send_failed("Connection refused"), True, "maybe"),
        (_send_failed("connection reset by peer"), True, "maybe"),
        (_send_failed(None), True, "maybe"),
        (wacr.UnexpectedResponseError("unreadable", status=200), True, "applied"),
        (asyncio.CancelledError(), True, "maybe"),
        (asyncio.CancelledError(), False, "none"),
    ],
)
def test_effect_of_follows_the_one_table(
    error: BaseException | None, left: bool, effect: str
) -> None:
    assert effect_of(error, left=left) == effect


def test_a_cancellation_after_an_answer_is_judged_by_that_answer() -> None:
    trace = CallTrace()
    trace.leaving()
    assert trace.effect(asyncio.CancelledError()) == "maybe"  # on the wire
    trace.status = 429  # refused; now waiting to retry
    assert trace.effect(asyncio.CancelledError()) == "none"
    trace.status = 201
    assert trace.effect(asyncio.CancelledError()) == "applied"


async def test_trace_calls_belongs_to_the_task_that_set_it() -> None:
    async def other() -> CallTrace | None:
        return current_trace()

    mine = trace_calls()
    assert current_trace() is mine
    assert await asyncio.create_task(other()) is mine  # copied into tasks started here

    async def fresh() -> CallTrace:
        return trace_calls()

    theirs = await asyncio.create_task(fresh())
    assert current_trace() is mine and theirs is not mine


async def test_before_send_runs_once_after_the_permit_and_before_anything_leaves(
    wacr_sandbox: Sandbox,
) -> None:
    wacr_sandbox.faults.add("POST /messages/text", error_before=1.0, status_before=503, times=1)
    seen: list[tuple[int, bool]] = []

    async def before_send() -> None:
        trace = current_trace()
        assert trace is not None
        seen.append((wacr_sandbox.hits["POST /messages/text"], trace.left))

    async with wacr_sandbox.client(max_retries=2) as client:
        with wacr.testing.no_wait():
            trace = trace_calls(before_send)
            # A 503 before processing on a send is a ServerError: not retried for a send.
            with pytest.raises(wacr.ServiceUnavailableError):
                await client.messages.send_text("15550001111", "hi")
            trace = trace_calls(before_send)
            await client.account.get()

    assert seen == [(0, False), (1, False)]
    assert trace.left and trace.status == 200


async def test_before_send_failing_sends_nothing(
    wacr_sandbox: Sandbox,
) -> None:
    class Refused(Exception):
        pass

    async def refuse() -> None:
        raise Refused

    async with wacr_sandbox.client(max_retries=2) as client:
        trace = trace_calls(refuse)
        with pytest.raises(Refused):
            await client.messages.send_text("15550001111", "hi")
        assert not trace.left and trace.status is None
        assert trace.effect(Refused()) == "none"

    assert wacr_sandbox.hits["POST /messages/text"] == 0


async def test_a_trace_learns_the_answer_of_a_refused_call(
    scripted_server: ScriptedServer,
) -> None:
    async def refused(request: web.Request) -> web.StreamResponse:
        body = {"success": False, "error": {"code": "NOT_FOUND", "message": "nope"}}
        return web.json_response(body, status=404)

    scripted_server.route("POST", "/api/v2/messages/text", refused)
    async with wacr.Client("tok", base_url=scripted_server.url) as client:
        trace = trace_calls()
        with pytest.raises(wacr.NotFoundError) as caught:
            await client.messages.send_text("15550001111", "hi")
    assert trace.left and trace.status == 404
    assert trace.effect(caught.value) == "none"
