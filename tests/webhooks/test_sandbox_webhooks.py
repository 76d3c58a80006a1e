"""The sandbox sends signed, PHP-encoded webhooks as the server does; a Receiver reads them."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

import wacr_async as wacr
from wacr_async import webhooks
from wacr_async.testing import Sandbox

from .conftest import SECRET, serve

ARABIC = "ليلى"


class Inbox:
    """A Receiver on a real socket collecting every event, with the sandbox subscribed."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.receiver = webhooks.Receiver(secret=SECRET)
        self.events: list[webhooks.Event] = []
        self.receiver.add_handler("*", self._record)
        self.url = ""

    async def _record(self, event: webhooks.Event) -> None:
        self.events.append(event)

    async def settle(self) -> list[webhooks.Event]:
        await self.sandbox.webhooks.drain()
        await self.receiver.join()  # handlers run as tasks after the answer
        return self.events

    def types(self) -> list[str]:
        return [event.type for event in self.events]


@pytest.fixture
async def inbox(wacr_sandbox: Sandbox) -> AsyncIterator[Inbox]:
    box = Inbox(wacr_sandbox)
    wacr_sandbox.webhooks.retry_waits = (0.0, 0.0)
    async with serve(box.receiver) as url:
        box.url = url
        wacr_sandbox.webhooks.subscribe(url, secret=SECRET)
        yield box
        await wacr_sandbox.webhooks.drain()
    await box.receiver.aclose()


async def test_contact_changes_through_the_api_arrive_typed(
    inbox: Inbox, wacr_client: wacr.Client
) -> None:
    vip = await wacr_client.groups.create(name="VIP / كبار")
    created = await wacr_client.contacts.create(
        firstname=ARABIC,
        lastname="😀",
        phone="+966501234567",
        type="lead",
        source_id=1,
        status_id=1,
        groups=[vip.id],
        email="a/b@example.com",
    )
    await wacr_client.contacts.update(created.id, email="new@example.com")
    await wacr_client.contacts.delete(created.id)
    events = await inbox.settle()
    assert inbox.types() == ["contact.created", "contact.updated", "contact.deleted"]
    first = events[0]
    assert isinstance(first, webhooks.ContactEvent) and first.id and first.id.startswith("evt_")
    assert first.contact.firstname == ARABIC and first.contact.email == "a/b@example.com"
    assert first.contact.status is not None and first.contact.status.id == 1
    assert first.contact.source is not None and first.contact.source_id == 1
    assert [g.name for g in first.contact.groups or []] == ["VIP / كبار"]
    updated = events[1]
    assert updated.changes is not None and updated.changes.modified_fields is not None
    assert "email" in updated.changes.modified_fields
    assert (
        updated.changes.previous is not None
        and updated.changes.previous["email"] == "a/b@example.com"
    )
    assert isinstance(events[2], webhooks.ContactEvent) and events[2].contact.id == created.id

    delivery = inbox.sandbox.webhooks.deliveries[0]
    assert delivery.ok and delivery.attempt == 1
    assert (
        b"\\u0644\\u064a\\u0644\\u0649" in delivery.body and b"a\\/b@example.com" in delivery.body
    )
    assert delivery.headers["X-Webhook-Format"] == "n8n"
    assert delivery.headers["User-Agent"] == "whatsmark-Webhook/1.0"
    assert delivery.headers["X-Webhook-Event"] == "contact.created"
    assert delivery.headers["X-Webhook-Signature"] == webhooks.sign(delivery.body, SECRET)


