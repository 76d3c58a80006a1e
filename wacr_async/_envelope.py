"""Reading the API's success envelope and its pagination block.

``{"success": true, "data": …, "message": …, "meta": {"request_id", "timestamp",
"pagination"}, "links": …}``. A few endpoints are documented with their fields at the top
level instead of under ``data`` (Add Comment, the batch summaries); :func:`data_of` reads both.

Single objects come in two shapes (REFERENCE §12): flat, ``"data": {…the object…}``, as the
docs and every create/update answer have it, and nested, ``"data": {"data": {…}}``, as the
server code's show endpoints answer (its JSON resource keeps its own wrapper inside the
envelope). :func:`resource_of` reads both, deciding by shape: only a mapping whose one and only
key is ``data`` holding a mapping is unwrapped, and only once. A resource with a real field
called ``data`` always has other fields beside it (an ``id`` at least), so it is never mistaken
for the wrapper.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import attrs

from ._transport import Response
from .errors import UnexpectedResponseError, snippet

__all__ = ["PageMeta", "data_of", "decode", "page_meta", "resource_of"]

_ENVELOPE_KEYS = frozenset({"success", "message", "meta", "links"})


def decode(response: Response) -> Any:
    """The JSON body of a 2xx response (None when empty)."""
    body = response.body
    if not body:
        return None
    try:
        # Plain UTF-8 first: json.loads on bytes sniffs for a BOM and UTF-16/32 each time.
        return json.loads(body.decode())
    except ValueError:  # UnicodeDecodeError included
        pass
    try:
        return json.loads(body)  # a BOM, UTF-16/32, lone surrogates: json's own reading
    except ValueError as exc:
        raise UnexpectedResponseError(
            f"HTTP {response.status} answer is not JSON: {snippet(body)}",
            status=response.status,
            body_snippet=snippet(body),
        ) from exc


def data_of(payload: Any) -> Any:
    """``payload["data"]``, or the payload's own fields when the endpoint puts them flat."""
    if isinstance(payload, Mapping):
        if "data" in payload:
            return payload["data"]
        if "success" in payload:
            return {k: v for k, v in payload.items() if k not in _ENVELOPE_KEYS}
    return payload


def resource_of(payload: Any) -> Any:
    """The single object of an answer, flat (``data: {…}``) or nested (``data: {"data": {…}}``).

    Example::

        resource_of({"success": True, "data": {"data": {"id": 7}}})   # {"id": 7}
        resource_of({"success": True, "data": {"id": 7, "data": {}}})  # as is: a real field
    """
    data = data_of(payload)
    if isinstance(data, Mapping) and len(data) == 1:
        inner = data.get("data")
        if isinstance(inner, Mapping):
            return inner
    return data


@attrs.frozen(kw_only=True, slots=True)
class PageMeta:
    """``meta.pagination`` as sent; any field may be missing (None)."""

    total: int | None = None
    count: int | None = None
    per_page: int | None = None
    current_page: int | None = None
    total_pages: int | None = None
    has_more: bool | None = None


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def page_meta(payload: Any) -> PageMeta:
    """The pagination block of a list answer, tolerant of missing or odd values."""
    meta = payload.get("meta") if isinstance(payload, Mapping) else None
    block = meta.get("pagination") if isinstance(meta, Mapping) else None
    if not isinstance(block, Mapping):
        return PageMeta()
    has_more = block.get("has_more")
    return PageMeta(
        total=_int(block.get("total")),
        count=_int(block.get("count")),
        per_page=_int(block.get("per_page")),
        current_page=_int(block.get("current_page")),
        total_pages=_int(block.get("total_pages")),
        has_more=has_more if isinstance(has_more, bool) else None,
    )
