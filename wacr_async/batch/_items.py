"""One item of a bulk send: checked, claimed in the journal once its pacing permit is granted,
sent, settled; and what to call an item that a stop or a cancellation interrupted.

The claim happens inside :attr:`CallTrace.before_send`, after the rate limiter has granted
the request its permit and right before it is handed to aiohttp: an item waiting for the
window never shows up in the journal, so after a crash ``in_flight`` covers only requests
that were about to leave or had left.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

from .._effects import CallTrace, trace_calls
from .._journal import (
    ENTRY_STATUSES,
    EntryStatus,
    Journal,
    JournalEntry,
    JournalMismatchError,
    fingerprint_of,
)
from .._outcomes import Outcome, SendStatus, make_outcome
from .._specs import SPEC_TYPES, check_spec, result_to_json, spec_key
from ..errors import OutcomeUnknownError, RequestInfo, ValidationError
from ..models._converter import structure

if TYPE_CHECKING:
    from .._services import Services

__all__ = ["Item", "OnMismatch", "Sender"]

OnMismatch: TypeAlias = Literal["stop", "resend", "skip"]
"""What a run does with a key the journal holds for another message (see ``send_messages``)."""

_SEND_STATUS: dict[str, SendStatus] = {"applied": "sent", "none": "failed", "maybe": "unknown"}


class Item:
    """One input item from the moment it is read until its outcome is handed out.

    ``committed`` turns True once the request is about to leave (its permit granted and, with
    a journal, its claim durable): from then on a stop lets it finish instead of dropping it.
    """

    __slots__ = (
        "claimed",
        "committed",
        "emitted",
        "index",
        "is_spec",
        "key",
        "outcome",
        "spec",
        "trace",
    )

    def __init__(self, index: int, spec: Any) -> None:
        self.index = index
        self.spec = spec
        self.is_spec = isinstance(spec, SPEC_TYPES)
        self.key: str | None = None
        self.trace: CallTrace | None = None
        self.claimed = False  # this run holds the journal's claim and has not settled it
        self.committed = False
        self.outcome: Outcome | None = None
        self.emitted = False

    def outcome_of(
        self, status: SendStatus, *, result: Any = None, error: BaseException | None = None
    ) -> Outcome:
        spec = self.spec if self.is_spec else None  # not a spec: the error names what it was
        return make_outcome(
            status, index=self.index, key=self.key, spec=spec, result=result, error=error
        )


class _Known(Exception):
    """Raised by the claim to call the send off: the journal already has this key."""

    def __init__(self, entry: JournalEntry | None) -> None:
        super().__init__("already journalled")
        self.entry = entry


class _Refused(Exception):
    """Raised by the claim to call the send off: the run stopped, or the journal failed."""

    def __init__(self, error: BaseException | None) -> None:
        super().__init__("not sent")
        self.error = error


class Sender:
    """Sends items for one run: the journal claim, the send, the settle."""

    __slots__ = (
        "_client",
        "_fail",
        "_journal",
        "_on_mismatch",
        "_reclaim",
        "_run_id",
        "_stopping",
    )

    def __init__(
        self,
        client: Services,
        *,
        journal: Journal | None,
        run_id: str,
        reclaim: frozenset[EntryStatus],
        on_mismatch: OnMismatch,
        fail: Callable[[BaseException], None],
        stopping: Callable[[], bool],
    ) -> None:
        self._client = client
        self._journal = journal
        self._run_id = run_id
        self._reclaim = reclaim
        self._on_mismatch = on_mismatch
        self._fail = fail
        self._stopping = stopping

    def use_journal(self, journal: Journal) -> None:
        """The journal, once the run has it (it is opened by the run's driver)."""
        self._journal = journal

    async def send(self, item: Item) -> Outcome:
        """Send ``item`` and settle it in the journal; its outcome (never raises but for a
        cancellation)."""
        spec = item.spec
        try:
            check_spec(spec)
        except TypeError as exc:
            return item.outcome_of("failed", error=exc)
        item.key = spec.key
        fingerprint = ""
        if self._journal is not None:
            try:
                item.key = spec_key(spec)
                fingerprint = fingerprint_of(spec)
            except ValidationError as exc:
                return item.outcome_of("failed", error=exc)

        async def claim() -> None:
            await self._claim(item, fingerprint)

        trace = item.trace = trace_calls(before_send=claim)
        try:
            result = await spec._send(self._client)
        except _Known as known:
            return self._from_journal(item, known.entry)
        except _Refused as refused:
            return item.outcome_of("not_attempted", error=refused.error)
        except Exception as exc:
            outcome = item.outcome_of(_SEND_STATUS[trace.effect(exc)], error=exc)
        else:
            outcome = item.outcome_of("sent", result=result)
        item.outcome = outcome
        await self.settle(item, outcome)
        return outcome

    async def _claim(self, item: Item, fingerprint: str) -> None:
        """Called once the pacing permit is granted, right before the request leaves."""
        if self._stopping():
            raise _Refused(None)
        journal = self._journal
        if journal is None:
            item.committed = True
            return
        assert item.key is not None
        try:
            entry = await self._claim_once(journal, item, fingerprint, self._reclaim)
            if entry is not None and _differs(entry, fingerprint):
                if self._on_mismatch == "stop":
                    raise _mismatch(item.index, entry)
                if self._on_mismatch == "skip":
                    raise _Known(None)
                entry = await self._claim_once(journal, item, fingerprint, ENTRY_STATUSES)
        except (_Known, asyncio.CancelledError):
            raise
        except Exception as exc:
            self._fail(exc)
            raise _Refused(exc) from None
        if entry is not None:
            raise _Known(entry)
        item.claimed = True
        if self._stopping():
            # The run stopped while the claim was being written: nothing left, undo it.
            await self.release(item)
            raise _Refused(None)
        item.committed = True

    async def _claim_once(
        self, journal: Journal, item: Item, fingerprint: str, reclaim: Any
    ) -> JournalEntry | None:
        assert item.key is not None
        claim = asyncio.ensure_future(
            journal.claim(
                item.key,
                run=self._run_id,
                index=item.index,
                fingerprint=fingerprint,
                reclaim=reclaim,
            )
        )
        try:
            return await asyncio.shield(claim)
        except asyncio.CancelledError:
            # The claim may commit all the same: once it has, undo it (nothing was sent).
            with contextlib.suppress(BaseException):
                if await claim is None:
                    item.claimed = True
                    await self.release(item)
            raise

    def _from_journal(self, item: Item, entry: JournalEntry | None) -> Outcome:
        """An item the journal already knows, which this run does not send."""
        if entry is None:  # another message under this key, and on_mismatch="skip"
            return item.outcome_of("skipped")
        if entry.status == "sent" or entry.run == self._run_id:
            # Sent by an earlier run, or the same key came earlier in this run's input.
            result = None
            if entry.status == "sent" and entry.result is not None:
                with contextlib.suppress(Exception):
                    result = structure(entry.result, item.spec.result_type)
            return item.outcome_of("skipped", result=result)
        earlier = entry.error.get("message") if entry.error else None
        reason = f" ({earlier})" if earlier else ""
        error = OutcomeUnknownError(
            f"item {item.index} (key {entry.key!r}): an earlier run left it {entry.status}"
            f"{reason}; not sent again (pass resend_unknown=True to send it)",
            request=RequestInfo("POST", item.spec.path),
        )
        return item.outcome_of("unknown", error=error)

    async def settle(self, item: Item, outcome: Outcome) -> None:
        """Record ``outcome`` for the claim this run holds (a no-op without one)."""
        journal = self._journal
        if journal is None or not item.claimed or item.key is None:
            return
        status: EntryStatus
        if outcome.status == "sent":
            status = "sent"
        elif outcome.status in ("unknown", "not_attempted"):
            # not_attempted with a claim: interrupted on its way out, so it may have left.
            status = "unknown"
        else:
            status = "failed"
        result = result_to_json(outcome.result) if outcome.status == "sent" else None
        error = None if outcome.error is None else describe(outcome.error)
        item.claimed = False  # settled: no longer this run's to account for
        try:
            await journal.settle(
                item.key,
                run=self._run_id,
                index=item.index,
                status=status,
                result=result,
                error=error,
            )
        except Exception as exc:
            self._fail(exc)

    async def release(self, item: Item) -> None:
        """Undo the claim this run holds for ``item``: its request never left."""
        journal = self._journal
        if journal is None or not item.claimed or item.key is None:
            return
        item.claimed = False
        with contextlib.suppress(Exception):  # a broken journal already stopped the run
            await journal.release(item.key, run=self._run_id, index=item.index)

    def interrupted(self, item: Item, why: str) -> Outcome:
        """The outcome of an item whose task was cancelled before it had one."""
        trace = item.trace
        effect = "none" if trace is None else trace.effect(asyncio.CancelledError())
        if effect == "none":
            return item.outcome_of("not_attempted")
        # "applied" too: answered with a success just as it was cancelled, the answer lost.
        error = OutcomeUnknownError(
            f"item {item.index}: the run was {why} while its request was in flight",
            request=RequestInfo("POST", item.spec.path),
        )
        return item.outcome_of("unknown", error=error)

    async def tidy(self, item: Item, outcome: Outcome) -> None:
        """Settle an interrupted item, or release it if its request never left."""
        if outcome.status == "not_attempted":
            await self.release(item)
        else:
            await self.settle(item, outcome)


def _differs(entry: JournalEntry, fingerprint: str) -> bool:
    """Whether the journalled message is another one (entries written before fingerprints
    were recorded match anything)."""
    return entry.fingerprint is not None and entry.fingerprint != fingerprint


def _mismatch(index: int, entry: JournalEntry) -> JournalMismatchError:
    return JournalMismatchError(
        f"item {index}: the journal holds key {entry.key!r} for another message (another "
        "kind, phone or content than this run's); nothing was sent for it. Give changed "
        "messages new keys, or pass on_mismatch='resend' or 'skip'",
        key=entry.key,
        index=index,
        entry=entry,
    )


def describe(error: BaseException) -> dict[str, Any]:
    """What the journal keeps of an error."""
    return {
        "type": type(error).__name__,
        "message": str(error),
        "status": getattr(error, "status", None),
        "code": getattr(error, "code", None),
    }
