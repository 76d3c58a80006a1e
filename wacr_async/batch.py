"""``client.batch``: bounded fan-out of contact imports and message sends."""

from __future__ import annotations

from .resources._base import Resource

__all__ = ["BatchService"]


class BatchService(Resource):
    """Bulk operations with bounded concurrency and a per-item report."""

    __slots__ = ()
