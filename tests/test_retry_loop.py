"""The retry loop read off its table, through a MockTransport: no sockets, no real waits."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest

import wacr_async as wacr
from wacr_async.errors import RequestInfo
from wacr_async.testing import MockTransport, Request, Response, no_wait

ACCOUNT = {"success": True, "data": {"id": 1, "name": "Acme"}}
SENT = {
    "success": True,
    "data": {
        "message_id": "wamid.1",
        "contact_id": 1,
        "phone": "15550001111",
        "message": "hi",
        "status": "sent",
        "sent_at": "2025-06-01T10:00:00+00:00",
        "chat_id": 1,
        "chat_message_id": 1,
    },
}
INFO = RequestInfo("POST", "/messages/text")


@pytest.fixture(autouse=True)
def _instant_retries() -> Iterator[None]:
    with no_wait():
        yield


def error(status: int, code: str, details: Any = None, **headers: str) -> Response:
    body: dict[str, Any] = {"success": False, "error": {"code": code, "message": code.lower()}}
    if details is not None:
        body["error"]["details"] = details
    return Response.from_json(body, status=status, headers=headers)


def scripted(*answers: Response | Exception) -> MockTransport:
    """A transport giving these answers in order, then repeating the last one."""
    queue = list(answers)

    def handler(request: Request) -> Response:
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(answer, Exception):
            raise answer
        return answer

    return MockTransport(handler)


def client_on(transport: MockTransport, **options: Any) -> wacr.Client:
    return wacr.Client("wm_test", transport=transport, rate_limit="off", **options)


async def test_a_read_is_retried_through_5xx_then_succeeds() -> None:
    transport = scripted(
        error(503, "SERVICE_UNAVAILABLE"), error(502, "X"), Response.from_json(ACCOUNT)
    )
    async with client_on(transport) as client:
        account = await client.account.get()
    assert account.id == 1
    assert len(transport.requests) == 3


async def test_max_retries_bounds_the_retries_of_one_call() -> None:
    transport = scripted(error(500, "INTERNAL_ERROR"))
    async with client_on(transport, max_retries=2) as client:
        with pytest.raises(wacr.InternalServerError):
            await client.account.get()
    assert len(transport.requests) == 3


@pytest.mark.parametrize(
    "failure",
    [
        error(500, "INTERNAL_ERROR"),
        error(503, "SERVICE_UNAVAILABLE"),
        error(500, "MESSAGE_SEND_FAILED", {"error": "(#131026) Message Undeliverable."}),
        error(307, "X", Location="https://elsewhere/api/v2"),
        error(422, "VALIDATION_ERROR"),
    ],
)
async def test_a_send_answered_with_an_error_status_is_never_retried(failure: Response) -> None:
    transport = scripted(failure, Response.from_json(SENT))
    async with client_on(transport, max_retries=3) as client:
        with pytest.raises(wacr.APIError):
            await client.messages.send_text("+15550001111", "hi")
    assert len(transport.requests) == 1


async def test_a_send_that_never_left_is_retried() -> None:
    refused = wacr.APIConnectionError("refused", request=INFO, sent=False)
    transport = scripted(refused, Response.from_json(SENT))
    async with client_on(transport) as client:
        sent = await client.messages.send_text("+15550001111", "hi")
    assert sent.message_id == "wamid.1"
    assert len(transport.requests) == 2


async def test_a_send_lost_on_the_wire_is_outcome_unknown_and_not_retried() -> None:
    lost = wacr.APITimeoutError("lost", request=INFO, sent=True)
    transport = scripted(lost, Response.from_json(SENT))
    async with client_on(transport) as client:
        with pytest.raises(wacr.OutcomeUnknownError) as caught:
            await client.messages.send_text("+15550001111", "hi")
    assert caught.value.__cause__ is lost
    assert len(transport.requests) == 1


async def test_a_read_lost_on_the_wire_is_retried() -> None:
    lost = wacr.APIConnectionError("dropped", request=INFO, sent=True)
    transport = scripted(lost, Response.from_json(ACCOUNT))
    async with client_on(transport) as client:
        await client.account.get()
    assert len(transport.requests) == 2


async def test_429s_are_waited_out_at_most_five_times() -> None:
    transport = scripted(error(429, "RATE_LIMIT_EXCEEDED", **{"Retry-After": "0"}))
    async with client_on(transport, max_retries=1) as client:
        with pytest.raises(wacr.RateLimitError) as caught:
            await client.messages.send_text("+15550001111", "hi")
    assert caught.value.retry_after == 0
    assert len(transport.requests) == 6  # the first, then five retries after 429s


async def test_a_429_asking_for_more_than_90_s_is_raised_at_once() -> None:
    transport = scripted(error(429, "RATE_LIMIT_EXCEEDED", **{"Retry-After": "300"}))
    async with client_on(transport, timeout=600) as client:
        with pytest.raises(wacr.RateLimitError) as caught:
            await client.account.get()
    assert caught.value.retry_after == 300
    assert caught.value.shared is False
    assert len(transport.requests) == 1


async def test_a_429_for_the_whole_token_is_marked_shared() -> None:
    spent = error(
        429,
        "RATE_LIMIT_EXCEEDED",
        **{"Retry-After": "0", "X-RateLimit-Limit": "60", "X-RateLimit-Remaining": "0"},
    )
    seen: list[wacr.RateLimitError] = []
    transport = scripted(spent)
    async with client_on(transport, max_retries=0) as client:
        with pytest.raises(wacr.RateLimitError) as caught:
            await client.account.get()
        seen.append(caught.value)
    assert seen[0].shared is True and seen[0].retry_after == 0


async def test_max_retries_zero_turns_every_retry_off() -> None:
    transport = scripted(wacr.APIConnectionError("refused", request=INFO, sent=False))
    async with client_on(transport, max_retries=0) as client:
        with pytest.raises(wacr.APIConnectionError):
            await client.account.get()
    assert len(transport.requests) == 1


async def test_a_delete_whose_first_attempt_went_through_takes_404_as_done() -> None:
    lost = wacr.APIConnectionError("dropped", request=INFO, sent=True)
    transport = scripted(lost, error(404, "NOT_FOUND"))
    async with client_on(transport) as client:
        await client.contacts.delete(7)
    assert [r.method for r in transport.requests] == ["DELETE", "DELETE"]


async def test_each_retry_is_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    transport = scripted(
        error(503, "SERVICE_UNAVAILABLE"), error(503, "X"), Response.from_json(ACCOUNT)
    )
    caplog.set_level(logging.DEBUG, logger="wacr_async")
    async with client_on(transport) as client:
        await client.account.get()
    retries = [r.getMessage() for r in caplog.records if "retrying" in r.getMessage()]
    answers = [r.getMessage() for r in caplog.records if "-> " in r.getMessage()]
    assert len(retries) == 2
    assert "attempt 2 next" in retries[0] and "attempt 3 next" in retries[1]
    assert len(answers) == 3


async def test_a_mock_transport_sees_one_request_per_attempt_with_its_deadline() -> None:
    transport = scripted(Response.from_json(ACCOUNT))
    async with client_on(transport, timeout=7) as client:
        await client.account.get()
        await client.with_options(timeout=None).account.get()
    first, second = transport.requests
    assert first.method == "GET" and first.path == "/account"
    assert first.deadline is not None and second.deadline is None
    assert first.trace.left and first.trace.status == 200


async def test_a_closed_client_never_reaches_its_transport() -> None:
    transport = scripted(Response.from_json(ACCOUNT))
    client = client_on(transport)
    await client.aclose()
    with pytest.raises(wacr.ClientClosedError):
        await client.account.get()
    assert transport.requests == []


def test_a_transport_excludes_a_session() -> None:
    with pytest.raises(wacr.ConfigurationError):
        wacr.Client(
            "wm_test",
            transport=scripted(Response.from_json({})),
            trace_configs=[aiohttp.TraceConfig()],
        )


async def test_closing_the_client_closes_its_transport_but_not_a_limiter_it_was_given() -> None:
    class Limiter:
        closed = False

        def __init__(self) -> None:
            from wacr_async._pacing import NoLimiter

            self._inner = NoLimiter()
            self.state = self._inner.state
            self.lane = self._inner.lane
            self.acquire = self._inner.acquire
            self.release = self._inner.release
            self.record = self._inner.record

        async def aclose(self) -> None:
            self.closed = True

    shared = Limiter()
    transport = scripted(Response.from_json(ACCOUNT))
    async with wacr.Client("wm_test", transport=transport, rate_limiter=shared) as client:
        await client.account.get()
    assert transport.closed and not shared.closed
