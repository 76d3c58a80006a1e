"""Messages: the history (list item, detail), the four send results, and interactive inputs.

Results (``GET /messages``, ``GET /messages/{id}``, ``POST /messages/text|template|media|
interactive``): the fields that both the docs and the server code always send are required
and typed without None (``message_id``, ``contact_id``, ``phone``, ``status``, ``sent_at``,
``chat_id`` of every send; ``sent_at`` and ``is_read`` of a listed message); the rest may be
missing (None).

Inputs: :class:`Button` for reply buttons, :class:`Section` of :class:`Row` for list messages
(``send_interactive``), and :class:`ContactDefaults` for a contact created by ``send_media``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

import attrs

__all__ = [
    "Button",
    "ContactDefaults",
    "Message",
    "MessageDetail",
    "Row",
    "Section",
    "SentInteractive",
    "SentMedia",
    "SentMessage",
    "SentTemplate",
    "SentText",
]


@attrs.frozen(kw_only=True, slots=False)
class Message:
    """One message of the history (``GET /messages``), sent or received.

    ``type`` is ``text``, ``template``, ``image``, … and ``status`` ``sent``, ``delivered``,
    ``read`` or ``failed``; both are plain strings so that new values never break parsing.
    """

    id: int
    interaction_id: int | None = None
    sender_id: str | None = None
    type: str | None = None
    message: str | None = None
    status: str | None = None
    message_id: str | None = None
    sent_at: datetime
    is_read: bool
    # Documented as a filter; the server code has no such column and never sends it, and
    # messages.watch(inbound_only=True) fills it in when it tells directions apart itself.
    direction: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


@attrs.frozen(kw_only=True)
class MessageDetail(Message):
    """One message with its details (``GET /messages/{id}``).

    ``message`` may hold HTML for template messages; ``url`` is the media URL; ``staff_id``
    is None for sends made through the API or a bot.
    """

    status_message: str | None = None
    ref_message_id: str | None = None
    url: str | None = None
    staff_id: int | None = None


@attrs.frozen(kw_only=True)
class SentMessage:
    """What every send returns; the four send results add their own fields.

    ``phone`` is the cleaned number (digits only), ``message_id`` the WhatsApp id (wamid),
    ``chat_id``/``chat_message_id`` the conversation and row the message was stored in.
    """

    message_id: str
    contact_id: int
    phone: str
    status: str
    sent_at: datetime
    chat_id: int
    chat_message_id: int | None = None  # always null for template sends in the server code


@attrs.frozen(kw_only=True)
class SentText(SentMessage):
    """Result of ``send_text``; ``message`` is the text after merge fields were expanded."""

    message: str


@attrs.frozen(kw_only=True)
class SentTemplate(SentMessage):
    """Result of ``send_template``."""

    template_name: str
    language: str


@attrs.frozen(kw_only=True)
class SentMedia(SentMessage):
    """Result of ``send_media``; ``media_url`` is where the server stored the media."""

    media_type: str
    media_url: str
    caption: str | None = None
    filename: str | None = None


@attrs.frozen(kw_only=True)
class SentInteractive(SentMessage):
    """Result of ``send_interactive``; ``type`` is ``button`` or ``list``."""

    type: str


@attrs.frozen
class Button:
    """A reply button of an interactive message (title at most 20 characters).

    Example::

        await client.messages.send_interactive(
            "+15550001111", "Confirm?", buttons=[wacr.Button("yes", "Yes"), wacr.Button("no", "No")]
        )
    """

    id: str
    title: str


@attrs.frozen
class Row:
    """One choice in a list message section (title ≤ 24, description ≤ 72 characters)."""

    id: str
    title: str
    description: str | None = None


def _rows(rows: Iterable[Row]) -> tuple[Row, ...]:
    return tuple(rows)


@attrs.frozen
class Section:
    """A titled group of :class:`Row` choices in a list message.

    Example::

        menu = wacr.Section("Sizes", [wacr.Row("s", "Small"), wacr.Row("l", "Large", "Extra 2 €")])
        await client.messages.send_interactive(
            "+15550001111", "Pick a size", sections=[menu], list_button_text="Sizes"
        )
    """

    title: str
    rows: tuple[Row, ...] = attrs.field(converter=_rows)


@attrs.frozen(kw_only=True)
class ContactDefaults:
    """Details for the contact that ``send_media`` creates when the phone is unknown.

    Ignored when the phone already belongs to a contact. ``groups`` are group ids.

    Example::

        await client.messages.send_media(
            "+15550001111", "image", url="https://example.com/a.png",
            contact=wacr.ContactDefaults(firstname="Ada", lastname="Lovelace", groups=[3]),
        )
    """

    firstname: str | None = None
    lastname: str | None = None
    email: str | None = None
    country: str | None = None
    assigned_id: int | None = None
    groups: Sequence[int] | None = None
