"""``Sandbox``: the public face of the sandbox server, its lifecycle and its test helpers.

The request pipeline lives in ``_pipeline``, the data in ``_state``, the routes in
``_routes_*``; this class wires them together and gives tests their knobs.

Kept whole because the ``Sandbox`` class is the one public surface tests configure; its
knobs are thin setters over ``_state`` and read best side by side.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar

from aiohttp import web

from . import _seed
from ._accounting import Ledger, SendRecord
from ._clock import Clock, parse_iso
from ._faults import Faults
from ._phones import digits_of
from ._pipeline import API_PREFIX, Access, build_app
from ._ratelimit import ApiRateLimiter
from ._routes import ROUTES, TOKEN_ROUTES, Route
from ._routes_labels import GROUPS, SOURCES, STATUSES
from ._routes_tokens import add_token_row
from ._state import Plan, State
from ._table import Row
from ._templates import make_template
from ._webhooks import Webhooks, receive_message

if TYPE_CHECKING:
    from wacr_async._client import Client

__all__ = ["API_PREFIX", "DEFAULT_TOKEN", "Sandbox"]

DEFAULT_TOKEN = "wm_sandbox"


class Sandbox:
    """An in-memory WA.cr API v2 server on a loopback port, for tests and local development.

    Example::

        async with Sandbox(tokens={"tok": {"*"}}) as sandbox:
            async with sandbox.client() as client:
                await client.messages.send_text(phone="+15550001111", message="Hi")
            assert sandbox.sends[0].phone == "15550001111"

    ``tokens`` maps each accepted bearer token to its scopes (``"*"`` grants all); without
    it one token, ``"wm_sandbox"``, has every scope. ``rate_limit`` is ``None`` (off: no
    ``X-RateLimit-*`` headers at all), a number of calls per 60 s window, or ``(calls,
    window_seconds)``. ``whitelisted_tokens`` bypass the limiter like a whitelisted IP.
    ``latency`` adds a delay to every request: seconds, or ``(seconds, jitter)``.
    ``detailed_auth`` answers auth failures with the server's own 401 codes rather than the
    documented ``UNAUTHORIZED`` (see ``revoke_token``, ``expire_token``, ``add_token``).

    Where the docs and the server code differ (REFERENCE §12) the sandbox answers like the
    server code by default: the five show endpoints (``GET /contacts/{id}``, ``/groups/{id}``,
    ``/sources/{id}``, ``/statuses/{id}``, ``/templates/{template_id}``) nest the resource as
    ``data: {"data": {…}}`` — ``show_wrapped=False`` answers flat, as documented — and message
    items carry the server's 9 keys, with ``filter[direction]`` and ``fields=`` on messages and
    templates answering its 500. ``documented_queries=True`` serves them as documented instead
    (messages with a ``direction`` key; ``filter[direction]`` and ``fields=`` honoured).
    """

    routes: ClassVar[tuple[Route, ...]] = ROUTES
    token_routes: ClassVar[tuple[Route, ...]] = TOKEN_ROUTES

    def __init__(
        self,
        *,
        tokens: Mapping[str, Iterable[str]] | None = None,
        rate_limit: int | tuple[int, float] | None = None,
        whitelisted_tokens: Iterable[str] = (),
        latency: float | tuple[float, float] | None = None,
        plan: Plan | None = None,
        whatsapp_configured: bool = True,
        clock: Clock | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        seed_defaults: bool = True,
        detailed_auth: bool = False,
        show_wrapped: bool = True,
        documented_queries: bool = False,
    ) -> None:
        self.clock = clock or Clock()
        self.ledger = Ledger()
        self.state = State(self.clock, self.ledger, plan, events=Webhooks)
        self.state.whatsapp_configured = whatsapp_configured
        self.state.show_wrapped = show_wrapped
        self.state.documented_queries = documented_queries
        self.faults = Faults()
        given = tokens if tokens is not None else {DEFAULT_TOKEN: {"*"}}
        self._tokens: dict[str, frozenset[str]] = {
            token: frozenset(scopes) for token, scopes in given.items()
        }
        self._access = Access(self._tokens)
        self._access.detailed_auth = detailed_auth
        self.state.access = self._access
        for number, (token, scopes) in enumerate(self._tokens.items(), 1):
            add_token_row(self.state, token, f"Sandbox token {number}", sorted(scopes))
        self._whitelist = frozenset(whitelisted_tokens)
        self.rate_limit = rate_limit
        if latency is not None:
            delay, jitter = latency if isinstance(latency, tuple) else (latency, 0.0)
            self.faults.add("*", latency=delay, jitter=jitter)
        if seed_defaults:
            _seed.seed_defaults(self.state)
        self._host = host
        self._port = port
        self._runner: web.AppRunner | None = None
        self._url: str | None = None
        self.app: web.Application = build_app(self.state, self.faults, self._access)

    # -- lifecycle --------------------------------------------------------------------------

    async def start(self) -> Sandbox:
        """Start serving (``async with`` does this); returns the sandbox."""
        if self._runner is not None:
            return self
        runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        try:
            site = web.TCPSite(runner, self._host, self._port)
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        host, port = runner.addresses[0][:2]
        host = f"[{host}]" if ":" in host else host
        self._url = f"http://{host}:{port}{API_PREFIX}"
        return self

    async def close(self) -> None:
        """Stop serving and close every connection. Safe to call twice."""
        runner, self._runner = self._runner, None
        await self.state.webhooks.aclose()
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> Sandbox:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def url(self) -> str:
        """The API base URL, e.g. ``http://127.0.0.1:54321/api/v2``."""
        if self._url is None:
            raise RuntimeError("the sandbox is not started; use `async with Sandbox() as sb`")
        return self._url

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1].split("/", 1)[0])

    def client(self, **kwargs: Any) -> Client:
        """A ``wacr_async.Client`` bound to this sandbox (its token unless ``token=`` given).

        Example::

            async with sandbox.client(max_retries=0) as client:
                account = await client.account.get()
        """
        from wacr_async._client import Client  # lazily: the sandbox does not need the client

        token = kwargs.pop("token", self.token)
        return Client(token=token, base_url=self.url, **kwargs)

    # -- auth and rate limits ---------------------------------------------------------------

    @property
    def token(self) -> str:
        """The default token: the first with ``*``, else the first configured."""
        for token, scopes in self._tokens.items():
            if "*" in scopes:
                return token
        return next(iter(self._tokens))

    @property
    def tokens(self) -> dict[str, frozenset[str]]:
        return dict(self._tokens)

    def add_token(
        self,
        token: str,
        scopes: Iterable[str] = ("*",),
        *,
        expires_in: float | None = None,
        ips: Iterable[str] | None = None,
    ) -> None:
        """Accept another bearer token with ``scopes``; optionally expiring ``expires_in``
        seconds from now on the sandbox clock (then 401), or usable only from ``ips`` (other
        addresses get 403 ``IP_NOT_WHITELISTED``; the sandbox's clients come from 127.0.0.1).

        Example::

            sandbox.add_token("wm_reader", {"contacts:read"})   # other routes answer 403
            sandbox.add_token("wm_short", expires_in=3600)      # sandbox.advance(3600): 401
        """
        self._tokens[token] = frozenset(scopes)
        self._access.revoked.discard(token)
        self._access.expires.pop(token, None)
        self._access.ips.pop(token, None)
        if expires_in is not None:
            self._access.expires[token] = self.clock.time() + expires_in
        if ips is not None:
            self._access.ips[token] = frozenset(ips)

    def revoke_token(self, token: str) -> None:
        """Revoke ``token``: its requests get 401 (``TOKEN_REVOKED`` with ``detailed_auth``).

        Example::

            sandbox.revoke_token(sandbox.token)   # a running bulk job stops on the next call
        """
        self._access.revoked.add(token)

    def expire_token(self, token: str) -> None:
        """Expire ``token`` now: its requests get 401 (``TOKEN_EXPIRED`` with ``detailed_auth``).

        Example::

            sandbox.expire_token(sandbox.token)
        """
        self._access.expires[token] = self.clock.time()

    @property
    def detailed_auth(self) -> bool:
        """Answer auth failures with the server's own codes (``AUTHENTICATION_REQUIRED``,
        ``INVALID_TOKEN``, ``TOKEN_EXPIRED``, ``TOKEN_REVOKED``) instead of the documented
        ``UNAUTHORIZED`` (the default). Both are 401. Assignable.

        Example::

            sandbox.detailed_auth = True
        """
        return self._access.detailed_auth

    @detailed_auth.setter
    def detailed_auth(self, value: bool) -> None:
        self._access.detailed_auth = value

    def remove_token(self, token: str) -> None:
        """Stop accepting ``token`` (its requests get 401, as for a token never issued).

        Example::

            sandbox.remove_token(sandbox.token)
        """
        self._tokens.pop(token, None)

    @property
    def rate_limit(self) -> tuple[int, float] | None:
        """``(calls, window_seconds)`` per token, or ``None`` when off. Assignable.

        Example::

            sandbox.rate_limit = (5, 1.0)   # 5 calls per 1-second window, real time
            sandbox.rate_limit = 60         # 60 per minute, the server's default
        """
        limiter = self._access.limiter
        return None if limiter is None else (limiter.limit, limiter.window)

    @rate_limit.setter
    def rate_limit(self, value: int | tuple[int, float] | None) -> None:
        if value is None:
            self._access.limiter = None
            self.state.api_calls_per_minute = -1  # GET /account/limits says: unlimited
            return
        calls, window = (value, 60.0) if isinstance(value, int) else value
        self._access.limiter = ApiRateLimiter(calls, float(window), whitelist=self._whitelist)
        # What the limits endpoint reports is per minute, whatever the window.
        self.state.api_calls_per_minute = max(1, round(calls * 60.0 / float(window)))

    @property
    def whitelisted_tokens(self) -> frozenset[str]:
        return self._whitelist

    @whitelisted_tokens.setter
    def whitelisted_tokens(self, tokens: Iterable[str]) -> None:
        self._whitelist = frozenset(tokens)
        if self._access.limiter is not None:
            self._access.limiter.whitelist = self._whitelist

    # -- switches and helpers for tests ------------------------------------------------------

    @property
    def show_wrapped(self) -> bool:
        """Whether the five show endpoints nest the resource (``data: {"data": {…}}``), as the
        server code does, or answer flat, as documented. Assignable.

        Example::

            sandbox.show_wrapped = False   # GET /contacts/7 answers data: {"id": 7, …}
        """
        return self.state.show_wrapped

    @show_wrapped.setter
    def show_wrapped(self, value: bool) -> None:
        self.state.show_wrapped = value

    @property
    def documented_queries(self) -> bool:
        """Serve messages and templates as documented (a ``direction`` key, ``filter[direction]``
        and ``fields=`` honoured) instead of as the server code does (9 keys on message items;
        those queries answer 500). Assignable.

        Example::

            sandbox.documented_queries = True
        """
        return self.state.documented_queries

    @documented_queries.setter
    def documented_queries(self, value: bool) -> None:
        self.state.documented_queries = value

    @property
    def plan(self) -> Plan:
        """The tenant's plan: limits and feature flags, mutable."""
        return self.state.plan

    @property
    def whatsapp_configured(self) -> bool:
        """When false, sends and template sync answer 422 ``WHATSAPP_NOT_CONFIGURED``."""
        return self.state.whatsapp_configured

    @whatsapp_configured.setter
    def whatsapp_configured(self, value: bool) -> None:
        self.state.whatsapp_configured = value

    def advance(self, seconds: float) -> None:
        """Move the sandbox clock forward (OTP expiry, OTP limiters, timestamps).

        Example::

            sandbox.advance(11 * 60)   # a 10-minute OTP is now expired
        """
        self.clock.advance(seconds)
        self.state.webhooks.tick()  # receipts now due go out

    def otp_code(self, phone: str, purpose: str | None = None) -> str | None:
        """The code last sent to ``phone`` (send-otp, resend, or an auto-generated template
        OTP); with ``purpose``, the stored OTP's code for that purpose, if any.

        Example::

            await http.post(f"{sandbox.url}/auth/resend", json={...})
            code = sandbox.otp_code("+15550001111")
        """
        digits = digits_of(phone)
        if purpose is None:
            return self.state.codes_sent.get(digits)
        otp = self.state.otps.get((digits, purpose))
        return None if otp is None else otp.code

    def fail_sends_to(self, phone: str, fail: bool = True) -> None:
        """Make sends to ``phone`` fail with 500 ``MESSAGE_SEND_FAILED`` (or stop that).

        Example::

            sandbox.fail_sends_to("+15550001111")   # WhatsApp rejects this recipient
        """
        digits = digits_of(phone)
        if fail:
            self.state.failing_phones.add(digits)
        else:
            self.state.failing_phones.discard(digits)

    # -- seeding ----------------------------------------------------------------------------

    def seed_contacts(self, count: int, **options: Any) -> range:
        """Add ``count`` contacts directly (no validation, ~0.5 s per 100,000); their ids.

        Options: ``phone_prefix``, ``types``, ``source_ids``, ``status_ids``, ``group_ids``,
        ``start`` (epoch seconds of the first ``created_at``), ``spacing`` (seconds).

        Example::

            ids = sandbox.seed_contacts(100_000)
        """
        return _seed.seed_contacts(self.state, count, **options)

    def add_contact(self, **fields: Any) -> Row:
        """Store one contact as given (no validation); returns the stored row.

        ``created_at`` may be an aware ``datetime``, an ISO string or epoch seconds.

        Example::

            row = sandbox.add_contact(firstname="Ada", lastname="L", phone="+15550001111")
        """
        fields.setdefault("source_id", self.state.default_source_id)
        fields.setdefault("status_id", self.state.default_status_id)
        created = fields.pop("created_at", None)
        if isinstance(created, datetime):
            created = created.timestamp()
        elif isinstance(created, str):
            created = parse_iso(created).timestamp()
        return self.state.new_contact(fields, at=created)

    def add_group(self, name: str) -> Row:
        """Store a group; returns the row. Example: ``sandbox.add_group("Newsletter")``."""
        return GROUPS.add(self.state, name)

    def add_source(self, name: str) -> Row:
        """Store a lead source. Example: ``sandbox.add_source("Trade fair")``."""
        return SOURCES.add(self.state, name)

    def add_status(self, name: str, color: str | None = None) -> Row:
        """Store a lead status. Example: ``sandbox.add_status("Won", "#00AA00")``."""
        return STATUSES.add(self.state, name, color)

    def add_template(self, name: str, *, remote: bool = False, **options: Any) -> Row:
        """Add a template locally, or with ``remote=True`` only to what ``POST /templates/sync``
        will pull in. Options: ``language``, ``category``, ``status``, ``body``,
        ``header_format``, ``header_text``, ``footer``, ``buttons``, ``template_id``.

        Example::

            sandbox.add_template("promo", category="MARKETING", body="Hi {{1}}")
        """
        row = make_template(self.state, name, **options)
        if remote:
            self.state.remote_templates.append(row)
            return row
        self.state.remote_templates.append(dict(row))
        return self.state.templates.insert(row)

    def add_chat(self, phone: str) -> Row:
        """Make a chat with ``phone`` exist (the Comments endpoints need one).

        Example::

            sandbox.add_chat("919876543210")   # now GET /comments/919876543210 answers 200
        """
        digits = digits_of(phone)
        return self.state.open_chat(digits, self.state.contact_by_phone("+" + digits))

    def receive(self, phone: str, text: str, *, type: str = "text", name: str | None = None) -> Row:
        """Simulate an inbound WhatsApp message from ``phone``; returns the stored row.

        It is listed by ``GET /messages`` with ``direction`` ``"inbound"`` and status
        ``"received"``, and sent to subscribed webhooks as ``whatsapp.message.received``
        (``name``: the sender's WhatsApp profile name).

        Example::

            sandbox.receive("+15550001111", "STOP")
        """
        return receive_message(self.state, phone, text, type=type, name=name)

    @property
    def webhooks(self) -> Webhooks:
        """Webhook subscriptions and deliveries: ``sandbox.webhooks.subscribe(url, secret=…)``."""
        webhooks = self.state.webhooks
        assert isinstance(webhooks, Webhooks)  # what __init__ gave the state
        return webhooks

    def set_message_status(self, message_id: int, status: str) -> Row:
        """Change a stored message's status (e.g. ``"delivered"``, ``"read"``, ``"failed"``).

        Example::

            sandbox.set_message_status(sent["chat_message_id"], "delivered")
        """
        row = self.state.messages.get(message_id)
        if row is None:
            raise KeyError(message_id)
        row["status"] = status
        row["updated_at"] = self.clock.iso()
        self.state.messages.touch(row)
        self.state.webhooks.status_changed(row, status)
        return row

    def opt_out(self, phone_or_id: str | int, opted_out: bool = True) -> Row:
        """Mark a contact (by id, or by phone) as opted out: sends answer 403.

        Example::

            sandbox.opt_out("+15550001111")
        """
        if isinstance(phone_or_id, int):
            row = self.state.contacts.get(phone_or_id)
        else:
            row = self.state.contact_by_phone(phone_or_id) or self.state.contact_by_phone(
                "+" + digits_of(phone_or_id)
            )
        if row is None:
            raise KeyError(phone_or_id)
        self.state.update_contact(row, {"is_opted_out": opted_out})
        return row

    # -- accounting -------------------------------------------------------------------------

    @property
    def sends(self) -> list[SendRecord]:
        """Every performed send, in order (including ones whose answer was lost)."""
        return self.ledger.sends

    @property
    def hits(self) -> Counter[str]:
        """Requests per route key (``"POST /messages/text"``), failed and dropped ones too."""
        return self.ledger.hits

    def duplicate_sends(self) -> list[SendRecord]:
        """Sends whose (kind, phone, content) occurred more than once, in send order.

        Example::

            assert sandbox.duplicate_sends() == []   # no retry sent anything twice
        """
        return self.ledger.duplicate_sends()

    def sends_to(self, phone: str) -> list[SendRecord]:
        """Sends to ``phone`` (any formatting). Example: ``sandbox.sends_to("+1 555 000 1111")``."""
        return self.ledger.sends_to(phone)

    def reset_accounting(self) -> None:
        """Forget recorded sends and hit counts (the data stays).

        Example::

            sandbox.reset_accounting()   # after the arrange phase of a test
        """
        self.ledger.reset()
