"""pytest fixtures for code that uses wacr-async: ``wacr_sandbox`` and ``wacr_client``.

Installed as a pytest plugin (entry point ``wacr_async``), so the fixtures are available
in any test once wacr-async is installed. They are async fixtures and need pytest-asyncio;
without it they skip the requesting test with a hint instead of breaking collection.

Example::

    async def test_welcome(wacr_sandbox, wacr_client):
        await my_bot.greet(wacr_client, "+15550001111")
        assert wacr_sandbox.sends[0].content == '{"message":"Welcome!"}'

    @pytest.mark.wacr_sandbox(rate_limit=(5, 1.0), tokens={"tok": {"*"}})
    async def test_paced(wacr_sandbox): ...

The ``wacr_sandbox`` marker passes its keyword arguments to ``Sandbox(...)``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from wacr_async import Client

    from ._server import Sandbox

__all__ = ["wacr_client", "wacr_sandbox"]

try:
    import pytest_asyncio
except ImportError:  # pragma: no cover - exercised only where pytest-asyncio is absent
    pytest_asyncio = None  # type: ignore[assignment]  # the fixtures below skip instead

_MISSING = "the wacr_sandbox/wacr_client fixtures need pytest-asyncio: pip install pytest-asyncio"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "wacr_sandbox(**options): keyword arguments for the wacr_sandbox fixture"
    )


def _options(request: pytest.FixtureRequest) -> dict[str, Any]:
    marker = request.node.get_closest_marker("wacr_sandbox")
    return dict(marker.kwargs) if marker is not None else {}


if pytest_asyncio is not None:

    @pytest_asyncio.fixture
    async def wacr_sandbox(request: pytest.FixtureRequest) -> AsyncIterator[Sandbox]:
        """A started sandbox on a free loopback port, closed after the test."""
        from ._server import Sandbox

        async with Sandbox(**_options(request)) as sandbox:
            yield sandbox

    @pytest_asyncio.fixture
    async def wacr_client(wacr_sandbox: Sandbox) -> AsyncIterator[Client]:
        """A ``wacr_async.Client`` bound to ``wacr_sandbox``, closed after the test."""
        client = wacr_sandbox.client()
        try:
            yield client
        finally:
            await client.aclose()

else:  # pragma: no cover

    @pytest.fixture
    def wacr_sandbox() -> None:
        pytest.skip(_MISSING)

    @pytest.fixture
    def wacr_client() -> None:
        pytest.skip(_MISSING)
