"""client.contacts against the sandbox: list, create, get, update, delete, create_many,
delete_many; each with its documented errors and the client-side checks (REFERENCE §5)."""

from __future__ import annotations

from typing import Any

import pytest

import wacr_async as wacr
from tests.resources._support import Wire, expect_scope, no_requests, scoped
from wacr_async.models.contacts import BatchCreateResult, BatchDeleteResult, Contact
from wacr_async.testing import Sandbox

PHONE = "+15550001111"
REQUIRED: dict[str, Any] = {
    "firstname": "Ada",
    "lastname": "Lovelace",
    "phone": PHONE,
    "type": "lead",
    "source_id": 1,
    "status_id": 1,
}


# -- list --------------------------------------------------------------------------------------


async def test_list_pages_through_every_contact(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    ids = wacr_sandbox.seed_contacts(25)

    pages = [page async for page in wacr_client.contacts.list(per_page=10).pages()]

    assert [len(page.items) for page in pages] == [10, 10, 5]
    assert [page.total for page in pages] == [25, 25, 25]
    contacts = [contact for page in pages for contact in page.items]
    assert all(isinstance(contact, Contact) for contact in contacts)
    assert [contact.id for contact in contacts] == list(ids)
    first = contacts[0]
    assert first.type == "lead" and first.email is not None and first.phone is not None
    assert first.created_at is not None and first.created_at.tzinfo is not None
    assert first.groups is None and first.source is None and first.status is None


async def test_list_sends_the_whole_query(wire: tuple[Wire, wacr.Client]) -> None:
    recorder, client = wire

    await client.contacts.list(
        per_page=20,
        sort=["lastname", "-created_at"],
        search="ada",
        filter={
            "type": "lead",
            "status_id": wacr.in_([1, 2]),
            "created_at": [wacr.gte("2025-01-01"), wacr.lt("2026-01-01")],
            "assigned_id": wacr.is_null(True),
        },
        include=["groups", "source", "status"],
        fields=["firstname", "phone"],
    ).first_page()

    assert recorder.requests[0][:2] == ("GET", "/api/v2/contacts")
    assert recorder.query(0) == [
        ("page", "1"),
        ("per_page", "20"),
        ("sort", "lastname,-created_at"),
        ("include", "groups,source,status"),
        ("fields", "firstname,phone"),
        ("search", "ada"),
        ("filter[type]", "lead"),
        ("filter[status_id][in]", "1,2"),
        ("filter[created_at][gte]", "2025-01-01"),
        ("filter[created_at][lt]", "2026-01-01"),
        ("filter[assigned_id][null]", "true"),
    ]


async def test_list_filters(wacr_sandbox: Sandbox, wacr_client: wacr.Client) -> None:
    vip = wacr_sandbox.add_group("Wholesale")["id"]
    a = wacr_sandbox.add_contact(
        firstname="A",
        lastname="A",
        phone="+10000000001",
        type="lead",
        status_id=1,
        source_id=2,
        assigned_id=7,
        created_at="2025-01-10T08:00:00+00:00",
        group_id=[vip],
    )["id"]
    b = wacr_sandbox.add_contact(
        firstname="B",
        lastname="B",
        phone="+10000000002",
        type="customer",
        status_id=2,
        source_id=1,
        created_at="2025-06-01T12:00:00+00:00",
    )["id"]
    c = wacr_sandbox.add_contact(
        firstname="C",
        lastname="C",
        phone="+10000000003",
        type="guest",
        status_id=3,
        source_id=2,
        assigned_id=8,
        created_at="2025-12-31T23:00:00+00:00",
        group_id=[1, vip],
    )["id"]

    async def ids(**filter: Any) -> list[int]:
        return [c.id for c in await wacr_client.contacts.list(filter=filter).collect()]

    assert await ids(type="customer") == [b]
    assert await ids(status_id=wacr.in_([1, 3])) == [a, c]
    assert await ids(status_id=wacr.not_in([1, 3])) == [b]
    assert await ids(status_id=wacr.ne(2)) == [a, c]
    assert await ids(source_id=2, type="guest") == [c]
    assert await ids(assigned_id=wacr.is_null(True)) == [b]
    assert await ids(assigned_id=wacr.is_null(False)) == [a, c]
    assert await ids(assigned_id=8) == [c]
    assert await ids(created_at=wacr.gte("2025-06-01")) == [b, c]
    assert await ids(created_at=wacr.lt("2025-06-01")) == [a]
    assert await ids(created_at=wacr.lte("2025-12-31")) == [a, b, c]
    assert await ids(created_at=wacr.between("2025-01-01", "2025-06-01")) == [a, b]
    assert await ids(created_at=[wacr.gt("2025-01-10"), wacr.lte("2025-06-30")]) == [b]
    assert await ids(type=wacr.like("ust")) == [b]
    assert await ids(group_id=vip) == [a, c]
    assert await ids(group_id=1) == [c]
    # Unknown filter fields are ignored by the server, not an error.
    assert await ids(nickname="x") == [a, b, c]


async def test_list_sort_and_search(wacr_sandbox: Sandbox, wacr_client: wacr.Client) -> None:
    ada = wacr_sandbox.add_contact(firstname="Ada", lastname="Zed", phone="+10000000001")["id"]
    bob = wacr_sandbox.add_contact(
        firstname="Bob", lastname="Young", phone="+10000000002", company="Adapt Ltd"
    )["id"]
    cy = wacr_sandbox.add_contact(
        firstname="Cy", lastname="Xu", phone="+19990000003", email="cy@ada.example"
    )["id"]

    async def ids(**options: Any) -> list[int]:
        return [c.id for c in await wacr_client.contacts.list(**options).collect()]

    assert await ids(sort="-firstname") == [cy, bob, ada]
    assert await ids(sort="lastname") == [cy, bob, ada]
    assert await ids(sort=["-id"]) == [cy, bob, ada]
    # search matches firstname, company and email (case-insensitive) ...
    assert await ids(search="ADA") == [ada, bob, cy]
    # ... and phone
    assert await ids(search="999") == [cy]
    assert await ids(search="nobody") == []


async def test_list_include_loads_the_relations(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    group = wacr_sandbox.add_group("Newsletter")
    wacr_sandbox.add_contact(
        firstname="Ada",
        lastname="L",
        phone=PHONE,
        source_id=2,
        status_id=3,
        group_id=[1, group["id"]],
    )

    [contact] = await wacr_client.contacts.list(include=["groups", "source", "status"]).collect()
    assert contact.groups is not None
    assert [g.name for g in contact.groups] == ["VIP", "Newsletter"]
    assert contact.group_id == [1, group["id"]]
    assert contact.source is not None and (contact.source.id, contact.source.name) == (
        2,
        "WhatsApp",
    )
    assert contact.status is not None
    assert (contact.status.name, contact.status.color) == ("Qualified", "#10B981")

    [only_groups] = await wacr_client.contacts.list(include=["groups"]).collect()
    assert only_groups.groups is not None and only_groups.source is None


async def test_list_fields_is_sent_but_the_server_returns_every_column(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    wacr_sandbox.add_contact(firstname="Ada", lastname="L", phone=PHONE, email="a@x.example")

    [contact] = await wacr_client.contacts.list(fields=["firstname"]).collect()

    # A documented server quirk (REFERENCE §5): fields always comes back with the core columns.
    assert (contact.firstname, contact.phone, contact.email) == ("Ada", PHONE, "a@x.example")


@pytest.mark.parametrize(
    "options",
    [
        {"per_page": 0},
        {"include": ["groups,source"]},
        {"sort": ""},
        {"fields": [""]},
        {"filter": {"type": None}},
        {"filter": {"status_id": wacr.in_([])}},
        {"filter": {"type": ["lead", "guest"]}},
        {"search": 5},
    ],
)
async def test_list_rejects_a_bad_query_locally(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client, options: dict[str, Any]
) -> None:
    with pytest.raises(wacr.ValidationError) as caught:
        wacr_client.contacts.list(**options)

    assert caught.value.local is True
    assert caught.value.fields
    assert no_requests(wacr_sandbox)


async def test_a_page_size_over_100_is_clamped_like_the_server_does(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    wacr_sandbox.seed_contacts(250)

    pages = [page async for page in wacr_client.contacts.list(per_page=500).pages()]

    assert [len(page.items) for page in pages] == [100, 100, 50]
    assert {page.per_page for page in pages} == {100}
    assert wacr_sandbox.hits["GET /contacts"] == 3


async def test_list_auth_and_scope(wacr_sandbox: Sandbox) -> None:
    token = scoped(wacr_sandbox, "contacts:write", "contacts:delete")
    await expect_scope(
        wacr_sandbox, token, "contacts:read", lambda c: c.contacts.list().first_page()
    )
    async with wacr_sandbox.client(token="wm_wrong", max_retries=0) as client:
        with pytest.raises(wacr.AuthenticationError) as caught:
            await client.contacts.list().first_page()
    assert (caught.value.status, caught.value.code) == (401, "UNAUTHORIZED")


# -- create ------------------------------------------------------------------------------------


async def test_create_returns_the_contact_with_its_groups(
    wacr_sandbox: Sandbox, wire: tuple[Wire, wacr.Client]
) -> None:
    recorder, client = wire
    group = wacr_sandbox.add_group("Newsletter")

    contact = await client.contacts.create(
        **REQUIRED,
        email="ada@example.com",
        company="Analytical Engines",
        description="First programmer",
        city="London",
        state="Greater London",
        zip="NW1",
        address="12 St James's Square",
        country_id=44,
        assigned_id=3,
        groups=[1, group["id"]],
    )

    assert isinstance(contact, Contact)
    assert (contact.firstname, contact.lastname, contact.phone) == ("Ada", "Lovelace", PHONE)
    assert (contact.type, contact.source_id, contact.status_id) == ("lead", 1, 1)
    assert (contact.email, contact.company, contact.city) == (
        "ada@example.com",
        "Analytical Engines",
        "London",
    )
    assert (contact.state, contact.zip, contact.country_id, contact.assigned_id) == (
        "Greater London",
        "NW1",
        44,
        3,
    )
    assert contact.address == "12 St James's Square"
    assert contact.description == "First programmer"
    assert contact.is_opted_out is False
    assert contact.group_id == [1, group["id"]]
    assert contact.groups is not None
    assert [g.name for g in contact.groups] == ["VIP", "Newsletter"]
    stored = wacr_sandbox.state.contacts.get(contact.id)
    assert stored is not None and stored["email"] == "ada@example.com"
    assert recorder.body() == {
        **REQUIRED,
        "email": "ada@example.com",
        "company": "Analytical Engines",
        "description": "First programmer",
        "city": "London",
        "state": "Greater London",
        "zip": "NW1",
        "address": "12 St James's Square",
        "country_id": 44,
        "assigned_id": 3,
        "groups": [1, group["id"]],
    }


async def test_create_sends_only_the_given_optional_fields(
    wire: tuple[Wire, wacr.Client],
) -> None:
    recorder, client = wire

    contact = await client.contacts.create(**REQUIRED)

    assert recorder.body() == REQUIRED
    assert contact.email is None and contact.group_id == [] and contact.groups == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"firstname": ""}, "firstname"),
        ({"lastname": "  "}, "lastname"),
        ({"phone": ""}, "phone"),
        ({"phone": "+1" + "5" * 19}, "phone"),
        ({"type": "vip"}, "type"),
        ({"source_id": 0}, "source_id"),
        ({"status_id": -2}, "status_id"),
        ({"firstname": "x" * 256}, "firstname"),
        ({"email": "not-an-email"}, "email"),
        ({"email": "a@" + "b" * 190}, "email"),
        ({"company": "c" * 256}, "company"),
        ({"city": "c" * 256}, "city"),
        ({"state": "s" * 256}, "state"),
        ({"zip": "1" * 21}, "zip"),
        ({"address": "a" * 501}, "address"),
    ],
)
async def test_create_rejects_bad_fields_locally(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client, change: dict[str, Any], field: str
) -> None:
    with pytest.raises(wacr.ValidationError) as caught:
        await wacr_client.contacts.create(**{**REQUIRED, **change})

    assert caught.value.local is True
    assert list(caught.value.fields) == [field]
    assert no_requests(wacr_sandbox)


