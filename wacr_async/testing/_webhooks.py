"""The sandbox's webhook sender: subscriptions, signed deliveries, retries, receipts.

What the server does (REFERENCE §13), on loopback: each event is encoded once as PHP
``json_encode`` would, signed with the subscription's secret (lowercase hex HMAC-SHA256) and
POSTed with the server's headers. Resource events get up to three attempts (waits 1 s, 2 s);
WhatsApp forwards one. A send emits ``whatsapp.message.sent`` at once, then ``delivered`` and
``read`` when the sandbox clock passes their times. Nothing is built unless a subscription
wants the event, so a sandbox nobody subscribed to does no extra work.

Example::

    sandbox.webhooks.subscribe(url, secret="s3cret", events=["whatsapp.*"])
    sandbox.webhooks.retry_waits = (0.0, 0.0)     # tests: retry without waiting
    sandbox.receive("+15550001111", "hi")
    await sandbox.webhooks.drain()
    assert sandbox.webhooks.deliveries[0].status == 200
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import heapq
import hmac
import itertools
import logging
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

import aiohttp
from aiohttp import web

from . import _webhook_events as build
from ._phones import digits_of
from ._php_json import php_json
from ._state import State, new_wamid
from ._table import Row

__all__ = ["Subscription", "WebhookDelivery", "Webhooks", "inbound_route", "receive_message"]

logger = logging.getLogger("wacr_async.testing")

Format = Literal["n8n", "legacy"]
USER_AGENT = "whatsmark-Webhook/1.0"
INBOUND_PATH = "/__sandbox/inbound"
_RESOURCE_NOUNS = frozenset({"contact", "source", "status"})


@dataclass(frozen=True)
class Subscription:
    """One URL receiving events: its secret, the event patterns (None: all) and format."""

    url: str
    secret: str | None
    events: tuple[str, ...] | None = None
    format: Format = "n8n"

    def wants(self, kind: str) -> bool:
        return self.events is None or any(fnmatch.fnmatchcase(kind, p) for p in self.events)


@dataclass(frozen=True)
class WebhookDelivery:
    """One delivery attempt: what was sent where, and what came back.

    ``status`` is the receiver's HTTP status, or None when no answer came (``error`` says why).
    """

    url: str
    event_id: str | None
    type: str
    attempt: int
    body: bytes
    headers: dict[str, str]
    status: int | None
    error: str | None
    at: float  # sandbox clock

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass
class _Job:
    subscription: Subscription
    kind: str
    event_id: str | None
    body: bytes
    headers: dict[str, str]
    attempts: int
    attempt: int = 0


@dataclass(order=True)
class _Receipt:
    due: float
    seq: int
    digits: str = field(compare=False)
    wamid: str = field(compare=False)
    status: str = field(compare=False)
    row_id: int | None = field(compare=False, default=None)


class Webhooks:
    """``sandbox.webhooks``: subscribe URLs, then every change and message event is sent there.

    Knobs: ``retry_waits`` (seconds between the attempts of resource events, default
    ``(1.0, 2.0)``: three attempts), ``timeout`` (per attempt, 30 s), ``receipts``
    (``(delivered_after, read_after)`` in sandbox seconds after a send, or None for no
    receipts beyond ``sent``). ``deliveries`` records every attempt.
    """

    def __init__(self, state: State) -> None:
        self.state = state
        self.subscriptions: list[Subscription] = []
        self.deliveries: list[WebhookDelivery] = []
        self.retry_waits: tuple[float, ...] = (1.0, 2.0)
        self.timeout = 30.0
        self.receipts: tuple[float, float] | None = (1.0, 3.0)
        self._queue: deque[_Job] = deque()
        self._receipts: list[_Receipt] = []
        self._seq = itertools.count()
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._pump: asyncio.Task[None] | None = None
        self._retries: set[asyncio.Task[None]] = set()
        self._session: aiohttp.ClientSession | None = None

    # -- subscriptions ----------------------------------------------------------------------

    def subscribe(
        self,
        url: str,
        *,
        secret: str | None,
        events: Iterable[str] | None = None,
        format: Format = "n8n",
    ) -> Subscription:
        """Send matching events (fnmatch patterns; None: all) to ``url``, signed with ``secret``.

        ``secret=None`` sends them unsigned. ``format="legacy"`` sends the older body (and
        WhatsApp forwards as Meta's raw, unsigned payload).

        Example::

            sandbox.webhooks.subscribe("http://127.0.0.1:8000/hooks", secret="s3cret")
        """
        subscription = Subscription(url, secret, None if events is None else tuple(events), format)
        self.subscriptions.append(subscription)
        return subscription

    def unsubscribe(self, url: str | None = None) -> None:
        """Stop sending to ``url`` (every URL when None); queued deliveries still go out."""
        self.subscriptions = [s for s in self.subscriptions if url is not None and s.url != url]

    def _wanting(self, kind: str) -> list[Subscription]:
        return [s for s in self.subscriptions if s.wants(kind)]

    # -- what the rest of the sandbox reports -----------------------------------------------

    def resource(self, noun: str, action: str, row: Row, *, previous: Row | None = None) -> None:
        """A contact, source or status was created, updated or deleted through the API."""
        if noun not in _RESOURCE_NOUNS:
            return  # groups and other tables send no webhooks
        kind = f"{noun}.{action}"
        for subscription in self._wanting(kind):
            if subscription.format == "legacy":
                payload = build.legacy_resource_event(
                    self.state, noun, action, row, previous=previous
                )
                self._enqueue(subscription, action, None, payload, resource=True)
            else:
                payload = build.resource_event(self.state, noun, action, row, previous=previous)
                self._enqueue(subscription, kind, payload["event"]["id"], payload, resource=True)

    def message_received(self, row: Row, *, digits: str, name: str) -> None:
        """An inbound message was stored."""
        kind = "whatsapp.message.received"
        if not self._wanting(kind):
            return
        text = row["message"]
        original = build.meta_message(
            self.state,
            digits=digits,
            name=name,
            wamid=row["message_id"],
            message_type=row["type"],
            text=text,
        )
        self._forward(kind, original)

    def message_sent(self, row: Row, *, digits: str) -> None:
        """An outbound message was sent: ``sent`` now, then receipts on the sandbox clock."""
        if not self.subscriptions:
            return
        self.status_changed(row, "sent", digits=digits)
        if self.receipts is not None:
            now = self.state.clock.time()
            for status, after in zip(("delivered", "read"), self.receipts, strict=True):
                receipt = _Receipt(now + after, next(self._seq), digits, row["message_id"], status)
                receipt.row_id = row["id"]
                heapq.heappush(self._receipts, receipt)
            self._kick()

    def status_changed(self, row: Row, status: str, *, digits: str | None = None) -> None:
        """An outbound message's status changed (``delivered``, ``read``, ``failed``)."""
        kind = f"whatsapp.message.{status}"
        if not self._wanting(kind) or not row.get("message_id"):
            return
        if digits is None:
            chat = next(
                (c for c in self.state.chats.values() if c["id"] == row["interaction_id"]), None
            )
            digits = chat["receiver_id"] if chat else ""
        original = build.meta_status(
            self.state, digits=digits or "", wamid=row["message_id"], status=status
        )
        self._forward(kind, original)

    def _forward(self, kind: str, original: dict[str, Any]) -> None:
        for subscription in self._wanting(kind):
            if subscription.format == "legacy":  # Meta's body as it came, unsigned
                self._enqueue(subscription, kind, None, original, resource=False, signed=False)
            else:
                payload = build.whatsapp_event(self.state, kind, original)
                self._enqueue(subscription, kind, payload["event"]["id"], payload, resource=False)

    # -- delivery ---------------------------------------------------------------------------

    def _enqueue(
        self,
        subscription: Subscription,
        kind: str,
        event_id: str | None,
        payload: dict[str, Any],
        *,
        resource: bool,
        signed: bool = True,
    ) -> None:
        body = php_json(payload)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-Webhook-Event": kind,
            "X-Webhook-Timestamp": self.state.clock.iso(),
        }
        if subscription.format == "n8n":
            headers["X-Webhook-Format"] = "n8n"
        if signed and subscription.secret is not None:
            key = subscription.secret.encode()
            headers["X-Webhook-Signature"] = hmac.new(key, body, "sha256").hexdigest()
        attempts = 1 + len(self.retry_waits) if resource else 1
        self._queue.append(_Job(subscription, kind, event_id, body, headers, attempts))
        self._kick()

    def tick(self) -> None:
        """Look at the sandbox clock again now (``sandbox.advance`` calls this)."""
        if self._receipts:
            self._kick()

    def _kick(self) -> None:
        self._idle.clear()
        self._wake.set()
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop yet: the next kick or drain() starts the pump
        if self._pump is None or self._pump.done():
            self._pump = asyncio.create_task(self._run(), name="wacr-sandbox-webhooks")

    async def _run(self) -> None:
        while True:
            self._release_due_receipts()
            if self._queue:
                await self._attempt(self._queue.popleft())
                continue
            if not self._retries:
                self._idle.set()
            self._wake.clear()
            # The sandbox clock may be moved at any time; look again at least every 0.25 s.
            wait = None
            if self._receipts:
                wait = min(max(self._receipts[0].due - self.state.clock.time(), 0.0), 0.25)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait)

    def _release_due_receipts(self) -> None:
        now = self.state.clock.time()
        while self._receipts and self._receipts[0].due <= now:
            receipt = heapq.heappop(self._receipts)
            row = self.state.messages.get(receipt.row_id) if receipt.row_id else None
            if row is not None and row.get("status") not in ("failed", "read"):
                row["status"] = receipt.status
                row["updated_at"] = self.state.clock.iso()
                self.state.messages.touch(row)
            self.status_changed(
                row or {"message_id": receipt.wamid}, receipt.status, digits=receipt.digits
            )

    async def _attempt(self, job: _Job) -> None:
        job.attempt += 1
        status: int | None = None
        error: str | None = None
        try:
            session = self._session
            if session is None or session.closed:
                session = self._session = aiohttp.ClientSession(
                    timeout=aiohttp.ClientTimeout(total=self.timeout)
                )
            async with session.post(job.subscription.url, data=job.body, headers=job.headers) as r:
                await r.read()
                status = r.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            error = f"{type(exc).__name__}: {exc}"
        self.deliveries.append(
            WebhookDelivery(
                url=job.subscription.url,
                event_id=job.event_id,
                type=job.kind,
                attempt=job.attempt,
                body=job.body,
                headers=dict(job.headers),
                status=status,
                error=error,
                at=self.state.clock.time(),
            )
        )
        failed = status is None or not 200 <= status < 300
        if failed and job.attempt < job.attempts:
            wait = self.retry_waits[job.attempt - 1]
            task = asyncio.create_task(self._retry(job, wait))
            self._retries.add(task)
            task.add_done_callback(self._retry_done)
        elif failed:
            logger.info("webhook %s to %s failed: %s", job.kind, job.subscription.url, error)

    async def _retry(self, job: _Job, wait: float) -> None:
        await asyncio.sleep(wait)
        self._queue.append(job)
        self._kick()

    def _retry_done(self, task: asyncio.Task[None]) -> None:
        self._retries.discard(task)
        self._kick()

    async def drain(self) -> None:
        """Wait until every queued delivery, retry and receipt already due has been attempted.

        Example::

            sandbox.advance(5)                    # delivered and read are due now
            await sandbox.webhooks.drain()
        """
        self._kick()
        await self._idle.wait()

    async def aclose(self) -> None:
        """Stop sending (pending deliveries are dropped) and close the HTTP session."""
        tasks = [task for task in (self._pump, *self._retries) if task is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._pump = None
        self._retries.clear()
        self._queue.clear()
        self._idle.set()
        session, self._session = self._session, None
        if session is not None:
            await session.close()


def receive_message(
    state: State, phone: str, text: str, *, type: str = "text", name: str | None = None
) -> Row:
    """Store an inbound message from ``phone`` and emit ``whatsapp.message.received``."""
    digits = digits_of(phone)
    contact = state.contact_by_phone("+" + digits)
    chat = state.open_chat(digits, contact)
    row = state.add_message(
        chat,
        type=type,
        message=text,
        direction="inbound",
        message_id=new_wamid(),
        status="received",
        sender_id=digits,
        is_read=False,
    )
    profile = name or chat["name"] or digits
    state.webhooks.message_received(row, digits=digits, name=profile)
    return row


def inbound_route(state: State) -> web.RouteDef:
    """``POST /__sandbox/inbound`` ``{"phone": …, "text": …, "name"?: …}``: an inbound message.

    For a bot in another process: the sandbox stores the message (``GET /messages`` lists
    it) and sends ``whatsapp.message.received`` to the subscribed webhook.
    """

    async def inbound(request: web.Request) -> web.Response:
        try:
            body = await request.json()
            phone, text = str(body["phone"]), str(body["text"])
        except (ValueError, KeyError, TypeError):
            return web.json_response({"error": 'send {"phone": "...", "text": "..."}'}, status=422)
        if not digits_of(phone):
            return web.json_response({"error": "phone has no digits"}, status=422)
        name = body.get("name")
        row = receive_message(state, phone, text, name=None if name is None else str(name))
        return web.json_response(
            {"id": row["id"], "message_id": row["message_id"], "phone": digits_of(phone)},
            status=201,
        )

    return web.post(INBOUND_PATH, inbound)
