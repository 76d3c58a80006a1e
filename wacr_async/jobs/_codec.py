"""Message specs as JSON rows, so that any worker on any machine can rebuild them.

Only what JSON can carry travels: a spec whose media is a file (a ``Path``, bytes, an open
file) is refused at submit time with a message saying to give a URL instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from .._specs import SPEC_TYPES, InteractiveMessage, MediaMessage, MessageSpec, check_spec
from ..errors import ValidationError
from ..models.messages import Button, ContactDefaults, Row, Section
from ..resources._uploads import is_file_input

__all__ = ["spec_from_json", "spec_to_json"]

_BY_KIND: dict[str, type[Any]] = {cls.kind: cls for cls in SPEC_TYPES}


def spec_to_json(spec: MessageSpec) -> dict[str, Any]:
    """The spec as a JSON object: ``{"kind": "text", "phone": …, "message": …}``.

    Example::

        spec_to_json(wacr.TextMessage("+15550001111", "Hi"))
        # {"kind": "text", "phone": "+15550001111", "message": "Hi"}
    """
    check_spec(spec)
    out: dict[str, Any] = {"kind": spec.kind}
    for field in attrs.fields(type(spec)):
        value = getattr(spec, field.name)
        if value is None:
            continue
        if is_file_input(value):
            raise ValidationError.for_field(
                field.name,
                "a job keeps its specs in PostgreSQL for workers on other machines: "
                "give the media as a URL, not a file",
            )
        out[field.name] = _plain(value)
    return out


def spec_from_json(data: Mapping[str, Any]) -> MessageSpec:
    """The spec :func:`spec_to_json` made ``data`` from.

    Example::

        spec_from_json({"kind": "text", "phone": "+15550001111", "message": "Hi"})
    """
    fields = dict(data)
    cls = _BY_KIND[fields.pop("kind")]
    if cls is InteractiveMessage:
        if fields.get("buttons") is not None:
            fields["buttons"] = [Button(**button) for button in fields["buttons"]]
        if fields.get("sections") is not None:
            fields["sections"] = [
                Section(section["title"], [Row(**row) for row in section["rows"]])
                for section in fields["sections"]
            ]
    if cls is MediaMessage and fields.get("contact") is not None:
        fields["contact"] = ContactDefaults(**fields["contact"])
    spec: MessageSpec = cls(**fields)
    return spec


def _plain(value: Any) -> Any:
    if attrs.has(type(value)):
        return {
            f.name: _plain(getattr(value, f.name))
            for f in attrs.fields(type(value))
            if getattr(value, f.name) is not None
        }
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value
