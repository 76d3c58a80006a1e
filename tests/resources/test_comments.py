"""client.comments against the sandbox: internal notes on a chat (REFERENCE §4).

These endpoints name no scope (any valid token), answer flat fields, and report failures by
HTTP status only: 401, 404 without a chat, 422 with an ``errors`` object.
"""

from __future__ import annotations

from typing import Any

import pytest

import wacr_async as wacr
from tests.resources._support import Wire, no_requests
from wacr_async.models.comments import Comment, CommentAdded
from wacr_async.testing import Sandbox

MOBILE = "919876543210"


# -- add ---------------------------------------------------------------------------------------


async def test_add_returns_the_flat_answer(
    wacr_sandbox: Sandbox, wire: tuple[Wire, wacr.Client]
) -> None:
    recorder, client = wire
    chat = wacr_sandbox.add_chat(MOBILE)

    added = await client.comments.add(MOBILE, comment="<strong>Called</strong>\nNo answer")

    assert isinstance(added, CommentAdded)
    assert added.interaction_id == chat["id"]
    assert added.tenant_id == wacr_sandbox.state.account["id"]
    assert added.sender_id == wacr_sandbox.state.wa_number
    assert added.status_message == "Internal comment"  # the documented default
    assert (added.url, added.message_id, added.ref_message_id) == (None, None, None)
    assert isinstance(added.chat_message_id, int)
    [note] = wacr_sandbox.state.comments[chat["id"]]
    assert (note["id"], note["message"]) == (
        added.chat_message_id,
        "<strong>Called</strong>\nNo answer",
    )
    assert recorder.requests[0][:2] == ("POST", f"/api/v2/comments/{MOBILE}")
    # Only the given fields are sent.
    assert recorder.body() == {"comment": "<strong>Called</strong>\nNo answer"}


async def test_add_with_every_field(wacr_sandbox: Sandbox, wire: tuple[Wire, wacr.Client]) -> None:
    recorder, client = wire
    wacr_sandbox.add_chat(MOBILE)

    added = await client.comments.add(
        MOBILE,
        comment="See the photo",
        status_message="Photo",
        media_url="https://cdn.example.com/shots/door.PNG",
        message_id="wamid.note1",
        ref_message_id="wamid.original",
    )

    assert added.status_message == "Photo"
    assert (added.message_id, added.ref_message_id) == ("wamid.note1", "wamid.original")
    assert added.url is not None and added.url.endswith(".png")  # the stored copy's name
    assert recorder.body() == {
        "comment": "See the photo",
        "status_message": "Photo",
        "media_url": "https://cdn.example.com/shots/door.PNG",
        "message_id": "wamid.note1",
        "ref_message_id": "wamid.original",
    }
    [note] = await client.comments.list(MOBILE)
    assert (note.type, note.url, note.ref_message_id) == ("image", added.url, "wamid.original")


async def test_add_reaches_the_same_chat_however_the_number_is_written(
    wacr_sandbox: Sandbox, wire: tuple[Wire, wacr.Client]
) -> None:
    recorder, client = wire
    chat = wacr_sandbox.add_chat(MOBILE)

    first = await client.comments.add("+91 98765 43210", comment="one")
    second = await client.comments.add("+919876543210", comment="two")

    assert first.interaction_id == second.interaction_id == chat["id"]
    # The number is one percent-encoded path segment.
    assert recorder.requests[0][1] == "/api/v2/comments/%2B91%2098765%2043210"
    assert recorder.requests[1][1] == "/api/v2/comments/%2B919876543210"


