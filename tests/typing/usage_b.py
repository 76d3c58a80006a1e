"""Typed usage of messages, OTP and templates; checked by ``mypy --strict``, never run."""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path
from typing import Any

import wacr_async as wacr
from wacr_async.filters import in_
from wacr_async.models.messages import (
    Button,
    ContactDefaults,
    Message,
    MessageDetail,
    Row,
    Section,
    SentInteractive,
    SentMedia,
    SentMessage,
    SentTemplate,
    SentText,
)
from wacr_async.models.otp import AuthTemplate, OTPSent, OTPStatus, OTPVerified
from wacr_async.models.templates import SyncResult, Template
from wacr_async.pagination import AsyncPager, Page


async def messages(client: wacr.Client) -> None:
    text: SentText = await client.messages.send_text("+15550001111", "Hi @{contact_first_name}")
    text = await client.messages.send_text(phone="+15550001111", message="Hi", contact_id=3)
    merged: str | None = text.message

    template: SentTemplate = await client.messages.send_template(
        "+15550001111",
        "order_update",
        "en",
        fields=["A-17", "Friday"],
        header_text="Order",
        header_image="https://example.com/banner.png",
        buttons=["track/A-17"],
        contact_id=3,
    )
    template = await client.messages.send_template(
        phone="+15550001111",
        template_name="invoice",
        language="en_GB",
        header_document=Path("invoice.pdf"),
        header_document_name="Invoice.pdf",
    )
    template = await client.messages.send_template(
        "+15550001111", "promo", "en", header_video=b"\x00\x01", auto_generate_otp=False
    )
    template = await client.messages.send_template(
        "+15550001111", "login", "en", auto_generate_otp=True, otp_field_number=6
    )
    language: str | None = template.language

    media: SentMedia = await client.messages.send_media(
        "+15550001111", "image", url="https://example.com/a.png", caption="A"
    )
    media = await client.messages.send_media(
        "+15550001111", "document", file=Path("report.pdf"), filename="Report.pdf"
    )
    media = await client.messages.send_media(
        "+15550001111", "audio", file=b"ID3...", filename="note.mp3", contact_id=3
    )
    with io.BytesIO(b"\x89PNG") as stream:
        media = await client.messages.send_media(
            phone="+15550001111",
            media_type="image",
            file=stream,
            filename="a.png",
            contact=ContactDefaults(
                firstname="Ada",
                lastname="Lovelace",
                email="ada@example.com",
                country="UK",
                assigned_id=2,
                groups=[1, 2],
            ),
        )
    stored: str | None = media.media_url

    buttons: SentInteractive = await client.messages.send_interactive(
        "+15550001111",
        "Confirm?",
        buttons=[Button("yes", "Yes"), Button(id="no", title="No")],
        header_text="Order A-17",
        footer_text="Reply below",
        contact_id=3,
    )
    listing: SentInteractive = await client.messages.send_interactive(
        phone="+15550001111",
        body_text="Pick a size",
        sections=[Section("Sizes", [Row("s", "Small"), Row("l", "Large", description="+2")])],
        list_button_text="Sizes",
    )
    kind: str | None = listing.type
    anything: SentMessage = buttons
    when: datetime | None = anything.sent_at

    history: AsyncPager[Message] = client.messages.list(
        per_page=50,
        sort="-created_at",
        search="order",
        filter={"direction": "inbound", "type": in_(["text", "template"])},
        fields=["id", "message"],
        prefetch=False,
        concurrency=1,
    )
    async for message in history:
        first_id: int = message.id
        read: bool = message.is_read
        print(first_id, read)
    page: Page[Message] = await client.messages.list().first_page()
    recent: list[Message] = await client.messages.list(sort=["-created_at"]).collect(limit=10)
    detail: MessageDetail = await client.messages.get(42)
    staff: int | None = detail.staff_id
    print(merged, language, stored, kind, when, page.total, recent, staff)


async def otp(client: wacr.Client) -> None:
    sent: OTPSent = await client.otp.send("+15550001111", "otp_verification", "493817")
    sent = await client.otp.send(
        phone="+15550001111",
        template_name="otp_verification",
        code="493817",
        language="en",
        expiry_minutes=5,
        contact_id=3,
        purpose="login",
        additional_params=["Acme"],
    )
    expires: datetime | None = sent.expires_at
    try:
        verified: OTPVerified = await client.otp.verify("+15550001111", "493817", purpose="login")
        at: datetime | None = verified.verified_at
        print(at)
    except wacr.OTPInvalidCodeError as exc:
        left: int | None = exc.attempts_remaining
        print(left)
    except wacr.OTPVerificationError as exc:
        reason: str | None = exc.reason
        print(reason)
    again: OTPSent = await client.otp.resend(
        "+15550001111", "otp_verification", language="en", expiry_minutes=10, purpose="login"
    )
    status: OTPStatus = await client.otp.status("+15550001111", purpose="login")
    active: bool = status.has_active_otp
    remaining: int | None = status.attempts_remaining
    templates: AsyncPager[AuthTemplate] = client.otp.templates(
        per_page=20, sort="template_name", search="otp", filter={"language": "en"}
    )
    names = [t.template_name async for t in templates]
    print(expires, again, active, remaining, names)


async def templates(client: wacr.Client) -> None:
    pager: AsyncPager[Template] = client.templates.list(
        per_page=100,
        sort=["template_name", "-created_at"],
        search="order",
        filter={"status": "APPROVED", "category": "UTILITY"},
        fields=["template_name", "language"],
        prefetch=True,
        concurrency=4,
    )
    async for template in pager:
        buttons: list[Any] | dict[str, Any] | None = template.buttons
        raw: str | None = template.buttons_data
        components: list[Any] = template.components
        print(buttons, raw, components)
    one: Template = await client.templates.get("1234567890")
    synced: SyncResult = await client.templates.sync()
    count: int = synced.synced_count
    pulled: list[Template] = synced.templates
    print(one.template_id, count, pulled)
