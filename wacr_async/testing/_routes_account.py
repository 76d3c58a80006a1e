"""GET /account, /account/usage, /account/limits (§2)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ._clock import iso
from ._envelope import ok
from ._state import FEATURES, State

__all__ = ["get_account", "get_limits", "get_usage"]

_FEATURE_NAMES = {
    "contacts": "Total Contacts",
    "conversations": "Conversations per Month",
    "campaigns": "Active Campaigns",
    "staff": "Team Members",
}


async def get_account(state: State, request: web.Request) -> web.Response:
    plan = state.plan
    expires = state.subscription_expires_at
    data = {
        **state.account,
        # Not in the docs or the server code's answer: the sandbox tells its sender number, so
        # that watch(inbound_only=True) can tell directions apart against it.
        "whatsapp_number": state.wa_number,
        "subscription": {
            "plan_name": plan.name or "Free",
            "plan_id": plan.plan_id,
            "status": plan.subscription_status,
            "expires_at": None if expires is None else iso(expires),
        },
    }
    return ok(state.clock, data, "Account information retrieved successfully")


def _usage_entry(current: int, limit: int | None) -> dict[str, Any]:
    if limit is not None and limit > 0:
        percentage: float = round(current / limit * 100, 2)
        remaining: int | None = max(0, limit - current)
    else:
        percentage = 0.0
        remaining = None
    return {
        "current": current,
        "limit": limit,
        "remaining": remaining,
        "percentage_used": percentage,
        "is_unlimited": limit == -1,
    }


async def get_usage(state: State, request: web.Request) -> web.Response:
    plan = state.plan
    data = {
        "contacts": _usage_entry(len(state.contacts), plan.contacts),
        "conversations": _usage_entry(state.conversation_count(), plan.conversations),
        "campaigns": _usage_entry(state.active_campaigns, plan.campaigns),
        "staff": _usage_entry(state.staff_count, plan.staff),
    }
    return ok(state.clock, data, "Usage statistics retrieved successfully")


async def get_limits(state: State, request: web.Request) -> web.Response:
    plan = state.plan
    limits: dict[str, Any] = {}
    for key, name in _FEATURE_NAMES.items():
        limit = getattr(plan, key)
        limits[key] = {"limit": limit, "feature_name": name, "is_unlimited": limit == -1}
    limits["api_calls_per_minute"] = {
        "limit": state.api_calls_per_minute,
        "feature_name": "API Calls per Minute",
        "is_unlimited": state.api_calls_per_minute == -1,
    }
    features = {name: bool(plan.features.get(name, False)) for name in FEATURES}
    features["api_access"] = True  # always true for a caller that got this far
    return ok(
        state.clock, {"limits": limits, "features": features}, "Plan limits retrieved successfully"
    )
