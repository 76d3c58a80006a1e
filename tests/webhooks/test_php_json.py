"""The sandbox's encoder writes what PHP's json_encode writes (outputs taken from PHP 8)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wacr_async.testing import php_json


@pytest.mark.parametrize(
    ("value", "php"),
    [
        ({"url": "https://wa.cr/a/b"}, b'{"url":"https:\\/\\/wa.cr\\/a\\/b"}'),
        ("مرحبا", b'"\\u0645\\u0631\\u062d\\u0628\\u0627"'),
        ("😀", b'"\\ud83d\\ude00"'),
        ("é", b'"\\u00e9"'),
        ('a"b\\c\n\t\x01', b'"a\\"b\\\\c\\n\\t\\u0001"'),
        ("back\\/slash", b'"back\\\\\\/slash"'),
        ({}, b"[]"),
        ([], b"[]"),
        ({"a": [1, 2.5, None, True, False]}, b'{"a":[1,2.5,null,true,false]}'),
        (1.0, b"1.0"),
        (0.1, b"0.1"),
        (1e25, b"1.0e+25"),
        (1.5e-7, b"1.5e-7"),
        ({"k": {}}, b'{"k":[]}'),
    ],
)
def test_matches_php(value: Any, php: bytes) -> None:
    assert php_json(value) == php


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner, min_size=1),
    max_leaves=20,
)


@given(json_values)
def test_any_value_round_trips_and_is_ascii(value: Any) -> None:
    encoded = php_json(value)
    assert encoded.isascii()
    assert b" " not in encoded.replace(b'\\"', b"").split(b'"')[0]  # no separator spaces
    assert json.loads(encoded) == value
