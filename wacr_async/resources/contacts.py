"""``client.contacts``: Contacts."""

from __future__ import annotations

from ._base import Resource

__all__ = ["ContactsService"]


class ContactsService(Resource):
    """Contacts."""

    __slots__ = ()
