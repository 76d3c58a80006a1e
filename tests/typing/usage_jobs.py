"""Typed usage of wacr_async.jobs; checked by ``mypy --strict``, never run."""

from __future__ import annotations

import wacr_async as wacr
from wacr_async import jobs
from wacr_async._journal import Journal
from wacr_async._pacing import RateLimiter


async def usage(dsn: str, specs: list[wacr.TextMessage]) -> None:
    pacer: RateLimiter = jobs.SharedPacer(dsn, "wm_token")
    journal: Journal = jobs.PostgresJournal(dsn, namespace="newsletter")
    async with jobs.JobQueue(dsn) as queue:
        await queue.migrate()
        job: int = await queue.submit(specs, name="newsletter", chunk_size=200)
        report: jobs.JobReport = await queue.wait(job)
        sent: int = report.counts["sent"]
        async for item in queue.outcomes(job):
            status: str = item.status
        await queue.stop(job)
        await queue.cancel(job)
        requeued: int = await queue.recover(job, stalled_after=60)
    del pacer, journal, sent, status, requeued
