"""``wacr account``."""

from __future__ import annotations

from collections.abc import Callable

from click.testing import Result

from .conftest import SandboxThread


def test_account_shows_account_usage_and_limits(
    wacr: Callable[..., Result], api: SandboxThread
) -> None:
    api.call(lambda sandbox: sandbox.seed_contacts(42))
    result = wacr("account")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Sandbox Co" in out
    assert "Plan limits" in out and "API Calls per Minute" in out
    usage_line = next(line for line in out.splitlines() if "contacts" in line and "│" in line)
    assert "42" in usage_line
    assert api.call(lambda sandbox: sandbox.hits["GET /account/usage"]) == 1
