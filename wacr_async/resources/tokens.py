"""``client.tokens``: API token management (``/tokens``, REFERENCE §14).

In the server code, not in the public docs; the routes need the ``tokens:manage`` scope,
which only a ``*`` token passes. A live service may not serve them at all (404).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .._validate import check_count, check_int_range, check_name, check_positive_int
from ..errors import ValidationError
from ..models.tokens import CreatedToken, Token
from ..pagination import AsyncPager
from ._base import Resource

__all__ = ["TokensService"]


def _scopes(scopes: Sequence[str]) -> list[str]:
    if isinstance(scopes, str):
        raise ValidationError.for_field("scopes", "scopes must be a list of scope names")
    names = list(scopes)
    check_count("scopes", names, minimum=1)
    return names


class TokensService(Resource):
    """API tokens: list, create, get, update, revoke, rotate.

    In the server code, not in the public docs; needs a ``*`` token (scope
    ``tokens:manage``). A created or rotated token's secret is a
    :class:`~wacr_async.SecretToken`, shown this once.
    """

    __slots__ = ()

    def list(
        self,
        *,
        per_page: int = 100,
        sort: str | Sequence[str] | None = None,
        search: str | None = None,
        filter: Mapping[str, Any] | None = None,
        prefetch: bool = True,
        concurrency: int = 1,
    ) -> AsyncPager[Token]:
        """Every token of the account (``GET /tokens``); a pager, at once.

        ``sort`` takes ``name``, ``created_at``, ``last_used_at``, ``expires_at``; ``search``
        matches the name; filters: ``is_active``, ``created_at``.

        Example::

            async for token in client.tokens.list(filter={"is_active": True}):
                print(token.name, token.scopes)
        """
        return self._list(
            "/tokens",
            Token,
            per_page=per_page,
            sort=sort,
            search=search,
            filter=filter,
            prefetch=prefetch,
            concurrency=concurrency,
        )

    async def create(
        self,
        name: str,
        scopes: Sequence[str],
        *,
        expires_in_days: int | None = None,
        ip_whitelist: Sequence[str] | None = None,
        rate_limit_per_minute: int | None = None,
    ) -> CreatedToken:
        """Create a token (``POST /tokens``); its secret is in ``plain_token``, this once.

        ``expires_in_days`` is 1 to 3650 (None: never expires); ``ip_whitelist`` limits where it
        may be used from; ``rate_limit_per_minute`` is 1 to 10000 (server default 60).

        Example::

            created = await client.tokens.create("ci", ["messages:send"], expires_in_days=30)
            secret = created.plain_token.get_secret_value()
        """
        check_name(name)
        body: dict[str, Any] = {"name": name, "scopes": _scopes(scopes)}
        if expires_in_days is not None:
            check_int_range("expires_in_days", expires_in_days, 1, 3650)
            body["expires_in_days"] = expires_in_days
        if ip_whitelist is not None:
            body["ip_whitelist"] = list(ip_whitelist)
        if rate_limit_per_minute is not None:
            check_int_range("rate_limit_per_minute", rate_limit_per_minute, 1, 10000)
            body["rate_limit_per_minute"] = rate_limit_per_minute
        return await self._call("POST", "/tokens", CreatedToken, safety="unsafe", json=body)

    async def get(self, token_id: int) -> Token:
        """One token (``GET /tokens/{id}``), without its secret.

        Example::

            token = await client.tokens.get(5)
        """
        check_positive_int("token_id", token_id)
        return await self._call("GET", f"/tokens/{token_id}", Token, safety="read")

    async def update(
        self,
        token_id: int,
        *,
        name: str | None = None,
        scopes: Sequence[str] | None = None,
        ip_whitelist: Sequence[str] | None = None,
        rate_limit_per_minute: int | None = None,
        is_active: bool | None = None,
    ) -> Token:
        """Change a token (``PATCH /tokens/{id}``); only what is given is sent.

        Example::

            await client.tokens.update(5, scopes=["messages:send", "messages:read"])
        """
        check_positive_int("token_id", token_id)
        body: dict[str, Any] = {}
        if name is not None:
            check_name(name)
            body["name"] = name
        if scopes is not None:
            body["scopes"] = _scopes(scopes)
        if ip_whitelist is not None:
            body["ip_whitelist"] = list(ip_whitelist)
        if rate_limit_per_minute is not None:
            check_int_range("rate_limit_per_minute", rate_limit_per_minute, 1, 10000)
            body["rate_limit_per_minute"] = rate_limit_per_minute
        if is_active is not None:
            body["is_active"] = is_active
        return await self._call(
            "PATCH", f"/tokens/{token_id}", Token, safety="idempotent", json=body
        )

    async def revoke(self, token_id: int) -> None:
        """Revoke a token (``DELETE /tokens/{id}``): its requests are refused from now on.

        Example::

            await client.tokens.revoke(5)
        """
        check_positive_int("token_id", token_id)
        await self._payload("DELETE", f"/tokens/{token_id}", safety="idempotent")

    async def rotate(self, token_id: int) -> CreatedToken:
        """A new secret for the same token (``POST /tokens/{id}/rotate``); the old one stops
        working at once. An inactive token cannot be rotated (422).

        Example::

            rotated = await client.tokens.rotate(5)
            deploy(rotated.plain_token.get_secret_value())
        """
        check_positive_int("token_id", token_id)
        return await self._call("POST", f"/tokens/{token_id}/rotate", CreatedToken, safety="unsafe")
