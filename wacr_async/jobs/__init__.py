"""Bulk sends spread over machines, and one pace per token across processes (PostgreSQL).

Needs the ``jobs`` extra (``pip install 'wacr-async[jobs]'``): procrastinate runs the work,
psycopg talks to the database. procrastinate stays behind this package: a job is submitted,
watched, stopped and recovered through :class:`JobQueue`, and run by ``wacr jobs worker``
processes (or :class:`Worker`) on any number of machines.

Example::

    from wacr_async import jobs

    async with jobs.JobQueue(dsn) as queue:
        await queue.migrate()
        job = await queue.submit(specs, name="orders-2026-12", chunk_size=200)
        print(await queue.wait(job))
"""

from ._journal import JobStoppedError, PostgresJournal
from ._pacer import SharedPacer
from ._queue import JobOutcome, JobQueue
from ._report import JobReport
from ._worker import Worker

__all__ = [
    "JobOutcome",
    "JobQueue",
    "JobReport",
    "JobStoppedError",
    "PostgresJournal",
    "SharedPacer",
    "Worker",
]
