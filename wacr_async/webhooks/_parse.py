"""``parse``: raw body + headers → a typed :class:`Event`, verifying the signature first.

Three shapes arrive (REFERENCE §13): the envelope (``X-Webhook-Format: n8n``), the legacy
resource format (``{"event": "created", "model": "App\\\\Models\\\\Tenant\\\\Contact", …}``) and,
in the legacy build, Meta's raw WhatsApp payload. All three become the same classes. PHP writes
an empty map as ``[]``, so every map in the body is read tolerantly.

An event's fields are gathered straight from the decoded body into one dict, in the class's
field order; ``_build`` types the parts that need it and makes the instance.
"""

from __future__ import annotations

import json
import json.scanner
from collections.abc import Mapping
from typing import Any, cast

from multidict import CIMultiDict, CIMultiDictProxy

from ._build import Fields, build
from ._errors import PayloadError
from ._events import (
    ContactEvent,
    Event,
    MessageReceived,
    MessageStatus,
    SourceEvent,
    StatusEvent,
    WhatsAppEvent,
)
from ._signature import SIGNATURE_HEADER, Signer, check, key_of

__all__ = [
    "FORMAT_HEADER",
    "decode",
    "envelope",
    "header",
    "parse",
    "parse_payload",
    "peek",
    "read",
]

FORMAT_HEADER = "X-Webhook-Format"


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
# Mappings that already look names up case-insensitively.
_CASE_INSENSITIVE = (CIMultiDict, CIMultiDictProxy)


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
    return read(body, headers, None if secret is None else Signer(key_of(secret)))


def read(
    body: bytes | bytearray | memoryview | str, headers: Mapping[str, str], signer: Signer | None
) -> dict[str, Any]:
    """``decode`` with the key already set up (None: no verification)."""
    raw = body if type(body) is bytes else body.encode() if isinstance(body, str) else bytes(body)
    if signer is not None:
        check(raw, header(headers, SIGNATURE_HEADER), signer)
    try:
        payload = _loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise PayloadError(f"the body is not JSON: {exc}") from None
    if not isinstance(payload, dict):
        raise PayloadError(f"the body is a JSON {type(payload).__name__}, not an object")
    return payload


# The C scanner reads its settings from any decoder; typeshed asks for a scanner there.
_scan = json.scanner.make_scanner(cast(Any, json.JSONDecoder()))


def _loads(raw: bytes) -> Any:
    """``json.loads(raw)``, minus its encoding sniffing and whitespace passes for the usual
    body: UTF-8, one object, nothing around it. Anything else goes to ``json.loads`` itself."""
    if raw[:1] == b"{" and raw[-1:] == b"}":
        try:
            text = raw.decode()
            value, end = _scan(text, 0)
        except (ValueError, UnicodeDecodeError, StopIteration):
            pass
        else:
            if end == len(text):
                return value
    return json.loads(raw)


def peek(payload: dict[str, Any]) -> tuple[str, str | None, dict[str, Any]] | None:
    """An envelope's type, id and ``event`` object without building the event; None for the
    legacy shapes."""
    head = payload.get("event")
    if isinstance(head, dict):
        kind = head.get("type")
        if isinstance(kind, str) and kind:
            return kind, _text(head.get("id")), head
    return None


def header(headers: Mapping[str, str], name: str) -> str | None:
    """``headers[name]`` looked up case-insensitively (any mapping, multidicts included)."""
    value = headers.get(name)
    if value is not None or isinstance(headers, _CASE_INSENSITIVE):
        return value
    folded = name.lower()
    value = headers.get(folded)  # ASGI's names are lower case
    if value is not None:
        return value
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
    head = payload.get("event")
    if isinstance(head, dict):
        kind = head.get("type")
        if not isinstance(kind, str) or not kind:
            raise PayloadError("the event has no type")
        return envelope(payload, head, kind)
    if format is not None and format.strip().lower() == "n8n":
        raise PayloadError("X-Webhook-Format is n8n, but the body has no 'event' object")
    if isinstance(head, str) and "model" in payload:
        return _legacy_resource(payload)
    if isinstance(payload.get("entry"), list):
        return _whatsapp(
            {"type": None, "raw": payload, "format": "legacy", "original_payload": payload}
        )
    raise PayloadError("not a WA.cr webhook: no 'event' object, legacy model or WhatsApp entry")


