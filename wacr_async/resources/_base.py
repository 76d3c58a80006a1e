"""The thin base every service builds on: path, query, body and model, nothing else."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from .._envelope import data_of
from .._retry import Safety
from .._transport import FormField
from ..models._converter import structure

if TYPE_CHECKING:
    from .._client import Client

__all__ = ["Resource"]

T = TypeVar("T")

Params = Sequence[tuple[str, str]]


class Resource:
    """A service bound to one client (or to a ``with_options`` view of it)."""

    __slots__ = ("_client",)

    def __init__(self, client: Client) -> None:
        self._client = client

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"

    async def _payload(
        self,
        method: str,
        path: str,
        *,
        safety: Safety,
        params: Params | None = None,
        json: Any = None,
        form: Sequence[FormField] | None = None,
    ) -> Any:
        """The decoded JSON answer of one call, errors raised as typed exceptions."""
        return await self._client._request(
            method, path, safety=safety, params=params, json=json, form=form
        )

    async def _call(
        self,
        method: str,
        path: str,
        model: type[T],
        *,
        safety: Safety,
        params: Params | None = None,
        json: Any = None,
        form: Sequence[FormField] | None = None,
    ) -> T:
        """One call whose ``data`` is structured into ``model``."""
        payload = await self._payload(
            method, path, safety=safety, params=params, json=json, form=form
        )
        return structure(data_of(payload), model)
