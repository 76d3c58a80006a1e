"""``wacr webhooks listen`` and ``wacr webhooks verify``: see and debug WA.cr's webhooks."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any

import aiohttp
import click
from aiohttp import web

from .. import webhooks
from ._app import run
from ._ui import Ui

__all__ = ["webhooks_group"]

SECRET_ENV = "WACR_WEBHOOK_SECRET"
# Headers passed on with --forward: what the server sent, signature included.
_FORWARDED = ("content-type", "user-agent", "x-webhook-")


def event_line(event: webhooks.Event) -> str:
    """One human line per event: when, type, id, and what it is about."""
    when = event.timestamp.strftime("%Y-%m-%d %H:%M:%S") if event.timestamp else "-"
    return f"{when} {event.type} {event.id or '(no id)'} {_summary(event)}".rstrip()


def _summary(event: webhooks.Event) -> str:
    if isinstance(event, webhooks.ContactEvent):
        contact = event.contact
        name = " ".join(filter(None, (contact.firstname, contact.lastname)))
        changed = event.changes.modified_fields if event.changes else None
        fields = f" changed: {', '.join(changed)}" if changed else ""
        return f"contact #{contact.id} {name} {contact.phone or ''}{fields}"
    if isinstance(event, webhooks.SourceEvent):
        return f"source #{event.source.id} {event.source.name}"
    if isinstance(event, webhooks.StatusEvent):
        return f"status #{event.status.id} {event.status.name}"
    if isinstance(event, webhooks.MessageReceived):
        who = f"{event.phone} ({event.name})" if event.name else f"{event.phone}"
        text = (event.text or "").replace("\n", " ")
        return f"<- {who} [{event.message_type or '?'}] {text}"
    if isinstance(event, webhooks.MessageStatus):
        return f"-> {event.phone} {event.message_id} {event.status}"
    return f"{event.resource_type or ''} {event.resource_id or ''}".strip()


def event_json(event: webhooks.Event) -> str:
    """One JSON line per event: the envelope's facts and the body as received."""
    data: dict[str, Any] = {
        "id": event.id,
        "type": event.type,
        "timestamp": None if event.timestamp is None else event.timestamp.isoformat(),
        "format": event.format,
        "resource_type": event.resource_type,
        "resource_id": event.resource_id,
        "payload": event.raw,
    }
    return json.dumps(data, ensure_ascii=False)


async def listen(
    *,
    host: str,
    port: int,
    path: str | None,
    secret: str | None,
    forward: str | None,
    as_json: bool,
    limit: int | None,
) -> int:
    ui = Ui("off")
    receiver = webhooks.Receiver(secret=secret, insecure=secret is None)
    done = asyncio.Event()
    shown = 0

    async def show(event: webhooks.Event) -> None:
        nonlocal shown
        ui.echo(event_json(event) if as_json else event_line(event))
        shown += 1
        if limit is not None and shown >= limit:
            done.set()

    receiver.add_handler("*", show)
    forwarder = None if forward is None else Forwarder(ui, forward)

    async def endpoint(request: web.Request) -> web.StreamResponse:
        body = await request.read()  # bounded by client_max_size below: 413 beyond it
        reply = await receiver.receive(body, request.headers)
        if forwarder is not None and reply.status == 200 and not reply.duplicate:
            forwarder.send(body, request.headers)
        return web.Response(status=reply.status, body=reply.body, content_type="application/json")

    app = web.Application(client_max_size=receiver.max_body_size)
    app.router.add_post(path or "/{tail:.*}", endpoint)  # no --path: any path
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound_host, bound_port = runner.addresses[0][:2]
        checked = "signatures verified" if secret else "signatures NOT verified"
        where = f"http://{bound_host}:{bound_port}{path or '/'}"
        ui.note(f"Listening on {where} ({checked}); Ctrl-C to stop.")
        await done.wait()
    except asyncio.CancelledError:
        pass  # Ctrl-C is how listening ends
    finally:
        await runner.cleanup()
        await receiver.aclose(grace=5)
        if forwarder is not None:
            await forwarder.aclose()
    return 0


