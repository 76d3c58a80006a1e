"""``SendRun``: the handle a bulk send returns, an async iterator of outcomes plus its report."""

from __future__ import annotations

import asyncio
import contextlib
import os
import weakref
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable
from types import TracebackType
from typing import TYPE_CHECKING

from .._channel import CLOSED
from .._journal import Journal
from .._outcomes import OUTCOME_TYPES, Outcome, Progress, SendReport
from .._specs import MessageSpec
from ._engine import RunEngine
from ._items import OnMismatch

if TYPE_CHECKING:
    from .._services import Services

__all__ = ["SendRun"]


class SendRun:
    """A bulk send in progress: an async iterator of :class:`~wacr_async.Outcome`, one per
    input item as it completes, plus :meth:`report` for the summary.

    Nothing is read or sent until the run is iterated or :meth:`report` is awaited. Awaiting
    :meth:`report` without iterating runs the whole job; awaiting it mid-iteration drops the
    outcomes not yet read and waits for the end.

    **Stopping.** :meth:`stop` (and the first Ctrl-C) stops gracefully: no new item is read
    or sent, the requests in flight finish within ``grace`` seconds and their answers are
    recorded, then the run ends with its report. :meth:`cancel` (and a second Ctrl-C) stops
    at once: sends on the wire become ``unknown``, the rest ``not_attempted``.

    **Leaving early cancels the run**: when an ``async with run:`` block is left before the
    end (which also waits for the wind-down), on :meth:`aclose`, when the task that awaits
    the report is cancelled, and when an ``async for`` loop over the run is left early
    (``break``, an exception): its iterator is an async generator, which asyncio closes,
    and its close cancels the run. A run dropped while going, by none of these, is
    cancelled on the loop's thread with a ``ResourceWarning``. Prefer ``async with run:``
    so that the journal is closed when the block is left.

    Example::

        async with client.batch.send_messages(specs, journal="job.sqlite") as run:
            async for outcome in run:
                if outcome.status == "sent":
                    print(outcome.index, outcome.result.message_id)
                elif outcome.status in ("failed", "unknown"):
                    log.warning("%s %s: %s", outcome.index, outcome.key, outcome.error)
        print(await run.report())
    """

    __slots__ = ("__weakref__", "_engine", "_watch")

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
        on_mismatch: OnMismatch = "stop",
        keep: int,
        progress_interval: float,
        preflight: bool = True,
        max_consecutive_failures: int = 20,
        max_connect_failures: int = 5,
        grace: float = 10.0,
    ) -> None:
        self._engine = RunEngine(
            client,
            specs,
            concurrency=concurrency,
            journal=journal,
            stop_on=stop_on,
            on_progress=on_progress,
            resend_unknown=resend_unknown,
            on_mismatch=on_mismatch,
            keep=keep,
            progress_interval=progress_interval,
            preflight=preflight,
            max_consecutive_failures=max_consecutive_failures,
            max_connect_failures=max_connect_failures,
            grace=grace,
        )
        self._watch: weakref.finalize[..., SendRun] | None = None

    def __repr__(self) -> str:
        engine = self._engine
        state = "not started" if engine.driver is None else "done" if engine.report else "running"
        return f"<SendRun {state} done={sum(engine.counts.values())} total={engine.total}>"

    def _start(self) -> RunEngine:
        engine = self._engine
        if engine.out is None:
            engine.start()
            # Not a lifetime: only a warning and a cancel scheduled on the loop, for a run
            # whose owner lost it without closing it.
            self._watch = weakref.finalize(self, engine.abandon, asyncio.get_running_loop())
            self._watch.atexit = False
        return engine

    # -- the public surface ----------------------------------------------------------------

    async def __aiter__(self) -> AsyncIterator[Outcome]:
        engine = self._start()
        out = engine.out
        assert out is not None
        finished = False
        try:
            while True:
                try:
                    item = await out.get()
                except asyncio.CancelledError:
                    engine.cancel()
                    raise
                if item is CLOSED:
                    finished = True
                    break
                assert isinstance(item, OUTCOME_TYPES)
                yield item
        finally:
            if not finished:
                # Left early (break, an exception, the generator closed): cancel the run.
                engine.cancel()
                out.drop()
                with contextlib.suppress(Exception):  # the caller's own error wins
                    await asyncio.shield(engine.finished())
        await engine.finished()

    async def __anext__(self) -> Outcome:
        """The next outcome (``anext(run)``): reading this way never cancels the run."""
        engine = self._start()
        assert engine.out is not None
        try:
            item = await engine.out.get()
        except asyncio.CancelledError:
            engine.cancel()
            raise
        if item is CLOSED:
            await engine.finished()
            raise StopAsyncIteration
        assert isinstance(item, OUTCOME_TYPES)
        return item

    async def report(self) -> SendReport:
        """Run to the end (without streaming what is left) and return the summary.

        Raises the error of the input iterator, of ``on_progress``, of the journal or of the
        preflight if one stopped the run (with this summary as a note).

        Example::

            report = await client.batch.send_messages(specs).report()
            print(report.counts["sent"], len(report.failed))
        """
        engine = self._start()
        assert engine.out is not None
        engine.out.drop()
        return await engine.finished()

    def stop(self) -> None:
        """Stop gracefully: read and send no new item, let the requests in flight finish
        (within ``grace`` seconds, then they are cancelled) and record their answers.

        Returns at once; iterate on or ``await run.report()`` for the end. Call it on the
        run's event loop.

        Example::

            loop.add_signal_handler(signal.SIGTERM, run.stop)
        """
        self._engine.stop(None, "stopped by run.stop()")

    def cancel(self) -> None:
        """Stop now: sends on the wire become ``unknown``, the rest ``not_attempted``.

        Returns at once; ``await run.report()`` waits for the wind-down and returns the report.
        """
        self._engine.cancel()

    async def aclose(self) -> None:
        """Cancel the run if it is still going, and wait until it has wound down."""
        engine = self._engine
        if engine.driver is None:
            return
        if engine.report is None:
            engine.cancel()
        assert engine.out is not None
        engine.out.drop()
        with contextlib.suppress(Exception):  # the caller's own error; report() raises it
            await engine.finished()

    async def __aenter__(self) -> SendRun:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
