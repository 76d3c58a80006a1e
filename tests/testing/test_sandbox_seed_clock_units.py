"""Seeding speed and shape, the clock, and small units (input nesting, limiter, index)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pytest

from wacr_async.testing import Clock, Sandbox
from wacr_async.testing._input import _nest
from wacr_async.testing._ratelimit import FixedWindow
from wacr_async.testing._table import UniqueIndex


def test_seed_100k_contacts_quickly() -> None:
    sandbox = Sandbox()
    started = time.perf_counter()
    ids = sandbox.seed_contacts(100_000)
    elapsed = time.perf_counter() - started
    assert elapsed < 5.0, elapsed  # about half a second on a laptop; loose on purpose
    assert ids == range(1, 100_001)
    assert len(sandbox.state.contacts) == 100_000
    more = sandbox.seed_contacts(10)
    assert more == range(100_001, 100_011)
    phones = {row["phone"] for row in sandbox.state.contacts}
    assert len(phones) == 100_010


async def test_seeded_contacts_are_varied_and_indexed(api: Any, sandbox: Sandbox) -> None:
    sandbox.seed_contacts(12, phone_prefix="+4470", group_ids=[1])
    rows = (await api.get("/contacts?per_page=12")).data
    assert {row["type"] for row in rows} == {"lead", "customer", "guest"}
    assert {row["status_id"] for row in rows} == {1, 2, 3, 4}
    assert {row["source_id"] for row in rows} == {1, 2, 3}
    assert any(row["assigned_id"] is None for row in rows)
    assert any(row["assigned_id"] is not None for row in rows)
    assert all(row["group_id"] == [1] for row in rows)
    assert rows[0]["phone"] == "+44700000001"
    created = [row["created_at"] for row in rows]
    assert created == sorted(created)
    # Seeded contacts take part in uniqueness and in find-or-create on sends.
    clash = await api.create_contact(phone=rows[0]["phone"])
    assert clash.error["details"]["phone"] == ["This phone number already exists."]
    sent = await api.post("/messages/text", {"phone": rows[1]["phone"], "message": "hi"})
    assert sent.data["contact_id"] == rows[1]["id"]


def test_defaults() -> None:
    sandbox = Sandbox()
    assert sandbox.token == "wm_sandbox"
    assert [row["name"] for row in sandbox.state.sources] == ["Website", "WhatsApp", "Referral"]
    assert len(sandbox.state.statuses) == 4
    assert [row["name"] for row in sandbox.state.groups] == ["VIP"]
    assert len(sandbox.state.templates) >= 8
    assert len(sandbox.state.contacts) == 0
    bare = Sandbox(seed_defaults=False, tokens={"t": {"contacts:read"}})
    assert len(bare.state.templates) == 0
    assert bare.token == "t"
    with pytest.raises(RuntimeError, match="not started"):
        _ = bare.url


def test_clock() -> None:
    clock = Clock(start=datetime(2025, 1, 1, tzinfo=UTC), frozen=True)
    assert clock.iso() == "2025-01-01T00:00:00+00:00"
    clock.advance(90)
    assert clock.now() == datetime(2025, 1, 1, 0, 1, 30, tzinfo=UTC)
    with pytest.raises(ValueError, match="forward"):
        clock.advance(-1)
    clock.unfreeze()
    assert clock.time() >= datetime(2025, 1, 1, 0, 1, 30, tzinfo=UTC).timestamp()
    running = Clock()
    assert abs(running.time() - time.time()) < 1


async def test_clock_drives_timestamps(make_api: Any) -> None:
    clock = Clock(start=datetime(2030, 6, 1, 12, 0, tzinfo=UTC), frozen=True)
    async with Sandbox(clock=clock) as sandbox:
        api = make_api(sandbox)
        reply = await api.create_contact()
        assert reply.data["created_at"] == "2030-06-01T12:00:00+00:00"
        assert reply.body["meta"]["timestamp"] == "2030-06-01T12:00:00+00:00"
        sandbox.advance(3600)
        updated = await api.patch("/contacts/1", {"city": "Rome"})
        assert updated.data["updated_at"] == "2030-06-01T13:00:00+00:00"


def test_php_style_nesting() -> None:
    nested = _nest(
        [
            ("contact[firstname]", "Ada"),
            ("contact[groups]", "1,2"),
            ("ids[]", "1"),
            ("ids[]", "2"),
            ("buttons[0][id]", "a"),
            ("buttons[0][title]", "A"),
            ("buttons[1][id]", "b"),
            ("plain", "x"),
        ]
    )
    assert nested == {
        "contact": {"firstname": "Ada", "groups": "1,2"},
        "ids": ["1", "2"],
        "buttons": [{"id": "a", "title": "A"}, {"id": "b"}],
        "plain": "x",
    }


def test_fixed_window() -> None:
    now = [0.0]
    window = FixedWindow(2, 10, lambda: now[0])
    assert window.hit("k").remaining == 1
    assert window.hit("k").remaining == 0
    now[0] = 3.2
    blocked = window.hit("k")
    assert (blocked.allowed, blocked.retry_after) == (False, 7)
    now[0] = 10.0  # the window ended; the next hit opens a new one
    assert window.hit("k").allowed
    now[0] = 19.9
    assert window.hit("k").allowed
    assert not window.hit("k").allowed


def test_unique_index_keeps_the_lowest_id() -> None:
    index = UniqueIndex()
    index.add("+1", 5)
    index.add("+1", 3)
    index.add("+1", 9)
    assert index.get("+1") == 3
    index.remove("+1", 3)
    assert index.get("+1") == 5
    index.remove("+1", 9)
    index.remove("+1", 5)
    assert index.get("+1") is None
    assert "+1" not in index
