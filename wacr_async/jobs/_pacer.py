"""``SharedPacer``: one pace per token for every process that sends with it.

The server counts a token's calls in fixed windows: a window opens at the first request after
the previous one ended and lets ``limit`` requests through (``X-RateLimit-Remaining`` is the
exact count left). The pacer follows those windows in one shared row (per base URL and
SHA-256 of the token: the token itself is never stored), on the database's clock
(``clock_timestamp()``), so workers on machines with different clocks agree:

* a request takes a slot of the current window in one statement, at once, while the window
  has slots left; when it is full, callers wait for its end and ask again;
* the first request of a window opens it; the answer that says it opened the server's window
  (``Remaining = limit - 1``) fixes the window's end at "when that answer came + window", a
  bound the server's window cannot outlast, whoever in the fleet sees it;
* a slot is not handed out in the last moments of a window (``min(0.5 s, window / 10)``) so
  that a request cannot reach the server after its window ended and open the next one early;
  a window whose opening no answer confirmed is followed by the same margin;
* a 429 saying the window is spent (``Remaining: 0``) closes the window until its
  ``Retry-After``, for every process; so does a success reporting 0 left (someone outside the
  pacer spends the token);
* until a first answer says the limit, one request goes at a time (a probe every 0.25 s).

Known limits: a request that took a slot but waits longer than that margin before it reaches
the server (a full connection pool, a slow TLS handshake, a lagging event loop) lands in the
next window, which the pacer still hands out whole: up to one 429 per such late request. And a
window whose first counted request got a 4xx answer is never confirmed: only the margin
guards its end.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Mapping
from typing import Any

from .. import _config
from .._pacing import MAX_SHARED_WAIT, Lane, Permit, Priority, RateLimitHit, RateLimitState
from .._pacing.gate import too_long
from .._pacing.headers import header_number, header_text
from ._db import Pool, open_pool, psycopg, psycopg_pool

__all__ = ["SharedPacer"]

log = logging.getLogger("wacr_async.jobs")

DEFAULT_WINDOW = 60.0
# Until a first answer says the limit, one probe goes this often; the others ask again sooner.
_PROBE_INTERVAL = 0.25
_PROBE_POLL = 0.1
# No slot this close to a window's end (at most a tenth of the window), and this long after a
# window whose opening no answer confirmed: the time a request may take to reach the server.
_GRACE = 0.5
_COOLDOWN_MARGIN = 0.1
# The epoch of a permit that took no slot (an unlimited token).
_NO_SLOT = -1

_ENSURE_SQL = """
INSERT INTO wacr_pacing (base_url, token_sha256) VALUES (%s, %s)
ON CONFLICT (base_url, token_sha256) DO NOTHING
"""
# One statement per reservation: decide, then take the slot (no write when the caller waits).
# The time every decision uses is read once the row lock is granted (in ``locked``, which reads
# the locked row): a value computed with the row in ``cur`` is evaluated before the lock, and
# PostgreSQL recomputes it only when the holder changed the row, not when it only locked it.
_RESERVE_SQL = """
WITH cur AS MATERIALIZED (
    SELECT p.*,
           coalesce(p.window_s, %(window)s) AS w,
           make_interval(secs => least(%(grace)s, coalesce(p.window_s, %(window)s) / 10))
               AS grace,
           greatest(1, floor(p.limit_calls * %(headroom)s))::int AS budget
    FROM wacr_pacing p WHERE base_url = %(url)s AND token_sha256 = %(token)s
    FOR UPDATE
), locked AS MATERIALIZED (
    SELECT cur.*, clock_timestamp() AS now FROM cur
), plan AS MATERIALIZED (
    SELECT locked.*,
           CASE
               WHEN unlimited THEN 'free'
               WHEN now < cooldown_until THEN 'wait'
               WHEN limit_calls IS NULL THEN CASE WHEN now >= next_at THEN 'probe' ELSE 'wait' END
               WHEN win_end IS NOT NULL AND now < win_end THEN
                   CASE WHEN win_used < budget AND now < win_end - grace THEN 'take'
                        ELSE 'wait' END
               WHEN win_end IS NOT NULL AND NOT win_confirmed AND now < win_end + grace
                   THEN 'wait'
               ELSE 'open'
           END AS action
    FROM locked
), taken AS (
    UPDATE wacr_pacing p
    SET win_used = CASE plan.action WHEN 'open' THEN 1
                                    WHEN 'free' THEN plan.win_used
                                    ELSE plan.win_used + 1 END,
        win_epoch = plan.win_epoch + (plan.action = 'open')::int,
        win_end = CASE WHEN plan.action = 'open' THEN plan.now + make_interval(secs => plan.w)
                       ELSE plan.win_end END,
        win_confirmed = plan.win_confirmed AND plan.action <> 'open',
        next_at = CASE WHEN plan.action = 'probe'
                       THEN plan.now + make_interval(secs => %(probe)s) ELSE plan.next_at END
    FROM plan
    WHERE p.base_url = plan.base_url AND p.token_sha256 = plan.token_sha256
      AND plan.action <> 'wait'
    RETURNING p.win_epoch
)
SELECT plan.action,
       coalesce((SELECT win_epoch FROM taken), plan.win_epoch),
       CASE WHEN plan.action <> 'wait' THEN 0.0 ELSE
           extract(epoch FROM greatest(
               plan.cooldown_until,
               CASE WHEN plan.limit_calls IS NULL
                        THEN least(plan.next_at, plan.now + make_interval(secs => %(poll)s))
                    WHEN plan.win_end IS NULL THEN plan.now
                    WHEN plan.win_confirmed THEN plan.win_end
                    ELSE plan.win_end + plan.grace END
           ) - plan.now)::float8
       END
