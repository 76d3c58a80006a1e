"""``wacr messages tail``."""

from __future__ import annotations

import json
from collections.abc import Callable

from click.testing import Result

from .conftest import SandboxThread

Invoke = Callable[..., Result]


def test_tail_prints_inbound_messages_after_an_id(wacr: Invoke, api: SandboxThread) -> None:
    api.call(lambda sandbox: sandbox.receive("+15550001111", "first"))
    start = api.call(lambda sandbox: sandbox.receive("+15550001111", "second"))["id"]
    api.call(lambda sandbox: sandbox.receive("+15550002222", "third"))

    result = wacr(
        "messages", "tail", "--direction", "inbound", "--after-id", str(start), "--limit", "1"
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 1
    assert "<- 15550002222 [text] third" in lines[0]


def test_tail_follows_new_messages_as_json(wacr: Invoke, api: SandboxThread) -> None:
    # Both arrive after the tail has started: it yields only what is new.
    api.later(0.3, lambda sandbox: sandbox.receive("+15550003333", "hello bot"))
    api.later(0.4, lambda sandbox: sandbox.receive("+15550003333", "are you there?"))
    result = wacr("messages", "tail", "--json", "--interval", "0.1", "--limit", "2")
    assert result.exit_code == 0, result.output
    messages = [json.loads(line) for line in result.stdout.splitlines()]
    assert [m["message"] for m in messages] == ["hello bot", "are you there?"]
    # the server code's items carry no direction; without --direction none is worked out
    assert {m["sender_id"] for m in messages} == {"15550003333"}
    assert "Following new messages" in result.stderr


def test_tail_direction_works_where_the_server_refuses_filter_direction(
    wacr: Invoke, api: SandboxThread
) -> None:
    start = api.call(lambda sandbox: sandbox.receive("+15550001111", "first"))["id"]
    api.call(
        lambda sandbox: sandbox.state.add_message(
            sandbox.add_chat("+15550001111"), type="text", message="our reply", direction="outbound"
        )
    )
    api.call(lambda sandbox: sandbox.receive("+15550002222", "second"))
    result = wacr(
        "messages",
        "tail",
        "--direction",
        "outbound",
        "--after-id",
        str(start),
        "--limit",
        "1",
        "--json",
    )
    assert result.exit_code == 0, result.output
    [line] = result.stdout.splitlines()
    assert (json.loads(line)["message"], json.loads(line)["direction"]) == ("our reply", "outbound")


def test_tail_with_a_token_that_cannot_read_messages(wacr: Invoke, api: SandboxThread) -> None:
    api.call(lambda sandbox: sandbox.add_token("wm_send_only", {"messages:send"}))
    result = wacr("messages", "tail", "--token", "wm_send_only", "--after-id", "0")
    assert result.exit_code == 1
    assert "INSUFFICIENT_SCOPE" in result.stderr and "Traceback" not in result.output
