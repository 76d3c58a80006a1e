"""The sandbox's data: one tenant, its plan, its tables, chats, OTPs, and the operations
that keep the indexes consistent (contacts by phone and email, conversations per month).

Handlers and the public seeding helpers both go through these methods, so a contact added
by a test and one created over HTTP look exactly alike.
"""

from __future__ import annotations

import secrets
import time as _time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from ._accounting import Ledger
from ._clock import Clock, iso
from ._envelope import ApiError
from ._ratelimit import FixedWindow
from ._table import Row, Table, UniqueIndex

__all__ = ["CONTACT_FIELDS", "FEATURES", "EventSink", "Otp", "Plan", "State", "new_wamid"]

FEATURES = (
    "whatsapp_templates",
    "bulk_messaging",
    "chatbot",
    "advanced_analytics",
    "api_access",
    "custom_branding",
)

# ContactResource's keys, in the server's order.
CONTACT_FIELDS = (
    "id",
    "firstname",
    "lastname",
    "company",
    "type",
    "email",
    "phone",
    "status_id",
    "source_id",
    "description",
    "city",
    "state",
    "zip",
    "address",
    "country_id",
    "assigned_id",
    "group_id",
    "is_opted_out",
    "created_at",
    "updated_at",
)


@dataclass
class Plan:
    """The tenant's subscription and plan limits; mutate freely during a test.

    ``-1`` means unlimited, ``None`` "not configured" (also unlimited in effect).

    Example::

        sandbox.plan.contacts = 10                         # FEATURE_LIMIT_EXCEEDED at 10
        sandbox.plan.features["whatsapp_templates"] = False  # FEATURE_NOT_AVAILABLE on OTP
    """

    name: str = "Sandbox"
    plan_id: int | None = 1
    subscription_status: str | None = "active"
    contacts: int | None = -1
    conversations: int | None = -1
    campaigns: int | None = 10
    staff: int | None = 5
    features: dict[str, bool] = field(default_factory=lambda: dict.fromkeys(FEATURES, True))


@dataclass
class Otp:
    """One stored OTP (one per phone + purpose; a new send replaces it)."""

    phone: str
    purpose: str
    code: str
    template_name: str
    expiry_minutes: int
    created_at: float
    expires_at: float
    contact_id: int
    attempts: int = 0
    max_attempts: int = 5
    verified_at: float | None = None


class EventSink(Protocol):
    """What the state and its routes tell the webhook sender (``testing._webhooks``)."""

    def resource(self, noun: str, action: str, row: Row, *, previous: Row | None = None) -> None:
        """A contact, source or status was created, updated or deleted."""

    def message_received(self, row: Row, *, digits: str, name: str) -> None:
        """An inbound WhatsApp message arrived."""

    def message_sent(self, row: Row, *, digits: str) -> None:
        """A message went out (receipts follow on the sandbox clock)."""

    def status_changed(self, row: Row, status: str, *, digits: str | None = None) -> None:
        """A sent message's WhatsApp status changed."""

    def tick(self) -> None:
        """Send the receipts now due."""

    async def aclose(self) -> None:
        """Stop delivering; wait for deliveries under way."""


