"""A sandbox in its own process, for the fleet tests and ``benchmarks jobs``; not a test module.

``python sandbox_server.py [--rate-limit CALLS --window SECONDS] [--latency SECONDS]`` prints
``URL <base url>``, then answers each ``stats`` line on stdin with one JSON line: sends
performed, duplicate sends, send requests seen and the 429s among them, and the Unix times of
the first and last send. EOF stops it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from wacr_async.testing import Sandbox

TOKEN = "wm_fleet"
SEND_ROUTE = "POST /messages/text"


def stats(sandbox: Sandbox) -> dict[str, float]:
    records = sandbox.sends
    sends = len(records)
    seen = sandbox.hits[SEND_ROUTE]
    return {
        "sends": sends,
        "duplicates": len(sandbox.ledger.duplicate_sends()),
        "requests": seen,
        "rejected": seen - sends,  # nothing else fails here: every refusal is a 429
        # Unix times of the first and last send performed (0 when none).
        "first_send_at": records[0].at.timestamp() if records else 0.0,
        "last_send_at": records[-1].at.timestamp() if records else 0.0,
    }


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate-limit", type=int)
    parser.add_argument("--window", type=float, default=60.0)
    parser.add_argument("--latency", type=float)
    args = parser.parse_args()
    limit = None if args.rate_limit is None else (args.rate_limit, args.window)
    async with Sandbox(tokens={TOKEN: {"*"}}, rate_limit=limit, latency=args.latency) as sandbox:
        print("URL", sandbox.url, flush=True)
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        while line := await reader.readline():
            if line.strip() == b"stats":
                print(json.dumps(stats(sandbox)), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
