"""``client.templates``: WhatsApp message templates."""

from __future__ import annotations

from ._base import Resource

__all__ = ["TemplatesService"]


class TemplatesService(Resource):
    """WhatsApp message templates."""

    __slots__ = ()
