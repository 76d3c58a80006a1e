"""The one module that talks to aiohttp's client: a request in, status/headers/body out.

Everything above this seam deals in :class:`Request` and :class:`Response`; any object with
``async send(request) -> Response`` and ``async aclose()`` can stand in for
:class:`Transport` (``wacr.testing.MockTransport`` does, for tests without a socket).
aiohttp's exceptions are translated here into :class:`~wacr_async.errors.TransportError`
subclasses that say whether the request may have reached the server (``sent``), which is
what the retry rules need to know.

On the session it creates, the transport's connector tells it the moment a request gets a
connection: before that (waiting for a free connection, resolving, connecting) nothing of it
can have reached the server, whatever ends the attempt. A session it is given has its own
connector, so it counts a request as possibly sent from the moment it is handed to aiohttp.
Either way it reports the moment to the call's :class:`~wacr_async._effects.CallTrace`.

Whatever the session's own settings, every request is sent with ``raise_for_status=False``,
without redirects and without the session's middlewares: the answer's status is judged above
this seam only, and a redirect is an error (a wrong ``base_url``), never followed.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import io
import math
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import IO, Any

import aiohttp

from ._config import Timeout
from ._effects import CallTrace
from ._http import JSON_CONTENT_TYPE, FilePart, FormField, Request, Response, dumps
from .errors import (
    APIConnectionError,
    APITimeoutError,
    ClientClosedError,
    ConfigurationError,
    TransportError,
)

# The seam's values are defined in _http; imported from here too for the services.
__all__ = ["FilePart", "FormField", "Request", "Response", "Transport"]


def _no_silent_resends(session: aiohttp.ClientSession) -> None:
    # aiohttp silently resends a GET or DELETE whose reused connection turns out closed,
    # hiding from the retry rules that an attempt may already have taken effect (a batch
    # delete sent twice, a DELETE by id answering 404 for its own first attempt). Retries are
    # decided above this seam only. Only on the client's own session: a borrowed one is
    # protected per request by _refuse_resend instead.
    if not hasattr(session, "_retry_connection"):
        raise RuntimeError(
            "aiohttp.ClientSession has no _retry_connection any more: wacr-async cannot turn "
            "off its silent resends; pin aiohttp to a release this version supports"
        )
    session._retry_connection = False


# Per-request middlewares arrived in aiohttp 3.12. Passing them replaces the session's.
_HAS_MIDDLEWARES = "middlewares" in inspect.signature(aiohttp.ClientSession._request).parameters


class _ResendRefused(aiohttp.ClientConnectionError):
    """The connection broke under a request; raised instead so aiohttp does not resend it."""


async def _refuse_resend(
    request: aiohttp.ClientRequest, handler: Callable[[aiohttp.ClientRequest], Awaitable[Any]]
) -> Any:
    # aiohttp resends an idempotent request when its reused connection breaks, unless the
    # error is of another kind: this keeps a borrowed session's resend off for our requests
    # only (connect failures are not resent anyway and keep their meaning: nothing sent).
    try:
        return await handler(request)
    except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError):
        raise
    except (aiohttp.ClientOSError, aiohttp.ServerDisconnectedError) as exc:
        raise _ResendRefused(str(exc)) from exc


class _Wire:
    """One attempt on its way: whether it has got a connection (and so may be on the wire)."""

    __slots__ = ("connected", "trace")

    def __init__(self, trace: CallTrace) -> None:
        self.connected = False
        self.trace = trace

    def leaving(self) -> None:
        if not self.connected:
            self.connected = True
            self.trace.leaving()


class _Connector(aiohttp.TCPConnector):
    """A TCP connector that tells the attempt waiting for a connection when it got one.

    Attempts are found by the task making them: aiohttp connects inside the caller's task.
    (Not a context variable: every timer aiohttp sets during the attempt would keep a copy of
    the changed context alive until the timer is purged, piling up objects for the garbage
    collector. Not aiohttp's trace signals either, which run its whole tracing machinery on
    every request.)
    """

    def __init__(self, *, limit: int) -> None:
        super().__init__(limit=limit)
        self.attempts: dict[asyncio.Task[Any] | None, _Wire] = {}

    # aiohttp's own signature, timeout parameter included.
    async def connect(
        self,
        req: aiohttp.ClientRequest,
        traces: list[Any],
        timeout: aiohttp.ClientTimeout,  # noqa: ASYNC109
    ) -> Any:
        connection = await super().connect(req, traces, timeout)
        wire = self.attempts.get(asyncio.current_task())
        if wire is not None:
            wire.leaving()
        return connection


class Transport:
    """Sends :class:`Request` objects over one aiohttp session (owned or borrowed).

    The session is created lazily on first use, inside the running loop, so a client may be
    constructed anywhere. A borrowed session is never closed here.
    """

    __slots__ = (
        "_base_url",
        "_closed",
        "_connection_limit",
        "_connector",
        "_headers",
        "_options",
        "_owns_session",
        "_session",
        "_trace_configs",
    )

    # The client need not mark requests as leaving: this transport does it, precisely.
    reports_leaving = True

    def __init__(
        self,
        *,
        base_url: str,
        token: str,
        user_agent: str,
        session: aiohttp.ClientSession | None = None,
        connection_limit: int = 100,
        trace_configs: Sequence[aiohttp.TraceConfig] | None = None,
    ) -> None:
        self._base_url = base_url
        self._headers = {
            "Authorization": f"Bearer {token}",
            "Accept": JSON_CONTENT_TYPE,
            "User-Agent": user_agent,
        }
        self._session = session
        self._owns_session = session is None
        # Options every request passes, so that no session setting changes what an answer
        # means: no raise_for_status, no redirects, no middlewares (but our resend guard on
        # a borrowed session, whose silent resends we may not turn off for the caller).
        options: dict[str, Any] = {"raise_for_status": False, "allow_redirects": False}
        if session is not None:
            # A borrowed session has its own default headers: ours go with each request.
            # The owned session carries them as its defaults, which spares aiohttp merging
            # two header sets on every request.
            options["headers"] = self._headers
        if _HAS_MIDDLEWARES:
            options["middlewares"] = () if session is None else (_refuse_resend,)
        self._options = options
        self._connection_limit = connection_limit
        self._trace_configs = list(trace_configs) if trace_configs else None
        self._connector: _Connector | None = None
        self._closed = False

    def __repr__(self) -> str:
        return f"Transport(base_url={self._base_url!r}, owns_session={self._owns_session})"

    @property
    def closed(self) -> bool:
        return self._closed

    def _get_session(self) -> aiohttp.ClientSession:
        if self._closed:
            raise ClientClosedError("This wacr client is closed; create a new Client")
        session = self._session
        if session is None:
            connector = self._connector = _Connector(limit=self._connection_limit)
            session = aiohttp.ClientSession(
                connector=connector,
                headers=self._headers,
                trace_configs=self._trace_configs,
                json_serialize=dumps,
            )
            self._session = session
            _no_silent_resends(session)
        elif session.closed:
            raise ClientClosedError("The aiohttp session given to this client has been closed")
        return session

    async def send(self, request: Request) -> Response:
        """Send ``request`` once; raise a TransportError subclass if no answer arrives."""
        session = self._get_session()
        loop = asyncio.get_running_loop()
        started = loop.time()
        timeouts = _attempt_timeouts(request, started)
        opened: list[IO[bytes]] = []
        wire = _Wire(request.trace)
        connector = self._connector
        # One attempt per task at a time: a task awaits its send before making another.
        # (None, for a coroutine driven outside any task, is such a sequence too.)
        task = asyncio.current_task()
        if connector is not None:
            connector.attempts[task] = wire
        failure: BaseException
        try:
            data = None
            if request.form is not None:
                data = await _build_form(request.form, opened)
            if not self._owns_session:
                wire.leaving()  # no connector of ours on a borrowed session: assume the worst
            async with session.request(
                request.method,
                self._base_url + request.path,
                params=request.params,
                json=request.json if request.form is None else None,
                data=data,
                timeout=_client_timeout(timeouts),
                **self._options,
            ) as resp:
                body = await resp.read()
                return Response(resp.status, resp.headers, body, loop.time() - started)
        except TransportError:
            raise
        except aiohttp.InvalidURL as exc:
            raise ConfigurationError(f"Invalid request URL for {request.info}") from exc
        except (aiohttp.ClientError, TimeoutError) as exc:
            failure = _failure(exc, request, timeouts, wire.connected)
        finally:
            if connector is not None:
                connector.attempts.pop(task, None)
            for handle in opened:
                handle.close()
        # Raised here, outside the handler, so that the aiohttp error is not chained as
        # context: some carry the request's headers, the token among them.
        raise failure

    async def aclose(self) -> None:
        """Close the owned session (idempotent). Later sends raise ClientClosedError."""
        self._closed = True
        session, self._session = self._session, None
        if session is not None and self._owns_session and not session.closed:
            # Shield so that a cancellation arriving mid-close still lets the connector close.
            await asyncio.shield(session.close())


def _attempt_timeouts(request: Request, now: float) -> Timeout:
    """The timeouts of one attempt: the call's parts, the total cut to what the call has left."""
    timeout = request.timeout
    deadline = request.deadline
    if deadline is None:
        return timeout
    left = max(deadline - now, 0.001)
    total = timeout.total
    # A first attempt starts microseconds after its deadline was set: within that slack it
    # keeps the call's own timeouts (and their cached aiohttp form) rather than new ones.
    if total is not None and total - left <= _SLACK:
        return timeout
    return Timeout(total=left, connect=timeout.connect, pool=timeout.pool, read=timeout.read)


