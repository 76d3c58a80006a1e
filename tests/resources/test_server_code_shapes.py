"""The answers the server code gives where the docs say otherwise (REFERENCE §12), pinned with
the exact JSON it produces and read through the public client."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from aiohttp import web

import wacr_async as wacr
from tests.conftest import ScriptedServer
from wacr_async._envelope import resource_of

META = {
    "request_id": "544e6133-1f0e-4a4e-9a53-0c9b7c1b8d2e",
    "timestamp": "2026-07-01T12:00:00+03:00",
}
PLUS_3 = timezone(timedelta(hours=3))


def answer(body: Any, status: int = 200) -> Any:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(
            body=json.dumps(body).encode(), status=status, content_type="application/json"
        )

    return handler


@pytest.fixture
async def client(scripted_server: ScriptedServer) -> AsyncIterator[wacr.Client]:
    async with wacr.Client(token="wm_x", base_url=scripted_server.url, rate_limit="off") as c:
        yield c


# -- the unwrap rule --------------------------------------------------------------------------


def test_the_nested_show_answer_is_unwrapped_once_and_only_by_shape() -> None:
    flat = {"success": True, "data": {"id": 7, "name": "VIP"}}
    nested = {"success": True, "data": {"data": {"id": 7, "name": "VIP"}}, "meta": META}
    assert resource_of(flat) == resource_of(nested) == {"id": 7, "name": "VIP"}
    # a resource with a real field called data keeps it: it has other fields beside it
    real = {"success": True, "data": {"id": 3, "data": {"phone": "+1"}}}
    assert resource_of(real) == {"id": 3, "data": {"phone": "+1"}}
    # only one level is unwrapped, and only a mapping
    twice = {"success": True, "data": {"data": {"data": {"id": 1}}}}
    assert resource_of(twice) == {"data": {"id": 1}}
    assert resource_of({"success": True, "data": {"data": [1, 2]}}) == {"data": [1, 2]}


# -- shows ------------------------------------------------------------------------------------

CONTACT = {
    "id": 7,
    "firstname": "Ada",
    "lastname": "Lovelace",
    "company": None,
    "type": "lead",
    "email": None,
    "phone": "+15550001111",
    "status_id": 1,
    "source_id": 1,
    "description": None,
    "city": None,
    "state": None,
    "zip": None,
    "address": None,
    "country_id": None,
    "assigned_id": None,
    "group_id": [3],
    "is_opted_out": False,
    "created_at": "2026-07-01T12:00:00+03:00",
    "updated_at": "2026-07-01T12:00:00+03:00",
}


async def test_get_contact_reads_the_nested_show_answer(
    scripted_server: ScriptedServer, client: wacr.Client
) -> None:
    scripted_server.route(
        "GET",
        "/api/v2/contacts/7",
        answer({"success": True, "data": {"data": CONTACT}, "meta": META}),
    )
    contact = await client.contacts.get(7)
    assert (contact.id, contact.firstname, contact.group_id) == (7, "Ada", [3])
    # the server's own offset is kept, and the moment is right
    assert contact.created_at == datetime(2026, 7, 1, 9, 0, tzinfo=UTC)
    assert contact.created_at is not None and contact.created_at.utcoffset() == timedelta(hours=3)


@pytest.mark.parametrize(
    ("path", "call"),
    [
        ("/api/v2/groups/1", lambda c: c.groups.get(1)),
        ("/api/v2/sources/1", lambda c: c.sources.get(1)),
        ("/api/v2/statuses/1", lambda c: c.statuses.get(1)),
    ],
)
async def test_label_shows_read_both_shapes(
    scripted_server: ScriptedServer, client: wacr.Client, path: str, call: Any
) -> None:
    row = {
        "id": 1,
        "name": "New",
        "color": "#22AA55",
        "created_at": "2026-07-01T12:00:00+03:00",
        "updated_at": "2026-07-01T12:00:00+03:00",
    }
    for data in ({"data": row}, row):
        scripted_server.route("GET", path, answer({"success": True, "data": data, "meta": META}))
        label = await call(client)
        assert (label.id, label.name) == (1, "New")


TEMPLATE = {
    "id": 4,
    "template_id": "1209384756",
    "template_name": "order_update",
    "name": "order_update",
    "language": "en",
    "category": "UTILITY",
    "status": "APPROVED",
    "header_data_format": "TEXT",
    "header_data_text": "Order {{1}}",
    "header_params_count": 1,
    "header_file_url": None,
    "header_variable_value": ["A-17"],
    "body_data": "Hi {{1}}, your order ships {{2}}.",
    "body_params_count": 2,
    "body_variable_value": ["Ada", "Friday"],
    "footer_data": None,
    "footer_params_count": 0,
    "buttons_data": None,
    "message_send_ttl_seconds": None,
    "add_security_recommendation": False,
    "code_expiration_minutes": None,
    "otp_button_config": None,
    "components": [],
    "created_at": "2026-07-01T12:00:00+03:00",
    "updated_at": "2026-07-01T12:00:00+03:00",
}


async def test_get_template_reads_the_nested_answer_and_its_variable_arrays(
    scripted_server: ScriptedServer, client: wacr.Client
) -> None:
    scripted_server.route(
        "GET",
        "/api/v2/templates/1209384756",
        answer({"success": True, "data": {"data": TEMPLATE}, "meta": META}),
    )
    template = await client.templates.get("1209384756")
    assert template.header_variable_value == ("A-17",)
    assert template.body_variable_value == ("Ada", "Friday")
    assert template.components == []
    assert template.updated_at == datetime(2026, 7, 1, 12, tzinfo=PLUS_3)


@pytest.mark.parametrize(
    ("sent", "read"),
    [
        ('["Ada","Friday"]', ("Ada", "Friday")),  # the array JSON-encoded
        ("Ada", ("Ada",)),  # the documented string
        (None, None),
    ],
)
async def test_template_variable_values_in_the_other_shapes(
    scripted_server: ScriptedServer, client: wacr.Client, sent: Any, read: Any
) -> None:
    row = {**TEMPLATE, "body_variable_value": sent}
    scripted_server.route("GET", "/api/v2/templates", answer({"success": True, "data": [row]}))
    [template] = await client.templates.list().collect()
    assert template.body_variable_value == read


# -- other tolerances -------------------------------------------------------------------------


async def test_otp_status_reads_fractional_seconds(
    scripted_server: ScriptedServer, client: wacr.Client
) -> None:
    body = {
        "success": True,
        "data": {
            "has_active_otp": True,
            "expires_at": "2026-07-01T12:04:47+03:00",
            "expires_in_seconds": 287.41,
            "is_expired": False,
            "verification_attempts": 0,
            "max_attempts": 5,
            "attempts_remaining": 5,
            "created_at": "2026-07-01T11:54:47+03:00",
        },
        "message": "OTP status retrieved successfully",
        "meta": META,
    }
    scripted_server.route("POST", "/api/v2/auth/status", answer(body))
    status = await client.otp.status("+15550001111")
    assert status.expires_in_seconds == 287.41
    assert status.expires_at == datetime(2026, 7, 1, 9, 4, 47, tzinfo=UTC)


async def test_batch_created_rows_carry_only_the_submitted_fields(
    scripted_server: ScriptedServer, client: wacr.Client
) -> None:
    submitted = {
        "firstname": "Ada",
        "lastname": "L",
        "phone": "+15550001111",
        "type": "lead",
        "source_id": 1,
        "status_id": 1,
    }
    raw = {
        **submitted,
        "tenant_id": 1,
        "updated_at": "2026-07-01T09:00:00.000000Z",
        "created_at": "2026-07-01T09:00:00.000000Z",
        "id": 12,
    }
    body = {
        "success": True,
        "data": {
            "success": True,
            "summary": {"total": 1, "created": 1, "skipped": 0, "failed": 0},
            "created": [raw],
            "skipped": [],
            "errors": [],
        },
        "message": "Batch operation completed",
        "meta": META,
    }
    scripted_server.route("POST", "/api/v2/contacts/batch", answer(body, 200))
    result = await client.contacts.create_many([submitted])
    [contact] = result.created
    assert (contact.id, contact.phone, contact.email, contact.group_id) == (
        12,
        "+15550001111",
        None,
        [],
    )
    assert contact.created_at == datetime(2026, 7, 1, 9, tzinfo=UTC)


async def test_laravels_bare_500_is_a_server_error_with_the_body_and_no_resend(
    scripted_server: ScriptedServer, client: wacr.Client
) -> None:
    scripted_server.route("POST", "/api/v2/messages/text", answer({"message": "Server Error"}, 500))
    with pytest.raises(wacr.ServerError) as caught:
        await client.messages.send_text("+15550001111", "Hi")
    assert caught.value.status == 500 and caught.value.code is None
    assert caught.value.body_snippet is not None and "Server Error" in caught.value.body_snippet
    assert [seen[0:2] for seen in scripted_server.seen] == [("POST", "/api/v2/messages/text")]


async def test_auth_templates_have_a_name_like_templates(
    scripted_server: ScriptedServer, client: wacr.Client
) -> None:
    item = {"id": 2, "template_name": "otp_verification", "language": "en",
            "body_text": "Your code is {{1}}", "body_params_count": 1, "header_format": "NONE",
            "header_text": None, "footer_text": None, "status": "APPROVED",
            "created_at": "2026-07-01T12:00:00+03:00"}  # fmt: skip
    scripted_server.route(
        "GET", "/api/v2/auth/templates", answer({"success": True, "data": [item]})
    )
    [template] = await client.otp.templates().collect()
    assert template.name == template.template_name == "otp_verification"


async def test_a_send_answer_without_an_always_sent_field_does_not_fit(
    scripted_server: ScriptedServer, client: wacr.Client
) -> None:
    data = {"message_id": "wamid.x", "contact_id": 3, "phone": "15550001111", "message": "Hi",
            "status": "sent", "sent_at": "2026-07-01T12:00:00+03:00", "chat_id": 4,
            "chat_message_id": 9}  # fmt: skip
    scripted_server.route("POST", "/api/v2/messages/text", answer({"success": True, "data": data}))
    sent = await client.messages.send_text("+15550001111", "Hi")
    assert (sent.message_id, sent.chat_id) == ("wamid.x", 4)
    del data["chat_id"]
    scripted_server.route("POST", "/api/v2/messages/text", answer({"success": True, "data": data}))
    with pytest.raises(wacr.UnexpectedResponseError, match="chat_id"):
        await client.messages.send_text("+15550001111", "Hi")
