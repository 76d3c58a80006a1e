"""Sandbox throughput: requests/s the sandbox serves to raw aiohttp, so that other benchmarks
know the server is not their bottleneck.

Run: ``python -m benchmarks.sandbox_throughput`` (about 25 s; ``--runs 1`` for a quick look).

Two endpoints: a small ``GET /account`` and a 100-item page ``GET /contacts?per_page=100``
(pages rotate over 10,000 seeded contacts). Two set-ups:

* ``own process``: the sandbox runs in a child process (``benchmarks._common.sandbox_process``),
  the client here: the server's own capacity, on its own core.
* ``same loop``: sandbox and client share one event loop, as in a test suite: the cost of a
  request on both sides together.

``--concurrency`` workers (default 16) loop over keep-alive connections for ``--duration``
seconds (default 1); each figure is the median of ``--runs`` runs (default 5).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import sys
import time
from collections.abc import AsyncIterator, Sequence

import aiohttp

from wacr_async.testing import Sandbox

from ._common import HEADERS, TOKEN, SandboxSpec, sandbox_process

CONTACTS = 10_000
ENDPOINTS = ("/account", "/contacts?per_page=100")


async def _measure(
    session: aiohttp.ClientSession, base_url: str, endpoint: str, concurrency: int, duration: float
) -> float:
    """Requests per second completed by ``concurrency`` workers in ``duration`` seconds."""
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
            async with session.get(url, headers=HEADERS) as response:
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
    async with sandbox_process([SandboxSpec(contacts=CONTACTS)]) as (url,):
        yield url


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
