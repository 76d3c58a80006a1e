"""Ctrl-C during a bulk run: the first one stops it gracefully, a second one cancels it.

``asyncio.run`` answers the first SIGINT by cancelling the main task, which would cancel the
run at once and mark every send in flight ``unknown``. While a run is going, and only if
nobody has installed a SIGINT handler of their own (Python's default, or ``asyncio.run``'s),
the run takes SIGINT over: the first stops it (no new items, requests in flight finish
within the grace period, then the report), the second cancels it. The previous handler is
put back when the run ends.
"""

from __future__ import annotations

import asyncio
import functools
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

__all__ = ["InterruptGuard"]


def _ours_to_take(handler: Any) -> bool:
    if handler is signal.default_int_handler:
        return True
    # asyncio.run installs functools.partial(runner._on_sigint, main_task=...).
    method = handler.func if isinstance(handler, functools.partial) else handler
    return isinstance(getattr(method, "__self__", None), asyncio.Runner)


class InterruptGuard:
    """While installed, SIGINT calls ``on_first`` once, then ``on_second``, on the loop.

    Example::

        guard = InterruptGuard(run.stop, run.cancel)
        guard.install(loop)
        ...
        guard.uninstall()
    """

    __slots__ = ("_count", "_loop", "_on_first", "_on_second", "_previous")

    def __init__(self, on_first: Callable[[], None], on_second: Callable[[], None]) -> None:
        self._on_first = on_first
        self._on_second = on_second
        self._previous: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._count = 0

    def install(self, loop: asyncio.AbstractEventLoop) -> bool:
        """Take SIGINT over if it is ours to take (main thread, default handler)."""
        if threading.current_thread() is not threading.main_thread():
            return False
        current = signal.getsignal(signal.SIGINT)
        if not _ours_to_take(current):
            return False
        self._previous = current
        self._loop = loop
        signal.signal(signal.SIGINT, self._on_signal)
        return True

    def uninstall(self) -> None:
        """Put the previous handler back (if ours is still the one installed)."""
        if self._loop is None:
            return
        if signal.getsignal(signal.SIGINT) == self._on_signal:
            signal.signal(signal.SIGINT, self._previous)
        self._loop = None

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        # Runs in the main thread between bytecodes: hand the work to the loop.
        loop = self._loop
        if loop is None or loop.is_closed():
            # The run's loop is gone without the run putting SIGINT back: do it now, and let
            # the previous handler have this one.
            previous = self._previous
            signal.signal(signal.SIGINT, previous)
            self._loop = None
            if callable(previous):
                previous(signum, frame)
            return
        self._count += 1
        action = self._on_first if self._count == 1 else self._on_second
        loop.call_soon_threadsafe(action)
