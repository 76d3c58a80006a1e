"""Shared benchmark helpers: a sandbox in its own process, medians, and one printed table.

The sandbox runs in a child process so that its CPU time and memory are not charged to the
client being measured (the machine has 2 cores: one for each side)::

    async with sandbox_process([SandboxSpec(contacts=20_000, latency=0.02)]) as (url,):
        ...

The child is ``python -m benchmarks._common serve SPEC…``; it prints one base URL per spec and
serves until its stdin closes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import sys
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "HEADERS",
    "TOKEN",
    "SandboxSpec",
    "measure_memory",
    "median",
    "print_table",
    "sandbox_process",
]

TOKEN = "wm_bench"
# What a raw aiohttp client sends to the sandboxes here.
HEADERS = {"Authorization": f"Bearer {TOKEN}", "Accept": "application/json"}


@dataclass(frozen=True)
class SandboxSpec:
    """One sandbox: how many contacts to seed, and the latency added to ``route``."""

    contacts: int = 0
    latency: float = 0.0
    route: str = "GET /contacts"

    def as_arg(self) -> str:
        return f"{self.contacts}:{self.latency}:{self.route}"

    @classmethod
    def from_arg(cls, text: str) -> SandboxSpec:
        contacts, latency, route = text.split(":", 2)
        return cls(int(contacts), float(latency), route)


@contextlib.asynccontextmanager
async def sandbox_process(specs: Sequence[SandboxSpec]) -> AsyncIterator[list[str]]:
    """Start one child process serving a sandbox per spec; yield their base URLs."""
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "benchmarks._common",
        "serve",
        *(spec.as_arg() for spec in specs),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert child.stdout is not None
    assert child.stdin is not None
    try:
        urls = []
        for _ in specs:
            line = await asyncio.wait_for(child.stdout.readline(), timeout=120)
            if not line:
                raise RuntimeError("the sandbox process exited before serving")
            urls.append(line.decode().strip())
        yield urls
    finally:
        child.stdin.close()
        try:
            await asyncio.wait_for(child.wait(), timeout=10)
        except TimeoutError:
            child.kill()
            await child.wait()


async def _serve(specs: Sequence[SandboxSpec]) -> None:
    from wacr_async.testing import Sandbox

    async with contextlib.AsyncExitStack() as stack:
        for spec in specs:
            sandbox = await stack.enter_async_context(Sandbox(tokens={TOKEN: {"*"}}))
            sandbox.seed_contacts(spec.contacts)
            if spec.latency:
                sandbox.faults.add(spec.route, latency=spec.latency)
            print(sandbox.url, flush=True)
        # Serve until the parent closes our stdin (or dies).
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, sys.stdin.read)


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def print_table(
    title: str,
    headers: Sequence[str],
    rows: Sequence[Sequence[object]],
    *,
    align: Literal["numbers", "left"] = "numbers",
) -> None:
    """Print a plain, aligned text table: the first column left-aligned and the others
    right-aligned (``align="numbers"``), or every column left-aligned (``"left"``, for
    prose; trailing spaces are trimmed)."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    line = "  ".join("-" * w for w in widths)
    print(title)
    print(line)
    for index, row in enumerate(cells):
        text = "  ".join(
            cell.ljust(w) if i == 0 or align == "left" else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        )
        print(text.rstrip() if align == "left" else text)
        if index == 0:
            print(line)
    print(line)


async def measure_memory(module: str, url: str, sizes: Sequence[int]) -> dict[int, float]:
    """Peak RSS (MiB) of ``python -m MODULE --memory-child URL SIZE``, a fresh process per
    size; the child prints its peak RSS in KiB (``ru_maxrss``) on its last line."""
    peaks: dict[int, float] = {}
    for size in sizes:
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            module,
            "--memory-child",
            url,
            str(size),
            stdout=asyncio.subprocess.PIPE,
        )
        out, _ = await child.communicate()
        if child.returncode != 0:
            raise RuntimeError(f"the memory child of {module} for {size:,} failed")
        peaks[size] = int(out.decode().split()[-1]) / 1024
    return peaks


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks._common")
    parser.add_argument("command", choices=["serve"])
    parser.add_argument("specs", nargs="+", metavar="CONTACTS:LATENCY:ROUTE")
    args = parser.parse_args(argv)
    asyncio.run(_serve([SandboxSpec.from_arg(text) for text in args.specs]))


if __name__ == "__main__":
    main()
