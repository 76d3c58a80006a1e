"""client.sources against the sandbox: list/create/get/update/delete, the 409 for a source
still used by contacts, 422 field maps, 404, 401, 403 scopes and the client-side checks."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

import wacr_async as wacr
from tests.resources._support import Wire, no_requests
from wacr_async.models.sources import Source
from wacr_async.testing import Sandbox

SEEDED = ["Website", "WhatsApp", "Referral"]  # ids 1, 2, 3


def source_names(sandbox: Sandbox) -> list[str]:
    return [row["name"] for row in sandbox.state.sources]


# -- create ------------------------------------------------------------------------------------


async def test_create_source(wacr_sandbox: Sandbox) -> None:
    sent = Wire()
    async with wacr_sandbox.client(trace_configs=[sent.trace]) as client:
        source = await client.sources.create(name="Trade fair")

    assert isinstance(source, Source)
    assert source.name == "Trade fair"
    assert source.id not in (1, 2, 3)
    assert source.created_at is not None and source.created_at == source.updated_at
    assert source_names(wacr_sandbox) == [*SEEDED, "Trade fair"]
    assert sent.bodies == [("POST", "/sources", {"name": "Trade fair"})]


async def test_create_source_with_a_taken_name_is_a_422_on_name(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    with pytest.raises(wacr.ValidationError) as caught:
        await wacr_client.sources.create(name="Website")

    error = caught.value
    assert (error.status, error.code, error.local) == (422, "VALIDATION_ERROR", False)
    assert error.fields == {"name": ["A source with this name already exists."]}
    assert source_names(wacr_sandbox) == SEEDED
    assert wacr_sandbox.hits["POST /sources"] == 1


async def test_create_source_accepts_a_255_character_name(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    source = await wacr_client.sources.create(name="s" * 255)

    assert source.name == "s" * 255


@pytest.mark.parametrize("name", ["", "  \t", "s" * 256])
async def test_create_source_checks_the_name_before_sending(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client, name: str
) -> None:
    with pytest.raises(wacr.ValidationError) as caught:
        await wacr_client.sources.create(name=name)

    assert caught.value.local is True
    assert list(caught.value.fields) == ["name"]
    assert no_requests(wacr_sandbox)


async def test_create_source_is_not_retried_after_a_server_error(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    wacr_sandbox.faults.add("POST /sources", error_after=1.0, times=1)

    with wacr.testing.no_wait(), pytest.raises(wacr.InternalServerError):
        await wacr_client.sources.create(name="Once")

    assert wacr_sandbox.hits["POST /sources"] == 1
    assert source_names(wacr_sandbox).count("Once") == 1


# -- list --------------------------------------------------------------------------------------


async def test_list_sources_sort_search_and_pages(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    wacr_sandbox.advance(60)
    wacr_sandbox.add_source("Web ads")

    everything = await wacr_client.sources.list().collect()
    assert [s.name for s in everything] == [*SEEDED, "Web ads"]
    assert all(isinstance(s, Source) for s in everything)

    by_name = await wacr_client.sources.list(sort="name").collect()
    assert [s.name for s in by_name] == ["Referral", "Web ads", "Website", "WhatsApp"]
    newest_first = await wacr_client.sources.list(sort=["-created_at", "-name"]).collect()
    assert [s.name for s in newest_first] == ["Web ads", "WhatsApp", "Website", "Referral"]

    found = await wacr_client.sources.list(search="web", sort="-name").collect()
    assert [s.name for s in found] == ["Website", "Web ads"]
    assert await wacr_client.sources.list(search="nothing like it").collect() == []

    page = await wacr_client.sources.list(per_page=3).first_page()
    assert [s.name for s in page.items] == SEEDED
    assert page.total == 4


async def test_list_sources_filter_created_at(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    wacr_sandbox.advance(2 * 86400)
    fresh = wacr_sandbox.add_source("Fresh")
    yesterday = (wacr_sandbox.clock.now() - timedelta(days=1)).date()

    recent = await wacr_client.sources.list(filter={"created_at": wacr.gte(yesterday)}).collect()
    older = await wacr_client.sources.list(
        filter={"created_at": [wacr.lt(yesterday)]}, sort="name"
    ).collect()

    assert [s.id for s in recent] == [fresh["id"]]
    assert [s.name for s in older] == sorted(SEEDED)


# -- get ---------------------------------------------------------------------------------------


async def test_get_source(wacr_sandbox: Sandbox, wacr_client: wacr.Client) -> None:
    source = await wacr_client.sources.get(2)

    assert (source.id, source.name) == (2, "WhatsApp")
    assert source.updated_at is not None and source.updated_at.tzinfo is not None


async def test_get_unknown_source_is_not_found(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    with pytest.raises(wacr.NotFoundError) as caught:
        await wacr_client.sources.get(404)

    assert (caught.value.status, caught.value.code) == (404, "NOT_FOUND")
    assert wacr_sandbox.hits["GET /sources/{id}"] == 1


@pytest.mark.parametrize("bad_id", [0, -1, False, 2.0])
async def test_source_ids_are_checked_before_sending(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client, bad_id: Any
) -> None:
    calls = [
        wacr_client.sources.get(bad_id),
        wacr_client.sources.update(bad_id, name="X"),
        wacr_client.sources.delete(bad_id),
    ]
    for call in calls:
        with pytest.raises(wacr.ValidationError) as caught:
            await call
        assert caught.value.local is True
        assert caught.value.fields.keys() == {"source_id"}

    assert no_requests(wacr_sandbox)


# -- update ------------------------------------------------------------------------------------


async def test_update_source_sends_only_the_name(wacr_sandbox: Sandbox) -> None:
    wacr_sandbox.advance(60)
    sent = Wire()
    async with wacr_sandbox.client(trace_configs=[sent.trace]) as client:
        source = await client.sources.update(3, name="Word of mouth")

    assert (source.id, source.name) == (3, "Word of mouth")
    assert source.updated_at is not None and source.created_at is not None
    assert source.updated_at > source.created_at
    assert source_names(wacr_sandbox) == ["Website", "WhatsApp", "Word of mouth"]
    assert sent.bodies == [("PATCH", "/sources/3", {"name": "Word of mouth"})]


async def test_update_source_may_keep_its_own_name(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    assert (await wacr_client.sources.update(1, name="Website")).name == "Website"


async def test_update_source_to_another_sources_name_is_a_422(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    with pytest.raises(wacr.ValidationError) as caught:
        await wacr_client.sources.update(3, name="WhatsApp")

    assert caught.value.local is False
    assert caught.value.fields == {"name": ["A source with this name already exists."]}
    assert source_names(wacr_sandbox) == SEEDED


async def test_update_unknown_source_is_not_found(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    with pytest.raises(wacr.NotFoundError) as caught:
        await wacr_client.sources.update(404, name="Ghost")

    assert (caught.value.status, caught.value.code) == (404, "NOT_FOUND")


@pytest.mark.parametrize("name", ["", " ", "s" * 256])
async def test_update_source_checks_the_name_before_sending(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client, name: str
) -> None:
    with pytest.raises(wacr.ValidationError) as caught:
        await wacr_client.sources.update(1, name=name)

    assert caught.value.local is True
    assert list(caught.value.fields) == ["name"]
    assert no_requests(wacr_sandbox)


async def test_update_source_is_retried_after_a_lost_answer(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    wacr_sandbox.faults.add("PATCH /sources/{id}", drop_after=1.0, times=1)

    with wacr.testing.no_wait():
        source = await wacr_client.sources.update(1, name="Web")

    assert source.name == "Web"
    assert wacr_sandbox.hits["PATCH /sources/{id}"] == 2


# -- delete ------------------------------------------------------------------------------------


async def test_delete_unused_source(wacr_sandbox: Sandbox, wacr_client: wacr.Client) -> None:
    unused = wacr_sandbox.add_source("Unused")

    await wacr_client.sources.delete(unused["id"])

    assert source_names(wacr_sandbox) == SEEDED
    with pytest.raises(wacr.NotFoundError):
        await wacr_client.sources.get(unused["id"])


async def test_delete_source_in_use_is_a_409_conflict(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    wacr_sandbox.add_contact(firstname="A", lastname="A", phone="+15550001111", source_id=2)
    second = wacr_sandbox.add_contact(
        firstname="B", lastname="B", phone="+15550002222", source_id=2
    )
    wacr_sandbox.add_contact(firstname="C", lastname="C", phone="+15550003333", source_id=3)

    with pytest.raises(wacr.ResourceConflictError) as caught:
        await wacr_client.sources.delete(2)

    error = caught.value
    assert isinstance(error, wacr.ConflictError)
    assert (error.status, error.code) == (409, "RESOURCE_CONFLICT")
    assert error.message == "Cannot delete source. It is being used by 2 contact(s)."
    assert source_names(wacr_sandbox) == SEEDED
    assert wacr_sandbox.hits["DELETE /sources/{id}"] == 1  # a 409 is not retried

    wacr_sandbox.state.delete_contact(second["id"])
    with pytest.raises(wacr.ResourceConflictError) as again:
        await wacr_client.sources.delete(2)
    assert "used by 1 contact(s)" in again.value.message


async def test_delete_source_after_its_contacts_moved(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    row = wacr_sandbox.add_contact(firstname="A", lastname="A", phone="+15550001111", source_id=2)
    with pytest.raises(wacr.ResourceConflictError):
        await wacr_client.sources.delete(2)

    wacr_sandbox.state.update_contact(row, {"source_id": 1})
    await wacr_client.sources.delete(2)

    assert source_names(wacr_sandbox) == ["Website", "Referral"]


async def test_delete_unknown_source_is_not_found(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    with pytest.raises(wacr.NotFoundError) as caught:
        await wacr_client.sources.delete(404)

    assert caught.value.code == "NOT_FOUND"


# -- auth and scopes ---------------------------------------------------------------------------


async def test_sources_read_scope(wacr_sandbox: Sandbox) -> None:
    wacr_sandbox.add_token("wm_reader", {"sources:read"})
    async with wacr_sandbox.client(token="wm_reader") as client:
        assert [s.name for s in await client.sources.list().collect()] == SEEDED
        assert (await client.sources.get(1)).name == "Website"
        for call in [
            client.sources.create(name="New"),
            client.sources.update(1, name="Web"),
            client.sources.delete(3),
        ]:
            with pytest.raises(wacr.InsufficientScopeError) as caught:
                await call
            assert (caught.value.status, caught.value.code) == (403, "INSUFFICIENT_SCOPE")
            assert "sources:write" in caught.value.message

    assert source_names(wacr_sandbox) == SEEDED


async def test_sources_write_scope(wacr_sandbox: Sandbox) -> None:
    wacr_sandbox.add_token("wm_writer", {"sources:write"})
    async with wacr_sandbox.client(token="wm_writer") as client:
        source = await client.sources.create(name="Fair")
        assert (await client.sources.update(source.id, name="Trade fair")).name == "Trade fair"
        await client.sources.delete(source.id)
        for call in [client.sources.list().first_page(), client.sources.get(1)]:
            with pytest.raises(wacr.InsufficientScopeError) as caught:
                await call
            assert "sources:read" in caught.value.message

    assert source_names(wacr_sandbox) == SEEDED


async def test_sources_with_a_bad_token(wacr_sandbox: Sandbox) -> None:
    async with wacr_sandbox.client(token="wm_nope") as client:
        for call in [
            client.sources.list().first_page(),
            client.sources.create(name="X"),
            client.sources.get(1),
            client.sources.update(1, name="X"),
            client.sources.delete(3),
        ]:
            with pytest.raises(wacr.AuthenticationError) as caught:
                await call
            assert (caught.value.status, caught.value.code) == (401, "UNAUTHORIZED")

    assert source_names(wacr_sandbox) == SEEDED
