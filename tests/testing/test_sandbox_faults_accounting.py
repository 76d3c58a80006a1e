"""Fault injection (each knob) and accounting (sends, duplicates, hits)."""

from __future__ import annotations

import json
import time
from typing import Any

import aiohttp
import pytest

from wacr_async.testing import Faults, Sandbox

TEXT = {"phone": "+15550001111", "message": "Your code is ready"}


async def test_latency_and_jitter(api: Any, sandbox: Sandbox) -> None:
    sandbox.faults.add("GET /account", latency=0.2, jitter=0.05, seed=1)
    started = time.perf_counter()
    await api.get("/account")
    assert time.perf_counter() - started >= 0.2
    started = time.perf_counter()
    await api.get("/groups")
    assert time.perf_counter() - started < 0.2


async def test_latency_on_the_whole_sandbox(make_api: Any) -> None:
    async with Sandbox(latency=(0.1, 0.0)) as sandbox:
        started = time.perf_counter()
        await make_api(sandbox).get("/groups")
        assert time.perf_counter() - started >= 0.1


async def test_error_before_processing_does_nothing(api: Any, sandbox: Sandbox) -> None:
    rule = sandbox.faults.add("POST /messages/text", error_before=1.0, times=2)
    for _ in range(2):
        reply = await api.post("/messages/text", TEXT)
        assert reply.status == 503
        assert reply.code == "SERVICE_UNAVAILABLE"
    assert sandbox.sends == []
    assert (await api.get("/contacts")).data == []  # no contact was auto-created either
    assert (await api.post("/messages/text", TEXT)).status == 200  # the rule is spent
    assert (rule.matched, rule.fired) == (2, 2)
    assert sandbox.hits["POST /messages/text"] == 3


async def test_error_after_processing_still_performs(api: Any, sandbox: Sandbox) -> None:
    sandbox.faults.add("POST /contacts", error_after=1.0, status_after=502, times=1)
    reply = await api.create_contact()
    assert reply.status == 502
    assert reply.code == "BAD_GATEWAY"
    assert len((await api.get("/contacts")).data) == 1  # created anyway
    sandbox.faults.add("POST /messages/text", error_after=1.0)
    assert (await api.post("/messages/text", TEXT)).status == 500
    assert len(sandbox.sends) == 1


async def test_drop_before_processing(api: Any, sandbox: Sandbox) -> None:
    sandbox.faults.add("/messages/text", drop_before=1.0, times=1)  # no method: any method
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await api.post("/messages/text", TEXT)
    assert sandbox.sends == []
    assert sandbox.hits["POST /messages/text"] == 1
    assert (await api.post("/messages/text", TEXT)).status == 200


async def test_drop_after_processing_records_the_send(api: Any, sandbox: Sandbox) -> None:
    sandbox.faults.add("POST /messages/*", drop_after=1.0, times=1)
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await api.post("/messages/text", TEXT)
    assert len(sandbox.sends) == 1  # performed, though the client never heard back
    assert sandbox.duplicate_sends() == []
    # A naive retry sends the same message twice.
    retry = await api.post("/messages/text", TEXT)
    assert retry.status == 200
    duplicates = sandbox.duplicate_sends()
    assert [record.seq for record in duplicates] == [1, 2]
    assert duplicates[0].key == duplicates[1].key
    assert sandbox.hits["POST /messages/text"] == 2
    messages = await api.get("/messages")
    assert len(messages.data) == 2


async def test_patterns_match_route_keys_and_concrete_paths(api: Any, sandbox: Sandbox) -> None:
    sandbox.seed_contacts(8)
    by_key = sandbox.faults.add("GET /contacts/{id}", error_before=1.0, times=1)
    assert (await api.get("/contacts/3")).status == 503
    by_path = sandbox.faults.add("GET /contacts/7", error_before=1.0)
    assert (await api.get("/contacts/3")).status == 200
    assert (await api.get("/contacts/7")).status == 503
    assert by_key.matched == 1
    assert by_path.fired == 1
    sandbox.faults.remove(by_path)
    assert (await api.get("/contacts/7")).status == 200
    sandbox.faults.add("*", error_before=1.0)
    assert (await api.get("/account")).status == 503
    sandbox.faults.clear()
    assert len(sandbox.faults) == 0
    assert (await api.get("/account")).status == 200


async def test_random_faults_are_deterministic_with_a_seed(make_api: Any) -> None:
    outcomes = []
    for _ in range(2):
        async with Sandbox() as sandbox:
            sandbox.faults.add("GET /account", error_before=0.3, error_after=0.3, seed=42)
            api = make_api(sandbox)
            outcomes.append([(await api.get("/account")).status for _ in range(30)])
    assert outcomes[0] == outcomes[1]
    assert {200, 500, 503} <= set(outcomes[0])


