"""Fixtures for the service tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

import wacr_async as wacr
from tests.resources._support import Wire
from wacr_async.testing import Sandbox


@pytest.fixture
async def wire(wacr_sandbox: Sandbox) -> AsyncIterator[tuple[Wire, wacr.Client]]:
    """A recorder of what goes on the wire, and a sandbox client that reports to it."""
    recorder = Wire()
    async with wacr_sandbox.client(trace_configs=[recorder.trace]) as client:
        yield recorder, client
