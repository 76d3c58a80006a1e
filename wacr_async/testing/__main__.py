"""``python -m wacr_async.testing``: serve the sandbox on loopback until interrupted.

Example::

    python -m wacr_async.testing --port 8080 --seed-contacts 1000
    curl -H 'Authorization: Bearer wm_sandbox' http://127.0.0.1:8080/api/v2/account

``--port 0`` picks a free port; the first line printed always carries the base URL.
``--webhook URL --webhook-secret S`` sends signed webhook events to URL; ``POST
/__sandbox/inbound`` with ``{"phone": …, "text": …}`` then plays an inbound message.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import Callable, Iterable, Sequence

from ._server import DEFAULT_TOKEN, Sandbox

__all__ = ["main", "serve"]


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m wacr_async.testing",
        description="Serve the in-memory WA.cr API v2 sandbox on loopback.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port (0 = any free port)")
    parser.add_argument(
        "--token",
        action="append",
        dest="tokens",
        metavar="TOKEN",
        help=f"accepted bearer token with every scope (repeatable; default {DEFAULT_TOKEN})",
    )
    parser.add_argument("--seed-contacts", type=int, default=0, metavar="N", help="add N contacts")
    parser.add_argument(
        "--rate-limit",
        type=int,
        default=None,
        metavar="CALLS",
        help="per-token limit per 60 s window (default: off)",
    )
    parser.add_argument("--webhook", metavar="URL", help="send webhook events to URL")
    parser.add_argument("--webhook-secret", metavar="SECRET", help="sign webhooks with SECRET")
    parser.add_argument(
        "--no-whatsapp",
        action="store_true",
        help="act as if WhatsApp is not configured (sends answer 422)",
    )
    parser.add_argument(
        "--flat-show",
        action="store_true",
        help="answer the show endpoints flat, as documented (default: nested, as the server)",
    )
    return parser.parse_args(argv)


async def serve(
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    tokens: Sequence[str] = (),
    seed_contacts: int = 0,
    rate_limit: int | tuple[int, float] | None = None,
    whatsapp_configured: bool = True,
    notes: Callable[[Sandbox], Iterable[str]] = lambda sandbox: (),
    webhook: str | None = None,
    webhook_secret: str | None = None,
    show_wrapped: bool = True,
) -> None:
    """Serve a sandbox until SIGINT or SIGTERM.

    The first line printed is ``WA.cr sandbox serving URL (token: TOKEN)``, for scripts that
    start the sandbox; ``notes`` gives the lines printed after it.
    """
    sandbox = Sandbox(
        tokens={token: {"*"} for token in (tokens or (DEFAULT_TOKEN,))},
        rate_limit=rate_limit,
        whatsapp_configured=whatsapp_configured,
        host=host,
        port=port,
        show_wrapped=show_wrapped,
    )
    if seed_contacts:
        sandbox.seed_contacts(seed_contacts)
    if webhook:
        sandbox.webhooks.subscribe(webhook, secret=webhook_secret)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # Windows
            loop.add_signal_handler(sig, stop.set)
    async with sandbox:
        print(f"WA.cr sandbox serving {sandbox.url} (token: {sandbox.token})", flush=True)
        if webhook:
            inbound = sandbox.url.rsplit("/api/", 1)[0] + "/__sandbox/inbound"
            print(f"Webhooks to {webhook}; inject a message: POST {inbound}", flush=True)
        for line in notes(sandbox):
            print(line, flush=True)
        await stop.wait()


async def _serve(args: argparse.Namespace) -> None:
    await serve(
        host=args.host,
        port=args.port,
        tokens=args.tokens or (),
        seed_contacts=args.seed_contacts,
        rate_limit=args.rate_limit,
        whatsapp_configured=not args.no_whatsapp,
        webhook=args.webhook,
        webhook_secret=args.webhook_secret,
        show_wrapped=not args.flat_show,
    )
    print("WA.cr sandbox stopped", flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    args = _parse(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
