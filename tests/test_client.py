"""The client's contract: configuration, headers, session lifecycle, secrecy of the token."""

from __future__ import annotations

import asyncio
import gc
import logging
import platform
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import aiohttp
import pytest
from aiohttp import web

import wacr_async as wacr
from wacr_async._retry import no_wait
from wacr_async._transport import FilePart

if TYPE_CHECKING:
    from tests.conftest import ScriptedServer

TOKEN = "wm_secret_token_value_0123456789"

ACCOUNT = {
    "success": True,
    "data": {
        "id": 7,
        "name": "Acme",
        "subdomain": "acme",
        "status": "active",
        "created_at": "2025-03-01T10:00:00+00:00",
        "subscription": {
            "plan_name": "Pro",
            "plan_id": 3,
            "status": "active",
            "expires_at": "2026-12-31T00:00:00Z",
        },
    },
    "message": "Account information retrieved successfully",
    "meta": {"request_id": "r1", "timestamp": "2026-01-01T00:00:00+00:00"},
}


def json_handler(payload: object, status: int = 200) -> web.RequestHandler:  # type: ignore[type-arg]  # aiohttp's alias is generic
    async def handler(request: web.Request) -> web.StreamResponse:
        return web.json_response(payload, status=status)

    return handler


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("WACR_TOKEN", raising=False)
    monkeypatch.delenv("WACR_BASE_URL", raising=False)
    return


def test_missing_token_fails_at_construction() -> None:
    with pytest.raises(wacr.ConfigurationError, match="WACR_TOKEN"):
        wacr.Client()
    with pytest.raises(wacr.ConfigurationError):
        wacr.Client(token="   ")


def test_token_and_base_url_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WACR_TOKEN", TOKEN)
    client = wacr.Client()
    assert client.base_url == wacr.DEFAULT_BASE_URL == "https://app.wa.cr/api/v2"
    monkeypatch.setenv("WACR_BASE_URL", "https://tenant.example.com/api/v2/")
    assert wacr.Client().base_url == "https://tenant.example.com/api/v2"
    assert wacr.Client(base_url="http://127.0.0.1:9/api/v2").base_url == "http://127.0.0.1:9/api/v2"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"base_url": "ftp://example.com"},
        {"max_retries": -1},
        {"timeout": 0},
        {"rate_limit": "fast"},
    ],
)
def test_bad_settings_are_clear_errors(kwargs: dict[str, object]) -> None:
    with pytest.raises(wacr.ConfigurationError):
        wacr.Client(TOKEN, **kwargs)  # type: ignore[arg-type]  # deliberately wrong values


def test_token_is_not_in_reprs() -> None:
    client = wacr.Client(TOKEN)
    for text in (
        repr(client),
        str(client),
        repr(client._core.config),
        repr(client._core.transport),
    ):
        assert TOKEN not in text


async def test_headers_and_user_agent(scripted_server: ScriptedServer) -> None:
    scripted_server.route("GET", "/api/v2/account", json_handler(ACCOUNT))
    async with wacr.Client(TOKEN, base_url=scripted_server.url) as client:
        await client.account.get()
    headers = scripted_server.seen[0][2]
    assert headers["Authorization"] == f"Bearer {TOKEN}"
    assert headers["Accept"] == "application/json"
    agent = headers["User-Agent"]
    assert agent.startswith(f"wacr-async/{wacr.__version__}")
    assert f"Python/{platform.python_version()}" in agent
    assert f"aiohttp/{aiohttp.__version__}" in agent


