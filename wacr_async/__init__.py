"""wacr-async: the asyncio-first Python SDK for the WA.cr APP API v2.

Example::

    import wacr_async as wacr

    async with wacr.Client(token="wm_…") as client:
        account = await client.account.get()
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._client import Client
from ._config import DEFAULT_BASE_URL, Timeout
from ._ratelimit import RateLimitState
from ._version import __version__
from .errors import (
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
)
from .models.account import Account, FeatureLimit, Limits, Subscription, Usage, UsageEntry

if TYPE_CHECKING:
    from . import testing

__all__ = [
    "DEFAULT_BASE_URL",
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "Account",
    "AuthenticationError",
    "BadRequestError",
    "Client",
    "ClientClosedError",
    "ConfigurationError",
    "ConflictError",
    "ContactOptedOutError",
    "DuplicateResourceError",
    "FeatureLimit",
    "FeatureLimitExceededError",
    "FeatureNotAvailableError",
    "IPNotWhitelistedError",
    "InsufficientScopeError",
    "InternalServerError",
    "Limits",
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
    "RateLimitState",
    "ResourceConflictError",
    "ServerError",
    "ServiceUnavailableError",
    "Subscription",
    "TemplateNotFoundError",
    "Timeout",
    "TransportError",
    "UnexpectedResponseError",
    "UnprocessableEntityError",
    "Usage",
    "UsageEntry",
    "ValidationError",
    "WacrError",
    "WhatsAppAPIError",
    "WhatsAppNotConfiguredError",
    "__version__",
    "testing",
]


def __getattr__(name: str) -> Any:
    # The sandbox pulls in aiohttp.web; load it only when someone asks for it.
    if name == "testing":
        return importlib.import_module(".testing", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
