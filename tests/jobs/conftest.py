"""A real PostgreSQL for the jobs tests, and one fresh database per test.

Where the server comes from, in order: ``WACR_TEST_POSTGRES_DSN``; a server on 127.0.0.1:5432
(database ``test``); a throwaway cluster made with the installed ``initdb``/``pg_ctl`` (as the
``postgres`` user when run as root, on a Unix socket in a short temporary directory, removed
afterwards). Without any of them the tests skip with one line saying why, except under
``WACR_REQUIRE_POSTGRES=1`` (CI), where they fail.

Each test gets a database of its own, so parallel runs and leftovers never collide.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

psycopg = pytest.importorskip(
    "psycopg", reason="jobs tests need the jobs extra: pip install 'wacr-async[jobs]'"
)
from psycopg import conninfo as _conninfo  # noqa: E402

REQUIRED = os.environ.get("WACR_REQUIRE_POSTGRES") == "1"
LOCAL_DSNS = (
    "host=127.0.0.1 port=5432 dbname=test user=postgres connect_timeout=3",
    "host=127.0.0.1 port=5432 dbname=test connect_timeout=3",
    "host=127.0.0.1 port=5432 dbname=postgres user=postgres connect_timeout=3",
)

sys.path.insert(0, str(Path(__file__).resolve().parent))


def _answers(dsn: str) -> bool:
    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error:
        return False
    return True


def _bindir() -> str | None:
    with contextlib.suppress(OSError, subprocess.CalledProcessError):
        out = subprocess.run(
            ["pg_config", "--bindir"], capture_output=True, text=True, check=True, timeout=10
        ).stdout.strip()
        if out and os.path.exists(os.path.join(out, "initdb")):
            return out
    found = shutil.which("initdb")
    if found:
        return os.path.dirname(found)
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return os.path.dirname(candidates[-1]) if candidates else None


class _Cluster:
    """A throwaway PostgreSQL cluster on a Unix socket in a short temporary directory."""

    def __init__(self, bindir: str) -> None:
        self.bindir = bindir
        self.root = tempfile.mkdtemp(prefix="wpg", dir="/tmp")
        self.data = os.path.join(self.root, "data")
        self.as_postgres: list[str] = []
        if os.geteuid() == 0:
            # initdb refuses to run as root: hand the directory to the postgres user.
            shutil.chown(self.root, "postgres", "postgres")
            self.as_postgres = ["runuser", "-u", "postgres", "--"]

    def _run(self, *args: str) -> None:
        subprocess.run(
            [*self.as_postgres, *args], check=True, capture_output=True, text=True, timeout=120
        )

    def start(self) -> str:
        self._run(
            os.path.join(self.bindir, "initdb"),
            "-D",
            self.data,
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
        )
        options = f"-k {self.root} -c listen_addresses='' -c fsync=off -p 5432"
        self._run(
            os.path.join(self.bindir, "pg_ctl"),
            "-D",
            self.data,
            "-o",
            options,
            "-l",
            os.path.join(self.root, "log"),
            "-w",
            "start",
        )
        return f"host={self.root} port=5432 dbname=postgres user=postgres"

    def remove(self) -> None:
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            self._run(os.path.join(self.bindir, "pg_ctl"), "-D", self.data, "-m", "fast", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


def _unavailable(reason: str) -> None:
    if REQUIRED:
        pytest.fail(f"WACR_REQUIRE_POSTGRES=1 but {reason}", pytrace=False)
    pytest.skip(f"no PostgreSQL for the jobs tests: {reason}")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A DSN with the right to create databases."""
    given = os.environ.get("WACR_TEST_POSTGRES_DSN")
    if given:
        if not _answers(given):
            _unavailable(f"WACR_TEST_POSTGRES_DSN={given!r} does not answer")
        yield given
        return
    for dsn in LOCAL_DSNS:
        if _answers(dsn):
            yield dsn
            return
    bindir = _bindir()
    if bindir is None:
        _unavailable("none on 127.0.0.1:5432 and no initdb installed")
    assert bindir is not None
    cluster = _Cluster(bindir)
    try:
        try:
            dsn = cluster.start()
        except (subprocess.SubprocessError, OSError, LookupError) as exc:
            _unavailable(f"a throwaway cluster from {bindir} did not start ({exc})")
        yield dsn
    finally:
        cluster.remove()


@pytest.fixture
def pg_dsn(postgres_server: str) -> Iterator[str]:
    """A DSN to a database made for this test alone, dropped afterwards."""
    name = f"wacr_t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_server, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _conninfo.make_conninfo(postgres_server, dbname=name, connect_timeout="10")
    finally:
        with psycopg.connect(postgres_server, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
