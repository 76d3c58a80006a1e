"""The engine of a bulk send: a worker pool over the input, one :class:`Item` per item read,
the stop/cancel rules, fail-fast, and the wind-down that gives every item read one outcome.

The public :class:`~wacr_async.batch.SendRun` is a thin handle on this engine. The tasks
reference the engine, never the handle, so a handle dropped while its run is going can be
noticed (a ``ResourceWarning``) and the run cancelled on the loop's thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import os
import time
import uuid
import warnings
from collections.abc import AsyncIterable, Awaitable, Callable, Iterable, Sized
from typing import TYPE_CHECKING, Any

from .._channel import Channel
from .._journal import EntryStatus, Journal, SQLiteJournal
from .._outcomes import SEND_STATUSES, Outcome, Progress, SendReport
from .._pool import END, ItemReader, WorkerPool, require_positive_int
from .._specs import MessageSpec
from ._fail_fast import FailureStreaks
from ._interrupt import InterruptGuard
from ._items import Item, OnMismatch, Sender
from ._preflight import preflight

if TYPE_CHECKING:
    from .._services import Services

__all__ = ["RunEngine"]


class RunEngine:
    """Everything a bulk send does; see ``BatchService.send_messages`` for the rules."""

    def __init__(
        self,
        client: Services,
        specs: Iterable[MessageSpec] | AsyncIterable[MessageSpec],
        *,
        concurrency: int,
        journal: str | os.PathLike[str] | Journal | None,
        stop_on: tuple[type[BaseException], ...],
        on_progress: Callable[[Progress], object] | None,
        resend_unknown: bool,
        on_mismatch: OnMismatch,
        keep: int,
        progress_interval: float,
        preflight: bool,
        max_consecutive_failures: int,
        max_connect_failures: int,
        grace: float,
    ) -> None:
        require_positive_int("concurrency", concurrency)
        if keep < 0:
            raise ValueError(f"keep must be >= 0, not {keep!r}")
        if grace < 0:
            raise ValueError(f"grace must be >= 0 seconds, not {grace!r}")
        if on_mismatch not in ("stop", "resend", "skip"):
            raise ValueError(f"on_mismatch must be 'stop', 'resend' or 'skip', not {on_mismatch!r}")
        if not isinstance(specs, Iterable | AsyncIterable):
            raise TypeError(f"specs must be an iterable or async iterable, not {type(specs)}")
        if on_progress is not None and inspect.iscoroutinefunction(on_progress):
            raise TypeError("on_progress must be a plain function: it is called on the loop")
        self.streaks = FailureStreaks(
            max_consecutive_failures=max_consecutive_failures,
            max_connect_failures=max_connect_failures,
        )
        self.client = client
        self.source = specs
        self.total = len(specs) if isinstance(specs, Sized) else None
        self.workers = concurrency if self.total is None else max(1, min(concurrency, self.total))
        self.journal_source = journal
        self.journal: Journal | None = None
        self.owns_journal = False
        self.journal_flushed = False
        self.stop_on = stop_on
        self.on_progress = on_progress
        self.progress_interval = progress_interval
        self.preflight = preflight
        self.grace = grace
        reclaim: set[EntryStatus] = {"failed"}
        if resend_unknown:
            reclaim |= {"unknown", "in_flight"}
        self.run_id = uuid.uuid4().hex[:16]
        self.sender = Sender(
            client,
            journal=None,
            run_id=self.run_id,
            reclaim=frozenset(reclaim),
            on_mismatch=on_mismatch,
            fail=self.fail,
            stopping=lambda: self.stopping,
        )
        self.keep = keep
        self.counts: dict[str, int] = dict.fromkeys(SEND_STATUSES, 0)
        self.kept: dict[str, list[Outcome]] = {"failed": [], "unknown": [], "not_attempted": []}
        self.omitted = 0
        self.out: Channel[Outcome] | None = None
        self.driver: asyncio.Task[SendReport] | None = None
        self.pool: WorkerPool[Any] | None = None
        self.items: dict[int, Item] = {}
        self.stopping = False
        self.stopped_by: BaseException | None = None
        self.stop_reason: str | None = None
        self.raise_after: BaseException | None = None
        self.cancelled = False
        self.why = "cancelled"  # how an interrupted item's run ended, for its error message
        self.grace_timer: asyncio.TimerHandle | None = None
        self.interrupts = InterruptGuard(self.interrupt, self.cancel)
        self.report: SendReport | None = None
        self.started_at = 0.0
        self.last_progress = 0.0

    # -- starting and finishing ------------------------------------------------------------

    def start(self) -> Channel[Outcome]:
        if self.out is None:
            self.out = Channel(max(16, 2 * self.workers))
            self.started_at = time.monotonic()
            loop = asyncio.get_running_loop()
            self.driver = loop.create_task(self._drive())
            self.interrupts.install(loop)
        return self.out

    async def finished(self) -> SendReport:
        driver = self.driver
        assert driver is not None
        try:
            await asyncio.shield(driver)
        except asyncio.CancelledError:
            if not driver.done():
                # The caller was cancelled while waiting: that cancels the run.
                self.cancel()
                raise
        report = self.report
        if report is None:  # the driver failed: a bug, not an item's fate
            raise driver.exception() or RuntimeError("the bulk send ended without a report")
        error = self.raise_after
        if error is not None:
            note = f"wacr bulk send: {report}"
            if note not in getattr(error, "__notes__", ()):
                error.add_note(note)
            raise error
        return report

    async def _drive(self) -> SendReport:
        """Run the pool, then account for every item, whatever ended the run."""
        interrupted = False
        try:
            await self._open_journal()
            reader: ItemReader[Any] = ItemReader(self.source)
            if self.preflight and not self.stopping:
                await self._preflight(reader)
            self.pool = WorkerPool(reader, self._work, limit=self.workers, on_read=self._read)
            if self.stopping:
                self.pool.stop()
            await self._run_pool(self.pool)
        except asyncio.CancelledError:
            interrupted = True
            self.cancel()
        # The wind-down leaves the journal consistent, so it runs to its end even if this
        # task is cancelled again meanwhile (asyncio.run cancels every task on Ctrl-C).
        interrupted = await self._wind_down() or interrupted
        if interrupted:
            raise asyncio.CancelledError
        assert self.report is not None
        return self.report

    async def _open_journal(self) -> None:
        source = self.journal_source
        if source is None:
            return
        if isinstance(source, str | os.PathLike):
            journal: Journal = SQLiteJournal(source)
            self.owns_journal = True
        else:
            journal = source
        self.journal = journal
        self.sender.use_journal(journal)
        try:
            await journal.open()
        except Exception as exc:
            self.fail(exc)

    async def _preflight(self, reader: ItemReader[Any]) -> None:
        """Check the templates of the first items, then give those items back to the reader.

        It reads as many items as the pool would read at once anyway (one per worker), so an
        input with side effects is not read further ahead than without a preflight."""
        first: list[Any] = []
        try:
            while len(first) < self.workers:
                item = await reader.next()
                if item is END:
                    break
                first.append(item)
        except Exception as exc:
            reader.unread(first)
            self.fail(exc)
            return
        reader.unread(first)
        try:
            await preflight(self.client, first)
        except Exception as exc:
            self.fail(exc)

    async def _run_pool(self, pool: WorkerPool[Any]) -> None:
        while True:
            try:
                await pool.fill()
            except Exception as exc:  # the input's own error: stop, raise it at the end
                self.fail(exc)
            taken = await pool.next_done()
            if taken is None:
                return
            _, task = taken
            if not task.cancelled() and task.exception() is not None:
                # An item task died of something no item explains: a bug. Say so loudly.
                self.fail(task.exception() or RuntimeError("an item task failed"))

    def _read(self, index: int, spec: Any) -> None:
        self.items[index] = Item(index, spec)

    async def _work(self, index: int, spec: Any) -> None:
        item = self.items[index]
        if self.stopping:
            item.outcome = item.outcome_of("not_attempted")  # read as the run stopped
        else:
            item.outcome = await self.sender.send(item)
        self._record(item.outcome)
        out = self.out
        assert out is not None
        await out.put(item.outcome)
        item.emitted = True
        del self.items[index]

    async def _wind_down(self) -> bool:
        """Account for the items left, close the journal, build the report.

        Returns whether a cancellation arrived meanwhile (it is held until the end)."""
        absorbed = False
        pool = self.pool
        if pool is not None:
            pool.cancel() if self.cancelled else pool.stop()
            tasks = list(pool.tasks.values())
            if tasks:
                absorbed |= await _steadily(lambda: asyncio.wait(tasks))
        if self.grace_timer is not None:
            self.grace_timer.cancel()
        for item in list(self.items.values()):
            outcome = item.outcome
            if outcome is None:
                outcome = item.outcome = self.sender.interrupted(item, self.why)
                self._count(outcome)
                absorbed |= await _steadily(functools.partial(self._tidy, item))
            if not item.emitted and self.out is not None:
                self.out.push(outcome)  # at most one per item held: bounded by the pool
        self.items.clear()
        if self.journal is not None:
            journal = self.journal
            absorbed |= await _steadily(lambda: self._close_journal(journal))
        self.interrupts.uninstall()
        if self.on_progress is not None:
            self._call_progress()
        self.report = self._build_report()
        if self.out is not None:
            self.out.close()
        return absorbed

    async def _tidy(self, item: Item) -> None:
        assert item.outcome is not None
        await self.sender.tidy(item, item.outcome)

    async def _close_journal(self, journal: Journal) -> None:
        """Make everything recorded durable, then close the journal if the run opened it.

        The close happens whatever the flush did (a failed flush must not leave the journal's
        thread and file open); the first error is raised once the run has wound down. A
        flush that has completed is not repeated when :func:`_steadily` runs this again."""
        if not self.journal_flushed:
            try:
                await journal.flush()
            except Exception as exc:
                self.fail(exc)
            self.journal_flushed = True
        if self.owns_journal:
            try:
                await journal.aclose()
            except Exception as exc:
                self.fail(exc)

    # -- stopping --------------------------------------------------------------------------

    def stop(self, reason: BaseException | None = None, why: str | None = None) -> None:
        """Read no more items; drop those not yet on their way out; let the requests in
        flight finish within the grace period, then cancel what is left."""
        if self.stopping or self.report is not None:
            return
        self.stopping = True
        self.stopped_by = reason
        self.stop_reason = why
        self.why = "stopped and its grace period ran out"
        if self.pool is not None:
            self.pool.stop()
        for index, item in list(self.items.items()):
            if not item.committed and item.outcome is None:
                self._cancel_item(index)
        if self.driver is not None:
            loop = asyncio.get_running_loop()
            self.grace_timer = loop.call_later(self.grace, self._grace_over)

    def _grace_over(self) -> None:
        self.grace_timer = None
        if self.pool is not None:
            for index, item in list(self.items.items()):
                if item.outcome is None:
                    self._cancel_item(index)

    def _cancel_item(self, index: int) -> None:
        assert self.pool is not None
        task = self.pool.tasks.get(index)
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    def interrupt(self) -> None:
        """The first Ctrl-C: stop gracefully."""
        self.stop(KeyboardInterrupt(), "interrupted (Ctrl-C)")

    def cancel(self) -> None:
        """Stop now: sends on the wire become ``unknown``, the rest ``not_attempted``."""
        if self.report is not None or self.cancelled:
            return
        self.cancelled = True
        self.stopping = True
        self.why = "cancelled"
        if self.pool is not None:
            current = asyncio.current_task()
            self.pool.stop()
            for task in self.pool.tasks.values():
                if task is not current:
                    task.cancel()

    def abandon(self, loop: asyncio.AbstractEventLoop) -> None:
        """The run's handle was dropped while the run was going: warn, and cancel it on the
        loop's thread (this may be called from any thread, by the garbage collector)."""
        if self.report is not None or self.cancelled:
            return
        with contextlib.suppress(RuntimeError):  # the loop is closed: nothing left to cancel
            loop.call_soon_threadsafe(self.cancel)
        # Last: with warnings turned into errors, this raises (and the garbage collector
        # reports it as unraisable), like an unclosed file's warning.
        warnings.warn(
            "a bulk send was dropped while running, without `async with run:`, "
            "`await run.report()` or `await run.aclose()`; cancelling it",
            ResourceWarning,
            stacklevel=2,
        )

    def fail(self, exc: BaseException) -> None:
        """Something other than an item failed (the input, ``on_progress``, the journal, the
        preflight): stop, and raise it once the run has wound down."""
        if self.raise_after is None:
            self.raise_after = exc
        self.stop(exc)

    # -- bookkeeping -----------------------------------------------------------------------

    def _record(self, outcome: Outcome) -> None:
        self._count(outcome)
        if self.stopping:
            return
        if outcome.status in ("failed", "unknown") and isinstance(outcome.error, self.stop_on):
            self.stop(outcome.error)
            return
        why = self.streaks.add(outcome)
        if why is not None:
            self.stop(outcome.error, why)

    def _count(self, outcome: Outcome) -> None:
        status = outcome.status
        self.counts[status] += 1
        kept = self.kept.get(status)
        if kept is not None:
            if len(kept) < self.keep:
                kept.append(outcome)
            else:
                self.omitted += 1
        if self.on_progress is not None:
            now = time.monotonic()
            if now - self.last_progress >= self.progress_interval:
                self.last_progress = now
                self._call_progress()

    def _call_progress(self) -> None:
        assert self.on_progress is not None
        progress = Progress(
            done=sum(self.counts.values()),
            total=self.total,
            counts=dict(self.counts),
            elapsed=time.monotonic() - self.started_at,
        )
        try:
            self.on_progress(progress)
        except Exception as exc:
            self.fail(exc)

    def _build_report(self) -> SendReport:
        read = 0 if self.pool is None else self.pool.next_index
        exhausted = self.pool is not None and self.pool.exhausted
        unread_from = None if exhausted or read == self.total else read
        return SendReport(
            counts=dict(self.counts),
            total=self.total,
            failed=tuple(self.kept["failed"]),
            unknown=tuple(self.kept["unknown"]),
            not_attempted=tuple(self.kept["not_attempted"]),
            omitted=self.omitted,
            stopped_by=self.stopped_by,
            stop_reason=self.stop_reason,
            cancelled=self.cancelled,
            unread_from=unread_from,
            elapsed=time.monotonic() - self.started_at,
        )


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
