"""Client CPU per send: ``client.messages.send_text`` against raw aiohttp posting the same JSON.

Run: ``python -m benchmarks.cpu_per_send`` (about a minute; ``--pairs 1`` for a quick look).

3,000 sends at concurrency 64 against a sandbox in its own process, six pairs, the order
alternating (SDK then raw, raw then SDK, …). What is measured is the CPU time of this process (``process_time``)
per send, not wall time: on shared machines the wall-clock throughput of identical runs swings
too much to compare. The SDK's efficiency is ``raw CPU / SDK CPU`` (1.00 = as cheap as raw
aiohttp); the target is >= 0.90.

``--profile`` runs the SDK side once under cProfile instead and prints where its CPU goes.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import time
from collections.abc import Awaitable, Callable

import aiohttp

import wacr_async as wacr

from ._common import HEADERS, TOKEN, SandboxSpec, median, print_table, sandbox_process

TARGET = 0.90


def _phones(count: int, offset: int) -> list[str]:
    return [f"+1555{offset + i:07d}" for i in range(count)]


async def _workers(count: int, concurrency: int, send: Callable[[int], Awaitable[None]]) -> None:
    """``concurrency`` workers taking the next index until ``count`` sends are done."""
    indexes = iter(range(count))

    async def work() -> None:
        for index in indexes:
            await send(index)

    await asyncio.gather(*(work() for _ in range(concurrency)))


async def raw_sends(url: str, count: int, concurrency: int, offset: int) -> None:
    phones = _phones(count, offset)
    connector = aiohttp.TCPConnector(limit=100)
    async with aiohttp.ClientSession(headers=HEADERS, connector=connector) as session:

        async def send(index: int) -> None:
            body = {"phone": phones[index], "message": f"Hello {index}"}
            async with session.post(f"{url}/messages/text", json=body) as response:
                payload = await response.json()
                if response.status != 200 or not payload["success"]:
                    raise RuntimeError(f"raw send answered {response.status}")

        await _workers(count, concurrency, send)


async def sdk_sends(url: str, count: int, concurrency: int, offset: int) -> None:
    phones = _phones(count, offset)
    async with wacr.Client(token=TOKEN, base_url=url, rate_limit="off") as client:

        async def send(index: int) -> None:
            await client.messages.send_text(phones[index], f"Hello {index}")

        await _workers(count, concurrency, send)


async def _cpu_per_send(job: Awaitable[None], count: int) -> float:
    """Microseconds of this process's CPU per send."""
    started = time.process_time()
    await job
    return (time.process_time() - started) / count * 1e6


async def _run(args: argparse.Namespace) -> None:
    async with sandbox_process([SandboxSpec()]) as (url,):
        # Warm both paths (imports, connection pools, the sandbox's tables).
        await sdk_sends(url, 200, args.concurrency, offset=0)
        await raw_sends(url, 200, args.concurrency, offset=0)
        if args.profile:
            profiler = cProfile.Profile()
            profiler.enable()
            await sdk_sends(url, args.sends, args.concurrency, offset=1_000_000)
            profiler.disable()
            stats = pstats.Stats(profiler)
            stats.sort_stats("tottime").print_stats(25)
            return
        sdk: list[float] = []
        raw: list[float] = []
        for pair in range(args.pairs):
            offset = (pair + 1) * 100_000
            # Which side goes first alternates (SDK-raw, raw-SDK, ...), so that a drift in
            # the machine's load over the run weighs on both sides alike.
            sides = [("sdk", sdk_sends, sdk, offset), ("raw", raw_sends, raw, offset + 50_000)]
            for _, sends, figures, start in sides if pair % 2 == 0 else sides[::-1]:
                figures.append(
                    await _cpu_per_send(sends(url, args.sends, args.concurrency, start), args.sends)
                )

    rows = [
        [f"pair {n + 1}", f"{s:.0f}", f"{r:.0f}", f"{r / s:.2f}"]
        for n, (s, r) in enumerate(zip(sdk, raw, strict=True))
    ]
    efficiency = median(raw) / median(sdk)
    rows.append(["median", f"{median(sdk):.0f}", f"{median(raw):.0f}", f"{efficiency:.2f}"])
    print_table(
        f"client CPU per send_text, {args.sends:,} sends at concurrency {args.concurrency}",
        ["", "SDK us/send", "raw us/send", "raw/SDK ratio"],
        rows,
    )
    verdict = "met" if efficiency >= TARGET else "NOT met"
    print(
        f"target: SDK efficiency (raw CPU / SDK CPU) >= {TARGET:.2f} -> {efficiency:.2f}x ({verdict})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sends", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--pairs", type=int, default=6)
    parser.add_argument("--profile", action="store_true", help="profile the SDK side once")
    asyncio.run(_run(parser.parse_args()))


if __name__ == "__main__":
    main()
