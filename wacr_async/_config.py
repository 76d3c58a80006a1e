"""Frozen client settings, resolved once from arguments and the environment."""

from __future__ import annotations

import os
import platform
from typing import Literal

import aiohttp
import attrs

from ._version import __version__
from .errors import ConfigurationError

DEFAULT_BASE_URL = "https://app.wa.cr/api/v2"
TOKEN_ENV = "WACR_TOKEN"
BASE_URL_ENV = "WACR_BASE_URL"

RateLimitMode = Literal["auto", "off"] | int


@attrs.frozen(kw_only=True, cache_hash=True)
class Timeout:
    """Timeouts in seconds: ``total`` for the whole call, the others for each attempt.

    ``total`` bounds the whole call: waiting for the rate limiter, every attempt, and every
    wait between retries take from one budget, and each attempt gets what is left. A call
    that would have to wait past it raises at once rather than sleeping first (see the
    README's timeouts section). When it runs out while a request is on the wire, a send
    ends in :class:`~wacr_async.OutcomeUnknownError`.

    Per attempt: ``connect`` covers establishing the TCP/TLS connection, ``pool`` waiting
    for a free connection of the client's pool, ``read`` the longest silence while an
    answer is awaited. A connect or pool timeout means the request never left, so even
    sends are retried after one; None means no limit of that kind.

    Example::

        wacr.Client(timeout=wacr.Timeout(total=20, connect=5))
        client.with_options(timeout=wacr.Timeout(total=30, read=10, pool=2))
    """

    total: float | None = 30.0
    connect: float | None = 10.0
    pool: float | None = None
    read: float | None = None

    @classmethod
    def coerce(cls, value: float | Timeout | None) -> Timeout:
        if value is None:
            return cls(total=None)
        if isinstance(value, Timeout):
            return value
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise ConfigurationError(
                f"timeout must be a positive number or wacr.Timeout, got {value!r}"
            )
        return cls(total=float(value), connect=min(float(value), 10.0))


def default_user_agent() -> str:
    return (
        f"wacr-async/{__version__} Python/{platform.python_version()} aiohttp/{aiohttp.__version__}"
    )


@attrs.frozen(kw_only=True)
class ClientConfig:
    """Everything a client needs to know, validated. The token is never shown in a repr."""

    token: str = attrs.field(repr=False)
    base_url: str
    timeout: Timeout
    max_retries: int
    rate_limit: RateLimitMode
    user_agent: str
    connection_limit: int
    log_bodies: bool


class MissingTokenError(ConfigurationError):
    """No token was given and ``WACR_TOKEN`` is unset or blank (the command line adds a hint)."""


def resolve_token(token: str | None) -> str:
    value = token if token is not None else os.environ.get(TOKEN_ENV)
    if value is None or not value.strip():
        raise MissingTokenError(
            f"No API token: pass Client(token=...) or set the {TOKEN_ENV} environment variable"
        )
    value = value.strip()
    if any(ch in value for ch in "\r\n"):
        raise ConfigurationError("The API token contains a line break")
    return value


def resolve_base_url(base_url: str | None) -> str:
    value = base_url if base_url is not None else os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL
    value = value.strip().rstrip("/")
    if not value.startswith(("http://", "https://")):
        raise ConfigurationError(f"base_url must start with http:// or https://, got {value!r}")
    return value


def check_max_retries(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigurationError(f"max_retries must be an integer >= 0, got {value!r}")
    return value


def check_rate_limit(value: RateLimitMode) -> RateLimitMode:
    if value in ("auto", "off"):
        return value
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    raise ConfigurationError(
        f"rate_limit must be 'auto', 'off' or a positive calls-per-minute integer, got {value!r}"
    )
