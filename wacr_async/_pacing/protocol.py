"""The pacing seam: what the request path asks of a rate limiter, and the small types it trades.

A call asks its limiter for a :class:`Permit` on its :class:`Lane`, sends, then either gives
the permit back (``release``: the request never left) or reports the answer (``record``).
Anything with these methods can pace a client, a limiter shared between processes included.

Example::

    limiter: RateLimiter = AutoLimiter()
    lane = limiter.lane(priority="high")
    permit = await limiter.acquire(lane, deadline=loop.time() + 5)
    response = await send()
    hit = await limiter.record(permit, status=response.status, headers=response.headers)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, Protocol, runtime_checkable

import attrs

__all__ = ["Lane", "Permit", "Priority", "RateLimitHit", "RateLimitState", "RateLimiter"]

Priority = Literal["high", "normal", "low"]
"""``"high"``: interactive (an OTP inside a web request); ``"low"``: batch work."""

PRIORITIES: tuple[Priority, ...] = ("high", "normal", "low")


class Lane:
    """One stream of calls sharing a priority and, optionally, a cap on the token's window.

    A client view owns one lane, a batch run another. ``share`` (0 < share <= 1) caps the lane
    at that fraction of the token's rate. Low-priority lanes are spaced evenly through the
    window (at ``share``, or the whole rate), which leaves a free slot for any high-priority
    call at almost every moment. Lanes are made by :meth:`RateLimiter.lane`.

    Example::

        bulk = limiter.lane(priority="low", share=0.8)
    """

    __slots__ = ("_next_at", "priority", "share")

    def __init__(self, *, priority: Priority = "normal", share: float | None = None) -> None:
        if priority not in PRIORITIES:
            raise ValueError(f"priority must be 'high', 'normal' or 'low', got {priority!r}")
        if share is not None and not 0.0 < share <= 1.0:
            raise ValueError(f"share must be a fraction in (0, 1], got {share!r}")
        self.priority: Priority = priority
        self.share = share
        # When this lane may next send, in loop time (only paced lanes move it).
        self._next_at = 0.0

    @property
    def paced(self) -> bool:
        """True when this lane's calls are spaced evenly instead of sent as the budget allows."""
        return self.share is not None or self.priority == "low"

    def __repr__(self) -> str:
        return f"Lane(priority={self.priority!r}, share={self.share!r})"


class Permit:
    """Permission for one attempt to leave: its lane, the window it left under, and when.

    Give it back exactly once, with ``release`` or ``record``; a second return is ignored.
    """

    __slots__ = ("epoch", "granted_at", "lane", "returned")

    def __init__(self, lane: Lane, *, epoch: int = 0, granted_at: float = 0.0) -> None:
        self.lane = lane
        self.epoch = epoch
        self.granted_at = granted_at
        self.returned = False

    def __repr__(self) -> str:
        return f"Permit(lane={self.lane!r}, epoch={self.epoch}, granted_at={self.granted_at:.3f})"


@attrs.frozen(kw_only=True)
class RateLimitState:
    """The latest rate-limit facts the client knows, for dashboards (``client.rate_limit``).

    ``limit`` and ``remaining`` are the server's counts (None when unknown, or when the token
    is not limited: ``unlimited`` is True then). ``remaining`` reads ``limit`` again once the
    window is estimated to have reopened. ``reset_at`` is the Unix time the current window is
    expected to end (the client's estimate, sharper than the server's success header),
    ``window`` its length in seconds, and ``cooling_down_until`` the Unix time a shared 429
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
class RateLimitHit:
    """What a 429 means for the call that got it.

    ``wait`` is how long the server asked to wait (None when it did not say). ``shared`` is
    True when the limiter itself now holds every request until the window reopens, so the
    call must not sleep again before its retry.

    Example::

        hit = await limiter.record(permit, status=429, headers=headers, retry_after=30)
        if hit is not None and not hit.shared and hit.wait is not None:
            await asyncio.sleep(hit.wait)   # a narrow limit (one phone's OTP): only this call
    """

    wait: float | None
    shared: bool


@runtime_checkable
class RateLimiter(Protocol):
    """Decides when each request may leave; one per client (or per token, across clients).

    Example::

        class Unpaced:                       # the smallest valid limiter
            state = RateLimitState()
            def lane(self, *, priority="normal", share=None): return Lane(priority=priority)
            async def acquire(self, lane, *, deadline=None): return Permit(lane)
            def release(self, permit): pass
            async def record(self, permit, *, status, headers, retry_after=None): return None
            async def aclose(self): pass
    """

    @property
    def state(self) -> RateLimitState:
        """A snapshot for ``client.rate_limit``."""
        ...

    def lane(self, *, priority: Priority = "normal", share: float | None = None) -> Lane:
        """A lane for one client view or one batch run."""
        ...

    async def acquire(self, lane: Lane, *, deadline: float | None = None) -> Permit:
        """Wait for permission to send.

        ``deadline`` is in the running loop's time (``loop.time()``). If the wait would end
        after it, raise :class:`~wacr_async.RateLimitError` at once (no sleeping first) with
        ``retry_after`` = the wait, ``shared=True`` and ``status=None``. High-priority lanes
        are served before any queued normal or low work.
        """
        ...

    def release(self, permit: Permit) -> None:
        """The request never left: give its slot back."""
        ...

    async def record(
        self,
        permit: Permit,
        *,
        status: int | None,
        headers: Mapping[str, str] | None,
        retry_after: float | None = None,
    ) -> RateLimitHit | None:
        """The request left (``status`` None: no answer came; it still counts).

        Learns from the ``X-RateLimit-*`` headers. On a 429 returns what it means for the
        call; ``shared=True`` says the limiter holds every request until the window reopens.
        """
        ...

    async def aclose(self) -> None:
        """Stop timers and fail anything still waiting."""
        ...
