"""The OTP state machine (§3): send, verify, resend, status.

One OTP per phone + purpose (a new send replaces it), a lifetime of ``expiry_minutes``, at
most 5 checks. A failed verification is 422 ``VALIDATION_ERROR`` with the sub-code in
``error.details.error_code``: ``OTP_NOT_FOUND``, ``OTP_EXPIRED`` (with ``expired_at``),
``MAX_ATTEMPTS_EXCEEDED``, ``INVALID_CODE`` (with ``attempts_remaining``). Verify is limited
to 10 calls a minute and resend to 3 per 5 minutes per phone; both limiters and expiry run
on the sandbox clock, so tests move time with ``sandbox.clock.advance()``.
"""

from __future__ import annotations

import secrets
from typing import Any

from aiohttp import web

from ._clock import iso
from ._envelope import ApiError, ok
from ._input import read_input
from ._phones import digits_of
from ._sending import (
    PHONE_MESSAGES,
    PHONE_PATTERN,
    PHONE_REQUIRED,
    TEMPLATE_NAME_REQUIRED,
    deliver,
    existing_contact_id,
    preflight,
    resolve_contact,
)
from ._state import Otp, State
from ._templates import render
from ._validation import Validator, need

__all__ = ["otp_status", "resend_otp", "send_otp", "verify_otp"]

MAX_ATTEMPTS = 5
DEFAULT_PURPOSE = "authentication"

_SEND_MESSAGES = {
    **PHONE_MESSAGES,
    **TEMPLATE_NAME_REQUIRED,
    "code.required": "Authentication code is required.",
}


def _too_many(what: str, seconds: int) -> ApiError:
    return ApiError(
        429,
        "RATE_LIMIT_EXCEEDED",
        f"Too many {what} attempts. Please try again in {seconds} seconds.",
        {"retry_after": seconds},
        meta={"retry_after": seconds},
    )


async def send_otp(state: State, request: web.Request) -> web.Response:
    return _send(state, request, await read_input(request))


def _send(state: State, request: web.Request, body: dict[str, Any]) -> web.Response:
    v = Validator(body, _SEND_MESSAGES)
    phone = v.string("phone", required=True, min=10, max=20, regex=PHONE_PATTERN)
    name = v.string("template_name", required=True)
    language = v.string("language", max=10) or "en"
    code = v.string("code", required=True)
    expiry = v.integer("expiry_minutes", min=1, max=60) or 10
    contact_id = existing_contact_id(v, state)
    purpose = v.string("purpose", max=50) or DEFAULT_PURPOSE
    v.check()
    name, code = need(name), need(code)
    digits = digits_of(need(phone))

    template = state.find_template(name, language)
    if template is None:
        raise ApiError(
            404,
            "RESOURCE_NOT_FOUND",
            f"Authentication template '{name}' not found or not approved",
            {"template_name": name, "language": language},
        )
    if template["category"] != "AUTHENTICATION":
        raise ApiError(
            422,
            "VALIDATION_ERROR",
            "Template must be of type AUTHENTICATION to use this endpoint",
            {
                "template_name": name,
                "actual_category": template["category"],
                "required_category": "AUTHENTICATION",
            },
        )
    # The OTP endpoints look contacts up (and create them) by the bare digits.
    contact = resolve_contact(state, digits, contact_id, stored_phone=digits)
    preflight(state, contact, digits, template=True)

    count = template["body_params_count"]
    params: list[str] = [code, str(expiry)] if count >= 2 else [code]
    extra = body.get("additional_params")
    if isinstance(extra, list):
        params.extend(str(item) for item in extra)
    elif isinstance(extra, dict):
        params.extend(str(item) for item in extra.values())
    params = params[:count]

    now = state.clock.time()
    otp = Otp(
        phone=digits,
        purpose=purpose,
        code=code,
        template_name=name,
        expiry_minutes=expiry,
        created_at=now,
        expires_at=now + expiry * 60,
        contact_id=contact["id"],
        max_attempts=MAX_ATTEMPTS,
    )
    state.otps[(digits, purpose)] = otp  # replaces any earlier OTP for this phone + purpose
    state.codes_sent[digits] = code
    content = {"template": name, "language": language, "purpose": purpose, "code": code}
    sent = deliver(
        state,
        request,
        kind="otp",
        digits=digits,
        contact=contact,
        message_type="template",
        text=render(template["body_data"], params),
        content=content,
        payload={**content, "expiry_minutes": expiry},
    )
    data = {
        **sent.common(),
        "template_name": name,
        "language": language,
        "code_sent": True,
        "expiry_minutes": expiry,
        "expires_at": iso(otp.expires_at),
        "status": "sent",
        "sent_at": sent.row["sent_at"],
    }
    return ok(
        state.clock,
        data,
        "Authentication code sent successfully. Please verify using /auth/verify endpoint.",
    )