async def test_account_slice_end_to_end(scripted_server: ScriptedServer) -> None:
    scripted_server.route("GET", "/api/v2/account", json_handler(ACCOUNT))
    usage = {
        "success": True,
        "data": {
            "contacts": {
                "current": 40,
                "limit": 100,
                "remaining": 60,
                "percentage_used": 40.0,
                "is_unlimited": False,
            },
            "staff": {
                "current": 2,
                "limit": -1,
                "remaining": None,
                "percentage_used": 0,
                "is_unlimited": True,
            },
            "bots": {"current": 1, "limit": 5, "remaining": 4, "percentage_used": 20.0},
        },
    }
    limits = {
        "success": True,
        "data": {
            "limits": {
                "contacts": {"limit": 100, "feature_name": "Total Contacts", "is_unlimited": False},
                "api_calls_per_minute": {
                    "limit": 60,
                    "feature_name": "API Calls per Minute",
                    "is_unlimited": False,
                },
            },
            "features": {"chatbot": True, "api_access": True, "custom_branding": False},
        },
    }
    scripted_server.route("GET", "/api/v2/account/usage", json_handler(usage))
    scripted_server.route("GET", "/api/v2/account/limits", json_handler(limits))
    async with wacr.Client(TOKEN, base_url=scripted_server.url) as client:
        account = await client.account.get()
        got_usage = await client.account.usage()
        got_limits = await client.account.limits()
    assert account.id == 7
    assert account.name == "Acme"
    assert account.created_at == datetime(2025, 3, 1, 10, tzinfo=UTC)
    assert account.subscription is not None
    assert account.subscription.plan_name == "Pro"
    assert account.subscription.expires_at == datetime(2026, 12, 31, tzinfo=UTC)
    assert got_usage.contacts == wacr.UsageEntry(
        current=40, limit=100, remaining=60, percentage_used=40.0, is_unlimited=False
    )
    assert got_usage.staff is not None and got_usage.staff.is_unlimited
    assert got_usage.conversations is None
    assert got_usage.other["bots"].limit == 5
    assert got_limits.api_calls_per_minute == 60
    assert got_limits.features["chatbot"] is True
    assert got_limits.limits["contacts"].feature_name == "Total Contacts"


async def test_account_with_flat_subscription_fields(scripted_server: ScriptedServer) -> None:
    flat = {
        "success": True,
        "data": {"id": 1, "name": "Flat", "plan_name": "Free", "plan_id": None, "unknown": [1]},
    }
    scripted_server.route("GET", "/api/v2/account", json_handler(flat))
    async with wacr.Client(TOKEN, base_url=scripted_server.url) as client:
        account = await client.account.get()
    assert account.subscription == wacr.Subscription(plan_name="Free")


async def test_owned_session_is_closed_and_calls_after_close_fail(
    scripted_server: ScriptedServer,
) -> None:
    scripted_server.route("GET", "/api/v2/account", json_handler(ACCOUNT))
    client = wacr.Client(TOKEN, base_url=scripted_server.url)
    async with client:
        await client.account.get()
        session = client._core.transport._session
        assert session is not None
    assert session.closed
    assert client.closed
    with pytest.raises(wacr.ClientClosedError):
        await client.account.get()
    await client.aclose()  # idempotent
    with pytest.raises(wacr.ClientClosedError):
        async with client:
            pass


async def test_borrowed_session_is_never_closed(scripted_server: ScriptedServer) -> None:
    scripted_server.route("GET", "/api/v2/account", json_handler(ACCOUNT))
    async with aiohttp.ClientSession() as session:
        async with wacr.Client(TOKEN, base_url=scripted_server.url, session=session) as client:
            await client.account.get()
        assert not session.closed
        async with session.get(scripted_server.url + "/account") as resp:
            assert resp.status == 200


async def test_client_made_outside_a_request_never_opens_a_session() -> None:
    client = wacr.Client(TOKEN, base_url="http://127.0.0.1:9/api/v2")
    await client.aclose()
    assert client._core.transport._session is None


def _collect_unclosed_warnings() -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gc.collect()
    return [str(w.message) for w in caught if "Unclosed" in str(w.message)]


async def test_exception_inside_async_with_closes_everything(
    scripted_server: ScriptedServer,
) -> None:
    scripted_server.route("GET", "/api/v2/account", json_handler(ACCOUNT))
    with pytest.raises(RuntimeError, match="user code failed"):
        async with wacr.Client(TOKEN, base_url=scripted_server.url) as client:
            await client.account.get()
            raise RuntimeError("user code failed")
    assert client.closed
    assert _collect_unclosed_warnings() == []


async def test_cancellation_mid_request_closes_cleanly(scripted_server: ScriptedServer) -> None:
    entered = asyncio.Event()
    release = asyncio.Event()

    async def slow(request: web.Request) -> web.StreamResponse:
        entered.set()
        await release.wait()
        return web.json_response(ACCOUNT)

    scripted_server.route("GET", "/api/v2/account", slow)

    async def job() -> None:
        async with wacr.Client(TOKEN, base_url=scripted_server.url) as client:
            await client.account.get()

    task = asyncio.create_task(job())
    await entered.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    release.set()
    assert _collect_unclosed_warnings() == []


