"""What the client logs on the ``wacr_async`` logger, and what it never shows.

One DEBUG line per attempt (method, path, status, elapsed, attempt, request id) and one per
retry decision. Never logged: the token (it lives only in a header, and headers are never
logged), full phone numbers (masked to their last four digits, in paths and bodies alike), and
message bodies, unless the client was created with ``log_bodies=True``. Every line also
carries the same facts as ``extra`` attributes (``wacr_method``, ``wacr_path``,
``wacr_status``, ``wacr_elapsed``, ``wacr_attempt``, ``wacr_request_id``) for structured
log handlers.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["RequestLogger", "logger", "mask_path", "mask_phone", "mask_text", "request_id_of"]

logger = logging.getLogger("wacr_async")

# Nine or more digits in a row (optionally after "+" or its URL escape) read as a phone
# number; shorter runs are ids, counts and dates, which stay readable.
_PHONE_RUN = re.compile(r"(?:\+|%2[bB])?\d{5,}(\d{4})")
# Path segments that are phone numbers by definition, whatever their shape.
_PHONE_SEGMENT = re.compile(r"(/comments/)([^/?#]+)")
# JSON keys whose values are phone numbers.
_PHONE_KEYS = ("phone", "mobile", "wa_id", "msisdn")
# Query keys whose values are shown as they are; the others are hidden unless bodies are on.
_PLAIN_QUERY_KEYS = frozenset({"page", "per_page", "sort", "include", "fields"})
_MAX_BODY_CHARS = 2000
# API tokens ("wm_" + 60 characters): the plain token in a tokens.create/rotate answer.
_API_TOKEN = re.compile(r"\bwm_[A-Za-z0-9]{8,}")
_REQUEST_ID_HEADERS = ("X-Request-Id", "X-Request-ID", "Request-Id")


def mask_phone(value: str) -> str:
    """A phone number reduced to its last four digits.

    Example::

        mask_phone("+91 98765-43210")   # '***3210'
    """
    digits = re.sub(r"\D", "", value)
    return "***" + digits[-4:] if digits else "***"


def mask_text(text: str) -> str:
    """``text`` with every phone-like digit run masked to its last four digits (and any API
    token in it hidden).

    Example::

        mask_text("sent to 919876543210")   # 'sent to ***3210'
    """
    return _PHONE_RUN.sub(r"***\1", _API_TOKEN.sub("wm_***", text))


def mask_path(path: str) -> str:
    """A request path fit for a log line: phone numbers in it masked.

    Example::

        mask_path("/comments/919876543210")   # '/comments/***3210'
    """
    path = _PHONE_SEGMENT.sub(lambda m: m.group(1) + mask_phone(m.group(2)), path)
    return mask_text(path)


def _mask_json(value: Any) -> Any:
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            name = str(key).lower()
            if isinstance(item, str | int) and any(k in name for k in _PHONE_KEYS):
                out[str(key)] = mask_phone(str(item))
            else:
                out[str(key)] = _mask_json(item)
        return out
    if isinstance(value, list | tuple):
        return [_mask_json(item) for item in value]
    if isinstance(value, str):
        return mask_text(value)
    return value


def _clip(text: str) -> str:
    return text if len(text) <= _MAX_BODY_CHARS else text[:_MAX_BODY_CHARS] + "…"


def request_id_of(payload: Any, headers: Mapping[str, str] | None) -> str | None:
    """``meta.request_id`` from a decoded body, else a request-id header, else None."""
    if isinstance(payload, Mapping):
        meta = payload.get("meta")
        if isinstance(meta, Mapping) and meta.get("request_id") is not None:
            return str(meta["request_id"])
    if headers is not None:
        for name in _REQUEST_ID_HEADERS:
            value = headers.get(name)
            if value:
                return value
    return None


class RequestLogger:
    """Writes the per-attempt DEBUG lines of one client, redacted.

    Example::

        log = RequestLogger(log_bodies=False, token="wm_…")
        log.response("GET", "/account", None, 200, 0.012, 1, "req-1")
    """

    __slots__ = ("_log_bodies", "_token")

    def __init__(self, *, log_bodies: bool, token: str) -> None:
        self._log_bodies = log_bodies
        self._token = token

    @property
    def enabled(self) -> bool:
        return logger.isEnabledFor(logging.DEBUG)

    def _target(self, path: str, params: Sequence[tuple[str, str]] | None) -> str:
        target = mask_path(path)
        if params:
            shown = [
                f"{key}={mask_text(value) if key in _PLAIN_QUERY_KEYS or self._log_bodies else '…'}"
                for key, value in params
            ]
            target += "?" + "&".join(shown)
        return target

    def _scrub(self, text: str) -> str:
        if self._token and self._token in text:
            text = text.replace(self._token, "***")
        return text

    def _body_text(self, body: Any) -> str:
        if isinstance(body, bytes | bytearray):
            raw = bytes(body).decode("utf-8", errors="replace")
            try:
                body = json.loads(raw)
            except ValueError:
                return self._scrub(_clip(mask_text(raw)))
        text = json.dumps(_mask_json(body), ensure_ascii=False, default=str)
        return self._scrub(_clip(text))

    def _form_text(self, form: Sequence[tuple[str, Any]]) -> str:
        fields = []
        for name, value in form:
            if isinstance(value, str):
                fields.append(f"{name}={self._scrub(mask_text(value))}")
            else:
                fields.append(f"{name}=<file {getattr(value, 'filename', '?')}>")
        return _clip("form " + ", ".join(fields))

    def request_body(self, json_body: Any, form: Sequence[tuple[str, Any]] | None) -> str | None:
        """The request body as it may be logged (None unless the client opted in)."""
        if not self._log_bodies:
            return None
        if form is not None:
            return self._form_text(form)
        if json_body is None:
            return None
        return self._body_text(json_body)

    def response(
        self,
        method: str,
        path: str,
        params: Sequence[tuple[str, str]] | None,
        status: int,
        elapsed: float,
        attempt: int,
        request_id: str | None,
        *,
        sent_body: str | None = None,
        body: bytes | None = None,
    ) -> None:
        """One line for an answer that arrived (any status)."""
        target = self._target(path, params)
        message = "%s %s -> %d in %.3fs (attempt %d, request_id=%s)"
        args: list[Any] = [method, target, status, elapsed, attempt, request_id]
        if sent_body is not None:
            message += "\n  sent: %s"
            args.append(sent_body)
        if self._log_bodies and body:
            message += "\n  received: %s"
            args.append(self._body_text(body))
        logger.debug(
            message,
            *args,
            extra=self._extra(method, target, status, elapsed, attempt, request_id),
        )

    def failure(
        self,
        method: str,
        path: str,
        params: Sequence[tuple[str, str]] | None,
        exc: BaseException,
        elapsed: float,
        attempt: int,
        *,
        sent_body: str | None = None,
    ) -> None:
        """One line for an attempt that got no answer."""
        target = self._target(path, params)
        reason = self._scrub(mask_text(str(exc)))
        message = "%s %s -> no answer in %.3fs (attempt %d): %s: %s"
        args: list[Any] = [method, target, elapsed, attempt, type(exc).__name__, reason]
        if sent_body is not None:
            message += "\n  sent: %s"
            args.append(sent_body)
        logger.debug(
            message, *args, extra=self._extra(method, target, None, elapsed, attempt, None)
        )

    def retry(
        self, method: str, path: str, exc: BaseException, wait: float, next_attempt: int
    ) -> None:
        """One line when a failed attempt will be tried again."""
        status = getattr(exc, "status", None)
        reason = f"{status} {type(exc).__name__}" if status else type(exc).__name__
        logger.debug(
            "%s %s: retrying in %.2fs after %s (attempt %d next)",
            method,
            mask_path(path),
            wait,
            reason,
            next_attempt,
        )

    @staticmethod
    def _extra(
        method: str,
        target: str,
        status: int | None,
        elapsed: float,
        attempt: int,
        request_id: str | None,
    ) -> dict[str, Any]:
        return {
            "wacr_method": method,
            "wacr_path": target,
            "wacr_status": status,
            "wacr_elapsed": elapsed,
            "wacr_attempt": attempt,
            "wacr_request_id": request_id,
        }
