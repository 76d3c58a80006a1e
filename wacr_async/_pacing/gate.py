"""What every limiter shares: the protocol's methods, lane pacing, and the shared 429 cooldown.

A mode (auto, fixed, off) answers pure questions — how long must the whole token wait
(``_token_wait``), when could the n-th queued request go (``_queue_eta``), how far apart calls
go at the token's full rate (``_slot_interval``) — and keeps its books in a few commands
(``_on_admit``, ``_on_return``, ``_learn``, ``_on_shared_429``). Queueing is the
``WaitingRoom``'s job (``waiting``); reading headers is the edge's (``headers``).

* Paced lanes (low priority, or any lane with a ``share``) are spaced evenly at
  ``share`` of the token's rate, after a burst of a tenth of their budget per window.
* A 429 that speaks for the whole token holds every lane until the server's ``Retry-After``.
* The only clock is the running loop's ``time()``; the wall clock is read at the edges (the
  ``X-RateLimit-Reset`` header in, ``RateLimitState`` out), so tests run on a loop whose
  clock they move.

Example (through a concrete mode)::

    limiter = FixedLimiter(per_minute=120)
    lane = limiter.lane()
    permit = await limiter.acquire(lane)            # one every 0.5 s, queued in order
    await limiter.record(permit, status=200, headers=response.headers)
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from typing import NamedTuple

from .._logging import logger
from .headers import Reading, judge_429, read_headers, shape_of, supersedes
from .protocol import Lane, Permit, Priority, RateLimitHit, RateLimitState
from .waiting import WaitingRoom, too_long

# too_long is re-exported: other limiters (jobs.SharedPacer) refuse late calls the same way.
__all__ = ["LOW_BURST", "Gate", "too_long"]

# Slack after a cooldown: timers and server clocks are not exact.
COOLDOWN_MARGIN = 0.1
# How far a paced lane may run ahead of its even schedule, as a fraction of its budget per
# window. A small burst lets a short job finish at once; once it is spent, the lane goes at
# its even pace, so the window's budget runs out only in its last tenth and a high-priority
# call almost always finds a free slot (measured in benchmarks/priority.py).
LOW_BURST = 0.1


class _Unread(NamedTuple):
    """An answer kept for ``state``: its headers, status, loop and wall time, and shape."""

    headers: Mapping[str, str]
    status: int | None
    now: float
    wall: float
    shape: int


class Gate:
    """Base of the concrete limiters; see the module docstring. Not used on its own."""

    __slots__ = (
        "_burst",
        "_cooldown_until",
        "_limit",
        "_loop",
        "_remaining",
        "_reset",
        "_room",
        "_unlimited",
        "_unread",
        "_wall",
        "_window",
    )

    # Whether this mode's decisions depend on what answers say. A mode whose pacing does not
    # (off, fixed) keeps answers unread until ``state`` asks: reading headers on every answer
    # is a fifth of a call's own cost. An answer carrying all an unread older one carried
    # replaces it unread; otherwise the older is read first, so ``state`` is what reading
    # every answer in order would give.
    _paces_by_answers = True

    def __init__(self, *, wall: Callable[[], float] = time.time, burst: float = LOW_BURST) -> None:
        if not 0.0 <= burst <= 1.0:
            raise ValueError(f"burst must be a fraction in [0, 1], got {burst!r}")
        self._wall = wall
        self._burst = burst
        self._loop: asyncio.AbstractEventLoop | None = None
        self._room = WaitingRoom(self)
        self._cooldown_until = 0.0
        # What the server last said, for ``state``.
        self._limit: int | None = None
        self._remaining: int | None = None
        self._unlimited = False
        self._window: float | None = None
        self._reset: float | None = None
        self._unread: _Unread | None = None

    # -- what a mode answers (pure) and records ---------------------------------------------

    def _token_wait(self, now: float) -> float | None:
        """0: the token lets a request go now; > 0: seconds until it may; None: until an answer."""
        raise NotImplementedError

    def _queue_eta(self, now: float, ahead: int) -> float | None:
        """Seconds until the token could let the request go that has ``ahead`` queued before it."""
        return self._token_wait(now)

    def _slot_interval(self) -> float | None:
        """Seconds between calls at the token's full rate (None: unknown, so no lane pacing)."""
        return None

    def _window_budget(self) -> int | None:
        """Calls per window a paced lane's burst is a fraction of (None: no bursts)."""
        return None

    def _on_admit(self, now: float) -> int:
        """Book one request leaving now; return the window (epoch) it leaves under."""
        return 0

    def _on_return(self, permit: Permit, *, counted: bool) -> None:
        """Book a request that came back (``counted``: it left but no answer says how)."""

    def _on_shared_429(self, until: float) -> None:
        """The token's window is spent until ``until`` (loop time)."""

    def _counts(self, now: float) -> tuple[int | None, float | None]:
        """``remaining`` and the window's end (loop time) for ``state``."""
        return self._remaining, self._reset

    def _learn(self, permit: Permit, status: int | None, reading: Reading, now: float) -> None:
        """Take in what one answer said; modes that pace by it extend this."""
        self._learn_state(reading)

    def _learn_state(self, reading: Reading) -> None:
        """Keep what the server said, for ``state``."""
        if reading.reset is not None:
            self._reset = reading.reset
        if reading.window is not None:
            self._window = reading.window
        elif reading.window_guess is not None and self._window is None:
            self._window = reading.window_guess
        if reading.unlimited:
            self._unlimited = True
            self._limit = self._remaining = None
        elif reading.limit is not None:
            self._unlimited = False
            self._limit = reading.limit
            if reading.remaining is not None:
                self._remaining = reading.remaining
        elif reading.unpaced:
            self._unlimited = False
            self._limit = self._remaining = None

    # -- the protocol -------------------------------------------------------------------------

    @property
    def state(self) -> RateLimitState:
        """A snapshot of what the server last said, with this limiter's window estimate."""
        loop = self._loop
        if loop is None:
            return RateLimitState()
        # Catching up on answers kept unread changes no decision: it only fills in what an
        # unpaced mode put off reading (see ``_paces_by_answers``).
        self._read_unread()
        now, wall = loop.time(), self._wall()
        cooling = wall + (self._cooldown_until - now) if self._cooldown_until > now else None
        if self._unlimited:
            return RateLimitState(unlimited=True, cooling_down_until=cooling)
        remaining, reset = self._counts(now)
        return RateLimitState(
            limit=self._limit,
            remaining=remaining,
            reset_at=None if reset is None else wall + (reset - now),
            window=self._window,
            cooling_down_until=cooling,
        )

    @property
    def waiting(self) -> int:
        """How many requests are queued for a permit right now."""
        return len(self._room)

    def lane(self, *, priority: Priority = "normal", share: float | None = None) -> Lane:
        """A lane for one client view or one batch run (see :class:`Lane`)."""
        return Lane(priority=priority, share=share)

    async def acquire(self, lane: Lane, *, deadline: float | None = None) -> Permit:
        """Wait for permission to send; see :meth:`RateLimiter.acquire`."""
        loop = self._bind()
        now = loop.time()
        ahead = self._room.ahead(lane.priority)
        if ahead == 0 and self._blocked_for(now) == 0.0 and self._lane_wait(lane, now) == 0.0:
            return self._admit(lane, now)
        if deadline is not None:
            eta = self._eta(lane, now, ahead)
            if eta is not None and now + eta > deadline:
                raise too_long(eta)
        return await self._room.wait(lane, deadline)

    def release(self, permit: Permit) -> None:
        """The request never left: give its slot back."""
        if permit.returned:
            return
        permit.returned = True
        self._on_return(permit, counted=False)
        self._room.pump()

    async def record(
        self,
        permit: Permit,
        *,
        status: int | None,
        headers: Mapping[str, str] | None,
        retry_after: float | None = None,
    ) -> RateLimitHit | None:
        """The request left; learn from its answer. See :meth:`RateLimiter.record`."""
        if permit.returned:
            return None
        permit.returned = True
        self._on_return(permit, counted=headers is None)
        now = self._bind().time()
        hit = None
        try:
            if headers is not None:
                if status != 429 and not self._paces_by_answers:
                    shape = shape_of(headers, status)
                    if shape is not None:
                        self._keep_unread(_Unread(headers, status, now, self._wall(), shape))
                        return None
                self._read_unread()  # older answers first
                reading = self._read(headers, status, now, self._wall())
                self._learn(permit, status, reading, now)
                if status == 429:
                    hit = self._judge(reading, retry_after, now)
            elif status == 429:
                hit = RateLimitHit(retry_after, shared=False)
        except Exception:
            # Headers this client cannot read must not fail a call whose answer arrived.
            logger.debug("ignored unreadable rate-limit headers", exc_info=True)
        finally:
            self._room.pump()
        return hit

    async def aclose(self) -> None:
        """Stop the timer and fail every queued waiter with ``ClientClosedError``."""
        self._room.close()

    def _read(
        self, headers: Mapping[str, str], status: int | None, now: float, wall: float
    ) -> Reading:
        # The Date header is parsed for a window length only while none is known.
        return read_headers(
            headers, status=status, now=now, wall=wall, guess_window=self._window is None
        )

    def _keep_unread(self, answer: _Unread) -> None:
        older = self._unread
        if older is not None and not supersedes(answer.shape, older.shape):
            self._read_unread()
        self._unread = answer

    def _read_unread(self) -> None:
        unread, self._unread = self._unread, None
        if unread is None:
            return
        try:
            reading = self._read(unread.headers, unread.status, unread.now, unread.wall)
            self._learn_state(reading)
        except Exception:
            logger.debug("ignored unreadable rate-limit headers", exc_info=True)

    # -- decisions (pure; the waiting room asks them too) ------------------------------------

    def _blocked_for(self, now: float) -> float | None:
        if now < self._cooldown_until:
            return self._cooldown_until - now
        return self._token_wait(now)

    def _lane_wait(self, lane: Lane, now: float) -> float:
        if not lane.paced:
            return 0.0
        # A "virtual scheduling" bucket: the lane may run ahead of its even schedule by
        # its burst, no further.
        return max(0.0, lane._next_at - self._lane_tolerance(lane) - now)

    def _lane_interval(self, lane: Lane) -> float:
        if not lane.paced:
            return 0.0
        base = self._slot_interval()
        return 0.0 if base is None else base / (lane.share or 1.0)

    def _lane_tolerance(self, lane: Lane) -> float:
        budget = self._window_budget()
        if budget is None:
            return 0.0
        burst = max(1, int(self._burst * budget * (lane.share or 1.0)))
        return (burst - 1) * self._lane_interval(lane)

    def _eta(self, lane: Lane, now: float, ahead: int) -> float | None:
        token = self._queue_eta(now, ahead)
        if token is None:
            return None
        cooling = max(0.0, self._cooldown_until - now)
        paced = 0.0
        if lane.paced:
            queued_until = lane._next_at + self._room.queued_on(lane) * self._lane_interval(lane)
            paced = max(0.0, queued_until - self._lane_tolerance(lane) - now)
        return max(token, cooling, paced)

    # -- commands -----------------------------------------------------------------------------

    def _bind(self) -> asyncio.AbstractEventLoop:
        loop = asyncio.get_running_loop()
        self._loop = loop
        return loop

    def _admit(self, lane: Lane, now: float) -> Permit:
        permit = Permit(lane, epoch=self._on_admit(now), granted_at=now)
        if lane.paced:
            lane._next_at = max(now, lane._next_at) + self._lane_interval(lane)
        return permit

    def _judge(self, reading: Reading, retry_after: float | None, now: float) -> RateLimitHit:
        wait, shared = judge_429(reading, retry_after, now)
        if wait is not None and shared:
            until = now + wait + COOLDOWN_MARGIN
            if until > self._cooldown_until:
                self._cooldown_until = until
                logger.debug("rate limited: every request of this client waits %.2fs", wait)
            self._on_shared_429(until)
        return RateLimitHit(wait, shared=shared)
