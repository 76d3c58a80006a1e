"""The list engine: pagination meta and links, clamping, every filter operator, sort,
search, fields, include."""

from __future__ import annotations

from typing import Any

import pytest

from wacr_async.testing import Sandbox

# (firstname, lastname, type, status_id, source_id, assigned_id, groups, company, email)
PEOPLE = [
    ("Ada", "Lovelace", "lead", 1, 1, None, [1], "Analytical", "ada@example.com"),
    ("Grace", "Hopper", "customer", 2, 1, 7, [], None, "grace@navy.mil"),
    ("Alan", "Turing", "guest", 3, 2, None, [1, 2], "Bletchley", None),
    ("Linus", "Torvalds", "lead", 4, 2, 8, [2], None, "linus@kernel.org"),
    ("Barbara", "Liskov", "customer", 1, 3, 7, [], "MIT", None),
    ("ken", "Thompson", "lead", 2, 3, None, [1], None, "ken@bell.com"),
]


@pytest.fixture
async def people(sandbox: Sandbox) -> Sandbox:
    sandbox.add_group("Second")  # id 2 (id 1 is the seeded VIP group)
    for day, (first, last, kind, status, source, assigned, groups, company, email) in enumerate(
        PEOPLE, start=1
    ):
        sandbox.add_contact(
            firstname=first,
            lastname=last,
            type=kind,
            status_id=status,
            source_id=source,
            assigned_id=assigned,
            group_id=groups,
            company=company,
            email=email,
            phone=f"+1555000{day:04d}",
            created_at=f"2025-01-{day:02d}T12:00:00+00:00",
        )
    return sandbox


async def ids(api: Any, query: str) -> list[int]:
    reply = await api.get(f"/contacts?per_page=100&{query}")
    assert reply.status == 200, reply.body
    return [item["id"] for item in reply.data]


async def test_pagination_meta_and_links(api: Any, sandbox: Sandbox) -> None:
    sandbox.seed_contacts(40)
    first = await api.get("/contacts")
    assert len(first.data) == 15
    assert first.body["meta"]["pagination"] == {
        "total": 40,
        "count": 15,
        "per_page": 15,
        "current_page": 1,
        "total_pages": 3,
        "has_more": True,
    }
    base = f"{sandbox.url}/contacts"
    assert first.body["links"] == {
        "self": f"{base}?page=1?page=1",  # List Contacts' real quirk
        "first": f"{base}?page=1",
        "last": f"{base}?page=3",
        "prev": None,
        "next": f"{base}?page=2",
    }
    last = await api.get("/contacts?page=3")
    assert [item["id"] for item in last.data] == list(range(31, 41))
    assert last.body["meta"]["pagination"]["has_more"] is False
    assert last.body["links"]["next"] is None
    assert last.body["links"]["prev"] == f"{base}?page=2"


async def test_per_page_and_page_are_clamped(api: Any, sandbox: Sandbox) -> None:
    sandbox.seed_contacts(120)
    cases = {
        "per_page=500": 100,
        "per_page=100": 100,
        "per_page=0": 15,
        "per_page=-4": 15,
        "per_page=abc": 15,
        "per_page=7": 7,
    }
    for query, expected in cases.items():
        reply = await api.get(f"/contacts?{query}")
        assert reply.body["meta"]["pagination"]["per_page"] == expected, query
        assert len(reply.data) == expected
    for page in ("0", "-1", "x"):
        reply = await api.get(f"/contacts?page={page}")
        assert reply.body["meta"]["pagination"]["current_page"] == 1
        assert reply.data[0]["id"] == 1


async def test_page_beyond_the_end(api: Any, sandbox: Sandbox) -> None:
    sandbox.seed_contacts(5)
    reply = await api.get("/contacts?page=9")
    assert reply.data == []
    pagination = reply.body["meta"]["pagination"]
    assert pagination["total"] == 5
    assert pagination["count"] == 1  # to - from + 1 with both null: the real quirk
    assert pagination["has_more"] is False
    assert reply.body["links"]["prev"].endswith("?page=8")
    messages = await api.get("/messages?page=9")
    assert messages.body["meta"]["pagination"]["count"] == 0  # other lists count correctly
    assert "request_id" in messages.body["meta"]
    assert messages.body["links"]["self"] == f"{sandbox.url}/messages?page=9"


