"""Building an event from the fields ``_parse`` gathered: the typed parts through the
converter's hooks, then the fields dict becomes the instance's ``__dict__``.

That is all the attrs ``__init__`` of the event classes would do (no slots, validators or
converters), without binding twenty keyword arguments. A typed part the class cannot take
delivers a plain :class:`Event` (with a warning) rather than losing the event; one that
``Event`` itself cannot take is a :class:`PayloadError`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import attrs

from ..models._converter import converter, model_hook
from ..models.contacts import Contact
from ..models.sources import Source
from ..models.statuses import Status
from ._errors import PayloadError
from ._events import (
    Changes,
    ContactEvent,
    Event,
    MessageReceived,
    MessageStatus,
    SourceEvent,
    StatusEvent,
    Tenant,
    WhatsAppEvent,
)

__all__ = ["Fields", "build"]

logger = logging.getLogger("wacr_async.webhooks")

Fields = dict[str, Any]


def _same(value: Any) -> Any:
    return value


# The converter's hooks for the typed parts; they are registered before these are looked up.
converter.register_structure_hook(Tenant, model_hook(Tenant))
converter.register_structure_hook(
    Changes, model_hook(Changes, {"previous": _same, "current": _same})
)
_structure_datetime = converter.get_structure_hook(datetime)
_structure_tenant = converter.get_structure_hook(Tenant)
_structure_changes = converter.get_structure_hook(Changes)


def _when(value: Any) -> datetime | None:
    if value is None:
        return None
    if value.__class__ is int:  # Meta's Unix seconds, as the converter reads them
        return datetime.fromtimestamp(value, UTC)
    when: datetime = _structure_datetime(value, datetime)
    return when


def _typed_part(name: str, cls: type) -> Callable[[Fields], None]:
    hook = converter.get_structure_hook(cls)

    def structure(fields: Fields) -> None:
        fields[name] = hook(fields[name], cls)

    return structure


def _typed_time(name: str) -> Callable[[Fields], None]:
    def structure(fields: Fields) -> None:
        fields[name] = _when(fields[name])

    return structure


# What each class types beyond Event's fields (a failure there delivers a plain Event).
_TYPED: dict[type[Event], Callable[[Fields], None]] = {
    ContactEvent: _typed_part("contact", Contact),
    SourceEvent: _typed_part("source", Source),
    StatusEvent: _typed_part("status", Status),
    MessageReceived: _typed_time("sent_at"),
    MessageStatus: _typed_time("status_at"),
}

_Default = tuple[str, bool, Any]  # name, whether the default is a factory, the default
_FIELDS: dict[type[Event], tuple[_Default, ...]] = {}
_new = object.__new__
_set = object.__setattr__


def build(cls: type[Event], fields: Fields, *, complete: bool = False) -> Event:
    """The ``cls`` instance for ``fields`` (raw parts); ``complete`` says ``fields`` holds
    exactly the class's fields, in order."""
    try:
        fields["timestamp"] = _when(fields.get("timestamp"))
        tenant = fields.get("tenant")
        if tenant is not None:
            fields["tenant"] = _structure_tenant(tenant, Tenant)
        changes = fields.get("changes")
        if changes is not None:
            fields["changes"] = _structure_changes(changes, Changes)
    except Exception as exc:
        raise PayloadError(f"the {fields.get('type')} event cannot be read: {exc}") from exc
    typed = _TYPED.get(cls)
    if typed is not None:
        try:
            typed(fields)
        except Exception as exc:
            # A field the typed class cannot take must not lose the event: the server would
            # resend it three times and give up. Handlers still get the envelope and ``raw``.
            logger.warning(
                "webhook %s (%s) does not fit %s (%s); delivered as a plain Event",
                fields.get("id"),
                fields.get("type"),
                cls.__name__,
                exc,
            )
            cls, complete = Event, False
    if not complete:
        fields = {
            name: fields[name] if name in fields else default() if factory else default
            for name, factory, default in _FIELDS[cls]
        }
    event = _new(cls)
    _set(event, "__dict__", fields)
    return event


def _defaults(cls: type[Event]) -> tuple[_Default, ...]:
    found: list[_Default] = []
    for field in attrs.fields(cls):
        default = field.default
        if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
            found.append((field.name, True, default.factory))
        else:
            found.append((field.name, False, default))
    return tuple(found)


# ``converter.structure(data, MessageReceived)`` builds the same classes from plain fields.
_KEPT = frozenset(
    {
        "raw",
        "attributes",
        "relationships",
        "metadata",
        "resource_id",
        "original_payload",
        "context",
        "pricing",
        "conversation",
        "errors",
    }
)
for _cls in (
    Event,
    ContactEvent,
    SourceEvent,
    StatusEvent,
    WhatsAppEvent,
    MessageReceived,
    MessageStatus,
):
    _FIELDS[_cls] = _defaults(_cls)
    _kept = {field.name: _same for field in attrs.fields(_cls) if field.name in _KEPT}
    converter.register_structure_hook(_cls, model_hook(_cls, _kept))
