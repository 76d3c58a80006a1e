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
from ._pacing import RateLimiter, RateLimitState
from ._version import __version__
from ._watch import MessageWatch
from .batch import (
    FailedOutcome,
    ImportEntry,
    ImportReport,
    InteractiveMessage,
    Journal,
    JournalEntry,
    JournalMismatchError,
    MediaMessage,
    MessageSpec,
    NotAttemptedOutcome,
    Outcome,
    PreflightError,
    Progress,
    SendReport,
    SendRun,
    SentOutcome,
    SkippedOutcome,
    SQLiteJournal,
    TemplateMessage,
    TextMessage,
    UnknownOutcome,
)
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
from .filters import FilterOp, between, gt, gte, in_, is_null, like, lt, lte, ne, not_in
from .models.account import Account, FeatureLimit, Limits, Subscription, Usage, UsageEntry
from .models.comments import Comment, CommentAdded
from .models.contacts import (
    BatchCreateResult,
    BatchCreateSummary,
    BatchDeleteResult,
    Contact,
    FailedRow,
    NewContact,
    SkippedRow,
)
from .models.groups import Group, GroupMembershipResult
from .models.messages import (
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
from .models.otp import AuthTemplate, OTPSent, OTPStatus, OTPVerified
from .models.sources import Source
from .models.statuses import Status
from .models.templates import SyncResult, Template
from .models.tokens import CreatedToken, SecretToken, Token
from .pagination import AsyncPager, Page

if TYPE_CHECKING:
    from . import testing, webhooks

__all__ = [
    "DEFAULT_BASE_URL",
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "Account",
    "AsyncPager",
    "AuthTemplate",
    "AuthenticationError",
    "BadRequestError",
    "BatchCreateResult",
    "BatchCreateSummary",
    "BatchDeleteResult",
    "Button",
    "Client",
    "ClientClosedError",
    "Comment",
    "CommentAdded",
    "ConfigurationError",
    "ConflictError",
    "Contact",
    "ContactDefaults",
    "ContactOptedOutError",
    "CreatedToken",
    "DuplicateResourceError",
    "FailedOutcome",
    "FailedRow",
    "FeatureLimit",
    "FeatureLimitExceededError",
    "FeatureNotAvailableError",
    "FilterOp",
    "Group",
    "GroupMembershipResult",
    "IPNotWhitelistedError",
    "ImportEntry",
    "ImportReport",
    "InsufficientScopeError",
    "InteractiveMessage",
    "InternalServerError",
    "Journal",
    "JournalEntry",
    "JournalError",
    "JournalMismatchError",
    "Limits",
    "MediaMessage",
    "Message",
    "MessageDetail",
    "MessageSendFailedError",
    "MessageSpec",
    "MessageWatch",
    "NewContact",
    "NotAttemptedOutcome",
    "NotFoundError",
    "OTPExpiredError",
    "OTPInvalidCodeError",
    "OTPMaxAttemptsError",
    "OTPNotFoundError",
    "OTPSent",
    "OTPStatus",
    "OTPVerificationError",
    "OTPVerified",
    "Outcome",
    "OutcomeUnknownError",
    "Page",
    "PaginationError",
    "PermissionDeniedError",
    "PreflightError",
    "Progress",
    "RateLimitError",
    "RateLimitState",
    "RateLimiter",
    "RedirectError",
    "ResourceConflictError",
    "Row",
    "SQLiteJournal",
    "SecretToken",
    "Section",
    "SendReport",
    "SendRun",
    "SentInteractive",
    "SentMedia",
    "SentMessage",
    "SentOutcome",
    "SentTemplate",
    "SentText",
    "ServerError",
    "ServiceUnavailableError",
    "SkippedOutcome",
    "SkippedRow",
    "Source",
    "Status",
    "Subscription",
    "SyncResult",
    "Template",
    "TemplateMessage",
    "TemplateNotFoundError",
    "TextMessage",
    "Timeout",
    "Token",
    "TransportError",
    "UnexpectedResponseError",
    "UnknownOutcome",
    "UnprocessableEntityError",
    "Usage",
    "UsageEntry",
    "ValidationError",
    "WacrError",
    "WhatsAppAPIError",
    "WhatsAppNotConfiguredError",
    "__version__",
    "between",
    "gt",
    "gte",
    "in_",
    "is_null",
    "like",
    "lt",
    "lte",
    "ne",
    "not_in",
    "testing",
    "webhooks",
]


def __getattr__(name: str) -> Any:
    # Both pull in aiohttp.web; load them only when someone asks for them.
    if name in ("testing", "webhooks"):
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
