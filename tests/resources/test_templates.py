"""client.templates against the sandbox: list, get by WhatsApp id, sync; the Template model."""

from __future__ import annotations

import pytest

import wacr_async as wacr
from tests.resources._support import no_requests
from wacr_async.models._converter import structure
from wacr_async.models.templates import SyncResult, Template
from wacr_async.testing import Sandbox


async def test_list_templates(wacr_sandbox: Sandbox, wacr_client: wacr.Client) -> None:
    templates = await wacr_client.templates.list().collect()

    assert all(isinstance(t, Template) for t in templates)
    names = {(t.template_name, t.language) for t in templates}
    assert {("order_update", "en"), ("otp_verification", "es"), ("summer_sale", "en")} <= names
    assert len(templates) == len(wacr_sandbox.state.templates)


async def test_list_templates_filter_search_sort_fields(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    approved_auth = await wacr_client.templates.list(
        filter={"status": "APPROVED", "category": "AUTHENTICATION"}, sort="-template_name"
    ).collect()
    assert [t.template_name for t in approved_auth] == [
        "otp_verification",
        "otp_verification",
        "login_code",
    ]

    found = await wacr_client.templates.list(search="invoice").collect()
    assert [t.template_name for t in found] == ["invoice_ready"]

    # fields= is not sent (the server code answers it with a 500): every field comes back
    slim = await wacr_client.templates.list(fields=["template_name"], search="welcome").collect()
    assert [t.template_name for t in slim] == ["welcome"] and slim[0].body_data

    pages = [page async for page in wacr_client.templates.list(per_page=4).pages()]
    assert sum(len(page.items) for page in pages) == len(wacr_sandbox.state.templates)
    assert pages[0].total == len(wacr_sandbox.state.templates)


async def test_get_template_by_whatsapp_id_decodes_the_buttons(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    row = wacr_sandbox.add_template(
        "track_order",
        body="Order {{1}} is on its way",
        header_format="TEXT",
        header_text="Hi {{1}}",
        footer="Thanks",
        buttons=[{"type": "URL", "text": "Track", "url": "https://x.example/t/{{1}}"}],
        template_id="778899",
    )

    template = await wacr_client.templates.get("778899")

    assert (template.id, template.template_id) == (row["id"], "778899")
    assert (template.template_name, template.name) == ("track_order", "track_order")
    assert (template.category, template.status) == ("UTILITY", "APPROVED")
    assert (template.header_data_format, template.header_data_text) == ("TEXT", "Hi {{1}}")
    assert (template.header_params_count, template.body_params_count) == (1, 1)
    assert template.footer_data == "Thanks"
    assert template.buttons == [
        {"type": "URL", "text": "Track", "url": "https://x.example/t/{{1}}"}
    ]
    assert template.buttons_data == row["buttons_data"]  # the raw JSON text is kept
    assert [c["type"] for c in template.components] == ["HEADER", "BODY", "FOOTER", "BUTTONS"]
    assert template.created_at is not None and template.created_at.tzinfo is not None


async def test_get_authentication_template_fields(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    [otp] = await wacr_client.templates.list(
        search="otp_verification", filter={"language": "en"}
    ).collect()

    template = await wacr_client.templates.get(otp.template_id or "")

    assert template.add_security_recommendation is True
    assert template.code_expiration_minutes == 10
    assert template.message_send_ttl_seconds == 600
    assert template.otp_button_config == {"otp_type": "COPY_CODE", "text": "Copy code"}


async def test_get_template_by_internal_id_is_not_found(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    internal_id = next(iter(wacr_sandbox.state.templates))["id"]

    with pytest.raises(wacr.NotFoundError) as caught:
        await wacr_client.templates.get(str(internal_id))

    assert (caught.value.status, caught.value.code) == (404, "NOT_FOUND")


async def test_get_template_quotes_the_id_into_the_path(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    with pytest.raises(wacr.NotFoundError):
        await wacr_client.templates.get("a/b?c")

    assert wacr_sandbox.hits["GET /templates/{template_id}"] == 1


async def test_get_template_with_an_empty_id_makes_no_request(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    with pytest.raises(wacr.ValidationError) as caught:
        await wacr_client.templates.get(" ")

    assert caught.value.local is True
    assert no_requests(wacr_sandbox)


async def test_sync_pulls_new_and_changed_templates(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    wacr_sandbox.add_template("new_from_meta", remote=True, body="Fresh {{1}}")
    before = len(wacr_sandbox.state.templates)

    result = await wacr_client.templates.sync()

    assert isinstance(result, SyncResult)
    assert result.synced_count == before + 1 == len(result.templates)
    assert "new_from_meta" in {t.template_name for t in result.templates}
    listed = await wacr_client.templates.list(search="new_from_meta").collect()
    assert [t.body_params_count for t in listed] == [1]


async def test_sync_without_whatsapp_configured(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    wacr_sandbox.whatsapp_configured = False

    with pytest.raises(wacr.WhatsAppNotConfiguredError):
        await wacr_client.templates.sync()


async def test_sync_is_not_retried_after_a_server_error(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    wacr_sandbox.faults.add("POST /templates/sync", error_after=1.0, times=1)

    with wacr.testing.no_wait(), pytest.raises(wacr.InternalServerError):
        await wacr_client.templates.sync()

    assert wacr_sandbox.hits["POST /templates/sync"] == 1


async def test_templates_scopes_and_auth(wacr_sandbox: Sandbox) -> None:
    wacr_sandbox.add_token("wm_reader", {"templates:read"})
    async with wacr_sandbox.client(token="wm_reader") as client:
        await client.templates.list().first_page()
        with pytest.raises(wacr.InsufficientScopeError) as caught:
            await client.templates.sync()
        assert "templates:sync" in caught.value.message

    wacr_sandbox.add_token("wm_sender", {"messages:send", "templates:sync"})
    async with wacr_sandbox.client(token="wm_sender") as client:
        with pytest.raises(wacr.InsufficientScopeError):
            await client.templates.list().first_page()
        with pytest.raises(wacr.InsufficientScopeError):
            await client.templates.get("1000000000000001")
        assert (await client.templates.sync()).synced_count > 0

    async with wacr_sandbox.client(token="wm_nope") as client:
        with pytest.raises(wacr.AuthenticationError):
            await client.templates.get("1000000000000001")
        with pytest.raises(wacr.AuthenticationError):
            await client.templates.sync()


def test_template_model_tolerates_odd_shapes() -> None:
    template = structure(
        {
            "id": 3,
            "template_id": 1234567890,
            "buttons_data": "{not json",
            "components": '[{"type": "BODY", "text": "Hi"}]',
            "otp_button_config": None,
            "header_params_count": None,
            "category": "SOMETHING_NEW",
            "created_at": "2026-01-02 03:04:05",
            "brand_new_field": {"x": 1},
        },
        Template,
    )

    assert template.template_id == "1234567890"
    assert (template.buttons, template.buttons_data) == (None, "{not json")
    assert template.components == [{"type": "BODY", "text": "Hi"}]
    assert (template.header_params_count, template.category) == (0, "SOMETHING_NEW")
    assert template.created_at is not None and template.created_at.utcoffset() is not None


def test_template_model_accepts_already_decoded_buttons() -> None:
    template = structure({"id": 1, "buttons_data": [{"type": "QUICK_REPLY"}]}, Template)

    assert template.buttons == [{"type": "QUICK_REPLY"}]
    assert template.buttons_data == '[{"type": "QUICK_REPLY"}]'
