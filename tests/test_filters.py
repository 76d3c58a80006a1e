"""Filter operators and the encoding of a list query: what goes on the wire, what fails locally."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from enum import Enum, StrEnum
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import wacr_async as wacr
from wacr_async.filters import (
    FilterOp,
    between,
    encode_filter,
    gt,
    gte,
    in_,
    is_null,
    like,
    list_params,
    lt,
    lte,
    ne,
    not_in,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("lead", ("filter[type]", "lead")),
        (7, ("filter[type]", "7")),
        (True, ("filter[type]", "true")),
        (False, ("filter[type]", "false")),
        (1.5, ("filter[type]", "1.5")),
        (Decimal("2.50"), ("filter[type]", "2.50")),
        (date(2025, 1, 2), ("filter[type]", "2025-01-02")),
        (datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC), ("filter[type]", "2025-01-02T03:04:05+00:00")),
    ],
)
def test_scalars_are_exact_matches(value: Any, expected: tuple[str, str]) -> None:
    assert encode_filter({"type": value}) == [expected]


@pytest.mark.parametrize(
    ("op", "expected"),
    [
        (gte("2025-01-01"), ("filter[created_at][gte]", "2025-01-01")),
        (lte(date(2025, 12, 31)), ("filter[created_at][lte]", "2025-12-31")),
        (gt(5), ("filter[created_at][gt]", "5")),
        (lt(5), ("filter[created_at][lt]", "5")),
        (ne(3), ("filter[created_at][ne]", "3")),
        (like("lea"), ("filter[created_at][like]", "lea")),
        (in_([1, 2, 3]), ("filter[created_at][in]", "1,2,3")),
        (in_(x for x in (4, 5)), ("filter[created_at][in]", "4,5")),
        (not_in(["a", "b"]), ("filter[created_at][not_in]", "a,b")),
        (
            between(date(2025, 1, 1), date(2025, 12, 31)),
            ("filter[created_at][between]", "2025-01-01,2025-12-31"),
        ),
        (is_null(True), ("filter[created_at][null]", "true")),
        (is_null(False), ("filter[created_at][null]", "false")),
        (is_null(), ("filter[created_at][null]", "true")),
    ],
)
def test_operators(op: FilterOp, expected: tuple[str, str]) -> None:
    assert encode_filter({"created_at": op}) == [expected]


def test_several_operators_on_one_field() -> None:
    assert encode_filter({"created_at": [gte(date(2025, 1, 1)), lt(date(2026, 1, 1))]}) == [
        ("filter[created_at][gte]", "2025-01-01"),
        ("filter[created_at][lt]", "2026-01-01"),
    ]


def test_aware_datetimes_are_sent_as_the_same_instant_in_utc() -> None:
    paris_summer = timezone(timedelta(hours=2))
    local = datetime(2025, 6, 1, 12, 0, tzinfo=paris_summer)
    utc = datetime(2025, 6, 1, 10, 0, tzinfo=UTC)
    assert encode_filter({"t": gte(local)}) == encode_filter({"t": gte(utc)})
    assert encode_filter({"t": gte(local)}) == [("filter[t][gte]", "2025-06-01T10:00:00+00:00")]


def test_naive_datetimes_are_taken_as_utc() -> None:
    assert encode_filter({"t": datetime(2025, 6, 1, 10, 0)}) == [
        ("filter[t]", "2025-06-01T10:00:00+00:00")
    ]


def test_enum_members_are_their_value() -> None:
    class Kind(StrEnum):
        LEAD = "lead"

    class Level(Enum):
        HIGH = 3

    assert encode_filter({"type": Kind.LEAD, "level": in_([Level.HIGH])}) == [
        ("filter[type]", "lead"),
        ("filter[level][in]", "3"),
    ]


@pytest.mark.parametrize(
    ("filter", "param", "hint"),
    [
        ({"type": None}, "filter[type]", "is_null"),
        ({"type": ""}, "filter[type]", "empty string"),
        ({"type": {"gte": 1}}, "filter[type]", "nested dict"),
        ({"type": [1, 2]}, "filter[type]", "in_"),
        ({"type": object()}, "filter[type]", "cannot send"),
        ({"type": float("nan")}, "filter[type]", "number"),
        ({"status_id": in_([])}, "filter[status_id]", "at least one"),
        ({"status_id": in_("123")}, "filter[status_id]", "list of values"),
        ({"status_id": in_(["a,b", "c"])}, "filter[status_id]", "comma"),
        ({"status_id": not_in([1, None])}, "filter[status_id]", "None"),
        ({"created_at": between("2025-01-01", None)}, "filter[created_at]", "both"),
        ({"assigned_id": is_null("yes")}, "filter[assigned_id]", "True or False"),  # type: ignore[arg-type]  # the wrong type is the point
        ({"type": like(5)}, "filter[type]", "string"),  # type: ignore[arg-type]  # the wrong type is the point
        ({"created_at": [gte(1), gte(2)]}, "filter[created_at][gte]", "twice"),
        ({"": 1}, "filter", "field name"),
        ({"a[b]": 1}, "filter", "field name"),
    ],
)
def test_values_the_api_cannot_receive_fail_locally(
    filter: dict[str, Any], param: str, hint: str
) -> None:
    with pytest.raises(wacr.ValidationError) as info:
        encode_filter(filter)
    assert info.value.local
    assert param in info.value.fields
    assert hint in str(info.value)


def test_between_needs_two_values() -> None:
    with pytest.raises(TypeError):
        between("2025-01-01")  # type: ignore[call-arg]  # the missing bound is the point


def test_filter_must_be_a_mapping() -> None:
    with pytest.raises(wacr.ValidationError) as info:
        encode_filter([("type", "lead")])  # type: ignore[arg-type]  # the wrong type is the point
    assert info.value.local


def test_operators_read_as_code() -> None:
    assert repr(in_([1, 2])) == "wacr.in_((1, 2))"
    assert repr(between(1, 2)) == "wacr.between(1, 2)"
    assert repr(is_null(True)) == "wacr.is_null(True)"


@given(st.lists(st.integers(), min_size=1))
def test_in_lists_of_ints_are_comma_joined(values: list[int]) -> None:
    [(_, text)] = encode_filter({"id": in_(values)})
    assert [int(part) for part in text.split(",")] == values


# the whole query


def test_list_params_encodes_every_part_in_a_stable_order() -> None:
    assert list_params(
        per_page=50,
        sort=["-created_at", "firstname"],
        search="ada",
        filter={"type": "lead", "created_at": gte(date(2025, 1, 1))},
        include=["groups", "source"],
        fields=["id", "phone"],
        extra_params={"q": "x"},
    ) == [
        ("per_page", "50"),
        ("sort", "-created_at,firstname"),
        ("include", "groups,source"),
        ("fields", "id,phone"),
        ("search", "ada"),
        ("filter[type]", "lead"),
        ("filter[created_at][gte]", "2025-01-01"),
        ("q", "x"),
    ]


def test_sort_as_a_string_is_sent_as_given() -> None:
    assert list_params(per_page=500)[0] == ("per_page", "100")  # as the server clamps it
    assert list_params(per_page=10, sort="firstname, -created_at") == [
        ("per_page", "10"),
        ("sort", "firstname,-created_at"),
    ]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"per_page": 0}, "per_page"),
        ({"per_page": "10"}, "per_page"),
        ({"per_page": 10, "sort": ["a,b"]}, "sort"),
        ({"per_page": 10, "sort": [""]}, "sort"),
        ({"per_page": 10, "sort": []}, "sort"),
        ({"per_page": 10, "include": [1]}, "include"),
        ({"per_page": 10, "fields": 5}, "fields"),
        ({"per_page": 10, "search": 5}, "search"),
    ],
)
def test_bad_query_parts_fail_locally(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(wacr.ValidationError) as info:
        list_params(**kwargs)
    assert info.value.local
    assert field in info.value.fields