FROM plan
"""
# What one answer says about the shared window. %(bound)s: the answer's request is in a
# server window ending within one window from now; %(opener)s: that request opened it;
# %(spent)s: the server said none is left, so the window stays closed until its end, even if
# a slot is handed back afterwards.
_OBSERVE_SQL = """
UPDATE wacr_pacing p
SET cooldown_until = CASE
        WHEN %(spent)s AND %(epoch)s = win_epoch THEN greatest(
            cooldown_until, win_end,
            CASE WHEN %(opener)s THEN clock_timestamp() + make_interval(secs => %(bound)s) END)
        ELSE cooldown_until END,
    limit_calls = CASE WHEN %(learn)s THEN %(limit)s ELSE limit_calls END,
    window_s = CASE WHEN %(learn)s THEN %(window)s ELSE window_s END,
    unlimited = CASE WHEN %(learn)s THEN %(unlimited)s ELSE unlimited END,
    win_end = CASE
        WHEN %(opener)s AND %(epoch)s = win_epoch AND NOT win_confirmed
            THEN clock_timestamp() + make_interval(secs => %(bound)s)
        WHEN %(opener)s
            THEN greatest(coalesce(win_end, '-infinity'),
                          clock_timestamp() + make_interval(secs => %(bound)s))
        ELSE win_end END,
    win_confirmed = win_confirmed OR %(opener)s,
    win_used = CASE
        WHEN %(epoch)s = win_epoch THEN greatest(win_used, %(counted)s)
        -- A request of an earlier window reached the server after that window ended and
        -- opened the one being filled now: it holds one of its slots.
        WHEN %(opener)s THEN win_used + 1
        ELSE win_used END
WHERE base_url = %(url)s AND token_sha256 = %(token)s
"""
# A 429 saying the window is spent: nobody sends until the server's window really ends.
_SPENT_SQL = """
UPDATE wacr_pacing
SET cooldown_until = greatest(cooldown_until, clock_timestamp() + make_interval(secs => %(wait)s)),
    win_end = greatest(coalesce(win_end, '-infinity'),
                       clock_timestamp() + make_interval(secs => %(wait)s)),
    win_used = greatest(win_used, coalesce(limit_calls, %(limit)s, win_used)),
    win_confirmed = true,
    remaining = 0, remaining_at = clock_timestamp()
WHERE base_url = %(url)s AND token_sha256 = %(token)s
RETURNING extract(epoch FROM cooldown_until - clock_timestamp())::float8
"""
# A slot whose request never left goes back, if its window is still the one being filled.
_RETURN_SQL = """
UPDATE wacr_pacing
SET win_used = greatest(0, win_used - 1),
    next_at = CASE WHEN limit_calls IS NULL THEN least(next_at, clock_timestamp())
                   ELSE next_at END
WHERE base_url = %s AND token_sha256 = %s AND win_epoch = %s
  AND (win_end IS NULL OR clock_timestamp() < win_end)
