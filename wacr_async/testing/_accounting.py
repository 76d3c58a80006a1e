"""What the sandbox did, for tests to assert on: every performed send, and hits per route.

A send is recorded when the server *performs* it, whatever the client saw afterwards (an
injected 500 or a dropped connection after processing still counts). Its duplicate key is
(kind, phone, content), where content is the canonical rendering of what was delivered:
the merged text, the template with its parameters, the media reference with its caption,
the interactive body with its buttons/sections, the OTP template with its code. A bulk job
that sends each recipient its own content therefore has no duplicates; a retried send does.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ._phones import digits_of

__all__ = ["Ledger", "SendRecord"]


@dataclass(frozen=True, slots=True)
class SendRecord:
    """One performed send.

    ``kind`` is ``"text"``, ``"template"``, ``"media"``, ``"interactive"`` or ``"otp"``;
    ``phone`` is digits only; ``content`` is the canonical content string used for
    duplicate detection; ``payload`` is a short summary of the request.
    """

    seq: int
    kind: str
    route: str
    phone: str
    content: str
    message_id: str
    contact_id: int
    chat_message_id: int
    at: datetime
    payload: Mapping[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str, str]:
        """What makes two sends "the same send": (kind, phone, content)."""
        return (self.kind, self.phone, self.content)


class Ledger:
    """Sends in the order performed, and request counts per route key.

    Example::

        ledger.hits["POST /messages/text"]      # every request, failed or dropped too
        [s.phone for s in ledger.sends]
        assert not ledger.duplicate_sends()
    """

    __slots__ = ("hits", "sends")

    def __init__(self) -> None:
        self.sends: list[SendRecord] = []
        self.hits: Counter[str] = Counter()

    def record(
        self,
        *,
        kind: str,
        route: str,
        phone: str,
        content: str,
        message_id: str,
        contact_id: int,
        chat_message_id: int,
        at: datetime,
        payload: Mapping[str, Any],
    ) -> SendRecord:
        record = SendRecord(
            seq=len(self.sends) + 1,
            kind=kind,
            route=route,
            phone=phone,
            content=content,
            message_id=message_id,
            contact_id=contact_id,
            chat_message_id=chat_message_id,
            at=at,
            payload=payload,
        )
        self.sends.append(record)
        return record

    def duplicate_sends(self) -> list[SendRecord]:
        """Every send whose (kind, phone, content) occurs more than once, in send order."""
        counts = Counter(record.key for record in self.sends)
        return [record for record in self.sends if counts[record.key] > 1]

    def sends_to(self, phone: str) -> list[SendRecord]:
        """Sends to ``phone`` (any formatting; cleaned like the server cleans it on send)."""
        digits = digits_of(phone)
        return [record for record in self.sends if record.phone == digits]

    def reset(self) -> None:
        self.sends.clear()
        self.hits.clear()
