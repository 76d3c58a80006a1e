"""``wacr jobs``: bulk sends as PostgreSQL jobs, run by workers on any number of machines.

Every command takes ``--dsn`` (or ``WACR_JOBS_DSN``). Workers read the token and base URL
from ``WACR_TOKEN``/``WACR_BASE_URL``, as the client does, and pace through one shared row per
token, so three machines on one token never take more than its window.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import click

from .. import _config
from ._app import CliError, Settings, run
from ._files import CsvRow, CsvSource, OutputFile, csv_text
from ._send import SpecMaker, template_spec_maker, text_spec_maker

__all__ = ["jobs_group"]

DSN_ENV = "WACR_JOBS_DSN"
_OUTCOME_HEADER = ("index", "key", "phone", "status", "message_id", "error")


def _jobs() -> Any:
    try:
        from .. import jobs
    except ImportError as exc:
        raise CliError(str(exc)) from None
    return jobs


def _dsn_option(command: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--dsn",
        envvar=DSN_ENV,
        required=True,
        metavar="DSN",
        help=f"PostgreSQL connection string (default: ${DSN_ENV}).",
    )(command)


@click.group("jobs")
def jobs_group() -> None:
    """Bulk sends spread over machines (PostgreSQL; needs the jobs extra).

    \b
    On one machine:   wacr jobs submit --dsn DSN --csv people.csv text --message "Hi {name}"
    On each machine:  WACR_TOKEN=wm_… wacr jobs worker --dsn DSN --burst
    """


@jobs_group.command("worker")
@_dsn_option
@click.option(
    "--concurrency",
    type=click.IntRange(1, 256),
    default=16,
    show_default=True,
    help="Sends on the wire at once in this worker.",
)
@click.option("--burst", is_flag=True, help="Exit once no work is left.")
@click.option(
    "--heartbeat",
    type=click.FloatRange(min=0.1),
    default=10.0,
    show_default=True,
    help="Seconds between the worker's heartbeats (recover waits for a few).",
)
@click.option("--name", help="Worker name shown in the logs.")
def worker_command(
    dsn: str, concurrency: int, burst: bool, heartbeat: float, name: str | None
) -> None:
    """Run a worker: send the chunks of every job until stopped (SIGINT/SIGTERM let the
    chunk in progress finish) or, with --burst, until no work is left."""
    run(_worker, dsn, concurrency, burst, heartbeat, name)


async def _worker(
    dsn: str, concurrency: int, burst: bool, heartbeat: float, name: str | None
) -> int:
    jobs = _jobs()
    from .._client import Client

    try:
        token = _config.resolve_token(None)
    except _config.MissingTokenError:
        raise CliError(f"no API token: set {_config.TOKEN_ENV} for the worker") from None
    async with jobs.JobQueue(dsn) as queue:
        await queue.migrate()  # a worker of a newer release may need newer tables
    pacer = jobs.SharedPacer(dsn, token)
    try:
        await pacer.open()  # connected before the first chunk: its first send waits for nothing
        async with Client(token=token, rate_limiter=pacer) as client:
            worker = jobs.Worker(
                dsn,
                client=client,
                concurrency=concurrency,
                burst=burst,
                heartbeat=heartbeat,
                name=name,
            )
            await worker.run()
    finally:
        await pacer.aclose()
    return 0


@jobs_group.group("submit")
@_dsn_option
@click.option(
    "--csv",
    "csv_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, readable=True),
    help="Recipients: a CSV with a header row and a phone column (and key).",
)
@click.option("--name", help="Job name (default: the CSV file name).")
@click.option(
    "--chunk-size",
    type=click.IntRange(1, 100_000),
    default=200,
    show_default=True,
    help="Items per chunk (the unit a worker takes).",
)
@click.pass_context
def submit_group(
    ctx: click.Context, dsn: str, csv_file: str, name: str | None, chunk_size: int
) -> None:
    """Store a job from a CSV (same options as `wacr send`); prints the job id."""
    ctx.obj = {"dsn": dsn, "csv": csv_file, "name": name or csv_file, "chunk_size": chunk_size}


@submit_group.command("text")
@click.option("--message", help="The text, {column} replaced (default: the message column).")
@click.pass_obj
def submit_text(options: dict[str, Any], message: str | None) -> None:
    """Submit a text message to every row."""
    run(_submit, options, lambda source: text_spec_maker(source, message))


@submit_group.command("template")
@click.option("--template", help="Template name (default: the template_name column).")
@click.option("--language", help="Template language (default: the language column, or en).")
@click.option("--field", "fields", multiple=True, metavar="TEXT", help="Body parameter, in order.")
@click.option("--header-text", help="The TEXT header's parameter, {column} allowed.")
@click.pass_obj
def submit_template(
    options: dict[str, Any],
    template: str | None,
    language: str | None,
    fields: tuple[str, ...],
    header_text: str | None,
) -> None:
    """Submit a template message to every row."""
    run(
        _submit,
        options,
        lambda source: template_spec_maker(source, template, language, fields, header_text),
    )


async def _submit(options: dict[str, Any], maker: Callable[[CsvSource], SpecMaker]) -> int:
    jobs = _jobs()
    malformed: list[CsvRow] = []
    async with CsvSource(options["csv"]) as source:
        make = maker(source)

        async def specs() -> Any:
            async for row in source.well_formed_rows(malformed):
                yield make(row)

        async with jobs.JobQueue(options["dsn"]) as queue:
            await queue.migrate()
            job = await queue.submit(
                specs(), name=options["name"], chunk_size=options["chunk_size"]
            )
            report = await queue.report(job)
    click.echo(job)
    lines = ", ".join(str(row.line) for row in malformed[:10])
    note = (
        f"; {len(malformed)} malformed CSV rows not submitted (lines {lines})" if malformed else ""
    )
    click.echo(f"job {job}: {report.total} messages in {report.chunks} chunks{note}", err=True)
    return 0


@jobs_group.command("status")
@_dsn_option
@click.argument("job", type=int)
@click.option("--no-wait", is_flag=True, help="Print the counts once instead of following.")
@click.pass_obj
def status_command(settings: Settings | None, dsn: str, job: int, no_wait: bool) -> None:
    """Show a job's progress over the whole fleet (a live bar until it is done)."""
    run(_status, settings or Settings(), dsn, job, no_wait)


