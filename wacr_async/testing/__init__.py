"""The sandbox: a faithful in-memory WA.cr API v2 server on aiohttp.web, for tests.

Example::

    from wacr_async.testing import Sandbox

    async with Sandbox() as sandbox:                 # serves on 127.0.0.1, a free port
        async with sandbox.client() as client:       # a wacr_async.Client bound to it
            await client.messages.send_text(phone="+15550001111", message="Hi")
        assert [s.phone for s in sandbox.sends] == ["15550001111"]

What it does: all 43 routes (``Sandbox.routes``) with their scopes, envelopes, validation
messages, pagination/filter/sort/search, plan limits, opt-outs, the OTP state machine, templates
sync, comments, and the per-token rate limiter with its ``X-RateLimit-*`` headers (off unless
``rate_limit=`` is given). The real server's documented quirks are kept (Send Media's
non-envelope 422, List Contacts' ``count``/``links.self``, a status update without ``color``
clearing it, ``fields`` being ignored on contacts...), so code that passes here handles them.

Knobs for tests:

- ``sandbox.faults.add("POST /messages/*", drop_after=1.0, times=1)``: latency/jitter, 5xx
  before or after processing, dropped connections before or after processing.
- ``sandbox.sends``, ``sandbox.duplicate_sends()``, ``sandbox.hits["POST /messages/text"]``.
- ``sandbox.clock.advance(600)`` / ``sandbox.advance(600)``: OTP expiry and OTP limiters.
- ``sandbox.webhooks.subscribe(url, secret=…)``: contact/source/status changes, inbound
  messages (``sandbox.receive``) and send receipts POSTed there, signed, PHP-encoded
  (``php_json``) and retried as the server does; ``sandbox.webhooks.deliveries``.
- ``sandbox.plan`` (limits, feature flags), ``sandbox.whatsapp_configured``,
  ``sandbox.opt_out(phone)``, ``sandbox.fail_sends_to(phone)``, ``sandbox.otp_code(phone)``.
- Seeding: ``sandbox.seed_contacts(100_000)`` (well under a second), ``add_contact``,
  ``add_group``, ``add_template(..., remote=True)``, ``add_chat``, ``receive`` (inbound).

pytest: installing wacr-async registers a plugin with two fixtures (they need
pytest-asyncio; without it they skip the test with a hint)::

    async def test_bot(wacr_sandbox, wacr_client):      # a started Sandbox, a bound Client
        await my_bot.run_once(wacr_client)
        assert wacr_sandbox.duplicate_sends() == []

    @pytest.mark.wacr_sandbox(rate_limit=(5, 1.0))      # Sandbox(...) keyword arguments
    async def test_paced(wacr_sandbox): ...

Command line: ``python -m wacr_async.testing --port 8080 [--seed-contacts N]`` serves it on
loopback with token ``wm_sandbox``.

``no_wait`` (re-exported from the client's retry module) turns the client's own backoff
sleeps off inside a ``with`` block. ``MockTransport(handler)`` answers a client's requests
from a function, for unit tests without a socket: ``wacr.Client(token, transport=...)``.

Importing this package does not import the client; ``Sandbox.client()`` and ``no_wait`` load
it on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._accounting import Ledger, SendRecord
from ._clock import Clock
from ._faults import FaultPlan, FaultRule, Faults
from ._php_json import php_json
from ._routes import Route
from ._server import API_PREFIX, DEFAULT_TOKEN, Sandbox
from ._state import Plan
from ._webhooks import Subscription, WebhookDelivery, Webhooks

if TYPE_CHECKING:
    from .._retry import no_wait
    from .._transport import Request, Response
    from ._mock_transport import MockTransport

__all__ = [
    "API_PREFIX",
    "DEFAULT_TOKEN",
    "Clock",
    "FaultPlan",
    "FaultRule",
    "Faults",
    "Ledger",
    "MockTransport",
    "Plan",
    "Request",
    "Response",
    "Route",
    "Sandbox",
    "SendRecord",
    "Subscription",
    "WebhookDelivery",
    "Webhooks",
    "no_wait",
    "php_json",
]


def __getattr__(name: str) -> Any:
    # Lazy so that importing the sandbox never imports the client's modules.
    if name == "no_wait":
        from .._retry import no_wait

        return no_wait
    if name == "MockTransport":
        from ._mock_transport import MockTransport

        return MockTransport
    if name in ("Request", "Response"):
        from .. import _http

        return getattr(_http, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
