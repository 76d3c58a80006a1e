"""The engine of ``client.batch.create_contacts``: rows in, chunks of ``POST /contacts/batch``
out, one :class:`ImportEntry` per row back.

Rows are read lazily and checked locally first (the documented field rules and the one phone
rule, ``_validate.normalize_phone``; a row that fails them is reported and never sent, and a
good phone is sent as ``+`` and its digits). Phones are compared as digits, against the rows
read before and (with ``match_account``) against the phones the account already has, read
once before the first chunk: the batch endpoint does not check rows against each other, and
checks the account (only with ``skip_duplicates``) by the exact string (REFERENCE §5). The
server numbers a chunk's rows from 0; they are mapped back to the row numbers of the input
here.

Creates are never retried: a chunk whose answer was lost reports each of its rows
``unknown``.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ._effects import effect_of
from ._outcomes import ImportEntry, ImportReport, ImportStatus
from ._pool import END, ItemReader, WorkerPool
from ._validate import normalize_phone, phone_digits
from .errors import ValidationError
from .models.contacts import BatchCreateResult, Contact, NewContact
from .resources.contacts import BatchRolledBackError, check_batch_row, row_body

if TYPE_CHECKING:
    from ._services import Services

__all__ = ["Rows", "import_contacts"]

# A row ready to send: its input row number and its JSON body.
_Row = tuple[int, dict[str, Any]]
Rows = Iterable[NewContact | Mapping[str, Any]] | AsyncIterable[NewContact | Mapping[str, Any]]


def _digits(phone: Any) -> str:
    return phone_digits(str(phone))


class _Import:
    """One import in progress: the shared reader and the entries found so far."""

    def __init__(
        self,
        client: Services,
        rows: Rows,
        *,
        chunk_size: int,
        skip_duplicates: bool,
        continue_on_error: bool,
        stop_on: tuple[type[BaseException], ...],
    ) -> None:
        self.client = client
        self.chunk_size = chunk_size
        self.skip_duplicates = skip_duplicates
        self.continue_on_error = continue_on_error
        self.stop_on = stop_on
        self.rows: ItemReader[Any] = ItemReader(rows)
        self.next_row = 0
        self.exhausted = False
        self.stopping = False
        self.stopped_by: BaseException | None = None
        self.raise_after: BaseException | None = None
        self.entries: list[ImportEntry] = []
        # digits of a phone → the first row that had it
        self.phones: dict[str, int] = {}
        # digits of a phone → the account's contact with it (read once, before sending)
        self.account_phones: dict[str, int] = {}

    async def read_account_phones(self) -> None:
        """Remember the phones the account has (one GET per 100 contacts)."""
        pager = self.client.contacts.list(per_page=100, sort="id")
        async for contact in pager:
            if contact.phone:
                self.account_phones.setdefault(_digits(contact.phone), contact.id)

    # -- reading ---------------------------------------------------------------------------

    async def next_chunk(self) -> list[_Row]:
        """Up to ``chunk_size`` rows that passed the local checks (empty: nothing left)."""
        chunk: list[_Row] = []
        while len(chunk) < self.chunk_size and not self.exhausted and not self.stopping:
            try:
                raw = await self.rows.next()
            except Exception as exc:
                self.raise_after = exc
                self.stop(exc)
                break
            if raw is END:
                self.exhausted = True
                break
            row = self.next_row
            self.next_row += 1
            body = self._checked(row, raw)
            if body is not None:
                chunk.append((row, body))
        return chunk

    def _checked(self, row: int, raw: Any) -> dict[str, Any] | None:
        """The row's body, or None after reporting why it is not sent."""
        try:
            try:
                body = row_body(raw)
            except TypeError as exc:
                raise ValidationError.for_field("row", str(exc)) from None
            if body.get("phone") is not None:
                body["phone"] = normalize_phone(body["phone"])
            check_batch_row(body)
        except ValidationError as exc:
            self._add(row, "failed", errors=exc.fields, error=exc)
            if not self.continue_on_error:
                self.stop(exc)
            return None
        phone = _digits(body["phone"])
        existing = self.account_phones.get(phone)
        if existing is not None:
            self._duplicate(row, f"contact {existing} has it", contact_id=existing)
            return None
        first = self.phones.setdefault(phone, row)
        if first != row:
            self._duplicate(row, f"same as row {first}", duplicate_of=first)
            return None
        return body

    def _duplicate(
        self,
        row: int,
        which: str,
        *,
        duplicate_of: int | None = None,
        contact_id: int | None = None,
    ) -> None:
        """Report ``row`` as a duplicate phone: skipped, or failed without skip_duplicates."""
        if self.skip_duplicates:
            self._add(
                row,
                "skipped",
                reason=f"Duplicate phone ({which})",
                duplicate_of=duplicate_of,
                contact_id=contact_id,
            )
            return
        problem = f"This phone number already exists ({which})"
        self._add(
            row,
            "failed",
            errors={"phone": [problem]},
            duplicate_of=duplicate_of,
            contact_id=contact_id,
        )
        if not self.continue_on_error:
            self.stop(ValidationError.for_field("phone", problem))

    # -- sending ---------------------------------------------------------------------------

    async def chunks(self) -> AsyncIterator[list[_Row]]:
        """The checked rows, a chunk at a time, until the input ends or the import stops."""
        while not self.stopping:
            chunk = await self.next_chunk()
            if not chunk:
                return
            yield chunk

    async def send_chunk(self, index: int, chunk: list[_Row]) -> None:
        if self.stopping:
            # The import stopped while this chunk was being read: it is not sent.
            for row, _ in chunk:
                self._add(row, "not_attempted")
            return
        await self._send(chunk)

    async def _send(self, chunk: list[_Row]) -> None:
        bodies = [body for _, body in chunk]
        try:
            result = await self.client.contacts._post_batch(
                bodies,
                skip_duplicates=self.skip_duplicates,
                continue_on_error=self.continue_on_error,
            )
        except Exception as exc:
            self._chunk_failed(chunk, exc)
            return
        self._map_result(chunk, result)

    def _chunk_failed(self, chunk: list[_Row], exc: Exception) -> None:
        if isinstance(exc, BatchRolledBackError):
            # continue_on_error=False: the first failing row rolled the whole chunk back.
            field_errors = {failed.index: failed.errors for failed in exc.failed_rows}
            for position, (row, _) in enumerate(chunk):
                if position in field_errors:
                    self._add(row, "failed", errors=field_errors[position], error=exc)
                else:
                    self._add(row, "failed", reason="rolled back with its chunk", error=exc)
            self.stop(exc)
            return
        status: ImportStatus = "unknown" if effect_of(exc, left=True) != "none" else "failed"
        errors = exc.fields if isinstance(exc, ValidationError) else {}
        for row, _ in chunk:
            self._add(row, status, errors=errors, error=exc)
        if isinstance(exc, self.stop_on) or not self.continue_on_error:
            self.stop(exc)

    def _map_result(self, chunk: list[_Row], result: BatchCreateResult) -> None:
        settled: set[int] = set()
        for skipped in result.skipped:
            if 0 <= skipped.index < len(chunk) and skipped.index not in settled:
                settled.add(skipped.index)
                self._add(chunk[skipped.index][0], "skipped", reason=skipped.reason)
        for failed in result.errors:
            if 0 <= failed.index < len(chunk) and failed.index not in settled:
                settled.add(failed.index)
                self._add(chunk[failed.index][0], "failed", errors=failed.errors)
        remaining = [position for position in range(len(chunk)) if position not in settled]
        for position, contact in _match_created(chunk, remaining, result.created).items():
            row = chunk[position][0]
            if contact is None:
                self._add(row, "unknown", reason="the answer did not say whether it was created")
            else:
                self._add(row, "created", contact_id=contact.id)

    # -- bookkeeping -----------------------------------------------------------------------

    def _add(
        self,
        row: int,
        status: ImportStatus,
        *,
        contact_id: int | None = None,
        reason: str | None = None,
        errors: Mapping[str, list[str]] | None = None,
        error: BaseException | None = None,
        duplicate_of: int | None = None,
    ) -> None:
        self.entries.append(
            ImportEntry(
                row=row,
                status=status,
                contact_id=contact_id,
                reason=reason,
                errors=dict(errors or {}),
                error=error,
                duplicate_of=duplicate_of,
            )
        )

    def stop(self, reason: BaseException) -> None:
        if not self.stopping:
            self.stopping = True
            self.stopped_by = reason

    def report(self, elapsed: float) -> ImportReport:
        entries = sorted(self.entries, key=lambda entry: entry.row)
        return ImportReport(
            entries=tuple(entries),
            stopped_by=self.stopped_by,
            unread_from=None if self.exhausted else self.next_row,
            elapsed=elapsed,
        )


