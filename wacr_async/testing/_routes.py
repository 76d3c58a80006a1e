"""The route table: all 43 API v2 routes and the 6 token routes (§14, in the server code
only; scope ``tokens:manage``, which only ``*`` passes), with the handler of each.

``ROUTES`` is public (``Sandbox.routes``): method, path pattern (relative to ``/api/v2``)
and required scope (``None``: any valid token, the Comments pages). Scopes the docs leave
unnamed come from the server source: ``groups:delete``, ``sources:read``, ``statuses:read``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import NamedTuple

from aiohttp import web

from . import _routes_account as account
from . import _routes_comments as comments
from . import _routes_contacts as contacts
from . import _routes_groups as groups
from . import _routes_messages as messages
from . import _routes_otp as otp
from . import _routes_templates as templates
from . import _routes_tokens as tokens
from ._routes_labels import GROUPS, SOURCES, STATUSES
from ._state import State

__all__ = ["HANDLERS", "ROUTES", "TOKEN_ROUTES", "Handler", "Route"]

Handler = Callable[[State, web.Request], Awaitable[web.StreamResponse]]


class Route(NamedTuple):
    """One API route: ``("GET", "/contacts/{id}", "contacts:read")``."""

    method: str
    path: str
    scope: str | None

    @property
    def key(self) -> str:
        """``"GET /contacts/{id}"``: the key of ``sandbox.hits`` and fault patterns."""
        return f"{self.method} {self.path}"


# Order matters where paths overlap: /contacts/batch before /contacts/{id}.
_TABLE: tuple[tuple[Route, Handler], ...] = (
    (Route("GET", "/account", "account:read"), account.get_account),
    (Route("GET", "/account/usage", "account:read"), account.get_usage),
    (Route("GET", "/account/limits", "account:read"), account.get_limits),
    (Route("POST", "/auth/send-otp", "messages:send"), otp.send_otp),
    (Route("POST", "/auth/verify", "messages:send"), otp.verify_otp),
    (Route("POST", "/auth/resend", "messages:send"), otp.resend_otp),
    (Route("POST", "/auth/status", "messages:send"), otp.otp_status),
    (Route("GET", "/auth/templates", "templates:read"), templates.list_auth_templates),
    (Route("GET", "/comments/{mobile}", None), comments.list_comments),
    (Route("POST", "/comments/{mobile}", None), comments.add_comment),
    (Route("GET", "/contacts", "contacts:read"), contacts.list_contacts),
    (Route("POST", "/contacts", "contacts:write"), contacts.create_contact),
    (Route("POST", "/contacts/batch", "contacts:write"), contacts.batch_create_contacts),
    (Route("DELETE", "/contacts/batch", "contacts:delete"), contacts.batch_delete_contacts),
    (Route("GET", "/contacts/{id}", "contacts:read"), contacts.get_contact),
    (Route("PATCH", "/contacts/{id}", "contacts:write"), contacts.update_contact),
    (Route("DELETE", "/contacts/{id}", "contacts:delete"), contacts.delete_contact),
    (Route("GET", "/groups", "groups:read"), GROUPS.list),
    (Route("POST", "/groups", "groups:write"), GROUPS.create),
    (Route("GET", "/groups/{id}", "groups:read"), GROUPS.get),
    (Route("PATCH", "/groups/{id}", "groups:write"), GROUPS.update),
    (Route("DELETE", "/groups/{id}", "groups:delete"), GROUPS.delete),
    (Route("POST", "/groups/{id}/contacts", "groups:write"), groups.add_group_contacts),
    (Route("DELETE", "/groups/{id}/contacts", "groups:write"), groups.remove_group_contacts),
    (Route("POST", "/messages/text", "messages:send"), messages.send_text),
    (Route("POST", "/messages/template", "messages:send"), messages.send_template),
    (Route("POST", "/messages/media", "messages:send"), messages.send_media),
    (Route("POST", "/messages/interactive", "messages:send"), messages.send_interactive),
    (Route("GET", "/messages", "messages:read"), messages.list_messages),
    (Route("GET", "/messages/{id}", "messages:read"), messages.get_message),
    (Route("GET", "/sources", "sources:read"), SOURCES.list),
    (Route("POST", "/sources", "sources:write"), SOURCES.create),
    (Route("GET", "/sources/{id}", "sources:read"), SOURCES.get),
    (Route("PATCH", "/sources/{id}", "sources:write"), SOURCES.update),
    (Route("DELETE", "/sources/{id}", "sources:write"), SOURCES.delete),
    (Route("GET", "/statuses", "statuses:read"), STATUSES.list),
    (Route("POST", "/statuses", "statuses:write"), STATUSES.create),
    (Route("GET", "/statuses/{id}", "statuses:read"), STATUSES.get),
    (Route("PATCH", "/statuses/{id}", "statuses:write"), STATUSES.update),
    (Route("DELETE", "/statuses/{id}", "statuses:write"), STATUSES.delete),
    (Route("GET", "/templates", "templates:read"), templates.list_templates),
    (Route("POST", "/templates/sync", "templates:sync"), templates.sync_templates),
    (Route("GET", "/templates/{template_id}", "templates:read"), templates.get_template),
)

# In the server code, not in the public docs.
_TOKENS: tuple[tuple[Route, Handler], ...] = (
    (Route("GET", "/tokens", "tokens:manage"), tokens.list_tokens),
    (Route("POST", "/tokens", "tokens:manage"), tokens.create_token),
    (Route("GET", "/tokens/{id}", "tokens:manage"), tokens.get_token),
    (Route("PATCH", "/tokens/{id}", "tokens:manage"), tokens.update_token),
    (Route("DELETE", "/tokens/{id}", "tokens:manage"), tokens.revoke_token),
    (Route("POST", "/tokens/{id}/rotate", "tokens:manage"), tokens.rotate_token),
)

ROUTES: tuple[Route, ...] = tuple(route for route, _ in _TABLE)
"""The 43 documented routes (``Sandbox.routes``)."""
TOKEN_ROUTES: tuple[Route, ...] = tuple(route for route, _ in _TOKENS)
"""The 6 token routes (``Sandbox.token_routes``)."""
HANDLERS: tuple[tuple[Route, Handler], ...] = _TABLE + _TOKENS
