"""Seed data: the defaults every sandbox starts with, and bulk contacts.

Defaults: sources Website/WhatsApp/Referral, statuses New/Contacted/Qualified/Lost (the
first of each is the default for auto-created leads), a "VIP" group, and the templates in
``_templates.DEFAULT_TEMPLATES``. Bulk contacts are built as dicts directly, without
validation, so 100,000 load in well under a second.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Sequence

from ._routes_contacts import TYPES
from ._routes_labels import GROUPS, SOURCES, STATUSES
from ._state import State
from ._table import Row
from ._templates import seed_default_templates

__all__ = ["seed_contacts", "seed_defaults"]

_FIRST_NAMES = ("Ada", "Grace", "Alan", "Linus", "Barbara", "Ken", "Margaret", "Dennis")
_CITIES = ("Lisbon", "Nairobi", "Austin", "Pune", None)


def seed_defaults(state: State) -> None:
    """Default sources, statuses, a group and templates; lead defaults point at the first."""
    for name in ("Website", "WhatsApp", "Referral"):
        SOURCES.add(state, name)
    for name, color in (
        ("New", "#3B82F6"),
        ("Contacted", "#F59E0B"),
        ("Qualified", "#10B981"),
        ("Lost", "#EF4444"),
    ):
        STATUSES.add(state, name, color)
    GROUPS.add(state, "VIP")
    state.default_source_id = 1
    state.default_status_id = 1
    seed_default_templates(state)


def seed_contacts(
    state: State,
    count: int,
    *,
    phone_prefix: str = "+1555",
    types: Sequence[str] = TYPES,
    source_ids: Sequence[int] | None = None,
    status_ids: Sequence[int] | None = None,
    group_ids: Sequence[int] = (),
    start: float | None = None,
    spacing: float = 60.0,
) -> range:
    """Add ``count`` contacts fast; returns their ids.

    Values vary deterministically so filters have something to find: ``type`` cycles through
    ``types``, ``source_id``/``status_id`` through the existing sources/statuses (or the
    given ids), every second contact has an ``assigned_id``, every fourth a company; phones
    are ``phone_prefix`` + 7 digits, emails ``user<N>@example.com``. ``created_at`` values are
    ``spacing`` seconds apart, ending now unless ``start`` is given.

    Example::

        ids = seed_contacts(state, 100_000)
    """
    if count <= 0:
        return range(0)
    sources: list[int | None] = list(
        source_ids if source_ids is not None else [row["id"] for row in state.sources]
    ) or [None]
    statuses: list[int | None] = list(
        status_ids if status_ids is not None else [row["id"] for row in state.statuses]
    ) or [None]
    if start is None:
        start = state.clock.time() - count * spacing
    groups = list(group_ids)
    table = state.contacts
    first_id = table.next_id
    seq = state.seed_seq
    taken = state.phones
    rows: list[Row] = []
    phones: list[tuple[str, int]] = []
    emails: list[tuple[str, int]] = []
    n_types, n_sources, n_statuses = len(types), len(sources), len(statuses)
    gmtime, strftime = time.gmtime, time.strftime
    days: dict[int, str] = {}  # formatting only the time of day is much cheaper
    # An allocation-heavy loop: the cyclic GC would rescan the new dicts over and over.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for index in range(count):
            seq += 1
            phone = f"{phone_prefix}{seq:07d}"
            while phone in taken:
                seq += 1
                phone = f"{phone_prefix}{seq:07d}"
            row_id = first_id + index
            moment = int(start + index * spacing)
            day, second = divmod(moment, 86400)
            prefix = days.get(day)
            if prefix is None:
                prefix = days[day] = strftime("%Y-%m-%dT", gmtime(moment))
            hour, rest = divmod(second, 3600)
            stamp = f"{prefix}{hour:02d}:{rest // 60:02d}:{rest % 60:02d}+00:00"
            email = f"user{seq}@example.com"
            rows.append(
                {
                    "id": row_id,
                    "firstname": _FIRST_NAMES[index % 8],
                    "lastname": f"Seed{seq}",
                    "company": "Acme Corp" if index % 4 == 0 else None,
                    "type": types[index % n_types],
                    "email": email,
                    "phone": phone,
                    "status_id": statuses[index % n_statuses],
                    "source_id": sources[index % n_sources],
                    "description": None,
                    "city": _CITIES[index % 5],
                    "state": None,
                    "zip": None,
                    "address": None,
                    "country_id": None,
                    "assigned_id": (index % 3) + 1 if index % 2 else None,
                    "group_id": list(groups),
                    "is_opted_out": False,
                    "created_at": stamp,
                    "updated_at": stamp,
                }
            )
            phones.append((phone, row_id))
            emails.append((email, row_id))
    finally:
        if gc_was_enabled:
            gc.enable()
    state.seed_seq = seq
    table.extend(rows)
    table.next_id = first_id + count
    state.phones.bulk_set(phones)
    state.emails.bulk_set(emails)
    return range(first_id, first_id + count)
