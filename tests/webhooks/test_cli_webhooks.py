"""``wacr webhooks listen|verify`` and ``wacr sandbox --webhook``, run as the user runs them."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from click.testing import CliRunner

from wacr_async import webhooks
from wacr_async.cli import cli

from .conftest import CONTACT_UPDATED, SECRET, message_received, serve, signed

ROOT = Path(__file__).resolve().parents[2]
WACR = [sys.executable, "-m", "wacr_async.cli"]


def child_env() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("WACR_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def verify(*args: str, body: bytes) -> tuple[int, str]:
    result = CliRunner().invoke(
        cli, ["webhooks", "verify", *args], input=body, env={"WACR_WEBHOOK_SECRET": None}
    )
    return result.exit_code, result.output


def test_verify_accepts_the_right_signature_and_names_the_event() -> None:
    body, headers = signed(CONTACT_UPDATED)
    code, out = verify(
        "--secret", SECRET, "--signature", headers["X-Webhook-Signature"].upper(), body=body
    )
    assert code == 0, out
    assert "signature: OK" in out and "contact.updated evt_1702468200_abc123XYZ0" in out


def test_verify_refuses_a_wrong_signature_and_explains_a_trailing_newline() -> None:
    body, headers = signed(CONTACT_UPDATED)
    code, out = verify(
        "--secret", "wrong", "--signature", headers["X-Webhook-Signature"], body=body
    )
    assert code == 1 and "signature: FAILED" in out
    code, out = verify(
        "--secret", SECRET, "--signature", headers["X-Webhook-Signature"], body=body + b"\n"
    )
    assert code == 1 and "trailing newline" in out


def test_verify_without_a_signature_prints_the_expected_one() -> None:
    body, _ = signed(CONTACT_UPDATED)
    code, out = verify("--secret", SECRET, body=body)
    assert code == 0 and f"signature: {webhooks.sign(body, SECRET)}" in out
    code, out = verify("--secret", SECRET, body=b"<html>")
    assert code == 1 and "not a webhook" in out


def test_listen_needs_a_secret_or_insecure() -> None:
    result = CliRunner().invoke(cli, ["webhooks", "listen"], env={"WACR_WEBHOOK_SECRET": None})
    assert result.exit_code == 2 and "--insecure" in result.output


class Child:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    async def line(self, stream: asyncio.StreamReader | None) -> str:
        assert stream is not None
        return (await asyncio.wait_for(stream.readline(), 20)).decode()

    async def finish(self) -> tuple[str, str]:
        out, err = await asyncio.wait_for(self.process.communicate(), 20)
        return out.decode(), err.decode()


@pytest.fixture
async def spawn() -> AsyncIterator[list[Child]]:
    children: list[Child] = []
    yield children
    for child in children:
        if child.process.returncode is None:
            child.process.kill()
            await child.process.communicate()


async def start(children: list[Child], *args: str) -> Child:
    process = await asyncio.create_subprocess_exec(
        *WACR,
        *args,
        env=child_env(),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    child = Child(process)
    children.append(child)
    return child


async def test_listen_prints_verified_events_and_forwards_them(spawn: list[Child]) -> None:
    local = webhooks.Receiver(secret=SECRET)  # the app the events are forwarded to
    forwarded: list[str] = []

    async def keep(event: webhooks.Event) -> None:
        forwarded.append(event.type)

    local.add_handler("*", keep)
    async with serve(local) as local_url:
        child = await start(
            spawn,
            "webhooks",
            "listen",
            "--port",
            "0",
            "--path",
            "/hook",
            "--secret",
            SECRET,
            "--json",
            "--limit",
            "2",
            "--forward",
            local_url,
        )
        first = await child.line(child.process.stderr)
        assert "signatures verified" in first, first
        url = first.split()[2]
        async with aiohttp.ClientSession() as http:
            bad_body, bad_headers = signed(CONTACT_UPDATED, secret="wrong")
            async with http.post(url, data=bad_body, headers=bad_headers) as r:
                assert r.status == 401
            for payload in (CONTACT_UPDATED, CONTACT_UPDATED, message_received()):
                async with http.post(url, data=signed(payload)[0], headers=signed(payload)[1]) as r:
                    assert r.status == 200
        out, err = await child.finish()
        await local.join()
    await local.aclose()
    assert child.process.returncode == 0, err
    lines = [json.loads(line) for line in out.splitlines()]
    assert [(line["type"], line["id"]) for line in lines] == [
        ("contact.updated", "evt_1702468200_abc123XYZ0"),
        ("whatsapp.message.received", "evt_1702468200_Msg0000001"),
    ]
    assert lines[1]["payload"]["data"]["relationships"]["contact"]["name"] == "خالد 🙂"
    assert forwarded == ["contact.updated", "whatsapp.message.received"]  # signature intact
    assert "forwarded to" in err


async def test_sandbox_command_sends_webhooks_and_takes_inbound_messages(
    spawn: list[Child],
) -> None:
    receiver = webhooks.Receiver(secret=SECRET)
    got: list[webhooks.Event] = []

    async def keep(event: webhooks.Event) -> None:
        got.append(event)

    receiver.add_handler("*", keep)
    async with serve(receiver) as hook_url:
        child = await start(
            spawn, "sandbox", "--port", "0", "--webhook", hook_url, "--webhook-secret", SECRET
        )
        first = await child.line(child.process.stdout)
        assert first.startswith("WA.cr sandbox serving"), first
        second = await child.line(child.process.stdout)
        inbound = second.rsplit(" ", 1)[1].strip()
        assert inbound.endswith("/__sandbox/inbound"), second
        message = {"phone": "+15550001111", "text": "مرحبا"}
        async with aiohttp.ClientSession() as http, http.post(inbound, json=message) as r:
            assert r.status == 201
        for _ in range(500):
            if got:
                break
            await asyncio.sleep(0.01)
        child.process.send_signal(signal.SIGINT)
        await child.finish()
    await receiver.aclose()
    [event] = got
    assert isinstance(event, webhooks.MessageReceived)
    assert (event.phone, event.text) == ("+15550001111", "مرحبا")


def test_sandbox_module_accepts_the_webhook_flags() -> None:
    from wacr_async.testing.__main__ import _parse

    args = _parse(["--webhook", "http://127.0.0.1:1/h", "--webhook-secret", "s"])
    assert (args.webhook, args.webhook_secret) == ("http://127.0.0.1:1/h", "s")
