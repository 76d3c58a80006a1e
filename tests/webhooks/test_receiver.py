"""The Receiver over a real socket (aiohttp) and through a real ASGI call."""

from __future__ import annotations

import asyncio
import copy
import io
import logging
from collections.abc import MutableMapping
from typing import Any

import aiohttp
import pytest

import wacr_async as wacr
from wacr_async import webhooks

from .conftest import (
    CONTACT_UPDATED,
    SECRET,
    SOURCE_CREATED,
    Served,
    message_received,
    serve,
    signed,
)


async def post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as http, http.post(url, data=body, headers=headers) as r:
        return r.status, await r.json()


def collect(receiver: webhooks.Receiver, pattern: str = "*") -> list[webhooks.Event]:
    seen: list[webhooks.Event] = []

    @receiver.on(pattern)
    async def record(event: webhooks.Event) -> None:
        seen.append(event)

    return seen


async def test_dispatches_by_pattern_over_a_socket(served: Served) -> None:
    contacts = collect(served.receiver, "contact.*")
    messages = collect(served.receiver, "whatsapp.message.received")
    everything = collect(served.receiver)
    for payload in (CONTACT_UPDATED, SOURCE_CREATED, message_received()):
        status, answer = await post(served.url, *signed(payload))
        assert (status, answer) == (200, {"ok": True})
    await served.receiver.aclose()
    assert [e.type for e in contacts] == ["contact.updated"]
    assert [type(e) for e in messages] == [webhooks.MessageReceived]
    assert [e.type for e in everything] == [
        "contact.updated",
        "source.created",
        "whatsapp.message.received",
    ]


async def test_duplicates_are_dispatched_once(served: Served) -> None:
    seen = collect(served.receiver)
    body, headers = signed(CONTACT_UPDATED)
    answers = [await post(served.url, body, headers) for _ in range(3)]
    assert answers == [(200, {"ok": True}), *[(200, {"ok": True, "duplicate": True})] * 2]
    await served.receiver.aclose()
    assert len(seen) == 1


async def test_legacy_events_without_an_id_are_deduplicated_by_body() -> None:
    receiver = webhooks.Receiver(secret=SECRET)
    seen = collect(receiver)
    legacy = {
        "event": "created",
        "model": "App\\Models\\Tenant\\Source",
        "data": {"id": 1, "attributes": {"id": 1, "name": "W"}},
    }
    body, headers = signed(legacy, fmt=None)
    for _ in range(2):
        assert (await receiver.receive(body, headers)).status == 200
    other, other_headers = signed({**legacy, "event": "updated"}, fmt=None)
    assert (await receiver.receive(other, other_headers)).status == 200
    await receiver.aclose()
    assert [e.type for e in seen] == ["source.created", "source.updated"]


@pytest.mark.parametrize("case", ["tampered", "wrong secret", "missing", "malformed"])
async def test_bad_signatures_get_401_and_nothing_is_dispatched(served: Served, case: str) -> None:
    seen = collect(served.receiver)
    body, headers = signed(CONTACT_UPDATED, secret="other" if case == "wrong secret" else SECRET)
    if case == "tampered":
        body = body.replace(b"acme", b"acmf")
    elif case == "missing":
        del headers["X-Webhook-Signature"]
    elif case == "malformed":
        headers["X-Webhook-Signature"] = "not-hex"
    status, answer = await post(served.url, body, headers)
    assert status == 401 and "error" in answer
    await served.receiver.aclose()
    assert seen == []


async def test_a_refused_signature_does_not_poison_the_real_delivery(served: Served) -> None:
    seen = collect(served.receiver)
    body, headers = signed(CONTACT_UPDATED)
    forged = dict(headers, **{"X-Webhook-Signature": "0" * 64})
    assert (await post(served.url, body, forged))[0] == 401
    assert await post(served.url, body, headers) == (200, {"ok": True})
    await served.receiver.aclose()
    assert len(seen) == 1


async def test_lower_case_header_names_over_the_wire(served: Served) -> None:
    seen = collect(served.receiver)
    body, headers = signed(CONTACT_UPDATED)
    lowered = {key.lower(): value for key, value in headers.items()}
    assert (await post(served.url, body, lowered))[0] == 200
    await served.receiver.aclose()
    assert len(seen) == 1


async def test_malformed_bodies_get_400(served: Served) -> None:
    seen = collect(served.receiver)
    for body in (b"{not json", b'{"no":"event"}'):
        headers = {"X-Webhook-Signature": webhooks.sign(body, SECRET)}
        status, answer = await post(served.url, body, headers)
        assert status == 400 and answer["error"]
    await served.receiver.aclose()
    assert seen == []


async def test_handler_failures_are_answered_2xx_and_logged(
    served: Served, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="wacr_async.webhooks")
    ran: list[str] = []

    @served.receiver.on("contact.*")
    async def broken(event: webhooks.Event) -> None:
        raise RuntimeError("database down")

    @served.receiver.on("*")
    async def after(event: webhooks.Event) -> None:
        ran.append(event.type)

    assert (await post(served.url, *signed(CONTACT_UPDATED)))[0] == 200
    await served.receiver.aclose()
    assert ran == ["contact.updated"]  # the next handler still ran
    [record] = [r for r in caplog.records if "failed on event" in r.getMessage()]
    assert "evt_1702468200_abc123XYZ0" in record.getMessage()
    assert record.exc_info is not None and "database down" in str(record.exc_info[1])
    assert record.wacr_event_id == "evt_1702468200_abc123XYZ0"  # type: ignore[attr-defined]


