"""Client-wide pacing from the server's ``X-RateLimit-*`` headers, and one shared 429 cooldown.

How the server counts (REFERENCE §1.7): a fixed window per token that opens at the first call
after the previous window ended, ``X-RateLimit-Remaining`` accurate on every answer, but
``X-RateLimit-Reset`` on a success always "now + window", so it cannot say when the window
really ends. The limiter therefore keeps its own estimate:

* The first answer of a window arrives after the server opened that window, so "arrival +
  window length" is a safe upper bound of its end. An answer counted higher than an earlier one,
  for a request sent after that earlier answer arrived, reveals that a new window opened.
* While a window lasts, requests leave only while ``remaining - in_flight > 0``: requests
  already on their way count against the budget, so waiting tasks never all fire at once.
* Once the window is spent, requests wait for the estimated end. The first request of the
  next window goes alone (a probe); its answer says where the new window stands, then the rest
  follow. That costs one round trip per window and keeps a stale estimate from turning into a
  burst of 429s.
* A 429 that speaks for the whole token (``X-RateLimit-Remaining: 0``) puts every request of
  the client into one cooldown until the server's ``Retry-After``; a 429 for a narrower limit
  (an OTP verify limit per phone: budget left, or no such header) holds only its own call.

Waiting requests queue in arrival order and are let through by one timer, not by N sleepers.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import math
import time
from collections import deque
from collections.abc import Mapping

import attrs

from ._config import RateLimitMode
from ._logging import logger
from ._retry import RATE_LIMIT_MAX_WAIT

__all__ = ["RateLimitHit", "RateLimitState", "RateLimiter", "Slot"]

DEFAULT_WINDOW = 60.0
# Slack after an estimated window end or a cooldown: timers and server clocks are not exact.
_WINDOW_MARGIN = 0.05
_COOLDOWN_MARGIN = 0.1
# How long the other requests wait for a new window's probe to answer before trying another.
_PROBE_PATIENCE = 1.0


@attrs.frozen(kw_only=True)
class RateLimitState:
    """The latest rate-limit facts the client knows, for dashboards (``client.rate_limit``).

    ``limit`` and ``remaining`` are the server's counts (None when unknown, or when the token
    is not limited: ``unlimited`` is True then). ``remaining`` reads ``limit`` again once the
    window is estimated to have reopened. ``reset_at`` is the Unix time the current window is
    expected to end (the client's estimate, which is sharper than the server's success
    header), ``window`` its length in seconds, and ``cooling_down_until`` the Unix time a 429
    cooldown ends, if one is running.

    Example::

        state = client.rate_limit
        print(f"{state.remaining}/{state.limit} left, window ends at {state.reset_at}")
    """

    limit: int | None = None
    remaining: int | None = None
    reset_at: float | None = None
    window: float | None = None
    unlimited: bool = False
    cooling_down_until: float | None = None


@attrs.frozen(slots=True)
class Slot:
    """Permission for one request to leave: the window estimate it left under, and when."""

    epoch: int
    sent_at: float


@attrs.frozen(slots=True)
class RateLimitHit:
    """What a 429 means for the call that got it.

    ``wait`` is how long the server asked to wait (None when it did not say); ``shared`` is
    True when the whole client now waits (the token's window is spent), so the call itself
    need not sleep before its retry.
    """

    wait: float | None
    shared: bool


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None and not hasattr(headers, "getall"):
        # A plain dict: look the name up case-insensitively (aiohttp's headers already are).
        lowered = name.lower()
        for key, candidate in headers.items():
            if key.lower() == lowered:
                return candidate
    return value


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value.strip())
    except ValueError:
        return None
    return number if math.isfinite(number) else None  # NaN and infinities are no numbers


def _is_unlimited(value: str | None) -> bool:
    return value is not None and value.strip().lower() == "unlimited"


def _wall_clock(reset: float) -> float:
    # Servers send an epoch timestamp; a small number can only be "seconds from now".
    return reset if reset > 1e9 else time.time() + reset


class RateLimiter:
    """Decides when each request of a client may leave; one per client, shared by its views.

    ``mode`` is ``"auto"`` (pace by the server's headers), ``"off"`` (no pacing; a 429 still
    holds the whole client for the server's ``Retry-After``), or a calls-per-minute integer
    (requests spaced evenly at that pace, plus the 429 cooldown).

    Example::

        limiter = RateLimiter("auto")
        slot = await limiter.acquire()        # waits while the window is spent or cooling down
        try:
            response = await send()
        except BaseException:
            limiter.finish(slot)              # no answer: frees the slot
            raise
        limiter.finish(slot, response.status, response.headers)
    """

    __slots__ = (
        "_cooldown_until",
        "_epoch",
        "_epoch_in_flight",
        "_heard",
        "_in_flight",
        "_interval",
        "_limit",
        "_mode",
        "_next_slot",
        "_probe_sent_at",
        "_remaining",
        "_remaining_seen_at",
        "_seen",
        "_server_reset",
        "_timer",
        "_timer_loop",
        "_unlimited",
        "_waiters",
        "_window",
        "_window_end",
    )

    def __init__(self, mode: RateLimitMode) -> None:
        self._mode = mode
        self._interval = 60.0 / mode if isinstance(mode, int) else 0.0
        self._next_slot = 0.0
        self._cooldown_until = 0.0
        # Until the server's first real answer nothing is known: requests go one at a time,
        # so a restarted process whose window is already spent earns one 429, not thirty.
        self._heard = False
        self._limit: int | None = None
        self._unlimited = False
        self._window: float | None = None
        self._server_reset: float | None = None
        # The current window as the client sees it ("epoch"): whether an answer from it has
        # arrived, the lowest remaining count it reported, and an upper bound of its end.
        self._epoch = 0
        self._seen = False
        self._remaining: int | None = None
        self._remaining_seen_at = 0.0
        self._window_end: float | None = None
        self._probe_sent_at = 0.0
        self._in_flight = 0
        self._epoch_in_flight = 0
        self._waiters: deque[asyncio.Future[Slot]] = deque()
        self._timer: asyncio.TimerHandle | None = None
        self._timer_loop: asyncio.AbstractEventLoop | None = None

    def __repr__(self) -> str:
        return f"RateLimiter(mode={self._mode!r}, in_flight={self._in_flight})"

    @property
    def state(self) -> RateLimitState:
        """A snapshot of what the server last said, with the client's window estimate."""
        now = time.monotonic()
        wall = time.time()
        cooling = self._cooldown_until - now
        cooling_until = wall + cooling if cooling > 0 else None
        if self._unlimited:
            return RateLimitState(unlimited=True, cooling_down_until=cooling_until)
        remaining = self._remaining
        reset_at = self._server_reset
        if self._window_end is not None:
            if now >= self._window_end:
                remaining, reset_at = self._limit, None
            else:
                reset_at = wall + (self._window_end - now)
        return RateLimitState(
            limit=self._limit,
            remaining=remaining,
            reset_at=reset_at,
            window=self._window,
            cooling_down_until=cooling_until,
        )

    @property
    def waiting(self) -> int:
        """How many requests are queued for a slot right now."""
        return sum(1 for waiter in self._waiters if not waiter.done())

    # -- letting requests through ------------------------------------------------------------

    async def acquire(self) -> Slot:
        """Wait until a request may leave; every slot must be given back with :meth:`finish`.

        Cancelling a waiting task leaves no trace; a slot granted to a task cancelled before
        it resumed is given back.
        """
        now = time.monotonic()
        if not self._waiters and self._wait_needed(now) == 0.0:
            return self._admit(now)
        waiter: asyncio.Future[Slot] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        self._pump()
        try:
            return await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.finish(waiter.result())
            else:
                # Leave the queue now: a long cooldown could otherwise gather many of these.
                with contextlib.suppress(ValueError):
                    self._waiters.remove(waiter)
            raise

    def finish(
        self,
        slot: Slot,
        status: int | None = None,
        headers: Mapping[str, str] | None = None,
        *,
        retry_after: float | None = None,
        maybe_counted: bool = False,
    ) -> RateLimitHit | None:
        """Give ``slot`` back and learn from the answer, if one came.

        ``retry_after`` is the wait a 429's body or header asked for (already parsed); the
        return value says what that 429 means for the call (None for any other answer).
        ``maybe_counted`` says a request without an answer may have reached the server
        (a dropped connection, a read timeout): it then stays spent from the window's budget.
        """
        self._in_flight = max(0, self._in_flight - 1)
        current = slot.epoch == self._epoch
        if current:
            self._epoch_in_flight = max(0, self._epoch_in_flight - 1)
        hit = None
        try:
            if headers is not None:
                hit = self._learn(slot, status, headers, retry_after)
            elif maybe_counted and current and self._remaining is not None:
                # No later answer may reflect it yet; erring low costs one slot at most.
                self._remaining = max(0, self._remaining - 1)
        except Exception:
            # Headers this client cannot read must not fail a call whose answer arrived.
            logger.debug("ignored unreadable rate-limit headers", exc_info=True)
        finally:
            self._pump()
        return hit

    def _wait_needed(self, now: float) -> float | None:
        """0: go now; > 0: seconds until a request may go; None: until an answer arrives."""
        if now < self._cooldown_until:
            return self._cooldown_until - now
        mode = self._mode
        if mode == "off":
            return 0.0
        if isinstance(mode, int):
            return max(0.0, self._next_slot - now)
        if not self._heard:
            return self._probe_wait(now)
        if self._unlimited or self._limit is None:
            return 0.0
        if self._window_end is not None and now >= self._window_end:
            self._start_epoch()
        if not self._seen:
            # A new window: its first request goes alone, and its answer sets the budget.
            return self._probe_wait(now)
        remaining = self._remaining if self._remaining is not None else self._limit
        if remaining - self._in_flight > 0:
            return 0.0
        if self._window_end is None:
            return None
        return self._window_end - now

    def _probe_wait(self, now: float) -> float:
        if self._epoch_in_flight == 0:
            return 0.0
        return max(0.0, self._probe_sent_at + _PROBE_PATIENCE - now)

    def _admit(self, now: float) -> Slot:
        if isinstance(self._mode, int):
            self._next_slot = max(now, self._next_slot) + self._interval
        if not self._seen or not self._heard:
            self._probe_sent_at = now
        self._in_flight += 1
        self._epoch_in_flight += 1
        return Slot(self._epoch, now)

    def _start_epoch(self) -> None:
        self._epoch += 1
        self._seen = False
        self._remaining = None
        self._window_end = None
        self._epoch_in_flight = 0

    def _pump(self) -> None:
        """Let queued requests through, in order, while the budget allows."""
        waiters = self._waiters
        while waiters:
            head = waiters[0]
            if head.done():  # cancelled while queued
                waiters.popleft()
                continue
            now = time.monotonic()
            wait = self._wait_needed(now)
            if wait is None:
                return  # the next answer calls _pump again
            if wait > 0.0:
                self._wake_in(wait)
                return
            waiters.popleft()
            head.set_result(self._admit(now))

    def _wake_in(self, delay: float) -> None:
        loop = asyncio.get_running_loop()
        when = loop.time() + delay
        timer = self._timer
        if timer is not None and self._timer_loop is loop and not timer.cancelled():
            if timer.when() <= when:
                return
            timer.cancel()
        self._timer = loop.call_at(when, self._on_timer)
        self._timer_loop = loop

    def _on_timer(self) -> None:
        self._timer = None
        self._pump()

    # -- learning from answers ---------------------------------------------------------------

    def _learn(
        self,
        slot: Slot,
        status: int | None,
        headers: Mapping[str, str],
        retry_after: float | None,
    ) -> RateLimitHit | None:
        now = time.monotonic()
        limit_raw = _header(headers, "X-RateLimit-Limit")
        remaining_raw = _header(headers, "X-RateLimit-Remaining")
        reset = _number(_header(headers, "X-RateLimit-Reset"))
        if reset is not None:
            self._server_reset = _wall_clock(reset)
        self._learn_window(headers, reset, status)

        remaining: int | None = None
        if _is_unlimited(limit_raw) or _is_unlimited(remaining_raw):
            # A whitelisted caller: the server does not count its requests.
            self._heard = self._unlimited = True
            self._limit = self._remaining = None
        else:
            limit = _number(limit_raw)
            count = _number(remaining_raw)
            remaining = None if count is None else int(count)
            if limit is not None:
                self._heard = True
                if self._limit is None or self._unlimited:
                    self._seen = False  # pacing starts now: this answer seeds the window
                self._unlimited = False
                self._limit = int(limit)
                if remaining is not None:
                    self._note_remaining(slot, remaining, now)
            elif limit_raw is None and status is not None and 200 <= status < 300:
                # A success without rate-limit headers: this token is not being limited.
                self._heard = True
                self._limit = None
                self._unlimited = False

        if status != 429:
            return None
        return self._rate_limited(remaining, retry_after, reset, now)

    def _learn_window(
        self, headers: Mapping[str, str], reset: float | None, status: int | None
    ) -> None:
        window = _number(_header(headers, "X-RateLimit-Window"))
        if window is not None and window > 0:
            self._window = window
            return
        if self._window is not None or reset is None or status is None or status >= 400:
            return
        # No window header: a success's reset is the server's "now + window", and its Date
        # header is the server's "now".
        date = _header(headers, "Date")
        try:
            parsed = email.utils.parsedate_to_datetime(date) if date else None
        except (TypeError, ValueError):
            return  # a Date header that is no date says nothing about the window
        if parsed is not None:
            length = _wall_clock(reset) - parsed.timestamp()
            if 0 < length <= 3600:
                self._window = length

    def _note_remaining(self, slot: Slot, remaining: int, now: float) -> None:
        if slot.epoch != self._epoch:
            # Sent under an earlier estimate: its count may belong to either window.
            return
        window = self._window or DEFAULT_WINDOW
        if not self._seen:
            self._seen = True
            self._remaining = remaining
            self._remaining_seen_at = now
            self._window_end = now + window + _WINDOW_MARGIN
            return
        current = self._remaining if self._remaining is not None else remaining
        if remaining < current:
            # Answers overtake each other; the lowest count is the latest.
            self._remaining = remaining
            self._remaining_seen_at = now
        elif remaining > current and slot.sent_at > self._remaining_seen_at:
            # Sent after a lower count had arrived, yet counted higher: a new window opened.
            self._remaining = remaining
            self._remaining_seen_at = now
            self._window_end = now + window + _WINDOW_MARGIN

    def _rate_limited(
        self, remaining: int | None, retry_after: float | None, reset: float | None, now: float
    ) -> RateLimitHit:
        wait = retry_after
        if wait is None and reset is not None and (remaining is None or remaining <= 0):
            # X-RateLimit-Reset times the token's window, not a narrower limit's.
            wait = max(0.0, _wall_clock(reset) - time.time())
        # Only "X-RateLimit-Remaining: 0" says the token's window is spent. With budget left,
        # or without the header, the 429 came from a narrower limit (an OTP limit per phone).
        # A wait beyond what a retry would sit through is the caller's call, not the client's.
        shared = (
            remaining is not None
            and remaining <= 0
            and wait is not None
            and wait <= RATE_LIMIT_MAX_WAIT
        )
        if wait is None:
            return RateLimitHit(None, shared=False)
        if shared:
            until = now + wait + _COOLDOWN_MARGIN
            if until > self._cooldown_until:
                self._cooldown_until = until
                logger.debug("rate limited: every request of this client waits %.2fs", wait)
            # The window is spent until then; the next one starts with a probe.
            self._seen = True
            self._remaining = 0
            self._window_end = until
        return RateLimitHit(wait, shared=shared)
