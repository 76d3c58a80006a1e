"""``client.sources``: lead sources (list, create, get, update, delete)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .._validate import check_name, check_positive_int
from ..models.sources import Source
from ..pagination import AsyncPager
from ._base import Resource

__all__ = ["SourcesService"]


class SourcesService(Resource):
    """Lead sources (scopes ``sources:read`` / ``sources:write``)."""

    __slots__ = ()

    def list(
        self,
        *,
        per_page: int = 100,
        sort: str | Sequence[str] | None = None,
        search: str | None = None,
        filter: Mapping[str, Any] | None = None,
        prefetch: bool = True,
        concurrency: int = 1,
    ) -> AsyncPager[Source]:
        """All sources, page by page (sort by ``name``, ``created_at``, ``updated_at``;
        ``search`` matches the name). No request is made until the pager is iterated.

        Example::

            async for source in client.sources.list(sort="name"):
                print(source.id, source.name)
        """
        return self._list(
            "/sources",
            Source,
            per_page=per_page,
            sort=sort,
            search=search,
            filter=filter,
            prefetch=prefetch,
            concurrency=concurrency,
        )

    async def create(self, *, name: str) -> Source:
        """Create a source; ``name`` (at most 255 characters) must be unique.

        Example::

            source = await client.sources.create(name="Trade fair")
        """
        check_name(name)
        return await self._call("POST", "/sources", Source, safety="unsafe", json={"name": name})

    async def get(self, source_id: int) -> Source:
        """One source by id.

        Example::

            source = await client.sources.get(3)
        """
        check_positive_int("source_id", source_id)
        return await self._call("GET", f"/sources/{source_id}", Source, safety="read")

    async def update(self, source_id: int, *, name: str) -> Source:
        """Rename a source (the API requires ``name`` on every update).

        Example::

            source = await client.sources.update(3, name="Trade fair 2026")
        """
        check_positive_int("source_id", source_id)
        check_name(name)
        return await self._call(
            "PATCH", f"/sources/{source_id}", Source, safety="idempotent", json={"name": name}
        )

    async def delete(self, source_id: int) -> None:
        """Delete a source for good. A source still used by contacts is refused with
        :class:`~wacr_async.ResourceConflictError` (409).

        Example::

            await client.sources.delete(3)
        """
        check_positive_int("source_id", source_id)
        await self._payload("DELETE", f"/sources/{source_id}", safety="idempotent")
