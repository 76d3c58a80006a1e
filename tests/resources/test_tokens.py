"""``client.tokens`` (REFERENCE §14) against the sandbox: a created or rotated secret really
authenticates, a revoked or rotated-away one really stops."""

from __future__ import annotations

import logging

import pytest

import wacr_async as wacr
from tests.resources._support import Wire, no_requests, scoped
from wacr_async.testing import Sandbox


async def test_create_gives_a_secret_that_authenticates_with_its_scopes(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    created = await wacr_client.tokens.create(
        "ci", ["contacts:read"], expires_in_days=30, rate_limit_per_minute=120
    )
    token = created.token
    assert (token.name, token.scopes, token.is_active) == ("ci", ("contacts:read",), True)
    assert token.rate_limit_per_minute == 120 and token.expires_at is not None
    assert created.warning and "only time" in created.warning
    secret = created.plain_token.get_secret_value()
    assert secret.startswith("wm_") and len(secret) == 63 and str(created.plain_token) == secret

    async with wacr_sandbox.client(token=secret, max_retries=0) as ci:
        await ci.contacts.list().first_page()
        with pytest.raises(wacr.InsufficientScopeError):
            await ci.groups.list().first_page()


async def test_the_secret_hides_from_reprs_and_formatted_logs(
    wacr_client: wacr.Client, caplog: pytest.LogCaptureFixture
) -> None:
    wacr_client_logged = wacr_client
    created = await wacr_client_logged.tokens.create("ops", ["*"])
    secret = created.plain_token.get_secret_value()
    assert secret not in repr(created) and secret not in f"{created.plain_token}"
    assert repr(created.plain_token) == "SecretToken('wm_***')"
    with caplog.at_level(logging.INFO):
        logging.getLogger("app").info("created %r (%s)", created, f"{created.plain_token}")
    assert secret not in caplog.text


async def test_list_get_update(wacr_sandbox: Sandbox, wacr_client: wacr.Client) -> None:
    created = await wacr_client.tokens.create("reader", ["contacts:read"])
    listed = await wacr_client.tokens.list(search="reader").collect()
    assert [t.id for t in listed] == [created.token.id]
    everything = await wacr_client.tokens.list().collect()
    assert "Sandbox token 1" in [t.name for t in everything]  # the configured token too

    got = await wacr_client.tokens.get(created.token.id)  # a show: nested or flat
    assert got == created.token
    updated = await wacr_client.tokens.update(
        created.token.id, name="reader2", scopes=["contacts:read", "groups:read"]
    )
    assert (updated.name, updated.scopes) == ("reader2", ("contacts:read", "groups:read"))
    async with wacr_sandbox.client(token=str(created.plain_token)) as reader:
        await reader.groups.list().first_page()  # the new scope works at once


async def test_revoke_stops_the_token(wacr_sandbox: Sandbox, wacr_client: wacr.Client) -> None:
    created = await wacr_client.tokens.create("temp", ["*"])
    async with wacr_sandbox.client(token=str(created.plain_token), max_retries=0) as temp:
        await temp.account.get()
        await wacr_client.tokens.revoke(created.token.id)
        with pytest.raises(wacr.AuthenticationError):
            await temp.account.get()
    assert (await wacr_client.tokens.get(created.token.id)).is_active is False
    with pytest.raises(wacr.ValidationError, match="inactive"):
        await wacr_client.tokens.rotate(created.token.id)


async def test_rotate_swaps_the_secret(wacr_sandbox: Sandbox, wacr_client: wacr.Client) -> None:
    created = await wacr_client.tokens.create("bot", ["account:read"])
    rotated = await wacr_client.tokens.rotate(created.token.id)
    assert rotated.token.id == created.token.id and rotated.old_token_revoked
    assert rotated.plain_token != created.plain_token
    async with wacr_sandbox.client(token=str(rotated.plain_token), max_retries=0) as new:
        await new.account.get()
    async with wacr_sandbox.client(token=str(created.plain_token), max_retries=0) as old:
        with pytest.raises(wacr.AuthenticationError):
            await old.account.get()


async def test_create_sends_only_what_is_given(wire: tuple[Wire, wacr.Client]) -> None:
    recorder, client = wire
    await client.tokens.create("x", ["messages:send"], ip_whitelist=["127.0.0.1"])
    assert recorder.body() == {
        "name": "x",
        "scopes": ["messages:send"],
        "ip_whitelist": ["127.0.0.1"],
    }


async def test_only_a_star_token_manages_tokens(wacr_sandbox: Sandbox) -> None:
    token = scoped(wacr_sandbox, "contacts:read", "contacts:write")
    async with wacr_sandbox.client(token=token, max_retries=0) as client:
        with pytest.raises(wacr.InsufficientScopeError, match="tokens:manage"):
            await client.tokens.list().first_page()


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"name": "", "scopes": ["*"]}, "name"),
        ({"name": "x", "scopes": []}, "scopes"),
        ({"name": "x", "scopes": "*"}, "scopes"),
        ({"name": "x", "scopes": ["*"], "expires_in_days": 0}, "expires_in_days"),
        ({"name": "x", "scopes": ["*"], "rate_limit_per_minute": 10001}, "rate_limit_per_minute"),
    ],
)
async def test_bad_input_fails_locally(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client, kwargs: dict[str, object], field: str
) -> None:
    with pytest.raises(wacr.ValidationError) as caught:
        await wacr_client.tokens.create(**kwargs)  # type: ignore[arg-type]
    assert caught.value.local and field in caught.value.fields
    assert no_requests(wacr_sandbox)


async def test_the_server_refuses_an_unknown_scope(wacr_client: wacr.Client) -> None:
    with pytest.raises(wacr.ValidationError) as caught:
        await wacr_client.tokens.create("x", ["tokens:manage"])
    assert caught.value.status == 422


async def test_logged_bodies_never_show_a_secret(
    wacr_sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    async with wacr_sandbox.client(log_bodies=True) as client:
        with caplog.at_level(logging.DEBUG, logger="wacr_async"):
            created = await client.tokens.create("logged", ["*"])
            rotated = await client.tokens.rotate(created.token.id)
    assert "plain_token" in caplog.text
    for secret in (created.plain_token, rotated.plain_token):
        assert str(secret) not in caplog.text
