"""Groups, sources and statuses share one shape (id, name[, color], timestamps) and the same
list/create/get/update/delete behaviour; this module implements it once (§6, §8, §9).

Differences kept from the server: statuses have a ``color`` that an update *replaces*
(omitting it sets it to null); sources and statuses refuse deletion with 409
``RESOURCE_CONFLICT`` while contacts use them; deleting a group leaves its id in contacts'
``group_id`` arrays.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from aiohttp import web

from ._envelope import ApiError, ok
from ._input import path_int, read_input, row_or_404
from ._query import ListSpec, list_response, select
from ._state import State
from ._table import Row, Table
from ._validation import Validator

__all__ = ["GROUPS", "LABEL_LIST", "SOURCES", "STATUSES", "Label"]

LABEL_LIST = ListSpec(
    sorts={"name": "str", "created_at": "date", "updated_at": "date"},
    filters={"created_at": "date"},
    search=("name",),
)

_COLOR = re.compile(r"^#[0-9A-Fa-f]{6}$")


@dataclass(frozen=True)
class Label:
    """One label-like resource: which table, what it is called, what is special."""

    table: str  # State attribute holding the Table
    noun: str  # "group", "source", "status"
    has_color: bool = False
    guard_field: str | None = None  # contact column that blocks deletion while in use

    def rows(self, state: State) -> Table:
        table: Table = getattr(state, self.table)
        return table

    def _row(self, state: State, request: web.Request) -> Row:
        """The row named by the path's ``{id}``, or 404."""
        message = f"{self.noun.capitalize()} not found."
        return row_or_404(self.rows(state), path_int(request), message)

    def _validate(self, state: State, body: dict[str, object], except_id: int | None) -> Row:
        noun = self.noun.capitalize()
        v = Validator(
            body,
            {
                "name.required": f"{noun} name is required.",
                "name.unique": f"A {self.noun} with this name already exists.",
                "color.regex": "Color must be a valid hex color code (e.g., #FF5733).",
            },
        )
        name = v.string("name", required=True, max=255)
        if name is not None and self.name_taken(state, name, except_id):
            v.fail("name", "unique", "The name has already been taken.")
        fields: Row = {"name": name}
        if self.has_color:
            fields["color"] = v.string("color", max=7, regex=_COLOR)
        v.check()
        return fields

    def name_taken(self, state: State, name: str, except_id: int | None = None) -> bool:
        folded = name.casefold()
        return any(
            row["name"].casefold() == folded and row["id"] != except_id for row in self.rows(state)
        )

    def add(self, state: State, name: str, color: str | None = None) -> Row:
        """Store a new row (no validation): used by handlers and seeding helpers."""
        stamp = state.clock.iso()
        row: Row = {"id": self.rows(state).allocate_id(), "name": name}
        if self.has_color:
            row["color"] = color
        row["created_at"] = stamp
        row["updated_at"] = stamp
        return self.rows(state).insert(row)

    # -- handlers ---------------------------------------------------------------------------

    async def list(self, state: State, request: web.Request) -> web.Response:
        table = self.rows(state)
        selection = select(table, request.query, LABEL_LIST)
        return list_response(state.clock, request, table, selection, LABEL_LIST)

    async def create(self, state: State, request: web.Request) -> web.Response:
        fields = self._validate(state, await read_input(request), None)
        row = self.add(state, fields["name"], fields.get("color"))
        state.webhooks.resource(self.noun, "created", row)
        return ok(state.clock, row, f"{self.noun.capitalize()} created successfully", status=201)

    async def get(self, state: State, request: web.Request) -> web.Response:
        return ok(state.clock, state.shown(self._row(state, request)))

    async def update(self, state: State, request: web.Request) -> web.Response:
        body = await read_input(request)
        row = self._row(state, request)
        fields = self._validate(state, body, row["id"])
        previous = dict(row)
        row.update(fields)  # statuses: an omitted color becomes null, as on the server
        row["updated_at"] = state.clock.iso()
        self.rows(state).touch(row)
        state.webhooks.resource(self.noun, "updated", row, previous=previous)
        return ok(state.clock, row, f"{self.noun.capitalize()} updated successfully")

    async def delete(self, state: State, request: web.Request) -> web.Response:
        row = self._row(state, request)
        if self.guard_field is not None:
            field = self.guard_field
            used = sum(1 for contact in state.contacts if contact[field] == row["id"])
            if used:
                raise ApiError(
                    409,
                    "RESOURCE_CONFLICT",
                    f"Cannot delete {self.noun}. It is being used by {used} contact(s).",
                )
        self.rows(state).delete(row["id"])
        state.webhooks.resource(self.noun, "deleted", row)
        return ok(state.clock, None, f"{self.noun.capitalize()} deleted successfully")


GROUPS = Label("groups", "group")
SOURCES = Label("sources", "source", guard_field="source_id")
STATUSES = Label("statuses", "status", has_color=True, guard_field="status_id")
