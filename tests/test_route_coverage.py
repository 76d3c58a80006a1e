"""Every route the sandbox serves is reachable through a public client method."""

from __future__ import annotations

import wacr_async as wacr
from wacr_async.testing import Sandbox

PHONE = "+15550001111"
DIGITS = "15550001111"


async def exercise_every_public_method(client: wacr.Client, sandbox: Sandbox) -> None:
    await client.account.get()
    await client.account.usage()
    await client.account.limits()

    source = await client.sources.create(name="Fair")
    await client.sources.get(source.id)
    await client.sources.update(source.id, name="Trade fair")
    await client.sources.list().collect()
    status = await client.statuses.create(name="Won", color="#00AA00")
    await client.statuses.get(status.id)
    await client.statuses.update(status.id, name="Closed won")
    await client.statuses.list().collect()

    contact = await client.contacts.create(
        firstname="Ada",
        lastname="Lovelace",
        phone="+15550002222",
        type="lead",
        source_id=source.id,
        status_id=status.id,
    )
    await client.contacts.get(contact.id, include=["groups", "source", "status"])
    await client.contacts.update(contact.id, company="Analytical Engines")
    await client.contacts.list(per_page=10).first_page()
    batch = await client.contacts.create_many(
        [
            {
                "firstname": "Bo",
                "lastname": "B",
                "phone": "+15550003333",
                "type": "guest",
                "source_id": source.id,
                "status_id": status.id,
            }
        ]
    )

    group = await client.groups.create(name="Newsletter")
    await client.groups.get(group.id)
    await client.groups.update(group.id, name="Weekly newsletter")
    await client.groups.list().collect()
    await client.groups.add_contacts(group.id, [contact.id])
    await client.groups.remove_contacts(group.id, [contact.id])
    await client.groups.delete(group.id)

    await client.messages.send_text(PHONE, "Hello @{contact_first_name}")
    await client.messages.send_template(PHONE, "order_update", "en", fields=["A-17", "Friday"])
    await client.messages.send_media(PHONE, "image", url="https://cdn.example.com/a.png")
    await client.messages.send_interactive(
        PHONE, "Pick one", buttons=[wacr.Button(id="yes", title="Yes")]
    )
    newest = await client.messages.list(per_page=5).first_page()
    await client.messages.get(newest.items[0].id)

    await client.otp.send(PHONE, "otp_verification", "493817")
    await client.otp.status(PHONE)
    await client.otp.verify(PHONE, "493817")
    await client.otp.resend(PHONE, "otp_verification")
    await client.otp.templates().collect()

    await client.comments.add(DIGITS, comment="Called back")
    await client.comments.list(DIGITS)

    templates = await client.templates.list().collect()
    await client.templates.get(templates[0].template_id)
    await client.templates.sync()

    created_ids = [c.id for c in batch.created]
    await client.contacts.delete_many(created_ids)
    await client.contacts.delete(contact.id)
    await client.sources.delete(source.id)
    await client.statuses.delete(status.id)


async def test_every_sandbox_route_is_reachable_through_the_client() -> None:
    async with Sandbox() as sandbox, sandbox.client() as client:
        await exercise_every_public_method(client, sandbox)
        hits = sandbox.hits
        unreached = [
            f"{route.method} {route.path}"
            for route in Sandbox.routes
            if hits[f"{route.method} {route.path}"] == 0
        ]
    assert len(Sandbox.routes) == 43
    assert unreached == []
