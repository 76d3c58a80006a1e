"""``client.otp``: one-time codes over WhatsApp (send, verify, resend, status, templates)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .._envelope import resource_of
from .._validate import (
    check_int_range,
    check_max_length,
    check_phone,
    check_positive_int,
    check_required,
)
from ..models._converter import structure
from ..models.otp import AuthTemplate, OTPSent, OTPStatus, OTPVerified
from ._base import Resource

if TYPE_CHECKING:
    from ..pagination import AsyncPager

__all__ = ["OTPService"]


def _options(
    *,
    language: str | None,
    expiry_minutes: int | None,
    purpose: str | None,
    purpose_limit: int | None,
) -> dict[str, Any]:
    """The optional fields shared by send and resend, checked; None means not sent."""
    check_max_length("language", language, 10)
    check_int_range("expiry_minutes", expiry_minutes, 1, 60)
    if purpose_limit is not None:
        check_max_length("purpose", purpose, purpose_limit)
    given = {"language": language, "expiry_minutes": expiry_minutes, "purpose": purpose}
    return {key: value for key, value in given.items() if value is not None}


class OTPService(Resource):
    """OTP verification (scope ``messages:send``; templates need ``templates:read``).

    One code is active per phone and ``purpose`` (default ``authentication``); sending or
    resending replaces it. A failed :meth:`verify` raises a subclass of
    :class:`~wacr_async.OTPVerificationError`.
    """

    __slots__ = ()

    async def send(
        self,
        phone: str,
        template_name: str,
        code: str,
        *,
        language: str | None = None,
        expiry_minutes: int | None = None,
        contact_id: int | None = None,
        purpose: str | None = None,
        additional_params: Sequence[str] | None = None,
    ) -> OTPSent:
        """Send ``code`` through an approved AUTHENTICATION template (``POST /auth/send-otp``).

        The template's ``{{1}}`` gets the code and ``{{2}}`` (if any) the expiry in minutes;
        ``additional_params`` fill the body parameters after those. ``language`` defaults to
        ``en`` and ``expiry_minutes`` (1 to 60) to 10 on the server. The code is stored for
        :meth:`verify`.

        Example::

            sent = await client.otp.send("+15550001111", "otp_verification", "493817")
            print(sent.expires_at)
        """
        check_phone("phone", phone)
        check_required("template_name", template_name)
        check_required("code", code)
        if contact_id is not None:
            check_positive_int("contact_id", contact_id)
        body: dict[str, Any] = {"phone": phone, "template_name": template_name, "code": code}
        body.update(
            _options(
                language=language,
                expiry_minutes=expiry_minutes,
                purpose=purpose,
                purpose_limit=None,
            )
        )
        if contact_id is not None:
            body["contact_id"] = contact_id
        if additional_params is not None:
            body["additional_params"] = list(additional_params)
        return await self._call("POST", "/auth/send-otp", OTPSent, safety="unsafe", json=body)

    async def verify(self, phone: str, code: str, *, purpose: str | None = None) -> OTPVerified:
        """Check a code the user typed (``POST /auth/verify``).

        A wrong or stale code raises :class:`~wacr_async.OTPInvalidCodeError` (with
        ``attempts_remaining``), :class:`~wacr_async.OTPExpiredError`,
        :class:`~wacr_async.OTPMaxAttemptsError` or :class:`~wacr_async.OTPNotFoundError`;
        ``purpose`` must match the one used when sending.

        Example::

            try:
                await client.otp.verify("+15550001111", "493817")
            except wacr.OTPInvalidCodeError as exc:
                print(exc.attempts_remaining, "tries left")
        """
        check_required("phone", phone)
        check_required("code", code)
        check_max_length("purpose", purpose, 50)
        body: dict[str, Any] = {"phone": phone, "code": code}
        if purpose is not None:
            body["purpose"] = purpose
        return await self._call("POST", "/auth/verify", OTPVerified, safety="unsafe", json=body)

    async def resend(
        self,
        phone: str,
        template_name: str,
        *,
        language: str | None = None,
        expiry_minutes: int | None = None,
        purpose: str | None = None,
        contact_id: int | None = None,
    ) -> OTPSent:
        """Send a new server-generated code, replacing the active one (``POST /auth/resend``).

        The new code is not returned. Limited to 3 per 5 minutes per phone; beyond that a
        :class:`~wacr_async.RateLimitError` carries ``retry_after`` (raised at once: the
        client does not sit through waits that long). ``contact_id`` is passed on to the send,
        as for :meth:`send`.

        Example::

            await client.otp.resend("+15550001111", "otp_verification")
        """
        check_required("phone", phone)
        check_required("template_name", template_name)
        if contact_id is not None:
            check_positive_int("contact_id", contact_id)
        body: dict[str, Any] = {"phone": phone, "template_name": template_name}
        body.update(
            _options(
                language=language,
                expiry_minutes=expiry_minutes,
                purpose=purpose,
                purpose_limit=50,
            )
        )
        if contact_id is not None:
            body["contact_id"] = contact_id
        return await self._call("POST", "/auth/resend", OTPSent, safety="unsafe", json=body)

    async def status(self, phone: str, *, purpose: str | None = None) -> OTPStatus:
        """The active code's state, without using up an attempt (``POST /auth/status``).

        Example::

            status = await client.otp.status("+15550001111")
            if not status.has_active_otp:
                print(status.message)          # "No active OTP found"
        """
        check_required("phone", phone)
        check_max_length("purpose", purpose, 50)
        body: dict[str, Any] = {"phone": phone}
        if purpose is not None:
            body["purpose"] = purpose
        payload = await self._payload("POST", "/auth/status", safety="idempotent", json=body)
        data = resource_of(payload)
        if (
            isinstance(data, Mapping)
            and isinstance(payload, Mapping)
            and not data.get("has_active_otp", True)
            and "message" not in data
        ):
            # Documented with the flag and its message beside the envelope, not in data.
            data = {**data, "message": payload.get("message")}
        return structure(data, OTPStatus)

    def templates(
        self,
        *,
        per_page: int = 100,
        sort: str | Sequence[str] | None = None,
        search: str | None = None,
        filter: Mapping[str, Any] | None = None,
        prefetch: bool = True,
        concurrency: int = 1,
    ) -> AsyncPager[AuthTemplate]:
        """Approved AUTHENTICATION templates (``GET /auth/templates``); a pager, at once.

        ``sort`` takes ``template_name`` (the default order), ``created_at``, ``language``;
        ``search`` matches the name and body; filters: ``language``, ``template_name``.

        Example::

            async for template in client.otp.templates(filter={"language": "en"}):
                print(template.template_name, template.body_text)
        """
        return self._list(
            "/auth/templates",
            AuthTemplate,
            per_page=per_page,
            sort=sort,
            search=search,
            filter=filter,
            prefetch=prefetch,
            concurrency=concurrency,
        )
