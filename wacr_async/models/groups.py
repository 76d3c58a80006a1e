"""Contact groups (``/groups``) and the result of adding or removing members."""

from __future__ import annotations

from datetime import datetime

import attrs

__all__ = ["Group", "GroupMembershipResult"]


@attrs.frozen(kw_only=True, slots=False)
class Group:
    """A named group of contacts (no member count: the API does not report one).

    Example::

        group = await client.groups.create(name="VIP")
        print(group.id, group.name)
    """

    id: int
    name: str = ""
    created_at: datetime | None = None
    updated_at: datetime | None = None


@attrs.frozen(kw_only=True)
class GroupMembershipResult:
    """What ``add_contacts`` / ``remove_contacts`` changed.

    ``contacts_added`` counts only contacts that were not members yet (set by ``add_contacts``);
    ``contacts_removed`` counts only contacts that were members (set by ``remove_contacts``).

    Example::

        result = await client.groups.add_contacts(group.id, [1, 2, 3])
        print(result.contacts_added)
    """

    group_id: int
    contacts_added: int | None = None
    contacts_removed: int | None = None