@pytest.mark.usefixtures("people")
async def test_exact_and_operator_filters(api: Any) -> None:
    expectations = {
        "filter[type]=lead": [1, 4, 6],
        "filter[type]=LEAD": [1, 4, 6],  # case-insensitive, like MySQL
        "filter[status_id]=2": [2, 6],
        "filter[status_id][gte]=3": [3, 4],
        "filter[status_id][%3E%3D]=3": [3, 4],
        "filter[status_id][lte]=1": [1, 5],
        "filter[status_id][%3C%3D]=1": [1, 5],
        "filter[status_id][gt]=3": [4],
        "filter[status_id][%3E]=3": [4],
        "filter[status_id][lt]=2": [1, 5],
        "filter[status_id][%3C]=2": [1, 5],
        "filter[status_id][ne]=1": [2, 3, 4, 6],
        "filter[status_id][%21%3D]=1": [2, 3, 4, 6],
        "filter[status_id][in]=1,3": [1, 3, 5],
        "filter[status_id][in][]=1&filter[status_id][in][]=4": [1, 4, 5],
        "filter[status_id][not_in]=1,2": [3, 4],
        "filter[status_id][between]=2,3": [2, 3, 6],
        "filter[type][like]=lea": [1, 4, 6],
        "filter[type][like]=us": [2, 5],
        "filter[assigned_id][null]=true": [1, 3, 6],
        "filter[assigned_id][null]=false": [2, 4, 5],
        "filter[assigned_id]=7": [2, 5],
        "filter[source_id]=2&filter[type]=lead": [4],
        "filter[group_id]=1": [1, 3, 6],
        "filter[group_id]=2": [3, 4],
        "filter[nonsense]=1": [1, 2, 3, 4, 5, 6],  # unknown filter fields are ignored
        "filter[email]=ada@example.com": [1, 2, 3, 4, 5, 6],  # not an allowed filter
        "filter[status_id][weird]=2": [2, 6],  # unknown operator: exact match
        "filter[status_id]=abc": [],
    }
    for query, expected in expectations.items():
        assert await ids(api, query) == expected, query


@pytest.mark.usefixtures("people")
async def test_date_filters(api: Any) -> None:
    expectations = {
        "filter[created_at][gte]=2025-01-03": [3, 4, 5, 6],
        "filter[created_at][gt]=2025-01-03": [4, 5, 6],  # date-only compares whole days
        "filter[created_at][lte]=2025-01-02": [1, 2],  # includes all of Jan 2nd
        "filter[created_at][lt]=2025-01-02": [1],
        "filter[created_at]=2025-01-04": [4],
        "filter[created_at][between]=2025-01-02,2025-01-04": [2, 3, 4],
        "filter[created_at][gte]=2025-01-03T12:00:00Z": [3, 4, 5, 6],
        "filter[created_at][gt]=2025-01-03T12:00:00Z": [4, 5, 6],
        "filter[created_at][gte]=2025-01-03T12:00:01%2B00:00": [4, 5, 6],
        "filter[created_at][lt]=2025-01-03T14:00:00%2B02:00": [1, 2],  # = 12:00 UTC
        "filter[created_at][lte]=2025-01-03 12:00:00": [1, 2, 3],  # naive means UTC
        "filter[created_at][gte]=2025-01-05T11:59:59.500Z": [5, 6],
        "filter[created_at][ne]=2025-01-01": [2, 3, 4, 5, 6],
        "filter[created_at][not_in]=2025-01-01,2025-01-06": [2, 3, 4, 5],
    }
    for query, expected in expectations.items():
        assert await ids(api, query) == expected, query


