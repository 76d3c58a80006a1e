"""The thin base every service builds on: path, query, body and model, nothing else."""

from __future__ import annotations

from collections.abc import Awaitable, Mapping, Sequence
from typing import Any, TypeVar

from .._envelope import PageMeta, data_of, page_meta, resource_of
from .._requester import Requester
from .._retry import Safety
from .._transport import FormField
from ..filters import list_params
from ..models._converter import structure, structure_list
from ..pagination import AsyncPager

__all__ = ["Resource"]

T = TypeVar("T")

Params = Sequence[tuple[str, str]]


class Resource:
    """A service bound to one client (or to a ``with_options`` view of it)."""

    __slots__ = ("_client",)

    def __init__(self, client: Requester) -> None:
        self._client = client

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"

    def _payload(
        self,
        method: str,
        path: str,
        *,
        safety: Safety,
        params: Params | None = None,
        json: Any = None,
        form: Sequence[FormField] | None = None,
    ) -> Awaitable[Any]:
        """Await it for the decoded JSON answer of one call (errors raised as typed exceptions).

        A plain function handing back the client's call: no coroutine layer of its own.
        """
        return self._client._request(
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
        """One call whose single object (flat or nested ``data``) is structured into ``model``."""
        payload = await self._payload(
            method, path, safety=safety, params=params, json=json, form=form
        )
        return structure(resource_of(payload), model)

    def _list(
        self,
        path: str,
        model: type[T],
        *,
        per_page: int = 100,
        sort: str | Sequence[str] | None = None,
        search: str | None = None,
        filter: Mapping[str, Any] | None = None,
        include: str | Sequence[str] | None = None,
        fields: str | Sequence[str] | None = None,
        extra_params: Mapping[str, str] | Params | None = None,
        prefetch: bool = True,
        concurrency: int = 1,
    ) -> AsyncPager[T]:
        """A pager over a list endpoint; the query is checked now, nothing is sent yet."""
        query = list_params(
            per_page=per_page,
            sort=sort,
            search=search,
            filter=filter,
            include=include,
            fields=fields,
            extra_params=extra_params,
        )

        async def fetch(page: int) -> tuple[Sequence[Any], PageMeta]:
            payload = await self._payload(
                "GET", path, safety="read", params=[("page", str(page)), *query]
            )
            data = data_of(payload)
            if not isinstance(data, list):
                structure_list(data, model)  # raises UnexpectedResponseError: not a list
            return data, page_meta(payload)

        def parse(raw: Sequence[Any]) -> list[T]:
            return structure_list(raw, model)

        page_size = int(dict(query)["per_page"])  # clamped to the server's maximum
        return AsyncPager(
            fetch, parse=parse, per_page=page_size, prefetch=prefetch, concurrency=concurrency
        )
