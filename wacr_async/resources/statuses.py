"""``client.statuses``: lead statuses (list, create, get, update, delete)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .._validate import (
    check_hex_color,
    check_name,
    check_positive_int,
)
from ..errors import ValidationError
from ..models.statuses import Status
from ..pagination import AsyncPager
from ._base import Resource

__all__ = ["StatusesService"]


class StatusesService(Resource):
    """Lead statuses (scopes ``statuses:read`` / ``statuses:write``)."""

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
    ) -> AsyncPager[Status]:
        """All statuses, page by page (sort by ``name``, ``created_at``, ``updated_at``;
        ``search`` matches the name). No request is made until the pager is iterated.

        Example::

            async for status in client.statuses.list(sort="name"):
                print(status.id, status.name, status.color)
        """
        return self._list(
            "/statuses",
            Status,
            per_page=per_page,
            sort=sort,
            search=search,
            filter=filter,
            prefetch=prefetch,
            concurrency=concurrency,
        )

    async def create(self, *, name: str, color: str | None = None) -> Status:
        """Create a status; ``name`` must be unique, ``color`` is ``#RRGGBB`` when given.

        Example::

            status = await client.statuses.create(name="Qualified", color="#22AA55")
        """
        check_name(name)
        check_hex_color("color", color)
        body: dict[str, Any] = {"name": name}
        if color is not None:
            body["color"] = color
        return await self._call("POST", "/statuses", Status, safety="unsafe", json=body)

    async def get(self, status_id: int) -> Status:
        """One status by id.

        Example::

            status = await client.statuses.get(2)
        """
        check_positive_int("status_id", status_id)
        return await self._call("GET", f"/statuses/{status_id}", Status, safety="read")

    async def update(
        self,
        status_id: int,
        *,
        name: str | None = None,
        color: str | None = None,
        keep_color: bool = True,
    ) -> Status:
        """Rename and/or recolour a status, keeping whatever is not given.

        The API requires ``name`` on every update and resets ``color`` to null when an update
        leaves it out. So when ``name`` or ``color`` is not given, this first reads the status
        (a GET) and resends its current name / colour with the PATCH. The two requests are not
        atomic: a change made by someone else in between is overwritten.

        ``keep_color=False`` does not resend the colour, so the server clears it (one PATCH
        when ``name`` is given): that is how to remove a colour.

        Example::

            await client.statuses.update(2, name="Hot lead")      # GET + PATCH, colour kept
            await client.statuses.update(2, color="#FF5733")      # GET + PATCH, name kept
            await client.statuses.update(2, name="Hot lead", color="#FF5733")   # one PATCH
            await client.statuses.update(2, keep_color=False)     # GET + PATCH, colour removed
        """
        check_positive_int("status_id", status_id)
        if name is None and color is None and keep_color:
            raise ValidationError.for_field("name", "name is required (give name, color or both)")
        if name is not None:
            check_name(name)
        check_hex_color("color", color)
        wants_color = keep_color and color is None
        if name is None or wants_color:
            current = await self.get(status_id)
            if name is None:
                name = current.name
            if wants_color:
                color = current.color
        body: dict[str, Any] = {"name": name}
        if color is not None:
            body["color"] = color
        return await self._call(
            "PATCH", f"/statuses/{status_id}", Status, safety="idempotent", json=body
        )

    async def delete(self, status_id: int) -> None:
        """Delete a status for good. A status still used by contacts is refused with
        :class:`~wacr_async.ResourceConflictError` (409).

        Example::

            await client.statuses.delete(2)
        """
        check_positive_int("status_id", status_id)
        await self._payload("DELETE", f"/statuses/{status_id}", safety="idempotent")
