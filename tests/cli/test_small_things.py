"""The small things a newcomer met: tail's exit status, the demo's words, one rate-limit
syntax, an unlimited sandbox's account, and help() on with_options."""

from __future__ import annotations

import json
import pydoc
import signal
import subprocess
import time
import urllib.request
from collections.abc import Callable

import pytest
from click.testing import Result

import wacr_async as wacr
from wacr_async._cli._params import parse_rate_limit

from .conftest import TOKEN, WACR_COMMAND, SandboxThread, child_env

Invoke = Callable[..., Result]


def test_tail_exits_130_on_ctrl_c(api: SandboxThread) -> None:
    child = subprocess.Popen(
        [*WACR_COMMAND, "messages", "tail", "--interval", "0.2"],
        env=child_env(WACR_TOKEN=TOKEN, WACR_BASE_URL=api.url),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while api.call(lambda sandbox: sandbox.hits["GET /messages"]) < 1:
            assert child.poll() is None, child.communicate()
            assert time.monotonic() < deadline, "the tail did not start polling"
            time.sleep(0.05)
        child.send_signal(signal.SIGINT)
        _, err = child.communicate(timeout=20)
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()
    assert child.returncode == 130, err
    assert "Traceback" not in err


def test_the_demo_names_no_paths_it_deletes_and_explains_its_contacts(
    offline: Invoke,
) -> None:
    result = offline("demo", "--contacts", "120", "--rate-limit", "1000/1", "--no-progress")
    assert result.exit_code == 0, result.output
    assert "wacr-demo-" not in result.output  # the temporary folder is never named
    assert "Generated contacts.csv (120 rows)" in result.stderr
    assert "Exported 319 contacts to contacts-export.jsonl" in result.stderr
    assert "deleted at the end" in result.stderr
    rows = {
        line.split("│")[1].strip(): line.split("│")[2].strip()
        for line in result.stdout.splitlines()
        if line.count("│") == 3
    }
    assert rows["existing before the demo"] == "200"
    assert rows["created by the import"] == "118"
    assert rows["created by sends to phones with no contact"] == "1"


@pytest.mark.parametrize(("text", "limit"), [("60/60", (60, 60.0)), ("100/2", (100, 2.0))])
def test_one_rate_limit_syntax(text: str, limit: tuple[int, float]) -> None:
    assert parse_rate_limit(text) == limit


@pytest.mark.parametrize("command", [["demo"], ["sandbox", "--port", "0"]])
@pytest.mark.parametrize("bad", ["100", "0/60", "60/0", "x/y", "60/"])
def test_a_rate_limit_not_written_n_per_seconds_is_a_usage_error(
    offline: Invoke, command: list[str], bad: str
) -> None:
    result = offline(*command, "--rate-limit", bad)
    assert result.exit_code == 2, result.output
    assert "write N/SECONDS" in result.stderr


def test_the_sandbox_command_serves_its_rate_limit_per_window() -> None:
    child = subprocess.Popen(
        [*WACR_COMMAND, "sandbox", "--port", "0", "--rate-limit", "10/2"],
        env=child_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        url = child.stdout.readline().split()[3]
        request = urllib.request.Request(
            f"{url}/account/limits", headers={"Authorization": "Bearer wm_sandbox"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            limit = json.load(response)["data"]["limits"]["api_calls_per_minute"]
            window_limit = response.headers["X-RateLimit-Limit"]
        child.send_signal(signal.SIGINT)
        child.communicate(timeout=20)
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()
    assert window_limit == "10"  # 10 calls per 2-second window
    assert (limit["limit"], limit["is_unlimited"]) == (300, False)  # the same, per minute


def test_account_on_an_unlimited_sandbox_says_unlimited(offline: Invoke) -> None:
    result = offline("--sandbox", "account")
    assert result.exit_code == 0, result.output
    row = next(line for line in result.stdout.splitlines() if "API Calls per Minute" in line)
    assert "unlimited" in row and "60" not in row


def test_help_on_with_options_shows_no_object_address() -> None:
    text = pydoc.render_doc(wacr.Client.with_options, renderer=pydoc.plaintext)
    assert "object at 0x" not in text
    assert "timeout" in text
