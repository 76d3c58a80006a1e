"""Polling the newest-first message history for messages that arrived since the last look.

The API has no push channel for messages, so ``client.messages.watch()`` polls
``GET /messages`` (sorted ``-created_at``) and yields, oldest first, every message whose id is
greater than the greatest id already seen. Each poll reads pages only until it meets a message
it has seen (usually one small request). Waits grow while nothing happens (``interval`` up to
``max_interval``, by ``backoff``) and shrink back at the first new message; a 429 waits for the
server's ``retry_after``; transport failures and 5xx answers (already retried by the client)
are waited out the same way as idle polls rather than ending the watch. Other errors — a bad
token, a missing scope, a bad filter — are raised.

Where it starts: by default only messages that arrive after the watch starts are yielded (the
first poll just notes the newest id). Pass ``after_id`` to resume from a known point — for
example the ``last_seen_id`` you stored before a restart — and every later message in the
history is yielded first (the first poll reads, and holds, all of them).

"New" means a greater id: ids grow as rows are stored, so a message stored later always has a
greater id, even when its ``created_at`` is older or equal to another's. Messages stored with a
``created_at`` older than the newest message already seen are found only if they sit on the
pages read before the first seen message; in practice the history is appended in time order.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from typing import Any, Final, Generic, Protocol, TypeVar

from ._validate import check_int_range
from .errors import RateLimitError, ServerError, TransportError, ValidationError
from .filters import MAX_PER_PAGE
from .pagination import AsyncPager

__all__ = ["MessageWatch", "watch_messages"]

logger = logging.getLogger("wacr_async")

POLL_PAGE_SIZE: Final = 50


class _HasId(Protocol):
    @property
    def id(self) -> int: ...


M = TypeVar("M", bound=_HasId)


class _ListMessages(Protocol[M]):
    def __call__(
        self,
        *,
        per_page: int = ...,
        sort: str | None = ...,
        filter: Mapping[str, Any] | None = ...,
        prefetch: bool = ...,
    ) -> AsyncPager[M]: ...


class _HasList(Protocol[M]):
    @property
    def list(self) -> _ListMessages[M]: ...


Sleep = Callable[[float], Awaitable[None]]


def _positive(field: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ValidationError.for_field(field, f"{field} must be a number > 0 (got {value!r})")
    return float(value)


class MessageWatch(Generic[M]):
    """An endless async iterator of new messages; see :func:`watch_messages`.

    ``last_seen_id`` is the id of the last message yielded (or the starting point): store it
    to resume after a restart with ``after_id=``.
    """

    __slots__ = (
        "_backlog",
        "_backoff",
        "_delay",
        "_filter",
        "_interval",
        "_list",
        "_max_interval",
        "_per_page",
        "_polled",
        "_sleep",
        "last_seen_id",
    )

    def __init__(
        self,
        list_messages: _ListMessages[M],
        *,
        filter: Mapping[str, Any] | None,
        interval: float,
        max_interval: float,
        backoff: float,
        after_id: int | None,
        per_page: int,
        sleep: Sleep,
    ) -> None:
        self._list = list_messages
        self._filter = dict(filter) if filter is not None else None
        self._interval = _positive("interval", interval)
        self._max_interval = max(_positive("max_interval", max_interval), interval)
        self._backoff = _positive("backoff", backoff)
        if self._backoff < 1.0:
            raise ValidationError.for_field("backoff", f"backoff must be ≥ 1 (got {backoff!r})")
        check_int_range("per_page", per_page, 1, MAX_PER_PAGE)
        check_int_range("after_id", after_id, 0)
        self._per_page = per_page
        self._sleep = sleep
        self.last_seen_id: int | None = after_id
        self._backlog: list[M] = []  # new messages not yet yielded, newest first
        self._delay = self._interval
        self._polled = False
        # Check the filter now, not at the first poll.
        self._pager(1)

    def __repr__(self) -> str:
        return f"<MessageWatch last_seen_id={self.last_seen_id} next_wait={self._delay:g}s>"

    def __aiter__(self) -> MessageWatch[M]:
        return self

    async def __anext__(self) -> M:
        while not self._backlog:
            if self._polled:
                await self._sleep(self._delay)
            self._polled = True
            await self._poll_politely()
        message = self._backlog.pop()
        self.last_seen_id = message.id
        return message

    async def aclose(self) -> None:
        """Stop watching (nothing runs between polls; this only drops the backlog)."""
        self._backlog.clear()

    async def __aenter__(self) -> MessageWatch[M]:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def _pager(self, per_page: int) -> AsyncPager[M]:
        return self._list(
            per_page=per_page, sort="-created_at", filter=self._filter, prefetch=False
        )

    async def _poll_politely(self) -> None:
        """One poll; the wait before the next grows when idle or refused, resets on news."""
        try:
            found = await self._poll()
        except RateLimitError as exc:
            # Wait at least as long as the server asks, even beyond max_interval.
            self._delay = max(exc.retry_after or 0.0, self._delay)
            logger.info("message watch rate-limited; next poll in %.1fs", self._delay)
            return
        except (TransportError, ServerError) as exc:
            self._delay = min(self._delay * self._backoff, self._max_interval)
            logger.warning("message watch poll failed (%s); next poll in %.1fs", exc, self._delay)
            return
        if found:
            self._delay = self._interval
        else:
            self._delay = min(self._delay * self._backoff, self._max_interval)

    async def _poll(self) -> bool:
        """Read newest-first pages down to the last seen id; False when the poll was idle."""
        if self.last_seen_id is None:
            # First look without a starting point: note the newest id, yield nothing.
            newest = await self._pager(1).collect(limit=1)
            self.last_seen_id = newest[0].id if newest else 0
            return True  # a start, not an idle poll: keep the short interval
        last_seen = self.last_seen_id
        fresh: dict[int, M] = {}
        async for page in self._pager(self._per_page).pages():
            reached_seen = False
            for message in page.items:
                if message.id > last_seen:
                    fresh[message.id] = message  # an id seen twice (rows shifting) counts once
                else:
                    reached_seen = True
            if reached_seen:
                break
        # Newest first, so that pop() hands them out oldest first.
        self._backlog = sorted(fresh.values(), key=lambda m: m.id, reverse=True)
        return bool(fresh)


def watch_messages(
    messages: _HasList[M] | _ListMessages[M],
    *,
    filter: Mapping[str, Any] | None = None,
    interval: float = 5.0,
    max_interval: float = 60.0,
    backoff: float = 2.0,
    after_id: int | None = None,
    per_page: int = POLL_PAGE_SIZE,
    sleep: Sleep = asyncio.sleep,
) -> MessageWatch[M]:
    """Watch for new messages: an endless async iterator, oldest first.

    ``messages`` is ``client.messages`` (or its ``list`` method). ``filter`` is any filter of
    ``messages.list`` (``{"direction": "inbound"}``). Polls wait ``interval`` seconds, growing
    by ``backoff`` up to ``max_interval`` while nothing arrives and back to ``interval`` when
    something does. Without ``after_id`` only messages arriving after the start are yielded;
    with it, every message with a greater id. ``sleep`` replaces ``asyncio.sleep`` (tests).

    Example::

        watch = client.messages.watch(filter={"direction": "inbound"}, interval=2)
        async for message in watch:
            await reply_to(message)
            state.save(watch.last_seen_id)
    """
    list_messages: _ListMessages[M] = (
        messages.list if not callable(messages) else messages  # service or its list method
    )
    return MessageWatch(
        list_messages,
        filter=filter,
        interval=interval,
        max_interval=max_interval,
        backoff=backoff,
        after_id=after_id,
        per_page=per_page,
        sleep=sleep,
    )
