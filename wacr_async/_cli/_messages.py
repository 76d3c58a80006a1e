"""``wacr messages tail``: follow new messages as they arrive, polling politely."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from typing import Any

import click

from ..models.messages import Message
from ._app import EXIT_INTERRUPTED, Session, Settings, connection_options, open_session, run
from ._ui import Ui

__all__ = ["messages_group"]

# With --sandbox nobody writes in, so the sandbox plays a customer every few seconds.
_SIMULATED_EVERY = 3.0
_SIMULATED_TEXTS = ("Hi! Is my order on its way?", "What time do you open?", "STOP", "Thanks!")


def message_line(message: Message) -> str:
    when = message.created_at or message.sent_at
    stamp = when.strftime("%Y-%m-%d %H:%M:%S") if when else "-"
    # The server code sends no direction; the watch fills it in when asked for one.
    arrow = {"inbound": "<-", "outbound": "->"}.get(message.direction or "", "--")
    text = (message.message or "").replace("\n", " ")
    who = message.sender_id or "-"
    return f"{stamp} #{message.id} {arrow} {who} [{message.type or '?'}] {text}"


def message_json(message: Message) -> str:
    data: dict[str, Any] = {
        "id": message.id,
        "direction": message.direction,
        "sender_id": message.sender_id,
        "type": message.type,
        "message": message.message,
        "status": message.status,
        "message_id": message.message_id,
        "interaction_id": message.interaction_id,
        "created_at": None if message.created_at is None else message.created_at.isoformat(),
    }
    return json.dumps(data, ensure_ascii=False)


async def _play_customer(session: Session) -> None:
    sandbox = session.sandbox
    assert sandbox is not None
    for n in itertools.count():
        await asyncio.sleep(_SIMULATED_EVERY)
        sandbox.receive(f"+1555010{n % 10:04d}", _SIMULATED_TEXTS[n % len(_SIMULATED_TEXTS)])


async def tail_messages(
    session: Session,
    ui: Ui,
    *,
    direction: str | None,
    interval: float,
    after_id: int | None,
    limit: int | None,
    as_json: bool,
) -> int:
    filter = {"direction": direction} if direction else None
    watch = session.client.messages.watch(filter=filter, interval=interval, after_id=after_id)
    shown = 0
    async with watch:
        async for message in watch:
            ui.echo(message_json(message) if as_json else message_line(message))
            shown += 1
            if limit is not None and shown >= limit:
                break
    return shown


async def _tail(
    settings: Settings,
    *,
    direction: str | None,
    interval: float,
    after_id: int | None,
    limit: int | None,
    as_json: bool,
) -> int:
    ui = settings.ui()
    async with open_session(settings) as session:
        customer: asyncio.Task[None] | None = None
        if settings.sandbox:
            customer = asyncio.create_task(_play_customer(session))
            ui.note("Sandbox: a simulated customer writes in every few seconds.")
        where = f" ({direction})" if direction else ""
        ui.note(f"Following new messages{where}; Ctrl-C to stop.")
        try:
            await tail_messages(
                session,
                ui,
                direction=direction,
                interval=interval,
                after_id=after_id,
                limit=limit,
                as_json=as_json,
            )
        except asyncio.CancelledError:
            # Ctrl-C is how a tail ends; the status says so, as for every command (130).
            return EXIT_INTERRUPTED
        finally:
            if customer is not None:
                customer.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await customer
    return 0


@click.group("messages")
def messages_group() -> None:
    """Read messages."""


@messages_group.command("tail")
@click.option(
    "--direction",
    type=click.Choice(["inbound", "outbound"]),
    help="Only messages received (inbound) or sent (outbound).",
)
@click.option(
    "--interval",
    type=click.FloatRange(min=0.1),
    default=5.0,
    show_default=True,
    help="Seconds between polls while messages arrive (longer while idle, up to 60).",
)
@click.option(
    "--after-id",
    type=click.IntRange(min=0),
    help="Start after this message id (shows the history after it first).",
)
@click.option("--limit", type=click.IntRange(min=1), help="Stop after this many messages.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@connection_options
@click.pass_obj
def tail_command(
    settings: Settings,
    direction: str | None,
    interval: float,
    after_id: int | None,
    limit: int | None,
    as_json: bool,
) -> None:
    """Print new messages as they arrive, until Ctrl-C (or --limit).

    Polls GET /messages, waiting longer while nothing happens and honouring the rate limit.
    Needs the messages:read scope. Example:

    \b
        wacr messages tail --direction inbound --json | my-bot
    """
    run(
        _tail,
        settings,
        direction=direction,
        interval=interval,
        after_id=after_id,
        limit=limit,
        as_json=as_json,
    )
