"""HMAC-SHA256 over the raw body, as WA.cr signs it (REFERENCE §13).

The header holds the lowercase hex digest with no ``sha256=`` prefix. Verification compares in
constant time, accepts either hex case, and never re-serialises the body: the server's bytes
are PHP ``json_encode`` output, which no Python encoder reproduces.
"""

from __future__ import annotations

import hashlib
import hmac

from ._errors import SignatureError

__all__ = ["SIGNATURE_HEADER", "Signer", "check", "key_of", "sign", "verify"]

SIGNATURE_HEADER = "X-Webhook-Signature"

_DIGEST_SIZE = hashlib.sha256().digest_size
_DIGEST_LENGTH = _DIGEST_SIZE * 2
_BLOCK_SIZE = hashlib.sha256().block_size
_INNER_PAD = bytes(x ^ 0x36 for x in range(256))
_OUTER_PAD = bytes(x ^ 0x5C for x in range(256))


def key_of(secret: str | bytes) -> bytes:
    """The HMAC key for ``secret`` (raises :class:`SignatureError` when it is empty)."""
    key = secret.encode() if isinstance(secret, str) else bytes(secret)
    if not key:
        raise SignatureError("the webhook secret is empty")
    return key


class Signer:
    """HMAC-SHA256 with one key, its padded key blocks hashed once (RFC 2104).

    Each digest then costs the hashing of the body and one more block, not the key set-up
    ``hmac.digest`` repeats on every call; the result is the same bytes.

    Example::

        Signer(b"s3cret").digest(body) == hmac.digest(b"s3cret", body, "sha256")   # True
    """

    __slots__ = ("_inner", "_outer")

    def __init__(self, key: bytes) -> None:
        if len(key) > _BLOCK_SIZE:
            key = hashlib.sha256(key).digest()
        block = key.ljust(_BLOCK_SIZE, b"\0")
        self._inner = hashlib.sha256(block.translate(_INNER_PAD))
        self._outer = hashlib.sha256(block.translate(_OUTER_PAD))

    def digest(self, body: bytes) -> bytes:
        """The 32-byte HMAC-SHA256 of ``body``."""
        inner = self._inner.copy()
        inner.update(body)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()


def sign(body: bytes, secret: str | bytes) -> str:
    """The signature WA.cr sends for ``body``: lowercase hex HMAC-SHA256.

    Example::

        sign(b'{"event":{}}', "s3cret")   # '0c4b…' (64 hex digits)
    """
    return hmac.digest(key_of(secret), body, "sha256").hex()


def verify(body: bytes, signature: str | bytes | None, secret: str | bytes) -> None:
    """Check ``signature`` against the raw ``body``; raise :class:`SignatureError` if it fails.

    A missing or malformed signature fails like a wrong one. A ``sha256=`` prefix, surrounding
    spaces and upper-case hex are accepted.

    Example::

        webhooks.verify(await request.read(), request.headers.get("X-Webhook-Signature"), SECRET)
    """
    check(bytes(body), signature, Signer(key_of(secret)))


def check(body: bytes, signature: str | bytes | None, signer: Signer) -> None:
    """``verify`` with the key already set up (the receiver's path: one key for every request).

    The hex digits are turned into the 32 digest bytes and compared with the HMAC in constant
    time; 64 characters that ``bytes.fromhex`` turns into 32 bytes are all hex digits (it skips
    only whitespace, which would leave fewer bytes).
    """
    if signature is None:
        raise SignatureError(f"no {SIGNATURE_HEADER} header: the request is not signed")
    text = signature.decode("ascii", "replace") if isinstance(signature, bytes) else signature
    if len(text) != _DIGEST_LENGTH:
        text = text.strip()
        if text[:7].lower() == "sha256=":
            text = text[7:]
    try:
        given = bytes.fromhex(text) if len(text) == _DIGEST_LENGTH else b""
    except ValueError:
        given = b""
    if len(given) != _DIGEST_SIZE:
        raise SignatureError(f"malformed {SIGNATURE_HEADER}: expected {_DIGEST_LENGTH} hex digits")
    if not hmac.compare_digest(signer.digest(body), given):
        raise SignatureError("the signature does not match the body (wrong secret or altered body)")
