"""``wacr send text|template``: the resumable bulk-send job over a CSV of recipients.

Kept whole because its parts (specs made from CSV rows, the run with its progress bar and
report lines, the summary, table and advice) share one ``SendSummary`` and the bookkeeping
of which CSV line each outcome belongs to; split, each part would need the others' state.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import click
from rich.table import Table

from ..batch import MessageSpec, Outcome, SendReport, TemplateMessage, TextMessage
from ..errors import APIError
from ._app import (
    Session,
    Settings,
    connection_options,
    describe_error,
    exit_status,
    open_session,
    run,
)
from ._files import CsvRow, CsvSource, OutputFile, csv_text, is_stdout
from ._ui import Ui

__all__ = ["SendSummary", "send_csv", "send_group", "send_specs", "specs_from_csv"]

# {column} is a CSV value; @{contact_first_name} is an API merge field and is left alone.
_PLACEHOLDER = re.compile(r"(?<!@)\{([^{}]+)\}")
_FIELD_COLUMN = re.compile(r"field_(\d+)")
_STATUS_ORDER = ("sent", "skipped", "failed", "unknown", "not_attempted")
_REPORT_COLUMNS = ("line", "index", "key", "phone", "status", "message_id", "error")
_REPORT_FLUSH = 500
_SHOWN_REASONS = 8

SpecMaker = Callable[[CsvRow], MessageSpec]


@attrs.define
class SendSummary:
    """What a bulk send did: counts by outcome, failures by reason, speed, 429s."""

    counts: Counter[str] = attrs.field(factory=Counter)
    reasons: Counter[str] = attrs.field(factory=Counter)
    malformed: list[int] = attrs.field(factory=list)
    report: SendReport | None = None
    elapsed: float = 0.0
    rate_limited: int = 0
    interrupted: bool = False
    error: BaseException | None = None

    @property
    def attempted(self) -> int:
        """Items that reached the API this run (sent, refused, or unknown)."""
        return self.counts["sent"] + self.counts["failed"] + self.counts["unknown"]

    @property
    def stopped(self) -> bool:
        """An error ended the job: the input's, or one that stopped the run."""
        return self.error is not None or (
            self.report is not None and self.report.stopped_by is not None
        )

    @property
    def ok(self) -> bool:
        return (
            self.report is not None
            and self.report.ok
            and not self.malformed
            and not self.interrupted
            and self.error is None
        )

    @property
    def exit_code(self) -> int:
        return exit_status(ok=self.ok, stopped=self.stopped, interrupted=self.interrupted)


# -- specs from a CSV ------------------------------------------------------------------------


def placeholders(text: str) -> list[str]:
    """The ``{column}`` names in a message or field template."""
    return [name.strip() for name in _PLACEHOLDER.findall(text)]


def fill(text: str, values: Mapping[str, str]) -> str:
    """Replace ``{column}`` with the row's value; merge fields (``@{…}``) stay as they are.

    Example::

        fill("Hi {name}, @{contact_phone}", {"name": "Ada"})   # "Hi Ada, @{contact_phone}"
    """
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1).strip()) or "", text)


def _key(row: CsvRow) -> str | None:
    return row.cell("key") or None


def text_spec_maker(source: CsvSource, message: str | None) -> SpecMaker:
    """Specs of ``send text``: the ``message`` column, or ``--message`` filled per row."""
    if message is None:
        source.require(["phone", "message"], "send text without --message")

        def from_column(row: CsvRow) -> MessageSpec:
            return TextMessage(row.cell("phone"), row.values.get("message") or "", key=_key(row))

        return from_column
    source.require(["phone", *placeholders(message)], "the message")

    def from_option(row: CsvRow) -> MessageSpec:
        return TextMessage(row.cell("phone"), fill(message, row.values), key=_key(row))

    return from_option


