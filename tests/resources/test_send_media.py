"""client.messages.send_media against the sandbox: URLs, streamed uploads, limits, errors."""

from __future__ import annotations

import gc
import hashlib
import io
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

import wacr_async as wacr
from tests.resources._support import no_requests
from wacr_async.models.messages import ContactDefaults, SentMedia
from wacr_async.testing import Sandbox

PHONE = "+15550001111"
DIGITS = "15550001111"
MB = 1024 * 1024


def sparse_file(path: Path, size: int) -> Path:
    """A file of ``size`` bytes that costs no disk writes (all zeros)."""
    with path.open("wb") as handle:
        handle.truncate(size)
    return path


class UnsizedStream(io.RawIOBase):
    """A named, non-seekable stream of zeros: its size is unknown until it has been read."""

    def __init__(self, name: str, size: int) -> None:
        self.name = name
        self._left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        count = min(len(buffer), self._left)
        buffer[:count] = b"\0" * count
        self._left -= count
        return count


async def test_send_media_by_url(wacr_sandbox: Sandbox, wacr_client: wacr.Client) -> None:
    sent = await wacr_client.messages.send_media(
        PHONE, "image", url="https://cdn.example.com/a.png", caption="Your parcel"
    )

    assert isinstance(sent, SentMedia)
    assert (sent.media_type, sent.media_url, sent.caption) == (
        "image",
        "https://cdn.example.com/a.png",
        "Your parcel",
    )
    assert (sent.phone, sent.status, sent.filename) == (DIGITS, "sent", None)
    [record] = wacr_sandbox.sends
    assert (record.kind, record.payload["media"]) == ("media", "https://cdn.example.com/a.png")


async def test_send_media_streams_a_file_from_disk(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client, tmp_path: Path
) -> None:
    video = tmp_path / "clip.mp4"
    block = bytes(range(256)) * 4096  # 1 MB of varied bytes
    with video.open("wb") as handle:
        for _ in range(12):
            handle.write(block)
    digest = hashlib.sha1(video.read_bytes()).hexdigest()
    size = video.stat().st_size
    del block
    gc.collect()

    tracemalloc.start()
    try:
        sent = await wacr_client.messages.send_media(PHONE, "video", file=video, caption="Clip")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    # The server saw every byte, and the file never sat in memory whole.
    assert wacr_sandbox.sends[0].payload["media"] == f"upload:{digest}:{size}"
    assert peak < size / 3
    assert sent.media_url is not None and sent.media_url.endswith("clip.mp4")
    assert sent.caption == "Clip"


