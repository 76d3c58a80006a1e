"""A bulk send under faults and a rate limit: nothing is ever sent twice, every call accounted.

1,000 text sends from 32 workers while the sandbox drops 10% of sends after performing
them, answers 5% with a 500 after performing them, and enforces a fixed-window rate limit.
The sandbox runs in-process over real sockets on a virtual-time loop: its windows pass
without real waiting.
"""

from __future__ import annotations

import asyncio
from collections import Counter

import wacr_async as wacr
from tests.conftest import status_counter
from tests.virtual_time import run_virtual
from wacr_async.testing import Sandbox, no_wait

SENDS = 1000
WORKERS = 32
SEND = "POST /messages/text"


def test_thousand_sends_with_drops_500s_and_a_rate_limit_never_send_twice() -> None:
    async def main() -> None:
        trace, statuses = status_counter()

        outcomes: Counter[str] = Counter()
        strays: list[BaseException] = []

        # 250 calls per 1-second window: four windows' worth of sends.
        async with Sandbox(rate_limit=(250, 1.0)) as sandbox:
            sandbox.faults.add(SEND, drop_after=0.10, error_after=0.05, seed=6)
            async with sandbox.client(trace_configs=[trace]) as client:
                numbers = iter(range(SENDS))

                async def worker() -> None:
                    for n in numbers:
                        try:
                            await client.messages.send_text(f"+1555{n:07d}", f"Order {n} shipped")
                        except wacr.OutcomeUnknownError:
                            outcomes["unknown"] += 1
                        except wacr.APIError as exc:
                            outcomes[type(exc).__name__] += 1
                        except Exception as exc:
                            strays.append(exc)
                        else:
                            outcomes["sent"] += 1

                with no_wait():
                    async with asyncio.TaskGroup() as group:
                        for _ in range(WORKERS):
                            group.create_task(worker())

            assert strays == [], "every call ends as a result, a typed error or OutcomeUnknownError"
            assert sum(outcomes.values()) == SENDS
            assert sandbox.duplicate_sends() == []

            # The faults fired, and each shows up as exactly the outcome it should.
            assert outcomes["unknown"] > 0
            assert outcomes["InternalServerError"] > 0
            assert set(outcomes) <= {"sent", "unknown", "InternalServerError"}

            # Every performed send is one call's: a success, a lost answer, or a 500 after the fact.
            assert len(sandbox.sends) == SENDS
            assert len({record.phone for record in sandbox.sends}) == SENDS

            # The only repeats the server saw were answered 429 (refused before doing anything).
            assert sandbox.hits[SEND] == SENDS + statuses[429]

    run_virtual(main())
