"""Journals of bulk sends: the protocol a run needs (v2), fingerprints, and the SQLite store.

The PostgreSQL journal of the jobs extra implements the same :class:`Journal` protocol.
"""

from __future__ import annotations

from ..errors import JournalError
from .fingerprint import canonical, fingerprint_of
from .protocol import ENTRY_STATUSES, EntryStatus, Journal, JournalEntry, JournalMismatchError
from .sqlite import SQLiteJournal

__all__ = [
    "ENTRY_STATUSES",
    "EntryStatus",
    "Journal",
    "JournalEntry",
    "JournalError",
    "JournalMismatchError",
    "SQLiteJournal",
    "canonical",
    "fingerprint_of",
]