# How far past its deadline an attempt may end rather than build fresh timeouts (seconds).
_SLACK = 0.005


@functools.lru_cache(maxsize=64)
def _client_timeout(timeouts: Timeout) -> aiohttp.ClientTimeout:
    """aiohttp's timeouts for one request, arranged so a connect timeout is recognisable.

    A connect timeout proves the request never left, so even a send may be retried. That
    only holds when the connect timer fires first: with ``connect >= total`` the total timer
    would win and the failure would look like a request lost in flight. So the connect phase
    gets slightly less than the total, and deadlines are not rounded to whole seconds (which
    could make the two timers coincide).
    """
    total, connect, pool = timeouts.total, timeouts.connect, timeouts.pool
    if total is not None and connect is not None and connect >= total:
        connect = total * 0.9
    if total is not None and pool is not None and pool >= total:
        pool = total * 0.9
    # aiohttp's "connect" is the wait for a pooled connection plus making a new one.
    acquire = None if pool is None else pool + (connect or 0.0)
    return aiohttp.ClientTimeout(
        total=total,
        connect=acquire,
        sock_connect=connect,
        sock_read=timeouts.read,
        ceil_threshold=math.inf,
    )


async def _build_form(fields: Sequence[FormField], opened: list[IO[bytes]]) -> aiohttp.FormData:
    form = aiohttp.FormData(quote_fields=False, default_to_multipart=True)
    loop = asyncio.get_running_loop()
    for name, value in fields:
        if isinstance(value, str):
            form.add_field(name, value)
            continue
        content = value.content
        payload: IO[bytes] | bytes
        if isinstance(content, Path):
            # Opened off the loop and streamed by aiohttp in chunks, never read whole.
            handle = await loop.run_in_executor(None, content.open, "rb")
            opened.append(handle)
            payload = handle
        elif isinstance(content, bytes | bytearray | memoryview):
            payload = bytes(content)
        else:
            if content.seekable():
                await loop.run_in_executor(None, content.seek, 0)
            payload = content
        if isinstance(payload, bytes):
            payload = io.BytesIO(payload)
        form.add_field(name, payload, filename=value.filename, content_type=value.content_type)
    return form


