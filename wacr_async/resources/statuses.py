"""``client.statuses``: Lead statuses."""

from __future__ import annotations

from ._base import Resource

__all__ = ["StatusesService"]


class StatusesService(Resource):
    """Lead statuses."""

    __slots__ = ()
