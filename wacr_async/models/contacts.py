"""Contacts (``/contacts``), the input row for batch creation, and the batch summaries."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

import attrs

from ._converter import converter, model_hook
from .groups import Group
from .sources import Source
from .statuses import Status

__all__ = [
    "BatchCreateResult",
    "BatchCreateSummary",
    "BatchDeleteResult",
    "Contact",
    "ContactInclude",
    "ContactType",
    "FailedRow",
    "NewContact",
    "SkippedRow",
]

ContactType = Literal["lead", "customer", "guest"]
"""The contact types the API accepts."""

ContactInclude = Literal["groups", "source", "status"]
"""Relations that ``include=`` can load with a contact."""


@attrs.frozen(kw_only=True, slots=False)
class Contact:
    """A contact. ``groups``, ``source`` and ``status`` are None unless asked for with
    ``include=``; ``group_id`` holds the ids of the contact's groups either way.

    Every field but ``id`` has a default, because ``fields=`` may leave any of them out.
    ``type`` is a plain string (``lead``, ``customer``, ``guest`` today).

    Example::

        contact = await client.contacts.get(7, include=["groups", "status"])
        print(contact.firstname, contact.status.name if contact.status else None)
    """

    id: int
    firstname: str | None = None
    lastname: str | None = None
    company: str | None = None
    type: str | None = None
    email: str | None = None
    phone: str | None = None
    status_id: int | None = None
    source_id: int | None = None
    description: str | None = None
    city: str | None = None
    state: str | None = None
    zip: str | None = None
    address: str | None = None
    country_id: int | None = None
    assigned_id: int | None = None
    group_id: list[int] = attrs.field(factory=list)
    is_opted_out: bool = False
    created_at: datetime | None = None
    updated_at: datetime | None = None
    groups: list[Group] | None = None
    source: Source | None = None
    status: Status | None = None


def _group_ids(value: Any) -> list[int]:
    # Stored as a JSON column: a list, a JSON-encoded string, a single id, or null.
    if value.__class__ is list:
        try:
            return list(map(int, value))  # the common case: a list of ids
        except (TypeError, ValueError):
            pass  # nulls or blanks among them: the careful path below drops those
    if value is None or value == "":
        return []
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            value = value.split(",")
    if not isinstance(value, list):
        value = [value]
    return [int(item) for item in value if item is not None and str(item).strip() != ""]


converter.register_structure_hook(Contact, model_hook(Contact, {"group_id": _group_ids}))


@attrs.frozen(kw_only=True)
class NewContact:
    """One contact to create, for ``contacts.create_many`` (rows may also be plain dicts).

    The fields of ``contacts.create`` but ``groups``, which the batch endpoint does not take
    (add the created contacts with ``client.groups.add_contacts``); optional fields left as
    None are not sent.

    Example::

        rows = [
            wacr.NewContact(firstname="Ada", lastname="L", phone="+15550001111",
                            type="lead", source_id=1, status_id=1),
        ]
        result = await client.contacts.create_many(rows, skip_duplicates=True)
    """

    firstname: str
    lastname: str
    phone: str
    type: ContactType
    source_id: int
    status_id: int
    email: str | None = None
    company: str | None = None
    description: str | None = None
    city: str | None = None
    state: str | None = None
    zip: str | None = None
    address: str | None = None
    country_id: int | None = None
    assigned_id: int | None = None

    def to_json(self) -> dict[str, Any]:
        """The request body for this contact: every field that is not None.

        Example::

            NewContact(firstname="Ada", lastname="L", phone="+15550001111", type="lead",
                       source_id=1, status_id=1).to_json()["phone"]   # "+15550001111"
        """
        body: dict[str, Any] = {}
        for field in attrs.fields(NewContact):
            value = getattr(self, field.name)
            if value is None:
                continue
            body[field.name] = value
        return body


@attrs.frozen(kw_only=True)
class BatchCreateSummary:
    """Counts of a batch create: ``total`` = ``created`` + ``skipped`` + ``failed``."""

    total: int = 0
    created: int = 0
    skipped: int = 0
    failed: int = 0


@attrs.frozen(kw_only=True)
class SkippedRow:
    """A row left out with ``skip_duplicates`` (``reason`` is e.g. ``"Duplicate phone"``).

    ``index`` is the row's 0-based position in the request.
    """

    index: int
    reason: str | None = None
    data: dict[str, Any] = attrs.field(factory=dict)


@attrs.frozen(kw_only=True)
class FailedRow:
    """A row the server rejected: ``errors`` maps a field to its messages."""

    index: int
    data: dict[str, Any] = attrs.field(factory=dict)
    errors: dict[str, list[str]] = attrs.field(factory=dict)


def _messages(value: Any) -> dict[str, list[str]]:
    if not isinstance(value, Mapping):
        return {}
    out: dict[str, list[str]] = {}
    for key, messages in value.items():
        items = messages if isinstance(messages, list) else [messages]
        out[str(key)] = [str(item) for item in items]
    return out


def _structure_failed_row(data: Any, _: type) -> FailedRow:
    if isinstance(data, Mapping):
        data = {**data, "errors": _messages(data.get("errors"))}
    return _failed_row_hook(data, FailedRow)


_failed_row_hook = model_hook(FailedRow)
converter.register_structure_hook(FailedRow, _structure_failed_row)


@attrs.frozen(kw_only=True)
class BatchCreateResult:
    """The answer of ``POST /contacts/batch``.

    ``summary`` holds the counts; ``created`` the new contacts; ``skipped`` the duplicate rows
    left out with ``skip_duplicates``; ``errors`` the rows that failed validation.

    Example::

        result = await client.contacts.create_many(rows, skip_duplicates=True)
        print(result.summary.created, [row.index for row in result.errors])
    """

    summary: BatchCreateSummary = attrs.field(factory=BatchCreateSummary)
    created: list[Contact] = attrs.field(factory=list)
    skipped: list[SkippedRow] = attrs.field(factory=list)
    errors: list[FailedRow] = attrs.field(factory=list)


@attrs.frozen(kw_only=True)
class BatchDeleteResult:
    """The answer of ``DELETE /contacts/batch``: how many ids were asked for, deleted and not
    found. ``failed_ids`` lists the ids that were not deleted when the server names them.

    Example::

        result = await client.contacts.delete_many([1, 2, 3])
        print(result.deleted, result.failed)
    """

    total: int = 0
    deleted: int = 0
    failed: int = 0
    failed_ids: list[int] = attrs.field(factory=list)


def _structure_batch_delete(data: Any, _: type) -> BatchDeleteResult:
    # The counts come in a "summary" block; read them flat too. "failed" may list the ids.
    source = data.get("summary", data) if isinstance(data, Mapping) else {}
    if not isinstance(source, Mapping):
        source = {}
    failed = source.get("failed", 0)
    failed_ids = source.get("failed_ids", [])
    if isinstance(failed, list):
        failed_ids, failed = failed, len(failed)
    return BatchDeleteResult(
        total=int(source.get("total", 0) or 0),
        deleted=int(source.get("deleted", 0) or 0),
        failed=int(failed or 0),
        failed_ids=[int(item) for item in failed_ids or []],
    )


converter.register_structure_hook(BatchDeleteResult, _structure_batch_delete)
