"""client.statuses against the sandbox: list/create/get/update/delete, ``#RRGGBB`` colours,
the server quirk that an update without ``color`` clears it (and how ``update`` keeps it),
the 409 for a status still used by contacts, 422/404/401/403 and the client-side checks."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import aiohttp
import pytest

import wacr_async as wacr
from tests.resources._support import Wire, no_requests
from wacr_async.models.statuses import Status
from wacr_async.testing import Sandbox

SEEDED = {"New": "#3B82F6", "Contacted": "#F59E0B", "Qualified": "#10B981", "Lost": "#EF4444"}
COLOR_ERROR = "Color must be a valid hex color code (e.g., #FF5733)."


def stored(sandbox: Sandbox, status_id: int) -> tuple[str, str | None]:
    row = sandbox.state.statuses.get(status_id)
    assert row is not None
    return row["name"], row["color"]


def hits(sandbox: Sandbox) -> tuple[int, int]:
    """(GET /statuses/{id}, PATCH /statuses/{id}) request counts."""
    return sandbox.hits["GET /statuses/{id}"], sandbox.hits["PATCH /statuses/{id}"]


# -- create ------------------------------------------------------------------------------------


async def test_create_status_with_a_color(wacr_sandbox: Sandbox) -> None:
    sent = Wire()
    async with wacr_sandbox.client(trace_configs=[sent.trace]) as client:
        status = await client.statuses.create(name="Won", color="#00aa00")

    assert isinstance(status, Status)
    assert (status.name, status.color) == ("Won", "#00aa00")
    assert status.created_at is not None and status.created_at == status.updated_at
    assert stored(wacr_sandbox, status.id) == ("Won", "#00aa00")
    assert sent.bodies == [("POST", "/statuses", {"name": "Won", "color": "#00aa00"})]


async def test_create_status_without_a_color_sends_none(wacr_sandbox: Sandbox) -> None:
    sent = Wire()
    async with wacr_sandbox.client(trace_configs=[sent.trace]) as client:
        status = await client.statuses.create(name="Parked")

    assert status.color is None
    assert stored(wacr_sandbox, status.id) == ("Parked", None)
    assert sent.bodies == [("POST", "/statuses", {"name": "Parked"})]


async def test_create_status_with_a_taken_name_is_a_422_on_name(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    with pytest.raises(wacr.ValidationError) as caught:
        await wacr_client.statuses.create(name="Lost", color="#000000")

    error = caught.value
    assert (error.status, error.code, error.local) == (422, "VALIDATION_ERROR", False)
    assert error.fields == {"name": ["A status with this name already exists."]}
    assert len(wacr_sandbox.state.statuses) == len(SEEDED)


@pytest.mark.parametrize("color", ["FF5733", "#FFF", "#FF57331", "#GG0000", "red", "#ff 733"])
async def test_create_status_checks_the_color_before_sending(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client, color: str
) -> None:
    with pytest.raises(wacr.ValidationError) as caught:
        await wacr_client.statuses.create(name="Odd", color=color)

    assert caught.value.local is True
    assert list(caught.value.fields) == ["color"]
    assert no_requests(wacr_sandbox)


@pytest.mark.parametrize("name", ["", "   ", "n" * 256])
async def test_create_status_checks_the_name_before_sending(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client, name: str
) -> None:
    with pytest.raises(wacr.ValidationError) as caught:
        await wacr_client.statuses.create(name=name, color="#123456")

    assert caught.value.local is True
    assert list(caught.value.fields) == ["name"]
    assert no_requests(wacr_sandbox)


# -- list and get ------------------------------------------------------------------------------


async def test_list_statuses_sort_search_and_pages(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    wacr_sandbox.advance(60)
    wacr_sandbox.add_status("Contract sent")

    everything = await wacr_client.statuses.list().collect()
    assert [(s.name, s.color) for s in everything] == [*SEEDED.items(), ("Contract sent", None)]

    by_name = await wacr_client.statuses.list(sort="-name").collect()
    assert [s.name for s in by_name] == ["Qualified", "New", "Lost", "Contract sent", "Contacted"]
    newest_first = await wacr_client.statuses.list(sort="-updated_at,name").collect()
    assert [s.name for s in newest_first] == [
        "Contract sent",
        "Contacted",
        "Lost",
        "New",
        "Qualified",
    ]

    found = await wacr_client.statuses.list(search="CONT", sort="name").collect()
    assert [s.name for s in found] == ["Contacted", "Contract sent"]

    pages = [page async for page in wacr_client.statuses.list(per_page=3).pages()]
    assert [len(page.items) for page in pages] == [3, 2]
    assert pages[-1].total == 5


async def test_list_statuses_filter_created_at(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    wacr_sandbox.advance(600)
    late = wacr_sandbox.add_status("Late")
    cutoff = wacr_sandbox.clock.now() - timedelta(minutes=5)

    recent = await wacr_client.statuses.list(filter={"created_at": wacr.gt(cutoff)}).collect()
    assert [s.id for s in recent] == [late["id"]]


async def test_get_status(wacr_sandbox: Sandbox, wacr_client: wacr.Client) -> None:
    status = await wacr_client.statuses.get(3)

    assert (status.id, status.name, status.color) == (3, "Qualified", "#10B981")


async def test_get_unknown_status_is_not_found(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    with pytest.raises(wacr.NotFoundError) as caught:
        await wacr_client.statuses.get(99)

    assert (caught.value.status, caught.value.code) == (404, "NOT_FOUND")


@pytest.mark.parametrize("bad_id", [0, -7, True, "2"])
async def test_status_ids_are_checked_before_sending(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client, bad_id: Any
) -> None:
    calls = [
        wacr_client.statuses.get(bad_id),
        wacr_client.statuses.update(bad_id, name="X", color="#000000"),
        wacr_client.statuses.update(bad_id, name="X"),
        wacr_client.statuses.delete(bad_id),
    ]
    for call in calls:
        with pytest.raises(wacr.ValidationError) as caught:
            await call
        assert caught.value.local is True
        assert caught.value.fields.keys() == {"status_id"}

    assert no_requests(wacr_sandbox)


# -- update: the colour quirk ------------------------------------------------------------------


async def test_server_clears_the_color_when_an_update_leaves_it_out(
    wacr_sandbox: Sandbox,
) -> None:
    # The quirk itself, shown with a raw PATCH: this is what update() has to work around.
    async with (
        aiohttp.ClientSession() as http,
        http.patch(
            f"{wacr_sandbox.url}/statuses/2",
            json={"name": "Contacted"},
            headers={"Authorization": f"Bearer {wacr_sandbox.token}"},
        ) as response,
    ):
        assert response.status == 200
        body = await response.json()

    assert body["data"]["color"] is None
    assert stored(wacr_sandbox, 2) == ("Contacted", None)


async def test_rename_keeps_the_color_by_resending_it(wacr_sandbox: Sandbox) -> None:
    sent = Wire()
    async with wacr_sandbox.client(trace_configs=[sent.trace]) as client:
        status = await client.statuses.update(2, name="Reached")

    assert (status.name, status.color) == ("Reached", "#F59E0B")
    assert stored(wacr_sandbox, 2) == ("Reached", "#F59E0B")
    assert hits(wacr_sandbox) == (1, 1)
    assert sent.bodies == [("PATCH", "/statuses/2", {"name": "Reached", "color": "#F59E0B"})]


async def test_recolor_keeps_the_name_by_resending_it(wacr_sandbox: Sandbox) -> None:
    sent = Wire()
    async with wacr_sandbox.client(trace_configs=[sent.trace]) as client:
        status = await client.statuses.update(4, color="#111111")

    assert (status.name, status.color) == ("Lost", "#111111")
    assert stored(wacr_sandbox, 4) == ("Lost", "#111111")
    assert hits(wacr_sandbox) == (1, 1)
    assert sent.bodies == [("PATCH", "/statuses/4", {"name": "Lost", "color": "#111111"})]


async def test_name_and_color_together_is_a_single_patch(wacr_sandbox: Sandbox) -> None:
    sent = Wire()
    async with wacr_sandbox.client(trace_configs=[sent.trace]) as client:
        status = await client.statuses.update(1, name="Fresh", color="#abcdef")

    assert (status.name, status.color) == ("Fresh", "#abcdef")
    assert hits(wacr_sandbox) == (0, 1)
    assert sent.bodies == [("PATCH", "/statuses/1", {"name": "Fresh", "color": "#abcdef"})]


async def test_keep_color_false_removes_the_color(wacr_sandbox: Sandbox) -> None:
    sent = Wire()
    async with wacr_sandbox.client(trace_configs=[sent.trace]) as client:
        kept_name = await client.statuses.update(3, keep_color=False)
        assert hits(wacr_sandbox) == (1, 1)
        renamed = await client.statuses.update(1, name="Brand new", keep_color=False)
        assert hits(wacr_sandbox) == (1, 2)  # name given: no GET

    assert (kept_name.name, kept_name.color) == ("Qualified", None)
    assert (renamed.name, renamed.color) == ("Brand new", None)
    assert stored(wacr_sandbox, 3) == ("Qualified", None)
    assert stored(wacr_sandbox, 1) == ("Brand new", None)
    assert sent.bodies == [
        ("PATCH", "/statuses/3", {"name": "Qualified"}),
        ("PATCH", "/statuses/1", {"name": "Brand new"}),
    ]


async def test_keep_color_false_with_a_color_sets_that_color(wacr_sandbox: Sandbox) -> None:
    sent = Wire()
    async with wacr_sandbox.client(trace_configs=[sent.trace]) as client:
        status = await client.statuses.update(2, color="#222222", keep_color=False)

    assert (status.name, status.color) == ("Contacted", "#222222")
    assert sent.bodies == [("PATCH", "/statuses/2", {"name": "Contacted", "color": "#222222"})]


async def test_rename_of_a_status_without_color_sends_no_color(wacr_sandbox: Sandbox) -> None:
    plain = wacr_sandbox.add_status("Plain")
    sent = Wire()
    async with wacr_sandbox.client(trace_configs=[sent.trace]) as client:
        status = await client.statuses.update(plain["id"], name="Still plain")

    assert (status.name, status.color) == ("Still plain", None)
    assert sent.bodies == [("PATCH", f"/statuses/{plain['id']}", {"name": "Still plain"})]


async def test_update_with_nothing_to_change_is_refused_locally(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    with pytest.raises(wacr.ValidationError) as caught:
        await wacr_client.statuses.update(1)

    assert caught.value.local is True
    assert list(caught.value.fields) == ["name"]
    assert no_requests(wacr_sandbox)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"color": "#12345"}, "color"),
        ({"color": "123456"}, "color"),
        ({"name": "Ok", "color": "blue"}, "color"),
        ({"name": ""}, "name"),
        ({"name": "  ", "color": "#123456"}, "name"),
        ({"name": "n" * 256}, "name"),
    ],
)
async def test_update_checks_name_and_color_before_any_request(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client, kwargs: dict[str, Any], field: str
) -> None:
    with pytest.raises(wacr.ValidationError) as caught:
        await wacr_client.statuses.update(2, **kwargs)

    assert caught.value.local is True
    assert list(caught.value.fields) == [field]
    assert no_requests(wacr_sandbox)  # not even the GET
    assert stored(wacr_sandbox, 2) == ("Contacted", "#F59E0B")


async def test_update_to_another_statuses_name_is_a_422(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    with pytest.raises(wacr.ValidationError) as caught:
        await wacr_client.statuses.update(2, name="Lost", color="#000000")

    assert caught.value.local is False
    assert caught.value.fields == {"name": ["A status with this name already exists."]}
    assert stored(wacr_sandbox, 2) == ("Contacted", "#F59E0B")


async def test_update_may_keep_its_own_name(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    status = await wacr_client.statuses.update(2, name="Contacted")

    assert (status.name, status.color) == ("Contacted", "#F59E0B")


async def test_update_unknown_status_is_not_found(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    with pytest.raises(wacr.NotFoundError) as by_get:
        await wacr_client.statuses.update(99, name="Ghost")  # fails on the GET
    assert hits(wacr_sandbox) == (1, 0)

    with pytest.raises(wacr.NotFoundError) as by_patch:
        await wacr_client.statuses.update(99, name="Ghost", color="#000000")
    assert hits(wacr_sandbox) == (1, 1)

    for error in (by_get.value, by_patch.value):
        assert (error.status, error.code) == (404, "NOT_FOUND")


async def test_update_is_retried_after_a_server_error(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    wacr_sandbox.faults.add("PATCH /statuses/{id}", error_after=1.0, status_after=503, times=1)

    with wacr.testing.no_wait():
        status = await wacr_client.statuses.update(2, name="Reached")

    assert (status.name, status.color) == ("Reached", "#F59E0B")
    assert hits(wacr_sandbox) == (1, 2)


# -- delete ------------------------------------------------------------------------------------


async def test_delete_unused_status(wacr_sandbox: Sandbox, wacr_client: wacr.Client) -> None:
    await wacr_client.statuses.delete(4)

    assert [row["name"] for row in wacr_sandbox.state.statuses] == ["New", "Contacted", "Qualified"]
    with pytest.raises(wacr.NotFoundError):
        await wacr_client.statuses.get(4)


async def test_delete_status_in_use_is_a_409_conflict(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    row = wacr_sandbox.add_contact(firstname="A", lastname="A", phone="+15550001111", status_id=3)

    with pytest.raises(wacr.ResourceConflictError) as caught:
        await wacr_client.statuses.delete(3)

    error = caught.value
    assert (error.status, error.code) == (409, "RESOURCE_CONFLICT")
    assert error.message == "Cannot delete status. It is being used by 1 contact(s)."
    assert stored(wacr_sandbox, 3) == ("Qualified", "#10B981")
    assert wacr_sandbox.hits["DELETE /statuses/{id}"] == 1

    wacr_sandbox.state.update_contact(row, {"status_id": 1})
    await wacr_client.statuses.delete(3)
    assert wacr_sandbox.state.statuses.get(3) is None


async def test_delete_unknown_status_is_not_found(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    with pytest.raises(wacr.NotFoundError) as caught:
        await wacr_client.statuses.delete(99)

    assert caught.value.code == "NOT_FOUND"


# -- auth and scopes ---------------------------------------------------------------------------


async def test_statuses_read_scope(wacr_sandbox: Sandbox) -> None:
    wacr_sandbox.add_token("wm_reader", {"statuses:read"})
    async with wacr_sandbox.client(token="wm_reader") as client:
        assert [s.name for s in await client.statuses.list().collect()] == list(SEEDED)
        assert (await client.statuses.get(1)).color == "#3B82F6"
        for call in [
            client.statuses.create(name="New one"),
            client.statuses.update(1, name="Renamed"),  # its GET passes, the PATCH does not
            client.statuses.update(1, name="Renamed", color="#000000"),
            client.statuses.delete(4),
        ]:
            with pytest.raises(wacr.InsufficientScopeError) as caught:
                await call
            assert (caught.value.status, caught.value.code) == (403, "INSUFFICIENT_SCOPE")
            assert "statuses:write" in caught.value.message

    assert {row["name"]: row["color"] for row in wacr_sandbox.state.statuses} == SEEDED


async def test_statuses_write_scope_without_read(wacr_sandbox: Sandbox) -> None:
    wacr_sandbox.add_token("wm_writer", {"statuses:write"})
    async with wacr_sandbox.client(token="wm_writer") as client:
        status = await client.statuses.create(name="Won", color="#00AA00")
        both = await client.statuses.update(status.id, name="Closed won", color="#00BB00")
        assert (both.name, both.color) == ("Closed won", "#00BB00")

        # Keeping the colour needs a read: refused as a whole rather than clearing the colour.
        with pytest.raises(wacr.InsufficientScopeError) as caught:
            await client.statuses.update(status.id, name="Won again")
        assert "statuses:read" in caught.value.message
        assert stored(wacr_sandbox, status.id) == ("Closed won", "#00BB00")

        for call in [client.statuses.list().first_page(), client.statuses.get(1)]:
            with pytest.raises(wacr.InsufficientScopeError):
                await call
        await client.statuses.delete(status.id)

    assert wacr_sandbox.state.statuses.get(status.id) is None


async def test_statuses_with_a_bad_token(wacr_sandbox: Sandbox) -> None:
    async with wacr_sandbox.client(token="wm_nope") as client:
        for call in [
            client.statuses.list().first_page(),
            client.statuses.create(name="X"),
            client.statuses.get(1),
            client.statuses.update(1, name="X"),
            client.statuses.update(1, name="X", color="#000000"),
            client.statuses.delete(4),
        ]:
            with pytest.raises(wacr.AuthenticationError) as caught:
                await call
            assert (caught.value.status, caught.value.code) == (401, "UNAUTHORIZED")

    assert {row["name"]: row["color"] for row in wacr_sandbox.state.statuses} == SEEDED
