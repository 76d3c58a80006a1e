"""The one answer to "did it take effect on the server?", for retries and for bulk outcomes.

The API has no idempotency keys, so two questions decide everything a retry or a bulk run
may do after a failure: did the request leave the process (``left``), and what does the
failure say about the server's side (:func:`effect_of`)? The classification, one table for
both the retry loop and the batch:

====================================================  ==========  =========================
failure                                               effect      a write is
====================================================  ==========  =========================
none (an answer with a 2xx status)                    applied     done
the request never left (waiting at the limiter, for   none        safe to send again
a connection, connect refused/timed out)
sent, no answer (read timeout, dropped connection,    maybe       never re-sent by itself
cancelled while on the wire)
3xx, 4xx answers (429 included)                       none        refused; safe to re-send
5xx answers                                           maybe       never re-sent by itself
500 ``MESSAGE_SEND_FAILED``, WhatsApp answered with   none        refused; safe to re-send
an error (``details.error`` like ``(#131026) …``)
500 ``MESSAGE_SEND_FAILED``, the server's call to     maybe       never re-sent by itself
WhatsApp failed in transit (timeout, cURL error,
refused/reset connection) or no reason given
====================================================  ==========  =========================

A bulk run learns where each item's request stands from a :class:`CallTrace` set in the
worker task's context with :func:`trace_calls`; the client's request path reports to it.

This module sits at the bottom: it imports nothing from the package but ``errors``.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Literal, TypeAlias

from .errors import APIError, MessageSendFailedError, TransportError, UnexpectedResponseError

__all__ = ["CallTrace", "Effect", "current_trace", "effect_of", "trace_calls"]

Effect: TypeAlias = Literal["none", "applied", "maybe"]
"""What a call did on the server: nothing, its effect, or nobody can tell."""

BeforeSend: TypeAlias = Callable[[], Awaitable[None]]

# WhatsApp's Graph API errors read "(#131026) Message Undeliverable.": it answered, refusing.
_WHATSAPP_REFUSAL = re.compile(r"\(#\d+\)")
# How a failed call from the server to WhatsApp reads when the answer was lost on the way
# (Guzzle/cURL messages, PHP stream errors): WhatsApp may have delivered the message.
_IN_TRANSIT = re.compile(
    r"curl error|timed? ?out|timeout|connection (refused|reset)|could not resolve|"
    r"connection aborted|broken pipe|ssl",
    re.IGNORECASE,
)


def effect_of(error: BaseException | None, *, left: bool) -> Effect:
    """What a call that ended with ``error`` (None: a success) did on the server.

    ``left`` says whether any attempt of the call may have reached the server; without
    that nothing can have happened, whatever the error.

    Example::

        effect_of(None, left=True)                                   # "applied"
        effect_of(wacr.NotFoundError("gone", status=404), left=True)  # "none"
        effect_of(wacr.InternalServerError("boom", status=500), left=True)  # "maybe"
    """
    if error is None:
        return "applied"
    if not left:
        return "none"
    if isinstance(error, TransportError):
        # OutcomeUnknownError included: no answer came, and it may have been acted on.
        return "maybe" if error.sent else "none"
    if isinstance(error, APIError):
        status = error.status
        if status is None or status < 500:
            return "none"  # redirected or refused before doing anything (a 429 too)
        if isinstance(error, MessageSendFailedError):
            return _send_failed_effect(error)
        return "maybe"
    if isinstance(error, UnexpectedResponseError):
        # Raised for answers that are not error statuses: the API said yes, only its answer
        # was unreadable.
        return "applied" if error.status is None or error.status < 300 else "maybe"
    # Cancelled while on the wire, a local failure after sending, a bug: nobody can tell.
    return "maybe"


def _send_failed_effect(error: MessageSendFailedError) -> Effect:
    reason = error.details.get("error")
    if not isinstance(reason, str):
        return "maybe"
    if _IN_TRANSIT.search(reason):
        return "maybe"
    if _WHATSAPP_REFUSAL.search(reason):
        return "none"
    return "maybe"


class CallTrace:
    """Where the current task's calls stand, for a bulk run that must account for each item.

    ``left`` turns True once any attempt may have reached the server; ``status`` is the
    status of the last answer (None while an attempt is unanswered or got no answer).
    ``before_send`` is awaited once, after the rate limiter granted a slot and right before
    the first attempt is handed to the transport (a journal claim goes there); if it raises,
    nothing is sent and the error propagates unchanged.

    Example::

        trace = trace_calls(before_send=claim_in_journal)
        try:
            await client.messages.send_text(phone=phone, message=text)
        except Exception as exc:
            status = trace.effect(exc)     # "none", "applied" or "maybe"
    """

    __slots__ = ("before_send", "left", "status")

    def __init__(self, before_send: BeforeSend | None = None) -> None:
        self.before_send = before_send
        self.left = False
        self.status: int | None = None

    def __repr__(self) -> str:
        return f"CallTrace(left={self.left}, status={self.status})"

    def effect(self, error: BaseException | None) -> Effect:
        """:func:`effect_of` for this trace's calls.

        A cancellation that came after the last attempt was answered (while waiting to
        retry a 429, say) is judged by that answer rather than as "on the wire".
        """
        if isinstance(error, asyncio.CancelledError) and self.status is not None:
            status = self.status
            if status < 300:
                return "applied"
            return "none" if status < 500 else "maybe"
        return effect_of(error, left=self.left)

    def take_before_send(self) -> BeforeSend | None:
        """The ``before_send`` hook the first time it is asked for, then None."""
        hook, self.before_send = self.before_send, None
        return hook

    def leaving(self) -> None:
        """An attempt may now reach the server: no answer to it yet."""
        self.left = True
        self.status = None


_current: ContextVar[CallTrace | None] = ContextVar("wacr_call_trace", default=None)


def trace_calls(before_send: BeforeSend | None = None) -> CallTrace:
    """A fresh :class:`CallTrace` for the calls the current task makes from now on.

    It replaces any earlier one in this task's context.

    Example::

        trace = trace_calls()
        await client.contacts.create(...)
        print(trace.left, trace.status)
    """
    trace = CallTrace(before_send)
    _current.set(trace)
    return trace


def current_trace() -> CallTrace | None:
    """The trace :func:`trace_calls` set for the current task, if any."""
    return _current.get()
