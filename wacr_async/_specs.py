"""What a bulk send is made of: one spec per message, each naming the send it stands for.

A spec holds the arguments of one ``client.messages.send_*`` call plus an optional ``key``
that names the item in a journal. Without a key, a journalled item is named by a hash of its
canonical JSON (stable across processes and Python versions), so the same spec in a re-run
finds its earlier outcome.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, TypeAlias

import attrs

from ._journal.fingerprint import content_of
from .models.messages import (
    Button,
    ContactDefaults,
    Section,
    SentInteractive,
    SentMedia,
    SentMessage,
    SentTemplate,
    SentText,
)
from .resources._uploads import FileInput

if TYPE_CHECKING:
    from ._services import Services

__all__ = [
    "InteractiveMessage",
    "MediaMessage",
    "MessageSpec",
    "TemplateMessage",
    "TextMessage",
    "check_spec",
    "result_to_json",
    "spec_key",
]

_KEY_PREFIX = "spec:"


def _strings(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(values)


def _buttons(values: Iterable[Button] | None) -> tuple[Button, ...] | None:
    return None if values is None else tuple(values)


def _sections(values: Iterable[Section] | None) -> tuple[Section, ...] | None:
    return None if values is None else tuple(values)


class _Spec:
    """What every spec shares: the send it performs and its identity in a journal."""

    __slots__ = ()

    kind: ClassVar[str]
    path: ClassVar[str]
    result_type: ClassVar[type[SentMessage]]
    key: str | None

    async def _send(self, client: Services) -> SentMessage:
        raise NotImplementedError


@attrs.frozen
class TextMessage(_Spec):
    """A text message to send in bulk: the arguments of ``client.messages.send_text``.

    Example::

        specs = (wacr.TextMessage(phone, f"Hi {name}", key=f"hi-{n}") for n, name, phone in rows)
        run = client.batch.send_messages(specs)
    """

    kind: ClassVar[str] = "text"
    path: ClassVar[str] = "/messages/text"
    result_type: ClassVar[type[SentMessage]] = SentText

    phone: str
    message: str
    contact_id: int | None = attrs.field(default=None, kw_only=True)
    key: str | None = attrs.field(default=None, kw_only=True)

    async def _send(self, client: Services) -> SentMessage:
        return await client.messages.send_text(self.phone, self.message, contact_id=self.contact_id)


@attrs.frozen
class TemplateMessage(_Spec):
    """A template message to send in bulk: the arguments of ``client.messages.send_template``.

    Example::

        wacr.TemplateMessage("+15550001111", "order_update", "en", fields=["A-17", "Friday"],
                             key="order-A-17")
    """

    kind: ClassVar[str] = "template"
    path: ClassVar[str] = "/messages/template"
    result_type: ClassVar[type[SentMessage]] = SentTemplate

    phone: str
    template_name: str
    language: str
    fields: tuple[str, ...] = attrs.field(default=(), kw_only=True, converter=_strings)
    header_text: str | None = attrs.field(default=None, kw_only=True)
    header_image: str | FileInput | None = attrs.field(default=None, kw_only=True)
    header_video: str | FileInput | None = attrs.field(default=None, kw_only=True)
    header_document: str | FileInput | None = attrs.field(default=None, kw_only=True)
    header_document_name: str | None = attrs.field(default=None, kw_only=True)
    buttons: tuple[str, ...] = attrs.field(default=(), kw_only=True, converter=_strings)
    contact_id: int | None = attrs.field(default=None, kw_only=True)
    auto_generate_otp: bool | None = attrs.field(default=None, kw_only=True)
    otp_field_number: int | None = attrs.field(default=None, kw_only=True)
    key: str | None = attrs.field(default=None, kw_only=True)

    async def _send(self, client: Services) -> SentMessage:
        return await client.messages.send_template(
            self.phone,
            self.template_name,
            self.language,
            fields=self.fields,
            header_text=self.header_text,
            header_image=self.header_image,
            header_video=self.header_video,
            header_document=self.header_document,
            header_document_name=self.header_document_name,
            buttons=self.buttons,
            contact_id=self.contact_id,
            auto_generate_otp=self.auto_generate_otp,
            otp_field_number=self.otp_field_number,
        )


@attrs.frozen
class MediaMessage(_Spec):
    """A media message to send in bulk: the arguments of ``client.messages.send_media``.

    Give ``url=`` or ``file=`` (a ``Path`` is streamed from disk at send time).

    Example::

        wacr.MediaMessage("+15550001111", "document", url="https://example.com/invoice.pdf",
                          caption="Your invoice", key="invoice-2291")
    """

    kind: ClassVar[str] = "media"
    path: ClassVar[str] = "/messages/media"
    result_type: ClassVar[type[SentMessage]] = SentMedia

    phone: str
    media_type: str
    url: str | None = attrs.field(default=None, kw_only=True)
    file: FileInput | None = attrs.field(default=None, kw_only=True)
    caption: str | None = attrs.field(default=None, kw_only=True)
    filename: str | None = attrs.field(default=None, kw_only=True)
    contact_id: int | None = attrs.field(default=None, kw_only=True)
    contact: ContactDefaults | None = attrs.field(default=None, kw_only=True)
    key: str | None = attrs.field(default=None, kw_only=True)

    async def _send(self, client: Services) -> SentMessage:
        return await client.messages.send_media(
            self.phone,
            self.media_type,
            url=self.url,
            file=self.file,
            caption=self.caption,
            filename=self.filename,
            contact_id=self.contact_id,
            contact=self.contact,
        )


@attrs.frozen
class InteractiveMessage(_Spec):
    """Reply buttons or a list menu to send in bulk: the arguments of
    ``client.messages.send_interactive``.

    Example::

        wacr.InteractiveMessage("+15550001111", "Still coming on Friday?",
                                buttons=[wacr.Button("yes", "Yes"), wacr.Button("no", "No")])
    """

    kind: ClassVar[str] = "interactive"
    path: ClassVar[str] = "/messages/interactive"
    result_type: ClassVar[type[SentMessage]] = SentInteractive

    phone: str
    body_text: str
    buttons: tuple[Button, ...] | None = attrs.field(default=None, kw_only=True, converter=_buttons)
    sections: tuple[Section, ...] | None = attrs.field(
        default=None, kw_only=True, converter=_sections
    )
    list_button_text: str | None = attrs.field(default=None, kw_only=True)
    header_text: str | None = attrs.field(default=None, kw_only=True)
    footer_text: str | None = attrs.field(default=None, kw_only=True)
    contact_id: int | None = attrs.field(default=None, kw_only=True)
    key: str | None = attrs.field(default=None, kw_only=True)

    async def _send(self, client: Services) -> SentMessage:
        return await client.messages.send_interactive(
            self.phone,
            self.body_text,
            buttons=self.buttons,
            sections=self.sections,
            list_button_text=self.list_button_text,
            header_text=self.header_text,
            footer_text=self.footer_text,
            contact_id=self.contact_id,
        )


MessageSpec: TypeAlias = TextMessage | TemplateMessage | MediaMessage | InteractiveMessage
"""Any of the four message specs ``client.batch.send_messages`` accepts."""

SPEC_TYPES: tuple[type[_Spec], ...] = (
    TextMessage,
    TemplateMessage,
    MediaMessage,
    InteractiveMessage,
)


def spec_key(spec: MessageSpec) -> str:
    """The spec's journal key: its ``key``, or a hash of its canonical JSON.

    Example::

        spec_key(wacr.TextMessage("+15550001111", "Hi"))   # "spec:3f1c…" (same in every run)
    """
    if spec.key is not None:
        return spec.key
    text = json.dumps([spec.kind, content_of(spec)], sort_keys=True, separators=(",", ":"))
    return _KEY_PREFIX + hashlib.sha256(text.encode()).hexdigest()[:40]


def result_to_json(result: SentMessage) -> dict[str, Any]:
    """A send result as JSON for the journal (None fields left out, datetimes as ISO 8601)."""
    out: dict[str, Any] = {}
    for f in attrs.fields(type(result)):
        value = getattr(result, f.name)
        if value is None:
            continue
        out[f.name] = value.isoformat() if isinstance(value, datetime) else value
    return out


def check_spec(spec: object) -> None:
    """Raise TypeError for an input item that is not one of the four specs."""
    if not isinstance(spec, SPEC_TYPES):
        raise TypeError(
            "send_messages takes TextMessage, TemplateMessage, MediaMessage or "
            f"InteractiveMessage items, not {type(spec).__name__}"
        )