def _failure(
    exc: BaseException, request: Request, timeouts: Timeout, maybe_sent: bool
) -> TransportError:
    """The TransportError for an aiohttp failure, saying whether the request may have left.

    ``maybe_sent``: the attempt got a connection (or, on a borrowed session, was handed over).
    """
    if isinstance(exc, _ResendRefused) and exc.__cause__ is not None:
        exc = exc.__cause__
    info = request.info
    error: TransportError
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        # Raised only while waiting for or making a connection: nothing was sent.
        limit = (
            f"no free connection within {timeouts.pool} s"
            if timeouts.pool is not None
            else f"timed out connecting to the API after {timeouts.connect} s"
        )
        error = APITimeoutError(f"{info}: {limit}", request=info, sent=False)
    elif isinstance(exc, aiohttp.ClientConnectorError):
        # Refused, unreachable, DNS or TLS handshake failure: nothing reached the server.
        error = APIConnectionError(
            f"{info}: cannot connect to the API ({exc.os_error})", request=info, sent=False
        )
    elif isinstance(exc, aiohttp.ServerTimeoutError):
        error = APITimeoutError(
            f"{info}: the API stopped answering ({type(exc).__name__})",
            request=info,
            sent=maybe_sent,
        )
    elif isinstance(exc, aiohttp.ClientConnectionError | aiohttp.ClientPayloadError):
        # Once connected the request may have reached the server (even a dropped keep-alive
        # connection cannot be told apart from a drop after processing).
        error = APIConnectionError(
            f"{info}: the connection broke before an answer arrived ({type(exc).__name__})",
            request=info,
            sent=maybe_sent,
        )
    elif isinstance(exc, aiohttp.ClientError):
        error = APIConnectionError(
            f"{info}: the answer could not be read ({type(exc).__name__}: {exc})",
            request=info,
            sent=maybe_sent,
        )
    else:
        # The total timeout fires wherever the request is: waiting for a connection
        # (nothing sent) or on the wire (it may have gone out).
        where = "on the wire" if maybe_sent else "before a connection was free"
        error = APITimeoutError(
            f"{info}: no answer within {timeouts.total} s ({where})",
            request=info,
            sent=maybe_sent,
        )
    if not isinstance(exc, aiohttp.ClientResponseError):
        # Chained for debugging, except errors that hold the request's headers (the token).
        error.__cause__ = exc
    return error
