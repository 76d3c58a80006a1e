"""Typed usage of contacts, groups, sources, statuses and comments; checked by
``mypy --strict``, never run."""

from __future__ import annotations

from datetime import datetime

import wacr_async as wacr
from wacr_async.models.comments import Comment, CommentAdded
from wacr_async.models.contacts import (
    BatchCreateResult,
    BatchDeleteResult,
    Contact,
    FailedRow,
    NewContact,
    SkippedRow,
)
from wacr_async.models.groups import Group, GroupMembershipResult
from wacr_async.models.sources import Source
from wacr_async.models.statuses import Status
from wacr_async.pagination import AsyncPager, Page


async def contacts(client: wacr.Client) -> None:
    pager: AsyncPager[Contact] = client.contacts.list(
        per_page=50,
        sort=["firstname", "-created_at"],
        search="ada",
        filter={"type": "lead"},
        include=["groups", "source", "status"],
        fields=["id", "firstname"],
        prefetch=False,
        concurrency=2,
    )
    async for contact in pager:
        groups: list[Group] | None = contact.groups
        source: Source | None = contact.source
        status: Status | None = contact.status
        group_ids: list[int] = contact.group_id
        print(groups, source, status, group_ids)
    first: Page[Contact] = await pager.first_page()
    print(first.total)

    created: Contact = await client.contacts.create(
        firstname="Ada",
        lastname="Lovelace",
        phone="+15550001111",
        type="lead",
        source_id=1,
        status_id=1,
        email="ada@example.com",
        company="Engines",
        description="met at the fair",
        city="London",
        state="LDN",
        zip="N1",
        address="1 Street",
        country_id=44,
        assigned_id=3,
        groups=[1, 2],
    )
    fetched: Contact = await client.contacts.get(created.id, include=["status"])
    when: datetime | None = fetched.created_at
    updated: Contact = await client.contacts.update(
        created.id, email="ada@example.org", type="customer", groups=[], clear=["company"]
    )
    print(when, updated.email)
    await client.contacts.delete(created.id)

    rows: list[NewContact | dict[str, object]] = [
        NewContact(
            firstname="Grace",
            lastname="Hopper",
            phone="+15550002222",
            type="customer",
            source_id=1,
            status_id=1,
        ),
        {"firstname": "Alan", "lastname": "T", "phone": "+15550003333", "type": "guest"},
    ]
    result: BatchCreateResult = await client.contacts.create_many(
        rows, skip_duplicates=True, continue_on_error=False
    )
    skipped: list[SkippedRow] = result.skipped
    failed: list[FailedRow] = result.errors
    made: list[Contact] = result.created
    print(result.summary.total, skipped, failed, made)
    removed: BatchDeleteResult = await client.contacts.delete_many([c.id for c in made])
    print(removed.deleted, removed.failed, removed.failed_ids)


async def groups(client: wacr.Client) -> None:
    every: list[Group] = await client.groups.list(sort="name", search="v").collect(limit=10)
    group: Group = await client.groups.create(name="VIP")
    group = await client.groups.get(group.id)
    group = await client.groups.update(group.id, name="VIP customers")
    added: GroupMembershipResult = await client.groups.add_contacts(group.id, [1, 2])
    gone: GroupMembershipResult = await client.groups.remove_contacts(group.id, [1])
    count: int | None = added.contacts_added
    print(every, count, gone.contacts_removed)
    await client.groups.delete(group.id)


async def sources_and_statuses(client: wacr.Client) -> None:
    async for page in client.sources.list(per_page=10).pages():
        names: list[str] = [source.name for source in page.items]
        print(names)
    source: Source = await client.sources.create(name="Fair")
    source = await client.sources.update((await client.sources.get(source.id)).id, name="Fair 2")
    await client.sources.delete(source.id)

    statuses: AsyncPager[Status] = client.statuses.list(filter={"name": "Hot"})
    print(await statuses.collect())
    status: Status = await client.statuses.create(name="Hot", color="#FF5733")
    status = await client.statuses.get(status.id)
    status = await client.statuses.update(status.id, name="Warm")
    status = await client.statuses.update(status.id, color="#00FF00")
    status = await client.statuses.update(status.id, keep_color=False)
    color: str | None = status.color
    print(color)
    await client.statuses.delete(status.id)


async def comments(client: wacr.Client) -> None:
    notes: list[Comment] = await client.comments.list("919876543210")
    added: CommentAdded = await client.comments.add(
        "919876543210",
        comment="<b>Called</b>",
        status_message="Call",
        media_url="https://example.com/a.png",
        message_id="wamid.1",
        ref_message_id="wamid.0",
    )
    row: int | None = added.chat_message_id
    print([note.message for note in notes], row)
