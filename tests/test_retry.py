"""The retry table, case by case, against the sandbox's fault injection.

Every case counts attempts from the server's side (``sandbox.hits``) and what the server
actually did (``sandbox.sends``), so "not retried" means the server saw one request. Cases
that wait for the server (a 429's window) are in ``test_retry_waits``, in virtual time.
"""

from __future__ import annotations

import socket
from collections.abc import Awaitable, Callable, Iterator
from typing import TYPE_CHECKING

import aiohttp
import pytest
from aiohttp import web

import wacr_async as wacr
from wacr_async.testing import Sandbox, no_wait

if TYPE_CHECKING:
    from tests.conftest import ScriptedServer

PHONE = "+15550001111"
SEND = "POST /messages/text"


@pytest.fixture(autouse=True)
def _instant_retries() -> Iterator[None]:
    with no_wait():
        yield


# -- reads and idempotent writes ---------------------------------------------------------------


async def test_reads_under_20_percent_500s_succeed_within_the_attempt_cap() -> None:
    async with Sandbox() as sandbox:
        rule = sandbox.faults.add("GET /account", error_after=0.2, seed=20)
        async with sandbox.client() as client:
            patient = client.with_options(max_retries=6)
            for _ in range(200):
                before = sandbox.hits["GET /account"]
                account = await patient.account.get()
                assert account.id
                assert sandbox.hits["GET /account"] - before <= 7
    assert rule.fired > 0, "the faults must have fired for this test to mean anything"
    # Each injected 500 cost exactly one extra attempt, nothing more.
    assert sandbox.hits["GET /account"] == 200 + rule.fired


async def test_read_retries_stop_at_max_retries() -> None:
    async with Sandbox() as sandbox:
        sandbox.faults.add("GET /account", error_after=1.0)
        async with sandbox.client() as client:
            with pytest.raises(wacr.InternalServerError):
                await client.account.get()
            assert sandbox.hits["GET /account"] == 3  # default max_retries=2

            sandbox.reset_accounting()
            with pytest.raises(wacr.InternalServerError):
                await client.with_options(max_retries=0).account.get()
            assert sandbox.hits["GET /account"] == 1

            sandbox.reset_accounting()
            with pytest.raises(wacr.InternalServerError):
                await client.with_options(max_retries=4).account.get()
            assert sandbox.hits["GET /account"] == 5

        sandbox.reset_accounting()
        async with sandbox.client(max_retries=1) as client:
            with pytest.raises(wacr.InternalServerError):
                await client.account.get()
            assert sandbox.hits["GET /account"] == 2


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_reads_retry_every_listed_5xx(status: int) -> None:
    async with Sandbox() as sandbox:
        sandbox.faults.add("GET /account", error_before=1.0, status_before=status, times=2)
        async with sandbox.client() as client:
            await client.account.get()
        assert sandbox.hits["GET /account"] == 3


async def test_other_5xx_are_not_retried() -> None:
    async with Sandbox() as sandbox:
        sandbox.faults.add("GET /account", error_before=1.0, status_before=501)
        async with sandbox.client() as client:
            with pytest.raises(wacr.ServerError) as info:
                await client.account.get()
        assert info.value.status == 501
        assert sandbox.hits["GET /account"] == 1


async def test_reads_are_retried_after_a_dropped_connection() -> None:
    async with Sandbox() as sandbox:
        sandbox.faults.add("GET /account", drop_after=1.0, times=2)
        async with sandbox.client() as client:
            await client.account.get()
        assert sandbox.hits["GET /account"] == 3


