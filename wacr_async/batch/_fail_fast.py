"""Fail fast: a bulk run that keeps failing the same way stops by itself and says why.

One misspelt template makes every item fail with the same code; an unreachable host makes
every item fail to connect. Counting such failures *in a row* (in completion order) stops
the run long before it has burnt through the input, while isolated failures (an opted-out
recipient, a bad phone) never do.
"""

from __future__ import annotations

from .._outcomes import Outcome
from .._pool import require_positive_int
from ..errors import APIError, TransportError

__all__ = ["FailureStreaks"]


def _code_of(error: BaseException) -> str:
    """What "the same error" means: the API's error code, else the error's type."""
    if isinstance(error, APIError) and error.code:
        return error.code
    return type(error).__name__


def _failed_to_connect(error: BaseException) -> bool:
    # A request that never got a connection (refused, DNS, connect timeout): nothing left.
    return isinstance(error, TransportError) and not error.sent


class FailureStreaks:
    """Counts failures in a row; :meth:`add` returns why the run should stop, if it should.

    Example::

        streaks = FailureStreaks(max_consecutive_failures=20, max_connect_failures=5)
        reason = streaks.add(outcome)     # "20 items in a row failed with TEMPLATE_NOT_FOUND"
    """

    __slots__ = ("_code", "_connect", "_same", "max_connect_failures", "max_consecutive_failures")

    def __init__(self, *, max_consecutive_failures: int, max_connect_failures: int) -> None:
        require_positive_int("max_consecutive_failures", max_consecutive_failures)
        require_positive_int("max_connect_failures", max_connect_failures)
        self.max_consecutive_failures = max_consecutive_failures
        self.max_connect_failures = max_connect_failures
        self._code: str | None = None
        self._same = 0
        self._connect = 0

    def add(self, outcome: Outcome) -> str | None:
        """Count ``outcome``; the reason to stop once a streak reaches its limit."""
        if outcome.status == "sent":
            self._code, self._same, self._connect = None, 0, 0
            return None
        if outcome.status != "failed":
            return None  # skipped, unknown, not_attempted: neither breaks nor extends a streak
        error = outcome.error
        if _failed_to_connect(error):
            self._connect += 1
            if self._connect >= self.max_connect_failures:
                return (
                    f"{self._connect} items in a row could not connect to the API "
                    f"(last: {error}); check base_url and the network"
                )
        else:
            self._connect = 0
        code = _code_of(error)
        if code == self._code:
            self._same += 1
        else:
            self._code, self._same = code, 1
        if self._same >= self.max_consecutive_failures:
            return f"{self._same} items in a row failed with {code} (last: {error})"
        return None
