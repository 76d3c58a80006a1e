"""Every error the SDK raises, and how API error responses map onto them.

The tree::

    WacrError
    ├── ConfigurationError              bad client settings (missing token, bad base URL)
    ├── ClientClosedError               a call on a client after ``aclose()``
    ├── PaginationError                 pages that contradict themselves (empty, yet 'has more')
    ├── UnexpectedResponseError         a success answer whose body cannot be read as documented
    ├── JournalError                    a batch journal could not be read or written
    ├── TransportError                  no usable HTTP answer
    │   ├── APIConnectionError          could not connect; the request never left
    │   ├── APITimeoutError             no answer in time (``sent`` says whether it may have left)
    │   └── OutcomeUnknownError         a non-idempotent request went out, no answer came back
    └── APIError                        the server answered with an error status
        ├── RedirectError               3xx  the base URL is redirected (never followed)
        ├── BadRequestError             400  INVALID_REQUEST, INVALID_PARAMETER
        ├── AuthenticationError         401  UNAUTHORIZED, AUTHENTICATION_REQUIRED, INVALID_TOKEN,
        │                                    TOKEN_EXPIRED, TOKEN_REVOKED
        ├── PermissionDeniedError       403
        │   ├── InsufficientScopeError        INSUFFICIENT_SCOPE
        │   ├── FeatureLimitExceededError     FEATURE_LIMIT_EXCEEDED (feature, current, maximum)
        │   ├── FeatureNotAvailableError      FEATURE_NOT_AVAILABLE
        │   ├── ContactOptedOutError          CONTACT_OPTED_OUT
        │   └── IPNotWhitelistedError         IP_NOT_WHITELISTED
        ├── NotFoundError               404  NOT_FOUND, RESOURCE_NOT_FOUND
        │   └── TemplateNotFoundError         TEMPLATE_NOT_FOUND
        ├── ConflictError               409
        │   ├── ResourceConflictError         RESOURCE_CONFLICT
        │   └── DuplicateResourceError        DUPLICATE_RESOURCE
        ├── UnprocessableEntityError    422
        │   ├── ValidationError               VALIDATION_ERROR, MISSING_REQUIRED_FIELD,
        │   │   │                             INVALID_PHONE_NUMBER, INVALID_MEDIA_TYPE,
        │   │   │                             any 422 without a code
        │   │   └── OTPVerificationError      a failed OTP verification (sub-code in ``reason``)
        │   │       ├── OTPNotFoundError          OTP_NOT_FOUND
        │   │       ├── OTPMaxAttemptsError       MAX_ATTEMPTS_EXCEEDED
        │   │       ├── OTPExpiredError           OTP_EXPIRED
        │   │       └── OTPInvalidCodeError       INVALID_CODE (attempts_remaining)
        │   └── WhatsAppNotConfiguredError    WHATSAPP_NOT_CONFIGURED
        ├── RateLimitError              429  RATE_LIMIT_EXCEEDED
        └── ServerError                 5xx
            ├── InternalServerError           INTERNAL_ERROR, DATABASE_ERROR
            ├── MessageSendFailedError        MESSAGE_SEND_FAILED
            ├── WhatsAppAPIError              WHATSAPP_API_ERROR
            └── ServiceUnavailableError       SERVICE_UNAVAILABLE, any 503

Mapping (:func:`error_from_response`) goes by ``error.code`` first, then by HTTP status, so an
unknown code still lands on the right status class. Bodies that are not the API's envelope
(a proxy's HTML page, Send Media's ``{"status": "error", "message": …}``, an empty or broken
body) still give a typed error carrying the status and a snippet of the body.
"""

from __future__ import annotations

import email.utils
import json
import math
import time
from collections.abc import Mapping
from typing import Any, ClassVar

from ._logging import mask_path

__all__ = [
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ClientClosedError",
    "ConfigurationError",
    "ConflictError",
    "ContactOptedOutError",
    "DuplicateResourceError",
    "FeatureLimitExceededError",
    "FeatureNotAvailableError",
    "IPNotWhitelistedError",
    "JournalError",
    "InsufficientScopeError",
    "InternalServerError",
    "MessageSendFailedError",
    "NotFoundError",
    "OTPExpiredError",
    "OTPInvalidCodeError",
    "OTPMaxAttemptsError",
    "OTPNotFoundError",
    "OTPVerificationError",
    "OutcomeUnknownError",
    "PaginationError",
    "PermissionDeniedError",
    "RateLimitError",
    "RedirectError",
    "RequestInfo",
    "ResourceConflictError",
    "ServerError",
    "ServiceUnavailableError",
    "TemplateNotFoundError",
    "TransportError",
    "UnexpectedResponseError",
    "UnprocessableEntityError",
    "ValidationError",
    "WacrError",
    "WhatsAppAPIError",
    "WhatsAppNotConfiguredError",
    "error_from_response",
    "parse_retry_after",
    "snippet",
]

