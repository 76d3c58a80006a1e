"""client.messages against the sandbox: send_text, send_template, send_interactive, list, get.

Send Media has its own file (test_send_media.py).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

import wacr_async as wacr
from tests.resources._support import Wire, no_requests
from wacr_async.filters import in_, not_in
from wacr_async.models.messages import (
    Button,
    Message,
    MessageDetail,
    Row,
    Section,
    SentInteractive,
    SentTemplate,
    SentText,
)
from wacr_async.testing import Sandbox

PHONE = "+15550001111"
DIGITS = "15550001111"


# -- send_text ---------------------------------------------------------------------------------


async def test_send_text_expands_merge_fields_and_returns_the_sent_message(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    contact = wacr_sandbox.add_contact(firstname="Ada", lastname="Lovelace", phone=PHONE)

    sent = await wacr_client.messages.send_text(PHONE, "Hi @{contact_first_name}")

    assert isinstance(sent, SentText)
    assert sent.message == "Hi Ada"
    assert sent.phone == DIGITS
    assert sent.contact_id == contact["id"]
    assert sent.status == "sent"
    assert sent.message_id is not None and sent.message_id.startswith("wamid.")
    assert sent.sent_at is not None and sent.sent_at.tzinfo is not None
    assert sent.chat_id is not None and sent.chat_message_id is not None
    [record] = wacr_sandbox.sends
    assert (record.kind, record.phone, record.message_id) == ("text", DIGITS, sent.message_id)


async def test_send_text_creates_a_lead_for_an_unknown_phone(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    sent = await wacr_client.messages.send_text(phone="+1 (555) 000-2222", message="Hello")

    assert sent.phone == "15550002222"
    assert sent.contact_id is not None
    created = wacr_sandbox.state.contacts.get(sent.contact_id)
    assert created is not None and created["phone"] == "+15550002222"


async def test_send_text_with_contact_id(wacr_sandbox: Sandbox, wacr_client: wacr.Client) -> None:
    contact = wacr_sandbox.add_contact(firstname="Ada", lastname="L", phone=PHONE)

    sent = await wacr_client.messages.send_text(PHONE, "Hi", contact_id=contact["id"])

    assert sent.contact_id == contact["id"]
    assert wacr_sandbox.sends[0].contact_id == contact["id"]


async def test_send_text_unknown_contact_id_is_not_found(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    with pytest.raises(wacr.NotFoundError) as caught:
        await wacr_client.messages.send_text(PHONE, "Hi", contact_id=999)

    assert caught.value.status == 404
    assert caught.value.code == "NOT_FOUND"
    assert wacr_sandbox.sends == []


async def test_send_text_with_a_bad_token_is_an_authentication_error(
    wacr_sandbox: Sandbox,
) -> None:
    async with wacr_sandbox.client(token="wm_wrong") as client:
        with pytest.raises(wacr.AuthenticationError) as caught:
            await client.messages.send_text(PHONE, "Hi")

    assert caught.value.status == 401
    assert wacr_sandbox.sends == []


async def test_send_text_needs_the_messages_send_scope(wacr_sandbox: Sandbox) -> None:
    wacr_sandbox.add_token("wm_reader", {"messages:read"})
    async with wacr_sandbox.client(token="wm_reader") as client:
        with pytest.raises(wacr.InsufficientScopeError) as caught:
            await client.messages.send_text(PHONE, "Hi")

    assert caught.value.status == 403
    assert "messages:send" in caught.value.message


async def test_send_text_to_an_opted_out_contact(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    wacr_sandbox.add_contact(firstname="Ada", lastname="L", phone=PHONE, is_opted_out=True)

    with pytest.raises(wacr.ContactOptedOutError) as caught:
        await wacr_client.messages.send_text(PHONE, "Hi")

    assert caught.value.code == "CONTACT_OPTED_OUT"
    assert wacr_sandbox.sends == []


async def test_send_text_without_whatsapp_configured(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    wacr_sandbox.whatsapp_configured = False

    with pytest.raises(wacr.WhatsAppNotConfiguredError) as caught:
        await wacr_client.messages.send_text(PHONE, "Hi")

    assert (caught.value.status, caught.value.code) == (422, "WHATSAPP_NOT_CONFIGURED")


async def test_send_text_beyond_the_conversation_limit(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    wacr_sandbox.plan.conversations = 1
    await wacr_client.messages.send_text(PHONE, "first conversation")

    with pytest.raises(wacr.FeatureLimitExceededError) as caught:
        await wacr_client.messages.send_text("+15550002222", "second conversation")

    assert caught.value.feature == "conversations"
    assert (caught.value.current, caught.value.maximum) == (1, 1)
    # The open conversation still takes messages.
    await wacr_client.messages.send_text(PHONE, "same conversation")


async def test_send_text_beyond_the_contact_limit(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    wacr_sandbox.plan.contacts = 0

    with pytest.raises(wacr.FeatureLimitExceededError) as caught:
        await wacr_client.messages.send_text(PHONE, "Hi")

    assert caught.value.feature == "contacts"


async def test_send_text_without_lead_defaults_reports_the_missing_config(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    wacr_sandbox.state.default_source_id = None

    with pytest.raises(wacr.ValidationError) as caught:
        await wacr_client.messages.send_text(PHONE, "Hi")

    assert caught.value.local is False
    assert "lead_source" in caught.value.details["missing_config"]


async def test_send_text_counts_the_phone_as_the_server_does_trimmed(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    # 11 characters as given; the server trims the spaces first and finds only 9.
    with pytest.raises(wacr.ValidationError) as caught:
        await wacr_client.messages.send_text("  123456789", "Hi")

    assert caught.value.local is True
    assert caught.value.fields == {
        "phone": [
            "phone is too short: 9 digits, at least 10 with the country code (got '123456789')"
        ]
    }
    assert wacr_sandbox.hits["POST /messages/text"] == 0


async def test_send_text_failed_send_is_raised_and_not_repeated(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    wacr_sandbox.fail_sends_to(PHONE)

    with pytest.raises(wacr.MessageSendFailedError):
        await wacr_client.messages.send_text(PHONE, "Hi")

    assert wacr_sandbox.hits["POST /messages/text"] == 1


async def test_send_text_whose_answer_is_lost_is_not_sent_twice(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    wacr_sandbox.faults.add("POST /messages/text", drop_after=1.0)

    with pytest.raises(wacr.OutcomeUnknownError):
        await wacr_client.messages.send_text(PHONE, "Hi")

    assert len(wacr_sandbox.sends) == 1
    assert wacr_sandbox.duplicate_sends() == []


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"phone": "", "message": "Hi"}, "phone"),
        ({"phone": "123456789", "message": "Hi"}, "phone"),
        ({"phone": "+15550001111222233334", "message": "Hi"}, "phone"),
        ({"phone": "+1555abc1111", "message": "Hi"}, "phone"),
        ({"phone": PHONE, "message": "   "}, "message"),
        ({"phone": PHONE, "message": "x" * 4097}, "message"),
        ({"phone": PHONE, "message": "Hi", "contact_id": 0}, "contact_id"),
    ],
)
async def test_send_text_local_checks_make_no_request(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client, kwargs: dict[str, Any], field: str
) -> None:
    with pytest.raises(wacr.ValidationError) as caught:
        await wacr_client.messages.send_text(**kwargs)

    assert caught.value.local is True
    assert field in caught.value.fields
    assert no_requests(wacr_sandbox)


async def test_send_text_accepts_the_longest_documented_values(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    sent = await wacr_client.messages.send_text("+1 (555) 000-11112", "x" * 4096)

    assert sent.message == "x" * 4096


# -- send_template -----------------------------------------------------------------------------


async def test_send_template_maps_fields_and_buttons(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    sent = await wacr_client.messages.send_template(
        PHONE, "order_update", "en", fields=["A-17", "Friday"], buttons=["track/A-17"]
    )

    assert isinstance(sent, SentTemplate)
    assert (sent.template_name, sent.language, sent.phone) == ("order_update", "en", DIGITS)
    [record] = wacr_sandbox.sends
    assert record.payload["fields"] == ["A-17", "Friday"]
    assert record.payload["buttons"] == ["track/A-17"]
    stored = wacr_sandbox.state.messages.get(sent.chat_message_id or 0)
    assert stored is not None and "Your order A-17 will arrive on Friday." in stored["message"]


async def test_send_template_header_text_goes_to_header_field_1(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    sent = await wacr_client.messages.send_template(
        PHONE,
        "appointment_reminder",
        "en",
        header_text="Ada",
        fields=["Monday", "10:00"],
    )

    assert wacr_sandbox.sends[0].payload["header"] == "Ada"
    assert sent.template_name == "appointment_reminder"


async def test_send_template_merge_fields_in_body_fields(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    wacr_sandbox.add_contact(firstname="Ada", lastname="L", phone=PHONE)

    await wacr_client.messages.send_template(
        PHONE, "order_update", "en", fields=["@{contact_first_name}-1", "today"]
    )

    assert wacr_sandbox.sends[0].payload["fields"] == ["Ada-1", "today"]


async def test_send_template_header_image_url(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    await wacr_client.messages.send_template(
        PHONE,
        "shipping_photo",
        "en",
        fields=["P-1"],
        header_image="https://cdn.example.com/parcel.jpg",
    )

    assert wacr_sandbox.sends[0].payload["header"] == "https://cdn.example.com/parcel.jpg"


async def test_send_template_header_image_file_is_uploaded_as_multipart(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client, tmp_path: Path
) -> None:
    photo = tmp_path / "parcel.png"
    photo.write_bytes(b"\x89PNG" + b"\0" * 2048)

    sent = await wacr_client.messages.send_template(
        PHONE, "shipping_photo", "en", fields=["P-1"], header_image=photo
    )

    digest = hashlib.sha1(photo.read_bytes()).hexdigest()
    assert wacr_sandbox.sends[0].payload["header"] == f"upload:{digest}:2052"
    detail = await wacr_client.messages.get(sent.chat_message_id or 0)
    assert detail.url is not None and detail.url.endswith("_parcel.png")


async def test_send_template_header_document_bytes_named_by_header_document_name(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    document = b"%PDF-1.7 tiny"
    sent = await wacr_client.messages.send_template(
        PHONE,
        "invoice_ready",
        "en",
        fields=["INV-9"],
        header_document=document,
        header_document_name="invoice-9.pdf",
    )

    digest = hashlib.sha1(document).hexdigest()
    assert wacr_sandbox.sends[0].payload["header"] == f"upload:{digest}:{len(document)}"
    detail = await wacr_client.messages.get(sent.chat_message_id or 0)
    assert detail.url is not None and detail.url.endswith("_invoice_9.pdf")


async def test_send_template_missing_body_fields_lists_them(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    with pytest.raises(wacr.ValidationError) as caught:
        await wacr_client.messages.send_template(PHONE, "order_update", "en", fields=["A-17"])

    assert caught.value.local is False
    assert caught.value.fields == {"template_fields": ["field_2 is required (body parameter 2)"]}


async def test_send_template_missing_header_media(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    with pytest.raises(wacr.ValidationError) as caught:
        await wacr_client.messages.send_template(PHONE, "shipping_photo", "en", fields=["P-1"])

    assert "header_image_url or header_image_file" in caught.value.fields["template_fields"][0]


@pytest.mark.parametrize(("name", "language"), [("no_such_template", "en"), ("order_update", "fr")])
async def test_send_template_unknown_template_is_not_found(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client, name: str, language: str
) -> None:
    with pytest.raises(wacr.NotFoundError) as caught:
        await wacr_client.messages.send_template(PHONE, name, language, fields=["a", "b"])

    assert caught.value.status == 404


async def test_send_template_not_approved_is_not_found(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    with pytest.raises(wacr.NotFoundError):
        await wacr_client.messages.send_template(PHONE, "summer_sale", "en", fields=["10%"])


async def test_send_template_without_the_templates_feature(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    wacr_sandbox.plan.features["whatsapp_templates"] = False

    with pytest.raises(wacr.FeatureNotAvailableError) as caught:
        await wacr_client.messages.send_template(PHONE, "welcome", "en")

    assert caught.value.code == "FEATURE_NOT_AVAILABLE"


async def test_send_template_errors_shared_with_every_send(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    wacr_sandbox.add_contact(firstname="Ada", lastname="L", phone=PHONE, is_opted_out=True)
    with pytest.raises(wacr.ContactOptedOutError):
        await wacr_client.messages.send_template(PHONE, "welcome", "en")

    wacr_sandbox.whatsapp_configured = False
    with pytest.raises(wacr.WhatsAppNotConfiguredError):
        await wacr_client.messages.send_template("+15550002222", "welcome", "en")

    wacr_sandbox.whatsapp_configured = True
    wacr_sandbox.plan.conversations = 0
    with pytest.raises(wacr.FeatureLimitExceededError):
        await wacr_client.messages.send_template("+15550002222", "welcome", "en")
    assert wacr_sandbox.sends == []


async def test_send_template_needs_the_messages_send_scope(wacr_sandbox: Sandbox) -> None:
    wacr_sandbox.add_token("wm_templates", {"templates:read"})
    async with wacr_sandbox.client(token="wm_templates") as client:
        with pytest.raises(wacr.InsufficientScopeError):
            await client.messages.send_template(PHONE, "welcome", "en")
    async with wacr_sandbox.client(token="wm_nope") as client:
        with pytest.raises(wacr.AuthenticationError):
            await client.messages.send_template(PHONE, "welcome", "en")


async def test_send_template_auto_generated_otp(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    await wacr_client.messages.send_template(
        PHONE, "otp_verification", "en", auto_generate_otp=True
    )

    code = wacr_sandbox.otp_code(PHONE)
    assert code is not None and len(code) == 6
    assert wacr_sandbox.sends[0].payload["fields"] == [code]


async def test_send_template_otp_field_number_is_left_to_the_server(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    # The docs' wording ("default: 1, must be 6") is unclear; the server decides.
    with pytest.raises(wacr.ValidationError) as caught:
        await wacr_client.messages.send_template(
            PHONE, "otp_verification", "en", auto_generate_otp=True, otp_field_number=1
        )

    assert caught.value.local is False
    assert "otp_field_number" in caught.value.fields


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"template_name": " "}, "template_name"),
        ({"language": ""}, "language"),
        ({"language": "en_GB_extra"}, "language"),
        ({"fields": [str(n) for n in range(11)]}, "fields"),
        ({"buttons": ["a", "b", "c", "d"]}, "buttons"),
        ({"header_document_name": "x" * 256}, "header_document_name"),
        ({"header_image": b"\x89PNG no name"}, "header_image_file"),
        ({"header_document": b"%PDF no name"}, "header_document_file"),
        ({"contact_id": -1}, "contact_id"),
    ],
)
async def test_send_template_local_checks_make_no_request(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client, kwargs: dict[str, Any], field: str
) -> None:
    arguments: dict[str, Any] = {
        "phone": PHONE,
        "template_name": "order_update",
        "language": "en",
        **kwargs,
    }
    with pytest.raises(wacr.ValidationError) as caught:
        await wacr_client.messages.send_template(**arguments)

    assert caught.value.local is True
    assert field in caught.value.fields
    assert no_requests(wacr_sandbox)


async def test_send_template_header_file_over_the_size_limit_is_refused_locally(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client, tmp_path: Path
) -> None:
    photo = tmp_path / "huge.png"
    with photo.open("wb") as handle:
        handle.truncate(5 * 1024 * 1024 + 1)

    with pytest.raises(wacr.ValidationError) as caught:
        await wacr_client.messages.send_template(
            PHONE, "shipping_photo", "en", fields=["P-1"], header_image=photo
        )

    assert caught.value.local is True
    assert "5.0 MB" in caught.value.fields["header_image_file"][0]
    assert no_requests(wacr_sandbox)


# -- send_interactive --------------------------------------------------------------------------


async def test_send_interactive_buttons(wacr_sandbox: Sandbox, wacr_client: wacr.Client) -> None:
    sent = await wacr_client.messages.send_interactive(
        PHONE,
        "Confirm your order?",
        buttons=[Button("yes", "Yes"), Button(id="no", title="No")],
        header_text="Order A-17",
        footer_text="Reply below",
    )

    assert isinstance(sent, SentInteractive)
    assert (sent.type, sent.status, sent.phone) == ("button", "sent", DIGITS)
    payload = wacr_sandbox.sends[0].payload
    assert payload["type"] == "button"
    assert payload["buttons"] == [{"id": "yes", "title": "Yes"}, {"id": "no", "title": "No"}]
    assert (payload["header"], payload["footer"]) == ("Order A-17", "Reply below")


async def test_send_interactive_list(wacr_sandbox: Sandbox, wacr_client: wacr.Client) -> None:
    sizes = Section("Sizes", [Row("s", "Small"), Row("l", "Large", description="Extra 2 EUR")])
    colours = Section(title="Colours", rows=(Row(id="red", title="Red"),))

    sent = await wacr_client.messages.send_interactive(
        PHONE, "Pick one", sections=[sizes, colours], list_button_text="Options"
    )

    assert sent.type == "list"
    payload = wacr_sandbox.sends[0].payload
    assert payload["list_button_text"] == "Options"
    assert payload["sections"] == [
        {
            "title": "Sizes",
            "rows": [
                {"id": "s", "title": "Small"},
                {"id": "l", "title": "Large", "description": "Extra 2 EUR"},
            ],
        },
        {"title": "Colours", "rows": [{"id": "red", "title": "Red"}]},
    ]


async def test_send_interactive_at_the_documented_limits(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    sections = [Section(f"S{n}", [Row(f"r{n}", "t" * 24, description="d" * 72)]) for n in range(10)]
    sent = await wacr_client.messages.send_interactive(
        PHONE,
        "b" * 1024,
        sections=sections,
        list_button_text="l" * 20,
        header_text="h" * 60,
        footer_text="f" * 60,
    )
    assert sent.type == "list"

    buttons = [Button(str(n), "t" * 20) for n in range(3)]
    sent = await wacr_client.messages.send_interactive(PHONE, "b", buttons=buttons)
    assert sent.type == "button"


async def test_send_interactive_unknown_contact_id_is_a_server_validation_error(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    with pytest.raises(wacr.ValidationError) as caught:
        await wacr_client.messages.send_interactive(
            PHONE, "Hi", buttons=[Button("a", "A")], contact_id=999
        )

    assert caught.value.local is False
    assert caught.value.fields == {"contact_id": ["The selected contact id is invalid."]}


async def test_send_interactive_shared_send_errors(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    buttons = [Button("a", "A")]
    wacr_sandbox.add_contact(firstname="Ada", lastname="L", phone=PHONE, is_opted_out=True)
    with pytest.raises(wacr.ContactOptedOutError):
        await wacr_client.messages.send_interactive(PHONE, "Hi", buttons=buttons)

    wacr_sandbox.plan.conversations = 0
    with pytest.raises(wacr.FeatureLimitExceededError):
        await wacr_client.messages.send_interactive("+15550002222", "Hi", buttons=buttons)

    wacr_sandbox.whatsapp_configured = False
    with pytest.raises(wacr.WhatsAppNotConfiguredError):
        await wacr_client.messages.send_interactive("+15550002222", "Hi", buttons=buttons)

    wacr_sandbox.add_token("wm_reader", {"messages:read"})
    async with wacr_sandbox.client(token="wm_reader") as client:
        with pytest.raises(wacr.InsufficientScopeError):
            await client.messages.send_interactive(PHONE, "Hi", buttons=buttons)
    async with wacr_sandbox.client(token="wm_nope") as client:
        with pytest.raises(wacr.AuthenticationError):
            await client.messages.send_interactive(PHONE, "Hi", buttons=buttons)
    assert wacr_sandbox.sends == []


def _rows(count: int) -> list[Row]:
    return [Row(str(n), f"Row {n}") for n in range(count)]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({}, "type"),
        ({"buttons": [Button("a", "A")], "sections": [Section("S", _rows(1))]}, "type"),
        ({"buttons": []}, "buttons"),
        ({"buttons": [Button(str(n), "B") for n in range(4)]}, "buttons"),
        ({"buttons": [Button("a", "x" * 21)]}, "buttons.0.title"),
        ({"buttons": [Button("a", "A"), Button(" ", "B")]}, "buttons.1.id"),
        ({"sections": [Section("S", _rows(1))]}, "list_button_text"),
        ({"sections": [], "list_button_text": "Go"}, "sections"),
        ({"sections": [Section("S", _rows(1))] * 11, "list_button_text": "Go"}, "sections"),
        ({"sections": [Section("S", [])], "list_button_text": "Go"}, "sections.0.rows"),
        ({"sections": [Section("", _rows(1))], "list_button_text": "Go"}, "sections.0.title"),
        (
            {"sections": [Section("S", [Row("a", "x" * 25)])], "list_button_text": "Go"},
            "sections.0.rows.0.title",
        ),
        (
            {"sections": [Section("S", [Row("a", "A", "d" * 73)])], "list_button_text": "Go"},
            "sections.0.rows.0.description",
        ),
        ({"sections": [Section("S", _rows(1))], "list_button_text": "x" * 21}, "list_button_text"),
        ({"buttons": [Button("a", "A")], "header_text": "h" * 61}, "header_text"),
        ({"buttons": [Button("a", "A")], "footer_text": "f" * 61}, "footer_text"),
        ({"buttons": [Button("a", "A")], "body_text": "b" * 1025}, "body_text"),
        ({"buttons": [Button("a", "A")], "body_text": ""}, "body_text"),
        ({"buttons": [Button("a", "A")], "phone": ""}, "phone"),
    ],
)
async def test_send_interactive_local_checks_make_no_request(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client, kwargs: dict[str, Any], field: str
) -> None:
    arguments: dict[str, Any] = {"phone": PHONE, "body_text": "Pick one", **kwargs}
    with pytest.raises(wacr.ValidationError) as caught:
        await wacr_client.messages.send_interactive(**arguments)

    assert caught.value.local is True
    assert field in caught.value.fields
    assert no_requests(wacr_sandbox)


# -- list and get ------------------------------------------------------------------------------


@pytest.mark.wacr_sandbox(documented_queries=True)
async def test_list_messages_newest_first_with_filters(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    await wacr_client.messages.send_text(PHONE, "outbound one")
    wacr_sandbox.advance(1)
    inbound = wacr_sandbox.receive(PHONE, "inbound reply")
    wacr_sandbox.advance(1)
    await wacr_client.messages.send_template(PHONE, "order_update", "en", fields=["A", "B"])

    everything = await wacr_client.messages.list().collect()
    assert [m.type for m in everything] == ["template", "text", "text"]
    assert all(isinstance(m, Message) for m in everything)

    received = await wacr_client.messages.list(filter={"direction": "inbound"}).collect()
    assert [(m.id, m.message, m.direction) for m in received] == [
        (inbound["id"], "inbound reply", "inbound")
    ]
    assert received[0].is_read is False

    texts = await wacr_client.messages.list(filter={"type": in_(["text"])}).collect()
    assert [m.type for m in texts] == ["text", "text"]
    others = await wacr_client.messages.list(filter={"type": not_in(["text"])}).collect()
    assert [m.type for m in others] == ["template"]

    found = await wacr_client.messages.list(search="outbound").collect()
    assert [m.message for m in found] == ["outbound one"]

    oldest_first = await wacr_client.messages.list(sort="created_at").collect()
    assert [m.id for m in oldest_first] == sorted(m.id for m in everything)


async def test_list_messages_as_the_server_code_answers_them(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    await wacr_client.messages.send_text(PHONE, "outbound one")
    inbound = wacr_sandbox.receive(PHONE, "inbound reply")

    everything = await wacr_client.messages.list(sort="created_at").collect()
    # sort is ignored there: newest first; no direction key is sent
    assert [(m.id, m.direction) for m in everything] == [(inbound["id"], None), (1, None)]
    assert [m.sender_id for m in everything] == [DIGITS, wacr_sandbox.state.wa_number]

    with pytest.raises(wacr.ServerError) as caught:
        await (
            wacr_client.with_options(max_retries=0)
            .messages.list(filter={"direction": "inbound"})
            .collect()
        )
    assert (caught.value.status, caught.value.code) == (500, "INTERNAL_ERROR")
    assert caught.value.message == "Failed to fetch messages"


async def test_list_messages_pages_through_the_history(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    for n in range(7):
        wacr_sandbox.receive(PHONE, f"message {n}")

    pager = wacr_client.messages.list(per_page=3)
    pages = [page async for page in pager.pages()]

    assert [len(page.items) for page in pages] == [3, 3, 1]
    assert pages[0].total == 7
    assert wacr_sandbox.hits["GET /messages"] == 3


@pytest.mark.parametrize("documented", [True, False])
async def test_list_messages_does_not_send_fields_which_the_server_code_refuses(
    wacr_sandbox: Sandbox, wire: tuple[Wire, wacr.Client], documented: bool
) -> None:
    wacr_sandbox.documented_queries = documented
    recorder, client = wire
    wacr_sandbox.receive(PHONE, "hello")

    [message] = await client.messages.list(fields=["id", "message"]).collect()

    assert (message.message, message.status) == ("hello", "received")
    assert all(name != "fields" for name, _ in recorder.query())


async def test_list_messages_needs_the_messages_read_scope(wacr_sandbox: Sandbox) -> None:
    wacr_sandbox.add_token("wm_sender", {"messages:send"})
    async with wacr_sandbox.client(token="wm_sender") as client:
        with pytest.raises(wacr.InsufficientScopeError):
            await client.messages.list().collect()
        with pytest.raises(wacr.InsufficientScopeError):
            await client.messages.get(1)
    async with wacr_sandbox.client(token="wm_nope") as client:
        with pytest.raises(wacr.AuthenticationError):
            await client.messages.list().first_page()


async def test_list_messages_is_lazy(wacr_sandbox: Sandbox, wacr_client: wacr.Client) -> None:
    pager = wacr_client.messages.list()

    assert no_requests(wacr_sandbox)
    await pager.first_page()
    assert wacr_sandbox.hits["GET /messages"] == 1


async def test_get_message_detail(wacr_sandbox: Sandbox, wacr_client: wacr.Client) -> None:
    sent = await wacr_client.messages.send_text(PHONE, "Hi there")
    wacr_sandbox.set_message_status(sent.chat_message_id or 0, "delivered")

    detail = await wacr_client.messages.get(sent.chat_message_id or 0)

    assert isinstance(detail, MessageDetail)
    assert (detail.id, detail.message, detail.status) == (
        sent.chat_message_id,
        "Hi there",
        "delivered",
    )
    assert detail.message_id == sent.message_id
    assert detail.interaction_id == sent.chat_id
    assert detail.staff_id is None
    assert detail.sent_at is not None and detail.sent_at.tzinfo is not None


async def test_get_unknown_message_is_not_found(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    with pytest.raises(wacr.NotFoundError) as caught:
        await wacr_client.messages.get(404)

    assert caught.value.message == "Message not found."


async def test_get_message_with_a_bad_id_makes_no_request(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    with pytest.raises(wacr.ValidationError) as caught:
        await wacr_client.messages.get(0)

    assert caught.value.local is True
    assert no_requests(wacr_sandbox)


async def test_models_ignore_unknown_fields_and_values(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    row = wacr_sandbox.receive(PHONE, "hi", type="sticker")
    row["reaction"] = {"emoji": "+1"}
    row["status"] = "quantum"

    detail = await wacr_client.messages.get(row["id"])

    assert (detail.type, detail.status) == ("sticker", "quantum")
