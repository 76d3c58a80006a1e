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
        ├── RateLimitError              429  RATE_LIMIT_EXCEEDED (``retry_after``, ``shared``)
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

from ._reading import error_from_response, parse_retry_after
from ._types import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ClientClosedError,
    ConfigurationError,
    ConflictError,
    ContactOptedOutError,
    DuplicateResourceError,
    FeatureLimitExceededError,
    FeatureNotAvailableError,
    InsufficientScopeError,
    InternalServerError,
    IPNotWhitelistedError,
    JournalError,
    MessageSendFailedError,
    NotFoundError,
    OTPExpiredError,
    OTPInvalidCodeError,
    OTPMaxAttemptsError,
    OTPNotFoundError,
    OTPVerificationError,
    OutcomeUnknownError,
    PaginationError,
    PermissionDeniedError,
    RateLimitError,
    RedirectError,
    RequestInfo,
    ResourceConflictError,
    ServerError,
    ServiceUnavailableError,
    TemplateNotFoundError,
    TransportError,
    UnexpectedResponseError,
    UnprocessableEntityError,
    ValidationError,
    WacrError,
    WhatsAppAPIError,
    WhatsAppNotConfiguredError,
    snippet,
)

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
