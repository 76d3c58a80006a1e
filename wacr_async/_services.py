"""What the bulk helpers need of a client: the services they call and a view on a lane.

``batch`` and its internals depend on this protocol, not on ``Client``, so that the client can
import them without their importing it back. ``Client`` satisfies it.

Example::

    async def send_one(client: Services, phone: str) -> SentMessage:
        return await client.messages.send_text(phone, "Hi")
"""

from __future__ import annotations

from typing import Protocol

from ._pacing import Lane, Priority
from ._requester import Requester
from .resources.contacts import ContactsService
from .resources.messages import MessagesService
from .resources.templates import TemplatesService

__all__ = ["Services"]


class Services(Requester, Protocol):
    """A client as the bulk helpers see it."""

    @property
    def contacts(self) -> ContactsService: ...

    @property
    def messages(self) -> MessagesService: ...

    @property
    def templates(self) -> TemplatesService: ...

    def _with_lane(self, lane: Lane | None = None) -> Services:
        """A view for bulk work pacing on ``lane``: it waits at the limiter without a deadline."""
        ...

    def _new_lane(self, *, priority: Priority = "low", share: float | None = None) -> Lane:
        """A lane on the client's rate limiter."""
        ...
