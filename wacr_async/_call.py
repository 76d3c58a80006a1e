"""One API call on its way: a permit from the limiter, attempts through the transport, the answer.

Each attempt waits for a permit on the call's lane (never past the call's deadline), runs the
trace's ``before_send`` hook the first time, hands the request to the transport, tells the
limiter what came back, and turns the answer into the decoded body or a typed error. The
retry loop of ``_retry`` decides whether another attempt follows.

Example::

    core = CallCore(config, transport, limiter)
    payload = await core.call(request, safety="read", max_retries=2, lane=limiter.lane())
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from typing import Any, Protocol

from ._config import ClientConfig
from ._effects import CallTrace, effect_of
from ._envelope import decode
from ._http import Request, Response
from ._logging import RequestLogger, request_id_of
from ._pacing import Lane, Permit, RateLimiter
from ._retry import Safety, call_with_retries
from .errors import (
    APITimeoutError,
    OutcomeUnknownError,
    RateLimitError,
    TransportError,
    WacrError,
    error_from_response,
)

__all__ = ["CallCore", "Sender"]


class Sender(Protocol):
    """The transport seam: one attempt of a request in, its answer out."""

    async def send(self, request: Request) -> Response: ...

    async def aclose(self) -> None: ...


class CallCore:
    """What a client and all its views share: settings, transport, limiter, logger."""

    __slots__ = ("config", "limiter", "log", "marks_leaving", "owns_limiter", "transport")

    def __init__(
        self,
        config: ClientConfig,
        transport: Sender,
        limiter: RateLimiter,
        *,
        owns_limiter: bool = True,
    ) -> None:
        self.config = config
        self.transport = transport
        self.limiter = limiter
        self.owns_limiter = owns_limiter
        self.log = RequestLogger(log_bodies=config.log_bodies, token=config.token)
        # The aiohttp transport reports the moment a request may leave; for any other the
        # handover itself counts.
        self.marks_leaving = not getattr(transport, "reports_leaving", False)

    async def aclose(self) -> None:
        """Close the transport, and the limiter if it is this client's own."""
        try:
            await self.transport.aclose()
        finally:
            if self.owns_limiter:
                await self.limiter.aclose()

    def call(
        self, request: Request, *, safety: Safety, max_retries: int, lane: Lane
    ) -> Awaitable[Any]:
        """Send ``request`` under the retry rules; the decoded JSON body of its answer.

        A plain function returning the retry loop's coroutine: one frame less per call.
        """
        call = _Call(self, request, lane, safety)
        return call_with_retries(
            call.attempt,
            safety=safety,
            max_retries=max_retries,
            deadline=request.deadline,
            on_retry=call.log_retry if call.logging else None,
        )


class _Call:
    """The state one call's attempts share."""

    __slots__ = (
        "attempts",
        "core",
        "lane",
        "logging",
        "maybe_applied",
        "request",
        "safety",
        "sent_body",
    )

    def __init__(self, core: CallCore, request: Request, lane: Lane, safety: Safety) -> None:
        self.core = core
        self.safety = safety
        self.request = request
        self.lane = lane
        self.attempts = 0
        # True once an attempt may have taken effect without a clean answer.
        self.maybe_applied = False
        log = core.log
        self.logging = log.enabled  # asked once per call: a logger lookup is not free
        self.sent_body = log.request_body(request.json, request.form) if self.logging else None

    async def attempt(self) -> Any:
        core = self.core
        request = self.request
        trace = request.trace
        limiter = core.limiter
        self.attempts += 1
        permit = await limiter.acquire(self.lane, deadline=request.deadline)
        try:
            if request.deadline is not None:
                _check_budget(request)
            before_send = trace.take_before_send()
            if before_send is not None:
                await before_send()
        except BaseException:
            limiter.release(permit)  # nothing left: the slot goes back uncounted
            raise
        started = time.monotonic()
        try:
            if core.marks_leaving:
                trace.leaving()
            response = await core.transport.send(request)
        except TransportError as exc:
            await self._no_answer(permit, exc, time.monotonic() - started)
            if exc.sent and self.safety == "unsafe":
                info = request.info
                raise OutcomeUnknownError(
                    f"{info}: the request went out but no answer came back "
                    f"({type(exc).__name__}); not retried because it may have taken effect",
                    request=info,
                ) from exc
            raise
        except BaseException:  # cancelled: it may have gone out all the same
            await self._gone(permit, trace)
            raise
        trace.status = status = response.status
        if status >= 300:
            return await self._refused(permit, response)
        await limiter.record(permit, status=status, headers=response.headers)
        payload: Any = None
        try:
            payload = decode(response)
        finally:
            if self.logging:
                self._log_answer(response, request_id_of(payload, response.headers))
        return payload

    async def _refused(self, permit: Permit, response: Response) -> Any:
        """An error status: learn from it, then raise it (or, rarely, take it as done)."""
        request = self.request
        status = response.status
        error = error_from_response(status, response.body, response.headers)
        hit = await self.core.limiter.record(
            permit,
            status=status,
            headers=response.headers,
            retry_after=error.retry_after if isinstance(error, RateLimitError) else None,
        )
        if isinstance(error, RateLimitError) and hit is not None:
            error = _judged(error, hit.wait, hit.shared)
        if self.logging:
            self._log_answer(response, error.request_id or request_id_of(None, response.headers))
        if status == 404 and request.method == "DELETE" and self.maybe_applied:
            return None  # an earlier attempt of this DELETE went through: the thing is gone
        self.maybe_applied = self.maybe_applied or effect_of(error, left=True) == "maybe"
        raise error

    async def _no_answer(self, permit: Permit, exc: TransportError, elapsed: float) -> None:
        core = self.core
        if exc.sent:
            self.maybe_applied = True
            await core.limiter.record(permit, status=None, headers=None)
        else:
            core.limiter.release(permit)
        if self.logging:
            request = self.request
            core.log.failure(
                request.method,
                request.path,
                request.params,
                exc,
                elapsed,
                self.attempts,
                sent_body=self.sent_body,
            )

    async def _gone(self, permit: Permit, trace: CallTrace) -> None:
        limiter = self.core.limiter
        if trace.left:
            await limiter.record(permit, status=None, headers=None)
        else:
            limiter.release(permit)

    def _log_answer(self, response: Response, request_id: str | None) -> None:
        request = self.request
        self.core.log.response(
            request.method,
            request.path,
            request.params,
            response.status,
            response.elapsed,
            self.attempts,
            request_id,
            sent_body=self.sent_body,
            body=response.body,
        )

    def log_retry(self, error: WacrError, wait: float, next_attempt: int) -> None:
        request = self.request
        self.core.log.retry(request.method, request.path, error, wait, next_attempt)


def _check_budget(request: Request) -> None:
    """Before an attempt: is any of the call's time left?"""
    deadline = request.deadline
    assert deadline is not None
    if asyncio.get_running_loop().time() >= deadline:
        raise APITimeoutError(
            f"{request.info}: the call's {request.timeout.total} s ran out before this "
            "attempt could be sent",
            request=request.info,
            sent=False,
        )


def _judged(error: RateLimitError, wait: float | None, shared: bool) -> RateLimitError:
    """The 429 as the limiter judged it: the wait (the server's, else its estimate), shared."""
    return type(error)(
        error.message,
        status=error.status,
        code=error.code,
        details=error.details,
        request_id=error.request_id,
        retry_after=error.retry_after if error.retry_after is not None else wait,
        body_snippet=error.body_snippet,
        shared=shared,
    )
