"""Where the command's output goes: results to stdout, progress and notes to stderr.

Progress bars are drawn only on a terminal. Elsewhere (a pipe, CI, tests) a plain line is
written now and then and once at the end, so logs stay readable and nothing breaks.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal, TypeAlias

import click
from rich.console import Console, RenderableType
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

__all__ = ["ProgressMode", "Tracker", "Ui"]

ProgressMode: TypeAlias = Literal["auto", "plain", "off"]

# How often a plain (non-terminal) progress line is written.
_PLAIN_INTERVAL = 10.0


class Tracker:
    """Counts work done for one step; subclasses draw it."""

    def __init__(self, description: str, total: int | None) -> None:
        self.description = description
        self.total = total
        self.done = 0
        self.note = ""
        self.stopped = False

    def advance(self, count: int = 1) -> None:
        self.done += count
        self._changed()

    def set_total(self, total: int | None) -> None:
        self.total = total
        self._changed()

    def set_note(self, note: str) -> None:
        self.note = note
        self._changed()

    def stop(self, why: str) -> None:
        """The step ended early: the bar stays where it is (359/600), not filled up."""
        self.stopped = True
        self.set_note(f"{self.note} — {why}" if self.note else why)

    def _changed(self) -> None:
        """Redraw if it is time to."""

    def finish(self) -> None:
        """The step is over (successfully or not)."""


class _RichTracker(Tracker):
    def __init__(self, progress: Progress, description: str, total: int | None) -> None:
        super().__init__(description, total)
        self._progress = progress
        self._task: TaskID = progress.add_task(description, total=total, note="")

    def _changed(self) -> None:
        self._progress.update(self._task, completed=self.done, total=self.total, note=self.note)


class _PlainTracker(Tracker):
    def __init__(self, console: Console, description: str, total: int | None) -> None:
        super().__init__(description, total)
        self._console = console
        self._started = time.monotonic()
        self._last = self._started

    def _changed(self) -> None:
        now = time.monotonic()
        if now - self._last >= _PLAIN_INTERVAL:
            self._last = now
            self._write()

    def _write(self) -> None:
        count = f"{self.done:,}" if self.total is None else f"{self.done:,}/{self.total:,}"
        elapsed = time.monotonic() - self._started
        note = f" {self.note}" if self.note else ""
        line = f"{self.description}: {count}{note} ({elapsed:.1f} s)"
        self._console.print(line, markup=False, highlight=False)

    def finish(self) -> None:
        if self.stopped and not self.done:
            return  # stopped before doing anything: the error line says it all
        self._write()


class Ui:
    """The command's consoles and its way of showing progress.

    Consoles are made when the command runs (not at import), so that they write to whatever
    ``sys.stdout``/``sys.stderr`` are then (a pipe, a file, a test runner's buffer).
    """

    def __init__(self, progress: ProgressMode = "auto") -> None:
        self.out = Console(file=sys.stdout, soft_wrap=True, highlight=False)
        self.err = Console(file=sys.stderr, soft_wrap=True, highlight=False)
        if progress == "auto":
            progress = "auto" if self.err.is_terminal else "plain"
        self.progress_mode: ProgressMode = progress

    def note(self, text: str) -> None:
        """A line about what is happening, on stderr."""
        self.err.print(text, markup=False, highlight=False)

    def warn(self, text: str) -> None:
        self.err.print(f"Warning: {text}", markup=False, highlight=False, style="yellow")

    def results_to_stderr(self) -> None:
        """Show results (tables, summaries) on stderr: stdout carries a file's content."""
        self.out = self.err

    def show(self, renderable: RenderableType) -> None:
        """A result (a table, a summary), on stdout."""
        self.out.print(renderable)

    def echo(self, text: str) -> None:
        """Plain result text on stdout, no markup."""
        click.echo(text)

    @contextmanager
    def track(self, description: str, total: int | None = None) -> Iterator[Tracker]:
        """Progress for one step: a live bar on a terminal, plain lines elsewhere.

        Example::

            with ui.track("Exporting", total=1000) as bar:
                bar.advance(100)
        """
        if self.progress_mode == "off":
            tracker = Tracker(description, total)
            yield tracker
            return
        if self.progress_mode == "plain":
            tracker = _PlainTracker(self.err, description, total)
            try:
                yield tracker
            finally:
                tracker.finish()
            return
        progress = Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TaskProgressColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            TextColumn("{task.fields[note]}", markup=False),
            console=self.err,
            refresh_per_second=8,
            # Results may be streaming to stdout (an export): leave it alone.
            redirect_stdout=False,
            redirect_stderr=False,
        )
        with progress:
            rich_tracker = _RichTracker(progress, description, total)
            try:
                yield rich_tracker
            finally:
                rich_tracker.finish()
