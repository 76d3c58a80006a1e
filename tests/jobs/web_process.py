"""A web-style process for the shared-pacing test: ``python web_process.py DSN SECONDS TASKS``.

``TASKS`` tasks send texts as fast as the token's shared pace lets them, for ``SECONDS``;
token and base URL come from ``WACR_TOKEN``/``WACR_BASE_URL``. Prints how many calls
succeeded. Not a test module.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time

import wacr_async as wacr
from wacr_async import jobs


async def main(dsn: str, seconds: float, tasks: int) -> None:
    pacer = jobs.SharedPacer(dsn, os.environ["WACR_TOKEN"])
    deadline = time.monotonic() + seconds
    sent = 0

    async def user(n: int) -> None:
        nonlocal sent
        i = 0
        while time.monotonic() < deadline:
            i += 1
            phone = f"+1444{os.getpid() % 10000:04d}{n:02d}{i:04d}"
            await client.messages.send_text(phone, "hi")
            sent += 1

    try:
        async with wacr.Client(rate_limiter=pacer) as client:
            await asyncio.gather(*(user(n) for n in range(tasks)))
    finally:
        await pacer.aclose()
    print(sent, flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], float(sys.argv[2]), int(sys.argv[3])))
