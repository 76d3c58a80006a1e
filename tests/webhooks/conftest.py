"""Shared pieces for the webhook tests: the secret, signed PHP-encoded bodies, sample
payloads in the server's shapes, and a Receiver served over a real socket."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import web

from wacr_async import webhooks
from wacr_async.testing import php_json
from wacr_async.testing.pytest_plugin import (  # noqa: F401  (fixtures and hook, re-exported)
    pytest_configure,
    wacr_client,
    wacr_sandbox,
)

SECRET = "whsec_7f3a/9Q+z"
ARABIC = "مرحبا بكم في متجرنا"
EMOJI = "Thanks 🙏🏽 see https://wa.cr/x?a=1&b=2"


def signed(
    payload: Any, secret: str | None = SECRET, *, kind: str | None = None, fmt: str | None = "n8n"
) -> tuple[bytes, dict[str, str]]:
    """A PHP-encoded body and the headers WA.cr sends with it."""
    body = php_json(payload)
    if kind is None and isinstance(payload, dict) and isinstance(payload.get("event"), dict):
        kind = payload["event"]["type"]
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "whatsmark-Webhook/1.0",
        "X-Webhook-Event": kind or "created",
        "X-Webhook-Timestamp": "2025-12-12T14:30:00+00:00",
    }
    if fmt is not None:
        headers["X-Webhook-Format"] = fmt
    if secret is not None:
        headers["X-Webhook-Signature"] = webhooks.sign(body, secret)
    return body, headers


CONTACT_UPDATED: dict[str, Any] = {
    "event": {
        "id": "evt_1702468200_abc123XYZ0",
        "type": "contact.updated",
        "timestamp": "2025-12-12T14:30:00+00:00",
        "version": "1.0",
    },
    "tenant": {"id": 123, "name": "Acme / شركة", "domain": "acme"},
    "data": {
        "resource": {
            "type": "contact",
            "id": 42,
            "attributes": {
                "id": 42,
                "firstname": "ليلى",
                "lastname": "O'Neil 😀",
                "company": "A/B Trading",
                "type": "lead",
                "email": "laila@example.com",
                "phone": "+966501234567",
                "description": EMOJI,
                "group_id": [3],
                "is_opted_out": False,
                "created_at": "2025-12-01T09:00:00+03:00",
                "updated_at": "2025-12-12T17:30:00+03:00",
            },
        },
        "relationships": {
            "status": {"id": 1, "name": "New", "color": "#22AA55"},
            "source": {"id": 2, "name": "Web/Ads"},
            "groups": [{"id": 3, "name": "VIP ⭐"}],
            "assigned_to": {"id": 7, "name": "Omar", "email": "omar@example.com"},
        },
    },
    "changes": {
        "previous": {"email": "old@example.com"},
        "current": {"email": "laila@example.com"},
        "modified_fields": ["email"],
    },
    "metadata": {
        "source": "api_webhook_manager",
        "environment": "production",
        "request_id": "6f1c1c1e-1111-4c1a-9d55-0d0f3c2a0b11",
    },
}

SOURCE_CREATED: dict[str, Any] = {
    "event": {
        "id": "evt_1702468201_Src0000001",
        "type": "source.created",
        "timestamp": "2025-12-12T14:30:01+00:00",
        "version": "1.0",
    },
    "tenant": {"id": 123, "name": "Acme", "domain": "acme"},
    "data": {
        "resource": {
            "type": "source",
            "id": 9,
            "attributes": {
                "id": 9,
                "name": "معرض / Fair",
                "created_at": "2025-12-12T14:30:01+00:00",
            },
        },
        "relationships": {},  # PHP writes it as []
    },
    "changes": {
        "previous": None,
        "current": {"id": 9, "name": "معرض / Fair"},
        "modified_fields": None,
    },
    "metadata": {"source": "api_webhook_manager", "environment": "production", "request_id": "r"},
}

STATUS_DELETED: dict[str, Any] = {
    "event": {
        "id": "evt_1702468202_Sta0000001",
        "type": "status.deleted",
        "timestamp": "2025-12-12T14:30:02+00:00",
        "version": "1.0",
    },
    "tenant": {"id": 123, "name": "Acme", "domain": "acme"},
    "data": {
        "resource": {
            "type": "status",
            "id": 5,
            "attributes": {"id": 5, "name": "Won 🎉", "color": "#00AA00"},
        },
        "relationships": {},
    },
    "changes": {
        "previous": {"id": 5, "name": "Won 🎉", "color": "#00AA00"},
        "current": None,
        "modified_fields": None,
    },
    "metadata": {"source": "api_webhook_manager", "environment": "production", "request_id": "r"},
}

META_INBOUND: dict[str, Any] = {
    "object": "whatsapp_business_account",
    "entry": [
        {
            "id": "102290129340398",
            "changes": [
                {
                    "value": {
                        "messaging_product": "whatsapp",
                        "metadata": {
                            "display_phone_number": "15550100000",
                            "phone_number_id": "106540352242922",
                        },
                        "contacts": [{"profile": {"name": "خالد 🙂"}, "wa_id": "966501234567"}],
                        "messages": [
                            {
                                "from": "966501234567",
                                "id": "wamid.HBgMOTY2NTAxMjM0NTY3FQIAEhgg/abc+def==",
                                "timestamp": "1702468200",
                                "type": "text",
                                "text": {"body": ARABIC + " " + EMOJI},
                                "context": {"from": "15550100000", "id": "wamid.previous/1"},
                            }
                        ],
                    },
                    "field": "messages",
                }
            ],
        }
    ],
}


def message_received() -> dict[str, Any]:
    meta = META_INBOUND["entry"][0]["changes"][0]["value"]
    message = meta["messages"][0]
    return {
        "event": {
            "id": "evt_1702468200_Msg0000001",
            "type": "whatsapp.message.received",
            "timestamp": "2025-12-12T14:30:00+00:00",
            "version": "1.0",
        },
        "tenant": {"id": 123, "name": "Acme"},
        "data": {
            "resource": {
                "type": "message",
                "id": message["id"],
                "attributes": {
                    "message_id": message["id"],
                    "from": message["from"],
                    "timestamp": message["timestamp"],
                    "type": "text",
                    "text": message["text"]["body"],
                    "context": message["context"],
                },
            },
            "relationships": {
                "contact": {"wa_id": "966501234567", "name": "خالد 🙂"},
                "metadata": meta["metadata"],
            },
        },
        "whatsapp": {"original_payload": copy.deepcopy(META_INBOUND)},
        "metadata": {
            "source": "whatsapp_webhook_forward",
            "environment": "production",
            "request_id": "r",
        },
    }


def meta_status(status: str, *, errors: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": "wamid.OUT/1+x==",
        "status": status,
        "timestamp": "1702468300",
        "recipient_id": "201001234567",
        "pricing": {"billable": True, "pricing_model": "CBP", "category": "utility"},
    }
    if errors:
        item["errors"] = errors
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "1",
                "changes": [
                    {
                        "value": {"messaging_product": "whatsapp", "statuses": [item]},
                        "field": "messages",
                    }
                ],
            }
        ],
    }


def message_status(status: str, *, errors: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    original = meta_status(status, errors=errors)
    item = original["entry"][0]["changes"][0]["value"]["statuses"][0]
    return {
        "event": {
            "id": f"evt_1702468300_St{status[:8]:0<8}",
            "type": f"whatsapp.message.{status}",
            "timestamp": "2025-12-12T14:31:40+00:00",
            "version": "1.0",
        },
        "tenant": {"id": 123, "name": "Acme"},
        "data": {
            "resource": {
                "type": "message",
                "id": item["id"],
                "attributes": {
                    "message_id": item["id"],
                    "status": status,
                    "timestamp": item["timestamp"],
                    "recipient_id": item["recipient_id"],
                    "conversation": None,
                    "pricing": item["pricing"],
                    "errors": errors,
                },
            },
            "relationships": {"contact": {"wa_id": "201001234567", "name": None}, "metadata": {}},
        },
        "whatsapp": {"original_payload": original},
        "metadata": {
            "source": "whatsapp_webhook_forward",
            "environment": "production",
            "request_id": "r",
        },
    }


@dataclass
class Served:
    """A Receiver behind a real aiohttp server on loopback."""

    receiver: webhooks.Receiver
    url: str


@pytest.fixture
async def served() -> AsyncIterator[Served]:
    receiver = webhooks.Receiver(secret=SECRET)
    async with serve(receiver) as url:
        yield Served(receiver, url)
    await receiver.aclose()


class serve:
    """``async with serve(receiver) as url``: the receiver's aiohttp handler on 127.0.0.1."""

    def __init__(self, receiver: webhooks.Receiver, path: str = "/wacr/events") -> None:
        self.receiver = receiver
        self.path = path
        self.runner: web.AppRunner | None = None

    async def __aenter__(self) -> str:
        app = web.Application()
        app.router.add_post(self.path, self.receiver.aiohttp_handler)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = self.runner.addresses[0][1]
        return f"http://127.0.0.1:{port}{self.path}"

    async def __aexit__(self, *exc: object) -> None:
        assert self.runner is not None
        await self.runner.cleanup()
