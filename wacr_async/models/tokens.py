"""API tokens (``/tokens``, REFERENCE §14: in the server code, not in the public docs).

The secret of a new or rotated token is a :class:`SecretToken`: its ``repr`` (and so the
repr of a :class:`CreatedToken`, a traceback, a debugger or a ``%r`` log line) and its
f-string form show ``wm_***``; ``str()`` or :meth:`SecretToken.get_secret_value` give the
secret, for the one place that must store it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs

from ._converter import converter

__all__ = ["CreatedToken", "SecretToken", "Token"]


class SecretToken:
    """A token's secret that keeps itself out of reprs and formatted log messages.

    Example::

        created = await client.tokens.create("ci", ["messages:send"])
        print(created.plain_token)            # SecretToken('wm_***') in a repr, wm_*** in f"…"
        vault.store(created.plain_token.get_secret_value())   # or str(created.plain_token)
    """

    __slots__ = ("_secret",)

    def __init__(self, secret: str) -> None:
        self._secret = secret

    def get_secret_value(self) -> str:
        """The secret itself."""
        return self._secret

    def __str__(self) -> str:
        return self._secret

    def __repr__(self) -> str:
        return "SecretToken('wm_***')"

    def __format__(self, spec: str) -> str:
        # f"{token}" and "{}".format(token) end up in log lines: masked; str() is explicit.
        return format("wm_***", spec)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, SecretToken):
            return self._secret == other._secret
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._secret)


converter.register_structure_hook(SecretToken, lambda value, _: SecretToken(str(value)))


@attrs.frozen(kw_only=True)
class Token:
    """An API token as ``GET /tokens`` describes it (never with its secret).

    ``scopes`` are scope names (``"*"`` grants all); ``expires_at`` is None for a token that
    never expires; ``last_used_at``/``last_used_ip`` are None until it is used.

    Example::

        async for token in client.tokens.list():
            print(token.id, token.name, token.scopes, token.is_active)
    """

    id: int
    name: str
    scopes: tuple[str, ...]
    is_active: bool
    expires_at: datetime | None = None
    last_used_at: datetime | None = None
    last_used_ip: str | None = None
    rate_limit_per_minute: int = 60
    created_at: datetime
    updated_at: datetime


@attrs.frozen(kw_only=True)
class CreatedToken:
    """A token just created or rotated, with its secret — shown this once by the server.

    ``warning`` is the server's reminder to store the secret; ``old_token_revoked`` is True
    after a rotation (the previous secret stops working at once).

    Example::

        created = await client.tokens.rotate(5)
        save(created.token.id, created.plain_token.get_secret_value())
    """

    token: Token
    plain_token: SecretToken
    warning: str | None = None
    old_token_revoked: bool = False


def _structure_created(data: Any, _: type) -> CreatedToken:
    return CreatedToken(
        token=converter.structure(data["token"], Token),
        plain_token=SecretToken(str(data["plain_token"])),
        warning=data.get("warning"),
        old_token_revoked=bool(data.get("old_token_revoked", False)),
    )


converter.register_structure_hook(CreatedToken, _structure_created)
