"""client.account against the sandbox: account info, usage and plan limits (REFERENCE §2),
with their documented errors: 401 for a bad token, 403 INSUFFICIENT_SCOPE without
``account:read``, 404 NOT_FOUND (tenant gone) and 500 INTERNAL_ERROR."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest
from aiohttp import web

import wacr_async as wacr
from wacr_async.testing import Sandbox

if TYPE_CHECKING:
    from tests.conftest import ScriptedServer

Call = Callable[[wacr.Client], Awaitable[Any]]

CALLS: dict[str, tuple[str, Call]] = {
    "get": ("GET /account", lambda client: client.account.get()),
    "usage": ("GET /account/usage", lambda client: client.account.usage()),
    "limits": ("GET /account/limits", lambda client: client.account.limits()),
}


async def test_get_account_and_subscription(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    account = await wacr_client.account.get()

    assert isinstance(account, wacr.Account)
    assert (account.id, account.name, account.subdomain, account.status) == (
        1,
        "Sandbox Co",
        "sandbox",
        "active",
    )
    now = wacr_sandbox.clock.now()
    assert account.created_at is not None and account.created_at.tzinfo is not None
    assert abs(account.created_at - (now - timedelta(days=365))) < timedelta(minutes=1)
    subscription = account.subscription
    assert subscription is not None
    assert (subscription.plan_name, subscription.plan_id, subscription.status) == (
        "Sandbox",
        1,
        "active",
    )
    assert subscription.expires_at is not None
    assert abs(subscription.expires_at - (now + timedelta(days=30))) < timedelta(minutes=1)


async def test_get_account_without_a_subscription_is_on_the_free_plan(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    wacr_sandbox.plan.name = ""
    wacr_sandbox.plan.plan_id = None
    wacr_sandbox.plan.subscription_status = None
    wacr_sandbox.state.subscription_expires_at = None
    wacr_sandbox.state.account["name"] = "Renamed Ltd"

    account = await wacr_client.account.get()

    assert account.name == "Renamed Ltd"
    assert account.subscription == wacr.Subscription(plan_name="Free")


async def test_usage_counts_against_the_plan(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    wacr_sandbox.plan.contacts = 8
    wacr_sandbox.plan.conversations = -1
    wacr_sandbox.plan.campaigns = None
    wacr_sandbox.plan.staff = 3
    wacr_sandbox.seed_contacts(3)
    await wacr_client.messages.send_text("+15550001111", "Hi")  # opens this month's conversation

    usage = await wacr_client.account.usage()

    assert isinstance(usage, wacr.Usage)
    # 4 contacts now: the send created a lead for the unknown phone.
    assert usage.contacts == wacr.UsageEntry(
        current=4, limit=8, remaining=4, percentage_used=50.0, is_unlimited=False
    )
    assert usage.conversations == wacr.UsageEntry(
        current=1, limit=-1, remaining=None, percentage_used=0.0, is_unlimited=True
    )
    assert usage.campaigns == wacr.UsageEntry(
        current=0, limit=None, remaining=None, percentage_used=0.0, is_unlimited=False
    )
    assert usage.staff == wacr.UsageEntry(
        current=1, limit=3, remaining=2, percentage_used=33.33, is_unlimited=False
    )
    assert usage.other == {}


async def test_usage_follows_creates_and_deletes(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    wacr_sandbox.plan.contacts = 10
    ids = wacr_sandbox.seed_contacts(5)
    await wacr_client.contacts.delete(ids[0])

    usage = await wacr_client.account.usage()

    assert usage.contacts is not None
    assert (usage.contacts.current, usage.contacts.remaining) == (4, 6)
    assert usage.contacts.percentage_used == 40.0


async def test_limits_report_the_plan_the_rate_limit_and_the_features(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    wacr_sandbox.plan.contacts = 1000
    wacr_sandbox.plan.conversations = -1
    wacr_sandbox.plan.features["chatbot"] = False
    wacr_sandbox.plan.features["api_access"] = False  # the API still says true to a caller

    limits = await wacr_client.account.limits()

    assert isinstance(limits, wacr.Limits)
    assert limits.limits["contacts"] == wacr.FeatureLimit(
        limit=1000, feature_name="Total Contacts", is_unlimited=False
    )
    assert limits.limits["conversations"] == wacr.FeatureLimit(
        limit=-1, feature_name="Conversations per Month", is_unlimited=True
    )
    assert limits.limits["campaigns"].feature_name == "Active Campaigns"
    assert (limits.limits["staff"].feature_name, limits.limits["staff"].limit) == (
        "Team Members",
        5,
    )
    assert limits.limits["api_calls_per_minute"].feature_name == "API Calls per Minute"
    assert limits.api_calls_per_minute == -1  # the sandbox's default: no rate limit
    assert set(limits.features) == {
        "whatsapp_templates",
        "bulk_messaging",
        "chatbot",
        "advanced_analytics",
        "api_access",
        "custom_branding",
    }
    assert limits.features["chatbot"] is False
    assert limits.features["api_access"] is True
    assert limits.features["whatsapp_templates"] is True


@pytest.mark.wacr_sandbox(rate_limit=(30, 60.0))
async def test_limits_report_the_token_rate_limit(wacr_client: wacr.Client) -> None:
    limits = await wacr_client.account.limits()

    assert limits.api_calls_per_minute == 30


@pytest.mark.parametrize("name", list(CALLS))
async def test_an_invalid_token_is_unauthorized(wacr_sandbox: Sandbox, name: str) -> None:
    key, call = CALLS[name]

    async with wacr_sandbox.client(token="wm_not_a_token") as client:
        with pytest.raises(wacr.AuthenticationError) as caught:
            await call(client)

    exc = caught.value
    assert (exc.status, exc.code) == (401, "UNAUTHORIZED")
    assert exc.message == "The provided API token is invalid."
    assert exc.request_id is not None
    assert wacr_sandbox.hits[key] == 1  # a 401 is not retried


async def test_a_revoked_token_is_unauthorized(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    await wacr_client.account.get()
    wacr_sandbox.remove_token(wacr_sandbox.token)

    with pytest.raises(wacr.AuthenticationError):
        await wacr_client.account.get()


@pytest.mark.wacr_sandbox(
    tokens={"wm_admin": {"*"}, "wm_contacts": {"contacts:read", "contacts:write"}}
)
@pytest.mark.parametrize("name", list(CALLS))
async def test_a_token_without_account_read_is_refused(wacr_sandbox: Sandbox, name: str) -> None:
    key, call = CALLS[name]

    async with wacr_sandbox.client(token="wm_contacts") as client:
        with pytest.raises(wacr.InsufficientScopeError) as caught:
            await call(client)
        # The same token can do what its scopes allow.
        await client.contacts.list().first_page()

    exc = caught.value
    assert (exc.status, exc.code) == (403, "INSUFFICIENT_SCOPE")
    assert "Required scope: account:read" in exc.message
    assert wacr_sandbox.hits[key] == 1


@pytest.mark.wacr_sandbox(tokens={"wm_reader": {"account:read"}})
async def test_account_read_is_enough_for_all_three(wacr_sandbox: Sandbox) -> None:
    async with wacr_sandbox.client(token="wm_reader") as client:
        assert (await client.account.get()).id == 1
        assert (await client.account.usage()).contacts is not None
        assert (await client.account.limits()).api_calls_per_minute == -1
        with pytest.raises(wacr.InsufficientScopeError):
            await client.contacts.list().first_page()


@pytest.mark.parametrize("name", list(CALLS))
async def test_internal_error_is_retried_then_raised(wacr_sandbox: Sandbox, name: str) -> None:
    key, call = CALLS[name]
    wacr_sandbox.faults.add(key, error_before=1.0, status_before=500)

    async with wacr_sandbox.client(max_retries=1) as client:
        with wacr.testing.no_wait(), pytest.raises(wacr.InternalServerError) as caught:
            await call(client)

    assert (caught.value.status, caught.value.code) == (500, "INTERNAL_ERROR")
    assert wacr_sandbox.hits[key] == 2  # a read: one retry, then the error


async def test_a_passing_server_error_is_retried_away(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    wacr_sandbox.faults.add("GET /account/usage", error_before=1.0, status_before=500, times=1)

    with wacr.testing.no_wait():
        usage = await wacr_client.account.usage()

    assert usage.contacts is not None
    assert wacr_sandbox.hits["GET /account/usage"] == 2


@pytest.mark.parametrize(
    ("path", "call"),
    [
        ("/api/v2/account", CALLS["get"][1]),
        ("/api/v2/account/usage", CALLS["usage"][1]),
        ("/api/v2/account/limits", CALLS["limits"][1]),
    ],
)
async def test_tenant_not_found(scripted_server: ScriptedServer, path: str, call: Call) -> None:
    # The single-tenant sandbox cannot lose its tenant; a scripted server answers as the docs say.
    async def not_found(request: web.Request) -> web.Response:
        return web.json_response(
            {
                "success": False,
                "error": {"code": "NOT_FOUND", "message": "Tenant not found"},
                "meta": {"request_id": "r-404", "timestamp": "2026-01-01T00:00:00+00:00"},
            },
            status=404,
        )

    scripted_server.route("GET", path, not_found)
    async with wacr.Client("wm_x", base_url=scripted_server.url) as client:
        with pytest.raises(wacr.NotFoundError) as caught:
            await call(client)

    assert (caught.value.status, caught.value.code) == (404, "NOT_FOUND")
    assert caught.value.request_id == "r-404"
    assert len(scripted_server.seen) == 1