async def test_create_accepts_values_at_the_documented_limits(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    contact = await wacr_client.contacts.create(
        **{**REQUIRED, "firstname": "x" * 255, "phone": "+" + "1" * 19},
        email="a@" + "b" * 189,
        zip="1" * 20,
        address="a" * 500,
    )

    assert (len(contact.firstname or ""), len(contact.phone or "")) == (255, 20)
    assert wacr_sandbox.hits["POST /contacts"] == 1


async def test_create_duplicate_phone_and_email_are_rejected_by_the_server(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    wacr_sandbox.add_contact(firstname="Old", lastname="One", phone=PHONE, email="ada@x.example")

    with pytest.raises(wacr.ValidationError) as caught:
        await wacr_client.contacts.create(**REQUIRED, email="ADA@x.example")

    exc = caught.value
    assert (exc.status, exc.code, exc.local) == (422, "VALIDATION_ERROR", False)
    assert exc.fields == {
        "email": ["This email address already exists."],
        "phone": ["This phone number already exists."],
    }
    assert exc.request_id is not None
    assert len(wacr_sandbox.state.contacts) == 1
    assert wacr_sandbox.hits["POST /contacts"] == 1  # a 422 is not retried


async def test_create_unknown_source_and_status(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    with pytest.raises(wacr.ValidationError) as caught:
        await wacr_client.contacts.create(**{**REQUIRED, "source_id": 99, "status_id": 98})

    assert caught.value.fields == {
        "source_id": ["The selected source does not exist or does not belong to your account."],
        "status_id": ["The selected status does not exist or does not belong to your account."],
    }
    assert len(wacr_sandbox.state.contacts) == 0


async def test_create_beyond_the_plan_contact_limit(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    wacr_sandbox.plan.contacts = 2
    wacr_sandbox.seed_contacts(2)

    with pytest.raises(wacr.FeatureLimitExceededError) as caught:
        await wacr_client.contacts.create(**REQUIRED)

    exc = caught.value
    assert (exc.status, exc.code) == (403, "FEATURE_LIMIT_EXCEEDED")
    assert (exc.feature, exc.current, exc.maximum) == ("contacts", 2, 2)
    assert len(wacr_sandbox.state.contacts) == 2
    assert wacr_sandbox.hits["POST /contacts"] == 1

    wacr_sandbox.plan.contacts = 3
    assert (await wacr_client.contacts.create(**REQUIRED)).phone == PHONE


async def test_create_is_not_retried_after_a_server_error(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    wacr_sandbox.faults.add("POST /contacts", error_after=1.0, times=1)

    with wacr.testing.no_wait(), pytest.raises(wacr.InternalServerError):
        await wacr_client.contacts.create(**REQUIRED)

    assert wacr_sandbox.hits["POST /contacts"] == 1


async def test_create_needs_contacts_write(wacr_sandbox: Sandbox) -> None:
    token = scoped(wacr_sandbox, "contacts:read", "contacts:delete")
    await expect_scope(
        wacr_sandbox, token, "contacts:write", lambda c: c.contacts.create(**REQUIRED)
    )
    assert len(wacr_sandbox.state.contacts) == 0


# -- get ---------------------------------------------------------------------------------------


async def test_get_with_and_without_relations(
    wacr_sandbox: Sandbox, wire: tuple[Wire, wacr.Client]
) -> None:
    recorder, client = wire
    row = wacr_sandbox.add_contact(
        firstname="Ada", lastname="L", phone=PHONE, source_id=3, status_id=4, group_id=[1]
    )

    plain = await client.contacts.get(row["id"])
    full = await client.contacts.get(row["id"], include=["groups", "source", "status"])

    assert (plain.id, plain.firstname, plain.group_id) == (row["id"], "Ada", [1])
    assert (plain.groups, plain.source, plain.status) == (None, None, None)
    assert full.groups is not None and [g.name for g in full.groups] == ["VIP"]
    assert full.source is not None and full.source.name == "Referral"
    assert full.status is not None and (full.status.name, full.status.color) == ("Lost", "#EF4444")
    assert recorder.query(0) == []
    assert recorder.query(1) == [("include", "groups,source,status")]
    assert recorder.requests[1][1] == f"/api/v2/contacts/{row['id']}"


async def test_get_keeps_ids_of_deleted_groups_but_does_not_load_them(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    row = wacr_sandbox.add_contact(firstname="Ada", lastname="L", phone=PHONE, group_id=[1, 404])

    contact = await wacr_client.contacts.get(row["id"], include=["groups"])

    assert contact.group_id == [1, 404]
    assert contact.groups is not None and [g.id for g in contact.groups] == [1]


async def test_get_unknown_contact_is_not_found(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    with pytest.raises(wacr.NotFoundError) as caught:
        await wacr_client.contacts.get(12345)

    exc = caught.value
    assert (exc.status, exc.code, exc.message) == (404, "NOT_FOUND", "Contact not found.")
    assert wacr_sandbox.hits["GET /contacts/{id}"] == 1  # a 404 is not retried


@pytest.mark.parametrize("contact_id", [0, -1, True, "7", 1.0])
async def test_get_rejects_a_bad_id_locally(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client, contact_id: Any
) -> None:
    with pytest.raises(wacr.ValidationError) as caught:
        await wacr_client.contacts.get(contact_id)

    assert caught.value.local is True and "contact_id" in caught.value.fields
    assert no_requests(wacr_sandbox)


async def test_get_rejects_a_bad_include_locally(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    with pytest.raises(wacr.ValidationError) as caught:
        await wacr_client.contacts.get(1, include=["groups,status"])  # type: ignore[list-item]

    assert caught.value.local is True and "include" in caught.value.fields
    assert no_requests(wacr_sandbox)


async def test_get_needs_contacts_read(wacr_sandbox: Sandbox) -> None:
    row = wacr_sandbox.add_contact(firstname="Ada", lastname="L", phone=PHONE)
    token = scoped(wacr_sandbox, "contacts:write")
    await expect_scope(wacr_sandbox, token, "contacts:read", lambda c: c.contacts.get(row["id"]))


# -- update ------------------------------------------------------------------------------------


async def test_update_sends_only_the_given_fields(
    wacr_sandbox: Sandbox, wire: tuple[Wire, wacr.Client]
) -> None:
    recorder, client = wire
    row = wacr_sandbox.add_contact(
        firstname="Ada",
        lastname="L",
        phone=PHONE,
        email="ada@x.example",
        company="Old Co",
        city="London",
        group_id=[1],
    )

    contact = await client.contacts.update(row["id"], company="New Co", status_id=2)

    assert recorder.requests[0][:2] == ("PATCH", f"/api/v2/contacts/{row['id']}")
    assert recorder.body() == {"company": "New Co", "status_id": 2}
    assert (contact.company, contact.status_id) == ("New Co", 2)
    # Everything not sent is unchanged.
    assert (contact.firstname, contact.email, contact.city) == ("Ada", "ada@x.example", "London")
    assert contact.group_id == [1]
    assert contact.groups is not None and [g.name for g in contact.groups] == ["VIP"]
    stored = wacr_sandbox.state.contacts.get(row["id"])
    assert stored is not None and (stored["company"], stored["email"]) == (
        "New Co",
        "ada@x.example",
    )


async def test_update_clears_the_named_optional_fields_to_null(
    wacr_sandbox: Sandbox, wire: tuple[Wire, wacr.Client]
) -> None:
    recorder, client = wire
    row = wacr_sandbox.add_contact(
        firstname="Ada", lastname="L", phone=PHONE, company="Old Co", city="London", assigned_id=3
    )

    contact = await client.contacts.update(
        row["id"], city="Paris", clear=["company", "assigned_id"]
    )

    assert recorder.body() == {"city": "Paris", "company": None, "assigned_id": None}
    assert (contact.company, contact.assigned_id, contact.city) == (None, None, "Paris")


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ({"clear": ["firstname"]}, "'firstname' cannot be cleared"),
        ({"clear": ["nickname"]}, "'nickname' cannot be cleared"),
        ({"company": "X", "clear": ["company"]}, "'company' is both given and cleared"),
    ],
)
async def test_update_refuses_what_cannot_be_cleared_locally(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client, options: dict[str, Any], problem: str
) -> None:
    with pytest.raises(wacr.ValidationError, match=problem) as caught:
        await wacr_client.contacts.update(1, **options)
    assert caught.value.local is True
    assert no_requests(wacr_sandbox)


async def test_update_groups_replaces_them(
    wacr_sandbox: Sandbox, wire: tuple[Wire, wacr.Client]
) -> None:
    recorder, client = wire
    other = wacr_sandbox.add_group("Newsletter")["id"]
    row = wacr_sandbox.add_contact(firstname="Ada", lastname="L", phone=PHONE, group_id=[1])

    replaced = await client.contacts.update(row["id"], groups=(other,))
    assert replaced.group_id == [other]
    assert recorder.body() == {"groups": [other]}

    cleared = await client.contacts.update(row["id"], groups=[])
    assert cleared.group_id == [] and cleared.groups == []
    assert recorder.body() == {"groups": []}


async def test_update_with_nothing_to_change_sends_an_empty_patch(
    wacr_sandbox: Sandbox, wire: tuple[Wire, wacr.Client]
) -> None:
    recorder, client = wire
    row = wacr_sandbox.add_contact(firstname="Ada", lastname="L", phone=PHONE)

    contact = await client.contacts.update(row["id"])

    assert recorder.body() == {}
    assert (contact.id, contact.firstname) == (row["id"], "Ada")


async def test_update_keeping_its_own_phone_and_email_is_allowed(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    row = wacr_sandbox.add_contact(firstname="Ada", lastname="L", phone=PHONE, email="a@x.example")

    contact = await wacr_client.contacts.update(
        row["id"], phone=PHONE, email="a@x.example", firstname="Augusta"
    )

    assert (contact.firstname, contact.phone) == ("Augusta", PHONE)


async def test_update_to_another_contacts_phone_or_email_is_rejected(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    wacr_sandbox.add_contact(
        firstname="Bo", lastname="B", phone="+15550002222", email="b@x.example"
    )
    row = wacr_sandbox.add_contact(firstname="Ada", lastname="L", phone=PHONE)

    with pytest.raises(wacr.ValidationError) as caught:
        await wacr_client.contacts.update(row["id"], phone="+15550002222", email="B@X.example")

    assert caught.value.local is False
    assert caught.value.fields == {
        "email": ["This email address already exists."],
        "phone": ["This phone number already exists."],
    }
    stored = wacr_sandbox.state.contacts.get(row["id"])
    assert stored is not None and stored["phone"] == PHONE


async def test_update_unknown_source_is_rejected(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    row = wacr_sandbox.add_contact(firstname="Ada", lastname="L", phone=PHONE)

    with pytest.raises(wacr.ValidationError) as caught:
        await wacr_client.contacts.update(row["id"], source_id=77)

    assert list(caught.value.fields) == ["source_id"]


async def test_update_unknown_contact_is_not_found(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    with pytest.raises(wacr.NotFoundError) as caught:
        await wacr_client.contacts.update(4242, company="X")

    assert (caught.value.status, caught.value.code) == (404, "NOT_FOUND")


@pytest.mark.parametrize(
    ("contact_id", "change", "field"),
    [
        (0, {"company": "X"}, "contact_id"),
        (1, {"firstname": ""}, "firstname"),
        (1, {"lastname": " "}, "lastname"),
        (1, {"phone": ""}, "phone"),
        (1, {"type": "vip"}, "type"),
        (1, {"source_id": 0}, "source_id"),
        (1, {"email": "nope"}, "email"),
        (1, {"zip": "9" * 21}, "zip"),
        (1, {"address": "a" * 501}, "address"),
    ],
)
async def test_update_rejects_bad_fields_locally(
    wacr_sandbox: Sandbox,
    wacr_client: wacr.Client,
    contact_id: int,
    change: dict[str, Any],
    field: str,
) -> None:
    wacr_sandbox.add_contact(firstname="Ada", lastname="L", phone=PHONE)

    with pytest.raises(wacr.ValidationError) as caught:
        await wacr_client.contacts.update(contact_id, **change)

    assert caught.value.local is True
    assert list(caught.value.fields) == [field]
    assert no_requests(wacr_sandbox)


async def test_update_needs_contacts_write(wacr_sandbox: Sandbox) -> None:
    row = wacr_sandbox.add_contact(firstname="Ada", lastname="L", phone=PHONE)
    token = scoped(wacr_sandbox, "contacts:read")
    await expect_scope(
        wacr_sandbox, token, "contacts:write", lambda c: c.contacts.update(row["id"], city="X")
    )
    stored = wacr_sandbox.state.contacts.get(row["id"])
    assert stored is not None and stored["city"] is None


# -- delete ------------------------------------------------------------------------------------


async def test_delete_removes_the_contact(wacr_sandbox: Sandbox, wacr_client: wacr.Client) -> None:
    row = wacr_sandbox.add_contact(firstname="Ada", lastname="L", phone=PHONE)

    assert await wacr_client.contacts.delete(row["id"]) is None

    assert wacr_sandbox.state.contacts.get(row["id"]) is None
    with pytest.raises(wacr.NotFoundError):
        await wacr_client.contacts.get(row["id"])
    # The phone is free again.
    assert (await wacr_client.contacts.create(**REQUIRED)).phone == PHONE


async def test_delete_unknown_contact_is_not_found(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    with pytest.raises(wacr.NotFoundError) as caught:
        await wacr_client.contacts.delete(999)

    assert (caught.value.status, caught.value.code) == (404, "NOT_FOUND")
    assert wacr_sandbox.hits["DELETE /contacts/{id}"] == 1


async def test_delete_retried_after_a_lost_answer_takes_the_404_as_done(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    row = wacr_sandbox.add_contact(firstname="Ada", lastname="L", phone=PHONE)
    wacr_sandbox.faults.add("DELETE /contacts/{id}", drop_after=1.0, times=1)

    with wacr.testing.no_wait():
        await wacr_client.contacts.delete(row["id"])

    assert wacr_sandbox.hits["DELETE /contacts/{id}"] == 2
    assert wacr_sandbox.state.contacts.get(row["id"]) is None


async def test_delete_rejects_a_bad_id_locally(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    with pytest.raises(wacr.ValidationError) as caught:
        await wacr_client.contacts.delete(0)

    assert caught.value.local is True
    assert no_requests(wacr_sandbox)


async def test_delete_needs_contacts_delete(wacr_sandbox: Sandbox) -> None:
    row = wacr_sandbox.add_contact(firstname="Ada", lastname="L", phone=PHONE)
    token = scoped(wacr_sandbox, "contacts:read", "contacts:write")
    await expect_scope(
        wacr_sandbox, token, "contacts:delete", lambda c: c.contacts.delete(row["id"])
    )
    assert wacr_sandbox.state.contacts.get(row["id"]) is not None


# -- create_many (POST /contacts/batch) ----------------------------------------------------------


def row(phone: str, **fields: Any) -> dict[str, Any]:
    return {**REQUIRED, "phone": phone, **fields}


async def test_create_many_creates_every_row(
    wacr_sandbox: Sandbox, wire: tuple[Wire, wacr.Client]
) -> None:
    recorder, client = wire

    result = await client.contacts.create_many(
        [
            wacr.NewContact(
                firstname="Ada",
                lastname="L",
                phone="+10000000001",
                type="lead",
                source_id=1,
                status_id=2,
                city="London",
            ),
            row("+10000000002", type="customer", email="b@x.example"),
        ]
    )

    assert isinstance(result, BatchCreateResult)
    assert (result.summary.total, result.summary.created) == (2, 2)
    assert (result.summary.skipped, result.summary.failed) == (0, 0)
    assert (result.skipped, result.errors) == ([], [])
    assert [c.phone for c in result.created] == ["+10000000001", "+10000000002"]
    assert [c.type for c in result.created] == ["lead", "customer"]
    assert result.created[0].city == "London" and result.created[0].status_id == 2
    assert all(wacr_sandbox.state.contacts.get(c.id) is not None for c in result.created)
    sent = recorder.body()
    assert sent["options"] == {"skip_duplicates": False, "continue_on_error": True}
    # None fields of a NewContact are not sent.
    assert sent["contacts"][0] == {
        "firstname": "Ada",
        "lastname": "L",
        "phone": "+10000000001",
        "type": "lead",
        "source_id": 1,
        "status_id": 2,
        "city": "London",
    }


async def test_create_many_skip_duplicates(
    wacr_sandbox: Sandbox, wire: tuple[Wire, wacr.Client]
) -> None:
    recorder, client = wire
    wacr_sandbox.add_contact(firstname="Old", lastname="O", phone="+10000000001")

    result = await client.contacts.create_many(
        [row("+10000000001"), row("+10000000002")], skip_duplicates=True
    )

    assert recorder.body()["options"]["skip_duplicates"] is True
    assert (result.summary.total, result.summary.created, result.summary.skipped) == (2, 1, 1)
    [skipped] = result.skipped
    assert (skipped.index, skipped.reason) == (0, "Duplicate phone")
    assert skipped.data["phone"] == "+10000000001"
    assert [c.phone for c in result.created] == ["+10000000002"]
    assert len(wacr_sandbox.state.contacts) == 2


async def test_create_many_without_skip_duplicates_does_not_check_uniqueness(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    # REFERENCE §5: the batch endpoint checks neither phone/email uniqueness nor the plan limit.
    wacr_sandbox.add_contact(firstname="Old", lastname="O", phone="+10000000001")
    wacr_sandbox.plan.contacts = 1

    result = await wacr_client.contacts.create_many([row("+10000000001")])

    assert (result.summary.created, result.summary.skipped) == (1, 0)
    assert len(wacr_sandbox.state.contacts) == 2


async def test_create_many_reports_rows_the_server_rejects(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    rows: list[dict[str, Any]] = [
        row("+10000000001"),
        {**row("+10000000002"), "lastname": None, "type": "vip"},
        row("+10000000003"),
    ]

    result = await wacr_client.contacts.create_many(rows)

    assert (result.summary.total, result.summary.created, result.summary.failed) == (3, 2, 1)
    [failed] = result.errors
    assert failed.index == 1
    # The batch endpoint's messages are not documented; the failing fields are.
    assert sorted(failed.errors) == ["lastname", "type"]
    assert all(len(messages) == 1 for messages in failed.errors.values())
    assert failed.data["phone"] == "+10000000002"
    assert [c.phone for c in result.created] == ["+10000000001", "+10000000003"]


async def test_create_many_stop_on_error_checks_rows_locally_first(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    with pytest.raises(wacr.ValidationError) as caught:
        await wacr_client.contacts.create_many(
            [row("+10000000001"), row("+10000000002", type="vip")], continue_on_error=False
        )

    assert caught.value.local is True
    assert list(caught.value.fields) == ["contacts.1.type"]
    assert no_requests(wacr_sandbox)


async def test_create_many_stop_on_error_rolls_the_batch_back(
    wacr_sandbox: Sandbox, wire: tuple[Wire, wacr.Client]
) -> None:
    recorder, client = wire
    # Passes the client's email check ("user@domain") but not the server's email rule.
    bad_email = "ada lovelace@example.com"

    with pytest.raises(wacr.ValidationError) as caught:
        await client.contacts.create_many(
            [row("+10000000001"), row("+10000000002", email=bad_email), row("+10000000003")],
            continue_on_error=False,
        )

    exc = caught.value
    assert recorder.body()["options"]["continue_on_error"] is False
    assert (exc.status, exc.code, exc.local) == (422, "VALIDATION_ERROR", False)
    assert exc.message == "Batch operation failed"
    assert exc.details["summary"] == {"total": 3, "created": 1, "skipped": 0, "failed": 1}
    [failed] = exc.details["errors"]
    assert failed["index"] == 1
    assert list(exc.fields) == ["contacts.1.email"]
    assert exc.fields["contacts.1.email"] == failed["errors"]["email"]
    assert len(wacr_sandbox.state.contacts) == 0  # the first row was rolled back
    assert wacr_sandbox.hits["POST /contacts/batch"] == 1


async def test_create_many_rejects_empty_and_odd_input_locally(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    with pytest.raises(wacr.ValidationError) as caught:
        await wacr_client.contacts.create_many([])
    assert caught.value.local is True and "contacts" in caught.value.fields

    with pytest.raises(TypeError):
        await wacr_client.contacts.create_many(["+10000000001"])  # type: ignore[list-item]

    assert no_requests(wacr_sandbox)


async def test_create_many_is_not_retried_after_a_server_error(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    wacr_sandbox.faults.add("POST /contacts/batch", error_after=1.0, times=1)

    with wacr.testing.no_wait(), pytest.raises(wacr.InternalServerError):
        await wacr_client.contacts.create_many([row("+10000000001")])

    assert wacr_sandbox.hits["POST /contacts/batch"] == 1


async def test_create_many_needs_contacts_write(wacr_sandbox: Sandbox) -> None:
    token = scoped(wacr_sandbox, "contacts:read", "contacts:delete")
    await expect_scope(
        wacr_sandbox,
        token,
        "contacts:write",
        lambda c: c.contacts.create_many([row("+10000000001")]),
    )
    assert len(wacr_sandbox.state.contacts) == 0


# -- delete_many (DELETE /contacts/batch) --------------------------------------------------------


async def test_delete_many_counts_unknown_ids_as_failed(
    wacr_sandbox: Sandbox, wire: tuple[Wire, wacr.Client]
) -> None:
    recorder, client = wire
    ids = list(wacr_sandbox.seed_contacts(3))

    result = await client.contacts.delete_many(iter([ids[0], ids[2], 9999]))

    assert isinstance(result, BatchDeleteResult)
    assert (result.total, result.deleted, result.failed) == (3, 2, 1)
    assert recorder.requests[0][:2] == ("DELETE", "/api/v2/contacts/batch")
    assert recorder.body() == {"ids": [ids[0], ids[2], 9999]}
    assert [row["id"] for row in wacr_sandbox.state.contacts] == [ids[1]]


async def test_delete_many_with_only_unknown_ids_still_succeeds(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    result = await wacr_client.contacts.delete_many([1001, 1002])

    assert (result.total, result.deleted, result.failed) == (2, 0, 2)


async def test_delete_many_is_not_resent_after_a_lost_answer(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    ids = list(wacr_sandbox.seed_contacts(2))
    wacr_sandbox.faults.add("DELETE /contacts/batch", drop_after=1.0, times=1)

    with wacr.testing.no_wait(), pytest.raises(wacr.OutcomeUnknownError):
        await wacr_client.contacts.delete_many(ids)

    # Not even aiohttp's own retry of a DELETE on a dropped connection may resend it.
    assert wacr_sandbox.hits["DELETE /contacts/batch"] == 1
    assert len(wacr_sandbox.state.contacts) == 0


async def test_delete_many_rejects_an_empty_list_locally(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    with pytest.raises(wacr.ValidationError) as caught:
        await wacr_client.contacts.delete_many([])

    assert caught.value.local is True and "ids" in caught.value.fields
    assert no_requests(wacr_sandbox)


async def test_delete_many_server_validates_the_ids(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    with pytest.raises(wacr.ValidationError) as caught:
        await wacr_client.contacts.delete_many([1, "two"])  # type: ignore[list-item]

    assert caught.value.local is False
    assert list(caught.value.fields) == ["ids.1"]


async def test_delete_many_needs_contacts_delete(wacr_sandbox: Sandbox) -> None:
    ids = list(wacr_sandbox.seed_contacts(2))
    token = scoped(wacr_sandbox, "contacts:read", "contacts:write")
    await expect_scope(
        wacr_sandbox, token, "contacts:delete", lambda c: c.contacts.delete_many(ids)
    )
    assert len(wacr_sandbox.state.contacts) == 2
