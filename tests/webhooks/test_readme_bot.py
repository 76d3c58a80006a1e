"""The README's bot, run as written: a webhook brings the inbound message, the bot replies
through the client; after downtime, the catch-up poll answers what the webhook missed."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from wacr_async.testing import Sandbox

from .conftest import SECRET

README = Path(__file__).resolve().parent.parent.parent / "README.md"
REPLY = "Thanks! We'll be right with you."


def bot_source() -> str:
    text = README.read_text(encoding="utf-8")
    section = text.split("### A bot: webhooks first, polling to catch up", 1)[1]
    return section.split("```python\n", 1)[1].split("```", 1)[0]


class RunningBot:
    def __init__(self, namespace: dict[str, Any], runner: web.AppRunner, url: str) -> None:
        self.namespace = namespace
        self.runner = runner
        self.url = url

    async def settle(self, sandbox: Sandbox) -> None:
        await sandbox.webhooks.drain()
        await self.namespace["receiver"].join()


async def start_bot(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> RunningBot:
    monkeypatch.setenv("WACR_TOKEN", sandbox.token)
    monkeypatch.setenv("WACR_BASE_URL", sandbox.url)
    monkeypatch.setenv("WACR_WEBHOOK_SECRET", SECRET)
    namespace: dict[str, Any] = {"__name__": "readme_bot"}
    exec(compile(bot_source(), "README:bot", "exec"), namespace)
    runner = web.AppRunner(namespace["app"], access_log=None)
    await runner.setup()  # runs the bot's lifecycle: client opened, catch-up started
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return RunningBot(namespace, runner, f"http://127.0.0.1:{runner.addresses[0][1]}/wacr/events")


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # the bot keeps last_seen_id in the working directory
    return tmp_path


async def test_the_readme_bot_replies_to_a_webhook(
    wacr_sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, in_tmp: Path
) -> None:
    bot = await start_bot(wacr_sandbox, monkeypatch)
    try:
        wacr_sandbox.webhooks.subscribe(bot.url, secret=SECRET)
        wacr_sandbox.receive("+15550001111", "Hello, is this open? 🙂")
        await bot.settle(wacr_sandbox)
        [sent] = wacr_sandbox.sends_to("+15550001111")
        assert REPLY in sent.content
        # The server's copy delivered again is acknowledged, and not answered twice.
        first = next(d for d in wacr_sandbox.webhooks.deliveries if d.type.endswith("received"))
        assert first.status == 200
        async with (
            aiohttp.ClientSession() as http,
            http.post(bot.url, data=first.body, headers=first.headers) as again,
        ):
            assert again.status == 200
        await bot.settle(wacr_sandbox)
        wacr_sandbox.receive("+15550002222", "second customer")
        await bot.settle(wacr_sandbox)
        assert len(wacr_sandbox.sends_to("+15550002222")) == 1
        assert len(wacr_sandbox.sends_to("+15550001111")) == 1
    finally:
        await bot.runner.cleanup()


async def test_the_readme_bot_catches_up_after_downtime(
    wacr_sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, in_tmp: Path
) -> None:
    earlier = wacr_sandbox.receive("+15550003333", "answered before the outage")
    (in_tmp / "last_seen_id").write_text(str(earlier["id"]))
    wacr_sandbox.webhooks.subscribe("http://127.0.0.1:9/down", secret=SECRET)  # the bot is down
    wacr_sandbox.receive("+15550001111", "sent while the bot was down")
    await wacr_sandbox.webhooks.drain()
    assert [d.status for d in wacr_sandbox.webhooks.deliveries] == [None]  # lost: never retried

    bot = await start_bot(wacr_sandbox, monkeypatch)
    try:
        # The catch-up's first poll runs as the bot starts; it notes the id after replying.
        for _ in range(200):
            noted = int((in_tmp / "last_seen_id").read_text() or 0)
            if wacr_sandbox.sends_to("+15550001111") and noted > earlier["id"]:
                break
            await asyncio.sleep(0.01)
        [sent] = wacr_sandbox.sends_to("+15550001111")
        assert REPLY in sent.content
        assert wacr_sandbox.sends_to("+15550003333") == []  # before last_seen_id: not again
    finally:
        await bot.runner.cleanup()
    assert int((in_tmp / "last_seen_id").read_text()) > earlier["id"]