def _verification_failed(error_code: str, message: str, **extra: Any) -> ApiError:
    details = {"error_code": error_code, "success": False, "message": message, **extra}
    return ApiError(422, "VALIDATION_ERROR", message, details)


async def verify_otp(state: State, request: web.Request) -> web.Response:
    body = await read_input(request)
    v = Validator(
        body,
        {**PHONE_REQUIRED, "code.required": "Verification code is required."},
    )
    phone = v.string("phone", required=True)
    code = v.string("code", required=True)
    purpose = v.string("purpose", max=50) or DEFAULT_PURPOSE
    v.check()
    code = need(code)
    digits = digits_of(need(phone))
    key = f"otp-verify:{state.account['id']}:{digits}"
    decision = state.otp_verify_limiter.hit(key)
    if not decision.allowed:
        raise _too_many("verification", decision.retry_after)

    otp = state.otps.get((digits, purpose))
    now = state.clock.time()
    if otp is None or otp.verified_at is not None:
        raise _verification_failed("OTP_NOT_FOUND", "No active OTP found for this phone number.")
    if now >= otp.expires_at:
        raise _verification_failed(
            "OTP_EXPIRED",
            "OTP has expired. Please request a new one.",
            expired_at=iso(otp.expires_at),
        )
    if otp.attempts >= otp.max_attempts:
        raise _verification_failed(
            "MAX_ATTEMPTS_EXCEEDED",
            "Maximum verification attempts exceeded. Please request a new OTP.",
            attempts_remaining=0,
        )
    otp.attempts += 1  # every check that reaches the comparison costs an attempt
    if not secrets.compare_digest(otp.code, code):
        raise _verification_failed(
            "INVALID_CODE", "Invalid OTP code.", attempts_remaining=otp.max_attempts - otp.attempts
        )
    otp.verified_at = now
    state.otp_verify_limiter.clear(key)
    data = {"phone": otp.phone, "purpose": otp.purpose, "verified_at": iso(now)}
    return ok(state.clock, data, "OTP verified successfully")


async def resend_otp(state: State, request: web.Request) -> web.Response:
    body = await read_input(request)
    v = Validator(
        body,
        {**PHONE_REQUIRED, **TEMPLATE_NAME_REQUIRED},
    )
    phone = v.string("phone", required=True)
    v.string("template_name", required=True)
    v.string("language", max=10)
    v.string("purpose", max=50)
    v.integer("expiry_minutes", min=1, max=60)
    v.check()
    digits = digits_of(need(phone))
    decision = state.otp_resend_limiter.hit(f"otp-resend:{state.account['id']}:{digits}")
    if not decision.allowed:
        raise _too_many("resend", decision.retry_after)
    code = f"{secrets.randbelow(1_000_000):06d}"
    return _send(state, request, {**body, "code": code, "phone": digits})


async def otp_status(state: State, request: web.Request) -> web.Response:
    body = await read_input(request)
    v = Validator(body, PHONE_REQUIRED)
    phone = v.string("phone", required=True)
    purpose = v.string("purpose", max=50) or DEFAULT_PURPOSE
    v.check()
    otp = state.otps.get((digits_of(need(phone)), purpose))
    if otp is None or otp.verified_at is not None:
        data: dict[str, Any] = {"has_active_otp": False, "message": "No active OTP found"}
        return ok(state.clock, data, "OTP status checked")
    now = state.clock.time()
    data = {
        "has_active_otp": True,
        "expires_at": iso(otp.expires_at),
        "expires_in_seconds": round(otp.expires_at - now),
        "is_expired": now >= otp.expires_at,
        "verification_attempts": otp.attempts,
        "max_attempts": otp.max_attempts,
        "attempts_remaining": max(0, otp.max_attempts - otp.attempts),
        "created_at": iso(otp.created_at),
    }
    return ok(state.clock, data, "OTP status retrieved successfully")
