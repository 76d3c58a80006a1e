"""Shared fixtures: a tiny scripted HTTP server for transport-level cases the sandbox never
produces (a proxy's HTML page, broken JSON), served over a real socket."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
import pytest
from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class ScriptedServer:
    """An aiohttp.web server whose routes the test sets; records every request it saw."""

    def __init__(self) -> None:
        self.handlers: dict[tuple[str, str], Handler] = {}
        self.seen: list[tuple[str, str, dict[str, str], bytes]] = []
        self.url = ""

    def route(self, method: str, path: str, handler: Handler) -> None:
        self.handlers[(method, path)] = handler

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        self.seen.append((request.method, request.path_qs, dict(request.headers), body))
        handler = self.handlers.get((request.method, request.path))
        if handler is None:
            return web.json_response(
                {"success": False, "error": {"code": "NOT_FOUND", "message": "no route"}},
                status=404,
            )
        return await handler(request)


@pytest.fixture
async def scripted_server() -> AsyncIterator[ScriptedServer]:
    server = ScriptedServer()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", server._dispatch)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    server.url = f"http://127.0.0.1:{port}/api/v2"
    try:
        yield server
    finally:
        await runner.cleanup()


def status_counter() -> tuple[aiohttp.TraceConfig, Counter[int]]:
    """A trace config counting the statuses the client received, and the counts."""
    statuses: Counter[int] = Counter()

    async def on_end(
        session: aiohttp.ClientSession, ctx: object, params: aiohttp.TraceRequestEndParams
    ) -> None:
        statuses[params.response.status] += 1

    trace = aiohttp.TraceConfig()
    trace.on_request_end.append(on_end)
    return trace, statuses
