"""What a service needs from the client: one method that makes an API call.

Services (``resources``) depend on this protocol, not on ``Client``, so the client can import
every service without any service importing the client back. ``Client`` and each of its
``with_options`` views satisfy it.

Example::

    class AccountService:
        def __init__(self, client: Requester) -> None:
            self._client = client

        async def get(self) -> Account:
            payload = await self._client._request("GET", "/account", safety="read")
            return structure(data_of(payload), Account)
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from typing import Any, Protocol

from ._http import FormField
from ._retry import Safety

__all__ = ["Requester"]


class Requester(Protocol):
    """Makes one API call through pacing and retries; awaiting it gives the decoded JSON body."""

    def _request(
        self,
        method: str,
        path: str,
        *,
        safety: Safety,
        params: Sequence[tuple[str, str]] | None = None,
        json: Any = None,
        form: Sequence[FormField] | None = None,
    ) -> Awaitable[Any]: ...
