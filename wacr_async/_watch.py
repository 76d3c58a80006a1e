"""Polling the newest-first message history for messages that arrived since the last look.

The API has no push channel for messages, so ``client.messages.watch()`` polls
``GET /messages`` (sorted ``-created_at``) and yields, oldest first, every message whose id is
greater than the greatest id already seen. Each poll reads pages only until it meets a message
it has seen (usually one small request). Waits grow while nothing happens (``interval`` up to
``max_interval``, by ``backoff``) and shrink back at the first new message; a 429 waits for the
server's ``retry_after``; transport failures and 5xx answers (already retried by the client)
are waited out the same way as idle polls rather than ending the watch. Other errors — a bad
token, a missing scope, a bad filter — are raised.

Where it starts: without ``after_id``, at the newest message that exists when the watch is
*created*. Created inside a running event loop (the usual case), the watch sends that one
request at once, in the background, so a message arriving between ``watch()`` and the first
``async for`` step is yielded, not lost; created outside a loop, the first poll takes the
starting point. ``last_seen_id`` holds it as soon as it is known, so a bot can store it before
the first message arrives. Pass ``after_id`` to resume from a known point — for example the
``last_seen_id`` you stored before a restart — and every later message in the history is
yielded first (the first poll reads, and holds, all of them).

Direction (``direction="inbound"`` / ``"outbound"``, or ``filter={"direction": …}``): the docs
offer ``filter[direction]``, but the server code has no direction column and answers it with
a 500 (REFERENCE §12). The watch asks the server for ``filter[direction]`` only while the
server honours it: once that request fails with a 5xx, or answers items without a
``direction``, the watch stops asking and tells the directions apart itself — a message whose
``sender_id`` is the account's own WhatsApp number (read once, from ``account.get()``, unless
``own_number`` is given) is outbound, any other is inbound. ``MessageWatch.direction_source``
says which way it is working (``"server"`` or ``"sender_id"``); in the second way the yielded
messages have their ``direction`` filled in.

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
from typing import Any, Final, Generic, Literal, Protocol, TypeVar

import attrs

from ._validate import check_int_range
from .errors import (
    ConfigurationError,
    RateLimitError,
    ServerError,
    TransportError,
    ValidationError,
)
from .filters import MAX_PER_PAGE
from .pagination import AsyncPager

__all__ = ["MessageWatch", "watch_messages"]

logger = logging.getLogger("wacr_async")

POLL_PAGE_SIZE: Final = 50


Direction = Literal["inbound", "outbound"]
DirectionSource = Literal["server", "sender_id"]


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
OwnNumber = Callable[[], Awaitable[str | None]]


def _digits(phone: str | None) -> str:
    return "".join(ch for ch in phone or "" if ch.isdigit())


def _positive(field: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ValidationError.for_field(field, f"{field} must be a number > 0 (got {value!r})")
    return float(value)


class MessageWatch(Generic[M]):
    """An endless async iterator of new messages; see :func:`watch_messages`.

    ``last_seen_id`` is the id of the last message yielded (or the starting point, once known):
    store it to resume after a restart with ``after_id=``. ``direction_source`` is ``"server"``
    while ``filter[direction]`` is asked of the server, ``"sender_id"`` once the watch tells
    directions apart by the sender's number, and None without a direction.
    """

    __slots__ = (
        "_backlog",
        "_backoff",
        "_delay",
        "_direction",
        "_filter",
        "_first_poll",
        "_interval",
        "_list",
        "_max_interval",
        "_own_number",
        "_own_number_of",
        "_per_page",
        "_polled",
        "_read_up_to",
        "_sleep",
        "_start",
        "direction_source",
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
        direction: Direction | None = None,
        own_number: str | OwnNumber | None = None,
    ) -> None:
        self._list = list_messages
        self._filter = dict(filter) if filter is not None else {}
        wanted = self._filter.get("direction")
        if wanted in ("inbound", "outbound"):
            # filter[direction] is a request, not a promise: handled like direction=.
            direction = direction or wanted
            del self._filter["direction"]
        if direction not in (None, "inbound", "outbound"):
            raise ValidationError.for_field(
                "direction", f"direction must be 'inbound' or 'outbound' (got {direction!r})"
            )
        self._direction: Direction | None = direction
        self.direction_source: DirectionSource | None = "server" if direction else None
        self._own_number: str | None = _digits(own_number) if isinstance(own_number, str) else None
        self._own_number_of = None if isinstance(own_number, str) else own_number
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
        self._read_up_to = 0  # the greatest id read, kept or not (the other direction)
        self._delay = self._interval
        self._polled = False
        # Check the filter now, not at the first poll.
        self._pager(1)
        self._start: asyncio.Task[None] | None = None
        if after_id is None:
            self._start = self._take_starting_point_now()
        # The first look after a starting point taken in the background is not an idle poll.
        self._first_poll = self._start is not None

    def __repr__(self) -> str:
        return f"<MessageWatch last_seen_id={self.last_seen_id} next_wait={self._delay:g}s>"

    def _take_starting_point_now(self) -> asyncio.Task[None] | None:
        """Ask for the newest id at once, so nothing arriving before the first poll is lost."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return None  # created outside a loop: the first poll takes the starting point
        task = loop.create_task(self._note_newest(), name="wacr-watch-start")
        task.add_done_callback(_consume_outcome)
        return task

    def __aiter__(self) -> MessageWatch[M]:
        return self

    async def starting_point(self) -> int:
        """The id after which messages are yielded, waiting for it if it is not known yet.

        Example::

            watch = client.messages.watch(inbound_only=True)
            store(await watch.starting_point())   # before the first message arrives
        """
        if self.last_seen_id is None:
            start, self._start = self._start, None
            if start is not None:
                await start
            if self.last_seen_id is None:
                await self._note_newest()
        assert self.last_seen_id is not None  # set by _note_newest
        return self.last_seen_id

    async def __anext__(self) -> M:
        while not self._backlog:
            if self._polled:
                await self._sleep(self._delay)
            self._polled = True
            await self._poll_politely()
        message = self._backlog.pop()
        # Messages of the other direction read past this one need no second look.
        self.last_seen_id = message.id if self._backlog else max(message.id, self._read_up_to)
        return message

    async def aclose(self) -> None:
        """Stop watching: drop the backlog and stop taking the starting point if still running."""
        self._backlog.clear()
        start, self._start = self._start, None
        if start is not None and not start.done():
            start.cancel()
            await asyncio.wait([start])

    async def __aenter__(self) -> MessageWatch[M]:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def _pager(self, per_page: int, *, ask_direction: bool = False) -> AsyncPager[M]:
        query = self._filter
        if ask_direction and self._direction is not None:
            query = {**query, "direction": self._direction}
        return self._list(
            per_page=per_page, sort="-created_at", filter=query or None, prefetch=False
        )

    async def _note_newest(self) -> None:
        # Any message's id will do: "new" means a greater id, whatever its direction.
        newest = await self._pager(1).collect(limit=1)
        if self.last_seen_id is None:
            self.last_seen_id = newest[0].id if newest else 0

    async def _poll_politely(self) -> None:
        """One poll; the wait before the next grows when idle or refused, resets on news."""
        first, self._first_poll = self._first_poll, False
        try:
            found = await self._poll()
        except RateLimitError as exc:
            # Wait at least as long as the server asks, even beyond max_interval.
            self._delay = max(exc.retry_after or 0.0, self._delay)
            logger.info("message watch rate-limited; next poll in %.1fs", self._delay)
            return
        except ServerError as exc:
            if self.direction_source == "server":
                # The server code's 500 for filter[direction]: stop asking, poll again now.
                self._stop_asking_the_server(f"filter[direction] failed ({exc})")
                self._polled = False
                return
            self._back_off(exc)
            return
        except TransportError as exc:
            self._back_off(exc)
            return
        if found or first:
            self._delay = self._interval
        else:
            self._delay = min(self._delay * self._backoff, self._max_interval)

    def _back_off(self, exc: Exception) -> None:
        self._delay = min(self._delay * self._backoff, self._max_interval)
        logger.warning("message watch poll failed (%s); next poll in %.1fs", exc, self._delay)

    def _stop_asking_the_server(self, why: str) -> None:
        self.direction_source = "sender_id"
        logger.info("message watch: %s; telling directions apart by sender_id", why)

    async def _poll(self) -> bool:
        """Read newest-first pages down to the last seen id; False when the poll was idle."""
        start, self._start = self._start, None
        if start is not None:
            await start  # its failure is this poll's failure; the next poll takes it afresh
        if self.last_seen_id is None:
            # First look without a starting point: note the newest id, yield nothing.
            await self._note_newest()
            return True  # a start, not an idle poll: keep the short interval
        last_seen = max(self.last_seen_id, self._read_up_to)
        asked = self.direction_source == "server"
        fresh: dict[int, M] = {}
        async for page in self._pager(self._per_page, ask_direction=asked).pages():
            reached_seen = False
            for message in page.items:
                if message.id > last_seen:
                    fresh[message.id] = message  # an id seen twice (rows shifting) counts once
                else:
                    reached_seen = True
            if reached_seen:
                break
        kept = await self._of_direction(list(fresh.values()), asked)
        self._read_up_to = max(fresh, default=last_seen)
        # Newest first, so that pop() hands them out oldest first.
        self._backlog = sorted(kept, key=lambda m: m.id, reverse=True)
        return bool(kept)

    async def _of_direction(self, messages: list[M], asked: bool) -> list[M]:
        """The messages of the wanted direction (all of them without one)."""
        wanted = self._direction
        if wanted is None:
            return messages
        if asked and any(getattr(m, "direction", None) is None for m in messages):
            # Answered without directions: the filter was ignored, and so was the question.
            self._stop_asking_the_server("the answer carries no direction")
        if self.direction_source == "server":
            return [m for m in messages if getattr(m, "direction", None) == wanted]
        own = await self._own_digits()
        kept: list[M] = []
        for message in messages:
            sender = _digits(getattr(message, "sender_id", None))
            direction = "outbound" if sender == own else "inbound"
            if direction == wanted:
                kept.append(_with_direction(message, direction))
        return kept

    async def _own_digits(self) -> str:
        if self._own_number is None:
            number = await self._own_number_of() if self._own_number_of is not None else None
            if not _digits(number):
                raise ConfigurationError(
                    "Cannot tell inbound from outbound messages: the server does not filter by "
                    "direction and the account's WhatsApp number is unknown; pass "
                    "own_number='+1555…' to watch()"
                )
            self._own_number = _digits(number)
        return self._own_number


