"""``wacr contacts export`` and ``wacr contacts import``."""

from __future__ import annotations

import json
import os
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import attrs
import click
from rich.table import Table

from .. import filters
from ..batch import ACCOUNT_ERRORS, ImportEntry, ImportReport
from ..errors import TransportError
from ..models.contacts import Contact, NewContact
from ..resources.contacts import REQUIRED_FIELDS
from ._app import (
    CliError,
    Session,
    Settings,
    connection_options,
    describe_error,
    errors_text,
    exit_status,
    open_session,
    run,
)
from ._files import CsvRow, CsvSource, OutputFile, csv_text, is_stdout
from ._ui import Ui

__all__ = [
    "IMPORT_FIELDS",
    "ImportSummary",
    "contacts_group",
    "export_contacts",
    "import_contacts",
    "parse_filters",
]

ExportFormat = Literal["jsonl", "csv"]

# Columns of a CSV export: every contact field but the relations loaded with include=.
_RELATIONS = ("groups", "source", "status")
EXPORT_COLUMNS: tuple[str, ...] = tuple(
    field.name for field in attrs.fields(Contact) if field.name not in _RELATIONS
)
# The columns an import reads: the fields of a batch-created contact.
IMPORT_FIELDS: tuple[str, ...] = tuple(field.name for field in attrs.fields(NewContact))
# Failed rows listed on screen after an import; the --report file has them all.
_SHOWN_FAILURES = 10
# Errors that concern every row alike (the account, the connection): the import stops at the
# first and says it once.
STOPPING_ERRORS: tuple[type[BaseException], ...] = (*ACCOUNT_ERRORS, TransportError)

_OPERATORS = {
    "gte": filters.gte,
    "lte": filters.lte,
    "gt": filters.gt,
    "lt": filters.lt,
    "ne": filters.ne,
    "like": filters.like,
}
_LIST_OPERATORS = {"in": filters.in_, "not_in": filters.not_in}
OPERATOR_NAMES = (*_OPERATORS, *_LIST_OPERATORS, "between", "null")
CONTACT_TYPES = ("lead", "customer", "guest")
# The fields GET /contacts filters on (REFERENCE §5); anything else the server ignores, and the
# export would silently be of every contact.
FILTER_FIELDS: tuple[str, ...] = (
    "type",
    "status_id",
    "source_id",
    "assigned_id",
    "created_at",
    "group_id",
)
DATE_FORMAT = "YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS][+HH:MM]"


# -- filters ---------------------------------------------------------------------------------


def _value(field: str, text: str) -> str:
    """One filter value, checked against what the field holds; a usage error otherwise."""
    value = text.strip()
    if field == "type" and value not in CONTACT_TYPES:
        raise click.BadParameter(
            f"type is one of {', '.join(CONTACT_TYPES)} (got {value!r})", param_hint="--filter"
        )
    if field.endswith("_id") and not (value.isdecimal() and value.isascii()):
        raise click.BadParameter(
            f"{field} takes a whole number (got {value!r})", param_hint="--filter"
        )
    if field == "created_at":
        try:
            datetime.fromisoformat(value)
        except ValueError:
            raise click.BadParameter(
                f"{field} takes a date as {DATE_FORMAT}, e.g. 2025-01-31 (got {value!r})",
                param_hint="--filter",
            ) from None
    return value


def _operator(field: str, op: str, value: str) -> filters.FilterOp:
    if op in _OPERATORS:
        return _OPERATORS[op](_value(field, value) if op != "like" else value)
    if op in _LIST_OPERATORS:
        return _LIST_OPERATORS[op]([_value(field, item) for item in value.split(",")])
    if op == "between":
        low, comma, high = value.partition(",")
        if not comma:
            raise click.BadParameter(
                f"{field}:between takes LOW,HIGH (got {value!r})", param_hint="--filter"
            )
        return filters.between(_value(field, low), _value(field, high))
    if op == "null":
        if value.lower() not in ("true", "false"):
            raise click.BadParameter(
                f"{field}:null takes true or false (got {value!r})", param_hint="--filter"
            )
        return filters.is_null(value.lower() == "true")
    raise click.BadParameter(
        f"unknown operator {op!r} in {field}:{op}; use one of {', '.join(OPERATOR_NAMES)}",
        param_hint="--filter",
    )


