"""Messages: the four sends, their checks, and the message store."""

from __future__ import annotations

import io
import json
import re
import tracemalloc
from typing import Any

import aiohttp

from wacr_async.testing import Plan, Sandbox

PHONE = "+1 (555) 000-1111"
DIGITS = "15550001111"


async def test_send_text_auto_creates_a_lead(api: Any, sandbox: Sandbox) -> None:
    reply = await api.post(
        "/messages/text", {"phone": PHONE, "message": "Hi @{contact_first_name}!"}
    )
    assert reply.status == 200
    assert reply.body["message"] == "Message sent successfully"
    data = reply.data
    assert re.fullmatch(r"wamid\.[\w-]+", data["message_id"])
    assert data["phone"] == DIGITS
    assert data["message"] == f"Hi {DIGITS}!"  # the new lead's first name is its digits
    assert data["status"] == "sent"
    assert data["chat_id"] == 1
    assert data["chat_message_id"] == 1
    contact = (await api.get(f"/contacts/{data['contact_id']}")).data
    assert contact["phone"] == "+" + DIGITS
    assert contact["firstname"] == DIGITS
    assert contact["lastname"] == ""
    assert contact["type"] == "lead"
    assert (contact["source_id"], contact["status_id"]) == (1, 1)
    [send] = sandbox.sends
    assert (send.kind, send.phone, send.message_id) == ("text", DIGITS, data["message_id"])
    stored = (await api.get("/messages")).data
    assert stored[0]["message_id"] == data["message_id"]
    assert stored[0]["direction"] == "outbound"
    assert stored[0]["type"] == "text"


async def test_send_text_uses_an_existing_contact(api: Any, sandbox: Sandbox) -> None:
    sandbox.add_contact(firstname="Ada", lastname="L", phone="+" + DIGITS, email="ada@x.io")
    merged = "@{contact_first_name} @{contact_last_name} <@{contact_email}> @{contact_phone}"
    reply = await api.post("/messages/text", {"phone": DIGITS, "message": merged})
    assert reply.data["contact_id"] == 1
    assert reply.data["message"] == f"Ada L <ada@x.io> +{DIGITS}"
    ok = await api.post("/messages/text", {"phone": DIGITS, "message": "x", "contact_id": 1})
    assert ok.status == 200
    wrong = await api.post(
        "/messages/text", {"phone": "15550002222", "message": "x", "contact_id": 1}
    )
    assert wrong.status == 404
    assert wrong.code == "NOT_FOUND"


async def test_send_text_validation_is_wrapped(api: Any) -> None:
    reply = await api.post("/messages/text", {"phone": "12345", "message": "x" * 4097})
    assert reply.status == 422
    assert reply.error["message"] == "Validation failed"
    assert reply.error["details"] == {
        "errors": {
            "phone": ["Phone number must be at least 10 digits."],
            "message": ["Message cannot exceed 4096 characters."],
        }
    }
    empty = await api.post("/messages/text", {"contact_id": "x", "phone": "abc defghijk"})
    assert empty.error["details"]["errors"] == {
        "phone": ["Phone number can only contain digits, +, -, spaces, and parentheses."],
        "message": ["Message text is required."],
        "contact_id": ["Contact ID must be a valid integer."],
    }


async def test_send_refusals(api: Any, sandbox: Sandbox) -> None:
    sandbox.add_contact(firstname="O", lastname="Out", phone="+15550003333", is_opted_out=True)
    out = await api.post("/messages/text", {"phone": "15550003333", "message": "x"})
    assert (out.status, out.code) == (403, "CONTACT_OPTED_OUT")

    sandbox.fail_sends_to(DIGITS)
    failed = await api.post("/messages/text", {"phone": DIGITS, "message": "x"})
    assert (failed.status, failed.code) == (500, "MESSAGE_SEND_FAILED")
    sandbox.fail_sends_to(DIGITS, fail=False)

    sandbox.whatsapp_configured = False
    off = await api.post("/messages/text", {"phone": DIGITS, "message": "x"})
    assert (off.status, off.code) == (422, "WHATSAPP_NOT_CONFIGURED")
    sandbox.whatsapp_configured = True
    assert sandbox.sends == []

    sandbox.state.default_status_id = None
    unconfigured = await api.post("/messages/text", {"phone": "15559990000", "message": "x"})
    assert unconfigured.status == 422
    assert unconfigured.error["details"] == {
        "missing_config": {"lead_status": "Lead status not configured"}
    }


