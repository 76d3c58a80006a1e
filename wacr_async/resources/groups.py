"""``client.groups``: contact groups and their members."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .._validate import (
    check_count,
    check_name,
    check_positive_int,
)
from ..models.groups import Group, GroupMembershipResult
from ..pagination import AsyncPager
from ._base import Resource

__all__ = ["GroupsService"]


class GroupsService(Resource):
    """Contact groups (scopes ``groups:read``, ``groups:write``, ``groups:delete``)."""

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
    ) -> AsyncPager[Group]:
        """All groups, page by page (sort by ``name``, ``created_at``, ``updated_at``;
        ``search`` matches the name). No request is made until the pager is iterated.

        Example::

            async for group in client.groups.list(search="vip"):
                print(group.id, group.name)
        """
        return self._list(
            "/groups",
            Group,
            per_page=per_page,
            sort=sort,
            search=search,
            filter=filter,
            prefetch=prefetch,
            concurrency=concurrency,
        )

    async def create(self, *, name: str) -> Group:
        """Create a group; ``name`` (at most 255 characters) must be unique.

        Example::

            group = await client.groups.create(name="VIP")
        """
        check_name(name)
        return await self._call("POST", "/groups", Group, safety="unsafe", json={"name": name})

    async def get(self, group_id: int) -> Group:
        """One group by id.

        Example::

            group = await client.groups.get(4)
        """
        check_positive_int("group_id", group_id)
        return await self._call("GET", f"/groups/{group_id}", Group, safety="read")

    async def update(self, group_id: int, *, name: str) -> Group:
        """Rename a group (the API requires ``name`` on every update).

        Example::

            group = await client.groups.update(4, name="VIP customers")
        """
        check_positive_int("group_id", group_id)
        check_name(name)
        return await self._call(
            "PATCH", f"/groups/{group_id}", Group, safety="idempotent", json={"name": name}
        )

    async def delete(self, group_id: int) -> None:
        """Delete a group (scope ``groups:delete``).

        Example::

            await client.groups.delete(4)
        """
        check_positive_int("group_id", group_id)
        await self._payload("DELETE", f"/groups/{group_id}", safety="idempotent")

    async def add_contacts(self, group_id: int, ids: Sequence[int]) -> GroupMembershipResult:
        """Add contacts to a group; members already in it are skipped and not counted.

        Every id must be an existing contact of the tenant, else the whole call fails with a
        :class:`~wacr_async.ValidationError`. Not retried once sent (it changes state).

        Example::

            result = await client.groups.add_contacts(4, [10, 11, 12])
            print(result.contacts_added)
        """
        check_positive_int("group_id", group_id)
        contact_ids = list(ids)
        check_count("contact_ids", contact_ids, minimum=1)
        for index, contact_id in enumerate(contact_ids):
            check_positive_int(f"contact_ids.{index}", contact_id)
        return await self._call(
            "POST",
            f"/groups/{group_id}/contacts",
            GroupMembershipResult,
            safety="unsafe",
            json={"contact_ids": contact_ids},
        )

    async def remove_contacts(self, group_id: int, ids: Sequence[int]) -> GroupMembershipResult:
        """Remove contacts from a group (a DELETE with a JSON body). Ids that are not members,
        or not contacts at all, are skipped and not counted.

        Example::

            result = await client.groups.remove_contacts(4, [10, 11])
            print(result.contacts_removed)
        """
        check_positive_int("group_id", group_id)
        contact_ids = list(ids)
        check_count("contact_ids", contact_ids, minimum=1)
        return await self._call(
            "DELETE",
            f"/groups/{group_id}/contacts",
            GroupMembershipResult,
            safety="unsafe",
            json={"contact_ids": contact_ids},
        )
