"""The per-token API rate limiter and its headers (real time, so windows are short here)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from wacr_async.testing import Sandbox


async def test_off_by_default_means_no_headers(api: Any) -> None:
    reply = await api.get("/account")
    assert not [name for name in reply.headers if name.lower().startswith("x-ratelimit")]


async def test_headers_and_429(make_api: Any) -> None:
    async with Sandbox(rate_limit=(3, 60), tokens={"a": {"*"}, "b": {"*"}}) as sandbox:
        api = make_api(sandbox)
        remaining = []
        for _ in range(3):
            reply = await api.get("/account", token="a")
            assert reply.status == 200
            assert reply.headers["X-RateLimit-Limit"] == "3"
            assert reply.headers["X-RateLimit-Window"] == "60"
            # On success Reset is always "now + window" (the server's quirk).
            assert abs(int(reply.headers["X-RateLimit-Reset"]) - (time.time() + 60)) <= 2
            remaining.append(reply.headers["X-RateLimit-Remaining"])
        assert remaining == ["2", "1", "0"]

        limited = await api.get("/account", token="a")
        assert limited.status == 429
        assert limited.code == "RATE_LIMIT_EXCEEDED"
        retry_after = int(limited.headers["Retry-After"])
        assert 59 <= retry_after <= 60
        assert limited.error["message"] == (
            f"Too many requests. Please try again in {retry_after} seconds."
        )
        assert limited.body["meta"]["retry_after"] == retry_after
        assert limited.headers["X-RateLimit-Remaining"] == "0"
        assert limited.headers["X-RateLimit-Limit"] == "3"
        assert abs(int(limited.headers["X-RateLimit-Reset"]) - (time.time() + retry_after)) <= 2
        assert "X-RateLimit-Window" not in limited.headers

        # Another token has its own window.
        other = await api.get("/account", token="b")
        assert other.headers["X-RateLimit-Remaining"] == "2"
        # Scope failures count and carry headers; 401s have no token, hence no headers.
        denied = await api.get("/nope", token="b")
        assert denied.status == 404
        unauthenticated = await api.get("/account", token="zzz")
        assert unauthenticated.status == 401
        assert "X-RateLimit-Limit" not in unauthenticated.headers


async def test_window_opens_at_the_first_request_after_expiry(make_api: Any) -> None:
    async with Sandbox(rate_limit=(2, 0.5)) as sandbox:
        api = make_api(sandbox)
        assert (await api.get("/account")).headers["X-RateLimit-Window"] == "0.5"
        await api.get("/account")
        limited = await api.get("/account")
        assert limited.status == 429
        assert limited.headers["Retry-After"] == "1"  # whole seconds, rounded up
        await asyncio.sleep(0.55)
        fresh = await api.get("/account")
        assert fresh.status == 200
        assert fresh.headers["X-RateLimit-Remaining"] == "1"


async def test_scope_failures_are_counted(make_api: Any) -> None:
    async with Sandbox(rate_limit=(2, 60), tokens={"reader": {"contacts:read"}}) as sandbox:
        api = make_api(sandbox)
        denied = await api.get("/account", token="reader")
        assert denied.status == 403
        assert denied.headers["X-RateLimit-Remaining"] == "1"


async def test_whitelisted_tokens_are_unlimited(make_api: Any) -> None:
    async with Sandbox(
        rate_limit=(1, 60), tokens={"vip": {"*"}, "std": {"*"}}, whitelisted_tokens=["vip"]
    ) as sandbox:
        api = make_api(sandbox)
        for _ in range(3):
            reply = await api.get("/account", token="vip")
            assert reply.status == 200
            assert reply.headers["X-RateLimit-Limit"] == "unlimited"
            assert reply.headers["X-RateLimit-Remaining"] == "unlimited"
            assert reply.headers["X-RateLimit-Whitelisted"] == "true"
        assert (await api.get("/account", token="std")).status == 200
        assert (await api.get("/account", token="std")).status == 429


async def test_rate_limit_can_change_at_runtime(api: Any, sandbox: Sandbox) -> None:
    assert sandbox.rate_limit is None
    sandbox.rate_limit = 5
    assert sandbox.rate_limit == (5, 60.0)
    assert (await api.get("/account")).headers["X-RateLimit-Limit"] == "5"
    sandbox.rate_limit = None
    assert "X-RateLimit-Limit" not in (await api.get("/account")).headers
