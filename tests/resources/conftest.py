"""Fixtures for the service tests.

Every service test runs twice: against the server code's show answers, which nest the resource
(``data: {"data": {…}}``, the sandbox's default), and against the documented flat ones
(``Sandbox(show_wrapped=False)``), so that neither reading can regress.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

import wacr_async as wacr
from tests.resources._support import Wire
from wacr_async.testing import Sandbox


@pytest.fixture(params=[True, False], ids=["nested-show", "flat-show"])
async def wacr_sandbox(request: pytest.FixtureRequest) -> AsyncIterator[Sandbox]:
    """The plugin's sandbox (marker options included), in both show shapes."""
    marker = request.node.get_closest_marker("wacr_sandbox")
    options = dict(marker.kwargs) if marker is not None else {}
    options.setdefault("show_wrapped", request.param)
    async with Sandbox(**options) as sandbox:
        yield sandbox


@pytest.fixture
async def wire(wacr_sandbox: Sandbox) -> AsyncIterator[tuple[Wire, wacr.Client]]:
    """A recorder of what goes on the wire, and a sandbox client that reports to it."""
    recorder = Wire()
    async with wacr_sandbox.client(trace_configs=[recorder.trace]) as client:
        yield recorder, client
