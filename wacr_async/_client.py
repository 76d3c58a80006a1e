"""The client: settings, the shared request machinery, and one service per API resource."""

from __future__ import annotations

import time
from collections.abc import Sequence
from types import TracebackType
from typing import Any

import aiohttp

from . import _config
from ._config import ClientConfig, RateLimitMode, Timeout
from ._effects import CallTrace, current_trace, effect_of
from ._envelope import decode
from ._logging import RequestLogger, request_id_of
from ._ratelimit import RateLimiter, RateLimitState
from ._retry import Safety, call_with_retries
from ._transport import FormField, Request, Response, Transport
from .batch import BatchService
from .errors import (
    ClientClosedError,
    OutcomeUnknownError,
    RateLimitError,
    TransportError,
    error_from_response,
)
from .resources.account import AccountService
from .resources.comments import CommentsService
from .resources.contacts import ContactsService
from .resources.groups import GroupsService
from .resources.messages import MessagesService
from .resources.otp import OTPService
from .resources.sources import SourcesService
from .resources.statuses import StatusesService
from .resources.templates import TemplatesService
from .resources.tokens import TokensService

__all__ = ["Client"]

_UNSET: Any = object()


class _Core:
    """What a client and all its ``with_options`` views share: transport, limiter, settings."""

    __slots__ = ("config", "limiter", "log", "transport")

    def __init__(self, config: ClientConfig, transport: Transport, limiter: RateLimiter) -> None:
        self.config = config
        self.transport = transport
        self.limiter = limiter
        self.log = RequestLogger(log_bodies=config.log_bodies, token=config.token)


