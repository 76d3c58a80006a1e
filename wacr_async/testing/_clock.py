"""The sandbox clock: wall time plus an offset tests can move forward.

Everything with a business meaning (timestamps, OTP expiry, the OTP verify/resend limiters,
the monthly conversation count) reads this clock, so a test can expire a code without
sleeping. The per-token API rate limiter deliberately does *not* use it: clients really
wait on that one, so it runs on real monotonic time.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

__all__ = ["Clock", "iso", "parse_iso"]

# Laravel's ``toIso8601String()``: second precision, explicit UTC offset.
_ISO_FORMAT = "%Y-%m-%dT%H:%M:%S+00:00"


class Clock:
    """Wall-clock time that tests can advance (or freeze) without sleeping.

    Example::

        clock = Clock()
        start = clock.time()
        clock.advance(600)          # ten minutes later, instantly
        assert clock.time() - start >= 600
    """

    __slots__ = ("_frozen_at", "_offset")

    def __init__(self, *, start: datetime | None = None, frozen: bool = False) -> None:
        self._offset = 0.0 if start is None else start.timestamp() - time.time()
        self._frozen_at: float | None = None
        if frozen:
            self._frozen_at = time.time() if start is None else start.timestamp()

    def time(self) -> float:
        """Seconds since the epoch, as the sandbox sees it."""
        if self._frozen_at is not None:
            return self._frozen_at
        return time.time() + self._offset

    def now(self) -> datetime:
        """The sandbox's current time as an aware UTC datetime."""
        return datetime.fromtimestamp(self.time(), UTC)

    def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds`` (never backwards: ids must stay time-ordered).

        Example::

            sandbox.clock.advance(11 * 60)   # the 10-minute OTP is now expired
        """
        if seconds < 0:
            raise ValueError("the sandbox clock only moves forward")
        if self._frozen_at is not None:
            self._frozen_at += seconds
        else:
            self._offset += seconds

    def freeze(self) -> None:
        """Stop time at its current value; only :meth:`advance` moves it afterwards."""
        if self._frozen_at is None:
            self._frozen_at = self.time()

    def unfreeze(self) -> None:
        """Let time run again from where it stands."""
        if self._frozen_at is not None:
            self._offset = self._frozen_at - time.time()
            self._frozen_at = None

    def iso(self) -> str:
        """The current time formatted like the API's timestamps."""
        return iso(self.time())


def iso(timestamp: float) -> str:
    """Format epoch seconds the way the API does: ``2025-01-01T10:00:00+00:00``.

    Example::

        assert iso(0) == "1970-01-01T00:00:00+00:00"
    """
    return time.strftime(_ISO_FORMAT, time.gmtime(timestamp))


def parse_iso(text: str) -> datetime:
    """Parse an API timestamp (or any ISO 8601 string) into an aware UTC datetime."""
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)
