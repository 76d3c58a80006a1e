"""``wacr demo``: the whole SDK in under a minute, against an in-process sandbox.

It seeds a sandbox, imports contacts from a generated CSV, bulk-sends a template message to
each of them under a rate limit, exports the contacts again, and prints what happened. A few
problems are planted on purpose (duplicate phones, bad rows, opted-out and undeliverable
recipients) so that the reports have something to report.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import tempfile
import time
from pathlib import Path

import click
from rich.table import Table

from ._app import Settings, describe_error, open_session, run
from ._contacts import export_contacts
from ._files import CsvSource, OutputFile
from ._import import import_contacts, show_import
from ._params import RATE_LIMIT_HELP, rate_limit_option
from ._send import send_csv, send_table, template_spec_maker
from ._ui import Ui

__all__ = ["demo_command", "run_demo"]

EXISTING_CONTACTS = 200
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")
_NAMES = ("Ada", "Grace", "Alan", "Linus", "Barbara", "Ken", "Margaret", "Dennis")


def _phone(n: int) -> str:
    return f"+1444{n:07d}"


def _is_duplicate(n: int) -> bool:
    return n % 100 == 37


def _is_bad(n: int) -> bool:
    return n % 200 == 53


def _opts_out(n: int) -> bool:
    return n % 250 == 11


def _undeliverable(n: int) -> bool:
    return n % 500 == 99


def write_contacts_csv(path: Path, count: int) -> None:
    """``count`` rows; about 1% repeat an existing contact's phone, 0.5% are invalid."""
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(
            ("firstname", "lastname", "phone", "type", "source_id", "status_id", "email", "order")
        )
        for n in range(count):
            phone = _phone(count + n // 100) if _is_duplicate(n) else _phone(n)
            email = "not-an-email" if _is_bad(n) else f"customer{n}@example.com"
            writer.writerow(
                (_NAMES[n % 8], f"Customer{n}", phone, "lead", 1, 1, email, f"A-{10_000 + n}")
            )


def _step(ui: Ui, text: str) -> None:
    ui.err.print(f"[green]✓[/green] {text}", highlight=False)


async def run_demo(
    workdir: Path,
    *,
    contacts: int,
    rate_limit: tuple[int, float],
    concurrency: int,
    ui: Ui,
    kept: bool = True,
) -> int:
    """The demo's steps in ``workdir``; ``kept`` False means the folder is deleted at the end,
    so the steps name its files only (a path about to vanish helps nobody)."""
    from ..testing import Sandbox

    calls, window = rate_limit

    def where(path: Path) -> str:
        return str(path) if kept else path.name

    started = time.monotonic()
    async with Sandbox(rate_limit=rate_limit) as sandbox:
        ui.note(
            f"WA.cr demo against an in-process sandbox at {sandbox.url} "
            f"(rate limit: {calls} calls per {window:g} s)"
        )
        if not kept:
            ui.note("Files go to a temporary folder, deleted at the end (--keep DIR keeps them).")
        for n in range(EXISTING_CONTACTS):
            phone = _phone(contacts + n)
            sandbox.add_contact(firstname="Existing", lastname=f"Contact{n}", phone=phone)
        _step(ui, f"Seeded {EXISTING_CONTACTS} contacts, lead sources, statuses and templates")

        contacts_csv = workdir / "contacts.csv"
        await asyncio.to_thread(write_contacts_csv, contacts_csv, contacts)
        _step(ui, f"Generated {where(contacts_csv)} ({contacts:,} rows)")

        async with open_session(Settings(), sandbox=sandbox) as session:
            imported = await import_contacts(
                session, contacts_csv, ui, chunk_size=100, other_columns=["order"]
            )
            _step(ui, f"Imported contacts: {imported.report}")

            # Some customers opt out and some numbers bounce, as in real life.
            for n in range(contacts):
                if not _is_duplicate(n) and _opts_out(n):
                    sandbox.opt_out(_phone(n))
                if _undeliverable(n):
                    sandbox.fail_sends_to(_phone(n))

            async with CsvSource(contacts_csv) as source:
                maker = template_spec_maker(
                    source, "order_update", "en", ["{order}", _DAYS[0]], None
                )
                sent = await send_csv(
                    session,
                    source,
                    maker,
                    ui,
                    journal=str(workdir / "send-journal.sqlite"),
                    concurrency=concurrency,
                    description="Sending order_update",
                )
            if sent.report is not None:
                _step(ui, f"Sent template messages: {sent.report}")
            if sent.interrupted or sent.error is not None:
                ui.show(send_table(sent))
                if sent.error is not None:
                    ui.note(f"Error: the send stopped: {describe_error(sent.error)}")
                return sent.exit_code

            export_path = workdir / "contacts-export.jsonl"
            async with OutputFile(export_path) as out:
                exported = await export_contacts(session, out, ui)
            _step(ui, f"Exported {exported:,} contacts to {where(export_path)}")

            rate_limited = session.statuses[429]

    show_import(ui, imported)
    ui.show(send_table(sent, title="Bulk send of order_update"))
    created = imported.counts["created"]
    ui.show(_totals(exported, created, rate_limited, time.monotonic() - started))
    return 0


def _totals(exported: int, imported: int, rate_limited: int, elapsed: float) -> Table:
    table = Table(title="Demo", title_justify="left", show_header=False)
    table.add_column("what", style="bold")
    table.add_column("value", justify="right")
    table.add_row("contacts exported", f"{exported:,}")
    # Where they come from: a send to a phone that is no contact yet creates one (a lead),
    # as the API does; here, the rows whose import failed were still messaged.
    by_sends = exported - EXISTING_CONTACTS - imported
    table.add_row("  existing before the demo", f"{EXISTING_CONTACTS:,}")
    table.add_row("  created by the import", f"{imported:,}")
    table.add_row("  created by sends to phones with no contact", f"{by_sends:,}")
    table.add_row("429 answers, whole demo", f"{rate_limited:,}")
    table.add_row("demo took", f"{elapsed:.1f} s")
    return table


@click.command("demo")
@click.option(
    "--contacts",
    type=click.IntRange(1, 100_000),
    default=1000,
    show_default=True,
    help="Contacts to import and message.",
)
@click.option(
    "--rate-limit",
    metavar="N/SECONDS",
    default="100/2",
    show_default=True,
    callback=rate_limit_option,
    help=f"The sandbox's rate limit per token: {RATE_LIMIT_HELP}.",
)
@click.option("--concurrency", type=click.IntRange(1, 256), default=16, show_default=True)
@click.option(
    "--keep",
    type=click.Path(file_okay=False, writable=True),
    help="Write the CSV, journal and export here and keep them (default: a temporary folder).",
)
@click.option("--no-progress", is_flag=True, help="Do not show progress bars.")
def demo_command(
    contacts: int,
    rate_limit: tuple[int, float],
    concurrency: int,
    keep: str | None,
    no_progress: bool,
) -> None:
    """Try everything in under a minute: no token, no network.

    Starts a sandbox in this process, imports contacts from a generated CSV, bulk-sends a
    template message to each under the sandbox's rate limit, exports the contacts, and
    prints a summary. A few failures are planted on purpose.
    """
    ui = Ui("off" if no_progress else "auto")
    with contextlib.ExitStack() as stack:
        if keep is None:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="wacr-demo-")))
        else:
            workdir = Path(keep)
            workdir.mkdir(parents=True, exist_ok=True)
        run(
            run_demo,
            workdir,
            contacts=contacts,
            rate_limit=rate_limit,
            concurrency=concurrency,
            ui=ui,
            kept=keep is not None,
        )
