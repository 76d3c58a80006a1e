"""The sandbox's default reading: the server code's answers where REFERENCE §12 differs."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest

from tests.testing.conftest import Api
from wacr_async.testing import Sandbox

PHONE = "+15550001111"


@pytest.fixture
async def server_code() -> AsyncIterator[Sandbox]:
    async with Sandbox() as started:
        yield started


async def _show_paths(api: Api) -> list[str]:
    contact = (await api.create_contact()).data["id"]
    template_id = api.sandbox.state.templates.ordered()[0]["template_id"]
    return [
        f"/contacts/{contact}",
        "/groups/1",
        "/sources/1",
        "/statuses/1",
        f"/templates/{template_id}",
    ]


async def test_the_five_show_endpoints_nest_the_resource(
    server_code: Sandbox, make_api: Callable[[Sandbox], Api]
) -> None:
    api = make_api(server_code)
    server_code.add_group("VIP")
    for path in await _show_paths(api):
        reply = await api.get(path)
        assert reply.status == 200, path
        assert set(reply.body) == {"success", "data", "meta"}, path  # and no "message"
        assert list(reply.data) == ["data"], path
        assert reply.data["data"]["id"], path


async def test_show_wrapped_false_answers_flat(
    make_api: Callable[[Sandbox], Api],
) -> None:
    async with Sandbox(show_wrapped=False) as flat:
        api = make_api(flat)
        flat.add_group("VIP")
        for path in await _show_paths(api):
            reply = await api.get(path)
            assert "data" not in reply.data and reply.data["id"], path
        flat.show_wrapped = True
        assert list((await api.get("/groups/1")).data) == ["data"]


async def test_creates_updates_and_message_shows_stay_flat(
    server_code: Sandbox, make_api: Callable[[Sandbox], Api]
) -> None:
    api = make_api(server_code)
    created = await api.post("/groups", {"name": "Weekly"})
    updated = await api.patch(f"/groups/{created.data['id']}", {"name": "Weekly news"})
    assert created.data["name"] == "Weekly" and updated.data["name"] == "Weekly news"
    server_code.receive(PHONE, "hi")
    detail = await api.get("/messages/1")
    assert detail.data["id"] == 1


async def test_message_items_carry_the_nine_columns(
    server_code: Sandbox, make_api: Callable[[Sandbox], Api]
) -> None:
    api = make_api(server_code)
    server_code.receive(PHONE, "hi")
    await api.post("/messages/text", {"phone": PHONE, "message": "hello"})
    listed = await api.get("/messages")
    assert [list(item) for item in listed.data] == [
        [
            "id",
            "interaction_id",
            "sender_id",
            "type",
            "message",
            "status",
            "message_id",
            "sent_at",
            "is_read",
        ]
    ] * 2
    assert [item["sender_id"] for item in listed.data] == [
        server_code.state.wa_number,
        "15550001111",
    ]
    detail = await api.get("/messages/1")
    assert list(detail.data)[9:] == ["status_message", "ref_message_id", "url", "staff_id"]


@pytest.mark.parametrize(
    "query",
    [
        "/messages?filter[direction]=inbound",
        "/messages?filter[direction][ne]=outbound",
        "/messages?fields=id,message",
        "/templates?fields=template_name",
    ],
)
async def test_unservable_queries_answer_the_server_codes_500(
    server_code: Sandbox, make_api: Callable[[Sandbox], Api], query: str
) -> None:
    reply = await make_api(server_code).get(query)
    noun = query[1:].split("?")[0]
    assert (reply.status, reply.code) == (500, "INTERNAL_ERROR")
    assert reply.error["message"] == f"Failed to fetch {noun}"


async def test_fields_on_contacts_and_documented_queries_still_work(
    server_code: Sandbox, make_api: Callable[[Sandbox], Api]
) -> None:
    api = make_api(server_code)
    assert (await api.get("/contacts?fields=id,firstname")).status == 200
    server_code.documented_queries = True
    server_code.receive(PHONE, "hi")
    reply = await api.get("/messages?filter[direction]=inbound")
    assert [item["direction"] for item in reply.data] == ["inbound"]


async def test_sort_on_messages_is_ignored(
    server_code: Sandbox, make_api: Callable[[Sandbox], Api]
) -> None:
    for text in ("one", "two", "three"):
        server_code.receive(PHONE, text)
    reply = await make_api(server_code).get("/messages?sort=created_at")
    assert [item["message"] for item in reply.data] == ["three", "two", "one"]
