"""``wacr sandbox``: serve the in-memory API for local development."""

from __future__ import annotations

import asyncio
import contextlib
import signal

import click

from .. import _config
from ._app import run

__all__ = ["sandbox_command"]


async def serve(
    *,
    host: str,
    port: int,
    tokens: tuple[str, ...],
    seed_contacts: int,
    rate_limit: int | None,
) -> int:
    from ..testing import DEFAULT_TOKEN, Sandbox

    sandbox = Sandbox(
        tokens={token: {"*"} for token in (tokens or (DEFAULT_TOKEN,))},
        rate_limit=rate_limit,
        host=host,
        port=port,
    )
    if seed_contacts:
        sandbox.seed_contacts(seed_contacts)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # not on Windows
            loop.add_signal_handler(sig, stop.set)
    async with sandbox:
        # The first line always carries the URL, for scripts that start the sandbox.
        click.echo(f"WA.cr sandbox serving {sandbox.url} (token: {sandbox.token})")
        click.echo(
            f"Try: export {_config.BASE_URL_ENV}={sandbox.url} {_config.TOKEN_ENV}={sandbox.token}"
            "; wacr account"
        )
        click.echo("Ctrl-C to stop.")
        await stop.wait()
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
    type=click.IntRange(min=1),
    metavar="CALLS",
    help="Calls per token per 60 s window (default: no limit).",
)
def sandbox_command(
    host: str, port: int, tokens: tuple[str, ...], seed_contacts: int, rate_limit: int | None
) -> None:
    """Serve the in-memory WA.cr API on this machine until Ctrl-C.

    Same routes, envelopes, validation, errors and rate limits as the real API; data lives
    in memory. Point any client at it with WACR_BASE_URL and WACR_TOKEN.
    """
    run(
        serve,
        host=host,
        port=port,
        tokens=tokens,
        seed_contacts=seed_contacts,
        rate_limit=rate_limit,
    )