async def test_the_answer_does_not_wait_for_handlers_and_aclose_drains(served: Served) -> None:
    started, release = asyncio.Event(), asyncio.Event()
    finished: list[str] = []

    @served.receiver.on("*")
    async def slow(event: webhooks.Event) -> None:
        started.set()
        await release.wait()
        finished.append(event.type)

    assert (await post(served.url, *signed(CONTACT_UPDATED)))[0] == 200
    await started.wait()
    assert served.receiver.pending == 1 and finished == []
    closing = asyncio.create_task(served.receiver.aclose())
    await asyncio.sleep(0)
    assert not closing.done()
    release.set()
    await closing
    assert finished == ["contact.updated"] and served.receiver.pending == 0
    status, _ = await post(served.url, *signed(SOURCE_CREATED))
    assert status == 503  # closed: the server will retry later


async def test_aclose_grace_cancels_stuck_handlers() -> None:
    receiver = webhooks.Receiver(secret=SECRET)
    cancelled = asyncio.Event()

    @receiver.on("*")
    async def stuck(event: webhooks.Event) -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    assert (await receiver.receive(*signed(CONTACT_UPDATED))).status == 200
    await asyncio.sleep(0)
    await receiver.aclose(grace=0.01)
    assert cancelled.is_set() and receiver.pending == 0


async def test_oversized_bodies_get_413_without_being_read() -> None:
    receiver = webhooks.Receiver(secret=SECRET, max_body_size=2000)
    seen = collect(receiver)
    async with serve(receiver) as url, aiohttp.ClientSession() as http:
        big = b"x" * 5000
        async with http.post(url, data=big) as r:  # Content-Length says too much
            assert r.status == 413

        async def chunks() -> Any:  # no Content-Length: refused after the limit
            for _ in range(1000):
                yield b"y" * 100

        async with http.post(url, data=chunks()) as r:
            assert r.status == 413
        body, headers = signed(SOURCE_CREATED)
        assert len(body) < 2000
        async with http.post(url, data=body, headers=headers) as r:
            assert r.status == 200  # under the limit: accepted
    await receiver.aclose()
    assert [e.type for e in seen] == ["source.created"]


async def test_the_default_limit_is_one_mebibyte() -> None:
    receiver = webhooks.Receiver(secret=SECRET)
    assert receiver.max_body_size == webhooks.DEFAULT_MAX_BODY_SIZE == 1024 * 1024
    async with serve(receiver) as url, aiohttp.ClientSession() as http:
        async with http.post(url, data=io.BytesIO(b"x" * (1024 * 1024 + 1))) as r:
            assert r.status == 413
        body, headers = signed({**CONTACT_UPDATED, "padding": "p" * (900 * 1024)})
        async with http.post(url, data=io.BytesIO(body), headers=headers) as r:
            assert r.status == 200  # more than aiohttp's own default, less than ours


async def test_insecure_mode_needs_asking_and_warns(caplog: pytest.LogCaptureFixture) -> None:
    with pytest.raises(wacr.ConfigurationError):
        webhooks.Receiver(secret=None)
    with pytest.raises(wacr.ConfigurationError):
        webhooks.Receiver(secret="")
    with pytest.raises(wacr.ConfigurationError):
        webhooks.Receiver(secret=SECRET, insecure=True)
    caplog.set_level(logging.WARNING, logger="wacr_async.webhooks")
    receiver = webhooks.Receiver(secret=None, insecure=True)
    assert any("NOT verified" in r.getMessage() for r in caplog.records)
    seen = collect(receiver)
    body, headers = signed(CONTACT_UPDATED, secret=None)
    assert (await receiver.receive(body, headers)).status == 200
    await receiver.aclose()
    assert len(seen) == 1


class SharedSeen:
    """A seen store shared by two receivers, as several processes would share Redis."""

    def __init__(self) -> None:
        self.ids: set[str] = set()
        self.fail = False

    async def add(self, event_id: str) -> bool:
        if self.fail:
            raise ConnectionError("store down")
        if event_id in self.ids:
            return False
        self.ids.add(event_id)
        return True


async def test_a_shared_seen_store_dedupes_across_receivers() -> None:
    store = SharedSeen()
    assert isinstance(store, webhooks.SeenStore)
    first, second = (
        webhooks.Receiver(secret=SECRET, seen=store),
        webhooks.Receiver(secret=SECRET, seen=store),
    )
    seen_first, seen_second = collect(first), collect(second)
    body, headers = signed(CONTACT_UPDATED)
    assert (await first.receive(body, headers)).status == 200
    assert (await second.receive(body, headers)).body == b'{"ok":true,"duplicate":true}'
    store.fail = True
    assert (await second.receive(*signed(SOURCE_CREATED))).status == 503  # retried later
    await first.aclose()
    await second.aclose()
    assert len(seen_first) == 1 and seen_second == []


