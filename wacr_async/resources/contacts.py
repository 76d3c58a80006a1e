"""``client.contacts``: contacts, one at a time or in batches."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

from .._validate import (
    check_choice,
    check_count,
    check_integer_input,
    check_max_length,
    check_positive_int,
    check_required,
)
from ..errors import UnexpectedResponseError, ValidationError
from ..filters import encode_list
from ..models._converter import structure_list
from ..models.contacts import (
    BatchCreateResult,
    BatchDeleteResult,
    Contact,
    ContactInclude,
    ContactType,
    FailedRow,
    NewContact,
)
from ..pagination import AsyncPager
from ._base import Resource

__all__ = ["ContactsService"]

CONTACT_TYPES = ("lead", "customer", "guest")
REQUIRED_FIELDS = ("firstname", "lastname", "phone", "type", "source_id", "status_id")
# Documented max lengths of the create/update/batch fields.
MAX_LENGTHS = {
    "firstname": 255,
    "lastname": 255,
    "phone": 20,
    "email": 191,
    "company": 255,
    "city": 255,
    "state": 255,
    "zip": 20,
    "address": 500,
}


def _check_email(field: str, value: Any) -> None:
    # Only the unambiguous case: any email rule rejects a value without "user@domain".
    # The server trims it and reads a blank one as null (which clears it on update).
    if isinstance(value, str) and value.strip():
        local, at, domain = value.strip().rpartition("@")
        if not at or not local or not domain:
            raise ValidationError.for_field(
                field, f"{field} must be a valid email address (got {value!r})"
            )


def _check_fields(body: Mapping[str, Any], *, required: bool, prefix: str = "") -> None:
    """The documented rules for one contact's fields; ``prefix`` names a batch row."""
    for field in REQUIRED_FIELDS:
        # On update these may be left out, but not sent empty.
        if required or field in body:
            check_required(prefix + field, body.get(field))
    for field in ("source_id", "status_id"):
        if body.get(field) is not None:
            check_integer_input(prefix + field, body[field])
    for field, maximum in MAX_LENGTHS.items():
        value = body.get(field)
        if isinstance(value, str):
            check_max_length(prefix + field, value, maximum)
    if isinstance(body.get("type"), str):
        check_choice(prefix + "type", body["type"], CONTACT_TYPES)
    _check_email(prefix + "email", body.get("email"))


NOT_BATCH_FIELDS = ("groups",)
# The fields an update may set to null.
NULLABLE_FIELDS = (
    "email",
    "company",
    "description",
    "city",
    "state",
    "zip",
    "address",
    "country_id",
    "assigned_id",
)


def _cleared(fields: Collection[str], given: Mapping[str, Any]) -> dict[str, None]:
    """The nulls for ``update(clear=[...])``: optional fields only, and not also given."""
    if isinstance(fields, str):
        fields = [fields]
    for field in fields:
        if field not in NULLABLE_FIELDS:
            allowed = ", ".join(NULLABLE_FIELDS)
            raise ValidationError.for_field(
                "clear", f"{field!r} cannot be cleared; clear one of {allowed}"
            )
        if field in given:
            raise ValidationError.for_field("clear", f"{field!r} is both given and cleared")
    return dict.fromkeys(fields)


def check_batch_row(body: Mapping[str, Any], *, prefix: str = "") -> None:
    """The documented rules for one row of ``POST /contacts/batch``, which takes no groups."""
    _check_fields(body, required=True, prefix=prefix)
    refuse_batch_only_fields(body, prefix=prefix)


def refuse_batch_only_fields(body: Mapping[str, Any], *, prefix: str = "") -> None:
    """Fields ``contacts.create`` takes but a batch row does not (the server ignores them)."""
    for field in NOT_BATCH_FIELDS:
        if body.get(field):
            raise ValidationError.for_field(
                prefix + field,
                f"{field} cannot be set in a batch create; "
                "add the contacts to groups once created (client.groups.add_contacts)",
            )


class BatchRolledBackError(ValidationError):
    """A ``continue_on_error=False`` batch undone by a failing row. ``details`` is the
    server's summary; ``fields`` names the failing rows' fields ``contacts.<index>.<field>``,
    as the local checks of ``create_many`` do."""

    @property
    def failed_rows(self) -> list[FailedRow]:
        """The rows the server named as failing (their index in the request, their errors)."""
        try:
            return structure_list(self.details.get("errors"), FailedRow)
        except UnexpectedResponseError:
            return []  # a summary of another shape: its rows are still in ``details``

    @property
    def fields(self) -> dict[str, list[str]]:
        return {
            f"contacts.{row.index}.{field}": messages
            for row in self.failed_rows
            for field, messages in row.errors.items()
        }