_SNIPPET_CHARS = 200


class WacrError(Exception):
    """Root of every error raised by wacr-async."""


class ConfigurationError(WacrError, ValueError):
    """The client was given settings it cannot work with (no token, a malformed base URL)."""


class ClientClosedError(WacrError, RuntimeError):
    """A request was made on a client that has been closed."""


class PaginationError(WacrError):
    """The server's pages contradict themselves (for example empty pages that claim more)."""


class UnexpectedResponseError(WacrError):
    """A 2xx answer whose body is not the documented JSON (or does not fit the model)."""

    def __init__(self, message: str, *, status: int | None = None, body_snippet: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.body_snippet = body_snippet


class JournalError(WacrError):
    """The journal could not be read or written; the run stops rather than risk resending."""


class RequestInfo:
    """What was sent: method and path (no host, no token, no body).

    Kept deliberately small and free of secrets so that it can be logged; its text form masks
    phone numbers in the path (``.path`` keeps the real one).
    """

    __slots__ = ("method", "path")

    def __init__(self, method: str, path: str) -> None:
        self.method = method
        self.path = path

    def __repr__(self) -> str:
        return f"RequestInfo(method={self.method!r}, path={mask_path(self.path)!r})"

    def __str__(self) -> str:
        # Shown in messages and logs, so phone numbers in paths keep only their last digits.
        return f"{self.method} {mask_path(self.path)}"


class TransportError(WacrError):
    """No usable HTTP answer arrived for ``request``.

    ``sent`` is False only when the request certainly never reached the server, which is
    the one case where a non-idempotent request may be retried.
    """

    def __init__(self, message: str, *, request: RequestInfo, sent: bool) -> None:
        super().__init__(message)
        self.request = request
        self.sent = sent


class APIConnectionError(TransportError):
    """The connection failed (refused, DNS failure, reset)."""


class APITimeoutError(TransportError):
    """No answer arrived within the timeout."""


class OutcomeUnknownError(TransportError):
    """A request that may have taken effect got no answer; it was not retried.

    Raised for sends, creates and other non-idempotent calls when the connection dropped or
    timed out after the request went out. Whether the server acted is unknown: check (for
    example by listing messages) before sending again.

    Example::

        try:
            await client.messages.send_text(phone="+15550001111", message="Hi")
        except wacr.OutcomeUnknownError as exc:
            log.warning("maybe sent: %s (%s)", exc.request, exc.__cause__)
    """

    def __init__(self, message: str, *, request: RequestInfo) -> None:
        super().__init__(message, request=request, sent=True)


class APIError(WacrError):
    """The API answered with an error status.

    Attributes: ``status`` (HTTP status, None for errors raised locally before any request),
    ``code`` (the API's error code, None when the body had none), ``message``, ``details``
    (the ``error.details`` object, or {}), ``request_id`` (``meta.request_id``), and
    ``retry_after`` (seconds, from ``Retry-After`` or ``meta.retry_after``).
    """

    default_status: ClassVar[int | None] = None

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        details: Mapping[str, Any] | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
        body_snippet: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status if status is not None else self.default_status
        self.code = code
        self.details: Mapping[str, Any] = details or {}
        self.request_id = request_id
        self.retry_after = retry_after
        self.body_snippet = body_snippet

    def __str__(self) -> str:
        parts = [str(self.status)] if self.status is not None else []
        if self.code:
            parts.append(self.code)
        head = " ".join(parts)
        text = f"{head}: {self.message}" if head else self.message
        if self.request_id:
            text += f" (request_id={self.request_id})"
        return text

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status!r}, code={self.code!r}, "
            f"message={self.message!r}, request_id={self.request_id!r})"
        )


