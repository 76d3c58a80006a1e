"""Lead statuses (``/statuses``)."""

from __future__ import annotations

from datetime import datetime

import attrs

__all__ = ["Status"]


@attrs.frozen(kw_only=True, slots=False)
class Status:
    """A lead status; ``color`` is a ``#RRGGBB`` hex string or None.

    Example::

        status = await client.statuses.create(name="Qualified", color="#22AA55")
        print(status.name, status.color)
    """

    id: int
    name: str = ""
    color: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
