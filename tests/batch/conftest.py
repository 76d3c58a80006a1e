"""Helpers for the batch tests."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable

import pytest

Eventually = Callable[[Callable[[], bool]], Awaitable[None]]


@pytest.fixture
def eventually() -> Eventually:
    """``await eventually(lambda: cond)``: poll a condition (the sandbox's counters have no
    event to wait on) until it holds, failing after ten seconds."""

    async def wait(condition: Callable[[], bool]) -> None:
        async with asyncio.timeout(10):
            for _ in itertools.count():
                if condition():
                    return
                await asyncio.sleep(0.005)

    return wait