class RedirectError(APIError):
    """A 3xx answer: the request went to the wrong place and was not processed.

    The client never follows redirects (a redirected send could be repeated or dropped on
    the way); ``location`` is where the server pointed. Usually ``base_url`` needs fixing
    (``http://`` for ``https://``, a missing ``/api/v2``).
    """

    def __init__(self, message: str, *, location: str | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.location = location


class BadRequestError(APIError):
    default_status = 400


class AuthenticationError(APIError):
    """401: the token is missing, invalid, expired or revoked."""

    default_status = 401


class PermissionDeniedError(APIError):
    default_status = 403


class InsufficientScopeError(PermissionDeniedError):
    """The token lacks the scope the endpoint requires."""


class FeatureLimitExceededError(PermissionDeniedError):
    """A plan limit was reached; ``feature``, ``current`` and ``maximum`` say which and where."""

    @property
    def feature(self) -> str | None:
        value = self.details.get("feature")
        return None if value is None else str(value)

    @property
    def current(self) -> int | None:
        return _as_int(self.details.get("current"))

    @property
    def maximum(self) -> int | None:
        return _as_int(self.details.get("maximum"))


class FeatureNotAvailableError(PermissionDeniedError):
    """The plan does not include the feature (for example WhatsApp templates)."""


class ContactOptedOutError(PermissionDeniedError):
    """The recipient opted out of messages."""


class IPNotWhitelistedError(PermissionDeniedError):
    """The token is restricted to other IP addresses."""


class NotFoundError(APIError):
    default_status = 404


class TemplateNotFoundError(NotFoundError):
    pass


class ConflictError(APIError):
    default_status = 409


class ResourceConflictError(ConflictError):
    """The resource is still in use (for example a source assigned to contacts)."""


class DuplicateResourceError(ConflictError):
    pass


class UnprocessableEntityError(APIError):
    default_status = 422


class ValidationError(UnprocessableEntityError):
    """The request's fields were rejected.

    ``fields`` maps a field name to its messages. ``local`` is True when the SDK rejected
    the input itself, before sending anything (``status`` is then 422 all the same, so one
    ``except`` handles both).

    Example::

        try:
            await client.contacts.create(firstname="", lastname="L", phone="123", ...)
        except wacr.ValidationError as exc:
            print(exc.fields)   # {"firstname": ["First name is required"], ...}
    """

    def __init__(self, message: str, *, local: bool = False, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.local = local

    @classmethod
    def for_field(cls, field: str, problem: str) -> ValidationError:
        """A locally raised error about one field, shaped like the server's."""
        return cls(
            f"{field}: {problem}",
            code="VALIDATION_ERROR",
            details={field: [problem]},
            local=True,
        )

    @property
    def fields(self) -> dict[str, list[str]]:
        """Field name → messages, whether the server nested them under ``errors`` or not."""
        source: Any = self.details
        nested = source.get("errors")
        if isinstance(nested, Mapping):
            source = nested
        out: dict[str, list[str]] = {}
        for key, value in source.items():
            if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
                out[str(key)] = list(value)
            elif isinstance(value, str) and key not in ("error_code",):
                out[str(key)] = [value]
        return out


class OTPVerificationError(ValidationError):
    """An OTP verification failed; ``reason`` is the sub-code (``OTP_EXPIRED``, …)."""

    @property
    def reason(self) -> str | None:
        value = self.details.get("error_code", self.code)
        return None if value is None else str(value)


class OTPNotFoundError(OTPVerificationError):
    """No active code for this phone and purpose."""


class OTPMaxAttemptsError(OTPVerificationError):
    """Too many wrong attempts; request a new code."""


class OTPExpiredError(OTPVerificationError):
    """The code expired; request a new one."""


class OTPInvalidCodeError(OTPVerificationError):
    """The code did not match; ``attempts_remaining`` says how many tries are left."""

    @property
    def attempts_remaining(self) -> int | None:
        return _as_int(self.details.get("attempts_remaining"))


class WhatsAppNotConfiguredError(UnprocessableEntityError):
    """The account has no WhatsApp Business credentials configured."""


class RateLimitError(APIError):
    """429: too many requests; ``retry_after`` says how long to wait."""

    default_status = 429


class ServerError(APIError):
    default_status = 500


class InternalServerError(ServerError):
    pass


class MessageSendFailedError(ServerError):
    """WhatsApp refused or failed the send."""


class WhatsAppAPIError(ServerError):
    pass


class ServiceUnavailableError(ServerError):
    default_status = 503


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


def snippet(body: bytes) -> str:
    """The first couple of hundred characters of ``body``, whitespace folded, for messages."""
    text = body[: _SNIPPET_CHARS * 4].decode("utf-8", errors="replace").strip()
    text = " ".join(text.split())
    if len(text) > _SNIPPET_CHARS:
        text = text[:_SNIPPET_CHARS] + "…"
    return text


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str | float):
        try:
            return int(value)
        except ValueError:
            return None
    return None


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
