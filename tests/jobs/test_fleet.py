"""Issue 16's "done when", at CI size: a sandbox in its own process, real ``wacr jobs worker``
processes, a real PostgreSQL. The full-size figures are in ``python -m benchmarks jobs``."""

from __future__ import annotations

import asyncio
import csv
import io
import signal
import time
from pathlib import Path

import pytest
from fleet import SandboxProcess, cli, finish, start_worker, texts

from wacr_async import jobs


async def wait_for_sends(sandbox: SandboxProcess, count: int, within: float = 60) -> None:
    deadline = time.monotonic() + within
    while (await sandbox.stats())["sends"] < count:
        assert time.monotonic() < deadline, f"fewer than {count} sends after {within}s"
        await asyncio.sleep(0.05)


async def test_a_killed_worker_then_recover_and_a_new_worker(pg_dsn: str) -> None:
    total, concurrency = 300, 8
    async with SandboxProcess(latency=0.05) as sandbox, jobs.JobQueue(pg_dsn) as queue:
        await queue.migrate()
        job = await queue.submit(texts(total), name="kill", chunk_size=40)
        victim = await start_worker(pg_dsn, sandbox, concurrency=concurrency, burst=False)
        await wait_for_sends(sandbox, 60)
        victim.send_signal(signal.SIGKILL)
        await victim.wait()
        # The dead worker's chunk is requeued once its heartbeat is old enough.
        deadline = time.monotonic() + 30
        while (requeued := await queue.recover(job, stalled_after=2)) == 0:
            assert time.monotonic() < deadline, "recover never found the dead worker's chunk"
            await asyncio.sleep(0.5)
        assert requeued in (1, 2)  # a worker runs up to two chunks at once
        status, err = await finish(await start_worker(pg_dsn, sandbox, concurrency=concurrency))
        assert status == 0, err
        report = await queue.wait(job)
        stats = await sandbox.stats()
    assert stats["duplicates"] == 0
    counts = report.counts
    assert counts["sent"] + counts["unknown"] == total, report  # every item accounted
    assert counts["unknown"] <= concurrency  # at most what the dead worker had on the wire
    assert counts["sent"] <= stats["sends"] <= counts["sent"] + counts["unknown"]


async def test_stop_mid_job_reaches_every_worker_and_burst_workers_exit(pg_dsn: str) -> None:
    total, concurrency, workers = 400, 4, 2
    async with SandboxProcess(latency=0.05) as sandbox, jobs.JobQueue(pg_dsn) as queue:
        await queue.migrate()
        job = await queue.submit(texts(total), name="stop", chunk_size=25)
        procs = [
            await start_worker(pg_dsn, sandbox, concurrency=concurrency) for _ in range(workers)
        ]
        await wait_for_sends(sandbox, 40)
        code, _, err = await cli("jobs", "stop", "--dsn", pg_dsn, str(job))
        assert code == 0, err
        at_stop = (await sandbox.stats())["sends"]
        for proc in procs:
            status, err = await finish(proc, within=30)
            assert status == 0, err
        report = await queue.wait(job)
        stats = await sandbox.stats()
    assert report.stopped and report.state == "stopped"
    # Only what was on the wire when the stop returned may still have arrived.
    assert stats["sends"] - at_stop <= workers * concurrency
    assert stats["duplicates"] == 0
    counts = report.counts
    assert counts["sent"] == stats["sends"]
    assert counts["not_attempted"] >= total - stats["sends"] - counts["unknown"] - 1
    assert counts["sent"] + counts["unknown"] + counts["not_attempted"] == total


async def test_the_cli_submits_a_csv_and_writes_the_outcomes(pg_dsn: str, tmp_path: Path) -> None:
    rows = [
        "phone,name,key",
        *(f"+1555{i:07d},P{i},k{i}" for i in range(30)),
        "+15559999999,too,many,cells",
    ]
    people = tmp_path / "people.csv"
    people.write_text("\n".join(rows) + "\n")
    async with SandboxProcess() as sandbox:
        code, out, err = await cli(
            "jobs", "submit", "--dsn", pg_dsn, "--csv", str(people), "--chunk-size", "8",
            "text", "--message", "Hi {name}",
        )  # fmt: skip
        assert code == 0, err
        job = out.strip()
        assert "30 messages in 4 chunks" in err and "1 malformed" in err
        status, err = await finish(await start_worker(pg_dsn, sandbox))
        assert status == 0, err
        code, out, err = await cli("jobs", "status", "--dsn", pg_dsn, job, "--no-wait")
        assert code == 0 and "finished" in out and "sent 30" in out, out + err
        outcomes = tmp_path / "outcomes.csv"
        code, _, err = await cli("jobs", "report", "--dsn", pg_dsn, job, "-o", str(outcomes))
        assert code == 0, err
        stats = await sandbox.stats()
    lines = list(csv.DictReader(io.StringIO(outcomes.read_text())))
    assert len(lines) == 30 and stats["sends"] == 30
    assert {line["status"] for line in lines} == {"sent"}
    assert all(line["message_id"] for line in lines)
    assert lines[3]["key"] == "k3" and lines[3]["phone"] == "+15550000003"


pytestmark = pytest.mark.filterwarnings("error")
