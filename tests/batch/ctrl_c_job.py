"""A bulk-send job for the Ctrl-C test: ``python ctrl_c_job.py URL TOKEN JOURNAL COUNT MODE``.

Run as a child process and sent SIGINT midway; not a test module. MODE ``report`` prints
the run's report in a ``finally`` block; ``bare`` leaves everything to ``asyncio.run``.
"""

from __future__ import annotations

import asyncio
import sys

import wacr_async as wacr
from wacr_async.batch import TextMessage


def specs(count: int) -> list[TextMessage]:
    return [TextMessage(f"+1666{n:07d}", f"Reminder {n}") for n in range(count)]


async def main(url: str, token: str, journal: str, count: int, mode: str) -> None:
    async with wacr.Client(token=token, base_url=url) as client:
        run = client.batch.send_messages(specs(count), concurrency=8, journal=journal)
        # The run takes SIGINT over while it goes: the first stops it, the second cancels it.
        print("started", flush=True)
        if mode == "bare":
            async for _ in run:
                pass
            return
        try:
            async for _ in run:
                pass
        finally:
            print("REPORT", await run.report(), flush=True)


if __name__ == "__main__":
    url, token, journal, count, mode = sys.argv[1:6]
    asyncio.run(main(url, token, journal, int(count), mode))
