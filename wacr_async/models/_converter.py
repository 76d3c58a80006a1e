"""The one cattrs converter every response goes through.

Timestamps become aware datetimes (naive ones are taken as UTC), unknown fields are ignored,
and enum-like fields are plain strings so that a value the API adds later never breaks parsing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from typing import Any, TypeVar, get_origin

import attrs
import cattrs

from ..errors import UnexpectedResponseError
from ._fast_attrs import make_fast_attrs_hook

__all__ = ["converter", "model_hook", "parse_datetime", "structure", "structure_list"]

T = TypeVar("T")

converter = cattrs.Converter(detailed_validation=False)


def model_hook(
    cls: type[T], overrides: Mapping[str, Callable[[Any], Any]] | None = None
) -> Callable[[Any, Any], T]:
    """The fast structure hook for one model, for a model module to wrap or register.

    Example::

        converter.register_structure_hook(Contact, model_hook(Contact, {"group_id": _ids}))
    """
    return make_fast_attrs_hook(converter, cls, overrides)


# Every attrs model not given its own hook gets the fast one; generic aliases stay with cattrs.
converter.register_structure_hook_factory(
    lambda cls: attrs.has(cls) and get_origin(cls) is None, model_hook
)


def parse_datetime(value: Any) -> datetime:
    """An aware datetime from an ISO 8601 string or a Unix timestamp.

    Example::

        parse_datetime("2026-01-01T07:58:39+00:00")   # datetime(2026, 1, 1, 7, 58, 39, tzinfo=UTC)
    """
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    elif isinstance(value, str):
        text = value.strip()
        if " " in text and "T" not in text:
            text = text.replace(" ", "T", 1)
        parsed = datetime.fromisoformat(text)
    else:
        raise ValueError(f"not a timestamp: {value!r}")
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _structure_datetime(value: Any, _: type) -> datetime:
    # The common case first: an ISO string with an offset, as the API sends it.
    if value.__class__ is str:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return parse_datetime(value)
        if parsed.tzinfo is not None:
            return parsed
    return parse_datetime(value)


converter.register_structure_hook(datetime, _structure_datetime)
converter.register_structure_hook(date, lambda value, _: date.fromisoformat(str(value)[:10]))


def _structure_str(value: Any, _: type) -> str:
    # Numbers arrive where strings are documented (ids, phones); keep them as text.
    if isinstance(value, str):
        return value
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


converter.register_structure_hook(str, _structure_str)


def structure(data: Any, cls: type[T]) -> T:
    """Build a model from decoded JSON, raising UnexpectedResponseError when it does not fit."""
    try:
        return converter.structure(data, cls)
    except Exception as exc:
        raise UnexpectedResponseError(
            f"The API's answer does not fit {cls.__name__}: {exc}",
            body_snippet=repr(data)[:200],
        ) from exc


def structure_list(data: Any, cls: type[T]) -> list[T]:
    """Build a list of models; ``data`` must be a list."""
    if not isinstance(data, list):
        raise UnexpectedResponseError(
            f"Expected a list of {cls.__name__}, got {type(data).__name__}",
            body_snippet=repr(data)[:200],
        )
    hook = converter.get_structure_hook(cls)
    try:
        return [hook(item, cls) for item in data]
    except Exception as exc:
        raise UnexpectedResponseError(
            f"The API's answer does not fit {cls.__name__}: {exc}", body_snippet=repr(data)[:200]
        ) from exc
