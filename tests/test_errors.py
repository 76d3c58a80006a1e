"""Error mapping: code first, status second, and bodies that are not the envelope."""

from __future__ import annotations

import json

import pytest

import wacr_async as wacr
from wacr_async.errors import error_from_response, parse_retry_after


def envelope(code: str, message: str = "boom", details: object = None) -> bytes:
    error: dict[str, object] = {"code": code, "message": message}
    if details is not None:
        error["details"] = details
    return json.dumps(
        {"success": False, "error": error, "meta": {"request_id": "req-1", "timestamp": "x"}}
    ).encode()


# Every code in REFERENCE §1.5 (documented and inferred) with its documented status.
CODE_TABLE = [
    (401, "UNAUTHORIZED", wacr.AuthenticationError),
    (401, "AUTHENTICATION_REQUIRED", wacr.AuthenticationError),
    (401, "INVALID_TOKEN", wacr.AuthenticationError),
    (401, "TOKEN_EXPIRED", wacr.AuthenticationError),
    (401, "TOKEN_REVOKED", wacr.AuthenticationError),
    (403, "IP_NOT_WHITELISTED", wacr.IPNotWhitelistedError),
    (403, "INSUFFICIENT_SCOPE", wacr.InsufficientScopeError),
    (403, "FEATURE_LIMIT_EXCEEDED", wacr.FeatureLimitExceededError),
    (403, "CONTACT_OPTED_OUT", wacr.ContactOptedOutError),
    (403, "FEATURE_NOT_AVAILABLE", wacr.FeatureNotAvailableError),
    (404, "NOT_FOUND", wacr.NotFoundError),
    (404, "RESOURCE_NOT_FOUND", wacr.NotFoundError),
    (404, "TEMPLATE_NOT_FOUND", wacr.TemplateNotFoundError),
    (409, "RESOURCE_CONFLICT", wacr.ResourceConflictError),
    (409, "DUPLICATE_RESOURCE", wacr.DuplicateResourceError),
    (400, "INVALID_REQUEST", wacr.BadRequestError),
    (400, "INVALID_PARAMETER", wacr.BadRequestError),
    (422, "VALIDATION_ERROR", wacr.ValidationError),
    (422, "MISSING_REQUIRED_FIELD", wacr.ValidationError),
    (422, "INVALID_PHONE_NUMBER", wacr.ValidationError),
    (422, "INVALID_MEDIA_TYPE", wacr.ValidationError),
    (422, "WHATSAPP_NOT_CONFIGURED", wacr.WhatsAppNotConfiguredError),
    (429, "RATE_LIMIT_EXCEEDED", wacr.RateLimitError),
    (500, "MESSAGE_SEND_FAILED", wacr.MessageSendFailedError),
    (500, "INTERNAL_ERROR", wacr.InternalServerError),
    (500, "WHATSAPP_API_ERROR", wacr.WhatsAppAPIError),
    (500, "DATABASE_ERROR", wacr.InternalServerError),
    (503, "SERVICE_UNAVAILABLE", wacr.ServiceUnavailableError),
]


@pytest.mark.parametrize(("status", "code", "cls"), CODE_TABLE)
def test_every_code_maps_to_its_class(status: int, code: str, cls: type[wacr.APIError]) -> None:
    exc = error_from_response(status, envelope(code, "it failed"))
    assert type(exc) is cls
    assert exc.status == status
    assert exc.code == code
    assert exc.message == "it failed"
    assert exc.request_id == "req-1"
    assert isinstance(exc, wacr.WacrError)


@pytest.mark.parametrize(
    ("subcode", "cls"),
    [
        ("OTP_NOT_FOUND", wacr.OTPNotFoundError),
        ("MAX_ATTEMPTS_EXCEEDED", wacr.OTPMaxAttemptsError),
        ("OTP_EXPIRED", wacr.OTPExpiredError),
        ("INVALID_CODE", wacr.OTPInvalidCodeError),
    ],
)
def test_otp_subcodes_in_details_and_as_codes(subcode: str, cls: type[wacr.APIError]) -> None:
    nested = error_from_response(422, envelope("VALIDATION_ERROR", details={"error_code": subcode}))
    flat = error_from_response(422, envelope(subcode))
    for exc in (nested, flat):
        assert type(exc) is cls
        assert isinstance(exc, wacr.OTPVerificationError)
        assert isinstance(exc, wacr.ValidationError)
        assert exc.reason == subcode  # type: ignore[attr-defined]  # narrowed by the assert above


