"""Filter operators and the query encoding of a list call.

A filter maps a field to a value. A plain value is an exact match (``filter[type]=lead``); an
operator built here adds the operator key (``filter[created_at][gte]=2025-01-01``). Several
operators on one field go in a list::

    filter={
        "type": "lead",                                         # filter[type]=lead
        "status_id": wacr.in_([1, 2, 3]),                       # filter[status_id][in]=1,2,3
        "created_at": [wacr.gte(date(2025, 1, 1)),              # filter[created_at][gte]=2025-01-01
                       wacr.lt(date(2026, 1, 1))],              # filter[created_at][lt]=2026-01-01
        "assigned_id": wacr.is_null(True),                      # filter[assigned_id][null]=true
    }

How values are written:

* ``bool`` → ``true`` / ``false``; ``int``, ``float``, ``Decimal`` → their decimal text.
* an ``Enum`` member → its value; ``date`` → ``YYYY-MM-DD``.
* ``datetime`` → ISO 8601 in UTC with an explicit offset, ``2025-01-01T09:30:00+00:00``.
  An aware datetime is converted to UTC (the instant is kept, the offset is normalised, so the
  same instant always gives the same query); a naive one is taken as UTC, as the SDK does
  when it reads timestamps.
* lists (``in_``, ``not_in``, ``between``) → comma-joined; a comma inside one value cannot be
  expressed and is refused.

Everything is checked before any request is made: a value the API cannot receive (None, an
empty ``in_`` list, a nested dict, an object with no text form) raises
:class:`~wacr_async.errors.ValidationError` with ``local=True`` naming the parameter.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, Final

import attrs

from ._validate import check_int_range
from .errors import ValidationError

__all__ = [
    "FilterOp",
    "between",
    "encode_filter",
    "encode_list",
    "gt",
    "gte",
    "in_",
    "is_null",
    "like",
    "list_params",
    "lt",
    "lte",
    "ne",
    "not_in",
]

MAX_PER_PAGE: Final = 100

_LIST_OPS: Final = frozenset({"in", "not_in", "between"})


@attrs.frozen(slots=True)
class FilterOp:
    """One operator filter on a field: ``filter[field][op]=value``.

    Build it with :func:`gte`, :func:`in_`, … rather than directly.
    """

    op: str
    value: Any

    def __repr__(self) -> str:
        name = {"in": "in_", "null": "is_null"}.get(self.op, self.op)
        if self.op == "between":
            return f"wacr.between({self.value[0]!r}, {self.value[1]!r})"
        return f"wacr.{name}({self.value!r})"


def gte(value: Any) -> FilterOp:
    """Greater than or equal: ``{"created_at": wacr.gte(date(2025, 1, 1))}``."""
    return FilterOp("gte", value)


def lte(value: Any) -> FilterOp:
    """Less than or equal: ``{"created_at": wacr.lte("2025-12-31")}``."""
    return FilterOp("lte", value)


def gt(value: Any) -> FilterOp:
    """Strictly greater: ``{"id": wacr.gt(1000)}``."""
    return FilterOp("gt", value)


def lt(value: Any) -> FilterOp:
    """Strictly less: ``{"created_at": wacr.lt(datetime(2026, 1, 1, tzinfo=UTC))}``."""
    return FilterOp("lt", value)


def ne(value: Any) -> FilterOp:
    """Not equal: ``{"status_id": wacr.ne(3)}``."""
    return FilterOp("ne", value)


def like(value: str) -> FilterOp:
    """Partial match (the server wraps the text in ``%``): ``{"type": wacr.like("lea")}``."""
    return FilterOp("like", value)


def in_(values: Iterable[Any]) -> FilterOp:
    """Any of the values: ``{"status_id": wacr.in_([1, 2, 3])}`` → ``…[in]=1,2,3``."""
    return FilterOp("in", _materialise(values))


def not_in(values: Iterable[Any]) -> FilterOp:
    """None of the values: ``{"status_id": wacr.not_in([4, 5])}``."""
    return FilterOp("not_in", _materialise(values))


def between(low: Any, high: Any) -> FilterOp:
    """Inclusive range: ``{"created_at": wacr.between("2025-01-01", "2025-12-31")}``."""
    return FilterOp("between", (low, high))


def is_null(null: bool = True) -> FilterOp:
    """``True``: the field is empty; ``False``: it is set.

    Example: ``{"assigned_id": wacr.is_null(True)}`` → ``filter[assigned_id][null]=true``.
    """
    return FilterOp("null", null)


def _materialise(values: Iterable[Any]) -> Any:
    # Keep strings and mappings as given so that encoding can refuse them with a clear message;
    # read any other iterable (a generator, a set) once, now.
    if isinstance(values, str | bytes | Mapping) or not isinstance(values, Iterable):
        return values
    return tuple(values)


def _problem(param: str, problem: str) -> ValidationError:
    return ValidationError.for_field(param, f"{param}: {problem}")


def _scalar(param: str, value: Any) -> str:
    """The query text of one value, or a local ValidationError."""
    if isinstance(value, Enum):
        return _scalar(param, value.value)
    # bool before int: True is an int.
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        if not value:
            raise _problem(param, "an empty string matches nothing; use wacr.is_null(True)")
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _problem(param, f"{value!r} is not a number the API can compare")
        return repr(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise _problem(param, f"{value!r} is not a number the API can compare")
        return str(value)
    # datetime before date: a datetime is a date.
    if isinstance(value, datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if value is None:
        raise _problem(param, "None is not a filter value; use wacr.is_null(True) for empty fields")
    if isinstance(value, Mapping):
        raise _problem(
            param,
            "a nested dict is not a filter; use an operator such as wacr.gte(...) "
            "or a list of operators",
        )
    if isinstance(value, list | tuple | set | frozenset):
        raise _problem(param, "a list is not an exact value; use wacr.in_([...])")
    raise _problem(param, f"cannot send a {type(value).__name__} as a filter value ({value!r})")


def _list_item(param: str, value: Any) -> str:
    text = _scalar(param, value)
    if "," in text:
        raise _problem(param, f"{value!r} contains a comma, which separates list values")
    return text


def _op_value(param: str, op: FilterOp) -> str:
    value = op.value
    if op.op == "null":
        if not isinstance(value, bool):
            raise _problem(param, f"is_null() takes True or False (got {value!r})")
        return "true" if value else "false"
    if op.op == "like":
        if not isinstance(value, str):
            raise _problem(param, f"like() takes a string (got {value!r})")
        return _scalar(param, value)
    if op.op in _LIST_OPS:
        if isinstance(value, str | bytes | Mapping) or not isinstance(value, tuple):
            raise _problem(param, f"{op.op} takes a list of values (got {value!r})")
        if op.op == "between":
            low, high = value
            if low is None or high is None:
                raise _problem(param, "between() needs both a low and a high value")
        elif not value:
            raise _problem(param, f"{op.op} needs at least one value")
        return ",".join(_list_item(param, item) for item in value)
    return _scalar(param, value)


def _check_name(param: str, name: Any) -> str:
    if not isinstance(name, str) or not name or any(c in name for c in "[]"):
        raise ValidationError.for_field(param, f"{param}: {name!r} is not a field name")
    return name


def encode_filter(filter: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """The ``filter[…]`` query parameters of a filter mapping, checked locally.

    Example::

        encode_filter({"type": "lead", "created_at": wacr.gte(date(2025, 1, 1))})
        # [("filter[type]", "lead"), ("filter[created_at][gte]", "2025-01-01")]
    """
    if filter is None:
        return []
    if not isinstance(filter, Mapping):
        raise ValidationError.for_field("filter", "filter must be a mapping of field to value")
    params: list[tuple[str, str]] = []
    for raw_name, value in filter.items():
        name = _check_name("filter", raw_name)
        if isinstance(value, FilterOp):
            params.append((f"filter[{name}][{value.op}]", _op_value(f"filter[{name}]", value)))
        elif (
            isinstance(value, list | tuple)
            and value
            and all(isinstance(v, FilterOp) for v in value)
        ):
            seen: set[str] = set()
            for op in value:
                param = f"filter[{name}][{op.op}]"
                if op.op in seen:
                    raise _problem(param, "the same operator is given twice")
                seen.add(op.op)
                params.append((param, _op_value(f"filter[{name}]", op)))
        else:
            params.append((f"filter[{name}]", _scalar(f"filter[{name}]", value)))
    return params


def encode_list(param: str, value: str | Sequence[str] | None) -> str | None:
    """A comma-separated list parameter (``sort``, ``include``, ``fields``), or None.

    Example: ``encode_list("sort", ["-created_at", "firstname"])`` → ``"-created_at,firstname"``.
    """
    if value is None:
        return None
    if isinstance(value, str):
        parts = [value]
    elif isinstance(value, Sequence):
        parts = list(value)
        for part in parts:
            if isinstance(part, str) and "," in part:
                raise _problem(param, f"{part!r} contains a comma; give one name per list item")
    else:
        raise _problem(param, f"expected a string or a list of strings (got {value!r})")
    names: list[str] = []
    for part in parts:
        if not isinstance(part, str):
            raise _problem(param, f"expected strings (got {part!r})")
        names.extend(piece.strip() for piece in part.split(","))
    if not names or any(not name for name in names):
        raise _problem(param, "names may not be empty")
    return ",".join(names)


def list_params(
    *,
    per_page: int,
    sort: str | Sequence[str] | None = None,
    search: str | None = None,
    filter: Mapping[str, Any] | None = None,
    include: str | Sequence[str] | None = None,
    fields: str | Sequence[str] | None = None,
    extra_params: Mapping[str, str] | Sequence[tuple[str, str]] | None = None,
) -> list[tuple[str, str]]:
    """The query of a list call, less ``page``; every argument checked locally.

    Example::

        list_params(per_page=50, sort=["-created_at", "firstname"], include=["groups"])
        # [("per_page", "50"), ("sort", "-created_at,firstname"), ("include", "groups")]
    """
    check_int_range("per_page", per_page, 1)
    per_page = min(per_page, MAX_PER_PAGE)  # the server clamps a larger page size the same way
    params: list[tuple[str, str]] = [("per_page", str(per_page))]
    for name, raw in (("sort", sort), ("include", include), ("fields", fields)):
        encoded = encode_list(name, raw)
        if encoded is not None:
            params.append((name, encoded))
    if search is not None:
        if not isinstance(search, str):
            raise ValidationError.for_field("search", f"search must be a string (got {search!r})")
        params.append(("search", search))
    params.extend(encode_filter(filter))
    if extra_params is not None:
        items = extra_params.items() if isinstance(extra_params, Mapping) else extra_params
        params.extend((str(key), str(value)) for key, value in items)
    return params
