"""A view of a job's journal for one chunk run: item indexes shifted to the chunk's start."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

import attrs

from .._journal import EntryStatus, Journal, JournalEntry

__all__ = ["ShiftedJournal"]


class ShiftedJournal:
    """A journal (a job's :class:`PostgresJournal`) seen by one run whose indexes start at
    ``offset``; closing the view only flushes (the journal it shares stays open)."""

    def __init__(self, journal: Journal, offset: int) -> None:
        self._journal = journal
        self._offset = offset

    async def open(self) -> None:
        await self._journal.open()

    async def claim(
        self,
        key: str,
        *,
        run: str,
        index: int,
        reclaim: Collection[EntryStatus],
        fingerprint: str,
    ) -> JournalEntry | None:
        entry = await self._journal.claim(
            key, run=run, index=index + self._offset, reclaim=reclaim, fingerprint=fingerprint
        )
        return None if entry is None else attrs.evolve(entry, index=entry.index - self._offset)

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
        await self._journal.settle(
            key, run=run, index=index + self._offset, status=status, result=result, error=error
        )

    async def release(self, key: str, *, run: str, index: int) -> None:
        await self._journal.release(key, run=run, index=index + self._offset)

    async def flush(self) -> None:
        await self._journal.flush()

    async def aclose(self) -> None:
        await self._journal.flush()
