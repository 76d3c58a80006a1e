"""Where the current task's request stands: not sent, on the wire, or answered.

A bulk send that stops or is cancelled while an item waits (for a rate-limit window, say)
must tell an item that certainly had no effect (safe to send again) from one that may have
reached the server (outcome unknown). The transport reports each request as it leaves and
as its answer arrives; a batch worker gives each item a fresh :class:`Dispatch` in its
task's context and asks it afterwards.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Literal, TypeAlias

__all__ = ["Dispatch", "note_answer", "note_request_leaving", "track_dispatch"]

Effect: TypeAlias = Literal["none", "done", "unknown"]
"""What a request did on the server: nothing, its effect, or nobody can tell."""


class Dispatch:
    """The last request made under this tracker: ``status`` is None while unanswered."""

    __slots__ = ("sent", "status")

    def __init__(self) -> None:
        self.sent = False
        self.status: int | None = None

    @property
    def effect(self) -> Effect:
        """What the request did on the server, as far as anyone can know."""
        if not self.sent:
            return "none"
        status = self.status
        if status is None:
            return "unknown"  # on the wire, or the answer was lost
        if status < 300:
            return "done"
        if status < 500:
            return "none"  # refused (a 429 included): nothing happened
        return "unknown"


_current: ContextVar[Dispatch | None] = ContextVar("wacr_dispatch", default=None)


def track_dispatch() -> Dispatch:
    """Track the requests the current task makes from now on (replacing any earlier tracker)."""
    dispatch = Dispatch()
    _current.set(dispatch)
    return dispatch


def note_request_leaving() -> None:
    """Called by the transport right before a request goes out."""
    dispatch = _current.get()
    if dispatch is not None:
        dispatch.sent = True
        dispatch.status = None


def note_answer(status: int) -> None:
    """Called by the transport once a whole answer has arrived."""
    dispatch = _current.get()
    if dispatch is not None:
        dispatch.status = status
