"""Message specs: their journal keys are stable across processes and name what is sent."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import attrs
import pytest

import wacr_async as wacr
from wacr_async.batch import (
    InteractiveMessage,
    MediaMessage,
    TemplateMessage,
    TextMessage,
    spec_key,
)
from wacr_async.models.messages import Button, Row, Section

TEMPLATE = TemplateMessage("+15550001111", "order_update", "en", fields=["A-17", "Friday"])


def test_an_explicit_key_is_the_journal_key() -> None:
    assert spec_key(attrs.evolve(TEMPLATE, key="order-A-17")) == "order-A-17"


def test_the_derived_key_is_pinned_so_old_journals_keep_working() -> None:
    # Changing how specs are hashed would make re-runs resend everything: pin the value.
    assert spec_key(TEMPLATE) == "spec:d506e47767bb72dc925d9521836539aa0ad863cd"


def test_the_derived_key_is_the_same_in_another_process() -> None:
    code = (
        "from wacr_async.batch import TemplateMessage, spec_key\n"
        "print(spec_key(TemplateMessage('+15550001111', 'order_update', 'en',"
        " fields=['A-17', 'Friday'])))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    child = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert child.stdout.strip() == spec_key(TEMPLATE)


def test_the_derived_key_changes_with_any_field_and_with_the_kind() -> None:
    keys = {
        spec_key(TEMPLATE),
        spec_key(attrs.evolve(TEMPLATE, fields=["A-18", "Friday"])),
        spec_key(attrs.evolve(TEMPLATE, phone="+15550001112")),
        spec_key(attrs.evolve(TEMPLATE, language="es")),
        spec_key(TextMessage("+15550001111", "order_update")),
    }
    assert len(keys) == 5


def test_sequences_are_frozen_so_specs_are_hashable_values() -> None:
    spec = TemplateMessage("+15550001111", "t", "en", fields=["a"], buttons=["x"])
    assert spec.fields == ("a",)
    assert spec == TemplateMessage("+15550001111", "t", "en", fields=("a",), buttons=("x",))
    assert hash(spec) == hash(
        TemplateMessage("+15550001111", "t", "en", fields=["a"], buttons=["x"])
    )


def test_interactive_specs_hash_their_buttons_and_sections() -> None:
    buttons = InteractiveMessage("+15550001111", "Pick", buttons=[Button("y", "Yes")])
    sections = InteractiveMessage(
        "+15550001111",
        "Pick",
        sections=[Section("Sizes", [Row("s", "Small", "cheap")])],
        list_button_text="Sizes",
    )
    other = InteractiveMessage("+15550001111", "Pick", buttons=[Button("n", "No")])
    assert len({spec_key(buttons), spec_key(sections), spec_key(other)}) == 3


def test_media_files_stand_for_their_path_or_content(tmp_path: Path) -> None:
    path = tmp_path / "a.png"
    by_path = MediaMessage("+15550001111", "image", file=path)
    assert spec_key(by_path) == spec_key(MediaMessage("+15550001111", "image", file=path))
    by_bytes = MediaMessage("+15550001111", "image", file=b"\x89PNG", filename="a.png")
    other_bytes = MediaMessage("+15550001111", "image", file=b"\x89PNG!", filename="a.png")
    assert spec_key(by_bytes) != spec_key(other_bytes)


def test_an_unnamed_file_object_needs_an_explicit_key() -> None:
    spec = MediaMessage("+15550001111", "image", file=io.BytesIO(b"x"), filename="a.png")
    with pytest.raises(wacr.ValidationError, match="key="):
        spec_key(spec)
    assert spec_key(attrs.evolve(spec, key="banner-1")) == "banner-1"