async def test_sort(api: Any, people: Sandbox) -> None:
    assert await ids(api, "sort=firstname") == [1, 3, 5, 2, 6, 4]  # case-insensitive
    assert await ids(api, "sort=-firstname") == [4, 6, 2, 5, 3, 1]
    assert await ids(api, "sort=-id") == [6, 5, 4, 3, 2, 1]
    assert await ids(api, "sort=-created_at") == [6, 5, 4, 3, 2, 1]
    lastnames = sorted(PEOPLE, key=lambda p: p[1].casefold())
    assert await ids(api, "sort=lastname") == [PEOPLE.index(p) + 1 for p in lastnames]
    assert await ids(api, "sort=nonsense") == [1, 2, 3, 4, 5, 6]  # unknown sort ignored
    assert await ids(api, "sort=email,-id") == [6, 5, 4, 3, 2, 1]  # email not sortable
    assert await ids(api, "sort=type") == [1, 2, 3, 4, 5, 6]  # type is not sortable here
    # Several keys: first name ascending, then newest first among equal names.
    for day in (7, 8):
        people.add_contact(
            firstname="Ada", lastname="Two", created_at=f"2025-01-{day:02d}T00:00:00+00:00"
        )
    assert await ids(api, "sort=firstname,-created_at") == [8, 7, 1, 3, 5, 2, 6, 4]
    assert await ids(api, "sort=firstname,created_at") == [1, 7, 8, 3, 5, 2, 6, 4]


@pytest.mark.usefixtures("people")
async def test_search_and_q(api: Any) -> None:
    assert await ids(api, "search=ada") == [1]
    assert await ids(api, "q=ada") == [1]
    assert await ids(api, "search=navy") == [2]  # email
    assert await ids(api, "search=bletch") == [3]  # company
    assert await ids(api, "search=5550000004") == [4]  # phone
    assert await ids(api, "search=TOR") == [4]  # lastname, case-insensitive
    assert await ids(api, "search=ken&q=ada") == [6]  # search wins over q
    assert await ids(api, "search=zzz") == []
    assert await ids(api, "search=lisk&filter[type]=customer") == [5]
    assert await ids(api, "search=lisk&filter[type]=lead") == []


@pytest.mark.usefixtures("people")
async def test_include_and_fields_on_contacts(api: Any) -> None:
    reply = await api.get("/contacts?per_page=3&include=groups,source,status,bogus")
    first = reply.data[0]
    assert first["groups"] == [
        {
            "id": 1,
            "name": "VIP",
            "created_at": first["groups"][0]["created_at"],
            "updated_at": first["groups"][0]["updated_at"],
        }
    ]
    assert first["source"]["name"] == "Website"
    assert first["status"]["name"] == "New"
    assert first["status"]["color"] == "#3B82F6"
    assert "bogus" not in first
    plain = await api.get("/contacts?per_page=1")
    assert "groups" not in plain.data[0]
    assert plain.data[0]["group_id"] == [1]
    # The server adds every contact column back whatever `fields` says.
    narrowed = await api.get("/contacts?per_page=1&fields=id,firstname")
    assert set(narrowed.data[0]) == set(plain.data[0])
    one = await api.get("/contacts/3?include=groups")
    assert [group["id"] for group in one.data["groups"]] == [1, 2]


async def test_fields_on_templates_and_messages(api: Any, sandbox: Sandbox) -> None:
    reply = await api.get("/templates?fields=template_name,status")
    assert all(set(item) == {"id", "template_name", "status"} for item in reply.data)
    sandbox.receive("+15550009999", "hello")
    messages = await api.get("/messages?fields=message")
    assert messages.data == [{"id": messages.data[0]["id"], "message": "hello"}]


async def test_large_table_paging_is_fast(api: Any, sandbox: Sandbox) -> None:
    sandbox.seed_contacts(200_000)
    reply = await api.get("/contacts?per_page=100&page=2000")
    assert [item["id"] for item in reply.data] == list(range(199_901, 200_001))
    assert reply.body["meta"]["pagination"]["total_pages"] == 2000
    reverse = await api.get("/contacts?per_page=100&page=2000&sort=-id")
    assert reverse.data[0]["id"] == 100
    filtered = await api.get("/contacts?per_page=100&page=3&filter[type]=guest")
    assert filtered.body["meta"]["pagination"]["total"] == 66_666
    assert all(item["type"] == "guest" for item in filtered.data)
