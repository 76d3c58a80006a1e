"""Reading the API's success envelope and its pagination block.

``{"success": true, "data": …, "message": …, "meta": {"request_id", "timestamp",
"pagination"}, "links": …}``. A few endpoints are documented with their fields at the top
level instead of under ``data`` (Add Comment, the batch summaries); :func:`data_of` reads both.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import attrs

from ._transport import Response
from .errors import UnexpectedResponseError, snippet

__all__ = ["PageMeta", "data_of", "decode", "page_meta"]

_ENVELOPE_KEYS = frozenset({"success", "message", "meta", "links"})


def decode(response: Response) -> Any:
    """The JSON body of a 2xx response (None when empty)."""
    if not response.body:
        return None
    try:
        return json.loads(response.body)
    except ValueError as exc:
        raise UnexpectedResponseError(
            f"HTTP {response.status} answer is not JSON: {snippet(response.body)}",
            status=response.status,
            body_snippet=snippet(response.body),
        ) from exc


def data_of(payload: Any) -> Any:
    """``payload["data"]``, or the payload's own fields when the endpoint puts them flat."""
    if isinstance(payload, Mapping):
        if "data" in payload:
            return payload["data"]
        if "success" in payload:
            return {k: v for k, v in payload.items() if k not in _ENVELOPE_KEYS}
    return payload


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
