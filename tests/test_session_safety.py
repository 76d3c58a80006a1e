"""Whatever session the client runs on, an answer means what its status says."""

from __future__ import annotations

import aiohttp
import pytest
from aiohttp import web

import wacr_async as wacr
from tests.conftest import ScriptedServer
from wacr_async._effects import effect_of
from wacr_async.testing import Sandbox

TOKEN = "wm_test"


def _error(status: int, code: str, message: str) -> web.Response:
    body = {"success": False, "error": {"code": code, "message": message}}
    return web.json_response(body, status=status)


async def test_a_session_raising_for_status_still_gives_typed_api_errors(
    scripted_server: ScriptedServer,
) -> None:
    async def missing(request: web.Request) -> web.StreamResponse:
        return _error(404, "NOT_FOUND", "Contact not found.")

    async def invalid(request: web.Request) -> web.StreamResponse:
        return _error(422, "VALIDATION_ERROR", "Validation failed")

    scripted_server.route("GET", "/api/v2/contacts/7", missing)
    scripted_server.route("POST", "/api/v2/contacts", invalid)
    async with (
        aiohttp.ClientSession(raise_for_status=True) as session,
        wacr.Client(TOKEN, base_url=scripted_server.url, session=session, max_retries=2) as client,
    ):
        with pytest.raises(wacr.NotFoundError):
            await client.contacts.get(7)
        with pytest.raises(wacr.ValidationError):
            await client.contacts.create(
                firstname="A",
                lastname="B",
                phone="+15550001111",
                type="lead",
                source_id=1,
                status_id=1,
            )

    assert [seen[0] for seen in scripted_server.seen] == ["GET", "POST"]  # nothing retried


async def test_a_sessions_middlewares_never_see_the_clients_requests(
    scripted_server: ScriptedServer,
) -> None:
    async def account(request: web.Request) -> web.StreamResponse:
        return web.json_response({"success": True, "data": {"id": 1, "name": "Acme"}})

    scripted_server.route("GET", "/api/v2/account", account)
    through: list[str] = []

    async def spy(
        request: aiohttp.ClientRequest, handler: aiohttp.ClientHandlerType
    ) -> aiohttp.ClientResponse:
        through.append(str(request.url))
        response = await handler(request)
        response.raise_for_status()
        return response

    async with aiohttp.ClientSession(middlewares=(spy,)) as session:
        async with wacr.Client(TOKEN, base_url=scripted_server.url, session=session) as client:
            await client.account.get()
        async with session.get(scripted_server.url + "/account"):
            pass

    assert through == [scripted_server.url + "/account"]  # the caller's own request only


@pytest.mark.parametrize("status", [301, 302, 307, 308])
async def test_a_redirect_is_an_error_naming_where_it_points(
    scripted_server: ScriptedServer, status: int
) -> None:
    async def moved(request: web.Request) -> web.StreamResponse:
        return web.Response(status=status, headers={"Location": "https://app.wa.cr/api/v2/x"})

    scripted_server.route("POST", "/api/v2/messages/text", moved)
    scripted_server.route("GET", "/api/v2/account", moved)
    async with wacr.Client(TOKEN, base_url=scripted_server.url, max_retries=2) as client:
        with pytest.raises(wacr.RedirectError) as send:
            await client.messages.send_text("15550001111", "hi")
        with pytest.raises(wacr.RedirectError):
            await client.account.get()

    error = send.value
    assert error.status == status
    assert error.location == "https://app.wa.cr/api/v2/x"
    assert "base_url" in str(error) and "https://app.wa.cr/api/v2/x" in str(error)
    assert effect_of(error, left=True) == "none"  # never processed: a re-run sends it
    assert len(scripted_server.seen) == 2  # not followed, not retried


async def test_a_redirected_bulk_send_is_failed_not_sent(scripted_server: ScriptedServer) -> None:
    async def moved(request: web.Request) -> web.StreamResponse:
        return web.Response(status=307, headers={"Location": "https://elsewhere/api/v2"})

    scripted_server.route("POST", "/api/v2/messages/text", moved)
    specs = [wacr.TextMessage(phone="+15550001111", message="hi")]
    async with wacr.Client(TOKEN, base_url=scripted_server.url) as client:
        report = await client.batch.send_messages(specs).report()

    assert report.counts["failed"] == 1 and report.counts["sent"] == 0


async def test_only_the_clients_own_session_has_aiohttp_resends_turned_off(
    wacr_sandbox: Sandbox,
) -> None:
    async with aiohttp.ClientSession() as session:
        async with wacr_sandbox.client(session=session) as client:
            await client.account.get()
        assert session._retry_connection is True  # the caller's session is left alone

    async with wacr_sandbox.client() as client:
        await client.account.get()
        owned = client._core.transport._session
        assert owned is not None
        assert owned._retry_connection is False


def test_an_aiohttp_without_the_resend_switch_fails_loudly() -> None:
    from wacr_async._transport import _no_silent_resends

    class Renamed:  # an aiohttp release that renamed the private attribute
        pass

    with pytest.raises(RuntimeError, match="_retry_connection"):
        _no_silent_resends(Renamed())  # type: ignore[arg-type]  # a stand-in session
