"""Connect and total timeouts, per client and per call, and how each is classified."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator

import aiohttp
import pytest

import wacr_async as wacr
from wacr_async.testing import Sandbox, no_wait

PHONE = "+15550001111"
SEND = "POST /messages/text"


@pytest.fixture(autouse=True)
def _instant_retries() -> Iterator[None]:
    with no_wait():
        yield


@pytest.fixture
def unanswered_port() -> Iterator[int]:
    """A port whose accept queue is full: connection attempts hang until they time out."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(3):
        filler = socket.socket()
        filler.setblocking(False)
        filler.connect_ex(("127.0.0.1", port))
        fillers.append(filler)
    try:
        yield port
    finally:
        for filler in fillers:
            filler.close()
        listener.close()


def attempt_counter() -> tuple[aiohttp.TraceConfig, list[str]]:
    attempts: list[str] = []

    async def on_start(
        session: aiohttp.ClientSession, ctx: object, params: aiohttp.TraceRequestStartParams
    ) -> None:
        attempts.append(params.method)

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(on_start)
    return trace, attempts


@pytest.fixture
async def slow_sends() -> AsyncIterator[Sandbox]:
    async with Sandbox() as sandbox:
        sandbox.faults.add(SEND, latency=0.6)
        sandbox.faults.add("GET /account", latency=0.6)
        yield sandbox


@pytest.mark.parametrize(
    "limits",
    [
        pytest.param(wacr.Timeout(total=10, connect=0.2), id="connect-below-total"),
        # A plain number sets both limits alike; the connect timeout must still be recognised.
        pytest.param(0.3, id="connect-equals-total"),
    ],
)
async def test_connect_timeout_is_known_unsent_so_even_a_send_is_retried(
    unanswered_port: int, limits: float | wacr.Timeout
) -> None:
    trace, attempts = attempt_counter()
    client = wacr.Client(
        "tok",
        base_url=f"http://127.0.0.1:{unanswered_port}/api/v2",
        timeout=limits,
        max_retries=1,
        trace_configs=[trace],
    )
    async with client:
        with pytest.raises(wacr.APITimeoutError) as info:
            await client.messages.send_text(PHONE, "Hello")
    assert not isinstance(info.value, wacr.OutcomeUnknownError)
    assert info.value.sent is False
    assert attempts == ["POST", "POST"]


async def test_read_timeout_on_a_send_is_outcome_unknown_and_not_retried(
    slow_sends: Sandbox,
) -> None:
    async with slow_sends.client(timeout=0.3) as client:
        with pytest.raises(wacr.OutcomeUnknownError) as info:
            await client.messages.send_text(PHONE, "Hello")
    assert isinstance(info.value.__cause__, wacr.APITimeoutError)
    assert info.value.request.path == "/messages/text"
    assert slow_sends.hits[SEND] == 1


async def test_read_timeout_on_a_read_is_retried_then_raised(slow_sends: Sandbox) -> None:
    # A read limit per attempt, inside a total that leaves room for every retry.
    async with slow_sends.client(timeout=wacr.Timeout(total=5, read=0.3)) as client:
        with pytest.raises(wacr.APITimeoutError) as info:
            await client.account.get()
    assert info.value.sent is True
    assert slow_sends.hits["GET /account"] == 3


async def test_per_call_timeout_overrides_the_clients(slow_sends: Sandbox) -> None:
    async with slow_sends.client(timeout=0.3) as client:
        patient = client.with_options(timeout=5)
        sent = await patient.messages.send_text(PHONE, "Hello")
        assert sent.message_id
        # The view leaves the client itself as it was.
        with pytest.raises(wacr.OutcomeUnknownError):
            await client.messages.send_text("+15550002222", "Hello")
        # And a view of a view keeps what it is not told to change.
        strict = patient.with_options(max_retries=0)
        assert (await strict.account.get()).id


async def test_per_call_timeout_can_be_tightened(slow_sends: Sandbox) -> None:
    async with slow_sends.client(timeout=30) as client:
        quick = client.with_options(timeout=wacr.Timeout(total=0.3, connect=0.2), max_retries=0)
        with pytest.raises(wacr.APITimeoutError):
            await quick.account.get()
    assert slow_sends.hits["GET /account"] == 1


async def test_no_total_timeout_waits_for_a_slow_answer(slow_sends: Sandbox) -> None:
    async with slow_sends.client(timeout=0.3) as client:
        account = await client.with_options(timeout=None).account.get()
    assert account.id


async def test_bad_per_call_settings_fail_clearly() -> None:
    client = wacr.Client("tok")
    with pytest.raises(wacr.ConfigurationError):
        client.with_options(timeout=0)
    with pytest.raises(wacr.ConfigurationError):
        client.with_options(max_retries=-1)
