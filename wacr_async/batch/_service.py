"""``client.batch``: the service object with ``create_contacts``, ``send_messages`` and ``map``."""

from __future__ import annotations

import os
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Mapping,
)
from typing import Any, Literal, TypeVar, overload

from .._contact_import import import_contacts
from .._journal import Journal
from .._outcomes import ImportReport, Progress
from .._pool import require_positive_int
from .._services import Services
from .._specs import MessageSpec
from ..errors import (
    AuthenticationError,
    FeatureLimitExceededError,
    FeatureNotAvailableError,
    InsufficientScopeError,
    IPNotWhitelistedError,
    WhatsAppNotConfiguredError,
)
from ..models.contacts import NewContact
from ..resources._base import Resource
from ._items import OnMismatch
from ._map import bounded_map
from ._send_run import SendRun

__all__ = ["ACCOUNT_ERRORS", "BatchService"]

T = TypeVar("T")
R = TypeVar("R")

ACCOUNT_ERRORS: tuple[type[BaseException], ...] = (
    AuthenticationError,
    InsufficientScopeError,
    IPNotWhitelistedError,
    WhatsAppNotConfiguredError,
    FeatureNotAvailableError,
    FeatureLimitExceededError,
)
"""Errors that concern the whole account, not one item: the default ``stop_on``. Every
further item would fail the same way, so the run stops instead."""


def _stop_on(stop_on: Iterable[type[BaseException]]) -> tuple[type[BaseException], ...]:
    types = tuple(stop_on)
    for kind in types:
        if not (isinstance(kind, type) and issubclass(kind, BaseException)):
            raise TypeError(f"stop_on takes exception types, not {kind!r}")
    return types


