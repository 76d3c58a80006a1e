"""Contacts (§5): list, create, get, update, delete, batch create, batch delete."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web

from ._envelope import ApiError, ok
from ._input import path_int, read_input, row_or_404
from ._query import ListSpec, list_response, select
from ._sending import PHONE_REQUIRED
from ._state import CONTACT_FIELDS, State
from ._table import Row
from ._validation import Validator, need

__all__ = [
    "CONTACTS",
    "batch_create_contacts",
    "batch_delete_contacts",
    "create_contact",
    "delete_contact",
    "get_contact",
    "list_contacts",
    "update_contact",
]

CONTACTS = ListSpec(
    sorts={
        "id": "int",
        "firstname": "str",
        "lastname": "str",
        "created_at": "date",
        "updated_at": "date",
    },
    filters={
        "type": "str",
        "status_id": "int",
        "source_id": "int",
        "assigned_id": "int",
        "created_at": "date",
        "group_id": "contains",
    },
    search=("firstname", "lastname", "email", "phone", "company"),
    # ``fields`` is accepted but the server always adds every contact column back: no-op.
    fields_core=None,
    contact_quirks=True,
)

TYPES = ("lead", "customer", "guest")
_INCLUDES = ("groups", "source", "status")

_MESSAGES = {
    "firstname.required": "First name is required.",
    "lastname.required": "Last name is required.",
    **PHONE_REQUIRED,
    "phone.unique": "This phone number already exists.",
    "email.unique": "This email address already exists.",
    "type.required": "Type is required.",
    "type.in": "Type must be either lead, customer, or guest.",
    "source_id.required": "Source is required.",
    "source_id.exists": "The selected source does not exist or does not belong to your account.",
    "status_id.required": "Status is required.",
    "status_id.exists": "The selected status does not exist or does not belong to your account.",
}

# What a batch item may set (``groups`` is not a batch field on the server).
_BATCH_FIELDS = tuple(
    field
    for field in CONTACT_FIELDS
    if field not in ("id", "group_id", "is_opted_out", "created_at", "updated_at")
)
_OPTIONAL_TEXT = (("company", 255), ("description", None), ("city", 255), ("state", 255))
_OPTIONAL_TEXT_2 = (("zip", 20), ("address", 500))


_NOT_FOUND = "Contact not found."


def includes_of(request: web.Request) -> list[str]:
    raw = request.query.get("include") or ""
    return [name for name in (part.strip() for part in raw.split(",")) if name in _INCLUDES]


def presenter(state: State, includes: list[str]) -> Callable[[Row], dict[str, Any]]:
    """A function giving a contact with the requested relations loaded."""

    def present(row: Row) -> dict[str, Any]:
        item = dict(row)
        for name in includes:
            if name == "groups":
                item["groups"] = [
                    group for gid in row["group_id"] if (group := state.groups.get(gid)) is not None
                ]
            elif name == "source" and row["source_id"]:
                item["source"] = state.sources.get(row["source_id"])
            elif name == "status" and row["status_id"]:
                item["status"] = state.statuses.get(row["status_id"])
        return item

    return present


def _validate(
    state: State, body: dict[str, Any], *, partial: bool, contact_id: int | None = None
) -> dict[str, Any]:
    """Create/Update Contact rules; returns the validated changes (present keys only)."""
    v = Validator(body, _MESSAGES)
    required = not partial
    changes: dict[str, Any] = {}

    def keep(field: str, value: Any) -> None:
        if v.present(field) and field not in v.errors:
            changes[field] = value

    keep("firstname", v.string("firstname", required=required, sometimes=partial, max=255))
    keep("lastname", v.string("lastname", required=required, sometimes=partial, max=255))
    for field, limit in _OPTIONAL_TEXT:
        keep(field, v.string(field, max=limit))
    keep("type", v.one_of("type", TYPES, required=required, sometimes=partial))
    email = v.email("email", max=191)
    if email is not None and state.email_taken(email, contact_id):
        v.fail("email", "unique", "The email has already been taken.")
    keep("email", email)
    phone = v.string("phone", required=required, sometimes=partial, max=20)
    if phone is not None and state.phone_taken(phone, contact_id):
        v.fail("phone", "unique", "The phone has already been taken.")
    keep("phone", phone)
    source_id = v.integer("source_id", required=required, sometimes=partial)
    if source_id is not None and state.sources.get(source_id) is None:
        v.fail("source_id", "exists", "The selected source id is invalid.")
    keep("source_id", source_id)
    status_id = v.integer("status_id", required=required, sometimes=partial)
    if status_id is not None and state.statuses.get(status_id) is None:
        v.fail("status_id", "exists", "The selected status id is invalid.")
    keep("status_id", status_id)
    for field, limit in _OPTIONAL_TEXT_2:
        keep(field, v.string(field, max=limit))
    keep("country_id", v.integer("country_id"))
    keep("assigned_id", v.integer("assigned_id"))
    groups = v.array("groups")
    if groups is not None:
        for index in range(len(groups)):
            v.integer(f"groups.{index}")
        if not any(key == "groups" or key.startswith("groups.") for key in v.errors):
            changes["group_id"] = [int(item) for item in groups]
    v.check()
    return changes


async def list_contacts(state: State, request: web.Request) -> web.Response:
    selection = select(state.contacts, request.query, CONTACTS)
    includes = includes_of(request)
    present = presenter(state, includes) if includes else None
    return list_response(state.clock, request, state.contacts, selection, CONTACTS, present=present)


async def create_contact(state: State, request: web.Request) -> web.Response:
    body = await read_input(request)
    fields = _validate(state, body, partial=False)
    state.check_contact_limit()
    row = state.new_contact(fields)
    state.webhooks.resource("contact", "created", row)
    data = presenter(state, ["groups"])(row)
    return ok(state.clock, data, "Contact created successfully", status=201)


async def get_contact(state: State, request: web.Request) -> web.Response:
    row = row_or_404(state.contacts, path_int(request), _NOT_FOUND)
    includes = includes_of(request)
    data: Any = presenter(state, includes)(row) if includes else row
    return ok(state.clock, state.shown(data))


async def update_contact(state: State, request: web.Request) -> web.Response:
    contact_id = path_int(request)
    body = await read_input(request)
    # The server's form request validates before the controller looks the contact up.
    changes = _validate(state, body, partial=True, contact_id=contact_id)
    row = row_or_404(state.contacts, contact_id, _NOT_FOUND)
    previous = dict(row)
    state.update_contact(row, changes)
    state.webhooks.resource("contact", "updated", row, previous=previous)
    data = presenter(state, ["groups"])(row)
    return ok(state.clock, data, "Contact updated successfully")


async def delete_contact(state: State, request: web.Request) -> web.Response:
    row = row_or_404(state.contacts, path_int(request), _NOT_FOUND)
    state.delete_contact(row["id"])
    state.webhooks.resource("contact", "deleted", row)
    return ok(state.clock, None, "Contact deleted successfully")


def _batch_item_errors(item: Any) -> dict[str, list[str]]:
    """The batch endpoint's own, looser rules (no uniqueness or existence checks)."""
    v = Validator(item if isinstance(item, dict) else {})
    v.string("firstname", required=True, max=255)
    v.string("lastname", required=True, max=255)
    v.string("phone", required=True, max=20)
    v.email("email", max=191)
    v.one_of("type", TYPES, required=True)
    v.integer("source_id", required=True)
    v.integer("status_id", required=True)
    for field, limit in (*_OPTIONAL_TEXT, *_OPTIONAL_TEXT_2):
        v.string(field, max=limit)
    v.integer("country_id")
    v.integer("assigned_id")
    return v.errors


