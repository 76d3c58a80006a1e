"""Jobs on PostgreSQL: fleet throughput, the journal's cost per send, and issue 16's figures.

Needs the jobs extra and a PostgreSQL (``WACR_TEST_POSTGRES_DSN``, else 127.0.0.1:5432
database ``test``); each run works in a database of its own, dropped at the end. The sandbox
runs in its own process, the workers are real ``wacr jobs worker`` processes.

* **Fleet throughput** (unthrottled sandbox, 20 ms latency per send): 1, 2 and 4 workers
  (``--concurrency 16`` each) send one job; timed from submit to done, with the workers
  already running. Printed as sends/s and as a ratio to one ``send_messages`` run without a
  journal in this process (the ceiling of one machine).
* **Journal cost per send**: ``claim`` + ``settle`` of N items at concurrency 16, without
  HTTP, for ``PostgresJournal`` and ``SQLiteJournal`` (default ``synchronous=FULL``):
  microseconds per item and the ratio between them.
* **Acceptance** (issue 16, ``--acceptance``): 3 workers, 2,000 sends, one token limited to
  200 per 5 s: duplicates, the share of the allowed rate (2,000 / 40 per s = 50 s over the
  time from the start of the submit to the report saying done, the workers already running),
  where that time went (submit to the server's first send, first to last send against the
  45 s ten windows need at the least, last send to the report), 429s, report ``sent`` vs the
  server's count; then 4 web-style processes sharing the token through ``SharedPacer``.

Run from the repository root::

    python -m benchmarks.jobs                 # about a minute
    python -m benchmarks.jobs --acceptance    # adds about two minutes
    python -m benchmarks.jobs --acceptance-only --latency 0.1   # the sandbox answers slower
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import signal
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import wacr_async as wacr
from wacr_async import jobs
from wacr_async.batch import SQLiteJournal

from ._common import print_table

# The fleet helpers the jobs tests use: a sandbox process with counters, worker processes.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "jobs"))
from fleet import TOKEN, SandboxProcess, finish, start_worker, texts

ADMIN_DSNS = (
    os.environ.get("WACR_TEST_POSTGRES_DSN") or "",
    "host=127.0.0.1 port=5432 dbname=test user=postgres",
    "host=127.0.0.1 port=5432 dbname=postgres user=postgres",
)


@asynccontextmanager
async def database() -> AsyncIterator[str]:
    import psycopg
    from psycopg import conninfo

    for admin in filter(None, ADMIN_DSNS):
        try:
            conn = await psycopg.AsyncConnection.connect(admin, autocommit=True)
        except psycopg.Error:
            continue
        break
    else:
        raise SystemExit("no PostgreSQL: set WACR_TEST_POSTGRES_DSN")
    name = f"wacr_bench_{uuid.uuid4().hex[:10]}"
    async with conn:
        await conn.execute(f'CREATE DATABASE "{name}"')
        try:
            dsn = conninfo.make_conninfo(admin, dbname=name)
            async with jobs.JobQueue(dsn) as queue:
                await queue.migrate()
            yield dsn
        finally:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def workers_ready(dsn: str, count: int) -> None:
    import psycopg

    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
        while True:
            cur = await conn.execute("SELECT count(*) FROM procrastinate_workers")
            row = await cur.fetchone()
            if row is not None and row[0] >= count:
                return
            await asyncio.sleep(0.1)


async def fleet_throughput(dsn: str, workers: int, sends: int) -> float:
    async with SandboxProcess(latency=0.02) as sandbox, jobs.JobQueue(dsn) as queue:
        procs = [
            await start_worker(dsn, sandbox, concurrency=16, burst=False) for _ in range(workers)
        ]
        try:
            await workers_ready(dsn, workers)
            started = time.monotonic()
            job = await queue.submit(texts(sends, f"t{workers}"), name="bench", chunk_size=100)
            report = await queue.wait(job, poll=0.05)
            elapsed = time.monotonic() - started
            stats = await sandbox.stats()
        finally:
            for proc in procs:
                proc.send_signal(signal.SIGTERM)
            for proc in procs:
                await finish(proc, 60)
    assert report.counts["sent"] == sends == stats["sends"], (report, stats)
    assert stats["duplicates"] == 0
    return sends / elapsed


async def one_process_throughput(sends: int) -> float:
    async with (
        SandboxProcess(latency=0.02) as sandbox,
        wacr.Client(token=TOKEN, base_url=sandbox.url) as client,
    ):
        started = time.monotonic()
        report = await client.batch.send_messages(texts(sends, "solo"), concurrency=16).report()
        elapsed = time.monotonic() - started
    assert report.counts["sent"] == sends
    return sends / elapsed


async def journal_cost(journal: wacr.batch.Journal, items: int, concurrency: int = 16) -> float:
    """Seconds per item of claim + settle, ``concurrency`` items at a time."""
    await journal.open()
    keys = iter(range(items))

    async def worker() -> None:
        for n in keys:
            key = f"k{n}"
            await journal.claim(key, run="bench", index=n, fingerprint="f", reclaim=())
            await journal.settle(
                key, run="bench", index=n, status="sent", result={"message_id": n}, error=None
            )

    started = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    await journal.flush()
    elapsed = time.monotonic() - started
    await journal.aclose()
    return elapsed / items


async def acceptance(dsn: str, latency: float | None = None) -> list[list[object]]:
    limit, window, total, workers = 200, 5.0, 2000, 3
    rows: list[list[object]] = []
    async with SandboxProcess(rate_limit=(limit, window), latency=latency) as sandbox:
        async with jobs.JobQueue(dsn) as queue:
            procs = [
                await start_worker(dsn, sandbox, concurrency=16, burst=False)
                for _ in range(workers)
            ]
            try:
                await workers_ready(dsn, workers)
                started, started_wall = time.monotonic(), time.time()
                job = await queue.submit(texts(total, "acc"), name="acceptance", chunk_size=200)
                report = await queue.wait(job, poll=0.05)
                elapsed = time.monotonic() - started
                done_wall = started_wall + elapsed
            finally:
                for proc in procs:
                    proc.send_signal(signal.SIGTERM)
                for proc in procs:
                    await finish(proc, 60)
        stats = await sandbox.stats()
        nominal = total / (limit / window)  # seconds at exactly the allowed rate
        rows.append(["3 workers: duplicates", stats["duplicates"], "0"])
        rows.append(
            [
                "3 workers: rate / allowed rate",
                f"{nominal / elapsed:.2f} ({elapsed:.1f} s)",
                ">= 0.90",
            ]
        )
        rows.append(
            ["3 workers: 429s", f"{stats['rejected']} ({stats['rejected'] / total:.2%})", "< 1%"]
        )
        # Where the time went. A window opens at the first request after the last one ended,
        # so N sends need ceil(N / limit) windows: the last one opens (windows - 1) * window
        # seconds after the first send at the earliest.
        first, last = stats["first_send_at"], stats["last_send_at"]
        fastest = (math.ceil(total / limit) - 1) * window
        rows.append(["3 workers: submit -> first send", f"{first - started_wall:.2f} s", ""])
        rows.append(
            [
                "3 workers: first -> last send",
                f"{last - first:.1f} s",
                f">= {fastest:.1f} s (windows)",
            ]
        )
        rows.append(["3 workers: last send -> report done", f"{done_wall - last:.2f} s", ""])
        rows.append(
            [
                "3 workers: report sent / server",
                f"{report.counts['sent']}/{stats['sends']}",
                "equal",
            ]
        )
    async with SandboxProcess(rate_limit=(limit, window), latency=latency) as sandbox:
        seconds, procs_count = 12.0, 4
        procs = [
            await asyncio.create_subprocess_exec(
                sys.executable, "-m", "benchmarks.jobs", "--web-child", dsn, str(seconds),
                env=sandbox.env(), stdout=asyncio.subprocess.PIPE,
            )
            for _ in range(procs_count)
        ]  # fmt: skip
        for proc in procs:
            await proc.communicate()
        stats = await sandbox.stats()
        # The processes start one after another: count the windows between the first and the
        # last send the server saw, each allowing ``limit``.
        span = stats["last_send_at"] - stats["first_send_at"]
        allowed = limit * (math.floor(span / window) + 1)
        rows.append(
            [
                "4 web processes: 429s",
                f"{stats['rejected']} of {stats['requests']} "
                f"({stats['rejected'] / max(1, stats['requests']):.2%})",
                "< 1%",
            ]
        )
        rows.append(["4 web processes: sends vs allowed", f"{stats['sends']}/{allowed}", ""])
    return rows


def _latency(latency: float | None) -> str:
    return "" if latency is None else f", {latency * 1000:.0f} ms per answer"


async def web_child(dsn: str, seconds: float) -> None:
    """One web-style process: 8 tasks sending as fast as the shared pace lets them."""
    pacer = jobs.SharedPacer(dsn, os.environ["WACR_TOKEN"])
    deadline = time.monotonic() + seconds
    async with wacr.Client(rate_limiter=pacer) as client:

        async def user(n: int) -> None:
            i = 0
            while time.monotonic() < deadline:
                i += 1
                await client.messages.send_text(
                    f"+1444{n:02d}{os.getpid() % 1000:03d}{i:04d}", "hi"
                )

        await asyncio.gather(*(user(n) for n in range(8)))
    await pacer.aclose()


async def main(args: argparse.Namespace) -> None:
    async with database() as dsn:
        if args.acceptance_only:
            print_table(
                f"Issue 16 acceptance (200 per 5 s, one token{_latency(args.latency)})",
                ["measure", "value", "target"],
                await acceptance(dsn, args.latency),
            )
            return
        solo = await one_process_throughput(args.sends)
        rows: list[list[object]] = [["1 process, send_messages", f"{solo:.0f}", "1.00x"]]
        for count in (1, 2, 4):
            rate = await fleet_throughput(dsn, count, args.sends)
            rows.append([f"{count} worker(s), wacr jobs", f"{rate:.0f}", f"{rate / solo:.2f}x"])
        print_table(
            f"Fleet throughput: {args.sends} text sends, 20 ms latency, concurrency 16 each",
            ["run", "sends/s", "ratio vs 1 process"],
            rows,
        )
        with tempfile.TemporaryDirectory() as tmp:
            sqlite = await journal_cost(SQLiteJournal(Path(tmp) / "j.sqlite"), args.items)
        postgres = await journal_cost(jobs.PostgresJournal(dsn, namespace="bench"), args.items)
        print_table(
            f"Journal cost per send (claim + settle, {args.items} items, concurrency 16)",
            ["journal", "us/send", "ratio vs SQLite"],
            [
                ["SQLiteJournal (FULL)", f"{sqlite * 1e6:.0f}", "1.00x"],
                ["PostgresJournal", f"{postgres * 1e6:.0f}", f"{postgres / sqlite:.2f}x"],
            ],
        )
        if args.acceptance:
            print_table(
                f"Issue 16 acceptance (200 per 5 s, one token{_latency(args.latency)})",
                ["measure", "value", "target"],
                await acceptance(dsn, args.latency),
            )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m benchmarks.jobs")
    parser.add_argument("--sends", type=int, default=2000)
    parser.add_argument("--items", type=int, default=5000)
    parser.add_argument("--acceptance", action="store_true")
    parser.add_argument("--acceptance-only", action="store_true")
    parser.add_argument(
        "--latency", type=float, help="seconds the sandbox takes per answer in the acceptance"
    )
    parser.add_argument("--web-child", nargs=2, metavar=("DSN", "SECONDS"))
    parsed = parser.parse_args()
    if parsed.web_child:
        asyncio.run(web_child(parsed.web_child[0], float(parsed.web_child[1])))
    else:
        asyncio.run(main(parsed))
