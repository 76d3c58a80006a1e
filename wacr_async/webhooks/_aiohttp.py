"""The aiohttp.web adapter: read at most ``max_body_size`` bytes, answer what ``receive`` says."""

from __future__ import annotations

from aiohttp import web

from ._reply import Endpoint

__all__ = ["handle"]

_TOO_LARGE = b'{"error":"the body is larger than this receiver accepts"}'


async def handle(receiver: Endpoint, request: web.Request) -> web.StreamResponse:
    """Answer one webhook request with ``receiver`` (``Receiver.aiohttp_handler`` calls this)."""
    limit = receiver.max_body_size
    length = request.content_length
    if length is not None and length > limit:
        return _reply(413, _TOO_LARGE)  # refused from the header alone: nothing read
    body = await _read(request, limit)
    if body is None:
        return _reply(413, _TOO_LARGE)
    reply = await receiver.receive(body, request.headers)
    return _reply(reply.status, reply.body)


async def _read(request: web.Request, limit: int) -> bytes | None:
    """The body, or None as soon as it passes ``limit`` (the rest is never read)."""
    # Not request.read(): that is bound by the application's client_max_size, not ours.
    stream = request.content
    chunk = await stream.readany()
    size = len(chunk)
    if size > limit:
        return None
    if stream.at_eof():  # the usual webhook: all of it had arrived
        return chunk
    chunks = [chunk]
    while chunk := await stream.readany():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _reply(status: int, body: bytes) -> web.Response:
    return web.Response(status=status, body=body, content_type="application/json")
