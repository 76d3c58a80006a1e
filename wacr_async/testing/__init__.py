"""The sandbox: a faithful in-memory WA.cr API v2 server on aiohttp.web, for tests.

Example::

    from wacr_async.testing import Sandbox

    async with Sandbox() as sandbox:                 # serves on 127.0.0.1, a free port
        async with sandbox.client() as client:       # a wacr_async.Client bound to it
            await client.messages.send_text(phone="+15550001111", message="Hi")
        assert [s.phone for s in sandbox.sends] == ["15550001111"]

It implements all 43 routes (``Sandbox.routes``) with their scopes, envelopes, validation,
pagination, plan limits, the OTP state machine and the per-token rate limiter; adds fault
injection (``sandbox.faults``), accounting (``sandbox.sends``, ``sandbox.hits``,
``sandbox.duplicate_sends()``), an adjustable clock (``sandbox.clock``) and fast seeding
(``sandbox.seed_contacts(100_000)``). Run it standalone with
``python -m wacr_async.testing --port 8080``; pytest users get the ``wacr_sandbox`` and
``wacr_client`` fixtures from the installed plugin.

Importing this package does not import the client; ``Sandbox.client()`` does, lazily.
"""

from __future__ import annotations

from .._retry import no_wait
from ._accounting import Ledger, SendRecord
from ._clock import Clock
from ._faults import FaultRule, Faults
from ._routes import Route
from ._server import API_PREFIX, DEFAULT_TOKEN, Sandbox
from ._state import Plan

__all__ = [
    "API_PREFIX",
    "DEFAULT_TOKEN",
    "Clock",
    "FaultRule",
    "Faults",
    "Ledger",
    "Plan",
    "Route",
    "Sandbox",
    "SendRecord",
    "no_wait",
]
