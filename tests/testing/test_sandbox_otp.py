"""The OTP state machine, on the sandbox clock."""

from __future__ import annotations

import re
from typing import Any

from wacr_async.testing import Sandbox

PHONE = "+919999999999"
DIGITS = "919999999999"


async def send(api: Any, **overrides: Any) -> Any:
    body = {"phone": PHONE, "template_name": "otp_verification", "code": "493817", **overrides}
    return await api.post("/auth/send-otp", body)


async def verify(api: Any, code: str, **overrides: Any) -> Any:
    return await api.post("/auth/verify", {"phone": PHONE, "code": code, **overrides})


async def test_send_and_verify(api: Any, sandbox: Sandbox) -> None:
    reply = await send(api)
    assert reply.status == 200
    assert reply.body["message"] == (
        "Authentication code sent successfully. Please verify using /auth/verify endpoint."
    )
    data = reply.data
    assert data["phone"] == DIGITS
    assert data["template_name"] == "otp_verification"
    assert data["language"] == "en"
    assert data["code_sent"] is True
    assert data["expiry_minutes"] == 10
    assert data["status"] == "sent"
    assert data["message_id"].startswith("wamid.")
    assert "493817" not in str(data)  # the code is never echoed
    # OTP endpoints create contacts with the bare digits as phone.
    contact = (await api.get(f"/contacts/{data['contact_id']}")).data
    assert contact["phone"] == DIGITS
    assert sandbox.otp_code(PHONE) == "493817"
    assert sandbox.sends[-1].kind == "otp"

    wrong = await verify(api, "000000")
    assert wrong.status == 422
    assert wrong.code == "VALIDATION_ERROR"
    assert wrong.error["details"]["error_code"] == "INVALID_CODE"
    assert wrong.error["details"]["attempts_remaining"] == 4

    right = await verify(api, "493817")
    assert right.status == 200
    assert right.body["message"] == "OTP verified successfully"
    assert right.data["phone"] == DIGITS
    assert right.data["purpose"] == "authentication"
    assert re.fullmatch(r"\d{4}-.*\+00:00", right.data["verified_at"])

    again = await verify(api, "493817")
    assert again.error["details"]["error_code"] == "OTP_NOT_FOUND"


async def test_template_lookup_errors(api: Any, sandbox: Sandbox) -> None:
    missing = await send(api, template_name="nope")
    assert missing.status == 404
    assert missing.code == "RESOURCE_NOT_FOUND"
    assert missing.error["details"] == {"template_name": "nope", "language": "en"}
    wrong_language = await send(api, language="fr")
    assert wrong_language.code == "RESOURCE_NOT_FOUND"
    spanish = await send(api, language="es")
    assert spanish.status == 200
    wrong_category = await send(api, template_name="order_update")
    assert wrong_category.status == 422
    assert wrong_category.error["details"] == {
        "template_name": "order_update",
        "actual_category": "UTILITY",
        "required_category": "AUTHENTICATION",
    }
    invalid = await api.post("/auth/send-otp", {"phone": "12", "expiry_minutes": 61})
    assert invalid.error["details"] == {
        "phone": ["Phone number must be at least 10 digits."],
        "template_name": ["Template name is required."],
        "code": ["Authentication code is required."],
        "expiry_minutes": ["The expiry minutes field must not be greater than 60."],
    }
    bad_contact = await send(api, contact_id=77)
    assert bad_contact.error["details"] == {"contact_id": ["The selected contact id is invalid."]}


async def test_send_refusals(api: Any, sandbox: Sandbox) -> None:
    sandbox.plan.features["whatsapp_templates"] = False
    refused = await send(api)
    assert (refused.status, refused.code) == (403, "FEATURE_NOT_AVAILABLE")
    sandbox.plan.features["whatsapp_templates"] = True
    sandbox.whatsapp_configured = False
    assert (await send(api)).code == "WHATSAPP_NOT_CONFIGURED"
    sandbox.whatsapp_configured = True
    sandbox.opt_out(DIGITS)  # the contact created (bare digits) by the refused sends
    assert (await send(api)).code == "CONTACT_OPTED_OUT"
    sandbox.plan.contacts = 1
    limited = await send(api, phone="+15550001234")
    assert limited.status == 403
    assert limited.error["details"] == {"feature": "contacts", "current": 1, "maximum": 1}
    assert sandbox.sends == []


async def test_expiry_and_attempts(api: Any, sandbox: Sandbox) -> None:
    await send(api, expiry_minutes=5)
    sandbox.clock.advance(5 * 60 + 1)
    expired = await verify(api, "493817")
    details = expired.error["details"]
    assert details["error_code"] == "OTP_EXPIRED"
    assert re.fullmatch(r"\d{4}-.*\+00:00", details["expired_at"])

    await send(api)  # a new send replaces the expired one
    for remaining in (4, 3, 2, 1, 0):
        wrong = await verify(api, "111111")
        assert wrong.error["details"]["attempts_remaining"] == remaining
    exhausted = await verify(api, "493817")
    assert exhausted.error["details"]["error_code"] == "MAX_ATTEMPTS_EXCEEDED"
    assert exhausted.error["details"]["attempts_remaining"] == 0


async def test_purpose_must_match(api: Any) -> None:
    await send(api, purpose="password_reset")
    assert (await verify(api, "493817")).error["details"]["error_code"] == "OTP_NOT_FOUND"
    assert (await verify(api, "493817", purpose="password_reset")).status == 200


