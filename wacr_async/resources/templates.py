"""``client.templates``: the account's WhatsApp message templates."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from .._validate import check_required
from ..models.templates import SyncResult, Template
from ._base import Resource

if TYPE_CHECKING:
    from ..pagination import AsyncPager

__all__ = ["TemplatesService"]


class TemplatesService(Resource):
    """WhatsApp message templates (scope ``templates:read``; sync needs ``templates:sync``)."""

    __slots__ = ()

    async def get(self, template_id: str) -> Template:
        """One template by its WhatsApp ``template_id`` (``GET /templates/{id}``).

        The path takes WhatsApp's id (``Template.template_id``), not the internal ``id``.

        Example::

            template = await client.templates.get("1234567890")
            print(template.status, template.body_params_count)
        """
        check_required("template_id", template_id)
        path = f"/templates/{quote(str(template_id), safe='')}"
        return await self._call("GET", path, Template, safety="read")

    async def sync(self) -> SyncResult:
        """Pull all templates from the WhatsApp Business Account (``POST /templates/sync``).

        Run it after changing templates in Meta Business Manager. Raises
        :class:`~wacr_async.WhatsAppNotConfiguredError` when the account lacks its WhatsApp
        Business credentials.

        Example::

            result = await client.templates.sync()
            print(result.synced_count)
        """
        return await self._call("POST", "/templates/sync", SyncResult, safety="unsafe")

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
    ) -> AsyncPager[Template]:
        """All templates (``GET /templates``); returns a pager at once.

        ``sort`` takes ``template_name``, ``created_at``, ``updated_at``; ``search`` matches
        the name and category; filters: ``status``, ``category``, ``language``. ``fields`` is
        accepted and not sent: the server code answers ``fields=`` here with a 500 (REFERENCE
        §12), and every field of a template is read anyway.

        Example::

            approved = client.templates.list(filter={"status": "APPROVED"})
            async for template in approved:
                print(template.template_name, template.language)
        """
        return self._list(
            "/templates",
            Template,
            per_page=per_page,
            sort=sort,
            search=search,
            filter=filter,
            prefetch=prefetch,
            concurrency=concurrency,
        )
