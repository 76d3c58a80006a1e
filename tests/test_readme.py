"""The README's code stays true: every Python block parses, and the aiohttp recipe runs."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from wacr_async.testing import Sandbox

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCK = re.compile(
    r"^### (?P<title>[^\n]*)\n(?:(?!^### ).)*?^```python\n(?P<code>.*?)^```", re.S | re.M
)
PYTHON_BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def python_blocks() -> list[str]:
    return PYTHON_BLOCK.findall(README.read_text(encoding="utf-8"))


def recipe(title_start: str) -> str:
    for match in BLOCK.finditer(README.read_text(encoding="utf-8")):
        if match["title"].startswith(title_start):
            return match["code"]
    raise LookupError(f"no README section starting {title_start!r} with a Python block")


def test_the_readme_has_python_examples() -> None:
    assert len(python_blocks()) >= 8


@pytest.mark.parametrize("index", range(len(python_blocks())))
def test_every_python_block_parses(index: int) -> None:
    code = python_blocks()[index]
    # Top-level await is how the README shows one-off calls; parse those as coroutine bodies.
    compile(
        code, f"README block {index}", "exec", ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
    )


async def test_the_aiohttp_recipe_sends_through_the_sandbox(
    wacr_sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WACR_TOKEN", wacr_sandbox.token)
    monkeypatch.setenv("WACR_BASE_URL", wacr_sandbox.url)
    namespace: dict[str, Any] = {"__name__": "readme_aiohttp_recipe"}
    exec(compile(recipe("An aiohttp service"), "README:aiohttp", "exec"), namespace)
    app: web.Application = namespace["app"]

    async with TestClient(TestServer(app)) as http:
        sent = await http.post("/notify", json={"phone": "+15550001111", "text": "Hello"})
        assert sent.status == 200
        assert (await sent.json())["message_id"]

        # The caller's own bad input, refused before anything is sent: a 400, not a 502.
        refused = await http.post("/notify", json={"phone": "+15550002222", "text": ""})
        assert refused.status == 400
        assert (await refused.json())["error"] == "VALIDATION_ERROR"
        bad_phone = await http.post("/notify", json={"phone": "not-a-phone", "text": "Hi"})
        assert bad_phone.status == 400
        assert "phone" in (await bad_phone.json())["fields"]

    assert [send.phone for send in wacr_sandbox.sends] == ["15550001111"]
