"""The contact import of ``wacr contacts import`` (and the demo): CSV rows in, one outcome per
file line out, with the table, the failures shown and the ``--report`` file."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
from rich.table import Table

from ..batch import ACCOUNT_ERRORS, ImportEntry, ImportReport
from ..errors import TransportError
from ..models.contacts import NewContact
from ..resources.contacts import REQUIRED_FIELDS
from ._app import Session, describe_error, errors_text
from ._files import CsvRow, CsvSource, OutputFile, csv_text
from ._ui import Ui

__all__ = [
    "IMPORT_FIELDS",
    "STOPPING_ERRORS",
    "ImportSummary",
    "import_contacts",
    "show_import",
    "write_import_report",
]

# The columns an import reads: the fields of a batch-created contact.
IMPORT_FIELDS: tuple[str, ...] = tuple(field.name for field in attrs.fields(NewContact))
# Failed rows listed on screen after an import; the --report file has them all.
_SHOWN_FAILURES = 10
# Errors that concern every row alike (the account, the connection): the import stops at the
# first and says it once.
STOPPING_ERRORS: tuple[type[BaseException], ...] = (*ACCOUNT_ERRORS, TransportError)


@attrs.frozen(kw_only=True)
class ImportSummary:
    """An import's report plus what the CSV itself got wrong (rows never sent)."""

    report: ImportReport
    lines: Sequence[int]  # the CSV line of each row given to the import, by row index
    malformed: Sequence[CsvRow]
    path: Path
    rows_in_file: int | None = None

    @property
    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = dict(self.report.counts)
        counts["failed"] += len(self.malformed)
        if self.rows_in_file is not None:
            # An import that stopped early never read the rest of the file: not attempted.
            counts["not_attempted"] += max(0, self.rows_in_file - sum(counts.values()))
        return counts

    @property
    def stopped_before_any_row(self) -> bool:
        """An error about the account or the connection stopped the import before any row
        was created, skipped or sent."""
        return isinstance(self.report.stopped_by, STOPPING_ERRORS) and not any(
            entry.status in ("created", "skipped", "unknown") for entry in self.report.entries
        )

    @property
    def ok(self) -> bool:
        return self.report.ok and not self.malformed

    def line_of(self, row: int) -> int:
        return self.lines[row] if 0 <= row < len(self.lines) else -1


def _contact_row(
    row: CsvRow, columns: Sequence[str], defaults: Mapping[str, Any]
) -> dict[str, Any]:
    # Values are passed on as text: the client reads a string of digits as an id, and a row
    # with anything else is reported failed.
    body: dict[str, Any] = {name: value for name in columns if (value := row.cell(name))}
    for name, value in defaults.items():
        body.setdefault(name, value)
    return body


async def import_contacts(
    session: Session,
    path: str | os.PathLike[str],
    ui: Ui,
    *,
    chunk_size: int = 100,
    concurrency: int = 4,
    skip_duplicates: bool = True,
    defaults: Mapping[str, Any] | None = None,
    other_columns: Sequence[str] = (),
    match_account: bool = True,
) -> ImportSummary:
    """Create a contact for each CSV row, in chunks of ``POST /contacts/batch``.

    Column names are contact fields (``firstname``, ``lastname``, ``phone``, ``type``,
    ``source_id``, ``status_id``, ``email``, …); ``defaults`` fills a field a row leaves
    empty or the file lacks. Other columns are ignored, with a warning unless named in
    ``other_columns`` (columns the caller uses for something else). Phones follow the one
    phone rule and are compared as digits with the file's earlier rows and (unless
    ``match_account`` is False) the account's contacts.
    """
    defaults = dict(defaults or {})
    lines: list[int] = []
    malformed: list[CsvRow] = []
    async with CsvSource(path) as source:
        source.require(name for name in REQUIRED_FIELDS if name not in defaults)
        used = [name for name in source.columns if name in IMPORT_FIELDS]
        ignored = [
            name
            for name in source.columns
            if name and name not in IMPORT_FIELDS and name not in other_columns
        ]
        if ignored:
            ui.warn(f"ignoring columns that are not contact fields: {', '.join(ignored)}")
        total = await source.count_rows()
        with ui.track(f"Importing {Path(path).name}", total=total) as bar:

            def rows_read() -> int:
                return len(lines) + len(malformed)

            async def rows() -> AsyncIterator[dict[str, Any]]:
                async for row in source.well_formed_rows(malformed):
                    lines.append(row.line)
                    bar.advance(rows_read() - bar.done)  # this row and malformed ones before
                    yield _contact_row(row, used, defaults)

            report = await session.client.batch.create_contacts(
                rows(),
                chunk_size=chunk_size,
                concurrency=concurrency,
                skip_duplicates=skip_duplicates,
                match_account=match_account,
                stop_on=STOPPING_ERRORS,
            )
            bar.advance(rows_read() - bar.done)  # malformed rows after the last good one
            if report.stopped_by is not None:
                bar.stop("stopped")
    return ImportSummary(
        report=report, lines=lines, malformed=malformed, path=Path(path), rows_in_file=total
    )


