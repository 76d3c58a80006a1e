"""Pacing by the server's ``X-RateLimit-*`` headers (``rate_limit="auto"``, the default).

How the server counts (REFERENCE §1.7): a fixed window per token that opens at the first call
after the previous window ended, ``X-RateLimit-Remaining`` accurate on every answer, but
``X-RateLimit-Reset`` on a success always "now + window", so it cannot say when the window
really ends. The limiter therefore keeps its own estimate:

* The first answer of a window arrives after the server opened that window, so "arrival +
  window length" is a safe upper bound of its end. An answer counted higher than an earlier
  one, for a request sent after that earlier answer arrived, reveals that a new window opened.
* While a window lasts, requests leave only while ``remaining - in_flight > 0``: requests
  already on their way count against the budget, so waiting tasks never all fire at once.
* Once the window is spent, requests wait for the estimated end. The first request of the
  next window goes alone (a probe); its answer says where the new window stands, then the
  rest follow. That costs one round trip per window and keeps a stale estimate from turning
  into a burst of 429s.
* Until the very first answer nothing is known, so requests go one at a time: a restarted
  process whose window is already spent earns one 429, not thirty.
* A 429 with ``X-RateLimit-Remaining: 0`` holds every request in one cooldown (see ``gate``).

Example::

    limiter = AutoLimiter()
    lane = limiter.lane()
    permit = await limiter.acquire(lane)
    response = await send()
    await limiter.record(permit, status=response.status, headers=response.headers)
    print(limiter.state.remaining, "left of", limiter.state.limit)
"""

from __future__ import annotations

import time
from collections.abc import Callable

from .gate import LOW_BURST, Gate
from .headers import Reading
from .protocol import Permit

__all__ = ["DEFAULT_WINDOW", "AutoLimiter"]

DEFAULT_WINDOW = 60.0
# Slack after an estimated window end: timers and server clocks are not exact.
WINDOW_MARGIN = 0.05
# How long the others wait for a new window's probe to answer before trying another.
PROBE_PATIENCE = 1.0


class AutoLimiter(Gate):
    """Follows the token's window from the answers' headers; see the module docstring."""

    __slots__ = (
        "_epoch",
        "_epoch_in_flight",
        "_heard",
        "_in_flight",
        "_left",
        "_left_seen_at",
        "_probe_sent_at",
        "_seen",
        "_window_end",
    )

    def __init__(self, *, wall: Callable[[], float] = time.time, burst: float = LOW_BURST) -> None:
        super().__init__(wall=wall, burst=burst)
        self._heard = False
        # The current window as this client sees it (an "epoch"): whether an answer from it
        # arrived, the lowest count it reported and when, and an upper bound of its end.
        self._epoch = 0
        self._seen = False
        self._left: int | None = None
        self._left_seen_at = 0.0
        self._window_end: float | None = None
        self._probe_sent_at = 0.0
        self._in_flight = 0
        self._epoch_in_flight = 0

    def __repr__(self) -> str:
        return f"AutoLimiter(limit={self._limit}, left={self._left}, in_flight={self._in_flight})"

    # -- decisions (pure) ---------------------------------------------------------------------

    def _token_wait(self, now: float) -> float | None:
        if not self._heard:
            return self._probe_wait(now)
        if self._unlimited or self._limit is None:
            return 0.0
        if self._window_ended(now):
            return 0.0  # the next window's probe: nobody is in flight in it yet
        if not self._seen:
            return self._probe_wait(now)
        if self._budget() > 0:
            return 0.0
        if self._window_end is None:
            return None  # the answers in flight will tell
        return self._window_end - now

    def _queue_eta(self, now: float, ahead: int) -> float | None:
        wait = self._token_wait(now)
        limit = self._limit
        if wait is None or not self._heard or self._unlimited or limit is None:
            return wait
        window = self._window or DEFAULT_WINDOW
        if self._seen and self._window_end is not None and not self._window_ended(now):
            budget, next_opens = self._budget(), self._window_end - now
        else:
            budget, next_opens = limit, wait + window  # a fresh window: the whole limit
        if ahead < budget:
            return wait
        return max(wait, next_opens) + ((ahead - max(budget, 0)) // limit) * window

    def _slot_interval(self) -> float | None:
        if not self._heard or self._unlimited or self._limit is None:
            return None
        return (self._window or DEFAULT_WINDOW) / self._limit

    def _window_budget(self) -> int | None:
        return None if self._slot_interval() is None else self._limit

    def _counts(self, now: float) -> tuple[int | None, float | None]:
        if self._window_end is None:
            return self._left, self._reset
        if self._window_ended(now):
            return self._limit, None  # the window has reopened, as far as this client knows
        return self._left, self._window_end

    def _window_ended(self, now: float) -> bool:
        return self._window_end is not None and now >= self._window_end

    def _budget(self) -> int:
        left = self._left if self._left is not None else (self._limit or 0)
        return left - self._in_flight

    def _probe_wait(self, now: float) -> float:
        if self._epoch_in_flight == 0:
            return 0.0
        return max(0.0, self._probe_sent_at + PROBE_PATIENCE - now)

    # -- commands -----------------------------------------------------------------------------

    def _on_admit(self, now: float) -> int:
        if self._window_ended(now):
            self._start_epoch()
        if not self._heard or not self._seen:
            self._probe_sent_at = now
        self._in_flight += 1
        self._epoch_in_flight += 1
        return self._epoch

    def _start_epoch(self) -> None:
        self._epoch += 1
        self._seen = False
        self._left = None
        self._window_end = None
        self._epoch_in_flight = 0

    def _on_return(self, permit: Permit, *, counted: bool) -> None:
        self._in_flight = max(0, self._in_flight - 1)
        current = permit.epoch == self._epoch
        if current:
            self._epoch_in_flight = max(0, self._epoch_in_flight - 1)
        if counted and current and self._left is not None:
            # It left but no answer came: no later answer may reflect it yet, and erring low
            # costs one slot at most.
            self._left = max(0, self._left - 1)

    def _learn(self, permit: Permit, status: int | None, reading: Reading, now: float) -> None:
        was_unpaced = self._limit is None or self._unlimited
        super()._learn(permit, status, reading, now)
        if reading.unlimited:
            self._heard = True
            self._left = None
        elif reading.limit is not None:
            self._heard = True
            if was_unpaced:
                self._seen = False  # pacing starts now: this answer seeds the window
            if reading.remaining is not None:
                self._note_left(permit, reading.remaining, now)
        elif reading.unpaced:
            self._heard = True
            self._left = None  # no count any more: nothing is being counted

    def _note_left(self, permit: Permit, left: int, now: float) -> None:
        if permit.epoch != self._epoch:
            return  # sent under an earlier estimate: its count may belong to either window
        window = self._window or DEFAULT_WINDOW
        if not self._seen:
            self._seen = True
            self._left, self._left_seen_at = left, now
            self._window_end = now + window + WINDOW_MARGIN
            return
        current = self._left if self._left is not None else left
        if left < current:
            # Answers overtake each other; the lowest count is the latest.
            self._left, self._left_seen_at = left, now
        elif left > current and permit.granted_at > self._left_seen_at:
            # Sent after a lower count had arrived, yet counted higher: a new window opened.
            self._left, self._left_seen_at = left, now
            self._window_end = now + window + WINDOW_MARGIN

    def _on_shared_429(self, until: float) -> None:
        # The window is spent until then; the next one starts with a probe.
        self._seen = True
        self._left = 0
        self._window_end = until