async def batch_create_contacts(state: State, request: web.Request) -> web.Response:
    body = await read_input(request)
    v = Validator(body)
    items = v.array("contacts", required=True)
    raw_options = body.get("options")
    options: dict[str, Any] = raw_options if isinstance(raw_options, dict) else {}
    v.check()
    items = need(items)
    continue_on_error = _flag(options.get("continue_on_error"), True)
    skip_duplicates = _flag(options.get("skip_duplicates"), False)
    tenant_id = state.account["id"]

    created: list[Row] = []
    skipped: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []

    def summary() -> dict[str, int]:
        return {
            "total": len(items),
            "created": len(created),
            "skipped": len(skipped),
            "failed": len(errors),
        }

    for index, item in enumerate(items):
        data = (
            {**item, "tenant_id": tenant_id} if isinstance(item, dict) else {"tenant_id": tenant_id}
        )
        item_errors = _batch_item_errors(item)
        if item_errors:
            errors.append({"index": index, "data": data, "errors": item_errors})
            if not continue_on_error:
                # One transaction: the first failure rolls back everything created so far.
                result = {
                    "success": False,
                    "summary": summary(),
                    "created": list(created),
                    "skipped": skipped,
                    "errors": errors,
                }
                for row in created:
                    state.delete_contact(row["id"])
                raise ApiError(422, "VALIDATION_ERROR", "Batch operation failed", result)
            continue
        if skip_duplicates and state.phones.get(item["phone"]) is not None:
            skipped.append({"index": index, "reason": "Duplicate phone", "data": data})
            continue
        fields = {key: item[key] for key in _BATCH_FIELDS if key in item}
        for key in ("source_id", "status_id", "country_id", "assigned_id"):
            if fields.get(key) is not None:
                fields[key] = int(fields[key])
        created.append(state.new_contact(fields))

    for row in created:  # batch creates fire model events; batch deletes do not (§13)
        state.webhooks.resource("contact", "created", row)
    data = {
        "success": True,
        "summary": summary(),
        "created": created,
        "skipped": skipped,
        "errors": errors,
    }
    return ok(state.clock, data, "Batch operation completed")


async def batch_delete_contacts(state: State, request: web.Request) -> web.Response:
    body = await read_input(request)
    v = Validator(body)
    ids = v.array("ids", required=True)
    if ids is not None:
        for index in range(len(ids)):
            v.integer(f"ids.{index}", required=True)
    v.check()
    ids = need(ids)
    deleted = 0
    for contact_id in {int(item) for item in ids}:
        if state.delete_contact(contact_id) is not None:
            deleted += 1
    data = {
        "success": True,
        "summary": {"total": len(ids), "deleted": deleted, "failed": len(ids) - deleted},
    }
    return ok(state.clock, data, "Contacts deleted successfully")


def _flag(value: Any, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, str):
        return value.strip().lower() not in ("0", "false", "no", "off", "")
    return bool(value)
