"""Groups (with membership), sources and statuses."""

from __future__ import annotations

from typing import Any

import pytest

from wacr_async.testing import Sandbox


@pytest.mark.parametrize(
    ("path", "noun", "seeded"),
    [
        ("/groups", "Group", ["VIP"]),
        ("/sources", "Source", ["Website", "WhatsApp", "Referral"]),
        ("/statuses", "Status", ["New", "Contacted", "Qualified", "Lost"]),
    ],
)
async def test_label_crud(api: Any, path: str, noun: str, seeded: list[str]) -> None:
    listing = await api.get(path)
    assert [item["name"] for item in listing.data] == seeded
    assert listing.body["meta"]["pagination"]["total"] == len(seeded)

    created = await api.post(path, {"name": "Zeta"})
    assert created.status == 201
    assert created.body["message"] == f"{noun} created successfully"
    row = created.data
    assert {"id", "name", "created_at", "updated_at"} <= set(row)

    got = await api.get(f"{path}/{row['id']}")
    assert got.data == row

    renamed = await api.patch(f"{path}/{row['id']}", {"name": "Alpha"})
    assert renamed.status == 200
    assert renamed.body["message"] == f"{noun} updated successfully"
    assert renamed.data["name"] == "Alpha"

    sorted_names = await api.get(f"{path}?sort=name&per_page=1")
    assert sorted_names.data[0]["name"] == "Alpha"
    searched = await api.get(f"{path}?search=alp")
    assert [item["name"] for item in searched.data] == ["Alpha"]
    searched_q = await api.get(f"{path}?q=ALP")
    assert [item["name"] for item in searched_q.data] == ["Alpha"]

    missing = await api.post(path, {})
    assert missing.status == 422
    assert missing.error["details"] == {"name": [f"{noun} name is required."]}
    duplicate = await api.post(path, {"name": "alpha"})  # unique, case-insensitive
    assert duplicate.error["details"] == {
        "name": [f"A {noun.lower()} with this name already exists."]
    }
    too_long = await api.post(path, {"name": "x" * 256})
    assert too_long.error["details"]["name"] == [
        "The name field must not be greater than 255 characters."
    ]
    update_without_name = await api.patch(f"{path}/{row['id']}", {})
    assert update_without_name.status == 422  # name is required on update too

    deleted = await api.delete(f"{path}/{row['id']}")
    assert deleted.status == 200
    assert deleted.body["message"] == f"{noun} deleted successfully"
    for method in ("GET", "PATCH", "DELETE"):
        gone = await api(method, f"{path}/{row['id']}", json_body={"name": "Q"})
        assert gone.status == 404
        assert gone.error["message"] == f"{noun} not found."


async def test_label_created_at_filter(api: Any, sandbox: Sandbox) -> None:
    sandbox.clock.advance(2 * 86400)
    await api.post("/groups", {"name": "Later"})
    today = sandbox.clock.iso()[:10]
    reply = await api.get(f"/groups?filter[created_at][gte]={today}")
    assert [item["name"] for item in reply.data] == ["Later"]


async def test_status_color_rules(api: Any) -> None:
    created = await api.post("/statuses", {"name": "Hot", "color": "#FF5733"})
    assert created.data["color"] == "#FF5733"
    status_id = created.data["id"]
    bad = await api.post("/statuses", {"name": "Cold", "color": "blue"})
    assert bad.error["details"] == {
        "color": ["Color must be a valid hex color code (e.g., #FF5733)."]
    }
    too_long = await api.post("/statuses", {"name": "Cold", "color": "#FF57331"})
    assert "color" in too_long.error["details"]
    # The real quirk: an update without color sets it to null.
    renamed = await api.patch(f"/statuses/{status_id}", {"name": "Hotter"})
    assert renamed.data["color"] is None
    recolored = await api.patch(f"/statuses/{status_id}", {"name": "Hotter", "color": "#000000"})
    assert recolored.data["color"] == "#000000"
    source = await api.post("/sources", {"name": "Ads", "color": "#000000"})
    assert "color" not in source.data


@pytest.mark.parametrize(("path", "field", "noun"), [("/sources", "source_id", "source"),
                                                     ("/statuses", "status_id", "status")])  # fmt: skip
async def test_delete_in_use_is_a_conflict(
    api: Any, sandbox: Sandbox, path: str, field: str, noun: str
) -> None:
    sandbox.seed_contacts(3, **{f"{noun}_ids": [2]})
    reply = await api.delete(f"{path}/2")
    assert reply.status == 409
    assert reply.code == "RESOURCE_CONFLICT"
    assert reply.error["message"] == f"Cannot delete {noun}. It is being used by 3 contact(s)."
    await api.delete("/contacts/batch", {"ids": [1, 2, 3]})
    assert (await api.delete(f"{path}/2")).status == 200


async def test_deleting_a_group_keeps_ids_on_contacts(api: Any, sandbox: Sandbox) -> None:
    sandbox.seed_contacts(1, group_ids=[1])
    assert (await api.delete("/groups/1")).status == 200
    contact = await api.get("/contacts/1?include=groups")
    assert contact.data["group_id"] == [1]  # the server does not clean up
    assert contact.data["groups"] == []


async def test_group_membership(api: Any, sandbox: Sandbox) -> None:
    sandbox.seed_contacts(3)
    added = await api.post("/groups/1/contacts", {"contact_ids": [1, 2]})
    assert added.status == 200
    assert added.body["message"] == "Contacts added to group successfully"
    assert added.data == {"group_id": 1, "contacts_added": 2}
    again = await api.post("/groups/1/contacts", {"contact_ids": [2, 3]})
    assert again.data == {"group_id": 1, "contacts_added": 1}  # 2 was already in
    members = await api.get("/contacts?filter[group_id]=1")
    assert [item["id"] for item in members.data] == [1, 2, 3]

    removed = await api.delete("/groups/1/contacts", {"contact_ids": [1, 1, 99]})
    assert removed.body["message"] == "Contacts removed from group successfully"
    assert removed.data == {"group_id": 1, "contacts_removed": 1}  # absent/unknown skipped
    members = await api.get("/contacts?filter[group_id]=1")
    assert [item["id"] for item in members.data] == [2, 3]


async def test_group_membership_errors(api: Any, sandbox: Sandbox) -> None:
    sandbox.seed_contacts(1)
    unknown = await api.post("/groups/1/contacts", {"contact_ids": [1, 42]})
    assert unknown.status == 422
    assert unknown.error["details"] == {"contact_ids.1": ["One or more contact IDs do not exist."]}
    assert (await api.get("/contacts/1")).data["group_id"] == []  # nothing applied
    for body, message in (
        ({}, "Contact IDs are required."),
        ({"contact_ids": []}, "Contact IDs are required."),
        ({"contact_ids": "1"}, "Contact IDs must be an array."),
    ):
        reply = await api.post("/groups/1/contacts", body)
        assert reply.error["details"] == {"contact_ids": [message]}, body
        reply = await api.delete("/groups/1/contacts", body)
        assert reply.error["details"] == {"contact_ids": [message]}, body
    not_int = await api.post("/groups/1/contacts", {"contact_ids": ["x"]})
    assert not_int.error["details"] == {
        "contact_ids.0": ["The contact ids.0 field must be an integer."]
    }
    missing_group = await api.post("/groups/9/contacts", {"contact_ids": [1]})
    assert missing_group.status == 404
    assert missing_group.error["message"] == "Group not found."
    assert (await api.delete("/groups/9/contacts", {"contact_ids": [1]})).status == 404
