"""Typed usage of webhooks and the sandbox's webhook sender; checked by ``mypy --strict``,
never run."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from aiohttp import web

import wacr_async as wacr
from wacr_async import webhooks
from wacr_async.testing import Sandbox, WebhookDelivery


class RedisLikeSeen:
    async def add(self, event_id: str) -> bool:
        return True


async def receive(body: bytes, headers: Mapping[str, str]) -> None:
    event: webhooks.Event = webhooks.parse(body, headers, secret="s")
    webhooks.verify(body, headers.get("X-Webhook-Signature"), b"s")
    signature: str = webhooks.sign(body, "s")
    kind: str = event.type
    when: datetime | None = event.timestamp
    if isinstance(event, webhooks.ContactEvent):
        contact: wacr.Contact = event.contact
        status: wacr.Status | None = contact.status
        del status
    if isinstance(event, webhooks.MessageReceived):
        phone: str | None = event.phone
        text: str | None = event.text
        del phone, text
    if isinstance(event, webhooks.MessageStatus):
        errors: list[dict[str, object]] = event.errors
        del errors
    receiver = webhooks.Receiver(secret="s", seen=RedisLikeSeen(), max_body_size=2 << 20)

    @receiver.on("whatsapp.message.received")
    async def reply(event: webhooks.MessageReceived) -> None: ...

    app = web.Application()
    app.router.add_post("/hook", receiver.aiohttp_handler)
    reply_: webhooks.Reply = await receiver.receive(body, headers)
    status_code: int = reply_.status
    await receiver.join()
    await receiver.aclose(grace=5)
    del kind, when, signature, status_code


async def sandbox_side(sandbox: Sandbox) -> None:
    sandbox.webhooks.subscribe("http://127.0.0.1:8000/hook", secret="s", events=["contact.*"])
    sandbox.webhooks.retry_waits = (0.0, 0.0)
    sandbox.receive("+15550001111", "hi", name="Ann")
    await sandbox.webhooks.drain()
    deliveries: list[WebhookDelivery] = sandbox.webhooks.deliveries
    del deliveries
