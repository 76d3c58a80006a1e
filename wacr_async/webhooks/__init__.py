"""Receive the events WA.cr pushes to your URL: verified, typed, deduplicated (REFERENCE §13).

Example::

    from wacr_async import webhooks

    event = webhooks.parse(body, request.headers, secret=SECRET)   # raises SignatureError

    receiver = webhooks.Receiver(secret=SECRET)

    @receiver.on("whatsapp.message.received")
    async def reply(event: webhooks.MessageReceived) -> None:
        await client.messages.send_text(event.phone, "Thanks!")

    app.router.add_post("/wacr/events", receiver.aiohttp_handler)   # aiohttp
    fastapi_app.mount("/wacr/events", receiver.asgi)                  # any ASGI framework

Signatures are checked over the raw bytes in constant time. Contact, source and status events
carry the typed resource; inbound messages and receipts carry their summary; any other type is
a plain :class:`Event`. The legacy format (no ``X-Webhook-Format``) parses into the same
classes.
"""

from __future__ import annotations

from ._errors import PayloadError, SignatureError
from ._events import (
    Changes,
    ContactEvent,
    Event,
    MessageReceived,
    MessageStatus,
    ResourceEvent,
    SourceEvent,
    StatusEvent,
    Tenant,
    WhatsAppEvent,
)
from ._parse import FORMAT_HEADER, parse, parse_payload
from ._receiver import DEFAULT_MAX_BODY_SIZE, Handler, Receiver
from ._reply import Reply
from ._seen import MemorySeen, SeenStore
from ._signature import SIGNATURE_HEADER, sign, verify

__all__ = [
    "DEFAULT_MAX_BODY_SIZE",
    "FORMAT_HEADER",
    "SIGNATURE_HEADER",
    "Changes",
    "ContactEvent",
    "Event",
    "Handler",
    "MemorySeen",
    "MessageReceived",
    "MessageStatus",
    "PayloadError",
    "Receiver",
    "Reply",
    "ResourceEvent",
    "SeenStore",
    "SignatureError",
    "SourceEvent",
    "StatusEvent",
    "Tenant",
    "WhatsAppEvent",
    "parse",
    "parse_payload",
    "sign",
    "verify",
]