def template_spec_maker(
    source: CsvSource,
    template: str | None,
    language: str | None,
    fields: Sequence[str],
    header_text: str | None,
) -> SpecMaker:
    """Specs of ``send template``: name and language from options or columns, body fields
    from ``--field`` templates or the ``field_1``, ``field_2``, … columns."""
    needed = ["phone"]
    if template is None:
        needed.append("template_name")
    for text in (*fields, header_text or ""):
        needed.extend(placeholders(text))
    source.require(needed, "the template")
    field_columns = sorted(
        (name for name in source.columns if _FIELD_COLUMN.fullmatch(name)),
        key=lambda name: int(name.split("_")[1]),
    )

    def make(row: CsvRow) -> MessageSpec:
        values = row.values
        body = (
            [fill(text, values) for text in fields]
            if fields
            else [values.get(name) or "" for name in field_columns]
        )
        while body and not body[-1]:
            body.pop()  # a shorter row for a template with fewer parameters
        return TemplateMessage(
            row.cell("phone"),
            template or row.cell("template_name"),
            language or row.cell("language") or "en",
            fields=body,
            header_text=None if header_text is None else fill(header_text, values),
            key=_key(row),
        )

    return make


async def specs_from_csv(
    source: CsvSource, make: SpecMaker, lines: dict[int, int], malformed: list[CsvRow]
) -> AsyncIterator[MessageSpec]:
    """One spec per well-formed row; ``lines`` maps each spec's index to its CSV line until
    its outcome is written, ``malformed`` collects the rows that are not sent."""
    index = 0
    async for row in source.well_formed_rows(malformed):
        lines[index] = row.line
        index += 1
        yield make(row)


# -- running the job -------------------------------------------------------------------------


def _reason(outcome: Outcome) -> str:
    error = outcome.error
    if isinstance(error, APIError) and error.code:
        return error.code
    if error is not None:
        return type(error).__name__
    return outcome.status


def _note(counts: Counter[str]) -> str:
    return " ".join(f"{status} {counts[status]:,}" for status in _STATUS_ORDER if counts[status])


async def send_specs(
    session: Session,
    specs: AsyncIterator[MessageSpec],
    ui: Ui,
    *,
    total: int | None,
    journal: str | None,
    concurrency: int,
    resend_unknown: bool = False,
    report_out: OutputFile | None = None,
    lines: dict[int, int] | None = None,
    description: str = "Sending",
) -> SendSummary:
    """Run ``client.batch.send_messages`` over ``specs`` with a progress bar, writing one
    report line per outcome as it comes. Ctrl-C cancels the run and still returns the
    summary (``interrupted``); an error of the input is kept in ``error``."""
    summary = SendSummary()
    lines = lines if lines is not None else {}
    pending: list[tuple[Any, ...]] = []
    started = time.monotonic()
    before_429 = session.statuses[429]
    job = session.client.batch.send_messages(
        specs, concurrency=concurrency, journal=journal, resend_unknown=resend_unknown
    )

    async def flush() -> None:
        if report_out is not None and pending:
            await report_out.write(csv_text(pending))
        pending.clear()

    with ui.track(description, total=total) as bar:
        try:
            async with job:
                async for outcome in job:
                    summary.counts[outcome.status] += 1
                    if outcome.status in ("failed", "unknown"):
                        summary.reasons[f"{outcome.status}: {_reason(outcome)}"] += 1
                    line = lines.pop(outcome.index, "")
                    if report_out is not None:
                        pending.append(_report_row(line, outcome))
                        if len(pending) >= _REPORT_FLUSH:
                            await flush()
                    bar.advance()
                    bar.set_note(_note(summary.counts))
        except asyncio.CancelledError:
            summary.interrupted = True
        except Exception as exc:  # the input failed (an unreadable row): stop, then say so
            summary.error = exc
        if summary.error is None:
            summary.report = await job.report()
            # The report counts the outcomes an interrupted loop did not read, too.
            summary.counts = Counter(summary.report.counts)
            # The first Ctrl-C stops the run gracefully (a second one cancels it).
            if isinstance(summary.report.stopped_by, KeyboardInterrupt):
                summary.interrupted = True
        if summary.interrupted or summary.stopped:
            # The bar stays where the job stopped (359/600), not filled up to its count.
            bar.stop("interrupted" if summary.interrupted else "stopped")
        else:
            bar.set_total(bar.done)
    await flush()
    summary.elapsed = time.monotonic() - started
    summary.rate_limited = session.statuses[429] - before_429
    return summary


