"""``parse``: raw body + headers → a typed :class:`Event`, verifying the signature first.

Three shapes arrive (REFERENCE §13): the envelope (``X-Webhook-Format: n8n``), the legacy
resource format (``{"event": "created", "model": "App\\\\Models\\\\Tenant\\\\Contact", …}``) and,
in the legacy build, Meta's raw WhatsApp payload. All three become the same classes. PHP writes
an empty map as ``[]``, so every map in the body is read tolerantly.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import attrs

from ..models._converter import converter, model_hook
from ._errors import PayloadError
from ._events import (
    Changes,
    ContactEvent,
    Event,
    MessageReceived,
    MessageStatus,
    SourceEvent,
    StatusEvent,
    Tenant,
    WhatsAppEvent,
)
from ._signature import SIGNATURE_HEADER, verify

__all__ = ["FORMAT_HEADER", "decode", "header", "parse", "parse_payload", "peek"]

FORMAT_HEADER = "X-Webhook-Format"

logger = logging.getLogger("wacr_async.webhooks")

E = TypeVar("E", bound=Event)
Fields = dict[str, Any]

_RESOURCE_FIELD = {"contact": "contact", "source": "source", "status": "status"}
_RESOURCE_CLASS: dict[str, type[Event]] = {
    "contact": ContactEvent,
    "source": SourceEvent,
    "status": StatusEvent,
}
_STATUS_TYPES = frozenset(
    {
        "whatsapp.message.sent",
        "whatsapp.message.delivered",
        "whatsapp.message.read",
        "whatsapp.message.failed",
        "whatsapp.status.updated",
    }
)


def parse(
    body: bytes | bytearray | memoryview | str,
    headers: Mapping[str, str],
    *,
    secret: str | bytes | None,
) -> Event:
    """Verify and parse one webhook request.

    ``body`` must be the raw request body (re-serialised JSON never verifies); ``headers`` any
    mapping, looked up case-insensitively. ``secret=None`` skips verification: pass it only
    when you cannot get the server's secret (REFERENCE §13), and know anyone can then post.

    Raises :class:`SignatureError` (missing, malformed or wrong signature) or
    :class:`PayloadError` (not a webhook body).

    Example::

        event = webhooks.parse(await request.read(), request.headers, secret=SECRET)
        if isinstance(event, webhooks.MessageReceived):
            print(event.phone, event.text)
    """
    payload = decode(body, headers, secret=secret)
    return parse_payload(payload, format=header(headers, FORMAT_HEADER))


def decode(
    body: bytes | bytearray | memoryview | str,
    headers: Mapping[str, str],
    *,
    secret: str | bytes | None,
) -> dict[str, Any]:
    """``parse`` up to the decoded JSON object: the signature checked, no event built yet."""
    raw = body if type(body) is bytes else body.encode() if isinstance(body, str) else bytes(body)
    if secret is not None:
        verify(raw, header(headers, SIGNATURE_HEADER), secret)
    try:
        payload = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise PayloadError(f"the body is not JSON: {exc}") from None
    if not isinstance(payload, dict):
        raise PayloadError(f"the body is a JSON {type(payload).__name__}, not an object")
    return payload


def peek(payload: dict[str, Any]) -> tuple[str, str | None] | None:
    """An envelope's ``(type, id)`` without building the event; None for the legacy shapes."""
    head = payload.get("event")
    if isinstance(head, dict):
        kind = head.get("type")
        if isinstance(kind, str) and kind:
            return kind, _text(head.get("id"))
    return None


def header(headers: Mapping[str, str], name: str) -> str | None:
    """``headers[name]`` looked up case-insensitively (any mapping, multidicts included)."""
    value = headers.get(name)
    if value is not None:
        return value
    folded = name.lower()
    for key, item in headers.items():
        if key.lower() == folded:
            return item
    return None


def parse_payload(payload: Any, *, format: str | None = None) -> Event:
    """A typed event from an already decoded body (no signature check).

    Example::

        event = webhooks.parse_payload(json.loads(body), format="n8n")
    """
    if not isinstance(payload, dict):
        raise PayloadError(f"the body is a JSON {type(payload).__name__}, not an object")
    if isinstance(payload.get("event"), dict):
        return _envelope(payload)
    if format is not None and format.strip().lower() == "n8n":
        raise PayloadError("X-Webhook-Format is n8n, but the body has no 'event' object")
    if isinstance(payload.get("event"), str) and "model" in payload:
        return _legacy_resource(payload)
    if isinstance(payload.get("entry"), list):
        return _whatsapp(
            {"type": None, "raw": payload, "format": "legacy", "original_payload": payload}
        )
    raise PayloadError("not a WA.cr webhook: no 'event' object, legacy model or WhatsApp entry")


# -- the envelope -------------------------------------------------------------------------