def parse_filters(texts: Sequence[str]) -> dict[str, Any]:
    """``field=value`` (exact) and ``field:op=value`` options as a filter mapping.

    A field the API does not filter on, or a value the field cannot hold (a date that is not
    ISO 8601, a type that is not lead/customer/guest, an id that is not a number), is a
    ``click.BadParameter`` naming what is valid: a usage error, not a silently wrong export.

    Example::

        parse_filters(["type=lead", "created_at:gte=2025-01-01"])
        # {"type": "lead", "created_at": wacr.gte("2025-01-01")}
    """
    exact: dict[str, str] = {}
    ops: dict[str, list[filters.FilterOp]] = {}
    for text in texts:
        target, equals, value = text.partition("=")
        field, colon, op = target.partition(":")
        field = field.strip()
        if not equals or not field:
            raise click.BadParameter(
                f"{text!r}: write field=value or field:op=value (e.g. created_at:gte=2025-01-01)",
                param_hint="--filter",
            )
        if field not in FILTER_FIELDS:
            raise click.BadParameter(
                f"unknown field {field!r}; contacts filter on {', '.join(FILTER_FIELDS)}",
                param_hint="--filter",
            )
        if colon:
            ops.setdefault(field, []).append(_operator(field, op.strip().lower(), value))
        elif field in exact:
            raise click.BadParameter(f"{field} is given two exact values", param_hint="--filter")
        else:
            exact[field] = _value(field, value)
    both = sorted(set(exact) & set(ops))
    if both:
        raise click.BadParameter(
            f"{both[0]} has both an exact value and an operator", param_hint="--filter"
        )
    combined: dict[str, Any] = dict(exact)
    for field, items in ops.items():
        combined[field] = items[0] if len(items) == 1 else items
    return combined


# -- export ----------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def contact_json(contact: Contact) -> dict[str, Any]:
    """A contact as JSON: None relations left out, timestamps in ISO 8601."""
    data = attrs.asdict(contact, value_serializer=lambda _inst, _field, value: _plain(value))
    for relation in _RELATIONS:
        if data.get(relation) is None:
            data.pop(relation, None)
    return data


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(str(item) for item in value)
    return _plain(value)


def _page_text(items: Sequence[Contact], fmt: ExportFormat) -> str:
    if fmt == "jsonl":
        return "".join(json.dumps(contact_json(c), ensure_ascii=False) + "\n" for c in items)
    return csv_text([[_csv_cell(getattr(c, name)) for name in EXPORT_COLUMNS] for c in items])


async def export_contacts(
    session: Session,
    out: OutputFile,
    ui: Ui,
    *,
    fmt: ExportFormat = "jsonl",
    filter: Mapping[str, Any] | None = None,
    sort: str = "id",
    search: str | None = None,
) -> int:
    """Stream every matching contact to ``out`` a page at a time; returns how many.

    Only one page is held at a time (and the next one in flight), so memory does not grow
    with the number of contacts. The default order, ascending id, puts contacts created
    during the export after the reader's position, so none is written twice.
    """
    pager = session.client.contacts.list(per_page=100, sort=sort, search=search, filter=filter)
    written = 0
    if fmt == "csv":
        await out.write(csv_text([EXPORT_COLUMNS]))
    with ui.track(f"Exporting contacts to {out.name}") as bar:
        async for page in pager.pages():
            if page.total is not None:
                bar.set_total(page.total)
            await out.write(_page_text(page.items, fmt))
            written += len(page.items)
            bar.advance(len(page.items))
        bar.set_total(written)
    return written


# -- import ----------------------------------------------------------------------------------


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


# -- commands --------------------------------------------------------------------------------


@click.group("contacts")
def contacts_group() -> None:
    """Export and import contacts."""


@contacts_group.command("export")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["jsonl", "csv"]),
    default="jsonl",
    show_default=True,
    help="JSON lines (every field) or CSV (one column per field).",
)
@click.option(
    "--filter",
    "filter_texts",
    multiple=True,
    metavar="FIELD[:OP]=VALUE",
    help="Repeatable. type=lead, created_at:gte=2025-01-01, status_id:in=1,2; fields: "
    + ", ".join(FILTER_FIELDS)
    + "; operators: "
    + ", ".join(OPERATOR_NAMES)
    + f"; dates: {DATE_FORMAT}.",
)
@click.option("--search", help="Match first/last name, email, phone or company.")
@click.option(
    "--sort",
    default="id",
    show_default=True,
    help="Fields, comma-separated; '-' for descending (e.g. -created_at).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True, allow_dash=True),
    default="-",
    help="File to write ('-' or none: stdout). A regular file is replaced only once "
    "complete; a pipe or device is written through.",
)
@connection_options
@click.pass_obj
def export_command(
    settings: Settings,
    fmt: ExportFormat,
    filter_texts: tuple[str, ...],
    search: str | None,
    sort: str,
    output: str,
) -> None:
    """Write every contact (or those matching --filter) as JSON lines or CSV.

    Streams page by page with constant memory. Example:

    \b
        wacr contacts export --filter type=lead \\
            --filter created_at:gte=2025-01-01 -o leads.jsonl
    """
    filter = parse_filters(filter_texts)
    run(_export, settings, output, fmt=fmt, filter=filter, sort=sort, search=search)


