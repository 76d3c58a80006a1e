"""Real processes for the fleet tests and ``benchmarks jobs``: a sandbox server and ``wacr jobs
worker`` processes. Not a test module."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SERVER = HERE / "sandbox_server.py"
TOKEN = "wm_fleet"


class SandboxProcess:
    """``async with SandboxProcess(rate_limit=(200, 5.0)) as sandbox: await sandbox.stats()``."""

    def __init__(
        self, *, rate_limit: tuple[int, float] | None = None, latency: float | None = None
    ) -> None:
        self.args: list[str] = []
        if rate_limit is not None:
            self.args += ["--rate-limit", str(rate_limit[0]), "--window", str(rate_limit[1])]
        if latency is not None:
            self.args += ["--latency", str(latency)]
        self.url = ""
        self._proc: asyncio.subprocess.Process | None = None
        self._lock = asyncio.Lock()

    async def __aenter__(self) -> SandboxProcess:
        self._proc = await asyncio.create_subprocess_exec(
            sys.executable,
            str(SERVER),
            *self.args,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        assert self._proc.stdout is not None
        line = await asyncio.wait_for(self._proc.stdout.readline(), 30)
        self.url = line.decode().split()[1]
        return self

    async def stats(self) -> dict[str, float]:
        proc = self._proc
        assert proc is not None and proc.stdin is not None and proc.stdout is not None
        async with self._lock:
            proc.stdin.write(b"stats\n")
            await proc.stdin.drain()
            answer: dict[str, float] = json.loads(await proc.stdout.readline())
            return answer

    async def __aexit__(self, *exc: object) -> None:
        proc = self._proc
        if proc is None:
            return
        assert proc.stdin is not None
        proc.stdin.close()
        try:
            await asyncio.wait_for(proc.wait(), 10)
        except TimeoutError:
            proc.kill()
            await proc.wait()

    def env(self) -> dict[str, str]:
        return {**os.environ, "WACR_TOKEN": TOKEN, "WACR_BASE_URL": self.url}


async def start_worker(
    dsn: str,
    sandbox: SandboxProcess,
    *,
    concurrency: int = 8,
    burst: bool = True,
    heartbeat: float = 1.0,
) -> asyncio.subprocess.Process:
    args = ["jobs", "worker", "--dsn", dsn, "--concurrency", str(concurrency)]
    args += ["--heartbeat", str(heartbeat)]
    if burst:
        args.append("--burst")
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "wacr_async.cli",
        *args,
        env=sandbox.env(),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def finish(proc: asyncio.subprocess.Process, within: float = 120) -> tuple[int, str]:
    """Wait for a worker to exit; returns its status and what it printed on stderr."""
    try:
        _, err = await asyncio.wait_for(proc.communicate(), within)
    except TimeoutError:
        proc.send_signal(signal.SIGKILL)
        _, err = await proc.communicate()
        raise AssertionError(
            f"worker still running after {within}s: {err.decode()[-2000:]}"
        ) from None
    assert proc.returncode is not None
    return proc.returncode, err.decode()


async def cli(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "wacr_async.cli",
        *args,
        env=env or dict(os.environ),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


def texts(n: int, prefix: str = "f") -> list[Any]:
    import wacr_async as wacr

    return [wacr.TextMessage(f"+1666{i:07d}", f"note {i}", key=f"{prefix}-{i}") for i in range(n)]
