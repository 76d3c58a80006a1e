"""A virtual-time event loop: timers fire at once, in order, and ``loop.time()`` jumps to them.

``run_virtual(main())`` runs a coroutine on a loop whose clock moves to the next timer when
nothing is ready: a 60-second wait passes instantly, and every run sees the same
interleaving. A test that would wait forever fails with ``VirtualLoopStalled``.

Sockets are served before time moves, so an in-process sandbox over real loopback sockets
runs on it too. Work handed to a thread is not waited for: the clock would jump past its
timers meanwhile, so code that waits on threads (a SQLite journal, DNS lookups) stays on a
normal loop.

Example::

    def test_cooldown() -> None:
        async def main() -> None:
            await asyncio.sleep(60)                  # instant
            assert asyncio.get_running_loop().time() == 1060.0
        run_virtual(main())
"""

from __future__ import annotations

import asyncio
import selectors
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

# Real seconds a stalled loop may wait for a callback from another thread before giving up.
_STALL_LIMIT = 5.0
START = 1000.0


class VirtualLoopStalled(RuntimeError):
    """Nothing was ready and no timer was set: the test would wait forever."""


class _JumpingSelector(selectors.SelectSelector):
    def __init__(self, loop: VirtualTimeLoop) -> None:
        super().__init__()
        self._loop = loop

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        if timeout is None:
            ready = super().select(_STALL_LIMIT)
            if not ready:
                raise VirtualLoopStalled("nothing scheduled: the test would wait forever")
            return ready
        ready = super().select(0)
        if ready or timeout <= 0:
            return ready  # sockets first: time moves only when nothing else can happen
        self._loop.now += timeout  # the next timer is due: go there at once
        return super().select(0)


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """A selector loop whose ``time()`` only moves to due timers (it starts at ``START``)."""

    def __init__(self) -> None:
        self.now = START
        super().__init__(_JumpingSelector(self))

    def time(self) -> float:
        return self.now


def run_virtual(main: Coroutine[Any, Any, T]) -> T:
    """Run ``main`` to completion on a fresh virtual-time loop."""
    with asyncio.Runner(loop_factory=VirtualTimeLoop) as runner:
        return runner.run(main)


async def settle() -> None:
    """Let every ready callback run without moving the clock."""
    for _ in range(10):
        await asyncio.sleep(0)
