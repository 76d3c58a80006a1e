"""Token lifecycle in the sandbox: revoked, expiring and IP-bound tokens; detailed 401 codes."""

from __future__ import annotations

from typing import Any

import pytest

from wacr_async.testing import Sandbox


async def test_documented_mode_answers_every_auth_failure_unauthorized(
    api: Any, sandbox: Sandbox
) -> None:
    sandbox.add_token("wm_gone")
    sandbox.revoke_token("wm_gone")
    sandbox.add_token("wm_old")
    sandbox.expire_token("wm_old")

    for token in (None, "wm_never_issued", "wm_gone", "wm_old"):
        reply = await api("GET", "/account", token=token)
        assert (reply.status, reply.code) == (401, "UNAUTHORIZED"), token
    assert (await api("GET", "/account")).status == 200


@pytest.mark.parametrize(
    ("token", "code", "message"),
    [
        (None, "AUTHENTICATION_REQUIRED", "API token is required"),
        ("wm_never_issued", "INVALID_TOKEN", "is invalid"),
        ("wm_gone", "TOKEN_REVOKED", "has been revoked"),
        ("wm_old", "TOKEN_EXPIRED", "has expired"),
    ],
)
async def test_detailed_mode_uses_the_servers_own_codes(
    api: Any, sandbox: Sandbox, token: str | None, code: str, message: str
) -> None:
    sandbox.detailed_auth = True
    sandbox.add_token("wm_gone")
    sandbox.revoke_token("wm_gone")
    sandbox.add_token("wm_old")
    sandbox.expire_token("wm_old")

    reply = await api("POST", "/messages/text", token=token, json_body={})

    assert (reply.status, reply.code) == (401, code)
    assert message in reply.error["message"]


async def test_a_token_expires_on_the_sandbox_clock(api: Any, sandbox: Sandbox) -> None:
    sandbox.detailed_auth = True
    sandbox.add_token("wm_hour", {"account:read"}, expires_in=3600)

    assert (await api("GET", "/account", token="wm_hour")).status == 200
    sandbox.advance(3599)
    assert (await api("GET", "/account", token="wm_hour")).status == 200
    sandbox.advance(1)
    reply = await api("GET", "/account", token="wm_hour")
    assert (reply.status, reply.code) == (401, "TOKEN_EXPIRED")


async def test_an_ip_bound_token_is_refused_from_other_addresses(
    api: Any, sandbox: Sandbox
) -> None:
    sandbox.add_token("wm_office", ips=["203.0.113.7"])
    sandbox.add_token("wm_local", ips=["127.0.0.1", "::1"])

    refused = await api("GET", "/account", token="wm_office")
    assert (refused.status, refused.code) == (403, "IP_NOT_WHITELISTED")
    assert "127.0.0.1" in refused.error["message"]
    assert (await api("GET", "/account", token="wm_local")).status == 200


async def test_re_adding_a_token_clears_its_revocation_and_expiry(
    api: Any, sandbox: Sandbox
) -> None:
    sandbox.revoke_token(sandbox.token)
    assert (await api("GET", "/account")).status == 401

    sandbox.add_token(sandbox.token)
    assert (await api("GET", "/account")).status == 200