# -- the envelope -------------------------------------------------------------------------


def envelope(payload: dict[str, Any], head: dict[str, Any], kind: str) -> Event:
    """The event of an envelope whose ``event`` object is ``head`` and type ``kind``."""
    data = payload.get("data")
    if not isinstance(data, dict):
        data = {}
    resource = data.get("resource")
    if not isinstance(resource, dict):
        resource = {}
    tenant = payload.get("tenant")
    attributes = resource.get("attributes")
    relationships = data.get("relationships")
    changes = payload.get("changes")
    metadata = payload.get("metadata")
    fields: Fields = {  # Event's fields, in its order
        "id": _text(head.get("id")),
        "type": kind,
        "timestamp": head.get("timestamp") or None,
        "version": _text(head.get("version")),
        "tenant": tenant if isinstance(tenant, dict) and tenant else None,
        "resource_type": _text(resource.get("type")),
        "resource_id": resource.get("id"),
        "attributes": attributes if isinstance(attributes, dict) else {},
        "relationships": relationships if isinstance(relationships, dict) else {},
        "changes": _changes(changes) if isinstance(changes, dict) and changes else None,
        "metadata": metadata if isinstance(metadata, dict) else {},
        "raw": payload,
        "format": "n8n",
    }
    family = kind.partition(".")[0]
    if family == "whatsapp":
        whatsapp = _map(payload.get("whatsapp")) or _map(data.get("whatsapp"))
        fields["original_payload"] = _map(whatsapp.get("original_payload")) or None
        return _whatsapp(fields, complete=True)
    if family in _RESOURCE_CLASS:
        return _resource(family, fields, complete=True)
    return build(Event, fields, complete=True)


def _changes(changes: Fields) -> Fields:
    modified = changes.get("modified_fields")
    return {
        "previous": _map(changes.get("previous")) or None,
        "current": _map(changes.get("current")) or None,
        "modified_fields": [str(name) for name in modified] if isinstance(modified, list) else None,
    }


# -- contacts, sources, statuses ----------------------------------------------------------


def _resource(family: str, fields: Fields, *, complete: bool = False) -> Event:
    attributes: Fields = fields["attributes"]
    if not attributes and fields["changes"]:
        # A delete may carry the row only in ``changes``.
        changes = fields["changes"]
        attributes = changes["current"] or changes["previous"] or {}
    values = dict(attributes)
    values.setdefault("id", fields["resource_id"])
    if values.get("id") is None:
        return build(Event, fields)
    if family == "contact":
        values = _contact_values(values, fields["relationships"])
    fields[_RESOURCE_FIELD[family]] = values
    return build(_RESOURCE_CLASS[family], fields, complete=complete)


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
    return build(Event, fields)


# -- WhatsApp -----------------------------------------------------------------------------


def _whatsapp(fields: Fields, *, complete: bool = False) -> Event:
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
        fields["message_id"] = _text(summary.get("message_id"))
        fields["phone"] = _plus(summary.get("from") or contact.get("wa_id"))
        fields["name"] = _text(contact.get("name"))
        fields["text"] = _text(text.get("body") if isinstance(text, dict) else text)
        fields["message_type"] = _text(summary.get("type"))
        fields["context"] = _map(summary.get("context")) or None
        fields["sent_at"] = _unix(summary.get("timestamp"))
        return build(MessageReceived, fields, complete=complete)
    if kind in _STATUS_TYPES and "status" in summary:
        errors = summary.get("errors")
        fields["message_id"] = _text(summary.get("message_id"))
        fields["status"] = _text(summary.get("status"))
        fields["phone"] = _plus(summary.get("recipient_id"))
        fields["errors"] = [_map(item) for item in errors] if isinstance(errors, list) else []
        fields["pricing"] = _map(summary.get("pricing")) or None
        fields["conversation"] = _map(summary.get("conversation")) or None
        fields["status_at"] = _unix(summary.get("timestamp"))
        return build(MessageStatus, fields, complete=complete)
    return build(WhatsAppEvent, fields, complete=complete)


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