async def send_csv(
    session: Session,
    source: CsvSource,
    make: SpecMaker,
    ui: Ui,
    *,
    journal: str | None,
    concurrency: int,
    resend_unknown: bool = False,
    report_out: OutputFile | None = None,
    description: str = "Sending",
) -> SendSummary:
    """``send_specs`` over one spec per well-formed row of ``source``; the malformed rows are
    not sent, and are counted in the summary and written to the report."""
    lines: dict[int, int] = {}
    malformed: list[CsvRow] = []
    rows_in_file = await source.count_rows()
    summary = await send_specs(
        session,
        specs_from_csv(source, make, lines, malformed),
        ui,
        total=rows_in_file,
        journal=journal,
        concurrency=concurrency,
        resend_unknown=resend_unknown,
        report_out=report_out,
        lines=lines,
        description=description,
    )
    summary.malformed = [row.line for row in malformed]
    if summary.report is not None and summary.report.unread_from is not None:
        # A job stopped early never read the rest of the file: those rows were not attempted
        # either, and the file says how many there are.
        unread = rows_in_file - summary.report.done - len(malformed)
        summary.counts["not_attempted"] += max(0, unread)
    if report_out is not None and malformed:
        rows = [(row.line, "", "", "", "failed", "", "malformed CSV row") for row in malformed]
        await report_out.write(csv_text(rows))
    return summary


def _report_row(line: int | str, outcome: Outcome) -> tuple[Any, ...]:
    spec = outcome.spec
    result = outcome.result
    error = "" if outcome.error is None else describe_error(outcome.error)
    return (
        line,
        outcome.index,
        outcome.key or "",
        "" if spec is None else spec.phone,
        outcome.status,
        "" if result is None else result.message_id or "",
        error,
    )


def send_table(summary: SendSummary, title: str = "Bulk send") -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("outcome")
    table.add_column("messages", justify="right")
    for status in _STATUS_ORDER:
        if summary.counts[status] or status in ("sent", "failed"):
            table.add_row(status, f"{summary.counts[status]:,}")
    for reason, count in summary.reasons.most_common(_SHOWN_REASONS):
        table.add_row(f"  {reason}", f"{count:,}", style="dim")
    if summary.malformed:
        table.add_row("malformed CSV rows (not sent)", f"{len(summary.malformed):,}")
    rate = summary.attempted / summary.elapsed if summary.elapsed > 0 else 0.0
    table.add_row("elapsed", f"{summary.elapsed:.1f} s")
    table.add_row("throughput", f"{rate:.1f} msg/s")
    table.add_row("429 answers", f"{summary.rate_limited:,}")
    return table


def advice(summary: SendSummary, journal: str | None) -> list[str]:
    """What to do next, when not everything went out."""
    if summary.ok:
        return []
    lines: list[str] = []
    report = summary.report
    if report is not None and report.stop_reason is not None and not summary.interrupted:
        lines.append(f"The job stopped: {report.stop_reason}")
    elif report is not None and report.stopped_by is not None and not summary.interrupted:
        lines.append(f"The job stopped: {describe_error(report.stopped_by)}")
    if summary.malformed:
        shown = ", ".join(str(line) for line in summary.malformed[:10])
        lines.append(f"Malformed CSV rows were not sent (lines {shown}).")
    if summary.counts["unknown"]:
        lines.append(
            f"{summary.counts['unknown']:,} message(s) may or may not have been sent (the "
            "answer was lost): check before sending them again, or re-run with "
            "--resend-unknown to send them anyway."
        )
    if journal is not None:
        lines.append(
            f"Re-run the same command with --journal {journal} to resume: sent messages are "
            "skipped, failed ones are tried again."
        )
    else:
        lines.append("Add --journal FILE to make the job resumable.")
    return lines


