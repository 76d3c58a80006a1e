"""Every route the sandbox serves — the 43 documented ones and the 6 token routes — works
through a public client method, against both show shapes (nested as the server code answers,
flat as documented)."""

from __future__ import annotations

import pytest

import wacr_async as wacr
from wacr_async.testing import Sandbox

PHONE = "+15550001111"
DIGITS = "15550001111"


async def exercise_every_public_method(client: wacr.Client, sandbox: Sandbox) -> None:
    await client.account.get()
    await client.account.usage()
    await client.account.limits()

    source = await client.sources.create(name="Fair")
    assert (await client.sources.get(source.id)).name == "Fair"
    await client.sources.update(source.id, name="Trade fair")
    await client.sources.list().collect()
    status = await client.statuses.create(name="Won", color="#00AA00")
    assert (await client.statuses.get(status.id)).color == "#00AA00"
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
    got = await client.contacts.get(contact.id, include=["groups", "source", "status"])
    assert (got.id, got.firstname, got.status and got.status.name) == (
        contact.id, "Ada", "Closed won"
    )  # fmt: skip
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
    assert (await client.groups.get(group.id)).name == "Newsletter"
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
    template = await client.templates.get(templates[0].template_id)
    assert template.template_name == templates[0].template_name
    await client.templates.sync()

    created = await client.tokens.create("ci", ["account:read"], expires_in_days=7)
    assert (await client.tokens.get(created.token.id)).name == "ci"
    await client.tokens.update(created.token.id, name="ci-2")
    assert "ci-2" in [t.name for t in await client.tokens.list().collect()]
    rotated = await client.tokens.rotate(created.token.id)
    async with sandbox.client(token=str(rotated.plain_token)) as ci:
        assert (await ci.account.get()).id == 1
    await client.tokens.revoke(created.token.id)

    created_ids = [c.id for c in batch.created]
    await client.contacts.delete_many(created_ids)
    await client.contacts.delete(contact.id)
    await client.sources.delete(source.id)
    await client.statuses.delete(status.id)


@pytest.mark.parametrize("show_wrapped", [True, False], ids=["nested-show", "flat-show"])
async def test_every_sandbox_route_is_reachable_through_the_client(show_wrapped: bool) -> None:
    async with Sandbox(show_wrapped=show_wrapped) as sandbox, sandbox.client() as client:
        await exercise_every_public_method(client, sandbox)
        hits = sandbox.hits
        routes = (*Sandbox.routes, *Sandbox.token_routes)
        unreached = [route.key for route in routes if hits[route.key] == 0]
        failed = [key for key in hits if key.split()[1].startswith("/") and key not in
                  {route.key for route in routes}]  # fmt: skip
    assert (len(Sandbox.routes), len(Sandbox.token_routes)) == (43, 6)
    assert unreached == [] and failed == []