def import_table(summary: ImportSummary) -> Table:
    table = Table(title=f"Import of {summary.path.name}", title_justify="left")
    table.add_column("outcome")
    table.add_column("rows", justify="right")
    for status, count in summary.counts.items():
        if count or status in ("created", "skipped", "failed"):
            table.add_row(status, f"{count:,}")
    table.add_row("elapsed", f"{summary.report.elapsed:.1f} s")
    return table


def _malformed_reason(row: CsvRow) -> str:
    return f"malformed CSV row: {len(row.extra)} value(s) beyond the header"


def _why(entry: ImportEntry, summary: ImportSummary) -> str:
    if entry.duplicate_of is not None:
        # The library counts input rows from 0; a person reads the file's lines.
        earlier = f"same as line {summary.line_of(entry.duplicate_of)}"
        if entry.status == "skipped":
            return f"Duplicate phone ({earlier})"
        return f"phone: This phone number already exists ({earlier})"
    if entry.errors:
        return errors_text(entry.errors)
    if entry.error is not None:
        return describe_error(entry.error)
    return entry.reason or ""


def import_rows(summary: ImportSummary) -> list[tuple[int, str, int | None, str]]:
    """(line, status, contact_id, why) for every row of the file, in file order."""
    rows: list[tuple[int, str, int | None, str]] = [
        (row.line, "failed", None, _malformed_reason(row)) for row in summary.malformed
    ]
    rows.extend(
        (summary.line_of(entry.row), entry.status, entry.contact_id, _why(entry, summary))
        for entry in summary.report.entries
    )
    rows.sort(key=lambda row: row[0])
    return rows


async def write_import_report(summary: ImportSummary, path: str) -> None:
    """Every row's fate, as CSV: line, status, contact_id, reason."""
    rows = import_rows(summary)
    async with OutputFile(path) as out:
        await out.write(csv_text([("line", "status", "contact_id", "reason")]))
        for start in range(0, len(rows), 1000):
            block = rows[start : start + 1000]
            await out.write(
                csv_text([(line, status, cid or "", why) for line, status, cid, why in block])
            )


def show_import(ui: Ui, summary: ImportSummary) -> None:
    ui.show(import_table(summary))
    stopped = summary.report.stopped_by
    # Rows that failed with the error that stopped the import are said once, below.
    same = "" if stopped is None else describe_error(stopped)
    failures = [
        row
        for row in import_rows(summary)
        if row[1] not in ("created", "skipped") and not (same and row[3] == same)
    ]
    for line, status, _, why in failures[:_SHOWN_FAILURES]:
        ui.note(f"  line {line}: {status}: {why}")
    if len(failures) > _SHOWN_FAILURES:
        ui.note(f"  … and {len(failures) - _SHOWN_FAILURES:,} more (see --report)")
