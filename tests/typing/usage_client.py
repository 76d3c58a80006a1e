"""Typed usage of the client and account service; checked by ``mypy --strict``, never run."""

from __future__ import annotations

from datetime import datetime

import wacr_async as wacr


async def account_slice() -> None:
    async with wacr.Client(token="wm_x", timeout=wacr.Timeout(total=20, connect=5)) as client:
        account: wacr.Account = await client.account.get()
        created: datetime | None = account.created_at
        plan: str | None = account.subscription.plan_name if account.subscription else None
        usage: wacr.Usage = await client.account.usage()
        contacts: wacr.UsageEntry | None = usage.contacts
        limits: wacr.Limits = await client.account.limits()
        per_minute: int | None = limits.api_calls_per_minute
        patient: wacr.Client = client.with_options(timeout=120, max_retries=5)
        state: wacr.RateLimitState = patient.rate_limit
        print(created, plan, contacts, per_minute, state.remaining)
    await client.aclose()
