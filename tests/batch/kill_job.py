"""A bulk-send job for the SIGKILL test: ``python kill_job.py URL TOKEN JOURNAL COUNT``.

Run as a child process and killed with SIGKILL halfway; not a test module.
"""

from __future__ import annotations

import asyncio
import sys

import wacr_async as wacr
from wacr_async.batch import TextMessage


def specs(count: int) -> list[TextMessage]:
    return [TextMessage(f"+1777{n:07d}", f"Your code is {n}") for n in range(count)]


async def main(url: str, token: str, journal: str, count: int) -> None:
    async with wacr.Client(token=token, base_url=url) as client:
        report = await client.batch.send_messages(
            specs(count), concurrency=16, journal=journal
        ).report()
    print(report, flush=True)


if __name__ == "__main__":
    url, token, journal, count = sys.argv[1:5]
    asyncio.run(main(url, token, journal, int(count)))
