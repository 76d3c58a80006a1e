"""Reading an error answer: from status, headers and body to the typed error.

Mapping goes by ``error.code`` first, then by HTTP status, so an unknown code still lands on
the right status class; a body that is not the API's envelope still gives a typed error.
"""

from __future__ import annotations

import email.utils
import json
import math
import time
from collections.abc import Mapping
from typing import Any

from ._types import (
    APIError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    ContactOptedOutError,
    DuplicateResourceError,
    FeatureLimitExceededError,
    FeatureNotAvailableError,
    InsufficientScopeError,
    InternalServerError,
    IPNotWhitelistedError,
    MessageSendFailedError,
    NotFoundError,
    OTPExpiredError,
    OTPInvalidCodeError,
    OTPMaxAttemptsError,
    OTPNotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RedirectError,
    ResourceConflictError,
    ServerError,
    ServiceUnavailableError,
    TemplateNotFoundError,
    UnprocessableEntityError,
    ValidationError,
    WhatsAppAPIError,
    WhatsAppNotConfiguredError,
    snippet,
)

__all__ = ["error_from_response", "parse_retry_after"]


_BY_CODE: dict[str, type[APIError]] = {
    "INVALID_REQUEST": BadRequestError,
    "INVALID_PARAMETER": BadRequestError,
    "UNAUTHORIZED": AuthenticationError,
    "AUTHENTICATION_REQUIRED": AuthenticationError,
    "INVALID_TOKEN": AuthenticationError,
    "TOKEN_EXPIRED": AuthenticationError,
    "TOKEN_REVOKED": AuthenticationError,
    "INSUFFICIENT_SCOPE": InsufficientScopeError,
    "FEATURE_LIMIT_EXCEEDED": FeatureLimitExceededError,
    "FEATURE_NOT_AVAILABLE": FeatureNotAvailableError,
    "CONTACT_OPTED_OUT": ContactOptedOutError,
    "IP_NOT_WHITELISTED": IPNotWhitelistedError,
    "NOT_FOUND": NotFoundError,
    "RESOURCE_NOT_FOUND": NotFoundError,
    "TEMPLATE_NOT_FOUND": TemplateNotFoundError,
    "RESOURCE_CONFLICT": ResourceConflictError,
    "DUPLICATE_RESOURCE": DuplicateResourceError,
    "VALIDATION_ERROR": ValidationError,
    "MISSING_REQUIRED_FIELD": ValidationError,
    "INVALID_PHONE_NUMBER": ValidationError,
    "INVALID_MEDIA_TYPE": ValidationError,
    "OTP_NOT_FOUND": OTPNotFoundError,
    "MAX_ATTEMPTS_EXCEEDED": OTPMaxAttemptsError,
    "OTP_EXPIRED": OTPExpiredError,
    "INVALID_CODE": OTPInvalidCodeError,
    "WHATSAPP_NOT_CONFIGURED": WhatsAppNotConfiguredError,
    "RATE_LIMIT_EXCEEDED": RateLimitError,
    "INTERNAL_ERROR": InternalServerError,
    "DATABASE_ERROR": InternalServerError,
    "MESSAGE_SEND_FAILED": MessageSendFailedError,
    "WHATSAPP_API_ERROR": WhatsAppAPIError,
    "SERVICE_UNAVAILABLE": ServiceUnavailableError,
}