async def test_one_client_shared_by_thousands_of_tasks(scripted_server: ScriptedServer) -> None:
    scripted_server.route("GET", "/api/v2/account", json_handler(ACCOUNT))
    async with wacr.Client(TOKEN, base_url=scripted_server.url, connection_limit=20) as client:
        accounts = await asyncio.gather(*(client.account.get() for _ in range(2000)))
    assert len(accounts) == 2000
    assert {a.id for a in accounts} == {7}


async def test_json_body_on_delete_and_multipart(scripted_server: ScriptedServer) -> None:
    ok = {"success": True, "data": {"summary": {"total": 2, "deleted": 2, "failed": 0}}}
    scripted_server.route("DELETE", "/api/v2/contacts/batch", json_handler(ok))
    scripted_server.route("POST", "/api/v2/messages/media", json_handler({"success": True}))
    async with wacr.Client(TOKEN, base_url=scripted_server.url) as client:
        await client._request("DELETE", "/contacts/batch", safety="unsafe", json={"ids": [1, 2]})
        await client._request(
            "POST",
            "/messages/media",
            safety="unsafe",
            form=[
                ("phone", "15550001111"),
                (
                    "media_file",
                    FilePart(content=b"PNGDATA", filename="a.png", content_type="image/png"),
                ),
            ],
        )
    method, _, headers, body = scripted_server.seen[0]
    assert method == "DELETE"
    assert headers["Content-Type"].startswith("application/json")
    assert body == b'{"ids":[1,2]}'
    _, _, headers, body = scripted_server.seen[1]
    assert headers["Content-Type"].startswith("multipart/form-data")
    assert b'name="phone"' in body and b"15550001111" in body
    assert b'filename="a.png"' in body and b"PNGDATA" in body


async def test_token_not_in_errors_or_logs(
    scripted_server: ScriptedServer, caplog: pytest.LogCaptureFixture
) -> None:
    unauthorized = {"success": False, "error": {"code": "UNAUTHORIZED", "message": "Invalid token"}}
    scripted_server.route("GET", "/api/v2/account", json_handler(unauthorized, status=401))
    caplog.set_level(logging.DEBUG, logger="wacr_async")
    async with wacr.Client(TOKEN, base_url=scripted_server.url) as client:
        with pytest.raises(wacr.AuthenticationError) as info:
            await client.account.get()
    assert TOKEN not in str(info.value) and TOKEN not in repr(info.value)
    assert caplog.records, "expected a debug line per request"
    assert all(TOKEN not in record.getMessage() for record in caplog.records)
    # Connection failures do not leak it either.
    with no_wait():
        async with wacr.Client(TOKEN, base_url="http://127.0.0.1:9/api/v2", max_retries=0) as c:
            with pytest.raises(wacr.APIConnectionError) as conn:
                await c.account.get()
    assert TOKEN not in str(conn.value)
    assert conn.value.sent is False


async def test_success_body_that_is_not_json(scripted_server: ScriptedServer) -> None:
    async def html(request: web.Request) -> web.StreamResponse:
        return web.Response(text="<html>maintenance</html>", content_type="text/html")

    scripted_server.route("GET", "/api/v2/account", html)
    async with wacr.Client(TOKEN, base_url=scripted_server.url) as client:
        with pytest.raises(wacr.UnexpectedResponseError, match="maintenance"):
            await client.account.get()


async def test_error_statuses_raise_typed_errors(scripted_server: ScriptedServer) -> None:
    async def proxy(request: web.Request) -> web.StreamResponse:
        return web.Response(status=502, text="<h1>Bad gateway</h1>", content_type="text/html")

    scripted_server.route("GET", "/api/v2/account", proxy)
    with no_wait():
        async with wacr.Client(TOKEN, base_url=scripted_server.url, max_retries=1) as client:
            with pytest.raises(wacr.ServerError) as info:
                await client.account.get()
    assert info.value.status == 502
    assert "Bad gateway" in str(info.value)
    assert len(scripted_server.seen) == 2  # one retry for a read
