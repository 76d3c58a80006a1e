"""Comments (§4): internal notes on a chat, newest first.

These two pages were added after the rest of v2 and document a different style: flat
response fields and, for failures, only the HTTP status with a ``message`` (422 adds an
``errors`` object). The sandbox answers that way: ``{"success": false, "message": …}``
without ``error.code``, so clients exercise their status-code fallback. Authentication
errors (401) still come from the shared middleware in the normal envelope.
"""

from __future__ import annotations

import secrets
from typing import Any

from aiohttp import web

from ._envelope import RawError, json_response, meta, ok
from ._input import read_input, url_extension
from ._phones import digits_of
from ._state import State
from ._table import Row
from ._validation import Validator

__all__ = ["add_comment", "list_comments"]

_MEDIA_TYPES = {
    "image": ("jpg", "jpeg", "png", "webp", "gif"),
    "audio": ("mp3", "ogg", "amr", "aac", "opus", "m4a"),
    "video": ("mp4", "3gp", "mov"),
}


def _chat(state: State, request: web.Request) -> Row:
    chat = state.chat_for(digits_of(request.match_info["mobile"]))
    if chat is None:
        raise RawError(
            404, {"success": False, "message": "No chat conversation found for this mobile number"}
        )
    return chat


async def list_comments(state: State, request: web.Request) -> web.Response:
    chat = _chat(state, request)
    notes = state.comments.get(chat["id"], [])
    return ok(state.clock, notes[::-1])


async def add_comment(state: State, request: web.Request) -> web.Response:
    chat = _chat(state, request)
    body = await read_input(request)
    v = Validator(body)
    comment = v.string("comment", required=True, max=5000)
    status_message = v.string("status_message", max=255) or "Internal comment"
    media_url = v.url("media_url")
    message_id = v.string("message_id", max=255)
    ref_message_id = v.string("ref_message_id", max=255)
    if v.errors:
        raise RawError(422, {"success": False, "message": "Validation failed", "errors": v.errors})
    stored: str | None = None
    kind = "text"
    if media_url is not None:
        extension = url_extension(media_url)
        kind = next((k for k, exts in _MEDIA_TYPES.items() if extension in exts), "document")
        stored = f"{secrets.token_hex(8)}.{extension or 'bin'}"  # the downloaded copy's name
    stamp = state.clock.iso()
    note: dict[str, Any] = {
        "id": state.messages.allocate_id(),  # note rows share the chat message id sequence
        "message": comment,
        "type": kind,
        "status_message": status_message,
        "url": stored,
        "message_id": message_id,
        "ref_message_id": ref_message_id,
        "sender_id": state.wa_number,
        "staff_id": None,
        "created_at": stamp,
        "updated_at": stamp,
    }
    state.comments.setdefault(chat["id"], []).append(note)
    response = {
        "success": True,
        "message": "Comment added successfully",
        "tenant_id": state.account["id"],
        "interaction_id": chat["id"],
        "sender_id": state.wa_number,
        "status_message": status_message,
        "url": stored,
        "message_id": message_id,
        "ref_message_id": ref_message_id,
        "chat_message_id": note["id"],
        "meta": meta(state.clock),
    }
    return json_response(response)
