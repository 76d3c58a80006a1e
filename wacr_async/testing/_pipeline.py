"""The aiohttp application and the per-request pipeline every API route goes through.

One closure per route (no middleware, no lookups by path at request time):

1. count the hit (``sandbox.hits[route.key]``), whatever happens next;
2. injected faults decided for this request: latency, then a 5xx or a dropped connection
   *before* processing;
3. bearer token → 401 ``UNAUTHORIZED`` (or the detailed codes), IP binding → 403;
4. the per-token rate limiter → 429 (its headers go on every later response too);
5. scope → 403 ``INSUFFICIENT_SCOPE``;
6. the handler;
7. injected faults *after* processing: a 5xx replacing the answer, or a dropped connection.

Unknown routes and wrong methods get Laravel's bare ``{"message": …}`` 404/405.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable

from aiohttp import web

from ._clock import Clock
from ._envelope import ApiError, RawError, error_response, json_response
from ._faults import Faults
from ._input import ROUTE_KEY
from ._ratelimit import ApiRateLimiter
from ._routes import HANDLERS, Handler, Route
from ._state import State
from ._webhooks import inbound_route

__all__ = ["API_PREFIX", "Access", "build_app"]

logger = logging.getLogger("wacr_async.testing")

API_PREFIX = "/api/v2"
_MAX_BODY = 64 * 1024 * 1024  # JSON bodies; multipart uploads are streamed, not limited
_INJECTED_CODES = {
    500: "INTERNAL_ERROR",
    502: "BAD_GATEWAY",
    503: "SERVICE_UNAVAILABLE",
    504: "GATEWAY_TIMEOUT",
}

Endpoint = Callable[[web.Request], Awaitable[web.StreamResponse]]


_TOKEN_REQUIRED = "API token is required. Please provide a valid token in the Authorization header."


class Access:
    """Who may call: tokens with their scopes, and the rate limiter (``None``: off).

    Tokens may also be revoked, expire (at a time on the sandbox clock) or be bound to client
    IP addresses. Everything here is read on every request, so changing it affects the running
    server at once. ``detailed_auth`` picks the server's own 401 codes (``INVALID_TOKEN``,
    ``TOKEN_EXPIRED``, …) over the single documented ``UNAUTHORIZED``.
    """

    __slots__ = ("detailed_auth", "expires", "ips", "limiter", "revoked", "tokens")

    def __init__(self, tokens: dict[str, frozenset[str]]) -> None:
        self.tokens = tokens
        self.limiter: ApiRateLimiter | None = None
        self.revoked: set[str] = set()
        self.expires: dict[str, float] = {}
        self.ips: dict[str, frozenset[str]] = {}
        self.detailed_auth = False

    @property
    def restricted(self) -> bool:
        """Whether any token is revoked, expiring or IP-bound (the slow path is needed)."""
        return bool(self.revoked or self.expires or self.ips)

    def refusal(self, token: str, remote: str | None, now: float) -> ApiError | None:
        """Why a request with ``token`` from ``remote`` is refused, or None when it may pass."""
        if not token:
            return self._unauthorized("AUTHENTICATION_REQUIRED", _TOKEN_REQUIRED)
        if token in self.revoked:
            return self._unauthorized("TOKEN_REVOKED", "The provided API token has been revoked.")
        if token not in self.tokens:
            return self._unauthorized("INVALID_TOKEN", "The provided API token is invalid.")
        expires = self.expires.get(token)
        if expires is not None and now >= expires:
            return self._unauthorized("TOKEN_EXPIRED", "The provided API token has expired.")
        allowed = self.ips.get(token)
        if allowed is not None and remote not in allowed:
            return ApiError(
                403,
                "IP_NOT_WHITELISTED",
                f"Access denied. Your IP address ({remote}) is not whitelisted for this token.",
            )
        return None

    def _unauthorized(self, detailed_code: str, message: str) -> ApiError:
        return ApiError(401, detailed_code if self.detailed_auth else "UNAUTHORIZED", message)


def build_app(state: State, faults: Faults, access: Access) -> web.Application:
    """The application serving all routes under ``/api/v2``."""
    app = web.Application(client_max_size=_MAX_BODY)
    for route, handler in HANDLERS:
        endpoint = _endpoint(route, handler, state, faults, access)
        app.router.add_route(route.method, API_PREFIX + route.path, endpoint)
    app.router.add_routes([inbound_route(state)])  # POST /__sandbox/inbound, for other processes
    app.router.add_route("*", "/{tail:.*}", _unmatched_handler(state))
    return app


def _endpoint(
    route: Route, handler: Handler, state: State, faults: Faults, access: Access
) -> Endpoint:
    key = route.key
    scope = route.scope
    clock = state.clock
    hits = state.ledger.hits
    prefix_length = len(API_PREFIX)

    async def endpoint(request: web.Request) -> web.StreamResponse:
        hits[key] += 1
        request[ROUTE_KEY] = key
        plan = None
        if faults.rules:
            plan = faults.plan(key, f"{request.method} {request.path[prefix_length:]}")
            if plan is not None:
                if plan.delay > 0:
                    await asyncio.sleep(plan.delay)
                if plan.before == "drop":
                    return _drop(request)
                if plan.before == "error":
                    return _injected(clock, plan.before_status)

        header = request.headers.get("Authorization", "")
        token = header[7:].strip() if header[:7].lower() == "bearer " else ""
        scopes = access.tokens.get(token) if token else None
        if scopes is None or access.restricted:
            refusal = access.refusal(token, request.remote, clock.time())
            if refusal is not None:
                return error_response(clock, refusal)
        assert scopes is not None  # refusal() passes only known tokens

        headers: dict[str, str] | None = None
        limiter = access.limiter
        if limiter is not None:
            decision, headers = limiter.check(token)
            if decision is not None and not decision.allowed:
                seconds = decision.retry_after
                return error_response(
                    clock,
                    ApiError(
                        429,
                        "RATE_LIMIT_EXCEEDED",
                        f"Too many requests. Please try again in {seconds} seconds.",
                        headers=headers,
                        meta={"retry_after": seconds},
                    ),
                )

        response: web.StreamResponse
        try:
            if scope is not None and scope not in scopes and "*" not in scopes:
                raise ApiError(
                    403,
                    "INSUFFICIENT_SCOPE",
                    "Your API token does not have the required permissions for this "
                    f"action. Required scope: {scope}",
                )
            response = await handler(state, request)
        except ApiError as exc:
            response = error_response(clock, exc)
        except RawError as exc:
            response = json_response(exc.body, exc.status)
        except asyncio.CancelledError:
            raise
        except ConnectionError:
            # The client went away while sending its request: nobody reads this answer, and
            # nothing happened (the body never arrived whole).
            return web.Response(status=499)
        except Exception as exc:  # a sandbox bug: answer like the server would, and log it
            logger.exception("sandbox handler %s failed", key)
            response = error_response(
                clock,
                ApiError(500, "INTERNAL_ERROR", "Internal server error", {"error": str(exc)}),
            )

        if plan is not None:
            if plan.after == "drop":
                return _drop(request)
            if plan.after == "error":
                response = _injected(clock, plan.after_status)
        if headers:
            response.headers.update(headers)
        return response

    return endpoint


def _path_regex(path: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", path)
    return re.compile(
        "".join("[^/]+" if part.startswith("{") else re.escape(part) for part in parts)
    )


_PATTERNS = [(route, _path_regex(route.path)) for route, _ in HANDLERS]


def _unmatched_handler(state: State) -> Endpoint:
    async def unmatched(request: web.Request) -> web.StreamResponse:
        """Laravel's answers for an unknown route (404) or a wrong method (405)."""
        path = request.path
        state.ledger.hits[f"{request.method} {path}"] += 1
        route_path = path.lstrip("/")
        allowed: list[str] = []
        if path.startswith(API_PREFIX + "/"):
            api_path = path[len(API_PREFIX) :]
            allowed = [route.method for route, pattern in _PATTERNS if pattern.fullmatch(api_path)]
        if allowed:
            return json_response(
                {
                    "message": f"The {request.method} method is not supported for route "
                    f"{route_path}. Supported methods: {', '.join(allowed)}."
                },
                405,
                {"Allow": ", ".join(allowed)},
            )
        return json_response({"message": f"The route {route_path} could not be found."}, 404)

    return unmatched


def _drop(request: web.Request) -> web.StreamResponse:
    """Close the connection without answering; the client sees the server disconnect."""
    transport = request.transport
    if transport is not None:
        transport.close()
    # aiohttp cannot write this to the closed transport and treats it as a client disconnect.
    return web.Response(status=500)


def _injected(clock: Clock, status: int) -> web.Response:
    code = _INJECTED_CODES.get(status, "SERVER_ERROR")
    return error_response(
        clock, ApiError(status, code, f"Injected fault: the server answered {status}.")
    )
