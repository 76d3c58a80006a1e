"""The bodies WA.cr's server builds for its webhooks (REFERENCE §13), from sandbox rows.

Pure functions: a payload dict in, a payload dict out. ``_webhooks`` encodes them with
:func:`php_json` and signs the bytes. The shapes follow the server's ``n8n`` envelope, its
legacy format, and Meta's own webhook body for WhatsApp forwards.

Example::

    payload = resource_event(state, "contact", "created", row)
    payload["event"]["type"]   # "contact.created"
"""

from __future__ import annotations

import secrets
import string
import uuid
from typing import Any

from ._state import State
from ._table import Row

__all__ = [
    "PHONE_NUMBER_ID",
    "WABA_ID",
    "event_id",
    "legacy_resource_event",
    "meta_message",
    "meta_status",
    "resource_event",
    "whatsapp_event",
]

WABA_ID = "102290129340398"
PHONE_NUMBER_ID = "106540352242922"

_ALPHABET = string.ascii_letters + string.digits
# Laravel keeps these out of a contact's attributes; they are the relationships instead.
_CONTACT_HIDDEN = ("tenant_id", "status_id", "source_id", "assigned_id")
_MODELS = {"contact": "Contact", "source": "Source", "status": "Status"}


def event_id(now: float) -> str:
    """``evt_<unix seconds>_<10 letters and digits>``, as the server makes them."""
    suffix = "".join(secrets.choice(_ALPHABET) for _ in range(10))
    return f"evt_{int(now)}_{suffix}"


def _head(state: State, kind: str) -> dict[str, Any]:
    now = state.clock.time()
    return {"id": event_id(now), "type": kind, "timestamp": state.clock.iso(), "version": "1.0"}


def _metadata(source: str) -> dict[str, Any]:
    return {"source": source, "environment": "production", "request_id": str(uuid.uuid4())}


def attributes_of(noun: str, row: Row) -> dict[str, Any]:
    """A resource's ``attributes`` as the server sends them (contacts lose their foreign keys)."""
    if noun != "contact":
        return dict(row)
    return {key: value for key, value in row.items() if key not in _CONTACT_HIDDEN}


def _relationships(state: State, noun: str, row: Row) -> dict[str, Any]:
    if noun != "contact":
        return {}
    status = state.statuses.get(row["status_id"]) if row.get("status_id") else None
    source = state.sources.get(row["source_id"]) if row.get("source_id") else None
    groups = [state.groups.get(group_id) for group_id in row.get("group_id") or ()]
    return {
        "status": None
        if status is None
        else {"id": status["id"], "name": status["name"], "color": status.get("color")},
        "source": None if source is None else {"id": source["id"], "name": source["name"]},
        "groups": [{"id": group["id"], "name": group["name"]} for group in groups if group],
        "assigned_to": None,  # the sandbox has no staff users
    }


def resource_event(
    state: State, noun: str, action: str, row: Row, *, previous: Row | None = None
) -> dict[str, Any]:
    """The envelope of ``<noun>.<action>`` for ``row`` (``previous``: the row before an update).

    Example::

        resource_event(state, "status", "deleted", row)["data"]["resource"]["id"]   # row["id"]
    """
    current = attributes_of(noun, row)
    before = None if previous is None else attributes_of(noun, previous)
    modified = None
    if action == "updated" and before is not None:
        modified = [key for key, value in current.items() if before.get(key) != value]
    return {
        "event": _head(state, f"{noun}.{action}"),
        "tenant": {
            "id": state.account["id"],
            "name": state.account["name"],
            "domain": state.account["subdomain"],
        },
        "data": {
            "resource": {"type": noun, "id": row["id"], "attributes": current},
            "relationships": _relationships(state, noun, row),
        },
        "changes": {
            "previous": before if action != "deleted" else current,
            "current": None if action == "deleted" else current,
            "modified_fields": modified,
        },
        "metadata": _metadata("api_webhook_manager"),
    }


