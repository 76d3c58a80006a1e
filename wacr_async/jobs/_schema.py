"""The tables of ``wacr_async.jobs`` and the one idempotent ``migrate``.

procrastinate's ``apply_schema`` fails when run twice, and two machines may start at once: the
whole migration runs under one advisory lock, applies procrastinate's schema only when its main
table is missing, then creates ours with ``IF NOT EXISTS`` and applies our upgrades past the
version recorded in ``wacr_schema``, each in its own transaction.

procrastinate's own upgrades are SQL files it ships (``procrastinate schema --migrations-path``),
split into ``pre`` steps (before workers of the new version start) and ``post`` steps (once no
older worker runs): when to apply them depends on the fleet, so ``migrate`` does not. It records
the level of procrastinate's tables (the newest migration file the installed procrastinate
ships, when it creates them) and logs the files to apply when a newer procrastinate is
installed; ``migrate(procrastinate_upgraded=True)`` records that they were applied.
"""

from __future__ import annotations

import logging
from pathlib import Path

from procrastinate.schema import SchemaManager

from ._db import Pool

__all__ = ["NOTIFY_CHANNEL", "SCHEMA_VERSION", "migrate", "procrastinate_migrations"]

log = logging.getLogger("wacr_async.jobs")

SCHEMA_VERSION = 3
# Any constant works; it only has to be the same in every process that migrates.
_MIGRATE_LOCK = 0x77616372_6A6F6273  # "wacrjobs"
NOTIFY_CHANNEL = "wacr_jobs"

_TABLES = """
CREATE TABLE IF NOT EXISTS wacr_schema (version integer NOT NULL);

CREATE TABLE IF NOT EXISTS wacr_jobs (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL,
    state       text NOT NULL DEFAULT 'running',     -- running, stopping, cancelled, finished
    reason      text,
    total       bigint NOT NULL DEFAULT 0,
    distinct_keys bigint NOT NULL DEFAULT 0,
    submitted   boolean NOT NULL DEFAULT false,      -- every spec is stored
    chunk_size  integer NOT NULL,
    options     jsonb NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE TABLE IF NOT EXISTS wacr_job_specs (
    job_id  bigint NOT NULL REFERENCES wacr_jobs (id) ON DELETE CASCADE,
    idx     bigint NOT NULL,
    key     text NOT NULL,
    spec    jsonb NOT NULL,
    PRIMARY KEY (job_id, idx)
);

CREATE TABLE IF NOT EXISTS wacr_job_chunks (
    job_id      bigint NOT NULL REFERENCES wacr_jobs (id) ON DELETE CASCADE,
    chunk       integer NOT NULL,
    first_idx   bigint NOT NULL,
    end_idx     bigint NOT NULL,
    state       text NOT NULL DEFAULT 'queued',      -- queued, running, done
    task_id     bigint,
    updated_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (job_id, chunk)
);

CREATE TABLE IF NOT EXISTS wacr_journal (
    namespace   text NOT NULL,
    key         text NOT NULL,
    status      text NOT NULL,
    run         text NOT NULL,
    idx         bigint NOT NULL,
    fingerprint text,
    prior       text,
    result      jsonb,
    error       jsonb,
    updated_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (namespace, key)
);

CREATE TABLE IF NOT EXISTS wacr_pacing (
    base_url        text NOT NULL,
    token_sha256    text NOT NULL,
    next_at         timestamptz NOT NULL DEFAULT clock_timestamp(),
    cooldown_until  timestamptz NOT NULL DEFAULT '-infinity',
    limit_calls     integer,
    window_s        double precision,
    unlimited       boolean NOT NULL DEFAULT false,
    remaining       integer,
    remaining_at    timestamptz,
    PRIMARY KEY (base_url, token_sha256)
);
"""

