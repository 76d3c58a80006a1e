"""Internal notes on a chat (``/comments/{mobile}``)."""

from __future__ import annotations

from datetime import datetime

import attrs

__all__ = ["Comment", "CommentAdded"]


@attrs.frozen(kw_only=True, slots=False)
class Comment:
    """One internal note of a chat, newest first in ``comments.list``.

    ``id`` is the note's message row; ``message`` is its text (plain or HTML); ``type`` is the
    media type (``text``, ``image``, ``audio``, ``video``, …) as a plain string.

    Example::

        for note in await client.comments.list("919876543210"):
            print(note.id, note.message)
    """

    id: int
    message: str | None = None
    type: str | None = None
    status_message: str | None = None
    url: str | None = None
    message_id: str | None = None
    ref_message_id: str | None = None
    sender_id: str | None = None
    interaction_id: int | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


@attrs.frozen(kw_only=True)
class CommentAdded:
    """The answer of ``comments.add`` (read whether the API nests it under ``data`` or not).

    ``chat_message_id`` is the new note's row id; ``url`` the stored file name when a
    ``media_url`` was downloaded; ``message_id`` / ``ref_message_id`` are echoed back.

    Example::

        added = await client.comments.add("919876543210", comment="Called back, no answer")
        print(added.chat_message_id)
    """

    chat_message_id: int | None = None
    interaction_id: int | None = None
    tenant_id: int | None = None
    sender_id: str | None = None
    status_message: str | None = None
    url: str | None = None
    message_id: str | None = None
    ref_message_id: str | None = None
