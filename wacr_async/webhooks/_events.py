"""The typed events: one frozen attrs class per family, all built through the one converter.

``Event`` carries the envelope (REFERENCE §13) as it came; the subclasses add what a handler
needs without digging: the typed resource for contact/source/status events, and the summary of
a WhatsApp message or receipt. An event type this SDK does not know is a plain ``Event``.
The classes keep a ``__dict__`` (no slots), which lets the converter's fast hook fill them
without calling ``__init__``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs

from ..models.contacts import Contact
from ..models.sources import Source
from ..models.statuses import Status

__all__ = [
    "Changes",
    "ContactEvent",
    "Event",
    "MessageReceived",
    "MessageStatus",
    "ResourceEvent",
    "SourceEvent",
    "StatusEvent",
    "Tenant",
    "WhatsAppEvent",
]


@attrs.frozen(kw_only=True, slots=False)
class Tenant:
    """The account the event belongs to (``domain`` is absent on WhatsApp forwards)."""

    id: int | None = None
    name: str | None = None
    domain: str | None = None


@attrs.frozen(kw_only=True, slots=False)
class Changes:
    """What a resource event changed: the attributes before and after, and which fields.

    ``previous`` is None on creation; ``modified_fields`` is None unless it is an update.
    """

    previous: dict[str, Any] | None = None
    current: dict[str, Any] | None = None
    modified_fields: list[str] | None = None


@attrs.frozen(kw_only=True, slots=False)
class Event:
    """One webhook event, whatever its type.

    ``id`` is the server's ``evt_…`` id (the same on each retry; None in the legacy format);
    ``type`` is e.g. ``contact.updated`` or ``whatsapp.message.received``; ``raw`` is the
    decoded body; ``format`` is ``"n8n"`` (the envelope) or ``"legacy"``.

    Example::

        event = webhooks.parse(body, headers, secret=SECRET)
        print(event.type, event.resource_type, event.resource_id)
    """

    id: str | None = None
    type: str
    timestamp: datetime | None = None
    version: str | None = None
    tenant: Tenant | None = None
    resource_type: str | None = None
    resource_id: str | int | None = None
    attributes: dict[str, Any] = attrs.field(factory=dict)
    relationships: dict[str, Any] = attrs.field(factory=dict)
    changes: Changes | None = None
    metadata: dict[str, Any] = attrs.field(factory=dict)
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False, eq=False)
    format: str = "n8n"

    @property
    def action(self) -> str:
        """The last word of the type: ``created``, ``updated``, ``received``, ``read``, …"""
        return self.type.rsplit(".", 1)[-1]


@attrs.frozen(kw_only=True, slots=False)
class ResourceEvent(Event):
    """A contact, source or status was created, updated or deleted (the base of the three)."""


@attrs.frozen(kw_only=True, slots=False)
class ContactEvent(ResourceEvent):
    """``contact.created|updated|deleted``; ``contact`` has its status, source and groups.

    Example::

        @receiver.on("contact.*")
        async def sync(event: webhooks.ContactEvent) -> None:
            print(event.action, event.contact.phone, event.contact.status)
    """

    contact: Contact


@attrs.frozen(kw_only=True, slots=False)
class SourceEvent(ResourceEvent):
    """``source.created|updated|deleted`` with the typed ``source``."""

    source: Source


@attrs.frozen(kw_only=True, slots=False)
class StatusEvent(ResourceEvent):
    """``status.created|updated|deleted`` with the typed lead ``status``."""

    status: Status


@attrs.frozen(kw_only=True, slots=False)
class WhatsAppEvent(Event):
    """Any ``whatsapp.*`` event Meta sent the account, forwarded as it came.

    ``original_payload`` is Meta's full webhook body (only its first entry is summarised in
    ``attributes``).
    """

    original_payload: dict[str, Any] | None = None


@attrs.frozen(kw_only=True, slots=False)
class MessageReceived(WhatsAppEvent):
    """``whatsapp.message.received``: a customer wrote to the business.

    ``phone`` is the sender as ``+`` and digits; ``text`` is the body of a text message (None
    for media and other types, see ``message_type``); ``context`` names the message replied to.

    Example::

        @receiver.on("whatsapp.message.received")
        async def reply(event: webhooks.MessageReceived) -> None:
            await client.messages.send_text(event.phone, f"You said: {event.text}")
    """

    message_id: str | None = None
    phone: str | None = None
    name: str | None = None
    text: str | None = None
    message_type: str | None = None
    context: dict[str, Any] | None = None
    sent_at: datetime | None = None


@attrs.frozen(kw_only=True, slots=False)
class MessageStatus(WhatsAppEvent):
    """A receipt for a message the business sent: ``sent``, ``delivered``, ``read``, ``failed``.

    ``phone`` is the recipient as ``+`` and digits; ``errors`` holds Meta's error objects on
    ``failed``; ``status_at`` is when WhatsApp recorded the status.
    """

    message_id: str | None = None
    status: str | None = None
    phone: str | None = None
    errors: list[dict[str, Any]] = attrs.field(factory=list)
    pricing: dict[str, Any] | None = None
    conversation: dict[str, Any] | None = None
    status_at: datetime | None = None
