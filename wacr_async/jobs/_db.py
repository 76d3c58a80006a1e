"""Connections: one small psycopg pool per component, opened the way psycopg-pool wants it.

Our tables (jobs, specs, journal, pacing) get pools of their own: procrastinate's connector keeps
one connection for LISTEN and would make our claims queue behind its polling otherwise.
"""

from __future__ import annotations

from typing import Any

try:
    import psycopg
    import psycopg_pool
except ImportError as exc:  # pragma: no cover - depends on the installed extras
    raise ImportError(
        "wacr_async.jobs needs the jobs extra: pip install 'wacr-async[jobs]'"
    ) from exc

__all__ = ["Pool", "open_pool", "psycopg", "psycopg_pool"]

Pool = psycopg_pool.AsyncConnectionPool


async def open_pool(
    dsn: str, *, max_size: int = 4, name: str = "wacr", durable: bool = True
) -> Pool:
    """An open pool of autocommit connections to ``dsn``; ``durable=False`` lets commits
    return before they reach the disk (for state that may be lost in a crash).

    Example::

        pool = await open_pool("postgresql://localhost/wacr")
        async with pool.connection() as conn:
            await conn.execute("SELECT 1")
        await pool.close()
    """
    kwargs: dict[str, Any] = {"autocommit": True}

    async def configure(conn: psycopg.AsyncConnection[Any]) -> None:
        # State nobody must find again after a crash (a pace) need not wait for the disk.
        await conn.execute("SET synchronous_commit = off")

    pool = psycopg_pool.AsyncConnectionPool(
        dsn,
        min_size=1,
        max_size=max_size,
        kwargs=kwargs,
        open=False,
        name=name,
        configure=None if durable else configure,
    )
    await pool.open(wait=True, timeout=30.0)
    return pool