class Client:
    """An asyncio client for the WA.cr APP API v2; one per process, shared by all tasks.

    The token comes from ``token`` or ``WACR_TOKEN``, the base URL from ``base_url`` or
    ``WACR_BASE_URL`` (default ``https://app.wa.cr/api/v2``). The client owns its aiohttp
    session unless one is passed in, in which case it never closes it (it does turn off
    aiohttp's silent resend of a GET or DELETE on a closed keep-alive connection there, so
    that no request is repeated behind the retry rules).

    ``timeout`` (seconds, or ``wacr.Timeout(total=…, connect=…)``) and ``max_retries``
    (default 2) apply to every call and can be changed per call with :meth:`with_options`.
    ``rate_limit`` paces requests: ``"auto"`` follows the server's ``X-RateLimit-*``
    headers, ``"off"`` does not pace, an integer is a fixed calls-per-minute pace; a 429
    always holds the whole client for the server's ``Retry-After``. ``log_bodies=True``
    adds request and response bodies (phones masked) to the DEBUG log of the
    ``wacr_async`` logger; ``trace_configs`` go to the aiohttp session the client creates
    (OpenTelemetry's aiohttp instrumentation plugs in there).

    Example::

        async with wacr.Client(token="wm_…") as client:
            account = await client.account.get()
            async for contact in client.contacts.list(per_page=100):
                ...
    """

    __slots__ = (
        "_core",
        "_is_view",
        "_max_retries",
        "_timeout",
        "account",
        "batch",
        "comments",
        "contacts",
        "groups",
        "messages",
        "otp",
        "sources",
        "statuses",
        "templates",
        "tokens",
    )

    account: AccountService
    batch: BatchService
    comments: CommentsService
    contacts: ContactsService
    groups: GroupsService
    messages: MessagesService
    otp: OTPService
    sources: SourcesService
    statuses: StatusesService
    templates: TemplatesService
    tokens: TokensService

    def __init__(
        self,
        token: str | None = None,
        *,
        base_url: str | None = None,
        timeout: float | Timeout = 30.0,
        max_retries: int = 2,
        session: aiohttp.ClientSession | None = None,
        rate_limit: RateLimitMode = "auto",
        connection_limit: int = 100,
        trace_configs: Sequence[aiohttp.TraceConfig] | None = None,
        user_agent: str | None = None,
        log_bodies: bool = False,
    ) -> None:
        config = ClientConfig(
            token=_config.resolve_token(token),
            base_url=_config.resolve_base_url(base_url),
            timeout=Timeout.coerce(timeout),
            max_retries=_config.check_max_retries(max_retries),
            rate_limit=_config.check_rate_limit(rate_limit),
            user_agent=user_agent or _config.default_user_agent(),
            connection_limit=connection_limit,
            log_bodies=log_bodies,
        )
        transport = Transport(
            base_url=config.base_url,
            token=config.token,
            user_agent=config.user_agent,
            session=session,
            connection_limit=config.connection_limit,
            trace_configs=trace_configs,
        )
        self._setup(_Core(config, transport, RateLimiter(config.rate_limit)), None, None, False)

    def _setup(
        self, core: _Core, timeout: Timeout | None, max_retries: int | None, is_view: bool
    ) -> None:
        self._core = core
        self._timeout = timeout or core.config.timeout
        self._max_retries = core.config.max_retries if max_retries is None else max_retries
        self._is_view = is_view
        self.account = AccountService(self)
        self.batch = BatchService(self)
        self.comments = CommentsService(self)
        self.contacts = ContactsService(self)
        self.groups = GroupsService(self)
        self.messages = MessagesService(self)
        self.otp = OTPService(self)
        self.sources = SourcesService(self)
        self.statuses = StatusesService(self)
        self.templates = TemplatesService(self)
        self.tokens = TokensService(self)

    def with_options(
        self,
        *,
        timeout: float | Timeout | None = _UNSET,
        max_retries: int | None = None,
    ) -> Client:
        """A lightweight view with other per-call settings, sharing session and limiter.

        ``timeout`` is seconds for the whole call (``wacr.Timeout(total=…, connect=…)`` sets
        both; None removes the total limit); ``max_retries`` bounds the retries of each call
        made through the view (0 turns automatic retries off). Anything not given is kept.
        The view paces through the same rate limiter as its client. Closing a view does
        nothing; close the client it came from.

        Example::

            patient = client.with_options(timeout=120, max_retries=5)
            await patient.templates.sync()
            quick = client.with_options(timeout=wacr.Timeout(total=10, connect=2))
            await quick.messages.send_text(phone="+15550001111", message="Hi")
        """
        view = object.__new__(Client)
        new_timeout = self._timeout if timeout is _UNSET else Timeout.coerce(timeout)
        retries = (
            self._max_retries if max_retries is None else _config.check_max_retries(max_retries)
        )
        view._setup(self._core, new_timeout, retries, True)
        return view

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"<wacr_async.Client base_url={self._core.config.base_url!r} {state}>"

    @property
    def base_url(self) -> str:
        return self._core.config.base_url

    @property
    def closed(self) -> bool:
        return self._core.transport.closed

    @property
    def rate_limit(self) -> RateLimitState:
        """The latest rate-limit state the server reported (limit, remaining, reset)."""
        return self._core.limiter.state

    async def __aenter__(self) -> Client:
        if self.closed:
            raise ClientClosedError("This wacr client is closed; create a new Client")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the client and the session it owns. Safe to call more than once."""
        if not self._is_view:
            await self._core.transport.aclose()

    async def _request(
        self,
        method: str,
        path: str,
        *,
        safety: Safety,
        params: Sequence[tuple[str, str]] | None = None,
        json: Any = None,
        form: Sequence[FormField] | None = None,
    ) -> Any:
        """Send one API call through pacing and retries; return the decoded JSON body.

        Each attempt waits for the limiter, is sent once, teaches the limiter from the
        answer's headers, and is mapped to a result or a typed error; the retry rules of
        ``_retry`` (by ``safety``) decide whether another attempt follows.
        """
        core = self._core
        if core.transport.closed:
            raise ClientClosedError("This wacr client is closed; create a new Client")
        timeout = self._timeout
        trace = current_trace() or CallTrace()
        request = Request(
            method=method,
            path=path,
            params=params,
            json=json,
            form=form,
            timeout=timeout,
            trace=trace,
        )
        transport = core.transport
        marks_leaving = not getattr(transport, "reports_leaving", False)
        limiter = core.limiter
        log = core.log
        sent_body = log.request_body(json, form) if log.enabled else None
        attempts = 0
        # True once an attempt may have taken effect without a clean answer.
        maybe_applied = False
        # Set by a 429 that only this call must wait out (None: back off; 0: the limiter
        # already holds every request of the client until the window reopens).
        own_wait: float | None = None

        def log_answer(response: Response, request_id: str | None) -> None:
            log.response(
                method,
                path,
                params,
                response.status,
                response.elapsed,
                attempts,
                request_id,
                sent_body=sent_body,
                body=response.body,
            )

        async def attempt() -> Any:
            nonlocal attempts, own_wait, maybe_applied
            attempts += 1
            own_wait = None
            slot = await limiter.acquire()
            before_send = trace.take_before_send()
            if before_send is not None:
                try:
                    await before_send()
                except BaseException:
                    limiter.finish(slot)  # nothing left: the slot goes back uncounted
                    raise
            started = time.monotonic()
            try:
                if marks_leaving:
                    trace.leaving()
                response = await transport.send(request)
            except TransportError as exc:
                limiter.finish(slot, maybe_counted=exc.sent)
                maybe_applied = maybe_applied or exc.sent
                if log.enabled:
                    elapsed = time.monotonic() - started
                    log.failure(method, path, params, exc, elapsed, attempts, sent_body=sent_body)
                if exc.sent and safety == "unsafe":
                    raise OutcomeUnknownError(
                        f"{request.info}: the request went out but no answer came back "
                        f"({type(exc).__name__}); not retried because it may have taken effect",
                        request=request.info,
                    ) from exc
                raise
            except BaseException:  # cancelled: it may have gone out all the same
                limiter.finish(slot, maybe_counted=True)
                raise
            trace.status = response.status

            if response.status >= 300:
                error = error_from_response(response.status, response.body, response.headers)
                rate_limited = isinstance(error, RateLimitError)
                hit = limiter.finish(
                    slot,
                    response.status,
                    response.headers,
                    retry_after=error.retry_after if rate_limited else None,
                )
                if rate_limited and hit is not None:
                    if error.retry_after is None:
                        error.retry_after = hit.wait
                    own_wait = 0.0 if hit.shared else hit.wait
                if log.enabled:
                    log_answer(response, error.request_id or request_id_of(None, response.headers))
                if response.status == 404 and method == "DELETE" and maybe_applied:
                    # An earlier attempt of this DELETE went through: the thing is gone.
                    return None
                maybe_applied = maybe_applied or effect_of(error, left=True) == "maybe"
                raise error

            limiter.finish(slot, response.status, response.headers)
            payload: Any = None
            try:
                payload = decode(response)
            finally:
                if log.enabled:
                    log_answer(response, request_id_of(payload, response.headers))
            return payload

        def on_retry(exc: BaseException, wait: float) -> None:
            if log.enabled:
                log.retry(method, path, exc, wait, attempts + 1)

        return await call_with_retries(
            attempt,
            safety=safety,
            max_retries=self._max_retries,
            rate_limit_wait=lambda _exc: own_wait,
            on_retry=on_retry,
        )
