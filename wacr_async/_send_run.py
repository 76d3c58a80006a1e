"""The engine of ``client.batch.send_messages``: lazy input, bounded fan-out, one outcome each.

``concurrency`` workers each take the next spec from the input, claim it in the journal
(when there is one), send it, settle the journal and hand the :class:`Outcome` to whoever
iterates the run. Nothing else holds items, so memory does not grow with the input: at most
``concurrency`` items are in flight and ``max(16, 2 * concurrency)`` outcomes wait to be
read (the input is never drained into a buffer).

Every item read gets exactly one outcome. A stop (an account-level error, a broken journal,
an error raised by the input or by ``on_progress``) ends reading; sends already on the
wire finish, items that had not been sent yet become ``not_attempted``. A cancellation ends
at once: what was on the wire becomes ``unknown`` (and is journalled so), the rest
``not_attempted``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import os
import time
import uuid
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Sized,
)
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

from ._channel import CLOSED, Channel
from ._effects import CallTrace, trace_calls
from ._fanout import END, ItemReader, check_count
from ._journal import (
    ENTRY_STATUSES,
    EntryStatus,
    Journal,
    JournalEntry,
    JournalMismatchError,
    SQLiteJournal,
    fingerprint_of,
)
from ._outcomes import SEND_STATUSES, Outcome, Progress, SendReport, SendStatus
from ._specs import MessageSpec, check_spec, result_to_json, spec_key
from .errors import OutcomeUnknownError, RequestInfo, ValidationError
from .models._converter import structure

if TYPE_CHECKING:
    from ._client import Client

__all__ = ["OnMismatch", "SendRun"]

# How often a stopping run looks for items that went back to waiting.
_SWEEP_INTERVAL = 0.05

OnMismatch: TypeAlias = Literal["stop", "resend", "skip"]
"""What a run does with a key the journal holds for another message (see ``send_messages``)."""

_Phase = Literal["idle", "reading", "claiming", "sending", "settling", "emitting"]


class _Slot:
    """One worker and the item it holds, so that a stop or a cancellation can account for it."""

    __slots__ = (
        "claimed",
        "index",
        "key",
        "outcome",
        "phase",
        "spec",
        "task",
        "trace",
    )

    def __init__(self) -> None:
        self.task: asyncio.Task[None] | None = None
        self.reset()

    def reset(self) -> None:
        self.phase: _Phase = "idle"
        self.index = -1
        self.spec: Any = None
        self.key: str | None = None
        self.claimed = False
        self.trace: CallTrace | None = None
        self.outcome: Outcome | None = None


class SendRun:
    """A bulk send in progress: an async iterator of :class:`~wacr_async.Outcome`, one per
    input item as it completes, plus :meth:`report` for the summary.

    Nothing is read or sent until the run is iterated or :meth:`report` is awaited. Awaiting
    :meth:`report` without iterating runs the whole job; awaiting it mid-iteration drops the
    outcomes not yet read and waits for the end. A cancelled run still produces its report.

    **Leaving early cancels the run**: sends on the wire become ``unknown``, the rest
    ``not_attempted``, the input is read no further and the journal is closed. That happens
    when an ``async with`` block is left before the end (which also waits for the
    wind-down), on :meth:`cancel` or :meth:`aclose`, when the task that iterates the run or
    awaits its report is cancelled (Ctrl-C in ``asyncio.run``), and when an ``async for``
    loop over the run is left before the end (``break``, an exception): each ``async for``
    gets its own iterator, which cancels the run when it is dropped. The wind-down then goes
    on without waiting for anyone; prefer ``async with run:`` (or ``await run.aclose()``) so
    that it has finished, and the journal is closed, when the block is left. To read part of
    the outcomes and let the rest run, await :meth:`report` before leaving the loop.

    Example::

        async with client.batch.send_messages(specs, journal="job.sqlite") as run:
            async for outcome in run:
                if outcome.status in ("failed", "unknown"):
                    log.warning("%s %s: %s", outcome.index, outcome.key, outcome.error)
        print(await run.report())
    """

    __slots__ = (
        "_cancelled",
        "_client",
        "_counts",
        "_driver",
        "_exhausted",
        "_input",
        "_journal",
        "_journal_flushed",
        "_journal_source",
        "_keep",
        "_kept",
        "_last_progress",
        "_next_index",
        "_omitted",
        "_on_mismatch",
        "_on_progress",
        "_out",
        "_owns_journal",
        "_progress_interval",
        "_raise_after",
        "_read_lock",
        "_reclaim",
        "_report",
        "_run_id",
        "_slots",
        "_source",
        "_started_at",
        "_stop_on",
        "_stopped_by",
        "_stopping",
        "_total",
        "_workers",
    )

    def __init__(
        self,
        client: Client,
        specs: Iterable[MessageSpec] | AsyncIterable[MessageSpec],
        *,
        concurrency: int,
        journal: str | os.PathLike[str] | Journal | None,
        stop_on: tuple[type[BaseException], ...],
        on_progress: Callable[[Progress], object] | None,
        resend_unknown: bool,
        on_mismatch: OnMismatch = "stop",
        keep: int,
        progress_interval: float,
    ) -> None:
        check_count("concurrency", concurrency)
        if keep < 0:
            raise ValueError(f"keep must be >= 0, not {keep!r}")
        if not isinstance(specs, Iterable | AsyncIterable):
            raise TypeError(f"specs must be an iterable or async iterable, not {type(specs)}")
        if on_progress is not None and inspect.iscoroutinefunction(on_progress):
            raise TypeError("on_progress must be a plain function: it is called on the loop")
        self._client = client
        self._source = specs
        self._total = len(specs) if isinstance(specs, Sized) else None
        self._workers = (
            concurrency if self._total is None else max(1, min(concurrency, self._total))
        )
        self._journal_source = journal
        self._journal: Journal | None = None
        self._owns_journal = False
        self._journal_flushed = False
        self._stop_on = stop_on
        self._on_progress = on_progress
        self._progress_interval = progress_interval
        reclaim: set[EntryStatus] = {"failed"}
        if resend_unknown:
            reclaim |= {"unknown", "in_flight"}
        self._reclaim = frozenset(reclaim)
        if on_mismatch not in ("stop", "resend", "skip"):
            raise ValueError(f"on_mismatch must be 'stop', 'resend' or 'skip', not {on_mismatch!r}")
        self._on_mismatch = on_mismatch
        self._keep = keep
        self._run_id = uuid.uuid4().hex[:16]
        self._counts: dict[str, int] = dict.fromkeys(SEND_STATUSES, 0)
        self._kept: dict[str, list[Outcome]] = {"failed": [], "unknown": [], "not_attempted": []}
        self._omitted = 0
        self._out: Channel[Outcome] | None = None
        self._driver: asyncio.Task[SendReport] | None = None
        self._slots: list[_Slot] = []
        self._input: ItemReader[Any] | None = None
        self._read_lock: asyncio.Lock | None = None
        self._next_index = 0
        self._exhausted = False
        self._stopping = False
        self._stopped_by: BaseException | None = None
        self._raise_after: BaseException | None = None
        self._cancelled = False
        self._report: SendReport | None = None
        self._started_at = 0.0
        self._last_progress = 0.0

    def __repr__(self) -> str:
        state = "not started" if self._driver is None else "done" if self._report else "running"
        return f"<SendRun {state} done={sum(self._counts.values())} total={self._total}>"

    # -- the public surface ----------------------------------------------------------------

    def __aiter__(self) -> AsyncIterator[Outcome]:
        # A fresh iterator for each ``async for``, which the run does not reference: when
        # the loop is left early (``break``, an exception) the iterator is dropped, and its
        # finalizer cancels the run. (``async for`` calls ``aclose`` only on generators.)
        return _OutcomeIterator(self)

    async def __anext__(self) -> Outcome:
        out = self._start()
        try:
            item = await out.get()
        except asyncio.CancelledError:
            self.cancel()
            raise
        if item is CLOSED:
            await self._finished()
            raise StopAsyncIteration
        assert isinstance(item, Outcome)
        return item

    async def report(self) -> SendReport:
        """Run to the end (without streaming what is left) and return the summary.

        Raises the error of the input iterator, of ``on_progress`` or of the journal if one
        stopped the run (with this summary as a note).

        Example::

            report = await client.batch.send_messages(specs).report()
            print(report.counts["sent"], len(report.failed))
        """
        self._start().drop()
        return await self._finished()

    def cancel(self) -> None:
        """Stop now: sends on the wire become ``unknown``, the rest ``not_attempted``.

        Returns at once; ``await run.report()`` waits for the wind-down and returns the report.
        """
        if self._report is not None or self._cancelled:
            return
        self._cancelled = True
        self._stopping = True
        for slot in self._slots:
            if slot.task is not None and slot.task is not asyncio.current_task():
                slot.task.cancel()

    def _abandon(self) -> None:
        """The iterator of an ``async for`` was dropped before the end: cancel the run.

        Called from a finalizer, possibly once the loop has closed (nothing is left to
        cancel then), so it never raises."""
        with contextlib.suppress(RuntimeError):  # no running loop, or a closed one
            self.cancel()

    async def aclose(self) -> None:
        """Cancel the run if it is still going, and wait until it has wound down."""
        if self._driver is None:
            return
        if self._report is None:
            self.cancel()
        self._start().drop()
        with contextlib.suppress(Exception):  # the caller's own error; report() raises it
            await self._finished()

    async def __aenter__(self) -> SendRun:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # -- starting and finishing ------------------------------------------------------------

    def _start(self) -> Channel[Outcome]:
        if self._out is None:
            self._out = Channel(max(16, 2 * self._workers))
            self._started_at = time.monotonic()
            self._driver = asyncio.get_running_loop().create_task(self._drive())
        return self._out

    async def _finished(self) -> SendReport:
        driver = self._driver
        assert driver is not None
        try:
            await asyncio.shield(driver)
        except asyncio.CancelledError:
            if not driver.done():
                # The caller was cancelled while waiting: that cancels the run.
                self.cancel()
                raise
        report = self._report
        if report is None:  # the driver failed: a bug, not an item's fate
            raise driver.exception() or RuntimeError("the bulk send ended without a report")
        error = self._raise_after
        if error is not None:
            note = f"wacr bulk send: {report}"
            if note not in getattr(error, "__notes__", ()):
                error.add_note(note)
            raise error
        return report

    async def _drive(self) -> SendReport:
        """Run the workers, then account for every item, whatever ended the run."""
        interrupted = False
        try:
            await self._open_journal()
            self._spawn_workers()
            pending = {slot.task for slot in self._slots if slot.task is not None}
            while pending:
                # While stopping, look again now and then: a send refused with a 429 after
                # the stop began waits for its retry, and is better not sent at all.
                timeout = _SWEEP_INTERVAL if self._stopping else None
                _, pending = await asyncio.wait(pending, timeout=timeout)
                if self._stopping:
                    self._cancel_waiting()
        except asyncio.CancelledError:
            interrupted = True
            self.cancel()
        # The wind-down leaves the journal consistent, so it runs to its end even if this
        # task is cancelled again meanwhile (asyncio.run cancels every task on Ctrl-C).
        interrupted = await self._wind_down() or interrupted
        if interrupted:
            raise asyncio.CancelledError
        assert self._report is not None
        return self._report

    async def _open_journal(self) -> None:
        source = self._journal_source
        if source is None:
            return
        if isinstance(source, str | os.PathLike):
            journal: Journal = SQLiteJournal(source)
            self._owns_journal = True
        else:
            journal = source
        self._journal = journal
        try:
            await journal.open()
        except Exception as exc:
            self._fail(exc)

    def _spawn_workers(self) -> None:
        if self._stopping:
            return
        self._input = ItemReader(self._source)
        if self._input.is_async:
            self._read_lock = asyncio.Lock()
        loop = asyncio.get_running_loop()
        for _ in range(self._workers):
            slot = _Slot()
            slot.task = loop.create_task(self._work(slot))
            self._slots.append(slot)

    async def _wind_down(self) -> bool:
        """Account for the items the workers left, close the journal, build the report.

        Returns whether a cancellation arrived meanwhile (it is held until the end)."""
        absorbed = False
        tasks = [slot.task for slot in self._slots if slot.task is not None]
        if tasks:
            absorbed |= await _steadily(lambda: asyncio.wait(tasks))
        for task in tasks:
            if not task.cancelled() and task.exception() is not None:
                # A worker died of something no item explains: a bug. Say so loudly.
                self._fail(task.exception() or RuntimeError("a worker failed"))
        journal = self._journal
        for slot in self._slots:
            if slot.phase == "idle" or slot.phase == "reading":
                continue
            outcome = slot.outcome
            if outcome is None:
                outcome = self._interrupted(slot)
            if journal is not None:
                absorbed |= await _steadily(functools.partial(self._tidy_journal, journal, slot))
            if slot.phase != "emitting":  # an emitting worker has recorded its outcome
                self._record(outcome)
                if self._out is not None:
                    self._out.push(outcome)  # at most one per worker
            slot.reset()
        if journal is not None:
            absorbed |= await _steadily(lambda: self._close_journal(journal))
        if self._on_progress is not None:
            self._call_progress()
        self._report = self._build_report()
        if self._out is not None:
            self._out.close()
        return absorbed

    async def _tidy_journal(self, journal: Journal, slot: _Slot) -> None:
        """Settle the item of an interrupted worker, or release it if it was never sent."""
        outcome = slot.outcome
        if slot.key is None or outcome is None:
            return
        if outcome.status == "not_attempted":
            await self._quietly(journal.release(slot.key, run=self._run_id, index=slot.index))
        else:
            await self._settle(journal, slot, outcome)  # a no-op once settled

    async def _close_journal(self, journal: Journal) -> None:
        """Make everything recorded durable, then close the journal if the run opened it.

        The close happens whatever the flush did (a failed flush must not leave the journal's
        thread and file open); the first error is raised once the run has wound down. A
        cancellation is passed on: :func:`_steadily` runs this again, and a flush that has
        completed is not repeated (it would fail on a journal closed meanwhile)."""
        if not self._journal_flushed:
            try:
                await journal.flush()
            except Exception as exc:
                self._fail(exc)
            self._journal_flushed = True
        if self._owns_journal:
            try:
                await journal.aclose()
            except Exception as exc:
                self._fail(exc)

    def _interrupted(self, slot: _Slot) -> Outcome:
        """The outcome of an item whose worker was cancelled before it finished."""
        effect = "none" if slot.trace is None else slot.trace.effect(asyncio.CancelledError())
        if effect == "none":
            outcome = self._outcome(slot, "not_attempted")
        elif effect == "applied":
            # Answered with a success just as the run was cancelled; the answer is lost.
            outcome = self._outcome(slot, "sent")
        else:
            error = OutcomeUnknownError(
                f"item {slot.index}: the run was cancelled while its request was in flight",
                request=RequestInfo("POST", slot.spec.path),
            )
            outcome = self._outcome(slot, "unknown", error=error)
        slot.outcome = outcome
        return outcome

    # -- the workers -----------------------------------------------------------------------

    async def _work(self, slot: _Slot) -> None:
        while not self._stopping:
            taken = await self._take(slot)
            if taken is None:
                return
            slot.index, slot.spec = taken
            outcome = await self._attempt(slot)
            slot.outcome = outcome
            self._record(outcome)
            slot.phase = "emitting"
            out = self._out
            assert out is not None
            await out.put(outcome)
            slot.reset()

    async def _take(self, slot: _Slot) -> tuple[int, Any] | None:
        if self._exhausted or self._stopping:
            return None
        reader = self._input
        assert reader is not None
        try:
            if reader.is_async:
                assert self._read_lock is not None
                async with self._read_lock:
                    if self._exhausted or self._stopping:
                        return None
                    slot.phase = "reading"
                    try:
                        spec = await reader.next()
                    finally:
                        slot.phase = "idle"
            else:
                spec = await reader.next()  # never suspends: no lock needed
        except Exception as exc:
            self._fail(exc)
            return None
        if spec is END:
            self._exhausted = True
            return None
        index = self._next_index
        self._next_index += 1
        return index, spec

    async def _attempt(self, slot: _Slot) -> Outcome:
        spec = slot.spec
        slot.phase = "claiming"
        try:
            check_spec(spec)
        except TypeError as exc:
            slot.spec = None  # not a spec: the error names what it was
            return self._outcome(slot, "failed", error=exc)
        journal = self._journal
        slot.key = spec.key
        if journal is not None:
            try:
                slot.key = spec_key(spec)
                fingerprint = fingerprint_of(spec)
            except ValidationError as exc:
                return self._outcome(slot, "failed", error=exc)
            try:
                entry = await journal.claim(
                    slot.key,
                    run=self._run_id,
                    index=slot.index,
                    fingerprint=fingerprint,
                    reclaim=self._reclaim,
                )
                if entry is not None and _differs(entry, fingerprint):
                    if self._on_mismatch == "stop":
                        raise _mismatch(slot.index, entry)
                    if self._on_mismatch == "skip":
                        return self._outcome(slot, "skipped")
                    if self._on_mismatch == "resend":
                        entry = await journal.claim(
                            slot.key,
                            run=self._run_id,
                            index=slot.index,
                            fingerprint=fingerprint,
                            reclaim=ENTRY_STATUSES,
                        )
            except Exception as exc:
                self._fail(exc)
                return self._outcome(slot, "not_attempted", error=exc)
            if entry is not None:
                return self._from_journal(slot, entry)
            slot.claimed = True
            if self._stopping:
                await self._quietly(journal.release(slot.key, run=self._run_id, index=slot.index))
                slot.claimed = False
                return self._outcome(slot, "not_attempted")

        slot.phase = "sending"
        trace = slot.trace = trace_calls()
        try:
            result = await spec._send(self._client)
        except Exception as exc:
            status = _SEND_STATUS[trace.effect(exc)]
            outcome = self._outcome(slot, status, error=exc)
            if isinstance(exc, self._stop_on):
                self._stop(exc)
        else:
            outcome = self._outcome(slot, "sent", result=result)
        slot.outcome = outcome
        slot.phase = "settling"
        if journal is not None:
            await self._settle(journal, slot, outcome)
        return outcome

    def _from_journal(self, slot: _Slot, entry: JournalEntry) -> Outcome:
        """An item the journal already knows, which this run does not send."""
        spec = slot.spec
        if entry.status == "sent" or entry.run == self._run_id:
            # Sent by an earlier run, or the same key came earlier in this run's input.
            result = None
            if entry.status == "sent" and entry.result is not None:
                try:
                    result = structure(entry.result, spec.result_type)
                except Exception:
                    result = None
            return self._outcome(slot, "skipped", result=result)
        earlier = entry.error.get("message") if entry.error else None
        reason = f" ({earlier})" if earlier else ""
        error = OutcomeUnknownError(
            f"item {slot.index} (key {entry.key!r}): an earlier run left it {entry.status}"
            f"{reason}; not sent again (pass resend_unknown=True to send it)",
            request=RequestInfo("POST", spec.path),
        )
        return self._outcome(slot, "unknown", error=error)

    async def _settle(self, journal: Journal, slot: _Slot, outcome: Outcome) -> None:
        assert slot.key is not None
        if not slot.claimed:
            return
        status: EntryStatus
        if outcome.status == "sent":
            status = "sent"
        elif outcome.status == "unknown":
            status = "unknown"
        else:
            status = "failed"
        result = None if outcome.result is None else result_to_json(outcome.result)
        error = None if outcome.error is None else _describe(outcome.error)
        try:
            await journal.settle(
                slot.key,
                run=self._run_id,
                index=slot.index,
                status=status,
                result=result,
                error=error,
            )
        except Exception as exc:
            self._fail(exc)
        slot.claimed = False  # settled: the claim is no longer this run's to account for

    # -- bookkeeping -----------------------------------------------------------------------

    def _outcome(
        self,
        slot: _Slot,
        status: SendStatus,
        *,
        result: Any = None,
        error: BaseException | None = None,
    ) -> Outcome:
        return Outcome(
            index=slot.index,
            key=slot.key,
            status=status,
            spec=slot.spec,
            result=result,
            error=error,
        )

    def _record(self, outcome: Outcome) -> None:
        status = outcome.status
        self._counts[status] += 1
        kept = self._kept.get(status)
        if kept is not None:
            if len(kept) < self._keep:
                kept.append(outcome)
            else:
                self._omitted += 1
        if self._on_progress is not None:
            now = time.monotonic()
            if now - self._last_progress >= self._progress_interval:
                self._last_progress = now
                self._call_progress()

    def _call_progress(self) -> None:
        assert self._on_progress is not None
        progress = Progress(
            done=sum(self._counts.values()),
            total=self._total,
            counts=dict(self._counts),
            elapsed=time.monotonic() - self._started_at,
        )
        try:
            self._on_progress(progress)
        except Exception as exc:
            self._fail(exc)

    def _stop(self, reason: BaseException) -> None:
        """Read no more input, and let go of the items that have not been sent."""
        if self._stopping:
            return
        self._stopping = True
        self._stopped_by = reason
        self._cancel_waiting()

    def _cancel_waiting(self) -> None:
        """Cancel the workers whose item has had no effect yet: still being read or claimed,
        or waiting to be sent (for a rate-limit window, or to retry after a 429)."""
        current = asyncio.current_task()
        for slot in self._slots:
            task = slot.task
            if task is None or task is current or task.done():
                continue
            waiting = slot.phase in ("reading", "claiming") or (
                slot.phase == "sending"
                and (slot.trace is None or slot.trace.effect(asyncio.CancelledError()) == "none")
            )
            if waiting:
                task.cancel()

    def _fail(self, exc: BaseException) -> None:
        """Something other than an item failed (the input, ``on_progress``, the journal):
        stop, and raise it once the run has wound down."""
        if self._raise_after is None:
            self._raise_after = exc
        self._stop(exc)

    def _build_report(self) -> SendReport:
        unread_from = None
        if not self._exhausted and self._next_index != self._total:
            unread_from = self._next_index
        return SendReport(
            counts=dict(self._counts),
            total=self._total,
            failed=tuple(self._kept["failed"]),
            unknown=tuple(self._kept["unknown"]),
            not_attempted=tuple(self._kept["not_attempted"]),
            omitted=self._omitted,
            stopped_by=self._stopped_by,
            cancelled=self._cancelled,
            unread_from=unread_from,
            elapsed=time.monotonic() - self._started_at,
        )

    @staticmethod
    async def _quietly(step: Awaitable[None]) -> None:
        with contextlib.suppress(Exception):  # a broken journal already stopped the run
            await step


class _OutcomeIterator:
    """``async for outcome in run``: the outcomes of one run; leaving early cancels it.

    The run does not reference its iterators, so a ``break`` (or an exception) out of the
    loop drops the iterator at once and :meth:`__del__` cancels the run: it reads no more
    input, sends on the wire become ``unknown`` and the journal is closed, without anyone
    awaiting it. ``async with run:`` (or ``await run.aclose()``) does the same and also
    waits for the wind-down.
    """

    __slots__ = ("_iterating", "_run")

    def __init__(self, run: SendRun) -> None:
        self._run = run
        self._iterating = False

    def __aiter__(self) -> _OutcomeIterator:
        return self

    async def __anext__(self) -> Outcome:
        self._iterating = True  # an iterator made but never used does not cancel the run
        return await self._run.__anext__()

    async def aclose(self) -> None:
        """Stop iterating: cancel the run and wait until it has wound down."""
        self._iterating = False
        await self._run.aclose()

    def __del__(self) -> None:
        if self._iterating:
            self._run._abandon()


def _differs(entry: JournalEntry, fingerprint: str | None) -> bool:
    """Whether the journalled message is another one than ``fingerprint`` (entries written
    before fingerprints were recorded match anything)."""
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


_SEND_STATUS: dict[str, SendStatus] = {"applied": "sent", "none": "failed", "maybe": "unknown"}


async def _steadily(step: Callable[[], Awaitable[Any]]) -> bool:
    """Await ``step()`` to its end, starting it again if this task is cancelled meanwhile
    (every step of a wind-down may be repeated). Returns whether that happened."""
    absorbed = False
    while True:
        try:
            await step()
        except asyncio.CancelledError:
            absorbed = True
            continue
        return absorbed


def _describe(error: BaseException) -> dict[str, Any]:
    return {
        "type": type(error).__name__,
        "message": str(error),
        "status": getattr(error, "status", None),
        "code": getattr(error, "code", None),
    }
