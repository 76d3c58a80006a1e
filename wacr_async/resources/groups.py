"""``client.groups``: Contact groups."""

from __future__ import annotations

from ._base import Resource

__all__ = ["GroupsService"]


class GroupsService(Resource):
    """Contact groups."""

    __slots__ = ()