async def test_plan_limits_on_sends(make_api: Any) -> None:
    async with Sandbox(plan=Plan(contacts=1, conversations=1)) as sandbox:
        api = make_api(sandbox)
        assert (await api.post("/messages/text", {"phone": DIGITS, "message": "a"})).status == 200
        again = await api.post("/messages/text", {"phone": DIGITS, "message": "b"})
        assert again.status == 200  # same conversation
        new_contact = await api.post("/messages/text", {"phone": "15550002222", "message": "c"})
        assert new_contact.status == 403
        assert new_contact.error["details"] == {"feature": "contacts", "current": 1, "maximum": 1}
        sandbox.plan.contacts = -1
        second = await api.post("/messages/text", {"phone": "15550002222", "message": "c"})
        assert second.status == 403
        assert second.code == "FEATURE_LIMIT_EXCEEDED"
        assert second.error["details"] == {"feature": "conversations", "current": 1, "maximum": 1}
        usage = (await api.get("/account/usage")).data
        assert usage["conversations"]["current"] == 1
        assert usage["conversations"]["percentage_used"] == 100.0


async def test_send_template(api: Any, sandbox: Sandbox) -> None:
    body = {
        "phone": PHONE,
        "template_name": "order_update",
        "language": "en",
        "field_1": "A-17",
        "field_2": "Friday, @{contact_first_name}",
    }
    reply = await api.post("/messages/template", body)
    assert reply.status == 200, reply.body
    assert reply.body["message"] == "Template message sent successfully"
    data = reply.data
    assert data["template_name"] == "order_update"
    assert data["language"] == "en"
    assert data["phone"] == DIGITS
    assert data["status"] == "sent"
    assert isinstance(data["chat_message_id"], int)
    stored = (await api.get(f"/messages/{data['chat_message_id']}")).data
    assert stored["type"] == "template"
    assert "Your order A-17 will arrive on Friday, 15550001111." in stored["message"]
    [send] = sandbox.sends
    assert json.loads(send.content)["fields"] == ["A-17", f"Friday, {DIGITS}"]


async def test_send_template_lookup_and_fields(api: Any, sandbox: Sandbox) -> None:
    for name, language in (("nope", "en"), ("summer_sale", "en"), ("order_update", "fr")):
        missing = await api.post(
            "/messages/template",
            {"phone": DIGITS, "template_name": name, "language": language, "field_1": "x"},
        )
        assert missing.status == 404, name
        assert missing.code == "NOT_FOUND"
    fields = await api.post(
        "/messages/template", {"phone": DIGITS, "template_name": "order_update", "language": "en"}
    )
    assert fields.status == 422
    assert fields.error["details"] == {
        "template_fields": [
            "field_1 is required (body parameter 1)",
            "field_2 is required (body parameter 2)",
        ]
    }
    header = await api.post(
        "/messages/template",
        {"phone": DIGITS, "template_name": "appointment_reminder", "language": "en",
         "field_1": "Monday", "field_2": "9:00"},
    )  # fmt: skip
    assert header.error["details"]["template_fields"] == [
        "header_field_1 is required for TEXT header template with parameters"
    ]
    image = await api.post(
        "/messages/template",
        {"phone": DIGITS, "template_name": "shipping_photo", "language": "en", "field_1": "P1"},
    )
    assert image.error["details"]["template_fields"] == [
        "header_image_url or header_image_file is required for IMAGE header template"
    ]
    invalid = await api.post(
        "/messages/template", {"phone": DIGITS, "field_1": 17, "otp_field_number": 1}
    )
    assert invalid.error["details"] == {
        "template_name": ["Template name is required."],
        "language": ["Template language is required."],
        "field_1": ["The field 1 field must be a string."],
        "otp_field_number": ["The otp field number field must be at least 6."],
    }
    assert sandbox.sends == []