async def _export(
    settings: Settings,
    output: str,
    *,
    fmt: ExportFormat,
    filter: dict[str, Any],
    sort: str,
    search: str | None,
) -> int:
    ui = settings.ui()
    started = time.monotonic()
    async with open_session(settings) as session, OutputFile(output) as out:
        count = await export_contacts(
            session, out, ui, fmt=fmt, filter=filter or None, sort=sort, search=search
        )
    ui.note(f"Exported {count:,} contacts to {out.name} in {time.monotonic() - started:.1f} s")
    return 0


@contacts_group.command("import")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, readable=True))
@click.option("--chunk-size", type=click.IntRange(1, 1000), default=100, show_default=True)
@click.option(
    "--concurrency",
    type=click.IntRange(1, 64),
    default=4,
    show_default=True,
    help="Chunks in flight at once.",
)
@click.option(
    "--report",
    "report_path",
    type=click.Path(dir_okay=False, writable=True, allow_dash=True),
    help="Write every row's outcome (line, status, contact_id, reason) to this CSV "
    "('-': stdout, the tables then go to stderr).",
)
@click.option("--type", "contact_type", type=click.Choice(["lead", "customer", "guest"]))
@click.option("--source-id", type=click.IntRange(min=1), help="For rows without source_id.")
@click.option("--status-id", type=click.IntRange(min=1), help="For rows without status_id.")
@click.option(
    "--fail-duplicates",
    is_flag=True,
    help="Report phones that already exist as failed instead of skipped.",
)
@click.option(
    "--no-account-check",
    is_flag=True,
    help="Do not read the account's phones first (one call per 100 contacts); the server "
    "then skips only phones written exactly alike.",
)
@connection_options
@click.pass_obj
def import_command(
    settings: Settings,
    csv_file: str,
    chunk_size: int,
    concurrency: int,
    report_path: str | None,
    contact_type: str | None,
    source_id: int | None,
    status_id: int | None,
    fail_duplicates: bool,
    no_account_check: bool,
) -> None:
    """Create contacts from a CSV file with a header row.

    Columns are contact fields: firstname, lastname, phone, type, source_id, status_id
    (required; --type/--source-id/--status-id fill them in), email, company, city, ….
    Rows are checked before sending; bad rows are reported, not sent. Phones need the
    country code (10 to 15 digits; spaces, dashes, dots and parentheses allowed) and are
    stored as + and digits; a phone the file or the account already has (compared as
    digits) is a duplicate, skipped. Rows are named by their line in the file. Exit status
    3 when some rows were not created (failed or unknown), 1 when an error about the
    account or the connection stopped the import.
    """
    defaults: dict[str, Any] = {}
    if contact_type is not None:
        defaults["type"] = contact_type
    if source_id is not None:
        defaults["source_id"] = source_id
    if status_id is not None:
        defaults["status_id"] = status_id
    run(
        _import,
        settings,
        csv_file,
        chunk_size=chunk_size,
        concurrency=concurrency,
        report_path=report_path,
        defaults=defaults,
        skip_duplicates=not fail_duplicates,
        match_account=not no_account_check,
    )


async def _import(
    settings: Settings,
    csv_file: str,
    *,
    chunk_size: int,
    concurrency: int,
    report_path: str | None,
    defaults: dict[str, Any],
    skip_duplicates: bool,
    match_account: bool,
) -> int:
    ui = settings.ui()
    if report_path is not None and is_stdout(report_path):
        ui.results_to_stderr()
    async with open_session(settings) as session:
        summary = await import_contacts(
            session,
            csv_file,
            ui,
            chunk_size=chunk_size,
            concurrency=concurrency,
            skip_duplicates=skip_duplicates,
            defaults=defaults,
            match_account=match_account,
        )
    stopped = summary.report.stopped_by
    if stopped is not None and summary.stopped_before_any_row:
        raise CliError(f"{describe_error(stopped)} (nothing was imported)")
    show_import(ui, summary)
    if report_path is not None:
        await write_import_report(summary, report_path)
        ui.note(f"Report written to {'stdout' if is_stdout(report_path) else report_path}")
    if stopped is not None:
        ui.note(f"Error: the import stopped: {describe_error(stopped)}")
    return exit_status(ok=summary.ok, stopped=stopped is not None)
