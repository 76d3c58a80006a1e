"""The tables of ``wacr_async.jobs`` and the one idempotent ``migrate``.

procrastinate's ``apply_schema`` fails when run twice, and two machines may start at once: the
whole migration runs under one advisory lock, applies procrastinate's schema only when its main
table is missing, then creates ours with ``IF NOT EXISTS`` and applies our upgrades past the
version recorded in ``wacr_schema``, each in its own transaction.
"""

from __future__ import annotations

from procrastinate.schema import SchemaManager

from ._db import Pool

__all__ = ["NOTIFY_CHANNEL", "SCHEMA_VERSION", "migrate"]

SCHEMA_VERSION = 2
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
)


async def migrate(pool: Pool) -> bool:
    """Create procrastinate's schema and ours where missing; returns whether anything was new.

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
            return changed
        finally:
            await conn.execute("SELECT pg_advisory_unlock(%s)", (_MIGRATE_LOCK,))
