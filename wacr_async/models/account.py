"""Account, usage and plan limits (``GET /account``, ``/account/usage``, ``/account/limits``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs

from ._converter import converter, model_hook

__all__ = ["Account", "FeatureLimit", "Limits", "Subscription", "Usage", "UsageEntry"]


@attrs.frozen(kw_only=True)
class Subscription:
    """The tenant's plan; ``plan_name`` is ``"Free"`` without an active subscription."""

    plan_name: str | None = None
    plan_id: int | None = None
    status: str | None = None
    expires_at: datetime | None = None


@attrs.frozen(kw_only=True)
class Account:
    """The calling tenant. ``subscription`` is read whether the API nests it or not.

    ``whatsapp_number`` is the account's own WhatsApp sender number when the answer carries
    one (the sandbox's does; neither the docs nor the server code list it): ``messages.watch``
    uses it to tell inbound from outbound messages.
    """

    id: int
    name: str | None = None
    subdomain: str | None = None
    status: str | None = None
    created_at: datetime | None = None
    subscription: Subscription | None = None
    whatsapp_number: str | None = None


def _structure_account(data: Any, _: type) -> Account:
    if isinstance(data, dict) and not isinstance(data.get("subscription"), dict):
        # The docs list the plan fields beside the account's; one server build nests them.
        flat = {key: data[key] for key in ("plan_name", "plan_id", "expires_at") if key in data}
        if flat:
            data = {**data, "subscription": flat}
    return _account_hook(data, Account)


_account_hook = model_hook(Account)
converter.register_structure_hook(Account, _structure_account)


@attrs.frozen(kw_only=True)
class UsageEntry:
    """Usage of one feature. ``limit`` is -1 for unlimited and None when not configured."""

    current: int = 0
    limit: int | None = None
    remaining: int | None = None
    percentage_used: float = 0.0
    is_unlimited: bool = False


@attrs.frozen(kw_only=True)
class Usage:
    """Usage per feature; features the API adds later are kept in ``other``."""

    contacts: UsageEntry | None = None
    conversations: UsageEntry | None = None
    campaigns: UsageEntry | None = None
    staff: UsageEntry | None = None
    other: dict[str, UsageEntry] = attrs.field(factory=dict)


_USAGE_FIELDS = ("contacts", "conversations", "campaigns", "staff")


def _structure_usage(data: Any, _: type) -> Usage:
    known = {
        key: converter.structure(data[key], UsageEntry) for key in _USAGE_FIELDS if data.get(key)
    }
    other = {
        str(key): converter.structure(value, UsageEntry)
        for key, value in data.items()
        if key not in _USAGE_FIELDS and isinstance(value, dict)
    }
    return Usage(**known, other=other)


converter.register_structure_hook(Usage, _structure_usage)


@attrs.frozen(kw_only=True)
class FeatureLimit:
    """A plan limit; ``limit`` is -1 when unlimited."""

    limit: int | None = None
    feature_name: str | None = None
    is_unlimited: bool = False


@attrs.frozen(kw_only=True)
class Limits:
    """Plan limits by key (``contacts``, ``api_calls_per_minute``, …) and feature flags.

    Example::

        limits = await client.account.limits()
        limits.api_calls_per_minute          # 60
        limits.features.get("chatbot")       # True / False / None
    """

    limits: dict[str, FeatureLimit] = attrs.field(factory=dict)
    features: dict[str, bool] = attrs.field(factory=dict)

    @property
    def api_calls_per_minute(self) -> int | None:
        entry = self.limits.get("api_calls_per_minute")
        return None if entry is None else entry.limit
