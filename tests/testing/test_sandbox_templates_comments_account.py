"""Templates (list, get, sync), comments, and the account endpoints."""

from __future__ import annotations

import json
from typing import Any

from wacr_async.testing import Sandbox


async def test_list_templates(api: Any) -> None:
    reply = await api.get("/templates?per_page=100")
    assert reply.status == 200
    names = [item["template_name"] for item in reply.data]
    assert {"order_update", "otp_verification", "summer_sale", "shipping_photo"} <= set(names)
    order = next(item for item in reply.data if item["template_name"] == "order_update")
    assert order["name"] == "order_update"
    assert order["category"] == "UTILITY"
    assert order["status"] == "APPROVED"
    assert order["body_params_count"] == 2
    assert order["header_data_format"] == "NONE"
    assert isinstance(order["template_id"], str)
    assert isinstance(order["components"], list)
    otp = next(item for item in reply.data if item["template_name"] == "otp_verification")
    buttons = json.loads(otp["buttons_data"])  # a JSON-encoded string, not an array
    assert buttons[0]["type"] == "URL"
    photo = next(item for item in reply.data if item["template_name"] == "shipping_photo")
    assert photo["header_data_format"] == "IMAGE"

    async def names_for(query: str) -> list[str]:
        return [item["template_name"] for item in (await api.get(f"/templates?{query}")).data]

    assert await names_for("filter[status]=PENDING") == ["summer_sale"]
    assert await names_for("filter[status]=rejected") == ["old_promo"]
    assert set(await names_for("filter[category]=AUTHENTICATION")) == {
        "otp_verification", "login_code",
    }  # fmt: skip
    assert await names_for("filter[language]=es") == ["otp_verification"]
    assert await names_for("search=marketing&sort=template_name") == [
        "old_promo", "summer_sale", "welcome",
    ]  # fmt: skip
    assert (await names_for("sort=-template_name&per_page=1")) == ["welcome"]


async def test_get_template_by_whatsapp_id(api: Any) -> None:
    first = (await api.get("/templates?per_page=1")).data[0]
    reply = await api.get(f"/templates/{first['template_id']}")
    assert reply.status == 200
    assert reply.data == first
    by_internal_id = await api.get(f"/templates/{first['id']}")
    assert by_internal_id.status == 404
    assert by_internal_id.error["message"] == "Template not found."


async def test_sync_templates(api: Any, sandbox: Sandbox) -> None:
    before = (await api.get("/templates")).body["meta"]["pagination"]["total"]
    sandbox.add_template("flash_sale", remote=True, category="MARKETING", body="Hi {{1}}")
    assert (await api.get("/templates")).body["meta"]["pagination"]["total"] == before
    reply = await api.post("/templates/sync")
    assert reply.status == 200
    assert reply.body["message"] == "Templates synchronized successfully from WhatsApp"
    assert reply.data["synced_count"] == before + 1
    assert len(reply.data["templates"]) == before + 1
    listing = await api.get("/templates?filter[category]=MARKETING&search=flash")
    assert [item["template_name"] for item in listing.data] == ["flash_sale"]
    # Sync is an upsert: running it again adds nothing.
    again = await api.post("/templates/sync")
    assert again.data["synced_count"] == before + 1
    assert (await api.get("/templates")).body["meta"]["pagination"]["total"] == before + 1
    # A status change on the remote side arrives on the next sync.
    sandbox.state.remote_templates[-1]["status"] = "REJECTED"
    await api.post("/templates/sync")
    rejected = await api.get("/templates?filter[status]=REJECTED&search=flash")
    assert len(rejected.data) == 1
    sandbox.whatsapp_configured = False
    refused = await api.post("/templates/sync")
    assert (refused.status, refused.code) == (422, "WHATSAPP_NOT_CONFIGURED")


async def test_local_template_can_be_sent(api: Any, sandbox: Sandbox) -> None:
    sandbox.add_template("promo", category="MARKETING", body="Hi {{1}}, {{2}} off")
    reply = await api.post(
        "/messages/template",
        {"phone": "15550001111", "template_name": "promo", "language": "en",
         "field_1": "Ada", "field_2": "20%"},
    )  # fmt: skip
    assert reply.status == 200, reply.body


async def test_comments_need_a_chat(api: Any, sandbox: Sandbox) -> None:
    missing = await api.get("/comments/919876543210")
    assert missing.status == 404
    assert missing.body["success"] is False
    assert "error" not in missing.body  # this page documents no error codes
    assert (await api.post("/comments/919876543210", {"comment": "x"})).status == 404
    await api.post("/messages/text", {"phone": "+91 98765 43210", "message": "Hello"})
    assert (await api.get("/comments/919876543210")).data == []
    sandbox.add_chat("+15550007777")
    assert (await api.get("/comments/+15550007777")).status == 200


