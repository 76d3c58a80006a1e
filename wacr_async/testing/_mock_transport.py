"""A transport that answers from a function: unit tests of the request path without a socket.

The sandbox stays the integration oracle (real sockets, the real API's behaviour); this is for
tests of what the client does with answers it is given: retries, errors, timeouts, pacing.

Example::

    from wacr_async.testing import MockTransport, Response

    def handler(request):
        if request.path == "/account":
            return Response.from_json({"success": True, "data": {"id": 1, "name": "Acme"}})
        return Response.from_json({"success": False}, status=404)

    async with wacr.Client("wm_test", transport=MockTransport(handler)) as client:
        account = await client.account.get()
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable

from .._http import Request, Response
from ..errors import ClientClosedError

__all__ = ["Handler", "MockTransport"]

Handler = Callable[[Request], "Response | Awaitable[Response]"]


class MockTransport:
    """Answers each attempt with ``handler(request)`` (plain or async); keeps every request.

    The handler may raise a ``wacr.TransportError`` to stand for a failure on the way
    (``APIConnectionError(..., sent=False)``: refused; ``APITimeoutError(..., sent=True)``:
    lost on the wire).

    Example::

        answers = iter([Response.from_json({}, status=503), Response.from_json(ok)])
        transport = MockTransport(lambda request: next(answers))
        async with wacr.Client("wm_test", transport=transport) as client:
            await client.account.get()            # retried once
        assert len(transport.requests) == 2
    """

    __slots__ = ("_closed", "handler", "requests")

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[Request] = []
        self._closed = False

    def __repr__(self) -> str:
        return f"MockTransport(requests={len(self.requests)})"

    @property
    def closed(self) -> bool:
        return self._closed

    async def send(self, request: Request) -> Response:
        """One attempt: recorded, then answered by the handler."""
        if self._closed:
            raise ClientClosedError("This wacr client is closed; create a new Client")
        self.requests.append(request)
        answer = self.handler(request)
        if inspect.isawaitable(answer):
            answer = await answer
        return answer

    async def aclose(self) -> None:
        self._closed = True
