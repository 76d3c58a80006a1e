"""Response bodies in the API v2 shapes, and the exceptions handlers raise to produce errors.

Success: ``{"success": true, "data": …, "message": …, "meta": {"request_id", "timestamp"}}``
(``data`` omitted when there is none, e.g. deletes). Error: ``{"success": false, "error":
{"code", "message", "details"?}, "meta": {…}}``. Bodies are serialised by hand around cached
per-row JSON where that is cheap, because benchmarks measure this server's overhead.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from ._clock import Clock

__all__ = [
    "ApiError",
    "RawError",
    "dumps",
    "error_body",
    "error_response",
    "json_response",
    "meta",
    "ok",
    "validation_error",
]

_encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def dumps(value: Any) -> str:
    """Compact JSON, UTF-8 kept as is."""
    return _encoder.encode(value)


def meta(clock: Clock, **extra: Any) -> dict[str, Any]:
    """A fresh ``meta`` object: new request id, current timestamp, then ``extra``."""
    result: dict[str, Any] = {"request_id": str(uuid.uuid4()), "timestamp": clock.iso()}
    if extra:
        result.update(extra)
    return result


def json_response(
    body: str | Mapping[str, Any],
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> web.Response:
    """A JSON response from a pre-serialised string or a mapping."""
    text = body if isinstance(body, str) else dumps(body)
    return web.Response(
        body=text.encode(),
        status=status,
        content_type="application/json",
        headers=headers,
    )


def ok(
    clock: Clock,
    data: Any = None,
    message: str | None = None,
    *,
    status: int = 200,
) -> web.Response:
    """The success envelope; ``data=None`` leaves ``data`` out, as the server does."""
    body: dict[str, Any] = {"success": True}
    if data is not None:
        body["data"] = data
    if message is not None:
        body["message"] = message
    body["meta"] = meta(clock)
    return json_response(body, status)


class ApiError(Exception):
    """Raised by a handler to answer with the error envelope.

    Example::

        raise ApiError(404, "NOT_FOUND", "Contact not found.")
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: Any = None,
        *,
        headers: Mapping[str, str] | None = None,
        meta: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers
        self.meta = meta


class RawError(Exception):
    """Raised to answer with a body outside the envelope (Send Media's quirk, Comments)."""

    def __init__(self, status: int, body: Mapping[str, Any]) -> None:
        super().__init__(f"{status}: {body}")
        self.status = status
        self.body = body


def validation_error(
    errors: Mapping[str, list[str]], *, wrap: bool = False, message: str = "Validation failed"
) -> ApiError:
    """422 ``VALIDATION_ERROR``; ``wrap`` nests the map as ``{"errors": …}`` (Send Text)."""
    details: Any = {"errors": dict(errors)} if wrap else dict(errors)
    return ApiError(422, "VALIDATION_ERROR", message, details)


def error_body(clock: Clock, exc: ApiError) -> dict[str, Any]:
    """The error envelope for ``exc``."""
    error: dict[str, Any] = {"code": exc.code, "message": exc.message}
    if exc.details is not None:
        error["details"] = exc.details
    return {"success": False, "error": error, "meta": meta(clock, **(exc.meta or {}))}


def error_response(clock: Clock, exc: ApiError) -> web.Response:
    """Render ``exc`` as a response."""
    return json_response(error_body(clock, exc), exc.status, exc.headers)
