"""The pytest plugin's fixtures, and ``python -m wacr_async.testing``."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import urllib.request
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from wacr_async.testing import Sandbox

ROOT = Path(__file__).resolve().parents[2]


async def test_wacr_sandbox_fixture(wacr_sandbox: Sandbox) -> None:
    assert isinstance(wacr_sandbox, Sandbox)
    async with (
        aiohttp.ClientSession() as http,
        http.get(
            f"{wacr_sandbox.url}/account",
            headers={"Authorization": f"Bearer {wacr_sandbox.token}"},
        ) as response,
    ):
        assert response.status == 200


@pytest.mark.wacr_sandbox(rate_limit=(7, 60), tokens={"tok": {"*"}})
async def test_wacr_sandbox_marker_options(wacr_sandbox: Sandbox) -> None:
    assert wacr_sandbox.rate_limit == (7, 60.0)
    assert wacr_sandbox.token == "tok"


async def test_wacr_client_fixture(wacr_sandbox: Sandbox, wacr_client: Any) -> None:
    assert wacr_client.base_url == wacr_sandbox.url
    account = await wacr_client.account.get()
    assert account.id == 1
    assert wacr_sandbox.hits["GET /account"] == 1


async def test_sandbox_client_helper() -> None:
    async with Sandbox(tokens={"a": {"*"}, "b": {"account:read"}}) as sandbox:
        client = sandbox.client(token="b", max_retries=0)
        try:
            assert client.base_url == sandbox.url
            await client.account.get()
        finally:
            await client.aclose()
        assert sandbox.hits["GET /account"] == 1


def _run_pytest(tmp_path: Path, test_source: str, *extra: str) -> subprocess.CompletedProcess[str]:
    test_file = tmp_path / "test_user.py"
    test_file.write_text(textwrap.dedent(test_source))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path / "shadow"), str(ROOT)])}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            str(test_file),
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:wacr_async",
            "-p",
            "wacr_async.testing.pytest_plugin",
            "--rootdir",
            str(tmp_path),
            "-c",
            os.devnull,
            *extra,
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def test_plugin_in_a_user_project(tmp_path: Path) -> None:
    result = _run_pytest(
        tmp_path,
        """
        import pytest

        @pytest.mark.asyncio
        async def test_it(wacr_sandbox):
            assert wacr_sandbox.url.startswith("http://127.0.0.1:")
        """,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout


def test_plugin_without_pytest_asyncio_skips_instead_of_failing(tmp_path: Path) -> None:
    shadow = tmp_path / "shadow" / "pytest_asyncio"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('pytest-asyncio is not installed')\n")
    result = _run_pytest(
        tmp_path,
        """
        def test_uses_the_fixture(wacr_sandbox):
            raise AssertionError("not reached")

        def test_unrelated():
            pass
        """,
        "-p",
        "no:asyncio",
        "-rs",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed, 1 skipped" in result.stdout
    assert "pip install pytest-asyncio" in result.stdout


def test_command_line_server(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "wacr_async.testing",
            "--port",
            "0",
            "--token",
            "cli_tok",
            "--seed-contacts",
            "25",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert "WA.cr sandbox serving http://127.0.0.1:" in line, line
        url = line.split()[3]
        assert url.endswith("/api/v2")
        request = urllib.request.Request(
            f"{url}/contacts?per_page=1", headers={"Authorization": "Bearer cli_tok"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read().decode()
        assert '"total":25' in body
    finally:
        process.terminate()
        out, err = process.communicate(timeout=10)
    assert process.returncode == 0, err
    assert "stopped" in out


def test_command_line_help() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "wacr_async.testing", "--help"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=30,
        check=False,
    )
    assert result.returncode == 0
    assert "--seed-contacts" in result.stdout