async def test_verify_rate_limit(api: Any, sandbox: Sandbox) -> None:
    await send(api)
    for _ in range(10):
        assert (await verify(api, "000000")).status == 422
    limited = await verify(api, "493817")
    assert limited.status == 429
    assert limited.code == "RATE_LIMIT_EXCEEDED"
    assert limited.error["details"]["retry_after"] == 60
    assert limited.body["meta"]["retry_after"] == 60
    sandbox.clock.advance(61)
    # The window reopened; the OTP itself is spent (5 attempts) by then.
    reopened = await verify(api, "493817")
    assert reopened.error["details"]["error_code"] == "MAX_ATTEMPTS_EXCEEDED"
    missing = await api.post("/auth/verify", {})
    assert missing.error["details"] == {
        "phone": ["Phone number is required."],
        "code": ["Verification code is required."],
    }


async def test_successful_verify_clears_the_limiter(api: Any) -> None:
    await send(api)
    for _ in range(4):
        await verify(api, "000000")
    assert (await verify(api, "493817")).status == 200  # 5 hits, then cleared
    await send(api)
    statuses = [(await verify(api, "000000")).status for _ in range(10)]
    assert statuses == [422] * 10  # without the clear the 6th would be a 429
    assert (await verify(api, "000000")).status == 429


async def test_resend(api: Any, sandbox: Sandbox) -> None:
    await send(api)
    body = {"phone": PHONE, "template_name": "otp_verification", "language": "en",
            "expiry_minutes": 10, "purpose": "authentication"}  # fmt: skip
    first = await api.post("/auth/resend", body)
    assert first.status == 200
    assert first.data["code_sent"] is True
    new_code = sandbox.otp_code(PHONE)
    assert new_code is not None
    assert re.fullmatch(r"\d{6}", new_code)
    assert sandbox.otp_code(PHONE, "authentication") == new_code
    # The previous code is invalidated.
    if new_code != "493817":
        assert (await verify(api, "493817")).error["details"]["error_code"] == "INVALID_CODE"
    assert (await verify(api, new_code)).status == 200

    assert (await api.post("/auth/resend", body)).status == 200
    assert (await api.post("/auth/resend", body)).status == 200
    limited = await api.post("/auth/resend", body)
    assert limited.status == 429
    assert limited.error["message"].startswith("Too many resend attempts")
    assert 0 < limited.error["details"]["retry_after"] <= 300
    sandbox.clock.advance(301)
    assert (await api.post("/auth/resend", body)).status == 200
    invalid = await api.post("/auth/resend", {})
    assert invalid.error["details"] == {
        "phone": ["Phone number is required."],
        "template_name": ["Template name is required."],
    }


async def test_status(api: Any, sandbox: Sandbox) -> None:
    none = await api.post("/auth/status", {"phone": PHONE})
    assert none.status == 200
    assert none.body["message"] == "OTP status checked"
    assert none.data == {"has_active_otp": False, "message": "No active OTP found"}

    await send(api)
    await verify(api, "000000")
    status = await api.post("/auth/status", {"phone": PHONE})
    assert status.body["message"] == "OTP status retrieved successfully"
    data = status.data
    assert data["has_active_otp"] is True
    assert data["is_expired"] is False
    assert 595 <= data["expires_in_seconds"] <= 600
    assert data["verification_attempts"] == 1
    assert data["max_attempts"] == 5
    assert data["attempts_remaining"] == 4
    assert {"expires_at", "created_at"} <= set(data)
    # Read-only: asking does not count an attempt.
    again = await api.post("/auth/status", {"phone": PHONE})
    assert again.data["verification_attempts"] == 1
    sandbox.clock.advance(700)
    expired = await api.post("/auth/status", {"phone": PHONE})
    assert expired.data["is_expired"] is True
    assert expired.data["expires_in_seconds"] < 0
    other = await api.post("/auth/status", {"phone": PHONE, "purpose": "other"})
    assert other.data["has_active_otp"] is False
    assert (await api.post("/auth/status", {})).status == 422


async def test_two_parameter_template_gets_code_and_expiry(api: Any, sandbox: Sandbox) -> None:
    reply = await send(api, template_name="login_code", code="246810", expiry_minutes=7)
    assert reply.status == 200
    message = (await api.get("/messages")).data[0]["message"]
    assert message == "Your login code is 246810. It expires in 7 minutes."


async def test_list_authentication_templates(api: Any) -> None:
    reply = await api.get("/auth/templates")
    assert reply.status == 200
    names = [(item["template_name"], item["language"]) for item in reply.data]
    assert names == [("login_code", "en"), ("otp_verification", "en"), ("otp_verification", "es")]
    item = reply.data[1]
    assert set(item) == {
        "id", "template_name", "language", "body_text", "body_params_count", "header_format",
        "header_text", "footer_text", "status", "created_at",
    }  # fmt: skip
    assert item["status"] == "APPROVED"
    assert item["header_format"] == "NONE"
    assert item["body_params_count"] == 1
    spanish = await api.get("/auth/templates?filter[language]=es")
    assert [item["language"] for item in spanish.data] == ["es"]
    searched = await api.get("/auth/templates?search=expires")
    assert [item["template_name"] for item in searched.data] == ["login_code"]
    by_name = await api.get("/auth/templates?filter[template_name]=login_code")
    assert len(by_name.data) == 1
    descending = await api.get("/auth/templates?sort=-language,template_name")
    assert [item["language"] for item in descending.data] == ["es", "en", "en"]
