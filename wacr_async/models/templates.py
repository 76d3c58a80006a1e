"""WhatsApp message templates (``GET /templates``, ``GET /templates/{id}``) and sync results."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

from ._converter import converter, model_hook

__all__ = ["SyncResult", "Template"]

# A decoded JSON document as templates carry them (``buttons``).
JSONDocument = list[Any] | dict[str, Any] | None


@attrs.frozen(kw_only=True, slots=False)
class Template:
    """A WhatsApp template as stored by the account.

    ``id`` is the internal id; ``template_id`` is WhatsApp's id, the one ``templates.get``
    takes. ``category`` (``MARKETING``, ``UTILITY``, ``AUTHENTICATION``), ``status``
    (``APPROVED``, ``PENDING``, ``REJECTED``) and ``header_data_format`` are plain strings.
    The API sends the buttons as a JSON-encoded string: ``buttons_data`` keeps that text and
    ``buttons`` holds it decoded (None when absent or not valid JSON). ``components`` is
    WhatsApp's raw component list. ``header_variable_value`` and ``body_variable_value`` are
    the sample values of the placeholders: the server code sends a JSON array of strings (the
    docs a string); both, and a JSON-encoded array, read as a tuple of strings.

    Example::

        template = await client.templates.get("1234567890")
        for button in template.buttons or []:
            print(button)
    """

    id: int
    template_id: str | None = None
    template_name: str | None = None
    name: str | None = None
    language: str | None = None
    category: str | None = None
    status: str | None = None
    header_data_format: str | None = None
    header_data_text: str | None = None
    header_params_count: int = 0
    header_file_url: str | None = None
    header_variable_value: tuple[str, ...] | None = None
    body_data: str | None = None
    body_params_count: int = 0
    body_variable_value: tuple[str, ...] | None = None
    footer_data: str | None = None
    footer_params_count: int = 0
    buttons_data: str | None = None
    buttons: JSONDocument = None
    message_send_ttl_seconds: int | None = None
    add_security_recommendation: bool = False
    code_expiration_minutes: int | None = None
    otp_button_config: dict[str, Any] | None = None
    components: list[Any] = attrs.field(factory=list)
    created_at: datetime | None = None
    updated_at: datetime | None = None


def _decode_json(value: Any) -> Any:
    """A JSON document sent as a string, decoded; anything else as is; bad JSON as None."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return None


# Already decoded by the Template hook below; passed through as is.
converter.register_structure_hook_func(
    lambda cls: cls == JSONDocument, lambda value, _: _decode_json(value)
)


def _variable_values(value: Any) -> tuple[str, ...] | None:
    """A JSON array of strings, that array JSON-encoded, or one plain string: a tuple."""
    if value is None:
        return None
    if isinstance(value, str):
        decoded = _decode_json(value) if value.lstrip().startswith("[") else None
        value = decoded if isinstance(decoded, list) else [value]
    if isinstance(value, list | tuple):
        return tuple("" if item is None else str(item) for item in value)
    return (str(value),)


_template_hook = model_hook(
    Template,
    {"header_variable_value": _variable_values, "body_variable_value": _variable_values},
)


def _structure_template(data: Any, _: type) -> Template:
    if not isinstance(data, Mapping):
        return _template_hook(data, Template)
    fixed = {key: value for key, value in data.items() if value is not None}
    buttons = _decode_json(data.get("buttons_data"))
    fixed["buttons"] = buttons if isinstance(buttons, list | dict) else None
    # Either may arrive JSON-encoded like buttons_data; keep only the shapes documented.
    components = _decode_json(data.get("components"))
    fixed["components"] = components if isinstance(components, list) else []
    otp_config = _decode_json(data.get("otp_button_config"))
    fixed["otp_button_config"] = otp_config if isinstance(otp_config, dict) else None
    return _template_hook(fixed, Template)


converter.register_structure_hook(Template, _structure_template)


@attrs.frozen(kw_only=True)
class SyncResult:
    """Result of ``templates.sync()``: how many templates were pulled from WhatsApp."""

    synced_count: int = 0
    templates: list[Template] = attrs.field(factory=list)
