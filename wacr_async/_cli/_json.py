"""Results as JSON for ``--json``: attrs models as objects, datetimes in ISO 8601."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import attrs

__all__ = ["json_text", "plain"]


def plain(value: Any) -> Any:
    """``value`` as plain JSON data: attrs models become objects (their fields by name),
    datetimes and dates ISO 8601 text, tuples lists.

    Example::

        plain(await client.account.get())   # {"id": 1, "name": "…", "created_at": "2025-…"}
    """
    if isinstance(value, datetime | date):
        return value.isoformat()
    if attrs.has(type(value)):
        return {
            field.name: plain(getattr(value, field.name)) for field in attrs.fields(type(value))
        }
    if isinstance(value, Mapping):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return value


def json_text(value: Any) -> str:
    """``value`` as indented JSON text (UTF-8 as is, not escaped)."""
    return json.dumps(plain(value), ensure_ascii=False, indent=2)
