"""Files given to a send: their upload name, size and extension checks, and the FilePart.

A path is never read here, only ``stat``-ed (off the event loop); the transport streams it.
Sizes are checked against binary megabytes (5 MB = 5 * 1024 * 1024 bytes), the larger
reading of the documented limits, so that nothing the server would accept is refused.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Collection
from pathlib import Path, PurePath
from typing import IO, TypeAlias

import attrs

from .._transport import FilePart
from ..errors import ValidationError

__all__ = ["MB", "MEDIA_RULES", "FileInput", "MediaRule", "file_part", "is_file_input"]

FileInput: TypeAlias = Path | bytes | IO[bytes]
"""A file to upload: a path (streamed from disk), bytes, or a binary file object."""

MB = 1024 * 1024


@attrs.frozen
class MediaRule:
    """The extensions a media type allows (None: any) and its largest size in bytes."""

    extensions: frozenset[str] | None
    max_bytes: int


# Send Media's per-type rules, as documented.
MEDIA_RULES: dict[str, MediaRule] = {
    "image": MediaRule(frozenset({"jpg", "jpeg", "png", "webp"}), 5 * MB),
    "document": MediaRule(
        frozenset({"pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "txt", "csv"}), 100 * MB
    ),
    "video": MediaRule(frozenset({"mp4", "3gp"}), 16 * MB),
    "audio": MediaRule(frozenset({"mp3", "ogg", "amr", "aac", "opus"}), 16 * MB),
}

# A static table rather than ``mimetypes``, whose first use reads system files.
_CONTENT_TYPES = {
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "pdf": "application/pdf",
    "doc": "application/msword",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xls": "application/vnd.ms-excel",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ppt": "application/vnd.ms-powerpoint",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "txt": "text/plain",
    "csv": "text/csv",
    "mp4": "video/mp4",
    "3gp": "video/3gpp",
    "mp3": "audio/mpeg",
    "ogg": "audio/ogg",
    "amr": "audio/amr",
    "aac": "audio/aac",
    "opus": "audio/opus",
}


def is_file_input(value: object) -> bool:
    """Whether ``value`` is something :func:`file_part` can upload (not a URL string)."""
    return isinstance(value, Path | bytes | bytearray | memoryview) or hasattr(value, "read")


def _upload_name(field: str, file: FileInput, filename: str | None, name_hint: str) -> str:
    if isinstance(file, Path):
        return file.name
    name = getattr(file, "name", None)
    if isinstance(name, str) and name:
        return PurePath(name).name
    if filename:
        return filename
    raise ValidationError.for_field(field, f"{field}: {name_hint}")


def _stream_size(stream: IO[bytes]) -> int | None:
    # The transport rewinds seekable streams before sending, so the whole stream counts.
    try:
        if not stream.seekable():
            return None
        return os.fstat(stream.fileno()).st_size
    except (OSError, ValueError, AttributeError):
        pass
    position = stream.tell()
    try:
        return stream.seek(0, os.SEEK_END)
    finally:
        stream.seek(position)


async def _size_of(file: FileInput) -> int | None:
    if isinstance(file, Path):
        stat = await asyncio.to_thread(file.stat)
        return stat.st_size
    if isinstance(file, bytes | bytearray | memoryview):
        return len(file)
    return await asyncio.to_thread(_stream_size, file)


def _human(size: int) -> str:
    return f"{size / MB:.1f} MB" if size >= MB else f"{size} bytes"


async def file_part(
    field: str,
    file: FileInput,
    *,
    max_bytes: int,
    extensions: Collection[str] | None = None,
    filename: str | None = None,
    name_hint: str = "give filename= for bytes or a file object without a name",
) -> FilePart:
    """Check ``file`` against the limits and describe it as a multipart file field.

    The upload's name (whose extension the server checks) comes from the path, the file
    object's ``name``, then ``filename``; without any, a local ValidationError says
    ``name_hint``.

    Example::

        part = await file_part("media_file", Path("a.png"), max_bytes=5 * MB,
                               extensions={"png", "jpg"})
    """
    if isinstance(file, str):
        raise TypeError(f"{field}: pass a pathlib.Path, bytes or a binary file, not a str")
    name = _upload_name(field, file, filename, name_hint)
    extension = PurePath(name).suffix.lstrip(".").lower()
    if extensions is not None and extension not in extensions:
        allowed = ", ".join(sorted(extensions))
        raise ValidationError.for_field(
            field, f"{field} must be a file of type {allowed} (got {name!r})"
        )
    size = await _size_of(file)
    if size is not None and size > max_bytes:
        raise ValidationError.for_field(
            field,
            f"{field} may not be larger than {_human(max_bytes)} (got {_human(size)})",
        )
    content_type = _CONTENT_TYPES.get(extension, "application/octet-stream")
    content = bytes(file) if isinstance(file, bytearray | memoryview) else file
    return FilePart(content=content, filename=name, content_type=content_type)
