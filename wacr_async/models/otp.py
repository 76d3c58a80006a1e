"""OTP verification: send/resend result, verification, status, authentication templates."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

from ._converter import converter, model_hook

__all__ = ["AuthTemplate", "OTPSent", "OTPStatus", "OTPVerified"]


@attrs.frozen(kw_only=True)
class OTPSent:
    """Result of ``otp.send`` and ``otp.resend``. The code itself is never echoed back.

    Every field is one that both the docs and the server code always send.
    """

    message_id: str
    contact_id: int
    phone: str
    template_name: str
    language: str
    code_sent: bool = True
    expiry_minutes: int
    expires_at: datetime
    status: str
    sent_at: datetime


@attrs.frozen(kw_only=True)
class OTPVerified:
    """A successful ``otp.verify``: the phone, the purpose and when it was verified."""

    phone: str
    purpose: str
    verified_at: datetime


@attrs.frozen(kw_only=True)
class OTPStatus:
    """Whether a code is pending for a phone and purpose (``otp.status``).

    Without an active code only ``has_active_otp`` (False) and ``message`` are set.
    ``expires_in_seconds`` is negative once the code has expired; it is a float because the
    server code sends fractions (``287.41``), the docs a whole number.

    Example::

        status = await client.otp.status("+15550001111")
        if status.has_active_otp and not status.is_expired:
            print(status.attempts_remaining, "tries left")
    """

    has_active_otp: bool
    expires_at: datetime | None = None
    expires_in_seconds: float | None = None
    is_expired: bool | None = None
    verification_attempts: int | None = None
    max_attempts: int | None = None
    attempts_remaining: int | None = None
    created_at: datetime | None = None
    message: str | None = None


_otp_status_hook = model_hook(OTPStatus)


def _structure_otp_status(data: Any, _: type) -> OTPStatus:
    if isinstance(data, Mapping) and "has_active_otp" not in data:
        # Tolerate an answer that omits the flag: an expiry means a code exists.
        data = {**data, "has_active_otp": data.get("expires_at") is not None}
    return _otp_status_hook(data, OTPStatus)


converter.register_structure_hook(OTPStatus, _structure_otp_status)


@attrs.frozen(kw_only=True, slots=False)
class AuthTemplate:
    """An approved AUTHENTICATION template (``GET /auth/templates``).

    ``body_text`` holds the ``{{1}}`` (code) and optional ``{{2}}`` (expiry) placeholders;
    ``header_format`` is ``TEXT``, ``IMAGE``, ``VIDEO``, ``DOCUMENT`` or ``NONE``. ``name`` is
    ``template_name``, as on :class:`~wacr_async.Template`.

    Example::

        async for template in client.otp.templates():
            await client.otp.send(phone, template.name, code, language=template.language)
    """

    id: int
    template_name: str
    language: str
    body_text: str
    body_params_count: int
    header_format: str | None = None
    header_text: str | None = None
    footer_text: str | None = None
    status: str
    created_at: datetime

    @property
    def name(self) -> str:
        """The template's name (``template_name``)."""
        return self.template_name
