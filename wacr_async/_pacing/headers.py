"""The edge where answers come in: ``X-RateLimit-*`` headers read into one plain value.

This is the only place that sees the wall clock: an ``X-RateLimit-Reset`` (a Unix time) is
turned into loop time here, once, so everything behind it runs on the loop's clock alone.
Both functions are pure.

Example::

    reading = read_headers(response.headers, status=200, now=loop.time(), wall=time.time())
    if reading.limit is not None:
        print(reading.remaining, "of", reading.limit, "left")
"""

from __future__ import annotations

import email.utils
import math
from collections.abc import Mapping

import attrs

__all__ = [
    "MAX_SHARED_WAIT",
    "STATE_HEADERS",
    "Reading",
    "header_number",
    "header_text",
    "judge_429",
    "read_headers",
    "shape_of",
    "supersedes",
]

# A token-wide 429 asking for longer than this is the caller's to decide, not a reason to
# freeze every request of the client (the retry loop gives up on such waits too).
MAX_SHARED_WAIT = 90.0


@attrs.frozen(slots=True, kw_only=True)
class Reading:
    """What one answer said about the token's limit; times are in loop time."""

    limit: int | None = None
    remaining: int | None = None
    unlimited: bool = False
    # A success with no limit header at all: the token is not being limited.
    unpaced: bool = False
    window: float | None = None
    # The window length read from ``Date`` when no window header came: a guess, used only
    # while nothing better is known.
    window_guess: float | None = None
    reset: float | None = None


def read_headers(
    headers: Mapping[str, str],
    *,
    status: int | None,
    now: float,
    wall: float,
    guess_window: bool = True,
) -> Reading:
    """Read the rate-limit headers of one answer; ``now`` is loop time, ``wall`` Unix time.

    ``guess_window=False`` skips reading a window length from ``Date`` (``window_guess`` is
    None then): a caller that already knows the window spares a date parse per answer.
    """
    limit_raw = header_text(headers, "X-RateLimit-Limit")
    remaining_raw = header_text(headers, "X-RateLimit-Remaining")
    reset_wall = _as_wall(header_number(header_text(headers, "X-RateLimit-Reset")), wall)
    reset = None if reset_wall is None else now + (reset_wall - wall)
    window = header_number(header_text(headers, "X-RateLimit-Window"))
    if window is not None and window <= 0:
        window = None
    guess = None
    if window is None and guess_window:
        guess = _window_from_date(headers, reset_wall, status)
    if _is_unlimited(limit_raw) or _is_unlimited(remaining_raw):
        # A whitelisted caller: the server does not count its requests.
        return Reading(unlimited=True, window=window, window_guess=guess, reset=reset)
    limit = header_number(limit_raw)
    count = header_number(remaining_raw)
    return Reading(
        limit=None if limit is None else int(limit),
        remaining=None if count is None else int(count),
        unpaced=limit_raw is None and status is not None and 200 <= status < 300,
        window=window,
        window_guess=guess,
        reset=reset,
    )


# The headers whose presence decides what an answer can tell ``state``.
STATE_HEADERS = (
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
    "X-RateLimit-Window",
    "Date",
)
_SUCCESS = 1 << len(STATE_HEADERS)


def shape_of(headers: Mapping[str, str], status: int | None) -> int | None:
    """Which of :data:`STATE_HEADERS` an answer carries, and whether it is a success, as bits.

    None for a mapping whose names are case-sensitive (a plain dict): ``in`` cannot tell there.
    Finding the names is a fraction of reading them, which is what :func:`supersedes` spares.
    """
    if not hasattr(headers, "getall"):
        return None
    limit, remaining, reset, window, date = STATE_HEADERS
    return (
        (limit in headers)
        | (remaining in headers) << 1
        | (reset in headers) << 2
        | (window in headers) << 3
        | (date in headers) << 4
        | (_SUCCESS if status is not None and 200 <= status < 300 else 0)
    )


def supersedes(newer: int, older: int) -> bool:
    """Whether an answer shaped ``newer`` tells ``state`` all that one shaped ``older`` did.

    It must carry every header the older one carried and be a success exactly when the older
    one was (a success without limit headers says "not limited"), so reading only the newer
    gives what reading both in order gives.

    Example::

        supersedes(shape_of(h200, 200), shape_of(h200_earlier, 200))   # same headers: True
    """
    return (older & ~newer) == 0 and (older ^ newer) & _SUCCESS == 0


def judge_429(reading: Reading, retry_after: float | None, now: float) -> tuple[float | None, bool]:
    """How long a 429 asks to wait, and whether that wait holds the whole token.

    Only ``X-RateLimit-Remaining: 0`` says the token's window is spent. With budget left, or
    without the header, the 429 came from a narrower limit (an OTP limit per phone), which
    holds only its own call.
    """
    wait = retry_after
    spent = reading.remaining is not None and reading.remaining <= 0
    if wait is None and reading.reset is not None and (reading.remaining is None or spent):
        # X-RateLimit-Reset times the token's window, not a narrower limit's.
        wait = max(0.0, reading.reset - now)
    shared = spent and wait is not None and wait <= MAX_SHARED_WAIT
    return wait, shared


def header_text(headers: Mapping[str, str], name: str) -> str | None:
    """The header's value, looked up case-insensitively in any mapping."""
    value = headers.get(name)
    if value is None and not hasattr(headers, "getall"):
        # A plain dict: look the name up case-insensitively (aiohttp's headers already are).
        lowered = name.lower()
        for key, candidate in headers.items():
            if key.lower() == lowered:
                return candidate
    return value


def header_number(value: str | None) -> float | None:
    """A header value as a finite number, or None when it is missing or unreadable."""
    if value is None:
        return None
    try:
        number = float(value.strip())
    except ValueError:
        return None
    return number if math.isfinite(number) else None  # NaN and infinities are no numbers


def _is_unlimited(value: str | None) -> bool:
    return value is not None and value.strip().lower() == "unlimited"


def _as_wall(reset: float | None, wall: float) -> float | None:
    # Servers send a Unix time; a small number can only mean "seconds from now".
    if reset is None:
        return None
    return reset if reset > 1e9 else wall + reset


def _window_from_date(
    headers: Mapping[str, str], reset_wall: float | None, status: int | None
) -> float | None:
    if reset_wall is None or status is None or status >= 400:
        return None
    # No window header: a success's reset is the server's "now + window", and its Date
    # header is the server's "now".
    date = header_text(headers, "Date")
    try:
        parsed = email.utils.parsedate_to_datetime(date) if date else None
    except (TypeError, ValueError):
        return None  # a Date header that is no date says nothing about the window
    if parsed is None:
        return None
    length = reset_wall - parsed.timestamp()
    return length if 0 < length <= 3600 else None
