"""Contacts: create/get/update/delete, validation, uniqueness, plan limit, batches."""

from __future__ import annotations

from typing import Any

from wacr_async.testing import Plan, Sandbox


async def test_create_returns_the_contact_with_groups(api: Any) -> None:
    reply = await api.create_contact(email="ada@example.com", groups=[1], city="London")
    assert reply.status == 201
    assert reply.body["message"] == "Contact created successfully"
    data = reply.data
    assert data["id"] == 1
    assert data["phone"] == "+15550001111"
    assert data["email"] == "ada@example.com"
    assert data["group_id"] == [1]
    assert data["is_opted_out"] is False
    assert [group["name"] for group in data["groups"]] == ["VIP"]
    assert set(data) >= {
        "firstname", "lastname", "company", "type", "status_id", "source_id", "description",
        "city", "state", "zip", "address", "country_id", "assigned_id", "created_at",
        "updated_at",
    }  # fmt: skip
    fetched = await api.get("/contacts/1")
    assert fetched.data == {k: v for k, v in data.items() if k != "groups"}


async def test_create_validation_messages(api: Any) -> None:
    reply = await api.post("/contacts", {})
    assert reply.status == 422
    assert reply.code == "VALIDATION_ERROR"
    assert reply.error["message"] == "Validation failed"
    details = reply.error["details"]
    assert details["firstname"] == ["First name is required."]
    assert details["lastname"] == ["Last name is required."]
    assert details["phone"] == ["Phone number is required."]
    assert details["type"] == ["Type is required."]
    assert details["source_id"] == ["Source is required."]
    assert details["status_id"] == ["Status is required."]

    bad = await api.create_contact(
        type="vip",
        source_id=99,
        status_id=98,
        email="not-an-email",
        firstname="x" * 256,
        phone="1" * 21,
        zip="9" * 21,
        groups="1,2",
    )
    details = bad.error["details"]
    assert details["type"] == ["Type must be either lead, customer, or guest."]
    assert details["source_id"] == [
        "The selected source does not exist or does not belong to your account."
    ]
    assert details["status_id"] == [
        "The selected status does not exist or does not belong to your account."
    ]
    assert details["email"] == ["The email field must be a valid email address."]
    assert details["firstname"] == ["The firstname field must not be greater than 255 characters."]
    assert details["phone"] == ["The phone field must not be greater than 20 characters."]
    assert details["zip"] == ["The zip field must not be greater than 20 characters."]
    assert details["groups"] == ["The groups field must be an array."]


async def test_phone_and_email_are_unique_per_tenant(api: Any) -> None:
    assert (await api.create_contact(email="ada@example.com")).status == 201
    clash = await api.create_contact(email="ADA@example.com", firstname="Other")
    assert clash.status == 422
    assert clash.error["details"]["phone"] == ["This phone number already exists."]
    assert clash.error["details"]["email"] == ["This email address already exists."]
    other = await api.create_contact(phone="+15550002222", email="b@example.com")
    assert other.status == 201
    # Update: unique excluding the contact itself.
    same = await api.patch("/contacts/1", {"phone": "+15550001111", "email": "ada@example.com"})
    assert same.status == 200
    taken = await api.patch("/contacts/1", {"phone": "+15550002222"})
    assert taken.error["details"]["phone"] == ["This phone number already exists."]


async def test_update_is_partial_and_groups_replace(api: Any, sandbox: Sandbox) -> None:
    sandbox.add_group("Second")
    created = (await api.create_contact(groups=[1], company="Acme")).data
    reply = await api.patch(f"/contacts/{created['id']}", {"lastname": "King", "groups": [2]})
    assert reply.status == 200
    assert reply.body["message"] == "Contact updated successfully"
    data = reply.data
    assert data["lastname"] == "King"
    assert data["firstname"] == "Ada"  # untouched
    assert data["company"] == "Acme"
    assert data["group_id"] == [2]
    assert [group["id"] for group in data["groups"]] == [2]
    kept = await api.patch(f"/contacts/{created['id']}", {"city": "Paris"})
    assert kept.data["group_id"] == [2]  # no groups key: groups unchanged
    cleared = await api.patch(f"/contacts/{created['id']}", {"groups": [], "company": None})
    assert cleared.data["group_id"] == []
    assert cleared.data["company"] is None
    # Present-but-empty required fields are refused on update.
    empty = await api.patch(f"/contacts/{created['id']}", {"firstname": "", "type": None})
    assert empty.error["details"] == {
        "firstname": ["First name is required."],
        "type": ["Type is required."],
    }


async def test_get_update_delete_unknown_contact(api: Any) -> None:
    assert (await api.get("/contacts/42")).error["message"] == "Contact not found."
    assert (await api.patch("/contacts/42", {"city": "X"})).status == 404
    assert (await api.delete("/contacts/42")).status == 404


async def test_delete_contact(api: Any) -> None:
    await api.create_contact()
    reply = await api.delete("/contacts/1")
    assert reply.status == 200
    assert reply.body["message"] == "Contact deleted successfully"
    assert "data" not in reply.body
    assert (await api.get("/contacts/1")).status == 404
    # The phone is free again.
    assert (await api.create_contact()).status == 201


