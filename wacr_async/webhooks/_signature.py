"""HMAC-SHA256 over the raw body, as WA.cr signs it (REFERENCE §13).

The header holds the lowercase hex digest with no ``sha256=`` prefix. Verification compares in
constant time, accepts either hex case, and never re-serialises the body: the server's bytes
are PHP ``json_encode`` output, which no Python encoder reproduces.
"""

from __future__ import annotations

import hashlib
import hmac
import string

from ._errors import SignatureError

__all__ = ["SIGNATURE_HEADER", "sign", "verify"]

SIGNATURE_HEADER = "X-Webhook-Signature"

_HEX = frozenset(string.hexdigits)
_DIGEST_LENGTH = hashlib.sha256().digest_size * 2


def _key(secret: str | bytes) -> bytes:
    key = secret.encode() if isinstance(secret, str) else bytes(secret)
    if not key:
        raise SignatureError("the webhook secret is empty")
    return key


def sign(body: bytes, secret: str | bytes) -> str:
    """The signature WA.cr sends for ``body``: lowercase hex HMAC-SHA256.

    Example::

        sign(b'{"event":{}}', "s3cret")   # '0c4b…' (64 hex digits)
    """
    return hmac.new(_key(secret), body, hashlib.sha256).hexdigest()


def verify(body: bytes, signature: str | bytes | None, secret: str | bytes) -> None:
    """Check ``signature`` against the raw ``body``; raise :class:`SignatureError` if it fails.

    A missing or malformed signature fails like a wrong one. A ``sha256=`` prefix, surrounding
    spaces and upper-case hex are accepted.

    Example::

        webhooks.verify(await request.read(), request.headers.get("X-Webhook-Signature"), SECRET)
    """
    if signature is None:
        raise SignatureError(f"no {SIGNATURE_HEADER} header: the request is not signed")
    text = signature.decode("ascii", "replace") if isinstance(signature, bytes) else signature
    text = text.strip()
    if text[:7].lower() == "sha256=":
        text = text[7:]
    if len(text) != _DIGEST_LENGTH or not _HEX.issuperset(text):
        raise SignatureError(f"malformed {SIGNATURE_HEADER}: expected {_DIGEST_LENGTH} hex digits")
    expected = sign(bytes(body), secret)
    if not hmac.compare_digest(expected, text.lower()):
        raise SignatureError("the signature does not match the body (wrong secret or altered body)")