"""


class SharedPacer:
    """A rate limiter shared through PostgreSQL by every process sending with one token.

    Give it to each client as ``rate_limiter=``: web workers, job workers, scripts. ``limit``
    ``(calls, window_seconds)`` sets the limit up front (otherwise it is learnt from the
    server's headers); ``headroom`` is the fraction of each window's calls used (the default,
    1.0, uses all of it: the window's end is taken from the server's answers, not guessed).

    Example::

        pacer = jobs.SharedPacer("postgresql://db/wacr", token)
        async with wacr.Client(token, rate_limiter=pacer) as client:
            await client.messages.send_text("+15550001111", "Hi")
    """

    def __init__(
        self,
        dsn: str,
        token: str | None = None,
        *,
        base_url: str | None = None,
        limit: tuple[int, float] | None = None,
        headroom: float = 1.0,
        pool: Pool | None = None,
    ) -> None:
        if not 0 < headroom <= 1:
            raise ValueError(f"headroom must be in (0, 1], not {headroom!r}")
        self._dsn = dsn
        self._url = _config.resolve_base_url(base_url)
        self._token_hash = hashlib.sha256(_config.resolve_token(token).encode()).hexdigest()
        self._headroom = headroom
        self._fixed = limit
        self._pool = pool
        self._owns_pool = pool is None
        self._ready: asyncio.Future[None] | None = None
        self._limit: int | None = None if limit is None else limit[0]
        self._window: float | None = None if limit is None else float(limit[1])
        self._unlimited = False
        self._remaining: int | None = None
        self._cooldown_until = 0.0  # time.time() of the last shared cooldown's end
        self._returns: set[asyncio.Task[None]] = set()

    def __repr__(self) -> str:
        return f"SharedPacer(base_url={self._url!r}, token_sha256={self._token_hash[:12]}…)"

    @property
    def key(self) -> tuple[str, str]:
        """The row this pacer shares: (base URL, SHA-256 of the token)."""
        return self._url, self._token_hash

    @property
    def state(self) -> RateLimitState:
        """What this process last learnt (the shared row holds the pace itself)."""
        cooling = self._cooldown_until if self._cooldown_until > time.time() else None
        if self._unlimited:
            return RateLimitState(unlimited=True, cooling_down_until=cooling)
        return RateLimitState(
            limit=self._limit,
            remaining=self._remaining,
            window=self._window,
            cooling_down_until=cooling,
        )

    def lane(self, *, priority: Priority = "normal", share: float | None = None) -> Lane:
        """A lane for a client view or a batch run. Every lane takes its slots from the one
        shared row, in the order they are asked for: priority and share order the calls of one
        process, not the fleet."""
        return Lane(priority=priority, share=share)

    async def open(self) -> None:
        """Connect and make sure the token's row exists (the first ``acquire`` does it
        otherwise): a worker calls it before taking work, so its first send waits for nothing.

        Example::

            await pacer.open()
        """
        await self._open()

    async def acquire(self, lane: Lane, *, deadline: float | None = None) -> Permit:
        """Take a slot of the token's current window, or wait for the next window (on this
        loop's clock).

        With ``deadline`` (``loop.time()``), a wait past it raises ``RateLimitError`` at once
        (``shared=True``, ``retry_after`` = the wait) and takes nothing.
        """
        pool = await self._open()
        loop = asyncio.get_running_loop()
        if self._unlimited and self._cooldown_until <= time.time():
            # The server does not count this token: nothing to share until it says otherwise.
            return Permit(lane, epoch=_NO_SLOT, granted_at=loop.time())
        params = {
            "window": DEFAULT_WINDOW if self._window is None else self._window,
            "headroom": self._headroom,
            "grace": _GRACE,
            "probe": _PROBE_INTERVAL,
            "poll": _PROBE_POLL,
            "url": self._url,
            "token": self._token_hash,
        }
        while True:
            async with pool.connection() as conn:
                cur = await conn.execute(_RESERVE_SQL, params)
                row = await cur.fetchone()
                if row is None:  # the row went away (a cleanup): make it again
                    await conn.execute(_ENSURE_SQL, (self._url, self._token_hash))
                    continue
            action, epoch, wait = str(row[0]), int(row[1]), float(row[2])
            if action != "wait":
                return Permit(
                    lane, epoch=_NO_SLOT if action == "free" else epoch, granted_at=loop.time()
                )
            if deadline is not None and loop.time() + wait > deadline:
                raise too_long(wait)
            await asyncio.sleep(max(wait, 0.001))

    def release(self, permit: Permit) -> None:
        """The request never left: its slot goes back to the window it came from, if that
        window is still being filled (a slot of a window that ended is gone either way)."""
        if permit.returned or permit.epoch == _NO_SLOT or self._pool is None:
            return
        permit.returned = True
        task = asyncio.get_running_loop().create_task(self._give_back(permit.epoch))
        self._returns.add(task)
        task.add_done_callback(self._returns.discard)

    async def record(
        self,
        permit: Permit,
        *,
        status: int | None,
        headers: Mapping[str, str] | None,
        retry_after: float | None = None,
    ) -> RateLimitHit | None:
        """Learn from an answer; a 429 saying the window is spent holds every process until
        the server's window ends."""
        if permit.returned:
            return None
        permit.returned = True
        if headers is None:
            return None  # no answer: the slot stays spent
        remaining = header_number(header_text(headers, "X-RateLimit-Remaining"))
        learnt = self._learn(status, headers)
        if status == 429:
            wait = retry_after
            if wait is None:
                wait = header_number(header_text(headers, "Retry-After"))
            shared = remaining is not None and remaining <= 0 and wait is not None
            if wait is None or not shared or wait > MAX_SHARED_WAIT:
                if learnt:
                    await self._observe(permit.epoch, learnt=True)
                return RateLimitHit(wait, shared=False)
            await self._window_spent(wait + _COOLDOWN_MARGIN)
            return RateLimitHit(wait, shared=True)
        if remaining is None or self._limit is None or self._unlimited:
            if learnt:
                await self._observe(permit.epoch, learnt=True)
            return None
        left = int(remaining)
        self._remaining = left
        success = status is not None and status < 400
        opener = success and left == self._limit - 1
        spent = success and left <= 0
        if learnt or opener or spent:
            counted = self._limit - left if success else 0
            await self._observe(
                permit.epoch, learnt=learnt, opener=opener, spent=spent, counted=counted
            )
        return None

    async def aclose(self) -> None:
        if self._returns:
            await asyncio.gather(*self._returns, return_exceptions=True)
        if self._owns_pool and self._pool is not None:
            await self._pool.close()
        self._pool = None
        self._ready = None

    # -- internals -------------------------------------------------------------------------

    async def _open(self) -> Pool:
        if self._ready is None:
            self._ready = asyncio.get_running_loop().create_task(self._connect())
        await asyncio.shield(self._ready)
        assert self._pool is not None
        return self._pool

    async def _connect(self) -> None:
        if self._pool is None:
            self._pool = await open_pool(self._dsn, max_size=4, name="wacr-pacer", durable=False)
        async with self._pool.connection() as conn:
            await conn.execute(_ENSURE_SQL, (self._url, self._token_hash))
            if self._fixed is not None:
                await conn.execute(
                    "UPDATE wacr_pacing SET limit_calls = %s, window_s = %s, unlimited = false "
                    "WHERE base_url = %s AND token_sha256 = %s",
                    (self._fixed[0], float(self._fixed[1]), self._url, self._token_hash),
                )

    def _learn(self, status: int | None, headers: Mapping[str, str]) -> bool:
        """Read the limit and window; True when they differ from what this process knew."""
        if self._fixed is not None:
            return False
        limit_raw = header_text(headers, "X-RateLimit-Limit")
        unlimited = limit_raw is not None and limit_raw.strip().lower() == "unlimited"
        limit = None if unlimited else header_number(limit_raw)
        window = header_number(header_text(headers, "X-RateLimit-Window")) or self._window
        if limit is None and not unlimited:
            if limit_raw is not None or status is None or not 200 <= status < 300:
                return False
            unlimited = True  # a success without rate-limit headers: not limited
        new = (None if limit is None else int(limit), window, unlimited)
        if new == (self._limit, self._window, self._unlimited):
            return False
        self._limit, self._window, self._unlimited = new
        return True

    async def _observe(
        self,
        epoch: int,
        *,
        learnt: bool,
        opener: bool = False,
        spent: bool = False,
        counted: int = 0,
    ) -> None:
        params: dict[str, Any] = {
            "learn": learnt,
            "limit": self._limit,
            "window": self._window,
            "unlimited": self._unlimited,
            "opener": opener and epoch != _NO_SLOT,
            "spent": spent and epoch != _NO_SLOT,
            "epoch": epoch,
            "bound": DEFAULT_WINDOW if self._window is None else self._window,
            "counted": counted,
            "url": self._url,
            "token": self._token_hash,
        }
        async with (await self._open()).connection() as conn:
            await conn.execute(_OBSERVE_SQL, params)

    async def _window_spent(self, seconds: float) -> None:
        params = {
            "wait": seconds,
            "limit": self._limit,
            "url": self._url,
            "token": self._token_hash,
        }
        async with (await self._open()).connection() as conn:
            cur = await conn.execute(_SPENT_SQL, params)
            row = await cur.fetchone()
        self._remaining = 0
        if row is not None:
            self._cooldown_until = time.time() + float(row[0])

    async def _give_back(self, epoch: int) -> None:
        pool = self._pool
        if pool is None:
            return
        try:
            async with pool.connection() as conn:
                await conn.execute(_RETURN_SQL, (self._url, self._token_hash, epoch))
        except (psycopg.Error, psycopg_pool.PoolTimeout, psycopg_pool.PoolClosed) as exc:
            # Nobody awaits this: a slot not handed back only leaves its window one short.
            log.debug("jobs: a pacing slot was not handed back: %s", exc)
        except Exception:
            # It runs in the background: whatever went wrong is logged, never left in the task.
            log.warning("jobs: a pacing slot was not handed back", exc_info=True)
