"""The DEBUG log of the ``wacr_async`` logger: one line per attempt, nothing secret in it."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import aiohttp
import pytest

from wacr_async._logging import mask_path, mask_phone, mask_text
from wacr_async.testing import Sandbox, no_wait

PHONE = "+15550001111"
MOBILE = "919876543210"
TOKEN = "wm_log_test_token_0123456789abcdef"


@pytest.fixture(autouse=True)
def _debug_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    caplog.set_level(logging.DEBUG, logger="wacr_async")
    with no_wait():
        yield


def client_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "wacr_async"]


def everything_logged(caplog: pytest.LogCaptureFixture) -> str:
    # The client's own lines (the sandbox and aiohttp's server log under other names).
    return "\n".join(r.getMessage() for r in client_lines(caplog))


async def test_one_line_per_attempt_with_method_path_status_elapsed_attempt_request_id(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with Sandbox(tokens={TOKEN: {"*"}}) as sandbox:
        sandbox.faults.add("GET /account", error_before=1.0, status_before=503, times=1)
        async with sandbox.client() as client:
            await client.account.get()

    lines = [r.__dict__ for r in client_lines(caplog) if r.__dict__.get("wacr_path") == "/account"]
    assert [(r["wacr_method"], r["wacr_status"], r["wacr_attempt"]) for r in lines] == [
        ("GET", 503, 1),
        ("GET", 200, 2),
    ]
    for fields in lines:
        assert fields["levelno"] == logging.DEBUG
        assert fields["wacr_elapsed"] >= 0
        assert fields["wacr_request_id"]
        assert fields["wacr_request_id"] in fields["message"]
    assert "GET /account -> 200 in " in lines[1]["message"]
    assert "(attempt 2, request_id=" in lines[1]["message"]
    retries = [r.getMessage() for r in client_lines(caplog) if "retrying" in r.getMessage()]
    assert len(retries) == 1
    assert "503 ServiceUnavailableError" in retries[0]
    assert TOKEN not in everything_logged(caplog)


async def test_phone_numbers_in_paths_are_masked(caplog: pytest.LogCaptureFixture) -> None:
    async with Sandbox() as sandbox:
        sandbox.add_chat("+" + MOBILE)
        async with sandbox.client() as client:
            await client.comments.list(MOBILE)
            await client.comments.add(MOBILE, comment="Called back")
    text = everything_logged(caplog)
    assert "/comments/***3210" in text
    assert MOBILE not in text
    assert "9876543210" not in text


async def test_bodies_are_omitted_by_default(caplog: pytest.LogCaptureFixture) -> None:
    async with Sandbox() as sandbox, sandbox.client() as client:
        await client.messages.send_text(PHONE, "Your secret plan")
    text = everything_logged(caplog)
    assert "POST /messages/text -> 200" in text
    assert "secret plan" not in text
    assert "5550001111" not in text


async def test_opted_in_bodies_are_logged_with_phones_masked(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sandbox = Sandbox(tokens={TOKEN: {"*"}})
    async with sandbox, sandbox.client(log_bodies=True) as client:
        await client.messages.send_text(PHONE, f"Call me on {PHONE} or reply with {TOKEN}")
    text = everything_logged(caplog)
    assert "Call me on" in text
    assert "***1111" in text
    assert "5550001111" not in text
    assert TOKEN not in text


async def test_a_lost_answer_is_logged_as_such(caplog: pytest.LogCaptureFixture) -> None:
    async with Sandbox() as sandbox:
        sandbox.faults.add("POST /messages/text", drop_after=1.0)
        async with sandbox.client() as client:
            with pytest.raises(Exception, match="may have taken effect"):
                await client.messages.send_text(PHONE, "Hello")
    failures = [r for r in client_lines(caplog) if "no answer" in r.getMessage()]
    assert len(failures) == 1
    assert failures[0].__dict__["wacr_status"] is None
    assert "POST /messages/text" in failures[0].getMessage()


async def test_query_values_other_than_paging_are_hidden(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with Sandbox() as sandbox, sandbox.client() as client:
        await client.contacts.list(per_page=5, search="Ada Lovelace").first_page()
    text = everything_logged(caplog)
    assert "per_page=5" in text
    assert "page=1" in text
    assert "Lovelace" not in text


async def test_trace_configs_see_every_request() -> None:
    seen: list[tuple[str, str, int]] = []

    async def on_end(
        session: aiohttp.ClientSession, ctx: object, params: aiohttp.TraceRequestEndParams
    ) -> None:
        seen.append((params.method, params.url.path, params.response.status))

    trace = aiohttp.TraceConfig()
    trace.on_request_end.append(on_end)
    async with Sandbox() as sandbox:
        sandbox.faults.add("GET /account", error_before=1.0, times=1)
        async with sandbox.client(trace_configs=[trace]) as client:
            await client.account.get()
    assert seen == [("GET", "/api/v2/account", 503), ("GET", "/api/v2/account", 200)]


def test_masking_helpers() -> None:
    assert mask_phone("+91 98765-43210") == "***3210"
    assert mask_phone("") == "***"
    assert mask_text("to +919876543210 and 15550001111, id 4821, at 2025-01-01") == (
        "to ***3210 and ***1111, id 4821, at 2025-01-01"
    )
    assert mask_path("/comments/919876543210") == "/comments/***3210"
    assert mask_path("/comments/%2B919876543210") == "/comments/***3210"
    assert mask_path("/contacts/42") == "/contacts/42"
