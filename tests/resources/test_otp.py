"""client.otp against the sandbox: send, verify (every failure sub-code), resend, status,
authentication templates."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

import wacr_async as wacr
from tests.resources._support import no_requests
from wacr_async.models.otp import AuthTemplate, OTPSent, OTPStatus, OTPVerified
from wacr_async.testing import Sandbox

PHONE = "+15550001111"
DIGITS = "15550001111"
TEMPLATE = "otp_verification"


# -- send --------------------------------------------------------------------------------------


async def test_send_delivers_the_code_and_reports_its_expiry(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    sent = await wacr_client.otp.send(PHONE, TEMPLATE, "493817")

    assert isinstance(sent, OTPSent)
    assert wacr_sandbox.otp_code(PHONE) == "493817"
    assert (sent.phone, sent.template_name, sent.language) == (DIGITS, TEMPLATE, "en")
    assert (sent.code_sent, sent.status, sent.expiry_minutes) == (True, "sent", 10)
    assert sent.message_id is not None and sent.contact_id is not None
    assert sent.sent_at is not None and sent.expires_at is not None
    assert sent.expires_at - sent.sent_at == timedelta(minutes=10)
    [record] = wacr_sandbox.sends
    assert (record.kind, record.route) == ("otp", "POST /auth/send-otp")


async def test_send_with_every_option(wacr_sandbox: Sandbox, wacr_client: wacr.Client) -> None:
    contact = wacr_sandbox.add_contact(firstname="Ada", lastname="L", phone=DIGITS)

    sent = await wacr_client.otp.send(
        phone=PHONE,
        template_name="login_code",
        code="111222",
        language="en",
        expiry_minutes=5,
        contact_id=contact["id"],
        purpose="login",
        additional_params=["ignored beyond the template's parameters"],
    )

    assert (sent.expiry_minutes, sent.contact_id) == (5, contact["id"])
    assert wacr_sandbox.otp_code(PHONE, purpose="login") == "111222"
    assert wacr_sandbox.otp_code(PHONE, purpose="authentication") is None
    stored = wacr_sandbox.state.messages.get(wacr_sandbox.sends[0].chat_message_id)
    assert stored is not None
    assert stored["message"] == "Your login code is 111222. It expires in 5 minutes."


async def test_send_in_another_language(wacr_sandbox: Sandbox, wacr_client: wacr.Client) -> None:
    sent = await wacr_client.otp.send(PHONE, TEMPLATE, "123456", language="es")

    assert sent.language == "es"


async def test_send_with_an_unknown_template_is_not_found(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    with pytest.raises(wacr.NotFoundError) as caught:
        await wacr_client.otp.send(PHONE, "no_such_template", "123456")

    assert caught.value.status == 404
    assert wacr_sandbox.sends == []


async def test_send_with_a_non_authentication_template(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    with pytest.raises(wacr.ValidationError) as caught:
        await wacr_client.otp.send(PHONE, "order_update", "123456")

    assert caught.value.local is False
    assert caught.value.details["actual_category"] == "UTILITY"
    assert caught.value.details["required_category"] == "AUTHENTICATION"


async def test_send_without_the_templates_feature(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    wacr_sandbox.plan.features["whatsapp_templates"] = False

    with pytest.raises(wacr.FeatureNotAvailableError):
        await wacr_client.otp.send(PHONE, TEMPLATE, "123456")


async def test_send_to_an_opted_out_contact(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    # The OTP endpoints find contacts by the bare digits.
    wacr_sandbox.add_contact(firstname="Ada", lastname="L", phone=DIGITS, is_opted_out=True)

    with pytest.raises(wacr.ContactOptedOutError):
        await wacr_client.otp.send(PHONE, TEMPLATE, "123456")


async def test_send_beyond_the_contact_limit(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    wacr_sandbox.plan.contacts = 0

    with pytest.raises(wacr.FeatureLimitExceededError) as caught:
        await wacr_client.otp.send(PHONE, TEMPLATE, "123456")

    assert (caught.value.feature, caught.value.maximum) == ("contacts", 0)


async def test_send_beyond_the_conversation_limit(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    wacr_sandbox.plan.conversations = 0

    with pytest.raises(wacr.FeatureLimitExceededError) as caught:
        await wacr_client.otp.send(PHONE, TEMPLATE, "123456")

    assert caught.value.feature == "conversations"


async def test_send_without_whatsapp_configured(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    wacr_sandbox.whatsapp_configured = False

    with pytest.raises(wacr.WhatsAppNotConfiguredError):
        await wacr_client.otp.send(PHONE, TEMPLATE, "123456")


async def test_otp_endpoints_need_a_valid_token_and_the_send_scope(
    wacr_sandbox: Sandbox,
) -> None:
    wacr_sandbox.add_token("wm_reader", {"messages:read", "templates:read"})
    async with wacr_sandbox.client(token="wm_reader") as client:
        with pytest.raises(wacr.InsufficientScopeError):
            await client.otp.send(PHONE, TEMPLATE, "123456")
        with pytest.raises(wacr.InsufficientScopeError):
            await client.otp.verify(PHONE, "123456")
        with pytest.raises(wacr.InsufficientScopeError):
            await client.otp.resend(PHONE, TEMPLATE)
        with pytest.raises(wacr.InsufficientScopeError):
            await client.otp.status(PHONE)
    async with wacr_sandbox.client(token="wm_nope") as client:
        with pytest.raises(wacr.AuthenticationError):
            await client.otp.send(PHONE, TEMPLATE, "123456")
        with pytest.raises(wacr.AuthenticationError):
            await client.otp.verify(PHONE, "123456")
        with pytest.raises(wacr.AuthenticationError):
            await client.otp.resend(PHONE, TEMPLATE)
        with pytest.raises(wacr.AuthenticationError):
            await client.otp.status(PHONE)
        with pytest.raises(wacr.AuthenticationError):
            await client.otp.templates().first_page()


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"phone": "12345"}, "phone"),
        ({"phone": "+1 555 CALL NOW"}, "phone"),
        ({"template_name": ""}, "template_name"),
        ({"code": " "}, "code"),
        ({"language": "en_GB_extra"}, "language"),
        ({"expiry_minutes": 0}, "expiry_minutes"),
        ({"expiry_minutes": 61}, "expiry_minutes"),
        ({"contact_id": 0}, "contact_id"),
    ],
)
async def test_send_local_checks_make_no_request(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client, kwargs: dict[str, Any], field: str
) -> None:
    arguments: dict[str, Any] = {
        "phone": PHONE,
        "template_name": TEMPLATE,
        "code": "123456",
        **kwargs,
    }
    with pytest.raises(wacr.ValidationError) as caught:
        await wacr_client.otp.send(**arguments)

    assert caught.value.local is True
    assert field in caught.value.fields
    assert no_requests(wacr_sandbox)


async def test_send_accepts_the_expiry_bounds(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    short = await wacr_client.otp.send(PHONE, TEMPLATE, "111111", expiry_minutes=1)
    long = await wacr_client.otp.send(PHONE, TEMPLATE, "222222", expiry_minutes=60)

    assert (short.expiry_minutes, long.expiry_minutes) == (1, 60)


async def test_send_counts_the_phone_as_the_server_does_trimmed(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    with pytest.raises(wacr.ValidationError) as caught:
        await wacr_client.otp.send("  123456789", TEMPLATE, "123456")

    assert caught.value.local is True
    assert caught.value.fields == {"phone": ["phone must be at least 10 characters (got 9)"]}
    assert wacr_sandbox.hits["POST /auth/send-otp"] == 0


# -- verify ------------------------------------------------------------------------------------


async def test_verify_the_right_code(wacr_sandbox: Sandbox, wacr_client: wacr.Client) -> None:
    await wacr_client.otp.send(PHONE, TEMPLATE, "493817")

    verified = await wacr_client.otp.verify(PHONE, "493817")

    assert isinstance(verified, OTPVerified)
    assert (verified.phone, verified.purpose) == (DIGITS, "authentication")
    assert verified.verified_at is not None and verified.verified_at.tzinfo is not None
    # A verified code is used up.
    with pytest.raises(wacr.OTPNotFoundError):
        await wacr_client.otp.verify(PHONE, "493817")


async def test_verify_a_wrong_code_counts_down_the_attempts(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    await wacr_client.otp.send(PHONE, TEMPLATE, "493817")

    remaining = []
    for _ in range(5):
        with pytest.raises(wacr.OTPInvalidCodeError) as caught:
            await wacr_client.otp.verify(PHONE, "000000")
        assert caught.value.reason == "INVALID_CODE"
        assert (caught.value.status, caught.value.code) == (422, "VALIDATION_ERROR")
        remaining.append(caught.value.attempts_remaining)
    assert remaining == [4, 3, 2, 1, 0]

    with pytest.raises(wacr.OTPMaxAttemptsError) as maxed:
        await wacr_client.otp.verify(PHONE, "493817")
    assert maxed.value.reason == "MAX_ATTEMPTS_EXCEEDED"
    # Failures are never retried: one request per call.
    assert wacr_sandbox.hits["POST /auth/verify"] == 6


async def test_verify_after_expiry(wacr_sandbox: Sandbox, wacr_client: wacr.Client) -> None:
    await wacr_client.otp.send(PHONE, TEMPLATE, "493817", expiry_minutes=2)
    wacr_sandbox.advance(2 * 60 + 1)

    with pytest.raises(wacr.OTPExpiredError) as caught:
        await wacr_client.otp.verify(PHONE, "493817")

    assert caught.value.reason == "OTP_EXPIRED"
    assert "expired_at" in caught.value.details
    assert isinstance(caught.value, wacr.OTPVerificationError)


async def test_verify_just_before_expiry(wacr_sandbox: Sandbox, wacr_client: wacr.Client) -> None:
    await wacr_client.otp.send(PHONE, TEMPLATE, "493817", expiry_minutes=2)
    wacr_sandbox.advance(2 * 60 - 5)

    verified = await wacr_client.otp.verify(PHONE, "493817")

    assert verified.phone == DIGITS


async def test_verify_without_an_active_code(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    with pytest.raises(wacr.OTPNotFoundError) as caught:
        await wacr_client.otp.verify(PHONE, "123456")

    assert caught.value.reason == "OTP_NOT_FOUND"


async def test_verify_needs_the_same_purpose(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    await wacr_client.otp.send(PHONE, TEMPLATE, "493817", purpose="login")

    with pytest.raises(wacr.OTPNotFoundError):
        await wacr_client.otp.verify(PHONE, "493817")
    verified = await wacr_client.otp.verify(PHONE, "493817", purpose="login")

    assert verified.purpose == "login"


async def test_a_new_send_replaces_the_code(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    await wacr_client.otp.send(PHONE, TEMPLATE, "111111")
    await wacr_client.otp.send(PHONE, TEMPLATE, "222222")

    with pytest.raises(wacr.OTPInvalidCodeError):
        await wacr_client.otp.verify(PHONE, "111111")
    await wacr_client.otp.verify(PHONE, "222222")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"phone": ""}, "phone"), ({"code": ""}, "code"), ({"purpose": "p" * 51}, "purpose")],
)
async def test_verify_local_checks_make_no_request(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client, kwargs: dict[str, Any], field: str
) -> None:
    arguments: dict[str, Any] = {"phone": PHONE, "code": "123456", **kwargs}
    with pytest.raises(wacr.ValidationError) as caught:
        await wacr_client.otp.verify(**arguments)

    assert caught.value.local is True
    assert not isinstance(caught.value, wacr.OTPVerificationError)
    assert field in caught.value.fields
    assert no_requests(wacr_sandbox)


# -- resend ------------------------------------------------------------------------------------


async def test_resend_replaces_the_code_with_a_server_generated_one(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    await wacr_client.otp.send(PHONE, TEMPLATE, "111111", purpose="login")

    again = await wacr_client.otp.resend(
        PHONE, TEMPLATE, language="en", expiry_minutes=3, purpose="login"
    )

    assert isinstance(again, OTPSent)
    assert (again.template_name, again.expiry_minutes, again.code_sent) == (TEMPLATE, 3, True)
    new_code = wacr_sandbox.otp_code(PHONE, purpose="login")
    assert new_code is not None and new_code != "111111" and len(new_code) == 6
    with pytest.raises(wacr.OTPInvalidCodeError):
        await wacr_client.otp.verify(PHONE, "111111", purpose="login")
    await wacr_client.otp.verify(PHONE, new_code, purpose="login")


# With the token's X-RateLimit-* headers on, as the real server sends them: they show the
# token still has budget, so the per-phone 429 holds only its own call.
@pytest.mark.wacr_sandbox(rate_limit=1000)
async def test_resend_is_limited_to_three_per_five_minutes(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    for _ in range(3):
        await wacr_client.otp.resend(PHONE, TEMPLATE)

    with pytest.raises(wacr.RateLimitError) as caught:
        await wacr_client.otp.resend(PHONE, TEMPLATE)

    # Raised at once (a 5-minute wait is the caller's decision), never sent twice.
    assert caught.value.status == 429
    assert caught.value.retry_after is not None and 0 < caught.value.retry_after <= 300
    assert wacr_sandbox.hits["POST /auth/resend"] == 4
    assert len(wacr_sandbox.sends) == 3

    async with asyncio.timeout(10):  # a guard against hanging, not a speed check
        await wacr_client.otp.resend("+15550002222", TEMPLATE)  # another phone is not held
        wacr_sandbox.advance(301)
        await wacr_client.otp.resend(PHONE, TEMPLATE)
    assert len(wacr_sandbox.sends) == 5


async def test_resend_with_an_unknown_template_is_not_found(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    with pytest.raises(wacr.NotFoundError):
        await wacr_client.otp.resend(PHONE, "no_such_template")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"phone": " "}, "phone"),
        ({"template_name": ""}, "template_name"),
        ({"language": "x" * 11}, "language"),
        ({"expiry_minutes": 0}, "expiry_minutes"),
        ({"expiry_minutes": 61}, "expiry_minutes"),
        ({"purpose": "p" * 51}, "purpose"),
    ],
)
async def test_resend_local_checks_make_no_request(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client, kwargs: dict[str, Any], field: str
) -> None:
    arguments: dict[str, Any] = {"phone": PHONE, "template_name": TEMPLATE, **kwargs}
    with pytest.raises(wacr.ValidationError) as caught:
        await wacr_client.otp.resend(**arguments)

    assert caught.value.local is True
    assert field in caught.value.fields
    assert no_requests(wacr_sandbox)


# -- status ------------------------------------------------------------------------------------


async def test_status_of_an_active_code_uses_no_attempt(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    await wacr_client.otp.send(PHONE, TEMPLATE, "493817")
    with pytest.raises(wacr.OTPInvalidCodeError):
        await wacr_client.otp.verify(PHONE, "000000")
    wacr_sandbox.advance(60)

    status = await wacr_client.otp.status(PHONE)
    again = await wacr_client.otp.status(PHONE)

    assert isinstance(status, OTPStatus)
    assert status.has_active_otp is True
    assert (status.verification_attempts, status.max_attempts, status.attempts_remaining) == (
        1,
        5,
        4,
    )
    assert again.attempts_remaining == 4
    assert status.is_expired is False
    assert status.expires_in_seconds == 540
    assert status.expires_at is not None and status.created_at is not None
    assert status.expires_at - status.created_at == timedelta(minutes=10)


async def test_status_of_an_expired_code(wacr_sandbox: Sandbox, wacr_client: wacr.Client) -> None:
    await wacr_client.otp.send(PHONE, TEMPLATE, "493817", expiry_minutes=1)
    wacr_sandbox.advance(90)

    status = await wacr_client.otp.status(PHONE)

    assert (status.has_active_otp, status.is_expired) == (True, True)
    assert status.expires_in_seconds == -30


async def test_status_without_a_code(wacr_sandbox: Sandbox, wacr_client: wacr.Client) -> None:
    await wacr_client.otp.send(PHONE, TEMPLATE, "493817", purpose="login")

    status = await wacr_client.otp.status(PHONE)

    assert status.has_active_otp is False
    assert status.message == "No active OTP found"
    assert status.expires_at is None and status.attempts_remaining is None
    assert (await wacr_client.otp.status(PHONE, purpose="login")).has_active_otp is True


@pytest.mark.parametrize(
    ("kwargs", "field"), [({"phone": ""}, "phone"), ({"purpose": "p" * 51}, "purpose")]
)
async def test_status_local_checks_make_no_request(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client, kwargs: dict[str, Any], field: str
) -> None:
    arguments: dict[str, Any] = {"phone": PHONE, **kwargs}
    with pytest.raises(wacr.ValidationError) as caught:
        await wacr_client.otp.status(**arguments)

    assert field in caught.value.fields
    assert no_requests(wacr_sandbox)


async def test_status_is_retried_after_a_server_error(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    # Read-only, so a 503 is safe to repeat (unlike verify).
    wacr_sandbox.faults.add("POST /auth/status", error_before=1.0, status_before=503, times=1)

    with wacr.testing.no_wait():
        status = await wacr_client.otp.status(PHONE)

    assert status.has_active_otp is False
    assert wacr_sandbox.hits["POST /auth/status"] == 2


async def test_verify_is_not_retried_after_a_server_error(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    await wacr_client.otp.send(PHONE, TEMPLATE, "493817")
    wacr_sandbox.faults.add("POST /auth/verify", error_after=1.0, times=1)

    with wacr.testing.no_wait(), pytest.raises(wacr.InternalServerError):
        await wacr_client.otp.verify(PHONE, "000000")

    assert wacr_sandbox.hits["POST /auth/verify"] == 1


# -- authentication templates ------------------------------------------------------------------


async def test_templates_lists_approved_authentication_templates(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    wacr_sandbox.add_template("pending_otp", category="AUTHENTICATION", status="PENDING")

    templates = await wacr_client.otp.templates().collect()

    assert all(isinstance(t, AuthTemplate) for t in templates)
    assert [(t.template_name, t.language) for t in templates] == [
        ("login_code", "en"),
        ("otp_verification", "en"),
        ("otp_verification", "es"),
    ]
    login = templates[0]
    assert login.body_text == "Your login code is {{1}}. It expires in {{2}} minutes."
    assert (login.body_params_count, login.header_format, login.status) == (2, "NONE", "APPROVED")
    assert login.created_at is not None and login.created_at.tzinfo is not None


async def test_templates_search_filter_sort_and_pages(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    spanish = await wacr_client.otp.templates(filter={"language": "es"}).collect()
    assert [t.language for t in spanish] == ["es"]

    found = await wacr_client.otp.templates(search="login").collect()
    assert [t.template_name for t in found] == ["login_code"]

    by_language = await wacr_client.otp.templates(sort=["-language", "template_name"]).collect()
    assert [(t.language, t.template_name) for t in by_language] == [
        ("es", "otp_verification"),
        ("en", "login_code"),
        ("en", "otp_verification"),
    ]

    pages = [page async for page in wacr_client.otp.templates(per_page=2).pages()]
    assert [len(page.items) for page in pages] == [2, 1]


async def test_templates_needs_the_templates_read_scope(wacr_sandbox: Sandbox) -> None:
    wacr_sandbox.add_token("wm_sender", {"messages:send"})
    async with wacr_sandbox.client(token="wm_sender") as client:
        pager = client.otp.templates()
        assert no_requests(wacr_sandbox)
        with pytest.raises(wacr.InsufficientScopeError):
            await pager.collect()
