"""What a journalled item stands for: a stable text for a spec's content.

Both the journal key derived from a spec (when it has no ``key=``) and the fingerprint a
claim records are hashes of one canonical JSON form, the same in every process and Python
version (no ``hash()``, sorted keys, files named by path or content hash).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import PurePath
from typing import Any, Protocol

import attrs
from attrs import AttrsInstance

from ..errors import ValidationError

__all__ = ["canonical", "content_of", "fingerprint_of"]


class _Spec(AttrsInstance, Protocol):
    """The parts of a message spec a fingerprint reads (every spec class has them)."""

    @property
    def kind(self) -> str: ...
    @property
    def phone(self) -> str: ...


def canonical(value: Any, field: str) -> Any:
    """A JSON value that stands for ``value`` the same way in every process.

    Raises ``ValidationError`` (naming ``key``) for a value with no stable identity, such as
    an anonymous stream: such a spec needs an explicit ``key=``.
    """
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, list | tuple):
        return [canonical(item, field) for item in value]
    if attrs.has(type(value)):
        return {
            f.name: canonical(getattr(value, f.name), field)
            for f in attrs.fields(type(value))
            if getattr(value, f.name) is not None
        }
    if isinstance(value, PurePath):
        return {"path": str(value)}
    if isinstance(value, bytes | bytearray | memoryview):
        return {"sha256": hashlib.sha256(value).hexdigest()}
    name = getattr(value, "name", None)
    if isinstance(name, str) and name:
        # An open file stands for its path; its content is read only when sent.
        return {"path": name}
    raise ValidationError.for_field(
        "key", f"give this spec a key=: its {field} ({type(value).__name__}) has no stable identity"
    )


def content_of(spec: AttrsInstance) -> dict[str, Any]:
    """The spec's fields as canonical JSON values, without ``key`` and empty fields."""
    return {
        f.name: canonical(getattr(spec, f.name), f.name)
        for f in attrs.fields(type(spec))
        if f.name != "key" and getattr(spec, f.name) not in (None, ())
    }


def fingerprint_of(spec: _Spec) -> str:
    """What the message is: a sha256 (hex) of its kind, its phone's digits and its content.

    Stable across processes; the key is left out (it names the item, not the message) and
    the phone counts by its digits, so ``"+1 555 000 1111"`` and ``"15550001111"`` agree.

    Example::

        fingerprint_of(wacr.TextMessage("+15550001111", "Hi"))   # "9c2e…" (64 hex digits)
    """
    content = content_of(spec)
    content["phone"] = "".join(ch for ch in spec.phone if ch.isdigit())
    text = json.dumps([spec.kind, content], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()
