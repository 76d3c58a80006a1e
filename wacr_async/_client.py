"""The client: settings, the shared request machinery, and one service per API resource."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from types import TracebackType
from typing import Any

import aiohttp

from . import _config
from ._call import CallCore, Sender
from ._config import ClientConfig, RateLimitMode, Timeout
from ._effects import CallTrace, current_trace
from ._http import FormField, Request
from ._pacing import Lane, Priority, RateLimiter, RateLimitState, limiter_for
from ._retry import Safety
from ._transport import Transport
from .batch import BatchService
from .errors import ClientClosedError, ConfigurationError
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


class _Unset:
    """The default of an option that was not given (shown as such in ``help()``)."""

    def __repr__(self) -> str:
        return "<unchanged>"


_UNSET: Any = _Unset()


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
        "_lane",
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
        rate_limiter: RateLimiter | None = None,
        transport: Sender | None = None,
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
        if transport is None:
            transport = Transport(
                base_url=config.base_url,
                token=config.token,
                user_agent=config.user_agent,
                session=session,
                connection_limit=config.connection_limit,
                trace_configs=trace_configs,
            )
        elif session is not None or trace_configs:
            raise ConfigurationError("pass either transport= or session=/trace_configs=, not both")
        limiter = rate_limiter or limiter_for(config.rate_limit)
        # A limiter passed in may pace other clients too: closing this one leaves it be.
        core = CallCore(config, transport, limiter, owns_limiter=rate_limiter is None)
        self._setup(core, config.timeout, config.max_retries, limiter.lane(), False)

    def _setup(
        self, core: CallCore, timeout: Timeout, max_retries: int, lane: Lane, is_view: bool
    ) -> None:
        self._core = core
        self._timeout = timeout
        self._max_retries = max_retries
        self._lane = lane
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
        priority: Priority | None = None,
    ) -> Client:
        """A lightweight view with other per-call settings, sharing session and limiter.

        ``timeout`` is seconds for the whole call (``wacr.Timeout(total=…, connect=…)`` sets
        both; None removes the total limit); ``max_retries`` bounds the retries of each call
        made through the view (0 turns automatic retries off); ``priority`` ("high",
        "normal" or "low") places the view's calls in the rate limiter's queue: "high" goes
        before any queued normal or batch work. Anything not given is kept. The view paces
        through the same rate limiter as its client. Closing a view does nothing; close the
        client it came from.

        Example::

            patient = client.with_options(timeout=120, max_retries=5)
            await patient.templates.sync()
            otp = client.with_options(priority="high", timeout=8)
            await otp.otp.send(phone="+15550001111", template_name="login", language="en")
        """
        new_timeout = self._timeout if timeout is _UNSET else Timeout.coerce(timeout)
        retries = (
            self._max_retries if max_retries is None else _config.check_max_retries(max_retries)
        )
        lane = self._lane
        if priority is not None:
            if priority not in ("high", "normal", "low"):
                raise ConfigurationError(
                    f"priority must be 'high', 'normal' or 'low', got {priority!r}"
                )
            lane = self._core.limiter.lane(priority=priority, share=lane.share)
        return self._view(new_timeout, retries, lane)

    def _with_lane(self, lane: Lane | None = None) -> Client:
        """A view for bulk work whose calls pace on ``lane`` (default: this view's lane).

        Bulk items queue at the rate limiter for as long as their lane needs (a spent window
        is waited out, not failed): in this view the timeout bounds each attempt, the
        client's total becoming the per-attempt read limit, rather than the wait for a turn.
        Make a lane with :meth:`_new_lane` (a batch run's priority and share).
        """
        timeout = self._timeout
        read = timeout.read if timeout.read is not None else timeout.total
        per_attempt = Timeout(total=None, connect=timeout.connect, pool=timeout.pool, read=read)
        return self._view(per_attempt, self._max_retries, lane or self._lane)

    def _new_lane(self, *, priority: Priority = "low", share: float | None = None) -> Lane:
        """A lane on this client's rate limiter (for :meth:`_with_lane`)."""
        return self._core.limiter.lane(priority=priority, share=share)

    def _view(self, timeout: Timeout, max_retries: int, lane: Lane) -> Client:
        view = object.__new__(Client)
        view._setup(self._core, timeout, max_retries, lane, True)
        return view

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"<wacr_async.Client base_url={self._core.config.base_url!r} {state}>"

    @property
    def base_url(self) -> str:
        return self._core.config.base_url

    @property
    def closed(self) -> bool:
        return bool(getattr(self._core.transport, "closed", False))

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
            await self._core.aclose()

    def _request(
        self,
        method: str,
        path: str,
        *,
        safety: Safety,
        params: Sequence[tuple[str, str]] | None = None,
        json: Any = None,
        form: Sequence[FormField] | None = None,
    ) -> Awaitable[Any]:
        """Send one API call through pacing and retries; await it for the decoded JSON body.

        The whole call, waits at the rate limiter and between retries included, runs against
        one deadline (``timeout.total`` from now). A plain function handing back the call's
        coroutine: one frame less on every call's way down and back.
        """
        core = self._core
        if self.closed:
            raise ClientClosedError("This wacr client is closed; create a new Client")
        timeout = self._timeout
        total = timeout.total
        deadline = None if total is None else asyncio.get_running_loop().time() + total
        request = Request(
            method=method,
            path=path,
            params=params,
            json=json,
            form=form,
            timeout=timeout,
            deadline=deadline,
            trace=current_trace() or CallTrace(),
        )
        return core.call(request, safety=safety, max_retries=self._max_retries, lane=self._lane)