async def test_send_template_headers(api: Any, sandbox: Sandbox) -> None:
    base = {"phone": DIGITS, "language": "en"}
    text = await api.post(
        "/messages/template",
        {**base, "template_name": "appointment_reminder", "header_field_1": "Ada",
         "field_1": "Monday", "field_2": "9:00"},
    )  # fmt: skip
    assert text.status == 200
    message = (await api.get(f"/messages/{text.data['chat_message_id']}")).data["message"]
    assert "Reminder for Ada" in message
    by_url = await api.post(
        "/messages/template",
        {**base, "template_name": "shipping_photo", "field_1": "P1",
         "header_image_url": "https://cdn.example.com/p1.png"},
    )  # fmt: skip
    assert by_url.status == 200
    bad_url = await api.post(
        "/messages/template",
        {**base, "template_name": "shipping_photo", "field_1": "P1",
         "header_image_url": "https://cdn.example.com/p1.pdf"},
    )  # fmt: skip
    assert bad_url.status == 422
    assert bad_url.error["message"] == "Invalid file extension in URL"
    assert bad_url.error["details"] == {"header_media": ["Allowed: jpg, jpeg, png, webp"]}

    form = aiohttp.FormData()
    for key, value in {**base, "template_name": "shipping_photo", "field_1": "P2"}.items():
        form.add_field(key, value)
    form.add_field("header_image_file", io.BytesIO(b"\x89PNG..."), filename="box.png")
    upload = await api("POST", "/messages/template", data=form)
    assert upload.status == 200, upload.body
    assert sandbox.sends[-1].payload["header_url"].startswith("http://")
    assert sandbox.sends[-1].payload["header"].startswith("upload:")

    form = aiohttp.FormData()
    for key, value in {**base, "template_name": "shipping_photo", "field_1": "P3"}.items():
        form.add_field(key, value)
    form.add_field("header_image_file", io.BytesIO(b"%PDF"), filename="box.pdf")
    wrong = await api("POST", "/messages/template", data=form)
    assert wrong.status == 422
    assert wrong.error["message"] == "Invalid file extension for image"


async def test_send_template_feature_and_auto_otp(api: Any, sandbox: Sandbox) -> None:
    reply = await api.post(
        "/messages/template",
        {"phone": DIGITS, "template_name": "otp_verification", "language": "en",
         "auto_generate_otp": True},
    )  # fmt: skip
    assert reply.status == 200, reply.body
    code = sandbox.otp_code(DIGITS)
    assert code is not None
    assert re.fullmatch(r"\d{6}", code)
    assert code in (await api.get("/messages")).data[0]["message"]
    sandbox.plan.features["whatsapp_templates"] = False
    refused = await api.post(
        "/messages/template",
        {"phone": DIGITS, "template_name": "welcome", "language": "en"},
    )
    assert (refused.status, refused.code) == (403, "FEATURE_NOT_AVAILABLE")


async def test_send_media_by_url_and_upload(api: Any, sandbox: Sandbox) -> None:
    by_url = await api.post(
        "/messages/media",
        {"phone": DIGITS, "media_type": "image", "media_url": "https://cdn.example.com/a.jpg",
         "caption": "Look"},
    )  # fmt: skip
    assert by_url.status == 200, by_url.body
    assert by_url.body["message"] == "Media message sent successfully"
    data = by_url.data
    assert data["media_type"] == "image"
    assert data["media_url"] == "https://cdn.example.com/a.jpg"
    assert data["caption"] == "Look"
    assert data["filename"] is None

    form = aiohttp.FormData()
    form.add_field("phone", "+15550002222")
    form.add_field("media_type", "document")
    form.add_field("filename", "Q3 report.pdf")
    form.add_field("contact[firstname]", "Grace")
    form.add_field("contact[lastname]", "Hopper")
    form.add_field("media_file", io.BytesIO(b"%PDF-1.7 " * 1000), filename="Q3 Report.PDF")
    upload = await api("POST", "/messages/media", data=form)
    assert upload.status == 200, upload.body
    assert re.search(r"/storage/whatsapp-attachments/\w+_q3_report\.pdf$", upload.data["media_url"])
    assert upload.data["filename"] == "Q3 report.pdf"
    contact = (await api.get(f"/contacts/{upload.data['contact_id']}")).data
    assert (contact["firstname"], contact["lastname"]) == ("Grace", "Hopper")
    assert sandbox.sends[-1].kind == "media"
    stored = (await api.get("/messages?filter[type]=document")).data
    assert len(stored) == 1