async def test_sources_statuses_and_batches(inbox: Inbox, wacr_client: wacr.Client) -> None:
    source = await wacr_client.sources.create(name="Fair")
    await wacr_client.sources.update(source.id, name="Fair 2026")
    status = await wacr_client.statuses.create(name="Won", color="#00AA00")
    await wacr_client.statuses.delete(status.id)
    await wacr_client.sources.delete(source.id)
    await wacr_client.groups.create(name="no events for groups")
    result = await wacr_client.contacts.create_many(
        [
            wacr.NewContact(
                firstname="A",
                lastname="B",
                phone=f"+1555000{n:04d}",
                type="lead",
                source_id=1,
                status_id=1,
            )
            for n in range(2)
        ]
    )
    await wacr_client.contacts.delete_many(
        [c.id for c in result.created]
    )  # batch deletes send none
    events = await inbox.settle()
    assert inbox.types() == [
        "source.created",
        "source.updated",
        "status.created",
        "status.deleted",
        "source.deleted",
        "contact.created",
        "contact.created",
    ]
    assert isinstance(events[1], webhooks.SourceEvent) and events[1].source.name == "Fair 2026"
    assert isinstance(events[2], webhooks.StatusEvent) and events[2].status.color == "#00AA00"


async def test_inbound_messages_and_receipts_on_the_sandbox_clock(
    inbox: Inbox, wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    wacr_sandbox.receive("+966 50 123 4567", "مرحبا 🙏 https://wa.cr", name="خالد")
    sent = await wacr_client.messages.send_text("+15550001111", "Hello / أهلا")
    await inbox.settle()
    assert inbox.types() == [
        "whatsapp.message.received",
        "contact.created",
        "whatsapp.message.sent",
    ]
    received = inbox.events[0]
    assert isinstance(received, webhooks.MessageReceived)
    assert (received.phone, received.name, received.text) == (
        "+966501234567",
        "خالد",
        "مرحبا 🙏 https://wa.cr",
    )
    assert received.original_payload is not None
    receipt = inbox.events[2]
    assert isinstance(receipt, webhooks.MessageStatus)
    assert (receipt.message_id, receipt.status, receipt.phone) == (
        sent.message_id,
        "sent",
        "+15550001111",
    )

    wacr_sandbox.advance(1)  # delivered is due after 1 s of sandbox time
    await inbox.settle()
    assert inbox.types()[3:] == ["whatsapp.message.delivered"]
    wacr_sandbox.advance(5)
    await inbox.settle()
    assert inbox.types()[3:] == ["whatsapp.message.delivered", "whatsapp.message.read"]
    [row] = [
        m for m in await wacr_client.messages.list().collect() if m.message_id == sent.message_id
    ]
    assert row.status == "read"
    whatsapp = [d for d in wacr_sandbox.webhooks.deliveries if d.type.startswith("whatsapp.")]
    assert all(d.attempt == 1 and d.ok for d in whatsapp)


async def test_receipts_can_be_turned_off_and_failures_reported(
    inbox: Inbox, wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    wacr_sandbox.webhooks.receipts = None
    sent = await wacr_client.messages.send_text("+15550001111", "Hi")
    assert sent.chat_message_id is not None
    wacr_sandbox.set_message_status(sent.chat_message_id, "failed")
    wacr_sandbox.advance(60)
    await inbox.settle()
    assert inbox.types() == ["contact.created", "whatsapp.message.sent", "whatsapp.message.failed"]
    failed = inbox.events[2]
    assert isinstance(failed, webhooks.MessageStatus) and failed.errors[0]["code"] == 131026


async def test_nothing_is_sent_without_a_subscription(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    await wacr_client.contacts.create(
        firstname="A", lastname="B", phone="+15550001111", type="lead", source_id=1, status_id=1
    )
    wacr_sandbox.receive("+15550001111", "hi")
    await wacr_sandbox.webhooks.drain()
    assert wacr_sandbox.webhooks.deliveries == []


async def test_event_patterns_filter_a_subscription(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    receiver = webhooks.Receiver(secret=SECRET)
    got: list[str] = []
    receiver.add_handler("*", lambda event: _append(got, event.type))
    async with serve(receiver) as url:
        wacr_sandbox.webhooks.subscribe(url, secret=SECRET, events=["whatsapp.message.received"])
        await wacr_client.sources.create(name="ignored")
        wacr_sandbox.receive("+15550001111", "hi")
        await wacr_sandbox.webhooks.drain()
    await receiver.aclose()
    assert got == ["whatsapp.message.received"]


async def _append(into: list[str], item: str) -> None:
    into.append(item)


async def test_resource_events_are_retried_three_times_whatsapp_once(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    answers: list[bytes] = []

    async def down(request: web.Request) -> web.Response:
        answers.append(await request.read())
        return web.Response(status=500)

    app = web.Application()
    app.router.add_post("/hook", down)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
    assert wacr_sandbox.webhooks.retry_waits == (1.0, 2.0)  # the server's waits, by default
    wacr_sandbox.webhooks.retry_waits = (0.0, 0.0)
    try:
        wacr_sandbox.webhooks.subscribe(url, secret=SECRET)
        await wacr_client.sources.create(name="Fair")
        wacr_sandbox.receive("+15550001111", "lost when the receiver is down")
        await wacr_sandbox.webhooks.drain()
    finally:
        await runner.cleanup()
    attempts = [(d.type, d.attempt, d.status) for d in wacr_sandbox.webhooks.deliveries]
    assert attempts == [
        ("source.created", 1, 500),
        ("whatsapp.message.received", 1, 500),
        ("source.created", 2, 500),
        ("source.created", 3, 500),
    ]
    retried = [d for d in wacr_sandbox.webhooks.deliveries if d.type == "source.created"]
    assert len({d.body for d in retried}) == 1 and len({d.event_id for d in retried}) == 1
    assert len(answers) == 4


async def test_an_unreachable_url_is_recorded_as_an_error(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    wacr_sandbox.webhooks.retry_waits = (0.0,)
    wacr_sandbox.webhooks.subscribe("http://127.0.0.1:9/hook", secret=SECRET)
    await wacr_client.sources.create(name="Fair")
    await wacr_sandbox.webhooks.drain()
    assert [(d.attempt, d.status) for d in wacr_sandbox.webhooks.deliveries] == [
        (1, None),
        (2, None),
    ]
    assert all(d.error for d in wacr_sandbox.webhooks.deliveries)


async def test_legacy_format_subscription(wacr_sandbox: Sandbox, wacr_client: wacr.Client) -> None:
    signed_receiver = webhooks.Receiver(secret=SECRET)
    got: list[webhooks.Event] = []
    signed_receiver.add_handler("*", lambda event: _keep(got, event))
    async with serve(signed_receiver) as url:
        wacr_sandbox.webhooks.subscribe(url, secret=SECRET, format="legacy")
        await wacr_client.statuses.create(name="Won", color="#00AA00")
        wacr_sandbox.receive("+15550001111", "hi")
        await wacr_sandbox.webhooks.drain()
    await signed_receiver.aclose()
    assert [(e.type, e.format, e.id) for e in got] == [("status.created", "legacy", None)]
    raw = [d for d in wacr_sandbox.webhooks.deliveries if d.type == "whatsapp.message.received"]
    assert raw[0].status == 401 and "X-Webhook-Signature" not in raw[0].headers  # unsigned
    event = webhooks.parse(raw[0].body, raw[0].headers, secret=None)
    assert isinstance(event, webhooks.MessageReceived) and event.format == "legacy"


async def _keep(into: list[webhooks.Event], event: webhooks.Event) -> None:
    into.append(event)


async def test_inbound_endpoint_for_other_processes(inbox: Inbox, wacr_sandbox: Sandbox) -> None:
    base = wacr_sandbox.url.rsplit("/api/v2", 1)[0]
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{base}/__sandbox/inbound",
            json={"phone": "+15550002222", "text": "hey", "name": "Ann"},
        ) as r:
            assert r.status == 201
            answer = await r.json()
        async with http.post(f"{base}/__sandbox/inbound", json={"text": "no phone"}) as r:
            assert r.status == 422
    await inbox.settle()
    [event] = inbox.events
    assert isinstance(event, webhooks.MessageReceived)
    assert (event.phone, event.text, event.name, event.message_id) == (
        "+15550002222",
        "hey",
        "Ann",
        answer["message_id"],
    )
