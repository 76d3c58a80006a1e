"""The route table, authentication (401), scopes (403), envelopes, unknown routes."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Any

from wacr_async.testing import Sandbox

ALL_ROUTE_KEYS = {
    "GET /account",
    "GET /account/usage",
    "GET /account/limits",
    "POST /auth/send-otp",
    "POST /auth/verify",
    "POST /auth/resend",
    "POST /auth/status",
    "GET /auth/templates",
    "GET /comments/{mobile}",
    "POST /comments/{mobile}",
    "GET /contacts",
    "POST /contacts",
    "GET /contacts/{id}",
    "PATCH /contacts/{id}",
    "DELETE /contacts/{id}",
    "POST /contacts/batch",
    "DELETE /contacts/batch",
    "GET /groups",
    "POST /groups",
    "GET /groups/{id}",
    "PATCH /groups/{id}",
    "DELETE /groups/{id}",
    "POST /groups/{id}/contacts",
    "DELETE /groups/{id}/contacts",
    "POST /messages/text",
    "POST /messages/template",
    "POST /messages/media",
    "POST /messages/interactive",
    "GET /messages",
    "GET /messages/{id}",
    "GET /sources",
    "POST /sources",
    "GET /sources/{id}",
    "PATCH /sources/{id}",
    "DELETE /sources/{id}",
    "GET /statuses",
    "POST /statuses",
    "GET /statuses/{id}",
    "PATCH /statuses/{id}",
    "DELETE /statuses/{id}",
    "GET /templates",
    "POST /templates/sync",
    "GET /templates/{template_id}",
}

SCOPES = {
    "GET /account": "account:read",
    "POST /auth/send-otp": "messages:send",
    "GET /auth/templates": "templates:read",
    "GET /comments/{mobile}": None,
    "POST /contacts": "contacts:write",
    "DELETE /contacts/{id}": "contacts:delete",
    "DELETE /contacts/batch": "contacts:delete",
    "DELETE /groups/{id}": "groups:delete",
    "POST /groups/{id}/contacts": "groups:write",
    "GET /sources": "sources:read",
    "DELETE /sources/{id}": "sources:write",
    "GET /statuses/{id}": "statuses:read",
    "POST /templates/sync": "templates:sync",
    "GET /messages": "messages:read",
}


def concrete(path: str) -> str:
    return (
        path.replace("{id}", "1")
        .replace("{mobile}", "15550001111")
        .replace("{template_id}", "1000000000000001")
    )


def test_route_table_has_all_43_routes_with_their_scopes() -> None:
    routes = Sandbox.routes
    assert len(routes) == 43
    assert {route.key for route in routes} == ALL_ROUTE_KEYS
    by_key = {route.key: route for route in routes}
    for key, scope in SCOPES.items():
        assert by_key[key].scope == scope
    method, path, scope = routes[0]  # plain tuples for introspection
    assert (method, path, scope) == ("GET", "/account", "account:read")


async def test_every_route_answers_401_without_or_with_a_bad_token(api: Any) -> None:
    for route in Sandbox.routes:
        for token in (None, "wm_wrong"):
            reply = await api(route.method, concrete(route.path), token=token)
            assert reply.status == 401, route
            assert reply.code == "UNAUTHORIZED"
            assert reply.body["success"] is False
    # Only the Bearer scheme counts.
    reply = await api("GET", "/account", token=None, headers={"Authorization": "Token wm_sandbox"})
    assert reply.status == 401


async def test_every_route_checks_its_scope(make_api: Any) -> None:
    tokens = {"all": {"*"}, "none": {"unrelated:scope"}}
    for route in Sandbox.routes:
        if route.scope is not None:
            tokens[route.scope] = {route.scope}
    async with Sandbox(tokens=tokens) as sandbox:
        api = make_api(sandbox)
        for route in Sandbox.routes:
            path = concrete(route.path)
            denied = await api(route.method, path, token="none")
            allowed = await api(route.method, path, token=route.scope or "none")
            if route.scope is None:
                assert denied.status not in (401, 403), route  # comments: any valid token
            else:
                assert denied.status == 403, route
                assert denied.code == "INSUFFICIENT_SCOPE"
                assert route.scope in denied.error["message"]
            assert allowed.status not in (401, 403), (route, allowed.body)
            wildcard = await api(route.method, path, token="all")
            assert wildcard.status not in (401, 403), route


async def test_success_envelope_has_meta(api: Any) -> None:
    first = await api.get("/account")
    second = await api.get("/account")
    assert first.status == 200
    assert first.body["success"] is True
    assert first.body["message"] == "Account information retrieved successfully"
    meta = first.body["meta"]
    uuid.UUID(meta["request_id"])
    assert meta["request_id"] != second.body["meta"]["request_id"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", meta["timestamp"])
    datetime.fromisoformat(meta["timestamp"])
    assert first.headers["Content-Type"].startswith("application/json")


async def test_error_envelope(api: Any) -> None:
    reply = await api.get("/contacts/999")
    assert reply.status == 404
    assert reply.body["success"] is False
    assert reply.error == {"code": "NOT_FOUND", "message": "Contact not found."}
    assert "data" not in reply.body
    uuid.UUID(reply.body["meta"]["request_id"])


async def test_creates_answer_201_and_deletes_omit_data(api: Any) -> None:
    for path, body in (
        ("/contacts", None),
        ("/groups", {"name": "G"}),
        ("/sources", {"name": "S"}),
        ("/statuses", {"name": "T", "color": "#00FF00"}),
    ):
        reply = await (api.create_contact() if body is None else api.post(path, body))
        assert reply.status == 201, path
        assert reply.data["id"]
        deleted = await api.delete(f"{path}/{reply.data['id']}")
        assert deleted.status == 200
        assert "data" not in deleted.body
        assert deleted.body["message"].endswith("deleted successfully")


async def test_unknown_route_and_wrong_method(api: Any) -> None:
    missing = await api.get("/nope")
    assert missing.status == 404
    assert missing.body == {"message": "The route api/v2/nope could not be found."}
    wrong = await api("PUT", "/contacts/1")
    assert wrong.status == 405
    assert wrong.headers["Allow"] == "GET, PATCH, DELETE"
    # /contacts/batch has no GET: it falls through to /contacts/{id} with id "batch".
    batch = await api.get("/contacts/batch")
    assert batch.status == 404
    assert batch.code == "NOT_FOUND"


async def test_non_numeric_ids_are_not_found(api: Any) -> None:
    for path in ("/messages/msg_abc123", "/groups/x", "/sources/x", "/statuses/x"):
        reply = await api.get(path)
        assert reply.status == 404, path
        assert reply.code == "NOT_FOUND"
