"""Watching for new messages, driven through its seam: a ``list`` function over an in-memory
history (newest first, as ``GET /messages`` answers) and a ``sleep`` that records its waits.

Sandbox-backed tests are in test_watch_sandbox.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs
import pytest

import wacr_async as wacr
from wacr_async._envelope import PageMeta
from wacr_async._watch import watch_messages
from wacr_async.pagination import AsyncPager


@attrs.frozen
class Msg:
    id: int
    direction: str = "inbound"


class History:
    """A message history; ``list`` reads it newest first like the API, recording each page."""

    def __init__(self, count: int = 0) -> None:
        self.messages = [Msg(i) for i in range(1, count + 1)]
        self.reads: list[tuple[int, int]] = []  # (per_page, page)
        self.errors: list[Exception] = []

    def add(self, count: int, direction: str = "inbound") -> None:
        start = self.messages[-1].id + 1 if self.messages else 1
        self.messages += [Msg(start + i, direction) for i in range(count)]

    def list(
        self,
        *,
        per_page: int = 100,
        sort: str | None = None,
        filter: Mapping[str, Any] | None = None,
        prefetch: bool = True,
    ) -> AsyncPager[Msg]:
        assert sort == "-created_at"

        async def fetch(page: int) -> tuple[Sequence[Msg], PageMeta]:
            self.reads.append((per_page, page))
            await asyncio.sleep(0)
            if self.errors:
                raise self.errors.pop(0)
            rows = [
                m
                for m in reversed(self.messages)
                if not filter or all(getattr(m, k) == v for k, v in filter.items())
            ]
            total_pages = max(1, -(-len(rows) // per_page))
            chunk = rows[(page - 1) * per_page : page * per_page]
            return chunk, PageMeta(
                total=len(rows),
                per_page=per_page,
                current_page=page,
                total_pages=total_pages,
                has_more=page < total_pages,
            )

        return AsyncPager(fetch, per_page=per_page, prefetch=prefetch)


class Clock:
    """A ``sleep`` that records how long the watch asked to wait, and runs a step per wait."""

    def __init__(self) -> None:
        self.waits: list[float] = []
        self.steps: list[Callable[[], None]] = []

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        assert len(self.waits) < 100, "the watch is polling without end"
        if self.steps:
            self.steps.pop(0)()
        await asyncio.sleep(0)


async def take(watch: Any, count: int) -> list[int]:
    return [(await anext(watch)).id for _ in range(count)]


async def test_by_default_only_messages_arriving_after_the_start_are_yielded() -> None:
    history, clock = History(5), Clock()
    clock.steps = [lambda: history.add(3)]
    watch = watch_messages(history.list, interval=1, sleep=clock.sleep)
    assert await take(watch, 3) == [6, 7, 8]
    assert watch.last_seen_id == 8
    # the first look asks for one message only
    assert history.reads[0] == (1, 1)


async def test_after_id_resumes_from_a_known_point_oldest_first() -> None:
    history, clock = History(9), Clock()
    watch = watch_messages(history.list, after_id=4, per_page=2, sleep=clock.sleep)
    assert await take(watch, 5) == [5, 6, 7, 8, 9]
    # newest first, pages of 2: [9, 8] [7, 6] [5, 4] — the page holding id 4 is the last read
    assert history.reads == [(2, 1), (2, 2), (2, 3)]
    assert clock.waits == []


async def test_an_idle_poll_reads_one_page() -> None:
    history, clock = History(30), Clock()
    clock.steps = [lambda: None, lambda: None, lambda: history.add(1)]
    watch = watch_messages(history.list, interval=1, sleep=clock.sleep)
    assert await take(watch, 1) == [31]
    # the starting point, the first look right away, two idle polls, the poll that finds 31
    assert history.reads == [(1, 1), (50, 1), (50, 1), (50, 1), (50, 1)]


async def test_idle_waits_grow_to_max_interval_and_reset_on_activity() -> None:
    history, clock = History(1), Clock()
    clock.steps = [lambda: None] * 5 + [lambda: history.add(1)] + [lambda: history.add(1)]
    watch = watch_messages(history.list, interval=1, max_interval=10, backoff=2, sleep=clock.sleep)
    assert await take(watch, 2) == [2, 3]
    assert clock.waits == [1, 2, 4, 8, 10, 10, 1]


async def test_a_burst_across_pages_is_yielded_whole_and_in_order() -> None:
    history, clock = History(3), Clock()
    clock.steps = [lambda: history.add(120)]
    watch = watch_messages(history.list, interval=1, sleep=clock.sleep)
    assert await take(watch, 120) == list(range(4, 124))
    assert history.reads[2:] == [(50, 1), (50, 2), (50, 3)]


async def test_filter_is_passed_to_the_listing() -> None:
    history, clock = History(2), Clock()

    def arrivals() -> None:
        history.add(2, "outbound")
        history.add(1, "inbound")

    clock.steps = [arrivals]
    watch = watch_messages(
        history.list, filter={"direction": "inbound"}, interval=1, sleep=clock.sleep
    )
    assert await take(watch, 1) == [5]


async def test_rate_limited_polls_wait_as_long_as_the_server_asks() -> None:
    history, clock = History(1), Clock()
    watch = watch_messages(history.list, after_id=1, interval=1, max_interval=5, sleep=clock.sleep)
    history.errors = [wacr.RateLimitError("slow down", status=429, retry_after=30)]
    clock.steps = [lambda: None, lambda: history.add(1)]
    assert await take(watch, 1) == [2]
    # refused → wait 30 s (beyond max_interval: the server's word wins); then an idle poll
    assert clock.waits == [30, 5]


async def test_transient_failures_are_waited_out() -> None:
    history, clock = History(1), Clock()
    watch = watch_messages(history.list, after_id=1, interval=1, sleep=clock.sleep)
    history.errors = [wacr.ServiceUnavailableError("down", status=503)]
    clock.steps = [lambda: history.add(1)]
    assert await take(watch, 1) == [2]
    assert clock.waits == [2]


async def test_other_errors_end_the_watch() -> None:
    history, clock = History(1), Clock()
    watch = watch_messages(history.list, interval=1, sleep=clock.sleep)
    history.errors = [wacr.InsufficientScopeError("no", status=403, code="INSUFFICIENT_SCOPE")]
    with pytest.raises(wacr.InsufficientScopeError):
        await anext(watch)


async def test_a_service_with_a_list_method_is_accepted() -> None:
    history, clock = History(0), Clock()
    clock.steps = [lambda: history.add(1)]
    watch = watch_messages(history, interval=1, sleep=clock.sleep)
    assert await take(watch, 1) == [1]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"interval": 0}, "interval"),
        ({"max_interval": -1}, "max_interval"),
        ({"backoff": 0.5}, "backoff"),
        ({"after_id": -1}, "after_id"),
        ({"per_page": 500}, "per_page"),
        ({"filter": {"direction": None}}, "filter[direction]"),
    ],
)
def test_bad_settings_fail_locally(kwargs: dict[str, Any], field: str) -> None:
    history = History(0)

    def checked_list(**list_kwargs: Any) -> AsyncPager[Msg]:
        # the real list methods check the filter when called; so does this one
        from wacr_async.filters import encode_filter

        encode_filter(list_kwargs.get("filter"))
        return history.list(**list_kwargs)

    with pytest.raises(wacr.ValidationError) as info:
        watch_messages(checked_list, **kwargs)
    assert info.value.local
    assert field in info.value.fields