async def test_contact_limit(make_api: Any) -> None:
    async with Sandbox(plan=Plan(contacts=2)) as sandbox:
        api = make_api(sandbox)
        assert (await api.create_contact(phone="+15550000001")).status == 201
        assert (await api.create_contact(phone="+15550000002")).status == 201
        refused = await api.create_contact(phone="+15550000003")
        assert refused.status == 403
        assert refused.code == "FEATURE_LIMIT_EXCEEDED"
        assert refused.error["details"] == {"feature": "contacts", "current": 2, "maximum": 2}
        sandbox.plan.contacts = -1
        assert (await api.create_contact(phone="+15550000003")).status == 201


async def test_batch_create(api: Any) -> None:
    rows = [
        {"firstname": "A", "lastname": "One", "phone": "+15550000001", "type": "lead",
         "source_id": 1, "status_id": 1},
        {"firstname": "B", "lastname": "Two", "phone": "+15550000002", "type": "nope",
         "source_id": 1, "status_id": 1},
        {"firstname": "C", "lastname": "Three", "phone": "+15550000003", "type": "guest",
         "source_id": 1, "status_id": 1, "email": "c@example.com"},
    ]  # fmt: skip
    reply = await api.post("/contacts/batch", {"contacts": rows})
    assert reply.status == 200
    assert reply.body["message"] == "Batch operation completed"
    data = reply.data
    assert data["summary"] == {"total": 3, "created": 2, "skipped": 0, "failed": 1}
    assert [row["phone"] for row in data["created"]] == ["+15550000001", "+15550000003"]
    assert data["skipped"] == []
    [error] = data["errors"]
    assert error["index"] == 1
    assert error["data"]["firstname"] == "B"
    assert error["errors"] == {"type": ["The selected type is invalid."]}
    listing = await api.get("/contacts")
    assert listing.body["meta"]["pagination"]["total"] == 2


async def test_batch_create_skip_duplicates(api: Any) -> None:
    await api.create_contact(phone="+15550000001")
    base = {"lastname": "X", "type": "lead", "source_id": 1, "status_id": 1}
    rows = [
        {**base, "firstname": "Dup", "phone": "+15550000001"},
        {**base, "firstname": "New", "phone": "+15550000009"},
        {**base, "firstname": "DupInBatch", "phone": "+15550000009"},
    ]
    reply = await api.post(
        "/contacts/batch", {"contacts": rows, "options": {"skip_duplicates": True}}
    )
    data = reply.data
    assert data["summary"] == {"total": 3, "created": 1, "skipped": 2, "failed": 0}
    assert [(s["index"], s["reason"]) for s in data["skipped"]] == [
        (0, "Duplicate phone"),
        (2, "Duplicate phone"),
    ]
    assert data["skipped"][0]["data"]["firstname"] == "Dup"
    # Without skip_duplicates the batch endpoint does not check uniqueness at all.
    again = await api.post("/contacts/batch", {"contacts": rows[:1]})
    assert again.data["summary"]["created"] == 1


async def test_batch_create_stop_on_error_rolls_back(api: Any) -> None:
    base = {"lastname": "X", "type": "lead", "source_id": 1, "status_id": 1}
    rows = [
        {**base, "firstname": "A", "phone": "+15550000001"},
        {**base, "phone": "+15550000002"},  # no firstname
        {**base, "firstname": "C", "phone": "+15550000003"},
    ]
    reply = await api.post(
        "/contacts/batch", {"contacts": rows, "options": {"continue_on_error": False}}
    )
    assert reply.status == 422
    assert reply.code == "VALIDATION_ERROR"
    assert reply.error["message"] == "Batch operation failed"
    details = reply.error["details"]
    assert details["summary"] == {"total": 3, "created": 1, "skipped": 0, "failed": 1}
    assert details["errors"][0]["index"] == 1
    assert details["errors"][0]["errors"] == {"firstname": ["The firstname field is required."]}
    listing = await api.get("/contacts")
    assert listing.data == []  # everything rolled back


async def test_batch_create_needs_contacts(api: Any) -> None:
    reply = await api.post("/contacts/batch", {})
    assert reply.status == 422
    assert reply.error["details"] == {"contacts": ["The contacts field is required."]}


async def test_batch_delete(api: Any, sandbox: Sandbox) -> None:
    sandbox.seed_contacts(3)
    reply = await api.delete("/contacts/batch", {"ids": [1, 3, 77]})
    assert reply.status == 200
    assert reply.body["message"] == "Contacts deleted successfully"
    assert reply.data["summary"] == {"total": 3, "deleted": 2, "failed": 1}
    remaining = await api.get("/contacts")
    assert [item["id"] for item in remaining.data] == [2]
    invalid = await api.delete("/contacts/batch", {"ids": ["a"]})
    assert invalid.status == 422
    assert invalid.error["details"] == {"ids.0": ["The ids.0 field must be an integer."]}
    missing = await api.delete("/contacts/batch", {})
    assert missing.error["details"] == {"ids": ["The ids field is required."]}


async def test_form_encoded_and_broken_bodies(api: Any) -> None:
    form = await api(
        "POST",
        "/contacts",
        data={
            "firstname": "Ada",
            "lastname": "L",
            "phone": "+15550001111",
            "type": "lead",
            "source_id": "1",
            "status_id": "1",
            "groups[]": "1",
        },
    )
    assert form.status == 201, form.body
    assert form.data["group_id"] == [1]
    broken = await api(
        "POST", "/contacts", data=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert broken.status == 422  # Laravel reads a broken body as empty input
    assert "firstname" in broken.error["details"]
