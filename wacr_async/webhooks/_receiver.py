"""``Receiver``: verify, parse, drop repeats, answer at once, run handlers as tracked tasks.

The answer goes back before any handler runs: the server waits at most 30 s and resends
resource events on a failure, so a slow or failing handler must never become a 5xx. Handler
errors are logged with the event id; ``aclose()`` waits for the handlers still running. The
framework adapters (aiohttp, ASGI) only move bytes in and out of :meth:`Receiver.receive`.
"""

from __future__ import annotations

import asyncio
import fnmatch
import hashlib
import inspect
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from ..errors import ConfigurationError
from ._aiohttp import handle as aiohttp_handle
from ._asgi import Receive, Scope, Send
from ._asgi import serve as asgi_serve
from ._errors import PayloadError, SignatureError
from ._events import Event
from ._parse import FORMAT_HEADER, decode, header, parse_payload, peek
from ._seen import MemorySeen, SeenStore

if TYPE_CHECKING:
    from aiohttp import web

__all__ = ["DEFAULT_MAX_BODY_SIZE", "Handler", "Receiver", "Reply"]

logger = logging.getLogger("wacr_async.webhooks")

DEFAULT_MAX_BODY_SIZE = 1024 * 1024

Handler = Callable[[Any], Awaitable[object]]
H = TypeVar("H", bound=Handler)


@attrs.frozen
class Reply:
    """What to answer the server: an HTTP status, a small JSON body, and whether the event
    was a repeat (acknowledged, not dispatched)."""

    status: int
    body: bytes
    duplicate: bool = False

    @classmethod
    def of(cls, status: int, message: str) -> Reply:
        key = "ok" if status < 300 else "error"
        text = "true" if key == "ok" else json.dumps(message)
        return cls(status, f'{{"{key}":{text}}}'.encode())


_OK = Reply(200, b'{"ok":true}')
_DUPLICATE = Reply(200, b'{"ok":true,"duplicate":true}', duplicate=True)


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
        self._secret = secret
        self.insecure = insecure
        self.seen: SeenStore = seen if seen is not None else MemorySeen(dedupe_size)
        self._memory = self.seen if type(self.seen) is MemorySeen else None
        self.max_body_size = max_body_size
        self._handlers: list[tuple[str, Handler]] = []
        self._routes: dict[str, tuple[Handler, ...]] = {}
        self.max_concurrency = max_concurrency
        self._tasks: set[asyncio.Task[None]] = set()
        self._freed = asyncio.Event()  # set whenever a handler task ends
        self._closed = False
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
        event: Event | None = None
        try:
            payload = decode(body, headers, secret=self._secret)
            peeked = peek(payload)
            if peeked is None:  # the legacy shapes: their type is known once built
                event = parse_payload(payload, format=header(headers, FORMAT_HEADER))
                peeked = event.type, event.id
            kind, event_id = peeked
            handlers = self._handlers_for(kind)
            if handlers and event is None:  # events nobody handles are never built
                event = parse_payload(payload, format=header(headers, FORMAT_HEADER))
        except SignatureError as exc:
            logger.warning("webhook refused (401): %s", exc)
            return Reply.of(401, str(exc))
        except PayloadError as exc:
            logger.warning("webhook refused (400): %s", exc)
            return Reply.of(400, str(exc))
        # Legacy events carry no id; a retry resends the same bytes, so their hash is the id.
        key = event_id or "sha256:" + hashlib.sha256(body).hexdigest()
        try:
            memory = self._memory
            fresh = memory.add_now(key) if memory is not None else await self.seen.add(key)
        except Exception:
            logger.exception("the seen store failed on event %s; answering 503", key)
            return Reply.of(503, "could not record the event")
        if not fresh:
            logger.debug("webhook %s (%s) is a repeat; not dispatched", key, kind)
            return _DUPLICATE
        if event is not None and handlers:
            tasks = self._tasks
            while len(tasks) >= self.max_concurrency:  # backpressure: the answer waits
                self._freed.clear()
                await self._freed.wait()
            task = asyncio.create_task(self._run(event, handlers))
            tasks.add(task)
            task.add_done_callback(self._ended)
        return _OK

    def _ended(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._freed.set()

    async def _run(self, event: Event, handlers: tuple[Handler, ...]) -> None:
        for handler in handlers:
            try:
                result = handler(event)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                logger.exception(
                    "webhook handler %s failed on event %s (%s)",
                    getattr(handler, "__qualname__", handler),
                    event.id,
                    event.type,
                    extra={"wacr_event_id": event.id, "wacr_event_type": event.type},
                )

    @property
    def pending(self) -> int:
        """How many events are being handled right now."""
        return len(self._tasks)

    async def join(self) -> None:
        """Wait until every handler started so far has finished (the receiver stays open).

        Example::

            await receiver.join()   # in a test, after the sandbox delivered its events
        """
        while self._tasks:
            await asyncio.wait(set(self._tasks))

    # -- framework adapters -----------------------------------------------------------------

    async def aiohttp_handler(self, request: web.Request) -> web.StreamResponse:
        """An aiohttp.web handler. Example: ``app.router.add_post("/hook", r.aiohttp_handler)``."""
        return await aiohttp_handle(self, request)

    async def asgi(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A plain ASGI application (lifespan included). Example: ``app.mount("/hook", r.asgi)``."""
        await asgi_serve(self, scope, receive, send)

    # -- lifecycle --------------------------------------------------------------------------

    async def aclose(self, grace: float | None = None) -> None:
        """Stop accepting (later requests get 503) and wait for running handlers.

        After ``grace`` seconds the handlers still running are cancelled. Safe to call twice.

        Example::

            await receiver.aclose(grace=10)
        """
        self._closed = True
        tasks = set(self._tasks)
        if not tasks:
            return
        _, late = await asyncio.wait(tasks, timeout=grace)
        for task in late:
            task.cancel()
        if late:
            await asyncio.wait(late)

    async def __aenter__(self) -> Receiver:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
