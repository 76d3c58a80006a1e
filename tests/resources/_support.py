"""Helpers shared by the service tests: what went on the wire, request counts, scoped tokens."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import aiohttp
import pytest

import wacr_async as wacr
from wacr_async.testing import API_PREFIX, Sandbox


def no_requests(sandbox: Sandbox) -> bool:
    """True when the sandbox has seen no request at all (a check was made locally)."""
    return sum(sandbox.hits.values()) == 0


class Wire:
    """What a client put on the wire: (method, path, query pairs, body) per request.

    Pass ``wire.trace`` in the client's ``trace_configs``.
    """

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, list[tuple[str, str]], bytes]] = []
        self.trace = aiohttp.TraceConfig()
        self.trace.on_request_start.append(self._start)
        self.trace.on_request_chunk_sent.append(self._chunk)

    async def _start(
        self, session: aiohttp.ClientSession, ctx: SimpleNamespace, params: Any
    ) -> None:
        url = urlsplit(str(params.url))
        self.requests.append((params.method, url.path, parse_qsl(url.query), b""))

    async def _chunk(
        self, session: aiohttp.ClientSession, ctx: SimpleNamespace, params: Any
    ) -> None:
        method, path, query, body = self.requests[-1]
        self.requests[-1] = (method, path, query, body + params.chunk)

    def body(self, index: int = -1) -> Any:
        return json.loads(self.requests[index][3])

    def query(self, index: int = -1) -> list[tuple[str, str]]:
        return self.requests[index][2]

    @property
    def bodies(self) -> list[tuple[str, str, Any]]:
        """(method, path below the API prefix, decoded JSON) of every request with a body."""
        return [
            (method, path.removeprefix(API_PREFIX), json.loads(body))
            for method, path, _, body in self.requests
            if body
        ]


def scoped(sandbox: Sandbox, *scopes: str) -> str:
    """A new token with exactly ``scopes``."""
    token = "wm_scoped_" + "_".join(scope.replace(":", "-") for scope in scopes)
    sandbox.add_token(token, scopes)
    return token


async def expect_scope(sandbox: Sandbox, token: str, scope: str, call: Any) -> None:
    """``call(client)`` with ``token`` answers 403 INSUFFICIENT_SCOPE naming ``scope``."""
    async with sandbox.client(token=token, max_retries=0) as client:
        with pytest.raises(wacr.InsufficientScopeError) as caught:
            await call(client)
    assert (caught.value.status, caught.value.code) == (403, "INSUFFICIENT_SCOPE")
    assert f"Required scope: {scope}" in caught.value.message