def _match_created(
    chunk: Sequence[_Row], remaining: list[int], created: list[Contact]
) -> dict[int, Contact | None]:
    """Pair the rows that were neither skipped nor failed with the contacts created.

    The server creates in row order, so the n-th contact belongs to the n-th remaining row;
    when the counts or the phones disagree, pair by phone instead.
    """
    in_order = len(created) == len(remaining) and all(
        contact.phone is None or _digits(contact.phone) == _digits(chunk[position][1]["phone"])
        for position, contact in zip(remaining, created, strict=True)
    )
    if in_order:
        return dict(zip(remaining, created, strict=True))
    by_phone: dict[str, list[Contact]] = {}
    for contact in created:
        by_phone.setdefault(_digits(contact.phone or ""), []).append(contact)
    matched: dict[int, Contact | None] = {}
    for position in remaining:
        candidates = by_phone.get(_digits(chunk[position][1]["phone"]))
        matched[position] = candidates.pop(0) if candidates else None
    return matched


async def import_contacts(
    client: Services,
    rows: Rows,
    *,
    chunk_size: int,
    concurrency: int,
    skip_duplicates: bool,
    continue_on_error: bool,
    stop_on: tuple[type[BaseException], ...],
    match_account: bool = True,
) -> ImportReport:
    """Run a whole import; see ``BatchService.create_contacts``."""
    started = time.monotonic()
    job = _Import(
        client,
        rows,
        chunk_size=chunk_size,
        skip_duplicates=skip_duplicates,
        continue_on_error=continue_on_error,
        stop_on=stop_on,
    )
    if match_account:
        try:
            await job.read_account_phones()
        except Exception as exc:
            # Nothing was sent: the import stops before its first row, as for a chunk.
            job.stop(exc)
            return job.report(time.monotonic() - started)
    # The pool reads chunks (one reader, so no lock) only when a chunk can be sent at once.
    pool = WorkerPool(ItemReader(job.chunks()), job.send_chunk, limit=concurrency)
    try:
        while True:
            await pool.fill()
            taken = await pool.next_done()
            if taken is None:
                break
            _, task = taken
            if not task.cancelled() and task.exception() is not None:
                raise task.exception() or RuntimeError("a chunk failed")
    finally:
        await pool.aclose()
    if job.raise_after is not None:
        raise job.raise_after
    return job.report(time.monotonic() - started)
