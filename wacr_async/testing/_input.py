"""Reading request input the way Laravel does: JSON, urlencoded or multipart, PHP-style
bracket names nested (``contact[firstname]``, ``ids[]``), empty strings turned into null.

Multipart file parts are streamed: only their size and a SHA-1 are kept (a 100 MB document
never sits in memory), which is all the server needs to validate and to account for them.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from aiohttp import BodyPartReader, web

from ._envelope import ApiError
from ._table import Row, Table

__all__ = ["ROUTE_KEY", "Upload", "path_int", "read_input", "row_or_404", "url_extension"]

_CHUNK = 256 * 1024

# The pipeline stores the route's key (``"POST /messages/text"``) on each request under this.
try:
    ROUTE_KEY: web.RequestKey[str] = web.RequestKey("route_key", str)
except AttributeError:  # aiohttp before RequestKey: plain string keys, which did not warn
    ROUTE_KEY = "route_key"  # type: ignore[assignment]
_BRACKETS = re.compile(r"\[([^\]]*)\]")


@dataclass(frozen=True, slots=True)
class Upload:
    """A file part of a multipart request, measured while streaming, never stored."""

    filename: str
    size: int
    sha1: str
    content_type: str | None

    @property
    def extension(self) -> str:
        name = self.filename.rsplit("/", 1)[-1]
        return name.rsplit(".", 1)[-1].lower() if "." in name else ""

    @property
    def reference(self) -> str:
        """The content's identity for duplicate detection: ``upload:{sha1}:{size}``."""
        return f"upload:{self.sha1}:{self.size}"


def url_extension(url: str) -> str:
    """The lower-cased extension of a URL's path (``""`` when it has none)."""
    return posixpath.splitext(urlsplit(url).path)[1].lstrip(".").lower()


async def read_input(request: web.Request) -> dict[str, Any]:
    """The request's input as a dict; malformed or absent bodies read as ``{}``.

    Laravel treats an unparsable JSON body as empty input, so validation then reports the
    missing fields; the sandbox does the same.
    """
    content_type = request.content_type
    if content_type.startswith("multipart/"):
        return _clean(_nest(await _read_multipart(request)))
    if content_type == "application/x-www-form-urlencoded":
        form = await request.post()
        return _clean(_nest((key, str(value)) for key, value in form.items()))
    if not request.can_read_body:
        return {}
    raw = await request.read()
    if "json" not in content_type and not raw.lstrip().startswith(b"{"):
        return {}
    try:
        data: Any = json.loads(raw)
    except ValueError:
        return {}
    return _clean(data) if isinstance(data, dict) else {}


async def _read_multipart(request: web.Request) -> list[tuple[str, Any]]:
    pairs: list[tuple[str, Any]] = []
    reader = await request.multipart()
    while True:
        part = await reader.next()
        if part is None:
            break
        if not isinstance(part, BodyPartReader) or part.name is None:
            continue
        if part.filename is not None:
            digest = hashlib.sha1()
            size = 0
            while chunk := await part.read_chunk(_CHUNK):
                size += len(chunk)
                digest.update(chunk)
            # aiohttp's client percent-quotes file names; browsers send them raw.
            filename = unquote(part.filename)
            content_type = part.headers.get("Content-Type")
            pairs.append((part.name, Upload(filename, size, digest.hexdigest(), content_type)))
        else:
            pairs.append((part.name, await part.text()))
    return pairs


def _nest(pairs: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    """PHP's parsing of ``a[b][]=x`` style names into nested dicts and lists."""
    root: dict[str, Any] = {}
    for name, value in pairs:
        head, _, rest = name.partition("[")
        keys = [head, *_BRACKETS.findall("[" + rest)] if rest else [head]
        node: Any = root
        for position, key in enumerate(keys):
            last = position == len(keys) - 1
            if isinstance(node, list):
                if key == "" or not key.isdigit():
                    if last:
                        node.append(value)
                        break
                    node.append({})
                    node = node[-1]
                    continue
                index = int(key)
                while len(node) <= index:
                    node.append(None)
                if last:
                    node[index] = value
                else:
                    if not isinstance(node[index], (dict, list)):
                        node[index] = {}
                    node = node[index]
                continue
            if last:
                if key == "":
                    continue
                node[key] = value
                break
            following = keys[position + 1]
            child = node.get(key)
            if not isinstance(child, (dict, list)):
                child = [] if following == "" or following.isdigit() else {}
                node[key] = child
            node = child
    return root


def _clean(data: dict[str, Any]) -> dict[str, Any]:
    cleaned: dict[str, Any] = _convert_empty(data)
    return cleaned


def _convert_empty(value: Any) -> Any:
    """Laravel's TrimStrings and ConvertEmptyStringsToNull, applied recursively."""
    if isinstance(value, str):
        value = value.strip()
        return None if value == "" else value
    if isinstance(value, dict):
        return {key: _convert_empty(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_convert_empty(item) for item in value]
    return value


def path_int(request: web.Request, name: str = "id") -> int | None:
    """An integer path parameter, or ``None`` when it is not one (the caller answers 404)."""
    text = request.match_info.get(name, "")
    return int(text) if text.isdigit() else None


def row_or_404(table: Table, row_id: int | None, message: str) -> Row:
    """The row ``row_id`` of ``table``; 404 ``NOT_FOUND`` with ``message`` when there is none.

    Example::

        row = row_or_404(state.contacts, path_int(request), "Contact not found.")
    """
    row = None if row_id is None else table.get(row_id)
    if row is None:
        raise ApiError(404, "NOT_FOUND", message)
    return row
