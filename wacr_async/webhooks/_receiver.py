"""``Receiver``: verify, parse, drop repeats, answer at once, run handlers on its workers.

Kept whole because answering, the queue, the workers and ``aclose()`` keep one set of counters
(queued, running, awake, reserved) that every step changes together.

The answer goes back before any handler runs: the server waits at most 30 s and resends
resource events on a failure, so a slow or failing handler must never become a 5xx. Handler
errors are logged with the event id; ``aclose()`` waits for the handlers still running. The
framework adapters (aiohttp, ASGI) only move bytes in and out of :meth:`Receiver.receive`.

Accepted events wait in a queue for the receiver's worker tasks, which start on demand (at most
``max_concurrency``) and live until ``aclose()``. A worker takes events one after another while
their handlers finish without waiting; when a handler waits (on I/O, a lock, a sleep), the
worker stays with it and another worker takes the rest of the queue. So a burst of quick
handlers costs no task per event, and handlers run inside a task as asyncio expects
(``asyncio.timeout``, ``current_task()``), each in a copy of the context ``receive`` was called
in, as a task of its own would be. A handler that cancels its own task (or leaves a cancel
undone, as old ``async_timeout`` versions do) ends only its event: the worker undoes the cancel,
logs it with the event id and goes on. A worker stops when ``aclose()`` stops the receiver, or
when it is cancelled from outside while a handler waits (the loop shutting down); a worker that
stops leaves the queue to another.

The workers, the idle futures and the event ``join()`` waits on belong to the running loop; a
receiver used on another loop (a second ``asyncio.run``, pytest-asyncio's loop per test) starts
afresh on it, keeping the queued events.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import fnmatch
import hashlib
import inspect
import logging
import types
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Generator, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, TypeVar

from ..errors import ConfigurationError
from ._aiohttp import handle as aiohttp_handle
from ._asgi import Receive, Scope, Send
from ._asgi import serve as asgi_serve
from ._errors import PayloadError, SignatureError
from ._events import Event
from ._parse import FORMAT_HEADER, envelope, header, parse_payload, peek, read
from ._reply import DUPLICATE, OK, Reply
from ._seen import MemorySeen, SeenStore
from ._signature import Signer, key_of

if TYPE_CHECKING:
    from aiohttp import web

__all__ = ["DEFAULT_MAX_BODY_SIZE", "Handler", "Receiver"]

logger = logging.getLogger("wacr_async.webhooks")

DEFAULT_MAX_BODY_SIZE = 1024 * 1024

Handler = Callable[[Any], Awaitable[object]]
H = TypeVar("H", bound=Handler)
Job = tuple[Event, tuple[Handler, ...], contextvars.Context]
_NOT_WAITED: Final[list[int]] = [0]  # read only: a handler that never waited saw no cancel


class Receiver:
    """Receives WA.cr's webhooks and hands each event, once, to the handlers that match.

    ``secret`` is the signing secret; ``Receiver(secret=None, insecure=True)`` accepts
    unsigned requests (a warning is logged: anyone who finds the URL can post events).
    ``seen`` shares the handled ids between processes (default: this process's last
    ``dedupe_size``). Bodies over ``max_body_size`` bytes are refused with 413 unread.
    At most ``max_concurrency`` events are handled at once; beyond that, answers wait.

    Example::

        receiver = webhooks.Receiver(secret=os.environ["WACR_WEBHOOK_SECRET"])

        @receiver.on("contact.*")
        async def contact_changed(event: webhooks.ContactEvent) -> None:
            print(event.type, event.contact.phone)

        app.router.add_post("/wacr/events", receiver.aiohttp_handler)
        app.on_cleanup.append(lambda app: receiver.aclose())
    """

    def __init__(
        self,
        secret: str | bytes | None,
        *,
        insecure: bool = False,
        seen: SeenStore | None = None,
        dedupe_size: int = 10_000,
        max_body_size: int = DEFAULT_MAX_BODY_SIZE,
        max_concurrency: int = 100,
    ) -> None:
        if secret is None and not insecure:
            raise ConfigurationError(
                "no webhook secret: pass secret=…, or secret=None with insecure=True to accept "
                "unsigned requests"
            )
        if secret is not None and insecure:
            raise ConfigurationError("insecure=True is only for secret=None")
        if secret is not None and not secret:
            raise ConfigurationError("the webhook secret is empty")
        if max_body_size < 1 or max_concurrency < 1:
            raise ConfigurationError("max_body_size and max_concurrency must be at least 1")
        self._signer = None if secret is None else Signer(key_of(secret))
        self.insecure = insecure
        self.seen: SeenStore = seen if seen is not None else MemorySeen(dedupe_size)
        self._memory = self.seen if type(self.seen) is MemorySeen else None
        self.max_body_size = max_body_size
        self._handlers: list[tuple[str, Handler]] = []
        self._routes: dict[str, tuple[Handler, ...]] = {}
        self.max_concurrency = max_concurrency
        self._queue: deque[Job] = deque()  # accepted, not yet taken by a worker
        self._running = 0  # events a worker has taken and not finished
        self._workers: set[asyncio.Task[None]] = set()
        self._idle: deque[asyncio.Future[None]] = deque()  # one per idle worker, to wake it
        self._awake = 0  # workers taking events from the queue (not idle, not waiting)
        self._reserved = 0  # places held for events whose id the seen store is recording
        self._changed = asyncio.Event()  # set whenever an event is finished
        self._loop: asyncio.AbstractEventLoop | None = None  # the loop the workers run on
        self._closed = False
        self._stopped = False  # aclose() has stopped the workers
        if insecure:
            logger.warning(
                "webhook signatures are NOT verified (insecure=True): anyone who can reach "
                "this URL can post events to it"
            )

    # -- handlers ---------------------------------------------------------------------------

    def on(self, pattern: str = "*") -> Callable[[H], H]:
        """Register the decorated coroutine function for event types matching ``pattern``.

        Patterns are fnmatch-style: ``"whatsapp.message.received"``, ``"contact.*"``,
        ``"*"``. An event matching several patterns runs each handler, in registration order.

        Example::

            @receiver.on("whatsapp.message.*")
            async def track(event: webhooks.WhatsAppEvent) -> None: ...
        """

        def register(handler: H) -> H:
            self.add_handler(pattern, handler)
            return handler

        return register

    def add_handler(self, pattern: str, handler: Handler) -> None:
        """``on(pattern)`` without the decorator. Example: ``receiver.add_handler("*", log)``."""
        self._handlers.append((pattern, handler))
        self._routes.clear()

    def _handlers_for(self, kind: str) -> tuple[Handler, ...]:
        handlers = self._routes.get(kind)
        if handlers is None:
            handlers = tuple(h for p, h in self._handlers if fnmatch.fnmatchcase(kind, p))
            self._routes[kind] = handlers
        return handlers

    # -- receiving --------------------------------------------------------------------------

    async def receive(self, body: bytes, headers: Mapping[str, str]) -> Reply:
        """Handle one request's raw body and headers; the reply to send back.

        200 when accepted (also for a repeat, which is not dispatched again; an event no
        handler matches is acknowledged once its signature and JSON are checked, without being
        built), 400 for a body that is not a webhook, 401 for a missing or wrong signature, 503
        after ``aclose()`` or when the ``seen`` store fails (the server then retries). For
        frameworks without an adapter here.

        Example::

            reply = await receiver.receive(await request.body(), request.headers)
            return Response(reply.body, status=reply.status, media_type="application/json")
        """
        if self._closed:
            return Reply.of(503, "the receiver is closed")
        if asyncio.get_running_loop() is not self._loop:
            self._bind()
        event: Event | None = None
        try:
            payload = read(body, headers, self._signer)
            peeked = peek(payload)
            if peeked is None:  # the legacy shapes: their type is known once built
                event = parse_payload(payload, format=header(headers, FORMAT_HEADER))
                kind, event_id = event.type, event.id
                handlers = self._handlers_for(kind)
            else:
                kind, event_id, head = peeked
                handlers = self._handlers_for(kind)
                if handlers:  # events nobody handles are never built
                    event = envelope(payload, head, kind)
        except SignatureError as exc:
            logger.warning("webhook refused (401): %s", exc)
            return Reply.of(401, str(exc))
        except PayloadError as exc:
            logger.warning("webhook refused (400): %s", exc)
            return Reply.of(400, str(exc))
        dispatch = event is not None and bool(handlers)
        if dispatch and self._full():
            await self._room()  # backpressure: the answer waits
            if self._closed:  # not recorded as seen: the server's retry will be handled
                return Reply.of(503, "the receiver is closed")
        # Legacy events carry no id; a retry resends the same bytes, so their hash is the id.
        key = event_id or "sha256:" + hashlib.sha256(body).hexdigest()
        try:
            memory = self._memory
            fresh = memory.add_now(key) if memory is not None else await self._add(key, dispatch)
        except Exception:
            logger.exception("the seen store failed on event %s; answering 503", key)
            return Reply.of(503, "could not record the event")
        if not fresh:
            logger.debug("webhook %s (%s) is a repeat; not dispatched", key, kind)
            return DUPLICATE
        if event is not None and dispatch:
            if self._stopped:  # recorded as seen: a 5xx would make the retry a repeat
                logger.warning(
                    "webhook %s (%s) was recorded as the receiver stopped; not handled", key, kind
                )
                return OK
            self._queue.append((event, handlers, contextvars.copy_context()))
            if not self._awake:
                self._wake()
        return OK

    def _full(self) -> bool:
        return len(self._queue) + self._running + self._reserved >= self.max_concurrency

    async def _room(self) -> None:
        while self._full():
            self._changed.clear()
            await self._changed.wait()

    async def _add(self, key: str, reserve: bool) -> bool:
        """``seen.add(key)``, holding a place for the event meanwhile if it is to be handled."""
        if not reserve:
            return await self.seen.add(key)
        self._reserved += 1
        try:
            return await self.seen.add(key)
        finally:
            self._reserved -= 1
            self._changed.set()

    def _bind(self) -> None:
        """Start afresh on the running loop: what belonged to another loop is let go."""
        loop = asyncio.get_running_loop()
        if self._loop is not None:
            self._changed = asyncio.Event()
            self._workers.clear()
            self._idle.clear()
            self._awake = self._running = self._reserved = 0
        self._loop = loop

    def _wake(self) -> None:
        """Get one more worker taking events: an idle one, else a new one if there is room."""
        if self._idle:
            self._idle.popleft().set_result(None)
        elif len(self._workers) < self.max_concurrency:
            worker = asyncio.get_running_loop().create_task(self._work())
            self._workers.add(worker)
            worker.add_done_callback(self._workers.discard)
        else:
            return  # every worker is in a handler; the first one back takes the queue
        self._awake += 1

    async def _work(self) -> None:
        """One worker: take events until the queue is empty, then wait to be woken."""
        queue = self._queue
        this = asyncio.current_task()
        assert this is not None
        try:
            while True:
                while queue:
                    event, handlers, context = queue.popleft()
                    self._running += 1
                    outside = _NOT_WAITED  # cancels requested while the handler waited
                    try:
                        run = self._run(event, handlers)
                        try:
                            # Most handlers finish in this first step, without waiting.
                            step = context.run(run.send, None)
                        except StopIteration:
                            pass
                        else:
                            # The handler waits: stay with it, let another worker take the queue.
                            self._awake -= 1
                            if queue:
                                self._wake()
                            outside = [0]
                            try:
                                await _rest(run, step, context, this, outside)
                            finally:
                                self._awake += 1
                    except asyncio.CancelledError:
                        # aclose() stops this worker, or the loop does (a cancel from outside,
                        # left standing); else the handler cancelled itself: only it is over.
                        if self._stopped or (outside[0] and this.cancelling()):
                            self._awake -= 1
                            raise
                    finally:
                        self._running -= 1
                        self._changed.set()
                    if this.cancelling() and not self._stopped:
                        await self._undo_cancel(this, event)
                self._awake -= 1
                if self._closed:
                    return
                woken = asyncio.get_running_loop().create_future()
                self._idle.append(woken)
                try:
                    await woken  # the waker counted this worker awake again
                except asyncio.CancelledError:
                    if woken.done():  # woken, then cancelled before it ran
                        self._awake -= 1
                    else:
                        self._idle.remove(woken)
                    raise
        finally:
            self._workers.discard(this)
            if queue and not self._stopped and not self._awake:
                with contextlib.suppress(RuntimeError):  # no loop running: closed as garbage
                    self._wake()  # stopped from outside with events left: another takes them

    async def _undo_cancel(self, this: asyncio.Task[None], event: Event) -> None:
        """A handler cancelled this worker's task and did not undo it: undo it here."""
        logger.warning(
            "a webhook handler cancelled its task on event %s (%s) without undoing it",
            event.id,
            event.type,
            extra={"wacr_event_id": event.id, "wacr_event_type": event.type},
        )
        while this.cancelling():
            this.uncancel()
        try:
            await asyncio.sleep(0)  # a cancel not yet delivered lands here
        except asyncio.CancelledError:
            if self._stopped:
                self._awake -= 1
                raise

    async def _run(self, event: Event, handlers: tuple[Handler, ...]) -> None:
        for handler in handlers:
            try:
                result = handler(event)
                if inspect.isawaitable(result):
                    await result
            except (Exception, asyncio.CancelledError) as exc:
                cancelled = isinstance(exc, asyncio.CancelledError)
                if not (cancelled and self._stopped):  # aclose() cancelling it is no error
                    logger.error(
                        "webhook handler %s %s on event %s (%s)",
                        getattr(handler, "__qualname__", handler),
                        "was cancelled" if cancelled else "failed",
                        event.id,
                        event.type,
                        exc_info=not cancelled,
                        extra={"wacr_event_id": event.id, "wacr_event_type": event.type},
                    )
                if cancelled:
                    raise  # the event is over; the worker decides whether it stops

    @property
    def pending(self) -> int:
        """How many events are waiting for a worker or being handled right now."""
        return len(self._queue) + self._running

    async def join(self) -> None:
        """Wait until every event accepted so far has been handled (the receiver stays open).

        Example::

            await receiver.join()   # in a test, after the sandbox delivered its events
        """
        if asyncio.get_running_loop() is not self._loop:
            self._bind()
        while self.pending or self._reserved:
            self._changed.clear()
            await self._changed.wait()

    # -- framework adapters -----------------------------------------------------------------

    async def aiohttp_handler(self, request: web.Request) -> web.StreamResponse:
        """An aiohttp.web handler. Example: ``app.router.add_post("/hook", r.aiohttp_handler)``."""
        return await aiohttp_handle(self, request)

    async def asgi(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A plain ASGI application (lifespan included). Example: ``app.mount("/hook", r.asgi)``."""
        await asgi_serve(self, scope, receive, send)

    # -- lifecycle --------------------------------------------------------------------------

    async def aclose(self, grace: float | None = None) -> None:
        """Stop accepting (later requests get 503) and wait for the accepted events' handlers.

        After ``grace`` seconds the handlers still running are cancelled (and events no worker
        has taken yet are dropped, with a warning; so is an event whose id the ``seen`` store
        finishes recording after that, answered 200 as it is recorded). Safe to call twice.

        Example::

            await receiver.aclose(grace=10)
        """
        self._closed = True
        try:
            if grace is None:
                await self.join()
            else:
                async with asyncio.timeout(grace):
                    await self.join()
        except TimeoutError:
            pass
        finally:
            await self._stop()

    async def _stop(self) -> None:
        """Cancel the workers (and the handlers still running in them); drop what is queued."""
        self._stopped = True
        if self._queue:
            logger.warning(
                "closing the webhook receiver: %d accepted events were not handled",
                len(self._queue),
            )
            self._queue.clear()
            self._changed.set()
        workers = set(self._workers)
        for worker in workers:
            worker.cancel()
        if workers:
            await asyncio.wait(workers)

    async def __aenter__(self) -> Receiver:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


@types.coroutine
def _rest(
    run: Coroutine[Any, Any, None],
    step: Any,
    context: contextvars.Context,
    task: asyncio.Task[None],
    outside: list[int],
) -> Generator[Any, Any, None]:
    """Carry on a coroutine that a worker stepped itself: ``step`` is what it first yielded
    (the future it waits on). What the task sends or throws in is passed on, each step in the
    event's own ``context``. ``outside[0]`` counts the cancels of ``task`` requested while the
    coroutine waited (not by its own steps)."""
    while True:
        asked = task.cancelling()
        try:
            value = yield step
        except GeneratorExit:
            context.run(run.close)
            raise
        except BaseException as exc:  # thrown in by the task (a cancel): passed on
            outside[0] += task.cancelling() - asked
            try:
                step = context.run(run.throw, exc)
            except StopIteration:
                return
        else:
            try:
                step = context.run(run.send, value)
            except StopIteration:
                return
