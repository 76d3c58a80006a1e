"""Templates (§10) and GET /auth/templates (§3): list, get by WhatsApp id, sync."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ._envelope import ApiError, ok
from ._query import ListSpec, list_response, select
from ._routes_messages import refuse_unservable
from ._state import State
from ._table import Row

__all__ = [
    "AUTH_TEMPLATES",
    "TEMPLATES",
    "get_template",
    "list_auth_templates",
    "list_templates",
    "sync_templates",
]

TEMPLATES = ListSpec(
    sorts={"template_name": "str", "created_at": "date", "updated_at": "date"},
    filters={"status": "str", "category": "str", "language": "str"},
    search=("template_name", "category"),
    fields_core=frozenset({"id"}),
)

AUTH_TEMPLATES = ListSpec(
    sorts={"template_name": "str", "created_at": "date", "language": "str"},
    filters={"language": "str", "template_name": "str"},
    search=("template_name", "body_data"),
    default_sort=(("template_name", False),),
)


def _is_auth(row: Row) -> bool:
    return bool(row["category"] == "AUTHENTICATION" and row["status"] == "APPROVED")


def _auth_item(row: Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "template_name": row["template_name"],
        "language": row["language"],
        "body_text": row["body_data"],
        "body_params_count": row["body_params_count"],
        "header_format": row["header_data_format"],
        "header_text": row["header_data_text"],
        "footer_text": row["footer_data"],
        "status": row["status"],
        "created_at": row["created_at"],
    }


async def list_templates(state: State, request: web.Request) -> web.Response:
    if not state.documented_queries:
        refuse_unservable(request.query, "templates")
    selection = select(state.templates, request.query, TEMPLATES)
    return list_response(state.clock, request, state.templates, selection, TEMPLATES)


async def list_auth_templates(state: State, request: web.Request) -> web.Response:
    selection = select(
        state.templates, request.query, AUTH_TEMPLATES, scope=_is_auth, scope_key="auth"
    )
    return list_response(
        state.clock, request, state.templates, selection, AUTH_TEMPLATES, present=_auth_item
    )


async def get_template(state: State, request: web.Request) -> web.Response:
    template_id = request.match_info["template_id"]
    for row in state.templates:
        if row["template_id"] == template_id:
            return ok(state.clock, state.shown(row))
    raise ApiError(404, "NOT_FOUND", "Template not found.")


async def sync_templates(state: State, request: web.Request) -> web.Response:
    if not state.whatsapp_configured:
        raise ApiError(
            422,
            "WHATSAPP_NOT_CONFIGURED",
            "WhatsApp Business API is not configured for this account",
        )
    by_template_id = {row["template_id"]: row for row in state.templates}
    synced: list[Row] = []
    stamp = state.clock.iso()
    for remote in state.remote_templates:
        local = by_template_id.get(remote["template_id"])
        if local is None:
            local = state.templates.insert({**remote, "created_at": stamp, "updated_at": stamp})
        else:
            changed = {k: v for k, v in remote.items() if k not in ("created_at", "updated_at")}
            if any(local.get(k) != v for k, v in changed.items()):
                local.update(changed)
                local["updated_at"] = stamp
                state.templates.touch(local)
        synced.append(local)
    return ok(
        state.clock,
        {"synced_count": len(synced), "templates": synced},
        "Templates synchronized successfully from WhatsApp",
    )
