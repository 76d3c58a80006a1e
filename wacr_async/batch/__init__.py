"""``client.batch``: bulk contact imports and bulk sends that are bounded, resumable and
accountable, plus ``map`` for bounded fan-out of any other call.

Every helper reads its input lazily (any iterable or async iterable, a generator of ten
million rows included), keeps a bounded number of requests in flight on top of the
client's own pacing and retry rules, and accounts for every input item. Nothing that may
have taken effect is sent again: a send or create whose answer was lost is reported
``unknown``, never retried.

Example::

    run = client.batch.send_messages(specs, concurrency=16, journal="job.sqlite")
    print(await run.report())
"""

from __future__ import annotations

from .._journal import (
    EntryStatus,
    Journal,
    JournalEntry,
    JournalError,
    JournalMismatchError,
    SQLiteJournal,
    fingerprint_of,
)
from .._outcomes import (
    FailedOutcome,
    ImportEntry,
    ImportReport,
    ImportStatus,
    NotAttemptedOutcome,
    Outcome,
    Progress,
    SendReport,
    SendStatus,
    SentOutcome,
    SkippedOutcome,
    UnknownOutcome,
)
from .._specs import (
    InteractiveMessage,
    MediaMessage,
    MessageSpec,
    TemplateMessage,
    TextMessage,
    spec_key,
)
from ._items import OnMismatch
from ._preflight import PreflightError
from ._send_run import SendRun
from ._service import ACCOUNT_ERRORS, BatchService

__all__ = [
    "ACCOUNT_ERRORS",
    "BatchService",
    "EntryStatus",
    "FailedOutcome",
    "ImportEntry",
    "ImportReport",
    "ImportStatus",
    "InteractiveMessage",
    "Journal",
    "JournalEntry",
    "JournalError",
    "JournalMismatchError",
    "MediaMessage",
    "MessageSpec",
    "NotAttemptedOutcome",
    "OnMismatch",
    "Outcome",
    "PreflightError",
    "Progress",
    "SQLiteJournal",
    "SendReport",
    "SendRun",
    "SendStatus",
    "SentOutcome",
    "SkippedOutcome",
    "TemplateMessage",
    "TextMessage",
    "UnknownOutcome",
    "fingerprint_of",
    "spec_key",
]