def legacy_resource_event(
    state: State, noun: str, action: str, row: Row, *, previous: Row | None = None
) -> dict[str, Any]:
    """The legacy body (no ``X-Webhook-Format``): ``{"event": "created", "model": …}``."""
    attributes = {**row, "tenant_id": state.account["id"]}
    relations = _relationships(state, noun, row)
    return {
        "event": action,
        "model": "App\\Models\\Tenant\\" + _MODELS.get(noun, noun.capitalize()),
        "data": {"id": row["id"], "attributes": attributes, "relations": relations},
        "original": {} if previous is None else {**previous, "tenant_id": state.account["id"]},
        "timestamp": state.clock.iso(),
    }


def _meta(state: State, value: dict[str, Any]) -> dict[str, Any]:
    body = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": state.wa_number, "phone_number_id": PHONE_NUMBER_ID},
        **value,
    }
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": WABA_ID, "changes": [{"value": body, "field": "messages"}]}],
    }


def meta_message(
    state: State, *, digits: str, name: str, wamid: str, message_type: str, text: str | None
) -> dict[str, Any]:
    """Meta's webhook body for one inbound message."""
    message: dict[str, Any] = {
        "from": digits,
        "id": wamid,
        "timestamp": str(int(state.clock.time())),
        "type": message_type,
    }
    if message_type == "text":
        message["text"] = {"body": text or ""}
    else:
        message[message_type] = {"caption": text} if text else {"id": secrets.token_hex(8)}
    return _meta(
        state,
        {"contacts": [{"profile": {"name": name}, "wa_id": digits}], "messages": [message]},
    )


def meta_status(state: State, *, digits: str, wamid: str, status: str) -> dict[str, Any]:
    """Meta's webhook body for one status of an outbound message."""
    item: dict[str, Any] = {
        "id": wamid,
        "status": status,
        "timestamp": str(int(state.clock.time())),
        "recipient_id": digits,
    }
    if status in ("sent", "delivered"):
        item["conversation"] = {"id": secrets.token_hex(16), "origin": {"type": "service"}}
        item["pricing"] = {"billable": True, "pricing_model": "CBP", "category": "service"}
    if status == "failed":
        item["errors"] = [
            {
                "code": 131026,
                "title": "Message undeliverable",
                "message": "Message undeliverable",
                "error_data": {"details": "Message Undeliverable."},
            }
        ]
    return _meta(state, {"statuses": [item]})


def whatsapp_event(state: State, kind: str, original: dict[str, Any]) -> dict[str, Any]:
    """The envelope forwarding Meta's body ``original`` as ``kind`` (first entry summarised)."""
    value = original["entry"][0]["changes"][0]["value"]
    contacts = value.get("contacts") or [{}]
    if "messages" in value:
        message = value["messages"][0]
        wamid, digits = message["id"], message["from"]
        text = message.get("text", {}).get("body") if message["type"] == "text" else None
        attributes: dict[str, Any] = {
            "message_id": wamid,
            "from": digits,
            "timestamp": message["timestamp"],
            "type": message["type"],
            "text": text,
            "context": message.get("context"),
        }
        name = contacts[0].get("profile", {}).get("name")
    else:
        status = value["statuses"][0]
        wamid, digits, name = status["id"], status["recipient_id"], None
        attributes = {
            "message_id": wamid,
            "status": status["status"],
            "timestamp": status["timestamp"],
            "recipient_id": digits,
            "conversation": status.get("conversation"),
            "pricing": status.get("pricing"),
            "errors": status.get("errors"),
        }
    return {
        "event": _head(state, kind),
        "tenant": {"id": state.account["id"], "name": state.account["name"]},
        "data": {
            "resource": {"type": kind.split(".")[1], "id": wamid, "attributes": attributes},
            "relationships": {
                "contact": {"wa_id": digits, "name": name},
                "metadata": value["metadata"],
            },
        },
        "whatsapp": {"original_payload": original},
        "metadata": _metadata("whatsapp_webhook_forward"),
    }