async def test_send_media_quirky_errors(api: Any, sandbox: Sandbox) -> None:
    bad_url = await api.post(
        "/messages/media",
        {"phone": DIGITS, "media_type": "video", "media_url": "https://cdn.example.com/clip.avi"},
    )
    assert bad_url.status == 422
    assert bad_url.body == {
        "status": "error",
        "message": "Invalid file extension for video. Allowed: mp4, 3gp",
    }
    form = aiohttp.FormData()
    form.add_field("phone", DIGITS)
    form.add_field("media_type", "image")
    form.add_field("media_file", io.BytesIO(b"\0" * (5 * 1024 * 1024 + 1)), filename="big.jpg")
    too_big = await api("POST", "/messages/media", data=form)
    assert too_big.status == 422
    assert too_big.body == {
        "status": "error",
        "message": "File size exceeds limit for image. Max allowed is 5 MB",
    }
    form = aiohttp.FormData()
    form.add_field("phone", DIGITS)
    form.add_field("media_type", "audio")
    form.add_field("media_file", io.BytesIO(b"ID3"), filename="song.wav")
    wrong_ext = await api("POST", "/messages/media", data=form)
    assert wrong_ext.body["message"] == (
        "Invalid file extension for audio. Allowed: mp3, ogg, amr, aac, opus"
    )
    invalid = await api.post("/messages/media", {"phone": "1" * 16, "media_type": "gif"})
    assert invalid.code == "VALIDATION_ERROR"
    assert invalid.error["details"] == {
        "phone": ["The phone field must not be greater than 15 characters."],
        "media_type": ["The selected media type is invalid."],
        "media_url": ["The media url field is required when media file is not present."],
        "media_file": ["The media file field is required when media url is not present."],
    }
    assert sandbox.sends == []


async def test_send_interactive(api: Any) -> None:
    buttons = await api.post(
        "/messages/interactive",
        {"phone": DIGITS, "type": "button", "body_text": "Pick", "header_text": "Hi",
         "buttons": [{"id": "yes", "title": "Yes"}, {"id": "no", "title": "No"}]},
    )  # fmt: skip
    assert buttons.status == 200, buttons.body
    assert buttons.body["message"] == "Interactive message sent successfully"
    assert buttons.data["type"] == "button"
    listing = await api.post(
        "/messages/interactive",
        {"phone": DIGITS, "type": "list", "body_text": "Menu", "list_button_text": "Open",
         "sections": [{"title": "Food", "rows": [{"id": "1", "title": "Pizza",
                                                   "description": "Hot"}]}]},
    )  # fmt: skip
    assert listing.status == 200, listing.body
    assert listing.data["type"] == "list"
    stored = (await api.get("/messages?filter[type]=interactive")).data
    assert [item["message"] for item in stored] == ["Menu", "Pick"]


async def test_send_interactive_validation(api: Any) -> None:
    too_many = await api.post(
        "/messages/interactive",
        {"phone": DIGITS, "type": "button", "body_text": "x" * 1025, "footer_text": "f" * 61,
         "buttons": [{"id": str(i), "title": "t" * 21} for i in range(4)], "contact_id": 99},
    )  # fmt: skip
    assert too_many.error["details"] == {
        "body_text": ["The body text field must not be greater than 1024 characters."],
        "footer_text": ["The footer text field must not be greater than 60 characters."],
        "buttons": ["The buttons field must not have more than 3 items."],
        "contact_id": ["The selected contact id is invalid."],
    }
    titles = await api.post(
        "/messages/interactive",
        {"phone": DIGITS, "type": "button", "body_text": "b",
         "buttons": [{"id": "a", "title": "t" * 21}, {"title": "ok"}]},
    )  # fmt: skip
    assert titles.error["details"] == {
        "buttons.0.title": ["The buttons.0.title field must not be greater than 20 characters."],
        "buttons.1.id": ["The buttons.1.id field is required."],
    }
    no_buttons = await api.post(
        "/messages/interactive",
        {"phone": DIGITS, "type": "button", "body_text": "b", "buttons": []},
    )
    assert no_buttons.error["details"] == {
        "buttons": ["Buttons are required for button type messages."]
    }
    bad_list = await api.post(
        "/messages/interactive",
        {"phone": DIGITS, "type": "list", "body_text": "b", "list_button_text": "l" * 21,
         "sections": [{"rows": [{"id": "r", "title": "t" * 25, "description": "d" * 73}]}] * 11},
    )  # fmt: skip
    details = bad_list.error["details"]
    assert details["list_button_text"] == [
        "The list button text field must not be greater than 20 characters."
    ]
    assert details["sections"] == ["The sections field must not have more than 10 items."]
    no_sections = await api.post(
        "/messages/interactive",
        {"phone": DIGITS, "type": "list", "body_text": "b", "list_button_text": "Open",
         "sections": [{"title": "S", "rows": [{"id": "r", "title": "t" * 25,
                                                "description": "d" * 73}]}, {"title": "T"}]},
    )  # fmt: skip
    assert no_sections.error["details"] == {
        "sections.0.rows.0.title": [
            "The sections.0.rows.0.title field must not be greater than 24 characters."
        ],
        "sections.0.rows.0.description": [
            "The sections.0.rows.0.description field must not be greater than 72 characters."
        ],
        "sections.1.rows": ["The sections.1.rows field is required."],
    }
    kind = await api.post("/messages/interactive", {"phone": DIGITS, "type": "carousel"})
    assert kind.error["details"] == {
        "type": ["Type must be either button or list."],
        "body_text": ["Body text is required."],
    }


