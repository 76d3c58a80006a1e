"""Fixtures for the sandbox's own tests: a started sandbox and a raw-aiohttp caller.

These tests talk HTTP directly (never through the SDK), so the sandbox stays an oracle
independent of the client. The plugin's fixtures are imported explicitly so the suite also
runs with the entry point disabled (``-p no:wacr_async``).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from wacr_async.testing import Sandbox
from wacr_async.testing.pytest_plugin import (  # noqa: F401  (fixtures and hook, re-exported)
    pytest_configure,
    wacr_client,
    wacr_sandbox,
)

_DEFAULT: Any = object()


@dataclass
class Reply:
    """One HTTP answer: status, headers, and the body (parsed JSON, else text)."""

    status: int
    headers: Mapping[str, str]
    body: Any

    @property
    def data(self) -> Any:
        return self.body["data"]

    @property
    def error(self) -> dict[str, Any]:
        error: dict[str, Any] = self.body["error"]
        return error

    @property
    def code(self) -> str | None:
        if isinstance(self.body, dict) and isinstance(self.body.get("error"), dict):
            code: str = self.body["error"]["code"]
            return code
        return None


class Api:
    """Raw HTTP calls against a sandbox, authenticated with its default token."""

    def __init__(self, session: aiohttp.ClientSession, sandbox: Sandbox) -> None:
        self.session = session
        self.sandbox = sandbox

    async def __call__(
        self,
        method: str,
        path: str,
        *,
        token: str | None = _DEFAULT,
        json_body: Any = _DEFAULT,
        data: Any = None,
        params: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> Reply:
        sent_headers = dict(headers or {})
        token = self.sandbox.token if token is _DEFAULT else token
        if token is not None:
            sent_headers["Authorization"] = f"Bearer {token}"
        kwargs: dict[str, Any] = {"headers": sent_headers, "params": params}
        if json_body is not _DEFAULT:
            kwargs["json"] = json_body
        if data is not None:
            kwargs["data"] = data
        async with self.session.request(method, self.sandbox.url + path, **kwargs) as response:
            text = await response.text()
            try:
                body: Any = json.loads(text)
            except ValueError:
                body = text
            return Reply(response.status, response.headers, body)

    async def get(self, path: str, **kwargs: Any) -> Reply:
        return await self("GET", path, **kwargs)

    async def post(self, path: str, body: Any = _DEFAULT, **kwargs: Any) -> Reply:
        return await self("POST", path, json_body=body, **kwargs)

    async def patch(self, path: str, body: Any = _DEFAULT, **kwargs: Any) -> Reply:
        return await self("PATCH", path, json_body=body, **kwargs)

    async def delete(self, path: str, body: Any = _DEFAULT, **kwargs: Any) -> Reply:
        return await self("DELETE", path, json_body=body, **kwargs)

    async def create_contact(self, **overrides: Any) -> Reply:
        """POST /contacts with a valid body, ``overrides`` applied."""
        return await self.post("/contacts", contact_body(**overrides))


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    # The documented reading; test_sandbox_server_code.py covers the server code's (default).
    async with Sandbox(show_wrapped=False, documented_queries=True) as started:
        yield started


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as http:
        yield http


@pytest.fixture
def api(session: aiohttp.ClientSession, sandbox: Sandbox) -> Api:
    return Api(session, sandbox)


@pytest.fixture
def make_api(session: aiohttp.ClientSession) -> Callable[[Sandbox], Api]:
    """For tests that start their own sandbox: ``api = make_api(sandbox)``."""
    return lambda sandbox: Api(session, sandbox)


def contact_body(**overrides: Any) -> dict[str, Any]:
    """A valid Create Contact body."""
    body: dict[str, Any] = {
        "firstname": "Ada",
        "lastname": "Lovelace",
        "phone": "+15550001111",
        "type": "lead",
        "source_id": 1,
        "status_id": 1,
    }
    body.update(overrides)
    return body