class BatchService(Resource):
    """Bulk operations with bounded concurrency and a report that accounts for every item.

    Example::

        report = await client.batch.create_contacts(rows)
        run = client.batch.send_messages(specs, concurrency=16, journal="job.sqlite")
        print(await run.report())
    """

    __slots__ = ()

    _client: Services

    def __init__(self, client: Services) -> None:
        super().__init__(client)

    async def create_contacts(
        self,
        rows: Iterable[NewContact | Mapping[str, Any]]
        | AsyncIterable[NewContact | Mapping[str, Any]],
        *,
        chunk_size: int = 100,
        concurrency: int = 4,
        skip_duplicates: bool = True,
        continue_on_error: bool = True,
        stop_on: Iterable[type[BaseException]] = ACCOUNT_ERRORS,
        match_account: bool = True,
    ) -> ImportReport:
        """Import contacts in chunks of ``POST /contacts/batch``; one report entry per row.

        ``rows`` (``wacr.NewContact`` values or dicts with the same fields) are read lazily,
        ``chunk_size`` at a time, with at most ``concurrency`` chunks in flight. Each entry
        of the report names its input row (0-based): ``created`` (with ``contact_id``),
        ``skipped`` (a duplicate phone), ``failed`` (field ``errors``, or the chunk's
        ``error``), ``unknown`` (the chunk's answer was lost; creates are never retried, so
        check before importing those rows again) or ``not_attempted`` (the import stopped).

        Rows are checked locally first (required fields, lengths, type, email, and the phone
        rule of every send: 10 to 15 digits with the country code, sent as ``+`` and its
        digits) and a row that fails is reported without being sent. Phones are compared as
        digits (``15550001001`` is ``+1 555 000 1001``): a phone that came earlier, or that
        the account has, is ``skipped`` (with ``skip_duplicates``) or ``failed``; the entry
        names the earlier row (``duplicate_of``) or the contact (``contact_id``). The
        account's phones are read once before the first chunk (one GET per 100 contacts);
        ``match_account=False`` leaves the account check to the server, which compares the
        exact text and only with ``skip_duplicates``.

        With ``continue_on_error=False`` the import stops at the first failing row: the
        server rolls back that row's chunk, and no further chunk is sent. Errors in
        ``stop_on`` (account-level: 401, missing scope, plan limits) stop it too;
        ``stopped_by`` and ``unread_from`` in the report say so. The report holds one small
        entry per row read (phones are remembered for the duplicate check), so memory grows
        with the number of rows, not their size. An error raised by ``rows`` itself stops
        the import and is raised once the chunks in flight are done.

        Example::

            rows = ({"firstname": f, "lastname": l, "phone": p, "type": "lead",
                     "source_id": 1, "status_id": 1} for f, l, p in csv.reader(open("leads.csv")))
            report = await client.batch.create_contacts(rows, chunk_size=100, concurrency=4)
            print(report)                          # created 9981, skipped 12, failed 7
            for entry in report.failed:
                print(entry.row, entry.errors)
        """
        require_positive_int("chunk_size", chunk_size)
        require_positive_int("concurrency", concurrency)
        return await import_contacts(
            self._client._with_lane(),  # queues at the limiter without a deadline
            rows,
            chunk_size=chunk_size,
            concurrency=concurrency,
            skip_duplicates=skip_duplicates,
            continue_on_error=continue_on_error,
            stop_on=_stop_on(stop_on),
            match_account=match_account,
        )

    def send_messages(
        self,
        specs: Iterable[MessageSpec] | AsyncIterable[MessageSpec],
        *,
        concurrency: int = 16,
        journal: str | os.PathLike[str] | Journal | None = None,
        stop_on: Iterable[type[BaseException]] = ACCOUNT_ERRORS,
        on_progress: Callable[[Progress], object] | None = None,
        resend_unknown: bool = False,
        on_mismatch: OnMismatch = "stop",
        keep: int = 1000,
        progress_interval: float = 0.5,
        share: float | None = None,
        preflight: bool = True,
        max_consecutive_failures: int = 20,
        max_connect_failures: int = 5,
        grace: float = 10.0,
    ) -> SendRun:
        """Send many messages, at most ``concurrency`` at a time; returns the run at once.

        ``specs`` are ``wacr.TextMessage``, ``wacr.TemplateMessage``, ``wacr.MediaMessage``
        and ``wacr.InteractiveMessage`` values, read lazily (a generator of ten million
        needs no more memory than ten thousand). Iterate the run for one
        :class:`~wacr_async.Outcome` per item as it completes (``sent``, ``failed``,
        ``skipped``, ``unknown``, ``not_attempted``), or just ``await run.report()``.
        Nothing is ever sent twice by the run itself: a send whose answer was lost, or that
        the server answered with a 5xx (other than ``MESSAGE_SEND_FAILED``), may have gone
        out, so it is reported ``unknown`` instead of being retried.

        **Journal.** With ``journal="job.sqlite"`` (or a :class:`Journal`), each item is
        recorded as in flight before its request leaves and with its outcome after, under
        its ``key`` (or a hash of the spec). Running the same job again with the same
        journal skips what was sent (``skipped``, with the earlier result), tries again
        what failed, and reports ``unknown`` (without sending) what an earlier run left in
        flight or unanswered, unless ``resend_unknown=True``. The same key twice in one
        input is sent once. Without a journal nothing is deduplicated.

        Each claim records the spec's fingerprint (kind, phone digits, content: see
        :func:`fingerprint_of`). When the journal holds a key for another message than this
        run's spec (a reused key, an edited template name), the run stops before sending it
        with a :class:`JournalMismatchError` naming that key (``on_mismatch="stop"``);
        ``"resend"`` sends the new message anyway and ``"skip"`` reports it ``skipped``. An
        item that failed earlier is simply sent again, whatever changed.

        **Stopping.** An error in ``stop_on`` (by default :data:`ACCOUNT_ERRORS`: 401,
        missing scope, IP not allowed, WhatsApp not configured, feature not in the plan,
        plan limit) stops the run: items not yet on their way out become ``not_attempted``,
        sends on the wire finish (within ``grace`` seconds, default 10; after that they are
        cancelled and become ``unknown``), and the input is not read further
        (``report.unread_from``; a re-run with the journal picks those up). To stop on
        more, pass ``stop_on=(*wacr.batch.ACCOUNT_ERRORS, wacr.ContactOptedOutError)``.
        ``run.stop()`` and the first Ctrl-C stop the same way; ``run.cancel()``, a second
        Ctrl-C and leaving the run's ``async with`` or ``async for`` early stop at once,
        recording sends on the wire as ``unknown``.

        **Pacing.** The run's requests wait at the client's rate limiter on a low-priority
        lane: calls made meanwhile (an OTP in a web request, ``with_options(priority="high")``)
        are served first. ``share=0.8`` caps the run at 80% of the token's window, leaving
        the rest to everything else sharing the token.

        **Failing fast.** The run stops by itself, with ``report.stop_reason`` saying why,
        once ``max_consecutive_failures`` items in a row (default 20) fail with the same
        error code, or ``max_connect_failures`` items in a row (default 5) cannot connect.
        With ``preflight=True`` (the default) the templates of the first items are checked
        against ``GET /templates`` before anything is sent (exists, approved, enough body
        fields, the header they need); a misfit raises :class:`PreflightError` listing
        every problem, with nothing sent. Without the ``templates:read`` scope the
        preflight logs a warning and the run goes on.

        ``on_progress(progress)`` is called at most every ``progress_interval`` seconds and
        once at the end. The report keeps the first ``keep`` failed, unknown and
        not-attempted outcomes of each kind; the journal keeps them all. An error raised
        by the input, by ``on_progress`` or by the journal stops the run like an
        account-level error, and is then raised by the iterator and by ``report()`` (with
        the report's summary added as a note).

        Example::

            specs = (wacr.TemplateMessage(phone, "order_update", "en", fields=[order, day],
                                          key=f"order-{order}") for phone, order, day in rows)
            async with client.batch.send_messages(specs, journal="job.sqlite") as run:
                async for outcome in run:
                    if outcome.status != "sent":
                        print(outcome.index, outcome.status, outcome.error)
            print(await run.report())      # sent 9990, failed 7, unknown 3 in 171.0 s
        """
        # Batch work paces on a low-priority lane (interactive calls go first), capped at
        # ``share`` of the token's window; it queues at the limiter without a deadline.
        lane = self._client._new_lane(priority="low", share=share)
        return SendRun(
            self._client._with_lane(lane),
            specs,
            concurrency=concurrency,
            journal=journal,
            stop_on=_stop_on(stop_on),
            on_progress=on_progress,
            resend_unknown=resend_unknown,
            on_mismatch=on_mismatch,
            keep=keep,
            progress_interval=progress_interval,
            preflight=preflight,
            max_consecutive_failures=max_consecutive_failures,
            max_connect_failures=max_connect_failures,
            grace=grace,
        )

    @overload
    def map(
        self,
        fn: Callable[[T], Awaitable[R]],
        items: Iterable[T] | AsyncIterable[T],
        *,
        concurrency: int = ...,
        ordered: bool = ...,
        return_exceptions: Literal[False] = ...,
    ) -> AsyncIterator[R]: ...

    @overload
    def map(
        self,
        fn: Callable[[T], Awaitable[R]],
        items: Iterable[T] | AsyncIterable[T],
        *,
        concurrency: int = ...,
        ordered: bool = ...,
        return_exceptions: Literal[True],
    ) -> AsyncIterator[R | BaseException]: ...

    def map(
        self,
        fn: Callable[[T], Awaitable[R]],
        items: Iterable[T] | AsyncIterable[T],
        *,
        concurrency: int = 8,
        ordered: bool = True,
        return_exceptions: bool = False,
    ) -> AsyncIterator[R] | AsyncIterator[R | BaseException]:
        """``await fn(item)`` for every item, at most ``concurrency`` at a time, lazily.

        Results come in input order (``ordered=True``; a slow call holds back those after
        it) or as they complete (``ordered=False``). An error ends the iteration and cancels
        the calls still running, unless ``return_exceptions=True``, which yields it in
        place of the result. Nothing is retried beyond what the client itself retries, so
        use ``map`` for reads and idempotent calls, and ``send_messages`` for sends. Close
        it early with ``contextlib.aclosing`` to cancel the calls in flight at once.

        Example::

            async for contact in client.batch.map(client.contacts.get, ids, concurrency=8):
                print(contact.id, contact.phone)
        """
        require_positive_int("concurrency", concurrency)
        return bounded_map(
            fn,
            items,
            concurrency=concurrency,
            ordered=ordered,
            return_exceptions=return_exceptions,
        )