def test_invalid_code_carries_attempts_remaining() -> None:
    exc = error_from_response(
        422,
        envelope(
            "VALIDATION_ERROR", details={"error_code": "INVALID_CODE", "attempts_remaining": 3}
        ),
    )
    assert isinstance(exc, wacr.OTPInvalidCodeError)
    assert exc.attempts_remaining == 3


def test_feature_limit_details() -> None:
    exc = error_from_response(
        403,
        envelope(
            "FEATURE_LIMIT_EXCEEDED",
            details={"feature": "contacts", "current": 100, "maximum": 100},
        ),
    )
    assert isinstance(exc, wacr.FeatureLimitExceededError)
    assert (exc.feature, exc.current, exc.maximum) == ("contacts", 100, 100)


def test_validation_fields_plain_and_nested_under_errors() -> None:
    plain = error_from_response(
        422, envelope("VALIDATION_ERROR", "Validation failed", {"phone": ["Phone is required"]})
    )
    nested = error_from_response(
        422,
        envelope("VALIDATION_ERROR", "Validation failed", {"errors": {"message": ["Too long"]}}),
    )
    assert isinstance(plain, wacr.ValidationError)
    assert isinstance(nested, wacr.ValidationError)
    assert plain.fields == {"phone": ["Phone is required"]}
    assert nested.fields == {"message": ["Too long"]}
    assert plain.local is False


def test_validation_fields_leave_out_empty_lists_and_summaries() -> None:
    exc = error_from_response(
        422,
        envelope(
            "VALIDATION_ERROR",
            "Batch failed",
            {"skipped": [], "total": 2, "phone": ["Phone is required"]},
        ),
    )
    assert isinstance(exc, wacr.ValidationError)
    assert exc.fields == {"phone": ["Phone is required"]}


@pytest.mark.parametrize(
    ("status", "code", "cls"),
    [
        (403, "SOMETHING_NEW", wacr.PermissionDeniedError),
        (404, "GONE_FISHING", wacr.NotFoundError),
        (422, "NEW_RULE", wacr.UnprocessableEntityError),
        (502, "UPSTREAM", wacr.ServerError),
        (503, "MAINTENANCE", wacr.ServiceUnavailableError),
        (418, "TEAPOT", wacr.APIError),
        (401, "SOMETHING_ELSE", wacr.AuthenticationError),
    ],
)
def test_unknown_codes_fall_back_by_status(
    status: int, code: str, cls: type[wacr.APIError]
) -> None:
    exc = error_from_response(status, envelope(code))
    assert type(exc) is cls
    assert exc.code == code


def test_auth_code_on_403_is_a_permission_error() -> None:
    # One server build answers the UNAUTHORIZED code with 403.
    exc = error_from_response(403, envelope("UNAUTHORIZED"))
    assert type(exc) is wacr.PermissionDeniedError


def test_html_from_a_proxy() -> None:
    body = b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
    exc = error_from_response(502, body)
    assert type(exc) is wacr.ServerError
    assert exc.status == 502
    assert exc.code is None
    assert exc.body_snippet is not None and "502 Bad Gateway" in exc.body_snippet
    assert "502 Bad Gateway" in str(exc)


def test_send_media_non_envelope_body() -> None:
    body = b'{"status":"error","message":"The media file must be a file of type: jpg, png."}'
    exc = error_from_response(422, body)
    assert type(exc) is wacr.ValidationError
    assert exc.message == "The media file must be a file of type: jpg, png."
    assert exc.body_snippet is not None and "status" in exc.body_snippet


@pytest.mark.parametrize("body", [b"", b"{not json", b"null", b"[1, 2]", b'"text"'])
def test_empty_and_broken_bodies(body: bytes) -> None:
    exc = error_from_response(500, body)
    assert isinstance(exc, wacr.ServerError)
    assert exc.status == 500
    assert str(exc)  # always a readable message


def test_long_bodies_are_cut() -> None:
    exc = error_from_response(500, b"x" * 10_000)
    assert exc.body_snippet is not None
    assert len(exc.body_snippet) <= 201


