"""The two ways an incoming webhook is refused: a bad signature (401) or a bad body (400)."""

from __future__ import annotations

from ..errors import WacrError

__all__ = ["PayloadError", "SignatureError"]


class SignatureError(WacrError):
    """The signature is missing, malformed, or does not match the body and secret.

    Example::

        try:
            event = webhooks.parse(body, headers, secret=SECRET)
        except webhooks.SignatureError:
            return web.Response(status=401)
    """


class PayloadError(WacrError, ValueError):
    """The body is not a webhook this SDK can read: not JSON, not an object, or too large.

    Example::

        webhooks.parse(b"not json", {}, secret=None)   # raises PayloadError
    """
