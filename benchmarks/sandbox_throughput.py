"""Sandbox throughput: requests/s the sandbox serves to raw aiohttp, so that other benchmarks
know the server is not their bottleneck.

Run: ``python -m benchmarks.sandbox_throughput`` (about 25 s; ``--runs 1`` for a quick look).

Two endpoints: a small ``GET /account`` and a 100-item page ``GET /contacts?per_page=100``
(pages rotate over 10,000 seeded contacts). Two set-ups:

* ``own process``: the sandbox runs in a child process (``python -m wacr_async.testing``), the
  client here: the server's own capacity, on its own core.
* ``same loop``: sandbox and client share one event loop, as in a test suite: the cost of a
  request on both sides together.

``--concurrency`` workers (default 16) loop over keep-alive connections for ``--duration``
seconds (default 1); each figure is the median of ``--runs`` runs (default 5).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import sys
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import aiohttp

from wacr_async.testing import Sandbox

TOKEN = "wm_bench"
CONTACTS = 10_000
ROOT = Path(__file__).resolve().parents[1]
ENDPOINTS = ("/account", "/contacts?per_page=100")


async def _measure(
    session: aiohttp.ClientSession, base_url: str, endpoint: str, concurrency: int, duration: float
) -> float:
    """Requests per second completed by ``concurrency`` workers in ``duration`` seconds."""
    headers = {"Authorization": f"Bearer {TOKEN}"}
    pages = CONTACTS // 100
    deadline = time.perf_counter() + duration
    counts = [0] * concurrency

    async def worker(index: int) -> None:
        sequence = index
        while time.perf_counter() < deadline:
            url = base_url + endpoint
            if "per_page" in endpoint:
                url += f"&page={sequence % pages + 1}"
                sequence += concurrency
            async with session.get(url, headers=headers) as response:
                await response.read()
                if response.status != 200:
                    raise RuntimeError(f"{url} answered {response.status}")
            counts[index] += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker(index) for index in range(concurrency)))
    return sum(counts) / (time.perf_counter() - started)


@contextlib.asynccontextmanager
async def _child_sandbox() -> AsyncIterator[str]:
    """A sandbox in its own process; yields its base URL."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "wacr_async.testing", "--port", "0", "--token", TOKEN,
        "--seed-contacts", str(CONTACTS),
        stdout=asyncio.subprocess.PIPE,
        env=env,
    )  # fmt: skip
    assert child.stdout is not None
    try:
        line = (await asyncio.wait_for(child.stdout.readline(), timeout=60)).decode()
        if "serving" not in line:
            raise RuntimeError(f"the sandbox did not start: {line!r}")
        yield line.split()[3]
    finally:
        child.terminate()
        await child.wait()


@contextlib.asynccontextmanager
async def _local_sandbox() -> AsyncIterator[str]:
    async with Sandbox(tokens={TOKEN: {"*"}}) as sandbox:
        sandbox.seed_contacts(CONTACTS)
        yield sandbox.url


async def _run(args: argparse.Namespace) -> dict[tuple[str, str], list[float]]:
    results: dict[tuple[str, str], list[float]] = {}
    setups = (("own process", _child_sandbox), ("same loop", _local_sandbox))
    for setup, factory in setups:
        async with factory() as url:
            connector = aiohttp.TCPConnector(limit=args.concurrency)
            async with aiohttp.ClientSession(connector=connector) as session:
                for endpoint in ENDPOINTS:  # warm up connections and caches
                    await _measure(session, url, endpoint, args.concurrency, 0.2)
                for _ in range(args.runs):  # interleave endpoints run by run
                    for endpoint in ENDPOINTS:
                        rate = await _measure(
                            session, url, endpoint, args.concurrency, args.duration
                        )
                        results.setdefault((endpoint, setup), []).append(rate)
    return results


def _print(results: dict[tuple[str, str], list[float]], args: argparse.Namespace) -> None:
    setups = ("own process", "same loop")
    print(
        f"sandbox throughput: raw aiohttp, {args.concurrency} concurrent requests, "
        f"median of {args.runs} x {args.duration:g} s"
    )
    print(f"{'endpoint':<32}" + "".join(f"{setup:>18}" for setup in setups))
    for endpoint in ENDPOINTS:
        cells = "".join(
            f"{statistics.median(results[(endpoint, setup)]):>12,.0f} req/s" for setup in setups
        )
        print(f"{'GET ' + endpoint:<32}{cells}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.sandbox_throughput")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--duration", type=float, default=1.0, help="seconds per run")
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args(argv)
    _print(asyncio.run(_run(args)), args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