async def test_add_without_a_chat_is_not_found(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    with pytest.raises(wacr.NotFoundError) as caught:
        await wacr_client.comments.add(MOBILE, comment="Hello")

    exc = caught.value
    assert exc.status == 404
    assert exc.code is None  # this page documents only the status
    assert exc.message == "No chat conversation found for this mobile number"
    assert wacr_sandbox.hits["POST /comments/{mobile}"] == 1
    assert wacr_sandbox.state.comments == {}


async def test_add_a_bad_media_url_is_rejected_by_the_server(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    chat = wacr_sandbox.add_chat(MOBILE)

    with pytest.raises(wacr.ValidationError) as caught:
        await wacr_client.comments.add(MOBILE, comment="See file", media_url="not a url")

    exc = caught.value
    assert (exc.status, exc.code, exc.local) == (422, None, False)
    assert exc.message == "Validation failed"
    assert list(exc.fields) == ["media_url"]  # read from the 422's "errors" object
    assert wacr_sandbox.state.comments.get(chat["id"]) is None
    assert wacr_sandbox.hits["POST /comments/{mobile}"] == 1


@pytest.mark.parametrize(
    ("mobile", "fields", "field"),
    [
        ("", {"comment": "Hi"}, "mobile"),
        ("  ", {"comment": "Hi"}, "mobile"),
        (MOBILE, {"comment": ""}, "comment"),
        (MOBILE, {"comment": " \n "}, "comment"),
        (MOBILE, {"comment": "x" * 5001}, "comment"),
        (MOBILE, {"comment": "Hi", "status_message": "s" * 256}, "status_message"),
        (MOBILE, {"comment": "Hi", "message_id": "m" * 256}, "message_id"),
        (MOBILE, {"comment": "Hi", "ref_message_id": "r" * 256}, "ref_message_id"),
    ],
)
async def test_add_rejects_bad_input_locally(
    wacr_sandbox: Sandbox,
    wacr_client: wacr.Client,
    mobile: str,
    fields: dict[str, Any],
    field: str,
) -> None:
    wacr_sandbox.add_chat(MOBILE)

    with pytest.raises(wacr.ValidationError) as caught:
        await wacr_client.comments.add(mobile, **fields)

    assert caught.value.local is True
    assert list(caught.value.fields) == [field]
    assert no_requests(wacr_sandbox)


async def test_add_accepts_values_at_the_documented_limits(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    wacr_sandbox.add_chat(MOBILE)

    added = await wacr_client.comments.add(
        MOBILE,
        comment="x" * 5000,
        status_message="s" * 255,
        message_id="m" * 255,
        ref_message_id="r" * 255,
    )

    assert added.status_message == "s" * 255
    [note] = await wacr_client.comments.list(MOBILE)
    assert note.message == "x" * 5000


async def test_add_is_not_retried_after_a_server_error(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    chat = wacr_sandbox.add_chat(MOBILE)
    wacr_sandbox.faults.add("POST /comments/{mobile}", error_after=1.0, times=1)

    with wacr.testing.no_wait(), pytest.raises(wacr.InternalServerError):
        await wacr_client.comments.add(MOBILE, comment="once")

    assert wacr_sandbox.hits["POST /comments/{mobile}"] == 1
    assert len(wacr_sandbox.state.comments[chat["id"]]) == 1  # it did take effect


# -- list --------------------------------------------------------------------------------------


async def test_list_is_newest_first(wacr_sandbox: Sandbox, wacr_client: wacr.Client) -> None:
    wacr_sandbox.add_chat(MOBILE)
    ids = []
    for text in ("first", "second", "third"):
        ids.append((await wacr_client.comments.add(MOBILE, comment=text)).chat_message_id)
        wacr_sandbox.advance(60)

    notes = await wacr_client.comments.list(MOBILE)

    assert all(isinstance(note, Comment) for note in notes)
    assert [note.message for note in notes] == ["third", "second", "first"]
    assert [note.id for note in notes] == ids[::-1]
    newest = notes[0]
    assert (newest.type, newest.status_message) == ("text", "Internal comment")
    assert newest.sender_id == wacr_sandbox.state.wa_number
    assert newest.created_at is not None and notes[2].created_at is not None
    assert newest.created_at > notes[2].created_at


async def test_list_of_a_chat_without_notes_is_empty(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    wacr_sandbox.add_chat(MOBILE)

    assert await wacr_client.comments.list(MOBILE) == []


async def test_list_keeps_chats_apart(wacr_sandbox: Sandbox, wacr_client: wacr.Client) -> None:
    wacr_sandbox.add_chat(MOBILE)
    wacr_sandbox.add_chat("15550001111")
    await wacr_client.comments.add(MOBILE, comment="for India")
    await wacr_client.comments.add("15550001111", comment="for the US")

    assert [n.message for n in await wacr_client.comments.list(MOBILE)] == ["for India"]
    assert [n.message for n in await wacr_client.comments.list("+1 555 000 1111")] == ["for the US"]


async def test_list_after_a_message_exchange(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    # Sending a message opens the chat, so notes can be added to it.
    await wacr_client.messages.send_text("+" + MOBILE, "Hello")

    await wacr_client.comments.add(MOBILE, comment="Sent the intro")

    [note] = await wacr_client.comments.list(MOBILE)
    assert note.message == "Sent the intro"


async def test_list_without_a_chat_is_not_found(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    with pytest.raises(wacr.NotFoundError) as caught:
        await wacr_client.comments.list(MOBILE)

    assert (caught.value.status, caught.value.code) == (404, None)
    assert wacr_sandbox.hits["GET /comments/{mobile}"] == 1


async def test_list_rejects_an_empty_mobile_locally(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    with pytest.raises(wacr.ValidationError) as caught:
        await wacr_client.comments.list("")

    assert caught.value.local is True and list(caught.value.fields) == ["mobile"]
    assert no_requests(wacr_sandbox)


# -- auth --------------------------------------------------------------------------------------


@pytest.mark.wacr_sandbox(tokens={"wm_admin": {"*"}, "wm_narrow": {"templates:read"}})
async def test_any_valid_token_may_use_comments(wacr_sandbox: Sandbox) -> None:
    wacr_sandbox.add_chat(MOBILE)

    async with wacr_sandbox.client(token="wm_narrow") as client:
        added = await client.comments.add(MOBILE, comment="no scope needed")
        assert [n.id for n in await client.comments.list(MOBILE)] == [added.chat_message_id]


async def test_an_invalid_token_is_unauthorized(wacr_sandbox: Sandbox) -> None:
    wacr_sandbox.add_chat(MOBILE)

    async with wacr_sandbox.client(token="wm_wrong") as client:
        with pytest.raises(wacr.AuthenticationError) as listing:
            await client.comments.list(MOBILE)
        with pytest.raises(wacr.AuthenticationError) as adding:
            await client.comments.add(MOBILE, comment="Hi")

    assert (listing.value.status, listing.value.code) == (401, "UNAUTHORIZED")
    assert (adding.value.status, adding.value.code) == (401, "UNAUTHORIZED")
    assert wacr_sandbox.state.comments == {}
