"""``client.comments``: Internal notes on a chat."""

from __future__ import annotations

from ._base import Resource

__all__ = ["CommentsService"]


class CommentsService(Resource):
    """Internal notes on a chat."""

    __slots__ = ()
