"""``client.messages``: Sending and reading messages."""

from __future__ import annotations

from ._base import Resource

__all__ = ["MessagesService"]


class MessagesService(Resource):
    """Sending and reading messages."""

    __slots__ = ()
