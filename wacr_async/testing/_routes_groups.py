"""POST/DELETE /groups/{id}/contacts: group membership, stored in contacts' ``group_id`` (§6).

Adding skips contacts already in the group (only new memberships are counted); removing
skips contacts not in it; unknown ids fail an add (422 on ``contact_ids.N``) but are ignored
by a remove.
"""

from __future__ import annotations

from aiohttp import web

from ._envelope import ok
from ._input import path_int, read_input, row_or_404
from ._state import State
from ._validation import Validator, need

__all__ = ["add_group_contacts", "remove_group_contacts"]

_MESSAGES = {
    "contact_ids.required": "Contact IDs are required.",
    "contact_ids.array": "Contact IDs must be an array.",
    "contact_ids.*.exists": "One or more contact IDs do not exist.",
}


def _group_id(state: State, request: web.Request) -> int:
    group_id: int = row_or_404(state.groups, path_int(request), "Group not found.")["id"]
    return group_id


def _contact_ids(state: State, body: dict[str, object], *, must_exist: bool) -> list[int]:
    v = Validator(body, _MESSAGES)
    ids = v.array("contact_ids", required=True, min=1)
    if ids is not None:
        for index, item in enumerate(ids):
            field = f"contact_ids.{index}"
            valid = v.integer(field, required=True) is not None
            if valid and must_exist and state.contacts.get(int(item)) is None:
                v.fail(field, "exists", "One or more contact IDs do not exist.")
    v.check()
    return [int(item) for item in need(ids)]


async def add_group_contacts(state: State, request: web.Request) -> web.Response:
    group_id = _group_id(state, request)
    ids = _contact_ids(state, await read_input(request), must_exist=True)
    added = 0
    for contact_id in ids:
        contact = state.contacts.get(contact_id)
        if contact is not None and group_id not in contact["group_id"]:
            state.update_contact(contact, {"group_id": [*contact["group_id"], group_id]})
            added += 1
    return ok(
        state.clock,
        {"group_id": group_id, "contacts_added": added},
        "Contacts added to group successfully",
    )


async def remove_group_contacts(state: State, request: web.Request) -> web.Response:
    group_id = _group_id(state, request)
    ids = _contact_ids(state, await read_input(request), must_exist=False)
    removed = 0
    for contact_id in ids:
        contact = state.contacts.get(contact_id)
        if contact is not None and group_id in contact["group_id"]:
            remaining = [gid for gid in contact["group_id"] if gid != group_id]
            state.update_contact(contact, {"group_id": remaining})
            removed += 1
    return ok(
        state.clock,
        {"group_id": group_id, "contacts_removed": removed},
        "Contacts removed from group successfully",
    )
