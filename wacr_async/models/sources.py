"""Lead sources (``/sources``)."""

from __future__ import annotations

from datetime import datetime

import attrs

__all__ = ["Source"]


@attrs.frozen(kw_only=True, slots=False)
class Source:
    """Where a lead came from (``Website``, ``Referral``, …).

    Example::

        source = await client.sources.create(name="Trade fair")
        print(source.id, source.name)
    """

    id: int
    name: str = ""
    created_at: datetime | None = None
    updated_at: datetime | None = None
