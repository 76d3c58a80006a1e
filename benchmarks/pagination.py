"""Pagination throughput and memory: the pager against a raw aiohttp page loop.

Run: ``python -m benchmarks.pagination`` (about two minutes; ``--repeat 1`` for a quick look).

The sandbox serves from a child process. Scenarios, 20,000 contacts at ``per_page=100``:

* ``latency``: 20 ms added to every ``GET /contacts``; the consumer does nothing per item.
  Target: ``concurrency=8`` ≥ 5x the raw sequential loop.
* ``latency+work``: the same, and the consumer spends 0.2 ms per item, awaited (a 2 ms
  ``asyncio.sleep`` every 10 items, like an async write). Target: prefetch on ≥ 1.5x off.
* ``no latency``: the client's own cost. Target: the pager (typed ``Contact`` models) ≥ 0.8x
  the raw loop (plain dicts). An extra row runs the same client and pager without building
  models, which shows by difference what the models cost.

Memory: a child process streams 20,000 and another 200,000 contacts (default pager); the peak
RSS (``ru_maxrss``) of the second may exceed the first's by less than 30 MB.

Items/s are medians over ``--repeat`` runs (three times as many without latency), the variants
interleaved run by run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp

import wacr_async as wacr
from wacr_async._envelope import PageMeta, data_of, page_meta
from wacr_async.pagination import AsyncPager

from ._common import (
    HEADERS,
    TOKEN,
    SandboxSpec,
    measure_memory,
    median,
    print_table,
    sandbox_process,
)

CONTACTS = 20_000
PER_PAGE = 100
LATENCY = 0.02
WORK_PER_ITEM = 0.0002
WORK_EVERY = 10
MEMORY_SIZES = (20_000, 200_000)

Variant = Callable[[str, float], Awaitable[int]]


async def _consume(items: AsyncIterator[Any], work: float) -> int:
    """Read every item; with ``work``, spend that long per item, awaited in small steps."""
    count = 0
    async for _ in items:
        count += 1
        if work and count % WORK_EVERY == 0:
            await asyncio.sleep(work * WORK_EVERY)
    return count


async def _raw_items(url: str) -> AsyncIterator[dict[str, Any]]:
    """The loop a careful user would write with aiohttp alone: page by page, plain dicts."""
    async with aiohttp.ClientSession(headers=HEADERS) as session:
        page = 1
        while True:
            params = {"page": str(page), "per_page": str(PER_PAGE)}
            async with session.get(f"{url}/contacts", params=params) as response:
                response.raise_for_status()
                body = json.loads(await response.read())
            for item in body["data"]:
                yield item
            if not body["meta"]["pagination"]["has_more"]:
                return
            page += 1


async def raw_loop(url: str, work: float) -> int:
    return await _consume(_raw_items(url), work)


def pager_variant(*, prefetch: bool, concurrency: int = 1) -> Variant:
    async def run(url: str, work: float) -> int:
        async with wacr.Client(token=TOKEN, base_url=url) as client:
            pager = client.contacts.list(
                per_page=PER_PAGE, prefetch=prefetch, concurrency=concurrency
            )
            return await _consume(aiter(pager), work)

    return run


async def pager_dicts(url: str, work: float) -> int:
    """The same client and pager, parsing nothing: what building models costs, by difference."""
    async with wacr.Client(token=TOKEN, base_url=url) as client:
        service = client.contacts

        async def fetch(page: int) -> tuple[list[Any], PageMeta]:
            params = [("page", str(page)), ("per_page", str(PER_PAGE))]
            payload = await service._payload("GET", "/contacts", safety="read", params=params)
            return data_of(payload), page_meta(payload)

        return await _consume(aiter(AsyncPager(fetch, per_page=PER_PAGE)), work)


VARIANTS: dict[str, Variant] = {
    "raw aiohttp loop (dicts)": raw_loop,
    "pager, prefetch off": pager_variant(prefetch=False),
    "pager, prefetch on": pager_variant(prefetch=True),
    "pager, concurrency=8": pager_variant(prefetch=True, concurrency=8),
    "pager, prefetch on, dicts (no models)": pager_dicts,
}

# scenario -> (sandbox index, work per item, variants run, runs per repeat)
SCENARIOS: dict[str, tuple[int, float, tuple[str, ...], int]] = {
    "latency 20 ms": (0, 0.0, tuple(VARIANTS)[:4], 1),
    "latency 20 ms + 0.2 ms/item": (
        0,
        WORK_PER_ITEM,
        ("raw aiohttp loop (dicts)", "pager, prefetch off", "pager, prefetch on"),
        1,
    ),
    "no latency": (1, 0.0, tuple(VARIANTS), 3),  # fast and noisy: more runs
}


async def measure(repeat: int) -> dict[tuple[str, str], float]:
    """Items/s per (scenario, variant), medians over ``repeat`` interleaved runs."""
    specs = [SandboxSpec(CONTACTS, LATENCY), SandboxSpec(CONTACTS, 0.0)]
    samples: dict[tuple[str, str], list[float]] = {}
    async with sandbox_process(specs) as urls:
        for variant in VARIANTS.values():  # warm up both sides (imports, caches, pools)
            await variant(urls[1], 0.0)
        for _ in range(repeat):
            for scenario, (index, work, names, runs) in SCENARIOS.items():
                for name in names * runs:
                    started = time.perf_counter()
                    count = await VARIANTS[name](urls[index], work)
                    elapsed = time.perf_counter() - started
                    if count != CONTACTS:
                        raise RuntimeError(f"{name} read {count} contacts, not {CONTACTS}")
                    samples.setdefault((scenario, name), []).append(count / elapsed)
    return {key: median(values) for key, values in samples.items()}


async def _stream(url: str, count: int) -> int:
    seen = 0
    async with wacr.Client(token=TOKEN, base_url=url) as client:
        async for _ in client.contacts.list(per_page=PER_PAGE):
            seen += 1
            if seen == count:
                break
    return seen


def memory_child(url: str, count: int) -> None:
    """Stream ``count`` contacts, then print the peak RSS in KiB (Linux ``ru_maxrss``)."""
    seen = asyncio.run(_stream(url, count))
    if seen != count:
        raise SystemExit(f"streamed {seen} contacts, not {count}")
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


async def memory_peaks() -> dict[int, float]:
    """Peak RSS (MiB) of a fresh process streaming each of MEMORY_SIZES contacts."""
    async with sandbox_process([SandboxSpec(max(MEMORY_SIZES), 0.0)]) as (url,):
        return await measure_memory("benchmarks.pagination", url, MEMORY_SIZES)


def report(speeds: dict[tuple[str, str], float], peaks: dict[int, float]) -> None:
    raw = "raw aiohttp loop (dicts)"
    rows = []
    for scenario, (_, _, names, _) in SCENARIOS.items():
        base = speeds[(scenario, raw)]
        off = speeds[(scenario, "pager, prefetch off")]
        for name in names:
            value = speeds[(scenario, name)]
            rows.append(
                [scenario, name, f"{value:,.0f}", f"{value / base:.2f}x", f"{value / off:.2f}x"]
            )
    print_table(
        f"Pagination, {CONTACTS:,} contacts, per_page={PER_PAGE} (items/s, medians)",
        ["scenario", "variant", "items/s", "vs raw", "vs prefetch off"],
        rows,
    )
    lat, work, fast = "latency 20 ms", "latency 20 ms + 0.2 ms/item", "no latency"
    checks = [
        (
            "prefetch on / off, consumer 0.2 ms/item",
            speeds[(work, "pager, prefetch on")] / speeds[(work, "pager, prefetch off")],
            1.5,
        ),
        (
            "concurrency=8 / raw loop, 20 ms latency",
            speeds[(lat, "pager, concurrency=8")] / speeds[(lat, raw)],
            5.0,
        ),
        (
            "pager (models) / raw loop (dicts), no latency",
            speeds[(fast, "pager, prefetch on")] / speeds[(fast, raw)],
            0.8,
        ),
    ]
    small, large = MEMORY_SIZES
    growth = peaks[large] - peaks[small]
    print()
    print_table(
        "Targets",
        ["check", "measured", "target", "ok"],
        [
            [name, f"{value:.2f}x", f">= {goal}x", "yes" if value >= goal else "NO"]
            for name, value, goal in checks
        ]
        + [
            [
                f"peak RSS {large:,} - {small:,} streamed "
                f"({peaks[large]:.1f} - {peaks[small]:.1f} MiB)",
                f"{growth:.1f} MiB",
                "< 30 MiB",
                "yes" if growth < 30 else "NO",
            ]
        ],
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.pagination", description=__doc__)
    parser.add_argument("--repeat", type=int, default=3, help="runs per variant (default 3)")
    parser.add_argument("--memory-child", nargs=2, metavar=("URL", "COUNT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory_child:
        memory_child(args.memory_child[0], int(args.memory_child[1]))
        return
    speeds = asyncio.run(measure(max(1, args.repeat)))
    peaks = asyncio.run(memory_peaks())
    report(speeds, peaks)


if __name__ == "__main__":
    main()