async def test_idempotent_writes_are_retried() -> None:
    async with Sandbox() as sandbox:
        contact = sandbox.add_contact(firstname="Ada", lastname="L", phone=PHONE)
        sandbox.faults.add("PATCH /contacts/{id}", drop_after=1.0, times=1)
        sandbox.faults.add("DELETE /contacts/{id}", error_after=1.0, status_after=503, times=1)
        async with sandbox.client() as client:
            updated = await client.contacts.update(contact["id"], email="ada@example.com")
            assert updated.email == "ada@example.com"
            await client.contacts.delete(contact["id"])
        assert sandbox.hits["PATCH /contacts/{id}"] == 2
        assert sandbox.hits["DELETE /contacts/{id}"] == 2


async def test_client_errors_are_never_retried() -> None:
    async with Sandbox() as sandbox, sandbox.client() as client:
        with pytest.raises(wacr.NotFoundError):
            await client.contacts.get(999_999)
        assert sandbox.hits["GET /contacts/{id}"] == 1


# -- sends: retried only when the server certainly never got them -----------------------------


async def test_send_dropped_after_processing_is_outcome_unknown_and_not_resent() -> None:
    async with Sandbox() as sandbox:
        sandbox.faults.add(SEND, drop_after=1.0)
        async with sandbox.client() as client:
            with pytest.raises(wacr.OutcomeUnknownError) as info:
                await client.messages.send_text(PHONE, "Hello once")
        assert info.value.request.method == "POST"
        assert info.value.request.path == "/messages/text"
        assert isinstance(info.value.__cause__, wacr.APIConnectionError)
        assert sandbox.hits[SEND] == 1
        assert len(sandbox.sends) == 1  # it did go out: that is why it must not be repeated


async def test_send_dropped_before_processing_is_still_outcome_unknown() -> None:
    # The client cannot tell this from a drop after processing, so it must not guess.
    async with Sandbox() as sandbox:
        sandbox.faults.add(SEND, drop_before=1.0)
        async with sandbox.client() as client:
            with pytest.raises(wacr.OutcomeUnknownError):
                await client.messages.send_text(PHONE, "Hello")
        assert sandbox.hits[SEND] == 1
        assert sandbox.sends == []


@pytest.mark.parametrize(
    ("phase", "status", "error", "performed"),
    [
        ("after", 500, wacr.InternalServerError, 1),
        ("before", 503, wacr.ServiceUnavailableError, 0),
        ("before", 502, wacr.ServerError, 0),
    ],
)
async def test_send_5xx_raises_its_typed_error_without_a_resend(
    phase: str, status: int, error: type[wacr.ServerError], performed: int
) -> None:
    async with Sandbox() as sandbox:
        if phase == "after":
            sandbox.faults.add(SEND, error_after=1.0, status_after=status)
        else:
            sandbox.faults.add(SEND, error_before=1.0, status_before=status)
        async with sandbox.client(max_retries=5) as client:
            with pytest.raises(error) as info:
                await client.messages.send_text(PHONE, "Hello")
        assert info.value.status == status
        assert sandbox.hits[SEND] == 1
        assert len(sandbox.sends) == performed


@pytest.mark.parametrize(
    "call",
    [
        "otp_send",
        "otp_verify",
        "contact_create",
        "contacts_batch",
        "group_add",
        "templates_sync",
        "comment_add",
    ],
)
async def test_every_unsafe_call_ends_outcome_unknown_on_a_drop(call: str) -> None:
    async with Sandbox() as sandbox:
        sandbox.faults.add("POST *", drop_after=1.0)
        sandbox.add_chat(PHONE)
        group = sandbox.add_group("VIP")
        source = sandbox.state.default_source_id or sandbox.add_source("Web")["id"]
        status = sandbox.state.default_status_id or sandbox.add_status("New")["id"]
        async with sandbox.client() as client:
            with pytest.raises(wacr.OutcomeUnknownError):
                if call == "otp_send":
                    await client.otp.send(PHONE, "otp_verification", "493817")
                elif call == "otp_verify":
                    await client.otp.verify(PHONE, "493817")
                elif call == "contact_create":
                    await client.contacts.create(
                        firstname="Ada",
                        lastname="L",
                        phone=PHONE,
                        type="lead",
                        source_id=source,
                        status_id=status,
                    )
                elif call == "contacts_batch":
                    row = {"firstname": "Ada", "lastname": "L", "phone": PHONE, "type": "lead"}
                    await client.contacts.create_many([row | {"source_id": source}])
                elif call == "group_add":
                    await client.groups.add_contacts(group["id"], [1])
                elif call == "templates_sync":
                    await client.templates.sync()
                else:
                    await client.comments.add(PHONE.lstrip("+"), comment="note")
        assert sum(sandbox.hits.values()) == 1


