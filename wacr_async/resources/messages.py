"""``client.messages``: send text, template, media and interactive messages; read the history.

Kept whole because it is one service: each method is the checks and body of one endpoint,
and splitting them would scatter one resource's public surface over several modules.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .._transport import FilePart, FormField
from .._validate import (
    check_choice,
    check_count,
    check_max_length,
    check_positive_int,
    check_required,
    normalize_phone,
)
from .._watch import OwnNumber, watch_messages
from ..errors import UnprocessableEntityError, ValidationError
from ..models.messages import (
    Button,
    ContactDefaults,
    Message,
    MessageDetail,
    Section,
    SentInteractive,
    SentMedia,
    SentTemplate,
    SentText,
)
from ._base import Resource
from ._uploads import MB, MEDIA_RULES, FileInput, file_part, is_file_input
from .account import AccountService

if TYPE_CHECKING:
    from .._watch import MessageWatch
    from ..pagination import AsyncPager

__all__ = ["MessagesService"]

# A body value before encoding: JSON keeps the types, multipart sends text.
_Value = str | int | bool | FilePart

_TEMPLATE_HEADER_LIMITS = {"image": 5 * MB, "video": 16 * MB, "document": 100 * MB}
# The server reads a header file's type from its name, so bytes need one.
_HEADER_NAME_HINT = {
    "image": "pass a Path or a file object with a name (e.g. banner.png), not bare bytes",
    "video": "pass a Path or a file object with a name (e.g. clip.mp4), not bare bytes",
    "document": "bare bytes need header_document_name= with an extension (e.g. invoice.pdf)",
}


def _form(fields: Sequence[tuple[str, _Value]]) -> list[FormField]:
    encoded: list[FormField] = []
    for name, value in fields:
        if isinstance(value, bool):
            encoded.append((name, "1" if value else "0"))
        elif isinstance(value, int):
            encoded.append((name, str(value)))
        else:
            encoded.append((name, value))
    return encoded


def _check_contact_id(contact_id: int | None) -> None:
    if contact_id is not None:
        check_positive_int("contact_id", contact_id)


class MessagesService(Resource):
    """Sending (scope ``messages:send``) and reading (``messages:read``) messages.

    Sends are never retried once they may have reached the server: a send whose answer was
    lost raises :class:`~wacr_async.OutcomeUnknownError`.
    """

    __slots__ = ()

    async def send_text(
        self, phone: str, message: str, *, contact_id: int | None = None
    ) -> SentText:
        """Send a plain text message (``POST /messages/text``).

        ``message`` (≤ 4096 characters) may use merge fields such as
        ``@{contact_first_name}``. Free-form text reaches the recipient only within 24 hours
        of their last message; use a template otherwise. An unknown phone gets a lead
        contact created unless ``contact_id`` names one.

        Example::

            sent = await client.messages.send_text("+15550001111", "Hi @{contact_first_name}")
            print(sent.message_id)
        """
        phone = normalize_phone(phone)
        check_required("message", message)
        check_max_length("message", message, 4096)
        _check_contact_id(contact_id)
        body: dict[str, Any] = {"phone": phone, "message": message}
        if contact_id is not None:
            body["contact_id"] = contact_id
        return await self._call("POST", "/messages/text", SentText, safety="unsafe", json=body)

    async def send_template(
        self,
        phone: str,
        template_name: str,
        language: str,
        *,
        fields: Sequence[str] = (),
        header_text: str | None = None,
        header_image: str | FileInput | None = None,
        header_video: str | FileInput | None = None,
        header_document: str | FileInput | None = None,
        header_document_name: str | None = None,
        buttons: Sequence[str] = (),
        contact_id: int | None = None,
        auto_generate_otp: bool | None = None,
        otp_field_number: int | None = None,
    ) -> SentTemplate:
        """Send an approved template (``POST /messages/template``).

        ``fields`` fill the body's ``{{1}}``…``{{10}}`` (sent as ``field_1``…``field_10``,
        merge fields allowed), ``header_text`` a TEXT header's ``{{1}}``, and ``buttons`` the
        dynamic URL button parameters (``button_0``…``button_2``). A media header takes a
        URL (``str``) or a file (``Path``, ``bytes`` or a binary file, at most 5 MB for an
        image, 16 MB for a video, 100 MB for a document); a file makes the request
        multipart; the server tells the file's type by its name, so bare ``bytes`` work only
        for a document named by ``header_document_name``. ``auto_generate_otp`` and
        ``otp_field_number`` are passed through as the API defines them.

        Example::

            await client.messages.send_template(
                "+15550001111", "order_update", "en", fields=["A-17", "Friday"],
                header_image=Path("banner.png"),
            )
        """
        phone = normalize_phone(phone)
        check_required("template_name", template_name)
        check_required("language", language)
        check_max_length("language", language, 10)
        check_count("fields", fields, maximum=10)
        check_count("buttons", buttons, maximum=3)
        check_max_length("header_document_name", header_document_name, 255)
        _check_contact_id(contact_id)

        body: list[tuple[str, _Value]] = [
            ("phone", phone),
            ("template_name", template_name),
            ("language", language),
        ]
        if contact_id is not None:
            body.append(("contact_id", contact_id))
        if header_text is not None:
            body.append(("header_field_1", header_text))
        headers = {"image": header_image, "video": header_video, "document": header_document}
        for kind, header in headers.items():
            if header is None:
                continue
            if isinstance(header, str):
                body.append((f"header_{kind}_url", header))
                continue
            if not is_file_input(header):
                raise TypeError(f"header_{kind}: pass a URL, a Path, bytes or a binary file")
            field = f"header_{kind}_file"
            part = await file_part(
                field,
                header,
                max_bytes=_TEMPLATE_HEADER_LIMITS[kind],
                filename=header_document_name if kind == "document" else None,
                name_hint=_HEADER_NAME_HINT[kind],
            )
            body.append((field, part))
        if header_document_name is not None:
            body.append(("header_document_name", header_document_name))
        body.extend((f"field_{n}", value) for n, value in enumerate(fields, start=1))
        body.extend((f"button_{n}", value) for n, value in enumerate(buttons))
        if auto_generate_otp is not None:
            body.append(("auto_generate_otp", auto_generate_otp))
        if otp_field_number is not None:
            body.append(("otp_field_number", otp_field_number))

        if any(isinstance(value, FilePart) for _, value in body):
            return await self._call(
                "POST", "/messages/template", SentTemplate, safety="unsafe", form=_form(body)
            )
        return await self._call(
            "POST", "/messages/template", SentTemplate, safety="unsafe", json=dict(body)
        )

    async def send_media(
        self,
        phone: str,
        media_type: str,
        *,
        url: str | None = None,
        file: FileInput | None = None,
        caption: str | None = None,
        filename: str | None = None,
        contact_id: int | None = None,
        contact: ContactDefaults | None = None,
    ) -> SentMedia:
        """Send an image, document, video or audio file (``POST /messages/media``).

        Give exactly one of ``url`` (the server downloads it) and ``file`` (a ``Path``,
        streamed from disk, ``bytes`` or a binary file). Before uploading, the file's
        extension and size are checked against the type's limits: image jpg/jpeg/png/webp
        5 MB; document pdf/doc/docx/xls/xlsx/ppt/pptx/txt/csv 100 MB; video mp4/3gp 16 MB;
        audio mp3/ogg/amr/aac/opus 16 MB. The extension is read from the path or the file
        object's name; ``bytes`` and unnamed files need ``filename=``, which is also the
        display name of a document. ``caption`` (≤ 1024) is not shown for audio.
        ``contact`` fills the contact created for an unknown phone. The server's own
        extension and size refusals raise :class:`~wacr_async.ValidationError` too.

        Example::

            sent = await client.messages.send_media(
                "+15550001111", "document", file=Path("invoice.pdf"), caption="Your invoice"
            )
        """
        # Send Media takes at most 15 characters: a 15-digit number goes without its +
        # (the server reads the digits either way).
        phone = normalize_phone(phone)
        if len(phone) > 15:
            phone = phone[1:]
        check_required("media_type", media_type)
        check_choice("media_type", media_type, MEDIA_RULES)
        media_type = media_type.strip()  # the server trims it; so must the rule lookup
        if (url is None) == (file is None):
            raise ValidationError.for_field("media_url", "give exactly one of url= and file=")
        check_max_length("caption", caption, 1024)
        check_max_length("filename", filename, 255)
        _check_contact_id(contact_id)

        body: list[tuple[str, _Value]] = [("phone", phone), ("media_type", media_type)]
        if url is not None:
            check_required("media_url", url)
            body.append(("media_url", url))
        elif file is not None:
            rule = MEDIA_RULES[media_type]
            part = await file_part(
                "media_file",
                file,
                max_bytes=rule.max_bytes,
                extensions=rule.extensions,
                filename=filename,
            )
            body.append(("media_file", part))
        if caption is not None:
            body.append(("caption", caption))
        if filename is not None:
            body.append(("filename", filename))
        if contact_id is not None:
            body.append(("contact_id", contact_id))
        if contact is not None:
            body.extend(_contact_fields(contact))
        try:
            return await self._call(
                "POST", "/messages/media", SentMedia, safety="unsafe", form=_form(body)
            )
        except UnprocessableEntityError as exc:
            if exc.code is not None:
                raise
            # The server's extension and size checks answer {"status": "error", "message"}
            # outside the envelope; it is a validation failure of the media all the same.
            field = "media_url" if url is not None else "media_file"
            raise ValidationError(
                exc.message,
                status=exc.status,
                details={field: [exc.message]},
                request_id=exc.request_id,
                body_snippet=exc.body_snippet,
            ) from exc

    async def send_interactive(
        self,
        phone: str,
        body_text: str,
        *,
        buttons: Sequence[Button] | None = None,
        sections: Sequence[Section] | None = None,
        list_button_text: str | None = None,
        header_text: str | None = None,
        footer_text: str | None = None,
        contact_id: int | None = None,
    ) -> SentInteractive:
        """Send reply buttons or a list menu (``POST /messages/interactive``).

        Give ``buttons`` (1 to 3 :class:`~wacr_async.Button`, titles ≤ 20 characters) for a
        button message, or ``sections`` (1 to 10 :class:`~wacr_async.Section` of
        :class:`~wacr_async.Row`) plus ``list_button_text`` (≤ 20) for a list message; the
        message ``type`` follows from which one is given. ``body_text`` ≤ 1024,
        ``header_text`` and ``footer_text`` ≤ 60 characters.

        Example::

            await client.messages.send_interactive(
                "+15550001111", "Pick one",
                buttons=[wacr.Button("yes", "Yes"), wacr.Button("no", "No")],
            )
        """
        phone = normalize_phone(phone)
        check_required("body_text", body_text)
        check_max_length("body_text", body_text, 1024)
        check_max_length("header_text", header_text, 60)
        check_max_length("footer_text", footer_text, 60)
        _check_contact_id(contact_id)
        if (buttons is None) == (sections is None):
            raise ValidationError.for_field(
                "type", "give either buttons= (type button) or sections= (type list)"
            )

        body: dict[str, Any] = {"phone": phone, "body_text": body_text}
        if buttons is not None:
            body["type"] = "button"
            body["buttons"] = _buttons_json(buttons)
        elif sections is not None:
            body["type"] = "list"
            check_required("list_button_text", list_button_text)
            body["sections"] = _sections_json(sections)
        if list_button_text is not None:
            check_max_length("list_button_text", list_button_text, 20)
            body["list_button_text"] = list_button_text
        if header_text is not None:
            body["header_text"] = header_text
        if footer_text is not None:
            body["footer_text"] = footer_text
        if contact_id is not None:
            body["contact_id"] = contact_id
        return await self._call(
            "POST", "/messages/interactive", SentInteractive, safety="unsafe", json=body
        )

    async def get(self, id: int) -> MessageDetail:
        """One message by its internal id (``GET /messages/{id}``), with its details.

        Example::

            detail = await client.messages.get(42)
            print(detail.status, detail.status_message)
        """
        check_positive_int("id", id)
        return await self._call("GET", f"/messages/{id}", MessageDetail, safety="read")

    def list(
        self,
        *,
        per_page: int = 100,
        sort: str | Sequence[str] | None = None,
        search: str | None = None,
        filter: Mapping[str, Any] | None = None,
        fields: Sequence[str] | None = None,
        prefetch: bool = True,
        concurrency: int = 1,
    ) -> AsyncPager[Message]:
        """The message history, newest first (``GET /messages``); returns a pager at once.

        ``sort`` takes ``created_at``/``updated_at`` (``-`` for descending; the server code
        ignores it and always answers newest first); ``search`` matches the text; filters:
        ``type``, ``status``, ``interaction_id``, ``direction`` (exact, or
        ``wacr.ne``/``wacr.in_``/``wacr.not_in``). The server code has no ``direction``
        column and answers ``filter[direction]`` with a 500 (REFERENCE §12): to follow inbound
        messages anywhere, use ``watch(inbound_only=True)``. ``fields`` is accepted and not
        sent, for the same reason (``fields=`` answers 500 there); every field is read anyway.

        Example::

            async for message in client.messages.list(filter={"direction": "inbound"}):
                print(message.id, message.message)
        """
        return self._list(
            "/messages",
            Message,
            per_page=per_page,
            sort=sort,
            search=search,
            filter=filter,
            prefetch=prefetch,
            concurrency=concurrency,
        )

    def watch(
        self,
        *,
        inbound_only: bool = False,
        filter: Mapping[str, Any] | None = None,
        interval: float = 5.0,
        max_interval: float = 60.0,
        after_id: int | None = None,
        own_number: str | None = None,
    ) -> MessageWatch[Message]:
        """New messages as they arrive, oldest first: an endless async iterator that polls.

        Where it starts: without ``after_id``, at the newest message when ``watch()`` is
        called — inside a running loop it asks for it at once, in the background, so nothing
        arriving before the first ``async for`` step is lost. With ``after_id`` (the
        ``last_seen_id`` you stored), every message with a greater id is yielded. Polls wait
        ``interval`` seconds, doubling up to ``max_interval`` while idle, and honour 429 waits.

        ``inbound_only=True`` yields only the messages customers sent. It asks the server for
        ``filter[direction]=inbound`` only while the server honours it; the server code has no
        direction column and answers that with a 500 (REFERENCE §12), and then the watch keeps
        the messages whose ``sender_id`` is not the account's own WhatsApp number, read once
        with ``account.get()`` (or given as ``own_number``). ``watch.direction_source`` says
        which way it is working: ``"server"`` or ``"sender_id"``.
        ``filter={"direction": "inbound"}`` (or ``"outbound"``) is handled the same way.

        Example::

            watch = client.messages.watch(inbound_only=True, interval=2)
            async for message in watch:
                await reply_to(message)
        """
        own: str | OwnNumber | None = own_number
        if own is None:
            account = AccountService(self._client)

            async def own_number_of_account() -> str | None:
                return (await account.get()).whatsapp_number

            own = own_number_of_account
        return watch_messages(
            self,
            filter=filter,
            interval=interval,
            max_interval=max_interval,
            after_id=after_id,
            direction="inbound" if inbound_only else None,
            own_number=own,
        )


def _contact_fields(contact: ContactDefaults) -> list[tuple[str, _Value]]:
    values: dict[str, str | int | None] = {
        "firstname": contact.firstname,
        "lastname": contact.lastname,
        "email": contact.email,
        "country": contact.country,
        "assigned_id": contact.assigned_id,
        "groups": None if contact.groups is None else ",".join(str(g) for g in contact.groups),
    }
    return [(f"contact[{key}]", value) for key, value in values.items() if value is not None]


def _buttons_json(buttons: Sequence[Button]) -> list[dict[str, str]]:
    check_count("buttons", buttons, minimum=1, maximum=3)
    encoded = []
    for n, button in enumerate(buttons):
        check_required(f"buttons.{n}.id", button.id)
        check_required(f"buttons.{n}.title", button.title)
        check_max_length(f"buttons.{n}.title", button.title, 20)
        encoded.append({"id": button.id, "title": button.title})
    return encoded


def _sections_json(sections: Sequence[Section]) -> list[dict[str, Any]]:
    check_count("sections", sections, minimum=1, maximum=10)
    encoded = []
    for n, section in enumerate(sections):
        check_required(f"sections.{n}.title", section.title)
        check_count(f"sections.{n}.rows", section.rows, minimum=1)
        rows = []
        for m, row in enumerate(section.rows):
            where = f"sections.{n}.rows.{m}"
            check_required(f"{where}.id", row.id)
            check_required(f"{where}.title", row.title)
            check_max_length(f"{where}.title", row.title, 24)
            check_max_length(f"{where}.description", row.description, 72)
            item = {"id": row.id, "title": row.title}
            if row.description is not None:
                item["description"] = row.description
            rows.append(item)
        encoded.append({"title": section.title, "rows": rows})
    return encoded
