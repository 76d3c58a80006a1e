"""What each mode reads from answers, and when: a mode that paces by the headers reads every
answer; one that does not (off, fixed) reads only the latest, and only when ``state`` asks."""

from __future__ import annotations

import email.utils

import pytest
from multidict import CIMultiDict

from wacr_async._pacing import AutoLimiter, FixedLimiter, Gate, NoLimiter
from wacr_async._pacing.headers import read_headers, shape_of, supersedes

from .conftest import counts, now, run_virtual, wall_clock


class _CountingHeaders(CIMultiDict[str]):
    """Case-insensitive headers, as aiohttp gives them, that count how often they are read."""

    reads = 0

    def get(self, key: str, default: object = None) -> object:  # type: ignore[override]  # CIMultiDict's get, counted
        type(self).reads += 1
        return super().get(key, default)


@pytest.mark.parametrize(
    "limiter", [NoLimiter(wall=wall_clock), FixedLimiter(6000, wall=wall_clock)]
)
def test_unpaced_modes_read_only_the_latest_answer_when_state_asks(limiter: Gate) -> None:
    async def main() -> None:
        lane = limiter.lane()
        _CountingHeaders.reads = 0
        for remaining in (9, 8, 7):
            permit = await limiter.acquire(lane)
            await limiter.record(
                permit, status=200, headers=_CountingHeaders(counts(10, remaining))
            )
        assert _CountingHeaders.reads == 0, "answers like the one before are kept unread"
        state = limiter.state
        assert (state.limit, state.remaining) == (10, 7), "the latest answer is what counts"
        assert state.reset_at == pytest.approx(wall_clock() + 60, abs=1)
        read_once = _CountingHeaders.reads
        assert read_once > 0
        assert limiter.state.remaining == 7
        assert _CountingHeaders.reads == read_once, "an answer is read once"

    run_virtual(main())


def _answers(*specs: tuple[int, dict[str, str]]) -> list[tuple[int, CIMultiDict[str]]]:
    return [(status, CIMultiDict(headers)) for status, headers in specs]


def _limited(remaining: int, **more: str) -> dict[str, str]:
    return {"X-RateLimit-Limit": "10", "X-RateLimit-Remaining": str(remaining), **more}


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        # An error without headers says nothing: the success before it still stands.
        (
            _answers((200, _limited(7, **{"X-RateLimit-Window": "60"})), (404, {})),
            {"limit": 10, "remaining": 7, "window": 60.0},
        ),
        # A later answer without the window header keeps the window learned earlier.
        (
            _answers((200, _limited(7, **{"X-RateLimit-Window": "60"})), (200, _limited(6))),
            {"limit": 10, "remaining": 6, "window": 60.0},
        ),
        # A success without any limit header says the token is not limited (any more).
        (
            _answers((200, _limited(7)), (201, {})),
            {"limit": None, "remaining": None, "window": None},
        ),
        # A 429 is read at once, after the answers before it.
        (
            _answers(
                (200, _limited(5, **{"X-RateLimit-Window": "30"})),
                (429, _limited(0, **{"Retry-After": "3"})),
            ),
            {"limit": 10, "remaining": 0, "window": 30.0},
        ),
    ],
)
def test_state_is_what_reading_every_answer_in_order_gives(
    answers: list[tuple[int, CIMultiDict[str]]], expected: dict[str, object]
) -> None:
    async def main() -> None:
        lazy, eager = NoLimiter(wall=wall_clock), AutoLimiter(wall=wall_clock)
        for limiter in (lazy, eager):
            lane = limiter.lane()
            for status, headers in answers:
                permit = await limiter.acquire(lane)
                retry_after = 3.0 if status == 429 else None
                await limiter.record(
                    permit, status=status, headers=headers, retry_after=retry_after
                )
        for limiter in (lazy, eager):
            state = limiter.state
            seen = {"limit": state.limit, "remaining": state.remaining, "window": state.window}
            assert seen == expected, limiter

    run_virtual(main())


def test_read_headers_shape_and_supersedes() -> None:
    full = shape_of(CIMultiDict(_limited(3, Date="x")), 200)
    less = shape_of(CIMultiDict(_limited(2)), 200)
    assert full is not None and less is not None
    assert supersedes(full, less)
    assert not supersedes(less, full), "the older one's Date must be read"
    failed = shape_of(CIMultiDict(_limited(2, Date="x")), 404)
    assert failed is not None
    assert not supersedes(failed, full), "a failure never stands in for a success"
    assert shape_of({"X-RateLimit-Limit": "1"}, 200) is None, "a plain dict is read at once"


def test_a_429_is_read_at_once_and_outdates_an_unread_success() -> None:
    async def main() -> None:
        limiter = NoLimiter(wall=wall_clock)
        lane = limiter.lane()
        first, second = await limiter.acquire(lane), await limiter.acquire(lane)
        await limiter.record(first, status=200, headers=counts(10, 4))
        spent = {"X-RateLimit-Limit": "10", "X-RateLimit-Remaining": "0"}
        hit = await limiter.record(second, status=429, headers=spent, retry_after=12.0)
        assert hit is not None and hit.shared, "the cooldown is decided on the spot"
        assert limiter.state.remaining == 0, "the older success is not read over the 429"
        started = now()
        await limiter.acquire(lane)
        assert now() == pytest.approx(started + 12.1)

    run_virtual(main())


def test_unreadable_headers_kept_for_later_never_fail_state() -> None:
    async def main() -> None:
        limiter = NoLimiter(wall=wall_clock)
        permit = await limiter.acquire(limiter.lane())
        await limiter.record(permit, status=200, headers={"X-RateLimit-Limit": object()})  # type: ignore[dict-item]  # a header no server could send
        assert limiter.state.limit is None

    run_virtual(main())


def test_auto_reads_every_answer_and_parses_date_only_while_the_window_is_unknown() -> None:
    async def main() -> None:
        limiter = AutoLimiter(wall=wall_clock)
        lane = limiter.lane()
        date = email.utils.formatdate(wall_clock(), usegmt=True)
        reset = str(int(wall_clock() + 60))
        answer = {
            "X-RateLimit-Limit": "10",
            "X-RateLimit-Remaining": "9",
            "X-RateLimit-Reset": reset,
            "Date": date,
        }
        permit = await limiter.acquire(lane)
        await limiter.record(permit, status=200, headers=answer)
        assert limiter.state.window == pytest.approx(60, abs=1), "guessed from Date"
        assert limiter.state.remaining == 9
        later = {**answer, "X-RateLimit-Remaining": "8", "Date": "not a date"}
        permit = await limiter.acquire(lane)
        await limiter.record(permit, status=200, headers=later)
        assert limiter.state.remaining == 8
        assert limiter.state.window == pytest.approx(60, abs=1)

    run_virtual(main())


def test_read_headers_skips_the_date_when_told() -> None:
    headers = {
        "X-RateLimit-Limit": "10",
        "X-RateLimit-Remaining": "9",
        "X-RateLimit-Reset": "1800000060",
        "Date": email.utils.formatdate(1_800_000_000, usegmt=True),
    }
    guessed = read_headers(headers, status=200, now=0.0, wall=1_800_000_000.0)
    assert guessed.window_guess == pytest.approx(60)
    skipped = read_headers(headers, status=200, now=0.0, wall=1_800_000_000.0, guess_window=False)
    assert skipped.window_guess is None
    assert (skipped.limit, skipped.remaining) == (10, 9)
