"""``SharedPacer``: one pace per token for every process that sends with it.

Each request reserves the next slot of one row (per base URL and SHA-256 of the token: the
token itself is never stored) in one statement, on the database's clock
(``clock_timestamp()``), so workers on machines with different clocks still space their
requests evenly: ``next_at = greatest(next_at, now, cooldown_until) + window / (limit *
headroom)``. The limit and window are learnt from ``X-RateLimit-*`` headers by whichever
process sees them first. A 429 saying the token's window is spent (``X-RateLimit-Remaining:
0``) sets ``cooldown_until`` for everyone; so does a success reporting 0 remaining (someone
outside the pacer spends the token), for a short probe interval.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Mapping

from .. import _config
from .._pacing import MAX_SHARED_WAIT, Lane, Permit, Priority, RateLimitHit, RateLimitState
from .._pacing.gate import too_long
from .._pacing.headers import header_number, header_text
from ._db import Pool, open_pool

__all__ = ["SharedPacer"]

DEFAULT_WINDOW = 60.0
# Until a first answer says the limit, requests go this far apart.
_PROBE_INTERVAL = 0.25
# After a success reporting nothing left: everyone waits this long, then one request finds out.
_SPENT_PAUSE = 1.0
_COOLDOWN_MARGIN = 0.1

_ENSURE_SQL = """
INSERT INTO wacr_pacing (base_url, token_sha256) VALUES (%s, %s)
ON CONFLICT (base_url, token_sha256) DO NOTHING
"""
_RESERVE_SQL = """
WITH slot AS (
    SELECT greatest(next_at, clock_timestamp(), cooldown_until) AS start,
           CASE WHEN unlimited THEN 0
                WHEN limit_calls IS NULL THEN %(probe)s
                ELSE coalesce(window_s, %(window)s) / (limit_calls * %(headroom)s) END AS step
    FROM wacr_pacing WHERE base_url = %(url)s AND token_sha256 = %(token)s
    FOR UPDATE
)
UPDATE wacr_pacing p SET next_at = slot.start + make_interval(secs => slot.step)
FROM slot
WHERE p.base_url = %(url)s AND p.token_sha256 = %(token)s
  AND (%(max_wait)s::float8 IS NULL
       OR extract(epoch FROM slot.start - clock_timestamp())::float8 <= %(max_wait)s)
RETURNING extract(epoch FROM slot.start - clock_timestamp())::float8
"""
_WAIT_SQL = """
SELECT extract(epoch FROM greatest(next_at, clock_timestamp(), cooldown_until)
                          - clock_timestamp())::float8
FROM wacr_pacing WHERE base_url = %s AND token_sha256 = %s
"""
_LEARN_SQL = """
UPDATE wacr_pacing SET limit_calls = %s, window_s = %s, unlimited = %s
WHERE base_url = %s AND token_sha256 = %s
"""
_COOLDOWN_SQL = """
UPDATE wacr_pacing
SET cooldown_until = greatest(cooldown_until, clock_timestamp() + make_interval(secs => %s)),
    remaining = %s, remaining_at = clock_timestamp()
WHERE base_url = %s AND token_sha256 = %s
RETURNING extract(epoch FROM cooldown_until - clock_timestamp())::float8
"""


class SharedPacer:
    """A rate limiter shared through PostgreSQL by every process sending with one token.

    Give it to each client as ``rate_limiter=``: web workers, job workers, scripts. ``limit``
    ``(calls, window_seconds)`` sets the pace up front (otherwise it is learnt from the
    server's headers); ``headroom`` is the fraction of the limit used (0.95 leaves room for
    the jitter between reserving a slot and the request arriving).

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
        headroom: float = 0.95,
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

    async def acquire(self, lane: Lane, *, deadline: float | None = None) -> Permit:
        """Reserve the next shared slot and wait for it (on this loop's clock).

        With ``deadline`` (``loop.time()``), a slot further away raises ``RateLimitError``
        at once (``shared=True``, ``retry_after`` = the wait) and reserves nothing.
        """
        pool = await self._open()
        loop = asyncio.get_running_loop()
        if self._unlimited and self._cooldown_until <= time.time():
            # The server does not count this token: nothing to share until it says otherwise.
            return Permit(lane, granted_at=loop.time())
        max_wait = None if deadline is None else max(0.0, deadline - loop.time())
        params = {
            "probe": _PROBE_INTERVAL,
            "window": DEFAULT_WINDOW,
            "headroom": self._headroom,
            "url": self._url,
            "token": self._token_hash,
            "max_wait": max_wait,
        }
        async with pool.connection() as conn:
            cur = await conn.execute(_RESERVE_SQL, params)
            row = await cur.fetchone()
            if row is None:
                cur = await conn.execute(_WAIT_SQL, (self._url, self._token_hash))
                waited = await cur.fetchone()
                wait = float(waited[0]) if waited is not None else 0.0
                error = too_long(wait)
                raise error
        wait = float(row[0])
        if wait > 0:
            await asyncio.sleep(wait)
        return Permit(lane, granted_at=loop.time())

    def release(self, permit: Permit) -> None:
        """The request never left. Its slot passed already; the next ones are not moved."""

    async def record(
        self,
        permit: Permit,
        *,
        status: int | None,
        headers: Mapping[str, str] | None,
        retry_after: float | None = None,
    ) -> RateLimitHit | None:
        """Learn from an answer; a 429 saying the window is spent starts a shared cooldown."""
        if headers is None:
            return None
        remaining = header_number(header_text(headers, "X-RateLimit-Remaining"))
        await self._learn(status, headers)
        if status == 429:
            wait = retry_after
            if wait is None:
                wait = header_number(header_text(headers, "Retry-After"))
            shared = remaining is not None and remaining <= 0 and wait is not None
            if wait is None or not shared or wait > MAX_SHARED_WAIT:
                return RateLimitHit(wait, shared=False)
            await self._cool_down(wait + _COOLDOWN_MARGIN, 0)
            return RateLimitHit(wait, shared=True)
        if remaining is not None:
            self._remaining = int(remaining)
            if remaining <= 0 and status is not None and status < 400:
                await self._cool_down(_SPENT_PAUSE, 0)
        return None

    async def aclose(self) -> None:
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
                    _LEARN_SQL,
                    (self._fixed[0], float(self._fixed[1]), False, self._url, self._token_hash),
                )

    async def _learn(self, status: int | None, headers: Mapping[str, str]) -> None:
        if self._fixed is not None:
            return
        limit_raw = header_text(headers, "X-RateLimit-Limit")
        unlimited = limit_raw is not None and limit_raw.strip().lower() == "unlimited"
        limit = None if unlimited else header_number(limit_raw)
        window = header_number(header_text(headers, "X-RateLimit-Window")) or self._window
        if limit is None and not unlimited:
            if limit_raw is not None or status is None or not 200 <= status < 300:
                return
            unlimited = True  # a success without rate-limit headers: not limited
        new = (None if limit is None else int(limit), window, unlimited)
        if new == (self._limit, self._window, self._unlimited):
            return
        self._limit, self._window, self._unlimited = new
        async with (await self._open()).connection() as conn:
            await conn.execute(_LEARN_SQL, (*new, self._url, self._token_hash))

    async def _cool_down(self, seconds: float, remaining: int) -> None:
        async with (await self._open()).connection() as conn:
            cur = await conn.execute(
                _COOLDOWN_SQL, (seconds, remaining, self._url, self._token_hash)
            )
            row = await cur.fetchone()
        if row is not None:
            self._cooldown_until = time.time() + float(row[0])