async def _status(settings: Settings, dsn: str, job: int, no_wait: bool) -> int:
    jobs = _jobs()
    async with jobs.JobQueue(dsn) as queue:
        report = await _report_of(queue, job)
        if not no_wait and not report.done:
            with settings.ui().track(f"job {job}", total=report.total or None) as bar:
                while not report.done:
                    await asyncio.sleep(0.5)
                    report = await _report_of(queue, job)
                    bar.set_total(report.total or None)
                    bar.advance(report.settled - bar.done)
                    bar.set_note(_counts(report.counts))
    click.echo(str(report))
    return 0 if not report.stopped else 3


async def _report_of(queue: Any, job: int) -> Any:
    try:
        return await queue.report(job)
    except LookupError as exc:
        raise CliError(str(exc)) from None


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{status} {count}" for status, count in counts.items() if count)


@jobs_group.command("report")
@_dsn_option
@click.argument("job", type=int)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True, allow_dash=True),
    default="-",
    help="Write one CSV line per message (index, key, phone, status, message_id, error).",
)
def report_command(dsn: str, job: int, output: str) -> None:
    """Write the outcome of every message of a job, from the journal."""
    run(_report, dsn, job, output)


async def _report(dsn: str, job: int, output: str) -> int:
    jobs = _jobs()
    async with jobs.JobQueue(dsn) as queue, OutputFile(output) as out:
        report = await _report_of(queue, job)
        await out.write(csv_text([_OUTCOME_HEADER]))
        page: list[tuple[Any, ...]] = []
        async for item in queue.outcomes(job):
            page.append(
                (
                    item.index,
                    item.key,
                    item.phone,
                    item.status,
                    item.message_id or "",
                    item.error or "",
                )
            )
            if len(page) >= 1000:
                await out.write(csv_text(page))
                page = []
        await out.write(csv_text(page))
    click.echo(str(report), err=True)
    return 0


@jobs_group.command("stop")
@_dsn_option
@click.argument("job", type=int)
@click.option("--cancel", is_flag=True, help="Cancel at once: sends on the wire become unknown.")
def stop_command(dsn: str, job: int, cancel: bool) -> None:
    """Stop a job on every worker: no new send starts once this returns."""
    run(_stop, dsn, job, cancel)


async def _stop(dsn: str, job: int, cancel: bool) -> int:
    jobs = _jobs()
    async with jobs.JobQueue(dsn) as queue:
        await _report_of(queue, job)
        if cancel:
            await queue.cancel(job)
        else:
            await queue.stop(job)
        with contextlib.suppress(LookupError):
            click.echo(str(await queue.report(job)))
    return 0


@jobs_group.command("recover")
@_dsn_option
@click.argument("job", type=int)
@click.option(
    "--stalled-after",
    type=click.FloatRange(min=0),
    default=60.0,
    show_default=True,
    help="Seconds without a heartbeat after which a worker counts as dead.",
)
@click.option(
    "--failed",
    is_flag=True,
    help="Also re-run the chunks whose run ended in an error (the journal keeps what was "
    "claimed from being sent again).",
)
def recover_command(dsn: str, job: int, stalled_after: float, failed: bool) -> None:
    """Requeue the chunks of dead workers (what they had on the wire becomes unknown) and,
    with --failed, the chunks whose run failed."""
    run(_recover, dsn, job, stalled_after, failed)


async def _recover(dsn: str, job: int, stalled_after: float, failed: bool) -> int:
    jobs = _jobs()
    async with jobs.JobQueue(dsn) as queue:
        await _report_of(queue, job)
        count = await queue.recover(job, stalled_after=stalled_after, failed=failed)
    click.echo(f"job {job}: {count} chunks requeued")
    return 0
