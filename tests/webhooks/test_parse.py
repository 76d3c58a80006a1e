"""parse/verify over PHP-encoded bodies: every event family, the legacy format, and refusals."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

import wacr_async as wacr
from wacr_async import webhooks
from wacr_async.testing import php_json
from wacr_async.webhooks._signature import Signer

from .conftest import (
    ARABIC,
    CONTACT_UPDATED,
    EMOJI,
    META_INBOUND,
    SECRET,
    SOURCE_CREATED,
    STATUS_DELETED,
    message_received,
    message_status,
    meta_status,
    signed,
)


def test_bodies_are_php_encoded() -> None:
    body, _ = signed(CONTACT_UPDATED)
    assert b"\\/" in body and b"\\u0644" in body and b"\\ud83d\\ude00" in body
    assert b'"relationships":[]' in signed(SOURCE_CREATED)[0]


def test_contact_event_carries_the_typed_contact() -> None:
    event = webhooks.parse(*signed(CONTACT_UPDATED), secret=SECRET)
    assert isinstance(event, webhooks.ContactEvent)
    assert (event.id, event.type, event.action, event.format) == (
        "evt_1702468200_abc123XYZ0",
        "contact.updated",
        "updated",
        "n8n",
    )
    assert event.timestamp == datetime(2025, 12, 12, 14, 30, tzinfo=UTC)
    assert event.version == "1.0"
    assert event.tenant == webhooks.Tenant(id=123, name="Acme / شركة", domain="acme")
    assert (event.resource_type, event.resource_id) == ("contact", 42)
    contact = event.contact
    assert isinstance(contact, wacr.Contact)
    assert (contact.id, contact.firstname, contact.lastname) == (42, "ليلى", "O'Neil 😀")
    assert contact.company == "A/B Trading" and contact.description == EMOJI
    assert contact.status == wacr.Status(id=1, name="New", color="#22AA55")
    assert contact.source == wacr.Source(id=2, name="Web/Ads")
    assert contact.groups == [wacr.Group(id=3, name="VIP ⭐")]
    assert (contact.status_id, contact.source_id, contact.assigned_id) == (1, 2, 7)
    assert contact.group_id == [3]
    assert contact.created_at == datetime(2025, 12, 1, 9, tzinfo=timezone(timedelta(hours=3)))
    assert event.changes == webhooks.Changes(
        previous={"email": "old@example.com"},
        current={"email": "laila@example.com"},
        modified_fields=["email"],
    )
    assert event.metadata["source"] == "api_webhook_manager"
    assert event.relationships["assigned_to"]["name"] == "Omar"
    assert event.raw["event"]["id"] == event.id


def test_source_and_status_events() -> None:
    source = webhooks.parse(*signed(SOURCE_CREATED), secret=SECRET)
    assert isinstance(source, webhooks.SourceEvent)
    assert source.source == wacr.Source(
        id=9, name="معرض / Fair", created_at=datetime(2025, 12, 12, 14, 30, 1, tzinfo=UTC)
    )
    assert source.relationships == {}  # PHP's [] read as an empty map
    assert source.changes is not None and source.changes.previous is None

    status = webhooks.parse(*signed(STATUS_DELETED), secret=SECRET)
    assert isinstance(status, webhooks.StatusEvent)
    assert status.action == "deleted"
    assert status.status == wacr.Status(id=5, name="Won 🎉", color="#00AA00")


def test_message_received() -> None:
    event = webhooks.parse(*signed(message_received()), secret=SECRET)
    assert isinstance(event, webhooks.MessageReceived)
    assert isinstance(event, webhooks.WhatsAppEvent)
    assert event.message_id == "wamid.HBgMOTY2NTAxMjM0NTY3FQIAEhgg/abc+def=="
    assert event.phone == "+966501234567"
    assert event.name == "خالد 🙂"
    assert event.text == ARABIC + " " + EMOJI
    assert event.message_type == "text"
    assert event.context == {"from": "15550100000", "id": "wamid.previous/1"}
    assert event.sent_at == datetime.fromtimestamp(1702468200, UTC)
    assert event.original_payload == META_INBOUND
    assert event.tenant == webhooks.Tenant(id=123, name="Acme")
    assert event.changes is None


@pytest.mark.parametrize("status", ["sent", "delivered", "read"])
def test_receipts(status: str) -> None:
    event = webhooks.parse(*signed(message_status(status)), secret=SECRET)
    assert isinstance(event, webhooks.MessageStatus)
    assert (event.type, event.status, event.phone) == (
        f"whatsapp.message.{status}",
        status,
        "+201001234567",
    )
    assert event.message_id == "wamid.OUT/1+x=="
    assert event.pricing == {"billable": True, "pricing_model": "CBP", "category": "utility"}
    assert event.errors == []
    assert event.status_at == datetime.fromtimestamp(1702468300, UTC)


def test_failed_receipt_carries_metas_errors() -> None:
    errors = [{"code": 131026, "title": "Message undeliverable / غير"}]
    event = webhooks.parse(*signed(message_status("failed", errors=errors)), secret=SECRET)
    assert isinstance(event, webhooks.MessageStatus)
    assert event.status == "failed" and event.errors == errors


def test_other_whatsapp_events_are_whatsapp_events() -> None:
    payload = message_received()
    payload["event"]["type"] = "whatsapp.template.status_updated"
    payload["data"]["resource"] = {"type": "template", "id": "1234", "attributes": {}}
    event = webhooks.parse(*signed(payload), secret=SECRET)
    assert type(event) is webhooks.WhatsAppEvent
    assert event.original_payload == META_INBOUND
    assert (event.resource_type, event.resource_id) == ("template", "1234")


def test_an_unknown_type_is_a_plain_event() -> None:
    payload = copy.deepcopy(SOURCE_CREATED)
    payload["event"]["type"] = "invoice.paid"
    payload["data"]["resource"] = {"type": "invoice", "id": "inv/1", "attributes": {"x": "ü"}}
    event = webhooks.parse(*signed(payload), secret=SECRET)
    assert type(event) is webhooks.Event
    assert (event.type, event.resource_id, event.attributes) == (
        "invoice.paid",
        "inv/1",
        {"x": "ü"},
    )


def legacy(action: str, model: str = "Contact", **extra: Any) -> dict[str, Any]:
    return {
        "event": action,
        "model": "App\\Models\\Tenant\\" + model,
        "data": {
            "id": 42,
            "attributes": {
                "id": 42,
                "tenant_id": 123,
                "firstname": "ليلى",
                "lastname": "😀",
                "phone": "+966501234567",
                "email": "new@example.com",
                "status_id": 1,
                "source_id": 2,
                "group_id": "[3]",
            },
            "relations": {"status": {"id": 1, "name": "New", "color": None}},
        },
        "original": {"id": 42, "email": "old@example.com", "firstname": "ليلى"}
        if action == "updated"
        else {},
        "timestamp": "2025-12-12T14:30:00+00:00",
        **extra,
    }


def test_legacy_resource_format() -> None:
    body, headers = signed(legacy("updated"), kind="updated", fmt=None)
    assert b'"model":"App\\\\Models\\\\Tenant\\\\Contact"' in body
    event = webhooks.parse(body, headers, secret=SECRET)
    assert isinstance(event, webhooks.ContactEvent)
    assert (event.id, event.type, event.format) == (None, "contact.updated", "legacy")
    assert event.contact.firstname == "ليلى" and event.contact.group_id == [3]
    assert event.contact.status == wacr.Status(id=1, name="New")
    assert event.changes is not None
    assert event.changes.previous == {"id": 42, "email": "old@example.com", "firstname": "ليلى"}
    assert event.changes.modified_fields is not None and "email" in event.changes.modified_fields

    created = webhooks.parse(*signed(legacy("created"), kind="created", fmt=None), secret=SECRET)
    assert created.type == "contact.created"
    assert created.changes is not None and created.changes.previous is None

    source = legacy("deleted", "Source")
    source["data"]["attributes"] = {"id": 9, "name": "Web/Ads"}
    event = webhooks.parse(*signed(source, kind="deleted", fmt=None), secret=SECRET)
    assert isinstance(event, webhooks.SourceEvent) and event.source.name == "Web/Ads"


def test_legacy_whatsapp_forward_is_metas_raw_payload() -> None:
    event = webhooks.parse(php_json(META_INBOUND), {}, secret=None)  # unsigned in that build
    assert isinstance(event, webhooks.MessageReceived)
    assert (event.type, event.format, event.id) == ("whatsapp.message.received", "legacy", None)
    assert (event.phone, event.name, event.text) == (
        "+966501234567",
        "خالد 🙂",
        ARABIC + " " + EMOJI,
    )
    assert event.context == {"from": "15550100000", "id": "wamid.previous/1"}

    receipt = webhooks.parse(php_json(meta_status("read")), {}, secret=None)
    assert isinstance(receipt, webhooks.MessageStatus)
    assert (receipt.type, receipt.status, receipt.phone) == (
        "whatsapp.message.read",
        "read",
        "+201001234567",
    )


# -- signatures ---------------------------------------------------------------------------


def test_upper_case_hex_and_lower_case_header_names_verify() -> None:
    body, headers = signed(CONTACT_UPDATED)
    lowered = {key.lower(): value for key, value in headers.items()}
    lowered["x-webhook-signature"] = lowered["x-webhook-signature"].upper()
    assert webhooks.parse(body, lowered, secret=SECRET).type == "contact.updated"
    webhooks.verify(body, headers["X-Webhook-Signature"], SECRET.encode())


def test_tampered_body_is_refused() -> None:
    body, headers = signed(CONTACT_UPDATED)
    tampered = body.replace(b"laila@example.com", b"evil@example.com")
    with pytest.raises(webhooks.SignatureError, match="does not match"):
        webhooks.parse(tampered, headers, secret=SECRET)


def test_reserialised_body_does_not_verify() -> None:
    import json

    body, headers = signed(CONTACT_UPDATED)
    again = json.dumps(json.loads(body), separators=(",", ":")).encode()
    assert again != body
    with pytest.raises(webhooks.SignatureError):
        webhooks.parse(again, headers, secret=SECRET)


def test_wrong_secret_is_refused() -> None:
    body, headers = signed(CONTACT_UPDATED, secret="another-secret")
    with pytest.raises(webhooks.SignatureError):
        webhooks.parse(body, headers, secret=SECRET)


@pytest.mark.parametrize("signature", [None, "", "zz" * 32, "abc", "sha1=" + "0" * 64])
def test_missing_or_malformed_signature_is_refused(signature: str | None) -> None:
    body, headers = signed(CONTACT_UPDATED)
    del headers["X-Webhook-Signature"]
    if signature is not None:
        headers["X-Webhook-Signature"] = signature
    with pytest.raises(webhooks.SignatureError) as caught:
        webhooks.parse(body, headers, secret=SECRET)
    assert isinstance(caught.value, wacr.WacrError)


def test_verify_accepts_a_sha256_prefix_and_spaces() -> None:
    body, headers = signed(CONTACT_UPDATED)
    webhooks.verify(body, f" sha256={headers['X-Webhook-Signature']} ", SECRET)


def test_the_signature_is_checked_before_the_body_is_read() -> None:
    with pytest.raises(webhooks.SignatureError):
        webhooks.parse(b"not json", {"X-Webhook-Signature": "0" * 64}, secret=SECRET)


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[1,2]", b'{"hello":"world"}', b'{"event":{"id":"evt_1"}}', b"\xff\xfe"],
)
def test_bodies_that_are_not_webhooks_are_payload_errors(body: bytes) -> None:
    with pytest.raises(webhooks.PayloadError):
        webhooks.parse(body, {"X-Webhook-Signature": webhooks.sign(body, SECRET)}, secret=SECRET)


def test_a_resource_that_does_not_fit_its_class_is_still_delivered(
    caplog: pytest.LogCaptureFixture,
) -> None:
    payload = copy.deepcopy(CONTACT_UPDATED)
    payload["data"]["resource"]["attributes"]["created_at"] = "not a date"
    event = webhooks.parse(*signed(payload), secret=SECRET)
    assert type(event) is webhooks.Event
    assert event.type == "contact.updated" and event.attributes["created_at"] == "not a date"
    assert any("delivered as a plain Event" in r.getMessage() for r in caplog.records)


def test_an_unreadable_envelope_is_a_payload_error() -> None:
    payload = copy.deepcopy(SOURCE_CREATED)
    payload["event"]["timestamp"] = "yesterday"
    with pytest.raises(webhooks.PayloadError):
        webhooks.parse(*signed(payload), secret=SECRET)


def every_family() -> list[tuple[bytes, dict[str, str]]]:
    other = message_received()
    other["event"]["type"] = "whatsapp.template.status_updated"
    unknown = copy.deepcopy(SOURCE_CREATED)
    unknown["event"]["type"] = "invoice.paid"
    return [
        signed(CONTACT_UPDATED),
        signed(SOURCE_CREATED),
        signed(STATUS_DELETED),
        signed(message_received()),
        signed(message_status("failed", errors=[{"code": 1}])),
        signed(other),
        signed(unknown),
        signed(legacy("updated"), kind="updated", fmt=None),
        signed(legacy("created", "Lead"), kind="created", fmt=None),
        signed(META_INBOUND, kind="message", fmt=None),
    ]


@pytest.mark.parametrize("request_", every_family())
def test_events_are_whole_attrs_instances(request_: tuple[bytes, dict[str, str]]) -> None:
    event = webhooks.parse(*request_, secret=SECRET)
    assert list(vars(event)) == [field.name for field in attrs.fields(type(event))]
    again = attrs.evolve(event)  # through the class's own __init__
    assert again == event and vars(again) == vars(event)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        event.type = "x"  # type: ignore[misc]


@pytest.mark.parametrize("padding", [b" ", b"\n", b"\r\n\t"])
def test_json_around_whitespace_is_read_like_json_loads(padding: bytes) -> None:
    body, _ = signed(CONTACT_UPDATED)
    padded = padding + body + padding
    event = webhooks.parse(
        padded, {"X-Webhook-Signature": webhooks.sign(padded, SECRET)}, secret=SECRET
    )
    assert event.raw == json.loads(body)


@pytest.mark.parametrize("body", [b'{"event":{}}x', b'{"event":{}}{}', b'{"a":"\xff"}'])
def test_trailing_data_and_bad_utf8_are_payload_errors(body: bytes) -> None:
    with pytest.raises(webhooks.PayloadError):
        webhooks.parse(body, {"X-Webhook-Signature": webhooks.sign(body, SECRET)}, secret=SECRET)


def test_a_signature_with_spaces_inside_is_malformed() -> None:
    body, headers = signed(CONTACT_UPDATED)
    good = headers["X-Webhook-Signature"]
    for bad in (good[:30] + " " + good[31:], good[:62] + " \n", good[:63] + "g", "é" * 64):
        with pytest.raises(webhooks.SignatureError, match="malformed"):
            webhooks.verify(body, bad, SECRET)
    webhooks.verify(body, good.upper().encode(), SECRET)  # bytes, upper case


@given(key=st.binary(min_size=1, max_size=200), body=st.binary(max_size=3000))
def test_the_signer_is_hmac_sha256(key: bytes, body: bytes) -> None:
    assert Signer(key).digest(body) == hmac.digest(key, body, "sha256")
    assert webhooks.sign(body, key) == hmac.new(key, body, hashlib.sha256).hexdigest()
