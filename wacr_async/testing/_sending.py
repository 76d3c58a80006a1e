"""What every send shares: find-or-create the contact, the pre-send checks, merge fields,
and performing the send (chat, message row, ledger entry).

Order of checks, as on the server: contact (404 for a wrong ``contact_id``, 403 contact
limit, 422 missing defaults) → 403 ``CONTACT_OPTED_OUT`` → 422 ``WHATSAPP_NOT_CONFIGURED``
→ 403 ``FEATURE_NOT_AVAILABLE`` (template sends) → 403 ``FEATURE_LIMIT_EXCEEDED``
(conversation limit) → 500 ``MESSAGE_SEND_FAILED`` (a phone the test made fail) → sent.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from ._envelope import ApiError, dumps
from ._input import ROUTE_KEY
from ._state import State, new_wamid
from ._table import Row
from ._validation import Validator

__all__ = [
    "PHONE_MESSAGES",
    "PHONE_PATTERN",
    "PHONE_REQUIRED",
    "TEMPLATE_NAME_REQUIRED",
    "Delivery",
    "deliver",
    "existing_contact_id",
    "merge_fields",
    "preflight",
    "resolve_contact",
]

PHONE_PATTERN = re.compile(r"^[\d+\-\s()]+$")

# Custom validation messages (``field.rule``) the send endpoints' form requests share.
PHONE_REQUIRED = {"phone.required": "Phone number is required."}
PHONE_MESSAGES = {  # for ``phone`` checked with min=10 and PHONE_PATTERN
    **PHONE_REQUIRED,
    "phone.min": "Phone number must be at least 10 digits.",
    "phone.regex": "Phone number can only contain digits, +, -, spaces, and parentheses.",
}
TEMPLATE_NAME_REQUIRED = {"template_name.required": "Template name is required."}

_MERGE = re.compile(r"@\{(contact_first_name|contact_last_name|contact_email|contact_phone)\}")
_MERGE_COLUMNS = {
    "contact_first_name": "firstname",
    "contact_last_name": "lastname",
    "contact_email": "email",
    "contact_phone": "phone",
}


def merge_fields(text: str, contact: Row) -> str:
    """Expand ``@{contact_first_name}`` and friends with the contact's values.

    Example::

        merge_fields("Hi @{contact_first_name}", {"firstname": "Ada", ...}) == "Hi Ada"
    """
    if "@{" not in text:
        return text
    return _MERGE.sub(lambda m: str(contact.get(_MERGE_COLUMNS[m.group(1)]) or ""), text)


def existing_contact_id(v: Validator, state: State) -> int | None:
    """The optional ``contact_id`` rule ``integer|exists:contacts,id``; the value read."""
    contact_id = v.integer("contact_id")
    if contact_id is not None and state.contacts.get(contact_id) is None:
        v.fail("contact_id", "exists", "The selected contact id is invalid.")
    return contact_id


def resolve_contact(
    state: State,
    digits: str,
    contact_id: int | None,
    *,
    stored_phone: str | None = None,
    auto: Mapping[str, Any] | None = None,
) -> Row:
    """The contact a send goes to: by id (must match the phone), by phone, or a new lead.

    Message endpoints store and look up ``'+' + digits``; the OTP endpoints pass
    ``stored_phone=digits`` (they use the bare digits, so one person can be two contacts).
    """
    phone = "+" + digits if stored_phone is None else stored_phone
    if contact_id is not None:
        row = state.contacts.get(contact_id)
        if row is None or (stored_phone is None and row["phone"] != phone):
            raise ApiError(404, "NOT_FOUND", "Contact not found.")
        return row
    row = state.contact_by_phone(phone)
    if row is not None:
        return row
    state.check_contact_limit()
    if state.default_status_id is None or state.default_source_id is None:
        missing = {}
        if state.default_status_id is None:
            missing["lead_status"] = "Lead status not configured"
        if state.default_source_id is None:
            missing["lead_source"] = "Lead source not configured"
        raise ApiError(
            422,
            "VALIDATION_ERROR",
            "Cannot auto-create contact. Please configure default lead status and source in "
            "Application settings, or provide contact_id.",
            {"missing_config": missing},
        )
    fields: dict[str, Any] = {
        "firstname": digits,
        "lastname": "" if stored_phone is None else digits,
        "phone": phone,
        "type": "lead",
        "status_id": state.default_status_id,
        "source_id": state.default_source_id,
        "assigned_id": state.default_assigned_id,
    }
    if auto:
        fields.update({key: value for key, value in auto.items() if value is not None})
    row = state.new_contact(fields)
    state.webhooks.resource("contact", "created", row)
    return row


def preflight(state: State, contact: Row, digits: str, *, template: bool = False) -> None:
    """The checks between finding the contact and sending."""
    if contact["is_opted_out"]:
        raise ApiError(403, "CONTACT_OPTED_OUT", "Contact has opted out of receiving messages")
    if not state.whatsapp_configured:
        raise ApiError(
            422,
            "WHATSAPP_NOT_CONFIGURED",
            "WhatsApp connection is not configured for this account",
        )
    if template and not state.plan.features.get("whatsapp_templates", False):
        raise ApiError(
            403,
            "FEATURE_NOT_AVAILABLE",
            "WhatsApp templates feature is not available in your plan",
        )
    state.check_conversation_limit(digits)
    if digits in state.failing_phones:
        raise ApiError(
            500,
            "MESSAGE_SEND_FAILED",
            "Failed to send message",
            {"error": "(#131026) Message undeliverable"},
        )


class Delivery:
    """A performed send: the stored message row, its chat, WhatsApp message id, recipient."""

    __slots__ = ("chat", "contact", "digits", "message_id", "row")

    def __init__(self, row: Row, chat: Row, message_id: str, contact: Row, digits: str) -> None:
        self.row = row
        self.chat = chat
        self.message_id = message_id
        self.contact = contact
        self.digits = digits

    def common(self) -> dict[str, Any]:
        """The response fields every send shares (OTP sends too)."""
        return {
            "message_id": self.message_id,
            "contact_id": self.contact["id"],
            "phone": self.digits,
        }

    def tail(self) -> dict[str, Any]:
        return {
            "status": "sent",
            "sent_at": self.row["sent_at"],
            "chat_id": self.chat["id"],
            "chat_message_id": self.row["id"],
        }


def deliver(
    state: State,
    request: web.Request,
    *,
    kind: str,
    digits: str,
    contact: Row,
    message_type: str,
    text: str | None,
    content: Mapping[str, Any],
    payload: Mapping[str, Any],
    url: str | None = None,
) -> Delivery:
    """Perform the send: open the chat, store the outbound message, record it (under the
    request's route key)."""
    message_id = new_wamid()
    chat = state.open_chat(digits, contact)
    state.note_conversation(chat)
    row = state.add_message(
        chat,
        type=message_type,
        message=text,
        direction="outbound",
        message_id=message_id,
        url=url,
    )
    state.ledger.record(
        kind=kind,
        route=request[ROUTE_KEY],
        phone=digits,
        content=dumps(_canonical(content)),
        message_id=message_id,
        contact_id=contact["id"],
        chat_message_id=row["id"],
        at=state.clock.now(),
        payload=payload,
    )
    state.webhooks.message_sent(row, digits=digits)
    return Delivery(row, chat, message_id, contact, digits)


def _canonical(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(key): _canonical(value[key]) for key in sorted(value, key=str)}
    if isinstance(value, (list, tuple)):
        return [_canonical(item) for item in value]
    return value
