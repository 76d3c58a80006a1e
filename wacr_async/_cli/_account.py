"""``wacr account``: the account, its usage and its plan limits as tables, or as JSON."""

from __future__ import annotations

from datetime import datetime

import click
from rich.table import Table

from ..models.account import Account, Limits, Usage, UsageEntry
from ._app import Settings, connection_options, open_session, run
from ._json import json_text

__all__ = ["account_command"]


def _when(value: datetime | None) -> str:
    return "-" if value is None else value.strftime("%Y-%m-%d %H:%M %Z").strip()


def _limit(value: int | None) -> str:
    if value is None:
        return "not set"
    return "unlimited" if value == -1 else f"{value:,}"


def account_table(account: Account) -> Table:
    table = Table(title="Account", show_header=False, title_justify="left")
    table.add_column("field", style="bold")
    table.add_column("value")
    sub = account.subscription
    rows = [
        ("id", str(account.id)),
        ("name", account.name or "-"),
        ("subdomain", account.subdomain or "-"),
        ("status", account.status or "-"),
        ("created", _when(account.created_at)),
        ("plan", (sub.plan_name if sub else None) or "-"),
        ("plan status", (sub.status if sub else None) or "-"),
        ("plan expires", _when(sub.expires_at if sub else None)),
    ]
    for name, value in rows:
        table.add_row(name, value)
    return table


def usage_table(usage: Usage) -> Table:
    table = Table(title="Usage", title_justify="left")
    for name in ("feature", "used", "limit", "remaining", "% used"):
        table.add_column(name, justify="left" if name == "feature" else "right")
    entries: list[tuple[str, UsageEntry | None]] = [
        ("contacts", usage.contacts),
        ("conversations", usage.conversations),
        ("campaigns", usage.campaigns),
        ("staff", usage.staff),
        *usage.other.items(),
    ]
    for name, entry in entries:
        if entry is None:
            continue
        unlimited = entry.is_unlimited or entry.limit == -1
        table.add_row(
            name,
            f"{entry.current:,}",
            _limit(entry.limit),
            "-" if unlimited or entry.remaining is None else f"{entry.remaining:,}",
            "-" if unlimited else f"{entry.percentage_used:.1f}",
        )
    return table


def limits_table(limits: Limits) -> Table:
    table = Table(title="Plan limits", title_justify="left")
    table.add_column("limit")
    table.add_column("value", justify="right")
    for key, entry in limits.limits.items():
        value = "unlimited" if entry.is_unlimited else _limit(entry.limit)
        table.add_row(entry.feature_name or key, value)
    for feature, enabled in limits.features.items():
        table.add_row(f"feature: {feature}", "yes" if enabled else "no")
    return table


async def show_account(settings: Settings, *, as_json: bool = False) -> int:
    ui = settings.ui()
    async with open_session(settings) as session:
        account = await session.client.account.get()
        usage = await session.client.account.usage()
        limits = await session.client.account.limits()
    if as_json:
        ui.echo(json_text({"account": account, "usage": usage, "limits": limits}))
        return 0
    ui.show(account_table(account))
    ui.show(usage_table(usage))
    ui.show(limits_table(limits))
    return 0


@click.command("account")
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help='One JSON object: {"account": …, "usage": …, "limits": …}.',
)
@connection_options
@click.pass_obj
def account_command(settings: Settings, as_json: bool) -> None:
    """Show the account, its usage and its plan limits.

    Needs the account:read scope. Example: wacr account --json | jq .limits
    """
    run(show_account, settings, as_json=as_json)
