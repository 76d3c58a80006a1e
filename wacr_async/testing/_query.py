"""The list engine behind every paginated endpoint: ``page``/``per_page``, ``sort``,
``search``/``q``, ``filter[f]`` and ``filter[f][op]``, ``fields``, and the response with
``meta.pagination`` and ``links`` (§1.6).

Semantics follow the server's query builder: unknown filter and sort fields are ignored,
an unknown operator means exact match, ``per_page`` is clamped to 100 (values below 1 fall
back to the default 15), comparisons against NULL are false. Strings compare
case-insensitively (MySQL's collation). Dates: a date-only value (``2025-01-01``) compares
by calendar day, so ``lte 2025-12-31`` includes that whole day; a value with a time compares
to the second, after conversion to UTC.

Speed: with no filter and no search, the default and ``id`` orders are slices of the table's
id-ordered rows (``created_at`` too where ids increase with time, i.e. messages); other
results are computed once per query and cached until the table's next write.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web
from multidict import MultiMapping

from ._clock import Clock, iso
from ._envelope import dumps, json_response, meta
from ._table import Row, Table
from ._validation import is_int

__all__ = ["ListSpec", "Selection", "list_response", "select"]

DEFAULT_PER_PAGE = 15
MAX_PER_PAGE = 100

_FILTER_KEY = re.compile(r"^filter\[([^\]]+)\](?:\[([^\]]*)\])?(\[\])?$")
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ALIASES = {">=": "gte", "<=": "lte", ">": "gt", "<": "lt", "!=": "ne"}
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
}
_TRUE = {"1", "true", "yes", "on"}

Predicate = Callable[[Row], bool]


@dataclass(frozen=True, slots=True)
class ListSpec:
    """What one list endpoint allows.

    ``sorts`` and ``filters`` map a field to its kind (``int``, ``str``, ``date``,
    ``bool``; filters also ``contains`` for a JSON-array field). ``fields_core`` is the set
    of keys ``fields=`` always keeps (``None``: ``fields`` is ignored). ``time_ordered``
    says ids increase with ``created_at``. ``contact_quirks`` reproduces List Contacts'
    ``count`` and ``links.self`` quirks.
    """

    sorts: Mapping[str, str]
    filters: Mapping[str, str]
    search: tuple[str, ...] = ()
    default_sort: tuple[tuple[str, bool], ...] = ()
    fields_core: frozenset[str] | None = None
    time_ordered: bool = False
    contact_quirks: bool = False


@dataclass(slots=True)
class Selection:
    """One page of a list query, plus what the response needs to describe it."""

    items: list[Row]
    total: int
    page: int
    per_page: int

    @property
    def last_page(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))


def select(
    table: Table,
    query: MultiMapping[str],
    spec: ListSpec,
    *,
    scope: Predicate | None = None,
    scope_key: str = "",
) -> Selection:
    """Run a list query over ``table`` (optionally pre-restricted by ``scope``).

    Example::

        page = select(state.contacts, request.query, CONTACTS)
        page.items, page.total
    """
    page = _positive(query.get("page"), 1)
    per_page = min(_positive(query.get("per_page"), DEFAULT_PER_PAGE), MAX_PER_PAGE)
    sort = _parse_sort(query.get("sort"), spec)
    filters = _parse_filters(query, spec)
    search = query.get("search") or query.get("q") or None
    if not spec.search:
        search = None

    plain_order = _plain_order(sort, spec)
    key = (scope_key, filters, search, sort)
    rows = table.cached_query(key)
    if rows is None:
        if not filters and search is None and scope is None and plain_order is not None:
            rows = table.ordered()  # a slice of the live ordering: no copy, no cache needed
        else:
            rows = _filter(table.ordered(), filters, search, spec, scope)
            if plain_order is None and sort:
                rows = _sort(rows, sort, spec)
            table.store_query(key, rows)
    reverse = plain_order is True  # plain id order, descending: read the slice backwards

    total = len(rows)
    start = (page - 1) * per_page
    if not reverse:
        items = rows[start : start + per_page]
    else:
        high = total - start
        items = rows[max(0, high - per_page) : high][::-1] if high > 0 else []
    return Selection(items, total, page, per_page)


def list_response(
    clock: Clock,
    request: web.Request,
    table: Table,
    selection: Selection,
    spec: ListSpec,
    *,
    present: Callable[[Row], dict[str, Any]] | None = None,
) -> web.Response:
    """The paginated envelope for ``selection``; rows use cached JSON unless reshaped."""
    wanted = _parse_fields(request.query.get("fields"), spec)
    if present is None and wanted is None:
        data = ",".join([table.json(row) for row in selection.items])
    else:
        shaped = [present(row) if present is not None else row for row in selection.items]
        if wanted is not None:
            core = spec.fields_core or frozenset()
            shaped = [
                {k: v for k, v in item.items() if k in wanted or k in core} for item in shaped
            ]
        data = ",".join([dumps(item) for item in shaped])

    page, last = selection.page, selection.last_page
    base = f"{request.scheme}://{request.host}{request.path}?page="
    count = len(selection.items)
    if spec.contact_quirks and not count:
        # ContactCollection computes count as to - from + 1: null - null + 1 = 1 when empty.
        count = 1
    pagination = {
        "total": selection.total,
        "count": count,
        "per_page": selection.per_page,
        "current_page": page,
        "total_pages": last,
        "has_more": page < last,
    }
    links = {
        # ContactCollection builds self by appending ?page=N to the first-page URL.
        "self": f"{base}1?page={page}" if spec.contact_quirks else f"{base}{page}",
        "first": f"{base}1",
        "last": f"{base}{last}",
        "prev": f"{base}{page - 1}" if page > 1 else None,
        "next": f"{base}{page + 1}" if page < last else None,
    }
    if spec.contact_quirks:
        meta_obj = meta(clock, pagination=pagination)
    else:
        meta_obj = {"pagination": pagination, **meta(clock)}
    body = f'{{"success":true,"data":[{data}],"meta":{dumps(meta_obj)},"links":{dumps(links)}}}'
    return json_response(body)


# -- parsing --------------------------------------------------------------------------------


def _positive(text: str | None, default: int) -> int:
    if text is None:
        return default
    text = text.strip()
    if not is_int(text):
        return default
    value = int(text)
    return value if value >= 1 else default


def _parse_sort(text: str | None, spec: ListSpec) -> tuple[tuple[str, bool], ...]:
    if not text:
        return spec.default_sort
    keys: list[tuple[str, bool]] = []
    for raw in text.split(","):
        name = raw.strip()
        descending = name.startswith("-")
        name = name.lstrip("-")
        if name in spec.sorts:
            keys.append((name, descending))
    return tuple(keys) if keys else spec.default_sort


def _plain_order(sort: tuple[tuple[str, bool], ...], spec: ListSpec) -> bool | None:
    """``False``/``True`` when ``sort`` is plain id order ascending/descending, else ``None``."""
    if not sort:
        return False
    if len(sort) == 1:
        name, descending = sort[0]
        if name == "id" or (name == "created_at" and spec.time_ordered):
            return descending
    return None


FilterSpec = tuple[tuple[str, str, tuple[str, ...]], ...]


def _parse_filters(query: MultiMapping[str], spec: ListSpec) -> FilterSpec:
    found: dict[tuple[str, str], list[str]] = {}
    for key, value in query.items():
        if not key.startswith("filter["):
            continue
        match = _FILTER_KEY.match(key)
        if match is None:
            continue
        name, op, append = match.group(1), match.group(2), match.group(3)
        if name not in spec.filters:
            continue  # unknown filter fields are silently ignored
        if op is None:
            op = "eq"
        elif op == "":
            op = "in"  # filter[f][]=a&filter[f][]=b
        op = _ALIASES.get(op, op)
        slot = (name, op)
        if append or (op == "in" and key.endswith("[]")):
            found.setdefault(slot, []).append(value)
        else:
            found[slot] = [value]
    return tuple(sorted((name, op, tuple(values)) for (name, op), values in found.items()))


def _parse_fields(text: str | None, spec: ListSpec) -> frozenset[str] | None:
    if not text or spec.fields_core is None:
        return None
    return frozenset(part.strip() for part in text.split(",") if part.strip())


# -- filtering and sorting ------------------------------------------------------------------


def _filter(
    rows: Sequence[Row],
    filters: FilterSpec,
    search: str | None,
    spec: ListSpec,
    scope: Predicate | None,
) -> list[Row]:
    predicates: list[Predicate] = [] if scope is None else [scope]
    for name, op, values in filters:
        predicate = _compile(name, spec.filters[name], op, values)
        if predicate is not None:
            predicates.append(predicate)
    if search is not None:
        predicates.append(_search_predicate(search, spec.search))
    if not predicates:
        return list(rows)
    if len(predicates) == 1:
        only = predicates[0]
        return [row for row in rows if only(row)]
    return [row for row in rows if all(predicate(row) for predicate in predicates)]


def _search_predicate(term: str, fields: tuple[str, ...]) -> Predicate:
    folded = term.casefold()

    def matches(row: Row) -> bool:
        for name in fields:
            value = row.get(name)
            if value is not None and folded in str(value).casefold():
                return True
        return False

    return matches


def _compile(name: str, kind: str, op: str, values: tuple[str, ...]) -> Predicate | None:
    """One filter condition as a row predicate; ``None`` when it filters nothing."""
    if kind == "contains":
        if op != "eq" or not values or not is_int(values[0].strip()):
            return None  # the server only does an exact JSON-contains match here
        wanted = int(values[0])
        return lambda row: wanted in (row.get(name) or ())
    if op == "null":
        is_null = values[0].strip().lower() in _TRUE if values else True
        if is_null:
            return lambda row: row.get(name) is None
        return lambda row: row.get(name) is not None
    if op == "like":
        pattern = _like(values[0] if values else "")
        return lambda row: row.get(name) is not None and bool(pattern.search(_text(row[name])))
    if op in ("in", "not_in"):
        items = [part for value in values for part in value.split(",")]
        tests = [_comparison(name, kind, "eq", item) for item in items]
        if op == "in":
            return lambda row: any(test(row) for test in tests)
        return lambda row: row.get(name) is not None and not any(test(row) for test in tests)
    if op == "between":
        bounds = [part for value in values for part in value.split(",")]
        if len(bounds) < 2:
            return None
        low = _comparison(name, kind, "gte", bounds[0])
        high = _comparison(name, kind, "lte", bounds[1])
        return lambda row: low(row) and high(row)
    if op not in _COMPARE:
        op = "eq"  # the server's default branch: an unknown operator is an exact match
    return _comparison(name, kind, op, values[0] if values else "")


def _comparison(name: str, kind: str, op: str, text: str) -> Predicate:
    compare = _COMPARE[op]
    text = text.strip()
    if kind == "int":
        if not is_int(text):
            # MySQL would compare against a non-number; no stored id ever equals it.
            if op == "ne":
                return lambda row: row.get(name) is not None
            return lambda row: False
        target_int = int(text)
        return lambda row: (value := row.get(name)) is not None and compare(value, target_int)
    if kind == "bool":
        target_bool = text.lower() in _TRUE
        return lambda row: (
            (value := row.get(name)) is not None and compare(bool(value), target_bool)
        )
    if kind == "date":
        return _date_comparison(name, op, text)
    folded = text.casefold()
    return lambda row: (
        (value := row.get(name)) is not None and compare(_text(value).casefold(), folded)
    )


def _date_comparison(name: str, op: str, text: str) -> Predicate:
    compare = _COMPARE[op]
    if _DATE_ONLY.match(text):
        # A calendar day: compare the stored timestamp's date part.
        return lambda row: (value := row.get(name)) is not None and compare(value[:10], text)
    try:
        moment = datetime.fromisoformat(text.replace(" ", "T", 1))
    except ValueError:
        return lambda row: (value := row.get(name)) is not None and compare(value, text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    fraction = moment.microsecond
    moment = moment.replace(microsecond=0)
    if fraction and op in ("gte", "lt"):
        moment += timedelta(seconds=1)  # x >= 12:00:00.5 means x >= 12:00:01 here
    if fraction and op == "eq":
        return lambda row: False
    # Stored timestamps share this exact fixed-width format, so string order is time order.
    target = iso(moment.timestamp())
    return lambda row: (value := row.get(name)) is not None and compare(value, target)


def _sort(rows: list[Row], sort: tuple[tuple[str, bool], ...], spec: ListSpec) -> list[Row]:
    result = list(rows)
    for name, descending in reversed(sort):  # stable sorts, least significant key first
        kind = spec.sorts[name]
        if kind == "str":
            result.sort(key=lambda row: _str_key(row.get(name)), reverse=descending)
        elif kind == "int":
            result.sort(key=lambda row: _int_key(row.get(name)), reverse=descending)
        else:
            result.sort(key=lambda row: _text_key(row.get(name)), reverse=descending)
    return result


def _str_key(value: Any) -> tuple[bool, str]:
    # NULLs first ascending, last descending, as in MySQL.
    return (value is not None, "" if value is None else _text(value).casefold())


def _int_key(value: Any) -> tuple[bool, int]:
    return (value is not None, 0 if value is None else int(value))


def _text_key(value: Any) -> tuple[bool, str]:
    return (value is not None, "" if value is None else _text(value))


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def _like(value: str) -> re.Pattern[str]:
    """SQL ``LIKE '%value%'``: ``%`` and ``_`` inside the value are wildcards."""
    parts = [".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in value]
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL)