_BY_STATUS: dict[int, type[APIError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
    503: ServiceUnavailableError,
}

# The OTP sub-code travels in error.details.error_code under a VALIDATION_ERROR.
_OTP_SUBCODES = frozenset({"OTP_NOT_FOUND", "MAX_ATTEMPTS_EXCEEDED", "OTP_EXPIRED", "INVALID_CODE"})


def _class_for(status: int, code: str | None, details: Mapping[str, Any]) -> type[APIError]:
    sub = details.get("error_code")
    if isinstance(sub, str) and sub in _OTP_SUBCODES:
        return _BY_CODE[sub]
    if code is not None and code in _BY_CODE:
        cls = _BY_CODE[code]
        # A known code on a surprising status still keeps its meaning, except that an
        # auth code answered with 403 (one server build does this) is a permission error.
        if cls is AuthenticationError and status == 403:
            return PermissionDeniedError
        # "Refused before doing anything, retry later" is what a 429 says. The same code on
        # another status (a 5xx from a proxy or a server bug) must not make a send retryable.
        if cls is not RateLimitError or status == 429:
            return cls
    if status == 422 and code is None:
        # Code-less 422s (Send Media's {"status": "error", "message": …}) are validation
        # failures of the request's fields all the same.
        return ValidationError
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if status >= 500:
        return ServerError
    if status == 401:
        return AuthenticationError
    return APIError


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date.

    Example::

        parse_retry_after("12")                              # 12.0
        parse_retry_after("Wed, 21 Oct 2026 07:28:00 GMT")   # seconds until then, >= 0
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
        current = time.time() if now is None else now
        return max(0.0, when.timestamp() - current)
    if seconds != seconds or seconds < 0:  # NaN or negative: ignore
        return None
    return seconds


def error_from_response(
    status: int,
    body: bytes,
    headers: Mapping[str, str] | None = None,
    *,
    parsed: Any = None,
) -> APIError:
    """Build the typed error for an error response.

    ``parsed`` is the already decoded JSON body when the caller has it (saves a second parse).

    Example::

        exc = error_from_response(404, b'{"success": false, "error": {"code": "NOT_FOUND",'
                                       b' "message": "Contact not found."}}')
        assert isinstance(exc, wacr.NotFoundError)
    """
    headers = headers or {}
    if 300 <= status < 400:
        return _redirect(status, headers)
    payload = parsed
    if payload is None and body:
        try:
            payload = json.loads(body)
        except ValueError:
            payload = None

    code: str | None = None
    message: str | None = None
    details: Mapping[str, Any] = {}
    request_id: str | None = None
    retry_after: float | None = None
    excerpt: str | None = None

    if isinstance(payload, Mapping):
        error = payload.get("error")
        meta = payload.get("meta")
        if isinstance(error, Mapping):
            raw_code = error.get("code")
            code = str(raw_code) if raw_code is not None else None
            raw_message = error.get("message")
            message = str(raw_message) if raw_message is not None else None
            raw_details = error.get("details")
            if isinstance(raw_details, Mapping):
                details = raw_details
            elif raw_details is not None:
                details = {"value": raw_details}
        elif isinstance(error, str):
            message = error
        if message is None and isinstance(payload.get("message"), str):
            message = payload["message"]
        if not details and isinstance(payload.get("errors"), Mapping):
            details = {"errors": payload["errors"]}
        if isinstance(meta, Mapping):
            rid = meta.get("request_id")
            request_id = str(rid) if rid is not None else None
            retry_after = _as_float(meta.get("retry_after"))
        if retry_after is None:
            # The OTP limiters (resend 3 per 5 minutes, verify) state the wait in the details.
            retry_after = _as_float(details.get("retry_after"))
        if code is None:
            excerpt = snippet(body) if body else None
    else:
        excerpt = snippet(body) if body else ""

    header_retry = parse_retry_after(_header(headers, "Retry-After"))
    if header_retry is not None:
        retry_after = header_retry

    if message is None:
        message = (
            f"HTTP {status} with a non-JSON body: {excerpt}"
            if excerpt
            else f"HTTP {status} with an empty body"
        )

    cls = _class_for(status, code, details)
    return cls(
        message,
        status=status,
        code=code,
        details=details,
        request_id=request_id,
        retry_after=retry_after,
        body_snippet=excerpt,
    )


def _redirect(status: int, headers: Mapping[str, str]) -> RedirectError:
    location = _header(headers, "Location")
    where = f"to {location}" if location else "without a Location"
    return RedirectError(
        f"HTTP {status}: the API answered with a redirect {where}, which is never followed; "
        "nothing was processed. Fix the client's base_url (it should be the API's final "
        "https URL, ending in /api/v2)",
        status=status,
        location=location,
    )


def _as_float(value: Any) -> float | None:
    """A wait in seconds from a body field: finite and not negative, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float | str):
        try:
            number = float(value)
        except (ValueError, OverflowError):
            return None
        return number if math.isfinite(number) and number >= 0 else None
    return None


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        lowered = name.lower()
        for key, candidate in headers.items():
            if key.lower() == lowered:
                return candidate
    return value
