"""client.groups against the sandbox: list/create/get/update/delete, membership add/remove,
their documented errors (422 field maps, 404, 401, 403 scopes) and the client-side checks."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

import wacr_async as wacr
from tests.resources._support import Wire, no_requests
from wacr_async.models.groups import Group, GroupMembershipResult
from wacr_async.testing import Sandbox


def group_ids_of(sandbox: Sandbox, contact_id: int) -> list[int]:
    row = sandbox.state.contacts.get(contact_id)
    assert row is not None
    return list(row["group_id"])


def contact(sandbox: Sandbox, phone: str, **fields: Any) -> int:
    row = sandbox.add_contact(firstname="Ada", lastname="L", phone=phone, **fields)
    return int(row["id"])


# -- create ------------------------------------------------------------------------------------


async def test_create_group(wacr_sandbox: Sandbox) -> None:
    sent = Wire()
    async with wacr_sandbox.client(trace_configs=[sent.trace]) as client:
        group = await client.groups.create(name="Newsletter")

    assert isinstance(group, Group)
    assert group.name == "Newsletter"
    assert group.created_at is not None and group.created_at.tzinfo is not None
    assert group.updated_at == group.created_at
    stored = wacr_sandbox.state.groups.get(group.id)
    assert stored is not None and stored["name"] == "Newsletter"
    assert sent.bodies == [("POST", "/groups", {"name": "Newsletter"})]
    assert wacr_sandbox.hits["POST /groups"] == 1


async def test_create_group_accepts_a_255_character_name(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    group = await wacr_client.groups.create(name="g" * 255)

    assert len(group.name) == 255


async def test_create_group_with_a_taken_name_is_a_422_on_name(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    before = len(wacr_sandbox.state.groups)

    with pytest.raises(wacr.ValidationError) as caught:
        await wacr_client.groups.create(name="VIP")  # seeded

    error = caught.value
    assert (error.status, error.code, error.local) == (422, "VALIDATION_ERROR", False)
    assert error.fields == {"name": ["A group with this name already exists."]}
    assert len(wacr_sandbox.state.groups) == before
    assert wacr_sandbox.hits["POST /groups"] == 1  # a 422 is not retried


@pytest.mark.parametrize("name", ["", "   ", "x" * 256])
async def test_create_group_checks_the_name_before_sending(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client, name: str
) -> None:
    with pytest.raises(wacr.ValidationError) as caught:
        await wacr_client.groups.create(name=name)

    assert caught.value.local is True
    assert list(caught.value.fields) == ["name"]
    assert no_requests(wacr_sandbox)


async def test_create_group_is_not_retried_when_the_answer_is_lost(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    wacr_sandbox.faults.add("POST /groups", drop_after=1.0, times=1)

    with wacr.testing.no_wait(), pytest.raises(wacr.OutcomeUnknownError):
        await wacr_client.groups.create(name="Maybe")

    assert wacr_sandbox.hits["POST /groups"] == 1
    assert [g["name"] for g in wacr_sandbox.state.groups].count("Maybe") == 1


# -- list --------------------------------------------------------------------------------------


async def test_list_groups_sort_search_and_pages(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    for name in ("Zeta", "alpha", "Beta club", "Gamma club"):
        wacr_sandbox.add_group(name)

    everything = await wacr_client.groups.list().collect()
    assert [g.name for g in everything] == ["VIP", "Zeta", "alpha", "Beta club", "Gamma club"]
    assert all(isinstance(g, Group) for g in everything)

    by_name = await wacr_client.groups.list(sort="name").collect()
    assert [g.name for g in by_name] == ["alpha", "Beta club", "Gamma club", "VIP", "Zeta"]
    by_name_desc = await wacr_client.groups.list(sort=["-name"]).collect()
    assert [g.name for g in by_name_desc] == ["Zeta", "VIP", "Gamma club", "Beta club", "alpha"]

    clubs = await wacr_client.groups.list(search="CLUB", sort="-name").collect()
    assert [g.name for g in clubs] == ["Gamma club", "Beta club"]

    pages = [page async for page in wacr_client.groups.list(per_page=2, sort="name").pages()]
    assert [[g.name for g in page.items] for page in pages] == [
        ["alpha", "Beta club"],
        ["Gamma club", "VIP"],
        ["Zeta"],
    ]
    assert pages[0].total == 5


async def test_list_groups_filter_created_at(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    wacr_sandbox.advance(3600)
    newer = wacr_sandbox.add_group("Newer")
    since = wacr_sandbox.clock.now() - timedelta(minutes=1)

    recent = await wacr_client.groups.list(filter={"created_at": wacr.gte(since)}).collect()
    older = await wacr_client.groups.list(filter={"created_at": wacr.lt(since)}).collect()

    assert [g.id for g in recent] == [newer["id"]]
    assert [g.name for g in older] == ["VIP"]


async def test_list_groups_checks_its_query_before_sending(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    with pytest.raises(wacr.ValidationError) as caught:
        await wacr_client.groups.list(filter={"created_at": None}).collect()

    assert caught.value.local is True
    assert no_requests(wacr_sandbox)


# -- get ---------------------------------------------------------------------------------------


async def test_get_group(wacr_sandbox: Sandbox, wacr_client: wacr.Client) -> None:
    row = wacr_sandbox.add_group("Partners")

    group = await wacr_client.groups.get(row["id"])

    assert (group.id, group.name) == (row["id"], "Partners")
    assert group.created_at is not None


async def test_get_unknown_group_is_not_found(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    with pytest.raises(wacr.NotFoundError) as caught:
        await wacr_client.groups.get(999)

    assert (caught.value.status, caught.value.code) == (404, "NOT_FOUND")
    assert wacr_sandbox.hits["GET /groups/{id}"] == 1  # a 404 is not retried


@pytest.mark.parametrize("bad_id", [0, -3, True, "1"])
async def test_group_ids_are_checked_before_sending(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client, bad_id: Any
) -> None:
    calls = [
        wacr_client.groups.get(bad_id),
        wacr_client.groups.update(bad_id, name="X"),
        wacr_client.groups.delete(bad_id),
        wacr_client.groups.add_contacts(bad_id, [1]),
        wacr_client.groups.remove_contacts(bad_id, [1]),
    ]
    for call in calls:
        with pytest.raises(wacr.ValidationError) as caught:
            await call
        assert caught.value.local is True
        assert caught.value.fields.keys() == {"group_id"}

    assert no_requests(wacr_sandbox)


# -- update ------------------------------------------------------------------------------------


async def test_update_group_renames_and_sends_only_the_name(wacr_sandbox: Sandbox) -> None:
    row = wacr_sandbox.add_group("Old name")
    created = row["created_at"]
    wacr_sandbox.advance(120)
    sent = Wire()

    async with wacr_sandbox.client(trace_configs=[sent.trace]) as client:
        group = await client.groups.update(row["id"], name="New name")

    assert (group.id, group.name) == (row["id"], "New name")
    assert group.updated_at is not None and group.created_at is not None
    assert group.updated_at - group.created_at >= timedelta(seconds=120)
    assert wacr_sandbox.state.groups.get(row["id"]) == {
        **row,
        "name": "New name",
        "created_at": created,
    }
    assert sent.bodies == [("PATCH", f"/groups/{row['id']}", {"name": "New name"})]


async def test_update_group_may_keep_its_own_name(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    group = await wacr_client.groups.update(1, name="VIP")  # unique excluding itself

    assert group.name == "VIP"


async def test_update_group_to_another_groups_name_is_a_422(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    row = wacr_sandbox.add_group("Partners")

    with pytest.raises(wacr.ValidationError) as caught:
        await wacr_client.groups.update(row["id"], name="VIP")

    assert caught.value.local is False
    assert caught.value.fields == {"name": ["A group with this name already exists."]}
    assert [g["name"] for g in wacr_sandbox.state.groups] == ["VIP", "Partners"]


async def test_update_unknown_group_is_not_found(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    with pytest.raises(wacr.NotFoundError) as caught:
        await wacr_client.groups.update(999, name="Ghost")

    assert caught.value.code == "NOT_FOUND"
    assert wacr_sandbox.hits["PATCH /groups/{id}"] == 1


@pytest.mark.parametrize("name", ["", " ", "n" * 256])
async def test_update_group_checks_the_name_before_sending(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client, name: str
) -> None:
    with pytest.raises(wacr.ValidationError) as caught:
        await wacr_client.groups.update(1, name=name)

    assert caught.value.local is True
    assert list(caught.value.fields) == ["name"]
    assert no_requests(wacr_sandbox)


async def test_update_group_is_retried_after_a_server_error(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    wacr_sandbox.faults.add("PATCH /groups/{id}", error_before=1.0, times=1)

    with wacr.testing.no_wait():
        group = await wacr_client.groups.update(1, name="VIP members")

    assert group.name == "VIP members"
    assert wacr_sandbox.hits["PATCH /groups/{id}"] == 2


# -- delete ------------------------------------------------------------------------------------


async def test_delete_group(wacr_sandbox: Sandbox, wacr_client: wacr.Client) -> None:
    row = wacr_sandbox.add_group("Temporary")
    member = contact(wacr_sandbox, "+15550001111", group_id=[row["id"]])

    await wacr_client.groups.delete(row["id"])

    assert wacr_sandbox.state.groups.get(row["id"]) is None
    with pytest.raises(wacr.NotFoundError):
        await wacr_client.groups.get(row["id"])
    # Documented server behaviour: the id stays in the contacts' group_id arrays.
    assert group_ids_of(wacr_sandbox, member) == [row["id"]]


async def test_delete_unknown_group_is_not_found(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    with pytest.raises(wacr.NotFoundError) as caught:
        await wacr_client.groups.delete(999)

    assert (caught.value.status, caught.value.code) == (404, "NOT_FOUND")
    assert wacr_sandbox.hits["DELETE /groups/{id}"] == 1


async def test_delete_group_retried_after_a_lost_answer_counts_the_404_as_done(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    row = wacr_sandbox.add_group("Temporary")
    wacr_sandbox.faults.add("DELETE /groups/{id}", drop_after=1.0, times=1)

    with wacr.testing.no_wait():
        await wacr_client.groups.delete(row["id"])

    assert wacr_sandbox.hits["DELETE /groups/{id}"] == 2
    assert wacr_sandbox.state.groups.get(row["id"]) is None


# -- membership --------------------------------------------------------------------------------


async def test_add_contacts_counts_only_new_members(wacr_sandbox: Sandbox) -> None:
    group = wacr_sandbox.add_group("Newsletter")
    gid = group["id"]
    other = wacr_sandbox.add_group("Other")["id"]
    a = contact(wacr_sandbox, "+15550001111", group_id=[other])
    b = contact(wacr_sandbox, "+15550002222")
    c = contact(wacr_sandbox, "+15550003333")
    sent = Wire()

    async with wacr_sandbox.client(trace_configs=[sent.trace]) as client:
        first = await client.groups.add_contacts(gid, [a, b])
        second = await client.groups.add_contacts(gid, (b, c, c))

    assert first == GroupMembershipResult(group_id=gid, contacts_added=2)
    assert second == GroupMembershipResult(group_id=gid, contacts_added=1)
    assert first.contacts_removed is None
    assert group_ids_of(wacr_sandbox, a) == [other, gid]
    assert group_ids_of(wacr_sandbox, b) == [gid]
    assert group_ids_of(wacr_sandbox, c) == [gid]
    assert sent.bodies == [
        ("POST", f"/groups/{gid}/contacts", {"contact_ids": [a, b]}),
        ("POST", f"/groups/{gid}/contacts", {"contact_ids": [b, c, c]}),
    ]


async def test_add_unknown_contact_fails_the_whole_call(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    known = contact(wacr_sandbox, "+15550001111")

    with pytest.raises(wacr.ValidationError) as caught:
        await wacr_client.groups.add_contacts(1, [known, 9999])

    error = caught.value
    assert (error.status, error.code, error.local) == (422, "VALIDATION_ERROR", False)
    assert error.fields == {"contact_ids.1": ["One or more contact IDs do not exist."]}
    assert group_ids_of(wacr_sandbox, known) == []  # nothing was added


async def test_add_contacts_to_unknown_group_is_not_found(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    known = contact(wacr_sandbox, "+15550001111")

    with pytest.raises(wacr.NotFoundError) as caught:
        await wacr_client.groups.add_contacts(999, [known])

    assert caught.value.code == "NOT_FOUND"
    assert group_ids_of(wacr_sandbox, known) == []


@pytest.mark.parametrize("ids", [[], [0], [1, -2], [True], ["3"]])
async def test_add_contacts_checks_the_ids_before_sending(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client, ids: list[Any]
) -> None:
    with pytest.raises(wacr.ValidationError) as caught:
        await wacr_client.groups.add_contacts(1, ids)

    assert caught.value.local is True
    assert next(iter(caught.value.fields)).startswith("contact_ids")
    assert no_requests(wacr_sandbox)


async def test_add_contacts_is_not_retried_when_the_answer_is_lost(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    known = contact(wacr_sandbox, "+15550001111")
    wacr_sandbox.faults.add("POST /groups/{id}/contacts", drop_after=1.0, times=1)

    with wacr.testing.no_wait(), pytest.raises(wacr.OutcomeUnknownError):
        await wacr_client.groups.add_contacts(1, [known])

    assert wacr_sandbox.hits["POST /groups/{id}/contacts"] == 1
    assert group_ids_of(wacr_sandbox, known) == [1]  # it did take effect


async def test_remove_contacts_sends_a_json_body_and_counts_only_members(
    wacr_sandbox: Sandbox,
) -> None:
    gid = wacr_sandbox.add_group("Newsletter")["id"]
    a = contact(wacr_sandbox, "+15550001111", group_id=[1, gid])
    b = contact(wacr_sandbox, "+15550002222", group_id=[gid])
    outsider = contact(wacr_sandbox, "+15550003333", group_id=[1])
    sent = Wire()

    async with wacr_sandbox.client(trace_configs=[sent.trace]) as client:
        result = await client.groups.remove_contacts(gid, [a, outsider, 9999])
        again = await client.groups.remove_contacts(gid, [a])

    assert result == GroupMembershipResult(group_id=gid, contacts_removed=1)
    assert result.contacts_added is None
    assert again.contacts_removed == 0
    assert group_ids_of(wacr_sandbox, a) == [1]
    assert group_ids_of(wacr_sandbox, b) == [gid]
    assert group_ids_of(wacr_sandbox, outsider) == [1]
    assert sent.bodies[0] == (
        "DELETE",
        f"/groups/{gid}/contacts",
        {"contact_ids": [a, outsider, 9999]},
    )
    assert wacr_sandbox.hits["DELETE /groups/{id}/contacts"] == 2


async def test_remove_contacts_is_not_resent_when_the_answer_is_lost(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    member = contact(wacr_sandbox, "+15550001111", group_id=[1])
    wacr_sandbox.faults.add("DELETE /groups/{id}/contacts", drop_after=1.0, times=1)

    # Unsafe (the second try would report contacts_removed=0): the outcome is unknown.
    with wacr.testing.no_wait(), pytest.raises(wacr.OutcomeUnknownError):
        await wacr_client.groups.remove_contacts(1, [member])

    assert wacr_sandbox.hits["DELETE /groups/{id}/contacts"] == 1
    assert group_ids_of(wacr_sandbox, member) == []


async def test_remove_contacts_from_unknown_group_is_not_found(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    with pytest.raises(wacr.NotFoundError) as caught:
        await wacr_client.groups.remove_contacts(999, [1])

    assert (caught.value.status, caught.value.code) == (404, "NOT_FOUND")


async def test_remove_contacts_needs_at_least_one_id(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    with pytest.raises(wacr.ValidationError) as caught:
        await wacr_client.groups.remove_contacts(1, [])

    assert caught.value.local is True
    assert list(caught.value.fields) == ["contact_ids"]
    assert no_requests(wacr_sandbox)


# -- auth and scopes ---------------------------------------------------------------------------


async def test_groups_read_scope(wacr_sandbox: Sandbox) -> None:
    member = contact(wacr_sandbox, "+15550001111")
    wacr_sandbox.add_token("wm_reader", {"groups:read"})
    async with wacr_sandbox.client(token="wm_reader") as client:
        assert [g.name for g in await client.groups.list().collect()] == ["VIP"]
        assert (await client.groups.get(1)).name == "VIP"
        writes = [
            client.groups.create(name="New"),
            client.groups.update(1, name="Renamed"),
            client.groups.add_contacts(1, [member]),
            client.groups.remove_contacts(1, [member]),
        ]
        for call in writes:
            with pytest.raises(wacr.InsufficientScopeError) as caught:
                await call
            assert (caught.value.status, caught.value.code) == (403, "INSUFFICIENT_SCOPE")
            assert "groups:write" in caught.value.message
        with pytest.raises(wacr.InsufficientScopeError) as denied:
            await client.groups.delete(1)
        assert "groups:delete" in denied.value.message

    assert [g["name"] for g in wacr_sandbox.state.groups] == ["VIP"]
    assert group_ids_of(wacr_sandbox, member) == []


async def test_groups_write_scope_does_not_read_or_delete(wacr_sandbox: Sandbox) -> None:
    member = contact(wacr_sandbox, "+15550001111")
    wacr_sandbox.add_token("wm_writer", {"groups:write"})
    async with wacr_sandbox.client(token="wm_writer") as client:
        group = await client.groups.create(name="Writers")
        assert (await client.groups.update(group.id, name="Authors")).name == "Authors"
        assert (await client.groups.add_contacts(group.id, [member])).contacts_added == 1
        assert (await client.groups.remove_contacts(group.id, [member])).contacts_removed == 1
        with pytest.raises(wacr.InsufficientScopeError):
            await client.groups.list().first_page()
        with pytest.raises(wacr.InsufficientScopeError):
            await client.groups.get(group.id)
        with pytest.raises(wacr.InsufficientScopeError) as caught:
            await client.groups.delete(group.id)
        assert "groups:delete" in caught.value.message

    wacr_sandbox.add_token("wm_deleter", {"groups:delete"})
    async with wacr_sandbox.client(token="wm_deleter") as client:
        await client.groups.delete(group.id)
    assert wacr_sandbox.state.groups.get(group.id) is None


async def test_groups_with_a_bad_token(wacr_sandbox: Sandbox) -> None:
    async with wacr_sandbox.client(token="wm_nope") as client:
        calls = [
            client.groups.list().first_page(),
            client.groups.create(name="X"),
            client.groups.get(1),
            client.groups.update(1, name="X"),
            client.groups.delete(1),
            client.groups.add_contacts(1, [1]),
            client.groups.remove_contacts(1, [1]),
        ]
        for call in calls:
            with pytest.raises(wacr.AuthenticationError) as caught:
                await call
            assert (caught.value.status, caught.value.code) == (401, "UNAUTHORIZED")

    assert [g["name"] for g in wacr_sandbox.state.groups] == ["VIP"]
