"""``client.comments``: internal notes on a contact's chat (``/comments/{mobile}``)."""

from __future__ import annotations

import builtins
from urllib.parse import quote

from .._envelope import data_of
from .._validate import check_max_length, check_required
from ..models._converter import structure_list
from ..models.comments import Comment, CommentAdded
from ._base import Resource

__all__ = ["CommentsService"]

COMMENT_MAX_LENGTH = 5000
LABEL_MAX_LENGTH = 255


def _path(mobile: str) -> str:
    check_required("mobile", mobile)
    # The number is one path segment: "+" and anything else unusual is percent-encoded.
    return f"/comments/{quote(mobile, safe='')}"


class CommentsService(Resource):
    """Internal notes on a chat (any valid token; the API names no scope)."""

    __slots__ = ()

    async def list(self, mobile: str) -> builtins.list[Comment]:
        """All notes of the chat with ``mobile`` (digits with country code), newest first.

        The API does not paginate this endpoint, so this is one request returning a list.
        A number without a chat raises :class:`~wacr_async.NotFoundError`.

        Example::

            notes = await client.comments.list("919876543210")
            for note in notes:
                print(note.id, note.message)
        """
        payload = await self._payload("GET", _path(mobile), safety="read")
        return structure_list(data_of(payload), Comment)

    async def add(
        self,
        mobile: str,
        *,
        comment: str,
        status_message: str | None = None,
        media_url: str | None = None,
        message_id: str | None = None,
        ref_message_id: str | None = None,
    ) -> CommentAdded:
        """Add an internal note (plain text or HTML, at most 5000 characters) to a chat.

        ``status_message`` is a short label (server default ``"Internal comment"``);
        ``media_url`` a public file the server downloads and attaches; ``message_id`` the
        note's own ``wamid.*``; ``ref_message_id`` the ``wamid.*`` it replies to. Not retried
        once sent.

        Example::

            added = await client.comments.add(
                "919876543210", comment="<b>Called back</b>, no answer", status_message="Call"
            )
            print(added.chat_message_id)
        """
        path = _path(mobile)
        check_required("comment", comment)
        check_max_length("comment", comment, COMMENT_MAX_LENGTH)
        check_max_length("status_message", status_message, LABEL_MAX_LENGTH)
        check_max_length("message_id", message_id, LABEL_MAX_LENGTH)
        check_max_length("ref_message_id", ref_message_id, LABEL_MAX_LENGTH)
        given = {
            "comment": comment,
            "status_message": status_message,
            "media_url": media_url,
            "message_id": message_id,
            "ref_message_id": ref_message_id,
        }
        body = {field: value for field, value in given.items() if value is not None}
        return await self._call("POST", path, CommentAdded, safety="unsafe", json=body)