async def _send_job(
    settings: Settings,
    csv_file: str,
    make_maker: Callable[[CsvSource], SpecMaker],
    *,
    journal: str | None,
    concurrency: int,
    report_path: str | None,
    resend_unknown: bool,
) -> int:
    ui = settings.ui()
    async with contextlib.AsyncExitStack() as stack:
        source = await stack.enter_async_context(CsvSource(csv_file))
        maker = make_maker(source)
        report_out: OutputFile | None = None
        if report_path is not None:
            if is_stdout(report_path):
                ui.results_to_stderr()
            report_out = await stack.enter_async_context(OutputFile(report_path, atomic=False))
            await report_out.write(csv_text([_REPORT_COLUMNS]))
        session = await stack.enter_async_context(open_session(settings))
        summary = await send_csv(
            session,
            source,
            maker,
            ui,
            journal=journal,
            concurrency=concurrency,
            resend_unknown=resend_unknown,
            report_out=report_out,
            description=f"Sending to {Path(csv_file).name}",
        )
    ui.show(send_table(summary))
    for line in advice(summary, journal):
        ui.note(line)
    if report_path is not None:
        ui.note(f"Report written to {'stdout' if is_stdout(report_path) else report_path}")
    if summary.error is not None:
        raise summary.error
    if summary.interrupted:
        ui.note("Interrupted.")
    return summary.exit_code


# -- commands --------------------------------------------------------------------------------


def _job_options(command: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option(
            "--csv",
            "csv_file",
            required=True,
            type=click.Path(exists=True, dir_okay=False, readable=True),
            help="Recipients: a CSV with a header row and a phone column (and key, to name "
            "each message in the journal).",
        ),
        click.option(
            "--journal",
            type=click.Path(dir_okay=False),
            help="SQLite file recording every send; re-running with it resumes the job "
            "without sending anything twice.",
        ),
        click.option(
            "--concurrency",
            type=click.IntRange(1, 256),
            default=16,
            show_default=True,
            help="Sends in flight at once (the token's rate limit paces them too).",
        ),
        click.option(
            "--report",
            "report_path",
            type=click.Path(dir_okay=False, writable=True, allow_dash=True),
            help="Write one CSV line per message (line, index, key, phone, status, "
            "message_id, error); '-': stdout, the tables then go to stderr.",
        ),
        click.option(
            "--resend-unknown",
            is_flag=True,
            help="Send again what an earlier run left with an unknown outcome (may send twice).",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@click.group("send")
def send_group() -> None:
    """Bulk-send messages to the recipients of a CSV file.

    Resumable with --journal. Exit status: 0 when every message was sent, 3 when some were
    not (failed, unknown or not attempted: see the report), 1 on an error that stopped the
    job, 130 when interrupted.
    """


@send_group.command("text")
@_job_options
@click.option(
    "--message",
    help="The text, with {column} replaced by each row's value (and @{contact_first_name} "
    "merge fields left to the API). Default: the message column.",
)
@connection_options
@click.pass_obj
def send_text_command(
    settings: Settings,
    csv_file: str,
    journal: str | None,
    concurrency: int,
    report_path: str | None,
    resend_unknown: bool,
    message: str | None,
) -> None:
    """Send a text message to every row of --csv.

    Example:

    \b
        wacr send text --csv people.csv --journal job.sqlite \\
            --message "Hi {name}, see you Friday"
    """
    run(
        _send_job,
        settings,
        csv_file,
        lambda source: text_spec_maker(source, message),
        journal=journal,
        concurrency=concurrency,
        report_path=report_path,
        resend_unknown=resend_unknown,
    )


@send_group.command("template")
@_job_options
@click.option("--template", help="Template name (default: the template_name column).")
@click.option("--language", help="Template language (default: the language column, or en).")
@click.option(
    "--field",
    "fields",
    multiple=True,
    metavar="TEXT",
    help="Body parameter {{1}}, {{2}}, … in order (repeatable), with {column} replaced by "
    "the row's value. Default: the field_1, field_2, … columns.",
)
@click.option("--header-text", help="The TEXT header's parameter, {column} allowed.")
@connection_options
@click.pass_obj
def send_template_command(
    settings: Settings,
    csv_file: str,
    journal: str | None,
    concurrency: int,
    report_path: str | None,
    resend_unknown: bool,
    template: str | None,
    language: str | None,
    fields: tuple[str, ...],
    header_text: str | None,
) -> None:
    """Send a template message to every row of --csv.

    Example:

    \b
        wacr send template --csv orders.csv --journal orders.sqlite \\
            --template order_update --field "{order}" --field "{day}"
    """
    run(
        _send_job,
        settings,
        csv_file,
        lambda source: template_spec_maker(source, template, language, fields, header_text),
        journal=journal,
        concurrency=concurrency,
        report_path=report_path,
        resend_unknown=resend_unknown,
    )
