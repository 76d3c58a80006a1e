"""What a bulk send needs from a journal (protocol v2), and what a journal tells it back.

A run *claims* an item right before its request leaves (the claim is durable when ``claim``
returns), then *settles* it with its outcome. A later run of the same job reads the claims
back: what was sent is skipped, and an item left ``in_flight`` by a crash is reported as
``unknown`` instead of being sent twice. Each claim records the *fingerprint* of the spec
(kind, phone digits, content), so that a re-run whose spec changed under the same key is
noticed instead of silently skipped.

Any store can stand in for the embedded :class:`~wacr_async.batch.SQLiteJournal` (the jobs
extra passes a PostgreSQL one); a store shared by several machines must make ``claim``
atomic (one winner per key across all machines).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any, Literal, Protocol, TypeAlias, runtime_checkable

import attrs

from ..errors import JournalError

__all__ = ["ENTRY_STATUSES", "EntryStatus", "Journal", "JournalEntry", "JournalMismatchError"]

EntryStatus: TypeAlias = Literal["in_flight", "sent", "failed", "unknown"]
ENTRY_STATUSES: tuple[EntryStatus, ...] = ("in_flight", "sent", "failed", "unknown")


@attrs.frozen(kw_only=True, slots=True)
class JournalEntry:
    """One item as the journal knows it.

    ``run`` and ``index`` name the attempt that last claimed it; ``fingerprint`` is the
    :func:`~wacr_async.batch.fingerprint_of` of the spec it claimed (None in journals
    written before fingerprints were recorded); ``result`` is the JSON of the send's
    answer (``sent``), ``error`` a description of the failure
    (``{"type", "message", "status", "code"}``).

    Example::

        async for entry in journal.entries(status="unknown"):
            print(entry.key, entry.run, entry.index, entry.error)
    """

    key: str
    status: EntryStatus
    run: str
    index: int
    fingerprint: str | None = None
    result: Mapping[str, Any] | None = None
    error: Mapping[str, Any] | None = None


class JournalMismatchError(JournalError):
    """The journal holds ``key`` for another message than the one this run would send.

    Raised (and the run stopped before sending that item) when a re-run gives an existing
    key a spec with another kind, phone or content, unless ``on_mismatch="resend"`` or
    ``"skip"`` was chosen.

    Example::

        try:
            await client.batch.send_messages(specs, journal="job.sqlite").report()
        except wacr.JournalMismatchError as exc:
            print(exc.key, exc.index)
    """

    def __init__(self, message: str, *, key: str, index: int, entry: JournalEntry) -> None:
        super().__init__(message)
        self.key = key
        self.index = index
        self.entry = entry


@runtime_checkable
class Journal(Protocol):
    """What a bulk send needs from a journal (protocol v2).

    Example (a store of your own)::

        class RedisJournal:
            async def open(self) -> None: ...
            async def claim(self, key, *, run, index, fingerprint, reclaim): ...  # atomic
            async def settle(self, key, *, run, index, status, result, error): ...
            async def release(self, key, *, run, index): ...
            async def flush(self) -> None: ...
            async def aclose(self) -> None: ...

        run = client.batch.send_messages(specs, journal=RedisJournal())
    """

    async def open(self) -> None:
        """Get ready; called by every run that uses the journal (so: idempotent)."""

    async def claim(
        self,
        key: str,
        *,
        run: str,
        index: int,
        fingerprint: str,
        reclaim: Collection[EntryStatus],
    ) -> JournalEntry | None:
        """Mark ``key`` in flight for attempt ``(run, index)`` with ``fingerprint``, durably
        (on disk when this returns), and return None.

        If ``key`` is already known, take it over only when its status is in ``reclaim``
        and it was claimed by another run; otherwise change nothing and return the entry
        (its fingerprint included: the run compares it with its own).
        """

    async def settle(
        self,
        key: str,
        *,
        run: str,
        index: int,
        status: EntryStatus,
        result: Mapping[str, Any] | None,
        error: Mapping[str, Any] | None,
    ) -> None:
        """Record the outcome of attempt ``(run, index)``; durable once ``flush`` returns."""

    async def release(self, key: str, *, run: str, index: int) -> None:
        """Undo the claim of attempt ``(run, index)``: its request never left."""

    async def flush(self) -> None:
        """Return once everything recorded so far is durable."""

    async def aclose(self) -> None:
        """Flush and let go of resources."""