async def test_add_and_list_comments(api: Any, sandbox: Sandbox) -> None:
    chat = sandbox.add_chat("919876543210")
    first = await api.post("/comments/919876543210", {"comment": "<strong>VIP</strong>"})
    assert first.status == 200
    body = first.body
    assert body["success"] is True
    assert body["message"] == "Comment added successfully"
    assert body["tenant_id"] == 1
    assert body["interaction_id"] == chat["id"]
    assert body["status_message"] == "Internal comment"
    assert body["url"] is None
    assert body["message_id"] is None
    assert isinstance(body["chat_message_id"], int)
    assert body["sender_id"]
    second = await api.post(
        "/comments/919876543210",
        {"comment": "see photo", "status_message": "Note", "media_url": "https://x.io/a.png",
         "message_id": "wamid.note", "ref_message_id": "wamid.orig"},
    )  # fmt: skip
    assert second.body["url"].endswith(".png")
    assert second.body["ref_message_id"] == "wamid.orig"
    listing = await api.get("/comments/919876543210")
    assert listing.status == 200
    assert [item["message"] for item in listing.data] == ["see photo", "<strong>VIP</strong>"]
    assert listing.data[0]["type"] == "image"
    assert listing.data[1]["type"] == "text"
    # Comments are internal notes: they are not in the message history.
    assert (await api.get("/messages")).data == []


async def test_comment_validation(api: Any, sandbox: Sandbox) -> None:
    sandbox.add_chat("919876543210")
    reply = await api.post(
        "/comments/919876543210",
        {"comment": "x" * 5001, "status_message": "s" * 256, "media_url": "not a url",
         "message_id": "m" * 256},
    )  # fmt: skip
    assert reply.status == 422
    assert reply.body["success"] is False
    assert set(reply.body["errors"]) == {"comment", "status_message", "media_url", "message_id"}
    empty = await api.post("/comments/919876543210", {})
    assert empty.body["errors"] == {"comment": ["The comment field is required."]}
    assert (await api.post("/comments/919876543210", {}, token="bad")).status == 401


async def test_account(api: Any, sandbox: Sandbox) -> None:
    data = (await api.get("/account")).data
    # whatsapp_number is the sandbox's own addition (watch(inbound_only=True) reads it)
    assert set(data) == {
        "id", "name", "subdomain", "status", "created_at", "subscription", "whatsapp_number"
    }  # fmt: skip
    assert data["whatsapp_number"] == sandbox.state.wa_number
    assert data["status"] == "active"
    assert set(data["subscription"]) == {"plan_name", "plan_id", "status", "expires_at"}
    sandbox.plan.name = "Growth"
    sandbox.plan.subscription_status = "expired"
    changed = (await api.get("/account")).data["subscription"]
    assert (changed["plan_name"], changed["status"]) == ("Growth", "expired")


async def test_usage_reflects_real_counts(api: Any, sandbox: Sandbox) -> None:
    sandbox.plan.contacts = 200
    sandbox.seed_contacts(50)
    await api.post("/messages/text", {"phone": "15550001111", "message": "x"})
    reply = await api.get("/account/usage")
    assert reply.body["message"] == "Usage statistics retrieved successfully"
    usage = reply.data
    assert usage["contacts"] == {
        "current": 51,
        "limit": 200,
        "remaining": 149,
        "percentage_used": 25.5,
        "is_unlimited": False,
    }
    assert usage["conversations"]["current"] == 1
    assert usage["conversations"]["is_unlimited"] is True
    assert usage["conversations"]["percentage_used"] == 0
    assert set(usage) == {"contacts", "conversations", "campaigns", "staff"}


async def test_limits(api: Any, sandbox: Sandbox) -> None:
    reply = await api.get("/account/limits")
    assert reply.body["message"] == "Plan limits retrieved successfully"
    limits = reply.data["limits"]
    assert set(limits) == {
        "contacts",
        "conversations",
        "campaigns",
        "staff",
        "api_calls_per_minute",
    }
    assert limits["contacts"] == {
        "limit": -1,
        "feature_name": "Total Contacts",
        "is_unlimited": True,
    }
    # No rate limit by default: the limits say so, not a number the sandbox does not enforce.
    assert limits["api_calls_per_minute"]["limit"] == -1
    assert limits["api_calls_per_minute"]["is_unlimited"] is True
    features = reply.data["features"]
    assert set(features) == {
        "whatsapp_templates", "bulk_messaging", "chatbot", "advanced_analytics", "api_access",
        "custom_branding",
    }  # fmt: skip
    sandbox.plan.features["chatbot"] = False
    sandbox.rate_limit = 120
    again = (await api.get("/account/limits")).data
    assert again["features"]["chatbot"] is False
    assert again["limits"]["api_calls_per_minute"]["limit"] == 120