def test_fault_rule_draws_are_reproducible() -> None:
    plans = []
    for _ in range(2):
        faults = Faults()
        faults.add("*", latency=0.01, jitter=0.5, drop_after=0.5, seed=3)
        plans.append([faults.plan("GET /account", "GET /account") for _ in range(20)])
    assert plans[0] == plans[1]
    assert len({plan.delay for plan in plans[0] if plan}) > 1
    assert {plan.after for plan in plans[0] if plan} == {"drop", None}


def test_fault_arguments_are_checked() -> None:
    faults = Faults()
    with pytest.raises(ValueError, match="probability"):
        faults.add(error_before=1.5)
    with pytest.raises(ValueError, match="sum"):
        faults.add(error_after=0.6, drop_after=0.6)
    with pytest.raises(ValueError, match="5xx"):
        faults.add(error_before=1.0, status_before=404)
    with pytest.raises(ValueError, match="negative"):
        faults.add(latency=-1)


async def test_duplicate_sends_key_on_kind_phone_and_content(api: Any, sandbox: Sandbox) -> None:
    # A bulk job: one message per recipient, each with its own content.
    for index in range(5):
        reply = await api.post(
            "/messages/text", {"phone": f"+1555000100{index}", "message": f"Order {index}"}
        )
        assert reply.status == 200
    # The same text to different people is not a duplicate either.
    for index in range(2):
        await api.post("/messages/text", {"phone": f"+1555000200{index}", "message": "Same"})
    assert sandbox.duplicate_sends() == []
    # The same content on another channel is a different send.
    await api.post(
        "/messages/interactive",
        {"phone": "+15550001000", "type": "button", "body_text": "Order 0",
         "buttons": [{"id": "ok", "title": "OK"}]},
    )  # fmt: skip
    assert sandbox.duplicate_sends() == []
    await api.post("/messages/text", {"phone": "15550001003", "message": "Order 3"})
    duplicates = sandbox.duplicate_sends()
    assert [(d.kind, d.phone, json.loads(d.content)) for d in duplicates] == [
        ("text", "15550001003", {"message": "Order 3"}),
        ("text", "15550001003", {"message": "Order 3"}),
    ]


async def test_send_records(api: Any, sandbox: Sandbox) -> None:
    await api.post("/messages/text", TEXT)
    await api.post(
        "/messages/template",
        {"phone": "15550002222", "template_name": "order_update", "language": "en",
         "field_1": "A", "field_2": "B"},
    )  # fmt: skip
    await api.post(
        "/messages/media",
        {"phone": "15550003333", "media_type": "image", "media_url": "https://x.io/a.png"},
    )
    await api.post("/auth/send-otp", {"phone": "15550004444", "template_name": "otp_verification",
                                      "code": "123456"})  # fmt: skip
    records = sandbox.sends
    assert [(r.seq, r.kind, r.route) for r in records] == [
        (1, "text", "POST /messages/text"),
        (2, "template", "POST /messages/template"),
        (3, "media", "POST /messages/media"),
        (4, "otp", "POST /auth/send-otp"),
    ]
    assert records[0].payload == {"message": TEXT["message"]}
    assert records[1].payload["fields"] == ["A", "B"]
    assert records[2].payload["media_url"] == "https://x.io/a.png"
    assert json.loads(records[3].content)["code"] == "123456"
    assert all(record.at.tzinfo is not None for record in records)
    assert [r.message_id for r in records] == [
        m["message_id"] for m in reversed((await api.get("/messages")).data)
    ]
    assert sandbox.sends_to("+1 555 000 2222") == [records[1]]
    sandbox.reset_accounting()
    assert sandbox.sends == []
    assert not sandbox.hits


async def test_sends_to_cleans_the_phone_like_the_send_did(api: Any, sandbox: Sandbox) -> None:
    # The server keeps a '+' inside the number (only a leading one is dropped), so the
    # ledger does too; looking the send up by the same string must find it.
    reply = await api.post("/messages/text", {"phone": "1555+0001111", "message": "Hi"})
    assert reply.status == 200
    [record] = sandbox.sends
    assert record.phone == "1555+0001111"
    assert sandbox.sends_to("1555+0001111") == [record]
    assert sandbox.sends_to("+1555+000 1111") == [record]
    assert sandbox.sends_to("15550001111") == []


async def test_hits_count_every_request(api: Any, sandbox: Sandbox) -> None:
    await api.get("/account", token=None)  # 401
    await api.get("/contacts/5")  # 404 from the handler
    await api.post("/messages/text", {})  # 422
    await api.get("/account")
    await api.get("/does/not/exist")
    assert sandbox.hits["GET /account"] == 2
    assert sandbox.hits["GET /contacts/{id}"] == 1
    assert sandbox.hits["POST /messages/text"] == 1
    assert sandbox.hits["GET /api/v2/does/not/exist"] == 1