def test_retry_after_from_header_and_body() -> None:
    body = json.dumps(
        {
            "success": False,
            "error": {"code": "RATE_LIMIT_EXCEEDED", "message": "Too many requests."},
            "meta": {"retry_after": 17},
        }
    ).encode()
    assert error_from_response(429, body).retry_after == 17
    assert error_from_response(429, body, {"Retry-After": "5"}).retry_after == 5


def test_parse_retry_after_forms() -> None:
    assert parse_retry_after("12") == 12
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("-3") is None
    assert parse_retry_after("Wed, 21 Oct 2026 07:28:10 GMT", now=1792567680.0) == 10.0
    assert parse_retry_after("Wed, 21 Oct 2026 07:28:00 GMT", now=1792567690.0) == 0.0


def test_local_validation_error_shape() -> None:
    exc = wacr.ValidationError.for_field("phone", "phone is required")
    assert exc.local is True
    assert exc.status == 422
    assert exc.code == "VALIDATION_ERROR"
    assert exc.fields == {"phone": ["phone is required"]}


def test_request_info_masks_phone_numbers_in_text() -> None:
    info = wacr.errors.RequestInfo("POST", "/comments/919876543210")
    assert "919876543210" not in str(info)
    assert "919876543210" not in repr(info)
    assert str(info).endswith("3210")
    assert info.path == "/comments/919876543210"


@pytest.mark.parametrize("status", [500, 502, 503])
def test_a_rate_limit_code_on_a_5xx_is_a_server_error_and_never_retried_for_sends(
    status: int,
) -> None:
    from wacr_async._retry import is_retryable

    exc = error_from_response(status, envelope("RATE_LIMIT_EXCEEDED", "upstream throttled"))

    assert not isinstance(exc, wacr.RateLimitError)
    assert isinstance(exc, wacr.ServerError)
    assert exc.code == "RATE_LIMIT_EXCEEDED"
    assert not is_retryable(exc, "unsafe")


@pytest.mark.parametrize("value", ["NaN", "inf", -5, "soon"])
def test_unusable_retry_after_values_in_the_body_are_ignored(value: object) -> None:
    body = json.dumps(
        {
            "success": False,
            "error": {"code": "RATE_LIMIT_EXCEEDED", "message": "slow down"},
            "meta": {"retry_after": value},
        }
    ).encode()
    exc = error_from_response(429, body)
    assert isinstance(exc, wacr.RateLimitError)
    assert exc.retry_after is None


def test_the_otp_limiters_wait_is_read_from_the_details() -> None:
    exc = error_from_response(
        429, envelope("RATE_LIMIT_EXCEEDED", "Too many OTP requests", {"retry_after": 287})
    )
    assert isinstance(exc, wacr.RateLimitError)
    assert exc.retry_after == 287


def test_the_message_of_an_api_error_names_the_first_field_errors() -> None:
    body = (
        b'{"success": false, "error": {"code": "VALIDATION_ERROR", "message": "Validation failed",'
        b' "details": {"errors": {"template_fields": ["field_2 is required"],'
        b' "phone": ["The phone must be at least 10 digits."]}}},'
        b' "meta": {"request_id": "r-1"}}'
    )
    text = str(error_from_response(422, body))
    assert text.startswith("422 VALIDATION_ERROR: Validation failed")
    assert "template_fields: field_2 is required" in text
    assert "phone: The phone must be at least 10 digits." in text
    assert text.endswith("(request_id=r-1)")


def test_field_errors_in_a_message_are_bounded() -> None:
    details = {f"field_{n}": ["x" * 200] for n in range(10)}
    exc = wacr.ValidationError("Validation failed", details=details)
    text = str(exc)
    assert "field_0" in text and "field_3" not in text
    assert len(text) < 300


def test_a_send_failure_shows_what_whatsapp_said() -> None:
    body = (
        b'{"success": false, "error": {"code": "MESSAGE_SEND_FAILED",'
        b' "message": "Failed to send message",'
        b' "details": {"error": "(#131026) Message Undeliverable."}}}'
    )
    assert "(#131026) Message Undeliverable." in str(error_from_response(500, body))


def test_a_local_field_error_is_not_repeated() -> None:
    exc = wacr.ValidationError.for_field("phone", "must be digits")
    assert str(exc) == "422 VALIDATION_ERROR: phone: must be digits"
