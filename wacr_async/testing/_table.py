"""An in-memory table: rows in id order, a cached JSON fragment per row, a query cache.

Rows are plain dicts already in their public (API) shape, kept in a dict keyed by id, so
insertion order is id order and the default listing is a slice. Any write goes through
:meth:`Table.touch` (or insert/extend/delete), which drops exactly what the write makes
stale: that row's cached JSON, the ordered-row list when an insert is not an append or a row
is deleted, and every cached query result.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable, Iterable, Iterator
from typing import Any

from ._envelope import dumps

__all__ = ["Row", "Table", "UniqueIndex"]

Row = dict[str, Any]

_QUERY_CACHE_SIZE = 32


class Table:
    """Rows of one resource, keyed by integer id.

    Example::

        table = Table()
        row = table.insert({"name": "VIP"})
        assert table.get(row["id"]) is row
    """

    __slots__ = ("_json", "_ordered", "_queries", "next_id", "rows")

    def __init__(self) -> None:
        self.rows: dict[int, Row] = {}
        self.next_id = 1
        self._ordered: list[Row] | None = []
        self._json: dict[int, str] = {}
        self._queries: OrderedDict[Hashable, list[Row]] = OrderedDict()

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[Row]:
        return iter(self.rows.values())

    def allocate_id(self) -> int:
        """Reserve the next id (for rows that share an id sequence with another store)."""
        row_id = self.next_id
        self.next_id += 1
        return row_id

    def insert(self, row: Row) -> Row:
        """Add ``row``, giving it the next id unless it has one (ids must keep increasing)."""
        row_id = row.get("id")
        if row_id is None:
            row_id = self.allocate_id()
            row = {"id": row_id, **row}
        elif row_id >= self.next_id:
            self.next_id = row_id + 1
        self.rows[row_id] = row
        if self._ordered is not None and (not self._ordered or self._ordered[-1]["id"] < row_id):
            self._ordered.append(row)  # the common case: appending keeps the cache valid
        else:
            self._ordered = None
        self._changed()
        return row

    def extend(self, rows: Iterable[Row]) -> None:
        """Bulk-insert rows that already carry increasing ids (seeding)."""
        store = self.rows
        for row in rows:
            store[row["id"]] = row
        if store:
            self.next_id = max(self.next_id, next(reversed(store)) + 1)
        self._ordered = None
        self._changed()

    def get(self, row_id: int) -> Row | None:
        return self.rows.get(row_id)

    def touch(self, row: Row) -> None:
        """Declare that ``row`` was changed in place."""
        self._json.pop(row["id"], None)
        self._changed()

    def delete(self, row_id: int) -> Row | None:
        row = self.rows.pop(row_id, None)
        if row is not None:
            self._json.pop(row_id, None)
            self._ordered = None
            self._changed()
        return row

    def ordered(self) -> list[Row]:
        """All rows in id order; the returned list is shared, never mutate it."""
        if self._ordered is None:
            self._ordered = list(self.rows.values())
        return self._ordered

    def json(self, row: Row) -> str:
        """The row serialised, cached until the row is touched."""
        cached = self._json.get(row["id"])
        if cached is None:
            cached = self._json[row["id"]] = dumps(row)
        return cached

    def cached_query(self, key: Hashable) -> list[Row] | None:
        """A query result computed since the last write, if still cached."""
        result = self._queries.get(key)
        if result is not None:
            self._queries.move_to_end(key)
        return result

    def store_query(self, key: Hashable, rows: list[Row]) -> None:
        self._queries[key] = rows
        if len(self._queries) > _QUERY_CACHE_SIZE:
            self._queries.popitem(last=False)

    def _changed(self) -> None:
        if self._queries:
            self._queries.clear()


class UniqueIndex:
    """Maps a key (a phone, a folded email) to the lowest id holding it.

    Batch create may store the same phone twice (the real server does not check), so a key
    can have several ids; the lowest is the one lookups see.
    """

    __slots__ = ("_extra", "_first")

    def __init__(self) -> None:
        self._first: dict[str, int] = {}
        self._extra: dict[str, list[int]] = {}

    def get(self, key: str) -> int | None:
        return self._first.get(key)

    def __contains__(self, key: str) -> bool:
        return key in self._first

    def add(self, key: str, row_id: int) -> None:
        first = self._first.get(key)
        if first is None:
            self._first[key] = row_id
            return
        others = self._extra.setdefault(key, [])
        others.append(row_id)
        if row_id < first:
            others.remove(row_id)
            others.append(first)
            self._first[key] = row_id
        others.sort()

    def remove(self, key: str, row_id: int) -> None:
        first = self._first.get(key)
        if first is None:
            return
        others = self._extra.get(key)
        if first == row_id:
            if others:
                self._first[key] = others.pop(0)
                if not others:
                    del self._extra[key]
            else:
                del self._first[key]
        elif others and row_id in others:
            others.remove(row_id)
            if not others:
                del self._extra[key]

    def bulk_set(self, pairs: Iterable[tuple[str, int]]) -> None:
        """Fast path for seeding: ``pairs`` are new keys in increasing id order."""
        first = self._first
        for key, row_id in pairs:
            if key in first:
                self.add(key, row_id)
            else:
                first[key] = row_id
