"""What the framework adapters talk to: a :class:`Reply`, and the :class:`Endpoint` they serve.

The adapters (aiohttp, ASGI) only move bytes in and out; they know the receiver through this
small protocol, not through ``Receiver`` itself.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Protocol

import attrs

__all__ = ["DUPLICATE", "OK", "Endpoint", "Reply"]


@attrs.frozen
class Reply:
    """What to answer the server: an HTTP status, a small JSON body, and whether the event
    was a repeat (acknowledged, not dispatched).

    Example::

        reply = await receiver.receive(body, headers)
        return Response(reply.body, status=reply.status, media_type="application/json")
    """

    status: int
    body: bytes
    duplicate: bool = False

    @classmethod
    def of(cls, status: int, message: str) -> Reply:
        """A reply with ``{"ok":true}`` (status < 300) or ``{"error":message}``.

        Example::

            Reply.of(401, "bad signature").body   # b'{"error":"bad signature"}'
        """
        key = "ok" if status < 300 else "error"
        text = "true" if key == "ok" else json.dumps(message)
        return cls(status, f'{{"{key}":{text}}}'.encode())


OK = Reply(200, b'{"ok":true}')
DUPLICATE = Reply(200, b'{"ok":true,"duplicate":true}', duplicate=True)


class Endpoint(Protocol):
    """What an adapter needs from the receiver it serves.

    Example::

        async def handle(endpoint: Endpoint, body: bytes, headers: Mapping[str, str]) -> Reply:
            return await endpoint.receive(body, headers)
    """

    @property
    def max_body_size(self) -> int: ...

    async def receive(self, body: bytes, headers: Mapping[str, str]) -> Reply: ...

    async def aclose(self, grace: float | None = None) -> None: ...