class State:
    """Everything the sandbox stores for its single tenant.

    ``events`` builds what the state tells of its changes (the sandbox passes its webhook
    sender), so that the state knows only the small :class:`EventSink` protocol.
    """

    def __init__(
        self,
        clock: Clock,
        ledger: Ledger,
        plan: Plan | None = None,
        *,
        events: Callable[[State], EventSink],
    ) -> None:
        self.clock = clock
        self.ledger = ledger
        self.plan = plan or Plan()
        now = clock.time()
        self.account: dict[str, Any] = {
            "id": 1,
            "name": "Sandbox Co",
            "subdomain": "sandbox",
            "status": "active",
            "created_at": iso(now - 365 * 86400),
        }
        self.subscription_expires_at: float | None = now + 30 * 86400
        self.whatsapp_configured = True
        # The server code's show endpoints nest the resource: data: {"data": {…}} (§12).
        self.show_wrapped = True
        # The docs' queries: a message direction key, filter[direction] and fields= on messages and
        # templates; the server code answers those two queries with a 500.
        self.documented_queries = False
        self.wa_number = "15550100000"  # the tenant's default WhatsApp number (sender_id)
        self.default_source_id: int | None = None
        self.default_status_id: int | None = None
        self.default_assigned_id: int | None = None
        self.active_campaigns = 0
        self.staff_count = 1
        self.api_calls_per_minute = 60  # what GET /account/limits reports for the token
        self.failing_phones: set[str] = set()  # digits whose sends fail with 500

        self.contacts = Table()
        self.groups = Table()
        self.sources = Table()
        self.statuses = Table()
        self.templates = Table()
        self.messages = Table()  # chat message rows; comments share the id sequence
        self.api_tokens = Table()  # token management (§14): rows never hold the secret
        self.token_secrets: dict[int, str] = {}
        self.access: Any = None  # the pipeline's Access, for the token routes (set by Sandbox)
        self.phones = UniqueIndex()
        self.emails = UniqueIndex()

        self.chats: dict[str, Row] = {}  # receiver digits -> chat interaction
        self._chat_seq = 0
        self.comments: dict[int, list[Row]] = {}  # chat id -> notes, oldest first
        self.conversations: dict[str, set[int]] = {}  # "YYYY-MM" -> chat ids active that month

        self.otps: dict[tuple[str, str], Otp] = {}
        self.codes_sent: dict[str, str] = {}  # digits -> latest code delivered, any way
        self.otp_verify_limiter = FixedWindow(10, 60, clock.time)
        self.otp_resend_limiter = FixedWindow(3, 300, clock.time)
        self.remote_templates: list[Row] = []  # what POST /templates/sync pulls in
        self.template_seq = 0
        self.seed_seq = 0  # phone/email counter of seeded contacts
        self.webhooks = events(self)  # events for subscribed URLs (REFERENCE §13)

    def shown(self, resource: Any) -> Any:
        """What a show endpoint puts under ``data``: the resource, nested once or flat."""
        return {"data": resource} if self.show_wrapped else resource

    # -- contacts ---------------------------------------------------------------------------

    def new_contact(self, fields: dict[str, Any], *, at: float | None = None) -> Row:
        """Store a contact built from ``fields`` (no validation) and index it."""
        stamp = iso(self.clock.time() if at is None else at)
        row: Row = {
            "id": self.contacts.allocate_id(),
            "firstname": fields.get("firstname", ""),
            "lastname": fields.get("lastname", ""),
            "company": fields.get("company"),
            "type": fields.get("type", "lead"),
            "email": fields.get("email"),
            "phone": fields.get("phone"),
            "status_id": fields.get("status_id"),
            "source_id": fields.get("source_id"),
            "description": fields.get("description"),
            "city": fields.get("city"),
            "state": fields.get("state"),
            "zip": fields.get("zip"),
            "address": fields.get("address"),
            "country_id": fields.get("country_id"),
            "assigned_id": fields.get("assigned_id"),
            "group_id": list(fields.get("group_id") or fields.get("groups") or []),
            "is_opted_out": bool(fields.get("is_opted_out", False)),
            "created_at": stamp,
            "updated_at": stamp,
        }
        self.contacts.insert(row)
        self._index(row)
        return row

    def update_contact(self, row: Row, changes: dict[str, Any]) -> None:
        """Apply ``changes`` to a stored contact, keeping the indexes right."""
        self._unindex(row)
        row.update(changes)
        row["updated_at"] = self.clock.iso()
        self._index(row)
        self.contacts.touch(row)

    def delete_contact(self, contact_id: int) -> Row | None:
        row = self.contacts.delete(contact_id)
        if row is not None:
            self._unindex(row)
        return row

    def contact_by_phone(self, phone: str) -> Row | None:
        """The contact stored with exactly this phone string (lowest id wins)."""
        contact_id = self.phones.get(phone)
        return None if contact_id is None else self.contacts.get(contact_id)

    def phone_taken(self, phone: str, except_id: int | None = None) -> bool:
        contact_id = self.phones.get(phone)
        return contact_id is not None and contact_id != except_id

    def email_taken(self, email: str, except_id: int | None = None) -> bool:
        contact_id = self.emails.get(email.casefold())
        return contact_id is not None and contact_id != except_id

    def check_contact_limit(self) -> None:
        """Raise 403 ``FEATURE_LIMIT_EXCEEDED`` if one more contact would break the plan."""
        maximum = self.plan.contacts
        current = len(self.contacts)
        if maximum is not None and maximum != -1 and current >= maximum:
            raise ApiError(
                403,
                "FEATURE_LIMIT_EXCEEDED",
                "Feature limit exceeded for contacts. Please upgrade your plan.",
                {"feature": "contacts", "current": current, "maximum": maximum},
            )

    def _index(self, row: Row) -> None:
        if row["phone"] is not None:
            self.phones.add(row["phone"], row["id"])
        if row["email"]:
            self.emails.add(row["email"].casefold(), row["id"])

    def _unindex(self, row: Row) -> None:
        if row["phone"] is not None:
            self.phones.remove(row["phone"], row["id"])
        if row["email"]:
            self.emails.remove(row["email"].casefold(), row["id"])

    # -- chats, conversations, messages -----------------------------------------------------

    def chat_for(self, digits: str) -> Row | None:
        return self.chats.get(digits)

    def open_chat(self, digits: str, contact: Row | None) -> Row:
        """The chat with ``digits``, created if missing."""
        chat = self.chats.get(digits)
        if chat is None:
            self._chat_seq += 1
            stamp = self.clock.iso()
            name = "" if contact is None else f"{contact['firstname']} {contact['lastname']}"
            chat = {
                "id": self._chat_seq,
                "receiver_id": digits,
                "wa_no": self.wa_number,
                "name": name.strip(),
                "type": None if contact is None else contact["type"],
                "type_id": None if contact is None else contact["id"],
                "last_message": None,
                "last_msg_time": stamp,
                "created_at": stamp,
            }
            self.chats[digits] = chat
        return chat

    def month(self) -> str:
        return _time.strftime("%Y-%m", _time.gmtime(self.clock.time()))

    def conversation_count(self) -> int:
        return len(self.conversations.get(self.month(), ()))

    def check_conversation_limit(self, digits: str) -> None:
        """Raise 403 if a send to ``digits`` would open a conversation beyond the plan."""
        maximum = self.plan.conversations
        if maximum is None or maximum == -1:
            return
        chat = self.chats.get(digits)
        active = self.conversations.get(self.month(), set())
        if chat is not None and chat["id"] in active:
            return
        if len(active) >= maximum:
            raise ApiError(
                403,
                "FEATURE_LIMIT_EXCEEDED",
                "Conversation limit reached. Please upgrade your plan.",
                {"feature": "conversations", "current": len(active), "maximum": maximum},
            )

    def note_conversation(self, chat: Row) -> None:
        self.conversations.setdefault(self.month(), set()).add(chat["id"])

    def add_message(
        self,
        chat: Row,
        *,
        type: str,
        message: str | None,
        direction: str,
        message_id: str | None = None,
        status: str | None = "sent",
        url: str | None = None,
        sender_id: str | None = None,
        is_read: bool = True,
    ) -> Row:
        """Store one chat message row (what ``GET /messages`` lists)."""
        stamp = self.clock.iso()
        row: Row = {
            "id": self.messages.allocate_id(),
            "interaction_id": chat["id"],
            "sender_id": sender_id if sender_id is not None else self.wa_number,
            "type": type,
            "message": message,
            "status": status,
            "message_id": message_id,
            "sent_at": stamp,
            "is_read": is_read,
            "direction": direction,
            "status_message": None,
            "ref_message_id": None,
            "url": url,
            "staff_id": None,
            "created_at": stamp,
            "updated_at": stamp,
        }
        self.messages.insert(row)
        chat["last_message"] = message
        chat["last_msg_time"] = stamp
        return row

    # -- templates --------------------------------------------------------------------------

    def next_template_id(self) -> str:
        """A WhatsApp-style template id (numeric string)."""
        self.template_seq += 1
        return str(1_000_000_000_000_000 + self.template_seq)

    def find_template(self, name: str, language: str) -> Row | None:
        """The first APPROVED template with this name and language."""
        for row in self.templates.ordered():
            if (
                row["template_name"] == name
                and row["language"] == language
                and row["status"] == "APPROVED"
            ):
                return row
        return None


def new_wamid() -> str:
    """A WhatsApp message id: ``wamid.`` and random base64-ish text."""
    return "wamid." + secrets.token_urlsafe(30)