class Forwarder:
    """Passes each verified body on, unchanged and with its signature, to a local app."""

    def __init__(self, ui: Ui, url: str) -> None:
        self.ui = ui
        self.url = url
        self.http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        self.tasks: set[asyncio.Task[None]] = set()

    def send(self, body: bytes, headers: Mapping[str, str]) -> None:
        kept = {k: v for k, v in headers.items() if k.lower().startswith(_FORWARDED)}
        task = asyncio.create_task(self._send(body, kept))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _send(self, body: bytes, headers: dict[str, str]) -> None:
        try:
            async with self.http.post(self.url, data=body, headers=headers) as answer:
                await answer.read()
                self.ui.note(f"  forwarded to {self.url}: {answer.status}")
        except (aiohttp.ClientError, TimeoutError) as exc:
            self.ui.note(f"  forwarding to {self.url} failed: {exc or type(exc).__name__}")

    async def aclose(self) -> None:
        if self.tasks:
            await asyncio.wait(set(self.tasks))
        await self.http.close()


def verify_body(body: bytes, *, secret: str, signature: str | None) -> tuple[int, list[str]]:
    """The exit status and the lines ``wacr webhooks verify`` prints for one body."""
    lines: list[str] = []
    expected = webhooks.sign(body, secret)
    status = 0
    if signature is None:
        lines.append(f"signature: {expected}")
    else:
        try:
            webhooks.verify(body, signature, secret)
            lines.append("signature: OK")
        except webhooks.SignatureError as exc:
            status = 1
            lines.append(f"signature: FAILED ({exc}); expected {expected}")
            stripped = body.rstrip(b"\r\n")
            if stripped != body and webhooks.sign(stripped, secret) == signature.strip().lower():
                lines.append(
                    "the signature matches the body without its trailing newline: the file was "
                    "changed after it was received (save the raw request body)"
                )
    try:
        event = webhooks.parse(body, {}, secret=None)
    except webhooks.PayloadError as exc:
        lines.append(f"body: not a webhook ({exc})")
        return 1, lines
    lines.append(f"event: {event_line(event)}")
    return status, lines


@click.group("webhooks")
def webhooks_group() -> None:
    """Receive and debug the events WA.cr sends to your URL."""


@webhooks_group.command("listen")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option(
    "--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="Port."
)
@click.option("--path", help="Only receive on this URL path (default: any path).")
@click.option(
    "--secret", envvar=SECRET_ENV, metavar="SECRET", help=f"Signing secret (${SECRET_ENV})."
)
@click.option("--insecure", is_flag=True, help="Accept unsigned events (no secret).")
@click.option("--forward", metavar="URL", help="Pass each verified event on to this URL.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.option("--limit", type=click.IntRange(min=1), help="Stop after this many events.")
def listen_command(
    host: str,
    port: int,
    path: str | None,
    secret: str | None,
    insecure: bool,
    forward: str | None,
    as_json: bool,
    limit: int | None,
) -> None:
    """Print verified events as they arrive, until Ctrl-C (or --limit).

    Point WA.cr (or `wacr sandbox --webhook URL --webhook-secret S`) at it. Repeats are
    shown once; bad signatures are answered 401 and not shown. Example:

    \b
        wacr webhooks listen --port 8000 --secret "$WACR_WEBHOOK_SECRET" --json
    """
    if secret and insecure:
        raise click.UsageError("give --secret or --insecure, not both")
    if not secret and not insecure:
        raise click.UsageError(f"give --secret (or set {SECRET_ENV}), or --insecure")
    run(
        listen,
        host=host,
        port=port,
        path=path,
        secret=secret or None,
        forward=forward,
        as_json=as_json,
        limit=limit,
    )


@webhooks_group.command("verify")
@click.option(
    "--secret", envvar=SECRET_ENV, required=True, metavar="SECRET", help="Signing secret."
)
@click.option("--signature", metavar="HEX", help="The X-Webhook-Signature received.")
@click.argument("body", type=click.File("rb"), default="-")
def verify_command(secret: str, signature: str | None, body: Any) -> None:
    """Check a webhook body (a file, or stdin) against its signature.

    Without --signature, prints the signature the body should carry. The body must be the
    raw bytes received: reformatting or re-saving it changes the signature. Example:

    \b
        wacr webhooks verify --secret S --signature 3f9a… < body.json
    """
    status, lines = verify_body(body.read(), secret=secret, signature=signature)
    for line in lines:
        click.echo(line)
    if status:
        raise click.exceptions.Exit(status)
