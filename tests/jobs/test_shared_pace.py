"""One token, several processes, one pace (issue 16's "done when" at CI size): 3 job workers,
and 4 web-style processes, each sharing the token through SharedPacer. Full-size figures
(200 per 5 s, 2,000 sends) are in ``python -m benchmarks jobs --acceptance``."""

from __future__ import annotations

import asyncio
import sys

import pytest
from fleet import HERE, SandboxProcess, finish, start_worker, texts

from wacr_async import jobs

pytestmark = pytest.mark.filterwarnings("error")


async def test_three_workers_on_one_limited_token(pg_dsn: str) -> None:
    total, limit, window = 240, 40, 2.0
    async with SandboxProcess(rate_limit=(limit, window)) as sandbox:
        async with jobs.JobQueue(pg_dsn) as queue:
            await queue.migrate()
            job = await queue.submit(texts(total, "paced"), name="paced", chunk_size=40)
            procs = [await start_worker(pg_dsn, sandbox, concurrency=8) for _ in range(3)]
            for proc in procs:
                status, err = await finish(proc, 120)
                assert status == 0, err
            report = await queue.wait(job)
        stats = await sandbox.stats()
    assert stats["duplicates"] == 0
    assert report.counts["sent"] == stats["sends"] == total, (report, stats)
    assert stats["rejected"] <= total // 100  # fewer than 1% of the sends met a 429


async def test_four_web_processes_share_one_pace(pg_dsn: str) -> None:
    limit, window, seconds = 40, 2.0, 6.0
    async with jobs.JobQueue(pg_dsn) as queue:
        await queue.migrate()
    async with SandboxProcess(rate_limit=(limit, window)) as sandbox:
        procs = [
            await asyncio.create_subprocess_exec(
                sys.executable, str(HERE / "web_process.py"), pg_dsn, str(seconds), "6",
                env=sandbox.env(), stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            for _ in range(4)
        ]  # fmt: skip
        outputs = [await proc.communicate() for proc in procs]
        stats = await sandbox.stats()
    for proc, (_, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err.decode()[-2000:]
    sent = sum(int(out) for out, _ in outputs)
    assert sent == stats["sends"]
    # Saturated: every process always had calls waiting, yet almost none met a 429.
    assert stats["sends"] >= limit * 2
    assert stats["rejected"] <= max(1, stats["requests"] // 100), stats