def row_body(row: NewContact | Mapping[str, Any]) -> dict[str, Any]:
    """The JSON body of one contact row (a NewContact or a mapping), as a fresh dict."""
    if isinstance(row, NewContact):
        return row.to_json()
    if isinstance(row, Mapping):
        return dict(row)
    raise TypeError(f"a contact row is a NewContact or a mapping, not {type(row).__name__}")


class ContactsService(Resource):
    """Contacts (scopes ``contacts:read``, ``contacts:write``, ``contacts:delete``)."""

    __slots__ = ()

    def list(
        self,
        *,
        per_page: int = 100,
        sort: str | Sequence[str] | None = None,
        search: str | None = None,
        filter: Mapping[str, Any] | None = None,
        include: Sequence[ContactInclude] | None = None,
        fields: Sequence[str] | None = None,
        prefetch: bool = True,
        concurrency: int = 1,
    ) -> AsyncPager[Contact]:
        """All contacts, page by page. No request is made until the pager is iterated.

        ``sort``: ``id``, ``firstname``, ``lastname``, ``created_at``, ``updated_at`` (``-`` for
        descending). ``search`` matches first/last name, email, phone and company. ``filter``
        keys: ``type``, ``status_id``, ``source_id``, ``assigned_id``, ``created_at`` (with
        operators such as ``wacr.gte``), ``group_id`` (one id). ``include`` loads ``groups``,
        ``source``, ``status``; ``fields`` narrows the columns returned.

        Example::

            async for contact in client.contacts.list(
                sort="-created_at",
                filter={"type": "lead", "created_at": wacr.gte("2025-01-01")},
                include=["groups"],
            ):
                print(contact.id, contact.firstname)
        """
        return self._list(
            "/contacts",
            Contact,
            per_page=per_page,
            sort=sort,
            search=search,
            filter=filter,
            include=include,
            fields=fields,
            prefetch=prefetch,
            concurrency=concurrency,
        )

    async def create(
        self,
        *,
        firstname: str,
        lastname: str,
        phone: str,
        type: ContactType,
        source_id: int,
        status_id: int,
        email: str | None = None,
        company: str | None = None,
        description: str | None = None,
        city: str | None = None,
        state: str | None = None,
        zip: str | None = None,
        address: str | None = None,
        country_id: int | None = None,
        assigned_id: int | None = None,
        groups: Sequence[int] | None = None,
    ) -> Contact:
        """Create a contact (with its ``groups`` loaded). ``phone`` and ``email`` must be
        unique; ``source_id`` / ``status_id`` must be the tenant's. Counts against the plan's
        contact limit (:class:`~wacr_async.FeatureLimitExceededError`). Not retried once sent.

        Example::

            contact = await client.contacts.create(
                firstname="Ada", lastname="Lovelace", phone="+15550001111",
                type="lead", source_id=1, status_id=1, groups=[4],
            )
        """
        body = NewContact(
            firstname=firstname,
            lastname=lastname,
            phone=phone,
            type=type,
            source_id=source_id,
            status_id=status_id,
            email=email,
            company=company,
            description=description,
            city=city,
            state=state,
            zip=zip,
            address=address,
            country_id=country_id,
            assigned_id=assigned_id,
        ).to_json()
        if groups is not None:
            body["groups"] = list(groups)
        _check_fields(body, required=True)
        return await self._call("POST", "/contacts", Contact, safety="unsafe", json=body)

    async def get(
        self, contact_id: int, *, include: Sequence[ContactInclude] | None = None
    ) -> Contact:
        """One contact by id, optionally with its ``groups``, ``source`` and ``status``.

        Example::

            contact = await client.contacts.get(7, include=["groups", "source", "status"])
        """
        check_positive_int("contact_id", contact_id)
        relations = encode_list("include", include)
        params = [("include", relations)] if relations else None
        return await self._call(
            "GET", f"/contacts/{contact_id}", Contact, safety="read", params=params
        )

    async def update(
        self,
        contact_id: int,
        *,
        firstname: str | None = None,
        lastname: str | None = None,
        phone: str | None = None,
        type: ContactType | None = None,
        source_id: int | None = None,
        status_id: int | None = None,
        email: str | None = None,
        company: str | None = None,
        description: str | None = None,
        city: str | None = None,
        state: str | None = None,
        zip: str | None = None,
        address: str | None = None,
        country_id: int | None = None,
        assigned_id: int | None = None,
        groups: Sequence[int] | None = None,
        clear: Collection[str] = (),
    ) -> Contact:
        """Change the given fields only (a PATCH of what is not None). ``groups`` replaces the
        contact's groups. ``clear`` names optional fields to set to null (None already means
        "leave as it is"). Returns the updated contact with its ``groups`` loaded.

        Example::

            contact = await client.contacts.update(7, email="ada@example.com", groups=[4, 5])
            contact = await client.contacts.update(7, clear=["assigned_id", "company"])
        """
        check_positive_int("contact_id", contact_id)
        given = {
            "firstname": firstname,
            "lastname": lastname,
            "phone": phone,
            "type": type,
            "source_id": source_id,
            "status_id": status_id,
            "email": email,
            "company": company,
            "description": description,
            "city": city,
            "state": state,
            "zip": zip,
            "address": address,
            "country_id": country_id,
            "assigned_id": assigned_id,
            "groups": None if groups is None else [*groups],
        }
        body: dict[str, Any] = {k: v for k, v in given.items() if v is not None}
        _check_fields(body, required=False)
        body.update(_cleared(clear, body))
        return await self._call(
            "PATCH", f"/contacts/{contact_id}", Contact, safety="idempotent", json=body
        )

    async def delete(self, contact_id: int) -> None:
        """Delete a contact for good (scope ``contacts:delete``).

        Example::

            await client.contacts.delete(7)
        """
        check_positive_int("contact_id", contact_id)
        await self._payload("DELETE", f"/contacts/{contact_id}", safety="idempotent")

    async def create_many(
        self,
        rows: Iterable[NewContact | Mapping[str, Any]],
        *,
        skip_duplicates: bool = False,
        continue_on_error: bool = True,
    ) -> BatchCreateResult:
        """Create many contacts in one ``POST /contacts/batch`` (one database transaction).

        ``rows`` are :class:`~wacr_async.NewContact` values or dicts with the same fields.
        With ``skip_duplicates`` a row whose phone exists is skipped, not failed. With
        ``continue_on_error`` (the default) failing rows are reported in ``errors`` and the
        others are created; with ``continue_on_error=False`` the first failing row undoes the
        whole batch and a :class:`~wacr_async.ValidationError` is raised (the server's summary
        is in ``exc.details``). In that mode the rows are checked locally first, so a row that
        would fail the documented field rules raises before anything is sent. Either way
        ``exc.fields`` names the failing fields ``contacts.<index>.<field>``. Not retried once
        sent. For very large imports with a per-row report, see ``client.batch.create_contacts``.

        Example::

            result = await client.contacts.create_many(
                [wacr.NewContact(firstname="Ada", lastname="L", phone="+15550001111",
                                 type="lead", source_id=1, status_id=1)],
                skip_duplicates=True,
            )
            print(result.summary.created, result.summary.skipped, result.errors)
        """
        contacts = [row_body(row) for row in rows]
        check_count("contacts", contacts, minimum=1)
        for index, body in enumerate(contacts):
            if continue_on_error:  # the server reports bad rows one by one
                refuse_batch_only_fields(body, prefix=f"contacts.{index}.")
            else:
                check_batch_row(body, prefix=f"contacts.{index}.")
        return await self._post_batch(
            contacts, skip_duplicates=skip_duplicates, continue_on_error=continue_on_error
        )

    async def _post_batch(
        self,
        contacts: Sequence[Mapping[str, Any]],
        *,
        skip_duplicates: bool,
        continue_on_error: bool,
    ) -> BatchCreateResult:
        """One ``POST /contacts/batch`` of bodies already checked (by ``create_many`` or the
        batch importer); a rollback is raised as :class:`BatchRolledBackError`."""
        body = {
            "contacts": contacts,
            "options": {
                "skip_duplicates": skip_duplicates,
                "continue_on_error": continue_on_error,
            },
        }
        try:
            return await self._call(
                "POST", "/contacts/batch", BatchCreateResult, safety="unsafe", json=body
            )
        except ValidationError as exc:
            # The server's summary lists failed rows under "errors"; read them per row.
            if continue_on_error or not isinstance(exc.details.get("errors"), list):
                raise
            raise BatchRolledBackError(
                exc.message,
                status=exc.status,
                code=exc.code,
                details=exc.details,
                request_id=exc.request_id,
                retry_after=exc.retry_after,
                body_snippet=exc.body_snippet,
            ) from exc

    async def delete_many(self, ids: Iterable[int]) -> BatchDeleteResult:
        """Delete many contacts in one ``DELETE /contacts/batch`` (one transaction).

        Ids that do not exist (or belong to another tenant) are counted in ``failed``; the
        call still succeeds. Not retried once sent.

        Example::

            result = await client.contacts.delete_many([1, 2, 3])
            print(result.deleted, result.failed)
        """
        id_list = [*ids]
        check_count("ids", id_list, minimum=1)
        return await self._call(
            "DELETE", "/contacts/batch", BatchDeleteResult, safety="unsafe", json={"ids": id_list}
        )