def _envelope(payload: dict[str, Any]) -> Event:
    head = payload["event"]
    kind = head.get("type")
    if not isinstance(kind, str) or not kind:
        raise PayloadError("the event has no type")
    data = _map(payload.get("data"))
    resource = _map(data.get("resource"))
    fields: Fields = {
        "id": _text(head.get("id")),
        "type": kind,
        "timestamp": head.get("timestamp") or None,
        "version": _text(head.get("version")),
        "tenant": _map(payload.get("tenant")) or None,
        "resource_type": _text(resource.get("type")),
        "resource_id": resource.get("id"),
        "attributes": _map(resource.get("attributes")),
        "relationships": _map(data.get("relationships")),
        "changes": _changes(payload.get("changes")),
        "metadata": _map(payload.get("metadata")),
        "raw": payload,
        "format": "n8n",
    }
    family = kind.split(".", 1)[0]
    if family in _RESOURCE_CLASS:
        return _resource(family, fields)
    if family == "whatsapp":
        whatsapp = _map(payload.get("whatsapp")) or _map(data.get("whatsapp"))
        fields["original_payload"] = _map(whatsapp.get("original_payload")) or None
        return _whatsapp(fields)
    return _build(Event, fields)


def _changes(value: Any) -> Fields | None:
    changes = _map(value)
    if not changes:
        return None
    modified = changes.get("modified_fields")
    return {
        "previous": _map(changes.get("previous")) or None,
        "current": _map(changes.get("current")) or None,
        "modified_fields": [str(name) for name in modified] if isinstance(modified, list) else None,
    }


# -- contacts, sources, statuses ----------------------------------------------------------


def _resource(family: str, fields: Fields) -> Event:
    attributes: Fields = fields["attributes"]
    if not attributes and fields["changes"]:
        # A delete may carry the row only in ``changes``.
        changes = fields["changes"]
        attributes = changes["current"] or changes["previous"] or {}
    values = dict(attributes)
    values.setdefault("id", fields["resource_id"])
    if values.get("id") is None:
        return _build(Event, fields)
    if family == "contact":
        values = _contact_values(values, fields["relationships"])
    fields[_RESOURCE_FIELD[family]] = values
    return _build(_RESOURCE_CLASS[family], fields)


def _contact_values(values: Fields, relationships: Fields) -> Fields:
    """The contact's attributes with its relationships folded back into ``Contact``'s fields."""
    for name, id_field in (("status", "status_id"), ("source", "source_id")):
        related = _map(relationships.get(name))
        if related:
            values[name] = related
            values.setdefault(id_field, related.get("id"))
    groups = relationships.get("groups")
    if isinstance(groups, list):
        values["groups"] = [group for group in groups if isinstance(group, dict)]
        values.setdefault("group_id", [group.get("id") for group in values["groups"]])
    assigned = _map(relationships.get("assigned_to"))
    if assigned:
        values.setdefault("assigned_id", assigned.get("id"))
    return values


def _legacy_resource(payload: dict[str, Any]) -> Event:
    model = str(payload.get("model") or "")
    noun = model.rsplit("\\", 1)[-1].lower() or "model"
    action = str(payload["event"])
    data = _map(payload.get("data"))
    attributes = _map(data.get("attributes"))
    original = _map(payload.get("original")) or None
    modified = None
    if action == "updated" and original is not None:
        modified = [key for key, value in attributes.items() if original.get(key) != value]
    fields: Fields = {
        "id": None,
        "type": f"{noun}.{action}",
        "timestamp": payload.get("timestamp") or None,
        "resource_type": noun,
        "resource_id": data.get("id", attributes.get("id")),
        "attributes": attributes,
        "relationships": _map(data.get("relations")),
        "changes": {"previous": original, "current": attributes, "modified_fields": modified},
        "raw": payload,
        "format": "legacy",
    }
    if noun in _RESOURCE_CLASS:
        return _resource(noun, fields)
    return _build(Event, fields)


# -- WhatsApp -----------------------------------------------------------------------------


def _whatsapp(fields: Fields) -> Event:
    """A WhatsApp forward: the envelope's summary where given, else Meta's first entry."""
    summary: Fields = fields.get("attributes") or {}
    contact = _map(_map(fields.get("relationships")).get("contact"))
    kind: str | None = fields["type"]
    if kind is None or not summary:  # legacy, or no summary: read Meta's payload itself
        summary, contact = _summary_of(_first_change(fields.get("original_payload")))
        if kind is None:
            kind = fields["type"] = _legacy_kind(summary)
            fields["resource_type"] = "message" if summary.get("message_id") else None
            fields["resource_id"] = summary.get("message_id")
    if kind == "whatsapp.message.received" and summary:
        text = summary.get("text")
        fields.update(
            message_id=_text(summary.get("message_id")),
            phone=_plus(summary.get("from") or contact.get("wa_id")),
            name=_text(contact.get("name")),
            text=_text(text.get("body") if isinstance(text, dict) else text),
            message_type=_text(summary.get("type")),
            context=_map(summary.get("context")) or None,
            sent_at=_unix(summary.get("timestamp")),
        )
        return _build(MessageReceived, fields)
    if kind in _STATUS_TYPES and "status" in summary:
        errors = summary.get("errors")
        fields.update(
            message_id=_text(summary.get("message_id")),
            status=_text(summary.get("status")),
            phone=_plus(summary.get("recipient_id")),
            errors=[_map(item) for item in errors] if isinstance(errors, list) else [],
            pricing=_map(summary.get("pricing")) or None,
            conversation=_map(summary.get("conversation")) or None,
            status_at=_unix(summary.get("timestamp")),
        )
        return _build(MessageStatus, fields)
    return _build(WhatsAppEvent, fields)


