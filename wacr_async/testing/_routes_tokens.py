"""Token management (§14, in the server code only): list, create, get, update, revoke, rotate.

Every route needs ``tokens:manage``, which only a ``*`` token passes. Tokens live in
``state.api_tokens`` (never with their secret) and, while active, in the pipeline's
``Access``: a created or rotated secret authenticates at once, a revoked or rotated-away one
is refused (401) from the next request on. The sandbox's configured tokens are listed too.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Iterable
from typing import Any

from aiohttp import web

from ._clock import iso
from ._envelope import ApiError, ok
from ._input import path_int, read_input, row_or_404
from ._query import ListSpec, list_response, select
from ._state import State
from ._table import Row
from ._validation import Validator

__all__ = ["SCOPES", "TOKENS", "add_token_row"]

# The server's ApiScope enum: what a token may be given.
SCOPES = (
    "*",
    "account:read",
    "contacts:read",
    "contacts:write",
    "contacts:delete",
    "groups:read",
    "groups:write",
    "groups:delete",
    "messages:send",
    "messages:read",
    "templates:read",
    "templates:sync",
    "sources:read",
    "sources:write",
    "statuses:read",
    "statuses:write",
)

TOKENS = ListSpec(
    sorts={"name": "str", "created_at": "date", "last_used_at": "date", "expires_at": "date"},
    filters={"is_active": "bool", "created_at": "date"},
    search=("name",),
)

_WARNING = "This is the only time you will see the plain token. Please store it securely."
_ALPHABET = string.ascii_letters + string.digits
_NOT_FOUND = "API token not found."


def _new_secret() -> str:
    return "wm_" + "".join(secrets.choice(_ALPHABET) for _ in range(60))


def add_token_row(
    state: State,
    secret: str,
    name: str,
    scopes: Iterable[str],
    *,
    expires_at: float | None = None,
    rate_limit_per_minute: int = 60,
) -> Row:
    """Store a token's row and remember its secret (the pipeline's Access is set apart)."""
    stamp = state.clock.iso()
    row: Row = {
        "id": state.api_tokens.allocate_id(),
        "name": name,
        "scopes": list(scopes),
        "is_active": True,
        "expires_at": None if expires_at is None else iso(expires_at),
        "last_used_at": None,
        "last_used_ip": None,
        "rate_limit_per_minute": rate_limit_per_minute,
        "created_at": stamp,
        "updated_at": stamp,
    }
    state.api_tokens.insert(row)
    state.token_secrets[row["id"]] = secret
    return row


def _access(state: State) -> Any:
    access = state.access
    assert access is not None, "the sandbox sets state.access"
    return access


def _grant(
    state: State, secret: str, scopes: Iterable[str], ips: Iterable[str] | None, until: float | None
) -> None:
    """The secret authenticates from the next request on."""
    access = _access(state)
    access.tokens[secret] = frozenset(scopes)
    access.revoked.discard(secret)
    if until is not None:
        access.expires[secret] = until
    if ips:
        access.ips[secret] = frozenset(ips)


def _withdraw(state: State, secret: str) -> None:
    """The secret stops working: 401 TOKEN_REVOKED from the next request on."""
    _access(state).revoked.add(secret)


def _validate(state: State, body: dict[str, Any], token_id: int | None) -> dict[str, Any]:
    v = Validator(body)
    creating = token_id is None
    name = v.string("name", required=creating, sometimes=not creating, max=255)
    if name is not None and any(
        row["name"] == name and row["id"] != token_id for row in state.api_tokens
    ):
        v.fail("name", "unique", "The name has already been taken.")
    scopes = v.array("scopes", required=creating, sometimes=not creating)
    for index, scope in enumerate(scopes or ()):
        if scope not in SCOPES:
            v.fail(f"scopes.{index}", "in", f"The selected scopes.{index} is invalid.")
    fields: dict[str, Any] = {
        "name": name,
        "scopes": scopes,
        "ip_whitelist": v.array("ip_whitelist"),
        "rate_limit_per_minute": v.integer("rate_limit_per_minute", min=1, max=10000),
    }
    if creating:
        fields["expires_in_days"] = v.integer("expires_in_days", min=1, max=3650)
    else:
        fields["is_active"] = v.boolean("is_active")
    v.check()
    return {key: value for key, value in fields.items() if value is not None}


async def list_tokens(state: State, request: web.Request) -> web.Response:
    selection = select(state.api_tokens, request.query, TOKENS)
    return list_response(state.clock, request, state.api_tokens, selection, TOKENS)


async def create_token(state: State, request: web.Request) -> web.Response:
    fields = _validate(state, await read_input(request), None)
    days = fields.get("expires_in_days")
    until = None if days is None else state.clock.time() + days * 86400
    secret = _new_secret()
    row = add_token_row(
        state,
        secret,
        fields["name"],
        fields["scopes"],
        expires_at=until,
        rate_limit_per_minute=fields.get("rate_limit_per_minute", 60),
    )
    _grant(state, secret, row["scopes"], fields.get("ip_whitelist"), until)
    data = {"token": row, "plain_token": secret, "warning": _WARNING}
    return ok(state.clock, data, "API token created successfully", status=201)


async def get_token(state: State, request: web.Request) -> web.Response:
    row = row_or_404(state.api_tokens, path_int(request), _NOT_FOUND)
    return ok(state.clock, state.shown(row))


async def update_token(state: State, request: web.Request) -> web.Response:
    row = row_or_404(state.api_tokens, path_int(request), _NOT_FOUND)
    fields = _validate(state, await read_input(request), row["id"])
    ips = fields.pop("ip_whitelist", None)
    row.update(fields)
    row["updated_at"] = state.clock.iso()
    state.api_tokens.touch(row)
    secret = state.token_secrets[row["id"]]
    if row["is_active"]:
        _grant(state, secret, row["scopes"], ips, _access(state).expires.get(secret))
    else:
        _withdraw(state, secret)
    return ok(state.clock, row, "API token updated successfully")


async def revoke_token(state: State, request: web.Request) -> web.Response:
    row = row_or_404(state.api_tokens, path_int(request), _NOT_FOUND)
    row["is_active"] = False
    row["updated_at"] = state.clock.iso()
    state.api_tokens.touch(row)
    _withdraw(state, state.token_secrets[row["id"]])
    return ok(state.clock, None, "API token revoked successfully")


async def rotate_token(state: State, request: web.Request) -> web.Response:
    row = row_or_404(state.api_tokens, path_int(request), _NOT_FOUND)
    if not row["is_active"]:
        raise ApiError(422, "VALIDATION_ERROR", "Cannot rotate an inactive token")
    old = state.token_secrets[row["id"]]
    access = _access(state)
    ips = access.ips.get(old)
    secret = _new_secret()
    state.token_secrets[row["id"]] = secret
    row["updated_at"] = state.clock.iso()
    state.api_tokens.touch(row)
    _withdraw(state, old)
    _grant(state, secret, row["scopes"], ips, access.expires.get(old))
    data = {"token": row, "plain_token": secret, "warning": _WARNING, "old_token_revoked": True}
    return ok(state.clock, data, "API token rotated successfully")