def _with_direction(message: M, direction: str) -> M:
    """The message with its direction filled in, where the model has that field."""
    if attrs.has(type(message)) and getattr(message, "direction", direction) is None:
        return attrs.evolve(message, direction=direction)  # type: ignore[misc]  # attrs model
    return message


def _consume_outcome(task: asyncio.Task[Any]) -> None:
    # A starting point nobody awaits (the watch dropped unused) must not log its failure.
    if not task.cancelled():
        task.exception()


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
    direction: Direction | None = None,
    own_number: str | OwnNumber | None = None,
) -> MessageWatch[M]:
    """Watch for new messages: an endless async iterator, oldest first.

    ``messages`` is ``client.messages`` (or its ``list`` method). ``filter`` is any filter of
    ``messages.list``; ``direction`` (or ``filter={"direction": …}``) keeps one direction, by
    the server's ``filter[direction]`` while it honours it and by ``sender_id`` against
    ``own_number`` (a number, or an async function that reads it) otherwise. Polls wait
    ``interval`` seconds, growing by ``backoff`` up to ``max_interval`` while nothing arrives
    and back to ``interval`` when something does. Without ``after_id`` only messages newer than
    the newest one when the watch is created are yielded; with it, every message with a
    greater id. ``sleep`` replaces ``asyncio.sleep`` (tests).

    Example::

        watch = client.messages.watch(inbound_only=True, interval=2)
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
        direction=direction,
        own_number=own_number,
    )