# (version, statements): applied in order to a schema older than ``version``.
_UPGRADES: tuple[tuple[int, str], ...] = (
    (
        2,
        # The pacer follows the server's fixed windows: which one it fills, until when, how
        # many of its slots are taken, and whether an answer confirmed when it opened.
        """
        ALTER TABLE wacr_pacing
            ADD COLUMN IF NOT EXISTS win_epoch bigint NOT NULL DEFAULT 0,
            ADD COLUMN IF NOT EXISTS win_end timestamptz,
            ADD COLUMN IF NOT EXISTS win_used integer NOT NULL DEFAULT 0,
            ADD COLUMN IF NOT EXISTS win_confirmed boolean NOT NULL DEFAULT false
        """,
    ),
    (
        3,
        # The level of procrastinate's tables: the newest of its migration files they include.
        # Set below to the installed procrastinate's level where unknown, which holds for
        # tables made by releases 1 and 2: they required procrastinate 3.10 or newer, whose
        # schema has not changed since.
        "ALTER TABLE wacr_schema ADD COLUMN IF NOT EXISTS procrastinate_level text",
    ),
)


def procrastinate_migrations() -> list[Path]:
    """The migration files the installed procrastinate ships, oldest first.

    Example::

        newest = procrastinate_migrations()[-1].stem   # "03.04.00_50_post_add_retry_…"
    """
    return sorted(Path(SchemaManager.get_migrations_path()).glob("*.sql"))


async def migrate(pool: Pool, *, procrastinate_upgraded: bool = False) -> bool:
    """Create procrastinate's schema and ours where missing, upgrade ours; returns whether
    anything changed. ``procrastinate_upgraded=True`` records that procrastinate's migration
    files up to the installed version were applied.

    Safe to run from any number of processes at once, any number of times.

    Example::

        async with jobs.JobQueue(dsn) as queue:
            await queue.migrate()
    """
    async with pool.connection() as conn:
        await conn.execute("SELECT pg_advisory_lock(%s)", (_MIGRATE_LOCK,))
        try:
            changed = False
            cur = await conn.execute("SELECT to_regclass('procrastinate_jobs') IS NULL")
            row = await cur.fetchone()
            if row is not None and row[0]:
                async with conn.transaction():
                    await conn.execute(SchemaManager.get_schema())
                changed = True
            cur = await conn.execute("SELECT to_regclass('wacr_schema') IS NULL")
            row = await cur.fetchone()
            if row is not None and row[0]:
                async with conn.transaction():
                    await conn.execute(_TABLES)
                    await conn.execute("INSERT INTO wacr_schema (version) VALUES (1)")
                changed = True
            cur = await conn.execute("SELECT max(version) FROM wacr_schema")
            row = await cur.fetchone()
            version = int(row[0]) if row is not None and row[0] is not None else 1
            for target, statements in _UPGRADES:
                if target > version:
                    async with conn.transaction():
                        await conn.execute(statements)
                        await conn.execute("UPDATE wacr_schema SET version = %s", (target,))
                    changed = True
            files = procrastinate_migrations()
            level = files[-1].stem if files else ""
            await conn.execute(
                "UPDATE wacr_schema SET procrastinate_level = %s "
                "WHERE procrastinate_level IS NULL OR %s",
                (level, procrastinate_upgraded),
            )
            cur = await conn.execute("SELECT procrastinate_level FROM wacr_schema")
            row = await cur.fetchone()
            recorded = "" if row is None or row[0] is None else str(row[0])
            pending = [path.name for path in files if path.stem > recorded]
            if pending:
                log.warning(
                    "jobs: procrastinate's tables are older than the installed procrastinate; "
                    "apply %s from %s (the pre files before workers of the new version start, "
                    "the post files once no older worker runs), then run "
                    "migrate(procrastinate_upgraded=True)",
                    ", ".join(pending),
                    SchemaManager.get_migrations_path(),
                )
            return changed
        finally:
            await conn.execute("SELECT pg_advisory_unlock(%s)", (_MIGRATE_LOCK,))
