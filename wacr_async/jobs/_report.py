"""What a job did, computed from the journal (never by adding up worker reports)."""

from __future__ import annotations

from typing import Any

import attrs

from ._db import Pool

__all__ = ["JobReport", "read_report"]

_JOB_SQL = """
SELECT j.name, j.state, j.reason, j.total, j.distinct_keys, j.submitted,
       count(c.chunk), count(c.chunk) FILTER (WHERE c.state IN ('done', 'failed')),
       count(c.chunk) FILTER (WHERE c.state = 'running'),
       extract(epoch FROM (j.updated_at - j.created_at))::float8
FROM wacr_jobs j LEFT JOIN wacr_job_chunks c ON c.job_id = j.id
WHERE j.id = %s
GROUP BY j.id
"""
_COUNTS_SQL = "SELECT status, count(*) FROM wacr_journal WHERE namespace = %s GROUP BY status"


def namespace_of(job: int) -> str:
    """The journal namespace of a job's items."""
    return f"job:{job}"


@attrs.frozen(kw_only=True)
class JobReport:
    """A job as the database sees it, whichever workers ran it.

    ``counts`` has every status of a bulk send: ``sent``, ``failed``, ``unknown`` (a send
    whose effect nobody can tell, or left in flight by a worker that died), ``skipped`` (the
    same key earlier in the job), ``not_attempted`` (never sent: the job stopped first, or is
    still going) and ``in_flight`` (on the wire right now). ``done`` is True once no more
    work will happen; ``stopped`` says it ended by ``stop``/``cancel`` or an account-level
    error, with ``reason``.

    Example::

        report = await queue.report(job)
        print(f"{report.settled}/{report.total}", report.counts["sent"], report.reason)
    """

    job: int
    name: str
    state: str
    total: int
    counts: dict[str, int]
    done: bool
    stopped: bool
    reason: str | None
    chunks: int
    chunks_done: int

    @property
    def settled(self) -> int:
        """Items with a final outcome (everything but ``in_flight`` and ``not_attempted``)."""
        return sum(self.counts[s] for s in ("sent", "failed", "unknown", "skipped"))

    def __str__(self) -> str:
        shown = ", ".join(f"{status} {count}" for status, count in self.counts.items() if count)
        state = self.state + (f" ({self.reason})" if self.reason else "")
        return f"job {self.job} {self.name!r}: {state}; {shown or 'nothing yet'} of {self.total}"


async def read_report(pool: Pool, job: int) -> JobReport:
    """The report of ``job``; raises LookupError for an unknown job."""
    async with pool.connection() as conn:
        cur = await conn.execute(_JOB_SQL, (job,))
        row = await cur.fetchone()
        if row is None:
            raise LookupError(f"no job {job} in this database")
        cur = await conn.execute(_COUNTS_SQL, (namespace_of(job),))
        journal = {str(status): int(count) for status, count in await cur.fetchall()}
    return _build(job, row, journal)


def _build(job: int, row: tuple[Any, ...], journal: dict[str, int]) -> JobReport:
    name, state, reason, total, distinct, submitted, chunks, chunks_done, running, _ = row
    stopped = state in ("stopped", "cancelled")
    done = (submitted and chunks_done == chunks) or (stopped and running == 0)
    in_flight = journal.get("in_flight", 0)
    counts = {
        "sent": journal.get("sent", 0),
        "failed": journal.get("failed", 0),
        "unknown": journal.get("unknown", 0) + (in_flight if done else 0),
        "skipped": int(total) - int(distinct) if submitted else 0,
        "not_attempted": 0,
        "in_flight": 0 if done else in_flight,
    }
    counts["not_attempted"] = max(0, int(total) - sum(counts.values()))
    shown = state
    if state == "running" and done:
        shown = "finished"
    return JobReport(
        job=job,
        name=name,
        state=shown,
        total=int(total),
        counts=counts,
        done=bool(done),
        stopped=stopped,
        reason=reason,
        chunks=int(chunks),
        chunks_done=int(chunks_done),
    )
