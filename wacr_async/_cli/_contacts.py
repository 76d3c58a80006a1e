"""``wacr contacts export``, ``wacr contacts import`` and ``wacr contacts get``."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Literal

import attrs
import click
from rich.table import Table

from ..models.contacts import Contact
from ._app import (
    CliError,
    Session,
    Settings,
    connection_options,
    describe_error,
    exit_status,
    open_session,
    run,
)
from ._files import OutputFile, csv_text, is_stdout
from ._filters import DATE_FORMAT, FILTER_FIELDS, OPERATOR_NAMES, parse_filters
from ._import import import_contacts, show_import, write_import_report
from ._ui import Ui

__all__ = [
    "contact_json",
    "contacts_group",
    "export_contacts",
    "parse_filters",
]

ExportFormat = Literal["jsonl", "csv"]

# Columns of a CSV export: every contact field but the relations loaded with include=.
_RELATIONS = ("groups", "source", "status")
EXPORT_COLUMNS: tuple[str, ...] = tuple(
    field.name for field in attrs.fields(Contact) if field.name not in _RELATIONS
)


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


def contact_table(contact: Contact) -> Table:
    table = Table(title=f"Contact {contact.id}", show_header=False, title_justify="left")
    table.add_column("field", style="bold")
    table.add_column("value")
    data = contact_json(contact)
    for name, value in data.items():
        if isinstance(value, dict):  # source, status
            value = value.get("name") or value.get("id")
        elif isinstance(value, list) and value and isinstance(value[0], dict):  # groups
            value = ", ".join(str(item.get("name") or item.get("id")) for item in value)
        table.add_row(name, "-" if value in (None, "", []) else str(_csv_cell(value)))
    return table


async def _get(settings: Settings, contact_id: int, *, as_json: bool) -> int:
    ui = settings.ui()
    async with open_session(settings) as session:
        contact = await session.client.contacts.get(
            contact_id, include=["groups", "source", "status"]
        )
    if as_json:
        ui.echo(json.dumps(contact_json(contact), ensure_ascii=False, indent=2))
    else:
        ui.show(contact_table(contact))
    return 0


@contacts_group.command("get")
@click.argument("contact_id", metavar="ID", type=click.IntRange(min=1))
@click.option("--json", "as_json", is_flag=True, help="The contact as one JSON object.")
@connection_options
@click.pass_obj
def get_command(settings: Settings, contact_id: int, as_json: bool) -> None:
    """Show one contact, with its groups, source and status.

    Needs the contacts:read scope. Example: wacr contacts get 42 --json
    """
    run(_get, settings, contact_id, as_json=as_json)
