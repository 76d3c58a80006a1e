"""One phone rule for every send, every spec, the contact import and the CLI."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

import wacr_async as wacr
from wacr_async._validate import normalize_phone, phone_digits
from wacr_async.testing import Sandbox

BAD_PHONES = {
    "not-a-phone": "not a phone number",
    "+1555": "too short: 4 digits",
    "+1555000111122223": "too long: 16 digits",
    "0044 7911 123456": "must start with the country code",
    "+1 555 000 1111 ext 2": "not a phone number",
    "1+5550001111": "not a phone number",
    "   ": "required",
}


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with Sandbox() as sandbox:
        yield sandbox


@pytest.fixture
async def client(sandbox: Sandbox) -> AsyncIterator[wacr.Client]:
    async with sandbox.client() as client:
        yield client


@pytest.mark.parametrize(
    ("written", "normal"),
    [
        ("+15550001002", "+15550001002"),
        ("15550001002", "+15550001002"),
        (" +1 (555) 000-1002 ", "+15550001002"),
        ("+44 7911.123.456", "+447911123456"),
        ("+123456789012345", "+123456789012345"),
    ],
)
def test_a_phone_becomes_plus_and_its_digits(written: str, normal: str) -> None:
    assert normalize_phone(written) == normal
    assert phone_digits(written) == normal[1:]


@pytest.mark.parametrize(("written", "problem"), BAD_PHONES.items())
def test_a_bad_phone_is_a_local_error_that_names_the_problem(written: str, problem: str) -> None:
    with pytest.raises(wacr.ValidationError) as caught:
        normalize_phone(written)
    assert caught.value.local is True
    assert problem in caught.value.fields["phone"][0]


def _sends(phone: str) -> dict[str, Any]:
    return {
        "send_text": {"phone": phone, "message": "Hi"},
        "send_template": {
            "phone": phone,
            "template_name": "order_update",
            "language": "en",
            "fields": ["A-17", "Friday"],
        },
        "send_media": {"phone": phone, "media_type": "image", "url": "https://x.example/a.png"},
        "send_interactive": {
            "phone": phone,
            "body_text": "Pick one",
            "buttons": [wacr.Button("yes", "Yes")],
        },
    }


@pytest.mark.parametrize("method", ["send_text", "send_template", "send_media", "send_interactive"])
@pytest.mark.parametrize("phone", ["not-a-phone", "+1555"])
async def test_every_send_refuses_a_bad_phone_without_a_request(
    sandbox: Sandbox, client: wacr.Client, method: str, phone: str
) -> None:
    with pytest.raises(wacr.ValidationError) as caught:
        await getattr(client.messages, method)(**_sends(phone)[method])
    assert caught.value.local is True and "phone" in caught.value.fields
    assert sum(sandbox.hits.values()) == 0


@pytest.mark.parametrize("method", ["send_text", "send_template", "send_media", "send_interactive"])
async def test_every_send_sends_the_normal_form(
    sandbox: Sandbox, client: wacr.Client, method: str
) -> None:
    contact = sandbox.add_contact(firstname="Ada", lastname="L", phone="+15550001002")
    sent = await getattr(client.messages, method)(**_sends(" +1 (555) 000-1002")[method])
    assert sent.contact_id == contact["id"]  # the same person, not a new contact
    assert [record.phone for record in sandbox.sends] == ["15550001002"]


async def test_a_fifteen_digit_phone_fits_send_media(sandbox: Sandbox, client: wacr.Client) -> None:
    await client.messages.send_media("+123456789012345", "image", url="https://x.example/a.png")
    assert [record.phone for record in sandbox.sends] == ["123456789012345"]


async def test_a_bulk_send_fails_bad_phones_and_sends_nothing_for_them(
    sandbox: Sandbox, client: wacr.Client
) -> None:
    specs = [
        wacr.TemplateMessage("not-a-phone", "order_update", "en", fields=["A", "B"]),
        wacr.TextMessage("+1555", "Hi"),
        wacr.TemplateMessage("1 555 000 1003", "order_update", "en", fields=["A", "B"]),
    ]
    report = await client.batch.send_messages(specs).report()
    assert report.counts["sent"] == 1
    assert [outcome.index for outcome in report.failed] == [0, 1]
    assert all(isinstance(o.error, wacr.ValidationError) and o.error.local for o in report.failed)
    assert [record.phone for record in sandbox.sends] == ["15550001003"]


def _row(phone: str, n: int = 0) -> dict[str, Any]:
    return {
        "firstname": f"F{n}",
        "lastname": "L",
        "phone": phone,
        "type": "lead",
        "source_id": 1,
        "status_id": 1,
    }


async def test_the_import_checks_normalises_and_finds_duplicates_by_digits(
    sandbox: Sandbox, client: wacr.Client
) -> None:
    old = sandbox.add_contact(firstname="Old", lastname="C", phone="15550001001")
    rows = [
        _row("not-a-phone"),
        _row("+1555"),
        _row("+1 (555) 000-1002"),
        _row("+15550001001"),  # the account has it, written without the +
        _row("15550001002"),  # same digits as row 2
    ]
    report = await client.batch.create_contacts(rows, skip_duplicates=False)
    statuses = [entry.status for entry in report.entries]
    assert statuses == ["failed", "failed", "created", "failed", "failed"]
    assert "not a phone number" in report.entries[0].errors["phone"][0]
    assert "too short" in report.entries[1].errors["phone"][0]
    assert report.entries[3].contact_id == old["id"]
    assert report.entries[4].duplicate_of == 2
    created = await client.contacts.get(report.entries[2].contact_id or 0)
    assert created.phone == "+15550001002"
    assert sandbox.hits["POST /contacts/batch"] == 1


async def test_the_account_check_can_be_left_to_the_server(
    sandbox: Sandbox, client: wacr.Client
) -> None:
    sandbox.add_contact(firstname="Old", lastname="C", phone="+15550001001")
    report = await client.batch.create_contacts([_row("15550001001")], match_account=False)
    # Normalised, the phone is written as the account has it: the server skips it.
    assert [entry.status for entry in report.entries] == ["skipped"]
    assert sandbox.hits["GET /contacts"] == 0
