"""The error classes: one root, transport failures, and one class per API error code.

The tree and how answers map onto it are described in :mod:`wacr_async.errors`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from .._logging import mask_path, mask_text

_SNIPPET_CHARS = 200
# How much of the field errors an error's message shows (the rest stays in ``details``).
_REASONS_SHOWN = 3
_REASONS_CHARS = 240


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
        reasons = field_reasons(self.details)
        if reasons and reasons not in self.message:
            text += f" — {reasons}"
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
    """Too many requests: ``retry_after`` says how long to wait (None when nobody said).

    ``shared`` is True when the wait holds the whole token, not just this call: the
    client's rate limiter then holds every request until the window reopens. A call that
    would have to wait past its deadline for its turn raises this too, before sending
    anything (``status`` is None then).
    """

    default_status = 429

    def __init__(self, message: str, *, shared: bool = False, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.shared = shared
        if "status" in kwargs and kwargs["status"] is None:
            self.status = None  # raised by the client's limiter: no answer was involved


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


def field_reasons(details: Mapping[str, Any]) -> str:
    """The first field errors of ``details`` in one short line ("" when there are none).

    Example::

        field_reasons({"errors": {"template_fields": ["field_2 is required"]}})
        # 'template_fields: field_2 is required'
    """
    source: Any = details
    nested = source.get("errors")
    if isinstance(nested, Mapping):
        source = nested
    shown: list[str] = []
    for key, value in source.items():
        if key == "error_code":
            continue
        if isinstance(value, str):
            first = value
        elif isinstance(value, list) and value and isinstance(value[0], str):
            first = value[0]
        else:
            continue
        shown.append(f"{key}: {first}")
        if len(shown) == _REASONS_SHOWN:
            break
    text = mask_text("; ".join(shown))
    if len(text) > _REASONS_CHARS:
        text = text[: _REASONS_CHARS - 1] + "…"
    return text


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