async def test_memory_seen_is_bounded() -> None:
    seen = webhooks.MemorySeen(size=2)
    assert await seen.add("a") and await seen.add("b")
    assert not await seen.add("a")  # refreshes "a"
    assert await seen.add("c")  # evicts "b", the least recently seen
    assert len(seen) == 2 and await seen.add("b") and not await seen.add("c")


async def test_concurrency_is_bounded_by_making_answers_wait() -> None:
    receiver = webhooks.Receiver(secret=SECRET, max_concurrency=1)
    release = asyncio.Event()

    @receiver.on("*")
    async def slow(event: webhooks.Event) -> None:
        await release.wait()

    assert (await receiver.receive(*signed(CONTACT_UPDATED))).status == 200
    second = asyncio.create_task(receiver.receive(*signed(SOURCE_CREATED)))
    await asyncio.sleep(0.01)
    assert not second.done() and receiver.pending == 1
    release.set()
    assert (await second).status == 200
    await receiver.aclose()


# -- ASGI ---------------------------------------------------------------------------------


class AsgiCall:
    """One ASGI HTTP call: the request as receive() messages, the response from send()."""

    def __init__(
        self, method: str, body_parts: list[bytes], headers: list[tuple[bytes, bytes]]
    ) -> None:
        self.scope: MutableMapping[str, Any] = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "path": "/",
            "headers": headers,
        }
        self.messages = [
            {"type": "http.request", "body": part, "more_body": index < len(body_parts) - 1}
            for index, part in enumerate(body_parts)
        ]
        self.read = 0
        self.sent: list[MutableMapping[str, Any]] = []

    async def receive(self) -> MutableMapping[str, Any]:
        self.read += 1
        return self.messages.pop(0)

    async def send(self, message: MutableMapping[str, Any]) -> None:
        self.sent.append(message)

    @property
    def status(self) -> int:
        return int(self.sent[0]["status"])

    @property
    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.sent[1:])


def asgi_headers(headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
    return [(k.lower().encode(), v.encode()) for k, v in headers.items()]


async def test_asgi_app_dispatches_dedupes_and_refuses() -> None:
    receiver = webhooks.Receiver(secret=SECRET, max_body_size=2000)
    seen = collect(receiver)
    body, headers = signed(message_received())
    half = len(body) // 2
    for _ in range(2):
        call = AsgiCall("POST", [body[:half], body[half:]], asgi_headers(headers))
        await receiver.asgi(call.scope, call.receive, call.send)
        assert call.status == 200

    bad = AsgiCall("POST", [body], asgi_headers({**headers, "X-Webhook-Signature": "0" * 64}))
    await receiver.asgi(bad.scope, bad.receive, bad.send)
    assert bad.status == 401

    get = AsgiCall("GET", [b""], [])
    await receiver.asgi(get.scope, get.receive, get.send)
    assert get.status == 405

    declared = AsgiCall("POST", [b"x"], [(b"content-length", b"5000")])
    await receiver.asgi(declared.scope, declared.receive, declared.send)
    assert declared.status == 413 and declared.read == 0  # refused unread

    streamed = AsgiCall("POST", [b"y" * 1000] * 10, [])
    await receiver.asgi(streamed.scope, streamed.receive, streamed.send)
    assert streamed.status == 413 and streamed.read == 3 and len(streamed.messages) == 7

    broken = AsgiCall(
        "POST", [b"{oops"], asgi_headers({"X-Webhook-Signature": webhooks.sign(b"{oops", SECRET)})
    )
    await receiver.asgi(broken.scope, broken.receive, broken.send)
    assert broken.status == 400
    await receiver.aclose()
    assert [type(e) for e in seen] == [webhooks.MessageReceived]


async def test_asgi_lifespan_shutdown_drains_handlers() -> None:
    receiver = webhooks.Receiver(secret=SECRET)
    done: list[str] = []

    @receiver.on("*")
    async def slow(event: webhooks.Event) -> None:
        await asyncio.sleep(0.01)
        done.append(event.type)

    await receiver.receive(*signed(CONTACT_UPDATED))
    messages = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> MutableMapping[str, Any]:
        return messages.pop(0)

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    await receiver.asgi({"type": "lifespan"}, receive, send)
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert done == ["contact.updated"]


async def test_events_no_handler_matches_are_acknowledged_without_being_built() -> None:
    receiver = webhooks.Receiver(secret=SECRET)
    seen = collect(receiver, "whatsapp.message.received")
    odd = copy.deepcopy(SOURCE_CREATED)
    odd["event"]["timestamp"] = "not a time"  # would be a 400 if it had to be built
    assert (await receiver.receive(*signed(odd))).status == 200
    handled = message_received()
    handled["event"]["timestamp"] = "not a time"
    assert (await receiver.receive(*signed(handled))).status == 400
    assert (await receiver.receive(*signed(message_received()))).status == 200
    await receiver.aclose()
    assert [e.type for e in seen] == ["whatsapp.message.received"]
