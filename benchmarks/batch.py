"""Bulk sends: throughput against raw aiohttp, pacing at a rate limit, memory for long inputs.

Three measures (issue targets in brackets):

* **Throughput, no rate limit** [``send_messages`` >= 0.85 x raw]: template sends to fresh
  phones through ``client.batch.send_messages`` (without a journal, with a SQLite journal
  whose claims are durable -- ``synchronous=FULL``, the default -- and with
  ``synchronous=NORMAL``, to show what the fsync per group commit costs) and
  through a raw aiohttp semaphore loop posting the same JSON, same concurrency, against the
  same sandbox in its own process. Rounds alternate between the three; medians are
  compared. The client's CPU time per send is printed too: with the server on the other core
  it shows the SDK's own cost, which throughput alone can hide.
* **Pacing at a rate limit** [>= 95% of the allowed rate]: ``send_messages`` against the
  sandbox limiting the token to ``limit`` calls per ``window``. "Window efficiency" is the
  least time the limit allows (the start of the window the last send needs,
  ``floor((N - 1) / limit) * window``) over the time taken, as in ``benchmarks.ratelimit``.
* **Memory** [peak RSS after 100,000 specs within 25 MB of after 10,000]: a fresh process
  per size sends specs from a generator, with a journal, and reports its peak RSS
  (``ru_maxrss``).

Run from the repository root::

    python -m benchmarks.batch                    # about three minutes
    python -m benchmarks.batch --skip-memory      # about one minute
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import resource
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from itertools import count
from typing import Literal

import aiohttp

import wacr_async as wacr
from wacr_async.batch import SQLiteJournal, TemplateMessage
from wacr_async.testing import Sandbox

from ._common import (
    HEADERS,
    TOKEN,
    SandboxSpec,
    measure_memory,
    median,
    print_table,
    sandbox_process,
)

_phones = count(1)


def fresh_phones(n: int) -> list[str]:
    """Phones never used before in this run, so every send creates its contact the same way."""
    block = next(_phones)
    return [f"+1{block:03d}{i:07d}" for i in range(n)]


def template_specs(phones: list[str]) -> Iterator[TemplateMessage]:
    for i, phone in enumerate(phones):
        yield TemplateMessage(phone, "order_update", "en", fields=[f"A-{i}", "Friday"])


async def timed(job: Callable[[], Awaitable[int]]) -> tuple[float, float]:
    """(sends per second, client CPU microseconds per send) of one job."""
    cpu, wall = time.process_time(), time.perf_counter()
    sends = await job()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return sends / wall, cpu / sends * 1e6


async def raw_loop(url: str, sends: int, concurrency: int) -> int:
    phones = fresh_phones(sends)
    semaphore = asyncio.Semaphore(concurrency)
    async with aiohttp.ClientSession(headers=HEADERS) as session:

        async def send(i: int) -> None:
            body = {
                "phone": phones[i],
                "template_name": "order_update",
                "language": "en",
                "field_1": f"A-{i}",
                "field_2": "Friday",
            }
            async with semaphore, session.post(f"{url}/messages/template", json=body) as resp:
                await resp.json()
                assert resp.status == 200, resp.status

        await asyncio.gather(*(send(i) for i in range(sends)))
    return sends


async def sdk_loop(url: str, sends: int, concurrency: int) -> int:
    """The SDK's send method in the same semaphore loop: the client's own cost, no batch."""
    phones = fresh_phones(sends)
    semaphore = asyncio.Semaphore(concurrency)
    async with wacr.Client(token=TOKEN, base_url=url) as client:

        async def send(i: int) -> None:
            async with semaphore:
                await client.messages.send_template(
                    phones[i], "order_update", "en", fields=[f"A-{i}", "Friday"]
                )

        await asyncio.gather(*(send(i) for i in range(sends)))
    return sends


async def sdk_run(
    url: str, sends: int, concurrency: int, journal: Literal["NORMAL", "FULL"] | None
) -> int:
    """``send_messages`` without a journal, or with a SQLite journal in ``journal`` mode
    (``FULL``, the default: every claim synced to disk before its request leaves)."""
    phones = fresh_phones(sends)
    async with wacr.Client(token=TOKEN, base_url=url) as client:
        with tempfile.TemporaryDirectory() as folder:
            store = None
            if journal is not None:
                store = SQLiteJournal(os.path.join(folder, "job.sqlite"), synchronous=journal)
            run = client.batch.send_messages(
                template_specs(phones), concurrency=concurrency, journal=store
            )
            report = await run.report()
            if store is not None:
                await store.aclose()
    assert report.counts["sent"] == sends, report
    return sends


async def throughput(sends: int, rounds: int, concurrency: int) -> None:
    kinds = (
        "raw aiohttp loop",
        "client.messages loop",
        "send_messages",
        "+ journal, durable claims (FULL)",
        "+ journal, synchronous=NORMAL",
    )
    rates: dict[str, list[float]] = {kind: [] for kind in kinds}
    cpus: dict[str, list[float]] = {kind: [] for kind in kinds}
    async with sandbox_process([SandboxSpec()]) as (url,):
        jobs: dict[str, Callable[[], Awaitable[int]]] = {
            kinds[0]: lambda: raw_loop(url, sends, concurrency),
            kinds[1]: lambda: sdk_loop(url, sends, concurrency),
            kinds[2]: lambda: sdk_run(url, sends, concurrency, journal=None),
            kinds[3]: lambda: sdk_run(url, sends, concurrency, journal="FULL"),
            kinds[4]: lambda: sdk_run(url, sends, concurrency, journal="NORMAL"),
        }
        await jobs[kinds[0]]()  # warm up: connections, the server's caches
        for _ in range(rounds):
            for kind in kinds:
                rate, cpu = await timed(jobs[kind])
                rates[kind].append(rate)
                cpus[kind].append(cpu)
    raw_rate, raw_cpu = median(rates[kinds[0]]), median(cpus[kinds[0]])
    rows = [
        (
            kind,
            f"{median(rates[kind]):.0f}",
            f"{median(rates[kind]) / raw_rate:.2f}",
            f"{median(cpus[kind]):.0f}",
            f"{median(cpus[kind]) / raw_cpu:.2f}",
        )
        for kind in kinds
    ]
    print_table(
        f"Throughput, no rate limit: {sends} template sends x {rounds} rounds, "
        f"concurrency {concurrency}, sandbox in its own process (medians)",
        ["", "sends/s", "vs raw", "client CPU us/send", "vs raw"],
        rows,
    )
    print(f"target: send_messages >= 0.85x raw -> {median(rates[kinds[2]]) / raw_rate:.2f}x")
    print(
        "durable claims: journal (FULL) vs raw "
        f"{median(rates[kinds[3]]) / raw_rate:.2f}x, vs no journal "
        f"{median(rates[kinds[3]]) / median(rates[kinds[2]]):.2f}x, vs NORMAL "
        f"{median(rates[kinds[3]]) / median(rates[kinds[4]]):.2f}x\n"
    )


async def paced(limit: int, window: float, windows: int, concurrency: int, rounds: int) -> None:
    sends = limit * windows + 1
    least = math.floor((sends - 1) / limit) * window
    rows: list[tuple[str, ...]] = []
    efficiencies = []
    for _ in range(rounds):
        async with Sandbox(tokens={TOKEN: {"*"}}, rate_limit=(limit, window)) as sandbox:
            phones = fresh_phones(sends)
            async with wacr.Client(token=TOKEN, base_url=sandbox.url) as client:
                started = time.perf_counter()
                report = await client.batch.send_messages(
                    template_specs(phones), concurrency=concurrency
                ).report()
                elapsed = time.perf_counter() - started
            refused = sandbox.hits["POST /messages/template"] - sends
        assert report.counts["sent"] == sends, report
        efficiencies.append(least / elapsed)
        rows.append(
            (
                f"run {len(rows) + 1}",
                f"{elapsed:.2f}",
                f"{sends / elapsed:.1f}",
                f"{least / elapsed:.3f}",
                f"{refused}",
            )
        )
    print_table(
        f"Pacing: {sends} sends, limit {limit} per {window:g} s (allowed {limit / window:.0f}/s), "
        f"concurrency {concurrency}; least time {least:.1f} s",
        ["", "seconds", "sends/s", "window efficiency", "429s"],
        rows,
    )
    print(f"target: >= 0.95 of the allowed rate -> median {median(efficiencies):.3f}\n")


async def memory_child(url: str, sends: int) -> None:
    """In a fresh process: send ``sends`` specs from a generator, print the peak RSS (KiB)."""
    phones = (f"+19{i:09d}" for i in range(sends))
    specs = (
        TemplateMessage(phone, "order_update", "en", fields=[str(i), "Friday"])
        for i, phone in enumerate(phones)
    )
    with tempfile.TemporaryDirectory() as folder:
        async with wacr.Client(token=TOKEN, base_url=url) as client:
            report = await client.batch.send_messages(
                specs, concurrency=16, journal=os.path.join(folder, "job.sqlite")
            ).report()
    assert report.counts["sent"] == sends, report
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, flush=True)


async def memory(sizes: list[int]) -> None:
    async with sandbox_process([SandboxSpec()]) as (url,):
        peaks = await measure_memory("benchmarks.batch", url, sizes)
    small, large = sizes
    rows = [(f"{size:,} specs", f"{peaks[size]:.1f}") for size in sizes]
    print_table(
        "Memory: peak RSS of a fresh process sending specs from a generator (with a journal)",
        ["", "peak RSS MB"],
        rows,
    )
    grew = peaks[large] - peaks[small]
    print(f"target: {large:,} within 25 MB of {small:,} -> {grew:+.1f} MB\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.batch")
    parser.add_argument("--sends", type=int, default=2000, help="sends per throughput run")
    parser.add_argument("--rounds", type=int, default=5, help="throughput rounds")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--limit", type=int, default=300, help="rate limit: calls per window")
    parser.add_argument("--window", type=float, default=5.0, help="rate limit window, seconds")
    parser.add_argument("--windows", type=int, default=3, help="windows per paced run")
    parser.add_argument("--paced-rounds", type=int, default=2)
    parser.add_argument("--memory-sizes", type=int, nargs=2, default=[10_000, 100_000])
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--memory-child", nargs=2, metavar=("URL", "SENDS"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory_child:
        url, sends = args.memory_child
        asyncio.run(memory_child(url, int(sends)))
        return
    started = time.perf_counter()
    asyncio.run(throughput(args.sends, args.rounds, args.concurrency))
    asyncio.run(paced(args.limit, args.window, args.windows, args.concurrency, args.paced_rounds))
    if not args.skip_memory:
        asyncio.run(memory(list(args.memory_sizes)))
    print(f"(benchmark took {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
