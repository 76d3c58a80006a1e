"""The waiting room: queued requests by priority, one timer, deadlines and cancellation.

It decides nothing about the token itself; a :class:`Policy` (the limiter) answers "may the
token let anything go now?" and "may this lane?", and books each admission:

* waiters queue per priority: "high" is served before any queued "normal" or "low" work,
  "normal" before "low"; within one priority, in arrival order. A waiter held back only by
  its own lane's pace does not hold back other lanes;
* one loop timer wakes the room at the earliest moment anything may change, not N sleepers;
* a waiter whose turn would come after its deadline fails at once with ``RateLimitError``
  (when a cooldown starts, or at its deadline when no estimate was possible);
* a cancelled waiter leaves the queue at once; a permit granted to a task that was cancelled
  before it ran is given back.

Example::

    room = WaitingRoom(limiter)
    permit = await room.wait(lane, deadline=None)   # after the limiter's fast path said no
    room.pump()                                     # after anything that may free a slot
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections import deque
from typing import Protocol

from ..errors import ClientClosedError, RateLimitError
from .protocol import PRIORITIES, Lane, Permit, Priority

__all__ = ["Policy", "WaitingRoom", "too_long"]


def too_long(wait: float) -> RateLimitError:
    """The error for a call whose turn would come after its deadline (nothing was sent)."""
    # Not an answer from the server: no status. "shared": the limiter holds the token, so a
    # caller must not add a sleep of its own.
    return RateLimitError(
        f"rate limit: this call would wait {wait:.2f}s for a slot, past its deadline",
        retry_after=wait,
        shared=True,
        status=None,
    )


class Policy(Protocol):
    """What the waiting room asks its limiter; all but ``_admit`` and ``release`` are pure."""

    def _blocked_for(self, now: float) -> float | None:
        """0: the token lets a request go; > 0: seconds until it may; None: until an answer."""
        ...

    def _lane_wait(self, lane: Lane, now: float) -> float:
        """Seconds until ``lane``'s own pace lets its next request go."""
        ...

    def _eta(self, lane: Lane, now: float, ahead: int) -> float | None:
        """Seconds until a request on ``lane`` with ``ahead`` queued before it could go."""
        ...

    def _admit(self, lane: Lane, now: float) -> Permit:
        """Book one request leaving now."""
        ...

    def release(self, permit: Permit) -> None:
        """Give a permit back (its request never left)."""
        ...


class _Waiter:
    __slots__ = ("deadline", "future", "lane", "timer")

    def __init__(self, lane: Lane, future: asyncio.Future[Permit], deadline: float | None) -> None:
        self.lane = lane
        self.future = future
        self.deadline = deadline
        self.timer: asyncio.TimerHandle | None = None


class WaitingRoom:
    """Queued requests of one limiter; see the module docstring."""

    __slots__ = ("_loop", "_policy", "_queues", "_timer")

    def __init__(self, policy: Policy) -> None:
        self._policy = policy
        self._queues: dict[Priority, deque[_Waiter]] = {p: deque() for p in PRIORITIES}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._timer: asyncio.TimerHandle | None = None

    def __len__(self) -> int:
        """How many requests are queued right now."""
        return sum(1 for queue in self._queues.values() for w in queue if not w.future.done())

    def ahead(self, priority: Priority) -> int:
        """Queued requests served before a new one of this priority."""
        count = 0
        for p in PRIORITIES:
            count += len(self._queues[p])
            if p == priority:
                break
        return count

    def queued_on(self, lane: Lane) -> int:
        """Queued requests of ``lane``."""
        return sum(1 for w in self._queues[lane.priority] if w.lane is lane)

    async def wait(self, lane: Lane, deadline: float | None) -> Permit:
        """Queue a request on ``lane`` and wait for its permit."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            # Moved to a new loop: a timer of the old one can never fire here.
            self._loop, self._timer = loop, None
        waiter = _Waiter(lane, loop.create_future(), deadline)
        if deadline is not None:
            waiter.timer = loop.call_at(deadline, self._expire, waiter)
        self._queues[lane.priority].append(waiter)
        self.pump()
        try:
            return await waiter.future
        except asyncio.CancelledError:
            future = waiter.future
            if future.done() and not future.cancelled() and future.exception() is None:
                self._policy.release(future.result())  # granted, but its task never ran
            else:
                self._drop(waiter)  # leave now: a long cooldown could gather many of these
            raise
        finally:
            if waiter.timer is not None:
                waiter.timer.cancel()

    def close(self) -> None:
        """Stop the timer and fail every queued waiter with ``ClientClosedError``."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        for queue in self._queues.values():
            while queue:
                waiter = queue.popleft()
                if not waiter.future.done():
                    waiter.future.set_exception(ClientClosedError("the rate limiter was closed"))

    def pump(self) -> None:
        """Let queued requests through, highest priority first, while the token allows."""
        loop = self._loop
        if loop is None:
            return
        policy = self._policy
        now = loop.time()
        wake = math.inf
        for priority in PRIORITIES:
            queue = self._queues[priority]
            held: list[_Waiter] = []  # held back by their own lane's pace, in order
            held_lanes: dict[Lane, float] = {}
            while queue:
                waiter = queue[0]
                if waiter.future.done():  # cancelled or expired while queued
                    queue.popleft()
                    continue
                token = policy._blocked_for(now)
                if token is None or token > 0.0:
                    # Nobody may go: the waiters keep their places.
                    queue.extendleft(reversed(held))
                    if token is not None:
                        self._fail_late(now, now + token)
                        wake = min(wake, now + token)
                    self._wake_at(wake)
                    return
                queue.popleft()
                lane = waiter.lane
                lane_wait = held_lanes.get(lane)
                if lane_wait is None:
                    lane_wait = policy._lane_wait(lane, now)
                if lane_wait > 0.0:
                    held_lanes[lane] = lane_wait
                    if waiter.deadline is not None and now + lane_wait > waiter.deadline:
                        waiter.future.set_exception(too_long(lane_wait))
                        continue
                    held.append(waiter)
                    wake = min(wake, now + lane_wait)
                    continue
                waiter.future.set_result(policy._admit(lane, now))
            queue.extend(held)
        self._wake_at(wake)

    def _drop(self, waiter: _Waiter) -> None:
        with contextlib.suppress(ValueError):
            self._queues[waiter.lane.priority].remove(waiter)
            self.pump()  # the queue changed: a lane it held back may go now

    def _expire(self, waiter: _Waiter) -> None:
        """A waiter's deadline came before its turn."""
        waiter.timer = None
        if waiter.future.done() or self._loop is None:
            return
        eta = self._policy._eta(waiter.lane, self._loop.time(), 0)
        with contextlib.suppress(ValueError):
            self._queues[waiter.lane.priority].remove(waiter)
        waiter.future.set_exception(too_long(eta or 0.0))
        self.pump()

    def _fail_late(self, now: float, free_at: float) -> None:
        """Fail every waiter whose deadline comes before ``free_at``, when nothing goes sooner."""
        for queue in self._queues.values():
            late = [w for w in queue if w.deadline is not None and w.deadline < free_at]
            for waiter in late:
                queue.remove(waiter)
                if not waiter.future.done():
                    waiter.future.set_exception(too_long(free_at - now))

    def _wake_at(self, when: float) -> None:
        if when == math.inf or self._loop is None:
            return
        timer = self._timer
        if timer is not None and not timer.cancelled():
            if timer.when() <= when:
                return
            timer.cancel()
        self._timer = self._loop.call_at(when, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self.pump()
