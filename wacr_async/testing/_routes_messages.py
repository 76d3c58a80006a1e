"""Messages (§7): send text, template, media, interactive; list and get the message store.

Send Media's extension and size failures answer ``{"status": "error", "message": …}`` with
422 outside the envelope, as the server does. Uploaded files are streamed and measured,
never kept.

Reading (§12): the server code's messages table has no ``direction`` column, so list items
carry exactly 9 keys, ``filter[direction]`` or ``fields=`` answer its 500 ``INTERNAL_ERROR``
"Failed to fetch messages", and ``sort`` is ignored (always newest first).
``state.documented_queries`` serves the documented reading instead.

Kept whole because the four send routes share one validation and storage path, and the
list and get routes read the store those sends write.
"""

from __future__ import annotations

import html
import posixpath
import re
import secrets
from typing import Any, NamedTuple

from aiohttp import web
from multidict import MultiDict

from ._envelope import ApiError, RawError, ok
from ._input import Upload, path_int, read_input, row_or_404, url_extension
from ._phones import digits_of
from ._query import ListSpec, list_response, select
from ._sending import (
    PHONE_MESSAGES,
    PHONE_PATTERN,
    PHONE_REQUIRED,
    TEMPLATE_NAME_REQUIRED,
    deliver,
    existing_contact_id,
    merge_fields,
    preflight,
    resolve_contact,
)
from ._state import State
from ._table import Row
from ._templates import render
from ._validation import Validator, is_int, need

__all__ = [
    "MEDIA_RULES",
    "MediaRule",
    "MESSAGES",
    "get_message",
    "list_messages",
    "send_interactive",
    "send_media",
    "send_template",
    "send_text",
]

MESSAGES = ListSpec(
    sorts={"created_at": "date", "updated_at": "date"},
    filters={"type": "str", "status": "str", "interaction_id": "int", "direction": "str"},
    search=("message",),
    default_sort=(("created_at", True),),
    fields_core=frozenset({"id"}),
    time_ordered=True,  # message ids are handed out in time order
)


class MediaRule(NamedTuple):
    """What one media type accepts: file extensions and a size limit in MB."""

    extensions: tuple[str, ...]
    size_mb: int

    @property
    def allowed(self) -> str:
        """The extensions as the server's messages list them."""
        return ", ".join(self.extensions)

    def fits(self, upload: Upload) -> bool:
        return upload.size <= self.size_mb * 1024 * 1024


