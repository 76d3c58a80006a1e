"""The ASGI adapter: plain ASGI 3 (no Starlette), so any ASGI framework can mount it.

HTTP ``POST`` requests go to :meth:`Receiver.receive`; other methods get 405. The body is read
message by message and refused with 413 as soon as it passes the limit (or at once when
``Content-Length`` says so). Served on its own, the app answers the lifespan protocol and
drains the handlers at shutdown; mounted inside another app, call ``receiver.aclose()`` from
that app's own shutdown.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from ._reply import Endpoint

__all__ = ["Receive", "Scope", "Send", "serve"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_TOO_LARGE = b'{"error":"the body is larger than this receiver accepts"}'
_METHOD = b'{"error":"webhooks are POSTed"}'


async def serve(receiver: Endpoint, scope: Scope, receive: Receive, send: Send) -> None:
    """Serve one ASGI connection scope with ``receiver`` (``Receiver.asgi`` calls this)."""
    if scope["type"] == "lifespan":
        await _lifespan(receiver, receive, send)
        return
    if scope["type"] != "http":
        raise RuntimeError(f"the webhook receiver serves HTTP, not {scope['type']!r}")
    if scope["method"] != "POST":
        await _answer(send, 405, _METHOD, (b"allow", b"POST"))
        return
    headers: dict[str, str] = {}
    for key, value in scope.get("headers", ()):
        headers[key.decode("latin-1").lower()] = value.decode("latin-1")
    limit = receiver.max_body_size
    length = headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        await _answer(send, 413, _TOO_LARGE)  # refused from the header alone: nothing read
        return
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            await _answer(send, 413, _TOO_LARGE)
            return
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    reply = await receiver.receive(b"".join(chunks), headers)
    await _answer(send, reply.status, reply.body)


async def _answer(send: Send, status: int, body: bytes, *extra: tuple[bytes, bytes]) -> None:
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *extra,
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _lifespan(receiver: Endpoint, receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await receiver.aclose()
            await send({"type": "lifespan.shutdown.complete"})
            return
