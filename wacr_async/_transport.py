"""The one module that talks to aiohttp's client: a request in, status/headers/body out.

Everything above this seam deals in :class:`Request` and :class:`Response`; aiohttp's
exceptions are translated here into :class:`~wacr_async.errors.TransportError` subclasses
that say whether the request may have reached the server (``sent``), which is what the retry
rules need to know.

On the session it creates, the transport learns from aiohttp's trace signals the moment a
request gets a connection: before that (waiting for a free connection, resolving, connecting)
nothing of it can have reached the server, whatever ends the attempt. On a session it is
given it cannot add signals, so it counts a request as possibly sent from the moment it is
handed to aiohttp.
"""

from __future__ import annotations

import asyncio
import io
import json
import math
import time
from collections.abc import Mapping, Sequence
from contextvars import ContextVar
from pathlib import Path
from typing import IO, Any

import aiohttp
import attrs

from ._config import Timeout
from ._dispatch import note_answer, note_request_leaving
from .errors import (
    APIConnectionError,
    APITimeoutError,
    ClientClosedError,
    ConfigurationError,
    RequestInfo,
    TransportError,
)

__all__ = ["FilePart", "Request", "Response", "Transport"]

JSON_CONTENT_TYPE = "application/json"


@attrs.frozen(kw_only=True)
class FilePart:
    """A file field of a multipart body: a path (streamed from disk), bytes, or a binary file."""

    content: Path | bytes | IO[bytes]
    filename: str
    content_type: str = "application/octet-stream"


FormField = tuple[str, "str | FilePart"]


@attrs.frozen(kw_only=True, slots=True)
class Request:
    """One HTTP request relative to the base URL. ``params`` keeps order and repeats."""

    method: str
    path: str
    params: Sequence[tuple[str, str]] | None = None
    json: Any = None
    form: Sequence[FormField] | None = None

    @property
    def info(self) -> RequestInfo:
        return RequestInfo(self.method, self.path)


@attrs.frozen(slots=True)
class Response:
    status: int
    headers: Mapping[str, str]
    body: bytes
    elapsed: float

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _no_silent_resends(session: aiohttp.ClientSession) -> None:
    # aiohttp silently resends a GET or DELETE whose reused connection turns out closed,
    # hiding from the retry rules that an attempt may already have taken effect (a batch
    # delete sent twice, a DELETE by id answering 404 for its own first attempt). Retries are
    # decided above this seam only, on a borrowed session too.
    session._retry_connection = False


class _Attempt:
    """One request on its way: whether it has got a connection (and so may be on the wire)."""

    __slots__ = ("connected",)

    def __init__(self) -> None:
        self.connected = False


# Trace signals run in the task making the request, so they find its attempt here.
_attempt: ContextVar[_Attempt | None] = ContextVar("wacr_attempt", default=None)


async def _on_connection(session: aiohttp.ClientSession, context: Any, params: object) -> None:
    attempt = _attempt.get()
    if attempt is not None and not attempt.connected:
        attempt.connected = True
        note_request_leaving()


def _connection_trace() -> aiohttp.TraceConfig:
    """Signals for the moment a request gets a connection, new or reused."""
    trace = aiohttp.TraceConfig()
    trace.on_connection_create_end.append(_on_connection)
    trace.on_connection_reuseconn.append(_on_connection)
    return trace


class Transport:
    """Sends :class:`Request` objects over one aiohttp session (owned or borrowed).

    The session is created lazily on first use, inside the running loop, so a client may be
    constructed anywhere. A borrowed session is never closed here.
    """

    __slots__ = (
        "_base_url",
        "_closed",
        "_connection_limit",
        "_headers",
        "_owns_session",
        "_session",
        "_trace_configs",
    )

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
        if session is not None:
            _no_silent_resends(session)
        self._connection_limit = connection_limit
        self._trace_configs = list(trace_configs) if trace_configs else None
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
            connector = aiohttp.TCPConnector(limit=self._connection_limit)
            session = aiohttp.ClientSession(
                connector=connector,
                trace_configs=[*(self._trace_configs or ()), _connection_trace()],
                json_serialize=_dumps,
            )
            self._session = session
            _no_silent_resends(session)
        elif session.closed:
            raise ClientClosedError("The aiohttp session given to this client has been closed")
        return session

    async def send(self, request: Request, timeouts: Timeout) -> Response:
        """Send ``request`` once; raise a TransportError subclass if no answer arrives."""
        session = self._get_session()
        url = self._base_url + request.path
        client_timeout = _client_timeout(timeouts)
        opened: list[IO[bytes]] = []
        started = time.monotonic()
        attempt = _Attempt() if self._owns_session else None
        failure: BaseException
        try:
            data = None
            if request.form is not None:
                data = await _build_form(request.form, opened)
            if attempt is None:
                note_request_leaving()  # no signals on a borrowed session: assume the worst
            _attempt.set(attempt)
            async with session.request(
                request.method,
                url,
                params=request.params,
                json=request.json if request.form is None else None,
                data=data,
                headers=self._headers,
                timeout=client_timeout,
                allow_redirects=False,
            ) as resp:
                body = await resp.read()
                note_answer(resp.status)
                return Response(resp.status, resp.headers, body, time.monotonic() - started)
        except TransportError:
            raise
        except aiohttp.InvalidURL as exc:
            raise ConfigurationError(f"Invalid request URL for {request.info}") from exc
        except (aiohttp.ClientError, TimeoutError) as exc:
            failure = _failure(exc, request, timeouts, attempt)
        finally:
            _attempt.set(None)
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


def _client_timeout(timeouts: Timeout) -> aiohttp.ClientTimeout:
    """aiohttp's timeouts for one request, arranged so a connect timeout is recognisable.

    A connect timeout proves the request never left, so even a send may be retried. That
    only holds when the connect timer fires first: with ``connect >= total`` the total timer
    would win and the failure would look like a request lost in flight. So the connect phase
    gets slightly less than the total, and deadlines are not rounded to whole seconds (which
    could make the two timers coincide).
    """
    total, connect = timeouts.total, timeouts.connect
    if total is not None and connect is not None and connect >= total:
        connect = total * 0.9
    return aiohttp.ClientTimeout(total=total, sock_connect=connect, ceil_threshold=math.inf)


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
    exc: BaseException, request: Request, timeouts: Timeout, attempt: _Attempt | None
) -> TransportError:
    """The TransportError for an aiohttp failure, saying whether the request may have left."""
    # Without a connection nothing went out; with one (or without signals) it may have.
    maybe_sent = attempt is None or attempt.connected
    info = request.info
    error: TransportError
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        # Raised only while connecting (the connect timeout): nothing was sent.
        error = APITimeoutError(
            f"{info}: timed out connecting to the API after {timeouts.connect} s",
            request=info,
            sent=False,
        )
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