async def test_message_store_lists_newest_first(api: Any, sandbox: Sandbox) -> None:
    for text in ("one", "two", "three"):
        await api.post("/messages/text", {"phone": DIGITS, "message": text})
        sandbox.clock.advance(1)
    inbound = sandbox.receive("+15550004444", "hello there")
    listing = await api.get("/messages")
    assert [item["message"] for item in listing.data] == ["hello there", "three", "two", "one"]
    ids = [item["id"] for item in listing.data]
    assert ids == sorted(ids, reverse=True)
    first = listing.data[-1]
    assert set(first) >= {
        "id", "interaction_id", "sender_id", "type", "message", "status", "message_id",
        "sent_at", "is_read",
    }  # fmt: skip
    oldest_first = await api.get("/messages?sort=created_at")
    assert oldest_first.data[0]["message"] == "one"

    async def texts(query: str) -> list[str]:
        return [item["message"] for item in (await api.get(f"/messages?{query}")).data]

    assert await texts("filter[direction]=inbound") == ["hello there"]
    assert await texts("filter[direction][ne]=inbound") == ["three", "two", "one"]
    assert await texts("filter[status]=received") == ["hello there"]
    assert await texts("filter[type][in]=text,template") == ["hello there", "three", "two", "one"]
    assert await texts("filter[type][not_in]=text") == []
    assert await texts(f"filter[interaction_id]={inbound['interaction_id']}") == ["hello there"]
    assert await texts("search=TW") == ["two"]
    assert await texts("filter[created_at][gte]=2000-01-01") == [
        "hello there",
        "three",
        "two",
        "one",
    ]  # fmt: skip  (created_at is not a message filter: ignored)

    detail = await api.get(f"/messages/{inbound['id']}")
    assert detail.body["message"] == "Message retrieved successfully"
    assert detail.data["direction"] == "inbound"
    assert detail.data["sender_id"] == "15550004444"
    assert set(detail.data) >= {"status_message", "ref_message_id", "url", "staff_id"}
    sandbox.set_message_status(first["id"], "read")
    assert (await api.get(f"/messages/{first['id']}")).data["status"] == "read"
    missing = await api.get("/messages/999")
    assert (missing.status, missing.error["message"]) == (404, "Message not found.")


async def test_uploads_are_streamed_not_buffered(api: Any, tmp_path: Any) -> None:
    big = tmp_path / "clip.mp4"
    with big.open("wb") as handle:
        for _ in range(17):
            handle.write(b"\0" * (1 << 20))  # 17 MB: over the 16 MB video limit
    small = tmp_path / "small.mp4"
    small.write_bytes(b"\0" * (3 << 20))
    tracemalloc.start()
    try:
        for path, status in ((big, 422), (small, 200)):
            with path.open("rb") as handle:
                form = aiohttp.FormData()
                form.add_field("phone", DIGITS)
                form.add_field("media_type", "video")
                form.add_field("media_file", handle, filename=path.name)
                reply = await api("POST", "/messages/media", data=form)
            assert reply.status == status, reply.body
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 * (1 << 20), peak  # neither side held a whole file in memory
