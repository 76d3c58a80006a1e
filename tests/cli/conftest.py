"""Fixtures for the ``wacr`` command's tests.

The command runs its own event loop (``asyncio.run``), in the test's thread (click's
``CliRunner``) or in a child process. The sandbox it talks to therefore runs on another
loop, in a background thread, reached over a real socket like any server.
"""

from __future__ import annotations

import asyncio
import csv
import os
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import pytest
from click.testing import CliRunner, Result

from wacr_async.cli import cli
from wacr_async.testing import Sandbox

T = TypeVar("T")

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "wm_cli_test"


class SandboxThread:
    """A sandbox serving from its own event loop in a background thread."""

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._sandbox: Sandbox | None = None

    def start(self) -> SandboxThread:
        self._thread.start()

        async def start() -> Sandbox:
            return await Sandbox(**self._options).start()

        self._sandbox = asyncio.run_coroutine_threadsafe(start(), self._loop).result(10)
        return self

    def stop(self) -> None:
        if self._sandbox is not None:
            asyncio.run_coroutine_threadsafe(self._sandbox.close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    @property
    def url(self) -> str:
        return self.sandbox.url

    @property
    def sandbox(self) -> Sandbox:
        assert self._sandbox is not None
        return self._sandbox

    def call(self, function: Callable[[Sandbox], T]) -> T:
        """Run ``function(sandbox)`` on the sandbox's loop (the only safe place to touch it)."""

        async def call() -> T:
            return function(self.sandbox)

        return asyncio.run_coroutine_threadsafe(call(), self._loop).result(10)

    def later(self, delay: float, function: Callable[[Sandbox], object]) -> None:
        """Run ``function(sandbox)`` on the sandbox's loop ``delay`` seconds from now."""
        sandbox = self.sandbox
        self._loop.call_soon_threadsafe(self._loop.call_later, delay, function, sandbox)


@pytest.fixture
def api() -> Iterator[SandboxThread]:
    """A sandbox accepting ``TOKEN`` with every scope."""
    server = SandboxThread(tokens={TOKEN: {"*"}}).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def wacr(api: SandboxThread) -> Callable[..., Result]:
    """``wacr(*args)``: run the command in-process against ``api``; returns click's Result."""
    runner = CliRunner()

    def invoke(*args: str, env: dict[str, str | None] | None = None) -> Result:
        environment: dict[str, str | None] = {
            "WACR_TOKEN": TOKEN,
            "WACR_BASE_URL": api.url,
            "WACR_DEBUG": None,
            "COLUMNS": "200",
            **(env or {}),
        }
        return runner.invoke(cli, list(args), env=environment, catch_exceptions=False)

    return invoke


@pytest.fixture
def offline() -> Callable[..., Result]:
    """``offline(*args)``: run the command with no token and no base URL in the environment."""
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        environment = {"WACR_TOKEN": None, "WACR_BASE_URL": None, "COLUMNS": "200"}
        return runner.invoke(cli, list(args), env=environment, catch_exceptions=False)

    return invoke


def write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as file:
        return list(csv.DictReader(file))


def child_env(**extra: str) -> dict[str, str]:
    """The environment of a child ``wacr`` process: this checkout first on the path."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("WACR_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.update(extra)
    return env


WACR_COMMAND = [sys.executable, "-m", "wacr_async.cli"]