async def test_send_media_bytes_named_by_filename(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    data = b"%PDF-1.7 invoice"

    sent = await wacr_client.messages.send_media(
        PHONE, "document", file=data, filename="Invoice 9.pdf"
    )

    assert sent.filename == "Invoice 9.pdf"
    assert sent.media_url is not None and sent.media_url.endswith("invoice_9.pdf")
    digest = hashlib.sha1(data).hexdigest()
    assert wacr_sandbox.sends[0].payload["media"] == f"upload:{digest}:{len(data)}"


async def test_send_media_binary_file_named_by_its_path(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client, tmp_path: Path
) -> None:
    path = tmp_path / "note.ogg"
    path.write_bytes(b"OggS" + b"\1" * 1000)

    with path.open("rb") as handle:
        handle.read(10)  # a partly read file is still sent whole
        await wacr_client.messages.send_media(PHONE, "audio", file=handle)

    digest = hashlib.sha1(path.read_bytes()).hexdigest()
    assert wacr_sandbox.sends[0].payload["media"] == f"upload:{digest}:1004"


async def test_send_media_caption_on_audio_is_left_to_the_server(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    sent = await wacr_client.messages.send_media(
        PHONE, "audio", url="https://cdn.example.com/v.mp3", caption="ignored by WhatsApp"
    )

    assert sent.media_type == "audio"


async def test_send_media_fills_the_auto_created_contact(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    defaults = ContactDefaults(
        firstname="Ada", lastname="Lovelace", email="ada@example.com", assigned_id=7, groups=[1]
    )

    sent = await wacr_client.messages.send_media(
        "+15550009999", "image", url="https://cdn.example.com/a.jpg", contact=defaults
    )

    contact = wacr_sandbox.state.contacts.get(sent.contact_id or 0)
    assert contact is not None
    assert (contact["firstname"], contact["lastname"], contact["email"]) == (
        "Ada",
        "Lovelace",
        "ada@example.com",
    )
    assert (contact["assigned_id"], contact["group_id"]) == (7, [1])


async def test_send_media_to_an_existing_contact_id(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    contact = wacr_sandbox.add_contact(firstname="Ada", lastname="L", phone=PHONE)

    sent = await wacr_client.messages.send_media(
        PHONE, "image", url="https://cdn.example.com/a.jpg", contact_id=contact["id"]
    )

    assert sent.contact_id == contact["id"]


async def test_send_media_bad_url_extension_is_a_validation_error(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    # The server answers this one outside its envelope: {"status": "error", "message": ...}.
    with pytest.raises(wacr.ValidationError) as caught:
        await wacr_client.messages.send_media(PHONE, "image", url="https://cdn.example.com/a.gif")

    error = caught.value
    assert (error.status, error.code, error.local) == (422, None, False)
    assert error.message == "Invalid file extension for image. Allowed: jpg, jpeg, png, webp"
    assert error.fields == {"media_url": [error.message]}
    assert wacr_sandbox.sends == []


# aiohttp's multipart reader warns while parsing a chunked upload (the sandbox's side).
@pytest.mark.filterwarnings("ignore:unread_data:DeprecationWarning")
async def test_send_media_oversized_unsized_stream_is_refused_by_the_server(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    stream = io.BufferedReader(UnsizedStream("big.png", 5 * MB + 1))

    with pytest.raises(wacr.ValidationError) as caught:
        await wacr_client.messages.send_media(PHONE, "image", file=stream)

    assert caught.value.local is False
    assert caught.value.fields == {
        "media_file": ["File size exceeds limit for image. Max allowed is 5 MB"]
    }
    assert wacr_sandbox.hits["POST /messages/media"] == 1


async def test_send_media_server_field_validation(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    with pytest.raises(wacr.ValidationError) as caught:
        await wacr_client.messages.send_media(PHONE, "image", url="not a url.png")

    assert caught.value.code == "VALIDATION_ERROR"
    assert caught.value.fields == {"media_url": ["The media url field must be a valid URL."]}


async def test_send_media_auth_and_scope(wacr_sandbox: Sandbox) -> None:
    url = "https://cdn.example.com/a.png"
    async with wacr_sandbox.client(token="wm_nope") as client:
        with pytest.raises(wacr.AuthenticationError):
            await client.messages.send_media(PHONE, "image", url=url)
    wacr_sandbox.add_token("wm_reader", {"messages:read"})
    async with wacr_sandbox.client(token="wm_reader") as client:
        with pytest.raises(wacr.InsufficientScopeError):
            await client.messages.send_media(PHONE, "image", url=url)


async def test_send_media_shared_send_errors(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    url = "https://cdn.example.com/a.png"
    wacr_sandbox.add_contact(firstname="Ada", lastname="L", phone=PHONE, is_opted_out=True)
    with pytest.raises(wacr.ContactOptedOutError):
        await wacr_client.messages.send_media(PHONE, "image", url=url)

    wacr_sandbox.plan.conversations = 0
    with pytest.raises(wacr.FeatureLimitExceededError):
        await wacr_client.messages.send_media("+15550002222", "image", url=url)

    wacr_sandbox.whatsapp_configured = False
    with pytest.raises(wacr.WhatsAppNotConfiguredError):
        await wacr_client.messages.send_media("+15550002222", "image", url=url)
    assert wacr_sandbox.sends == []


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"media_type": "sticker", "url": "https://x.example/a.png"}, "media_type"),
        ({"media_type": "image"}, "media_url"),
        ({"url": "https://x.example/a.png", "file": b"png"}, "media_url"),
        ({"phone": "123456789", "url": "https://x.example/a.png"}, "phone"),
        ({"phone": "+1555000111122234", "url": "https://x.example/a.png"}, "phone"),
        ({"url": "https://x.example/a.png", "caption": "c" * 1025}, "caption"),
        ({"url": "https://x.example/a.png", "filename": "f" * 256}, "filename"),
        ({"url": "https://x.example/a.png", "contact_id": 0}, "contact_id"),
        ({"file": b"GIF89a", "filename": "a.gif"}, "media_file"),
        ({"file": b"\x89PNG"}, "media_file"),
        ({"file": io.BytesIO(b"\x89PNG")}, "media_file"),
        ({"media_type": "video", "file": b"x", "filename": "clip.mov"}, "media_file"),
        ({"media_type": "audio", "file": b"x", "filename": "voice.wav"}, "media_file"),
        ({"media_type": "document", "file": b"x", "filename": "a.exe"}, "media_file"),
    ],
)
async def test_send_media_local_checks_make_no_request(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client, kwargs: dict[str, Any], field: str
) -> None:
    arguments: dict[str, Any] = {"phone": PHONE, "media_type": "image", **kwargs}
    with pytest.raises(wacr.ValidationError) as caught:
        await wacr_client.messages.send_media(**arguments)

    assert caught.value.local is True
    assert field in caught.value.fields
    assert no_requests(wacr_sandbox)


@pytest.mark.parametrize(
    ("media_type", "name", "limit_mb"),
    [("image", "a.jpg", 5), ("video", "a.3gp", 16), ("audio", "a.opus", 16)],
)
async def test_send_media_size_limits_are_checked_before_upload(
    wacr_sandbox: Sandbox,
    wacr_client: wacr.Client,
    tmp_path: Path,
    media_type: str,
    name: str,
    limit_mb: int,
) -> None:
    too_big = sparse_file(tmp_path / name, limit_mb * MB + 1)

    with pytest.raises(wacr.ValidationError) as caught:
        await wacr_client.messages.send_media(PHONE, media_type, file=too_big)

    assert caught.value.local is True
    assert f"{limit_mb}.0 MB" in caught.value.fields["media_file"][0]
    assert no_requests(wacr_sandbox)


async def test_send_media_exactly_at_the_size_limit_is_sent(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client, tmp_path: Path
) -> None:
    at_limit = sparse_file(tmp_path / "Photo.JPEG", 5 * MB)

    sent = await wacr_client.messages.send_media(PHONE, "image", file=at_limit)

    assert sent.media_url is not None and sent.media_url.endswith(".jpeg")
    assert wacr_sandbox.sends[0].payload["media"].endswith(f":{5 * MB}")


async def test_send_media_checks_a_seekable_stream_size_locally(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    stream = io.BytesIO(b"\0" * (5 * MB + 1))

    with pytest.raises(wacr.ValidationError) as caught:
        await wacr_client.messages.send_media(PHONE, "image", file=stream, filename="a.webp")

    assert caught.value.local is True
    assert no_requests(wacr_sandbox)


async def test_send_media_missing_file_is_an_os_error(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client, tmp_path: Path
) -> None:
    with pytest.raises(FileNotFoundError):
        await wacr_client.messages.send_media(PHONE, "image", file=tmp_path / "gone.png")

    assert no_requests(wacr_sandbox)


async def test_send_media_str_file_is_refused(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    with pytest.raises(TypeError, match=r"pathlib\.Path"):
        await wacr_client.messages.send_media(PHONE, "image", file="a.png")  # type: ignore[arg-type]  # the mistake under test

    assert no_requests(wacr_sandbox)
