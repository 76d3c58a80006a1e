"""``client.otp``: OTP verification (send, verify, resend, status, authentication templates)."""

from __future__ import annotations

from ._base import Resource

__all__ = ["OTPService"]


class OTPService(Resource):
    """OTP verification (send, verify, resend, status, authentication templates)."""

    __slots__ = ()
