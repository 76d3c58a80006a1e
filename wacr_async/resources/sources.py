"""``client.sources``: Lead sources."""

from __future__ import annotations

from ._base import Resource

__all__ = ["SourcesService"]


class SourcesService(Resource):
    """Lead sources."""

    __slots__ = ()
