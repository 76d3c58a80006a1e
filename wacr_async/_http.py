"""The values that cross the transport seam: a request going out, an answer coming back.

A transport (``_transport.Transport`` over aiohttp, ``wacr.testing.MockTransport``, or any
object with ``async send(request) -> Response``) takes a :class:`Request` and gives back a
:class:`Response`; nothing above the seam sees aiohttp.

Example::

    request = Request(method="GET", path="/account")
    response = Response.from_json({"success": True, "data": {"id": 1}})
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import attrs

from ._config import Timeout
from ._effects import CallTrace
from .errors import RequestInfo

__all__ = ["JSON_CONTENT_TYPE", "FilePart", "FormField", "Request", "Response", "dumps"]

JSON_CONTENT_TYPE = "application/json"


@attrs.frozen(kw_only=True)
class FilePart:
    """A file field of a multipart body: a path (streamed from disk), bytes, or a binary file."""

    content: Path | bytes | IO[bytes]
    filename: str
    content_type: str = "application/octet-stream"


FormField = tuple[str, "str | FilePart"]


@attrs.frozen(kw_only=True, slots=True)
class Request:
    """One API call relative to the base URL; each attempt sends it again as it is.

    ``params`` keeps order and repeats. ``timeout`` holds the per-attempt parts (connect);
    ``deadline`` is when the whole call must be over, in the running loop's time (None: no
    limit), so an attempt gets what is left. ``trace`` learns when an attempt may have
    reached the server.
    """

    method: str
    path: str
    params: Sequence[tuple[str, str]] | None = None
    json: Any = None
    form: Sequence[FormField] | None = None
    timeout: Timeout = attrs.field(factory=Timeout, repr=False)
    deadline: float | None = attrs.field(default=None, repr=False)
    trace: CallTrace = attrs.field(factory=CallTrace, repr=False, eq=False)

    @property
    def info(self) -> RequestInfo:
        return RequestInfo(self.method, self.path)


@attrs.frozen(slots=True)
class Response:
    """One answer: status, headers, the whole body, and how long the attempt took."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    elapsed: float = 0.0

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    @classmethod
    def from_json(
        cls, payload: Any, *, status: int = 200, headers: Mapping[str, str] | None = None
    ) -> Response:
        """An answer carrying ``payload`` as JSON (for transports in tests).

        Example::

            Response.from_json({"success": True, "data": {"id": 1}}, status=201)
        """
        merged = {"Content-Type": JSON_CONTENT_TYPE, **(headers or {})}
        return cls(status, merged, dumps(payload).encode())


# Built once: json.dumps with options other than the defaults builds an encoder per call.
_encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def dumps(value: Any) -> str:
    """Compact JSON, as the client sends it. Example: ``dumps({"a": "é"})`` is ``'{"a":"é"}'``."""
    return _encode(value)
