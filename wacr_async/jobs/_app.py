"""The procrastinate side, kept in one place: the app for a DSN and the one task it runs.

A job is split into chunks; each chunk is one procrastinate job whose arguments are just
``{"job": id, "chunk": n}`` (the specs stay in our table). procrastinate fetches chunks with
``FOR UPDATE SKIP LOCKED`` and never runs one again by itself; :meth:`JobQueue.recover`
requeues the chunks of a dead worker on purpose.
"""

from __future__ import annotations

from typing import Any, Protocol

import procrastinate
from procrastinate.job_context import JobContext

__all__ = ["QUEUE", "TASK_NAME", "WORKER_KEY", "ChunkRunner", "make_app"]

QUEUE = "wacr_send"
TASK_NAME = "wacr_async.jobs.send_chunk"
WORKER_KEY = "wacr_worker"


class ChunkRunner(Protocol):
    """What the task needs of the worker that runs it (``Worker`` in ``_worker``)."""

    async def run_chunk(self, job: int, chunk: int) -> None: ...


async def _send_chunk(context: JobContext, job: int, chunk: int) -> None:
    worker: ChunkRunner = context.additional_context[WORKER_KEY]
    await worker.run_chunk(job, chunk)


def make_app(dsn: str, *, pool_size: int = 2) -> procrastinate.App:
    """A procrastinate app on ``dsn`` that knows the send-chunk task (not opened yet)."""
    kwargs: dict[str, Any] = {"conninfo": dsn, "min_size": 1, "max_size": pool_size}
    app = procrastinate.App(connector=procrastinate.PsycopgConnector(**kwargs))
    app.task(name=TASK_NAME, queue=QUEUE, pass_context=True)(_send_chunk)
    return app