async def test_status_check_is_idempotent_and_retried() -> None:
    async with Sandbox() as sandbox:
        sandbox.faults.add("POST /auth/status", drop_after=1.0, times=1)
        async with sandbox.client() as client:
            await client.otp.status(PHONE)
        assert sandbox.hits["POST /auth/status"] == 2


async def test_refused_connection_is_retried_even_for_sends() -> None:
    starts: list[str] = []

    async def on_start(
        session: aiohttp.ClientSession, ctx: object, params: aiohttp.TraceRequestStartParams
    ) -> None:
        starts.append(params.method)

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(on_start)
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    base_url = f"http://127.0.0.1:{port}/api/v2"
    async with wacr.Client("tok", base_url=base_url, trace_configs=[trace]) as client:
        with pytest.raises(wacr.APIConnectionError) as info:
            await client.messages.send_text(PHONE, "Hello")
    assert not isinstance(info.value, wacr.OutcomeUnknownError)
    assert info.value.sent is False
    assert starts == ["POST", "POST", "POST"]


# -- 429: retried for every method, after the server's wait ------------------------------------


def rate_limited(headers: dict[str, str]) -> web.Response:
    body = {"success": False, "error": {"code": "RATE_LIMIT_EXCEEDED", "message": "Too many"}}
    return web.json_response(body, status=429, headers=headers)


def answer_after(first: web.Response) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    calls = 0

    async def handler(request: web.Request) -> web.StreamResponse:
        nonlocal calls
        calls += 1
        if calls == 1:
            return first
        return web.json_response({"success": True, "data": {"id": 1}})

    return handler


async def test_429_without_any_wait_falls_back_to_backoff(
    scripted_server: ScriptedServer,
) -> None:
    scripted_server.route("GET", "/api/v2/sources/1", answer_after(rate_limited({})))
    async with wacr.Client("tok", base_url=scripted_server.url) as client:
        source = await client.sources.get(1)
        assert client.rate_limit.cooling_down_until is None
    assert source.id == 1
    assert len(scripted_server.seen) == 2


async def test_429_asking_for_too_long_a_wait_is_raised_at_once(
    scripted_server: ScriptedServer,
) -> None:
    # An OTP resend limit (3 per 5 minutes) is not something to sleep through silently.
    headers = {"Retry-After": "300", "X-RateLimit-Limit": "60", "X-RateLimit-Remaining": "41"}
    scripted_server.route("POST", "/api/v2/auth/resend", answer_after(rate_limited(headers)))
    async with wacr.Client("tok", base_url=scripted_server.url) as client:
        with pytest.raises(wacr.RateLimitError) as info:
            await client.otp.resend(PHONE, "otp_verification")
        assert info.value.retry_after == 300
        assert client.rate_limit.cooling_down_until is None  # the token itself is fine
    assert len(scripted_server.seen) == 1


async def test_max_retries_zero_turns_off_429_retries_too() -> None:
    async with Sandbox(rate_limit=(1, 30.0)) as sandbox:
        async with sandbox.client(rate_limit="off", max_retries=0) as client:
            await client.account.get()
            with pytest.raises(wacr.RateLimitError) as info:
                await client.account.get()
        assert info.value.retry_after is not None
        assert 0 < info.value.retry_after <= 30
        assert sandbox.hits["GET /account"] == 2
