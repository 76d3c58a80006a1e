"""Local checks read strings as the server does (trimmed, blank as null): never stricter."""

from __future__ import annotations

import pytest

import wacr_async as wacr
from wacr_async._validate import (
    check_choice,
    check_hex_color,
    check_max_length,
    check_phone,
    check_required,
)
from wacr_async.testing import Sandbox


def test_padding_is_not_counted_against_a_length() -> None:
    check_max_length("name", "x" * 255 + "  ", 255)
    with pytest.raises(wacr.ValidationError) as caught:
        check_max_length("name", "x" * 256, 255)
    assert caught.value.local is True
    assert caught.value.fields == {"name": ["name may not be longer than 255 characters (got 256)"]}


def test_colours_and_choices_are_trimmed_and_blank_is_null() -> None:
    check_hex_color("color", " #FF5733 ")
    check_hex_color("color", "")
    check_hex_color("color", "   ")
    check_choice("type", " lead", {"lead", "customer"})
    check_choice("type", "", {"lead", "customer"})
    with pytest.raises(wacr.ValidationError, match="hex colour"):
        check_hex_color("color", "#FF573")
    with pytest.raises(wacr.ValidationError, match="one of customer, lead"):
        check_choice("type", "vip", {"lead", "customer"})


def test_phones_are_trimmed_before_their_shape_is_checked() -> None:
    check_phone("phone", " +1 555 000 1111 ")
    with pytest.raises(wacr.ValidationError, match="at least 10"):
        check_phone("phone", "  +1555  ".strip())
    with pytest.raises(wacr.ValidationError, match="required"):
        check_required("phone", "   ")


async def test_the_sandbox_accepts_what_the_local_checks_let_through(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    status = await wacr_client.statuses.create(name="  Padded  ", color=" #FF5733 ")
    assert (status.name, status.color) == ("Padded", "#FF5733")

    blank = await wacr_client.statuses.create(name="No colour", color="")
    assert blank.color is None


async def test_a_padded_media_type_is_sent_like_the_server_reads_it(
    wacr_sandbox: Sandbox, wacr_client: wacr.Client
) -> None:
    sent = await wacr_client.messages.send_media(
        "15550001111", " image ", url="https://cdn.example/cat.jpg"
    )
    assert sent.media_type == "image"
    assert [send.phone for send in wacr_sandbox.sends] == ["15550001111"]
