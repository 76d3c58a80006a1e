"""Typed usage of the fields every answer always carries, the token service and the watch;
checked by ``mypy --strict``, never run."""

from __future__ import annotations

from datetime import datetime

import wacr_async as wacr


async def sends(client: wacr.Client) -> None:
    sent = await client.messages.send_text("+15550001111", "Hi")
    wamid: str = sent.message_id  # no None check needed: always sent
    contact_id: int = sent.contact_id
    when: datetime = sent.sent_at
    chat: int = sent.chat_id
    text: str = sent.message
    template = await client.messages.send_template("+15550001111", "order_update", "en")
    name: str = template.template_name
    media = await client.messages.send_media("+15550001111", "image", url="https://x.test/a.png")
    stored: str = media.media_url
    otp = await client.otp.send("+15550001111", "otp_verification", "493817")
    expires: datetime = otp.expires_at
    verified = await client.otp.verify("+15550001111", "493817")
    at: datetime = verified.verified_at
    status = await client.otp.status("+15550001111")
    seconds: float | None = status.expires_in_seconds
    print(wamid, contact_id, when, chat, text, name, stored, expires, at, seconds)


async def history(client: wacr.Client) -> None:
    async for message in client.messages.list():
        read: bool = message.is_read
        sent_at: datetime = message.sent_at
        print(read, sent_at)
    watch = client.messages.watch(inbound_only=True, own_number="+15550100000")
    source: str | None = watch.direction_source
    async for inbound in watch:
        print(inbound.direction, source, watch.last_seen_id)
        break
    async for auth in client.otp.templates():
        auth_name: str = auth.name
        body: str = auth.body_text
        print(auth_name, body)


async def tokens(client: wacr.Client) -> None:
    created: wacr.CreatedToken = await client.tokens.create(
        "ci", ["messages:send"], expires_in_days=30, ip_whitelist=["10.0.0.1"]
    )
    secret: str = created.plain_token.get_secret_value()
    token: wacr.Token = created.token
    scopes: tuple[str, ...] = token.scopes
    async for listed in client.tokens.list():
        print(listed.name)
    await client.tokens.update(token.id, is_active=False)
    rotated = await client.tokens.rotate(token.id)
    await client.tokens.revoke(rotated.token.id)
    template = await client.templates.get("1")
    values: tuple[str, ...] | None = template.body_variable_value
    print(secret, scopes, values, (await client.tokens.get(token.id)).is_active)
