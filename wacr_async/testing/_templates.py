"""WhatsApp templates: building template rows, the seeded defaults, and rendering a body.

A row is the API's Template object (``buttons_data`` a JSON-encoded string, ``name`` an
alias of ``template_name``, ``components`` in Meta's format).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from ._state import State
from ._table import Row

__all__ = ["DEFAULT_TEMPLATES", "make_template", "param_count", "render"]

_PARAM = re.compile(r"\{\{(\d+)\}\}")

# (name, language, category, status, body, extra)
DEFAULT_TEMPLATES: tuple[tuple[str, str, str, str, str, Mapping[str, Any]], ...] = (
    ("order_update", "en", "UTILITY", "APPROVED", "Your order {{1}} will arrive on {{2}}.", {}),
    (
        "otp_verification",
        "en",
        "AUTHENTICATION",
        "APPROVED",
        "{{1}} is your verification code. For your security, do not share this code.",
        {
            "add_security_recommendation": True,
            "code_expiration_minutes": 10,
            "buttons": [
                {
                    "type": "URL",
                    "text": "Copy code",
                    "url": "https://www.whatsapp.com/otp/code/?otp_type=COPY_CODE&code=otp{{1}}",
                }
            ],
        },
    ),
    (
        "otp_verification",
        "es",
        "AUTHENTICATION",
        "APPROVED",
        "{{1}} es tu código de verificación.",
        {"add_security_recommendation": True, "code_expiration_minutes": 10},
    ),
    (
        "login_code",
        "en",
        "AUTHENTICATION",
        "APPROVED",
        "Your login code is {{1}}. It expires in {{2}} minutes.",
        {"code_expiration_minutes": 10},
    ),
    (
        "appointment_reminder",
        "en",
        "UTILITY",
        "APPROVED",
        "Your appointment is on {{1}} at {{2}}.",
        {
            "header_format": "TEXT",
            "header_text": "Reminder for {{1}}",
            "footer": "Reply STOP to opt out",
        },
    ),
    (
        "shipping_photo",
        "en",
        "UTILITY",
        "APPROVED",
        "Here is a photo of your package {{1}}.",
        {"header_format": "IMAGE"},
    ),
    (
        "invoice_ready",
        "en",
        "UTILITY",
        "APPROVED",
        "Your invoice {{1}} is attached.",
        {"header_format": "DOCUMENT"},
    ),
    ("welcome", "en", "MARKETING", "APPROVED", "Welcome to Sandbox Co! Reply HELP any time.", {}),
    ("summer_sale", "en", "MARKETING", "PENDING", "Summer sale: {{1}} off everything!", {}),
    ("old_promo", "en", "MARKETING", "REJECTED", "Old promo {{1}}", {}),
)


def param_count(text: str | None) -> int:
    """How many ``{{n}}`` parameters a template text takes (its highest n)."""
    if not text:
        return 0
    return max((int(n) for n in _PARAM.findall(text)), default=0)


def render(text: str | None, params: Sequence[str]) -> str:
    """Replace ``{{n}}`` with ``params[n-1]`` (missing ones stay as they are)."""
    if not text:
        return ""

    def replace(match: re.Match[str]) -> str:
        index = int(match.group(1)) - 1
        return params[index] if 0 <= index < len(params) else match.group(0)

    return _PARAM.sub(replace, text)


def make_template(
    state: State,
    name: str,
    *,
    language: str = "en",
    category: str = "UTILITY",
    status: str = "APPROVED",
    body: str = "",
    header_format: str = "NONE",
    header_text: str | None = None,
    footer: str | None = None,
    buttons: Sequence[Mapping[str, Any]] | None = None,
    template_id: str | None = None,
    add_security_recommendation: bool = False,
    code_expiration_minutes: int | None = None,
) -> Row:
    """A template row (no id yet: insert it into ``state.templates`` or the remote list).

    Example::

        row = make_template(state, "promo", category="MARKETING", body="Hi {{1}}")
        state.templates.insert(row)
    """
    stamp = state.clock.iso()
    components: list[dict[str, Any]] = []
    if header_format != "NONE":
        header: dict[str, Any] = {"type": "HEADER", "format": header_format}
        if header_text:
            header["text"] = header_text
        components.append(header)
    components.append({"type": "BODY", "text": body})
    if footer:
        components.append({"type": "FOOTER", "text": footer})
    if buttons:
        components.append({"type": "BUTTONS", "buttons": [dict(button) for button in buttons]})
    otp_button = None
    if category == "AUTHENTICATION" and buttons:
        otp_button = {"otp_type": "COPY_CODE", "text": buttons[0].get("text", "Copy code")}
    return {
        "template_id": template_id or state.next_template_id(),
        "template_name": name,
        "name": name,
        "language": language,
        "category": category,
        "status": status,
        "header_data_format": header_format,
        "header_data_text": header_text,
        "header_params_count": param_count(header_text),
        "header_file_url": None,
        "header_variable_value": None,
        "body_data": body,
        "body_params_count": param_count(body),
        "body_variable_value": None,
        "footer_data": footer,
        "footer_params_count": param_count(footer),
        "buttons_data": json.dumps([dict(button) for button in buttons]) if buttons else None,
        "message_send_ttl_seconds": 600 if category == "AUTHENTICATION" else None,
        "add_security_recommendation": add_security_recommendation,
        "code_expiration_minutes": code_expiration_minutes,
        "otp_button_config": otp_button,
        "components": components,
        "created_at": stamp,
        "updated_at": stamp,
    }


def seed_default_templates(state: State) -> None:
    """Insert the default templates locally and make them the "remote" (Meta) list too."""
    for name, language, category, status, body, extra in DEFAULT_TEMPLATES:
        row = make_template(
            state,
            name,
            language=language,
            category=category,
            status=status,
            body=body,
            header_format=extra.get("header_format", "NONE"),
            header_text=extra.get("header_text"),
            footer=extra.get("footer"),
            buttons=extra.get("buttons"),
            add_security_recommendation=extra.get("add_security_recommendation", False),
            code_expiration_minutes=extra.get("code_expiration_minutes"),
        )
        state.remote_templates.append(dict(row))
        state.templates.insert(row)
