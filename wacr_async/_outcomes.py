"""What the batch helper reports: one outcome per item, progress, and the summaries.

Statuses of a send:

=================  ===========================================================================
``sent``           the API accepted the send (``result`` holds its answer)
``failed``         the API refused it, or a local check did (``error``); nothing was sent, so
                   a re-run with the same journal tries it again
``skipped``        not sent by this run: the journal says an earlier run sent it (``result``
                   read back), or the same key came earlier in this run's input
``unknown``        it may or may not have been sent: the answer was lost (``OutcomeUnknownError``),
                   the server failed after receiving it (5xx), the run was cancelled while it
                   was in flight, or an earlier run stopped while it was in flight. A re-run
                   does not send it again unless ``resend_unknown=True``
``not_attempted``  read from the input but never sent, because the run stopped or was cancelled
=================  ===========================================================================
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Literal, TypeAlias

import attrs

from .models.messages import SentMessage

if TYPE_CHECKING:
    from ._specs import MessageSpec

__all__ = [
    "IMPORT_STATUSES",
    "SEND_STATUSES",
    "ImportEntry",
    "ImportReport",
    "ImportStatus",
    "OUTCOME_TYPES",
    "FailedOutcome",
    "NotAttemptedOutcome",
    "Outcome",
    "Progress",
    "SentOutcome",
    "SkippedOutcome",
    "UnknownOutcome",
    "make_outcome",
    "SendReport",
    "SendStatus",
]

SendStatus: TypeAlias = Literal["sent", "failed", "skipped", "unknown", "not_attempted"]
SEND_STATUSES: tuple[SendStatus, ...] = ("sent", "failed", "skipped", "unknown", "not_attempted")

ImportStatus: TypeAlias = Literal["created", "skipped", "failed", "unknown", "not_attempted"]
IMPORT_STATUSES: tuple[ImportStatus, ...] = (
    "created",
    "skipped",
    "failed",
    "unknown",
    "not_attempted",
)


@attrs.frozen(kw_only=True, slots=True)
class _OutcomeBase:
    """What every outcome has: the item's 0-based ``index`` in the input, its journal ``key``
    (the spec's ``key``, or the hash of the spec when a journal is used; otherwise None) and
    the ``spec`` itself (None for an input item that was not a spec)."""

    index: int
    key: str | None
    spec: MessageSpec | None = attrs.field(default=None, repr=False)


@attrs.frozen(kw_only=True, slots=True)
class SentOutcome(_OutcomeBase):
    """The API accepted the send; ``result`` is its answer."""

    status: Literal["sent"] = "sent"
    result: SentMessage
    error: None = None


@attrs.frozen(kw_only=True, slots=True)
class SkippedOutcome(_OutcomeBase):
    """Not sent by this run: an earlier run sent it (``result`` read back from the journal
    when it has one), or the same key came earlier in this input."""

    status: Literal["skipped"] = "skipped"
    result: SentMessage | None = None
    error: None = None


@attrs.frozen(kw_only=True, slots=True)
class FailedOutcome(_OutcomeBase):
    """Refused by the API or by a local check (``error``); nothing was sent."""

    status: Literal["failed"] = "failed"
    result: None = None
    error: BaseException


@attrs.frozen(kw_only=True, slots=True)
class UnknownOutcome(_OutcomeBase):
    """It may or may not have been sent (``error`` says why nobody can tell)."""

    status: Literal["unknown"] = "unknown"
    result: None = None
    error: BaseException


@attrs.frozen(kw_only=True, slots=True)
class NotAttemptedOutcome(_OutcomeBase):
    """Read from the input but never sent: the run stopped first."""

    status: Literal["not_attempted"] = "not_attempted"
    result: None = None
    error: BaseException | None = None


Outcome: TypeAlias = (
    SentOutcome | SkippedOutcome | FailedOutcome | UnknownOutcome | NotAttemptedOutcome
)
"""What became of one item of ``client.batch.send_messages``: one class per status, so that
a type checker narrows on ``status``.

Example::

    async for outcome in client.batch.send_messages(specs):
        if outcome.status == "sent":
            print(outcome.index, outcome.result.message_id)   # result is a SentMessage here
        elif outcome.status in ("failed", "unknown"):
            print(outcome.index, outcome.spec, outcome.error)
"""

OUTCOME_TYPES: tuple[type[Outcome], ...] = (
    SentOutcome,
    SkippedOutcome,
    FailedOutcome,
    UnknownOutcome,
    NotAttemptedOutcome,
)


def make_outcome(
    status: SendStatus,
    *,
    index: int,
    key: str | None,
    spec: MessageSpec | None,
    result: SentMessage | None = None,
    error: BaseException | None = None,
) -> Outcome:
    """The outcome of ``status`` (a ``sent`` without a result is a bug, and so is a ``failed``
    or ``unknown`` without an error)."""
    if status == "sent":
        assert result is not None
        return SentOutcome(index=index, key=key, spec=spec, result=result)
    if status == "skipped":
        return SkippedOutcome(index=index, key=key, spec=spec, result=result)
    if status == "failed":
        assert error is not None
        return FailedOutcome(index=index, key=key, spec=spec, error=error)
    if status == "unknown":
        assert error is not None
        return UnknownOutcome(index=index, key=key, spec=spec, error=error)
    return NotAttemptedOutcome(index=index, key=key, spec=spec, error=error)


@attrs.frozen(kw_only=True, slots=True)
class Progress:
    """A progress tick: outcomes so far, the input's length when known, counts by status.

    Example::

        def show(p: wacr.Progress) -> None:
            print(f"{p.done}/{p.total or '?'} sent={p.counts['sent']}")
    """

    done: int
    total: int | None
    counts: Mapping[str, int]
    elapsed: float


def _count_line(counts: Iterable[tuple[str, int]]) -> str:
    return ", ".join(f"{status} {count}" for status, count in counts if count)


@attrs.frozen(kw_only=True)
class SendReport:
    """The summary of a bulk send, bounded in size whatever the input's length.

    ``counts`` has one entry per status. ``failed``, ``unknown`` and ``not_attempted`` keep
    the first outcomes of each kind (up to ``keep`` of each, see ``send_messages``);
    ``omitted`` says how many more there were (the journal has them all).

    A run that stopped early says why: ``stopped_by`` is the error that stopped it (an
    account-level error, see ``stop_on``; the last of a streak of failures; ``KeyboardInterrupt``
    for Ctrl-C) and ``stop_reason`` says it in words (``"20 items in a row failed with
    TEMPLATE_NOT_FOUND"``); ``cancelled`` is True when it was cancelled. ``unread_from`` is the
    index of the first input item that was never read (None when the whole input was read):
    the input is not drained after a stop, so those items have no outcome — re-run the job
    with the same journal to send them.

    Example::

        report = await run.report()
        print(report)                      # sent 9990, failed 7, unknown 3 in 41.2 s
        if not report.ok:
            for outcome in report.failed:
                print(outcome.index, outcome.error)
    """

    counts: Mapping[str, int]
    total: int | None = None
    failed: tuple[Outcome, ...] = ()
    unknown: tuple[Outcome, ...] = ()
    not_attempted: tuple[Outcome, ...] = ()
    omitted: int = 0
    stopped_by: BaseException | None = None
    stop_reason: str | None = None
    cancelled: bool = False
    unread_from: int | None = None
    elapsed: float = 0.0

    @property
    def done(self) -> int:
        """How many items got an outcome."""
        return sum(self.counts.values())

    @property
    def ok(self) -> bool:
        """Every item read was sent (now or by an earlier run) and the whole input was read."""
        return (
            self.counts.get("failed", 0) == 0
            and self.counts.get("unknown", 0) == 0
            and self.counts.get("not_attempted", 0) == 0
            and self.unread_from is None
            and not self.cancelled
        )

    def __str__(self) -> str:
        text = f"{_count_line(self.counts.items()) or 'nothing'} in {self.elapsed:.1f} s"
        if self.stop_reason is not None:
            text += f"; stopped: {self.stop_reason}"
        elif self.stopped_by is not None:
            text += f"; stopped by {type(self.stopped_by).__name__}: {self.stopped_by}"
        if self.cancelled:
            text += "; cancelled"
        if self.unread_from is not None:
            text += f"; input not read from index {self.unread_from}"
        return text


@attrs.frozen(kw_only=True, slots=True)
class ImportEntry:
    """What became of one input row of ``client.batch.create_contacts``.

    ``row`` is the row's 0-based position in the input. ``created`` rows carry the new
    ``contact_id``; ``skipped`` rows a ``reason`` (a duplicate phone); ``failed`` rows the
    field ``errors`` (field → messages) and/or the ``error`` raised for their chunk;
    ``unknown`` rows belong to a chunk whose answer was lost (check before importing again).
    A duplicate phone names the earlier input row with it (``duplicate_of``) or, when the
    account has the phone, that contact (``contact_id``).
    """

    row: int
    status: ImportStatus
    contact_id: int | None = None
    reason: str | None = None
    errors: Mapping[str, list[str]] = attrs.field(factory=dict)
    error: BaseException | None = None
    duplicate_of: int | None = None


@attrs.frozen(kw_only=True)
class ImportReport:
    """The per-row report of a contact import, rows in input order.

    ``stopped_by`` and ``unread_from`` mean what they mean in :class:`SendReport`.

    Example::

        report = await client.batch.create_contacts(rows)
        print(report)                                  # created 980, skipped 12, failed 8
        for entry in report.failed:
            print(entry.row, entry.errors)
    """

    entries: tuple[ImportEntry, ...]
    stopped_by: BaseException | None = None
    unread_from: int | None = None
    elapsed: float = 0.0

    @property
    def counts(self) -> dict[str, int]:
        """Rows by status (every status present, zeros included)."""
        counts: dict[str, int] = dict.fromkeys(IMPORT_STATUSES, 0)
        for entry in self.entries:
            counts[entry.status] += 1
        return counts

    def _with(self, status: ImportStatus) -> tuple[ImportEntry, ...]:
        return tuple(entry for entry in self.entries if entry.status == status)

    @property
    def created(self) -> tuple[ImportEntry, ...]:
        return self._with("created")

    @property
    def skipped(self) -> tuple[ImportEntry, ...]:
        return self._with("skipped")

    @property
    def failed(self) -> tuple[ImportEntry, ...]:
        return self._with("failed")

    @property
    def unknown(self) -> tuple[ImportEntry, ...]:
        return self._with("unknown")

    @property
    def not_attempted(self) -> tuple[ImportEntry, ...]:
        return self._with("not_attempted")

    @property
    def ok(self) -> bool:
        """Every row was created or skipped as a duplicate, and the whole input was read."""
        return self.unread_from is None and all(
            entry.status in ("created", "skipped") for entry in self.entries
        )

    def __str__(self) -> str:
        text = f"{_count_line(self.counts.items()) or 'nothing'} in {self.elapsed:.1f} s"
        if self.stopped_by is not None:
            text += f"; stopped by {type(self.stopped_by).__name__}: {self.stopped_by}"
        if self.unread_from is not None:
            text += f"; input not read from row {self.unread_from}"
        return text
