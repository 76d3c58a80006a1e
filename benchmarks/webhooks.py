"""Webhook receiving: events/s through ``receiver.aiohttp_handler`` against a bare aiohttp
handler that only reads the body (target: at least 0.7x).

Run: ``python -m benchmarks.webhooks`` (about 50 s; ``--runs 1`` for a quick look).

Each server runs in its own child process (one core each side on a 2-core machine); this
process posts signed, PHP-encoded bodies over ``--concurrency`` keep-alive connections for
``--duration`` seconds per run: a mix of inbound messages, receipts and contact updates, every
body with its own event id (so none is dropped as a repeat). The receiver verifies the
signature, parses the typed event, records its id and starts a (no-op) handler task per event;
the bare handler reads the body and answers 200. A third server registers only
``whatsapp.message.received`` (half the mix), as a bot does: the other events are verified,
decoded and answered but never built.

Each run gives every server ``--duration`` seconds in ``--slices`` short slices, taken in
turn (the order rotates slice by slice), so that the servers of one run share the machine's
conditions; the connections stay open from slice to slice (none is opened on the servers'
CPU time while measuring). A run's ratio compares the servers over that run; the figures are
medians over ``--runs`` runs. Two ratios: events/s (wall clock, which on a shared machine
also measures the neighbours) and events per server CPU-second (the rate of a saturated
server; the target is judged on it).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import copy
import hashlib
import hmac
import itertools
import statistics
import sys
import time
import urllib.parse
from collections.abc import AsyncIterator, Sequence
from typing import Any

from aiohttp import web

SECRET = b"bench-secret"
SERVERS = ("bare aiohttp", "receiver", "receiver, one")
TARGET = 0.7
_MARK = b"evt_0000000000_XXXXXXXXXX"


def _templates() -> list[tuple[str, bytes]]:
    """(event type, body with a placeholder id) for the mix, encoded as PHP does."""
    from wacr_async.testing import Sandbox, php_json
    from wacr_async.testing import _webhook_events as build

    sandbox = Sandbox()
    state = sandbox.state
    contact = sandbox.add_contact(firstname="ليلى", lastname="😀", phone="+966501234567")
    inbound = build.meta_message(
        state,
        digits="966501234567",
        name="خالد",
        wamid="wamid.HBgM/abc==",
        message_type="text",
        text="مرحبا! Is my order https://shop.example/o/42 on its way? 🙏",
    )
    receipt = build.meta_status(
        state, digits="966501234567", wamid="wamid.OUT/1==", status="delivered"
    )
    previous = copy.deepcopy(contact)
    contact["email"] = "laila@example.com"
    payloads: list[dict[str, Any]] = [
        build.whatsapp_event(state, "whatsapp.message.received", inbound),
        build.whatsapp_event(state, "whatsapp.message.delivered", receipt),
        build.resource_event(state, "contact", "updated", contact, previous=previous),
        build.whatsapp_event(state, "whatsapp.message.received", inbound),
    ]
    out = []
    for payload in payloads:
        payload["event"]["id"] = _MARK.decode()
        out.append((payload["event"]["type"], php_json(payload)))
    return out


# -- the servers (child processes) --------------------------------------------------------


async def _bare(request: web.Request) -> web.Response:
    await request.read()
    return web.Response(body=b'{"ok":true}', content_type="application/json")


async def _serve(kind: str) -> None:
    from wacr_async import webhooks

    app = web.Application()
    receiver = webhooks.Receiver(secret=SECRET)
    handled = 0

    async def handle(event: webhooks.Event) -> None:
        nonlocal handled
        handled += 1

    # "receiver": one handler for every event; "receiver, one": a bot's usual single pattern
    # (inbound messages, half the mix): the other events are checked and answered, not built.
    receiver.add_handler("*" if kind == "receiver" else "whatsapp.message.received", handle)
    app.router.add_post("/hook", _bare if kind == "bare aiohttp" else receiver.aiohttp_handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    print(f"http://127.0.0.1:{runner.addresses[0][1]}/hook", flush=True)
    loop = asyncio.get_running_loop()
    # Each line from the parent asks for this process's CPU seconds so far; EOF stops it.
    while await loop.run_in_executor(None, sys.stdin.readline):
        print(time.process_time(), flush=True)
    await runner.cleanup()
    await receiver.aclose()


class _Server:
    """One server child process: its URL, and its CPU time on request."""

    def __init__(self, child: asyncio.subprocess.Process, url: str) -> None:
        self.child = child
        self.url = url

    async def cpu(self) -> float:
        assert self.child.stdin is not None
        assert self.child.stdout is not None
        self.child.stdin.write(b"cpu\n")
        return float(await asyncio.wait_for(self.child.stdout.readline(), 60))


@contextlib.asynccontextmanager
async def _server(kind: str) -> AsyncIterator[_Server]:
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "benchmarks.webhooks",
        "--serve",
        kind,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert child.stdin is not None
    assert child.stdout is not None
    try:
        url = (await asyncio.wait_for(child.stdout.readline(), 60)).decode().strip()
        yield _Server(child, url)
    finally:
        child.stdin.close()
        try:
            await asyncio.wait_for(child.wait(), 10)
        except TimeoutError:
            child.kill()
            await child.wait()


# -- the load -----------------------------------------------------------------------------


def _request(path: str, port: int, kind: str, body: bytes) -> bytes:
    signature = hmac.new(SECRET, body, hashlib.sha256).hexdigest()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        "Content-Type: application/json\r\nUser-Agent: whatsmark-Webhook/1.0\r\n"
        f"X-Webhook-Event: {kind}\r\nX-Webhook-Format: n8n\r\n"
        f"X-Webhook-Signature: {signature}\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


class _Load:
    """``concurrency`` keep-alive connections to one server, kept open between slices.

    The load is raw HTTP/1.1, not an HTTP client, so that the load process stays cheaper than
    the server it measures.
    """

    def __init__(self, url: str) -> None:
        parsed = urllib.parse.urlsplit(url)
        self.url = url
        self.path = parsed.path
        self.port = parsed.port or 80
        self.connections: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def open(self, concurrency: int) -> None:
        for _ in range(concurrency):
            self.connections.append(await asyncio.open_connection("127.0.0.1", self.port))

    async def close(self) -> None:
        for _, writer in self.connections:
            writer.close()
            await writer.wait_closed()

    async def measure(
        self, templates: list[tuple[str, bytes]], ids: itertools.count[int], duration: float
    ) -> tuple[int, float]:
        """Events answered 200 within about ``duration`` seconds, and the seconds it took."""
        deadline = time.perf_counter() + duration
        counts = [0] * len(self.connections)

        async def worker(index: int) -> None:
            reader, writer = self.connections[index]
            while time.perf_counter() < deadline:
                n = next(ids)
                kind, template = templates[n % len(templates)]
                body = template.replace(_MARK, b"evt_1765000000_%010d" % n)
                writer.write(_request(self.path, self.port, kind, body))
                head = await reader.readuntil(b"\r\n\r\n")
                if not head.startswith(b"HTTP/1.1 200"):
                    raise RuntimeError(f"{self.url} answered {head[:40]!r}")
                length = int(head.lower().split(b"content-length:", 1)[1].split(b"\r\n", 1)[0])
                await reader.readexactly(length)
                counts[index] += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker(index) for index in range(len(self.connections))))
        return sum(counts), time.perf_counter() - started


Results = dict[str, dict[str, list[float]]]


async def _run(args: argparse.Namespace) -> Results:
    """Per server and run: events/s and server CPU microseconds per event."""
    templates = _templates()
    ids = itertools.count()
    results: Results = {kind: {"rate": [], "cpu": []} for kind in SERVERS}
    async with contextlib.AsyncExitStack() as stack:
        servers = {kind: await stack.enter_async_context(_server(kind)) for kind in SERVERS}
        loads = {kind: _Load(servers[kind].url) for kind in SERVERS}
        for load in loads.values():
            await load.open(args.concurrency)
            stack.push_async_callback(load.close)
        for kind in SERVERS:  # warm up
            await loads[kind].measure(templates, ids, args.warmup)
        slice_seconds = args.duration / args.slices
        turn = 0
        for _ in range(args.runs):
            events = dict.fromkeys(SERVERS, 0)
            seconds = dict.fromkeys(SERVERS, 0.0)
            cpu = dict.fromkeys(SERVERS, 0.0)
            for _ in range(args.slices):
                order = SERVERS[turn % len(SERVERS) :] + SERVERS[: turn % len(SERVERS)]
                turn += 1
                for kind in order:
                    before = await servers[kind].cpu()
                    count, took = await loads[kind].measure(templates, ids, slice_seconds)
                    cpu[kind] += await servers[kind].cpu() - before
                    events[kind] += count
                    seconds[kind] += took
            for kind in SERVERS:
                results[kind]["rate"].append(events[kind] / seconds[kind])
                results[kind]["cpu"].append(cpu[kind] / events[kind] * 1e6)
    return results


def _ratios(results: Results, kind: str, measure: str) -> list[float]:
    """Run by run: bare's figure over ``kind``'s (CPU) or ``kind``'s over bare's (rate)."""
    bare = results["bare aiohttp"][measure]
    other = results[kind][measure]
    if measure == "cpu":
        return [b / o for b, o in zip(bare, other, strict=True)]
    return [o / b for b, o in zip(bare, other, strict=True)]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.webhooks")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--duration", type=float, default=2.0, help="seconds per run")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--slices", type=int, default=4, help="slices per server and run")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds per server")
    parser.add_argument("--serve", choices=SERVERS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        asyncio.run(_serve(args.serve))
        return 0
    results = asyncio.run(_run(args))
    rate = {kind: statistics.median(results[kind]["rate"]) for kind in SERVERS}
    cpu = {kind: statistics.median(results[kind]["cpu"]) for kind in SERVERS}
    print(
        f"webhooks: {args.concurrency} concurrent posts, median of {args.runs} runs of "
        f"{args.duration:g} s per server in {args.slices} interleaved slices, server and load in "
        "separate processes"
    )
    for kind in SERVERS:
        print(
            f"  {kind:<14} {rate[kind]:>9,.0f} events/s   "
            f"{cpu[kind]:>6,.0f} us server CPU per event"
        )
    # Events per CPU-second is the rate of a saturated server; on a shared machine the
    # wall-clock rate also measures the neighbours, so both are shown. Ratios are taken run by
    # run (the servers of one run shared its conditions), then their median.
    capacity_runs = _ratios(results, "receiver", "cpu")
    capacity = statistics.median(capacity_runs)
    wall = statistics.median(_ratios(results, "receiver", "rate"))
    one = statistics.median(_ratios(results, "receiver, one", "cpu"))
    verdict = "met" if capacity >= TARGET else "NOT met"
    spread = f"runs {min(capacity_runs):.2f}..{max(capacity_runs):.2f}"
    print(f"events/s ratio receiver/bare (wall clock): {wall:.2f}x")
    print(f"receiver with one pattern (half the events handled), per CPU-second: {one:.2f}x")
    print(
        f"target receiver/bare events per CPU-second >= {TARGET:.2f}x: {capacity:.2f}x "
        f"({spread}; {verdict})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
