"""``wacr sandbox``: serve the in-memory API for local development."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import click

from .. import _config
from ._app import run
from ._params import RATE_LIMIT_HELP, rate_limit_option

if TYPE_CHECKING:
    from ..testing import Sandbox

__all__ = ["sandbox_command"]


def _notes(sandbox: Sandbox) -> Iterable[str]:
    yield (
        f"Try: export {_config.BASE_URL_ENV}={sandbox.url} {_config.TOKEN_ENV}={sandbox.token}"
        "; wacr account"
    )
    yield "Ctrl-C to stop."


async def serve(
    *,
    host: str,
    port: int,
    tokens: tuple[str, ...],
    seed_contacts: int,
    rate_limit: tuple[int, float] | None,
    no_whatsapp: bool,
    webhook: str | None = None,
    webhook_secret: str | None = None,
    flat_show: bool = False,
) -> int:
    from ..testing.__main__ import serve as serve_sandbox

    await serve_sandbox(
        host=host,
        port=port,
        tokens=tokens,
        seed_contacts=seed_contacts,
        rate_limit=rate_limit,
        whatsapp_configured=not no_whatsapp,
        notes=_notes,
        webhook=webhook,
        webhook_secret=webhook_secret,
        show_wrapped=not flat_show,
    )
    click.echo("WA.cr sandbox stopped.")
    return 0


@click.command("sandbox")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8080,
    show_default=True,
    help="Port (0: any free port).",
)
@click.option(
    "--token",
    "tokens",
    multiple=True,
    metavar="TOKEN",
    help="Accepted bearer token with every scope (repeatable; default wm_sandbox).",
)
@click.option(
    "--seed-contacts",
    type=click.IntRange(min=0),
    default=0,
    metavar="N",
    help="Start with N contacts.",
)
@click.option(
    "--rate-limit",
    metavar="N/SECONDS",
    callback=rate_limit_option,
    help=f"Calls per token: {RATE_LIMIT_HELP} (default: no limit).",
)
@click.option(
    "--no-whatsapp",
    is_flag=True,
    help="Act as if WhatsApp is not configured (sends answer 422).",
)
@click.option(
    "--flat-show",
    is_flag=True,
    help="Answer GET /contacts/{id} and the other show endpoints flat, as documented "
    "(default: nested data.data, as the server code does).",
)
@click.option("--webhook", metavar="URL", help="Send webhook events (signed) to this URL.")
@click.option("--webhook-secret", metavar="SECRET", help="Sign the webhooks with this secret.")
def sandbox_command(
    host: str,
    port: int,
    tokens: tuple[str, ...],
    seed_contacts: int,
    rate_limit: tuple[int, float] | None,
    no_whatsapp: bool,
    webhook: str | None,
    webhook_secret: str | None,
    flat_show: bool,
) -> None:
    """Serve the in-memory WA.cr API on this machine until Ctrl-C.

    Same routes, envelopes, validation, errors and rate limits as the real API; data lives
    in memory. Point any client at it with WACR_BASE_URL and WACR_TOKEN. With --webhook,
    changes, sends and inbound messages (POST /__sandbox/inbound) are sent there as webhooks.
    """
    run(
        serve,
        host=host,
        port=port,
        tokens=tokens,
        seed_contacts=seed_contacts,
        rate_limit=rate_limit,
        no_whatsapp=no_whatsapp,
        webhook=webhook,
        webhook_secret=webhook_secret,
        flat_show=flat_show,
    )
