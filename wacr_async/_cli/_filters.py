"""``--filter FIELD[:OP]=VALUE`` options of ``wacr contacts export`` as a filter mapping,
checked against the fields the API filters on, so a typo is a usage error, not a wrong export."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import click

from .. import filters

__all__ = ["DATE_FORMAT", "FILTER_FIELDS", "OPERATOR_NAMES", "parse_filters"]

_OPERATORS = {
    "gte": filters.gte,
    "lte": filters.lte,
    "gt": filters.gt,
    "lt": filters.lt,
    "ne": filters.ne,
    "like": filters.like,
}
_LIST_OPERATORS = {"in": filters.in_, "not_in": filters.not_in}
OPERATOR_NAMES = (*_OPERATORS, *_LIST_OPERATORS, "between", "null")
CONTACT_TYPES = ("lead", "customer", "guest")
# The fields GET /contacts filters on (REFERENCE §5); anything else the server ignores, and the
# export would silently be of every contact.
FILTER_FIELDS: tuple[str, ...] = (
    "type",
    "status_id",
    "source_id",
    "assigned_id",
    "created_at",
    "group_id",
)
DATE_FORMAT = "YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS][+HH:MM]"


# -- filters ---------------------------------------------------------------------------------


def _value(field: str, text: str) -> str:
    """One filter value, checked against what the field holds; a usage error otherwise."""
    value = text.strip()
    if field == "type" and value not in CONTACT_TYPES:
        raise click.BadParameter(
            f"type is one of {', '.join(CONTACT_TYPES)} (got {value!r})", param_hint="--filter"
        )
    if field.endswith("_id") and not (value.isdecimal() and value.isascii()):
        raise click.BadParameter(
            f"{field} takes a whole number (got {value!r})", param_hint="--filter"
        )
    if field == "created_at":
        try:
            datetime.fromisoformat(value)
        except ValueError:
            raise click.BadParameter(
                f"{field} takes a date as {DATE_FORMAT}, e.g. 2025-01-31 (got {value!r})",
                param_hint="--filter",
            ) from None
    return value


def _operator(field: str, op: str, value: str) -> filters.FilterOp:
    if op in _OPERATORS:
        return _OPERATORS[op](_value(field, value) if op != "like" else value)
    if op in _LIST_OPERATORS:
        return _LIST_OPERATORS[op]([_value(field, item) for item in value.split(",")])
    if op == "between":
        low, comma, high = value.partition(",")
        if not comma:
            raise click.BadParameter(
                f"{field}:between takes LOW,HIGH (got {value!r})", param_hint="--filter"
            )
        return filters.between(_value(field, low), _value(field, high))
    if op == "null":
        if value.lower() not in ("true", "false"):
            raise click.BadParameter(
                f"{field}:null takes true or false (got {value!r})", param_hint="--filter"
            )
        return filters.is_null(value.lower() == "true")
    raise click.BadParameter(
        f"unknown operator {op!r} in {field}:{op}; use one of {', '.join(OPERATOR_NAMES)}",
        param_hint="--filter",
    )


def parse_filters(texts: Sequence[str]) -> dict[str, Any]:
    """``field=value`` (exact) and ``field:op=value`` options as a filter mapping.

    A field the API does not filter on, or a value the field cannot hold (a date that is not
    ISO 8601, a type that is not lead/customer/guest, an id that is not a number), is a
    ``click.BadParameter`` naming what is valid: a usage error, not a silently wrong export.

    Example::

        parse_filters(["type=lead", "created_at:gte=2025-01-01"])
        # {"type": "lead", "created_at": wacr.gte("2025-01-01")}
    """
    exact: dict[str, str] = {}
    ops: dict[str, list[filters.FilterOp]] = {}
    for text in texts:
        target, equals, value = text.partition("=")
        field, colon, op = target.partition(":")
        field = field.strip()
        if not equals or not field:
            raise click.BadParameter(
                f"{text!r}: write field=value or field:op=value (e.g. created_at:gte=2025-01-01)",
                param_hint="--filter",
            )
        if field not in FILTER_FIELDS:
            raise click.BadParameter(
                f"unknown field {field!r}; contacts filter on {', '.join(FILTER_FIELDS)}",
                param_hint="--filter",
            )
        if colon:
            ops.setdefault(field, []).append(_operator(field, op.strip().lower(), value))
        elif field in exact:
            raise click.BadParameter(f"{field} is given two exact values", param_hint="--filter")
        else:
            exact[field] = _value(field, value)
    both = sorted(set(exact) & set(ops))
    if both:
        raise click.BadParameter(
            f"{both[0]} has both an exact value and an operator", param_hint="--filter"
        )
    combined: dict[str, Any] = dict(exact)
    for field, items in ops.items():
        combined[field] = items[0] if len(items) == 1 else items
    return combined