def _summary_of(value: Fields) -> tuple[Fields, Fields]:
    """Meta's first message or status in the shape of the envelope's ``attributes``, and the
    sender's ``{wa_id, name}``."""
    messages, statuses = value.get("messages"), value.get("statuses")
    if isinstance(messages, list) and messages:
        message = _map(messages[0])
        contacts = value.get("contacts")
        sender = _map(contacts[0]) if isinstance(contacts, list) and contacts else {}
        summary = {
            "message_id": message.get("id"),
            "from": message.get("from"),
            "timestamp": message.get("timestamp"),
            "type": message.get("type"),
            "text": _map(message.get("text")).get("body"),
            "context": message.get("context"),
        }
        name = _map(sender.get("profile")).get("name")
        return summary, {"wa_id": sender.get("wa_id"), "name": name}
    if isinstance(statuses, list) and statuses:
        status = _map(statuses[0])
        keys = ("status", "timestamp", "recipient_id", "conversation", "pricing", "errors")
        return {"message_id": status.get("id"), **{key: status.get(key) for key in keys}}, {}
    return {"field": value.get("field")}, {}


def _legacy_kind(summary: Fields) -> str:
    if "from" in summary:
        return "whatsapp.message.received"
    if "status" in summary:
        return f"whatsapp.message.{summary['status'] or 'status'}"
    return f"whatsapp.{summary.get('field') or 'event'}"


def _first_change(payload: Any) -> Fields:
    """``entry[0].changes[0].value`` of a Meta webhook (with ``field``), or ``{}``."""
    entries = _map(payload).get("entry")
    if not isinstance(entries, list) or not entries:
        return {}
    changes = _map(entries[0]).get("changes")
    if not isinstance(changes, list) or not changes:
        return {}
    change = _map(changes[0])
    return {**_map(change.get("value")), "field": change.get("field")}


# -- small readers ------------------------------------------------------------------------


def _map(value: Any) -> Fields:
    # PHP encodes an empty associative array as [], and absent blocks as null.
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _plus(value: Any) -> str | None:
    text = _text(value)
    if text is None:
        return None
    return text if text.startswith("+") else "+" + text


def _unix(value: Any) -> Any:
    # Meta's timestamps are Unix seconds as a string.
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return value or None


def _build(cls: type[E], fields: Fields) -> Event:
    try:
        hook: Callable[[Fields, type[E]], E] = _HOOKS[cls]
        return hook(fields, cls)
    except Exception as exc:
        if cls is not Event:
            # A field the typed class cannot take must not lose the event: the server would
            # resend it three times and give up. Handlers still get the envelope and ``raw``.
            logger.warning(
                "webhook %s (%s) does not fit %s (%s); delivered as a plain Event",
                fields.get("id"),
                fields.get("type"),
                cls.__name__,
                exc,
            )
            return _build(Event, fields)
        raise PayloadError(f"the {fields.get('type')} event cannot be read: {exc}") from exc


def _same(value: Any) -> Any:
    return value


# The mappings were already made safe above; these fields (and ``raw``) are kept, not copied.
_KEPT = frozenset(
    {
        "raw",
        "attributes",
        "relationships",
        "metadata",
        "resource_id",
        "original_payload",
        "context",
        "pricing",
        "conversation",
        "errors",
    }
)

# The converter's hooks for the event classes, kept at hand: parsing skips its dispatch.
_HOOKS: dict[type[Event], Callable[[Any, Any], Any]] = {}
# Parts first: each event's hook is generated with the hooks its fields have at that moment.
converter.register_structure_hook(Tenant, model_hook(Tenant))
converter.register_structure_hook(
    Changes, model_hook(Changes, {"previous": _same, "current": _same})
)
for _cls in (
    Event,
    ContactEvent,
    SourceEvent,
    StatusEvent,
    WhatsAppEvent,
    MessageReceived,
    MessageStatus,
):
    _kept = {field.name: _same for field in attrs.fields(_cls) if field.name in _KEPT}
    _HOOKS[_cls] = model_hook(_cls, _kept)
    converter.register_structure_hook(_cls, _HOOKS[_cls])