MEDIA_RULES: dict[str, MediaRule] = {
    "image": MediaRule(("jpg", "jpeg", "png", "webp"), 5),
    "document": MediaRule(("pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "txt", "csv"), 100),
    "video": MediaRule(("mp4", "3gp"), 16),
    "audio": MediaRule(("mp3", "ogg", "amr", "aac", "opus"), 16),
}

_TEXT_MESSAGES = {
    **PHONE_MESSAGES,
    "phone.max": "Phone number cannot exceed 20 characters.",
    "message.required": "Message text is required.",
    "message.max": "Message cannot exceed 4096 characters.",
    "contact_id.integer": "Contact ID must be a valid integer.",
}
_TEMPLATE_MESSAGES = {
    **PHONE_REQUIRED,
    **TEMPLATE_NAME_REQUIRED,
    "language.required": "Template language is required.",
}
_INTERACTIVE_MESSAGES = {
    **PHONE_REQUIRED,
    "type.required": "Interactive message type is required.",
    "type.in": "Type must be either button or list.",
    "body_text.required": "Body text is required.",
    "buttons.required_if": "Buttons are required for button type messages.",
    "list_button_text.required_if": "List button text is required for list type messages.",
    "sections.required_if": "Sections are required for list type messages.",
}
_HEADER_FILE_KB = {"image": 5120, "video": 16384, "document": 102400}


async def send_text(state: State, request: web.Request) -> web.Response:
    body = await read_input(request)
    v = Validator(body, _TEXT_MESSAGES)
    phone = v.string("phone", required=True, min=10, max=20, regex=PHONE_PATTERN)
    message = v.string("message", required=True, max=4096)
    contact_id = v.integer("contact_id")
    v.check(wrap=True)  # this endpoint's form request nests the map under "errors"
    message = need(message)
    digits = digits_of(need(phone))
    contact = resolve_contact(state, digits, contact_id)
    preflight(state, contact, digits)
    final = merge_fields(message, contact)
    sent = deliver(
        state,
        request,
        kind="text",
        digits=digits,
        contact=contact,
        message_type="text",
        text=final,
        content={"message": final},
        payload={"message": final},
    )
    data = {**sent.common(), "message": final, **sent.tail()}
    return ok(state.clock, data, "Message sent successfully")


async def send_template(state: State, request: web.Request) -> web.Response:
    body = await read_input(request)
    v = Validator(body, _TEMPLATE_MESSAGES)
    phone = v.string("phone", required=True)
    name = v.string("template_name", required=True)
    language = v.string("language", required=True, max=10)
    contact_id = existing_contact_id(v, state)
    for kind in ("image", "video", "document"):
        v.url(f"header_{kind}_url")
        v.file(f"header_{kind}_file", max_kb=_HEADER_FILE_KB[kind])
    v.string("header_document_name", max=255)
    for field in ("header_field_1", *(f"field_{i}" for i in range(1, 11))):
        v.string(field)
    for field in ("button_0", "button_1", "button_2"):
        v.string(field)
    auto_otp = v.boolean("auto_generate_otp")
    otp_field = v.integer("otp_field_number", min=6, max=6)
    v.check()
    name, language = need(name), need(language)
    digits = digits_of(need(phone))

    template = state.find_template(name, language)
    if template is None:
        raise ApiError(404, "NOT_FOUND", "Template not found.")

    if auto_otp:
        field = f"field_{otp_field or 1}"
        if not body.get(field):
            body[field] = f"{secrets.randbelow(900_000) + 100_000}"
            state.codes_sent[digits] = body[field]

    header_format = template["header_data_format"] or "NONE"
    media_kind = header_format.lower()
    missing: list[str] = []
    if header_format == "TEXT":
        if template["header_params_count"] > 0 and not body.get("header_field_1"):
            missing.append("header_field_1 is required for TEXT header template with parameters")
    elif media_kind in _HEADER_FILE_KB and not _has_header_media(body, media_kind):
        missing.append(
            f"header_{media_kind}_url or header_{media_kind}_file is required for "
            f"{header_format} header template"
        )
    for index in range(1, template["body_params_count"] + 1):
        if not body.get(f"field_{index}"):
            missing.append(f"field_{index} is required (body parameter {index})")
    if missing:
        raise ApiError(422, "VALIDATION_ERROR", "Validation failed", {"template_fields": missing})

    header_url: str | None = None
    header_ref: str | None = None  # what identifies the media for duplicate detection
    if media_kind in _HEADER_FILE_KB:
        header_url, header_ref = _template_header_media(request, body, media_kind)

    contact = resolve_contact(state, digits, contact_id)
    preflight(state, contact, digits, template=True)

    def merged(key: str) -> str | None:
        value = body.get(key)
        return merge_fields(value, contact) if isinstance(value, str) else None

    fields = [merged(f"field_{i}") or "" for i in range(1, template["body_params_count"] + 1)]
    header_param = merged("header_field_1")
    buttons = [value for i in range(3) if (value := merged(f"button_{i}")) is not None]
    header = render(template["header_data_text"], [header_param or ""])
    rendered = _template_html(
        header, render(template["body_data"], fields), template["footer_data"]
    )
    content = {
        "template": name,
        "language": language,
        "header": header_ref if header_ref is not None else header_param,
        "fields": fields,
        "buttons": buttons,
    }
    sent = deliver(
        state,
        request,
        kind="template",
        digits=digits,
        contact=contact,
        message_type="template",
        text=rendered,
        content=content,
        payload={**content, "header_url": header_url},
        url=header_url,
    )
    data = {
        **sent.common(),
        "template_name": name,
        "language": language,
        **sent.tail(),
    }
    return ok(state.clock, data, "Template message sent successfully")


def _has_header_media(body: dict[str, Any], kind: str) -> bool:
    return bool(body.get(f"header_{kind}_url")) or isinstance(
        body.get(f"header_{kind}_file"), Upload
    )


def _template_header_media(
    request: web.Request, body: dict[str, Any], kind: str
) -> tuple[str | None, str | None]:
    """Check a template's header file/URL like the server; return (stored URL, reference)."""
    rule = MEDIA_RULES[kind]
    upload = body.get(f"header_{kind}_file")
    if isinstance(upload, Upload):
        if upload.extension not in rule.extensions:
            raise _header_media_error(
                f"Invalid file extension for {kind}", f"Allowed: {rule.allowed}"
            )
        if not rule.fits(upload):
            raise _header_media_error(
                f"File size exceeds {rule.size_mb} MB limit", f"Max size: {rule.size_mb} MB"
            )
        stored = _stored_url(request, "whatsapp-templates", upload.filename, upload.extension)
        return stored, upload.reference
    url = body.get(f"header_{kind}_url")
    if isinstance(url, str):
        extension = url_extension(url)
        if extension and extension not in rule.extensions:
            raise _header_media_error("Invalid file extension in URL", f"Allowed: {rule.allowed}")
        return url, url
    return None, None


def _header_media_error(message: str, detail: str) -> ApiError:
    return ApiError(422, "VALIDATION_ERROR", message, {"header_media": [detail]})


def _media_error(message: str) -> RawError:
    """Send Media's own 422 body, outside the envelope."""
    return RawError(422, {"status": "error", "message": message})


def _template_html(header: str, body: str, footer: str | None) -> str:
    parts = []
    if header:
        parts.append(f"<span class='font-bold mb-3'>{html.escape(header)}</span>")
    parts.append(f"<p>{html.escape(body)}</p>")
    if footer:
        parts.append(f"<span class='text-gray-500 text-sm'>{html.escape(footer)}</span>")
    return "\n".join(parts)


async def send_media(state: State, request: web.Request) -> web.Response:
    body = await read_input(request)
    v = Validator(body)
    phone = v.string("phone", required=True, min=10, max=15)
    media_type = v.one_of("media_type", tuple(MEDIA_RULES), required=True)
    has_file = body.get("media_file") is not None
    has_url = body.get("media_url") is not None
    if not has_url and not has_file:
        v.fail(
            "media_url",
            "required_without",
            "The media url field is required when media file is not present.",
        )
        v.fail(
            "media_file",
            "required_without",
            "The media file field is required when media url is not present.",
        )
    media_url = v.url("media_url")
    upload = v.file("media_file")
    caption = v.string("caption", max=1024)
    filename = v.string("filename", max=255)
    v.string("contact.firstname", max=255)
    v.string("contact.lastname", max=255)
    v.email("contact.email", max=191)
    v.string("contact.country", max=100)
    v.integer("contact.assigned_id")
    v.string("contact.groups")
    v.check()
    media_type = need(media_type)
    digits = digits_of(need(phone))

    rule = MEDIA_RULES[media_type]
    bad_extension = f"Invalid file extension for {media_type}. Allowed: {rule.allowed}"
    if upload is not None:
        if upload.extension not in rule.extensions:
            raise _media_error(bad_extension)
        if not rule.fits(upload):
            raise _media_error(
                f"File size exceeds limit for {media_type}. Max allowed is {rule.size_mb} MB"
            )
        stored = _stored_url(request, "whatsapp-attachments", upload.filename, upload.extension)
        reference = upload.reference
    else:
        media_url = need(media_url)
        if url_extension(media_url) not in rule.extensions:
            raise _media_error(bad_extension)
        stored = reference = media_url

    # contact_id is read but not validated by this endpoint on the server.
    raw_contact_id = body.get("contact_id")
    contact_id = int(str(raw_contact_id)) if is_int(raw_contact_id) else None
    contact = resolve_contact(state, digits, contact_id, auto=_auto_contact(body.get("contact")))
    preflight(state, contact, digits)
    content = {
        "media_type": media_type,
        "media": reference,
        "caption": caption,
        "filename": filename,
    }
    sent = deliver(
        state,
        request,
        kind="media",
        digits=digits,
        contact=contact,
        message_type=media_type,
        text=caption,
        content=content,
        payload={**content, "media_url": stored},
        url=stored,
    )
    data = {
        **sent.common(),
        "media_type": media_type,
        "media_url": stored,
        "caption": caption,
        "filename": filename,
        **sent.tail(),
    }
    return ok(state.clock, data, "Media message sent successfully")


def _auto_contact(raw: Any) -> dict[str, Any] | None:
    """Send Media's ``contact.*`` fields, used only when the contact is auto-created."""
    if not isinstance(raw, dict):
        return None
    fields: dict[str, Any] = {
        "firstname": raw.get("firstname"),
        "lastname": raw.get("lastname"),
        "email": raw.get("email"),
    }
    assigned = raw.get("assigned_id")
    if is_int(assigned):
        fields["assigned_id"] = int(str(assigned))
    groups = raw.get("groups")
    if isinstance(groups, str):
        fields["group_id"] = [int(part) for part in groups.split(",") if part.strip().isdigit()]
    return fields


async def send_interactive(state: State, request: web.Request) -> web.Response:
    body = await read_input(request)
    v = Validator(body, _INTERACTIVE_MESSAGES)
    phone = v.string("phone", required=True)
    kind = v.one_of("type", ("button", "list"), required=True)
    body_text = v.string("body_text", required=True, max=1024)
    header_text = v.string("header_text", max=60)
    footer_text = v.string("footer_text", max=60)
    buttons: list[Any] | None = None
    if v.required_if("buttons", kind == "button", "type", "button"):
        buttons = v.array("buttons", max=3)
        for index in range(len(buttons or ())):
            v.string(f"buttons.{index}.id", required=True)
            v.string(f"buttons.{index}.title", required=True, max=20)
    list_button: str | None = None
    if v.required_if("list_button_text", kind == "list", "type", "list"):
        list_button = v.string("list_button_text", max=20)
    sections: list[Any] | None = None
    if v.required_if("sections", kind == "list", "type", "list"):
        sections = v.array("sections", max=10)
        for index in range(len(sections or ())):
            prefix = f"sections.{index}"
            v.string(f"{prefix}.title", required=True)
            rows = v.array(f"{prefix}.rows", required=True)
            for row_index in range(len(rows or ())):
                row_prefix = f"{prefix}.rows.{row_index}"
                v.string(f"{row_prefix}.id", required=True)
                v.string(f"{row_prefix}.title", required=True, max=24)
                v.string(f"{row_prefix}.description", max=72)
    contact_id = existing_contact_id(v, state)
    v.check()
    kind, body_text = need(kind), need(body_text)
    digits = digits_of(need(phone))
    contact = resolve_contact(state, digits, contact_id)
    preflight(state, contact, digits)
    content: dict[str, Any] = {
        "type": kind,
        "body": body_text,
        "header": header_text,
        "footer": footer_text,
    }
    if kind == "button":
        content["buttons"] = buttons
    else:
        content["list_button_text"] = list_button
        content["sections"] = sections
    sent = deliver(
        state,
        request,
        kind="interactive",
        digits=digits,
        contact=contact,
        message_type="interactive",
        text=body_text,
        content=content,
        payload=content,
    )
    data = {**sent.common(), "type": kind, **sent.tail()}
    return ok(state.clock, data, "Interactive message sent successfully")


# What the server code's list and show answers carry (its messages table's columns).
LIST_KEYS = (
    "id",
    "interaction_id",
    "sender_id",
    "type",
    "message",
    "status",
    "message_id",
    "sent_at",
    "is_read",
)
DETAIL_KEYS = (*LIST_KEYS, "status_message", "ref_message_id", "url", "staff_id")


def _list_item(row: Row) -> dict[str, Any]:
    return {key: row[key] for key in LIST_KEYS}


def refuse_unservable(query: Any, noun: str) -> None:
    """The server code's 500 for ``fields=`` (and ``filter[direction]`` on messages)."""
    if query.get("fields"):
        column = "contacts.firstname"  # the contact columns it always adds to the select
    elif noun == "messages" and any(key.startswith("filter[direction]") for key in query):
        column = "direction"
    else:
        return
    raise ApiError(
        500,
        "INTERNAL_ERROR",
        f"Failed to fetch {noun}",
        {"error": f"SQLSTATE[42S22]: Column not found: 1054 Unknown column '{column}'"},
    )


async def list_messages(state: State, request: web.Request) -> web.Response:
    if state.documented_queries:
        selection = select(state.messages, request.query, MESSAGES)
        return list_response(state.clock, request, state.messages, selection, MESSAGES)
    refuse_unservable(request.query, "messages")
    # Its query builder always orders newest first: a sort parameter changes nothing.
    query = MultiDict((key, value) for key, value in request.query.items() if key != "sort")
    selection = select(state.messages, query, MESSAGES)
    return list_response(
        state.clock, request, state.messages, selection, MESSAGES, present=_list_item
    )


async def get_message(state: State, request: web.Request) -> web.Response:
    row = row_or_404(state.messages, path_int(request), "Message not found.")
    data = row if state.documented_queries else {key: row[key] for key in DETAIL_KEYS}
    return ok(state.clock, data, "Message retrieved successfully")


_SLUG = re.compile(r"[^a-z0-9]+")


def _stored_url(request: web.Request, folder: str, filename: str, extension: str) -> str:
    """Where the server would store an upload: ``{origin}/storage/{folder}/{time}_{slug}.ext``."""
    stem = posixpath.splitext(filename.rsplit("/", 1)[-1])[0]
    slug = _SLUG.sub("_", stem.lower()).strip("_") or "file"
    unique = secrets.token_hex(4)
    return f"{request.scheme}://{request.host}/storage/{folder}/{unique}_{slug}.{extension}"
